"""Issue 21.1: every write a build makes lands in space the kernel bounds. A space's
releases and build cache are a filesystem of its own (limits.build_disk): a build that
writes past it fails with a BUILD_ERROR naming the limit, and the host's disk holds no
more than that; the releases kept for rollback and the cache count; a file past
limits.build_file (RLIMIT_FSIZE, /tmp included) stops the step, named; a build log
keeps at most 16 MiB. Controls: the same command outside the sandbox writes all it
asks, a build within the limits succeeds, and another tenant builds at the same time."""
import os
import subprocess

import pytest

import podium_helpers as ph
from tenants import tenants

MIB = 1 << 20
CONFIG = "limits:\n  build_disk: 64Mi\n  build_file: 24Mi\n  builds_per_user: 2\n"


def need_loop_devices():
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no /dev/loop-control on this host: build disks cannot be filesystems "
                    "of their own")


@pytest.fixture(scope="module")
def d():
    need_loop_devices()
    with ph.own_daemon(config=CONFIG) as d:
        d.bob, d.alice = tenants(d, "disk-bob", "disk-alice")
        yield d
        data_dir = d.data_dir
    assert ph.mounts_under(data_dir) == [], ph.mounts_under(data_dir)


def card(cmd):
    return {"README.md": ph.front_matter(["sdk: static", "app_build_command: \"%s\"" % cmd]),
            "index.html": "<p>ok</p>\n"}


def build(d, owner, tok, name, cmd, wd=None, wait=None):
    if wd is None:
        d.create_space(name, token=tok)
        wd = d.workdir_from(None, card(cmd))
    else:
        ph.write_files(wd, card(cmd))
    d.push(wd, owner, name, token=tok)
    if wait is not None:
        return d.wait_stage(owner, name, wait, token=tok, timeout=240), wd
    return None, wd


def image_bytes(d, owner, name):
    """What the build disk takes of the host's disk."""
    st = os.stat(os.path.join(d.data_dir, "releases", owner, name + ".img"))
    return st.st_blocks * 512


def test_a_build_cannot_fill_the_host_disk(d):
    # control: the command itself writes all it asks, outside the sandbox
    out = os.path.join(d.workdir, "control.bin")
    subprocess.run(["dd", "if=/dev/zero", "of=" + out, "bs=1M", "count=150"], check=True,
                   capture_output=True)
    assert os.path.getsize(out) == 150 * MIB
    os.unlink(out)
    # another tenant builds meanwhile, within its limits
    build(d, "disk-alice", d.alice, "neighbour", "dd if=/dev/zero of=ok.bin bs=1M count=16")
    # 150 MiB in files under limits.build_file
    rt, _ = build(d, "disk-bob", d.bob, "filler", "for i in 1 2 3 4 5 6 7 8 9 10; do dd "
                  "if=/dev/zero of=big$i.bin bs=1M count=15 || exit 1; done", wait="BUILD_ERROR")
    assert "build disk is full" in rt["errorMessage"], rt
    assert "limits.build_disk is 64 MiB" in rt["errorMessage"], rt
    assert image_bytes(d, "disk-bob", "filler") <= 64 * MIB, image_bytes(d, "disk-bob", "filler")
    rt = d.wait_stage("disk-alice", "neighbour", "RUNNING", token=d.alice)
    assert d.get_app("disk-alice", "neighbour").status == 200
    # the build disk is a mount of its own, the failed release gone from it
    rel = os.path.join(d.data_dir, "releases", "disk-bob", "filler")
    assert rel in ph.mounts_under(d.data_dir)
    assert [e for e in os.listdir(rel) if e.isdigit()] == []


def test_the_build_cache_counts(d):
    rt, _ = build(d, "disk-bob", d.bob, "cacher", "for i in 1 2 3 4 5 6 7 8 9 10; do dd "
                  "if=/dev/zero of=/cache/junk$i bs=1M count=15 || exit 1; done", wait="BUILD_ERROR")
    assert "limits.build_disk" in rt["errorMessage"], rt
    assert image_bytes(d, "disk-bob", "cacher") <= 64 * MIB


def test_kept_releases_count(d):
    """Releases of 16 MiB: the ones kept for rollback fill the 64 MiB disk (54 MiB for files) by the fourth."""
    wd = None
    for i in range(3):
        rt, wd = build(d, "disk-bob", d.bob, "keeper",
                       "dd if=/dev/zero of=r%d.bin bs=1M count=16" % i, wd=wd, wait="RUNNING")
        d.wait_until(lambda i=i: len(ph.ok_releases(d, "disk-bob", "keeper")) == i + 1,
                     "release %d is kept" % i)
    build(d, "disk-bob", d.bob, "keeper", "dd if=/dev/zero of=r3.bin bs=1M count=16", wd=wd)
    d.wait_until(lambda: "limits.build_disk" in (d.runtime(
        "disk-bob", "keeper", token=d.bob).get("errorMessage") or ""), "the fourth fails", timeout=240)
    # the third keeps serving
    assert d.runtime("disk-bob", "keeper", token=d.bob)["stage"] == "RUNNING"
    assert d.get_app("disk-bob", "keeper").status == 200


def test_a_file_past_build_file_stops_the_step(d):
    # /tmp is memory, not the build disk: RLIMIT_FSIZE bounds it (limits.build_file)
    rt, _ = build(d, "disk-bob", d.bob, "tmpfile",
                  "dd if=/dev/zero of=/tmp/big bs=1M count=100", wait="BUILD_ERROR")
    assert "limits.build_file, 24 MiB" in rt["errorMessage"], rt
    # control: below it
    rt, _ = build(d, "disk-bob", d.bob, "tmpsmall",
                  "dd if=/dev/zero of=/tmp/small bs=1M count=16", wait="RUNNING")


def test_build_log_is_bounded(d):
    rt, _ = build(d, "disk-bob", d.bob, "chatty", "yes podium | head -c 40000000",
                  wait="RUNNING")
    log = os.path.join(d.data_dir, "logs", "disk-bob", "chatty", "build.log")
    assert os.path.getsize(log) <= 17 * MIB, os.path.getsize(log)
    r = d.api("GET", "/api/spaces/disk-bob/chatty/logs/build", token=d.bob)
    assert b"the build log is cut here" in r.body and b"==> OK" in r.body, r.body[-300:]
