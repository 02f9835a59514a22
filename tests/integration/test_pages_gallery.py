"""Issue 25 (and 21.2): the gallery and profiles are pages of the store's index, with
filters, search (name, title, description, tags), sorts (likes, stage in its order,
pinned first) and paging kept in the URL; likes through the Hub's routes, counted
in the API and on the cards; a user's profile lists their spaces and the ones they
like. HTML is checked as the daemon sends it (the browser suite drives the same
pages in Chromium)."""
import base64
import re

import pytest

import podium_helpers as ph
from test_users import add_user, new_token

OWNER = "galowner"      # spaces of this test module live under this owner (admin creates them)


def page(d, path, token=None):
    headers = {"Accept": "text/html"}
    if token:
        headers["Authorization"] = "Bearer " + token
    return ph.http_request(d.port, "GET", path, d.hub_host, headers=headers)


def cards(html):
    """The ids of a page's cards, in order (the gallery's list only)."""
    part = html.split('id="cards"', 1)[1].split("</ul>", 1)[0] if 'id="cards"' in html else ""
    return re.findall(r'<li class="card[^"]*" data-id="([^"]+)"', part)


def liked_cards(html):
    part = html.split('id="liked"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'data-id="([^"]+)"', part)


def make(d, name, card=None, private=False):
    files = [{"path": "index.html", "content": base64.b64encode(b"<p>hi</p>").decode(),
              "encoding": "base64"}]
    if card is not None:
        readme = ph.front_matter(["sdk: static"] + card).encode()
        files.append({"path": "README.md", "content": base64.b64encode(readme).decode(),
                      "encoding": "base64"})
    r = d.api("POST", "/api/repos/create", json={"type": "space", "name": name, "organization": OWNER,
                                                 "sdk": "static", "private": private, "files": files})
    assert r.status == 200, r


def make_gallery(d):
    """The module's spaces on daemon d (test_store_postgres runs these tests on
    a daemon whose store is PostgreSQL)."""
    make(d, "g-chat", ["title: Chatter", "short_description: talks with zebras",
                       "tags: [nlp, demo]"])
    make(d, "g-paint", ["title: Painter", "tags: [art]", "pinned: true"])
    make(d, "g-secret", ["title: Hidden Galleon"], private=True)
    make(d, "g-plain")
    for n in ("g-chat", "g-paint", "g-plain"):
        d.wait_stage(OWNER, n, "RUNNING")
    return d


@pytest.fixture(scope="module")
def gallery(podium):
    return make_gallery(podium)


def test_search_filters_and_no_match_keep_the_url(gallery):
    d = gallery
    # the description and the tags are searched too, case-insensitively
    assert cards(page(d, "/spaces?search=ZEBRAS").text) == [OWNER + "/g-chat"]
    assert cards(page(d, "/spaces?search=art&sdk=static").text) == [OWNER + "/g-paint"]
    assert cards(page(d, "/?tag=nlp").text) == [OWNER + "/g-chat"]
    assert OWNER + "/g-plain" in cards(page(d, "/?stage=running&search=" + OWNER).text)
    assert cards(page(d, "/?stage=error&search=" + OWNER).text) == []
    # what was asked is in the form again (the URL is the state), and nothing matches
    r = page(d, "/spaces?search=no+such+thing&sdk=gradio&sort=likes")
    assert 'value="no such thing"' in r.text and '<option value="gradio" selected>' in r.text, r.text
    assert '<option value="likes" selected>' in r.text
    assert "No spaces match" in r.text and cards(r.text) == []
    # a private space: for its writers only
    assert cards(page(d, "/?search=galleon").text) == []
    assert cards(page(d, "/?search=galleon", d.token).text) == [OWNER + "/g-secret"]


def test_pinned_first_and_likes_sort(gallery):
    d = gallery
    add_user(d, "liker")
    tok = new_token(d, "liker")
    api = "/api/spaces/%s/%%s/like" % OWNER
    # likes: signed in only, once per user, in the space's JSON and the list
    assert d.api("POST", api % "g-plain", token=None).status == 401
    for t in (tok, tok, d.token):
        r = d.api("POST", api % "g-plain", token=t)
        assert r.status == 200, r
    assert r.json() == {"likes": 2, "liked": True}
    assert d.api("POST", api % "g-chat", token=tok).status == 200
    assert d.api("GET", "/api/spaces/%s/g-plain" % OWNER).json()["likes"] == 2
    listed = {s["id"]: s["likes"] for s in d.api("GET", "/api/spaces").json()}
    assert listed[OWNER + "/g-plain"] == 2 and listed[OWNER + "/g-chat"] == 1, listed
    # a private space the caller cannot see: the same 404 as a missing one
    assert d.api("POST", api % "g-secret", token=tok).status == 404
    # pinned first, then by likes; newest first otherwise
    assert cards(page(d, "/?sort=likes&search=" + OWNER).text) == \
        [OWNER + "/g-paint", OWNER + "/g-plain", OWNER + "/g-chat"]
    assert cards(page(d, "/?search=" + OWNER).text) == \
        [OWNER + "/g-paint", OWNER + "/g-plain", OWNER + "/g-chat"]
    # the card says how many
    assert re.search(r'data-id="%s/g-plain".*?♥ 2' % OWNER, page(d, "/?search=g-plain").text, re.S)
    # unlike
    r = d.api("DELETE", api % "g-plain", token=tok)
    assert r.status == 200 and r.json() == {"likes": 1, "liked": False}, r
    # the profile of the liker lists what they like
    r = page(d, "/liker")
    assert r.status == 200 and liked_cards(r.text) == [OWNER + "/g-chat"], r.text[-3000:]


def test_stage_sort_is_in_the_stages_order(gallery):
    d = gallery
    make(d, "g-broken", ["app_build_command: exit 3"])
    d.wait_stage(OWNER, "g-broken", "BUILD_ERROR")
    make(d, "g-empty-" + "x")    # no README: detected as static, so running too
    ids = cards(page(d, "/?sort=stage&search=" + OWNER).text)
    # pinned first, then running before the error, whatever their names
    assert ids[0] == OWNER + "/g-paint" and ids[-1] == OWNER + "/g-broken", ids
    assert 'data-stage="BUILD_ERROR">Build error<' in page(d, "/?search=g-broken").text


def test_profile_pages_and_paging(podium):
    d = podium
    owner = "pager"
    for i in range(27):
        r = d.api("POST", "/api/repos/create", json={"type": "space", "name": "p%02d" % i,
                                                     "organization": owner, "sdk": "static"})
        assert r.status == 200, r
    first = page(d, "/" + owner)
    assert first.status == 200 and "<h1>pager</h1>" in first.text
    ids = cards(first.text)
    assert len(ids) == 24 and ids[0] == owner + "/p26", ids
    nxt = re.search(r'<a rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    assert nxt == "/pager?p=1", nxt
    second = page(d, nxt)
    assert cards(second.text) == [owner + "/p02", owner + "/p01", owner + "/p00"]
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    # /spaces/OWNER is the same list; filters travel with the pages
    assert cards(page(d, "/spaces/" + owner + "?sort=oldest").text)[0] == owner + "/p00"
    r = page(d, "/spaces/" + owner + "?sort=oldest&search=p")
    assert 'href="/spaces/pager?search=p&amp;sort=oldest&amp;p=1"' in r.text, r.text[-2500:]
    # no such owner; a literal path is never a profile
    assert page(d, "/nobody-at-all").status == 404
    r = ph.http_request(d.port, "GET", "/logout", d.hub_host, headers={"Accept": "text/html"})
    assert r.status == 405 and r.headers["allow"] == "POST", r
