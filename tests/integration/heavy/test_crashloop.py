"""A crash loop, as Kubernetes' CrashLoopBackOff: the app is retried without end, each
delay twice the last (PODIUM_RESTART_BACKOFF_MS is the first), the stage is
RUNTIME_ERROR with the crash's reason while it waits, and the runtime says how many
restarts there were and when the next one is. A daemon restart resumes the wait
instead of replaying the loop."""
import datetime
import os
import time

import podium_helpers as ph

ADMIN = ph.ADMIN
BASE_MS = 400
MARKER = "looper-reason-3141"

LOOPER = """\
import sys, time
with open("/data/starts", "a") as f:
    f.write("%%f\\n" %% time.time())
print("looper: starting", flush=True)
time.sleep(0.2)
print("FATAL: %s", file=sys.stderr, flush=True)
sys.exit(3)
""" % MARKER


def iso_ms(s):
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return t.timestamp() * 1000


def starts(d):
    """Sandboxes the daemon started for looper, from its log (all starts of the
    daemon append to it). /data is the space's own filesystem, not readable from
    the host while the daemon is stopped, so the app's own count cannot be used."""
    try:
        with open(d.log_path, errors="replace") as f:
            return sum(1 for line in f if "started pid" in line and "/releases/admin/looper/" in line)
    except FileNotFoundError:
        return 0


def test_crash_loop_backs_off_and_survives_restart(make_daemon, monkeypatch):
    monkeypatch.setenv("PODIUM_RESTART_BACKOFF_MS", str(BASE_MS))
    d = make_daemon()
    d.create_space("looper", sdk="python")
    d.push(d.workdir_from(None, {
        "README.md": ph.front_matter(["title: Looper", "sdk: python", "app_file: app.py"]),
        "app.py": LOOPER}), ADMIN, "looper")

    # Watch the runtime through 5 crashes: more than the 4 starts that used to be final.
    retry_at = {}   # restarts -> nextRetryAt (ms)
    seen = []
    deadline = time.monotonic() + 120
    while len(retry_at) < 5 or max(retry_at) < 5:
        assert time.monotonic() < deadline, (seen[-5:], d.log_tail())
        rt = d.runtime(ADMIN, "looper")
        seen.append(rt)
        n = rt["restarts"]
        if n >= 1:
            # from the first crash on, the reason is visible, retries included
            assert MARKER in (rt.get("errorMessage") or ""), rt
            assert rt["stage"] in ("RUNTIME_ERROR", "APP_STARTING"), rt
        if rt["stage"] == "RUNTIME_ERROR":
            assert rt["nextRetryAt"], rt
            retry_at.setdefault(n, iso_ms(rt["nextRetryAt"]))
        time.sleep(0.05)
    assert any(r["stage"] == "RUNTIME_ERROR" for r in seen)
    # A retry waits its whole delay after the previous one: BASE, 2 BASE, 4 BASE, ...
    ks = sorted(k for k in retry_at if k - 1 in retry_at)
    assert len(ks) >= 3, retry_at
    for k in ks:
        assert retry_at[k] - retry_at[k - 1] >= BASE_MS * 2 ** (k - 1), (k, retry_at)
    gaps = [retry_at[k] - retry_at[k - 1] for k in ks]
    assert gaps[-1] > gaps[0], gaps

    # Restart the daemon during a long wait: the count and the wait are kept.
    rt = d.wait_until(lambda: (lambda r: r if r["stage"] == "RUNTIME_ERROR" and r["restarts"] >= 5
                               else None)(d.runtime(ADMIN, "looper")), "a wait after 5 restarts",
                      timeout=60, interval=0.05)
    restarts, next_at = rt["restarts"], iso_ms(rt["nextRetryAt"])
    before = starts(d)
    d.restart()
    rt = d.runtime(ADMIN, "looper")
    assert rt["restarts"] == restarts and rt["stage"] == "RUNTIME_ERROR", rt
    assert MARKER in (rt.get("errorMessage") or ""), rt
    assert iso_ms(rt["nextRetryAt"]) == next_at, rt
    # no start before the stored retry time (with a margin for clock granularity)
    while time.time() * 1000 < next_at - 300:
        assert starts(d) == before, "the app was started before its retry time"
        time.sleep(0.05)
    # ... and the loop goes on afterwards
    d.wait_until(lambda: d.runtime(ADMIN, "looper")["restarts"] > restarts, "the next retry",
                 timeout=60)
    assert starts(d) > before
