"""Test app for the proxy tests: runs inside a network namespace.

HTTP/1.1 keep-alive server on PORT and a WebSocket echo server on PORT+1.
Every request line it parses is logged, so tests can prove that a smuggled
request never reached it (GET /_log), and every accepted TCP connection is
counted (keep-alive reuse).
"""
import asyncio
import http.server
import json
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

LOG = []
CONNS = [0]
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        with LOCK:
            CONNS[0] += 1
        super().setup()

    def log_message(self, *a):
        pass

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            out = bytearray()
            while True:
                line = self.rfile.readline()
                n = int(line.split(b";")[0].strip(), 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, code, body, ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        with LOCK:
            LOG.append("%s %s" % (self.command, self.path))
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        p = u.path
        if p == "/_log":
            with LOCK:
                body = json.dumps({"requests": LOG, "conns": CONNS[0]}).encode()
            return self.send(200, body, "application/json")
        if p == "/hello":
            return self.send(200, b"hello app\n", extra=[("Connection", "X-Secret"), ("X-Secret", "1"),
                                                          ("Keep-Alive", "timeout=5"), ("X-Accel-Buffering", "no")])
        if p == "/headers":
            self.read_body()
            body = "".join("%s: %s\n" % (k, v) for k, v in self.headers.items()).encode()
            return self.send(200, body)
        if p == "/echo":
            body = self.read_body()
            return self.send(200, body, "application/octet-stream")
        if p == "/upload":
            te = self.headers.get("Transfer-Encoding", "")
            total = 0
            if "chunked" in te.lower():
                total = len(self.read_body())
            else:
                left = int(self.headers.get("Content-Length") or 0)
                while left > 0:
                    d = self.rfile.read(min(left, 1 << 16))
                    if not d:
                        break
                    total += len(d)
                    left -= len(d)
            return self.send(200, json.dumps({"bytes": total}).encode(), "application/json")
        if p == "/big":
            n = int(q.get("n", "1048576"))
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"x" * 65536
            while n > 0:
                k = min(n, len(chunk))
                self.wfile.write(chunk[:k])
                n -= k
            return
        if p == "/sse":
            n = int(q.get("n", "5"))
            ms = int(q.get("ms", "200"))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Accel-Buffering", "no")
            self.end_headers()
            for i in range(n):
                ev = ("data: %d %f\n\n" % (i, time.time())).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev))
                self.wfile.flush()
                time.sleep(ms / 1000.0)
            self.wfile.write(b"0\r\n\r\n")
            return
        if p == "/trailers":
            # a chunked response ending in n trailer fields of 200 bytes
            n = int(q.get("n", "90"))
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-T0")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n0\r\n")
            self.wfile.write(b"".join(b"X-T%d: %s\r\n" % (i, b"v" * 200) for i in range(n)))
            self.wfile.write(b"\r\n")
            return
        if p == "/die":
            # promises a megabyte, sends a little, then dies
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"y" * 1000)
            self.wfile.flush()
            time.sleep(0.2)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if p == "/eofbody":
            # body delimited by close (no length): must reach the client whole
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"z" * 5000)
            self.close_connection = True
            return
        if p == "/slow":
            time.sleep(int(q.get("ms", "1000")) / 1000.0)
            return self.send(200, b"slow\n")
        if p == "/close":
            self.close_connection = True
            return self.send(200, b"bye\n", extra=[("Connection", "close")])
        return self.send(404, b"nope\n")

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


# A hostile app on port + 2: reads request heads, answers each with a canned
# response chosen by the path, /r/NAME, then closes, resets or reads the next.
RAW = {
    # a close-delimited body cut by a reset (RST), and cleanly (FIN)
    "rst": (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst half", "rst"),
    "eof": (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst half", "close"),
    # an interim response saying close, then the real one
    "100-close": (b"HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n"
                  b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "next"),
    "101-no-upgrade": (b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n"
                       b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "next"),
    "status-000": (b"HTTP/1.1 000 Zero\r\nContent-Length: 2\r\n\r\nok", "next"),
    "gzipped-te": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                b"2\r\nok\r\n0\r\n\r\n", "next"),
    "empty-name": (b"HTTP/1.1 200 OK\r\n: v\r\nContent-Length: 2\r\n\r\nok", "next"),
    # a tunnel that answers only once the client half-closed its side
    "upgrade-eof": (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
                    "count-to-eof"),
}


def raw_conn(s):
    import struct
    buf = b""
    try:
        while True:  # keep-alive: podium may reuse the connection
            while b"\r\n\r\n" not in buf:
                d = s.recv(65536)
                if not d:
                    return
                buf += d
            head, buf = buf.split(b"\r\n\r\n", 1)
            path = head.split(b" ", 2)[1].decode()
            with LOCK:
                LOG.append("RAW " + path)
            resp, end = RAW.get(path[len("/r/"):], (b"HTTP/1.1 404 Not Found\r\n\r\n", "close"))
            s.sendall(resp)
            if end == "rst":
                time.sleep(0.1)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if end == "close":
                return
            if end == "count-to-eof":
                n = len(buf)
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    n += len(d)
                s.sendall(b"got %d bytes" % n)
                return
    except OSError:
        pass
    finally:
        s.close()


def raw_main(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=raw_conn, args=(c,), daemon=True).start()


def ws_main(port):
    import websockets

    async def echo(ws, path=None):
        async for msg in ws:
            await ws.send(msg)

    async def run():
        async with websockets.serve(echo, "127.0.0.1", port):
            await asyncio.Future()

    asyncio.run(run())


if __name__ == "__main__":
    port = int(sys.argv[1])
    threading.Thread(target=ws_main, args=(port + 1,), daemon=True).start()
    threading.Thread(target=raw_main, args=(port + 2,), daemon=True).start()
    srv = Server(("127.0.0.1", port), Handler)
    print("READY", flush=True)
    srv.serve_forever()
