"""Private worlds for the TLS tests: a network namespace of the test's own
(Netns), where podium daemons listen on ports 80 and 443 and whatever serves
them listens too (an `openssl ocsp` responder); and in one, Debian's pebble
(Let's Encrypt's test CA) with pebble-challtestsrv as its DNS (every name →
127.0.0.1, and the TXT records a DNS-01 hook publishes) (AcmeWorld), where
pebble validates HTTP-01, TLS-ALPN-01 and DNS-01.

The test process itself enters the namespace (setns on its main thread), so
127.0.0.1 is the namespace's loopback for its sockets and for every process it
starts; it goes back to its own namespace at the end.
"""
import ctypes
import json
import os
import ssl
import subprocess
import tempfile
import time
import urllib.request

CLONE_NEWNET = 0x40000000
DOMAIN = "podium.test"


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True, **kw)


def _setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns %s" % path)
    finally:
        os.close(fd)


def make_ca(d, name, hosts):
    """A CA and a leaf for hosts (SANs) in d: (ca.pem, cert.pem, key.pem)."""
    ca_key, ca = os.path.join(d, name + "-ca.key"), os.path.join(d, name + "-ca.pem")
    key, csr, cert = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem"))
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", ca_key, "-out", ca, "-days", "30", "-subj", "/CN=%s test CA" % name)
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", key, "-out", csr, "-subj", "/CN=%s" % hosts[0])
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join(
            ("IP:" if h[0].isdigit() else "DNS:") + h for h in hosts) + "\n")
    sh("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
       "-out", cert, "-days", "30", "-extfile", ext)
    return ca, cert, key


class Netns:
    """A network namespace the test process enters, with its loopback up; the
    processes it spawns are killed and the namespace deleted at the end."""

    def __init__(self, prefix="podtls"):
        self.ns = "%s-%d" % (prefix, os.getpid())
        self.dir = tempfile.mkdtemp(prefix="podium-%s-" % prefix)
        self.procs = []
        self.orig_fd = None

    def __enter__(self):
        sh("ip", "netns", "add", self.ns)
        self.orig_fd = os.open("/proc/self/ns/net", os.O_RDONLY)
        _setns("/run/netns/" + self.ns)
        sh("ip", "link", "set", "lo", "up")
        try:
            self.started()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def started(self):
        """What runs in the namespace from the start (none here)."""

    def spawn(self, argv, name, env=None):
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
        self.procs.append((p, log))
        return p

    def log(self, name):
        with open(os.path.join(self.dir, name + ".log"), errors="replace") as f:
            return f.read()[-4000:]

    def __exit__(self, *exc):
        for p, log in reversed(self.procs):
            p.kill()
            p.wait()
            log.close()
        if self.orig_fd is not None:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.setns(self.orig_fd, CLONE_NEWNET)
            os.close(self.orig_fd)
            self.orig_fd = None
        sh("ip", "netns", "del", self.ns, check=False)
        if os.environ.get("PODIUM_KEEP") != "1":
            sh("rm", "-rf", self.dir, check=False)


class AcmeWorld(Netns):
    def __init__(self):
        super().__init__("podacme")

    def started(self):
        d = self.dir
        self.api_ca, cert, key = make_ca(d, "pebble-api", ["127.0.0.1", "localhost"])
        cfg = os.path.join(d, "pebble.json")
        with open(cfg, "w") as f:
            json.dump({"pebble": {
                "listenAddress": "127.0.0.1:14000", "managementListenAddress": "127.0.0.1:15000",
                "certificate": cert, "privateKey": key, "httpPort": 80, "tlsPort": 443,
                "ocspResponderURL": "", "externalAccountBindingRequired": False}}, f)
        self.spawn(["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                    "-dns01", "127.0.0.1:8053", "-http01", "", "-https01", "", "-tlsalpn01", "",
                    "-management", "127.0.0.1:8055"], "challtestsrv")
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0",
                   PEBBLE_AUTHZREUSE="0")
        self.spawn(["pebble", "-config", cfg, "-dnsserver", "127.0.0.1:8053", "-strict=false"],
                   "pebble", env=env)
        self.directory = "https://127.0.0.1:14000/dir"
        ctx = ssl.create_default_context(cafile=self.api_ca)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.directory, context=ctx, timeout=5) as r:
                    json.load(r)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        # the root pebble signs with (new at each start): what clients trust
        self.root = os.path.join(d, "pebble-root.pem")
        with urllib.request.urlopen("https://127.0.0.1:15000/roots/0", context=ctx, timeout=10) as r, \
                open(self.root, "wb") as f:
            f.write(r.read())
        # the issued chain's intermediate is signed by it; clients get the chain
        with urllib.request.urlopen("https://127.0.0.1:15000/intermediates/0", context=ctx,
                                    timeout=10) as r, open(self.root, "ab") as f:
            f.write(r.read())

    def config(self, **acme):
        acme.setdefault("directory", self.directory)
        acme.setdefault("ca_file", self.api_ca)
        lines = ["tls:", "  mode: acme", "  acme:"]
        lines += ["    %s: %s" % (k, v) for k, v in acme.items()]
        return "\n".join(lines) + "\n"


def curl(url, root, *extra, timeout=20):
    """curl over the namespace's loopback, names resolved to 127.0.0.1."""
    host = url.split("/")[2].split(":")[0]
    port = "443" if url.startswith("https") else "80"
    return sh("curl", "-sS", "-i", "--max-time", str(timeout), "--cacert", root,
              "--resolve", "%s:%s:127.0.0.1" % (host, port), *extra, url, check=False)


def s_client(name, *extra, port=443, data=b"", timeout=20):
    return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                           "-servername", name, *extra], input=data, capture_output=True,
                          timeout=timeout)
