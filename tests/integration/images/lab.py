"""A network lab for tests whose builds must reach "the internet" through podium's
egress (Debian's archive for apt-get, a local Python index for pip) without the
daemon touching the machine's own network, firewall or sysctls. The layout is
tests/integration/heavy/test_egress.py's:

  "host" netns: the daemon (podium0, its nft tables, its DNS forwarder), and this
      test process while the lab is entered; egupN 198.51.100.1/30, default route
      via 198.51.100.2
          |
  "inet" netns: eginN 198.51.100.2/30; on lo 198.51.100.80 (the internet: DNS,
      HTTP, the relay to Debian's archive, the Python index pypi.lab),
      203.0.113.80 (denied by the daemon's config), 169.254.169.254 ("metadata")

The fake internet (images/fake_internet.py) is a process started from the
machine's namespace: its sockets are in "inet", its own connections (the relay to
deb.debian.org, resolved by the machine's resolver as apt-get on the host would)
leave from the machine. Nothing else of the lab can reach the machine's network:
"inet" has no route out, and a box's packet that is not for 198.51.100.80 dies there.

Use:
    with Lab(index_dir=...) as lab:      # skips (pytest.skip) with the reason
        d = lab.daemon(config=...)       # a started ph.Daemon in the "host" netns
"""
import ctypes
import json
import os
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import podium_helpers as ph  # noqa: E402

CLONE_NEWNET = 0x40000000
ALLOWED, DENIED, METADATA = "198.51.100.80", "203.0.113.80", "169.254.169.254"
GATEWAY = "198.18.0.1"
ARCHIVE = "deb.debian.org"
APT_MIRROR = "mirror.lab"     # another name for the relay, as an operator's apt.mirror
INDEX_URL = "http://pypi.lab/simple/"

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def _sh(*args, check=True):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)


def lab_unavailable():
    """None when the machine can host the lab, else why not (the skip reason)."""
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces, veth, nftables)"
    for tool in ("ip", "nft"):
        if subprocess.run(["sh", "-c", "command -v " + tool], stdout=subprocess.DEVNULL).returncode:
            return "%s (iproute2/nftables) is not installed" % tool
    probe = "pdimg-probe-%d" % os.getpid()
    try:
        _sh("ip", "netns", "add", probe)
    except (OSError, subprocess.CalledProcessError) as e:
        return "cannot create a network namespace: %s" % e
    try:
        r = _sh("ip", "netns", "exec", probe, "ip", "link", "add", "pva", "type", "veth",
                "peer", "name", "pvb", check=False)
        if r.returncode != 0:
            return "cannot create a veth pair: %s" % r.stderr.decode().strip()
        r = subprocess.run(["ip", "netns", "exec", probe, "nft", "-f", "-"], input=(
            b"table inet t {\n chain p {\n type nat hook postrouting priority srcnat;\n masquerade\n }\n}\n"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if r.returncode != 0:
            return "nft cannot load a NAT table: %s" % r.stderr.decode().strip()
    finally:
        _sh("ip", "netns", "del", probe, check=False)
    return None


def archive_unreachable(host=ARCHIVE):
    """None when Debian's archive answers from this machine, else why not."""
    import http.client
    try:
        c = http.client.HTTPConnection(host, 80, timeout=15)
        c.request("HEAD", "/debian/dists/bookworm/Release")
        r = c.getresponse()
        if r.status != 200:
            return "http://%s/debian/dists/bookworm/Release answered %d" % (host, r.status)
    except OSError as e:
        return "Debian's archive (http://%s/debian) is not reachable from this machine: %s" % (host, e)
    return None


class Lab:
    def __init__(self, index_dir=None, relay_archive=True):
        n = os.getpid() % 100000
        self.host_ns, self.inet_ns = "pdimg-host-%d" % n, "pdimg-inet-%d" % n
        self.up_if, self.in_if = "imup%d" % n, "imin%d" % n
        self.index_dir = index_dir
        self.relay_archive = relay_archive
        self.fake = None
        self.requests = []        # the fake internet's JSON lines
        self._own_ns = None
        self._daemons = []

    # ---- setup / teardown --------------------------------------------------------

    def __enter__(self):
        why = lab_unavailable()
        if why is None and self.relay_archive:
            why = archive_unreachable()
        if why:
            pytest.skip(why)
        try:
            self._setup()
        except BaseException:
            self._teardown()
            raise
        return self

    def __exit__(self, *exc):
        self._teardown()

    def _setup(self):
        _sh("ip", "netns", "add", self.host_ns)
        _sh("ip", "netns", "add", self.inet_ns)
        _sh("ip", "link", "add", self.up_if, "netns", self.host_ns, "type", "veth", "peer", "name",
            self.in_if, "netns", self.inet_ns)
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "addr", "add", "198.51.100.1/30", "dev", self.up_if],
                    ["ip", "link", "set", self.up_if, "up"],
                    ["ip", "route", "add", "default", "via", "198.51.100.2"]):
            _sh("ip", "netns", "exec", self.host_ns, *cmd)
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "addr", "add", "198.51.100.2/30", "dev", self.in_if],
                    ["ip", "link", "set", self.in_if, "up"],
                    ["ip", "addr", "add", ALLOWED + "/32", "dev", "lo"],
                    ["ip", "addr", "add", DENIED + "/32", "dev", "lo"],
                    ["ip", "addr", "add", METADATA + "/32", "dev", "lo"]):
            _sh("ip", "netns", "exec", self.inet_ns, *cmd)
        argv = [sys.executable, os.path.join(HERE, "fake_internet.py"),
                "--netns", "/run/netns/" + self.inet_ns, "--addr", ALLOWED]
        if self.index_dir:
            argv += ["--index", self.index_dir]
        if self.relay_archive:
            argv += ["--relay", ARCHIVE, "--alias", APT_MIRROR + "=" + ARCHIVE]
        # started from the machine's namespace: the relay's connections leave from here
        self.fake = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = self.fake.stdout.readline().strip()
        if first != b"ready":
            raise AssertionError("fake internet did not start: %r %s" % (
                first, self.fake.stderr.read().decode(errors="replace")))
        threading.Thread(target=self._collect, daemon=True).start()
        self._own_ns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        with open("/run/netns/" + self.host_ns) as f:
            _setns(f.fileno())   # the daemons started from here live in the lab's host

    def _collect(self):
        for line in self.fake.stdout:
            try:
                self.requests.append(json.loads(line))
            except ValueError:
                pass

    def _teardown(self):
        for d in self._daemons:
            try:
                if d.proc is not None and d.proc.poll() is None:
                    d.stop(timeout=30)
            except AssertionError:
                pass
            d.cleanup()
        if self._own_ns is not None:
            _setns(self._own_ns)
            os.close(self._own_ns)
            self._own_ns = None
        if os.path.exists("/run/netns/" + self.host_ns):
            ino = os.stat("/run/netns/" + self.host_ns).st_ino
            for ext in ("lock", "forward", "nft"):
                try:
                    os.unlink("/run/podium/net-%d.%s" % (ino, ext))
                except FileNotFoundError:
                    pass
            try:
                os.rmdir("/run/podium")
            except OSError:
                pass
        if self.fake is not None:
            self.fake.kill()
            self.fake.wait()
        _sh("ip", "netns", "del", self.host_ns, check=False)
        _sh("ip", "netns", "del", self.inet_ns, check=False)

    # ---- daemons -------------------------------------------------------------------

    def egress_config(self):
        return ("egress:\n  enabled: true\n  deny: [203.0.113.0/24]\n  resolvers: [%s]\n" % ALLOWED)

    def daemon(self, config="", env=None):
        """A started daemon in the lab's host namespace with egress on; config is more
        YAML for DATA/config.yaml (appended to the egress section)."""
        d = ph.Daemon()
        with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
            f.write("# written by images/lab.py\n" + self.egress_config() + config)
        d.extra_env = dict(env or {})
        saved = os.environ.pop("PODIUM_EGRESS", None)
        try:
            self._daemons.append(d)
            d.start()
        finally:
            if saved is not None:
                os.environ["PODIUM_EGRESS"] = saved
        return d

    def fetched(self, host=None, path_part=""):
        """Requests the fake internet answered (optionally for one Host / a path part)."""
        return [r for r in list(self.requests) if "path" in r and (host is None or r["host"] == host)
                and path_part in r["path"]]

    def wait_quiet(self, seconds=0.5):
        time.sleep(seconds)
