"""The lab's "internet" (run as a process of its own by images/lab.py).

    python3 fake_internet.py --netns /run/netns/INET --addr 198.51.100.80 \
        [--index DIR] [--relay deb.debian.org] [--alias mirror.lab=deb.debian.org]

Its sockets are made inside the lab's INET network namespace (the only thing the
boxes' egress can reach), then the process goes back to the namespace it was
started in, so every connection it makes itself (the relay's) leaves from there:

- DNS (UDP) on ADDR:53: fake.example, pypi.lab and every --relay host resolve to
  ADDR (A); AAAA is an empty answer (boxes are IPv4 only); anything else NXDOMAIN.
- HTTP on 0.0.0.0:80 (every address of the namespace), by Host:
  * a --relay host (Debian's archive), or an --alias of one (an "apt mirror"
    with a name of its own, relayed to the host it stands for): GET/HEAD of /debian/... and
    /debian-security/... are relayed, streamed, to that host (resolved here, on
    the machine's own network): apt-get in a build reaches the real archive through
    podium's egress, its NAT and DNS forwarder, and never anything else;
  * pypi.lab: the files of --index (a PEP 503 simple index and its wheels);
  * anything else: "fake-internet ADDRESS" (ADDRESS: the local address the client
    reached), as in tests/integration/heavy/test_egress.py.
- Every request is one JSON line on stdout ({"host", "path", "status"}), so tests can
  see what builds fetched; the first line is "ready".
"""
import argparse
import ctypes
import http.client
import json
import os
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLONE_NEWNET = 0x40000000
RELAY_PREFIXES = ("/debian/", "/debian-security/")
_libc = ctypes.CDLL(None, use_errno=True)
_out_lock = threading.Lock()


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def emit(obj):
    with _out_lock:
        sys.stdout.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
        sys.stdout.flush()


def dns_server(sock, names, addr):
    while True:
        try:
            q, peer = sock.recvfrom(512)
        except OSError:
            return
        try:
            i, labels = 12, []
            while q[i]:
                labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
                i += 1 + q[i]
            question = q[12:i + 5]
            name = ".".join(labels).lower().rstrip(".")
            qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
        except (IndexError, struct.error):
            continue
        if name in names and qtype == 1:
            ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
            reply = q[:2] + b"\x81\x80" + struct.pack("!HHHH", 1, 1, 0, 0) + question + ans
        else:
            rcode = b"\x81\x80" if name in names else b"\x81\x83"
            reply = q[:2] + rcode + struct.pack("!HHHH", 1, 0, 0, 0) + question
        emit({"dns": name, "qtype": qtype, "found": name in names})
        sock.sendto(reply, peer)


def make_handler(opts, upstream_addrs):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _host(self):
            return (self.headers.get("Host") or "").split(":")[0].lower()

        def _send(self, status, body, ctype="text/plain"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _relay(self, host):
            if not self.path.startswith(RELAY_PREFIXES) or ".." in self.path:
                self._send(403, b"not relayed\n")
                return 403
            upstream, addr = upstream_addrs[host]
            conn = http.client.HTTPConnection(addr, 80, timeout=60)
            try:
                conn.request(self.command, self.path, headers={
                    "Host": upstream, "User-Agent": self.headers.get("User-Agent", "podium-lab"),
                    "Accept": "*/*"})
                r = conn.getresponse()
                self.send_response(r.status)
                length = r.getheader("Content-Length")
                for k in ("Content-Type", "Content-Length", "Last-Modified", "ETag"):
                    if r.getheader(k) is not None:
                        self.send_header(k, r.getheader(k))
                if length is None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if self.command != "HEAD":
                    while True:
                        chunk = r.read(65536)
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                return r.status
            finally:
                conn.close()

        def _index(self):
            root = os.path.realpath(opts.index)
            p = os.path.realpath(os.path.join(root, self.path.split("?")[0].lstrip("/")))
            if not p.startswith(root + os.sep) and p != root:
                self._send(404, b"no\n")
                return 404
            if os.path.isdir(p):
                p = os.path.join(p, "index.html")
            if not os.path.isfile(p):
                self._send(404, b"not found\n")
                return 404
            with open(p, "rb") as f:
                body = f.read()
            ctype = "text/html" if p.endswith(".html") else "application/octet-stream"
            self._send(200, body, ctype)
            return 200

        def do_GET(self):
            host = self._host()
            status = 200
            try:
                if host in upstream_addrs:
                    status = self._relay(host)
                elif host == "pypi.lab" and opts.index:
                    status = self._index()
                else:
                    body = ("fake-internet %s" % self.connection.getsockname()[0]).encode()
                    self._send(200, body)
            except (OSError, http.client.HTTPException) as e:
                status = "error %r" % e
                self.close_connection = True
            emit({"host": host, "path": self.path, "method": self.command, "status": status})

        do_HEAD = do_GET

    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netns", required=True)
    ap.add_argument("--addr", required=True)
    ap.add_argument("--index")
    ap.add_argument("--relay", action="append", default=[])
    ap.add_argument("--alias", action="append", default=[])
    args = ap.parse_args()

    # Resolved here, on the machine's own network, as apt-get on the host would.
    upstream_addrs = {}
    for host in args.relay:
        upstream_addrs[host] = (host, socket.getaddrinfo(host, 80, socket.AF_INET,
                                                         socket.SOCK_STREAM)[0][4][0])
    for a in args.alias:
        name, target = a.split("=", 1)
        upstream_addrs[name] = upstream_addrs[target]

    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    with open(args.netns) as f:
        setns(f.fileno())
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((args.addr, 53))
    http_server = ThreadingHTTPServer(("0.0.0.0", 80), make_handler(args, upstream_addrs))
    setns(own)
    os.close(own)

    names = {"fake.example", "pypi.lab"} | set(upstream_addrs)
    threading.Thread(target=dns_server, args=(udp, names, args.addr), daemon=True).start()
    http_server.daemon_threads = True
    emit("ready")
    http_server.serve_forever()


if __name__ == "__main__":
    main()
