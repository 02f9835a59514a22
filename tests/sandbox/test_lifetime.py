"""A box never outlives its launcher: kill -9 of the launcher takes down init
and everything in the box's pid namespace, detached children included, at
any moment of the box's life.  Also the --info-fd line's cgroup directories."""
import json
import os
import random
import signal
import subprocess
import time

from conftest import SANDBOX

UNPRIV = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]


def marked(mark):
    """Host pids whose command line mentions mark (the launcher's clone, init,
    keeps the launcher's argv, so it is found too)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if mark.encode() in f.read():
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def wait_until(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def box_with_detached_child(mark, prefix=(), opts=()):
    # The command starts a detached grandchild (new session, parent gone: it
    # is re-parented to the box's init) and then sleeps itself.
    script = (f"setsid sh -c 'sleep {mark}1 & exit 0'; echo up; exec sleep {mark}2")
    return subprocess.Popen([*prefix, SANDBOX, *opts, "--uid", "1000", "--",
                             "/bin/sh", "-c", script],
                            stdout=subprocess.PIPE, text=True, cwd="/tmp")


def kill_leftovers(mark):
    for pid in marked(mark):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def check_dies_with_launcher(prefix=(), opts=()):
    mark = str(random.randint(10**8, 10**9 - 1))
    p = box_with_detached_child(mark, prefix, opts)
    try:
        assert p.stdout.readline().strip() == "up"
        # Control: the box's processes are alive before the kill: the launcher,
        # init, the command and the detached grandchild.
        assert wait_until(lambda: len(marked(mark)) >= 4), marked(mark)
        assert wait_until(lambda: len(marked(f"sleep\0{mark}1")) == 1), "detached child missing"
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        assert wait_until(lambda: marked(mark) == [], timeout=10), \
            f"box outlived its launcher: {marked(mark)}"
    finally:
        kill_leftovers(mark)
        p.kill()
        p.wait()


def test_box_dies_with_launcher():
    check_dies_with_launcher()


def test_box_with_cgroups_dies_with_launcher():
    check_dies_with_launcher(opts=("--memory", str(256 << 20), "--pids", "64", "--cpus", "0.5"))


def test_unprivileged_box_dies_with_launcher():
    check_dies_with_launcher(prefix=UNPRIV)


def test_launcher_killed_during_startup_leaves_nothing():
    # Kill the launcher at random moments of the box's startup (id maps,
    # cgroups, filesystem, the command's preparation); nothing may stay.
    mark = str(random.randint(10**8, 10**9 - 1))
    try:
        for i in range(30):
            p = subprocess.Popen([SANDBOX, "--memory", str(256 << 20), "--pids", "64", "--",
                                  "/bin/sleep", f"{mark}{i}"], cwd="/tmp")
            time.sleep(random.uniform(0, 0.012))
            p.kill()
            p.wait(timeout=10)
        assert wait_until(lambda: marked(mark) == [], timeout=10), marked(mark)
        # Control: left alone, the same box does run its command.
        p = subprocess.Popen([SANDBOX, "--memory", str(256 << 20), "--pids", "64", "--",
                              "/bin/sleep", f"{mark}99"], cwd="/tmp")
        try:
            assert wait_until(lambda: any(open(f"/proc/{q}/comm").read().strip() == "sleep"
                                          for q in marked(mark + "99") if os.path.exists(f"/proc/{q}")))
        finally:
            p.kill()
            p.wait()
        assert wait_until(lambda: marked(mark) == [], timeout=10), marked(mark)
    finally:
        kill_leftovers(mark)


def test_info_fd_names_the_box_cgroups():
    # A supervisor kills a box by its cgroup: the info line names the
    # directories, and every process of the box is in them.
    r, w = os.pipe()
    p = subprocess.Popen([SANDBOX, "--info-fd", str(w), "--memory", str(256 << 20), "--pids", "64",
                          "--", "/bin/sh", "-c", "setsid sleep 30 & echo up; exec sleep 31"],
                         stdout=subprocess.PIPE, text=True, pass_fds=(w,), cwd="/tmp")
    os.close(w)
    try:
        with os.fdopen(r) as f:
            info = json.loads(f.readline())
        assert p.stdout.readline().strip() == "up"
        assert info["cgroup_version"] in (1, 2) and info["cgroups"], info
        for d in info["cgroups"]:
            assert os.path.basename(d) == f"podium-sandbox.{p.pid}", info
            with open(os.path.join(d, "cgroup.procs")) as f:
                procs = {int(x) for x in f.read().split()}
            assert info["pid"] in procs and len(procs) >= 3, (d, procs)
    finally:
        p.kill()
        p.wait()
    # Without limits there is no cgroup to name.
    r, w = os.pipe()
    p = subprocess.run([SANDBOX, "--info-fd", str(w), "--", "/bin/true"], pass_fds=(w,), timeout=30)
    os.close(w)
    with os.fdopen(r) as f:
        info = json.loads(f.readline())
    assert "cgroups" not in info and info["pid"] > 0
