"""What a pushed python app gets (INTERFACES.md "App contract"), zero-downtime
redeploys, /data persistence, and a failed build leaving the old release serving."""
import json
import os
import time
import uuid

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
PROBE = os.path.join(ph.APPS, "probe")


def probe_config(version, startup_delay=0):
    return {"probe_config.json": json.dumps({"version": version, "startup_delay": startup_delay})}


def served(version):
    return lambda r: r.status == 200 and r.text.strip() == "probe %s" % version


@pytest.fixture(scope="module")
def spaces(podium):
    """probe (default port), porty (app_port: 8123), keeper (static, for the failed build)."""
    podium.create_space("probe", sdk="python")
    probe_wd = podium.workdir_from(PROBE, probe_config("v1"))
    podium.push(probe_wd, ADMIN, "probe")

    podium.create_space("porty", sdk="python")
    readme = open(os.path.join(PROBE, "README.md")).read().replace(
        "app_file: app.py\n", "app_file: app.py\napp_port: 8123\n")
    porty_wd = podium.workdir_from(PROBE, dict(probe_config("p1"), **{"README.md": readme}))
    podium.push(porty_wd, ADMIN, "porty")

    podium.create_space("keeper", sdk="static")
    keeper_wd = podium.workdir_from(None, {
        "README.md": ph.front_matter(["title: Keeper", "sdk: static"]),
        "index.html": "<p>keeper release one</p>\n"})
    podium.push(keeper_wd, ADMIN, "keeper")

    for name in ("probe", "porty", "keeper"):
        podium.wait_stage(ADMIN, name, "RUNNING")
    podium.wait_app(ADMIN, "probe", predicate=served("v1"))
    return {"probe": probe_wd, "porty": porty_wd, "keeper": keeper_wd}


def probe_env(podium, name="probe"):
    r = podium.get_app(ADMIN, name, "/api/env")
    assert r.status == 200, r
    return r.json()


def test_app_env(podium, spaces):
    j = probe_env(podium)
    env = j["env"]
    assert env["SPACE_ID"] == "admin/probe"
    assert env["SPACE_AUTHOR_NAME"] == "admin"
    assert env["SPACE_REPO_NAME"] == "probe"
    assert env["SPACE_TITLE"] == "Probe"
    # HF sets SPACE_HOST to the bare host name; a ":PORT" suffix is tolerated here
    assert env["SPACE_HOST"] in ("admin-probe.localhost", "admin-probe.localhost:%d" % podium.port)
    assert env["SYSTEM"] == "spaces"
    assert env["PORT"] == "7860" and j["port"] == 7860
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["GRADIO_SERVER_NAME"] == "0.0.0.0"
    assert env["GRADIO_SERVER_PORT"] == "7860"
    assert env.get("HOME")
    # the daemon's own secrets and environment do not leak into apps
    assert podium.token not in json.dumps(env)


def test_custom_app_port(podium, spaces):
    podium.wait_app(ADMIN, "porty", predicate=served("p1"))
    j = probe_env(podium, "porty")
    assert j["env"]["PORT"] == "8123" and j["port"] == 8123
    assert j["env"]["GRADIO_SERVER_PORT"] == "8123"


def test_app_filesystem(podium, spaces):
    j = probe_env(podium)
    assert j["cwd"] == "/home/user/app"
    assert j["file"] == "/home/user/app/app.py"

    def read(path):
        return podium.get_app(ADMIN, "probe", "/api/read?path=" + path).json()

    def write(path, value="x"):
        return podium.get_app(ADMIN, "probe", "/api/write?path=%s&value=%s" % (path, value)).json()

    assert read("/home/user/app/README.md")["ok"]
    assert write("/home/user/app/scratch.txt")["ok"], "the release dir is writable"
    assert write("/tmp/scratch.txt")["ok"], "/tmp is writable"
    assert write("/data/scratch.txt")["ok"], "/data is writable"
    assert not write("/usr/podium-probe.txt")["ok"], "/usr must be read-only"
    # the daemon's data dir (token, other spaces' repos) is invisible to the app
    token_path = os.path.join(podium.data_dir, "admin.token")
    r = read(token_path)
    assert not r["ok"] and podium.token not in json.dumps(r)


def test_redeploy_under_load(podium, spaces):
    """Zero failed requests while a new release builds, starts (slowly) and takes over."""
    podium.wait_app(ADMIN, "probe", predicate=served("v1"))
    fresh = ph.Loader(podium, ADMIN, "probe", mode="fresh").start()
    keep = ph.Loader(podium, ADMIN, "probe", mode="keepalive").start()
    stages = []
    try:
        podium.wait_until(lambda: len(fresh.results) >= 5 and len(keep.results) >= 5, "loaders running")
        ph.write_files(spaces["probe"], probe_config("v2", startup_delay=2))
        podium.push(spaces["probe"], ADMIN, "probe", message="v2")
        deadline = time.monotonic() + ph.DEPLOY_TIMEOUT
        while time.monotonic() < deadline:
            stages.append(podium.runtime(ADMIN, "probe")["stage"])
            if any(r[1].strip() == "probe v2" for r in list(fresh.results[-3:])):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("v2 never served; stages %r" % stages)
        # keep the load on while the old instance is torn down
        n = len(fresh.results)
        podium.wait_until(lambda: len(fresh.results) >= n + 20, "requests after the switch")
        time.sleep(1.0)
        final = podium.wait_stage(ADMIN, "probe", "RUNNING")
        stages.append(final["stage"])
    finally:
        fresh.stop()
        keep.stop()

    for loader in (fresh, keep):
        fails = loader.failures()
        assert not fails, "%s: %d of %d requests failed, e.g. %r" % (
            loader.mode, len(fails), len(loader.results), fails[:5])
        bodies = [r[1].strip() for r in loader.results]
        assert set(bodies) <= {"probe v1", "probe v2"}, set(bodies)
        assert bodies[-1] == "probe v2"
    # new connections never flap back to the old release once the new one served
    bodies = [r[1].strip() for r in fresh.results]
    first_v2 = bodies.index("probe v2")
    assert "probe v1" not in bodies[first_v2:], "served v1 again after v2"
    # the stage path: RUNNING -> RUNNING_BUILDING / RUNNING_APP_STARTING -> RUNNING
    assert set(stages) <= ph.SERVING_STAGES, stages
    assert set(stages) & {"RUNNING_BUILDING", "RUNNING_APP_STARTING"}, stages
    assert stages[-1] == "RUNNING"


def test_data_persists_across_redeploy(podium, spaces):
    podium.wait_app(ADMIN, "probe", predicate=lambda r: r.status == 200)
    marker = uuid.uuid4().hex
    w = podium.get_app(ADMIN, "probe", "/api/write?path=/data/persist.txt&value=" + marker).json()
    assert w["ok"], w
    w = podium.get_app(ADMIN, "probe", "/api/write?path=/home/user/app/ephemeral.txt&value=x").json()
    assert w["ok"], w
    ph.write_files(spaces["probe"], probe_config("v3"))
    podium.push(spaces["probe"], ADMIN, "probe", message="v3")
    podium.wait_app(ADMIN, "probe", predicate=served("v3"))
    r = podium.get_app(ADMIN, "probe", "/api/read?path=/data/persist.txt").json()
    assert r["ok"] and r["content"] == marker, r
    # the release directory is fresh: writes to the old one are gone
    r = podium.get_app(ADMIN, "probe", "/api/read?path=/home/user/app/ephemeral.txt").json()
    assert not r["ok"], r


def test_failed_build_keeps_old_release(podium, spaces):
    podium.wait_app(ADMIN, "keeper", predicate=lambda r: r.status == 200 and "release one" in r.text)
    ph.write_files(spaces["keeper"], {
        "README.md": ph.front_matter([
            "title: Keeper", "sdk: static",
            "app_build_command: echo podium-build-marker-42 >&2; exit 3"]),
        "index.html": "<p>keeper release two</p>\n"})
    sha = podium.push(spaces["keeper"], ADMIN, "keeper", message="broken build")

    def build_failed():
        rt = podium.runtime(ADMIN, "keeper")
        done = rt["stage"] not in ("RUNNING_BUILDING", "RUNNING_APP_STARTING", "BUILDING")
        return rt if done and rt.get("errorMessage") else None

    rt = podium.wait_until(build_failed, "the failed build's errorMessage", timeout=ph.DEPLOY_TIMEOUT)
    assert rt["stage"] in ("RUNNING", "BUILD_ERROR"), rt
    msg = rt["errorMessage"]
    assert "podium-build-marker-42" in msg or "exit" in msg.lower() or "fail" in msg.lower(), msg
    # the pushed commit is the last push; sha stays the commit that serves
    j = podium.info(ADMIN, "keeper").json()
    assert j["lastPushedSha"] == sha, j
    assert j["runtime"]["sha"] and j["runtime"]["sha"] != sha and j["sha"] == sha, j
    # the old release keeps serving
    for _ in range(5):
        r = podium.get_app(ADMIN, "keeper")
        assert r.status == 200 and "release one" in r.text, r
        time.sleep(0.1)
    # and a good push afterwards recovers fully
    ph.write_files(spaces["keeper"], {
        "README.md": ph.front_matter(["title: Keeper", "sdk: static"]),
        "index.html": "<p>keeper release three</p>\n"})
    podium.push(spaces["keeper"], ADMIN, "keeper", message="fixed")
    podium.wait_app(ADMIN, "keeper", predicate=lambda r: r.status == 200 and "release three" in r.text)
    rt = podium.wait_stage(ADMIN, "keeper", "RUNNING")
    podium.wait_until(lambda: not podium.runtime(ADMIN, "keeper").get("errorMessage"),
                  "errorMessage cleared after a good deploy", timeout=30)
