"""Hostile clients: smuggling attempts, limits, slowloris, connection cap.

The backend logs every request line it parses; a smuggled request must never
appear there."""
import socket
import threading
import time

from conftest import backend_log, hello_once, raw, recv_until, recv_until_close

APP = b"Host: app.podium.test\r\n"


def status(out):
    return int(out.split(b" ", 2)[1]) if out.startswith(b"HTTP/1.1 ") else None


def refused(proxy, request, want, marker):
    """request gets the status want and nothing of it reaches the app."""
    out = raw(proxy.port, request)
    assert status(out) == want, out
    assert_not_smuggled(proxy, marker)


def assert_not_smuggled(proxy, marker):
    log = backend_log(proxy.port)["requests"]
    assert not any(marker in r for r in log), log


def test_cl_and_te_refused(proxy):
    out = raw(proxy.port, b"POST /echo HTTP/1.1\r\n" + APP +
              b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"0\r\n\r\nGET /smuggled-clte HTTP/1.1\r\n" + APP + b"\r\n")
    assert status(out) == 400 and out.count(b"HTTP/1.1") == 1
    assert_not_smuggled(proxy, "smuggled-clte")


def test_te_on_http10_refused(proxy):
    out = raw(proxy.port, b"POST /echo HTTP/1.0\r\n" + APP +
              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled-te10 HTTP/1.1\r\n" + APP + b"\r\n")
    assert status(out) == 400
    assert_not_smuggled(proxy, "smuggled-te10")


def test_obs_fold_refused(proxy):
    out = raw(proxy.port, b"GET /obsfold HTTP/1.1\r\n" + APP + b"X-A: a\r\n b\r\n\r\n")
    assert status(out) == 400
    assert_not_smuggled(proxy, "obsfold")


def test_missing_host_and_duplicate_host(proxy):
    assert status(raw(proxy.port, b"GET /nohost HTTP/1.1\r\n\r\n")) == 400
    assert status(raw(proxy.port, b"GET /duphost HTTP/1.1\r\n" + APP + APP + b"\r\n")) == 400
    assert_not_smuggled(proxy, "duphost")


def test_duplicate_content_length_refused(proxy):
    out = raw(proxy.port, b"POST /dupcl HTTP/1.1\r\n" + APP +
              b"Content-Length: 5\r\nContent-Length: 30\r\n\r\nhelloGET /smuggled-cl HTTP/1.1\r\n\r\n")
    assert status(out) == 400
    assert_not_smuggled(proxy, "smuggled-cl")
    assert_not_smuggled(proxy, "dupcl")


def test_te_not_chunked_refused(proxy):
    out = raw(proxy.port, b"POST /tegzip HTTP/1.1\r\n" + APP + b"Transfer-Encoding: gzip\r\n\r\nxx")
    assert status(out) == 400
    out = raw(proxy.port, b"POST /tecomma HTTP/1.1\r\n" + APP +
              b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n")
    assert status(out) == 400
    assert_not_smuggled(proxy, "/te")


def test_bad_chunk_size_and_nothing_after(proxy):
    out = raw(proxy.port, b"POST /echo HTTP/1.1\r\n" + APP + b"Transfer-Encoding: chunked\r\n\r\n"
              b"zz\r\nhello\r\n0\r\n\r\nGET /smuggled-chunk HTTP/1.1\r\n" + APP + b"\r\n")
    assert b"HTTP/1.1 400" in out or status(out) in (502, None)
    assert_not_smuggled(proxy, "smuggled-chunk")


def test_garbage_after_error_never_parsed(proxy):
    out = raw(proxy.port, b"GET /x HTTP/1.1\r\nHost: app.podium.test\r\nBad Header\r\n\r\n"
              b"GET /smuggled-after HTTP/1.1\r\n" + APP + b"\r\n")
    assert status(out) == 400 and out.count(b"HTTP/1.1 ") == 1
    assert_not_smuggled(proxy, "smuggled-after")


def test_connect_refused(proxy):
    out = raw(proxy.port, b"CONNECT app.podium.test:443 HTTP/1.1\r\n" + APP + b"\r\n")
    assert status(out) in (400, 405)


def test_request_line_limit_414(proxy):
    out = raw(proxy.port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + APP + b"\r\n")
    assert status(out) == 414
    out = raw(proxy.port, b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\n" + APP + b"Connection: close\r\n\r\n")
    assert status(out) == 404  # under the limit: reaches the app


def test_header_limits_431(proxy):
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(101))
    assert status(raw(proxy.port, b"GET /many HTTP/1.1\r\n" + APP + many + b"\r\n")) == 431
    big = b"X-Big: " + b"v" * 33000 + b"\r\n"
    assert status(raw(proxy.port, b"GET /bighdr HTTP/1.1\r\n" + APP + big + b"\r\n")) == 431
    assert_not_smuggled(proxy, "/many")
    assert_not_smuggled(proxy, "/bighdr")


def test_body_limit_413(proxy_factory):
    p = proxy_factory("--max-body", "100000")
    out = raw(p.port, b"POST /upload413 HTTP/1.1\r\n" + APP + b"Content-Length: 200000\r\n\r\n" + b"x" * 1000)
    assert status(out) == 413
    body = b"".join(b"4000\r\n" + b"x" * 0x4000 + b"\r\n" for _ in range(10)) + b"0\r\n\r\n"
    out = raw(p.port, b"POST /upload413c HTTP/1.1\r\n" + APP + b"Transfer-Encoding: chunked\r\n\r\n" + body)
    assert status(out) == 413 or out == b""  # refused before or while streaming
    assert_not_smuggled(p, "/upload413 ")


def test_slowloris_cut_at_deadline(proxy_factory):
    p = proxy_factory("--header-timeout", "1000")
    s = socket.create_connection(("127.0.0.1", p.port))
    t0 = time.time()
    s.sendall(b"GET / HTTP/1.1\r\n")
    served = []

    def normal():
        for _ in range(10):
            out = raw(p.port, b"GET /hello HTTP/1.1\r\nHost: podium.test\r\nConnection: close\r\n\r\n")
            served.append(out.startswith(b"HTTP/1.1 200"))
            time.sleep(0.1)

    th = threading.Thread(target=normal)
    th.start()
    s.settimeout(0.2)
    out = b""
    closed = False
    while time.time() - t0 < 4:
        try:
            s.sendall(b"X-a: b\r\n")  # a header line now and then, never the end
        except OSError:
            closed = True
            break
        try:
            d = s.recv(4096)
            if not d:
                closed = True
                break
            out += d
        except socket.timeout:
            pass
    elapsed = time.time() - t0
    th.join()
    assert closed and elapsed < 2.0, elapsed
    assert out == b"" or status(out) == 408
    assert all(served) and len(served) == 10


def test_idle_connection_without_request_is_cut(proxy_factory):
    p = proxy_factory("--header-timeout", "500")
    s = socket.create_connection(("127.0.0.1", p.port))
    s.settimeout(3)
    t0 = time.time()
    assert s.recv(100) == b""
    assert time.time() - t0 < 1.5


def test_connection_cap(proxy_factory):
    p = proxy_factory("--max-conn", "5")
    held = [socket.create_connection(("127.0.0.1", p.port)) for _ in range(5)]
    time.sleep(0.2)
    out = raw(p.port, b"GET /hello HTTP/1.1\r\nHost: podium.test\r\n\r\n")
    assert status(out) == 503
    for s in held:
        s.close()
    time.sleep(0.2)
    out = raw(p.port, b"GET /hello HTTP/1.1\r\nHost: podium.test\r\nConnection: close\r\n\r\n")
    assert status(out) == 200


def test_header_value_split_across_reads_is_not_a_fold(proxy):
    # a value arriving in several TCP segments must not look like obs-fold
    s = socket.create_connection(("127.0.0.1", proxy.port))
    for part in [b"GET /headers HTTP/1.1\r\nHost: app.podium.test\r\nX-Split: ab",
                 b"cd", b"ef\r\nConnection: close\r\n\r\n"]:
        s.sendall(part)
        time.sleep(0.05)
    s.settimeout(3)
    out = recv_until_close(s)
    assert out.startswith(b"HTTP/1.1 200") and b"X-Split: abcdef" in out


TRAILERS = b"".join(b"X-T%d: %s\r\n" % (i, b"v" * 200) for i in range(90))


def test_request_trailers_neither_stored_nor_passed_on(proxy):
    """A chunked request's trailer fields (18 KB here) come after its head is
    complete and its strings in use (the access line prints its path): they
    are checked and counted, never added to the head (under ASan the proxy
    before this rule read freed memory here) and not sent to the app.  The
    connection is reused afterwards."""
    s = socket.create_connection(("127.0.0.1", proxy.port))
    s.settimeout(5)
    s.sendall(b"POST /echo HTTP/1.1\r\n" + APP + b"Transfer-Encoding: chunked\r\n\r\n"
              b"3\r\nabc\r\n0\r\n" + TRAILERS + b"\r\n")
    out = recv_until(s, lambda got: got.endswith(b"\r\n\r\nabc"))
    assert status(out) == 200
    hello_once(s)
    s.close()
    # trailers past the head limits (8 KiB line + 32 KiB headers): refused
    out = raw(proxy.port, b"POST /echo HTTP/1.1\r\n" + APP + b"Transfer-Encoding: chunked\r\n\r\n"
              b"3\r\nabc\r\n0\r\n" + TRAILERS * 3 + b"\r\n")
    assert status(out) in (431, None) and b"abc" not in out, out[:200]
    # and an obs-fold in a trailer is refused like one in the head
    out = raw(proxy.port, b"POST /echo HTTP/1.1\r\n" + APP + b"Transfer-Encoding: chunked\r\n\r\n"
              b"3\r\nabc\r\n0\r\nX-A: a\r\n b\r\n\r\n")
    assert b"abc" not in out, out[:200]


def test_response_trailers_end_the_response_and_are_dropped(proxy):
    """An app's chunked response with 18 KB of trailers: the body arrives,
    the trailers are not passed on (framing is ours), the connection is
    reused."""
    s = socket.create_connection(("127.0.0.1", proxy.port))
    s.settimeout(5)
    for _ in range(2):
        s.sendall(b"GET /trailers HTTP/1.1\r\n" + APP + b"\r\n")
        out = recv_until(s, lambda got: got.endswith(b"0\r\n\r\n"))
        head, body = out.split(b"\r\n\r\n", 1)
        assert status(out) == 200 and body == b"5\r\nhello\r\n0\r\n\r\n", out
        assert b"X-T" not in out and b"\r\nTrailer:" not in head
    s.close()


def test_whitespace_before_colon_and_te_without_chunked_never_reach_the_app(proxy):
    """RFC 9112 5.1 (and nginx since 1.21.1): no whitespace between a field
    name and its colon. A request whose Transfer-Encoding does not end in
    chunked is refused before anything is sent to the app (llhttp itself
    refuses it only after its headers callback). Control: the same requests
    written correctly reach the app."""
    for bad in (b"X-A : 1\r\n", b"X-A\t: 1\r\n"):
        refused(proxy, b"GET /wscolon HTTP/1.1\r\n" + APP + bad + b"\r\n", 400, "wscolon")
    refused(proxy, b"POST /echo?texchunked-bad HTTP/1.1\r\n" + APP +
            b"Transfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400, "texchunked-bad")
    assert status(raw(proxy.port, b"GET /wscolon HTTP/1.1\r\n" + APP + b"X-A: 1\r\n"
                      b"Connection: close\r\n\r\n")) == 404
    # (to /echo, which reads the body: an app answering without reading it
    # would take the body for its next request on the pooled connection)
    assert status(raw(proxy.port, b"POST /echo?texchunked-ok HTTP/1.1\r\n" + APP +
                      b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n")) == 200
    log = backend_log(proxy.port)["requests"]
    assert "GET /wscolon" in log and "POST /echo?texchunked-ok" in log


def _stalled_reader(port, req):
    """A client with a tiny receive buffer that asks for a big response and
    reads nothing: returns the socket."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(req)
    return s


def _cut_within(s, seconds):
    """Drains the socket until the proxy closes it; True if that happened
    within seconds (a functional bound, far above the 1 s timeout)."""
    s.settimeout(0.5)
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            continue
        except OSError:
            return True
        if not d:
            return True
    return False


def test_send_timeout_cuts_a_client_that_reads_nothing(proxy_factory, tmp_path):
    """A client that takes none of a pending response for the send timeout is
    closed, whatever serves it: a static file, the hub, an app (nginx's
    send_timeout). Without it such clients held their slot (and MBs of socket
    buffers) for good; an app's response was cut as "the app stopped sending".
    Control: a client that keeps reading slowly is not cut."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "big.bin").write_bytes(b"\0" * (30 << 20))
    p = proxy_factory("--send-timeout", "1000", "--upstream-response", "1000", static=str(site))
    reqs = [b"GET /big.bin HTTP/1.1\r\nHost: site.podium.test\r\n\r\n",
            b"GET /big?n=50000000 HTTP/1.1\r\nHost: podium.test\r\n\r\n",
            b"GET /big?n=50000000 HTTP/1.1\r\n" + APP + b"\r\n"]
    socks = [_stalled_reader(p.port, r) for r in reqs]
    time.sleep(2.5)  # > the send timeout, nothing read
    for r, s in zip(reqs, socks):
        assert _cut_within(s, 10), r
        s.close()
    # control: read 16 KiB every 0.3 s for 3 s: progress, never cut
    s = _stalled_reader(p.port, reqs[0])
    s.settimeout(2)
    got = 0
    t0 = time.time()
    while time.time() - t0 < 3:
        d = s.recv(16384)
        assert d, "a slowly reading client was cut after %d bytes" % got
        got += len(d)
        time.sleep(0.3)
    s.close()
    assert status(raw(p.port, b"GET /hello HTTP/1.1\r\n" + APP + b"Connection: close\r\n\r\n")) == 200


def test_content_length_past_int64_refused(proxy):
    """llhttp takes Content-Length up to 2^64-1; past 2^63-1 it once read as
    "no length" here while llhttp still took what followed as body: that body,
    a second request, went to the app unchecked. Control: a length just under
    the body limit is a plain 413."""
    smuggled = b"GET /smuggled-cl64 HTTP/1.1\r\nHost: anything.example\r\n\r\n"
    for cl in (b"18446744073709551615", b"9223372036854775808"):
        out = raw(proxy.port, b"POST /hello HTTP/1.1\r\n" + APP + b"Content-Length: " + cl +
                  b"\r\n\r\n" + smuggled)
        assert status(out) == 400 and b"Content-Length" in out, out
    assert_not_smuggled(proxy, "smuggled-cl64")
    out = raw(proxy.port, b"POST /hello HTTP/1.1\r\n" + APP + b"Content-Length: 9223372036854775807\r\n\r\n")
    assert status(out) == 413, out


def test_empty_header_name_and_te_with_other_codings(proxy):
    """": v" (an empty field name, which llhttp 8.1 takes) is a 400;
    "Transfer-Encoding: gzip, chunked" a 501 (its gzip would be lost when the
    body is re-chunked; nginx answers 501 too). Neither reaches the app."""
    refused(proxy, b"GET /emptyname HTTP/1.1\r\n" + APP + b": v\r\n\r\n", 400, "emptyname")
    refused(proxy, b"POST /tegzipchunked HTTP/1.1\r\n" + APP +
            b"Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501, "tegzipchunked")


def test_hub_body_error_after_the_handler_took_it(proxy_factory):
    """A hub request whose handler reads the body (/count) ends in a bad chunk,
    or stalls: the exchange is aborted and freed; the connection's access
    line still names the request (it read the freed head before: under ASan a
    use-after-free, made certain by filling the head cache first)."""
    p = proxy_factory("--loops", "1", "--body-timeout", "500")
    for tail in (b"zz\r\n", None):
        t = socket.create_connection(("127.0.0.1", p.port))
        t.settimeout(5)
        t.sendall(b"POST /count?" + b"U" * 600 + b" HTTP/1.1\r\nHost: podium.test\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        time.sleep(0.2)
        others = [socket.create_connection(("127.0.0.1", p.port)) for _ in range(20)]
        for s in others:
            s.sendall(b"GET /x HTTP/1.1\r\nHost: a")  # each takes a head arena
        time.sleep(0.2)
        for s in others:
            s.close()  # 16 go back to the cache, the rest are freed
        time.sleep(0.2)
        if tail is not None:
            t.sendall(tail)
        out = recv_until_close(t)
        assert status(out) in (400, 408), out
        t.close()
    assert status(raw(p.port, b"GET /hello HTTP/1.1\r\nHost: podium.test\r\nConnection: close\r\n\r\n")) == 200


def _flood(port, head, chunk, seconds):
    """Sends head, then chunk as fast as the proxy takes it, reading nothing;
    returns the seconds until the proxy cut the connection (None: held)."""
    import select
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(head)
    s.setblocking(False)
    t0 = time.time()
    try:
        while time.time() - t0 < seconds:
            select.select([], [s], [], 0.2)
            try:
                s.send(chunk)
            except BlockingIOError:
                pass
    except (BrokenPipeError, ConnectionResetError):
        return time.time() - t0
    finally:
        s.close()
    return None


def test_send_timeout_whatever_else_is_timed(proxy_factory):
    """The send timeout holds whatever else the connection waits for:
    - pipelined requests sent as fast as possible, answers never read (the
      next request was parsed whatever the write queue held: memory grew
      ~130 MB/s and every request restarted the timers): parsing waits for
      the queue, the client is cut, memory stays flat;
    - an upload whose handler pauses the body because the client reads none
      of the echo (the body timer only re-armed while paused);
    - an upload to an app that answers without reading it.
    Control (test_send_timeout_cuts_a_client_that_reads_nothing): a client
    that keeps reading is not cut."""
    p = proxy_factory("--send-timeout", "1000", "--body-timeout", "1000", "--keepalive", "1000",
                      "--header-timeout", "1000", "--upstream-response", "1000", "--no-access-log")
    rss0 = p.rss_kb()
    for req in (b"GET /hello HTTP/1.1\r\nHost: podium.test\r\n\r\n",
                b"GET /x HTTP/1.1\r\nHost: nothing.podium.test\r\n\r\n"):
        cut = _flood(p.port, b"", req * 1000, 15)
        assert cut is not None and cut < 10, cut
    assert p.rss_kb() - rss0 < 64 * 1024, (rss0, p.rss_kb())
    for head in (b"POST /echo HTTP/1.1\r\nHost: podium.test\r\nContent-Length: 900000000\r\n\r\n",
                 b"POST /echo HTTP/1.1\r\nHost: podium.test\r\nTransfer-Encoding: chunked\r\n\r\n",
                 b"POST /big?n=500000000 HTTP/1.1\r\n" + APP + b"Content-Length: 90000000\r\n\r\n"):
        chunk = b"8000\r\n" + b"e" * 0x8000 + b"\r\n" if b"chunked" in head else b"e" * 65536
        cut = _flood(p.port, head, chunk, 20)
        assert cut is not None, head


def test_keepalive_idle_waits_for_the_queued_response(proxy_factory):
    """A response complete on our side but still queued for a slow reader is
    not cut by the keep-alive idle timer (it was: a clean FIN mid-body, the
    access line saying all was sent)."""
    p = proxy_factory("--keepalive", "1000")
    for host in (b"podium.test", b"app.podium.test"):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        s.connect(("127.0.0.1", p.port))
        s.settimeout(5)
        s.sendall(b"GET /big?n=3000000 HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        out = recv_until(s, lambda got: b"\r\n\r\n" in got)
        body = len(out.split(b"\r\n\r\n", 1)[1])
        t0 = time.time()
        while body < 3000000:  # ~1 MB/s: the last bytes arrive well after 1 s
            d = s.recv(16384)
            assert d, "cut after %d of 3000000 body bytes" % body
            body += len(d)
            time.sleep(0.005)
        assert time.time() - t0 > 1.5
        s.close()


def test_obs_fold_of_an_empty_value_refused(proxy):
    """"X-A:\\r\\n b" (the fold of an empty value) is refused like any other
    obs-fold; "Host:\\r\\n app..." routed to the app before."""
    refused(proxy, b"GET /foldempty HTTP/1.1\r\n" + APP + b"X-A:\r\n b\r\n\r\n", 400, "foldempty")
    refused(proxy, b"GET /foldhost HTTP/1.1\r\nHost:\r\n app.podium.test\r\n\r\n", 400, "foldhost")
    # control: an empty value without a fold is fine
    assert status(raw(proxy.port, b"GET /hello HTTP/1.1\r\n" + APP + b"X-A:\r\nConnection: close\r\n\r\n")) == 200
