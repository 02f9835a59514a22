"""make bench-proxy: one small-response backend measured three ways with wrk.

The backend everywhere is nginx with 1 worker answering
`return 200 "hello world\\n"` (keep-alive, access_log off). The peer proxy
is nginx with worker_processes = podium's loops, upstream keepalive 64,
proxy_buffering off, HTTP/1.1 upstream, access_log off. All on loopback,
2 cores shared by everything.

Mode "space" (the default; BENCH_MODE=space):
  - the real daemon: `build/podium serve --listen 127.0.0.1:PORT --data TMP
    --domain localhost`, stderr (one access line per request) to /dev/null
    or BENCH_DAEMON_LOG; its proxy runs its default loops (online CPUs, at
    most 8: the daemon has no flag for it);
  - the backend deployed as a space: POST /api/repos/create
    {"type":"space","name":"bench","sdk":"static"}, then a git push of a repo
    whose README.md says `sdk: python` and whose Procfile says `web: sh run.sh`;
    run.sh writes an nginx.conf listening on $PORT (temp, pid and log files in
    the box's /tmp) and execs /usr/sbin/nginx. The bench waits for
    GET /api/spaces/admin/bench/runtime stage RUNNING and a 200 through the
    proxy;
  - "direct" and "nginx" reach that very backend process: wrk and the peer
    nginx run in the space's network namespace (nsenter --net=/proc/PID/ns/net
    of the backend's master), so all three share one backend program, one
    instance, its sandbox and its cgroup limits (cpus 1.0);
  - podium: wrk in the root namespace against 127.0.0.1:PORT with
    `Host: admin-bench.localhost`.

Mode "harness" (BENCH_MODE=harness, or `bench.py --harness`): the backend and
the peer nginx in a network namespace podbench-PID; podium's proxy harness
(build/proxy-harness --loops N --no-access-log) in the root namespace with a
ROUTE_APP route whose socket is created inside the namespace (what the daemon
does); BENCH_LOOPS sets its loops and the peer's workers.

A fourth target, "relay", is the floor of the one-write-per-message design
nginx has: tests/proxy/relay.c, which copies bytes verbatim between each
client connection and its own upstream connection (no HTTP at all, one
epoll loop per thread, as many threads as podium has loops, one read and
one write(2) per message), run next to the peer nginx in the backend's
namespace.  No proxy writing each message with its own syscall can do less
work per request; relay/nginx shows how far ahead of nginx such a proxy can
get on this machine.  podium's batched sends do less kernel work than that
(one io_uring_enter per loop turn for all its writes), so podium can beat
the relay.

Harness mode adds "plain": a second harness with --no-batch-sends, the A/B
of podium's batched sends (proxy/pio.c: a loop turn's small writes in one
io_uring_enter).  In space mode the A/B is a second run of the bench with
PODIUM_PROXY_BATCH_SENDS=0 in the environment (the daemon then writes
plainly).

In both modes wrk uses the same threads, connections and duration for all
targets. BENCH_ROUNDS interleaved rounds; medians and the podium/nginx ratios
are printed, and with each run the CPU time per request (user + system,
from /proc/PID/stat) of the proxy's processes (nginx: master and workers),
of the backend and of wrk: on 2 shared cores req/s moves with how the five
busy threads happen to be scheduled, CPU per request much less. Then 10 000 idle keep-alive client connections are opened on
podium and the RSS of the process serving them (harness or daemon) is
reported.

Space mode then measures a second, typical app the same three ways: the
examples/python-stdlib demo (Python's http.server) deployed as space
admin/pyapp, with its own peer nginx on 9201 in its namespace (BENCH_PY=0
skips it; BENCH_PY_DURATION, 5s).  That server writes a response's head and
body in two sends without TCP_NODELAY; see python_app_part.

Environment: BENCH_MODE (space), BENCH_LOOPS (harness mode; default: online
CPUs, at most 8 — the proxy's default), BENCH_DURATION (8s), BENCH_CONNS (64),
BENCH_THREADS (2), BENCH_ROUNDS (5), BENCH_RSS=0 to skip the idle-connection
part, BENCH_DAEMON_LOG=PATH to keep the daemon's stderr, PODIUM_BUILD (build).
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
HARNESS = os.environ.get("PROXY_HARNESS", os.path.join(ROOT, "build", "proxy-harness"))
RELAY = os.environ.get("PROXY_RELAY", os.path.join(ROOT, "build", "proxy-relay"))
RELAY_PORT = 9300
BUILD = os.environ.get("PODIUM_BUILD", os.path.join(ROOT, "build"))
MODE = "harness" if "--harness" in sys.argv[1:] else os.environ.get("BENCH_MODE", "space")
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


BACKEND_BODY = """server { listen 127.0.0.1:%s backlog=4096;
            location / { default_type text/plain; return 200 "hello world\\n"; } }"""


def proxy_body(port):
    return """upstream app { server 127.0.0.1:%d; keepalive 64; }
            server { listen 127.0.0.1:9200 backlog=4096;
              location / { proxy_pass http://app; proxy_http_version 1.1;
                proxy_set_header Connection ""; proxy_buffering off; } }""" % port


def wrk(url, host, ns, dur=None):
    """ns: a command prefix entering the backend's network namespace, or []."""
    cmd = ns + ["wrk", "-t" + THREADS, "-c" + CONNS, "-d" + (dur or DUR), "--latency",
                "-H", "Host: " + host, url]
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


# CPU accounting: the processes of each proxy and of the backend (an nginx
# master counts with its workers). CPU time per request is a steadier
# measure of a proxy's own cost than req/s, which on 2 shared cores moves
# with how wrk, the backend and the proxy happen to be scheduled.
CPU = {}


def cpu_ticks(pids):
    """(user, system) clock ticks of pids and their direct children."""
    u = s = 0
    todo = list(pids)
    for p in pids:
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    for p in todo:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        u += int(fields[11])
        s += int(fields[12])
    return u, s


def measured(name, url, host, ns):
    """wrk on one target, with the CPU microseconds per request spent by
    the target's proxy, by the backend and by wrk itself."""
    hz = os.sysconf("SC_CLK_TCK")
    who = {"proxy": CPU.get(name, []), "backend": CPU.get("backend", [])}
    before = {k: cpu_ticks(v) for k, v in who.items()}
    t0 = os.times()
    rps, p99, errs, out = wrk(url, host, ns)
    t1 = os.times()
    m = re.search(r"(\d+) requests in", out)
    n = max(int(m.group(1)) if m else 1, 1)
    cpu = {}
    for k, v in who.items():
        after = cpu_ticks(v)
        cpu[k] = ((after[0] - before[k][0]) * 1e6 / hz / n,
                  (after[1] - before[k][1]) * 1e6 / hz / n)
    cpu["wrk"] = ((t1.children_user - t0.children_user) * 1e6 / n,
                  (t1.children_system - t0.children_system) * 1e6 / n)
    return rps, p99, errs, cpu


def setup_harness(d, procs, cleanups):
    """Backend and peer in a namespace of ours, the proxy harness outside.
    Returns (targets, podium pid, podium port, podium host)."""
    sh("ip", "netns", "add", NS)
    cleanups.append(lambda: sh("ip", "netns", "del", NS, check=False))
    ns = ["ip", "netns", "exec", NS]
    sh(*ns, "ip", "link", "set", "lo", "up")
    be = nginx_conf(d, "backend", BACKEND_BODY % 9100)
    px = nginx_conf(d, "proxy", proxy_body(9100))
    for conf in (be, px):
        procs.append(subprocess.Popen(ns + ["nginx", "-c", conf, "-g", "daemon off;"]))
    backend, peer = procs[-2].pid, procs[-1].pid  # `ip netns exec` execs: the masters
    procs.append(subprocess.Popen(ns + [RELAY, str(RELAY_PORT), "9100", str(LOOPS)]))
    relay = procs[-1].pid
    h = subprocess.Popen([HARNESS, "--no-access-log", "--loops", str(LOOPS), "--domain", "podium.test",
                          "--route", "b=app:/run/netns/%s:9100" % NS], stdout=subprocess.PIPE)
    procs.append(h)
    port = int(h.stdout.readline().split()[1])
    # the A/B of batched sends (proxy/pio.c): the same harness writing plainly
    hp = subprocess.Popen([HARNESS, "--no-access-log", "--no-batch-sends", "--loops", str(LOOPS),
                           "--domain", "podium.test",
                           "--route", "b=app:/run/netns/%s:9100" % NS], stdout=subprocess.PIPE)
    procs.append(hp)
    pport = int(hp.stdout.readline().split()[1])
    time.sleep(0.5)
    CPU.update(backend=[backend], nginx=[peer], relay=[relay], podium=[h.pid],
               plain=[hp.pid])
    return ([("direct", "http://127.0.0.1:9100/", "b", ns),
             ("nginx", "http://127.0.0.1:9200/", "b", ns),
             ("relay", "http://127.0.0.1:%d/" % RELAY_PORT, "b", ns),
             ("plain", "http://127.0.0.1:%d/" % pport, "b.podium.test", []),
             ("podium", "http://127.0.0.1:%d/" % port, "b.podium.test", [])],
            h.pid, port, "b.podium.test")


# The space's app: nginx answering on $PORT. The box's /tmp is its own; the
# marker in the path tells this bench's backend from any other nginx.
RUN_SH = r"""#!/bin/sh
set -e
D=/tmp/ngx-%(marker)s
mkdir -p $D
cat > $D/nginx.conf <<CONF
worker_processes 1;
pid $D/nginx.pid;
error_log $D/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path $D/body;
    proxy_temp_path $D/proxy;
    fastcgi_temp_path $D/fastcgi;
    uwsgi_temp_path $D/uwsgi;
    scgi_temp_path $D/scgi;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$PORT backlog=4096;
      location / { default_type text/plain; return 200 "hello world\\n"; } }
}
CONF
exec /usr/sbin/nginx -e $D/error.log -p $D -c $D/nginx.conf -g 'daemon off;'
"""


def find_proc(words, port_of, what, timeout=30):
    """The first process whose command line holds all of words, as
    (pid, port_of(pid))."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    cmd = f.read()
                if any(w.encode() not in cmd for w in words):
                    continue
                return int(p), port_of(p)
            except (OSError, AttributeError, KeyError, ValueError):
                continue
        time.sleep(0.1)
    raise SystemExit("bench: %s not found" % what)


def find_backend(marker):
    """The space's nginx master: (pid, port)."""
    def port_of(p):
        # nginx's process title overwrites its environment: read the port
        # from the conf run.sh wrote in the box's /tmp
        with open("/proc/%s/root/tmp/ngx-%s/nginx.conf" % (p, marker)) as f:
            return int(re.search(r"listen 127\.0\.0\.1:(\d+)", f.read()).group(1))
    return find_proc(["nginx", marker], port_of, "the space's nginx (marker %s)" % marker)


def find_python_app(marker):
    """The python app started by the Procfile line carrying marker: (pid, port)."""
    def port_of(p):
        with open("/proc/%s/environ" % p, "rb") as f:
            env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        return int(env[b"PORT"])
    return find_proc(["app.py", marker], port_of, "the python app (marker %s)" % marker)


SPACE = {}  # space mode: the daemon, for the second part


def python_app_part(d, procs):
    """Space mode, second part: a typical Python demo app, examples/python-stdlib
    (http.server, which sends a response's head and body in two writes without
    TCP_NODELAY), deployed as a space; nginx reaches it in its namespace as
    in the first part.  With Nagle holding the body until the head is ACKed
    and the receiver delaying that ACK, each response waits ~40 ms unless the
    proxy acknowledges at once."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import podium_helpers as ph

    dm = SPACE["daemon"]
    ex = os.path.join(ROOT, "examples", "python-stdlib")
    marker = "podbench-py-%d" % os.getpid()
    files = {}
    for name in ("README.md", "app.py"):
        with open(os.path.join(ex, name)) as f:
            files[name] = f.read()
    files["Procfile"] = "web: python3 app.py %s\n" % marker
    dm.create_space("pyapp", sdk="static")
    _, p = dm.try_push(dm.workdir_from(files=files), ph.ADMIN, "pyapp")
    if p.returncode != 0:
        raise SystemExit("bench: git push failed: %s" % p.stderr.decode(errors="replace"))
    dm.wait_stage(ph.ADMIN, "pyapp", "RUNNING")
    dm.wait_app(ph.ADMIN, "pyapp")
    pid, aport = find_python_app(marker)
    ns = ["nsenter", "--net=/proc/%d/ns/net" % pid]
    conf = nginx_conf(d, "pyproxy", proxy_body(aport).replace("9200", "9201"))
    procs.append(subprocess.Popen(ns + ["nginx", "-c", conf, "-g", "daemon off;"]))
    time.sleep(0.5)
    host = dm.app_host(ph.ADMIN, "pyapp", with_port=False)
    dur = os.environ.get("BENCH_PY_DURATION", "5s")
    print("python app (examples/python-stdlib as space admin/pyapp, pid %d, port %d): "
          "wrk -t%s -c%s -d%s" % (pid, aport, THREADS, CONNS, dur), flush=True)
    res = {}
    for name, url, h, pre in (("direct", "http://127.0.0.1:%d/" % aport, host, ns),
                              ("nginx", "http://127.0.0.1:9201/", host, ns),
                              ("podium", "http://127.0.0.1:%d/" % dm.port, host, [])):
        rps, p99, errs, out = wrk(url, h, pre, dur)
        m = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
        p50 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
        res[name] = (rps, p50, p99)
        print("python-app %-7s %10.0f req/s   p50 %7.2f ms   p99 %7.2f ms   non-2xx %d"
              % (name, rps, p50, p99, errs), flush=True)
    print("python-app podium/nginx: req/s x%.1f, p50 x%.3f, p99 x%.3f"
          % (res["podium"][0] / res["nginx"][0], res["podium"][1] / res["nginx"][1],
             res["podium"][2] / res["nginx"][2]))


def setup_space(d, procs, cleanups):
    """The daemon with the backend deployed as a space; the peer nginx in the
    space's network namespace. Returns like setup_harness."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import podium_helpers as ph

    dm = ph.Daemon(build_dir=BUILD, workdir=os.path.join(d, "daemon"))
    # one access line per request: not what is measured here
    dm.log_path = os.environ.get("BENCH_DAEMON_LOG", "/dev/null")
    cleanups.append(dm.cleanup)
    cleanups.append(lambda: dm.stop(timeout=30))
    dm.start()
    dm.create_space("bench", sdk="static")
    marker = "podbench-%d" % os.getpid()
    work = dm.workdir_from(files={
        "README.md": ph.front_matter(["title: bench", "sdk: python"]),
        "Procfile": "web: sh run.sh\n",
        "run.sh": RUN_SH % {"marker": marker}})
    _, p = dm.try_push(work, ph.ADMIN, "bench")
    if p.returncode != 0:
        raise SystemExit("bench: git push failed: %s" % p.stderr.decode(errors="replace"))
    dm.wait_stage(ph.ADMIN, "bench", "RUNNING")
    dm.wait_app(ph.ADMIN, "bench", predicate=lambda r: r.status == 200 and r.body == b"hello world\n")
    pid, bport = find_backend(marker)
    ns = ["nsenter", "--net=/proc/%d/ns/net" % pid]
    px = nginx_conf(d, "proxy", proxy_body(bport))
    procs.append(subprocess.Popen(ns + ["nginx", "-c", px, "-g", "daemon off;"]))
    procs.append(subprocess.Popen(ns + [RELAY, str(RELAY_PORT), str(bport), str(LOOPS)]))
    # nsenter without --fork execs: these are the peer's master and the relay
    CPU.update(backend=[pid], nginx=[procs[-2].pid], relay=[procs[-1].pid],
               podium=[dm.proc.pid])
    time.sleep(0.5)
    host = dm.app_host(ph.ADMIN, "bench", with_port=False)
    SPACE["daemon"] = dm
    print("space admin/bench: backend nginx pid %d on 127.0.0.1:%d in its sandbox's netns; "
          "podium daemon pid %d on 127.0.0.1:%d, Host: %s"
          % (pid, bport, dm.proc.pid, dm.port, host), flush=True)
    return ([("direct", "http://127.0.0.1:%d/" % bport, host, ns),
             ("nginx", "http://127.0.0.1:9200/", host, ns),
             ("relay", "http://127.0.0.1:%d/" % RELAY_PORT, host, ns),
             ("podium", "http://127.0.0.1:%d/" % dm.port, host, [])],
            dm.proc.pid, dm.port, host)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    d = tempfile.mkdtemp(prefix="podbench-")
    procs, cleanups = [], []
    try:
        if MODE == "harness":
            targets, ppid, port, phost = setup_harness(d, procs, cleanups)
        elif MODE == "space":
            targets, ppid, port, phost = setup_space(d, procs, cleanups)
        else:
            raise SystemExit("bench: BENCH_MODE is space or harness")

        # Interleaved rounds, medians: the 2 cores are shared with wrk, the
        # backend and whatever else runs on the machine, so single runs are noisy.
        rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
        print("mode %s; wrk -t%s -c%s -d%s; podium loops = nginx proxy workers = %d; %d rounds"
              % (MODE, THREADS, CONNS, DUR, LOOPS, rounds), flush=True)
        runs = {t[0]: [] for t in targets}
        for r in range(rounds):
            for name, url, host, ns in targets:
                rps, p99, errs, cpu = measured(name, url, host, ns)
                runs[name].append((rps, p99, cpu))
                pc = ("proxy %5.1f (user %4.1f)  " % (sum(cpu["proxy"]), cpu["proxy"][0])
                      if name != "direct" else " " * 26)
                print("round %d %-7s %10.0f req/s   p99 %7.2f ms   non-2xx %d   CPU us/req: %s"
                      "backend %5.1f  wrk %5.1f"
                      % (r + 1, name, rps, p99, errs, pc, sum(cpu["backend"]),
                         sum(cpu["wrk"])), flush=True)
        med = {}
        for name in runs:
            rps = sorted(x[0] for x in runs[name])[len(runs[name]) // 2]
            p99 = sorted(x[1] for x in runs[name])[len(runs[name]) // 2]
            pcpu = sorted(sum(x[2]["proxy"]) for x in runs[name])[len(runs[name]) // 2]
            med[name] = (rps, p99, pcpu)
            print("median %-7s %10.0f req/s   p99 %7.2f ms%s"
                  % (name, rps, p99, "   proxy CPU %5.1f us/req" % pcpu if name != "direct" else ""))
        print("podium/nginx: req/s x%.2f (target >= 1.3), p99 x%.2f (target <= 0.8)"
              % (med["podium"][0] / med["nginx"][0], med["podium"][1] / med["nginx"][1]))
        print("relay/nginx:  req/s x%.2f, p99 x%.2f  (the floor of one write(2) per message)"
              % (med["relay"][0] / med["nginx"][0], med["relay"][1] / med["nginx"][1]))
        print("podium/relay: req/s x%.2f, p99 x%.2f"
              % (med["podium"][0] / med["relay"][0], med["podium"][1] / med["relay"][1]))
        print("proxy CPU per request: podium/nginx x%.2f, relay/nginx x%.2f"
              % (med["podium"][2] / med["nginx"][2], med["relay"][2] / med["nginx"][2]))
        if "plain" in med:
            print("batched sends (podium) over plain writes (plain, --no-batch-sends): "
                  "req/s x%.2f, p99 x%.2f, proxy CPU per request x%.2f"
                  % (med["podium"][0] / med["plain"][0], med["podium"][1] / med["plain"][1],
                     med["podium"][2] / med["plain"][2]))
        # All busy on 2 cores: req/s ~ cores / (CPU per request of all of
        # them). The others' CPU with nginx, the proxy's replaced:
        others = sorted(sum(x[2]["backend"]) + sum(x[2]["wrk"]) for x in runs["nginx"])
        others = others[len(others) // 2]
        print("CPU-bound estimate of req/s over nginx with the same backend and wrk cost: "
              "podium's proxy CPU x%.2f, the relay's x%.2f, a proxy costing nothing x%.2f"
              % ((others + med["nginx"][2]) / (others + med["podium"][2]),
                 (others + med["nginx"][2]) / (others + med["relay"][2]),
                 (others + med["nginx"][2]) / others))

        if MODE == "space" and os.environ.get("BENCH_PY", "1") != "0":
            python_app_part(d, procs)

        if os.environ.get("BENCH_RSS", "1") == "0":
            return
        # 10 000 idle keep-alive client connections
        base = rss_kb(ppid)
        socks = []
        req = b"GET / HTTP/1.1\r\nHost: " + phost.encode() + b"\r\n\r\n"
        for i in range(10000):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(req)
            got = b""
            while b"hello world" not in got:
                got += s.recv(4096)
            socks.append(s)
        time.sleep(0.5)
        held = rss_kb(ppid)
        print("podium (%s) RSS: %.1f MiB before, %.1f MiB with 10000 idle keep-alive clients "
              "(target <= 64 MiB)" % ("harness" if MODE == "harness" else "daemon",
                                      base / 1024, held / 1024))
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
        for f in reversed(cleanups):
            try:
                f()
            except Exception as e:  # noqa: BLE001 - cleanup goes on
                print("bench: cleanup: %r" % e, file=sys.stderr)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
