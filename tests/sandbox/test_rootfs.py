"""--rootfs (an image's layers as the box's root) and --engine-userns (a container
engine's launcher), without any engine: the layers are made here, as
containers/storage lays them out (directories whose files belong to the build id
range), and the "engine" is a shell.

Needs root and idmapped mounts usable as overlay lower layers (Linux 5.19);
each is checked with a positive control and skipped with the reason otherwise.
"""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import SANDBOX, probe, run_box

BUILD = 134217728          # the layers' on-disk id base (podium's build range)
RANGE = 268435456 + 77 * 65536   # the box's other ids (a space's range)
HOST_UID = 200077          # the app's host uid (inside 1000)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="--rootfs and the engine need root")


def _own(path, uid, gid=None):
    os.lchown(path, BUILD + uid, BUILD + (uid if gid is None else gid))


def _file(root, rel, text, uid=0, mode=0o644):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, mode)
    _own(p, uid)


def _dir(root, rel, uid=0, mode=0o755):
    p = os.path.join(root, rel)
    os.makedirs(p, exist_ok=True)
    os.chmod(p, mode)
    _own(p, uid)


@pytest.fixture(scope="module")
def layers():
    """Two layers, top first: the bottom one a tiny root (the host's /usr is
    bound over its usr/ for the tools), the top one changing a file."""
    tmp = tempfile.mkdtemp(prefix="podium-rootfs-")
    os.chmod(tmp, 0o700)   # as a data dir under /root: only the launcher reaches it
    bottom, top = os.path.join(tmp, "bottom"), os.path.join(tmp, "top")
    for d in ("", "usr", "etc", "home", "tmp", "proc", "dev", "var", "data"):
        _dir(bottom, d)
    for name in ("bin", "sbin", "lib", "lib64"):
        if os.path.islink("/" + name):
            os.symlink(os.readlink("/" + name), os.path.join(bottom, name))
            os.lchown(os.path.join(bottom, name), BUILD, BUILD)
    _file(bottom, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/sh\n")
    _file(bottom, "etc/group", "root:x:0:\nwww-data:x:33:\n")
    _file(bottom, "etc/rootfile", "bottom\n")
    _file(bottom, "etc/www", "www\n", uid=33)
    _dir(bottom, "home/user", uid=1000)
    _file(bottom, "home/user/mine", "mine\n", uid=1000)
    _dir(top, "")
    _dir(top, "etc")
    _file(top, "etc/rootfile", "top\n")
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    os.chown(data, HOST_UID, HOST_UID)
    yield {"tmp": tmp, "top": top, "bottom": bottom, "data": data}
    shutil.rmtree(tmp, ignore_errors=True)


def box(layers, cmd, extra=(), **kw):
    return run_box(cmd, ["--rootfs", "%s:%s" % (layers["top"], layers["bottom"]),
                         "--rootfs-ids", str(BUILD), "--id-range", str(RANGE),
                         "--host-uid", str(HOST_UID), "--host-gid", str(HOST_UID),
                         "--ro-bind", "/usr", "/usr", "--bind", layers["data"], "/data",
                         *extra], **kw)


@pytest.fixture(scope="module")
def rootfs_ok(layers):
    """Positive control: the box starts on the layers at all (else why not)."""
    r = box(layers, ["/bin/true"])
    if r.rc == 125 and ("idmapped" in r.err or "overlay" in r.err):
        pytest.skip("this kernel cannot use idmapped layers as overlay lowers: %s" % r.err.strip())
    assert r.rc == 0, r
    return layers


def sh(layers, script, **kw):
    return box(layers, ["/bin/sh", "-c", script], **kw)


def test_image_owners_show_inside_and_the_top_layer_wins(rootfs_ok):
    r = sh(rootfs_ok, "stat -c '%u %g %n' /etc/rootfile /etc/www /home/user/mine && cat /etc/rootfile && id -u")
    assert r.rc == 0, r
    assert r.out.splitlines() == ["0 0 /etc/rootfile", "33 33 /etc/www", "1000 1000 /home/user/mine",
                                  "top", "1000"], r


def test_the_app_writes_what_is_its_own_and_not_roots(rootfs_ok):
    r = sh(rootfs_ok, "echo x >> /home/user/mine && echo x > /tmp/t && echo x > /data/d && "
                      "mkdir /home/user/new && echo wrote; echo y > /etc/rootfile; echo z > /etc/www; "
                      "touch /newfile; exit 0")
    assert r.out.strip() == "wrote", r
    assert r.err.count("Permission denied") == 3, r
    # nothing reached the layers: writes died with the box (but /data's)
    with open(os.path.join(rootfs_ok["bottom"], "home/user/mine")) as f:
        assert f.read() == "mine\n"
    assert not os.path.exists(os.path.join(rootfs_ok["bottom"], "home/user/new"))
    st = os.lstat(os.path.join(rootfs_ok["bottom"], "home/user/mine"))
    assert (st.st_uid, st.st_gid) == (BUILD + 1000, BUILD + 1000)   # never chowned
    assert os.stat(os.path.join(rootfs_ok["data"], "d")).st_uid == HOST_UID
    os.unlink(os.path.join(rootfs_ok["data"], "d"))


def test_the_box_gets_its_etc_and_user(rootfs_ok):
    r = sh(rootfs_ok, "cat /etc/hosts; grep ':1000:' /etc/passwd; stat -c '%u' /etc/hosts; cat /proc/self/uid_map")
    assert r.rc == 0, r
    assert "127.0.0.1\tlocalhost" in r.out and "user:x:1000:1000::/home/user:/bin/sh" in r.out, r
    lines = r.out.splitlines()
    assert "0" in lines, r            # /etc/hosts is root's
    maps = [l.split() for l in lines if len(l.split()) == 3 and l.split()[0].isdigit()]
    assert maps == [["0", str(RANGE), "1000"], ["1000", str(HOST_UID), "1"],
                    ["1001", str(RANGE + 1001), "64535"]], r


@pytest.mark.parametrize("action", ["mount", "umount", "unshare", "setns", "open_tree", "fsopen",
                                    "keyctl", "bpf", "ptrace", "caps", "euid", "af_packet"])
def test_escape_probes_refused_on_a_rootfs(rootfs_ok, action):
    ok = box(rootfs_ok, probe("exists", "/etc/rootfile"))
    assert ok.rc == 0, ok   # positive control: the probe runs there
    r = box(rootfs_ok, probe(action))
    assert r.rc != 0, "%s worked in a --rootfs box: %r" % (action, r)


def test_rootfs_needs_its_id_options(layers):
    p = subprocess.run([SANDBOX, "--rootfs", layers["top"], "--", "/bin/true"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 125 and "--rootfs-ids" in p.stderr, p


# ---- --engine-userns ---------------------------------------------------------------------

ENGINE = 134217728


def engine(script, extra=(), **kw):
    return run_box(["/bin/sh", "-c", script], ["--engine-userns", str(ENGINE), *extra], **kw)


def test_engine_is_root_of_its_own_ids_only(tmp_path):
    secret = tmp_path / "host-only"
    secret.write_text("host\n")
    os.chmod(secret, 0o600)
    os.chmod(tmp_path, 0o755)
    r = engine("cat /proc/self/uid_map; id -u; unshare -m true && echo unshare-ok; "
               "cat %s; ls /proc | grep -c '^[0-9]'; cat /proc/net/dev | tail -n +3 | cut -d: -f1" % secret)
    assert r.rc == 0, r
    lines = [l.strip() for l in r.out.splitlines()]
    assert lines[0].split() == ["0", str(ENGINE), "65536"], r
    assert lines[1] == "0" and "unshare-ok" in lines, r        # positive: an engine may unshare
    assert "Permission denied" in r.err and "host\n" not in r.out, r   # not the host's root
    assert int(lines[3]) < 10, r                                # its own pid namespace
    assert lines[4:] == ["lo"], r                               # --net none: loopback only


def test_engine_mounts_are_its_own(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("bound\n")
    os.chown(src, ENGINE, ENGINE)
    os.chmod(tmp_path, 0o700)   # the source's parent: the engine itself could not enter it
    mnt = tempfile.mkdtemp(prefix="podium-engine-")
    os.chmod(mnt, 0o755)
    try:
        r = engine("cat %s/x/f; touch %s/x/made && echo made; ls -ld %s | cut -c1-10" % (mnt, mnt, mnt),
                   extra=("--tmpfs", mnt, "--bind", str(src), mnt + "/x"))
        assert r.rc == 0, r
        assert r.out.splitlines() == ["bound", "made", "drwxrwxrwt"], r
        assert os.listdir(mnt) == []             # the host sees none of it
    finally:
        os.rmdir(mnt)
    assert os.stat(src / "made").st_uid == ENGINE


def test_engine_limits_apply():
    r = run_box(["python3", "-c", "b = bytearray(400 << 20); print('allocated')"],
                ["--engine-userns", str(ENGINE), "--memory", str(100 << 20)])
    assert "allocated" not in r.out and r.rc != 0, r
    assert r.status and r.status["oom_killed"] is True, r


def _loop_mount(tmp_path, name):
    """An ext4 image loop-mounted (autoclear) as a space's /data is; (dir, device)."""
    img, mnt = tmp_path / (name + ".img"), tmp_path / name
    mnt.mkdir()
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    for cmd in (["mkfs.ext4", "-q", "-F", str(img)], ["mount", "-o", "loop,nosuid,nodev", str(img), str(mnt)]):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            pytest.skip("no loop-mounted ext4 here (%s): %s" % (cmd[0], p.stderr.strip()))
    dev = subprocess.run(["findmnt", "-n", "-o", "SOURCE", str(mnt)], capture_output=True,
                         text=True).stdout.strip()
    return mnt, dev


def _serves(dev):
    return os.path.exists("/sys/block/%s/loop/backing_file" % os.path.basename(dev))


def test_engine_holds_no_other_spaces_data(tmp_path):
    """A build must not pin another space's /data: the host unmounts it while an
    engine runs and its loop device lets go at once (a private copy of the mount
    in the engine's namespace kept it busy for the whole build)."""
    data, dev = _loop_mount(tmp_path, "data")
    bound, bdev = _loop_mount(tmp_path, "bound")
    (bound / "f").write_text("bound\n")
    try:
        p = subprocess.Popen([SANDBOX, "--engine-userns", str(ENGINE), "--tmpfs", "/tmp",
                              "--bind", str(bound), "/tmp/ctx", "--", "/bin/sh", "-c",
                              "grep -c ' %s ' /proc/self/mountinfo; cat /tmp/ctx/f; sleep 3" % data],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = p.stdout.readline().strip()
            assert line == "0", (line, p.stderr.read())    # the engine does not see it
            subprocess.run(["umount", str(data)], check=True)
            for _ in range(50):
                if not _serves(dev):
                    break
                subprocess.run(["sleep", "0.02"])
            assert not _serves(dev), "%s still busy while the engine runs" % dev
            # positive control: a loop mount the engine is given stays, in use
            assert p.stdout.readline().strip() == "bound"
            assert subprocess.run(["umount", str(bound)]).returncode == 0 and _serves(bdev)
        finally:
            out, err = p.communicate(timeout=30)
        assert p.returncode == 0, (out, err)
    finally:
        for m in (data, bound):
            subprocess.run(["umount", "-l", str(m)], capture_output=True)
