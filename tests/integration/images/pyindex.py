"""A local Python package index for the tests (PEP 503 "simple" layout on disk),
with tiny stand-ins for the packages real Spaces install, built with the standard
library's zipfile as real wheels (METADATA, WHEEL, RECORD with hashes, console
scripts in entry_points.txt), so pip installs them through its real path:
resolution against the index, download, hash check, install, scripts.

    index = build_index(DIR, {"gradio": ["4.44.1", "3.50.2"], "streamlit": ["1.39.0"]})
    serve_index(DIR)  -> (httpd, "http://127.0.0.1:PORT/simple/")  # loopback only

In the lab (images/lab.py) the same directory is served as http://pypi.lab/simple/
by the fake internet, which is what builds reach through podium's egress.

The stand-ins (each reports its own version, so a test sees which one pip chose):
- gradio: Interface(fn, inputs, outputs).launch() and Blocks() (context manager,
  .launch()) serve HTTP on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT (gradio's own
  defaults 127.0.0.1:7860 otherwise, as the real one: the Hub's env is what makes
  it reachable); GET /?q=X answers {"gradio": VERSION, "output": fn(X)}.
- streamlit: the `streamlit run FILE [--server.port N] [--server.address A]`
  script runs FILE with `st.write`/`st.title` collected, then serves them as JSON
  {"streamlit": VERSION, "lines": [...]} on the port (STREAMLIT_SERVER_PORT, else
  8501) and address (STREAMLIT_SERVER_ADDRESS, else 0.0.0.0).
- fastapi + uvicorn: FastAPI() with @app.get(path) handlers returning dicts or
  str; `uvicorn MODULE:ATTR --host H --port P` serves it (JSON for dicts).
- podium-probe-dep: an empty package a requirements.txt can name.
"""
import base64
import hashlib
import html
import io
import os
import re
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

_HTTP_SERVE = r'''
import json as _json, os as _os
from http.server import BaseHTTPRequestHandler as _B, ThreadingHTTPServer as _S
from urllib.parse import urlparse as _up, parse_qs as _pq


def _serve(host, port, answer):
    class H(_B):
        def do_GET(self):
            u = _up(self.path)
            status, body, ctype = answer(u.path, {k: v[0] for k, v in _pq(u.query).items()})
            if not isinstance(body, bytes):
                body = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass
    print("serving on %s:%d" % (host, port), flush=True)
    _S((host, port), H).serve_forever()
'''

GRADIO = _HTTP_SERVE + r'''
__version__ = "@VERSION@"


class _App:
    def __init__(self, fn=None, inputs=None, outputs=None, **kw):
        self.fn = fn or (lambda x: x)

    def launch(self, server_name=None, server_port=None, **kw):
        host = server_name or _os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
        port = int(server_port or _os.environ.get("GRADIO_SERVER_PORT", "7860"))

        def answer(path, q):
            return 200, _json.dumps({"gradio": __version__, "output": self.fn(q.get("q", "podium"))}), \
                "application/json"
        _serve(host, port, answer)

    def queue(self, *a, **kw):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


Interface = _App
Blocks = _App


def Textbox(*a, **kw):
    return None


def Markdown(*a, **kw):
    return None
'''

STREAMLIT = _HTTP_SERVE + r'''
__version__ = "@VERSION@"
_lines = []


def write(*args, **kw):
    _lines.append(" ".join(str(a) for a in args))


title = header = markdown = text = write


def main(argv=None):
    import runpy
    import sys
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "run" or len(argv) < 2:
        print("usage: streamlit run FILE [--server.port N] [--server.address A]", file=sys.stderr)
        return 2
    path, rest = argv[1], argv[2:]
    opts = {}
    i = 0
    while i < len(rest):
        a = rest[i]
        if a.startswith("--") and "=" in a:
            k, v = a[2:].split("=", 1)
            opts[k] = v
        elif a.startswith("--") and i + 1 < len(rest):
            opts[a[2:]] = rest[i + 1]
            i += 1
        i += 1
    port = int(opts.get("server.port", _os.environ.get("STREAMLIT_SERVER_PORT", "8501")))
    host = opts.get("server.address", _os.environ.get("STREAMLIT_SERVER_ADDRESS", "0.0.0.0"))
    sys.path.insert(0, _os.path.dirname(_os.path.abspath(path)))
    runpy.run_path(path, run_name="__main__")

    def answer(p, q):
        return 200, _json.dumps({"streamlit": __version__, "lines": _lines}), "application/json"
    _serve(host, port, answer)
'''

FASTAPI = r'''
__version__ = "@VERSION@"


class FastAPI:
    def __init__(self, *a, **kw):
        self.routes = {}

    def get(self, path, **kw):
        def deco(fn):
            self.routes[path] = fn
            return fn
        return deco
'''

UVICORN = _HTTP_SERVE + r'''
__version__ = "@VERSION@"


def main(argv=None):
    import importlib
    import sys
    argv = list(sys.argv[1:] if argv is None else argv)
    target, host, port = None, "127.0.0.1", 8000
    i = 0
    while i < len(argv):
        if argv[i] == "--host":
            host = argv[i + 1]
            i += 1
        elif argv[i] == "--port":
            port = int(argv[i + 1])
            i += 1
        elif not argv[i].startswith("-"):
            target = argv[i]
        i += 1
    sys.path.insert(0, _os.getcwd())
    mod, attr = target.split(":")
    app = getattr(importlib.import_module(mod), attr)

    def answer(path, q):
        fn = app.routes.get(path)
        if fn is None:
            return 404, _json.dumps({"detail": "Not Found"}), "application/json"
        r = fn()
        if isinstance(r, (dict, list)):
            return 200, _json.dumps(r), "application/json"
        return 200, str(r), "text/plain"
    _serve(host, port, answer)
'''

PACKAGES = {
    # name: (module source, console scripts {name: "module:func"})
    "gradio": (GRADIO, {}),
    "streamlit": (STREAMLIT, {"streamlit": "streamlit:main"}),
    "fastapi": (FASTAPI, {}),
    "uvicorn": (UVICORN, {"uvicorn": "uvicorn:main"}),
    "podium-probe-dep": ("__version__ = \"@VERSION@\"\n", {}),
}


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def make_wheel(out_dir, name, version, source=None, scripts=None):
    """Writes NAME-VERSION-py3-none-any.whl into out_dir; returns its path."""
    src, default_scripts = PACKAGES.get(name, ("__version__ = \"@VERSION@\"\n", {}))
    source = (source or src).replace("@VERSION@", version)
    scripts = default_scripts if scripts is None else scripts
    mod = name.replace("-", "_")
    dist = "%s-%s" % (mod, version)
    files = {
        "%s/__init__.py" % mod: source.encode(),
        "%s.dist-info/METADATA" % dist: ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
                                         "Summary: podium test stand-in for %s\n" % (name, version, name)).encode(),
        "%s.dist-info/WHEEL" % dist: b"Wheel-Version: 1.0\nGenerator: podium-tests\nRoot-Is-Purelib: true\n"
                                     b"Tag: py3-none-any\n",
    }
    if scripts:
        files["%s.dist-info/entry_points.txt" % dist] = ("[console_scripts]\n" + "".join(
            "%s = %s\n" % (k, v) for k, v in scripts.items())).encode()
    record = [_record_line(p, d) for p, d in files.items()] + ["%s.dist-info/RECORD,," % dist]
    files["%s.dist-info/RECORD" % dist] = ("\n".join(record) + "\n").encode()
    path = os.path.join(out_dir, "%s-%s-py3-none-any.whl" % (mod, version))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files.items():
            zi = zipfile.ZipInfo(p, date_time=(2024, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            z.writestr(zi, d)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return path


def build_index(root, packages):
    """packages: {name: [version, ...]}. Writes root/packages/*.whl and the PEP 503
    pages root/simple/index.html, root/simple/NAME/index.html. Returns root."""
    pkg_dir = os.path.join(root, "packages")
    os.makedirs(pkg_dir, exist_ok=True)
    names = []
    for name, versions in sorted(packages.items()):
        n = normalize(name)
        names.append(n)
        links = []
        for v in versions:
            whl = make_wheel(pkg_dir, name, v)
            with open(whl, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            base = os.path.basename(whl)
            links.append('<a href="../../packages/%s#sha256=%s">%s</a><br/>'
                         % (html.escape(base), digest, html.escape(base)))
        os.makedirs(os.path.join(root, "simple", n), exist_ok=True)
        with open(os.path.join(root, "simple", n, "index.html"), "w") as f:
            f.write("<!DOCTYPE html>\n<html><body>\n%s\n</body></html>\n" % "\n".join(links))
    with open(os.path.join(root, "simple", "index.html"), "w") as f:
        f.write("<!DOCTYPE html>\n<html><body>\n%s\n</body></html>\n" % "\n".join(
            '<a href="%s/">%s</a><br/>' % (n, n) for n in names))
    return root


def serve_index(root):
    """Serves root on 127.0.0.1 (a free port) in a thread. Returns (httpd, index_url);
    httpd.shutdown() stops it."""
    class H(SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

        def log_message(self, *a):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, "http://127.0.0.1:%d/simple/" % httpd.server_address[1]


DEFAULT_PACKAGES = {
    "gradio": ["3.50.2", "4.44.1"],
    "streamlit": ["1.38.0", "1.39.0"],
    "fastapi": ["0.115.0"],
    "uvicorn": ["0.30.6"],
    "podium-probe-dep": ["1.0"],
}
