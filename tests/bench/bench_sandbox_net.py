"""What --net veth adds to a podium-sandbox start (issue 16): `true` in a box with
--net none and with --net veth, interleaved, in a network namespace of its own (a
bridge on a documentation address; nothing is routed anywhere).

    sudo /usr/bin/python3 tests/bench/bench_sandbox_net.py [ROUNDS] [SANDBOX]"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGS = [a for a in sys.argv[1:] if a != "--inside"]
ROUNDS = int(ARGS[0]) if ARGS else 200
SANDBOX = ARGS[1] if len(ARGS) > 1 else os.path.join(ROOT, "build", "podium-sandbox")
NS, BR = "pdbench-%d" % os.getpid(), "pdbbr0"


def main():
    if "--inside" in sys.argv:
        res = {"none": [], "veth": []}
        for _ in range(ROUNDS):
            for net in ("none", "veth:%s,198.51.100.1/24" % BR):
                t = time.perf_counter()
                subprocess.run([SANDBOX, "--net", net, "--", "true"], check=True)
                res[net.split(":")[0]].append((time.perf_counter() - t) * 1000)
        for k, ts in res.items():
            ts.sort()
            print("--net %-5s n=%d  median %.2f ms  p10 %.2f  p90 %.2f" % (
                k, len(ts), statistics.median(ts), ts[len(ts) // 10], ts[len(ts) * 9 // 10]))
        return
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        for cmd in ("ip link set lo up", "ip link add %s type bridge" % BR,
                    "ip addr add 198.51.100.1/24 dev %s" % BR, "ip link set %s up" % BR):
            subprocess.run(["ip", "netns", "exec", NS] + cmd.split(), check=True)
        subprocess.run(["ip", "netns", "exec", NS, sys.executable, os.path.abspath(__file__),
                        str(ROUNDS), SANDBOX, "--inside"], check=True)
    finally:
        subprocess.run(["ip", "netns", "del", NS])


if __name__ == "__main__":
    main()
