"""Batched sends (proxy/pio.c): a loop turn's small writes leave in one
io_uring_enter.  `make test-proxy` runs the whole suite twice, with batching
(the default) and with --no-batch-sends, so every other test covers both
write paths; these tests show which path was taken."""
import ctypes
import json
import os
import socket

import pytest

from conftest import raw, recv_until

SYS_io_uring_setup = 425


def io_uring_available():
    """Whether this kernel lets us set up an io_uring (the proxy falls back to
    plain writes where it does not)."""
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(SYS_io_uring_setup, 4, params)
    if fd < 0:
        return False
    os.close(fd)
    return True


def sends(port):
    out = raw(port, b"GET /sends HTTP/1.1\r\nHost: podium.test\r\nConnection: close\r\n\r\n")
    return json.loads(out.split(b"\r\n\r\n", 1)[1])


def traffic(port, conns=16, rounds=20):
    """rounds x conns requests to the app: each round sends one request on
    every connection before reading any answer, so one loop turn has several
    to forward.  Returns the number of requests answered."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
    answered = 0
    try:
        for s in socks:
            s.settimeout(10)
        for r in range(rounds):
            for i, s in enumerate(socks):
                body = b"<%d/%d>" % (r, i)
                s.sendall(b"POST /echo HTTP/1.1\r\nHost: app.podium.test\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            for i, s in enumerate(socks):
                want = b"<%d/%d>" % (r, i)
                got = recv_until(s, lambda b: b.endswith(want))
                assert got.startswith(b"HTTP/1.1 200"), got
                answered += 1
    finally:
        for s in socks:
            s.close()
    return answered


@pytest.mark.skipif("--no-batch-sends" in os.environ.get("PROXY_ARGS", ""),
                    reason="this run of the suite has batching off")
def test_small_writes_leave_in_batches(proxy_factory):
    if not io_uring_available():
        pytest.skip("io_uring refused by this kernel: the proxy writes plainly")
    p = proxy_factory("--loops", "1")
    n = traffic(p.port)
    st = sends(p.port)
    # each request: its head to the app, the response to the client
    assert st["sends"] >= 2 * n, st
    # several writes of one loop turn shared an io_uring_enter
    assert st["batches"] < st["sends"], st


def test_no_batch_sends_writes_plainly(proxy_factory):
    """Control: the same traffic with batching off takes the plain path only."""
    p = proxy_factory("--loops", "1", "--no-batch-sends")
    n = traffic(p.port)
    assert n == 16 * 20
    assert sends(p.port) == {"batches": 0, "sends": 0}
