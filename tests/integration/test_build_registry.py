"""A build that cannot reach its package registry fails fast with a line naming
the registry and the error, and the installers' progress streams into the build
log (issue 22.8).

The suite's daemon runs without egress, so a build's box has loopback only: a
registry at a documentation address (198.51.100.7, never routed here, no packet
leaves the box) cannot be reached, as on a host without a network. What needs no
download still installs (the examples' flask from Debian, a package.json without
dependencies: test_examples.py, test_node.py are the controls)."""
import json
import subprocess
import time

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
DEAD = "198.51.100.7"


def need(tool):
    try:
        r = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip("%s does not run on this host (%s)" % (tool, e))
    if r.returncode != 0:
        pytest.skip("%s --version failed here: %s" % (tool, r.stderr[-200:]))


def build_log(d, name):
    return d.api("GET", "/api/spaces/%s/%s/logs/build" % (ADMIN, name)).text


def push_and_time(d, name, sdk, files, timeout=300):
    """Creates and pushes; seconds until BUILD_ERROR, and its errorMessage."""
    d.create_space(name, sdk=sdk)
    wd = d.workdir_from(None, files)
    t0 = time.monotonic()
    d.push(wd, ADMIN, name)
    d.wait_stage(ADMIN, name, "BUILD_ERROR", timeout=timeout)
    return time.monotonic() - t0, d.runtime(ADMIN, name)["errorMessage"]


def test_npm_without_its_registry_fails_fast_naming_it(podium):
    need("/usr/bin/npm")
    pkg = {"name": "regnpm", "version": "1.0.0", "dependencies": {"left-pad": "1.3.0"},
           "scripts": {"start": "node -e 0"}}
    took, err = push_and_time(podium, "regnpm", "node", {
        "package.json": json.dumps(pkg) + "\n",
        ".npmrc": "registry=http://%s:4873/\n" % DEAD})
    want = "cannot reach the npm registry http://%s:4873/: connecting to %s port 4873" % (DEAD, DEAD)
    assert want in err, err
    assert err.startswith("npm install failed"), err
    # npm itself, with its default retries, took 70 s here to give up; the check
    # answers at once and npm --offline fails without waiting
    assert took < 45, (took, err)
    log = build_log(podium, "regnpm")
    assert "--> npm runs without it (--offline)" in log, log


def test_pip_without_its_index_fails_fast_naming_it(podium):
    need("/usr/bin/python3")
    took, err = push_and_time(podium, "regpip", "python", {
        "README.md": ph.front_matter(["sdk: python"]),
        "app.py": "print('never runs')\n",
        "requirements.txt": "--index-url http://%s:3141/simple/\n"
                            "podium-no-such-package==1.0\n" % DEAD})
    want = "cannot reach the Python package index http://%s:3141/simple/" % DEAD
    assert want in err and err.startswith("pip install -r requirements.txt failed"), err
    assert took < 45, (took, err)
    assert "--> pip runs without it (--no-index)" in build_log(podium, "regpip")


def test_install_scripts_stream_into_the_build_log(podium):
    need("/usr/bin/npm")
    pkg = {"name": "regstream", "version": "1.0.0", "dependencies": {"slowdep": "file:./slowdep"},
           "scripts": {"start": "node -e \"require('http').createServer((q, s) => s.end('ok'))"
                                ".listen(process.env.PORT)\""}}
    dep = {"name": "slowdep", "version": "1.0.0",
           "scripts": {"install": "echo dep-stage-1; sleep 6; echo dep-stage-2"}}
    podium.create_space("regstream", sdk="node")
    wd = podium.workdir_from(None, {"package.json": json.dumps(pkg) + "\n",
                                    "slowdep/package.json": json.dumps(dep) + "\n"})
    podium.push(wd, ADMIN, "regstream")
    # the dependency's install script is heard while it runs, not after npm ends
    # (lines of their own: npm's "> echo ..." line names both)
    seen = ph.wait_until(lambda: "dep-stage-1" in build_log(podium, "regstream").splitlines() and
                         build_log(podium, "regstream").splitlines(),
                         "the script's first line in the log", timeout=120, interval=0.2)
    assert "dep-stage-2" not in seen, seen
    podium.wait_stage(ADMIN, "regstream", "RUNNING")
    lines = build_log(podium, "regstream").splitlines()
    assert lines.index("dep-stage-1") < lines.index("dep-stage-2"), lines
