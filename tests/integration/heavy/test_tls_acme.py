"""HTTPS with certificates from a real ACME CA (Debian's pebble) in a network
namespace of the test's own: the hub's certificate at start, a space's on its
first handshake (HTTP-01 on port 80; the handshake waits for it), a refused
name, renewal, a failed issuance backing off (and handshakes not waiting for
it), TLS-ALPN-01, DNS-01 through an operator's hook (pebble-challtestsrv as
the DNS), a deleted space's certificate removed, redirects, HSTS and Secure
cookies."""
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


def served_names(name):
    """The DNS names of the certificate a handshake for name gets."""
    out = s_client(name).stdout
    pem = re.search(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    assert pem, out[-2000:]
    r = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=pem.group(0),
                       capture_output=True)
    return set(re.findall(r"DNS:([^,\s]+)", r.stdout.decode()))


def deploy_static(d, name):
    d.create_space(name, sdk="static")
    w = d.workdir_from(os.path.join(ph.EXAMPLES, "static"))
    d.commit(w)
    d.push(w, "admin", name)
    d.wait_stage("admin", name, {"RUNNING"})
    return "admin-%s.%s" % (name, DOMAIN)


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
        assert cert_of(d, host) is None
        # the first handshake names a space without a certificate: it is
        # asked for on demand, and that very handshake waits for it (curl
        # checks it against pebble's root: the hub's would not name the host)
        r = curl("https://%s/" % host, world.root, timeout=90)
        assert r.returncode == 0 and "HTTP/1.1 200" in r.stdout, (r.stdout, r.stderr)
        c = cert_of(d, host)
        assert c["source"] == "acme" and c["state"] == "valid"
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
    d = daemon(world, env={"PODIUM_ACME_CHALLENGE": "none", "PODIUM_TLS_BACKOFF_MS": "60000",
                           "PODIUM_TLS_HOLD_MS": "60000"})
    try:
        d.wait_until(lambda: (cert_of(d, DOMAIN) or {}).get("failures", 0) >= 1, "a failure",
                     timeout=120)
        c = cert_of(d, DOMAIN)
        assert c["state"] == "failed" and c["lastError"] and c["nextAttempt"] > time.time() + 30
        # a handshake for it does not wait out its hold (60 s here) for an
        # issuance that is backing off: it goes on at once (no certificate
        # at all here: refused)
        t = time.monotonic()
        s_client(DOMAIN)
        assert time.monotonic() - t < 30
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


def test_deleted_space_loses_its_certificate(world):
    d = daemon(world)
    try:
        wait_valid(d, DOMAIN)
        host = deploy_static(d, "gone")
        r = curl("https://%s/" % host, world.root, timeout=90)
        assert "HTTP/1.1 200" in r.stdout, (r.stdout, r.stderr)
        acme = os.path.join(d.data_dir, "tls", "acme")
        files = [os.path.join(acme, host, "cert.pem"), os.path.join(acme, "private", host, "key.pem")]
        assert all(os.path.exists(f) for f in files)
        assert host in served_names(host)
        d.delete_space("gone")
        d.wait_until(lambda: cert_of(d, host) is None, "the certificate forgotten", timeout=60)
        assert not any(os.path.exists(f) for f in files), files
        # gone from memory too: a handshake for the name gets the hub's
        # certificate, at once (a name that is no space is not waited for)
        t = time.monotonic()
        assert host not in served_names(host)
        assert time.monotonic() - t < 20
        # control: the hub's certificate stays
        assert cert_of(d, DOMAIN)["state"] == "valid" and DOMAIN in served_names(DOMAIN)
    finally:
        stop(d)


def test_dns01_wildcard_through_the_operators_hook(world):
    """With a dns_hook the apps get one wildcard by DNS-01 (here on the hub's
    certificate: the app domain is the hub's): the hook of the test's own
    publishes the TXT record in pebble-challtestsrv, which pebble asks."""
    hook = os.path.join(world.dir, "dns-hook")
    log = hook + ".log"
    with open(hook, "w") as f:
        f.write("""#!/bin/sh
# METHOD TYPE IDENT TOKEN AUTH, from uacme through podium's hook
echo "$@" >> %s
[ "$2" = dns-01 ] || exit 1
case "$1" in
begin) body='{"host":"_acme-challenge.'"$3"'.","value":"'"$5"'"}'; path=set-txt ;;
*) body='{"host":"_acme-challenge.'"$3"'."}'; path=clear-txt ;;
esac
exec curl -sSf --max-time 10 -d "$body" http://127.0.0.1:8055/$path
""" % log)
    os.chmod(hook, 0o755)
    d = daemon(world, dns_hook=hook, env={"PODIUM_ACME_CHALLENGE": "none"})
    try:
        wait_valid(d, DOMAIN)
        assert {DOMAIN, "*." + DOMAIN} <= served_names(DOMAIN)
        with open(log) as f:
            calls = f.read().splitlines()
        assert any(c.startswith("begin dns-01 %s " % DOMAIN) for c in calls), calls
        assert any(c.startswith("done dns-01 %s " % DOMAIN) for c in calls), calls
        # a space's host is served by the wildcard: no certificate of its own
        host = deploy_static(d, "wild")
        r = curl("https://%s/" % host, world.root)
        assert r.returncode == 0 and "HTTP/1.1 200" in r.stdout, (r.stdout, r.stderr)
        assert cert_of(d, host) is None
        assert [c["host"] for c in tls_state(d)["certificates"]] == [DOMAIN]
    finally:
        stop(d)
