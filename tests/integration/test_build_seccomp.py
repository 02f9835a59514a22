"""System calls in builds (issue 22.5): a call a sandbox must refuse but programs
probe (fanotify_init: TypeScript 7's file watcher tries it before inotify) is
answered EPERM and the build goes on; a call that is killed (a foreign ABI: an x32
number) names itself in the build error, as it does for apps."""
import platform

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

# x86-64 numbers: fanotify_init is 300, getpid 39; x32 numbers have bit 30 set
PROBE = r'''
import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
what = sys.argv[1]
nr = {"fanotify_init": 300, "x32_getpid": 0x40000000 | 39}[what]
r = libc.syscall(nr, 0, 0)
e = ctypes.get_errno()
line = "%s -> %d %s" % (what, r, errno.errorcode.get(e, str(e)) if r < 0 else "ok")
print(line, flush=True)
open("index.html", "w").write(line + "\n")
'''


@pytest.fixture(autouse=True)
def x86_64():
    if platform.machine() != "x86_64":
        pytest.skip("the probe uses x86-64 system call numbers")


def build_with(podium, name, call):
    files = {"README.md": ph.front_matter(["title: seccomp", "sdk: static",
                                           "app_build_command: python3 probe.py " + call]),
             "probe.py": PROBE}
    podium.create_space(name, sdk="static")
    wd = podium.workdir_from(None, files)
    podium.push(wd, ADMIN, name)


def test_a_probed_call_is_refused_and_the_build_goes_on(podium):
    build_with(podium, "probefan", "fanotify_init")
    podium.wait_stage(ADMIN, "probefan", "RUNNING")
    r = podium.get_app(ADMIN, "probefan", "/")
    assert r.status == 200 and r.text.strip() == "fanotify_init -> -1 EPERM", r
    log = podium.api("GET", "/api/spaces/admin/probefan/logs/build").text
    assert "fanotify_init -> -1 EPERM" in log, log


def test_a_killed_call_is_named_in_the_build_error(podium):
    build_with(podium, "probex32", "x32_getpid")
    podium.wait_stage(ADMIN, "probex32", "BUILD_ERROR")
    err = podium.runtime(ADMIN, "probex32")["errorMessage"]
    assert "blocked system call x32:getpid (seccomp)" in err, err
    assert "app_build_command" in err, err
