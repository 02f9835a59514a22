"""The podium client (issue 15): `build/podium login|whoami|create|deploy|ls|status|
logs|delete|open` against a real daemon, with HOME in a temporary directory."""
import json
import os
import stat
import subprocess
import tempfile

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
EXIT_FAIL, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_AUTH, EXIT_NOTFOUND = 1, 2, 3, 4, 5


@pytest.fixture()
def home(podium):
    d = tempfile.mkdtemp(prefix="cli-home-", dir=podium.scratch)
    return d


def run(podium, home, *args, stdin=None, env=None, timeout=300):
    e = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    e["HOME"] = home
    e.update(env or {})
    p = subprocess.run([podium.binary, *args], input=stdin, env=e, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    p.out = p.stdout.decode("utf-8", "replace")
    p.err = p.stderr.decode("utf-8", "replace")
    return p


def login(podium, home):
    p = run(podium, home, "login", "--hub", "http://127.0.0.1:%d" % podium.port, "--token-stdin",
            stdin=(podium.token + "\n").encode())
    assert p.returncode == 0, p.err
    return p


def test_login_stores_config_0600(podium, home):
    p = login(podium, home)
    assert "admin" in p.stdout.decode()
    path = os.path.join(home, ".config", "podium", "config")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        cfg = json.load(f)
    assert cfg == {"hub": "http://127.0.0.1:%d" % podium.port, "token": podium.token}
    p = run(podium, home, "whoami", "--json")
    assert p.returncode == 0 and json.loads(p.out)["name"] == "admin", p.err


def test_login_wrong_token_is_refused_and_not_stored(podium, home):
    p = run(podium, home, "login", "--hub", "http://127.0.0.1:%d" % podium.port, "--token-stdin",
            stdin=b"hf_" + b"0" * 48 + b"\n")
    assert p.returncode == EXIT_AUTH, (p.returncode, p.err)
    assert "invalid credentials" in p.err and p.err.count("\n") == 1, p.err
    assert not os.path.exists(os.path.join(home, ".config", "podium", "config"))


def test_env_overrides_and_errors(podium, home):
    login(podium, home)
    # PODIUM_TOKEN overrides the stored token
    p = run(podium, home, "whoami", env={"PODIUM_TOKEN": "hf_" + "1" * 48})
    assert p.returncode == EXIT_AUTH and "invalid credentials" in p.err, p.err
    # not logged in at all
    p = run(podium, tempfile.mkdtemp(dir=podium.scratch), "whoami",
            env={"PODIUM_HUB": "http://127.0.0.1:%d" % podium.port})
    assert p.returncode == EXIT_AUTH and "not logged in" in p.err, p.err
    # a hub nobody listens on: PODIUM_HUB overrides the stored hub
    p = run(podium, home, "ls", env={"PODIUM_HUB": "http://127.0.0.1:%d" % ph.free_port()})
    assert p.returncode == EXIT_UNREACHABLE, (p.returncode, p.err)
    assert "cannot reach the hub" in p.err and p.err.count("\n") == 1, p.err
    # control: the stored hub works
    assert run(podium, home, "ls").returncode == 0
    # unknown space
    p = run(podium, home, "status", "no-such-space")
    assert p.returncode == EXIT_NOTFOUND and "not found" in p.err, p.err
    p = run(podium, home, "logs", "admin/no-such-space")
    assert p.returncode == EXIT_NOTFOUND, (p.returncode, p.err)
    # usage errors and --help on every command
    assert run(podium, home, "status").returncode == EXIT_USAGE
    assert run(podium, home, "delete", "x").returncode == EXIT_USAGE
    assert run(podium, home, "ls", "--bogus").returncode == EXIT_USAGE
    for cmd in ("login", "whoami", "create", "deploy", "ls", "status", "logs", "delete", "open",
                "restart", "pause", "sleep-time", "releases", "rollback", "secrets", "vars", "hardware",
                "duplicate"):
        p = run(podium, home, cmd, "--help")
        assert p.returncode == 0 and p.out.startswith("usage: podium " + cmd), (cmd, p.out)


def test_create_deploy_status_logs_ls_delete(podium, home):
    login(podium, home)
    p = run(podium, home, "create", "cli-app", "--sdk", "python")
    assert p.returncode == 0, p.err
    assert "admin/cli-app" in p.out
    p = run(podium, home, "create", "cli-app")
    assert p.returncode == EXIT_FAIL and "exists" in p.err, p.err
    # a folder with a .gitignore: ignored files are not published
    src = podium.workdir_from(os.path.join(ph.EXAMPLES, "python-stdlib"), {
        ".gitignore": "secret.env\ncache/\n",
        "secret.env": "TOKEN=do-not-publish\n",
        "cache/big.bin": b"\0" * 1000,
    })
    p = run(podium, home, "deploy", src, "--space", "cli-app")
    assert p.returncode == 0, p.err
    url = "http://admin-cli-app.localhost:%d/" % podium.port
    assert p.out.strip() == url, p.out
    assert "==> build of admin/cli-app" in p.err  # the build log was followed
    files = [e["path"] for e in podium.api(
        "GET", "/api/spaces/admin/cli-app/tree/main?recursive=true").json()]
    assert "app.py" in files and ".gitignore" in files
    assert "secret.env" not in files and not any(f.startswith("cache") for f in files), files
    assert podium.wait_app(ADMIN, "cli-app").status == 200
    p = run(podium, home, "status", "cli-app", "--wait")
    assert p.returncode == 0 and "RUNNING" in p.out, p.err
    p = run(podium, home, "status", "admin/cli-app", "--json")
    assert json.loads(p.out)["stage"] == "RUNNING"
    p = run(podium, home, "logs", "cli-app", "--build")
    assert p.returncode == 0 and "build of admin/cli-app" in p.out, p.err
    p = run(podium, home, "logs", "cli-app", "--build", "-f", timeout=60)  # ends with the build
    assert p.returncode == 0 and "build of admin/cli-app" in p.out, p.err
    p = run(podium, home, "logs", "cli-app")
    assert p.returncode == 0, p.err
    p = run(podium, home, "ls", "--json")
    assert p.returncode == 0
    [s] = [s for s in json.loads(p.out) if s["id"] == "admin/cli-app"]
    assert s["runtime"]["stage"] == "RUNNING"
    p = run(podium, home, "ls")
    assert "admin/cli-app" in p.out and "RUNNING" in p.out
    assert run(podium, home, "open", "cli-app").out.strip() == url
    # a second deploy sends only what changed, and deletes what is gone
    os.remove(os.path.join(src, "README.md")) if os.path.exists(os.path.join(src, "README.md")) else None
    with open(os.path.join(src, "extra.txt"), "w") as f:
        f.write("new\n")
    p = run(podium, home, "deploy", src, "--space", "cli-app")
    assert p.returncode == 0, p.err
    assert "Publishing 1 file(s)" in p.err, p.err
    # delete needs --yes
    p = run(podium, home, "delete", "cli-app")
    assert p.returncode == EXIT_USAGE and "--yes" in p.err
    assert podium.info(ADMIN, "cli-app").status == 200
    p = run(podium, home, "delete", "cli-app", "--yes")
    assert p.returncode == 0, p.err
    assert podium.info(ADMIN, "cli-app").status == 404


def test_deploy_create_and_failed_build(podium, home):
    login(podium, home)
    src = podium.workdir_from(files={"index.html": "<p>from the cli</p>"})
    # no such space without --create
    p = run(podium, home, "deploy", src, "--space", "cli-new")
    assert p.returncode == EXIT_NOTFOUND and "--create" in p.err, p.err
    p = run(podium, home, "deploy", src, "--space", "cli-new", "--create", "--json")
    assert p.returncode == 0, p.err
    j = json.loads(p.out)
    assert j["ok"] is True and j["stage"] == "RUNNING" and j["url"] == "http://admin-cli-new.localhost:%d" % podium.port
    assert "from the cli" in podium.wait_app(ADMIN, "cli-new").text
    # a build that fails: exit 1 with the stage and the error, the old release serving
    bad = podium.workdir_from(files={
        "README.md": ph.front_matter(["sdk: python", "app_build_command: exit 3"]),
        "app.py": "print('x')\n"})
    p = run(podium, home, "deploy", bad, "--space", "cli-new")
    assert p.returncode == EXIT_FAIL, (p.returncode, p.out, p.err)
    assert "podium: deploy: the new release of admin/cli-new failed" in p.err, p.err
    assert "exit 3" in p.err
    assert "from the cli" in podium.wait_app(ADMIN, "cli-new").text
    p = run(podium, home, "status", "cli-new", "--wait", "--timeout", "120")
    assert p.returncode in (0, EXIT_FAIL)
    run(podium, home, "delete", "cli-new", "--yes")
    # status --wait on an error stage: exit 1
    podium.create_space("cli-empty")
    p = run(podium, home, "status", "cli-empty", "--wait")
    assert p.returncode == EXIT_FAIL and "NO_APP_FILE" in p.out, (p.out, p.err)


def test_lifecycle_and_config_commands(podium, home):
    login(podium, home)
    src = podium.workdir_from(files={"index.html": "v1"})
    assert run(podium, home, "deploy", src, "--space", "cli-life", "--create").returncode == 0
    ph.write_files(src, {"index.html": "v2"})
    assert run(podium, home, "deploy", src, "--space", "cli-life").returncode == 0
    assert podium.wait_app(ADMIN, "cli-life", predicate=lambda r: r.text == "v2")
    p = run(podium, home, "releases", "cli-life", "--json")
    rel = json.loads(p.out)
    assert [r["serving"] for r in rel] == [True, False], rel
    # rollback without a number: the release before the serving one
    p = run(podium, home, "rollback", "cli-life")
    assert p.returncode == 0 and "release %d" % rel[1]["id"] in p.out, p.err
    assert podium.wait_app(ADMIN, "cli-life", predicate=lambda r: r.text == "v1")
    # a secret's value comes from stdin and is never shown
    p = run(podium, home, "secrets", "set", "cli-life", "API_KEY", "--description", "k",
            stdin=b"s3cr3t-value\n")
    assert p.returncode == 0, p.err
    p = run(podium, home, "secrets", "ls", "cli-life")
    assert "API_KEY" in p.out and "s3cr3t" not in p.out, p.out
    assert run(podium, home, "secrets", "rm", "cli-life", "NOPE").returncode == EXIT_NOTFOUND
    assert run(podium, home, "secrets", "rm", "cli-life", "API_KEY").returncode == 0
    assert run(podium, home, "vars", "set", "cli-life", "COLOR", "blue").returncode == 0
    assert "COLOR=blue" in run(podium, home, "vars", "ls", "cli-life").out
    assert run(podium, home, "vars", "rm", "cli-life", "COLOR").returncode == 0
    assert "COLOR" not in run(podium, home, "vars", "ls", "cli-life").out
    assert run(podium, home, "vars", "frob", "cli-life").returncode == EXIT_USAGE
    p = run(podium, home, "hardware", "cli-life", "no-such-flavor")
    assert p.returncode == EXIT_FAIL and "flavor" in p.err, p.err
    p = run(podium, home, "sleep-time", "cli-life", "300", "--json")
    assert p.returncode == 0 and json.loads(p.out)["gcTimeout"] == 300, p.out
    assert run(podium, home, "sleep-time", "cli-life", "soon").returncode == EXIT_USAGE
    p = run(podium, home, "pause", "cli-life")
    assert p.returncode == 0 and "PAUSED" in p.out, p.err
    assert podium.runtime(ADMIN, "cli-life")["stage"] == "PAUSED"
    p = run(podium, home, "restart", "cli-life")
    assert p.returncode == 0, p.err
    assert run(podium, home, "status", "cli-life", "--wait").returncode == 0
    p = run(podium, home, "duplicate", "cli-life", "cli-life2", "--private")
    assert p.returncode == 0, p.err
    assert podium.info(ADMIN, "cli-life2").json()["private"] is True
    assert run(podium, home, "status", "cli-life2", "--wait").returncode == 0
    # private: its app answers its owner only; it builds main (v2), not the rolled-back release
    podium.wait_until(lambda: podium.get_app(ADMIN, "cli-life2", headers={
        "Authorization": "Bearer " + podium.token}).text == "v2", "the duplicate serves v2")
    p = run(podium, home, "duplicate", "cli-life", "cli-life2")
    assert p.returncode == EXIT_FAIL and "exists" in p.err, p.err
    assert run(podium, home, "delete", "cli-life2", "--yes").returncode == 0
    assert run(podium, home, "delete", "cli-life", "--yes").returncode == 0
