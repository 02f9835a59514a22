"""Offline base images for the image tests: a Debian root filesystem made with
debootstrap and shaped like the official `python:X.Y-slim` images where Hub
templates rely on it, as a tarball `podium image import` loads.

    tar = base_tarball("bookworm")        # python:3.11-slim stand-in (Debian 12: Python 3.11)
    tar = base_tarball("bullseye")        # python:3.9-slim stand-in (Debian 11: Python 3.9)
    arc = docker_archive(tar, "docker.io/library/python:3.11-slim")  # the same as a docker archive

Made once and cached under $PODIUM_BUILD/test-images/ (PODIUM_TEST_IMAGES to move
it), keyed by the recipe (suite, packages, the shaping below): a rerun takes no
time, a changed recipe makes a new one. PODIUM_TEST_IMAGES_REFRESH=1 remakes it.
The debootstrap .deb cache sits next to it, so a remake downloads nothing new.

What makes the root filesystem look like python:3.11-slim to a Dockerfile:
- Debian's python3, python3-pip, python3-venv, ca-certificates, netbase;
- /usr/local/bin/python, python3, pip, pip3 (the official image's names);
- pip may install as root into the system (no EXTERNALLY-MANAGED marker: the
  official image's Python is not Debian's and has none), and as a user it
  falls back to ~/.local, as there;
- apt sources for SUITE, SUITE-updates and SUITE-security on deb.debian.org, no
  package lists (the official images ship none either: `apt-get update` first),
  and their apt/dpkg configuration for containers (no caches, no translations,
  no docs from later installs);
- no /etc/resolv.conf or /etc/hostname of this machine (the runtime supplies them).
Not there: the official image's `python` built from source in /usr/local, a
`user` of uid 1000 (Hub templates add it themselves).

Timings on the 2-core VM (2026-12-07, load 4-5): debootstrap with python3 266 s
(231 s with its .deb cache filled), the tarball 210 MB (uncompressed), a rerun 0 s.
"""
import hashlib
import inspect
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MIRROR = "http://deb.debian.org/debian"

SUITES = {
    # suite: (python version, image names it stands for)
    "bookworm": ("3.11", ["python:3.11-slim", "python:3.11"]),
    "bullseye": ("3.9", ["python:3.9-slim", "python:3.9"]),
}
PACKAGES = ["python3", "python3-pip", "python3-venv", "ca-certificates", "netbase"]

SOURCES = """Types: deb
URIs: http://deb.debian.org/debian
Suites: {suite} {suite}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: {suite}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""

# What the official Debian images add for containers (debuerreotype's "minimizing
# config"): no package caches or translations kept by apt, so an `apt-get update &&
# apt-get install` layer holds the packages only (80 MB less per layer here).
APT_CONF = {
    "docker-clean": 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
                    '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
                    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
                    '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
                    'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n',
    "docker-no-languages": 'Acquire::Languages "none";\n',
    "docker-gzip-indexes": 'Acquire::GzipIndexes "true";\n',
    "docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
}
# slim: no docs, man pages or translations from later installs
DPKG_CONF = ("path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\n"
             "path-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n"
             "path-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n")

# The official images' environment (a rootfs tarball carries none: `podium image
# import` gives such an image PATH and LANG; these are for the docker archive).
def image_config(suite):
    version = SUITES[suite][0]
    return {
        # (the official images PATH has /usr/local/bin twice, kept as it is)
        "Env": ["PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8", "PYTHON_VERSION=%s" % version],
        "Cmd": ["python3"],
    }


def images_dir():
    d = os.environ.get("PODIUM_TEST_IMAGES")
    if not d:
        build = os.environ.get("PODIUM_BUILD") or os.path.join(REPO_ROOT, "build")
        d = os.path.join(build, "test-images")
    os.makedirs(d, exist_ok=True)
    return d


def recipe_key(suite):
    """What the tarball is made of: a change here makes a new one (docs do not)."""
    h = hashlib.sha256()
    h.update(json.dumps([suite, SUITES[suite], PACKAGES, SOURCES, APT_CONF, DPKG_CONF, MIRROR]).encode())
    h.update(inspect.getsource(_shape).encode())
    return h.hexdigest()[:12]


def unavailable(suite="bookworm"):
    """None when a base tarball can be had (cached, or made now), else why not."""
    path = tarball_path(suite)
    if os.path.exists(path) and os.environ.get("PODIUM_TEST_IMAGES_REFRESH") != "1":
        return None
    if os.geteuid() != 0:
        return "making the base image needs root (debootstrap)"
    if shutil.which("debootstrap") is None:
        return "debootstrap is not installed (apt-get install debootstrap)"
    import http.client
    try:
        c = http.client.HTTPConnection("deb.debian.org", 80, timeout=15)
        c.request("HEAD", "/debian/dists/%s/Release" % suite)
        r = c.getresponse()
        if r.status != 200:
            return "debootstrap's mirror %s answered %d for dists/%s/Release" % (MIRROR, r.status, suite)
    except OSError as e:
        return "debootstrap needs Debian's archive (%s), not reachable: %s" % (MIRROR, e)
    return None


def tarball_path(suite):
    return os.path.join(images_dir(), "debian-%s-python%s-%s.tar" % (suite, SUITES[suite][0],
                                                                   recipe_key(suite)))


def _shape(root, suite):
    """Makes the debootstrapped root look like python:X.Y-slim (see the docstring)."""
    version = SUITES[suite][0]
    marker = os.path.join(root, "usr/lib/python%s/EXTERNALLY-MANAGED" % version)
    if os.path.exists(marker):
        os.unlink(marker)
    local_bin = os.path.join(root, "usr/local/bin")
    os.makedirs(local_bin, exist_ok=True)
    for name, target in (("python", "/usr/bin/python3"), ("python3", "/usr/bin/python3"),
                         ("pip", "/usr/bin/pip3"), ("pip3", "/usr/bin/pip3")):
        p = os.path.join(local_bin, name)
        if not os.path.lexists(p):
            os.symlink(target, p)
    apt = os.path.join(root, "etc/apt")
    if os.path.exists(os.path.join(apt, "sources.list")):
        os.unlink(os.path.join(apt, "sources.list"))
    os.makedirs(os.path.join(apt, "sources.list.d"), exist_ok=True)
    with open(os.path.join(apt, "sources.list.d/debian.sources"), "w") as f:
        f.write(SOURCES.format(suite=suite))
    for name, text in APT_CONF.items():
        with open(os.path.join(apt, "apt.conf.d", name), "w") as f:
            f.write(text)
    with open(os.path.join(root, "etc/dpkg/dpkg.cfg.d/docker"), "w") as f:
        f.write(DPKG_CONF)
    lists = os.path.join(root, "var/lib/apt/lists")
    for name in os.listdir(lists):
        p = os.path.join(lists, name)
        if os.path.isfile(p) and name != "lock":
            os.unlink(p)
    for pattern_dir in ("var/cache/apt/archives",):
        d = os.path.join(root, pattern_dir)
        for name in os.listdir(d):
            if name.endswith(".deb"):
                os.unlink(os.path.join(d, name))
    for name in ("srcpkgcache.bin", "pkgcache.bin"):
        p = os.path.join(root, "var/cache/apt", name)
        if os.path.exists(p):
            os.unlink(p)
    for name in ("etc/resolv.conf", "etc/hostname"):
        p = os.path.join(root, name)
        if os.path.lexists(p):
            os.unlink(p)
    with open(os.path.join(root, "etc/hostname"), "w") as f:
        f.write("localhost\n")


def base_tarball(suite="bookworm"):
    """The cached root filesystem tarball of SUITE with Python (made when missing);
    skips the calling test with the reason when it cannot be made here."""
    why = unavailable(suite)
    if why:
        pytest.skip(why)
    path = tarball_path(suite)
    if os.path.exists(path) and os.environ.get("PODIUM_TEST_IMAGES_REFRESH") != "1":
        return path
    cache = os.path.join(images_dir(), "debootstrap-cache-%s" % suite)
    os.makedirs(cache, exist_ok=True)
    work = tempfile.mkdtemp(prefix="debootstrap-%s-" % suite, dir=images_dir())
    root = os.path.join(work, "root")
    t0 = time.monotonic()
    try:
        p = subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES),
                            "--cache-dir=" + cache, suite, root, MIRROR],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1800)
        if p.returncode != 0:
            out = p.stdout.decode(errors="replace")
            raise AssertionError("debootstrap %s failed (%d):\n%s" % (suite, p.returncode, out[-3000:]))
        _shape(root, suite)
        tmp = path + ".tmp"
        subprocess.run(["tar", "--numeric-owner", "--xattrs", "-C", root,
                        "--exclude=./proc/*", "--exclude=./sys/*", "--exclude=./dev/*",
                        "-cf", tmp, "."], check=True, timeout=600)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(path + ".log", "w") as f:
        f.write("made in %.0f s, %d bytes\n" % (time.monotonic() - t0, os.path.getsize(path)))
    return path


def docker_archive(rootfs_tar, name, suite="bookworm", out=None):
    """The same filesystem as a `docker save` archive (one layer), tagged NAME, as an
    operator would carry an image to an air-gapped host. Cached next to the tarball."""
    out = out or rootfs_tar[:-len(".tar")] + ".docker-archive.tar"
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(rootfs_tar):
        return out
    h = hashlib.sha256()
    with open(rootfs_tar, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    diff_id = h.hexdigest()
    config = {
        "architecture": "amd64", "os": "linux",
        "config": image_config(suite),
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
        "history": [{"created_by": "debootstrap --variant=minbase %s (podium tests)" % suite}],
    }
    config_bytes = json.dumps(config).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [name], "Layers": [diff_id + "/layer.tar"]}]
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w") as t:
        def add_bytes(arcname, data):
            import io
            ti = tarfile.TarInfo(arcname)
            ti.size = len(data)
            ti.mtime = int(time.time())
            t.addfile(ti, io.BytesIO(data))
        add_bytes(config_name, config_bytes)
        t.add(rootfs_tar, arcname=diff_id + "/layer.tar")
        add_bytes("manifest.json", json.dumps(manifest).encode())
    os.replace(tmp, out)
    return out
