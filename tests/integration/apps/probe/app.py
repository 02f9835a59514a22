"""podium integration-test probe: stdlib only, listens on 0.0.0.0:$PORT."""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe_config.json")) as f:
    CONFIG = json.load(f)
VERSION = CONFIG.get("version", "v0")
PORT = int(os.environ.get("PORT", "7860"))


def try_read(path):
    try:
        with open(path, "rb") as f:
            return {"exists": True, "ok": True, "content": f.read(4096).decode("utf-8", "replace")}
    except OSError as e:
        return {"exists": os.path.lexists(path), "ok": False, "error": str(e)}


def try_write(path, value):
    try:
        with open(path, "w") as f:
            f.write(value)
        return {"ok": True}
    except OSError as e:
        return {"ok": False, "error": str(e)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send_body(self, code, body, ctype="application/json"):
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if u.path == "/":
            self.send_body(200, "probe %s\n" % VERSION, "text/plain")
        elif u.path == "/api/env":
            self.send_body(200, json.dumps({
                "version": VERSION,
                "env": dict(os.environ),
                "cwd": os.getcwd(),
                "file": os.path.abspath(__file__),
                "uid": os.getuid(),
                "port": PORT,
            }))
        elif u.path == "/api/read":
            self.send_body(200, json.dumps(try_read(q.get("path", ""))))
        elif u.path == "/api/write":
            self.send_body(200, json.dumps(try_write(q.get("path", ""), q.get("value", ""))))
        elif u.path == "/api/headers":
            self.send_body(200, json.dumps({k.lower(): v for k, v in self.headers.items()}))
        else:
            self.send_body(404, json.dumps({"error": "not found"}))

    def log_message(self, fmt, *args):
        pass


def main():
    delay = float(CONFIG.get("startup_delay", 0))
    print("probe %s starting (delay %.1fs) on port %d" % (VERSION, delay, PORT), flush=True)
    time.sleep(delay)
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM,
                  lambda s, f: threading.Thread(target=server.shutdown, daemon=True).start())
    print("probe %s listening" % VERSION, flush=True)
    server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
