"""make bench-proxy: one small-response backend measured three ways with wrk.

Setup (all on loopback, 2 cores shared by everything):
  - a network namespace podbench-PID with its own lo;
  - backend: nginx (1 worker) inside the namespace on 127.0.0.1:9100,
    answering `return 200 "hello world\\n"`;
  - nginx as reverse proxy inside the same namespace on 127.0.0.1:9200
    (worker_processes = podium's loops, upstream keepalive 64,
    proxy_buffering off, HTTP/1.1 upstream, access_log off);
  - podium's proxy harness (--loops N, --no-access-log) in the root namespace
    with a ROUTE_APP route whose socket is created inside the namespace
    (exactly what the daemon does).
Both proxies reach the same backend over the namespace's loopback. wrk (same
threads, connections and duration for all three) runs inside the namespace
for "direct" and "nginx", in the root namespace for podium (each talks to its
own namespace's loopback). BENCH_ROUNDS interleaved rounds; medians and the
podium/nginx ratios are printed. Then 10 000 idle keep-alive client
connections are opened on podium and its RSS is reported.

Environment: BENCH_LOOPS (default: online CPUs, at most 8 — the proxy's
default), BENCH_DURATION (8s), BENCH_CONNS (64), BENCH_THREADS (2),
BENCH_ROUNDS (3), BENCH_RSS=0 to skip the idle-connection part.
"""
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HARNESS = os.environ.get("PROXY_HARNESS", "build/proxy-harness")
DUR = os.environ.get("BENCH_DURATION", "8s")
CONNS = os.environ.get("BENCH_CONNS", "64")
THREADS = os.environ.get("BENCH_THREADS", "2")
NS = "podbench-%d" % os.getpid()
LOOPS = int(os.environ.get("BENCH_LOOPS", str(min(os.cpu_count() or 1, 8))))


def sh(*a, check=True):
    return subprocess.run(a, check=check, capture_output=True, text=True)


def nginx_conf(d, name, body):
    path = os.path.join(d, name + ".conf")
    with open(path, "w") as f:
        f.write("""worker_processes %d;
pid %s/%s.pid;
error_log %s/%s.err warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path %s/%s-body;
    proxy_temp_path %s/%s-proxy;
    keepalive_requests 1000000;
    %s
}
""" % (LOOPS if name == "proxy" else 1, d, name, d, name, d, name, d, name, body))
    return path


def wrk(url, host, ns=True):
    cmd = ["wrk", "-t" + THREADS, "-c" + CONNS, "-d" + DUR, "--latency", "-H", "Host: " + host, url]
    if ns:
        cmd = ["ip", "netns", "exec", NS] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p99, (int(errs.group(1)) if errs else 0), out


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    d = tempfile.mkdtemp(prefix="podbench-")
    procs = []
    sh("ip", "netns", "add", NS)
    try:
        sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
        be = nginx_conf(d, "backend", """server { listen 127.0.0.1:9100 backlog=4096;
            location / { default_type text/plain; return 200 "hello world\\n"; } }""")
        px = nginx_conf(d, "proxy", """upstream app { server 127.0.0.1:9100; keepalive 64; }
            server { listen 127.0.0.1:9200 backlog=4096;
              location / { proxy_pass http://app; proxy_http_version 1.1;
                proxy_set_header Connection ""; proxy_buffering off; } }""")
        for conf in (be, px):
            sh("ip", "netns", "exec", NS, "nginx", "-c", conf, "-g", "daemon off;", check=False) \
                if False else procs.append(subprocess.Popen(
                    ["ip", "netns", "exec", NS, "nginx", "-c", conf, "-g", "daemon off;"]))
        h = subprocess.Popen([HARNESS, "--no-access-log", "--loops", str(LOOPS), "--domain", "podium.test",
                              "--route", "b=app:/run/netns/%s:9100" % NS],
                             stdout=subprocess.PIPE)
        procs.append(h)
        port = int(h.stdout.readline().split()[1])
        time.sleep(0.5)

        # Interleaved rounds, medians: the 2 cores are shared with wrk, the
        # backend and whatever else runs on the machine, so single runs are noisy.
        rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
        print("wrk -t%s -c%s -d%s; podium loops = nginx proxy workers = %d; %d rounds"
              % (THREADS, CONNS, DUR, LOOPS, rounds), flush=True)
        targets = [("direct", "http://127.0.0.1:9100/", "b", True),
                   ("nginx", "http://127.0.0.1:9200/", "b", True),
                   ("podium", "http://127.0.0.1:%d/" % port, "b.podium.test", False)]
        runs = {t[0]: [] for t in targets}
        for r in range(rounds):
            for name, url, host, ns in targets:
                rps, p99, errs, _ = wrk(url, host, ns)
                runs[name].append((rps, p99))
                print("round %d %-7s %10.0f req/s   p99 %7.2f ms   non-2xx %d"
                      % (r + 1, name, rps, p99, errs), flush=True)
        med = {}
        for name in runs:
            rps = sorted(x[0] for x in runs[name])[len(runs[name]) // 2]
            p99 = sorted(x[1] for x in runs[name])[len(runs[name]) // 2]
            med[name] = (rps, p99)
            print("median %-7s %10.0f req/s   p99 %7.2f ms" % (name, rps, p99))
        print("podium/nginx: req/s x%.2f (target >= 1.3), p99 x%.2f (target <= 0.8)"
              % (med["podium"][0] / med["nginx"][0], med["podium"][1] / med["nginx"][1]))

        if os.environ.get("BENCH_RSS", "1") == "0":
            return
        # 10 000 idle keep-alive client connections
        base = rss_kb(h.pid)
        socks = []
        req = b"GET / HTTP/1.1\r\nHost: b.podium.test\r\n\r\n"
        for i in range(10000):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(req)
            got = b""
            while b"hello world" not in got:
                got += s.recv(4096)
            socks.append(s)
        time.sleep(0.5)
        held = rss_kb(h.pid)
        print("podium RSS: %.1f MiB before, %.1f MiB with 10000 idle keep-alive clients "
              "(target <= 64 MiB)" % (base / 1024, held / 1024))
        for s in socks:
            s.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        sh("ip", "netns", "del", NS, check=False)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
