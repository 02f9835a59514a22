"""make bench-tls: HTTPS with keep-alive, podium's proxy (build/proxy-harness,
TLS on its loops) vs nginx with the same certificate, protocols and ciphers, in
front of the same backend (nginx serving a small body on plain HTTP); then new
handshakes per second (full and resumed, `openssl s_time`) and the memory of an
idle TLS connection.  Numbers are printed, nothing is asserted: 2 shared cores.
"""
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HARNESS = os.environ.get("PROXY_HARNESS", "build/proxy-harness")
DURATION = os.environ.get("BENCH_SECONDS", "10")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
           "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")


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


def wrk(url, host):
    out = subprocess.run(["wrk", "-t2", "-c64", "-d" + DURATION + "s", "--latency", "-H",
                          "Host: " + host, url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    return rps, p99


def s_time(port, reuse):
    out = subprocess.run(["openssl", "s_time", "-connect", "127.0.0.1:%d" % port,
                          "-reuse" if reuse else "-new", "-time", "5"],
                         capture_output=True, text=True).stdout
    m = re.findall(r"(\d+) connections in ([\d.]+) real seconds", out)
    return int(m[-1][0]) / float(m[-1][1]) if m else float("nan")


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
    time.sleep(0.5)
    per = (rss_kb(pids) - base) * 1024 / n
    for s in socks:
        s.close()
    return per


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
    backend = nginx("server { listen 127.0.0.1:%d; keepalive_requests 100000; "
                    "location / { return 200 'hello from the backend\\n'; } }" % back, d, "backend")
    front = free_port()
    ngx = nginx("upstream b { server 127.0.0.1:%d; keepalive 64; }\n"
                "server { listen 127.0.0.1:%d ssl; ssl_certificate %s; ssl_certificate_key %s;\n"
                "ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers %s; ssl_session_cache shared:S:10m;\n"
                "keepalive_requests 100000;\n"
                "location / { proxy_pass http://b; proxy_http_version 1.1; "
                "proxy_set_header Connection \"\"; proxy_set_header Host $host; } }"
                % (back, front, cert, key, CIPHERS), d, "front")
    pod = subprocess.Popen([HARNESS, "--no-access-log", "--route", "app=app:-:%d" % back,
                            "--domain", "podium.test", "--tls", "hub=%s,%s" % (cert, key),
                            "--https", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    pod.stdout.readline()
    pport = int(pod.stdout.readline().split()[1])
    try:
        res = {"podium": [], "nginx": []}
        for r in range(ROUNDS):
            for name, port in (("podium", pport), ("nginx", front)):
                res[name].append(wrk("https://127.0.0.1:%d/" % port, "app.podium.test"))
                print("round %d %-6s %8.0f req/s  p99 %.2f ms" % ((r + 1, name) + res[name][-1]))
        med = {k: sorted(v)[len(v) // 2] for k, v in res.items()}
        rps = sorted(x[0] for x in res["podium"])[ROUNDS // 2] / sorted(x[0] for x in res["nginx"])[ROUNDS // 2]
        p99 = sorted(x[1] for x in res["podium"])[ROUNDS // 2] / sorted(x[1] for x in res["nginx"])[ROUNDS // 2]
        print("keep-alive over TLS (median of %d): podium %.0f req/s vs nginx %.0f (x%.2f), "
              "p99 x%.2f" % (ROUNDS, med["podium"][0], med["nginx"][0], rps, p99))
        for reuse in (False, True):
            a, b = s_time(pport, reuse), s_time(front, reuse)
            print("handshakes/s %s: podium %.0f vs nginx %.0f (x%.2f)"
                  % ("resumed" if reuse else "full", a, b, a / b))
        print("idle TLS connection: podium %.0f bytes, nginx %.0f bytes"
              % (idle_memory(pport, [pod.pid]), idle_memory(front, nginx_pids(ngx.pid))))
    finally:
        for p in (pod, ngx, backend):
            p.terminate()
            p.wait()


if __name__ == "__main__":
    sys.exit(main())
