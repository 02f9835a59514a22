"""huggingface_hub, the Hub's official Python client, works against podium unchanged
(issue 24): HfApi(endpoint="http://127.0.0.1:PORT", token=...) drives spaces through every
call that has a meaning on a Spaces host.

It runs when HF_HUB_SRC names the `src/` directory of a huggingface_hub checkout; without
it the tests skip saying so (CI has no copy of the client: test_hf_wire.py checks the same
HTTP contract there). The client is pure Python; its dependencies come from Debian 12:

    apt-get install -y python3-httpx python3-filelock python3-fsspec python3-packaging \\
        python3-yaml python3-tqdm python3-typing-extensions python3-click
    git clone https://github.com/huggingface/huggingface_hub /tmp/hfhub   # outside the tree, or
    mkdir /tmp/hfhub && git --git-dir=MIRROR.git archive HEAD src | tar -x -C /tmp/hfhub
    cd tests/integration && HF_HUB_SRC=/tmp/hfhub/src PODIUM_BUILD=$PWD/../../build \\
        /usr/bin/python3 -m pytest -q -p no:cacheprovider test_hf_client.py

Written against huggingface_hub 1.29.0.dev0 (commit ee0a4510f). On Debian 12 (httpx 0.23.3,
click 8.1.3, fsspec 2022.11, no hf_xet) everything here runs but hf_hub_download and
snapshot_download: since 1.4 they lock with FileLock(..., mode=0o664) (utils/_fixes.py:90),
which needs filelock >= 3.10 and Debian 12 has 3.9.0, so test_client_downloads skips naming
that; test_client_download_requests makes the same requests with the client's own functions.
"""
import base64
import io
import json as jsonlib
import os
import sys
import tempfile
import time

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

pytestmark = pytest.mark.filterwarnings(
    # the client's own notices (deprecated storage API, cpu-basic sleep time): not podium's
    "ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning")


# ---- the client ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    src = os.environ.get("HF_HUB_SRC")
    if not src:
        pytest.skip("HF_HUB_SRC is not set: point it at a huggingface_hub checkout's src/ to "
                    "drive the official Python client (test_hf_wire.py covers its HTTP contract)")
    src = os.path.abspath(src)
    if not os.path.isfile(os.path.join(src, "huggingface_hub", "__init__.py")):
        pytest.fail("HF_HUB_SRC=%s has no huggingface_hub/__init__.py" % src)
    # before the import: the client reads its environment once (constants.py)
    for k in ("HF_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_HUB_ENABLE_HF_TRANSFER"):
        os.environ.pop(k, None)
    os.environ.update(HF_HOME=str(tmp_path_factory.mktemp("hf-home")),
                      HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
                      HF_HUB_DISABLE_IMPLICIT_TOKEN="1")
    sys.path.insert(0, src)
    import huggingface_hub
    assert os.path.abspath(huggingface_hub.__file__).startswith(src + os.sep), \
        "huggingface_hub was imported from %s, not HF_HUB_SRC" % huggingface_hub.__file__
    return huggingface_hub


def endpoint(d):
    return "http://127.0.0.1:%d" % d.port


@pytest.fixture(scope="module")
def api(hub, podium):
    return hub.HfApi(endpoint=endpoint(podium), token=podium.token)


@pytest.fixture(scope="module")
def errors(hub):
    from huggingface_hub import errors
    return errors


def status_of(excinfo):
    return excinfo.value.response.status_code


def user(d, name):
    """A user of podium's own and its write token (not through the client)."""
    ph.add_user(d, name)
    tok = ph.new_token(d, name, "write", "hf-client")
    ph.wait_until(lambda: d.api("GET", "/api/whoami-v2", token=tok).status == 200, "%s's token" % name)
    return tok


def seed(d, name, files, owner=ADMIN, token=ph.DEFAULT, wait=True):
    """A space with files, made with podium's own API (so each test checks its own calls)."""
    token = d.token if token is ph.DEFAULT else token
    d.create_space(name, sdk="static", organization=None if owner == ADMIN else owner, token=token)
    lines = [{"key": "header", "value": {"summary": "seed", "description": ""}}]
    lines += [{"key": "file", "value": {"path": p, "encoding": "base64",
                                        "content": base64.b64encode(c.encode()).decode()}}
              for p, c in files.items()]
    body = b"".join(jsonlib.dumps(x).encode() + b"\n" for x in lines)
    r = ph.http_request(d.port, "POST", "/api/spaces/%s/%s/commit/main" % (owner, name), d.hub_host,
                        body, {"Content-Type": "application/x-ndjson",
                               "Authorization": "Bearer " + token})
    assert r.status == 200, r
    if wait:
        d.wait_stage(owner, name, "RUNNING", token=token)
    return r.json()["commitOid"]


# ---- whoami, auth_check ----------------------------------------------------------------

def test_client_whoami_and_auth_check(hub, api, errors, podium):
    me = api.whoami()
    assert me["name"] == ADMIN and me["type"] == "user" and me["auth"]["accessToken"]["role"] == "write"
    with pytest.raises(errors.HfHubHTTPError) as e:
        api.whoami(token="hf_" + "0" * 48)
    assert status_of(e) == 401 and "Invalid user token" in str(e.value)

    seed(podium, "hfc-auth", {"index.html": "<p>auth</p>"}, wait=False)
    api.auth_check("admin/hfc-auth", repo_type="space")
    api.auth_check("admin/hfc-auth", repo_type="space", write=True)
    with pytest.raises(errors.RepositoryNotFoundError):
        api.auth_check("admin/hfc-nowhere", repo_type="space")
    other = hub.HfApi(endpoint=endpoint(podium), token=user(podium, "hfc-stranger"))
    other.auth_check("admin/hfc-auth", repo_type="space")
    with pytest.raises(errors.HfHubHTTPError) as e:
        other.auth_check("admin/hfc-auth", repo_type="space", write=True)
    assert status_of(e) == 403


# ---- create, exists, info, delete -------------------------------------------------------

def test_client_repo_lifecycle(hub, api, errors, podium):
    rid = "admin/hfc-life"
    url = api.create_repo(rid, repo_type="space", space_sdk="static")
    assert isinstance(url, hub.RepoUrl) and url.repo_id == rid and url.repo_type == "space", repr(url)
    with pytest.raises(errors.HfHubHTTPError) as e:
        api.create_repo(rid, repo_type="space", space_sdk="static")
    assert status_of(e) == 409
    again = api.create_repo(rid, repo_type="space", space_sdk="static", exist_ok=True)
    assert again.repo_id == rid and str(again) == str(url)

    assert api.repo_exists(rid, repo_type="space") is True
    assert api.repo_exists("admin/hfc-never", repo_type="space") is False
    info = api.space_info(rid)
    assert info.id == rid and info.author == ADMIN and info.sdk == "static" and info.private is False
    assert api.repo_info(rid, repo_type="space").id == rid

    # every space option of create_repo takes effect
    opts = "admin/hfc-opts"
    api.create_repo(opts, repo_type="space", space_sdk="static", private=True,
                    space_hardware="cpu-upgrade", space_storage="small", space_sleep_time=600,
                    space_secrets=[{"key": "HFC_SECRET", "value": "s3cr3t", "description": "a secret"}],
                    space_variables=[{"key": "HFC_VAR", "value": "v1", "description": "a variable"}])
    assert api.space_info(opts).private is True
    rt = api.get_space_runtime(opts)
    assert rt.requested_hardware == "cpu-upgrade" and rt.storage == "small" and rt.sleep_time == 600, rt.raw
    var = api.get_space_variables(opts)
    assert var["HFC_VAR"].value == "v1" and var["HFC_VAR"].description == "a variable"
    assert api.get_space_secrets(opts)["HFC_SECRET"].description == "a secret"
    assert podium.info(ADMIN, "hfc-opts", token=None).status == 404  # private for real

    api.delete_repo(rid, repo_type="space")
    assert api.repo_exists(rid, repo_type="space") is False
    api.delete_repo(rid, repo_type="space", missing_ok=True)
    with pytest.raises(errors.RepositoryNotFoundError):
        api.delete_repo(rid, repo_type="space")
    api.delete_repo(opts, repo_type="space")


# ---- files ---------------------------------------------------------------------------------

README = "---\ntitle: HF client\nsdk: static\ntags: [hfc-tag]\n---\n# the client\n"


def test_client_files(hub, api, errors, podium, tmp_path):
    rid, name = "admin/hfc-files", "hfc-files"
    api.create_repo(rid, repo_type="space", space_sdk="static", exist_ok=True)
    folder = tmp_path / "app"
    for rel, text in {"README.md": README, "index.html": "<h1>from the client</h1>",
                      "sub/deep/a.txt": "aaa\n", ".gitignore": "*.log\n", "x.log": "ignored\n"}.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    # validate-yaml (README), preupload with gitIgnore, commit
    ci = api.upload_folder(repo_id=rid, repo_type="space", folder_path=str(folder))
    assert len(ci.oid) == 40 and ci.repo_url.repo_id == rid, repr(ci)
    assert sorted(api.list_repo_files(rid, repo_type="space")) == \
        [".gitignore", "README.md", "index.html", "sub/deep/a.txt"]  # x.log ignored
    # it deploys like a push
    podium.wait_stage(ADMIN, name, "RUNNING")
    assert "from the client" in podium.wait_app(ADMIN, name).text

    head = api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="hello.txt", repo_id=rid,
                           repo_type="space").oid
    assert api.file_exists(rid, "hello.txt", repo_type="space")
    # an unchanged file makes no commit: preupload's oid says it is there already
    same = api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="hello.txt", repo_id=rid,
                           repo_type="space")
    assert same.oid == head
    ops = [hub.CommitOperationAdd("c.txt", b"c\n"), hub.CommitOperationDelete("hello.txt")]
    ci = api.create_commit(rid, ops, commit_message="add c, drop hello", repo_type="space",
                           parent_commit=head)
    assert not api.file_exists(rid, "hello.txt", repo_type="space")
    with pytest.raises(errors.HfHubHTTPError) as e:  # main moved on since `head`
        api.create_commit(rid, [hub.CommitOperationAdd("d.txt", b"d")], commit_message="stale",
                          repo_type="space", parent_commit=head)
    assert status_of(e) == 412
    api.delete_file("c.txt", rid, repo_type="space")
    api.upload_file(path_or_fileobj=b"tmp\n", path_in_repo="tmp/one.txt", repo_id=rid, repo_type="space")
    api.delete_folder("tmp", rid, repo_type="space")
    with pytest.raises(errors.RemoteEntryNotFoundError):
        api.delete_file("never-there.txt", rid, repo_type="space")

    # reads
    top = {f.path: f for f in api.list_repo_tree(rid, repo_type="space")}
    assert set(top) == {".gitignore", "README.md", "index.html", "sub"}, top
    from huggingface_hub.hf_api import RepoFile, RepoFolder
    assert isinstance(top["sub"], RepoFolder) and isinstance(top["index.html"], RepoFile)
    deep = [f.path for f in api.list_repo_tree(rid, "sub", repo_type="space", recursive=True)]
    assert sorted(deep) == ["sub/deep", "sub/deep/a.txt"], deep
    info = {p.path: p for p in api.get_paths_info(rid, ["index.html", "sub", "nope.txt"], repo_type="space")}
    assert set(info) == {"index.html", "sub"} and info["index.html"].size == len("<h1>from the client</h1>")
    assert api.file_exists(rid, "sub/deep/a.txt", repo_type="space")
    assert not api.file_exists(rid, "nope.txt", repo_type="space")
    assert not api.file_exists(rid, "index.html", repo_type="space", revision="no-such-branch")
    assert not api.file_exists("admin/hfc-never", "index.html", repo_type="space")
    assert api.space_info(rid).card_data.title == "HF client"  # cardData of the front matter


def test_client_download_requests(hub, api, podium):
    """What hf_hub_download does, with the client's own functions and no file lock:
    HEAD for the metadata, then GET (file_download.py get_hf_file_metadata, http_get)."""
    from huggingface_hub.file_download import get_hf_file_metadata, hf_hub_url, http_get
    head = seed(podium, "hfc-dlreq", {"index.html": "<p>dl</p>", "data/x.txt": "x" * 1000}, wait=False)
    url = hf_hub_url("admin/hfc-dlreq", "data/x.txt", repo_type="space", endpoint=endpoint(podium))
    meta = get_hf_file_metadata(url, token=podium.token)
    assert meta.commit_hash == head and meta.size == 1000 and meta.etag and meta.xet_file_data is None
    buf = io.BytesIO()
    http_get(meta.location, buf, headers={"authorization": "Bearer " + podium.token},
             expected_size=meta.size)
    assert buf.getvalue() == b"x" * 1000


def test_client_downloads(hub, api, errors, podium):
    import filelock
    from packaging.version import Version
    if Version(filelock.__version__) < Version("3.10"):
        pytest.skip("hf_hub_download/snapshot_download of huggingface_hub %s call "
                    "FileLock(..., mode=0o664) (utils/_fixes.py WeakFileLock), which needs filelock "
                    ">= 3.10; this Python has filelock %s (Debian 12's python3-filelock); "
                    "test_client_download_requests makes the same requests"
                    % (hub.__version__, filelock.__version__))
    seed(podium, "hfc-dl", {"index.html": "<p>dl</p>", "data/x.txt": "xyz\n"}, wait=False)
    rid, ep, tok = "admin/hfc-dl", endpoint(podium), podium.token
    p = hub.hf_hub_download(rid, "data/x.txt", repo_type="space", endpoint=ep, token=tok)
    assert open(p).read() == "xyz\n"
    with tempfile.TemporaryDirectory() as local:
        p = hub.hf_hub_download(rid, "data/x.txt", repo_type="space", endpoint=ep, token=tok,
                                local_dir=local)
        assert open(p).read() == "xyz\n"
    snap = hub.snapshot_download(rid, repo_type="space", endpoint=ep, token=tok)
    got = sorted(os.path.relpath(os.path.join(r, f), snap) for r, _, fs in os.walk(snap) for f in fs)
    assert got == ["data/x.txt", "index.html"], got
    with pytest.raises(errors.RemoteEntryNotFoundError):
        hub.hf_hub_download(rid, "nope.txt", repo_type="space", endpoint=ep, token=tok)
    with pytest.raises(errors.RepositoryNotFoundError):
        hub.hf_hub_download("admin/hfc-never", "x", repo_type="space", endpoint=ep, token=tok)


# ---- commits and refs --------------------------------------------------------------------

def test_client_commits_and_refs(hub, api, errors, podium):
    rid = "admin/hfc-refs"
    first = seed(podium, "hfc-refs", {"index.html": "<p>one</p>"}, wait=False)
    second = api.upload_file(path_or_fileobj=b"<p>two</p>", path_in_repo="index.html", repo_id=rid,
                             repo_type="space", commit_message="second").oid
    log = api.list_repo_commits(rid, repo_type="space")
    assert [c.commit_id for c in log] == [second, first] and log[0].title == "second"
    assert log[0].authors and log[0].created_at.tzinfo is not None

    refs = api.list_repo_refs(rid, repo_type="space")
    assert [(b.name, b.ref, b.target_commit) for b in refs.branches] == [("main", "refs/heads/main", second)]
    assert refs.tags == [] and refs.converts == []
    assert api.list_repo_refs(rid, repo_type="space", include_pull_requests=True).pull_requests == []

    api.create_branch(rid, repo_type="space", branch="dev")
    api.create_branch(rid, repo_type="space", branch="dev", exist_ok=True)
    with pytest.raises(errors.HfHubHTTPError) as e:
        api.create_branch(rid, repo_type="space", branch="dev")
    assert status_of(e) == 409
    api.create_branch(rid, repo_type="space", branch="feature/old", revision=first)
    on_dev = api.upload_file(path_or_fileobj=b"dev only\n", path_in_repo="dev.txt", repo_id=rid,
                             repo_type="space", revision="dev").oid
    assert api.file_exists(rid, "dev.txt", repo_type="space", revision="dev")
    assert not api.file_exists(rid, "dev.txt", repo_type="space")
    assert api.space_info(rid, revision="feature/old").sha == first
    assert api.revision_exists(rid, "dev", repo_type="space")
    assert not api.revision_exists(rid, "no-such-branch", repo_type="space")

    api.create_tag(rid, repo_type="space", tag="v1", tag_message="first release")
    api.create_tag(rid, repo_type="space", tag="v1", exist_ok=True)
    api.create_tag(rid, repo_type="space", tag="v0", revision=first)
    refs = api.list_repo_refs(rid, repo_type="space")
    assert {b.name: b.target_commit for b in refs.branches} == \
        {"main": second, "dev": on_dev, "feature/old": first}
    assert {t.name: t.target_commit for t in refs.tags} == {"v1": second, "v0": first}
    assert sorted(api.list_repo_files(rid, repo_type="space", revision="v0")) == ["index.html"]

    api.delete_tag(rid, repo_type="space", tag="v1")
    api.delete_branch(rid, repo_type="space", branch="dev")
    api.delete_branch(rid, repo_type="space", branch="feature/old")
    refs = api.list_repo_refs(rid, repo_type="space")
    assert [b.name for b in refs.branches] == ["main"] and [t.name for t in refs.tags] == ["v0"]


# ---- list_spaces ---------------------------------------------------------------------------

def test_client_list_spaces(hub, podium):
    owner = "client-lister"
    tok = user(podium, owner)
    mine = hub.HfApi(endpoint=endpoint(podium), token=tok)
    anon = hub.HfApi(endpoint=endpoint(podium), token=False)
    seed(podium, "one-k9", {"index.html": "1", "README.md": "---\nsdk: static\ntags: [k9-a, k9-b]\n---\n"},
         owner=owner, token=tok)
    time.sleep(1.1)  # dates have whole seconds
    seed(podium, "two-k9", {"index.html": "2", "README.md": "---\nsdk: static\ntags: [k9-b]\n---\n"},
         owner=owner, token=tok)
    time.sleep(1.1)
    seed(podium, "three", {"index.html": "3"}, owner=owner, token=tok)

    def names(it):
        return [s.id.split("/", 1)[1] for s in it]

    got = list(anon.list_spaces(author=owner))
    assert sorted(names(got)) == ["one-k9", "three", "two-k9"]
    one = {s.id: s for s in got}[owner + "/one-k9"]
    assert one.sdk == "static" and one.created_at and one.last_modified and {"k9-a", "k9-b"} <= set(one.tags)
    assert sorted(names(anon.list_spaces(author=owner, search="K9"))) == ["one-k9", "two-k9"]
    assert names(anon.list_spaces(author=owner, filter="k9-a")) == ["one-k9"]
    assert names(anon.list_spaces(author=owner, filter=["k9-a", "k9-b"])) == ["one-k9"]
    assert names(anon.list_spaces(author=owner, sort="created_at")) == ["three", "two-k9", "one-k9"]
    assert names(anon.list_spaces(author=owner, sort="created_at", limit=2)) == ["three", "two-k9"]
    assert names(anon.list_spaces(author=owner, sort="last_modified")) == ["three", "two-k9", "one-k9"]
    assert len(names(anon.list_spaces(author=owner, sort="likes"))) == 3
    # the owner's own private spaces are listed to the owner only
    mine.create_repo(owner + "/hidden-k9", repo_type="space", space_sdk="static", private=True)
    assert "hidden-k9" in names(mine.list_spaces(author=owner))
    assert "hidden-k9" not in names(anon.list_spaces(author=owner))


# ---- the Space runtime API ------------------------------------------------------------------

def test_client_space_runtime(hub, api, errors, podium):
    rid = "admin/hfc-rt"
    seed(podium, "hfc-rt", {"index.html": "<p>rt</p>"})
    assert api.get_space_runtime(rid).stage == "RUNNING"
    default_storage = api.get_space_runtime(rid).storage

    api.add_space_secret(rid, "HFC_TOKEN", "s3cr3t", description="for the app")
    sec = api.get_space_secrets(rid)
    assert sec["HFC_TOKEN"].description == "for the app" and sec["HFC_TOKEN"].updated_at
    api.delete_space_secret(rid, "HFC_TOKEN")
    assert "HFC_TOKEN" not in api.get_space_secrets(rid)
    var = api.add_space_variable(rid, "HFC_MODE", "fast", description="speed")
    assert var["HFC_MODE"].value == "fast" and api.get_space_variables(rid)["HFC_MODE"].description == "speed"
    assert "HFC_MODE" not in api.delete_space_variable(rid, "HFC_MODE")

    rt = api.request_space_hardware(rid, "cpu-upgrade", sleep_time=300)
    assert rt.requested_hardware == "cpu-upgrade" and rt.sleep_time == 300, rt.raw
    assert api.set_space_sleep_time(rid, 3600).sleep_time == 3600
    assert api.pause_space(rid).stage == "PAUSED"
    assert api.restart_space(rid).stage != "PAUSED"
    podium.wait_stage(ADMIN, "hfc-rt", "RUNNING")
    api.restart_space(rid, factory_reboot=True)
    podium.wait_stage(ADMIN, "hfc-rt", "RUNNING")
    assert api.request_space_storage(rid, "small").storage == "small"
    rt = api.delete_space_storage(rid)
    assert rt.storage == default_storage and rt.storage != "small", rt.raw
    with pytest.raises(errors.BadRequestError):
        api.request_space_hardware(rid, "no-such-flavor")


def test_client_duplicate_space(hub, api, errors, podium):
    seed(podium, "hfc-dupsrc", {"index.html": "<p>dup</p>"}, wait=False)
    api.add_space_variable("admin/hfc-dupsrc", "SRC_VAR", "s")
    url = api.duplicate_space("admin/hfc-dupsrc", "admin/hfc-dupdst", private=True, hardware="cpu-upgrade",
                              storage="small", sleep_time=900,
                              secrets=[{"key": "DUP_SECRET", "value": "x"}],
                              variables=[{"key": "DUP_VAR", "value": "y", "description": "d"}])
    assert url.repo_id == "admin/hfc-dupdst" and url.repo_type == "space", repr(url)
    dst = "admin/hfc-dupdst"
    assert api.space_info(dst).private is True
    rt = api.get_space_runtime(dst)
    assert rt.requested_hardware == "cpu-upgrade" and rt.storage == "small" and rt.sleep_time == 900, rt.raw
    var = api.get_space_variables(dst)
    assert var["DUP_VAR"].value == "y" and var["SRC_VAR"].value == "s"
    assert "DUP_SECRET" in api.get_space_secrets(dst)
    assert api.duplicate_space("admin/hfc-dupsrc", dst, exist_ok=True).repo_id == dst
    with pytest.raises(errors.HfHubHTTPError) as e:
        api.duplicate_space("admin/hfc-dupsrc", dst)
    assert status_of(e) == 409
    podium.wait_stage(ADMIN, "hfc-dupdst", "RUNNING")


# ---- what a spaces-only host refuses ---------------------------------------------------------

def test_client_models_datasets_and_prs_are_refused_clearly(hub, api, errors, podium):
    seed(podium, "hfc-only", {"index.html": "<p>only</p>"}, wait=False)
    # a model or dataset of that name does not exist (repo_type defaults to "model")
    assert api.repo_exists("admin/hfc-only") is False
    assert api.repo_exists("admin/hfc-only", repo_type="dataset") is False
    with pytest.raises(errors.RepositoryNotFoundError):
        api.model_info("admin/hfc-only")
    with pytest.raises(errors.RepositoryNotFoundError):
        api.dataset_info("admin/hfc-only")
    assert not api.file_exists("admin/hfc-only", "index.html")
    # creating one is a bad request, and makes no space
    with pytest.raises(errors.BadRequestError):
        api.create_repo("admin/hfc-model")
    with pytest.raises(errors.BadRequestError):
        api.create_repo("admin/hfc-dataset", repo_type="dataset")
    assert podium.info(ADMIN, "hfc-model").status == 404
    # deleting "the model admin/hfc-only" leaves the space alone
    with pytest.raises(errors.RepositoryNotFoundError):
        api.delete_repo("admin/hfc-only")
    assert api.repo_exists("admin/hfc-only", repo_type="space")
    # no pull requests
    with pytest.raises(errors.BadRequestError):
        api.upload_file(path_or_fileobj=b"pr", path_in_repo="pr.txt", repo_id="admin/hfc-only",
                        repo_type="space", create_pr=True)
    assert not api.file_exists("admin/hfc-only", "pr.txt", repo_type="space")
