"""An app that eats memory is OOM-killed inside its own cgroup, the space ends in
RUNTIME_ERROR saying so, and other spaces keep serving throughout."""
import podium_helpers as ph

ADMIN = ph.ADMIN

HOG = """\
import sys, time
print("hog: allocating until the limit", flush=True)
chunks = []
while True:
    chunks.append(bytearray(64 << 20))  # zero-filled, so really resident
    time.sleep(0.01)
"""


def test_memory_hog_is_oom_killed_and_others_keep_serving(podium):
    podium.deploy(None, "bystander", files={
        "README.md": ph.front_matter(["sdk: static"]), "index.html": "<p>still here</p>\n"})
    loader = ph.Loader(podium, ADMIN, "bystander")
    loader.start()
    try:
        podium.create_space("hog", sdk="python")
        podium.push(podium.workdir_from(None, {
            "README.md": ph.front_matter(["title: Hog", "sdk: python", "app_file: app.py"]),
            "app.py": HOG}), ADMIN, "hog")
        rt = podium.wait_stage(ADMIN, "hog", "RUNTIME_ERROR", timeout=240)
    finally:
        loader.stop()
    msg = rt.get("errorMessage") or ""
    assert "out of memory" in msg, msg
    assert "hog: allocating" in msg, "the app's last output belongs in the message: %r" % msg
    assert loader.failures() == [], loader.failures()[:5]
    r = podium.get_app(ADMIN, "bystander")
    assert r.status == 200 and b"still here" in r.body
