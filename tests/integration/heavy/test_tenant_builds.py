"""Issue 21.5: one tenant cannot starve everyone's builds. With every build slot taken
by alice's long builds, bob's push still builds (at most limits.builds_per_user of one
owner's builds run at a time); a free slot goes to the owner served longest ago (round
robin), whatever the push order; every waiting build's log says its place in the
queue; a whole build has one deadline (limits.build_timeout), named in BUILD_ERROR.
Controls: with the cap at the number of slots, alice alone fills them all (and bob
waits), and a build within its time succeeds."""
import os
import time

import pytest

import podium_helpers as ph
from tenants import tenants

SLOTS = max(2, os.sysconf("SC_NPROCESSORS_ONLN"))


def files(tag, seconds=600):
    return {"README.md": ph.front_matter([
        "sdk: static", "app_build_command: \"echo started-%s; sleep %d\"" % (tag, seconds)]),
        "index.html": "<p>%s</p>\n" % tag}


def build_log(d, owner, name, tok):
    return d.api("GET", "/api/spaces/%s/%s/logs/build" % (owner, name), token=tok).text


def started(d, owner, name, tok, tag):
    return "started-%s" % tag in build_log(d, owner, name, tok)


def positions(d, owner, name, tok):
    return [int(l.split("number ")[1].split()[0]) for l in build_log(d, owner, name, tok).splitlines()
            if "waiting for a build slot: number" in l]


def push(d, owner, name, tok, tag, seconds=600):
    d.create_space(name, token=tok)
    d.push(d.workdir_from(None, files(tag, seconds)), owner, name, token=tok)


@pytest.fixture(scope="module")
def capped():
    with ph.own_daemon(config="limits:\n  builds_per_user: 1\n  build_timeout: 20\n") as d:
        d.alice, d.bob = tenants(d, "bq-alice", "bq-bob")
        yield d


def test_another_users_push_builds_while_one_fills_the_slots(capped):
    d = capped
    names = ["a%d" % i for i in range(SLOTS)]
    for n in names:
        push(d, "bq-alice", n, d.alice, n)
    d.wait_until(lambda: started(d, "bq-alice", "a0", d.alice, "a0"), "alice's first build runs")
    push(d, "bq-bob", "b0", d.bob, "b0", seconds=1)
    # bob's build runs at once, and succeeds, while alice's long one runs
    d.wait_stage("bq-bob", "b0", "RUNNING", timeout=60, token=d.bob)
    assert started(d, "bq-alice", "a0", d.alice, "a0")
    # alice's others wait their turn, and their logs say where they stand
    for i, n in enumerate(names[1:], 1):
        assert not started(d, "bq-alice", n, d.alice, n)
        assert positions(d, "bq-alice", n, d.alice)[-1] == i, build_log(d, "bq-alice", n, d.alice)
    # the deadline: alice's first build ends as BUILD_ERROR naming the limit, the next starts
    rt = d.wait_stage("bq-alice", "a0", "BUILD_ERROR", timeout=120, token=d.alice)
    assert "limits.build_timeout" in rt["errorMessage"] and "20 s" in rt["errorMessage"], rt
    d.wait_until(lambda: started(d, "bq-alice", "a1", d.alice, "a1"), "alice's next build runs",
                 timeout=60)
    assert positions(d, "bq-alice", names[-1], d.alice)[-1] == SLOTS - 2 or SLOTS == 2
    for n in names:
        d.delete_space(n, organization="bq-alice", token=d.alice)


@pytest.fixture(scope="module")
def open_slots():
    """The cap at the number of slots: one owner may fill them all."""
    with ph.own_daemon(config="limits:\n  builds_per_user: %d\n" % SLOTS) as d:
        d.alice, d.bob = tenants(d, "rr-alice", "rr-bob")
        yield d


def test_free_slots_go_round_robin(open_slots):
    d = open_slots
    a = ["a%d" % i for i in range(SLOTS + 2)]
    for n in a[:SLOTS]:
        push(d, "rr-alice", n, d.alice, n)
    for n in a[:SLOTS]:
        d.wait_until(lambda n=n: started(d, "rr-alice", n, d.alice, n), "%s runs" % n)
    for n in a[SLOTS:]:
        push(d, "rr-alice", n, d.alice, n)
    push(d, "rr-bob", "b0", d.bob, "b0")
    push(d, "rr-bob", "b1", d.bob, "b1")
    # control: alice alone holds every slot, bob waits
    time.sleep(1)
    assert not started(d, "rr-bob", "b0", d.bob, "b0")
    # places: bob was never served, so his first build comes first, then they alternate
    d.wait_until(lambda: positions(d, "rr-bob", "b0", d.bob)[-1:] == [1], "b0 is first in line")
    assert positions(d, "rr-alice", a[SLOTS], d.alice)[-1] == 2
    assert positions(d, "rr-bob", "b1", d.bob)[-1] == 3
    assert positions(d, "rr-alice", a[SLOTS + 1], d.alice)[-1] == 4
    # a slot frees (alice deletes a space): bob's build takes it, though alice pushed first
    d.delete_space("a0", organization="rr-alice", token=d.alice)
    d.wait_until(lambda: started(d, "rr-bob", "b0", d.bob, "b0"), "b0 runs")
    assert not started(d, "rr-alice", a[SLOTS], d.alice, a[SLOTS])
    # the next one goes to alice again (bob was served last), then bob
    d.delete_space("a1", organization="rr-alice", token=d.alice)
    d.wait_until(lambda: started(d, "rr-alice", a[SLOTS], d.alice, a[SLOTS]), "alice's next runs")
    assert not started(d, "rr-bob", "b1", d.bob, "b1")
    d.delete_space("a2" if SLOTS > 2 else a[SLOTS], organization="rr-alice", token=d.alice)
    d.wait_until(lambda: started(d, "rr-bob", "b1", d.bob, "b1"), "b1 runs")
    for owner, tok, names in (("rr-alice", d.alice, a), ("rr-bob", d.bob, ["b0", "b1"])):
        for n in names:
            d.delete_space(n, organization=owner, token=tok, expect=None)
