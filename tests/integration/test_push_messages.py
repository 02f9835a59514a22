"""A push says what it did, on the push itself (git "remote:" lines, relayed from
the repository's post-receive hook): a push to main that a build started, where the
app will be and where its build log is; a push of another branch that it was
stored but only main deploys. Real git over HTTP against a real daemon."""
import os
import re
import urllib.parse

import podium_helpers as ph

ADMIN = ph.ADMIN
SITE = {"README.md": ph.front_matter(["sdk: static"]), "index.html": "<p>pushed and told</p>\n"}


def push(podium, wd, name, refspec):
    """git push (not quiet: the remote lines are what we read); returns stderr."""
    p = podium.git("push", podium.remote_url(ADMIN, name), refspec, cwd=wd)
    return p.stderr.decode(errors="replace")


def remote_lines(err):
    return [line[len("remote: "):].rstrip() for line in err.splitlines()
            if line.startswith("remote: ")]


def url_in(lines, prefix):
    for line in lines:
        m = re.search(r"(http://\S+)$", line)
        if line.startswith(prefix) and m:
            return urllib.parse.urlsplit(m.group(1))
    raise AssertionError("no line starting %r with a URL in %r" % (prefix, lines))


def test_push_to_main_says_build_started_and_where(podium):
    podium.create_space("toldmain", sdk="static")
    wd = podium.workdir_from(None, SITE)
    sha = podium.commit(wd)
    lines = remote_lines(push(podium, wd, "toldmain", "main"))
    assert "podium: main is now %s: building it." % sha[:12] in lines, lines
    assert not any("only main deploys" in line for line in lines), lines
    # the build log URL answers with this build's log
    log = url_in(lines, "podium: follow the build:")
    assert log.path == "/api/spaces/admin/toldmain/logs/build", log
    podium.wait_stage(ADMIN, "toldmain", "RUNNING")
    r = ph.http_request(podium.port, "GET", log.path, log.netloc,
                        headers={"Authorization": "Bearer " + podium.token})
    assert r.status == 200 and sha in r.text, r
    # the app URL serves the app
    app = url_in(lines, "podium: the app will be at")
    assert app.netloc == podium.app_host(ADMIN, "toldmain"), app
    r = ph.http_request(podium.port, "GET", app.path or "/", app.netloc)
    assert r.status == 200 and "pushed and told" in r.text, r


def test_push_of_another_branch_says_only_main_deploys(podium):
    podium.create_space("toldmaster", sdk="static")
    wd = podium.workdir_from(None, SITE)
    sha = podium.commit(wd)
    podium.git("branch", "-M", "master", cwd=wd)
    lines = remote_lines(push(podium, wd, "toldmaster", "master"))
    assert ("podium: stored refs/heads/master at %s, but only main deploys." % sha[:12]
            in lines), lines
    assert "podium: to deploy it: git push <remote> master:main" in lines, lines
    assert not any("building" in line for line in lines), lines
    assert podium.runtime(ADMIN, "toldmaster")["stage"] == "NO_APP_FILE"
    # and doing what it says deploys it
    lines = remote_lines(push(podium, wd, "toldmaster", "master:main"))
    assert "podium: main is now %s: building it." % sha[:12] in lines, lines
    podium.wait_stage(ADMIN, "toldmaster", "RUNNING")


def test_repository_without_the_hook_gets_it_on_push(podium):
    """A repository from before the hook existed (or with another hook) is given
    podium's on the next push, which already talks."""
    podium.create_space("toldold", sdk="static")
    hook = os.path.join(podium.data_dir, "repos", ADMIN, "toldold.git", "hooks", "post-receive")
    with open(hook) as f:
        ours = f.read()
    os.remove(hook)
    wd = podium.workdir_from(None, SITE)
    sha = podium.commit(wd)
    lines = remote_lines(push(podium, wd, "toldold", "main"))
    assert "podium: main is now %s: building it." % sha[:12] in lines, lines
    with open(hook, "w") as f:
        f.write("#!/bin/sh\necho someone else's hook\n")
    sha = podium.commit(wd, "again")
    lines = remote_lines(push(podium, wd, "toldold", "main"))
    assert "podium: main is now %s: building it." % sha[:12] in lines, lines
    assert "someone else's hook" not in lines, lines
    with open(hook) as f:
        assert f.read() == ours
    assert os.stat(hook).st_mode & 0o111


def test_pushed_ref_names_are_not_run(podium):
    """A ref name is the one thing of the push the hook sees; git allows $( ) in
    it. It is printed as it is, never evaluated (control: the literal name shows)."""
    podium.create_space("toldref", sdk="static")
    wd = podium.workdir_from(None, SITE)
    podium.commit(wd)
    evil = "x$(echo${IFS}INJECTED)"
    lines = remote_lines(push(podium, wd, "toldref", "main:refs/heads/" + evil))
    assert any(line.startswith("podium: stored refs/heads/%s at " % evil) for line in lines), lines
    assert not any("refs/heads/xINJECTED" in line for line in lines), lines
