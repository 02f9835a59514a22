/* registry.c — can a build reach its package registry? Checked in the build's own
 * box (same network, same environment) just before npm or pip needs it.
 *
 * Why a check of our own: an installer that cannot reach its registry waits and
 * retries (npm, behind a network that drops packets: its 5 min fetch timeout, twice,
 * past the build's 600 s), and then says so in words that do not name the registry.
 * The check connects once (DNS and TCP, 10 s each at most) and prints one line
 * naming the registry and what went wrong. An installer whose registry does not
 * answer then runs offline (npm --offline, pip --no-index): what needs no download
 * still installs (a package.json without dependencies, requirements Debian's
 * python3-* satisfy through the venv's system site packages, on a host without a
 * network), and what does fails at once, the check's line leading the build
 * error.
 *
 * The registry is the one the installer will use: npm's `registry` (the space's
 * .npmrc, npm_config_registry), PIP_INDEX_URL or an --index-url line of
 * requirements.txt (else PyPI), reached through the proxy npm's configuration or
 * the environment names for it, if any. */
#include "builder/builder_int.h"

#include <stdio.h>
#include <string.h>

/* python3 -I -c PROBE KIND: exit 0 reachable (or nothing to reach), 2 unreachable. */
static const char probe[] =
    "import json, os, socket, subprocess, sys, threading, time, urllib.parse, urllib.request\n"
    "kind = sys.argv[1]\n"
    "npm = {}\n"
    "def registry():\n"
    "    if kind == 'npm':\n"
    "        try:\n"
    "            r = subprocess.run(['npm', 'config', 'list', '--json'], capture_output=True,\n"
    "                               text=True, timeout=60)\n"
    "            npm.update(json.loads(r.stdout))\n"
    "        except (OSError, subprocess.SubprocessError, ValueError):\n"
    "            pass\n"
    "        return npm.get('registry') or 'https://registry.npmjs.org/'\n"
    "    url = os.environ.get('PIP_INDEX_URL', '')\n"
    "    try:\n"
    "        for line in open('requirements.txt', encoding='utf-8', errors='replace'):\n"
    "            t = line.split()\n"
    "            if len(t) >= 2 and t[0] in ('-i', '--index-url'):\n"
    "                url = t[1]\n"
    "            elif t and t[0].startswith('--index-url='):\n"
    "                url = t[0].split('=', 1)[1]\n"
    "    except OSError:\n"
    "        pass\n"
    "    return url or 'https://pypi.org/simple/'\n"
    "what = {'npm': 'the npm registry', 'pip': 'the Python package index'}[kind]\n"
    "url = registry()\n"
    "u = urllib.parse.urlsplit(url)\n"
    "if not u.hostname:\n"
    "    print('registry check: %s is %s: nothing to reach' % (what, url), flush=True)\n"
    "    sys.exit(0)\n"
    "proxy = urllib.request.getproxies().get(u.scheme)\n"
    "if kind == 'npm':\n"
    "    proxy = npm.get('https-proxy' if u.scheme == 'https' else 'proxy') or proxy\n"
    "via = ''\n"
    "t = u\n"
    "if proxy and not urllib.request.proxy_bypass(u.hostname):\n"
    "    t, via = urllib.parse.urlsplit(proxy), ' through the proxy %s' % proxy\n"
    "host, port = t.hostname, t.port or (443 if t.scheme == 'https' else 80)\n"
    "found = {}\n"
    "def resolve():\n"
    "    try:\n"
    "        found['addrs'] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)\n"
    "    except OSError as e:\n"
    "        found['error'] = e\n"
    "start = time.monotonic()\n"
    "th = threading.Thread(target=resolve, daemon=True)\n"
    "th.start()\n"
    "th.join(10)\n"
    "err = None\n"
    "if 'addrs' not in found:\n"
    "    e = found.get('error')\n"
    "    err = 'cannot resolve %s: %s' % (host, e.strerror if e else 'no answer within 10 s')\n"
    "for af, st, pr, _, sa in found.get('addrs', []):\n"
    "    s = socket.socket(af, st, pr)\n"
    "    s.settimeout(10)\n"
    "    try:\n"
    "        s.connect(sa)\n"
    "        err = None\n"
    "        break\n"
    "    except socket.timeout:\n"
    "        err = 'connecting to %s port %d timed out after 10 s' % (sa[0], port)\n"
    "    except OSError as e:\n"
    "        err = 'connecting to %s port %d: %s' % (sa[0], port, e.strerror)\n"
    "    finally:\n"
    "        s.close()\n"
    "ms = (time.monotonic() - start) * 1000\n"
    "if err is None:\n"
    "    print('registry check: %s %s%s answers (%.0f ms)' % (what, url, via, ms), flush=True)\n"
    "    sys.exit(0)\n"
    "print('cannot reach %s %s%s: %s' % (what, url, via, err), flush=True)\n"
    "sys.exit(2)\n";

const char *
builder_registry_probe(void)
{
	return probe;
}

const char *
builder_registry_step_name(builder_registry kind)
{
	return kind == BUILDER_REGISTRY_NPM ? "check the npm registry"
	                                    : "check the Python package index";
}

const char *
builder_registry_kind_arg(builder_registry kind)
{
	return kind == BUILDER_REGISTRY_NPM ? "npm" : "pip";
}
