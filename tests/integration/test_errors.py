"""Bad input: config errors, nothing to run, crashing apps, unauthenticated or
misdirected pushes, private spaces."""
import base64
import os
import re
import time

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

CRASH_MARKER = "podium-crash-marker-7"

BAD_SPACES = {
    "bad-yaml": {
        # line 4 of README.md, line 3 of the YAML block
        "README.md": "---\ntitle: Broken\nemoji: x\nsdk: static: oops\n---\n\n# broken\n",
        "index.html": "<p>never served</p>\n",
    },
    "bad-sdk": {
        "README.md": ph.front_matter(["title: Bad sdk", "sdk: rubyonrails"]),
        "index.html": "<p>never served</p>\n",
    },
    "dockery": {
        "README.md": ph.front_matter(["title: Docker", "sdk: docker", "app_port: 7860"]),
        "Dockerfile": "FROM python:3.11\nCMD [\"python\", \"-m\", \"http.server\", \"7860\"]\n",
    },
    "nothing": {
        "README.md": "# just a readme\n\nNo front matter and nothing to run.\n",
        "notes.txt": "some notes\n",
        "data/rows.csv": "a,b\n1,2\n",
    },
    "crasher": {
        "README.md": ph.front_matter(["title: Crasher", "sdk: python", "app_file: app.py"]),
        "app.py": ("import sys\n"
                   "print('crasher starting', flush=True)\n"
                   "print('FATAL: %s: missing configuration', file=sys.stderr, flush=True)\n"
                   "sys.exit(3)\n" % CRASH_MARKER),
    },
}


@pytest.fixture(scope="module")
def bad(podium):
    """Pushes every broken space up front so their builds and crash loops overlap."""
    shas = {}
    for name, files in BAD_SPACES.items():
        podium.create_space(name, sdk="python" if name == "crasher" else "static")
        shas[name] = podium.push(podium.workdir_from(None, files), ADMIN, name)
    return shas


def test_broken_yaml_is_config_error(podium, bad):
    rt = podium.wait_stage(ADMIN, "bad-yaml", "CONFIG_ERROR")
    msg = rt.get("errorMessage") or ""
    # names the offending line: line 4 of README.md (or line 3 counting inside the YAML block)
    assert re.search(r"(line\D{0,3}|:)[34]\b", msg, re.I), msg
    j = podium.info(ADMIN, "bad-yaml").json()
    assert j["lastPushedSha"] == bad["bad-yaml"], j
    assert j["runtime"]["sha"] is None, j  # nothing serves


def test_unknown_sdk_is_config_error(podium, bad):
    rt = podium.wait_stage(ADMIN, "bad-sdk", "CONFIG_ERROR")
    msg = rt.get("errorMessage") or ""
    assert "sdk" in msg, msg


def test_docker_sdk_without_its_base_image(podium, bad):
    """Where this host builds images (heavy/test_images.py builds and runs them), the
    docker space's base image is not in this daemon's store and no registry answers
    (egress is off): a BUILD_ERROR that says how to load it. Where it cannot (no
    buildah, not root): a CONFIG_ERROR that says docker is not supported here."""
    from images import spaces as images
    if images.image_tools_unavailable() is None:
        rt = podium.wait_stage(ADMIN, "dockery", "BUILD_ERROR", timeout=300)
        msg = rt.get("errorMessage") or ""
        assert "python:3.11" in msg and "podium image import" in msg, msg
        return
    rt = podium.wait_stage(ADMIN, "dockery", "CONFIG_ERROR")
    msg = (rt.get("errorMessage") or "").lower()
    assert "docker" in msg and "not supported" in msg, msg


def test_nothing_runnable_is_no_app_file(podium, bad):
    podium.wait_until(lambda: podium.info(ADMIN, "nothing").json().get("lastPushedSha") == bad["nothing"],
                  "sha of the push")
    # NO_APP_FILE may also be the stage of the empty space, so require it to hold
    seen = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline or seen[-1] != "NO_APP_FILE":
        seen.append(podium.runtime(ADMIN, "nothing")["stage"])
        assert seen[-1] in ("NO_APP_FILE", "BUILDING"), seen
        assert len(seen) < 2000, seen
        time.sleep(0.05)
    assert podium.get_app(ADMIN, "nothing").status != 200


def test_crashing_app_is_runtime_error(podium, bad):
    # after a few restarts with backoff the space is declared broken
    rt = podium.wait_stage(ADMIN, "crasher", "RUNTIME_ERROR", timeout=150)
    msg = rt.get("errorMessage") or ""
    assert CRASH_MARKER in msg, "errorMessage should carry the app's last output: %r" % msg
    r = podium.get_app(ADMIN, "crasher")
    assert r.status != 200


# ---- pushes that must be refused ------------------------------------------------------

def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def refs_request(podium, owner, name, service, auth=None):
    headers = {"Authorization": auth} if auth else {}
    headers["User-Agent"] = "git/2.39.2"
    return ph.http_request(podium.port, "GET", "/spaces/%s/%s/info/refs?service=%s" % (owner, name, service),
                           podium.hub_host, headers=headers)


def assert_repo_empty(podium, name):
    j = podium.info(ADMIN, name).json()
    assert not j.get("sha") and not j.get("lastPushedSha"), j
    out = podium.git("ls-remote", podium.remote_url(ADMIN, name, token=None)).stdout.decode()
    assert out.strip() == "", out


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_push_refused_without_valid_token(podium, token):
    name = "locked-%s" % ("anon" if token is None else "wrong")
    podium.create_space(name)
    wd = podium.workdir_from(os.path.join(ph.EXAMPLES, "static"))
    sha, p = podium.try_push(wd, ADMIN, name, token=token)
    assert p.returncode != 0, "push without a valid token must fail"
    # the smart-HTTP handshake asks for credentials the way git expects
    r = refs_request(podium, ADMIN, name, "git-receive-pack",
                     auth=None if token is None else basic(ADMIN, token))
    assert r.status == 401, r
    assert "basic" in r.headers.get("www-authenticate", "").lower()
    # the same service name percent-encoded (git http-backend decodes it)
    for enc in ("git%2dreceive-pack", "git-receive-pack&x=1", "git-%72eceive-pack"):
        r = refs_request(podium, ADMIN, name, enc)
        assert r.status == 401, (enc, r)
    # control: a fetch's advertisement is public
    assert refs_request(podium, ADMIN, name, "git-upload-pack").status == 200
    r = ph.http_request(podium.port, "POST", "/spaces/%s/%s/git-receive-pack" % (ADMIN, name),
                        podium.hub_host, body=b"0000",
                        headers={"Content-Type": "application/x-git-receive-pack-request"})
    assert r.status in (401, 403), r
    assert_repo_empty(podium, name)
    assert podium.runtime(ADMIN, name)["stage"] not in ph.SERVING_STAGES | {"BUILDING"}


def test_push_any_user_name_with_token(podium):
    # the token is the credential; like HF, any user name with a valid token is accepted
    podium.create_space("anyuser")
    wd = podium.workdir_from(None, {"README.md": ph.front_matter(["sdk: static"]),
                                    "index.html": "<p>any user</p>\n"})
    sha, p = podium.try_push(wd, ADMIN, "anyuser", user="someone")
    assert p.returncode == 0, p.stderr
    assert podium.info(ADMIN, "anyuser").json()["lastPushedSha"] == sha


def test_push_to_missing_space(podium):
    wd = podium.workdir_from(os.path.join(ph.EXAMPLES, "static"))
    sha, p = podium.try_push(wd, ADMIN, "ghost")
    assert p.returncode != 0
    r = refs_request(podium, ADMIN, "ghost", "git-receive-pack", auth=basic(ADMIN, podium.token))
    assert r.status == 404, r
    # anonymous: git's challenge, as for a private space (issue 21.7); with credentials, 404
    r = refs_request(podium, ADMIN, "ghost", "git-upload-pack")
    assert r.status == 401 and "basic" in r.headers.get("www-authenticate", "").lower(), r
    r = refs_request(podium, ADMIN, "ghost", "git-upload-pack", auth=basic(ADMIN, podium.token))
    assert r.status == 404, r
    assert podium.info(ADMIN, "ghost").status == 404
    # pushing never creates a space implicitly
    assert "admin/ghost" not in [s["id"] for s in podium.api("GET", "/api/spaces").json()]


# ---- private spaces -------------------------------------------------------------------

@pytest.fixture(scope="module")
def secret(podium):
    podium.create_space("secret", private=True)
    wd = podium.workdir_from(None, {"README.md": ph.front_matter(["title: Secret", "sdk: static"]),
                                    "index.html": "<p>top secret page</p>\n"})
    sha = podium.push(wd, ADMIN, "secret")
    podium.wait_stage(ADMIN, "secret", "RUNNING")
    return sha


def test_private_space_api(podium, secret):
    r = podium.info(ADMIN, "secret")
    assert r.status == 200
    j = r.json()
    assert j["private"] is True and j["sha"] == secret
    assert podium.info(ADMIN, "secret", token=None).status == 404
    assert podium.api("GET", "/api/spaces/admin/secret/runtime", token=None).status == 404
    # an invalid token is refused outright (401, as the HF Hub does) or treated as anonymous (404)
    for path in ("/api/spaces/admin/secret", "/api/spaces/admin/secret/runtime"):
        r = podium.api("GET", path, token="wrong-token")
        assert r.status in (401, 404), r
        assert secret not in r.text
    ids = [s["id"] for s in podium.api("GET", "/api/spaces", token=None).json()]
    assert "admin/secret" not in ids
    listed = {s["id"]: s for s in podium.api("GET", "/api/spaces").json()}
    assert listed["admin/secret"]["private"] is True


def test_private_space_git(podium, secret):
    dest = os.path.join(podium.workdir_from(None), "anon")
    p = podium.git("clone", "-q", podium.remote_url(ADMIN, "secret", token=None), dest, check=False)
    assert p.returncode != 0, "anonymous clone of a private space must fail"
    assert not os.path.exists(os.path.join(dest, "index.html"))
    r = refs_request(podium, ADMIN, "secret", "git-upload-pack")
    assert r.status in (401, 403, 404), r
    assert secret.encode() not in r.body
    r = refs_request(podium, ADMIN, "secret", "git-upload-pack", auth=basic(ADMIN, "wrong-token"))
    assert r.status in (401, 403, 404), r
    assert secret.encode() not in r.body
    dest = os.path.join(podium.workdir_from(None), "authed")
    podium.git("clone", "-q", podium.remote_url(ADMIN, "secret"), dest)
    with open(os.path.join(dest, "index.html")) as f:
        assert "top secret page" in f.read()


@pytest.mark.parametrize("name,target", [("README.md", "/etc/passwd"),
                                         ("README.md", "/proc/self/fd/0"),
                                         ("package.json", "ADMIN_TOKEN"),
                                         ("Procfile", "/etc/shadow")])
def test_config_file_linked_out_of_the_repository(podium, name, target):
    """README.md, package.json and Procfile of a push are read by the daemon
    (root): a symbolic link out of the repository is refused with a clear
    CONFIG_ERROR and nothing of its target shows (the daemon once quoted the
    first word of /etc/shadow or the admin token; a link to one of its own pipes
    blocked its loop for good). Control: the daemon answers afterwards."""
    space = "linked-%s-%d" % (name.split(".")[0].lower(), abs(hash(target)) % 1000)
    podium.create_space(space, sdk="static")
    work = podium.workdir_from(None, {"index.html": "<p>x</p>\n", "server.js": "\n"})
    if target == "ADMIN_TOKEN":
        target = os.path.join(podium.data_dir, "admin.token")
    if name == "package.json":
        with open(os.path.join(work, "README.md"), "w") as f:
            f.write(ph.front_matter(["title: linked", "sdk: node"]))
    os.symlink(target, os.path.join(work, name))
    podium.push(work, ADMIN, space)
    rt = podium.wait_stage(ADMIN, space, "CONFIG_ERROR")
    msg = rt.get("errorMessage") or ""
    assert "%s cannot be read: it is a symbolic link leading out of the repository" % name in msg, msg
    assert "root" not in msg and podium.token[:6] not in msg
    assert podium.api("GET", "/api/health").status == 200
