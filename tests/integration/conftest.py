"""Fixtures for podium's integration tests.

`podium` (session scope) is one real daemon shared by every test module:
`$PODIUM_BUILD/podium serve --listen 127.0.0.1:PORT --data TMP --domain localhost`.
Its teardown stops it with SIGTERM and asserts a graceful exit within 20 s.
A module that needs to restart or kill a daemon starts its own with `make_daemon`.
Helpers live in podium_helpers.py so tests and benchmarks can import them.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pg_server  # noqa: E402
import podium_helpers as ph  # noqa: E402

# Daemons of the suite run in the machine's own network namespace: they must not
# set up egress there (a bridge, nftables tables, ip_forward on the real host).
# heavy/test_egress.py tests egress in namespaces of its own, with this unset.
os.environ.setdefault("PODIUM_EGRESS", "off")


def _stop_and_check(d):
    try:
        rc = d.stop(timeout=20)
        assert rc == 0, "podium exited %r on SIGTERM:\n%s" % (rc, d.log_tail())
    finally:
        d.cleanup()


@pytest.fixture(scope="session")
def podium():
    d = ph.Daemon()
    try:
        d.start()
    except BaseException:
        d.cleanup()
        raise
    yield d
    _stop_and_check(d)


@pytest.fixture(scope="module")
def make_daemon():
    """Factory for extra daemons (own port and data dir), stopped at module end."""
    made = []

    def make(config=None):
        """config: the text of its DATA/config.yaml, written before it starts."""
        d = ph.Daemon()
        made.append(d)
        if config is not None:
            with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
                f.write(config)
        return d.start()

    yield make
    errors = []
    for d in made:
        try:
            _stop_and_check(d)
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)


@pytest.fixture(scope="module")
def pg():
    """A PostgreSQL server of the module's own (pg_server.py); skipped, saying
    why, where none can be started."""
    why = pg_server.unavailable()
    if why is not None:
        pytest.skip(why)
    s = pg_server.PgServer()
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for d in list(ph.LIVE_DAEMONS):
            rep.sections.append(("podium stderr (%s, tail)" % d.workdir, d.log_tail(60)))


def pytest_collection_modifyitems(session, config, items):
    """heavy/ runs last: its tests start daemons of their own to kill, restart or
    exhaust them (memory, descriptors, disk), after the shared daemon's tests."""
    heavy = os.path.join(os.path.dirname(os.path.abspath(__file__)), "heavy") + os.sep
    items.sort(key=lambda it: str(it.fspath).startswith(heavy))
