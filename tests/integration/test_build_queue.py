"""Pushes to many spaces at once: builds wait for a slot (at most one per CPU, at
least two, at a time) instead of all running together, and every one completes."""
import os
import subprocess
import threading
import time

import podium_helpers as ph

ADMIN = ph.ADMIN
MARK = "2.4689"  # a distinctive sleep, to find the build steps in the process list


def descends_from(pid, ancestor):
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
    return False


def running_steps(daemon_pid):
    """Build steps of this daemon only (other daemons may run the same test)."""
    out = subprocess.run(["pgrep", "-f", "^sleep %s$" % MARK], capture_output=True, text=True).stdout
    return sum(1 for pid in out.split() if descends_from(int(pid), daemon_pid))


def test_builds_wait_for_a_slot(podium):
    slots = max(2, os.cpu_count() or 1)
    n = slots + 2
    names = ["queued-%d" % i for i in range(n)]
    for name in names:
        podium.create_space(name, sdk="static")
    workdirs = [podium.workdir_from(None, {
        "README.md": ph.front_matter(["sdk: static", "app_build_command: sleep %s" % MARK]),
        "index.html": "<p>%s</p>\n" % name}) for name in names]
    peak = [0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], running_steps(podium.proc.pid))
            time.sleep(0.02)

    w = threading.Thread(target=watch)
    w.start()
    try:
        pushers = [threading.Thread(target=podium.push, args=(wd, ADMIN, name))
                   for wd, name in zip(workdirs, names)]
        for t in pushers:
            t.start()
        for t in pushers:
            t.join()
        for name in names:
            podium.wait_stage(ADMIN, name, "RUNNING", timeout=120)
    finally:
        stop.set()
        w.join()
    assert 1 <= peak[0] <= slots, "saw %d builds at once with %d slots" % (peak[0], slots)
    waited = 0
    for name in names:
        r = podium.get_app(ADMIN, name)
        assert r.status == 200 and name.encode() in r.body, r
        log = ph.http_request(podium.port, "GET", "/api/spaces/admin/%s/logs/build" % name,
                              podium.hub_host).body
        waited += b"waiting for a build slot" in log
    assert waited >= n - slots, "queued builds should say so in their log (%d did)" % waited
