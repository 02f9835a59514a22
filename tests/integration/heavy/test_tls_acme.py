"""HTTPS with certificates from a real ACME CA (Debian's pebble) in a network
namespace of the test's own: the hub's certificate at start, a space's on its
first handshake (HTTP-01 on port 80), a refused name, renewal, a failed
issuance backing off, TLS-ALPN-01, redirects, HSTS and Secure cookies."""
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import podium_helpers as ph  # noqa: E402
from tls_env import DOMAIN, AcmeWorld, curl, s_client  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("pebble") is None or shutil.which("uacme") is None,
                                reason="pebble and uacme (Debian packages) are needed")


@pytest.fixture(scope="module")
def world():
    with AcmeWorld() as w:
        yield w


def daemon(world, env=None, **acme):
    d = ph.Daemon(domain=DOMAIN)
    d.port = 80
    d.extra_args = ["--https", "127.0.0.1:443"]
    d.extra_env = dict(env or {})
    d.extra_env.setdefault("PODIUM_TLS_CHECK_MS", "300")
    with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
        f.write(world.config(**acme))
    d.start()
    return d


def tls_state(d):
    return d.api("GET", "/api/admin/tls").json()


def cert_of(d, host):
    for c in tls_state(d)["certificates"]:
        if c["host"] == host:
            return c
    return None


def wait_valid(d, host, timeout=120):
    def ok():
        c = cert_of(d, host)
        return c is not None and c["state"] == "valid"
    d.wait_until(ok, "a certificate for %s (%r)" % (host, tls_state(d)), timeout=timeout)
    return cert_of(d, host)


def serial(name):
    out = s_client(name).stdout
    pem = re.search(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    assert pem, out[-2000:]
    r = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem.group(0),
                       capture_output=True)
    return r.stdout.decode().strip()


def stop(d):
    try:
        assert d.stop() == 0, d.log_tail()
    finally:
        d.cleanup()


def test_hub_and_space_certificates_issued_by_acme(world):
    d = daemon(world, email="ops@podium.test")
    try:
        hub = wait_valid(d, DOMAIN)
        assert hub["source"] == "acme" and hub["expiresIn"] > 0
        # keys and certificates 0600 in the data dir
        tls = os.path.join(d.data_dir, "tls", "acme")
        for p in ("private/key.pem", "private/%s/key.pem" % DOMAIN, "%s/cert.pem" % DOMAIN):
            assert os.stat(os.path.join(tls, p)).st_mode & 0o777 == 0o600, p
        # the hub over HTTPS, trusted through pebble's root; HSTS; http redirects
        r = curl("https://%s/api/health" % DOMAIN, world.root)
        assert r.returncode == 0, r.stderr
        assert "HTTP/1.1 200" in r.stdout and "strict-transport-security: max-age=" in r.stdout.lower()
        r = curl("http://%s/api/spaces?x=1" % DOMAIN, world.root)
        assert "301" in r.stdout.splitlines()[0]
        assert "location: https://%s/api/spaces?x=1" % DOMAIN in r.stdout.lower()
        # the API's URLs are https ones
        d.create_space("hello", sdk="static")
        info = d.info("admin", "hello").json()
        assert info["host"] == "https://admin-hello.%s" % DOMAIN
        w = d.workdir_from(os.path.join(ph.EXAMPLES, "static"))
        d.commit(w)
        d.push(w, "admin", "hello")
        d.wait_stage("admin", "hello", {"RUNNING"})
        host = "admin-hello." + DOMAIN
        # the first handshake names a space without a certificate: asked for on demand
        s_client(host)
        c = wait_valid(d, host)
        assert c["source"] == "acme"
        r = curl("https://%s/" % host, world.root)
        assert r.returncode == 0 and "HTTP/1.1 200" in r.stdout, (r.stdout, r.stderr)
        # the app gets X-Forwarded-Proto through the proxy: checked by the proxy
        # suite; here the redirect of the space's plain host once HTTPS serves it
        r = curl("http://%s/x" % host, world.root)
        assert "location: https://%s/x" % host in r.stdout.lower()
        # a name that is neither the hub nor a space: refused (no CA request)
        before = tls_state(d)["refused"]
        s_client("nosuch-space." + DOMAIN)
        s_client("evil.example.org")
        d.wait_until(lambda: tls_state(d)["refused"] >= before + 2, "refusals counted")
        st = tls_state(d)
        hosts = [c["host"] for c in st["certificates"]]
        assert "nosuch-space." + DOMAIN not in hosts and "evil.example.org" not in hosts
        assert "evil.example.org" not in world.log("pebble")
        # expiry per host on /metrics
        m = d.api("GET", "/metrics").text
        assert 'podium_tls_certificate_expiry_seconds{host="%s"' % host in m
        # the admin page's section
        page = d.api("GET", "/admin", headers={"Accept": "text/html"}).text
        assert "HTTPS certificates" in page and host in page
        # TLS 1.3 and 1.2 with modern ciphers; 1.1 refused; resumption
        out = s_client(host, "-tls1_3", "-CAfile", world.root).stdout.decode()
        assert "New, TLSv1.3" in out and "Verify return code: 0 (ok)" in out, out
        out = s_client(host, "-tls1_2", "-CAfile", world.root).stdout.decode()
        assert "Protocol  : TLSv1.2" in out and "ECDHE" in out and "Verify return code: 0 (ok)" in out
        assert b"Cipher is (NONE)" in s_client(host, "-tls1_1").stdout or \
            s_client(host, "-tls1_1").returncode != 0
        sess = os.path.join(d.workdir, "sess.pem")
        s_client(host, "-tls1_2", "-sess_out", sess)
        out = s_client(host, "-tls1_2", "-sess_in", sess).stdout.decode()
        assert "Reused, TLSv1.2" in out, out
        # the session cookie is Secure over HTTPS
        subprocess.run([d.binary, "user", "passwd", "admin", "--password-stdin", "--data",
                        d.data_dir], input=b"a long password\n", check=True)
        r = curl("https://%s/login" % DOMAIN, world.root)
        m = re.search(r"set-cookie: podium_login=([0-9a-f]+)", r.stdout, re.I)
        assert m and "Secure" in r.stdout.split("podium_login=")[1].splitlines()[0]
        r = curl("https://%s/login" % DOMAIN, world.root, "-H", "Origin: https://%s" % DOMAIN,
                 "-H", "Cookie: podium_login=%s" % m.group(1), "--data",
                 "username=admin&password=a+long+password&csrf=%s" % m.group(1))
        line = [l for l in r.stdout.splitlines() if l.lower().startswith("set-cookie: podium_session=")]
        assert line and "; Secure" in line[0], r.stdout
    finally:
        stop(d)


def test_renewal_before_expiry(world):
    # a renewal window wider than the certificate's life: due at once (after
    # the first backoff), so a renewal is seen within seconds
    d = daemon(world, env={"PODIUM_TLS_RENEW_BEFORE": str(10 ** 10), "PODIUM_TLS_BACKOFF_MS": "1000"})
    try:
        wait_valid(d, DOMAIN)
        first = serial(DOMAIN)
        d.wait_until(lambda: (cert_of(d, DOMAIN) or {}).get("renewals", 0) >= 1, "a renewal",
                     timeout=120)
        d.wait_until(lambda: serial(DOMAIN) != first, "the renewed certificate served", timeout=30)
    finally:
        stop(d)


def test_failed_issuance_backs_off(world):
    # the hook takes no challenge type: every issuance fails, and is retried later
    d = daemon(world, env={"PODIUM_ACME_CHALLENGE": "none", "PODIUM_TLS_BACKOFF_MS": "60000"})
    try:
        d.wait_until(lambda: (cert_of(d, DOMAIN) or {}).get("failures", 0) >= 1, "a failure",
                     timeout=120)
        c = cert_of(d, DOMAIN)
        assert c["state"] == "failed" and c["lastError"] and c["nextAttempt"] > time.time() + 30
        time.sleep(2)
        assert cert_of(d, DOMAIN)["failures"] == 1  # not hammering the CA
    finally:
        stop(d)


def test_tls_alpn_01(world):
    d = daemon(world, env={"PODIUM_ACME_CHALLENGE": "tls-alpn-01"})
    try:
        wait_valid(d, DOMAIN)
        r = curl("https://%s/api/health" % DOMAIN, world.root)
        assert "HTTP/1.1 200" in r.stdout, r.stderr
    finally:
        stop(d)
