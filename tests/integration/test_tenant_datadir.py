"""Issue 21.4: nothing under --data is another local user's to read. The data dir here
sits where any local user may walk (its parent 0755, itself 0755 as an operator
might make it): `nobody` cannot read a private space's source with `git show`, the
database, the secrets key, logs or releases; an older data dir (everything readable)
is fixed at start. Controls: the same commands succeed as root, nobody reads a
world-readable file next to the data dir, and the apps still reach their release and
/data through their own uid."""
import json
import os
import stat
import subprocess

import pytest

import podium_helpers as ph
from tenants import tenants

NOBODY = 65534

WALK = r'''
import json, os, sys
readable = []
for root, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        try:
            with open(p, "rb") as fh:
                fh.read(1)
            readable.append(p)
        except OSError:
            pass
print(json.dumps(readable))
'''

APP = r'''
import os
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        with open("/data/n", "a+") as f:
            f.write("x"); f.seek(0); n = len(f.read())
        b = ("%s %d" % (open("app.py").read()[:9], n)).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a): pass
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def as_nobody(*cmd):
    return subprocess.run(list(cmd), user=NOBODY, group=NOBODY, cwd="/", capture_output=True,
                          timeout=60, env={"HOME": "/", "PATH": "/usr/bin:/bin"})


def git_show(repo, user):
    run = as_nobody if user == "nobody" else (
        lambda *c: subprocess.run(list(c), capture_output=True, timeout=60))
    return run("git", "-c", "safe.directory=*", "--git-dir", repo, "show", "HEAD:app.py")


@pytest.fixture(scope="module")
def d():
    d = ph.Daemon()
    # a place every local user may walk, as /srv or /var/lib would be
    os.chmod(d.workdir, 0o755)
    os.chmod(d.data_dir, 0o755)
    with open(os.path.join(d.workdir, "public.txt"), "w") as f:
        f.write("anyone\n")
    os.chmod(os.path.join(d.workdir, "public.txt"), 0o644)
    try:
        d.start()
        tok, = tenants(d, "dd-bob")
        d.create_space("priv", sdk="python", private=True, token=tok)
        d.push(d.workdir_from(None, {"README.md": ph.front_matter(["sdk: python", "app_file: app.py"]),
                                     "app.py": APP}), "dd-bob", "priv", token=tok)
        d.wait_stage("dd-bob", "priv", "RUNNING")
        d.bob = tok
        yield d
        assert d.stop() == 0, d.log_tail()
    finally:
        d.cleanup()


def app_answers(d):
    r = d.get_app("dd-bob", "priv", headers={"Authorization": "Bearer " + d.bob})
    return r.status == 200 and r.text.startswith("\nimport o")


def assert_private(d):
    repo = os.path.join(d.data_dir, "repos", "dd-bob", "priv.git")
    # control: the command itself works, as root
    assert git_show(repo, "root").returncode == 0
    assert as_nobody("cat", os.path.join(d.workdir, "public.txt")).stdout == b"anyone\n"
    p = git_show(repo, "nobody")
    assert p.returncode != 0 and b"HTTPServer" not in p.stdout, p
    p = as_nobody("cat", os.path.join(d.data_dir, "podium.db"))
    assert p.returncode != 0 and not p.stdout, p
    readable = json.loads(as_nobody("/usr/bin/python3", "-c", WALK, d.data_dir).stdout)
    assert readable == [], readable
    st = os.stat(d.data_dir)
    assert stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    for f in ("podium.db", "podium.db-wal", "secrets.key", "admin.token"):
        path = os.path.join(d.data_dir, f)
        if os.path.exists(path):
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, (f, oct(os.stat(path).st_mode))
    for sub in ("repos", "releases", "logs", "spacedata", "repos/dd-bob", "releases/dd-bob",
                "logs/dd-bob", "repos/dd-bob/priv.git"):
        m = stat.S_IMODE(os.stat(os.path.join(d.data_dir, sub)).st_mode)
        assert m & 0o077 == 0, (sub, oct(m))
    for f in os.listdir(os.path.join(d.data_dir, "logs", "dd-bob", "priv")):
        m = stat.S_IMODE(os.stat(os.path.join(d.data_dir, "logs", "dd-bob", "priv", f)).st_mode)
        assert m & 0o077 == 0, (f, oct(m))


def test_nobody_reads_nothing_under_data(d):
    assert_private(d)
    # the box still reaches its own release and /data (the CLI's token reaches the
    # proxy within a second)
    d.wait_until(lambda: app_answers(d), "the private app serves its owner")


def test_an_older_data_dir_is_fixed_at_start(d):
    assert d.stop() == 0
    # what an older podium left: readable by anyone
    subprocess.run(["chmod", "-R", "a+rX", d.data_dir], check=True)
    assert git_show(os.path.join(d.data_dir, "repos", "dd-bob", "priv.git"), "nobody").returncode == 0
    d.start()
    assert_private(d)
    d.wait_until(lambda: app_answers(d), "the app serves again after the restart", timeout=120)
