// What the browser suites share: Debian's Chromium through playwright-core (or the
// reason every test skips), a real daemon of the suite's own on a free port, its
// users, git pushes to it, the API, screenshots into build/screenshots/.
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const BUILD = process.env.PODIUM_BUILD || path.join(ROOT, 'build');
export const SHOTS = path.join(BUILD, 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const DEPLOY_MS = 240000;

// Positive control: Chromium must start here, or every test skips with the reason.
export async function launch() {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    return { skipReason: 'playwright-core is not installed (npm ci in tests/browser): ' + e.message };
  }
  if (!fs.existsSync(CHROMIUM)) return { skipReason: 'no Chromium at ' + CHROMIUM + ' (apt-get install chromium)' };
  try {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    return { browser };
  } catch (e) {
    return { skipReason: 'Chromium cannot start on this machine: ' + e.message.split('\n')[0] };
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(fn, what, timeout = 60000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error('timed out waiting for ' + what + ' (last: ' + last + ')');
}

// A daemon of the suite's own: d.hub, d.port, d.dir (its data in d.dir/data).
export async function startDaemon(prefix, env = {}) {
  const d = { proc: null, port: 0, dir: '', hub: '' };
  d.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d.dir, 0o711);
  d.port = await freePort();
  d.hub = 'http://localhost:' + d.port;
  const log = fs.openSync(path.join(d.dir, 'daemon.log'), 'a');
  d.proc = spawn(path.join(BUILD, 'podium'), ['serve', '--listen', '127.0.0.1:' + d.port,
    '--data', path.join(d.dir, 'data'), '--domain', 'localhost'],
  { stdio: ['ignore', log, log], env: { ...process.env, PODIUM_EGRESS: 'off', ...env } });
  await waitFor(async () => (await api(d, '/api/health')).status === 200, 'the daemon', 90000);
  d.adminToken = fs.readFileSync(path.join(d.dir, 'data', 'admin.token'), 'utf8').trim();
  return d;
}

// Stops it: a clean stop (and, under ASan, no report).
export async function stopDaemon(d) {
  if (!d.proc) return;
  d.proc.kill('SIGTERM');
  const code = await new Promise((r) => d.proc.once('exit', (c) => r(c)));
  assert.equal(code, 0, fs.readFileSync(path.join(d.dir, 'daemon.log'), 'utf8').slice(-4000));
  try {
    fs.rmSync(d.dir, { recursive: true, force: true });
  } catch (e) { /* the daemon's sandboxed files */ }
}

export function podiumUser(d, ...args) {
  const input = args.pop();
  const r = spawnSync(path.join(BUILD, 'podium'), ['user', ...args, '--data', path.join(d.dir, 'data')],
    { input, encoding: 'utf8' });
  assert.equal(r.status, 0, 'podium user ' + args.join(' ') + ': ' + r.stderr);
  return r.stdout.trim();
}

export function git(d, cwd, ...args) {
  return execFileSync('git', ['-c', 'credential.helper=', '-c', 'user.name=UI Tests',
    '-c', 'user.email=ui@podium.invalid', '-c', 'init.defaultBranch=main', ...args],
  { cwd, env: { ...process.env, HOME: d.dir, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// Commits a copy of src (a directory) plus files ({path: content}) and pushes it
// to owner/name as user with token; returns the work tree.
export function push(d, { src, files = {}, owner, name, user, token, wd, message = 'a version' }) {
  if (!wd) {
    wd = fs.mkdtempSync(path.join(d.dir, 'work-'));
    if (src) fs.cpSync(src, wd, { recursive: true });
    git(d, wd, 'init', '-q');
  }
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(wd, p)), { recursive: true });
    fs.writeFileSync(path.join(wd, p), content);
  }
  git(d, wd, 'add', '-A');
  git(d, wd, 'commit', '-q', '--allow-empty', '-m', message);
  const remote = d.hub.replace('http://', 'http://' + user + ':' + token + '@') + '/spaces/' + owner + '/' + name;
  git(d, wd, 'push', '-q', remote, 'main');
  return wd;
}

export async function api(d, p, token, method = 'GET', body = undefined) {
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(d.hub + p, { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined });
  return { status: r.status, headers: r.headers, body: await r.json().catch(() => null) };
}

export async function waitStage(d, owner, name, stage, token, timeout = DEPLOY_MS) {
  return waitFor(async () => (await api(d, '/api/spaces/' + owner + '/' + name + '/runtime', token)).body?.stage === stage,
    owner + '/' + name + ' ' + stage, timeout);
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
}

export async function login(d, page, user, password) {
  await page.goto(d.hub + '/login?next=/');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(d.hub + '/');
}
