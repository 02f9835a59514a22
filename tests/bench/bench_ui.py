#!/usr/bin/env python3
"""Page weight and time to first byte of the hub's pages (issue 25's Measure, issue
21.2): the gallery with SPACES spaces (each with front matter, built), also at a
tenth of them, so that whether a page grows with the machine shows; a space page;
the Files tab of a 1000-file repository; a rendered 200 KB README.

For each page: the HTML's bytes; as sent to a browser (gzip past 8 KiB); what a
first visit transfers (that, and the pages' script, style and icon, gzip); TTFB as
median and p90 of RUNS requests (connect → first byte, one at a time, anonymous,
Accept-Encoding: gzip).

  /usr/bin/python3 tests/bench/bench_ui.py [--build build] [--spaces 1000] [--runs 30]
"""
import argparse
import base64
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import podium_helpers as ph  # noqa: E402
from bench_density import parallel  # noqa: E402
from bench_wake import p90, ttfb  # noqa: E402

OWNER = "bench"


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def create(d, name, files):
    r = d.api("POST", "/api/repos/create", json={
        "type": "space", "name": name, "sdk": "static",
        "organization": OWNER, "files": [{"path": p, "content": b64(c), "encoding": "base64"}
                                         for p, c in files.items()]})
    if r.status != 200:
        raise RuntimeError("create %s: %r" % (name, r))


def card(i):
    return {"README.md": ph.front_matter([
        "title: Space number %d" % i, "emoji: 🚀", "colorFrom: blue", "colorTo: green",
        "sdk: static", "short_description: a benchmark space, the %dth" % i,
        "tags: [bench, t%d]" % (i % 10)] + (["pinned: true"] if i % 97 == 0 else [])),
        "index.html": "<p>space %d</p>\n" % i}


def readme_200k():
    """200 KB of the Markdown READMEs have: headings, paragraphs, lists, tables, code."""
    parts, i = [], 0
    while sum(len(p) for p in parts) < 200 * 1024:
        parts.append("## Section %d\n\nSome *emphasis*, some **strong** text, a [link](https://example.org/%d)"
                     " and `code`. Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do"
                     " eiusmod tempor incididunt ut labore et dolore magna aliqua.\n\n"
                     "- one item\n- another item with `inline`\n- a third\n\n"
                     "| a | b | c |\n|---|---|---|\n| %d | x | y |\n\n"
                     "```python\ndef f(x):\n    return x * %d\n```\n\n" % (i, i, i, i))
        i += 1
    return ph.front_matter(["title: Big README", "sdk: static"], body="\n" + "".join(parts))


def wait_built(d, names, timeout=900):
    end = time.monotonic() + timeout
    left = set(names)
    while left and time.monotonic() < end:
        spaces = d.api("GET", "/api/spaces").json()
        left -= {s["id"].split("/", 1)[1] for s in spaces
                 if s["id"].startswith(OWNER + "/") and s["runtime"]["stage"] == "RUNNING"}
        time.sleep(1)
    if left:
        raise RuntimeError("%d spaces not RUNNING" % len(left))


def first_visit_bytes(d, html, sent):
    """What a browser gets (gzip): the HTML as sent, and the assets it links."""
    total = sent
    for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        r = ph.http_request(d.port, "GET", path, d.hub_host, headers={"Accept-Encoding": "gzip"})
        total += len(r.body)
    return total


def measure(d, label, path, runs):
    html = ph.http_request(d.port, "GET", path, d.hub_host, headers={"Accept": "text/html"})
    sent = ph.http_request(d.port, "GET", path, d.hub_host,
                           headers={"Accept": "text/html", "Accept-Encoding": "gzip"})
    if html.status != 200 or sent.status != 200:
        raise RuntimeError("%s: %r" % (path, html))
    times = []
    for _ in range(runs):
        t, status = ttfb(d.port, d.hub_host, path, "Accept-Encoding: gzip\r\n")
        if " 200 " not in status + " ":
            raise RuntimeError("%s: %s" % (path, status))
        times.append(t * 1000)
    row = (label, len(html.body), len(sent.body), first_visit_bytes(d, html.text, len(sent.body)),
           statistics.median(times), p90(times))
    print("%-40s %9d B %8d B %8d B %7.2f ms %7.2f ms" % row, flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("PODIUM_BUILD", os.path.join(ph.REPO_ROOT, "build")))
    ap.add_argument("--spaces", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    os.environ["PODIUM_BUILD"] = os.path.abspath(args.build)
    os.environ.setdefault("PODIUM_EGRESS", "off")
    d = ph.Daemon(build_dir=os.path.abspath(args.build))
    d.start()
    try:
        tenth = max(1, args.spaces // 10)
        print("creating %d spaces with front matter (built)..." % tenth, flush=True)
        parallel(lambda i: create(d, "s%04d" % i, card(i)), range(tenth), workers=4)
        wait_built(d, ["s%04d" % i for i in range(tenth)])
        header = "%-40s %11s %10s %10s %10s %10s" % ("page", "HTML", "sent", "1st visit", "TTFB p50",
                                                      "TTFB p90")
        print(header)
        small = measure(d, "gallery / with %d spaces" % tenth, "/", args.runs)
        print("creating %d more..." % (args.spaces - tenth), flush=True)
        parallel(lambda i: create(d, "s%04d" % i, card(i)), range(tenth, args.spaces), workers=4)
        wait_built(d, ["s%04d" % i for i in range(args.spaces)])
        files = {"f/%04d.txt" % i: "file %d\n" % i for i in range(1000)}
        files["README.md"] = ph.front_matter(["sdk: static"])
        files["index.html"] = "<p>many files</p>\n"
        create(d, "files1000", files)
        create(d, "readme200k", {"README.md": readme_200k(), "index.html": "<p>readme</p>\n"})
        for i in range(0, args.spaces, 7):
            d.api("POST", "/api/spaces/%s/s%04d/like" % (OWNER, i))
        root_files = {"%04d.txt" % i: "x\n" for i in range(1000)}
        root_files["README.md"] = ph.front_matter(["sdk: static"])
        root_files["index.html"] = "<p>flat</p>\n"
        create(d, "flat1000", root_files)
        wait_built(d, ["files1000", "readme200k", "flat1000"])
        print(header)
        rows = [
            measure(d, "gallery / with %d spaces" % args.spaces, "/", args.runs),
            measure(d, "gallery sorted by likes", "/?sort=likes", args.runs),
            measure(d, "gallery search 'number 5'", "/?search=number+5", args.runs),
            measure(d, "gallery tag t3, sdk static", "/?tag=t3&sdk=static", args.runs),
            measure(d, "gallery page 40", "/?p=40", args.runs),
            measure(d, "profile /bench", "/" + OWNER, args.runs),
            measure(d, "a space page", "/spaces/%s/s0500" % OWNER, args.runs),
            measure(d, "Files tab, 1000 files in its root", "/spaces/%s/flat1000/tree/main" % OWNER, args.runs),
            measure(d, "Files tab, a folder of 1000 files", "/spaces/%s/files1000/tree/main/f" % OWNER,
                    args.runs),
            measure(d, "space page with a 200 KB README", "/spaces/%s/readme200k" % OWNER, args.runs),
            measure(d, "README.md blob page (200 KB, rendered)",
                    "/spaces/%s/readme200k/blob/main/README.md" % OWNER, args.runs),
        ]
        print(json.dumps({"spaces": args.spaces, "gallery_small": small[4], "gallery_full": rows[0][4],
                          "rows": [list(r) for r in rows]}))
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    main()
