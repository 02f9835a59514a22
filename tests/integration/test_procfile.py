"""A Procfile `web:` line sets the command, whatever the sdk."""
import podium_helpers as ph

ADMIN = ph.ADMIN


def test_procfile_sets_command(podium):
    podium.deploy(None, "procfile", sdk="python", files={
        "README.md": ph.front_matter(["title: Procfile", "sdk: python"]),
        "Procfile": "web: python3 -m http.server $PORT --bind 0.0.0.0\n",
        "hello.txt": "served by the Procfile command\n",
        # app.py exists but must not be what runs
        "app.py": "raise SystemExit('app.py must not run when a Procfile names the command')\n"})
    r = podium.get_app(ADMIN, "procfile", "/hello.txt")
    assert r.status == 200 and r.body == b"served by the Procfile command\n", r
