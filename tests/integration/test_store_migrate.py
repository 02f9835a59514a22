"""podium store migrate (issue 27): a data dir that ran on sqlite (a static space,
a python one with a variable, a sealed secret, a flavor and a sleep time, a
private one; a user with a read token and a browser session; likes) is copied
into PostgreSQL; the daemon started on the same data dir with --store serves the
same spaces, tokens, session, secret and likes (counted, sorted by and listed on
the liker's profile: the gallery's index made again on the target), and new spaces
and builds get ids after the copied ones. A second copy into that database is
refused; the way back into a new sqlite file gives the same rows, and a daemon
serves from it too."""
import os
import sqlite3
import subprocess

import pytest

import podium_helpers as ph
import test_pages_gallery
import test_secrets
import test_users

ADMIN = ph.ADMIN
BUILD = os.environ.get("PODIUM_BUILD") or os.path.join(ph.REPO_ROOT, "build")
TABLES = ("users", "tokens", "sessions", "spaces", "builds", "space_config", "space_hardware",
          "space_settings", "space_likes",
          "space_list_tags")
SECRET = "migrated-secret-value"


def migrate(src, dst):
    p = subprocess.run([os.path.join(BUILD, "podium"), "store", "migrate", "--from", src, "--to", dst],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def sqlite_counts(path):
    with sqlite3.connect(path) as db:
        return {t: db.execute("SELECT count(*) FROM %s" % t).fetchone()[0] for t in TABLES}


def pg_counts(pg, db):
    return {t: int(pg.sql("SELECT count(*) FROM %s" % t, db=db)) for t in TABLES}


@pytest.fixture(scope="module")
def d():
    """The sqlite daemon, populated, then stopped."""
    with ph.own_daemon() as d:
        d.deploy(os.path.join(ph.EXAMPLES, "static"), "site")
        d.create_space("cfg", sdk="python")
        test_secrets.set_config(d, "cfg", "variables", "MY_VAR", "a variable")
        test_secrets.set_config(d, "cfg", "secrets", "MY_SECRET", SECRET)
        d.push(d.workdir_from(None, test_secrets.app_files()), ADMIN, "cfg")
        d.deploy(None, "hidden", private=True, files={"README.md": ph.front_matter(["sdk: static"]),
                                                      "index.html": "<p>hidden</p>\n"})
        d.wait_stage(ADMIN, "cfg", "RUNNING")
        r = d.api("POST", "/api/spaces/admin/cfg/sleeptime", json={"seconds": 3600})
        assert r.status == 200, r
        r = d.api("POST", "/api/spaces/admin/cfg/hardware", json={"flavor": "cpu-upgrade"})
        assert r.status == 200, r
        d.wait_until(lambda: d.runtime(ADMIN, "cfg")["hardware"]["current"] == "cpu-upgrade",
                     "cfg runs on cpu-upgrade")
        test_users.add_user(d, "bob", password="bob's long password")
        d.bob_token = test_users.new_token(d, "bob", role="read", label="ci")
        r, d.bob_cookie = test_users.login(d, "bob", "bob's long password")
        assert r.status == 303 and d.bob_cookie, r
        # likes: bob and admin like cfg, bob likes site (a like changes something: a
        # read token may not, so bob likes with a write token of his own)
        bob_writer = test_users.new_token(d, "bob", role="write", label="likes")
        for space, token in (("cfg", bob_writer), ("cfg", d.token), ("site", bob_writer)):
            r = d.api("POST", "/api/spaces/admin/%s/like" % space, token=token)
            assert r.status == 200, r
        check_likes(d)
        rc = d.stop()
        assert rc == 0, d.log_tail()
        yield d


def check_likes(d):
    """The likes: counted in the API, the gallery sorted by them, bob's profile."""
    listed = {s["id"]: s["likes"] for s in d.api("GET", "/api/spaces").json()}
    assert listed["admin/cfg"] == 2 and listed["admin/site"] == 1, listed
    html = test_pages_gallery.page(d, "/?sort=likes&search=admin/").text
    assert test_pages_gallery.cards(html)[:2] == ["admin/cfg", "admin/site"], html[-3000:]
    html = test_pages_gallery.page(d, "/bob").text
    assert sorted(test_pages_gallery.liked_cards(html)) == ["admin/cfg", "admin/site"], html[-3000:]


def check_serves(d):
    """What the sqlite daemon served, served again."""
    d.wait_stage(ADMIN, "site", "RUNNING")
    d.wait_app(ADMIN, "site", predicate=lambda r: r.status == 200 and b"Hello from podium" in r.body)
    d.wait_stage(ADMIN, "cfg", "RUNNING")
    env = test_secrets.app_env(d, "cfg")
    assert env["MY_SECRET"] == SECRET and env["MY_VAR"] == "a variable", env
    rt = d.runtime(ADMIN, "cfg")
    assert rt["gcTimeout"] == 3600 and rt["hardware"]["requested"] == "cpu-upgrade", rt
    d.wait_stage(ADMIN, "hidden", "RUNNING")
    assert d.get_app(ADMIN, "hidden").status == 404
    assert d.get_app(ADMIN, "hidden", headers={"Authorization": "Bearer " + d.token}).status == 200
    assert d.info(ADMIN, "hidden", token=None).status == 404
    w = test_users.whoami(d, d.bob_token).json()
    assert w["name"] == "bob" and w["auth"]["accessToken"]["role"] == "read", w
    s = d.api("GET", "/api/session", token=None, headers={"Cookie": d.bob_cookie}).json()
    assert s["name"] == "bob", s
    check_likes(d)


def test_sqlite_to_postgres_and_back(d, pg):
    db_path = os.path.join(d.data_dir, "podium.db")
    before = sqlite_counts(db_path)
    assert all(before[t] > 0 for t in TABLES), before
    pg.create_db("moved")
    url = pg.url(db="moved")

    rc, out, err = migrate("sqlite:" + db_path, url)
    assert rc == 0, out + err
    # and a cluster's nodes and placements (issue 27), empty on one machine
    assert "copied %d rows of %d tables" % (sum(before.values()), len(TABLES) + 2) in out, out
    assert pg_counts(pg, "moved") == before
    assert pg.password not in out + err
    # a second copy into the same database: refused, nothing added
    rc, out, err = migrate("sqlite:" + db_path, url)
    assert rc == 1 and "not empty" in err, out + err
    assert pg_counts(pg, "moved") == before

    # the daemon on PostgreSQL, same data dir: the same spaces, users, secrets
    os.rename(db_path, db_path + ".moved")  # it must not be what serves
    d.extra_args = ["--store", url]
    d.start()
    check_serves(d)
    # new rows go on after the copied ids: a new build gets a release dir of its own
    wd = d.workdir_from(os.path.join(ph.EXAMPLES, "static"), {"index.html": "<h1>on postgres</h1>\n"})
    d.create_space("fresh")
    d.push(wd, ADMIN, "fresh")
    d.wait_app(ADMIN, "fresh", predicate=lambda r: r.status == 200 and b"on postgres" in r.body)
    d.wait_stage(ADMIN, "fresh", "RUNNING")
    assert int(pg.sql("SELECT max(id) FROM builds", db="moved")) > before["builds"]
    assert d.stop() == 0, d.log_tail()
    after = pg_counts(pg, "moved")

    # and back into a new sqlite file, which a daemon serves from
    back = os.path.join(d.workdir, "back.db")
    rc, out, err = migrate(url, "sqlite:" + back)
    assert rc == 0, out + err
    assert sqlite_counts(back) == after
    d.extra_args = ["--store", "sqlite:" + back]
    d.start()
    check_serves(d)
    d.wait_app(ADMIN, "fresh", predicate=lambda r: r.status == 200 and b"on postgres" in r.body)
