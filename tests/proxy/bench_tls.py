"""make bench-tls: HTTPS with keep-alive, podium's proxy (build/proxy-harness,
TLS on its loops) vs nginx with the same certificate, protocols and ciphers, in
front of the same backend (nginx serving a small body on plain HTTP); then new
handshakes per second (full and resumed, parallel `openssl s_time`) and the memory of an
idle TLS connection.  Numbers are printed, nothing is asserted.

The machine is 2 shared cores: req/s moves with how wrk, the backend, the proxy
and whatever else runs happen to be scheduled, so the targets are measured in
BENCH_ROUNDS interleaved rounds and the report gives each one's median and
spread (min-max), the median of the per-round ratios (a round's two runs saw
about the same load), and the CPU time per request (user + system, from
/proc/PID/stat) of each proxy, of the backend and of wrk, which moves much less.
BENCH_PLAIN=1 adds the same pair over plain HTTP (podium's harness without
TLS, nginx without ssl) as a reference for what TLS costs each of them.
BENCH_PARTS=keepalive,handshakes,idle (the default) picks what is measured.
BENCH_HARNESS_B=PATH adds a second build of the harness ("podium-b", e.g. the
one before a change) to the same rounds: an A/B under the same load.
"""
import os
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

import bench  # noqa: E402 (tests/proxy/bench.py: its CPU accounting)

HARNESS = os.environ.get("PROXY_HARNESS", "build/proxy-harness")
DURATION = os.environ.get("BENCH_SECONDS", "10")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
PLAIN = os.environ.get("BENCH_PLAIN", "0") == "1"
HARNESS_B = os.environ.get("BENCH_HARNESS_B")
PARTS = os.environ.get("BENCH_PARTS", "keepalive,handshakes,idle").split(",")
HS_CLIENTS = int(os.environ.get("BENCH_HS_CLIENTS", "4"))
HS_SECONDS = os.environ.get("BENCH_HS_SECONDS", "4")
CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
           "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
HOST = "app.podium.test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*a):
    return subprocess.run(a, check=True, capture_output=True, text=True)


def nginx(conf_body, d, name):
    conf = os.path.join(d, name + ".conf")
    with open(conf, "w") as f:
        f.write("worker_processes 2;\npid %s/%s.pid;\nerror_log %s/%s.err;\ndaemon off;\n"
                "events { worker_connections 20000; }\nhttp {\naccess_log off;\n%s\n}\n"
                % (d, name, d, name, conf_body))
    p = subprocess.Popen(["nginx", "-c", conf, "-p", d], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return p


def cpu_ticks(pids):
    """(user + system) clock ticks of pids and their direct children."""
    return sum(bench.cpu_ticks(pids))


def wrk(url, proxy_pids, backend_pids):
    """req/s, p99 (ms) and CPU us per request of the proxy, the backend and wrk."""
    hz = os.sysconf("SC_CLK_TCK")
    p0, b0, t0 = cpu_ticks(proxy_pids), cpu_ticks(backend_pids), os.times()
    out = subprocess.run(["wrk", "-t2", "-c64", "-d" + DURATION + "s", "--latency", "-H",
                          "Host: " + HOST, url], capture_output=True, text=True).stdout
    p1, b1, t1 = cpu_ticks(proxy_pids), cpu_ticks(backend_pids), os.times()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    n = max(int(re.search(r"(\d+) requests in", out).group(1)), 1)
    wrk_s = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
    return {"rps": rps, "p99": p99, "proxy": (p1 - p0) * 1e6 / hz / n,
            "backend": (b1 - b0) * 1e6 / hz / n, "wrk": wrk_s * 1e6 / n}


def s_time(port, reuse, pids):
    """New connections per second, HS_CLIENTS `openssl s_time` at once for
    HS_SECONDS, and the server's CPU us per connection.  Resumed: TLS 1.2
    (s_time closes before it reads a TLS 1.3 ticket, so with 1.3 it never
    resumes: every "-reuse" connection would be a full handshake)."""
    hz = os.sysconf("SC_CLK_TCK")
    args = ["openssl", "s_time", "-connect", "127.0.0.1:%d" % port, "-time", HS_SECONDS]
    args += ["-reuse", "-tls1_2"] if reuse else ["-new"]
    c0 = cpu_ticks(pids)
    ps = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
          for _ in range(HS_CLIENTS)]
    rate = n = 0
    for p in ps:
        m = re.findall(r"(\d+) connections in ([\d.]+) real seconds", p.communicate()[0])
        if m:
            rate += int(m[-1][0]) / float(m[-1][1])
            n += int(m[-1][0])
    return rate, (cpu_ticks(pids) - c0) * 1e6 / hz / max(n, 1)


def rss_kb(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/status" % pid) as f:
            total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return total


def nginx_pids(master):
    kids = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [master] + [int(x) for x in kids.split()]


def idle_memory(port, pids, n=2000):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    base = rss_kb(pids)
    socks = []
    for _ in range(n):
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
        s.sendall(b"GET / HTTP/1.1\r\nHost: app.podium.test\r\n\r\n")
        got = b""
        while b"hello" not in got:
            got += s.recv(4096)
        socks.append(s)
    # podium frees an idle connection's record buffers after a second or two
    time.sleep(3)
    per = (rss_kb(pids) - base) * 1024 / n
    for s in socks:
        s.close()
    return per


def harness(args, binary=HARNESS):
    p = subprocess.Popen([binary, "--no-access-log"] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    ports = [int(p.stdout.readline().split()[1])]
    if "--https" in args:
        ports.append(int(p.stdout.readline().split()[1]))
    return p, ports


def med(xs):
    return statistics.median(xs)


def report(res, a, b):
    ra, rb = res[a], res[b]
    for name, runs in ((a, ra), (b, rb)):
        rps = [x["rps"] for x in runs]
        p99 = [x["p99"] for x in runs]
        print("  %-13s req/s median %7.0f (%6.0f-%6.0f)   p99 median %6.2f ms (%.2f-%.2f)   "
              "CPU us/req: proxy %5.1f backend %5.1f wrk %5.1f"
              % (name, med(rps), min(rps), max(rps), med(p99), min(p99), max(p99),
                 med([x["proxy"] for x in runs]), med([x["backend"] for x in runs]),
                 med([x["wrk"] for x in runs])))
    rr = [x["rps"] / y["rps"] for x, y in zip(ra, rb)]
    pr = [x["p99"] / y["p99"] for x, y in zip(ra, rb)]
    print("  %s/%s: req/s x%.2f of the medians, per round x%.2f (x%.2f-x%.2f); p99 x%.2f "
          "(per round x%.2f, x%.2f-x%.2f); proxy CPU per request x%.2f"
          % (a, b, med([x["rps"] for x in ra]) / med([x["rps"] for x in rb]), med(rr), min(rr),
             max(rr), med([x["p99"] for x in ra]) / med([x["p99"] for x in rb]), med(pr),
             min(pr), max(pr), med([x["proxy"] for x in ra]) / med([x["proxy"] for x in rb])))
    # With every busy thread on 2 cores ours, req/s ~ 2 cores / the CPU per
    # request of all of them: b's backend and wrk cost with each proxy's own.
    # On a loaded machine a proxy that sleeps more leaves its share to other
    # users' processes, not to wrk and the backend, so req/s does not show it.
    others = med([x["backend"] + x["wrk"] for x in rb])
    print("  CPU-bound estimate of req/s, %s over %s (the same backend and wrk cost): x%.2f"
          % (a, b, (others + med([x["proxy"] for x in rb])) /
             (others + med([x["proxy"] for x in ra]))))


def main():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    d = tempfile.mkdtemp(prefix="bench-tls-")
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=podium.test",
       "-addext", "subjectAltName=DNS:podium.test,DNS:*.podium.test")
    back = free_port()
    procs = []
    backend = nginx("server { listen 127.0.0.1:%d; keepalive_requests 100000; "
                    "location / { return 200 'hello from the backend\\n'; } }" % back, d, "backend")
    procs.append(backend)
    front, plain_front = free_port(), free_port()
    proxy = ("keepalive_requests 100000;\nlocation / { proxy_pass http://b; proxy_http_version 1.1; "
             "proxy_set_header Connection \"\"; proxy_set_header Host $host; }")
    ngx = nginx("upstream b { server 127.0.0.1:%d; keepalive 64; }\n"
                "server { listen 127.0.0.1:%d ssl; ssl_certificate %s; ssl_certificate_key %s;\n"
                "ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers %s; ssl_session_cache shared:S:10m;\n%s }\n"
                "server { listen 127.0.0.1:%d;\n%s }"
                % (back, front, cert, key, CIPHERS, proxy, plain_front, proxy), d, "front")
    procs.append(ngx)
    route = ["--route", "app=app:-:%d" % back, "--domain", "podium.test"]
    pod, (_, pport) = harness(route + ["--tls", "hub=%s,%s" % (cert, key), "--https", "0"])
    procs.append(pod)
    targets = [("podium", "https://127.0.0.1:%d/" % pport, [pod.pid]),
               ("nginx", "https://127.0.0.1:%d/" % front, [ngx.pid])]
    if HARNESS_B:
        pod_b, (_, b_port) = harness(route + ["--tls", "hub=%s,%s" % (cert, key), "--https", "0"],
                                     HARNESS_B)
        procs.append(pod_b)
        targets.append(("podium-b", "https://127.0.0.1:%d/" % b_port, [pod_b.pid]))
    if PLAIN:
        plain, (pl_port,) = harness(route)
        procs.append(plain)
        targets += [("podium-plain", "http://127.0.0.1:%d/" % pl_port, [plain.pid]),
                    ("nginx-plain", "http://127.0.0.1:%d/" % plain_front, [ngx.pid])]
    if PLAIN and HARNESS_B:
        plain_b, (plb_port,) = harness(route, HARNESS_B)
        procs.append(plain_b)
        targets.append(("podium-b-plain", "http://127.0.0.1:%d/" % plb_port, [plain_b.pid]))
    try:
        print("wrk -t2 -c64 -d%ss, %d interleaved rounds; podium %d loops, nginx 2 workers"
              % (DURATION, ROUNDS, os.cpu_count() or 1), flush=True)
        res = {t[0]: [] for t in targets}
        for r in range(ROUNDS if "keepalive" in PARTS else 0):
            for name, url, pids in targets:
                x = wrk(url, pids, [backend.pid])
                res[name].append(x)
                print("round %d %-13s %8.0f req/s  p99 %7.2f ms  CPU us/req: proxy %5.1f "
                      "backend %5.1f wrk %5.1f" % (r + 1, name, x["rps"], x["p99"], x["proxy"],
                                                    x["backend"], x["wrk"]), flush=True)
        if "keepalive" in PARTS:
            print("keep-alive over TLS (%d rounds):" % ROUNDS)
            report(res, "podium", "nginx")
            if HARNESS_B:
                report(res, "podium", "podium-b")
            if PLAIN:
                print("the same over plain HTTP:")
                report(res, "podium-plain", "nginx-plain")
            if PLAIN and HARNESS_B:
                report(res, "podium-plain", "podium-b-plain")
        for reuse in ((False, True) if "handshakes" in PARTS else ()):
            hs = {"podium": [], "nginx": []}
            for r in range(ROUNDS):
                hs["podium"].append(s_time(pport, reuse, [pod.pid]))
                hs["nginx"].append(s_time(front, reuse, [ngx.pid]))
            a, b = med([x[0] for x in hs["podium"]]), med([x[0] for x in hs["nginx"]])
            rr = [x[0] / y[0] for x, y in zip(hs["podium"], hs["nginx"])]
            print("handshakes/s %s (%d s_time at once, %d rounds): podium %.0f (%.0f-%.0f) vs "
                  "nginx %.0f (%.0f-%.0f): x%.2f, per round x%.2f (x%.2f-x%.2f); server CPU "
                  "us/connection %.0f vs %.0f"
                  % ("resumed (TLS 1.2)" if reuse else "full (TLS 1.3)", HS_CLIENTS, ROUNDS, a,
                     min(x[0] for x in hs["podium"]), max(x[0] for x in hs["podium"]), b,
                     min(x[0] for x in hs["nginx"]), max(x[0] for x in hs["nginx"]), a / b,
                     med(rr), min(rr), max(rr), med([x[1] for x in hs["podium"]]),
                     med([x[1] for x in hs["nginx"]])), flush=True)
        if "idle" in PARTS:
            print("idle TLS connection: podium %.0f bytes, nginx %.0f bytes"
                  % (idle_memory(pport, [pod.pid]), idle_memory(front, nginx_pids(ngx.pid))))
    finally:
        for p in procs:
            p.terminate()
            p.wait()


if __name__ == "__main__":
    sys.exit(main())
