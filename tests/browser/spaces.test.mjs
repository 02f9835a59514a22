// Issue 25 in Chromium: what people expect from Spaces. The gallery's search,
// filters, sort and pages in the URL; likes; profiles; the Files tab (tree, a file
// with line numbers, an image, history, a commit's diff); the README under the app;
// a visitor's clone, duplicate and embed; the state in words with Restart; a
// sleeping app woken by its page; settings that answer next to each control and ask
// first; tokens, admin, /new, error pages and sign-in; the static example in the
// cross-site iframe; every page on a phone without overflow or CSP violations.
// Screenshots: build/screenshots/spaces-*.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as lib from './lib.mjs';
import { ROOT, shot, waitFor } from './lib.mjs';

const { browser, skipReason } = await lib.launch();
if (skipReason) console.log('# SKIP browser tests: ' + skipReason);

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const README = `---
title: Files Demo
emoji: 📁
colorFrom: blue
colorTo: green
sdk: static
short_description: a space with files
tags: [demo, files]
---
# Files demo

| what | where |
|------|-------|
| code | src/  |

<script>alert("from the readme")</script>

![logo](img/logo.png)
`;

let d = null;
const api = (p, token, method, body) => lib.api(d, p, token, method, body);

// Violations and errors a page reports (the app frames' too).
function watch(page, into) {
  page.on('console', (m) => { if (m.type() === 'error') into.push(m.text()); });
  page.on('pageerror', (e) => into.push('pageerror: ' + e.message));
}

async function create(token, owner, name, files, extra = {}) {
  const r = await api('/api/repos/create', token, 'POST', {
    type: 'space', name, organization: owner, sdk: 'static',
    files: Object.entries(files).map(([p, c]) => ({ path: p, content: Buffer.from(c).toString('base64'), encoding: 'base64' })),
    ...extra,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

const card = (title, more = []) => ({
  'index.html': '<p>' + title + '</p>',
  'README.md': ['---', 'sdk: static', 'title: ' + title, ...more, '---', ''].join('\n'),
});

describe('issue 25: the web UI people expect from Spaces', { skip: skipReason || false }, () => {
  let aliceToken, alice, bob, anon, root, aliceCtx, bobCtx;
  const problems = [];
  const dialogs = [];

  before(async () => {
    d = await lib.startDaemon('podium-ui25-');
    lib.podiumUser(d, 'add', 'alice', '--password-stdin', 'alice password 1\n');
    lib.podiumUser(d, 'add', 'bob', '--password-stdin', 'bob password 1\n');
    lib.podiumUser(d, 'add', 'root', '--admin', '--password-stdin', 'root password 1\n');
    aliceToken = lib.podiumUser(d, 'token', 'alice', '--name', 'ui', '');
    // the gallery's spaces; one pinned, one private
    await create(aliceToken, 'alice', 'zebra-chat', card('Zebra Chat', ['short_description: talks with zebras', 'tags: [nlp]']));
    await create(aliceToken, 'alice', 'painter', card('Painter', ['pinned: true', 'tags: [art]']));
    await create(aliceToken, 'alice', 'private-one', card('Private One'), { private: true });
    for (let i = 0; i < 26; i++) await create(d.adminToken, 'many', 'm' + String(i).padStart(2, '0'), card('Many ' + i));
    // a repository with files, pushed with git in two commits
    await api('/api/repos/create', aliceToken, 'POST', { type: 'space', name: 'files-demo', sdk: 'static' });
    const wd = lib.push(d, { files: { 'README.md': README, 'index.html': '<p>files</p>', 'src/app.py': 'print("one")\n' },
      owner: 'alice', name: 'files-demo', user: 'alice', token: aliceToken, message: 'first' });
    lib.push(d, { wd, files: { 'src/app.py': 'print("one")\nprint("two")\n', 'img/logo.png': PNG, 'docs/more.md': '# More\n' },
      owner: 'alice', name: 'files-demo', user: 'alice', token: aliceToken, message: 'second: more files' });
    aliceCtx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    bobCtx = await browser.newContext({ viewport: { width: 360, height: 740 } });
    alice = await aliceCtx.newPage();
    bob = await bobCtx.newPage();
    anon = await (await browser.newContext({ viewport: { width: 390, height: 800 } })).newPage();
    root = await (await browser.newContext({ viewport: { width: 360, height: 740 } })).newPage();
    for (const p of [alice, bob, anon, root]) {
      watch(p, problems);
      p.on('dialog', (dl) => { dialogs.push(dl.message()); dl.dismiss(); });
    }
    await lib.login(d, alice, 'alice', 'alice password 1');
    await lib.login(d, bob, 'bob', 'bob password 1');
    await lib.login(d, root, 'root', 'root password 1');
  });

  after(async () => {
    await browser?.close();
    if (d) await lib.stopDaemon(d);
  });

  it('the gallery keeps search, filters and sort in the URL, pinned first, and pages', async () => {
    await lib.waitStage(d, 'alice', 'zebra-chat', 'RUNNING', aliceToken);
    await anon.goto(d.hub + '/');
    await anon.getByLabel('Search').fill('ZEBRAS');
    await anon.getByLabel('Search').press('Enter');
    await anon.waitForURL(/search=ZEBRAS/);
    assert.deepEqual(await anon.locator('#cards li').evaluateAll((l) => l.map((e) => e.dataset.id)), ['alice/zebra-chat']);
    // a select shows its result at once, the search kept
    await anon.getByLabel('Stage').selectOption('running');
    await anon.waitForURL(/stage=running/);
    assert.match(anon.url(), /search=ZEBRAS/);
    await anon.getByLabel('Search').fill('nothing like it');
    await anon.getByLabel('Search').press('Enter');
    await anon.getByText('No spaces match').waitFor();
    await shot(anon, 'spaces-gallery-no-match');
    // pinned first, then by likes
    await anon.goto(d.hub + '/?search=alice');
    await anon.getByLabel('Sort').selectOption('likes');
    await anon.waitForURL(/sort=likes/);
    assert.equal(await anon.locator('#cards li').first().getAttribute('data-id'), 'alice/painter');
    assert.equal(await anon.locator('#cards li[data-id="alice/private-one"]').count(), 0);
    await shot(anon, 'spaces-gallery-phone');
    // pages: 24, then the rest
    await anon.goto(d.hub + '/many');
    assert.equal(await anon.locator('#cards li').count(), 24);
    await anon.getByRole('link', { name: 'Next →' }).click();
    await anon.waitForURL(/\/many\?p=1$/);
    assert.equal(await anon.locator('#cards li').count(), 2);
    await shot(anon, 'spaces-profile-page-2');
  });

  it('likes from the space page, counted on the card and on the liker\'s profile', async () => {
    await bob.goto(d.hub + '/spaces/alice/zebra-chat');
    const like = bob.locator('#like');
    assert.equal(await like.getAttribute('aria-pressed'), 'false');
    await like.click();
    await waitFor(async () => (await like.getAttribute('aria-pressed')) === 'true', 'liked');
    assert.equal(await like.locator('.count').textContent(), '1');
    await bob.reload();
    assert.equal(await bob.locator('#like').getAttribute('aria-pressed'), 'true');
    await bob.goto(d.hub + '/bob');
    assert.equal(await bob.locator('#liked li').first().getAttribute('data-id'), 'alice/zebra-chat');
    assert.match(await bob.locator('#liked li .likes').first().textContent(), /1/);
    await shot(bob, 'spaces-profile-liked');
    // signed out: the count, and a way to sign in
    await anon.goto(d.hub + '/spaces/alice/zebra-chat');
    assert.match(await anon.locator('a.like').getAttribute('href'), /^\/login\?next=/);
  });

  it('the Files tab: the tree, a file with line numbers, an image, a history and a diff', async () => {
    await waitFor(async () => (await api('/api/spaces/alice/files-demo/commits/main')).body?.length === 2, 'two commits');
    await alice.goto(d.hub + '/spaces/alice/files-demo');
    await alice.getByRole('link', { name: 'Files', exact: true }).click();
    await alice.waitForURL(/\/tree\/main$/);
    const rows = await alice.locator('table.files tbody td:first-child').allTextContents();
    assert.deepEqual(rows.map((t) => t.trim()), ['📁 docs', '📁 img', '📁 src', '📄 README.md', '📄 index.html']);
    await shot(alice, 'spaces-files-tree');
    await alice.getByRole('link', { name: 'src' }).click();
    await alice.getByRole('link', { name: 'app.py' }).click();
    await alice.waitForURL(/\/blob\/main\/src\/app\.py$/);
    assert.equal(await alice.locator('#L2').textContent(), 'print("two")');
    const number = await alice.locator('#L2').evaluate((e) => getComputedStyle(e, '::before').content);
    assert.match(number, /counter\(line\)|"2"|^2$/, number);
    await shot(alice, 'spaces-files-blob');
    await alice.goto(d.hub + '/spaces/alice/files-demo/blob/main/img/logo.png');
    await waitFor(() => alice.locator('p.image img').evaluate((i) => i.complete && i.naturalWidth === 1), 'the image shown');
    await alice.getByRole('link', { name: 'History' }).click();
    await alice.locator('ol.commits li').first().waitFor();
    assert.equal(await alice.locator('ol.commits li').count(), 1);   // the image's own history
    await alice.goto(d.hub + '/spaces/alice/files-demo/commits/main');
    assert.equal(await alice.locator('ol.commits li').count(), 2);
    await alice.getByRole('link', { name: 'second: more files' }).click();
    await alice.waitForURL(/\/commit\/[0-9a-f]{40}$/);
    assert.equal(await alice.locator('.diff-lines ins', { hasText: 'print("two")' }).count(), 1);
    await shot(alice, 'spaces-files-commit');
  });

  it('the README is rendered under the app: its HTML stays text, its image shows', async () => {
    await lib.waitStage(d, 'alice', 'files-demo', 'RUNNING', aliceToken);
    await alice.goto(d.hub + '/spaces/alice/files-demo');
    const readme = alice.locator('section.readme');
    await readme.locator('table').waitFor();
    assert.match(await readme.textContent(), /<script>alert\("from the readme"\)<\/script>/);
    assert.equal(await readme.locator('script').count(), 0);
    assert.ok(!(await readme.textContent()).includes('short_description'), 'front matter shown');
    await waitFor(() => readme.locator('img').evaluate((i) => i.complete && i.naturalWidth === 1), 'the README image');
    assert.deepEqual(dialogs, []);
    await shot(alice, 'spaces-readme');
  });

  it('a visitor clones, duplicates (with a link to the copy) and embeds it', async () => {
    await bob.goto(d.hub + '/spaces/alice/files-demo');
    assert.match(await bob.locator('#clone').textContent(), /^git clone http:\/\/localhost:\d+\/spaces\/alice\/files-demo$/);
    assert.equal(await bob.getByText('git push').count(), 0);
    await bob.getByLabel('Name', { exact: true }).fill('files-copy');
    await bob.getByLabel('Private').check();
    await bob.getByRole('button', { name: 'Duplicate' }).click();
    const link = bob.locator('#duplicate .result a');
    await link.waitFor();
    assert.equal(await link.textContent(), 'bob/files-copy');
    await shot(bob, 'spaces-duplicated');
    await link.click();
    await bob.waitForURL(/\/spaces\/bob\/files-copy$/);
    assert.equal(await bob.locator('.crumbs .lock').count(), 1);
    // embedding: the snippet, and the page without podium's bar
    await bob.goto(d.hub + '/spaces/alice/files-demo');
    assert.match(await bob.locator('#embed').textContent(), /^<iframe src="http:\/\/alice-files-demo\.localhost:\d+\/"/);
    await bob.goto(d.hub + '/spaces/alice/files-demo?embed');
    assert.equal(await bob.locator('header.bar').count(), 0);
    await bob.frameLocator('iframe.app').locator('p', { hasText: 'files' }).waitFor();
    await shot(bob, 'spaces-embed');
  });

  it('the static example runs in the cross-site iframe without an error', async () => {
    const before = problems.length;
    await create(aliceToken, 'alice', 'hello-static', {});
    lib.push(d, { src: path.join(ROOT, 'examples', 'static'), owner: 'alice', name: 'hello-static', user: 'alice', token: aliceToken });
    await lib.waitStage(d, 'alice', 'hello-static', 'RUNNING', aliceToken);
    await alice.goto(d.hub + '/spaces/alice/hello-static');
    const frame = alice.frameLocator('iframe.app');
    await frame.locator('#count').waitFor();
    await frame.locator('#plus').click();
    await waitFor(async () => (await frame.locator('#count').textContent()) === '1', 'the counter counts');
    assert.deepEqual(problems.slice(before).filter((m) => m.startsWith('pageerror')), []);
  });

  it('the head says the state in words; a failing app shows why, its retry, and Restart', async () => {
    await alice.goto(d.hub + '/spaces/alice/files-demo');
    assert.match(await alice.locator('#status').textContent(), /^Running on cpu-basic · storage basic \(1 GiB\)/);
    await create(aliceToken, 'alice', 'crashy', {});
    lib.push(d, { files: { 'README.md': '---\nsdk: python\n---\n', 'app.py': 'print("crashy last words", flush=True)\nraise SystemExit(4)\n' },
      owner: 'alice', name: 'crashy', user: 'alice', token: aliceToken });
    await waitFor(async () => (await api('/api/spaces/alice/crashy/runtime', aliceToken)).body?.nextRetryAt, 'a retry', 120000);
    await alice.goto(d.hub + '/spaces/alice/crashy');
    await alice.locator('#lastlines', { hasText: 'crashy last words' }).waitFor();
    assert.match(await alice.locator('#status').textContent(), /^Runtime error · retry \d+ at \d\d:\d\d/);
    assert.equal(await alice.locator('#buildlog').count(), 0);
    await shot(alice, 'spaces-runtime-error');
    const answered = alice.waitForResponse((r) => r.url().endsWith('/api/spaces/alice/crashy/restart'));
    await alice.locator('#status').getByRole('button', { name: 'Restart' }).click();
    assert.equal((await answered).status(), 200);
  });

  it('a sleeping app is woken by its page, whose iframe holds the wake', async () => {
    await create(aliceToken, 'alice', 'sleepy', {}, { sdk: 'python' });
    lib.push(d, { src: path.join(ROOT, 'examples', 'python-stdlib'), owner: 'alice', name: 'sleepy', user: 'alice', token: aliceToken });
    await lib.waitStage(d, 'alice', 'sleepy', 'RUNNING', aliceToken);
    assert.equal((await api('/api/spaces/alice/sleepy/sleeptime', aliceToken, 'POST', { seconds: 1 })).status, 200);
    await lib.waitStage(d, 'alice', 'sleepy', 'SLEEPING', aliceToken, 60000);
    await api('/api/spaces/alice/sleepy/sleeptime', aliceToken, 'POST', { seconds: -1 });
    // the page as served says it sleeps (by the time it has loaded, its iframe may have woken it)
    const served = await alice.goto(d.hub + '/spaces/alice/sleepy', { waitUntil: 'domcontentloaded' });
    assert.match(await served.text(), /id="stage" class="badge stage-SLEEPING"/);
    await alice.frameLocator('iframe.app').locator('h1', { hasText: 'Stdlib Counter' }).waitFor({ timeout: 60000 });
    await waitFor(async () => (await alice.locator('#stage').getAttribute('data-stage')) === 'RUNNING', 'RUNNING on the page');
    await shot(alice, 'spaces-woken');
  });

  it('settings answer next to each control, offer what the state allows, and ask first', async () => {
    await alice.goto(d.hub + '/spaces/alice/sleepy/settings');
    assert.equal(await alice.locator('#act-resume').isVisible(), false);
    await alice.getByRole('button', { name: 'Save hardware' }).click();
    const res = alice.locator('form[data-api$="/hardware"] .result');
    await res.filter({ hasText: 'Saved' }).waitFor();
    assert.ok(await res.evaluate((e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }),
      'the result is in view, next to its button');
    // pause asks first; Cancel does nothing
    await alice.getByRole('button', { name: 'Pause' }).click();
    await alice.getByRole('button', { name: 'Cancel' }).click();
    assert.notEqual((await api('/api/spaces/alice/sleepy/runtime', aliceToken)).body.stage, 'PAUSED');
    await alice.getByRole('button', { name: 'Pause' }).click();
    await alice.getByRole('button', { name: 'Confirm' }).click();
    await alice.locator('#act-resume').waitFor({ state: 'visible' });
    assert.equal(await alice.locator('#act-pause').isVisible(), false);
    await shot(alice, 'spaces-settings-paused');
    await alice.locator('#act-resume').click();
    await alice.locator('#act-pause').waitFor({ state: 'visible' });
    // storage: the select shows the tier set; a bigger one is asked for first
    assert.equal(await alice.getByLabel('Persistent /data tier').inputValue(), 'basic');
    await alice.getByLabel('Persistent /data tier').selectOption('small');
    await alice.getByRole('button', { name: 'Save storage' }).click();
    await alice.getByRole('button', { name: 'Confirm' }).click();
    await alice.locator('form[data-api$="/storage"] .result', { hasText: 'Saved' }).waitFor();
    await alice.reload();
    assert.equal(await alice.getByLabel('Persistent /data tier').inputValue(), 'small');
    assert.equal(await alice.locator('#tier option').first().isDisabled(), true);   // basic: smaller
    // releases: numbered in this space, with a date
    await alice.locator('#releases tbody tr').first().waitFor();
    assert.match(await alice.locator('#releases tbody tr').first().textContent(), /^#1.*\d{4}.*[0-9a-f]{10}/);
    await shot(alice, 'spaces-settings');
  });

  it('tokens: dates, a copy button, and a revoked new token leaves the screen', async () => {
    await alice.goto(d.hub + '/settings/tokens');
    await alice.getByLabel('Name').fill('short-lived');
    await alice.getByRole('button', { name: 'Create token' }).click();
    await alice.locator('#shown').waitFor({ state: 'visible' });
    assert.equal(await alice.getByRole('button', { name: 'Copy token' }).count(), 1);
    const row = alice.locator('#tokens tbody tr', { hasText: 'short-lived' });
    await row.waitFor();
    assert.match(await row.locator('td').nth(3).textContent(), /\d{4}/);
    await row.getByRole('button', { name: 'Revoke token short-lived' }).click();
    await alice.getByRole('button', { name: 'Confirm' }).click();
    await alice.locator('#shown').waitFor({ state: 'hidden' });
    assert.equal(await alice.locator('#newvalue').textContent(), '');
    await shot(alice, 'spaces-tokens');
  });

  it('admin on a phone: words and units, nothing on one\'s own row, named buttons, no broken words', async () => {
    await root.goto(d.hub + '/admin');
    await root.locator('#users tbody tr', { hasText: 'bob' }).waitFor();
    const health = await root.locator('#health').textContent();
    assert.match(health, /Memory committed/);
    assert.doesNotMatch(health, /memoryBudget|fdOpen/);
    assert.equal(await root.locator('#users tbody tr', { hasText: 'root' }).locator('button').count(), 0);
    assert.equal(await root.getByRole('button', { name: 'Disable bob' }).count(), 1);
    assert.equal(await root.getByRole('button', { name: 'Make admin bob' }).count(), 1);
    const broken = await root.locator('table.nowrap td').evaluateAll((tds) =>
      tds.filter((t) => getComputedStyle(t).whiteSpace !== 'nowrap').length);
    assert.equal(broken, 0);
    await shot(root, 'spaces-admin-phone');
  });

  it('error pages keep the bar; a signed-out owner signs in from the 404 and gets there', async () => {
    const r = await anon.goto(d.hub + '/spaces/alice/private-one');
    assert.equal(r.status(), 404);
    assert.equal(await anon.locator('header.bar').count(), 1);
    await shot(anon, 'spaces-404');
    await anon.getByRole('link', { name: 'sign in', exact: true }).click();
    await anon.getByLabel('User name').fill('alice');
    await anon.getByLabel('Password').fill('a wrong password');
    await anon.getByRole('button', { name: 'Sign in' }).click();
    await anon.getByText('Wrong user name or password.').waitFor();
    assert.equal(await anon.getByLabel('User name').inputValue(), 'alice');
    await anon.getByLabel('Password').fill('alice password 1');
    await anon.getByRole('button', { name: 'Sign in' }).click();
    await anon.waitForURL(d.hub + '/spaces/alice/private-one');
    assert.equal(await anon.locator('h1').first().textContent(), '🚀 Private One');
  });

  it('/new links to the space it made and is ready for the next', async () => {
    await alice.goto(d.hub + '/new');
    await alice.getByLabel('Space name').fill('made-here');
    await alice.getByRole('button', { name: 'Create space' }).click();
    const link = alice.locator('#create .result a');
    await link.waitFor();
    assert.equal(await alice.getByLabel('Space name').inputValue(), '');
    await shot(alice, 'spaces-new');
    await link.click();
    await alice.waitForURL(/\/spaces\/alice\/made-here$/);
    assert.equal(await alice.locator('#stage').textContent(), 'No app yet');
  });

  it('a log line shows its time once', async () => {
    await alice.goto(d.hub + '/spaces/alice/files-demo/logs');
    await alice.locator('#buildlog .line').first().waitFor();
    const lines = await alice.locator('#buildlog .line').allTextContents();
    assert.ok(lines.some((l) => /==> build of alice\/files-demo/.test(l)), lines.join('\n'));   // podium's own lines
    assert.deepEqual(lines.filter((l) => /\[\d{4}-\d\d-\d\dT/.test(l)), []);
    assert.equal(await alice.getByRole('link', { name: 'Download the app log' }).getAttribute('download'),
      'alice-files-demo-run.log');
  });

  it('every page fits a phone, with no CSP violation', async () => {
    const pages = ['/', '/alice', '/spaces/alice/files-demo', '/spaces/alice/files-demo/tree/main',
      '/spaces/alice/files-demo/blob/main/src/app.py', '/spaces/alice/files-demo/commits/main',
      '/spaces/alice/files-demo/logs', '/spaces/bob/files-copy/settings', '/settings/tokens', '/new', '/login'];
    for (const p of pages) {
      await bob.goto(d.hub + p);
      const over = await bob.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      assert.ok(over <= 1, p + ' overflows by ' + over + 'px');
    }
    await shot(bob, 'spaces-phone-last');
    assert.deepEqual(problems.filter((m) => /Content Security Policy/.test(m)), []);
  });
});
