"""Issue 21.2: one tenant cannot make the hub's pages and lists huge (and so stall
everyone): front matter is bounded (title 30 characters, short_description 60,
emoji 10, the whole of it 16 KiB), longer is a CONFIG_ERROR naming the key and is
not kept for the pages; and the operator caps the spaces one user may own
(limits.spaces_per_user: 403 naming the limit on create and duplicate). Not a timed
test: it checks the sizes of the answers, and that the hub and another user's app
answer while anonymous visitors load the gallery in parallel."""
import json
import threading

import pytest

import podium_helpers as ph
from tenants import refused_start, tenants

BIG = "x" * 900 * 1024
N = 12


@pytest.fixture(scope="module")
def users(podium):
    return tenants(podium, "fm-alice", "fm-bob")


def push_card(d, owner, name, tok, card):
    d.create_space(name, token=tok)
    d.push(d.workdir_from(None, {"README.md": ph.front_matter(["sdk: static", *card]),
                                 "index.html": "<p>%s</p>\n" % name}), owner, name, token=tok)


def test_long_fields_are_refused_naming_the_key(podium, users):
    d = podium
    alice, bob = users
    cases = {
        "fm-title": (["title: %s" % ("T" * 31)], "(key: title)"),
        "fm-desc": (["short_description: %s" % BIG], "(key: short_description)"),
        "fm-emoji": (["emoji: %s" % ("🚀" * 11)], "(key: emoji)"),
        "fm-big": (["license: mit", "notes: %s" % ("n" * 20000)], "(key: notes)"),
    }
    for name, (card, _) in cases.items():
        push_card(d, "fm-bob", name, bob, card)
    for name, (_, needle) in cases.items():
        rt = d.wait_stage("fm-bob", name, "CONFIG_ERROR", token=bob)
        assert needle in rt["errorMessage"], rt
        info = d.info("fm-bob", name, token=bob).json()
        assert len(json.dumps(info)) < 16 * 1024, len(json.dumps(info))
    # control: at the caps it builds and shows
    push_card(d, "fm-alice", "fm-ok", alice, ["title: %s" % ("é" * 30),
                                               "short_description: %s" % ("d" * 60)])
    d.wait_stage("fm-alice", "fm-ok", "RUNNING")
    assert d.info("fm-alice", "fm-ok").json()["cardData"]["title"] == "é" * 30


def test_gallery_stays_small_and_others_answer(podium, users):
    d = podium
    alice, bob = users
    for i in range(N):
        push_card(d, "fm-bob", "fm-long-%d" % i, bob, ["short_description: %s" % BIG])
    d.deploy(None, "fm-app", files={"README.md": ph.front_matter(["sdk: static"]),
                                    "index.html": "<p>alice app</p>\n"}, owner="fm-alice")
    for i in range(N):
        d.wait_stage("fm-bob", "fm-long-%d" % i, "CONFIG_ERROR", token=bob)
    results, errors = {"page": [], "health": [], "app": []}, []

    def visit(kind, fn):
        try:
            results[kind].append(fn())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append((kind, repr(e)))

    threads = [threading.Thread(target=visit, args=("page", lambda: ph.http_request(
        d.port, "GET", "/", d.hub_host, headers={"Accept": "text/html"}, timeout=120)))
        for _ in range(6)]
    threads += [threading.Thread(target=visit, args=("health", lambda: d.api(
        "GET", "/api/health", token=None, timeout=120))),
        threading.Thread(target=visit, args=("app", lambda: d.get_app(
            "fm-alice", "fm-app", timeout=120)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert errors == [], errors
    assert all(r.status == 200 for rs in results.values() for r in rs), results
    assert b"alice app" in results["app"][0].body
    # the gallery holds no oversize field: a few KiB a card at most
    page = results["page"][0]
    assert b"fm-long-0" in page.body and len(page.body) < 256 * 1024, len(page.body)
    lst = d.api("GET", "/api/spaces", token=None)
    assert lst.status == 200 and len(lst.body) < 256 * 1024, len(lst.body)
    for i in range(N):
        d.delete_space("fm-long-%d" % i, organization="fm-bob", token=bob)


CONFIG = "limits:\n  spaces_per_user: 2\n"


@pytest.fixture(scope="module")
def capped():
    with ph.own_daemon(config=CONFIG) as d:
        d.bob, d.alice = tenants(d, "cap-bob", "cap-alice")
        yield d


def test_spaces_per_user_cap(capped):
    d = capped
    for name in ("one", "two"):
        d.create_space(name, token=d.bob)
    r = d.create_space("three", token=d.bob, expect=403)
    assert "limits.spaces_per_user: 2" in r.json()["error"], r
    r = d.api("POST", "/api/spaces/cap-bob/one/duplicate", json={"repository": "cap-bob/copy"},
              token=d.bob)
    assert r.status == 403 and "limits.spaces_per_user" in r.text, r
    assert d.info("cap-bob", "three", token=d.bob).status == 404
    assert d.info("cap-bob", "copy", token=d.bob).status == 404
    # controls: another user, and an admin, still create; bob again after a delete
    d.create_space("hers", token=d.alice)
    for name in ("a1", "a2", "a3"):
        d.create_space(name)
    d.delete_space("two", organization="cap-bob", token=d.bob)
    d.create_space("three", token=d.bob)


def test_bad_limits_config_stops_the_start():
    for config, says in (("limits:\n  spaces_per_user: lots\n", "spaces_per_user must be a whole"),
                         ("limits:\n  build_disk: 1Mi\n", "build_disk must be a size of at least"),
                         ("limits:\n  builds: 3\n", "unknown key builds")):
        assert says in refused_start(config)
