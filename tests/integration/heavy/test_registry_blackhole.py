"""A build whose registry is behind a network that drops packets (issue 22.8).

The daemon runs with egress in a network namespace this module makes, whose every
route out is a blackhole: the boxes' packets are NATed and then dropped without an
answer, as on a host whose firewall or upstream swallows them, and DNS (the
daemon's forwarder, to a resolver in that blackhole) never answers. npm used to
wait its 5 min fetch timeout, twice, and hit the build step's 600 s limit without a
word; now the registry check gives up after 10 s, names the registry and the error,
and the build fails at once. No packet leaves the namespace."""
import ctypes
import json
import os
import shutil
import subprocess

import pytest

import podium_helpers as ph
from test_build_registry import push_and_time

ADMIN = ph.ADMIN
NS = "pd22bh-%d" % (os.getpid() % 100000)
CLONE_NEWNET = 0x40000000
DEAD = "198.51.100.99"

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def d():
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, nftables)")
    for tool in ("ip", "nft", "npm"):
        if shutil.which(tool) is None:
            pytest.skip("%s is not installed" % tool)
    r = sh("ip", "netns", "add", NS, check=False)
    if r.returncode != 0:
        pytest.skip("cannot create a network namespace: %s" % r.stderr.strip())
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    saved = os.environ.pop("PODIUM_EGRESS", None)
    daemon = None
    try:
        sh("ip", "-n", NS, "link", "set", "lo", "up")
        # every destination but the namespace's own: dropped, no ICMP back
        sh("ip", "-n", NS, "route", "add", "blackhole", "default")
        with open("/run/netns/" + NS) as f:
            setns(f.fileno())
        daemon = ph.Daemon()
        with open(os.path.join(daemon.data_dir, "config.yaml"), "w") as f:
            f.write("egress:\n  enabled: true\n  resolvers: [%s]\n" % DEAD)
        daemon.start()
        if "egress: off" in daemon.log_tail(200) or "egress: on" not in daemon.log_tail(200):
            pytest.skip("egress could not be set up in the namespace:\n" + daemon.log_tail(40))
        yield daemon
        assert daemon.stop() == 0, daemon.log_tail()
    finally:
        if daemon is not None:
            daemon.cleanup()
        setns(own)
        os.close(own)
        if saved is not None:
            os.environ["PODIUM_EGRESS"] = saved
        if os.path.exists("/run/netns/" + NS):
            ino = os.stat("/run/netns/" + NS).st_ino
            for ext in ("lock", "forward", "nft"):
                try:
                    os.unlink("/run/podium/net-%d.%s" % (ino, ext))
                except FileNotFoundError:
                    pass
        sh("ip", "netns", "del", NS, check=False)


def test_npm_behind_a_blackhole_fails_fast_naming_the_registry(d):
    pkg = {"name": "bhnpm", "version": "1.0.0", "dependencies": {"left-pad": "1.3.0"},
           "scripts": {"start": "node -e 0"}}
    # npm's own timeouts took the build to its 600 s limit; 150 s is plenty now
    took, err = push_and_time(d, "bhnpm", "node", {"package.json": json.dumps(pkg) + "\n",
                                                   ".npmrc": "registry=http://%s/\n" % DEAD},
                              timeout=150)
    want = ("cannot reach the npm registry http://%s/: connecting to %s port 80 timed out "
            "after 10 s" % (DEAD, DEAD))
    assert want in err, err
    assert took < 120, (took, err)


def test_pip_behind_a_blackhole_fails_fast_naming_the_index(d):
    took, err = push_and_time(d, "bhpip", "python", {
        "README.md": ph.front_matter(["sdk: python"]), "app.py": "print('never runs')\n",
        "requirements.txt": "podium-no-such-package==1.0\n"}, timeout=150)
    # the public index, by name: the daemon's DNS forwarder gets no answer either
    assert "cannot reach the Python package index https://pypi.org/simple/: cannot resolve " \
           "pypi.org" in err, err
    assert took < 120, (took, err)
