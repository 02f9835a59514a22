"""Helpers of the image tests (heavy/test_images.py, heavy/test_real_spaces.py):
what the host must have, `podium image import` as a user calls it, the escape probe
built to run inside an image, and the spaces themselves (Hub templates as people
push them).
"""
import os
import shutil
import subprocess

import pytest

from . import base

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PROBE_SRC = os.path.join(REPO_ROOT, "tests", "sandbox", "probes", "probe.c")


def image_tools_unavailable():
    """None when this host can build images the way podium does (buildah as root of
    a user namespace of its own, crun, skopeo), else the reason."""
    if os.geteuid() != 0:
        return "image builds need root (podium serve runs as root)"
    missing = [t for t in ("buildah", "crun", "skopeo") if shutil.which(t) is None]
    if missing:
        return "%s not installed (Debian 12: apt-get install buildah crun skopeo)" % ", ".join(missing)
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            if int(f.read()) == 0:
                return "user namespaces are disabled (user.max_user_namespaces = 0): buildah needs them"
    except OSError:
        pass
    r = subprocess.run(["unshare", "--user", "--map-root-user", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        return "cannot create a user namespace (unshare --user: %s)" % r.stderr.strip()
    return None


def require_image_host(suite="bookworm"):
    """Skips with the reason unless images can be built here and the offline base
    tarball of SUITE can be had; returns the tarball."""
    why = image_tools_unavailable()
    if why:
        pytest.skip(why)
    return base.base_tarball(suite)


def podium_cli(d, *args, stdin=None, timeout=600):
    """`build/podium ARGS...` next to the daemon's binary (the real one, not a wrapper)."""
    binary = os.path.join(d.build_dir, "podium")
    return subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, timeout=timeout)


def image_import(d, tarball, name, check=True):
    """`podium image import TARBALL NAME --data DIR`, as an operator runs it on an
    air-gapped host (while the daemon runs: the command works on the data dir)."""
    r = podium_cli(d, "image", "import", tarball, name, "--data", d.data_dir)
    if check:
        assert r.returncode == 0, "podium image import %s %s: exit %d\n%s%s" % (
            tarball, name, r.returncode, r.stdout, r.stderr)
    return r


_probe_cache = {}


def static_probe(build_dir):
    """tests/sandbox/probes/probe.c linked statically (it runs inside images, whose
    libc is not the host's), cached in the build dir."""
    out = os.path.join(build_dir, "test-images", "probe-static")
    if out in _probe_cache:
        return _probe_cache[out]
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(PROBE_SRC):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        r = subprocess.run(["cc", "-O1", "-std=gnu11", "-D_GNU_SOURCE", "-static", "-o", out + ".tmp",
                            PROBE_SRC], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip("cannot link the escape probe statically: %s" % r.stderr.strip()[-300:])
        os.replace(out + ".tmp", out)
    with open(out, "rb") as f:
        _probe_cache[out] = f.read()
    return _probe_cache[out]


# ---- spaces ----------------------------------------------------------------------------

def readme(*card):
    return "---\n" + "\n".join(card) + "\n---\n\n# a space as it sits on the Hub\n"


# An app that says what it sees: the Hub's environment, who it runs as, where, a
# command's output (?cmd=NAME, from a fixed list), a file (?file=PATH), and egress
# (?url=URL). Standard library only: it runs in every image.
SEE_APP = r'''
import json, os, signal, subprocess, sys, tempfile, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs
COMMANDS = {"hello": ["hello"], "jq": ["jq", "--version"], "dpkg-hello": ["dpkg-query", "-W", "hello"],
            "probe": None, "uid_map": ["cat", "/proc/self/uid_map"]}
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        u = urlparse(self.path); q = {k: v[0] for k, v in parse_qs(u.query).items()}
        out = {"app": "see", "uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(),
               "python": "%d.%d" % sys.version_info[:2], "argv0": sys.argv[0],
               "env": {k: os.environ.get(k) for k in ("PORT", "SPACE_ID", "SPACE_HOST", "SYSTEM", "HOME",
                                                     "MY_VAR", "MY_SECRET", "PATH", "GRADIO_SERVER_PORT")}}
        if "cmd" in q and q["cmd"] in COMMANDS:
            argv = COMMANDS[q["cmd"]] or ["./probe"] + q.get("args", "").split()
            # files, not pipes, and its own session: a probe the sandbox kills mid-way
            # (seccomp) leaves the helper it forked, which must not hold the answer
            try:
                with tempfile.TemporaryFile() as o, tempfile.TemporaryFile() as e:
                    p = subprocess.Popen(argv, stdout=o, stderr=e, start_new_session=True)
                    rc = p.wait(timeout=20)
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except OSError:
                        pass
                    o.seek(0); e.seek(0)
                    out["cmd"] = {"rc": rc, "out": o.read().decode(errors="replace"),
                                  "err": e.read().decode(errors="replace")}
            except (OSError, subprocess.TimeoutExpired) as e:
                out["cmd"] = {"rc": None, "error": repr(e)}
        if "file" in q:
            try:
                with open(q["file"]) as f:
                    out["file"] = f.read()
            except OSError as e:
                out["file_error"] = repr(e)
        if "write" in q:
            try:
                with open(q["write"], "a") as f:
                    f.write("x\n")
                out["wrote"] = True
            except OSError as e:
                out["wrote"] = repr(e)
        if "url" in q:
            try:
                op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                out["fetch"] = {"ok": True, "body": op.open(q["url"], timeout=3).read().decode()[:200]}
            except Exception as e:
                out["fetch"] = {"ok": False, "error": repr(e)}
        b = json.dumps(out).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "7860"))), H).serve_forever()
'''

# The Hub's "Docker > Blank" template shape (huggingface.co/new-space, docker):
# a user of uid 1000, its home, the app copied with --chown, port 7860.
HUB_DOCKERFILE = """FROM python:3.11-slim
{extra}
RUN useradd -m -u 1000 user
USER user
ENV HOME=/home/user \\
    PATH=/home/user/.local/bin:$PATH
WORKDIR $HOME/app
COPY --chown=user . $HOME/app
EXPOSE 7860
CMD ["python", "app.py"]
"""


def docker_space(extra="", app=SEE_APP, card=(), files=None):
    """A Docker space: README front matter with sdk: docker, the Hub template
    Dockerfile with `extra` instructions after FROM, app.py."""
    out = {"README.md": readme("title: Docker space", "sdk: docker", *card),
           "Dockerfile": HUB_DOCKERFILE.format(extra=extra), "app.py": app}
    out.update(files or {})
    return out


# The Hub's FastAPI Docker template (its docs' "Your first Docker Space"), verbatim
# but for the Python version: pip installs requirements.txt as the user, uvicorn
# serves app:app on 7860.
FASTAPI_DOCKERFILE = """FROM python:3.11-slim

RUN useradd -m -u 1000 user
USER user
ENV PATH="/home/user/.local/bin:$PATH"

WORKDIR /app

COPY --chown=user ./requirements.txt requirements.txt
RUN pip install --no-cache-dir --upgrade -r requirements.txt

COPY --chown=user . /app
CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "7860"]
"""

FASTAPI_APP = """from fastapi import FastAPI

app = FastAPI()

@app.get("/")
def greet_json():
    return {"Hello": "World!"}
"""

GRADIO_APP = """import gradio as gr

def greet(name):
    return "Hello " + name + "!!"

demo = gr.Interface(fn=greet, inputs="text", outputs="text")
demo.launch()
"""

STREAMLIT_APP = """import streamlit as st

st.title("a streamlit space")
st.write("x =", 42)
"""


def build_log(d, owner, name):
    r = d.api("GET", "/api/spaces/%s/%s/logs/build" % (owner, name))
    assert r.status == 200, r
    return r.text
