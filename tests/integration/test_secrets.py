"""Space variables and secrets (issue 13 items 1 and 2): environment for the app and
its build, secret values never in an API answer, masked in logs and never in clear
in any file under the data dir; a change restarts the app with no failed request;
bad input on every route."""
import json
import os
import secrets as pysecrets

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

APP = r'''
import hashlib, json, os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("MY_SECRET", "")
print("app says " + SECRET, flush=True)
# the same value in two writes, apart: the log writer sees it cut in two reads
half = len(SECRET) // 2
sys.stdout.write("split=" + SECRET[:half]); sys.stdout.flush()
time.sleep(0.3)
sys.stdout.write(SECRET[half:] + "\n"); sys.stdout.flush()

def read(name):
    try:
        with open(name) as f:
            return f.read().strip()
    except OSError:
        return None

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = json.dumps({
            "MY_SECRET": os.environ.get("MY_SECRET"),
            "MY_VAR": os.environ.get("MY_VAR"),
            "OTHER": os.environ.get("OTHER"),
            "build_secret_sha": read("build_secret.sha256"),
            "build_var": read("build_var.txt"),
            "pid": os.getpid(),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''

# The build proves it saw both (the secret only as a hash: a file in the release
# would be a copy in clear under the data dir) and prints the secret for the mask.
BUILD_CMD = ("echo \"build says $MY_SECRET\" && printf %s \"$MY_VAR\" > build_var.txt && "
             "printf %s \"$MY_SECRET\" | sha256sum | cut -d' ' -f1 > build_secret.sha256")


def app_files():
    return {"README.md": ph.front_matter(["sdk: python", "app_file: app.py",
                                          "app_build_command: %s" % json.dumps(BUILD_CMD)]),
            "app.py": APP}


def set_config(podium, name, kind, key, value, description=None, expect=200):
    body = {"key": key, "value": value}
    if description is not None:
        body["description"] = description
    r = podium.api("POST", "/api/spaces/%s/%s/%s" % (ADMIN, name, kind), json=body)
    assert r.status == expect, r
    return r


def app_env(podium, name):
    r = podium.get_app(ADMIN, name, "/env")
    assert r.status == 200, r
    return r.json()


def file_holds(path, needle, chunk=1 << 22):
    """Do the bytes of path hold needle? Read in pieces, the holes of a sparse file
    skipped (a build disk's image is 8 GiB of which a few MiB are written)."""
    with open(path, "rb") as f:
        fd, end = f.fileno(), os.fstat(f.fileno()).st_size
        pos = 0
        while pos < end:
            try:
                pos = os.lseek(fd, pos, os.SEEK_DATA)
                stop = os.lseek(fd, pos, os.SEEK_HOLE)
            except OSError:   # ENXIO: no data after pos
                return False
            # a needle across the start of a piece is found by the overlap
            start = max(0, pos - len(needle))
            while start < stop:
                data = os.pread(fd, min(chunk, stop - start) + len(needle), start)
                if needle in data:
                    return True
                start += chunk
            pos = stop
    return False


def files_containing(root, needle):
    """Every regular file under root whose bytes contain needle (binary too)."""
    hits = []
    for dirpath, dirnames, filenames in os.walk(root):
        for fn in filenames:
            path = os.path.join(dirpath, fn)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            if file_holds(path, needle):
                hits.append(path)
    return hits


def test_secret_and_variable_reach_app_and_build(podium):
    name = "cfg-env"
    secret = "s3cr3t-" + pysecrets.token_hex(12)
    var = "visible-" + pysecrets.token_hex(8)
    podium.create_space(name, sdk="python")
    set_config(podium, name, "variables", "MY_VAR", var, description="a setting")
    set_config(podium, name, "secrets", "MY_SECRET", secret, description="an api key")
    wd = podium.workdir_from(None, app_files())
    podium.push(wd, ADMIN, name)
    podium.wait_stage(ADMIN, name, "RUNNING")

    env = app_env(podium, name)
    assert env["MY_SECRET"] == secret and env["MY_VAR"] == var, env
    assert env["build_var"] == var, env
    import hashlib
    assert env["build_secret_sha"] == hashlib.sha256(secret.encode()).hexdigest(), env

    # variables are public to readers, with value and description
    r = podium.api("GET", "/api/spaces/%s/%s/variables" % (ADMIN, name), token=None)
    assert r.status == 200, r
    v = r.json()["MY_VAR"]
    assert v["value"] == var and v["description"] == "a setting" and v["updatedAt"].endswith("Z"), r
    # secrets: key, description and time, never the value
    r = podium.api("GET", "/api/spaces/%s/%s/secrets" % (ADMIN, name))
    assert r.status == 200, r
    assert set(r.json()["MY_SECRET"]) == {"description", "updatedAt"}, r

    # no API answer carries it (control: the variable's value does appear)
    answers = {}
    for path in ["/api/spaces", "/api/spaces/%s/%s" % (ADMIN, name),
                 "/api/spaces/%s/%s/runtime" % (ADMIN, name),
                 "/api/spaces/%s/%s/secrets" % (ADMIN, name),
                 "/api/spaces/%s/%s/variables" % (ADMIN, name),
                 "/api/spaces/%s/%s/logs/build" % (ADMIN, name),
                 "/api/spaces/%s/%s/logs/run" % (ADMIN, name)]:
        answers[path] = podium.api("GET", path).body
        assert secret.encode() not in answers[path], path
    assert var.encode() in answers["/api/spaces/%s/%s/variables" % (ADMIN, name)]
    r = podium.api("POST", "/api/spaces/%s/%s/secrets" % (ADMIN, name),
                   json={"key": "MY_SECRET", "value": secret})
    assert r.status == 200 and secret.encode() not in r.body, r

    # masked in both logs, also when the app wrote it in two pieces
    build_log = answers["/api/spaces/%s/%s/logs/build" % (ADMIN, name)].decode()
    assert "build says ***" in build_log, build_log
    run_log = ph.wait_until(
        lambda: (lambda t: t if "split=***" in t else None)(
            podium.api("GET", "/api/spaces/%s/%s/logs/run" % (ADMIN, name)).text),
        "the split secret in the run log", timeout=30, alive=podium.assert_alive)
    assert "app says ***" in run_log and secret not in run_log, run_log

    # no file under the data dir holds it in clear: database, WAL, logs, releases
    podium.wait_stage(ADMIN, name, "RUNNING")
    assert files_containing(podium.data_dir, secret.encode()) == []
    # control: the same scan finds the variable (database and the build's file;
    # a daemon whose store is PostgreSQL keeps no database here)
    hits = files_containing(podium.data_dir, var.encode())
    assert any(h.endswith("build_var.txt") for h in hits), hits
    if os.path.exists(os.path.join(podium.data_dir, "podium.db")):
        assert any("podium.db" in os.path.basename(h) for h in hits), hits
    key = os.path.join(podium.data_dir, "secrets.key")
    assert os.stat(key).st_mode & 0o777 == 0o600 and os.path.getsize(key) == 32


def test_change_restarts_without_failed_requests(podium):
    name = "cfg-restart"
    podium.create_space(name, sdk="python")
    set_config(podium, name, "variables", "MY_VAR", "one")
    wd = podium.workdir_from(None, app_files())
    podium.push(wd, ADMIN, name)
    podium.wait_stage(ADMIN, name, "RUNNING")
    before = app_env(podium, name)
    assert before["MY_VAR"] == "one", before

    loader = ph.Loader(podium, ADMIN, name, path="/env", mode="fresh").start()
    try:
        set_config(podium, name, "variables", "MY_VAR", "two")
        after = ph.wait_until(lambda: (lambda e: e if e["MY_VAR"] == "two" else None)(
            app_env(podium, name)), "the app restarted with MY_VAR=two", timeout=ph.DEPLOY_TIMEOUT,
            alive=podium.assert_alive)
        assert after["pid"] != before["pid"] or after["MY_VAR"] != before["MY_VAR"]
        set_config(podium, name, "secrets", "OTHER", "hidden-other")
        ph.wait_until(lambda: app_env(podium, name)["OTHER"] == "hidden-other",
                      "the app restarted with the secret", timeout=ph.DEPLOY_TIMEOUT,
                      alive=podium.assert_alive)
        r = podium.api("DELETE", "/api/spaces/%s/%s/secrets" % (ADMIN, name), json={"key": "OTHER"})
        assert r.status == 200 and r.json() == {}, r
        ph.wait_until(lambda: app_env(podium, name)["OTHER"] is None,
                      "the app restarted without the secret", timeout=ph.DEPLOY_TIMEOUT,
                      alive=podium.assert_alive)
        podium.wait_stage(ADMIN, name, "RUNNING")
    finally:
        loader.stop()
    assert len(loader.results) > 20, len(loader.results)
    assert loader.failures() == [], loader.failures()[:5]


@pytest.mark.parametrize("kind", ["secrets", "variables"])
def test_bad_input(podium, kind):
    name = "cfg-bad"
    if podium.info(ADMIN, name).status == 404:
        podium.create_space(name, sdk="static")
    path = "/api/spaces/%s/%s/%s" % (ADMIN, name, kind)

    def post(body, token=ph.DEFAULT, raw=None):
        if raw is not None:
            return ph.http_request(podium.port, "POST", path, podium.hub_host, raw,
                                   {"Authorization": "Bearer %s" % podium.token,
                                    "Content-Type": "application/json"})
        return podium.api("POST", path, json=body, token=token)

    for key in ["1ABC", "A-B", "", "A B", "PORT", "PATH", "HOME", "SPACE_ID", "SPACE_X", "é"]:
        r = post({"key": key, "value": "v"})
        assert r.status == 400 and "error" in r.json(), (key, r)
    for body in [{"key": "K", "value": ""}, {"key": "K"}, {"value": "v"}, {"key": 3, "value": "v"},
                 {"key": "K", "value": 3}, {"key": "K", "value": "a\u0000b"},
                 {"key": "K", "value": "v", "description": 5},
                 {"key": "K", "value": "x" * (64 * 1024 + 1)}]:
        r = post(body)
        assert r.status == 400, (body if len(json.dumps(body)) < 100 else "big", r)
        if isinstance(body.get("value"), str) and len(body["value"]) > 1000:
            assert b"xxxxxxxx" not in r.body, r  # the value is not echoed
    for raw in [b"{not json", b"[1, 2]", b""]:
        assert post(None, raw=raw).status == 400, raw
    # the limit itself is fine (control for the oversize case)
    r = post({"key": "BIG", "value": "y" * (64 * 1024)})
    assert r.status == 200, r
    r = podium.api("DELETE", path, json={"key": "BIG"})
    assert r.status == 200, r
    # a deleted or unknown key
    r = podium.api("DELETE", path, json={"key": "BIG"})
    assert r.status == 404, r
    r = podium.api("DELETE", path, json={})
    assert r.status == 400, r
    # unknown space, no or bad token, wrong method
    r = podium.api("POST", "/api/spaces/%s/nope/%s" % (ADMIN, kind), json={"key": "K", "value": "v"})
    assert r.status == 404, r
    r = post({"key": "K", "value": "v"}, token=None)
    assert r.status == 401, r
    r = post({"key": "K", "value": "v"}, token="hf_not_a_token")
    assert r.status == 401, r
    r = podium.api("DELETE", path, json={"key": "K"}, token=None)
    assert r.status == 401, r
    r = podium.api("PUT", path, json={"key": "K", "value": "v"})
    assert r.status == 405, r
    r = podium.api("GET", path, token=None)
    assert r.status == (401 if kind == "secrets" else 200), r
    # one name is either a variable or a secret
    other = "variables" if kind == "secrets" else "secrets"
    r = podium.api("POST", "/api/spaces/%s/%s/%s" % (ADMIN, name, other),
                   json={"key": "SHARED_" + kind, "value": "v"})
    assert r.status == 200, r
    r = post({"key": "SHARED_" + kind, "value": "v"})
    assert r.status == 409, r
    # nothing bad was stored
    r = podium.api("GET", path)
    assert r.status == 200 and set(r.json()) <= {"SHARED_variables", "SHARED_secrets"}, r
    podium.assert_alive()
