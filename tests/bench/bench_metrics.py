#!/usr/bin/python3
"""GET /metrics time and size with many spaces: creates N spaces (default 500) on a
fresh daemon, deploys a few apps among them, then times GET /metrics.

    /usr/bin/python3 tests/bench/bench_metrics.py --build build [--spaces 500] [--apps 3]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import podium_helpers as ph  # noqa: E402

APP = ("import os\nfrom http.server import *\nclass H(BaseHTTPRequestHandler):\n"
       "    def do_GET(self):\n        self.send_response(200); self.send_header('Content-Length','2');"
       " self.end_headers(); self.wfile.write(b'ok')\n"
       "ThreadingHTTPServer(('0.0.0.0', int(os.environ['PORT'])), H).serve_forever()\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ph.REPO_ROOT, "build"))
    ap.add_argument("--spaces", type=int, default=500)
    ap.add_argument("--apps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=20)
    a = ap.parse_args()
    d = ph.Daemon(build_dir=a.build)
    d.start()
    try:
        for i in range(a.apps):
            d.deploy(None, "app%d" % i, sdk="python",
                     files={"README.md": ph.front_matter(["sdk: python", "app_file: app.py"]),
                            "app.py": APP})
            for _ in range(20):
                d.get_app(ph.ADMIN, "app%d" % i)
        for i in range(a.spaces - a.apps):
            d.create_space("s%04d" % i)
        times, size = [], 0
        for _ in range(a.rounds):
            t = time.perf_counter()
            r = d.api("GET", "/metrics")
            times.append((time.perf_counter() - t) * 1000)
            assert r.status == 200, r
            size = len(r.body)
        lines = r.body.count(b"\n")
        print("spaces %d (apps running %d): GET /metrics %d bytes, %d lines; "
              "median %.1f ms, min %.1f ms, max %.1f ms over %d rounds"
              % (a.spaces, a.apps, size, lines, statistics.median(times), min(times), max(times),
                 a.rounds))
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    main()
