"""@huggingface/hub, the Hub's official JS client from npm (pinned by
tests/hubjs/package-lock.json), works against podium unchanged: tests/hubjs/hub.test.mjs
calls whoAmI, createRepo, repoExists, listSpaces, spaceInfo, uploadFiles, commit,
listFiles, listCommits, fileExists, downloadFile and deleteRepo on this daemon."""
import os
import shutil
import subprocess

import pytest

import podium_helpers as ph

HUBJS = os.path.join(ph.REPO_ROOT, "tests", "hubjs")


def _node_modules():
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node or npm is not installed (Debian: apt-get install nodejs npm)")
    v = subprocess.run([node, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    if int(v.lstrip("v").split(".")[0]) < 18:
        pytest.skip("@huggingface/hub needs Node 18 or newer, found %s" % v)
    stamp = os.path.join(HUBJS, "node_modules", ".package-lock.json")
    lock = os.path.join(HUBJS, "package-lock.json")
    if not os.path.exists(stamp) or os.path.getmtime(stamp) < os.path.getmtime(lock):
        p = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HUBJS, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
        assert p.returncode == 0, "npm ci in tests/hubjs failed:\n" + p.stdout
    return node


def test_huggingface_hub_js_client(podium):
    node = _node_modules()
    env = dict(os.environ, PODIUM_PORT=str(podium.port), PODIUM_TOKEN=podium.token,
               PODIUM_SPACE="hubjs")
    p = subprocess.run([node, "hub.test.mjs"], cwd=HUBJS, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600)
    assert p.returncode == 0 and p.stdout.rstrip().endswith("all ok"), p.stdout
    assert podium.info(ph.ADMIN, "hubjs").status == 404  # deleteRepo did delete it
