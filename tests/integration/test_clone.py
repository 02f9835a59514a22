"""Deploy from a URL (issue 15): `POST /api/repos/create {"from": URL}` and
`podium create NAME --from URL`, with the clone policy of DATA/config.yaml.

Nothing here touches the host's network: the daemon runs in a network namespace
A and the git servers in a namespace B (a git daemon for git://, another podium
for smart HTTP), joined by a veth pair on 10.213.7.0/30 that exists only between
the two namespaces."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import podium_helpers as ph

NET_A, NET_B = "10.213.7.1", "10.213.7.2"


def sh(*args, check=True, **kw):
    p = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
    return p


class Netns:
    """Two namespaces joined by a veth pair; removed (with the pair) at close."""

    def __init__(self):
        tag = "%d" % os.getpid()
        self.a, self.b = "pdm-cla-" + tag, "pdm-clb-" + tag
        sh("ip", "netns", "add", self.a)
        sh("ip", "netns", "add", self.b)
        sh("ip", "-n", self.a, "link", "add", "vcla", "type", "veth", "peer", "name", "vclb",
           "netns", self.b)
        for ns, dev, addr in ((self.a, "vcla", NET_A), (self.b, "vclb", NET_B)):
            sh("ip", "-n", ns, "addr", "add", addr + "/30", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

    def run(self, ns, *args, **kw):
        return sh("ip", "netns", "exec", ns, *args, **kw)

    def popen(self, ns, *args, **kw):
        # nsenter, not `ip netns exec`: that remounts /sys and hides the cgroups a
        # daemon needs (it refuses to start without them)
        return subprocess.Popen(["nsenter", "--net=/run/netns/" + ns, *args], **kw)

    def close(self):
        sh("ip", "netns", "del", self.a, check=False)
        sh("ip", "netns", "del", self.b, check=False)


def _have_netns():
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("prlimit") is None:
        return "needs root, ip(8) and prlimit(1)"
    p = subprocess.run(["ip", "netns", "add", "pdm-probe-%d" % os.getpid()], stderr=subprocess.PIPE)
    if p.returncode != 0:
        return "cannot create a network namespace: %s" % p.stderr.decode(errors="replace").strip()
    subprocess.run(["ip", "netns", "del", "pdm-probe-%d" % os.getpid()])
    return None


class World:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="podium-clone-")
        self.net = Netns()
        self.procs = []
        self.daemons = {}
        self.srv = os.path.join(self.tmp, "srv")
        os.makedirs(self.srv)
        self.env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": os.path.join(self.tmp, "home"),
                    "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
        os.makedirs(self.env["HOME"])
        self.bin = os.path.join(os.environ.get("PODIUM_BUILD") or os.path.join(ph.REPO_ROOT, "build"),
                                "podium")

    def git_repo(self, name, files):
        work = os.path.join(self.tmp, "w-" + name)
        ph.write_files(work, files)
        g = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
        sh(*g, "init", "-q", work, env=self.env)
        sh(*g, "-C", work, "add", "-A", env=self.env)
        sh(*g, "-C", work, "commit", "-qm", "init", env=self.env)
        sh(*g, "clone", "-q", "--bare", work, os.path.join(self.srv, name + ".git"), env=self.env)

    def start_git_daemon(self):
        p = self.net.popen(self.net.b, "git", "daemon", "--export-all", "--base-path=" + self.srv,
                           "--listen=" + NET_B, "--port=9418", "--reuseaddr", self.srv,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        self.procs.append(p)
        ph.wait_until(lambda: self.net.run(self.net.b, "git", "ls-remote", "git://%s/app.git" % NET_B,
                                           check=False, env=self.env).returncode == 0,
                      "git daemon in namespace B", timeout=30)

    def start_podium(self, ns, listen, name, domain="localhost"):
        data = os.path.join(self.tmp, "data-" + name)
        os.makedirs(data, exist_ok=True)
        log = open(os.path.join(self.tmp, name + ".log"), "ab")
        p = self.net.popen(ns, self.bin, "serve", "--listen", listen, "--data", data,
                           "--domain", domain, stdout=log, stderr=log)
        self.procs.append(p)
        self.daemons[name] = (p, ns, listen, domain)
        tok = os.path.join(data, "admin.token")
        ph.wait_until(lambda: os.path.exists(tok) and open(tok).read().strip(), "podium %s" % name,
                      timeout=60)
        ph.wait_until(lambda: self.net.run(ns, "curl", "-sf", "http://%s/api/health" % listen,
                                           check=False).returncode == 0, "podium %s healthy" % name)
        return data, open(tok).read().strip()

    def restart(self, name):
        """The daemon reads DATA/config.yaml once, at start."""
        p, ns, listen, domain = self.daemons[name]
        p.send_signal(signal.SIGTERM)
        p.wait(60)
        self.start_podium(ns, listen, name, domain)

    def cli(self, *args, home="home"):
        env = dict(self.env, HOME=os.path.join(self.tmp, home))
        os.makedirs(env["HOME"], exist_ok=True)
        p = self.net.run(self.net.a, self.bin, *args, check=False, env=env)
        p.out, p.err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.net.close()
        if os.environ.get("PODIUM_KEEP") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def world():
    why = _have_netns()
    if why:
        pytest.skip(why)
    w = World()
    try:
        w.git_repo("app", {"index.html": "<h1>cloned over git://</h1>"})
        w.git_repo("big", {"index.html": "x", "blob.bin": os.urandom(300 * 1024)})
        w.start_git_daemon()
        w.data, w.token = w.start_podium(w.net.a, "127.0.0.1:18080", "a")
        env = dict(w.env, HOME=os.path.join(w.tmp, "home"))
        r = subprocess.run(["ip", "netns", "exec", w.net.a, w.bin, "login", "--hub",
                            "http://127.0.0.1:18080", "--token-stdin"], input=(w.token + "\n").encode(),
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert r.returncode == 0, r.stderr
        yield w
    finally:
        w.close()


def config(w, text):
    """DATA/config.yaml of the daemon in namespace A, which is restarted to read it."""
    path = os.path.join(w.data, "config.yaml")
    if text is None:
        if not os.path.exists(path):
            return
        os.remove(path)
    else:
        with open(path, "w") as f:
            f.write(text)
    w.restart("a")


def spaces(w):
    p = w.cli("ls", "--json")
    assert p.returncode == 0, p.err
    import json
    return sorted(s["id"] for s in json.loads(p.out))


def test_private_network_refused_by_default_then_allowed(world):
    w = world
    url = "git://%s/app.git" % NET_B
    config(w, None)
    p = w.cli("create", "cl-app", "--from", url)
    assert p.returncode == 1, (p.returncode, p.err)
    assert "refused by policy" in p.err and "private network" in p.err, p.err
    assert "admin/cl-app" not in spaces(w)
    # the operator allows that network: the same URL clones, builds and serves
    config(w, "clone:\n  allow_networks: [%s/32]\n" % NET_B)
    p = w.cli("create", "cl-app", "--from", url)
    assert p.returncode == 0, p.err
    p = w.cli("status", "cl-app", "--wait", "--timeout", "120")
    assert p.returncode == 0 and "RUNNING" in p.out, (p.out, p.err)
    p = w.net.run(w.net.a, "curl", "-s", "-H", "Host: admin-cl-app.localhost", "http://127.0.0.1:18080/",
                  check=False)
    assert b"cloned over git://" in p.stdout, p
    # the shallow clone takes new commits: a deploy (tree, revision, commit APIs) on top
    p = w.cli("open", "cl-app")
    assert p.out.strip() == "http://admin-cl-app.localhost:18080/"
    src = os.path.join(w.tmp, "redeploy")
    ph.write_files(src, {"index.html": "<h1>redeployed</h1>"})
    p = w.cli("deploy", src, "--space", "cl-app")
    assert p.returncode == 0 and "Publishing 1 file(s)" in p.err, p.err
    p = w.net.run(w.net.a, "curl", "-s", "-H", "Host: admin-cl-app.localhost", "http://127.0.0.1:18080/",
                  check=False)
    assert b"redeployed" in p.stdout, p
    p = w.net.run(w.net.a, "curl", "-s", "-H", "Authorization: Bearer " + w.token,
                  "http://127.0.0.1:18080/api/spaces/admin/cl-app/commits/main", check=False)
    import json
    assert [c["title"] for c in json.loads(p.stdout)] == ["Deploy with podium", "init"], p.stdout


def test_clone_errors_name_the_cause(world):
    w = world
    config(w, "clone:\n  allow_networks: [10.213.7.0/30]\n  max_bytes: 100000\n  timeout: 60\n")
    cases = [
        ("git://%s/nope.git" % NET_B, "not a git repository"),
        ("git://%s:9/app.git" % NET_B, "unreachable"),
        ("git://%s/big.git" % NET_B, "too big"),
        # the daemon itself: loopback, and its own address even where the network is allowed
        ("http://127.0.0.1:18080/spaces/admin/cl-app", "loopback"),
        ("http://%s:18080/spaces/admin/cl-app" % NET_A, "an address of this host"),
        ("http://localhost:18080/spaces/admin/cl-app", "loopback"),
        ("ftp://%s/app.git" % NET_B, "only http, https and git"),
    ]
    for i, (url, why) in enumerate(cases):
        p = w.cli("create", "cl-bad%d" % i, "--from", url)
        assert p.returncode == 1, (url, p.returncode, p.err)
        assert why in p.err and p.err.count("\n") <= 2, (url, p.err)
    assert not [s for s in spaces(w) if s.startswith("admin/cl-bad")]
    # a server that accepts and then says nothing: the clone's timeout ends it
    silent = w.net.popen(w.net.b, "/usr/bin/python3", "-c",
                         "import socket, time\n"
                         "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                         "s.bind(('%s', 9419)); s.listen(8)\n"
                         "conns = []\n"
                         "while True: conns.append(s.accept())\n" % NET_B)
    w.procs.append(silent)
    probe = "import socket; socket.create_connection(('%s', 9419), timeout=2)" % NET_B
    ph.wait_until(lambda: w.net.run(w.net.a, "/usr/bin/python3", "-c", probe, check=False).returncode == 0,
                  "the silent server listens", timeout=30)
    config(w, "clone:\n  allow_networks: [10.213.7.0/30]\n  timeout: 2\n")
    p = w.cli("create", "cl-slow", "--from", "git://%s:9419/app.git" % NET_B)
    assert p.returncode == 1 and "took too long" in p.err, p.err
    assert "admin/cl-slow" not in spaces(w)
    # the client leaves during the clone: the fetch is stopped and the space removed
    # (long before the 600 s timeout)
    config(w, "clone:\n  allow_networks: [10.213.7.0/30]\n  timeout: 600\n")
    env = dict(w.env, HOME=os.path.join(w.tmp, "home"))
    client = w.net.popen(w.net.a, w.bin, "create", "cl-left", "--from", "git://%s:9419/app.git" % NET_B,
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ph.wait_until(lambda: "admin/cl-left" in spaces(w), "the space exists during the clone", timeout=30)
    client.kill()
    client.wait()
    ph.wait_until(lambda: "admin/cl-left" not in spaces(w), "the space is removed", timeout=30)
    # a host list: names not on it are refused before any lookup
    config(w, "clone:\n  hosts: [git.example.org]\n  allow_networks: [10.213.7.0/30]\n")
    p = w.cli("create", "cl-host", "--from", "git://%s/app.git" % NET_B)
    assert p.returncode == 1 and "not among clone: hosts" in p.err, p.err
    # a clone section that cannot be read allows nothing
    config(w, "clone: {hosts: git.example.org}\n")
    p = w.cli("create", "cl-cfg", "--from", "git://%s/app.git" % NET_B)
    assert p.returncode == 1 and "config.yaml" in p.err, p.err
    config(w, None)


def test_clone_over_smart_http_from_another_podium(world):
    w = world
    # its hub host is its address, so that the clone URL reaches the hub
    data_b, tok_b = w.start_podium(w.net.b, "%s:18081" % NET_B, "b", domain=NET_B)
    hub_b = "http://%s:18081" % NET_B
    env = dict(w.env, HOME=os.path.join(w.tmp, "home-b"))
    os.makedirs(env["HOME"], exist_ok=True)
    r = subprocess.run(["ip", "netns", "exec", w.net.b, w.bin, "login", "--hub", hub_b, "--token-stdin"],
                       input=(tok_b + "\n").encode(), env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, r.stderr
    src = os.path.join(w.tmp, "src-b")
    ph.write_files(src, {"index.html": "<h1>cloned over http</h1>"})
    r = subprocess.run(["ip", "netns", "exec", w.net.b, w.bin, "deploy", src, "--space", "src", "--create"],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 0, r.stderr
    config(w, "clone:\n  allow_networks: [%s/32]\n" % NET_B)
    p = w.cli("create", "cl-http", "--from", "%s/spaces/admin/src" % hub_b)
    assert p.returncode == 0, p.err
    p = w.cli("status", "cl-http", "--wait", "--timeout", "120")
    assert p.returncode == 0, (p.out, p.err)
    p = w.net.run(w.net.a, "curl", "-s", "-H", "Host: admin-cl-http.localhost", "http://127.0.0.1:18080/",
                  check=False)
    assert b"cloned over http" in p.stdout, p
    config(w, None)
