"""Issue 21.6: a private app's ticket cookie (podium_app) ends with what it was minted
from and for: the session that opened the page (logout), its user (disabled, or an
admin demoted), and the space as it was (deleted and made again, made public and
private again). Each time the control is the same: a cookie minted just before works,
and a fresh one minted after (where the user still may) works again."""
import re
import urllib.parse

import pytest

import podium_helpers as ph
from test_users import add_user, login, user_cmd

PASSWORD = "tickets password"
FILES = {"README.md": ph.front_matter(["sdk: static"]), "index.html": "<p>diary</p>\n"}


def page_frame(d, owner, name, cookie):
    r = ph.http_request(d.port, "GET", "/spaces/%s/%s" % (owner, name), d.hub_host,
                        headers={"Accept": "text/html", "Cookie": cookie})
    assert r.status == 200, r
    return re.search(r'<iframe title="app" src="([^"]+)"', r.text).group(1).replace("&amp;", "&")


def app_cookie(d, owner, name, session):
    """What the browser holds after the page's iframe: the app host's cookie."""
    u = urllib.parse.urlsplit(page_frame(d, owner, name, session))
    assert "__sign=" in u.query, u
    r = d.get_app(owner, name, u.path + "?" + u.query)
    assert r.status == 303, r
    return r.headers["set-cookie"].split(";")[0]


def opens(d, owner, name, jar):
    r = d.get_app(owner, name, headers={"Cookie": jar})
    return r.status == 200 and b"diary" in r.body


def session_of(d, user):
    r, cookie = login(d, user, PASSWORD)
    assert r.status == 303 and cookie, r
    return cookie


def logout(d, cookie):
    s = d.api("GET", "/api/session", token=None, headers={"Cookie": cookie}).json()
    r = ph.http_request(d.port, "POST", "/logout", d.hub_host, ("csrf=" + s["csrf"]).encode(), {
        "Cookie": cookie, "Origin": "http://" + d.hub_host,
        "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 303, r


@pytest.fixture(scope="module")
def diary(podium):
    add_user(podium, "tix-alice", password=PASSWORD)
    add_user(podium, "tix-olga", password=PASSWORD, admin=True)
    d = podium
    s = session_of(d, "tix-alice")
    tok = d.api("POST", "/api/settings/tokens", json={"name": "t", "role": "write"}, token=None,
                headers={"Cookie": s, "Origin": "http://" + d.hub_host}).json()["token"]
    d.create_space("diary", private=True, token=tok)
    d.push(d.workdir_from(None, FILES), "tix-alice", "diary", token=tok)
    d.wait_stage("tix-alice", "diary", "RUNNING", token=tok)
    d.alice = tok
    return d


def test_logout_ends_the_cookie(diary):
    d = diary
    s = session_of(d, "tix-alice")
    jar = app_cookie(d, "tix-alice", "diary", s)
    assert opens(d, "tix-alice", "diary", jar)          # control
    assert not opens(d, "tix-alice", "diary", "x=1")     # nothing else opens it
    other = session_of(d, "tix-alice")
    jar2 = app_cookie(d, "tix-alice", "diary", other)
    logout(d, s)
    assert not opens(d, "tix-alice", "diary", jar)
    # another session's cookie lives on
    assert opens(d, "tix-alice", "diary", jar2)
    logout(d, other)


def test_disabling_the_user_ends_the_cookie(diary):
    d = diary
    s = session_of(d, "tix-alice")
    jar = app_cookie(d, "tix-alice", "diary", s)
    assert opens(d, "tix-alice", "diary", jar)
    assert user_cmd(d, "disable", "tix-alice").returncode == 0
    d.wait_until(lambda: not opens(d, "tix-alice", "diary", jar),
                 "the disabled user's cookie stops", timeout=15)
    assert user_cmd(d, "enable", "tix-alice").returncode == 0
    # the session went with the disable; a new one works again
    s = session_of(d, "tix-alice")
    d.wait_until(lambda: opens(d, "tix-alice", "diary", app_cookie(d, "tix-alice", "diary", s)),
                 "a new cookie works", timeout=15)


def test_an_admin_demoted_loses_the_cookie(diary):
    d = diary
    s = session_of(d, "tix-olga")
    jar = app_cookie(d, "tix-alice", "diary", s)
    assert opens(d, "tix-alice", "diary", jar)           # an admin may open it
    r = d.api("POST", "/api/admin/users/tix-olga", json={"admin": False})
    assert r.status == 200, r
    assert not opens(d, "tix-alice", "diary", jar)
    r = ph.http_request(d.port, "GET", "/spaces/tix-alice/diary", d.hub_host,
                        headers={"Accept": "text/html", "Cookie": s})
    assert r.status == 404  # and she gets no new one


def test_visibility_change_ends_the_cookie(diary):
    d = diary
    s = session_of(d, "tix-alice")
    jar = app_cookie(d, "tix-alice", "diary", s)
    assert opens(d, "tix-alice", "diary", jar)
    for private in (False, True):
        r = d.api("PUT", "/api/spaces/tix-alice/diary/settings", json={"private": private},
                  token=d.alice)
        assert r.status == 200 and r.json() == {"private": private}, r
    assert d.info("tix-alice", "diary", token=None).status == 404
    assert not opens(d, "tix-alice", "diary", jar)
    assert opens(d, "tix-alice", "diary", app_cookie(d, "tix-alice", "diary", s))   # control
    r = d.api("PUT", "/api/spaces/tix-alice/diary/settings", json={"private": "yes"},
              token=d.alice)
    assert r.status == 400, r


def test_delete_and_remake_ends_the_cookie(diary):
    d = diary
    s = session_of(d, "tix-alice")
    jar = app_cookie(d, "tix-alice", "diary", s)
    assert opens(d, "tix-alice", "diary", jar)
    d.delete_space("diary", organization="tix-alice", token=d.alice)
    d.create_space("diary", private=True, token=d.alice)
    d.push(d.workdir_from(None, FILES), "tix-alice", "diary", token=d.alice)
    d.wait_stage("tix-alice", "diary", "RUNNING", token=d.alice)
    assert not opens(d, "tix-alice", "diary", jar)
    assert opens(d, "tix-alice", "diary", app_cookie(d, "tix-alice", "diary", s))   # control
