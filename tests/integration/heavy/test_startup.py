"""Startup does not wait for the apps: with many python apps to bring back, the hub
and a static space answer as soon as the daemon listens, while the apps start in the
background (a bounded number at a time) and all come up."""
import os
import subprocess
import threading
import time

import podium_helpers as ph

ADMIN = ph.ADMIN
APPS = int(os.environ.get("PODIUM_STARTUP_APPS", "40"))

APP = """\
import os
from http.server import HTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"app %s")
    def log_message(self, *a):
        pass
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def sandboxes(d):
    out = subprocess.run(["pgrep", "-f", "podium-sandbox.*%s" % d.data_dir], capture_output=True,
                         text=True).stdout
    return len(out.split())


def test_static_space_answers_while_apps_start(make_daemon):
    d = make_daemon()
    names = ["app-%02d" % i for i in range(APPS)]
    for name in names:
        d.create_space(name, sdk="python")
        d.push(d.workdir_from(None, {
            "README.md": ph.front_matter(["sdk: python", "app_file: app.py"]),
            "app.py": APP % name}), ADMIN, name)
    # the static space comes last: it is not brought back before the apps either
    d.deploy(None, "site", files={"README.md": ph.front_matter(["sdk: static"]),
                                  "index.html": "<p>static at once</p>\n"})
    for name in names:
        d.wait_stage(ADMIN, name, "RUNNING", timeout=300)
    assert d.stop() == 0, d.log_tail()

    # Poll the static space from the moment the daemon is started.
    answered = []
    stop = threading.Event()

    def poll():
        while not stop.is_set() and not answered:
            try:
                r = d.get_app(ADMIN, "site", timeout=30)
                if r.status == 200 and b"static at once" in r.body:
                    answered.append((time.monotonic(), sandboxes(d)))
            except OSError:
                time.sleep(0.01)

    t0 = time.monotonic()
    poller = threading.Thread(target=poll)
    poller.start()
    try:
        d.start()
        print("start() returned after %.2f s" % (time.monotonic() - t0))
        d.wait_until(lambda: answered, "the static space", timeout=60, interval=0.01)
    finally:
        stop.set()
        poller.join(60)
    waited, spawned = answered[0][0] - t0, answered[0][1]
    up = sum(d.runtime(ADMIN, n)["stage"] == "RUNNING" for n in names)
    deadline = time.monotonic() + 300
    pending = set(names)
    while pending:
        assert time.monotonic() < deadline, "apps not RUNNING: %s\n%s" % (sorted(pending), d.log_tail())
        pending = {n for n in pending if d.runtime(ADMIN, n)["stage"] != "RUNNING"}
        time.sleep(0.05)
    steady = sandboxes(d)
    print("static space answered %.2f s after the start, with %d sandbox processes of %d "
          "(%d of %d apps RUNNING just after)" % (waited, spawned, steady, up, APPS))
    # It did not wait for the apps (counted, not timed: a busy machine slows both
    # alike): when it first answered, fewer than half the sandboxes had been spawned.
    assert spawned < steady / 2, (spawned, steady)
    for name in names:
        r = d.get_app(ADMIN, name)
        assert r.status == 200 and r.body == ("app %s" % name).encode(), (name, r)
