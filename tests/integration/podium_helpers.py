"""Helpers for podium's integration tests (and tests/bench): start a real daemon,
talk to its API, push with the real git CLI, wait for stages, reach apps through
the proxy by Host header.

Everything polls with generous timeouts: the suite runs on loaded 2-core VMs.
"""
import contextlib
import glob
import http.client
import json as jsonlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
EXAMPLES = os.path.join(REPO_ROOT, "examples")
APPS = os.path.join(HERE, "apps")

ADMIN = "admin"
DEFAULT = object()  # "use the admin token"

ERROR_STAGES = {"NO_APP_FILE", "CONFIG_ERROR", "BUILD_ERROR", "RUNTIME_ERROR"}
SERVING_STAGES = {"RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING"}

DEPLOY_TIMEOUT = float(os.environ.get("PODIUM_DEPLOY_TIMEOUT", "180"))

# Every daemon started by this process, so a failing test can print their logs.
LIVE_DAEMONS = []


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subdomain(owner, name):
    """lower(owner)-lower(name) with '.' and '_' turned into '-' (INTERFACES.md)."""
    return re.sub(r"[._]", "-", "%s-%s" % (owner.lower(), name.lower()))


def tail(path, lines=80):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(no log: %s)" % e
    return "\n".join(data.splitlines()[-lines:])


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return jsonlib.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Resp %s %r>" % (self.status, self.body[:300])


def http_request(port, method, path, host, body=None, headers=None, timeout=30):
    """One request on a fresh connection to 127.0.0.1:port with an explicit Host."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        hdrs = dict(headers or {})
        if body is not None and not any(k.lower() == "content-length" for k in hdrs):
            hdrs["Content-Length"] = str(len(body))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def raw_request(port, data, timeout=20):
    """Sends raw bytes, reads until the server closes (or times out).
    Returns (status or None, full response bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                c = s.recv(65536)
            except socket.timeout:
                break
            if not c:
                break
            chunks.append(c)
    out = b"".join(chunks)
    m = re.match(rb"HTTP/1\.[01] (\d{3})", out)
    return (int(m.group(1)) if m else None), out


def mounts_under(root):
    """Mount points below root, deepest first."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4].replace("\\040", " ") for line in f]
    return sorted((m for m in points if m.startswith(root.rstrip("/") + "/")), key=len, reverse=True)


def loop_backing_files():
    """Each loop device's backing file, one a line, as sysfs names it (never
    stats the file: see test_storage's loop check)."""
    out = []
    for dev in sorted(glob.glob("/sys/block/loop*/loop/backing_file")):
        try:
            with open(dev) as f:
                out.append(f.read().strip())
        except OSError:
            pass  # detached meanwhile
    return "\n".join(out)


def write_files(root, files):
    """files: {relpath: str | bytes | None (delete) | ('symlink', target)}."""
    for rel, content in (files or {}).items():
        p = os.path.join(root, rel)
        if content is None:
            if os.path.lexists(p):
                os.remove(p)
            continue
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.lexists(p):
            os.remove(p)
        if isinstance(content, tuple) and content[0] == "symlink":
            os.symlink(content[1], p)
        elif isinstance(content, bytes):
            with open(p, "wb") as f:
                f.write(content)
        else:
            with open(p, "w", encoding="utf-8") as f:
                f.write(content)


def front_matter(card_lines, body="\n# test space\n"):
    return "---\n" + "\n".join(card_lines) + "\n---\n" + body


class Daemon:
    """A real `podium serve` on a free port with its own data dir."""

    def __init__(self, build_dir=None, workdir=None, domain="localhost"):
        self.build_dir = build_dir or os.environ.get("PODIUM_BUILD") or os.path.join(REPO_ROOT, "build")
        self.binary = os.path.join(self.build_dir, "podium")
        self.workdir = workdir or tempfile.mkdtemp(prefix="podium-it-")
        # mkdtemp makes it 0700 and it stays so: apps and builds run as unprivileged
        # uids, and must still get their release and /data, as with a data dir under
        # /root.
        self.data_dir = os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "daemon.stderr")
        self.git_home = os.path.join(self.workdir, "git-home")
        self.scratch = os.path.join(self.workdir, "scratch")
        for d in (self.data_dir, self.git_home, self.scratch):
            os.makedirs(d, exist_ok=True)
        self.domain = domain
        self.port = free_port()
        self.proc = None
        self.token = None
        self._log = None
        self.starts = 0
        self.extra_args = []   # more `podium serve` options, for the next start
        self.extra_env = {}    # more environment, for the next start

    # ---- lifecycle -------------------------------------------------------------

    def start(self, timeout=90):
        assert os.access(self.binary, os.X_OK), "no daemon binary at %s (set PODIUM_BUILD)" % self.binary
        self._log = open(self.log_path, "ab")
        self.starts += 1
        self._log.write(("\n===== podium start #%d =====\n" % self.starts).encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
             "--data", self.data_dir, "--domain", self.domain, *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            env=dict(os.environ, **self.extra_env))
        if self not in LIVE_DAEMONS:
            LIVE_DAEMONS.append(self)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("podium exited with %s during startup:\n%s"
                                     % (self.proc.returncode, self.log_tail()))
            try:
                r = http_request(self.port, "GET", "/api/health", "127.0.0.1:%d" % self.port, timeout=5)
                last = r
                if r.status == 200 and r.json().get("status") == "ok":
                    break
            except (OSError, ValueError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.05)
        else:
            raise AssertionError("podium not healthy after %ss (last: %r):\n%s"
                                 % (timeout, last, self.log_tail()))
        token_path = os.path.join(self.data_dir, "admin.token")
        deadline = time.monotonic() + 10
        while not os.path.exists(token_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(token_path) as f:
            self.token = f.read().strip()
        assert self.token, "empty admin.token"
        return self

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Signals the daemon and waits; returns its exit status. Fails if it
        does not exit within timeout (then it is SIGKILLed)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("podium did not exit within %ss of signal %d:\n%s"
                                 % (timeout, sig, self.log_tail()))
        finally:
            if self._log:
                self._log.close()
                self._log = None
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None

    def restart(self, kill=False):
        if kill:
            self.kill9()
        else:
            rc = self.stop()
            assert rc == 0, "graceful stop exited %r:\n%s" % (rc, self.log_tail())
        return self.start()

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self in LIVE_DAEMONS:
            LIVE_DAEMONS.remove(self)
        # a daemon killed with -9 leaves its spaces' /data filesystems mounted
        for mp in mounts_under(self.workdir):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        if os.environ.get("PODIUM_KEEP") != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)

    def assert_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError("podium died (exit status %s):\n%s" % (self.proc.returncode, self.log_tail()))

    def wait_until(self, cond, what, timeout=60, interval=0.1):
        return wait_until(cond, what, timeout, interval, alive=self.assert_alive)

    def log_tail(self, lines=80):
        if self._log:
            self._log.flush()
        return tail(self.log_path, lines)

    # ---- hub API ---------------------------------------------------------------

    @property
    def hub_host(self):
        return "127.0.0.1:%d" % self.port

    def api(self, method, path, json=None, token=DEFAULT, host=None, headers=None, timeout=30):
        token = self.token if token is DEFAULT else token
        hdrs = {"Accept": "application/json"}
        if token:
            hdrs["Authorization"] = "Bearer %s" % token
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        return http_request(self.port, method, path, host or self.hub_host, body, hdrs, timeout)

    def create_space(self, name, sdk="static", private=False, organization=None, token=DEFAULT,
                     expect=200):
        payload = {"type": "space", "name": name, "sdk": sdk, "private": private}
        if organization is not None:
            payload["organization"] = organization
        r = self.api("POST", "/api/repos/create", json=payload, token=token)
        if expect is not None:
            assert r.status == expect, "create %r: expected %s, got %r" % (payload, expect, r)
        return r

    def delete_space(self, name, organization=None, token=DEFAULT, expect=200):
        payload = {"type": "space", "name": name}
        if organization is not None:
            payload["organization"] = organization
        r = self.api("DELETE", "/api/repos/delete", json=payload, token=token)
        if expect is not None:
            assert r.status == expect, "delete %r: expected %s, got %r" % (payload, expect, r)
        return r

    def info(self, owner, name, token=DEFAULT):
        return self.api("GET", "/api/spaces/%s/%s" % (owner, name), token=token)

    def app_pids(self, space_id):
        """Host pids of this daemon's app processes for space_id ("owner/name"): their
        environment names the space and this daemon's port (other daemons on the
        machine, another suite's included, may run a space of the same name)."""
        owner, name = space_id.split("/")
        sub = ("%s-%s" % (owner, name)).lower().replace(".", "-").replace("_", "-")
        want = [("SPACE_ID=%s" % space_id).encode() + b"\0",
                ("SPACE_HOST=%s.localhost:%d" % (sub, self.port)).encode() + b"\0"]
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    env = b"\0" + f.read() + b"\0"
            except OSError:
                continue
            if all(b"\0" + w in env for w in want):
                pids.append(int(d))
        return pids

    def runtime(self, owner, name, token=DEFAULT):
        r = self.api("GET", "/api/spaces/%s/%s/runtime" % (owner, name), token=token)
        assert r.status == 200, "runtime of %s/%s: %r" % (owner, name, r)
        return r.json()

    def wait_stage(self, owner, name, stages, timeout=DEPLOY_TIMEOUT, fail_after=8.0, token=DEFAULT):
        """Polls the runtime until its stage is in stages. An error stage that is not
        wanted and stays for fail_after seconds fails early (with its errorMessage)."""
        if isinstance(stages, str):
            stages = {stages}
        stages = set(stages)
        deadline = time.monotonic() + timeout
        bad_since = None
        rt = None
        while time.monotonic() < deadline:
            self.assert_alive()
            try:
                rt = self.runtime(owner, name, token=token)
            except (OSError, http.client.HTTPException) as e:
                rt = {"error": repr(e)}
                time.sleep(0.2)
                continue
            stage = rt.get("stage")
            if stage in stages:
                return rt
            if stage in ERROR_STAGES:
                bad_since = bad_since or time.monotonic()
                if time.monotonic() - bad_since > fail_after:
                    raise AssertionError("%s/%s stuck in %s (wanted %s): %r\n%s"
                                         % (owner, name, stage, sorted(stages), rt, self.log_tail()))
            else:
                bad_since = None
            time.sleep(0.1)
        raise AssertionError("%s/%s: stage not in %s after %ss; last runtime %r\n%s"
                             % (owner, name, sorted(stages), timeout, rt, self.log_tail()))

    # ---- apps through the proxy -------------------------------------------------

    def app_host(self, owner, name, with_port=True):
        h = "%s.%s" % (subdomain(owner, name), self.domain)
        return "%s:%d" % (h, self.port) if with_port else h

    def get_app(self, owner, name, path="/", method="GET", body=None, headers=None, timeout=30):
        return http_request(self.port, method, path, self.app_host(owner, name), body, headers, timeout)

    def wait_app(self, owner, name, path="/", predicate=None, timeout=DEPLOY_TIMEOUT):
        """Polls the app until predicate(resp) (default: status 200)."""
        predicate = predicate or (lambda r: r.status == 200)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.assert_alive()
            try:
                last = self.get_app(owner, name, path, timeout=15)
                if predicate(last):
                    return last
            except (OSError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.1)
        raise AssertionError("%s/%s%s never satisfied the check in %ss; last %r\nruntime: %r\n%s"
                             % (owner, name, path, timeout, last, self._safe_runtime(owner, name),
                                self.log_tail()))

    def _safe_runtime(self, owner, name):
        try:
            return self.runtime(owner, name)
        except Exception as e:  # noqa: BLE001 - diagnostics only
            return repr(e)

    # ---- git -------------------------------------------------------------------

    def git_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("GIT_") and k not in ("SSH_ASKPASS",)}
        env.update({
            "HOME": self.git_home,
            "XDG_CONFIG_HOME": os.path.join(self.git_home, ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        })
        return env

    def git(self, *args, cwd=None, check=True, timeout=180):
        cmd = ["git", "-c", "credential.helper=", "-c", "user.name=Podium Tests",
               "-c", "user.email=tests@podium.invalid", "-c", "init.defaultBranch=main",
               "-c", "advice.detachedHead=false", *args]
        p = subprocess.run(cmd, cwd=cwd, env=self.git_env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s%s\n--- podium log ---\n%s"
                                 % (" ".join(cmd), p.returncode, p.stdout.decode(errors="replace"),
                                    p.stderr.decode(errors="replace"), self.log_tail()))
        return p

    def remote_url(self, owner, name, token=DEFAULT, user=ADMIN, host="127.0.0.1", suffix=""):
        token = self.token if token is DEFAULT else token
        auth = "%s:%s@" % (user, token) if token else ""
        return "http://%s%s:%d/spaces/%s/%s%s" % (auth, host, self.port, owner, name, suffix)

    def workdir_from(self, src=None, files=None):
        """A fresh directory with a copy of src (symlinks kept) plus files."""
        d = tempfile.mkdtemp(prefix="work-", dir=self.scratch)
        if src:
            shutil.copytree(src, d, symlinks=True, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".git"))
        write_files(d, files)
        return d

    def commit(self, workdir, message="deploy"):
        if not os.path.isdir(os.path.join(workdir, ".git")):
            self.git("init", "-q", cwd=workdir)
        self.git("add", "-A", cwd=workdir)
        self.git("commit", "-q", "--allow-empty", "-m", message, cwd=workdir)
        return self.git("rev-parse", "HEAD", cwd=workdir).stdout.decode().strip()

    def try_push(self, workdir, owner, name, token=DEFAULT, host="127.0.0.1", user=ADMIN,
                 message="deploy"):
        """Commits everything in workdir and pushes main; returns (sha, CompletedProcess)."""
        sha = self.commit(workdir, message)
        p = self.git("push", "-q", self.remote_url(owner, name, token, user, host), "main",
                     cwd=workdir, check=False)
        return sha, p

    def push(self, workdir, owner, name, token=DEFAULT, host="127.0.0.1", message="deploy"):
        """Commits and pushes; fails the test if git fails. Returns the pushed sha."""
        sha, p = self.try_push(workdir, owner, name, token, host=host, message=message)
        assert p.returncode == 0, "git push to %s/%s failed (%d):\n%s\n--- podium log ---\n%s" % (
            owner, name, p.returncode, p.stderr.decode(errors="replace"), self.log_tail())
        return sha

    def deploy(self, src, name, sdk="static", files=None, owner=ADMIN, private=False,
               host="127.0.0.1", wait=True):
        """create + push (+ wait RUNNING). Returns (workdir, sha)."""
        self.create_space(name, sdk=sdk, private=private,
                          organization=None if owner == ADMIN else owner)
        wd = self.workdir_from(src, files)
        sha = self.push(wd, owner, name, host=host)
        if wait:
            self.wait_stage(owner, name, "RUNNING")
        return wd, sha


class Loader:
    """Background threads requesting an app continuously, recording every outcome.

    mode "fresh": a new TCP connection per request.
    mode "keepalive": one persistent connection; a request that dies on a reused
    connection before any response byte is retried once on a new connection,
    exactly as browsers and HTTP client libraries do for idempotent requests."""

    def __init__(self, daemon, owner, name, path="/", mode="fresh"):
        self.d, self.owner, self.name, self.path, self.mode = daemon, owner, name, path, mode
        self.results = []  # (status or exception repr, body text)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._t.start()
        return self

    def stop(self):
        self._stop.set()
        self._t.join(60)
        assert not self._t.is_alive(), "loader thread hung"

    def _one_keepalive(self, conn_box):
        host = self.d.app_host(self.owner, self.name)
        for attempt in (0, 1):
            conn = conn_box[0]
            reused = conn is not None
            if conn is None:
                conn = conn_box[0] = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=30)
            try:
                conn.request("GET", self.path, headers={"Host": host})
                r = conn.getresponse()
                body = r.read()
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn_box[0] = None
                return r.status, body.decode("utf-8", "replace")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                conn.close()
                conn_box[0] = None
                if reused and attempt == 0:
                    continue
                return repr(e), ""
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn_box[0] = None
                return repr(e), ""
        return "unreachable", ""

    def _run(self):
        conn_box = [None]
        while not self._stop.is_set():
            if self.mode == "keepalive":
                res = self._one_keepalive(conn_box)
            else:
                try:
                    r = self.d.get_app(self.owner, self.name, self.path, timeout=30)
                    res = (r.status, r.text)
                except (OSError, http.client.HTTPException) as e:
                    res = (repr(e), "")
            self.results.append(res)
            time.sleep(0.005)
        if conn_box[0] is not None:
            conn_box[0].close()

    def failures(self):
        return [r for r in self.results if r[0] != 200]


def wait_until(cond, what, timeout=60, interval=0.1, alive=None):
    """Polls cond() until truthy; returns its value. Exceptions count as 'not yet'.
    alive(), if given, is called each round to fail fast (e.g. the daemon died)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if alive is not None:
            alive()
        try:
            v = cond()
            if v:
                return v
        except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for: %s (last error %r)" % (timeout, what, last))


# ---- resources of a running daemon (tests/integration/heavy/test_resources*.py, bench_export) ----

def proc_status_kb(pid, field):
    """A "kB" field of /proc/PID/status (VmRSS, VmHWM, ...) as an int."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def proc_cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples a process's VmRSS every `interval` s in a thread; .peak_kb is the
    largest seen (VmHWM, the kernel's own peak, is read too when stopping)."""

    def __init__(self, pid, interval=0.01):
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.hwm_kb = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak_kb = max(self.peak_kb, proc_status_kb(self.pid, "VmRSS"))
            except (OSError, KeyError):
                return
            time.sleep(self.interval)

    def start(self):
        self._t.start()
        return self

    def stop(self):
        self._stop.set()
        self._t.join(10)
        try:
            self.hwm_kb = proc_status_kb(self.pid, "VmHWM")
        except (OSError, KeyError):
            pass
        return self


def wrapped_daemon(prefix=(), extra_args=(), **kw):
    """A Daemon (not started) whose binary is a small script running
    `PREFIX... podium ARGS... EXTRA_ARGS...` with exec all the way, so the pid
    the test sees is the daemon's: e.g. prefix=("prlimit", "--nofile=96:96"),
    extra_args=("--memory-budget", "3G")."""
    d = Daemon(**kw)
    real = d.binary
    script = os.path.join(d.workdir, "podium")
    # (podium finds podium-sandbox next to its own executable, not the script)
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexec %s %s \"$@\" %s\n" % (
            " ".join("'%s'" % a for a in prefix), "'%s'" % real,
            " ".join("'%s'" % a for a in extra_args)))
    os.chmod(script, 0o755)
    d.binary = script
    return d


@contextlib.contextmanager
def own_daemon(config=None, env=None, stop_timeout=30):
    """A daemon of a test module's own (fixture body): DATA/config.yaml and extra
    environment given before it starts; it must stop cleanly at the end."""
    d = Daemon()
    d.extra_env = dict(env or {})
    if config is not None:
        with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
            f.write(config)
    try:
        d.start()
        yield d
        rc = d.stop(timeout=stop_timeout)
        assert rc == 0, "podium exited %r on SIGTERM:\n%s" % (rc, d.log_tail())
    finally:
        d.cleanup()


def ok_releases(d, owner, name):
    """Ids (as release directory names) of the space's successful builds."""
    rel = d.api("GET", "/api/spaces/%s/%s/releases" % (owner, name)).json()
    return {str(r["id"]) for r in rel if r["status"] == "ok"}
