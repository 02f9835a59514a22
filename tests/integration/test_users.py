"""Users, roles, named read/write tokens and browser sessions (issue 14.1-14.4):
`podium user ...` works on the data dir while the daemon runs, and the daemon
sees its changes (a disabled user's token stops working at the API and at a
private app's host); the login form, the session cookie and the origin checks."""
import os
import re
import subprocess
import urllib.parse

import pytest

import podium_helpers as ph

STATIC = os.path.join(ph.EXAMPLES, "static")


def user_cmd(d, *args, password=None):
    return subprocess.run([d.binary, "user", *args, "--data", d.data_dir],
                          input=(password + "\n").encode() if password is not None else b"",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)


def add_user(d, name, password="correct horse", admin=False):
    p = user_cmd(d, "add", name, *(["--admin"] if admin else []), "--password-stdin",
                 password=password)
    assert p.returncode == 0, p.stderr.decode()


def new_token(d, name, role="write", label="test"):
    p = user_cmd(d, "token", name, "--role", role, "--name", label)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode().strip()


def whoami(d, token):
    return d.api("GET", "/api/whoami-v2", token=token)


def login(d, user, password, origin=True):
    """The login form as a browser posts it: returns (response, session cookie)."""
    host = d.hub_host
    form = ph.http_request(d.port, "GET", "/login?next=/spaces", host, headers={"Accept": "text/html"})
    assert form.status == 200, form
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text).group(1)
    login_cookie = form.headers["set-cookie"].split(";")[0]
    body = urllib.parse.urlencode({"username": user, "password": password, "csrf": csrf,
                                   "next": "/spaces"}).encode()
    hdrs = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": login_cookie,
            "Accept": "text/html"}
    if origin:
        hdrs["Origin"] = "http://" + host
        hdrs["Sec-Fetch-Site"] = "same-origin"
    r = ph.http_request(d.port, "POST", "/login", host, body, hdrs)
    sc = r.headers.get("set-cookie", "")
    cookie = sc.split(";")[0] if sc.startswith("podium_session=") else None
    return r, cookie


def test_cli_add_list_and_bad_input(podium):
    add_user(podium, "alice")
    p = user_cmd(podium, "list")
    assert p.returncode == 0 and re.search(r"^alice\s+user\s+active", p.stdout.decode(), re.M), p
    assert re.search(r"^admin\s+admin\s+active", p.stdout.decode(), re.M), p.stdout
    # the same name twice, a bad name, a short password: clear errors, nothing changed
    p = user_cmd(podium, "add", "alice", "--password-stdin", password="another password")
    assert p.returncode == 1 and b"exists" in p.stderr
    p = user_cmd(podium, "add", "Bad_Name", "--password-stdin", password="correct horse")
    assert p.returncode == 2 and b"invalid user name" in p.stderr
    p = user_cmd(podium, "add", "shorty", "--password-stdin", password="short")
    assert p.returncode == 2 and b"shorter than 8" in p.stderr
    p = user_cmd(podium, "list")
    assert b"shorty" not in p.stdout and b"Bad_Name" not in p.stdout
    assert user_cmd(podium, "token", "nobody").returncode == 1


def test_token_roles(podium):
    add_user(podium, "rita")
    write = new_token(podium, "rita", "write", "laptop")
    read = new_token(podium, "rita", "read", "ci")
    w, r = whoami(podium, write).json(), whoami(podium, read).json()
    assert w["name"] == r["name"] == "rita"
    assert w["auth"]["accessToken"]["role"] == "write" and r["auth"]["accessToken"]["role"] == "read"
    # a write token creates under its own name only
    podium.create_space("rita-site", token=write)
    podium.create_space("not-hers", organization="admin", token=write, expect=403)
    # a read token reads, but changes nothing
    assert podium.api("GET", "/api/spaces/rita/rita-site", token=read).status == 200
    r = podium.api("POST", "/api/repos/create", json={"name": "by-read"}, token=read)
    assert r.status == 403 and "read-only" in r.text, r
    assert podium.api("GET", "/api/spaces/rita/by-read", token=read).status == 404
    # git: a read token clones, does not push; the write token pushes (positive control)
    wd = podium.workdir_from(STATIC)
    sha, p = podium.try_push(wd, "rita", "rita-site", token=read, user="rita")
    assert p.returncode != 0, "a read token pushed"
    sha, p = podium.try_push(wd, "rita", "rita-site", token=write, user="rita")
    assert p.returncode == 0, p.stderr.decode()
    clone = os.path.join(podium.scratch, "rita-clone")
    podium.git("clone", "-q", podium.remote_url("rita", "rita-site", token=read, user="rita"), clone)
    assert os.path.exists(os.path.join(clone, "index.html"))
    # only the owner or an admin writes: rita cannot delete admin's spaces
    podium.create_space("admins-own")
    podium.delete_space("admins-own", organization="admin", token=write, expect=403)
    podium.delete_space("admins-own")


def disable_reaches_api_and_private_app_host(podium, user):
    add_user(podium, user)
    tok = new_token(podium, user)
    podium.create_space("secret-site", private=True, token=tok)
    podium.push(podium.workdir_from(STATIC), user, "secret-site", token=tok)
    podium.wait_stage(user, "secret-site", "RUNNING")
    auth = {"Authorization": "Bearer " + tok}
    # positive control: the owner's token passes at the private app's host
    podium.wait_until(lambda: podium.get_app(user, "secret-site", headers=auth).status == 200,
                      "the owner's token reaches the private app")
    assert podium.get_app(user, "secret-site").status == 404
    p = user_cmd(podium, "disable", user)
    assert p.returncode == 0, p.stderr
    # another process changed the database: the daemon notices within seconds
    assert whoami(podium, tok).status == 401
    podium.wait_until(lambda: podium.get_app(user, "secret-site", headers=auth).status == 404,
                      "the disabled user's token stops at the app host", timeout=15)
    assert user_cmd(podium, "enable", user).returncode == 0
    podium.wait_until(lambda: podium.get_app(user, "secret-site", headers=auth).status == 200,
                      "the enabled user's token passes again", timeout=15)


def test_cli_disable_reaches_api_and_private_app_host(podium):
    disable_reaches_api_and_private_app_host(podium, "dave")


def test_cli_admin_role(podium):
    add_user(podium, "olga", admin=True)
    add_user(podium, "paul")
    olga, paul = new_token(podium, "olga"), new_token(podium, "paul")
    assert podium.api("GET", "/metrics", token=olga).status == 200
    assert podium.api("GET", "/metrics", token=paul).status in (401, 403)
    podium.create_space("pauls", token=paul)
    # an admin may change anyone's space
    podium.delete_space("pauls", organization="paul", token=olga)


def test_login_session_cookie_and_logout(podium):
    add_user(podium, "sam", password="sam's long password")
    r, cookie = login(podium, "sam", "sam's long password")
    assert r.status == 303 and r.headers["location"] == "/spaces", r
    sc = r.headers["set-cookie"]
    assert "HttpOnly" in sc and "SameSite=Lax" in sc and "Path=/" in sc
    assert "domain" not in sc.lower(), "the hub's cookie must stay host-only: " + sc
    assert "Secure" not in sc  # no TLS here
    hdr = {"Cookie": cookie}
    s = podium.api("GET", "/api/session", token=None, headers=hdr).json()
    assert s["name"] == "sam" and s["admin"] is False and len(s["csrf"]) >= 32
    # the JSON API takes the session: from the hub's own origin it may change things
    same = dict(hdr, Origin="http://" + podium.hub_host)
    r = podium.api("POST", "/api/repos/create", json={"name": "by-cookie"}, token=None, headers=same)
    assert r.status == 200, r
    # ... from another origin (an app's host) the cookie does not count
    app = "http://%s" % podium.app_host("sam", "by-cookie")
    for h in ({"Origin": app}, {"Sec-Fetch-Site": "same-site"}, {}):
        r = podium.api("POST", "/api/repos/create", json={"name": "cross"}, token=None,
                       headers=dict(hdr, **h))
        assert r.status == 401, (h, r)
    assert podium.api("GET", "/api/spaces/sam/cross", token=podium.token).status == 404
    # logout needs the session's CSRF token, then the cookie is dead
    out = ph.http_request(podium.port, "POST", "/logout", podium.hub_host, b"csrf=wrong",
                          dict(same, **{"Content-Type": "application/x-www-form-urlencoded"}))
    assert out.status == 403
    out = ph.http_request(podium.port, "POST", "/logout", podium.hub_host,
                          ("csrf=" + s["csrf"]).encode(),
                          dict(same, **{"Content-Type": "application/x-www-form-urlencoded"}))
    assert out.status == 303 and "Max-Age=0" in out.headers["set-cookie"]
    assert podium.api("GET", "/api/session", token=None, headers=hdr).json()["name"] is None


def test_login_refuses_cross_origin_and_bad_password(podium):
    add_user(podium, "tess", password="tess password 1")
    r, cookie = login(podium, "tess", "tess password 1", origin=False)
    assert r.status == 403 and cookie is None
    r, cookie = login(podium, "tess", "wrong password")
    assert r.status == 401 and cookie is None
    r, cookie = login(podium, "tess", "tess password 1")
    assert r.status == 303 and cookie


def test_login_throttle(make_daemon):
    d = make_daemon()
    add_user(d, "vic", password="vic password 1")
    statuses = [login(d, "vic", "nope %d" % i)[0].status for i in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429, statuses
    # the right password is refused too while the burst lasts (per user and address)
    assert login(d, "vic", "vic password 1")[0].status == 429


def frame_src(d, owner, name, token):
    r = ph.http_request(d.port, "GET", "/spaces/%s/%s" % (owner, name), d.hub_host,
                        headers={"Accept": "text/html", "Authorization": "Bearer " + token})
    assert r.status == 200, r
    m = re.search(r'<iframe title="app" src="([^"]+)"', r.text)
    assert m, r.text[:2000]
    return m.group(1).replace("&amp;", "&")


def test_private_app_ticket_becomes_the_hosts_cookie(podium):
    """The Hub's __sign: the owner's page carries a ticket for the private app's host,
    which trades it for a cookie of its own that opens that space only."""
    for name in ("tk-a", "tk-b"):
        podium.create_space(name, private=True)
        podium.push(podium.workdir_from(None, {"index.html": "<p>%s</p>\n" % name}), ph.ADMIN, name)
        podium.wait_stage(ph.ADMIN, name, "RUNNING")
    src = frame_src(podium, ph.ADMIN, "tk-a", podium.token)
    u = urllib.parse.urlsplit(src)
    assert u.netloc == podium.app_host(ph.ADMIN, "tk-a") and "__sign=" in u.query, src
    path = u.path + "?" + u.query
    # without anything the private host is unknown; a forged ticket does not help
    assert podium.get_app(ph.ADMIN, "tk-a").status == 404
    forged = re.sub(r"[0-9a-f](?=$)", lambda m: "0" if m.group(0) != "0" else "1", path)
    r = podium.get_app(ph.ADMIN, "tk-a", forged)
    assert r.status == 404 and "set-cookie" not in r.headers
    # the ticket of tk-a is nothing at tk-b's host
    assert podium.get_app(ph.ADMIN, "tk-b", path).status == 404
    status, raw = ph.raw_request(podium.port, (
        "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
        % (path, podium.app_host(ph.ADMIN, "tk-a"))).encode())
    head = raw.split(b"\r\n\r\n")[0].decode()
    assert status == 303 and "\r\nLocation: /\r\n" in head, head
    cookies = re.findall(r"\r\nSet-Cookie: ([^\r]+)", head)
    # the Lax one for the app opened on its own, the SameSite=None one for the iframe
    assert sorted(c.split("=")[0] for c in cookies) == ["podium_app", "podium_app_x"], cookies
    assert all("domain" not in c.lower() and "HttpOnly" in c for c in cookies), cookies
    for c in cookies:
        jar = c.split(";")[0]
        ok = podium.get_app(ph.ADMIN, "tk-a", headers={"Cookie": "other=1; " + jar})
        assert ok.status == 200 and b"tk-a" in ok.body, ok
        # the cookie opens that space only
        assert podium.get_app(ph.ADMIN, "tk-b", headers={"Cookie": jar}).status == 404
    # a public space's page has no ticket; anonymous visitors get no private page at all
    podium.create_space("tk-pub")
    assert "__sign" not in ph.http_request(podium.port, "GET", "/spaces/admin/tk-pub", podium.hub_host).text
    assert ph.http_request(podium.port, "GET", "/spaces/admin/tk-a", podium.hub_host).status == 404
    for name in ("tk-a", "tk-b", "tk-pub"):
        podium.delete_space(name)


def test_app_domain(tmp_path):
    d = ph.Daemon()
    d.extra_args = ["--app-domain", "apps.test"]
    try:
        d.start()
        d.create_space("elsewhere")
        d.push(d.workdir_from(None, {"index.html": "<p>elsewhere</p>\n"}), ph.ADMIN, "elsewhere")
        d.wait_stage(ph.ADMIN, "elsewhere", "RUNNING")
        assert d.info(ph.ADMIN, "elsewhere").json()["host"] == "http://admin-elsewhere.apps.test:%d" % d.port
        r = ph.http_request(d.port, "GET", "/", "admin-elsewhere.apps.test:%d" % d.port)
        assert r.status == 200 and b"elsewhere" in r.body
        # not under the hub's domain any more; the hub stays where it was
        assert ph.http_request(d.port, "GET", "/", "admin-elsewhere.localhost:%d" % d.port).status == 404
        assert ph.http_request(d.port, "GET", "/api/health", "localhost:%d" % d.port).status == 200
        page = ph.http_request(d.port, "GET", "/", "localhost:%d" % d.port)
        assert "frame-src http://*.apps.test:%d" % d.port in page.headers["content-security-policy"]
    finally:
        try:
            d.stop()
        finally:
            d.cleanup()


def test_pages_headers_and_access(podium):
    """Every hub page sends the CSP; the pages' files come from the daemon itself;
    pages for signed-in users send visitors to the login form, others' settings
    and /admin are refused."""
    add_user(podium, "uma")
    uma = new_token(podium, "uma")
    podium.create_space("uma-site", token=uma)

    def get(path, token=None):
        h = {"Accept": "text/html"}
        if token:
            h["Authorization"] = "Bearer " + token
        return ph.http_request(podium.port, "GET", path, podium.hub_host, headers=h)

    for path in ("/", "/login", "/spaces/uma/uma-site", "/spaces/uma/uma-site/logs"):
        r = get(path)
        assert r.status == 200, (path, r)
        csp = r.headers.get("content-security-policy", "")
        assert "default-src 'none'" in csp and "script-src 'self'" in csp, (path, csp)
        assert "frame-ancestors 'none'" in csp and "http" not in csp.split("frame-src")[0], csp
    js = get("/static/app.js")
    assert js.status == 200 and js.headers["content-type"].startswith("text/javascript")
    assert b"function el(" in js.body
    assert get("/static/style.css").headers["content-type"].startswith("text/css")
    assert get("/static/nope.js").status == 404
    # visitors are sent to sign in, and back
    for path in ("/new", "/settings/tokens", "/admin", "/spaces/uma/uma-site/settings"):
        r = get(path)
        assert r.status == 303 and r.headers["location"] == "/login?next=" + path, (path, r)
    # signed in: own settings yes, others' no; /admin for admins only
    assert get("/spaces/uma/uma-site/settings", uma).status == 200
    assert get("/spaces/uma/uma-site/settings", podium.token).status == 200
    podium.create_space("admins-settings")
    assert get("/spaces/admin/admins-settings/settings", uma).status == 403
    assert get("/admin", uma).status == 403
    assert get("/admin", podium.token).status == 200
    assert get("/new", uma).status == 200
    # the login page's next never leaves the hub
    r = get("/login?next=//evil.example/")
    assert 'name="next" value="/"' in r.text
    podium.delete_space("admins-settings")


def test_lifecycle_controls_need_the_owner_or_an_admin(podium):
    """Issue 12's permissions: another user gets 403 on a public space's controls and
    404 for a private one's; the owner (control) may use them."""
    add_user(podium, "lcowner")
    add_user(podium, "lcother")
    owner, other = new_token(podium, "lcowner"), new_token(podium, "lcother")
    podium.create_space("lcspace", sdk="static", token=owner)
    podium.create_space("lcspace-hidden", sdk="static", private=True, token=owner)
    for what, body in (("pause", None), ("restart", None), ("sleeptime", {"seconds": 60}),
                       ("rollback", {"release": 1}), ("releases", None), ("storage", {"tier": "basic"})):
        method = "GET" if what == "releases" else "POST"
        r = podium.api(method, "/api/spaces/lcowner/lcspace/" + what, json=body, token=other)
        assert r.status == 403, (what, r)
        r = podium.api(method, "/api/spaces/lcowner/lcspace-hidden/" + what, json=body, token=other)
        assert r.status == 404, (what, r)
    # control: the owner may (sleeptime on an empty space is a plain setting)
    r = podium.api("POST", "/api/spaces/lcowner/lcspace/sleeptime", json={"seconds": 60}, token=owner)
    assert r.status == 200 and r.json()["gcTimeout"] == 60, r
    assert podium.api("GET", "/api/spaces/lcowner/lcspace/releases", token=owner).status == 200
