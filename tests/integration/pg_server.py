"""A PostgreSQL server of a test's own: initdb in a temporary directory, its own
port on 127.0.0.1 (password auth, SCRAM) and its socket in that directory (the
superuser's way in, trust), fsync off; stopped and removed by cleanup(). As root
the server runs as the user `postgres` (initdb and postgres refuse root).

unavailable() says why no server can be started here (postgresql-15's binaries
absent, no user to run them as), for a skip with the reason.
"""
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile

PG_BIN = os.environ.get("PODIUM_PG_BIN", "/usr/lib/postgresql/15/bin")


def unavailable():
    for b in ("initdb", "pg_ctl", "postgres", "psql"):
        if not os.access(os.path.join(PG_BIN, b), os.X_OK):
            return ("PostgreSQL 15 is not installed (no %s/%s; make deps installs postgresql-15)"
                    % (PG_BIN, b))
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no user postgres to run the server as"
    return None


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """netns: a network namespace (of /run/netns) the server runs in, listening on
    listen (cluster_helpers.py's; the superuser's socket works from anywhere)."""

    def __init__(self, netns=None, listen="127.0.0.1"):
        self.dir = tempfile.mkdtemp(prefix="podium-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.netns = netns
        self.listen = listen
        self.port = 5432 if netns else _free_port()
        self.user = "podium"
        self.password = secrets.token_hex(12)
        self.db = "podium"
        self.running = False
        self._as = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        os.chmod(self.dir, 0o700)

    def _run(self, args, check=True, timeout=120, as_=True):
        p = subprocess.run((self._as if as_ else []) + args, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s\n--- server log ---\n%s"
                                 % (" ".join(args), p.returncode, p.stdout.decode(errors="replace"),
                                    self.log_tail()))
        return p

    def log_tail(self, lines=40):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError as e:
            return "(no log: %s)" % e

    def start(self):
        if not os.path.isdir(self.data):
            self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-E", "UTF8", "--locale=C",
                       "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256"])
            if self.netns:
                # the namespace's own subnet (its clients: a cluster's nodes)
                with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
                    f.write("host all all samenet scram-sha-256\n")
        opts = ("-p %d -k %s -c listen_addresses=%s -c fsync=off -c synchronous_commit=off"
                " -c full_page_writes=off -c max_connections=40 -c shared_buffers=16MB"
                % (self.port, self.dir, self.listen))
        ns = ["nsenter", "--net=/run/netns/%s" % self.netns] if self.netns else []
        self._run(ns + [a for a in self._as] + [os.path.join(PG_BIN, "pg_ctl"), "-D", self.data,
                  "-l", self.log, "-w", "-t", "120", "-o", opts, "start"], as_=False)
        self.running = True
        if self.sql("SELECT 1 FROM pg_roles WHERE rolname = '%s'" % self.user, db="postgres") != "1":
            self.sql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (self.user, self.password), db="postgres")
            self.create_db(self.db)
        return self

    def create_db(self, name):
        """A database as a real one often is: UTF-8 with a language's collation
        (ICU's en-US: "a" < "B" < "b"), not the bytes order podium relies on."""
        self.sql("CREATE DATABASE %s OWNER %s ENCODING 'UTF8' TEMPLATE template0 LOCALE 'C'"
                 " LOCALE_PROVIDER icu ICU_LOCALE 'en-US'" % (name, self.user), db="postgres")

    def sql(self, statement, db=None):
        """Runs SQL as the superuser over the socket; the output, unaligned."""
        p = self._run([os.path.join(PG_BIN, "psql"), "-X", "-h", self.dir, "-p", str(self.port),
                       "-U", "postgres", "-d", db or self.db, "-v", "ON_ERROR_STOP=1", "-Atc", statement])
        return p.stdout.decode().strip()

    def url(self, db=None, password=None, **params):
        q = "&".join("%s=%s" % kv for kv in params.items())
        return "postgres://%s:%s@127.0.0.1:%d/%s%s" % (self.user, password or self.password, self.port,
                                                      db or self.db, "?" + q if q else "")

    def stop(self):
        if self.running:
            self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"],
                      check=False)
            self.running = False

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
