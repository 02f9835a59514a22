"""Hostile traffic against the batched write path (proxy/pio.c): small writes
held to the end of the loop turn and sent in one io_uring_enter.  Every test
here must pass both with batching (the default) and with --no-batch-sends
(PROXY_ARGS), which is the control: the same bytes, in the same order, to the
same clients.  Each request carries a unique marker and each response is
parsed and checked, so bytes lost, duplicated, reordered or sent to the wrong
client (a descriptor reused within one loop turn) show up as a mismatch."""
import os
import re
import select
import socket
import struct
import time

import pytest

from conftest import recv_until, recv_until_close

APP = b"Host: app.podium.test\r\n"
HUB = b"Host: podium.test\r\n"
RAWAPP = b"Host: raw.podium.test\r\n"
SITE = b"Host: site.podium.test\r\n"


# ---- helpers ------------------------------------------------------------------

# Tests with many requests turn the access log off: it is not what they test,
# and thousands of lines would only slow them down.
QUIET = "--no-access-log"

def connect(port, timeout=10, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.settimeout(timeout)
    return s


def rst_close(s):
    """Close with a reset (SO_LINGER 0)."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def parse_responses(buf):
    """Complete responses at the start of buf: [(status, headers, body)], rest.
    Framing: Content-Length, chunked, or none (1xx/204/304/HEAD not used here)."""
    out = []
    while True:
        i = buf.find(b"\r\n\r\n")
        if i < 0:
            return out, buf
        head = buf[:i].decode("latin-1")
        lines = head.split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        assert m is not None, buf[:200]
        status = int(m.group(1))
        hdrs = {}
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        rest = buf[i + 4:]
        if status == 100:
            buf = rest
            continue
        if "content-length" in hdrs:
            n = int(hdrs["content-length"])
            if len(rest) < n:
                return out, buf
            out.append((status, hdrs, rest[:n]))
            buf = rest[n:]
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            body, pos = b"", 0
            while True:
                j = rest.find(b"\r\n", pos)
                if j < 0:
                    return out, buf
                n = int(rest[pos:j], 16)
                if len(rest) < j + 2 + n + 2:
                    return out, buf
                if n == 0:
                    # no trailers expected
                    assert rest[j + 2:j + 4] == b"\r\n", rest[pos:pos + 100]
                    pos = j + 4
                    break
                body += rest[j + 2:j + 2 + n]
                assert rest[j + 2 + n:j + 4 + n] == b"\r\n"
                pos = j + 4 + n
            out.append((status, hdrs, body))
            buf = rest[pos:]
        else:
            return out, buf


def read_responses(s, n, buf=b""):
    """Exactly n responses from s (the peer must not close before), and what
    followed them."""
    got = []
    while True:
        rs, buf = parse_responses(buf)
        got += rs
        if len(got) >= n:
            return got, buf
        d = s.recv(65536)
        assert d, (len(got), n, buf[:300])
        buf += d


def echo_req(marker, host=APP, extra=b""):
    return (b"POST /echo HTTP/1.1\r\n" + host + extra +
            b"Content-Length: %d\r\n\r\n%s" % (len(marker), marker))


def stats_sends(port):
    s = connect(port)
    s.sendall(b"GET /sends HTTP/1.1\r\n" + HUB + b"Connection: close\r\n\r\n")
    out = recv_until_close(s)
    s.close()
    return out


def alive(port):
    """The proxy still answers (and a fresh client gets its own bytes)."""
    s = connect(port)
    m = b"alive-%d" % time.monotonic_ns()
    s.sendall(echo_req(m))
    (r,), _ = read_responses(s, 1)
    s.close()
    assert r[0] == 200 and r[2] == m, r


# ---- tests --------------------------------------------------------------------

@pytest.mark.parametrize("loops", ["1", "2"])
def test_pipelined_markers_then_reset_storm(proxy_factory, loops):
    """Many clients each pipeline requests with unique markers to the app and
    the hub; every other client resets (SO_LINGER 0) right after sending, while
    its answers are held.  The others must get exactly their own answers, in
    order; then, in the next round, fresh connections reuse the descriptors."""
    p = proxy_factory("--loops", loops, QUIET)
    for rnd in range(4):
        socks = []
        for i in range(24):
            s = connect(p.port)
            reqs, want = b"", []
            for k in range(5):
                m = b"<r%d-c%d-k%d-%s>" % (rnd, i, k, os.urandom(4).hex().encode())
                host = HUB if k % 2 else APP
                reqs += echo_req(m, host)
                want.append(m)
            s.sendall(reqs)
            socks.append((s, want))
        for i, (s, want) in enumerate(socks):
            if i % 2:
                rst_close(s)
        for i, (s, want) in enumerate(socks):
            if i % 2 == 0:
                got, rest = read_responses(s, len(want))
                assert [r[2] for r in got] == want, (rnd, i)
                assert all(r[0] == 200 for r in got)
                assert rest == b""
                s.close()
    alive(p.port)


def test_churn_descriptor_reuse_markers(proxy_factory):
    """Connections close and open back to back so descriptor numbers are reused
    within a loop turn: a client whose request is answered must get only its
    own marker, never a closed neighbour's held bytes."""
    p = proxy_factory("--loops", "1", QUIET)
    live = []
    for i in range(300):
        s = connect(p.port)
        m = b"[churn-%d-%s]" % (i, os.urandom(3).hex().encode())
        s.sendall(echo_req(m, HUB if i % 3 == 0 else APP))
        live.append((s, m))
        if len(live) >= 8:
            # reset the oldest but one without reading, read the oldest
            s0, m0 = live.pop(0)
            s1, m1 = live.pop(0)
            rst_close(s1)
            (r,), rest = read_responses(s0, 1)
            assert r[2] == m0 and rest == b"", (i, r, m0)
            s0.close()
    for s, m in live:
        (r,), rest = read_responses(s, 1)
        assert r[2] == m and rest == b""
        s.close()
    alive(p.port)


def test_small_then_large_order_hub(proxy):
    """A small held write (a /hello answer) then, on the same socket, a large
    one (/big: its head is small and held, then 64 KiB chunks): the bytes must
    come in write order."""
    s = connect(proxy.port)
    n = 200000
    s.sendall(b"GET /hello HTTP/1.1\r\n" + HUB + b"\r\n" +
              b"GET /big?n=%d HTTP/1.1\r\n" % n + HUB + b"\r\n" +
              b"GET /hello HTTP/1.1\r\n" + HUB + b"\r\n" +
              b"GET /big?n=17000 HTTP/1.1\r\n" + HUB + b"\r\n" +
              echo_req(b"tail-marker", HUB))
    got, rest = read_responses(s, 5)
    s.close()
    assert got[0][2] == b"hello from hub\n"
    assert got[1][2] == b"b" * n
    assert got[2][2] == b"hello from hub\n"
    assert got[3][2] == b"b" * 17000
    assert got[4][2] == b"tail-marker"
    assert rest == b""


def test_small_then_large_order_app(proxy):
    """Pipelined to the app: a small echo (held), a large echo (> 16 KiB,
    written plainly), a small one again; bodies must come back whole and in
    order."""
    s = connect(proxy.port)
    big = os.urandom(40000)
    mid = os.urandom(16 * 1024 - 5)
    s.sendall(echo_req(b"one") + echo_req(big) + echo_req(b"three") + echo_req(mid) +
              echo_req(b"five") + b"GET /big?n=300000 HTTP/1.1\r\n" + APP + b"\r\n" +
              echo_req(b"seven"))
    got, rest = read_responses(s, 7)
    s.close()
    assert [r[2] for r in got] == [b"one", big, b"three", mid, b"five", b"x" * 300000, b"seven"]


def test_static_small_and_large_pipelined(proxy_factory, tmp_path):
    d = tmp_path / "site"
    d.mkdir()
    files = {"a.txt": b"small file\n", "b.bin": os.urandom(200000),
             "c.bin": os.urandom(16 * 1024), "d.bin": os.urandom(16 * 1024 + 1),
             "e.bin": os.urandom(65536 * 2 + 7)}
    for k, v in files.items():
        (d / k).write_bytes(v)
    p = proxy_factory(QUIET, static=str(d))
    order = ["a.txt", "b.bin", "a.txt", "c.bin", "d.bin", "e.bin", "a.txt"]
    for rnd in range(3):
        s = connect(p.port)
        s.sendall(b"".join(b"GET /%s HTTP/1.1\r\n" % k.encode() + SITE + b"\r\n" for k in order))
        got, rest = read_responses(s, len(order))
        s.close()
        for k, r in zip(order, got):
            assert r[0] == 200 and r[2] == files[k], (rnd, k, len(r[2]))
        assert rest == b""


def test_static_client_resets_mid_file(proxy_factory, tmp_path):
    d = tmp_path / "site"
    d.mkdir()
    (d / "big.bin").write_bytes(os.urandom(3 << 20))
    (d / "s.txt").write_bytes(b"s" * 1000)
    p = proxy_factory(QUIET, static=str(d))
    for i in range(20):
        s = connect(p.port, rcvbuf=4096)
        s.sendall((b"GET /s.txt HTTP/1.1\r\n" + SITE + b"\r\n") * 3 +
                  b"GET /big.bin HTTP/1.1\r\n" + SITE + b"\r\n")
        if i % 2:
            s.recv(100)
        rst_close(s)
    s = connect(p.port)
    s.sendall(b"GET /s.txt HTTP/1.1\r\n" + SITE + b"Connection: close\r\n\r\n")
    (r,), _ = read_responses(s, 1)
    assert r[2] == b"s" * 1000
    s.close()


def test_tunnel_tiny_pieces_then_half_close(proxy):
    """Tiny writes into an upgraded tunnel, then a FIN in the same breath: every
    byte must reach the app before the FIN (the app answers with the count)."""
    for rnd in range(10):
        s = connect(proxy.port)
        s.sendall(b"GET /r/upgrade-eof HTTP/1.1\r\n" + RAWAPP +
                  b"Connection: upgrade\r\nUpgrade: x\r\n\r\n")
        out = recv_until(s, lambda got: b"\r\n\r\n" in got)
        assert out.startswith(b"HTTP/1.1 101"), out
        total = 0
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for k in range(50 + rnd * 20):
            piece = b"x" * (1 + k % 7)
            s.send(piece)
            total += len(piece)
        s.shutdown(socket.SHUT_WR)
        rest = recv_until_close(s, out.split(b"\r\n\r\n", 1)[1])
        s.close()
        assert rest == b"got %d bytes" % total, (rnd, rest)


def test_tunnel_bytes_in_request_packet_then_half_close(proxy):
    """The upgrade request, bytes after its head, and the FIN all at once: the
    bytes ride on the request (written at tunnel start), then the FIN."""
    for rnd in range(10):
        s = connect(proxy.port)
        tail = b"t" * (rnd * 100 + 1)
        s.sendall(b"GET /r/upgrade-eof HTTP/1.1\r\n" + RAWAPP +
                  b"Connection: upgrade\r\nUpgrade: x\r\n\r\n" + tail)
        out = recv_until(s, lambda got: b"\r\n\r\n" in got)
        s.shutdown(socket.SHUT_WR)
        rest = recv_until_close(s, out.split(b"\r\n\r\n", 1)[1])
        s.close()
        assert out.startswith(b"HTTP/1.1 101"), out
        assert rest == b"got %d bytes" % len(tail), (rnd, rest)


def ws_frame(payload, opcode=2, mask=True):
    key = os.urandom(4)
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", 0x80 | opcode, (0x80 if mask else 0) | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", 0x80 | opcode, (0x80 if mask else 0) | 126, n)
    else:
        hdr = struct.pack("!BBQ", 0x80 | opcode, (0x80 if mask else 0) | 127, n)
    if not mask:
        return hdr + payload
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return hdr + key + masked


def ws_split(buf, most=None):
    """Complete server frames at the start of buf, at most `most`:
    ([(opcode, payload)], the rest of buf)."""
    frames = []
    while len(buf) >= 2 and (most is None or len(frames) < most):
        n = buf[1] & 0x7F
        off = 2
        if n == 126:
            if len(buf) < 4:
                break
            n = struct.unpack("!H", buf[2:4])[0]
            off = 4
        elif n == 127:
            if len(buf) < 10:
                break
            n = struct.unpack("!Q", buf[2:10])[0]
            off = 10
        if len(buf) < off + n:
            break
        frames.append((buf[0] & 0x0F, buf[off:off + n]))
        buf = buf[off + n:]
    return frames, buf


def ws_read_frames(s, n, buf=b""):
    frames = []
    while True:
        got, buf = ws_split(buf, n - len(frames))
        frames += got
        if len(frames) >= n:
            return frames, buf
        d = s.recv(65536)
        assert d, (len(frames), n)
        buf += d


def ws_open(port):
    s = connect(port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(b"GET /chat HTTP/1.1\r\nHost: ws.podium.test\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    out = recv_until(s, lambda got: b"\r\n\r\n" in got)
    head, rest = out.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s, rest


def test_websocket_tiny_frames_both_ways(proxy):
    """Many tiny WebSocket frames in each direction, sent without waiting:
    each comes back once, in order."""
    socks = [ws_open(proxy.port) for _ in range(6)]
    msgs = {}
    for j, (s, _) in enumerate(socks):
        msgs[j] = [b"%d:%d" % (j, k) for k in range(200)]
        s.sendall(b"".join(ws_frame(m) for m in msgs[j][:100]))
        for m in msgs[j][100:]:
            s.send(ws_frame(m))
    for j, (s, rest) in enumerate(socks):
        frames, left = ws_read_frames(s, len(msgs[j]), rest)
        assert [f[1] for f in frames] == msgs[j], j
        assert left == b""
    for j, (s, _) in enumerate(socks):
        if j % 2:
            rst_close(s)
        else:
            s.sendall(ws_frame(b"\x03\xe8", opcode=8))
            s.shutdown(socket.SHUT_WR)
            recv_until_close(s)
            s.close()
    alive(proxy.port)


def test_websocket_reset_with_frames_in_flight(proxy):
    for rnd in range(10):
        s, _ = ws_open(proxy.port)
        s.sendall(b"".join(ws_frame(b"m%d" % k) for k in range(300)))
        rst_close(s)
    alive(proxy.port)


def test_slow_readers_do_not_stall_fast_ones(proxy_factory):
    """Clients with a tiny receive buffer that read nothing (their answers go
    to the uv queue after a partial send) next to fast clients pipelining
    small requests: the fast ones get every answer; then the slow ones read
    theirs, whole and in order."""
    p = proxy_factory("--loops", "1", QUIET)
    slow = []
    for i in range(6):
        s = connect(p.port, rcvbuf=2048)
        reqs = [b"GET /big?n=%d HTTP/1.1\r\n" % (100000 + i) + HUB + b"\r\n",
                echo_req(b"slow-%d" % i, HUB),
                b"GET /big?n=%d HTTP/1.1\r\n" % (5000 + i) + APP + b"\r\n",
                echo_req(b"slow-app-%d" % i)]
        s.sendall(b"".join(reqs))
        slow.append(s)
    fast = [connect(p.port) for _ in range(10)]
    for rnd in range(15):
        want = {}
        for j, s in enumerate(fast):
            ms = [b"f%d-%d-%d" % (rnd, j, k) for k in range(3)]
            s.sendall(b"".join(echo_req(m, HUB if (j + k) % 2 else APP) for k, m in enumerate(ms)))
            want[j] = ms
        for j, s in enumerate(fast):
            got, rest = read_responses(s, 3)
            assert [r[2] for r in got] == want[j] and rest == b""
    for s in fast:
        s.close()
    for i, s in enumerate(slow):
        got, rest = read_responses(s, 4)
        assert got[0][2] == b"b" * (100000 + i)
        assert got[1][2] == b"slow-%d" % i
        assert got[2][2] == b"x" * (5000 + i)
        assert got[3][2] == b"slow-app-%d" % i
        assert rest == b""
        s.close()


def test_client_closes_right_after_sending(proxy_factory):
    """Clients that send a request and close (FIN) at once, and ones that
    reset at once: nothing to read for them; the proxy stays sound."""
    p = proxy_factory("--loops", "1", QUIET)
    for i in range(60):
        s = connect(p.port)
        s.sendall(echo_req(b"gone-%d" % i, HUB if i % 2 else APP) +
                  b"GET /hello HTTP/1.1\r\n" + HUB + b"\r\n")
        if i % 3 == 0:
            rst_close(s)
        elif i % 3 == 1:
            s.shutdown(socket.SHUT_WR)
            s.close()
        else:
            s.close()
    alive(p.port)


def test_half_close_after_pipelined_requests_gets_all_answers(proxy):
    """A client that sends its requests and a FIN at once: EOF between
    requests closes, but only after the answers already due are out."""
    for rnd in range(10):
        s = connect(proxy.port)
        ms = [b"hc-%d-%d" % (rnd, k) for k in range(4)]
        s.sendall(b"".join(echo_req(m, HUB) for m in ms))
        got, _ = read_responses(s, 4)
        s.close()
        assert [r[2] for r in got] == ms


def test_app_resets_while_request_head_held(proxy):
    """The hostile app answers and resets; many such exchanges on one client
    connection after another, with normal requests between: every client gets
    its own answer."""
    for rnd in range(15):
        s = connect(proxy.port)
        s.sendall(b"GET /r/rst HTTP/1.1\r\n" + RAWAPP + b"\r\n")
        out = recv_until_close(s)
        s.close()
        assert out.startswith(b"HTTP/1.1 200") and b"first half" in out, out
        assert not out.endswith(b"0\r\n\r\n"), out
        s = connect(proxy.port)
        m = b"after-rst-%d" % rnd
        s.sendall(echo_req(m) + b"GET /r/eof HTTP/1.1\r\n" + RAWAPP + b"\r\n")
        got, rest = read_responses(s, 2)
        s.close()
        assert got[0][2] == m
        assert got[1][2] == b"first half"


def test_unreachable_app_is_502(proxy):
    """An app that refuses connections (route `nothing`): the request head is
    held for a socket still connecting."""
    for i in range(10):
        s = connect(proxy.port)
        s.sendall(b"GET /x HTTP/1.1\r\nHost: nothing.podium.test\r\n\r\n" + echo_req(b"n%d" % i))
        got, _ = read_responses(s, 1)
        s.close()
        assert got[0][0] == 502, got


@pytest.mark.parametrize("loops", ["1", "2"])
def test_hub_keepalive_pipelined_many(proxy_factory, loops):
    """Hub answers (written by the handler on the main loop, a connection from
    a worker first moves there) pipelined with app answers."""
    p = proxy_factory("--loops", loops, QUIET)
    socks = [connect(p.port) for _ in range(12)]
    for rnd in range(6):
        want = {}
        for j, s in enumerate(socks):
            ms = [b"h%d-%d-%d" % (rnd, j, k) for k in range(4)]
            s.sendall(echo_req(ms[0], APP) + echo_req(ms[1], HUB) +
                      b"GET /hello HTTP/1.1\r\n" + HUB + b"\r\n" + echo_req(ms[3], APP))
            want[j] = [ms[0], ms[1], b"hello from hub\n", ms[3]]
        for j, s in enumerate(socks):
            got, rest = read_responses(s, 4)
            assert [r[2] for r in got] == want[j] and rest == b"", (rnd, j)
    for s in socks:
        s.close()


def test_stream_events_then_stop(proxy_factory):
    """Hub event streams (small writes from a timer, held until the prepare
    handle) on many connections; some readers vanish; the proxy stops with
    streams open (conftest checks the sanitizers at stop)."""
    p = proxy_factory("--loops", "2", QUIET)
    socks = []
    for i in range(10):
        s = connect(p.port)
        s.sendall(b"GET /stream?n=20&ms=5 HTTP/1.1\r\n" + HUB + b"\r\n")
        socks.append(s)
    for i, s in enumerate(socks):
        (r,), rest = read_responses(s, 1)
        assert r[2] == b"".join(b"data: %d\n\n" % k for k in range(20)), r
        s.close()
    for i in range(10):
        s = connect(p.port)
        s.sendall(b"GET /stream?n=100000&ms=1 HTTP/1.1\r\n" + HUB + b"\r\n")
        s.recv(10)
        if i % 2:
            rst_close(s)
        else:
            socks.append(s)
    time.sleep(0.05)


class Frozen:
    """The proxy stopped (SIGSTOP) while the test queues up traffic in the
    kernel, then let go (SIGCONT): its next loop turn sees all of it at once
    (hundreds of reads, resets and accepts, descriptors freed and reused)."""

    def __init__(self, proxy):
        self.pid = proxy.proc.pid

    def __enter__(self):
        os.kill(self.pid, 19)  # SIGSTOP
        return self

    def __exit__(self, *a):
        os.kill(self.pid, 18)  # SIGCONT


@pytest.mark.parametrize("loops", ["1", "2"])
def test_frozen_turn_storm(proxy_factory, loops):
    """One loop turn with hundreds of held answers (more than the ring's 256),
    resets, half-closes and new connections taking the freed descriptors."""
    p = proxy_factory("--loops", loops, QUIET)
    old = []
    for i in range(420):
        s = connect(p.port)
        old.append(s)
    # every connection accepted and idle (one exchange each)
    for i, s in enumerate(old):
        s.sendall(echo_req(b"warm-%d" % i, HUB))
    for i, s in enumerate(old):
        (r,), rest = read_responses(s, 1)
        assert r[2] == b"warm-%d" % i
    for rnd in range(2):
        want = {}
        new = []
        with Frozen(p):
            for i, s in enumerate(old):
                if s is None:
                    continue
                ms = [b"<%d-%d-%d-%s>" % (rnd, i, k, os.urandom(3).hex().encode())
                      for k in range(2)]
                # (a FIN during an app request drops it, by design: FIN
                # senders ask the hub only, answered at once)
                s.sendall(echo_req(ms[0], HUB) +
                          echo_req(ms[1], HUB if i % 4 in (1, 2) else APP))
                want[i] = ms
                if i % 4 == 1:
                    rst_close(s)
                    old[i] = None
                elif i % 4 == 2:
                    s.shutdown(socket.SHUT_WR)
            for j in range(150):
                s = connect(p.port)
                m = b"{new-%d-%d}" % (rnd, j)
                s.sendall(echo_req(m, HUB if j % 2 else APP))
                new.append((s, m))
        for i, s in enumerate(old):
            if s is None or i not in want:
                continue
            got, rest = read_responses(s, 2)
            assert [r[2] for r in got] == want[i] and rest == b"", (rnd, i)
            if i % 4 == 2:
                assert recv_until_close(s) == b""
                s.close()
                old[i] = None
        for s, m in new:
            (r,), rest = read_responses(s, 1)
            assert r[2] == m and rest == b""
            old.append(s)
    for s in old:
        if s is not None:
            s.close()
    alive(p.port)


def test_static_many_small_pipelined(proxy_factory, tmp_path):
    """Hundreds of small static files pipelined on one connection: each takes
    two flush rounds (head, then body, whose done callback ends the response
    and starts the next), more than a loop turn's rounds: the rest waits for
    the next turn (the idle handle), which must not stall or reorder."""
    d = tmp_path / "site"
    d.mkdir()
    files = {}
    for i in range(40):
        files["f%d.txt" % i] = (b"<file %d>" % i) * (1 + i * 37)
    for k, v in files.items():
        (d / k).write_bytes(v)
    p = proxy_factory(QUIET, "--loops", "1", static=str(d))
    order = ["f%d.txt" % (i % 40) for i in range(300)]
    for rnd in range(2):
        s = connect(p.port)
        s.sendall(b"".join(b"GET /%s HTTP/1.1\r\n" % k.encode() + SITE + b"\r\n" for k in order))
        got, rest = read_responses(s, len(order))
        s.close()
        assert [r[2] for r in got] == [files[k] for k in order]
        assert rest == b""


def exchange(port, data, half_close=False, timeout=5):
    """Sends data at once, returns everything until the proxy closes (Date
    headers blanked: the app stamps them)."""
    s = connect(port, timeout=timeout)
    s.sendall(data)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    try:
        out = recv_until_close(s)
    except socket.timeout:
        out = b"<timeout>"
    s.close()
    return re.sub(rb"\r\nDate: [^\r]*", b"\r\nDate: -", out)


SCENARIOS = [
    # 100-continue answered by us, then the answer
    echo_req(b"expect-body", APP, b"Expect: 100-continue\r\n") +
    echo_req(b"e2", HUB, b"Expect: 100-continue\r\n") +
    b"GET /hello HTTP/1.1\r\n" + APP + b"Connection: close\r\n\r\n",
    # HEAD, then an error that ends the connection, garbage after it
    b"HEAD /hello HTTP/1.1\r\n" + APP + b"\r\n" +
    b"HEAD /hello HTTP/1.1\r\n" + HUB + b"\r\n" +
    b"GET /x HTTP/1.1\r\n" + APP + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nGET /hello HTTP/1.1\r\n\r\n",
    # HTTP/1.0 close-delimited answers from the hub stream
    b"GET /stream?n=3&ms=1 HTTP/1.0\r\n" + HUB + b"\r\n",
    b"GET /hello HTTP/1.0\r\n" + APP + b"Connection: keep-alive\r\n\r\n" +
    b"GET /hello HTTP/1.0\r\n" + HUB + b"\r\n",
    # chunked upload, chunked answer (sse), app closing after its answer
    b"POST /echo HTTP/1.1\r\n" + APP + b"Transfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n" +
    b"GET /trailers?n=3 HTTP/1.1\r\n" + APP + b"\r\n" +
    b"GET /close HTTP/1.1\r\n" + APP + b"\r\n" + b"GET /hello HTTP/1.1\r\n" + APP + b"\r\n",
    # the hostile app: interim 100 saying close, bad answers (502)
    b"GET /r/100-close HTTP/1.1\r\n" + RAWAPP + b"\r\n" +
    b"GET /r/status-000 HTTP/1.1\r\n" + RAWAPP + b"\r\n",
    b"GET /r/eof HTTP/1.1\r\n" + RAWAPP + b"\r\n",
    # app, hub and errors pipelined, then a FIN
    echo_req(b"fin1", HUB) + b"GET /nope HTTP/1.1\r\n" + HUB + b"\r\n" +
    b"GET /hello HTTP/1.1\r\nHost: down.podium.test\r\n\r\n" +
    b"GET /hello HTTP/1.1\r\nHost: starting.podium.test\r\n\r\n" +
    b"GET /hello HTTP/1.1\r\nHost: unknown.podium.test\r\n\r\n",
    b"GET /error HTTP/1.1\r\n" + HUB + b"\r\n" + b"GET /big?n=70000 HTTP/1.1\r\n" + HUB +
    b"Connection: close\r\n\r\n",
]


@pytest.mark.parametrize("loops", ["1", "2"])
def test_same_bytes_as_plain_writes(proxy_factory, loops):
    """Differential: every scenario gives the same bytes through the proxy
    under test (batched by default) and through one with --no-batch-sends."""
    a = proxy_factory("--loops", loops, QUIET)
    b = proxy_factory("--loops", loops, QUIET, "--no-batch-sends")
    for i, sc in enumerate(SCENARIOS):
        # (no FIN from the client: one read during an app request drops it,
        # and when that read comes is a race)
        sc_end = sc + b"GET /hello HTTP/1.1\r\n" + HUB + b"Connection: close\r\n\r\n"
        for rnd in range(2):
            x = exchange(a.port, sc_end)
            y = exchange(b.port, sc_end)
            assert x == y, (i, x[-600:], y[-600:])
            assert x != b"<timeout>", i


def test_hub_echo_backpressure_with_small_pieces(proxy):
    """The hub /echo answers each body piece as it comes (small writes, held),
    pausing the body above 256 KiB queued: a client that sends 3 MiB in small
    pieces while reading slowly gets every byte back, in order."""
    s = connect(proxy.port, timeout=20, rcvbuf=8192)
    body = os.urandom(3 << 20)
    s.sendall(b"POST /echo HTTP/1.1\r\n" + HUB + b"Content-Length: %d\r\n\r\n" % len(body))
    got = bytearray()
    sent = 0
    s.setblocking(False)
    deadline = time.time() + 20
    while time.time() < deadline:
        r, w, _ = select.select([s], [s] if sent < len(body) else [], [], 5)
        if w:
            try:
                sent += s.send(body[sent:sent + 1000 + sent % 3000])
            except BlockingIOError:
                pass
        if r:
            d = s.recv(4096)
            assert d
            got += d
            if b"\r\n\r\n" in got and len(got) - got.index(b"\r\n\r\n") - 4 >= len(body):
                break
    s.close()
    head, rb = bytes(got).split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert rb == body


def test_tunnel_big_frames_to_slow_reader_then_reset(proxy):
    """WebSocket echo of large and tiny frames to a client that reads slowly
    (the app side pauses and resumes on the client's queue), then resets."""
    s, rest = ws_open(proxy.port)
    msgs = [os.urandom(100000) if k % 5 == 0 else b"tiny%d" % k for k in range(30)]
    s.setblocking(False)
    out = b"".join(ws_frame(m) for m in msgs)
    sent, buf = 0, rest
    frames = []
    deadline = time.time() + 20
    while len(frames) < len(msgs) and time.time() < deadline:
        r, w, _ = select.select([s], [s] if sent < len(out) else [], [], 5)
        if w:
            try:
                sent += s.send(out[sent:sent + 7000])
            except BlockingIOError:
                pass
        if r:
            d = s.recv(3000)
            assert d
            holder = [buf + d]
            frames += _frames_in(holder)
            buf = holder[0]
    assert frames == msgs
    rst_close(s)
    alive(proxy.port)


def _frames_in(holder):
    """Complete server frames at the start of holder[0] (payloads); the rest
    stays in holder[0]."""
    frames, holder[0] = ws_split(holder[0])
    return [payload for _, payload in frames]


@pytest.mark.parametrize("loops", ["1", "2"])
def test_stop_in_a_frozen_turn_with_answers_held(proxy_factory, loops):
    """A stop (SIGTERM) arriving in the same loop turn as hundreds of requests,
    resets and new connections: answers held for closing connections, loops
    closing their batch while connections are still being closed.  Every
    client gets either its whole answer or a clean cut, and the proxy exits
    by itself without a sanitizer report."""
    p = proxy_factory("--loops", loops, QUIET)
    socks = [connect(p.port) for _ in range(150)]
    for i, s in enumerate(socks):
        s.sendall(echo_req(b"w%d" % i, HUB))
    for i, s in enumerate(socks):
        read_responses(s, 1)
    with Frozen(p):
        for i, s in enumerate(socks):
            s.sendall(echo_req(b"s%d" % i, HUB if i % 2 else APP) +
                      b"GET /stream?n=3&ms=1 HTTP/1.1\r\n" + HUB + b"\r\n")
            if i % 3 == 0:
                rst_close(s)
                socks[i] = None
        for j in range(50):
            s = connect(p.port)
            s.sendall(b"GET /big?n=%d HTTP/1.1\r\n" % (1000 * j) + HUB + b"\r\n")
            socks.append(s)
        os.kill(p.proc.pid, 15)
    for i, s in enumerate(socks):
        if s is None:
            continue
        try:
            out = recv_until_close(s)
        except (ConnectionResetError, socket.timeout):
            out = None
        s.close()
        if out:
            got, rest = parse_responses(out)
            for r in got:
                assert r[0] == 200, r
    p.proc.wait(timeout=20)


@pytest.mark.parametrize("rcvbuf", [None, 4096])
def test_many_small_answers_on_one_socket(proxy_factory, rcvbuf):
    """Hundreds of pipelined small answers in one turn on one socket: the held
    write grows past its inline buffer and past 16 KiB (sent early, the rest
    written plainly behind it); with a small receive buffer the sends are
    partial.  Every answer arrives once, in order."""
    p = proxy_factory("--loops", "1", QUIET)
    s = connect(p.port, rcvbuf=rcvbuf)
    ms = [b"m%04d-%s" % (k, b"z" * (k % 50)) for k in range(600)]
    s.sendall(b"".join(echo_req(m, HUB) for m in ms))
    if rcvbuf:
        time.sleep(0.2)  # let the proxy fill the socket first (not required)
    got, rest = read_responses(s, len(ms))
    s.close()
    assert [r[2] for r in got] == ms and rest == b""
