"""The browser tests' app: a page, a line in the log per request, and /attack:
a page on the app's host that posts a form to the hub (it must do nothing)."""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUB = os.environ.get("HUB_URL", "")


class H(BaseHTTPRequestHandler):
    def do_GET(self):
        print("podium-ui-test request %s" % self.path, flush=True)
        if self.path.startswith("/attack"):
            target = self.path.split("target=", 1)[1] if "target=" in self.path else ""
            body = ('<!doctype html><form id="f" method="post" action="%s">'
                    '<input name="x" value="1"></form><script>document.getElementById("f").submit()'
                    '</script>' % target.replace('"', ""))
        else:
            body = "<!doctype html><h1 id=hello>hello from the app</h1>"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


print("podium-ui-test app starting", flush=True)
sys.stdout.flush()
ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "7860"))), H).serve_forever()
