"""Issue 21.8: a deleted space's id and host uid are never given to another space, and
what was kept by them goes with the space: an admin's egress ban on bob's space does
not pass to alice's next one, whose app runs as a uid of its own. Controls: the ban
was real (bob's space showed it), and a space that is not deleted keeps its own."""
import pytest

import podium_helpers as ph
from tenants import tenants

APP = r'''
import os
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        b = str(os.getuid()).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a): pass
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''
FILES = {"README.md": ph.front_matter(["sdk: python", "app_file: app.py"]), "app.py": APP}


def host_uid(d, space_id):
    pids = d.wait_until(lambda: d.app_pids(space_id), "the app of %s runs" % space_id)
    with open("/proc/%d/status" % pids[0]) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("Uid:"))


def egress(d, owner, name, tok):
    return d.api("GET", "/api/spaces/%s/%s/egress" % (owner, name), token=tok).json()


def deploy(d, owner, name, tok):
    d.create_space(name, sdk="python", token=tok)
    d.push(d.workdir_from(None, FILES), owner, name, token=tok)
    d.wait_stage(owner, name, "RUNNING")
    return host_uid(d, "%s/%s" % (owner, name))


@pytest.fixture(scope="module")
def users(podium):
    return tenants(podium, "ids-alice", "ids-bob")


def test_a_deleted_spaces_id_uid_and_ban_stay_with_it(podium, users):
    d = podium
    alice, bob = users
    keep_uid = deploy(d, "ids-alice", "keeper", alice)
    d.api("POST", "/api/spaces/ids-alice/keeper/egress", json={"enabled": False})
    # bob's space is the newest: its id is the highest
    bob_uid = deploy(d, "ids-bob", "doomed", bob)
    r = d.api("POST", "/api/spaces/ids-bob/doomed/egress", json={"enabled": False})
    assert r.status == 200, r
    assert egress(d, "ids-bob", "doomed", bob)["space_enabled"] is False  # control: banned
    d.delete_space("doomed", organization="ids-bob", token=bob)
    d.wait_until(lambda: not d.app_pids("ids-bob/doomed"), "bob's app is gone")

    new_uid = deploy(d, "ids-alice", "fresh", alice)
    assert egress(d, "ids-alice", "fresh", alice)["space_enabled"] is True
    assert new_uid not in (bob_uid, keep_uid), (new_uid, bob_uid, keep_uid)
    r = d.get_app("ids-alice", "fresh")
    assert r.status == 200 and int(r.text) == 1000, r   # the same uid inside, as always
    # control: the space that was not deleted keeps its ban and its uid
    assert egress(d, "ids-alice", "keeper", alice)["space_enabled"] is False
    assert host_uid(d, "ids-alice/keeper") == keep_uid
    # and bob's next space of the same name is a new one too
    again = deploy(d, "ids-bob", "doomed", bob)
    assert again not in (bob_uid, new_uid, keep_uid)
    assert egress(d, "ids-bob", "doomed", bob)["space_enabled"] is True
    for owner, name, tok in (("ids-alice", "keeper", alice), ("ids-alice", "fresh", alice),
                             ("ids-bob", "doomed", bob)):
        d.delete_space(name, organization=owner, token=tok)
