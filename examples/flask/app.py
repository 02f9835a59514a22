"""A podium / Hugging Face Spaces demo built on Flask (installed from requirements.txt)."""
import os
import platform
import time
from importlib.metadata import version

from flask import Flask, jsonify, render_template_string, request

PORT = int(os.environ.get("PORT", "7860"))
STARTED = time.time()

app = Flask(__name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flask Notes</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid;
        place-items: center; background: linear-gradient(135deg, #facc15, #ef4444); }
 main { background: #fff; padding: 2rem 2.5rem; border-radius: 1rem; max-width: 34rem;
        box-shadow: 0 15px 40px rgba(0,0,0,.2); }
 dt { font-weight: 600; } dd { margin: 0 0 .5rem 0; color: #374151; }
</style></head>
<body><main>
 <h1>&#x1F9EA; Hello from Flask</h1>
 <p>Running as <b>{{ space }}</b> with Flask {{ flask_version }}.</p>
 <dl>
  <dt>Python</dt><dd>{{ python }}</dd>
  <dt>Listening on</dt><dd>0.0.0.0:{{ port }}</dd>
  <dt>Working directory</dt><dd>{{ cwd }}</dd>
 </dl>
 <p><a href="{{ url_for('api_info') }}">/api/info</a></p>
</main></body></html>
"""


@app.get("/")
def index():
    return render_template_string(
        PAGE,
        space=os.environ.get("SPACE_ID", "a local run"),
        flask_version=version("flask"),
        python=platform.python_version(),
        port=PORT,
        cwd=os.getcwd(),
    )


@app.get("/api/info")
def api_info():
    env = os.environ
    return jsonify(
        framework="flask",
        flask_version=version("flask"),
        space_id=env.get("SPACE_ID"),
        space_host=env.get("SPACE_HOST"),
        space_author_name=env.get("SPACE_AUTHOR_NAME"),
        space_repo_name=env.get("SPACE_REPO_NAME"),
        system=env.get("SYSTEM"),
        port=env.get("PORT"),
        listening_port=PORT,
        cwd=os.getcwd(),
        uptime_s=round(time.time() - STARTED, 3),
    )


@app.route("/api/echo", methods=["GET", "POST"])
def api_echo():
    if request.method == "POST":
        return jsonify(json=request.get_json(silent=True), args=request.args)
    return jsonify(args=request.args)


@app.get("/healthz")
def healthz():
    return "ok\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=PORT, threaded=True)
