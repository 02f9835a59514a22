"""Issue 21.9: a visitor's podium token never reaches another tenant's app, in any
request header and any spelling ("Bearer T " with a trailing space, "Token T", a bare
T, Basic "x:T ", percent- or base64-encoded, upper case), and Proxy-Authorization is
never forwarded. Controls: the same headers with values that are not tokens reach the
app, and alice's token really is alice's (it works on the hub)."""
import base64
import json
import os
import urllib.parse

import pytest

import podium_helpers as ph
from tenants import tenants

PROBE = os.path.join(ph.APPS, "probe")


@pytest.fixture(scope="module")
def echo(podium):
    alice, bob = tenants(podium, "tok-alice", "tok-bob")
    podium.create_space("echo", sdk="python", token=bob)
    podium.push(podium.workdir_from(PROBE, {"probe_config.json": json.dumps(
        {"version": "bob", "startup_delay": 0})}), "tok-bob", "echo", token=bob)
    podium.wait_stage("tok-bob", "echo", "RUNNING")
    return podium, alice


def spellings(t):
    b64 = lambda s: base64.b64encode(s.encode()).decode()
    return [
        ("Authorization", "Bearer %s " % t),
        ("Authorization", "Token %s" % t),
        ("Authorization", t),
        ("Authorization", "Basic " + b64("x:%s " % t)),
        ("Authorization", "bearer " + t.upper()),
        ("Proxy-Authorization", "Bearer " + t),
        ("X-Api-Key", t),
        ("X-Api-Key", urllib.parse.quote(t, safe="")),
        ("X-Api-Key", urllib.parse.quote(t.replace("_", "%5F"), safe="%")),
        ("Cookie", "theme=dark; hf=%s" % base64.urlsafe_b64encode(
            json.dumps({"token": t}).encode()).decode().rstrip("=")),
        ("X-Forwarded-User", "alice %s" % t),
    ]


def leaked(seen, t):
    """Does anything the app saw hold t, plainly or decoded?"""
    text = json.dumps(seen).lower()
    hexpart = t.split("_", 1)[1].lower()
    if hexpart in text:
        return True
    for v in seen.values():
        for word in v.replace("=", " ").replace(";", " ").split():
            for dec in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    if hexpart in dec(word + "=" * (-len(word) % 4)).decode("latin-1").lower():
                        return True
                except ValueError:
                    pass
    return False


def test_no_token_spelling_reaches_another_tenants_app(echo):
    d, alice = echo
    # control: the token is alice's and works on the hub
    assert d.api("GET", "/api/whoami-v2", token=alice).json()["name"] == "tok-alice"
    for name, value in spellings(alice):
        r = d.get_app("tok-bob", "echo", "/api/headers", headers={name: value})
        assert r.status == 200, (name, value, r)
        seen = r.json()
        assert seen.get("host") == d.app_host("tok-bob", "echo"), seen  # the echo works
        assert not leaked(seen, alice), "%s: %r reached bob's app: %r" % (name, value, seen)


def test_values_that_are_not_tokens_go_through(echo):
    d, _ = echo
    fake = "hf_" + "Ab1" * 11 + "x"   # the Hub's own token shape: an app's business
    for name, value in [("Authorization", "Bearer app-own-secret"),
                        ("Authorization", "Bearer " + fake),
                        ("Authorization", "Basic " + base64.b64encode(b"user:pass").decode()),
                        ("X-Api-Key", "k-123"), ("Cookie", "theme=dark; s=abc")]:
        seen = d.get_app("tok-bob", "echo", "/api/headers", headers={name: value}).json()
        assert seen.get(name.lower()) == value, (name, value, seen)
    # Proxy-Authorization is the proxy's, never the app's, whatever it holds
    seen = d.get_app("tok-bob", "echo", "/api/headers",
                     headers={"Proxy-Authorization": "Basic dXNlcjpwYXNz",
                              "X-Control": "Basic dXNlcjpwYXNz"}).json()
    assert "proxy-authorization" not in seen and seen.get("x-control") == "Basic dXNlcjpwYXNz", seen
