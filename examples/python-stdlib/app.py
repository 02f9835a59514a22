"""A podium / Hugging Face Spaces demo that needs only the Python standard library.

Listens on 0.0.0.0:$PORT (default 7860). The counter lives in /data when that
directory is writable (podium's persistent storage), in memory otherwise.
"""
import html
import json
import os
import platform
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "7860"))
DATA_DIR = os.environ.get("DATA_DIR", "/data")
COUNTER_FILE = os.path.join(DATA_DIR, "counter.json")
STARTED = time.time()

_lock = threading.Lock()
_memory_count = 0


def storage_writable():
    return os.path.isdir(DATA_DIR) and os.access(DATA_DIR, os.W_OK)


def read_count():
    if storage_writable():
        try:
            with open(COUNTER_FILE, encoding="utf-8") as f:
                return int(json.load(f).get("count", 0))
        except (OSError, ValueError):
            return 0
    return _memory_count


def bump_count():
    global _memory_count
    with _lock:
        n = read_count() + 1
        if storage_writable():
            tmp = COUNTER_FILE + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump({"count": n}, f)
            os.replace(tmp, COUNTER_FILE)
        else:
            _memory_count = n
        return n


def info():
    env = os.environ
    return {
        "space_id": env.get("SPACE_ID"),
        "space_host": env.get("SPACE_HOST"),
        "space_author_name": env.get("SPACE_AUTHOR_NAME"),
        "space_repo_name": env.get("SPACE_REPO_NAME"),
        "space_title": env.get("SPACE_TITLE"),
        "system": env.get("SYSTEM"),
        "port": env.get("PORT"),
        "listening_port": PORT,
        "cwd": os.getcwd(),
        "python": platform.python_version(),
        "persistent_storage": storage_writable(),
        "uptime_s": round(time.time() - STARTED, 3),
    }


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stdlib Counter</title>
<style>
 body {{ font-family: system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid;
        place-items: center; background: linear-gradient(135deg, #22c55e, #3b82f6); }}
 main {{ background: #fff; padding: 2rem 2.5rem; border-radius: 1rem; text-align: center;
        box-shadow: 0 15px 40px rgba(0,0,0,.2); }}
 .n {{ font-size: 4rem; font-weight: 700; margin: .5rem 0; }}
 button {{ font-size: 1.1rem; padding: .5rem 1.5rem; border: 0; border-radius: .5rem;
          background: #3b82f6; color: #fff; cursor: pointer; }}
 small {{ color: #6b7280; }}
</style></head>
<body><main>
 <h1>&#x1F40D; Stdlib Counter</h1>
 <p>Hello from <b>{space}</b>, a python space with no dependencies.</p>
 <div class="n" id="n">{count}</div>
 <button id="b">+1</button>
 <p><small>count kept in {where} &middot; <a href="/api/info">/api/info</a></small></p>
</main>
<script>
document.getElementById("b").onclick = async () => {{
  const r = await fetch("api/counter", {{method: "POST"}});
  document.getElementById("n").textContent = (await r.json()).count;
}};
</script>
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "stdlib-counter/1.0"
    protocol_version = "HTTP/1.1"

    def _send(self, code, body, ctype):
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _json(self, obj, code=200):
        self._send(code, json.dumps(obj) + "\n", "application/json")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            where = "/data (persistent)" if storage_writable() else "memory"
            space = html.escape(os.environ.get("SPACE_ID", "a local run"))
            self._send(200, PAGE.format(space=space, count=read_count(), where=where),
                       "text/html; charset=utf-8")
        elif path == "/api/info":
            self._json(info())
        elif path == "/api/counter":
            self._json({"count": read_count(), "persistent": storage_writable()})
        elif path == "/healthz":
            self._send(200, "ok\n", "text/plain")
        else:
            self._json({"error": "not found", "path": path}, 404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.split("?", 1)[0] == "/api/counter":
            self._json({"count": bump_count(), "persistent": storage_writable()})
        else:
            self._json({"error": "not found"}, 404)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    server.daemon_threads = True

    def stop(signum, frame):
        # shutdown() blocks until serve_forever returns, so call it off the main thread.
        print("received signal %d, shutting down" % signum, flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening on 0.0.0.0:%d" % PORT, flush=True)
    server.serve_forever()
    server.server_close()
    print("bye", flush=True)


if __name__ == "__main__":
    main()
