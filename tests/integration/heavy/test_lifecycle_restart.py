"""Lifecycle states survive the daemon: kill -9 (and SIGTERM) while a space is
SLEEPING, PAUSED or rolled back brings it back in the same state: a sleeping app
is not started at daemon start (and wakes on a request), a paused one stays
stopped with its 503 page, a rolled-back one serves the release it was rolled
back to."""
import pytest

import podium_helpers as ph
from test_lifecycle import app_files, api

ADMIN = ph.ADMIN


@pytest.fixture(scope="module")
def d():
    with ph.own_daemon() as d:
        work = {}
        for name in ("asleep", "paused", "rolled"):
            d.create_space(name, sdk="python")
            work[name] = d.workdir_from(None, app_files(name + "-v1"))
            d.push(work[name], ADMIN, name)
        for name in work:
            d.wait_stage(ADMIN, name, "RUNNING")
        ph.write_files(work["rolled"], app_files("rolled-v2"))
        d.push(work["rolled"], ADMIN, "rolled")
        d.wait_app(ADMIN, "rolled", predicate=lambda r: r.status == 200 and r.text.startswith("rolled-v2"))
        yield d


def check_states(d):
    assert d.runtime(ADMIN, "asleep")["stage"] == "SLEEPING"
    assert d.runtime(ADMIN, "paused")["stage"] == "PAUSED"
    d.wait_stage(ADMIN, "rolled", "RUNNING")
    # (a paused app drains for a moment before it stops)
    ph.wait_until(lambda: d.app_pids("admin/paused") == [], "the paused app's processes gone",
                  timeout=20)
    assert d.app_pids("admin/asleep") == [], "a sleeping space must not be started at daemon start"
    assert d.get_app(ADMIN, "paused", "/").status == 503
    d.wait_app(ADMIN, "rolled", predicate=lambda r: r.status == 200 and r.text.startswith("rolled-v1"))


@pytest.mark.parametrize("kill", [True, False], ids=["kill9", "sigterm"])
def test_states_come_back_after_a_restart(d, kill):
    if d.runtime(ADMIN, "asleep")["stage"] != "SLEEPING":
        assert api(d, "POST", "asleep", "sleeptime", {"seconds": 1}).status == 200
        d.wait_stage(ADMIN, "asleep", "SLEEPING", timeout=30)
        ph.wait_until(lambda: d.app_pids("admin/asleep") == [], "asleep's app gone", timeout=20)
    if d.runtime(ADMIN, "paused")["stage"] != "PAUSED":
        assert api(d, "POST", "paused", "pause").status == 200
    rel = api(d, "GET", "rolled", "releases").json()
    if not rel[1]["serving"]:
        assert api(d, "POST", "rolled", "rollback", {"release": rel[1]["id"]}).status == 200
        d.wait_app(ADMIN, "rolled", predicate=lambda r: r.status == 200 and r.text.startswith("rolled-v1"))
    check_states(d)          # control: the states before the restart
    d.restart(kill=kill)
    check_states(d)
    # and the sleeping one still wakes on a request
    r = d.get_app(ADMIN, "asleep", "/", timeout=60)
    assert r.status == 200 and r.text.startswith("asleep-v1"), r
    d.wait_stage(ADMIN, "asleep", "RUNNING")
