"""Issue 21.3: a space's secrets and variables are in no process's arguments while
its app runs and its build runs: any local user (here `nobody`) can read every
/proc/PID/cmdline on the machine. Controls: nobody does read the other processes'
arguments (the build's own command among them), and the app and the build do get
the values in their environment."""
import json
import secrets
import subprocess

import pytest

import podium_helpers as ph
from tenants import tenants

NOBODY = 65534

SCAN = r'''
import json, os, sys
needles = [n.encode() for n in sys.stdin.read().split()]  # not in its own arguments
hits, readable = {}, []
for pid in (d for d in os.listdir("/proc") if d.isdigit()):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            line = f.read()
    except OSError:
        continue
    readable.append(line.replace(b"\0", b" ").decode("utf-8", "replace"))
    for n in needles:
        if n in line:
            hits.setdefault(n.decode(), []).append(pid)
print(json.dumps({"hits": hits, "cmdlines": readable}))
'''

APP = r'''
import os
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        b = ("%s|%s" % (os.environ.get("SECRET_KEY"), os.environ.get("PLAIN_VAR"))).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a): pass
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def as_nobody(*needles):
    p = subprocess.run(["/usr/bin/python3", "-c", SCAN], user=NOBODY, group=NOBODY, cwd="/",
                       input=" ".join(needles).encode(), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def space(podium):
    tok, = tenants(podium, "sec-bob")
    secret, var = "s3cret-" + secrets.token_hex(8), "v4r-" + secrets.token_hex(8)
    podium.create_space("vault", sdk="python", token=tok)
    for path, body in (("secrets", {"key": "SECRET_KEY", "value": secret}),
                       ("variables", {"key": "PLAIN_VAR", "value": var})):
        r = podium.api("POST", "/api/spaces/sec-bob/vault/" + path, json=body, token=tok)
        assert r.status == 200, r
    files = {"README.md": ph.front_matter(["sdk: python", "app_file: app.py"]), "app.py": APP}
    wd = podium.workdir_from(None, files)
    podium.push(wd, "sec-bob", "vault", token=tok)
    podium.wait_stage("sec-bob", "vault", "RUNNING")
    yield podium, tok, wd, secret, var
    podium.delete_space("vault", organization="sec-bob", token=tok)


def test_secrets_in_no_process_arguments(space):
    d, tok, wd, secret, var = space
    # the app has them (control)
    r = d.get_app("sec-bob", "vault")
    assert r.status == 200 and r.text == "%s|%s" % (secret, var), r
    # a build runs with them too: it writes what it saw (a digest) and waits
    marker = "build-" + secrets.token_hex(4)
    ph.write_files(wd, {"README.md": ph.front_matter([
        "sdk: python", "app_file: app.py",
        "app_build_command: \"test \\\"$SECRET_KEY\\\" = \\\"$(cat .expect)\\\" && echo "
        "%s-has-it; sleep 120\"" % marker]), ".expect": secret})
    d.push(wd, "sec-bob", "vault", token=tok)
    d.wait_until(lambda: ("%s-has-it" % marker) in d.api(
        "GET", "/api/spaces/sec-bob/vault/logs/build", token=tok).text,
        "the build step runs with the secret", timeout=120)
    seen = as_nobody(secret, var)
    # control: nobody reads the arguments of the build's processes
    assert any("sleep 120" in c for c in seen["cmdlines"]), seen["cmdlines"][:50]
    assert any("podium-sandbox" in c for c in seen["cmdlines"])
    assert seen["hits"] == {}, "secret or variable in the arguments of %r" % seen["hits"]
