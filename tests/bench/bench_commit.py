#!/usr/bin/env python3
"""The daemon's memory while the commit API takes big files (issue 22 item 2).

Starts its own daemon and sends NDJSON commits (the Hub's commit API, as
huggingface_hub's create_commit sends them) of one --mb MiB file of random bytes
each, base64-encoded, streamed from disk so the client holds no body: first one
commit alone, then --parallel commits at once to as many spaces. For each round
it resets the daemon's peak RSS (/proc/PID/clear_refs, 5) and prints the RSS
before, VmHWM (the kernel's peak) during, and the RSS after.

  /usr/bin/python3 tests/bench/bench_commit.py [--build build] [--mb 100] [--parallel 4]
"""
import argparse
import base64
import http.client
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import podium_helpers as ph  # noqa: E402

# the bench's daemon leaves the host's network alone (no bridge, no nftables)
os.environ.setdefault("PODIUM_EGRESS", "off")

CHUNK = 3 << 20  # raw bytes per base64 piece: a multiple of 3, no padding inside


def random_file(path, mb):
    with open(path, "wb") as f:
        for _ in range(mb):
            f.write(os.urandom(1 << 20))


class NdjsonBody:
    """The commit body, read from the file piece by piece: header line, then one
    "file" line whose content is the file in base64."""

    def __init__(self, path, name):
        self.path, self.name = path, name
        size = os.path.getsize(path)
        self.head = (json.dumps({"key": "header", "value": {"summary": "big", "description": ""}})
                     + "\n" + '{"key": "file", "value": {"content": "').encode()
        self.tail = ('", "path": "%s", "encoding": "base64"}}\n' % name).encode()
        self.length = len(self.head) + (size + 2) // 3 * 4 + len(self.tail)

    def __iter__(self):
        yield self.head
        with open(self.path, "rb") as f:
            while True:
                raw = f.read(CHUNK)
                if not raw:
                    break
                yield base64.b64encode(raw)
        yield self.tail


def send_commit(d, name, path, out, i):
    body = NdjsonBody(path, "big.bin")
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=600)
    try:
        c.putrequest("POST", "/api/spaces/%s/%s/commit/main" % (ph.ADMIN, name), skip_host=True,
                     skip_accept_encoding=True)
        for k, v in (("Host", d.hub_host), ("Authorization", "Bearer " + d.token),
                     ("Content-Type", "application/x-ndjson"),
                     ("Content-Length", str(body.length))):
            c.putheader(k, v)
        c.endheaders()
        for piece in body:
            c.send(piece)
        r = c.getresponse()
        out[i] = (r.status, r.read())
    except OSError as e:
        out[i] = (0, str(e).encode())
    finally:
        c.close()


def reset_peak(pid):
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")  # resets VmHWM to the current RSS


def round_of(d, names, path):
    pid = d.proc.pid
    time.sleep(1.0)
    before = ph.proc_status_kb(pid, "VmRSS")
    reset_peak(pid)
    out = [None] * len(names)
    t0 = time.monotonic()
    ts = [threading.Thread(target=send_commit, args=(d, n, path, out, i)) for i, n in enumerate(names)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    secs = time.monotonic() - t0
    hwm = ph.proc_status_kb(pid, "VmHWM")
    bad = [(n, o) for n, o in zip(names, out) if o is None or o[0] != 200]
    if bad:
        raise SystemExit("bench-commit: commits failed: %r" % [(n, o[0] if o else None, (o[1] if o else b"")[:200]) for n, o in bad])
    time.sleep(2.0)
    after = ph.proc_status_kb(pid, "VmRSS")
    return before, hwm, after, secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ph.REPO_ROOT, "build"))
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--parallel", type=int, default=4)
    a = ap.parse_args()
    d = ph.Daemon(build_dir=os.path.abspath(a.build))
    tmp = tempfile.mkdtemp(prefix="bench-commit-")
    path = os.path.join(tmp, "big.bin")
    try:
        random_file(path, a.mb)
        d.start()
        names = ["bench-c%d" % i for i in range(max(1, a.parallel))]
        for n in names:
            d.create_space(n, sdk="static")
        print("bench-commit: NDJSON commits of one %d MiB file (%d MiB base64) each"
              % (a.mb, (a.mb * 4 + 2) // 3))
        for label, group in (("1 commit", names[:1]), ("%d at once" % len(names), names)):
            before, hwm, after, secs = round_of(d, group, path)
            print("  %-10s in %5.1f s: daemon RSS before %6.1f MiB, peak (VmHWM) %6.1f MiB "
                  "(growth %+.1f MiB), after %6.1f MiB"
                  % (label, secs, before / 1024, hwm / 1024, (hwm - before) / 1024, after / 1024))
    finally:
        d.stop()
        d.cleanup()
        os.unlink(path)
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
