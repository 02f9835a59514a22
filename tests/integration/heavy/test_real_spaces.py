"""Real Spaces run unchanged (issue 23), pushed exactly as they sit on the Hub, with
their builds reaching "the internet" through podium's egress as on a real host:

- a stock gradio space (front matter + app.py) gets gradio==sdk_version from the
  Python index (python.index_url: a local PEP 503 index of tiny stand-in wheels);
  streamlit the same, with `streamlit run`; pre-requirements.txt first; a module the
  build installed nothing for is a BUILD_ERROR that says what to add;
- the Hub's Docker templates (plain python on 7860 with `apt-get install`, and the
  FastAPI one with pip as uid 1000) build FROM python:3.11-slim (imported offline)
  and answer through the proxy;
- packages.txt installs a real Debian package (through apt.mirror), python_version
  the host lacks builds on python:X.Y-slim;
- a Dockerfile RUN reaches the internet and nothing of the host, other boxes or
  private ranges (the egress probes of heavy/test_egress.py), with no privileges.

Everything runs in images/lab.py's network namespaces: the daemon's egress is real
(podium0, nftables, its DNS forwarder) but "the internet" is a namespace whose only
way out is a relay to Debian's archive (deb.debian.org, and mirror.lab standing for
an operator's apt mirror) and the local index (pypi.lab). The machine's own network,
firewall and sysctls are not touched. Skips: no root/ip/nft/netns, Debian's archive
unreachable, no buildah/crun/skopeo or user namespaces, no base tarball.
"""
import json
import os
import tempfile
import time

import pytest

import podium_helpers as ph
from images import lab as labmod
from images import pyindex
from images import spaces as sp

ADMIN = ph.ADMIN

CONFIG = """python:
  index_url: http://pypi.lab/simple/
apt:
  mirror: http://mirror.lab/debian
"""


@pytest.fixture(scope="module")
def rs():
    tar = sp.require_image_host()
    idx = tempfile.mkdtemp(prefix="podium-pyindex-")
    pyindex.build_index(idx, pyindex.DEFAULT_PACKAGES)
    with labmod.Lab(index_dir=idx) as lab:
        d = lab.daemon(config=CONFIG)
        sp.image_import(d, tar, "python:3.11-slim")
        yield {"d": d, "lab": lab, "tar": tar}


def app_json(d, name, path="/"):
    r = d.get_app(ADMIN, name, path)
    assert r.status == 200, (r, d.runtime(ADMIN, name))
    return r.json()


def deploy(d, name, sdk, files, timeout=900):
    d.create_space(name, sdk=sdk)
    wd = d.workdir_from(None, files)
    t0 = time.monotonic()
    d.push(wd, ADMIN, name)
    return wd, t0


# ---- gradio / streamlit: sdk_version through pip's real path ---------------------------------

@pytest.mark.parametrize("version", ["4.44.1", "3.50.2"])
def test_stock_gradio_space_gets_its_sdk_version(rs, version):
    d, lab = rs["d"], rs["lab"]
    name = "gradio-" + version.replace(".", "-")
    files = {"README.md": sp.readme("title: Hello", "emoji: 👋", "colorFrom: blue", "colorTo: red",
                                    "sdk: gradio", "sdk_version: %s" % version, "app_file: app.py",
                                    "pinned: false"),
             "app.py": sp.GRADIO_APP}
    deploy(d, name, "gradio", files)
    d.wait_stage(ADMIN, name, "RUNNING", timeout=600)
    out = app_json(d, name, "/?q=podium")
    assert out == {"gradio": version, "output": "Hello podium!!"}, out
    wheels = [r["path"] for r in lab.fetched("pypi.lab", "/packages/gradio-")]
    assert any(p.endswith("gradio-%s-py3-none-any.whl" % version) for p in wheels), lab.fetched("pypi.lab")
    log = sp.build_log(d, ADMIN, name)
    assert "gradio==%s" % version in log, log[-3000:]


def test_streamlit_space_runs_streamlit_run(rs):
    d = rs["d"]
    files = {"README.md": sp.readme("title: St", "sdk: streamlit", "sdk_version: 1.39.0",
                                    "app_file: app.py"),
             "app.py": sp.STREAMLIT_APP}
    deploy(d, "streamlit", "streamlit", files)
    d.wait_stage(ADMIN, "streamlit", "RUNNING", timeout=600)
    out = app_json(d, "streamlit")
    assert out == {"streamlit": "1.39.0", "lines": ["a streamlit space", "x = 42"]}, out


def test_pre_requirements_are_installed_before_requirements(rs):
    d = rs["d"]
    files = {"README.md": sp.readme("title: Pre", "sdk: gradio", "sdk_version: 4.44.1"),
             "pre-requirements.txt": "podium-probe-dep==1.0\n",
             "requirements.txt": "fastapi==0.115.0\n",
             "app.py": "import podium_probe_dep, fastapi\n" + sp.GRADIO_APP}
    deploy(d, "prereq", "gradio", files)
    d.wait_stage(ADMIN, "prereq", "RUNNING", timeout=600)
    log = sp.build_log(d, ADMIN, "prereq")
    pre, req = log.find("pre-requirements.txt"), log.find("-r requirements.txt")
    assert 0 <= pre < req, log[-3000:]


def test_a_module_nothing_installed_is_a_build_error_that_says_what_to_add(rs):
    """Today: `==> OK`, then ModuleNotFoundError retried forever, nothing says why."""
    d = rs["d"]
    files = {"app.py": sp.GRADIO_APP}   # no front matter, no requirements.txt: sdk detected as python
    deploy(d, "nogradio", "python", files)
    rt = d.wait_stage(ADMIN, "nogradio", "BUILD_ERROR", timeout=300)
    msg = rt.get("errorMessage", "")
    assert "gradio" in msg and "requirements.txt" in msg and "sdk_version" in msg, rt
    time.sleep(3)
    assert d.runtime(ADMIN, "nogradio")["stage"] == "BUILD_ERROR"   # not retried forever


# ---- Docker templates ---------------------------------------------------------------------------

def test_hub_docker_template_with_apt_runs_and_answers_through_the_proxy(rs):
    d, lab = rs["d"], rs["lab"]
    extra = ("RUN apt-get update && apt-get install -y --no-install-recommends hello "
             "&& rm -rf /var/lib/apt/lists/*")
    wd, t0 = deploy(d, "dockerapt", "docker", sp.docker_space(extra=extra))
    d.wait_stage(ADMIN, "dockerapt", "RUNNING", timeout=900)
    cold = time.monotonic() - t0
    out = app_json(d, "dockerapt", "/?cmd=hello")
    assert out["cmd"]["out"].strip() == "Hello, world!", out
    assert out["uid"] == 1000 and out["cwd"] == "/home/user/app", out
    # the image's own apt sources (deb.debian.org): podium does not rewrite a Dockerfile's
    assert lab.fetched("deb.debian.org", "/pool/main/h/hello/"), lab.fetched("deb.debian.org")[-5:]
    # code-only redeploy: the apt layer comes from the cache
    ph.write_files(wd, {"version.txt": "2\n"})
    t1 = time.monotonic()
    d.push(wd, ADMIN, "dockerapt")
    d.wait_app(ADMIN, "dockerapt", path="/?file=version.txt",
               predicate=lambda r: r.status == 200 and r.json().get("file") == "2\n")
    warm = time.monotonic() - t1
    log = sp.build_log(d, ADMIN, "dockerapt")
    assert "Setting up hello" not in log, log[-3000:]
    print("docker space with apt: push -> RUNNING cold %.1f s, code-only %.2f s" % (cold, warm))


def test_hub_fastapi_template_installs_from_the_configured_index(rs):
    d, lab = rs["d"], rs["lab"]
    files = {"README.md": sp.readme("title: FastAPI", "sdk: docker", "app_port: 7860"),
             "Dockerfile": sp.FASTAPI_DOCKERFILE,
             "requirements.txt": "fastapi\nuvicorn[standard]\n",
             "app.py": sp.FASTAPI_APP}
    deploy(d, "fastapi", "docker", files)
    d.wait_stage(ADMIN, "fastapi", "RUNNING", timeout=900)
    assert app_json(d, "fastapi") == {"Hello": "World!"}
    assert lab.fetched("pypi.lab", "/packages/uvicorn-"), lab.fetched("pypi.lab")


def test_a_failing_apt_step_is_a_build_error_with_apts_words(rs):
    d = rs["d"]
    extra = "RUN apt-get update && apt-get install -y no-such-package-podium"
    deploy(d, "aptfail", "docker", sp.docker_space(extra=extra))
    rt = d.wait_stage(ADMIN, "aptfail", "BUILD_ERROR", timeout=900)
    assert "Unable to locate package no-such-package-podium" in rt.get("errorMessage", ""), rt


# ---- packages.txt and python_version: images for non-docker spaces --------------------------------

HELLO_GRADIO_APP = """import subprocess, sys
import gradio as gr

def greet(name):
    hello = subprocess.run(["hello"], capture_output=True, text=True).stdout.strip()
    return "%s / python %d.%d / %s" % (hello, sys.version_info[0], sys.version_info[1], name)

gr.Interface(fn=greet, inputs="text", outputs="text").launch()
"""


def test_packages_txt_installs_a_debian_package(rs):
    d, lab = rs["d"], rs["lab"]
    files = {"README.md": sp.readme("title: Pkgs", "sdk: gradio", "sdk_version: 4.44.1",
                                    "app_file: app.py"),
             "packages.txt": "hello\n",
             "app.py": HELLO_GRADIO_APP}
    deploy(d, "pkgs", "gradio", files)
    d.wait_stage(ADMIN, "pkgs", "RUNNING", timeout=900)
    out = app_json(d, "pkgs", "/?q=x")
    assert out == {"gradio": "4.44.1", "output": "Hello, world! / python 3.11 / x"}, out
    # podium's own apt for packages.txt goes to apt.mirror
    assert lab.fetched("mirror.lab", "/pool/main/h/hello/"), lab.fetched("mirror.lab")[-5:]
    log = sp.build_log(d, ADMIN, "pkgs")
    assert "packages.txt" in log, log[-3000:]


def test_a_bad_packages_txt_is_a_build_error(rs):
    d = rs["d"]
    files = {"README.md": sp.readme("title: Bad", "sdk: gradio", "sdk_version: 4.44.1"),
             "packages.txt": "no-such-package-podium\n", "app.py": sp.GRADIO_APP}
    deploy(d, "badpkgs", "gradio", files)
    rt = d.wait_stage(ADMIN, "badpkgs", "BUILD_ERROR", timeout=900)
    assert "no-such-package-podium" in rt.get("errorMessage", ""), rt


def test_python_version_the_host_lacks(rs):
    d = rs["d"]
    tar39 = sp.require_image_host("bullseye")      # Debian 11: Python 3.9
    sp.image_import(d, tar39, "python:3.9-slim")
    files = {"README.md": sp.readme("title: Py39", "sdk: gradio", "sdk_version: 4.44.1",
                                    "python_version: \"3.9\"", "app_file: app.py"),
             "packages.txt": "hello\n",
             "app.py": HELLO_GRADIO_APP}
    deploy(d, "py39", "gradio", files)
    d.wait_stage(ADMIN, "py39", "RUNNING", timeout=900)
    out = app_json(d, "py39", "/?q=y")
    assert out["output"] == "Hello, world! / python 3.9 / y", out


def test_python_version_without_its_image_says_how_to_get_it(rs):
    d = rs["d"]
    files = {"README.md": sp.readme("title: Py310", "sdk: gradio", "sdk_version: 4.44.1",
                                    "python_version: \"3.10\""),
             "app.py": sp.GRADIO_APP}
    deploy(d, "py310", "gradio", files)
    rt = d.wait_stage(ADMIN, "py310", "BUILD_ERROR", timeout=600)
    msg = rt.get("errorMessage", "")
    assert "python:3.10-slim" in msg and "podium image import" in msg, rt


# ---- a Dockerfile RUN: the internet, never the host -------------------------------------------------

NETPROBE = r'''
import json, os, socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
def me():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(("198.51.100.80", 9))
    return s.getsockname()[0]
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        b = json.dumps({"addr": me(), "port": int(os.environ["PORT"])}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a): pass
ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''

RUN_PROBE = r'''
import json, os, socket, subprocess, urllib.request
def get(u):
    try:
        op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        return {"ok": True, "body": op.open(u, timeout=3).read().decode()[:100]}
    except Exception as e:
        return {"ok": False, "error": repr(e)}
out = {name: get(url) for name, url in [
    ("internet", "http://198.51.100.80/"), ("dns", "http://fake.example/"),
    ("hub", "http://127.0.0.1:@HUBPORT@/api/spaces"), ("gateway", "http://198.18.0.1:@HUBPORT@/"),
    ("metadata", "http://169.254.169.254/"), ("operator-denied", "http://203.0.113.80/"),
    ("other app", "@OTHERAPP@")]}
with open("/proc/self/uid_map") as f:
    out["uid_map"] = f.read().split()
out["mount"] = subprocess.run(["mount", "-t", "tmpfs", "none", "/mnt"], capture_output=True).returncode
out["probe"] = {a: subprocess.run(["/probe", *a.split()], capture_output=True).returncode
                for a in ("mount", "setns", "open_tree", "fsopen", "bpf", "perf_event_open", "af_packet",
                          "write_proc_sys /proc/sys/kernel/domainname", "keyctl")}
out["probe_control"] = subprocess.run(["/probe", "exists", "/probe"], capture_output=True).returncode
try:
    out["host_file"] = open("@CANARY@").read()
except OSError as e:
    out["host_file"] = repr(e)
with open("/run-probe.json", "w") as f:
    json.dump(out, f)
print("run probe:", json.dumps(out))
'''


def test_a_dockerfile_run_reaches_the_internet_and_nothing_else(rs):
    d = rs["d"]
    d.deploy(None, "netb", sdk="python", files={
        "README.md": sp.readme("title: B", "sdk: python", "app_file: app.py"), "app.py": NETPROBE})
    other = d.wait_app(ADMIN, "netb", predicate=lambda r: r.status == 200 and r.json().get("addr")).json()
    canary = os.path.join(d.workdir, "canary-%d" % os.getpid())
    with open(canary, "w") as f:
        f.write("host file\n")
    probe = (RUN_PROBE.replace("@HUBPORT@", str(d.port)).replace("@CANARY@", canary)
             .replace("@OTHERAPP@", "http://%s:%d/" % (other["addr"], other["port"])))
    extra = ("COPY run_probe.py /run_probe.py\nCOPY probe /probe\n"
             "RUN chmod 755 /probe && python3 /run_probe.py")
    files = sp.docker_space(extra=extra, files={"run_probe.py": probe,
                                                "probe": sp.static_probe(d.build_dir)})
    deploy(d, "runprobe", "docker", files)
    d.wait_stage(ADMIN, "runprobe", "RUNNING", timeout=900)
    out = json.loads(app_json(d, "runprobe", "/?file=/run-probe.json")["file"])
    assert out["internet"] == {"ok": True, "body": "fake-internet 198.51.100.80"}, out
    assert out["dns"] == {"ok": True, "body": "fake-internet 198.51.100.80"}, out
    for what in ("hub", "gateway", "metadata", "operator-denied", "other app"):
        assert not out[what]["ok"], (what, out)
    inside, outside, count = (int(x) for x in out["uid_map"][:3])
    assert inside == 0 and outside != 0, out          # RUN's root is not the host's
    # (unshare(CLONE_NEWUSER) is not asked: a namespace of its own under the build's is
    # no privilege on the host, and Docker's and podman's profiles allow it; keyctl is
    # refused as in podium's own boxes: RUN steps get podium's seccomp policy)
    assert out["mount"] != 0, out
    assert out["probe_control"] == 0, out
    for action, rc in out["probe"].items():
        assert rc != 0, "%s worked in a Dockerfile RUN: %r" % (action, out["probe"])
    assert "host file" not in out["host_file"], out


def test_the_image_app_has_egress_and_not_the_host(rs):
    d = rs["d"]
    deploy(d, "imgnet", "docker", sp.docker_space())
    d.wait_stage(ADMIN, "imgnet", "RUNNING", timeout=900)
    r = app_json(d, "imgnet", "/?url=http://198.51.100.80/")["fetch"]
    assert r == {"ok": True, "body": "fake-internet 198.51.100.80"}, r
    for url in ("http://127.0.0.1:%d/api/spaces" % d.port, "http://198.18.0.1:%d/" % d.port,
                "http://169.254.169.254/"):
        r = app_json(d, "imgnet", "/?url=" + url)["fetch"]
        assert not r["ok"], (url, r)
    assert d.runtime(ADMIN, "imgnet")["egress"]["tx_bytes"] > 0
