"""Image spaces offline (issue 23 items 2-4): `podium image import` of a root
filesystem tarball or a docker archive, after which `FROM NAME` builds with no
registry and no network at all (the suite's daemons run with egress off, so builds
get `--net none`: nothing here reaches past the machine), and the image runs in
podium-sandbox supervised like any app: the Hub's uid 1000, /data, $PORT/app_port,
restart, sleep and wake, rollback, the sandbox's walls; build args and build
secrets as the Hub passes them; a failing step is a BUILD_ERROR with its last
lines; a code-only redeploy rebuilds only from the COPY on (layer cache).

The base image is a Debian 12 bootstrap with Python shaped like python:3.11-slim
(images/base.py), made once per build dir. Skips say what the host lacks (buildah,
crun, skopeo, user namespaces, root; debootstrap's network for the first tarball).

Builds, apt and pip through podium's egress (Debian's archive, the local index) are
in heavy/test_real_spaces.py; this module needs no network once the tarball exists.
"""
import hashlib
import json
import os
import subprocess
import time

import pytest

import podium_helpers as ph
from images import base
from images import spaces as sp

ADMIN = ph.ADMIN
SECRET = "s3cr3t-" + hashlib.sha256(str(os.getpid()).encode()).hexdigest()[:20]

CONFIG = """# heavy/test_images.py
hardware:
  build: {cpu: 2, memory: 1Gi, pids: 256}
"""


@pytest.fixture(scope="module")
def imgd():
    tar = sp.require_image_host()
    with ph.own_daemon(config=CONFIG) as d:
        t0 = time.monotonic()
        r = sp.image_import(d, tar, "python:3.11-slim")
        yield {"d": d, "tar": tar, "import_s": time.monotonic() - t0, "import_out": r.stdout + r.stderr}


def app(d, name, **q):
    path = "/?" + "&".join("%s=%s" % kv for kv in q.items()) if q else "/"
    r = d.get_app(ADMIN, name, path)
    assert r.status == 200, (r, d.runtime(ADMIN, name))
    return r.json()


def deploy(d, name, files, variables=None, secrets=None, executable=()):
    d.create_space(name, sdk="docker")
    for k, v in (variables or {}).items():
        assert d.api("POST", "/api/spaces/%s/%s/variables" % (ADMIN, name),
                     json={"key": k, "value": v}).status == 200
    for k, v in (secrets or {}).items():
        assert d.api("POST", "/api/spaces/%s/%s/secrets" % (ADMIN, name),
                     json={"key": k, "value": v}).status == 200
    wd = d.workdir_from(None, files)
    for rel in executable:
        os.chmod(os.path.join(wd, rel), 0o755)
    t0 = time.monotonic()
    sha = d.push(wd, ADMIN, name)
    return wd, sha, t0


def wait_running(d, name, timeout=600):
    return d.wait_stage(ADMIN, name, "RUNNING", timeout=timeout)


# ---- podium image import ------------------------------------------------------------

def test_import_then_from_builds_without_a_registry(imgd):
    d = imgd["d"]
    assert "python:3.11-slim" in imgd["import_out"], imgd["import_out"]
    deploy(d, "hubdocker", sp.docker_space())
    wait_running(d, "hubdocker")
    out = app(d, "hubdocker")
    # the Hub's contract for Docker spaces: uid 1000, the WORKDIR, port 7860
    assert out["uid"] == 1000 and out["gid"] == 1000, out
    assert out["cwd"] == "/home/user/app", out
    assert out["python"] == "3.11", out
    env = out["env"]
    assert env["PORT"] == "7860" and env["SYSTEM"] == "spaces" and env["SPACE_ID"] == "admin/hubdocker", env
    assert env["HOME"] == "/home/user", env
    # the image's own PATH (ENV in the Dockerfile), not podium's venv PATH
    assert env["PATH"].startswith("/home/user/.local/bin:"), env
    log = sp.build_log(d, ADMIN, "hubdocker")
    assert "FROM python:3.11-slim" in log, log[-3000:]
    assert "Trying to pull" not in log, log[-3000:]


def test_import_of_a_docker_archive_under_another_name(imgd):
    d = imgd["d"]
    archive = base.docker_archive(imgd["tar"], "docker.io/library/python:3.11-slim")
    sp.image_import(d, archive, "offline/base:1")
    files = sp.docker_space()
    files["Dockerfile"] = files["Dockerfile"].replace("FROM python:3.11-slim", "FROM offline/base:1")
    deploy(d, "fromarchive", files)
    wait_running(d, "fromarchive")
    out = app(d, "fromarchive")
    assert out["uid"] == 1000 and out["python"] == "3.11", out


@pytest.mark.parametrize("args, expect", [
    (["/nonexistent/base.tar", "x:1"], "/nonexistent/base.tar"),
    (["@NOTAR@", "x:1"], "not a root filesystem tarball or a docker/OCI archive"),
    (["@TAR@", "Not A Name"], "Not A Name"),
])
def test_import_refuses_what_it_cannot_load(imgd, args, expect):
    d = imgd["d"]
    notar = os.path.join(d.scratch, "not-a-tarball.tar")
    with open(notar, "w") as f:
        f.write("plain text\n")
    args = [a.replace("@TAR@", imgd["tar"]).replace("@NOTAR@", notar) for a in args]
    r = sp.podium_cli(d, "image", "import", *args, "--data", d.data_dir)
    assert r.returncode != 0, r
    assert expect in r.stderr, r.stderr
    assert r.stderr.count("\n") <= 3, r.stderr   # one-line errors, as the other commands


def test_from_an_image_not_there_is_a_build_error_that_says_how_to_load_it(imgd):
    d = imgd["d"]
    files = sp.docker_space()
    files["Dockerfile"] = files["Dockerfile"].replace("FROM python:3.11-slim", "FROM python:3.10-slim")
    deploy(d, "nobase", files)
    rt = d.wait_stage(ADMIN, "nobase", "BUILD_ERROR", timeout=300)
    msg = rt.get("errorMessage", "")
    assert "python:3.10-slim" in msg and "podium image import" in msg, rt


# ---- the image at run time -------------------------------------------------------------

def test_app_port_from_the_front_matter(imgd):
    d = imgd["d"]
    files = sp.docker_space(card=["app_port: 8080"])
    files["Dockerfile"] = files["Dockerfile"].replace("EXPOSE 7860", "EXPOSE 8080")
    deploy(d, "port8080", files)
    wait_running(d, "port8080")
    assert app(d, "port8080")["env"]["PORT"] == "8080"


def test_data_persists_and_the_rest_is_discarded_on_restart(imgd):
    d = imgd["d"]
    deploy(d, "files", sp.docker_space())
    wait_running(d, "files")
    assert app(d, "files", write="/data/kept")["wrote"] is True
    assert app(d, "files", write="/home/user/app/scratch")["wrote"] is True   # WORKDIR: the user's
    assert app(d, "files", write="/home/user/.cache-x")["wrote"] is True      # HOME: the user's
    assert app(d, "files", write="/tmp/t")["wrote"] is True
    root_owned = app(d, "files", write="/etc/passwd")["wrote"]
    assert root_owned is not True and "Permission denied" in root_owned, root_owned
    r = d.api("POST", "/api/spaces/%s/files/restart" % ADMIN)
    assert r.status == 200, r
    d.wait_app(ADMIN, "files", predicate=lambda r: r.status == 200)
    ph.wait_until(lambda: app(d, "files", file="/home/user/app/scratch").get("file_error"),
                  "the new instance (the old one's writes gone)", timeout=60)
    assert app(d, "files", file="/data/kept")["file"] == "x\n"
    assert "file_error" in app(d, "files", file="/home/user/.cache-x")


def test_restart_sleep_and_wake(imgd):
    d = imgd["d"]
    deploy(d, "sleepy", sp.docker_space())
    wait_running(d, "sleepy")
    r = d.api("POST", "/api/spaces/%s/sleepy/sleeptime" % ADMIN, json={"seconds": 1})
    assert r.status == 200, r
    d.wait_stage(ADMIN, "sleepy", "SLEEPING", timeout=60)
    t0 = time.monotonic()
    out = app(d, "sleepy")
    wake = time.monotonic() - t0
    assert out["uid"] == 1000
    rt = d.runtime(ADMIN, "sleepy")
    assert rt["stage"] == "RUNNING" and rt["coldStarts"]["count"] >= 1, rt
    print("image app wake: %.3f s (%r)" % (wake, rt["coldStarts"]))


def test_rollback_serves_the_previous_image_without_a_build(imgd):
    d = imgd["d"]
    files = sp.docker_space(files={"version.txt": "one\n"})
    wd, _, _ = deploy(d, "rolls", files)
    wait_running(d, "rolls")
    assert app(d, "rolls", file="version.txt")["file"] == "one\n"
    ph.write_files(wd, {"version.txt": "two\n"})
    d.push(wd, ADMIN, "rolls")
    d.wait_app(ADMIN, "rolls", path="/?file=version.txt", predicate=lambda r: r.status == 200
               and r.json().get("file") == "two\n")
    rel = d.api("GET", "/api/spaces/%s/rolls/releases" % ADMIN).json()
    older = [x for x in rel if x["status"] == "ok" and not x["serving"]]
    assert older, rel
    r = d.api("POST", "/api/spaces/%s/rolls/rollback" % ADMIN, json={"release": older[0]["id"]})
    assert r.status == 200, r
    d.wait_app(ADMIN, "rolls", path="/?file=version.txt", predicate=lambda r: r.status == 200
               and r.json().get("file") == "one\n")


def test_the_image_app_is_boxed_like_any_app(imgd):
    """The sandbox's escape probe (tests/sandbox/probes/probe.c, static) copied into
    the image: every action refused in the image app as in any box."""
    d = imgd["d"]
    files = sp.docker_space(files={"probe": sp.static_probe(d.build_dir)})
    deploy(d, "boxed", files, executable=("probe",))
    wait_running(d, "boxed")
    # positive control: the probe runs and reports a working action
    ok = app(d, "boxed", cmd="probe", args="exists+/home/user/app/app.py")["cmd"]
    assert ok["rc"] == 0, ok
    for action in ("mount", "umount", "unshare", "clone_ns", "chroot", "setns", "open_tree", "fsopen",
                   "keyctl", "bpf", "ptrace", "caps", "euid", "af_packet",
                   "write_proc_sys+/proc/sys/kernel/domainname", "write_file+/etc/passwd",
                   "write_file+/usr/bin/podium-was-here"):
        res = app(d, "boxed", cmd="probe", args=action)["cmd"]
        assert res["rc"] != 0, "%s worked inside an image app: %r" % (action, res)
    uid_map = app(d, "boxed", cmd="uid_map")["cmd"]["out"]
    for line in uid_map.splitlines():
        inside, outside, count = (int(x) for x in line.split())
        assert outside != 0 and not (outside <= 0 < outside + count), uid_map   # host root never mapped


# ---- build args, build secrets, failures, limits ---------------------------------------

def test_variables_are_build_args_and_secrets_build_secrets(imgd):
    d = imgd["d"]
    extra = ("ARG MY_VAR\n"
             "RUN echo \"build saw MY_VAR=$MY_VAR\" && printf %s \"$MY_VAR\" > /var-at-build\n"
             "RUN --mount=type=secret,id=MY_SECRET,mode=0444,required=true "
             "sha256sum /run/secrets/MY_SECRET | cut -d' ' -f1 > /secret-sha && "
             "echo \"secret in the log: $(cat /run/secrets/MY_SECRET)\"")
    deploy(d, "buildargs", sp.docker_space(extra=extra), variables={"MY_VAR": "hello-var"},
           secrets={"MY_SECRET": SECRET})
    wait_running(d, "buildargs")
    assert app(d, "buildargs", file="/var-at-build")["file"] == "hello-var"
    assert app(d, "buildargs", file="/secret-sha")["file"].strip() == hashlib.sha256(SECRET.encode()).hexdigest()
    # the secret file was there for that step only: not in the image
    assert "file_error" in app(d, "buildargs", file="/run/secrets/MY_SECRET")
    env = app(d, "buildargs")["env"]
    assert env["MY_VAR"] == "hello-var" and env["MY_SECRET"] == SECRET, env  # both reach the app
    log = sp.build_log(d, ADMIN, "buildargs")
    assert "build saw MY_VAR=hello-var" in log, log[-3000:]
    assert "secret in the log: ***" in log and SECRET not in log, log[-3000:]
    # and never in clear anywhere under the data dir (the image's layers included)
    found = subprocess.run(["grep", "-rl", "--binary-files=text", SECRET, d.data_dir],
                           capture_output=True, text=True)
    assert found.stdout == "", found.stdout


def test_a_failing_step_is_a_build_error_with_its_last_lines(imgd):
    d = imgd["d"]
    extra = "RUN echo step-output-one && echo 'the last words of the step' >&2 && exit 7"
    wd, _, _ = deploy(d, "failing", sp.docker_space(extra=extra))
    rt = d.wait_stage(ADMIN, "failing", "BUILD_ERROR", timeout=300)
    msg = rt.get("errorMessage", "")
    assert "the last words of the step" in msg, rt
    assert "RUN echo step-output-one" in msg or "exit status 7" in msg or "exit 7" in msg, rt
    # not retried: the stage stays until the next push, which fixes it
    time.sleep(3)
    assert d.runtime(ADMIN, "failing")["stage"] == "BUILD_ERROR"
    ph.write_files(wd, {"Dockerfile": sp.HUB_DOCKERFILE.format(extra="")})
    d.push(wd, ADMIN, "failing")
    wait_running(d, "failing")


def test_build_limits_apply_to_run_steps(imgd):
    """The build flavor (here 1 GiB, 256 tasks) holds for a Dockerfile's RUN as for
    podium's own steps."""
    d = imgd["d"]
    deploy(d, "buildmem", sp.docker_space(
        extra="RUN python3 -c 'b = bytearray(1536 << 20); print(\"allocated\", len(b))'"))
    rt = d.wait_stage(ADMIN, "buildmem", "BUILD_ERROR", timeout=300)
    # (the log shows each step's text: the allocation's output, not its code, must be absent)
    assert "\nallocated " not in sp.build_log(d, ADMIN, "buildmem")
    assert "memory" in rt.get("errorMessage", "").lower(), rt
    deploy(d, "buildpids", sp.docker_space(
        extra="RUN for i in $(seq 400); do sleep 5 & done; wait; echo all-forked"))
    rt = d.wait_stage(ADMIN, "buildpids", "BUILD_ERROR", timeout=300)
    assert "\nall-forked" not in sp.build_log(d, ADMIN, "buildpids"), rt


BUILD_PROBE = r'''
import json, os, socket, subprocess
out = {}
with open("/proc/self/uid_map") as f:
    out["uid_map"] = f.read().split()
out["euid"] = os.geteuid()
r = subprocess.run(["mount", "-t", "tmpfs", "none", "/mnt"], capture_output=True, text=True)
out["mount"] = r.returncode
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    out["raw_socket"] = True
except OSError as e:
    out["raw_socket"] = repr(e)
out["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
out["canary"] = os.path.exists("@CANARY@")
out["daemon_proc"] = os.path.exists("/proc/@DAEMONPID@/cmdline") and \
    b"podium" in open("/proc/@DAEMONPID@/cmdline", "rb").read()
try:
    with open("/proc/sys/kernel/hostname", "w") as f:
        f.write("owned")
    out["proc_sys_write"] = True
except OSError as e:
    out["proc_sys_write"] = repr(e)
s = socket.socket()
s.settimeout(2)
out["hub"] = s.connect_ex(("127.0.0.1", @HUBPORT@))
out["ifaces"] = sorted(n for _, n in socket.if_nameindex())
with open("/build-probe.json", "w") as f:
    json.dump(out, f)
print("build probe:", json.dumps(out))
'''


def test_build_steps_run_confined(imgd):
    """A Dockerfile RUN is root of a user namespace whose ids are not the host's,
    with no way to the host: no mounts, no raw sockets, no host processes or files,
    /proc/sys read-only, no host network (egress is off in this suite: only lo)."""
    d = imgd["d"]
    canary = os.path.join(d.workdir, "canary-%d" % os.getpid())
    with open(canary, "w") as f:
        f.write("host file\n")
    probe = (BUILD_PROBE.replace("@CANARY@", canary).replace("@DAEMONPID@", str(d.proc.pid))
             .replace("@HUBPORT@", str(d.port)))
    files = sp.docker_space(extra="COPY build_probe.py /build_probe.py\nRUN python3 /build_probe.py",
                            files={"build_probe.py": probe})
    deploy(d, "buildprobe", files)
    wait_running(d, "buildprobe")
    out = json.loads(app(d, "buildprobe", file="/build-probe.json")["file"])
    inside, outside, count = (int(x) for x in out["uid_map"][:3])
    assert out["euid"] == 0 and inside == 0 and outside != 0, out   # root inside, not on the host
    assert out["mount"] != 0, out
    assert out["raw_socket"] is not True, out
    assert out["proc_sys_write"] is not True, out
    assert not out["canary"] and not out["daemon_proc"], out
    assert max(out["pids"]) < 100 and len(out["pids"]) < 20, out["pids"]   # its own pid namespace
    assert out["hub"] != 0, out
    assert out["ifaces"] == ["lo"], out


# ---- the layer cache -------------------------------------------------------------------------

def test_a_code_only_redeploy_rebuilds_from_the_copy_on(imgd):
    d = imgd["d"]
    extra = "RUN sleep 4 && echo 'slow step ran' && date > /slow-step"
    files = sp.docker_space(extra=extra, files={"version.txt": "1\n"})
    wd, _, t0 = deploy(d, "cached", files)
    wait_running(d, "cached")
    cold = time.monotonic() - t0
    slow_at = app(d, "cached", file="/slow-step")["file"]
    ph.write_files(wd, {"version.txt": "2\n"})
    t1 = time.monotonic()
    d.push(wd, ADMIN, "cached")
    d.wait_app(ADMIN, "cached", path="/?file=version.txt",
               predicate=lambda r: r.status == 200 and r.json().get("file") == "2\n")
    warm = time.monotonic() - t1
    log = sp.build_log(d, ADMIN, "cached")
    assert "\nslow step ran" not in log, log[-3000:]   # its output (the log also shows its text)
    assert "cache" in log.lower(), log[-3000:]
    assert app(d, "cached", file="/slow-step")["file"] == slow_at   # the same layer
    print("image space: push -> RUNNING cold %.2f s, code-only redeploy %.2f s" % (cold, warm))
    assert warm < cold, (warm, cold)


def test_a_factory_rebuild_ignores_the_layer_cache(imgd):
    d = imgd["d"]
    extra = "RUN echo 'uncached step ran' && date +%s%N > /stamp"
    deploy(d, "factory", sp.docker_space(extra=extra))
    wait_running(d, "factory")
    before = app(d, "factory", file="/stamp")["file"]
    assert d.api("POST", "/api/spaces/%s/factory/restart?factory=true" % ADMIN).status == 200
    d.wait_app(ADMIN, "factory", path="/?file=/stamp",
               predicate=lambda r: r.status == 200 and r.json().get("file") not in (None, before),
               timeout=300)
    assert "\nuncached step ran" in sp.build_log(d, ADMIN, "factory")


# ---- images on disk -------------------------------------------------------------------------

def test_images_are_listed_and_a_deleted_space_leaves_none(imgd):
    d = imgd["d"]
    deploy(d, "gone", sp.docker_space())
    wait_running(d, "gone")
    r = sp.podium_cli(d, "image", "ls", "--data", d.data_dir, "--json")
    assert r.returncode == 0, r
    names = [n for img in json.loads(r.stdout) for n in img.get("names", [])]
    assert "docker.io/library/python:3.11-slim" in names, names
    # a release's image is localhost/podium/SUBDOMAIN:rRELEASE (the plan, section 3)
    assert any("podium/admin-gone:" in n for n in names), names
    d.delete_space("gone")
    ph.wait_until(lambda: not any("podium/admin-gone:" in n for img in json.loads(
        sp.podium_cli(d, "image", "ls", "--data", d.data_dir, "--json").stdout) for n in img.get("names", [])),
        "the deleted space's images to go", timeout=60)
    # the imported base stays
    r = sp.podium_cli(d, "image", "ls", "--data", d.data_dir, "--json")
    assert "docker.io/library/python:3.11-slim" in r.stdout


def test_an_image_a_release_is_built_on_is_not_removed(imgd):
    d = imgd["d"]
    deploy(d, "keepsbase", sp.docker_space())
    wait_running(d, "keepsbase")
    r = sp.podium_cli(d, "image", "rm", "python:3.11-slim", "--data", d.data_dir)
    assert r.returncode == 1 and "used by the release image localhost/podium/" in r.stderr, r
    assert app(d, "keepsbase")["uid"] == 1000
    # positive control: an image nothing is built on goes; when the same archive was
    # imported before under another name (offline/base:1, built on), only the name goes
    before = sp.podium_cli(d, "image", "ls", "--data", d.data_dir, "--json").stdout
    sp.image_import(d, base.docker_archive(imgd["tar"], "docker.io/library/python:3.11-slim"), "spare/base:1")
    r = sp.podium_cli(d, "image", "rm", "spare/base:1", "--data", d.data_dir)
    assert r.returncode == 0, r
    listed = sp.podium_cli(d, "image", "ls", "--data", d.data_dir, "--json").stdout
    assert "docker.io/spare/base:1" not in listed and "docker.io/library/python:3.11-slim" in listed
    assert ("docker.io/offline/base:1" in listed) == ("docker.io/offline/base:1" in before), listed


# ---- configuration ----------------------------------------------------------------------------

GOOD_CONFIG = """images:
  registry_mirrors: ["mirror.example.org:5000", "https://registry.example.org"]
python:
  index_url: http://pypi.example.org/simple/
node:
  registry: http://npm.example.org/
apt:
  mirror: http://deb.example.org/debian
"""


def test_mirror_keys_are_accepted():
    with ph.own_daemon(config=GOOD_CONFIG) as d:
        assert d.api("GET", "/api/health").status == 200
        if sp.image_tools_unavailable() is not None:
            return   # no image store here: the keys are only checked
        # what buildah and pip are given (no registry or index is reachable here to pull from)
        with open(os.path.join(d.data_dir, "images", "registries.conf")) as f:
            reg = f.read()
        assert 'prefix = "docker.io"' in reg, reg
        assert 'location = "mirror.example.org:5000"' in reg and 'location = "registry.example.org"' in reg, reg
        with open(os.path.join(d.data_dir, "images", "pip.conf")) as f:
            pip = f.read()
        assert "http://pypi.example.org/simple/" in pip and "pypi.example.org" in pip, pip


def test_node_registry_is_npms_in_the_build():
    """node.registry is the registry npm uses in a node space's build (npm reads
    npm_config_registry); the package has no dependencies, so nothing is fetched."""
    from test_node import need_node
    need_node()
    pkg = {"name": "regcheck", "version": "1.0.0", "private": True,
           "scripts": {"postinstall": "echo npm-registry=$(npm config get registry)",
                       "start": "node -e \"require('http').createServer((q, r) => r.end('ok'))"
                                ".listen(+process.env.PORT)\""}}
    with ph.own_daemon(config=GOOD_CONFIG) as d:
        d.create_space("regcheck", sdk="node")
        d.push(d.workdir_from(None, {"README.md": "# node\n", "package.json": json.dumps(pkg)}),
               ADMIN, "regcheck")
        d.wait_stage(ADMIN, "regcheck", "RUNNING", timeout=300)
        log = sp.build_log(d, ADMIN, "regcheck")
        assert "npm-registry=http://npm.example.org/" in log, log[-2000:]


@pytest.mark.parametrize("config, message", [
    ("python:\n  index_url: ftp:/x\n", "python.index_url"),
    ("images:\n  registry_mirrors: mirror.example.org\n", "images.registry_mirrors"),
    ("node:\n  registry: 5\n", "node.registry"),
    ("apt:\n  mirror: [a, b]\n", "apt.mirror"),
    ("images:\n  registry_mirorrs: []\n", "unknown key images.registry_mirorrs"),
])
def test_bad_mirror_config_is_refused(config, message):
    d = ph.Daemon()
    try:
        with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
            f.write(config)
        with pytest.raises(AssertionError, match="exited"):
            d.start(timeout=30)
        assert message in d.log_tail(), d.log_tail()
    finally:
        d.cleanup()
