"""HTTPS from the operator's files (tls: mode: files) in a network namespace of
the test's own: the hub over HTTPS with the files' certificate, the files
loaded again when they change, and OCSP stapling from an `openssl ocsp`
responder in the namespace (port 8888, named by the certificates' Authority
Information Access): a good status is stapled, a revoked one is not."""
import datetime
import os
import re
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import podium_helpers as ph  # noqa: E402
from tls_env import DOMAIN, Netns, curl, s_client, sh  # noqa: E402

OCSP_PORT = 8888


def make_pki(d):
    """A CA, and two leaves for the hub and *.DOMAIN naming the namespace's
    OCSP responder: good (serial 0x1001) and revoked (0x1002)."""
    ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", ca_key, "-out", ca, "-days", "30", "-subj", "/CN=podium files test CA",
       "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
    ext = os.path.join(d, "leaf.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s,DNS:*.%s\nauthorityInfoAccess=OCSP;URI:http://127.0.0.1:%d\n"
                % (DOMAIN, DOMAIN, OCSP_PORT))
    leaves, index = {}, []
    for name, serial, status in (("good", "1001", "V"), ("revoked", "1002", "R")):
        key, csr, cert = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem"))
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", key, "-out", csr, "-subj", "/CN=%s" % DOMAIN)
        sh("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-set_serial",
           "0x" + serial, "-out", cert, "-days", "20", "-extfile", ext)
        end = sh("openssl", "x509", "-in", cert, "-noout", "-enddate").stdout.split("=", 1)[1]
        end = datetime.datetime.strptime(end.strip(), "%b %d %H:%M:%S %Y %Z")
        revoked = datetime.datetime.utcnow().strftime("%y%m%d%H%M%SZ") if status == "R" else ""
        index.append("\t".join([status, end.strftime("%y%m%d%H%M%SZ"), revoked, serial,
                                "unknown", "/CN=%s" % DOMAIN]))
        with open(cert, "a") as f, open(ca) as c:
            f.write(c.read())  # the full chain: the issuer is what OCSP asks about
        leaves[name] = (cert, key)
    with open(os.path.join(d, "index.txt"), "w") as f:
        f.write("\n".join(index) + "\n")
    return ca, ca_key, leaves


def install(pair, cert, key):
    """The operator renews: new files moved in place."""
    for src, dst in zip(pair, (cert, key)):
        shutil.copy(src, dst + ".new")
        os.rename(dst + ".new", dst)


def stapled(ca):
    out = s_client(DOMAIN, "-status", "-CAfile", ca).stdout.decode(errors="replace")
    # the served one (an OCSP response prints its signer's certificate first)
    leaf = out.split("Server certificate", 1)[-1]
    serial = re.search(r"serial=?\s*([0-9A-F]+)", sh("openssl", "x509", "-noout", "-serial",
                                                       input=leaf, check=False).stdout)
    return out, serial.group(1) if serial else None


@pytest.fixture(scope="module")
def world():
    with Netns("podfiles") as w:
        yield w


def test_files_reload_and_ocsp_stapling(world):
    ca, ca_key, leaves = make_pki(world.dir)
    world.spawn(["openssl", "ocsp", "-index", os.path.join(world.dir, "index.txt"), "-port",
                 str(OCSP_PORT), "-rsigner", ca, "-rkey", ca_key, "-CA", ca, "-ignore_err"], "ocsp")
    cert, key = os.path.join(world.dir, "live.pem"), os.path.join(world.dir, "live.key")
    install(leaves["good"], cert, key)
    d = ph.Daemon(domain=DOMAIN)
    d.port = 80
    d.extra_args = ["--https", "127.0.0.1:443"]
    d.extra_env = {"PODIUM_TLS_CHECK_MS": "300"}
    with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
        f.write("tls:\n  mode: files\n  files: {cert: %s, key: %s}\n" % (cert, key))
    d.start()
    try:
        r = curl("https://%s/api/health" % DOMAIN, ca)
        assert r.returncode == 0 and "HTTP/1.1 200" in r.stdout, r.stderr

        def state():
            return d.api("GET", "/api/admin/tls").json()["certificates"][0]
        # a good status: fetched and stapled
        d.wait_until(lambda: state()["ocsp"], "an OCSP response (%r)" % (state(),), timeout=60)
        out, serial = stapled(ca)
        assert serial == "1001", out
        assert "OCSP Response Status: successful" in out and "Cert Status: good" in out, out
        assert "Verify return code: 0 (ok)" in out, out
        # the files change: loaded again, without a restart; its status is
        # revoked: asked for, and not stapled
        install(leaves["revoked"], cert, key)
        d.wait_until(lambda: stapled(ca)[1] == "1002", "the new certificate served", timeout=30)
        d.wait_until(lambda: "no OCSP response" in d.log_tail(2000), "the revoked status seen",
                     timeout=60)
        out, _ = stapled(ca)
        assert "OCSP response: no response sent" in out and "Cert Status" not in out, out
        assert not state()["ocsp"]
    finally:
        try:
            assert d.stop() == 0, d.log_tail()
        finally:
            d.cleanup()
