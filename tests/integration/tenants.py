"""Helpers of the tenant tests (issue 21): users of a daemon, each with a write token."""
import podium_helpers as ph
from test_users import add_user, new_token


def tenants(d, *names, **kw):
    """Adds each user (add_user's keywords apply to all) and returns their tokens."""
    for name in names:
        add_user(d, name, **kw)
    return [new_token(d, name) for name in names]


def refused_start(config):
    """What a daemon says when DATA/config.yaml (config) stops its start."""
    d = ph.Daemon()
    try:
        with open("%s/config.yaml" % d.data_dir, "w") as f:
            f.write(config)
        try:
            d.start(timeout=30)
        except AssertionError:
            with open(d.log_path, errors="replace") as f:
                return f.read()   # all of it: a sanitizer's report may follow
        raise AssertionError("the daemon started with %r" % config)
    finally:
        d.cleanup()
