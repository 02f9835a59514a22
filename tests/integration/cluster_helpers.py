"""A podium cluster on one machine (issue 27), for heavy/test_cluster.py and
tests/bench/bench_cluster.py: real processes in network namespaces of its own.

  "sw" netns: the bridge br0, one port per namespace below
  "in" netns (infrastructure, 203.0.113.1): PostgreSQL 15 (initdb of its own),
       the shared filesystem's server (OpenSSH's sftp-server on TCP, served by
       socat), and the clients: every request the tests make starts here
  "n1".."nN" netns (203.0.113.11, .12, ...): one `podium serve --node nK` each,
       with its own data dir, its proxy on :8080, and the shared filesystem
       mounted with sshfs (FUSE) from its own namespace

Addresses are TEST-NET-3 (RFC 5737), on a bridge no other namespace reaches;
nothing is added to the machine's own network namespace, firewall or sysctls.
Why sshfs and not NFS: this machine's kernel has neither an NFS client nor an
NFS server (no CONFIG_NFS_FS, no CONFIG_NFSD, no modules); FUSE is there, and
sshfs is a real network filesystem (SFTP) every node mounts on its own.
cleanup() unmounts, kills and deletes everything it made, also after a
failure; PODIUM_KEEP=1 keeps the directory for a look at the logs.
"""
import ctypes
import http.client
import json as jsonlib
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pg_server
import podium_helpers as ph

CLONE_NEWNET = 0x40000000
NET = "203.0.113"
INFRA_IP = NET + ".1"
SFTP_PORT = 2222
PORT = 8080
_libc = ctypes.CDLL(None, use_errno=True)


def unavailable():
    """Why no cluster can be made here, or None."""
    why = pg_server.unavailable()
    if why:
        return why
    if os.geteuid() != 0:
        return "network namespaces and mounts need root"
    for tool, pkg in (("sshfs", "sshfs"), ("socat", "socat"), ("nsenter", "util-linux"),
                      ("ip", "iproute2")):
        if shutil.which(tool) is None:
            return "%s is not installed (make deps installs %s)" % (tool, pkg)
    if not os.access("/usr/lib/openssh/sftp-server", os.X_OK):
        return "/usr/lib/openssh/sftp-server is not installed (openssh-sftp-server)"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse"
    return None


def run(*cmd, check=True, timeout=60):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                     p.stdout.decode(errors="replace")))
    return p


class NsDialer:
    """Connects TCP sockets from inside a network namespace: one thread of its own
    entered it (setns), and a socket stays in the namespace it was made in."""

    def __init__(self, ns):
        self.q = queue.Queue()
        self.ns = ns
        t = threading.Thread(target=self._run, daemon=True)
        t.start()

    def _run(self):
        fd = os.open("/run/netns/%s" % self.ns, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns %s" % self.ns)
        finally:
            os.close(fd)
        while True:
            addr, timeout, out = self.q.get()
            try:
                out.put(socket.create_connection(addr, timeout=timeout))
            except OSError as e:
                out.put(e)

    def connect(self, addr, timeout):
        out = queue.Queue()
        self.q.put((addr, timeout, out))
        r = out.get()
        if isinstance(r, OSError):
            raise r
        return r


class NsHTTPConnection(http.client.HTTPConnection):
    def __init__(self, dialer, host, port, timeout):
        super().__init__(host, port, timeout=timeout)
        self.dialer = dialer

    def connect(self):
        self.sock = self.dialer.connect((self.host, self.port), self.timeout)


def ns_request(dialer, ip, method, path, host, body=None, headers=None, timeout=30):
    conn = NsHTTPConnection(dialer, ip, PORT, timeout)
    try:
        hdrs = {"Host": host}
        hdrs.update(headers or {})
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return ph.Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


class Node(ph.Daemon):
    """One node: a Daemon in its own network namespace, reached from "in"."""

    def __init__(self, cluster, index):
        super().__init__(workdir=os.path.join(cluster.dir, "n%d" % index))
        self.cluster = cluster
        self.name = "n%d" % index
        self.ns = cluster.prefix + self.name
        self.ip = "%s.%d" % (NET, 10 + index)
        self.port = PORT
        self.shared = os.path.join(self.workdir, "shared")
        os.makedirs(self.shared, exist_ok=True)
        self.extra_env = {"PODIUM_LEASE_MS": str(cluster.lease_ms), "PODIUM_EGRESS": "off"}

    def start(self, timeout=90):
        self._log = open(self.log_path, "ab")
        self.starts += 1
        self._log.write(("\n===== podium start #%d =====\n" % self.starts).encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            ["nsenter", "--net=/run/netns/%s" % self.ns, self.binary, "serve",
             "--listen", "%s:%d" % (self.ip, PORT), "--data", self.data_dir,
             "--domain", self.domain, "--store", self.cluster.pg_url, "--node", self.name,
             "--advertise", "%s:%d" % (self.ip, PORT), "--shared", self.shared,
             *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            env=dict(os.environ, **self.extra_env))
        if self not in ph.LIVE_DAEMONS:
            ph.LIVE_DAEMONS.append(self)
        self.wait_until(lambda: self.request("GET", "/api/health", "localhost",
                                             timeout=5).status == 200,
                        "node %s healthy" % self.name, timeout=timeout)
        token_path = os.path.join(self.data_dir, "admin.token")
        self.wait_until(lambda: os.path.exists(token_path), "admin.token", timeout=10)
        with open(token_path) as f:
            self.token = f.read().strip()
        return self

    # ---- requests, from the "in" namespace ----

    def request(self, method, path, host, body=None, headers=None, timeout=30):
        return ns_request(self.cluster.dialer, self.ip, method, path, host, body, headers,
                          timeout)

    @property
    def hub_host(self):
        return "localhost:%d" % PORT

    def api(self, method, path, json=None, token=ph.DEFAULT, host=None, headers=None,
            timeout=30):
        token = self.token if token is ph.DEFAULT else token
        hdrs = {"Accept": "application/json"}
        if token:
            hdrs["Authorization"] = "Bearer %s" % token
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        return self.request(method, path, host or self.hub_host, body, hdrs, timeout)

    def get_app(self, owner, name, path="/", method="GET", body=None, headers=None, timeout=30):
        return self.request(method, path, self.app_host(owner, name), body, headers, timeout)

    def git(self, *args, cwd=None, check=True, timeout=180):
        # git reaches the node from the "in" namespace too
        cmd = ["nsenter", "--net=/run/netns/%s" % self.cluster.infra, "git",
               "-c", "http.curloptResolve=localhost:%d:%s" % (PORT, self.ip),
               "-c", "credential.helper=", "-c", "user.name=Podium Tests",
               "-c", "user.email=tests@podium.invalid", "-c", "init.defaultBranch=main", *args]
        p = subprocess.run(cmd, cwd=cwd, env=self.git_env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode,
                                 p.stdout.decode(errors="replace"),
                                 p.stderr.decode(errors="replace")))
        return p

    def remote_url(self, owner, name, token=ph.DEFAULT, user=ph.ADMIN, host=None, suffix=""):
        token = self.token if token is ph.DEFAULT else token
        auth = "%s:%s@" % (user, token) if token else ""
        # localhost: the hub's name (git's Host), resolved to this node (git())
        return "http://%slocalhost:%d/spaces/%s/%s%s" % (auth, PORT, owner, name, suffix)

    def app_pids(self, space_id):
        """This node's app processes of space_id: descendants of its daemon."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [p for p in app_processes(space_id) if self.proc.pid in ancestors(p)]

    def cut(self):
        """The node's only link to the others goes down."""
        run("ip", "-n", self.cluster.sw, "link", "set", "p" + self.name, "down")

    def reconnect(self):
        run("ip", "-n", self.cluster.sw, "link", "set", "p" + self.name, "up")

    def lose(self):
        """The machine is lost: its daemon killed with -9, its link cut, and its
        kernel's mounts of the shared filesystem dead (its sshfs process killed:
        the FUSE connection ends, every request on it fails), so what its /data
        mounts had not yet written never reaches the shared images, as with a
        machine that is gone. found() undoes it."""
        self.kill9()
        self.cut()
        for pid in sshfs_pids(self.shared):
            os.kill(pid, signal.SIGKILL)

    def found(self):
        """The lost machine is back: its link up, the dead mounts gone, the
        shared filesystem mounted again (its daemon is started apart)."""
        self.reconnect()
        for mp in ph.mounts_under(self.workdir):
            subprocess.run(["umount", "-l", mp], capture_output=True, timeout=30)
        self.cluster.mount_shared(self)


def sshfs_pids(mountpoint):
    """The sshfs processes serving mountpoint (mount_shared's, by their argv)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"sshfs" and mountpoint.encode() in argv:
            pids.append(int(d))
    return pids


def ancestors(pid):
    out = []
    while pid > 1:
        try:
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        out.append(pid)
    return out


def app_processes(space_id):
    """Every process on the machine whose environment names space_id (apps and
    what they start; a build's steps too)."""
    want = ("SPACE_ID=%s" % space_id).encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if want in env and b"SYSTEM=spaces" in env and b"PORT=7860" in env:
            pids.append(int(d))
    return pids


class Cluster:
    def __init__(self, nodes=3, lease_ms=6000):
        self.dir = tempfile.mkdtemp(prefix="podium-cluster-")
        os.chmod(self.dir, 0o711)
        self.prefix = "pc%d" % (os.getpid() % 100000)
        self.sw, self.infra = self.prefix + "sw", self.prefix + "in"
        self.lease_ms = lease_ms
        self.export = os.path.join(self.dir, "export")
        os.makedirs(self.export, mode=0o711)
        self.namespaces = []
        self.socat = None
        self.pg = None
        self.nodes = []
        self.count = nodes
        self.dialer = None

    # ---- the network ----

    def _ns(self, name):
        run("ip", "netns", "add", name)
        self.namespaces.append(name)
        run("ip", "-n", name, "link", "set", "lo", "up")

    def _port(self, ns, short, ip):
        run("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "p" + short,
            "netns", self.sw)
        run("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "-n", self.sw, "link", "set", "p" + short, "master", "br0", "up")

    def setup(self):
        self._ns(self.sw)
        run("ip", "-n", self.sw, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", self.sw, "link", "set", "br0", "up")
        self._ns(self.infra)
        self._port(self.infra, "in", INFRA_IP)
        self.dialer = NsDialer(self.infra)
        self._storage()
        self.pg = pg_server.PgServer(netns=self.infra, listen=INFRA_IP)
        self.pg.start()
        self.pg_url = self.pg.url().replace("127.0.0.1", INFRA_IP)
        for i in range(1, self.count + 1):
            n = Node(self, i)
            self._ns(n.ns)
            self._port(n.ns, n.name, n.ip)
            self.mount_shared(n)
            self.nodes.append(n)
        return self

    # ---- the shared filesystem ----

    def _storage(self):
        self.socat = subprocess.Popen(
            ["nsenter", "--net=/run/netns/%s" % self.infra, "socat",
             "TCP-LISTEN:%d,bind=%s,reuseaddr,fork" % (SFTP_PORT, INFRA_IP),
             "EXEC:/usr/lib/openssh/sftp-server"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)  # its group: the listener, a child per connection
        ph.wait_until(lambda: self.dialer.connect((INFRA_IP, SFTP_PORT), 2).close() or True,
                      "the sftp server", timeout=20)

    def mount_shared(self, n):
        # no caches: what one node wrote is what the next one reads
        run("nsenter", "--net=/run/netns/%s" % n.ns, "sshfs",
            "-o", "directport=%d,allow_other,dir_cache=no,attr_timeout=0,entry_timeout=0,"
                  "negative_timeout=0,ServerAliveInterval=2,ServerAliveCountMax=2" % SFTP_PORT,
            "%s:%s" % (INFRA_IP, self.export), n.shared)

    # ---- nodes ----

    def start_nodes(self):
        first = self.nodes[0]
        first.start()
        # every node signs with the same key and opens the same sealed secrets
        for n in self.nodes[1:]:
            for f in ("cluster.key", "secrets.key"):
                shutil.copy2(os.path.join(first.data_dir, f), os.path.join(n.data_dir, f))
        for n in self.nodes[1:]:
            n.start()
        return self

    def node(self, name):
        return next(n for n in self.nodes if n.name == name)

    def podium(self, *args):
        """`podium ARGS --store URL`, the operator's commands, from "in"."""
        return run("nsenter", "--net=/run/netns/%s" % self.infra, self.nodes[0].binary, *args,
                   "--store", self.pg_url, check=False)

    def cleanup(self):
        for n in self.nodes:
            if n.proc is not None and n.proc.poll() is None:
                n.proc.kill()
                n.proc.wait()
            if n in ph.LIVE_DAEMONS:
                ph.LIVE_DAEMONS.remove(n)
        # a node cut off (cut()) has an sshfs mount that waits for its server
        # forever (directport: no ssh keep-alive): every port up again first,
        # or the umounts below hang in its lookups
        for n in self.nodes:
            subprocess.run(["ip", "-n", self.sw, "link", "set", "p" + n.name, "up"],
                           capture_output=True)
        # /data mounts first (they sit on the sshfs mounts), then sshfs
        for mp in sorted(ph.mounts_under(self.dir), key=len, reverse=True):
            try:
                subprocess.run(["umount", "-l", mp], capture_output=True, timeout=30)
            except subprocess.TimeoutExpired:
                pass
        if self.socat is not None:
            # the children too (one per connection, each with its sftp-server):
            # a node cut off leaves its connection open
            try:
                os.killpg(self.socat.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.socat.wait()
        if self.pg is not None:
            self.pg.cleanup()
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        if os.environ.get("PODIUM_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
