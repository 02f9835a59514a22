"""Several event loops: hub requests always served on the main thread (the
harness's hub handler answers 500 elsewhere), per-loop upstream pools, stats
summed over loops, clean stop; and the request-body idle timeout."""
import http.client
import json
import socket
import threading
import time

from conftest import raw, recv_until_close

HUB = b"Host: podium.test\r\n"
APP = b"Host: app.podium.test\r\n"
LOOPS = ["--loops", "4"]  # more loops than cores: connections spread over 3 workers


def get(port, path, host, method="GET", body=None, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body, headers={"Host": host})
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r.status, data


def parallel(n, fn):
    errors = []

    def run(i):
        try:
            fn(i)
        except Exception as e:  # reported below, with the index
            errors.append((i, repr(e)))

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[:5]


def hub_calls(port):
    return int(get(port, "/calls", "podium.test")[1])


def test_hub_requests_from_every_loop_run_on_main_thread(proxy_factory):
    p = proxy_factory(*LOOPS)
    before = hub_calls(p.port)

    def one(i):
        # a keep-alive connection: space request, hub requests (one with a
        # body), then a space request again after the move to the main loop
        c = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10)
        assert get(p.port, "/hello", "app.podium.test", conn=c) == (200, b"hello app\n")
        assert get(p.port, "/hello", "podium.test", conn=c) == (200, b"hello from hub\n")
        body = b"x%d" % i * 1000
        assert get(p.port, "/echo", "podium.test", "POST", body, conn=c) == (200, body)
        assert get(p.port, "/hello", "app.podium.test", conn=c) == (200, b"hello app\n")
        c.close()

    parallel(64, one)
    assert hub_calls(p.port) - before == 64 * 2 + 1


def test_pipelined_hub_request_moves_with_following_bytes(proxy_factory):
    p = proxy_factory(*LOOPS)
    reqs = (b"GET /hello HTTP/1.1\r\n" + APP + b"\r\n" +
            b"POST /echo HTTP/1.1\r\n" + HUB + b"Content-Length: 5\r\n\r\nabcde" +
            b"GET /hello HTTP/1.1\r\n" + HUB + b"\r\n" +
            b"GET /headers HTTP/1.1\r\n" + APP + b"X-N: 4\r\nConnection: close\r\n\r\n")
    for _ in range(16):
        out = raw(p.port, reqs)
        assert out.count(b"HTTP/1.1 200") == 4, out
        i1, i2, i3, i4 = (out.index(b"hello app"), out.index(b"abcde"),
                          out.index(b"hello from hub"), out.index(b"X-N: 4"))
        assert i1 < i2 < i3 < i4


def test_hub_head_split_across_reads_and_expect_continue(proxy_factory):
    p = proxy_factory(*LOOPS)
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", p.port))
        s.settimeout(5)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: podi")
        time.sleep(0.05)
        s.sendall(b"um.test\r\nX-Long: " + b"v" * 3000 + b"\r\nExpect: 100-continue\r\n")
        time.sleep(0.05)
        s.sendall(b"Content-Length: 4\r\nConnection: close\r\n\r\n")
        got = b""
        while b"100 Continue" not in got:
            d = s.recv(4096)
            assert d, got
            got += d
        s.sendall(b"ping")
        got = recv_until_close(s, got)
        s.close()
        assert got.count(b"100 Continue") == 1, got
        assert b"HTTP/1.1 200 OK" in got and got.endswith(b"ping"), got


def test_stats_add_up_across_loops(proxy_factory):
    p = proxy_factory(*LOOPS)
    n_conns, per_conn = 24, 10

    def one(i):
        c = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10)
        for _ in range(per_conn):
            assert get(p.port, "/echo", "app.podium.test", "POST", b"abcd", conn=c) == (200, b"abcd")
        c.close()

    parallel(n_conns, one)
    # A client has its last response a moment before the loop that sent it
    # has counted it (the bytes go out first): read until nothing is active.
    for _ in range(100):
        st = json.loads(get(p.port, "/stats?space=test%2Fapp", "podium.test")[1])
        if st["active"] == 0:
            break
        time.sleep(0.02)
    assert st["requests"] == n_conns * per_conn, st
    assert st["bytes_in"] == n_conns * per_conn * 4, st
    assert st["active"] == 0 and st["upstream_errors"] == 0, st


def test_upstream_pools_are_per_loop(proxy_factory):
    p = proxy_factory(*LOOPS)
    log = lambda: json.loads(get(p.port, "/_log", "app.podium.test")[1])["conns"]
    before = log()
    for _ in range(40):
        assert get(p.port, "/hello", "app.podium.test") == (200, b"hello app\n")
    # 41 requests on 41 client connections: at most one new app connection per loop
    assert log() - before <= 4


def test_stop_with_busy_workers_exits_cleanly(proxy_factory):
    p = proxy_factory(*LOOPS)
    socks = []
    for _ in range(32):
        s = socket.create_connection(("127.0.0.1", p.port))
        s.sendall(b"GET /hello HTTP/1.1\r\n" + APP + b"\r\n")
        socks.append(s)
    # in flight on a worker: a hub stream that takes 0.5 s
    busy = socket.create_connection(("127.0.0.1", p.port))
    busy.sendall(b"GET /stream?n=5&ms=100 HTTP/1.1\r\n" + HUB + b"\r\n")
    time.sleep(0.2)
    t0 = time.time()
    code, err = p.stop()
    assert code == 0, err[-2000:]
    assert time.time() - t0 < 5
    busy.settimeout(2)
    got = recv_until_close(busy)
    assert got.endswith(b"0\r\n\r\n") and b"data: 4" in got, got
    for s in socks:
        s.close()


# ---- request body idle timeout --------------------------------------------

def stalled_body(port, host):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: " + host + b"\r\nContent-Length: 100\r\n\r\n0123456789")
    t0 = time.time()
    out = b""
    while True:
        try:
            d = s.recv(4096)
        except socket.timeout:
            break
        if not d:
            break
        out += d
    s.close()
    return out, time.time() - t0


def test_stalled_request_body_gets_408_and_close(proxy_factory):
    p = proxy_factory("--body-timeout", "700")
    out, took = stalled_body(p.port, b"app.podium.test")
    assert out.startswith(b"HTTP/1.1 408 ") and b"Connection: close" in out, out
    assert 0.6 < took < 3, took


def test_stalled_hub_body_is_cut(proxy_factory):
    p = proxy_factory("--body-timeout", "700", *LOOPS)
    out, took = stalled_body(p.port, b"podium.test")
    # /echo started its response already: the connection is cut instead
    assert b"408" in out or out.startswith(b"HTTP/1.1 200"), out
    assert 0.6 < took < 3, took
    out, took = stalled_body(p.port, b"app.podium.test")
    assert out.startswith(b"HTTP/1.1 408 "), out


def test_slow_but_steady_body_is_not_cut(proxy_factory):
    p = proxy_factory("--body-timeout", "700")
    s = socket.create_connection(("127.0.0.1", p.port))
    s.settimeout(5)
    s.sendall(b"POST /count HTTP/1.1\r\n" + HUB + b"Content-Length: 8\r\nConnection: close\r\n\r\n")
    for _ in range(8):
        time.sleep(0.3)
        s.sendall(b"x")
    out = recv_until_close(s)
    assert out.startswith(b"HTTP/1.1 200") and b'{"bytes":8}' in out, out


def test_single_loop_mode(proxy_factory):
    p = proxy_factory("--loops", "1")
    for _ in range(8):
        assert get(p.port, "/hello", "podium.test") == (200, b"hello from hub\n")
        assert get(p.port, "/hello", "app.podium.test") == (200, b"hello app\n")


def test_port_in_use_is_refused_despite_reuseport(proxy_factory):
    import os
    import subprocess
    from conftest import HARNESS
    p = proxy_factory(*LOOPS)
    r = subprocess.run([HARNESS, "--loops", "4", "--listen", "127.0.0.1:%d" % p.port],
                       capture_output=True, timeout=10, env=dict(os.environ))
    assert r.returncode == 1 and b"address already in use" in r.stderr, r
