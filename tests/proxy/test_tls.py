"""The proxy over TLS (proxy/tls_*.c): handshakes with openssl s_client and
curl, SNI, versions and ciphers, resumption, X-Forwarded-Proto, WebSockets,
SSE and uploads through TLS, redirects, HTTP-01 tokens, reloads, bad and
expired certificates, a slowloris and a handshake flood."""
import asyncio
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import raw, recv_until

DOMAIN = "podium.test"


def sh(*args, **kw):
    return subprocess.run(args, capture_output=True, check=True, **kw)


def leaf(d, ca, ca_key, name, hosts, days="30"):
    key, csr, cert = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem"))
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", key, "-out", csr, "-subj", "/CN=%s" % hosts[0])
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + h for h in hosts) + "\n")
    args = ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
            "-CAcreateserial", "-out", cert, "-extfile", ext]
    args += ["-days", days]
    sh(*args)
    with open(cert, "a") as f, open(ca) as c:
        f.write(c.read())
    return cert, key


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tls"))
    ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", ca_key, "-out", ca, "-days", "30", "-subj", "/CN=podium test CA")
    c = {"dir": d, "ca": ca}
    c["hub"] = leaf(d, ca, ca_key, "hub", [DOMAIN, "*." + DOMAIN])
    c["other"] = leaf(d, ca, ca_key, "other", ["other.test"])
    c["hub2"] = leaf(d, ca, ca_key, "hub2", [DOMAIN, "*." + DOMAIN])
    return c


def tls_proxy(proxy_factory, certs, *extra):
    args = ["--tls", "hub=%s,%s" % certs["hub"], "--tls", "other=%s,%s" % certs["other"],
            "--https", "0"] + list(extra)
    return proxy_factory(*args)


def curl(p, certs, url, *extra):
    host = url.split("/")[2]
    return subprocess.run(["curl", "-sS", "-i", "--max-time", "20", "--cacert", certs["ca"],
                           "--resolve", "%s:%d:127.0.0.1" % (host, p.https_port), *extra,
                           url.replace(host, "%s:%d" % (host, p.https_port))],
                          capture_output=True, text=True)


def s_client(p, name, *extra, data=b""):
    return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % p.https_port,
                           "-servername", name, *extra], input=data, capture_output=True,
                          timeout=30)


def subject(out):
    m = re.search(rb"subject=CN *= *([^\n]+)", out)
    return m.group(1).decode().strip() if m else None


def ctx(certs):
    c = ssl.create_default_context(cafile=certs["ca"])
    return c


def tls_sock(p, certs, name="app." + DOMAIN):
    s = socket.create_connection(("127.0.0.1", p.https_port))
    return ctx(certs).wrap_socket(s, server_hostname=name)


def test_handshake_sni_and_hsts(proxy_factory, certs):
    p = tls_proxy(proxy_factory, certs)
    r = curl(p, certs, "https://%s/hello" % DOMAIN)
    assert r.returncode == 0, r.stderr
    assert "hello from hub" in r.stdout and "Strict-Transport-Security: max-age=" in r.stdout
    r = curl(p, certs, "https://app.%s/hello" % DOMAIN)
    assert r.returncode == 0 and "hello app" in r.stdout, r.stderr
    # SNI picks the certificate: other.test gets its own, the hub its own
    assert subject(s_client(p, "other.test").stdout) == "other.test"
    assert subject(s_client(p, DOMAIN).stdout) == DOMAIN
    # an unknown name gets the default one (and is reported as a miss)
    assert subject(s_client(p, "unknown.example").stdout) == DOMAIN
    assert b"unknown.example" in raw(p.port, b"GET /misses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                     b"Connection: close\r\n\r\n")


def test_handshake_waits_for_its_certificate(proxy_factory, certs):
    """On demand: a handshake naming a host no certificate covers waits (its
    ClientHello held) while the host's certificate is being issued, then goes
    on with that certificate; a refused name goes on at once with the default
    one.  (Without --hold, as in files mode, nothing waits: the test above.)"""
    p = proxy_factory("--tls", "hub=%s,%s" % certs["hub"], "--https", "0", "--hold", "60000")
    got = {}

    def connect():
        got["subject"] = subject(s_client(p, "other.test").stdout)
    th = threading.Thread(target=connect)
    th.start()
    misses = b""
    deadline = time.monotonic() + 20
    while b"other.test" not in misses and time.monotonic() < deadline:
        misses = raw(p.port, b"GET /misses HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert b"other.test" in misses
    th.join(1)
    assert th.is_alive(), got  # held, not answered with the default certificate
    cert, key = certs["other"]
    out = raw(p.port, b"GET /load?id=other&cert=%s&key=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Connection: close\r\n\r\n" % (cert.encode(), key.encode()))
    assert out.startswith(b"HTTP/1.1 200"), out
    th.join(30)
    assert not th.is_alive() and got["subject"] == "other.test", got
    # control: a refused name goes on at once (well within the 60 s hold)
    t = time.monotonic()
    assert subject(s_client(p, "no-such.test").stdout) == DOMAIN
    assert time.monotonic() - t < 30


def test_held_handshake_deadline(proxy_factory, certs):
    """A hold no certificate ends runs out at its deadline: the handshake
    then goes on with the default certificate."""
    p = proxy_factory("--tls", "hub=%s,%s" % certs["hub"], "--https", "0", "--hold", "1500")
    t = time.monotonic()
    assert subject(s_client(p, "late.test").stdout) == DOMAIN
    assert time.monotonic() - t >= 1.4  # it did wait


def test_versions_ciphers_and_resumption(proxy_factory, certs, tmp_path):
    p = tls_proxy(proxy_factory, certs)
    out = s_client(p, DOMAIN, "-tls1_3", "-CAfile", certs["ca"]).stdout.decode()
    assert "New, TLSv1.3" in out and "Verify return code: 0 (ok)" in out, out
    out = s_client(p, DOMAIN, "-tls1_2", "-CAfile", certs["ca"]).stdout.decode()
    assert "Protocol  : TLSv1.2" in out and "ECDHE-ECDSA-AES128-GCM-SHA256" in out, out
    # positive control above; old protocols and non-AEAD / non-ECDHE suites are refused
    assert "Cipher is (NONE)" in s_client(p, DOMAIN, "-tls1_1").stdout.decode()
    for weak in ("AES128-SHA", "ECDHE-ECDSA-AES128-SHA", "AES256-GCM-SHA384"):
        out = s_client(p, DOMAIN, "-tls1_2", "-cipher", weak).stdout.decode()
        assert "Cipher is (NONE)" in out, (weak, out)
    for v in ("-tls1_2", "-tls1_3"):
        sess = str(tmp_path / ("sess" + v))
        # a request answered then closed: s_client has the ticket (TLS 1.3
        # sends it after the handshake) before it writes the session
        s_client(p, DOMAIN, v, "-sess_out", sess, "-ign_eof",
                 data=b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        out = s_client(p, DOMAIN, v, "-sess_in", sess).stdout.decode()
        assert "Reused, TLSv1." in out, out


def test_forwarded_proto_and_secure_flag(proxy_factory, certs):
    p = tls_proxy(proxy_factory, certs)
    r = curl(p, certs, "https://app.%s/headers" % DOMAIN)
    assert "X-Forwarded-Proto: https" in r.stdout, r.stdout
    plain = raw(p.port, b"GET /headers HTTP/1.1\r\nHost: nothing.other\r\nConnection: close\r\n\r\n")
    assert b"404" in plain.split(b"\r\n")[0]  # a host no certificate covers: no redirect
    r = curl(p, certs, "https://%s/secure" % DOMAIN)
    assert r.stdout.rstrip().endswith("https")


def app_records(out):
    """How many application data records s_client -msg saw arrive (TLS 1.3:
    the inner content type 0x17)."""
    return len(re.findall(rb"<<< TLS 1.3, InnerContent \[length 0001\]\n\s+17\n", out))


def test_a_turns_writes_are_one_record(proxy_factory, certs):
    """A loop turn's plaintext for a connection is sealed into one record: two
    pipelined requests answered on the spot (each a head and a body, written
    apart) arrive as one record, not four; with plain writes (no batch to wait
    for) each write is its own record."""
    p = tls_proxy(proxy_factory, certs)
    two = b"GET /x HTTP/1.1\r\nHost: nosuch.podium.test\r\n\r\n" + \
        b"GET /x HTTP/1.1\r\nHost: nosuch.podium.test\r\nConnection: close\r\n\r\n"
    out = s_client(p, DOMAIN, "-tls1_3", "-msg", "-ign_eof", data=two).stdout
    assert out.count(b"HTTP/1.1 404") == 2, out[-2000:]
    if "--no-batch-sends" in os.environ.get("PROXY_ARGS", ""):
        assert app_records(out) >= 4
    else:
        assert app_records(out) == 1, out[-3000:]
    # a big body still goes in full records, in order
    s = tls_sock(p, certs)
    n = 3 * 65536 + 1234
    s.sendall(b"GET /big?n=%d HTTP/1.1\r\nHost: app.podium.test\r\n\r\n" % n)
    got = recv_until(s, lambda g: b"\r\n\r\n" in g and
                     len(g.split(b"\r\n\r\n", 1)[1]) >= n)
    assert len(got.split(b"\r\n\r\n", 1)[1]) == n
    s.close()


def test_idle_connection_speaks_again(proxy_factory, certs):
    """An idle connection's record buffers are freed by the loop's sweep (a
    second or two); OpenSSL makes them again when it speaks."""
    p = tls_proxy(proxy_factory, certs)
    s = tls_sock(p, certs)
    for i in range(3):
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: app.podium.test\r\n\r\n")
        assert b"hello app" in recv_until(s, lambda g: b"hello app" in g)
        if i < 2:
            time.sleep(2.5)  # two sweeps: the buffers are gone
    s.close()


def test_http_redirects_and_acme_tokens(proxy_factory, certs, tmp_path):
    acme = tmp_path / "http-01"
    acme.mkdir()
    (acme / "tok_en-1").write_text("tok_en-1.thumbprint")
    p = tls_proxy(proxy_factory, certs, "--acme-dir", str(acme))
    out = raw(p.port, b"GET /a/b?c=1 HTTP/1.1\r\nHost: app.podium.test\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 301") and \
        b"Location: https://app.podium.test:%d/a/b?c=1" % p.https_port in out
    out = raw(p.port, b"POST /form HTTP/1.1\r\nHost: podium.test\r\nContent-Length: 2\r\n"
                      b"Connection: close\r\n\r\nab")
    assert out.startswith(b"HTTP/1.1 308")
    # HTTP-01 tokens on any host, before any redirect; only token characters
    out = raw(p.port, b"GET /.well-known/acme-challenge/tok_en-1 HTTP/1.1\r\nHost: app.podium.test\r\n"
                      b"Connection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200") and out.endswith(b"tok_en-1.thumbprint")
    out = raw(p.port, b"GET /.well-known/acme-challenge/..%2fx HTTP/1.1\r\nHost: a.example\r\n"
                      b"Connection: close\r\n\r\n")
    assert not out.startswith(b"HTTP/1.1 200")


def test_websocket_sse_and_upload_over_tls(proxy_factory, certs):
    import websockets
    p = tls_proxy(proxy_factory, certs)

    async def ws():
        async with websockets.connect("wss://ws.%s:%d/chat" % (DOMAIN, p.https_port),
                                      host="127.0.0.1", port=p.https_port, ssl=ctx(certs),
                                      server_hostname="ws." + DOMAIN) as w:
            for m in ["hello", "x" * 100000, "bye"]:
                await w.send(m)
                assert await w.recv() == m
    asyncio.run(ws())
    s = tls_sock(p, certs)
    s.sendall(b"GET /sse?n=3&ms=100 HTTP/1.1\r\nHost: app.podium.test\r\n\r\n")
    out = recv_until(s, lambda got: b"data: 2" in got)
    assert b"data: 0" in out and b"data: 1" in out
    s.close()
    # a streamed 32 MiB upload, and a 32 MiB download, through TLS
    n = 32 << 20
    s = tls_sock(p, certs)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: app.podium.test\r\nContent-Length: %d\r\n\r\n" % n)
    chunk = b"u" * 65536
    for _ in range(n // len(chunk)):
        s.sendall(chunk)
    out = recv_until(s, lambda got: b"}" in got)
    assert b'{"bytes": %d}' % n in out
    s.sendall(b"GET /big?n=%d HTTP/1.1\r\nHost: app.podium.test\r\n\r\n" % n)
    got = recv_until(s, lambda g: b"\r\n\r\n" in g)
    head, body = got.split(b"\r\n\r\n", 1)
    total = len(body)
    while total < n:
        d = s.recv(1 << 20)
        assert d
        total += len(d)
    assert total == n
    s.close()


def test_reload_and_bad_certificates(proxy_factory, certs, tmp_path):
    d = tmp_path
    cert, key = str(d / "c.pem"), str(d / "k.pem")
    for src, dst in zip(certs["hub"], (cert, key)):
        with open(src) as f, open(dst, "w") as g:
            g.write(f.read())
    p = proxy_factory("--tls", "hub=%s,%s" % (cert, key), "--https", "0")

    def serial():
        out = s_client(p, DOMAIN).stdout
        pem = re.search(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
        return subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem.group(0),
                              capture_output=True).stdout
    first = serial()
    # a key that is not the certificate's: refused, the old one serves on
    with open(certs["other"][1]) as f, open(key, "w") as g:
        g.write(f.read())
    p.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert serial() == first
    # the new pair: served from the next handshake
    for src, dst in zip(certs["hub2"], (cert, key)):
        with open(src) as f, open(dst, "w") as g:
            g.write(f.read())
    p.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 20
    while serial() == first and time.time() < deadline:
        time.sleep(0.2)
    assert serial() != first
    _, err = p.stop()
    assert "key values mismatch" in err or "does not belong" in err


def test_expired_and_garbage_certificates_refused(certs, tmp_path):
    from conftest import HARNESS
    bad = tmp_path / "garbage.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    r = subprocess.run([HARNESS, "--tls", "x=%s,%s" % (bad, certs["hub"][1]), "--https", "0"],
                       capture_output=True, timeout=20)
    assert r.returncode == 2 and b"certificate" in r.stderr
    # expired: a certificate whose notAfter is past (openssl 3.0's CLI cannot
    # backdate one; python3-cryptography can)
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DOMAIN)])
    now = datetime.datetime.now(datetime.timezone.utc)
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
         .serial_number(7).not_valid_before(now - datetime.timedelta(days=30))
         .not_valid_after(now - datetime.timedelta(days=1))
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(DOMAIN)]), False)
         .sign(k, hashes.SHA256()))
    key, cert = tmp_path / "e.key", tmp_path / "e.pem"
    key.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    r = subprocess.run([HARNESS, "--tls", "x=%s,%s" % (cert, key), "--https", "0"],
                       capture_output=True, timeout=20)
    assert r.returncode == 2 and b"not valid now (expired)" in r.stderr, r.stderr
    # control: the same way with a valid pair starts (and is stopped)
    p = subprocess.Popen([HARNESS, "--tls", "x=%s,%s" % certs["hub"], "--https", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline().startswith(b"PORT ")
    p.terminate()
    p.wait(10)


def test_slowloris_over_tls(proxy_factory, certs):
    p = tls_proxy(proxy_factory, certs, "--header-timeout", "1000")
    # a handshake that never finishes: cut like a slow head
    s = socket.create_connection(("127.0.0.1", p.https_port))
    s.sendall(b"\x16\x03\x01\x00\xc8\x01")  # the start of a ClientHello
    s.settimeout(15)
    t = time.monotonic()
    assert s.recv(100) == b""
    assert time.monotonic() - t < 14
    s.close()
    # a finished handshake, then a head trickled: 408 over TLS, then close
    s = tls_sock(p, certs)
    s.sendall(b"GET /hello HTTP/1.1\r\n")
    s.settimeout(15)
    out = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            out += d
    except (ssl.SSLError, ConnectionResetError):
        pass
    assert out.startswith(b"HTTP/1.1 408"), out


def test_handshake_flood(proxy_factory, certs):
    """Hundreds of clients that open a handshake and stall, or send garbage:
    a real client is still served, the garbage is closed at once, the stalled
    ones by the head timeout."""
    # 5 s of head time: the real client's handshake and request, among 80
    # others on a loaded machine (or under TSan), must fit in it
    p = tls_proxy(proxy_factory, certs, "--header-timeout", "5000", "--no-access-log")
    stalled, garbage = [], []
    for i in range(300):
        s = socket.create_connection(("127.0.0.1", p.https_port))
        if i % 2:
            s.sendall(b"\x16\x03\x01\x00\xc8\x01\x00")
            stalled.append(s)
        else:
            s.sendall(b"GET / HTTP/1.1\r\n\r\n" + os.urandom(64))
            garbage.append(s)
    # full handshakes in parallel threads
    errors = []

    def full():
        try:
            for _ in range(20):
                s = tls_sock(p, certs)
                s.close()
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=full) for _ in range(4)]
    for t in threads:
        t.start()
    s = tls_sock(p, certs)
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: app.podium.test\r\n\r\n")
    assert b"hello app" in recv_until(s, lambda g: b"hello app" in g)
    s.close()
    for t in threads:
        t.join(60)
    assert not errors, errors
    for s in garbage:
        s.settimeout(10)
        try:
            while s.recv(4096):
                pass
        except ConnectionResetError:
            pass
        s.close()
    for s in stalled:
        s.settimeout(15)
        try:
            assert s.recv(4096) == b""
        except ConnectionResetError:
            pass
        s.close()
