"""Build jobs on their own (builder/build.c without the daemon): real commits
pushed into bare repositories made by builder_repo_init, built in podium-sandbox
(static, exact sha, python, requirements offline, node, failing commands,
config errors, cancel). The cases are C (tests/integration/c/test_build_jobs.c,
cmocka); this runs that program."""
import os
import subprocess

import podium_helpers as ph


def test_build_jobs():
    build = os.environ.get("PODIUM_BUILD") or os.path.join(ph.REPO_ROOT, "build")
    prog = os.path.join(build, "tests", "integration", "test_build_jobs")
    assert os.access(prog, os.X_OK), "%s missing: make test-integration builds it" % prog
    env = dict(os.environ, PODIUM_SANDBOX=os.path.join(build, "podium-sandbox"))
    r = subprocess.run([prog], cwd=ph.REPO_ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
