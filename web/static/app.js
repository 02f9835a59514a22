// podium hub pages: the server renders them (escaped in one place, web/pages.c);
// this module makes them live and wires their controls to the JSON API. Strings
// from the API reach the DOM only as text (el() below): never as HTML.

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// The one element builder: attributes as properties or attributes, children
// as nodes or text nodes.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, opts);
  } catch (e) {
    return { ok: false, status: 0, data: { error: 'network error: ' + e.message } };
  }
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  return { ok: r.ok, status: r.status, data };
}

// Each control says what came of it next to itself: the nearest result line of
// its form or panel (else the page's #result).
function resultFor(node) {
  for (let n = node; n && n !== document; n = n.parentElement) {
    const r = $(':scope > .result', n) || (n.classList.contains('result') ? n : null);
    if (r) return r;
    if (n.matches('form, .panel, .status, td')) {
      const own = $('.result', n);
      if (own) return own;
    }
  }
  return $('#result');
}

function say(node, text, ok = true) {
  const r = resultFor(node);
  if (!r) return;
  r.replaceChildren(...(Array.isArray(text) ? text : [text]));
  r.classList.toggle('ok', ok);
  r.classList.toggle('error', !ok);
}

function answer(node, res, done) {
  if (res.ok) say(node, done);
  else say(node, (res.data && res.data.error) || ('failed: HTTP ' + res.status), false);
  return res.ok;
}

// What cannot be undone is asked first, in place: the button's data-confirm
// becomes a question with Confirm and Cancel; resolves true once confirmed.
function confirmFirst(node, question) {
  if (!question) return Promise.resolve(true);
  return new Promise((resolve) => {
    const box = el('span', { class: 'confirm', role: 'group', 'aria-label': 'confirm' });
    const done = (yes) => { box.remove(); node.hidden = false; resolve(yes); if (!yes) node.focus(); };
    const yes = el('button', { type: 'button', class: 'danger small', onclick: () => done(true) }, 'Confirm');
    box.append(el('span', {}, question + ' '), yes, ' ',
      el('button', { type: 'button', class: 'small secondary', onclick: () => done(false) }, 'Cancel'));
    node.after(box);
    node.hidden = true;
    yes.focus();
  });
}

// ---- copy buttons ----
for (const b of $$('[data-copy]')) {
  b.addEventListener('click', async () => {
    const src = document.getElementById(b.dataset.copy);
    try {
      await navigator.clipboard.writeText(src.textContent);
      b.textContent = 'Copied';
    } catch (e) {
      getSelection().selectAllChildren(src);
      b.textContent = 'Selected: copy it';
    }
  });
}

// ---- times: the server writes UTC; shown in the reader's zone ----
function localTimes(root = document) {
  for (const t of $$('time[data-local]', root)) {
    const d = new Date(t.getAttribute('datetime'));
    if (!isNaN(d)) t.textContent = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
}

// ---- lists: the filters are a GET form; a changed select shows its result ----
function lists() {
  for (const sel of $$('select[data-autosubmit]')) {
    sel.addEventListener('change', () => sel.form.requestSubmit());
  }
}

// ---- logs: Server-Sent Events, one line per event with its time ----
function follow() {
  const f = $('#follow');
  return !f || f.checked;
}

// podium's own build lines carry their time in the text too: the line's time is shown once
const STAMP = /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] /;

function streamLog(pre) {
  const url = pre.dataset.log;
  const build = url.endsWith('/build');
  let es;
  const open = () => {
    pre.replaceChildren();
    es = new EventSource(url);
    es.onmessage = (ev) => {
      let line;
      try { line = JSON.parse(ev.data); } catch (e) { line = { data: ev.data }; }
      const t = line.timestamp ? new Date(line.timestamp) : null;
      const when = t && !isNaN(t) ? t.toISOString().slice(11, 19) : '';
      const text = String(line.data ?? '').replace(STAMP, '');
      pre.append(el('span', { class: 'line' }, el('time', { datetime: line.timestamp || '' }, when),
        text, '\n'));
      if (follow()) pre.scrollTop = pre.scrollHeight;
    };
    // a build's stream ends with the build; an app's log is followed again
    es.onerror = () => {
      es.close();
      if (!build && document.contains(pre)) setTimeout(open, 3000);
    };
  };
  open();
  return () => es && es.close();
}

let closers = [];
function startLogs(root = document) {
  for (const pre of $$('pre[data-log]', root)) closers.push(streamLog(pre));
}

// ---- a space's pages: its state, live; the state section follows it ----
// What the status line says changes with these.
function signature(rt) {
  return [rt.stage, rt.restarts, rt.nextRetryAt, rt.hardware && rt.hardware.current, rt.storage,
    rt.storagePending, rt.errorMessage].join('|');
}

// The page again, and its parts that follow the state: the status line, the
// state section (keeping a serving app's iframe), the title.
async function refreshState() {
  const page = await fetch(location.pathname, { credentials: 'same-origin' });
  const doc = new DOMParser().parseFromString(await page.text(), 'text/html');
  const status = $('#status', doc);
  if (status && $('#status')) {
    $('#status').replaceWith(status);
    wire(status);
  }
  const title = $('.space-head h1', doc);
  if (title && $('.space-head h1')) $('.space-head h1').replaceWith(title);
  const state = $('#state');
  const fresh = $('#state', doc);
  if (state && fresh) {
    const frame = $('iframe.app', state);
    if (frame && $('iframe.app', fresh)) $('iframe.app', fresh).replaceWith(frame);
    for (const c of closers) c();
    closers = [];
    state.replaceWith(fresh);
    wire(fresh);
    startLogs(fresh);
  }
}

function liveStage() {
  const head = $('.space-head');
  if (!head || !$('#stage')) return;
  const id = head.dataset.space;
  let shown = null;
  const tick = async () => {
    const r = await api('GET', '/api/spaces/' + id + '/runtime');
    if (r.ok && r.data && r.data.stage) {
      const sig = signature(r.data);
      if (shown !== null && sig !== shown) await refreshState();
      shown = sig;
      runState(r.data);
    }
    setTimeout(tick, 1500);
  };
  tick();
}

// Settings' Run buttons: offered as the state allows (data-when).
function runState(rt) {
  const run = $('#run');
  if (!run || rt.paused === undefined) return;
  for (const b of $$('button[data-when]', run)) {
    const w = b.dataset.when;
    b.hidden = !(w === 'any' || (w === 'paused') === rt.paused);
  }
}

// ---- likes ----
function likes() {
  const b = $('#like');
  if (!b) return;
  b.addEventListener('click', async () => {
    const on = b.getAttribute('aria-pressed') !== 'true';
    const r = await api(on ? 'POST' : 'DELETE', b.dataset.like);
    if (r.ok) {
      b.setAttribute('aria-pressed', String(r.data.liked));
      $('.count', b).textContent = r.data.likes;
    }
  });
}

// ---- forms and buttons sent to the API ----
function formJSON(form) {
  const out = {};
  for (const i of $$('input[name], select[name]', form)) {
    if (i.type === 'radio' && !i.checked) continue;
    if (i.dataset.type === 'bool-value') out[i.name] = i.value === 'true';
    else if (i.dataset.type === 'bool' || i.type === 'checkbox') out[i.name] = i.checked;
    else if (i.dataset.type === 'int') out[i.name] = parseInt(i.value, 10);
    else out[i.name] = i.value;
  }
  // the duplicate form names its target in two fields
  if (form.dataset.ownerName) {
    const [o, n] = form.dataset.ownerName.split(',').map((x) => document.getElementById(x).value);
    out.repository = o + '/' + n;
  }
  return out;
}

// A created space's answer ({url, name}) as words with a link.
function createdLink(prefix, data) {
  return [prefix + ' ', el('a', { href: '/spaces/' + data.name }, data.name)];
}

function wire(root = document) {
  for (const b of $$('button[data-post]', root)) {
    b.addEventListener('click', async () => {
      if (!(await confirmFirst(b, b.dataset.confirm))) return;
      say(b, '…');
      const r = await api('POST', b.dataset.post);
      if (answer(b, r, b.textContent + ': done')) runState(r.data || {});
    });
  }
  for (const f of $$('form.api', root)) {
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const submit = $('button[type=submit]', f);
      if (!(await confirmFirst(submit, f.dataset.confirm))) return;
      say(submit, '…');
      const r = await api(f.dataset.method, f.dataset.api, formJSON(f));
      for (const i of $$('input[data-clear]', f)) i.value = '';  // secrets never linger
      if (!r.ok) return answer(submit, r, '');
      if (r.data && r.data.url && r.data.name) say(submit, createdLink('Created', r.data));
      else say(submit, 'Saved');
      if (f.dataset.reload) loadList(document.getElementById(f.dataset.reload));
      const pending = $('#storage-pending', f);
      if (pending && r.data && r.data.storagePending === false) pending.remove();
    });
  }
}

// ---- tables filled from the API ----
const lists_ = {};
async function loadList(table) {
  const r = await api('GET', table.dataset.list);
  const body = $('tbody', table);
  if (!r.ok) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 5 }, (r.data && r.data.error) || 'cannot load')));
    return;
  }
  body.replaceChildren(...lists_[table.id](r.data, table));
}

function delButton(label, fn) {
  return el('button', { type: 'button', class: 'small', onclick: fn, 'aria-label': label }, 'Delete');
}

const day = (t) => new Date(typeof t === 'number' ? t * 1000 : t).toLocaleString([],
  { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

lists_.variables = (data, table) => Object.entries(data).map(([k, v]) =>
  el('tr', {}, el('td', {}, k), el('td', {}, v.value ?? ''), el('td', {},
    delButton('Delete variable ' + k, async (ev) => {
      if (answer(ev.target, await api('DELETE', table.dataset.list, { key: k }), 'Deleted ' + k)) loadList(table);
    }))));
lists_.secrets = (data, table) => Object.entries(data).map(([k, v]) =>
  el('tr', {}, el('td', {}, k), el('td', {}, v.updatedAt ? day(v.updatedAt) : ''), el('td', {},
    delButton('Delete secret ' + k, async (ev) => {
      if (answer(ev.target, await api('DELETE', table.dataset.list, { key: k }), 'Deleted ' + k)) loadList(table);
    }))));
// Releases are numbered per space, oldest first; a failed one says why.
lists_.releases = (data, table) => data.map((r, i) => {
  const n = data.length - i;
  const commit = String(r.sha || '');
  const status = r.status === 'failed' ? ['failed', r.message ? ': ' + r.message : ''].join('')
    : r.status === 'ok' ? (r.serving ? 'serving' : r.available ? 'ok' : 'ok (pruned)') : r.status;
  const back = r.status === 'ok' && r.available && !r.serving ?
    el('button', { type: 'button', class: 'small', 'aria-label': 'Roll back to release ' + n,
      onclick: async (ev) => {
        const url = table.dataset.list.replace(/\/releases$/, '/rollback');
        if (answer(ev.target, await api('POST', url, { release: r.id }), 'Rolling back to #' + n)) loadList(table);
      } }, 'Roll back') : '';
  return el('tr', { class: r.serving ? 'serving' : null }, el('td', {}, '#' + n),
    el('td', {}, el('time', { datetime: r.createdAt }, day(r.createdAt))),
    el('td', {}, el('a', { href: '/spaces/' + table.dataset.space + '/commit/' + commit },
      el('code', {}, commit.slice(0, 10))), r.title ? ' ' + r.title : ''),
    el('td', { class: r.status === 'failed' ? 'error' : null }, status), el('td', {}, back));
});

let shownToken = null;
lists_.tokens = (data, table) => data.map((t) => {
  const name = t.name ?? t.prefix;
  const revoke = el('button', { type: 'button', class: 'small', 'aria-label': 'Revoke token ' + name,
    'data-confirm': 'Revoke ' + name + '? Whatever uses it stops working.' }, 'Revoke');
  revoke.addEventListener('click', async () => {
    if (!(await confirmFirst(revoke, revoke.dataset.confirm))) return;
    if (!answer(revoke, await api('DELETE', '/api/settings/tokens/' + t.id), 'Revoked ' + name)) return;
    // the token shown once goes from the screen with its revocation
    if (shownToken && shownToken.startsWith(t.prefix)) {
      shownToken = null;
      $('#newvalue').textContent = '';
      $('#shown').hidden = true;
    }
    loadList(table);
  });
  return el('tr', {}, el('td', {}, t.name ?? '(unnamed)'), el('td', {}, t.role),
    el('td', {}, el('code', {}, t.prefix)), el('td', {}, t.created ? day(t.created) : ''),
    el('td', {}, revoke));
});

const me = () => document.body.dataset.user || '';
lists_.users = (data, table) => data.map((u) => {
  const change = (body, done) => async (ev) => {
    const r = await api('POST', '/api/admin/users/' + encodeURIComponent(u.name), body);
    if (answer(ev.target, r, done)) loadList(table);
  };
  // one's own row offers nothing that would lock oneself out
  const own = u.name === me();
  return el('tr', {}, el('td', {}, u.name), el('td', {}, u.admin ? 'admin' : 'user'),
    el('td', {}, u.disabled ? 'disabled' : 'active'),
    el('td', {}, own ? el('span', { class: 'muted' }, 'you') : [
      el('button', { type: 'button', class: 'small', 'aria-label': (u.disabled ? 'Enable ' : 'Disable ') + u.name,
        onclick: change({ disabled: !u.disabled }, u.name + (u.disabled ? ' enabled' : ' disabled')) },
      u.disabled ? 'Enable' : 'Disable'), ' ',
      el('button', { type: 'button', class: 'small', 'aria-label': (u.admin ? 'Remove admin from ' : 'Make admin ') + u.name,
        onclick: change({ admin: !u.admin }, u.name + (u.admin ? ' is a user' : ' is an admin')) },
      u.admin ? 'Remove admin' : 'Make admin')]));
});

function deleteForm() {
  const del = $('#delete');
  if (!del) return;
  del.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const submit = $('button[type=submit]', del);
    if ($('#confirm', del).value !== del.dataset.name) {
      say(submit, 'Type the space\'s name to delete it.', false);
      return;
    }
    const r = await api('DELETE', '/api/repos/delete',
      { type: 'space', name: del.dataset.name, organization: del.dataset.owner });
    if (answer(submit, r, 'Deleted')) location.assign('/');
  });
}

function newSpace() {
  const f = $('#create');
  if (!f) return;
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = formJSON(f);
    const submit = $('button[type=submit]', f);
    const r = await api('POST', '/api/repos/create',
      { type: 'space', name: v.name, organization: v.organization, sdk: v.sdk, private: v.visibility === 'private' });
    if (!answer(submit, r, '')) return;
    const id = v.organization + '/' + v.name;
    say(submit, createdLink('Created', { name: id }));
    $('#commands').textContent = [
      'cd my-app            # your app\'s directory',
      'git init -b main',
      'git remote add podium ' + f.dataset.hub + '/spaces/' + id,
      'git add -A && git commit -m "first version"',
      'git push podium main   # user: ' + v.organization + ', password: a write token',
    ].join('\n');
    $('#open').href = '/spaces/' + id;
    $('#open').textContent = 'Open ' + id;
    $('#next').hidden = false;
    // ready for the next one; the owner stays
    $('#name', f).value = '';
  });
}

function tokens() {
  const f = $('#newtoken');
  if (!f) return;
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const submit = $('button[type=submit]', f);
    const r = await api('POST', '/api/settings/tokens', formJSON(f));
    if (!answer(submit, r, 'Created token ' + (r.data && r.data.name))) return;
    shownToken = r.data.token;
    $('#newvalue').textContent = r.data.token;
    $('#shown').hidden = false;
    f.reset();
    loadList($('#tokens'));
  });
}

// The daemon's health in words and units, not API field names and bytes.
const HEALTH = {
  memoryBudget: ['Memory apps may commit', 'bytes'], memoryCommitted: ['Memory committed', 'bytes'],
  apps: ['Apps running', 'n'], fdLimit: ['File descriptor limit', 'n'], fdOpen: ['File descriptors open', 'n'],
};
function bytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  for (; n >= 1024 && i < u.length - 1; i++) n /= 1024;
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

async function admin() {
  const dl = $('#health');
  if (!dl) return;
  const r = await api('GET', '/api/health');
  if (r.ok) {
    const rows = [['Status', r.data.status === 'ok' ? 'OK' : r.data.status]];
    for (const [k, v] of Object.entries(r.data.resources || {})) {
      const [label, kind] = HEALTH[k] || [k, 'n'];
      rows.push([label, typeof v === 'number' && kind === 'bytes' ? bytes(v) :
        typeof v === 'object' ? JSON.stringify(v) : String(v)]);
    }
    dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }
  const add = $('#adduser');
  add.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (answer($('button[type=submit]', add), await api('POST', '/api/admin/users', formJSON(add)), 'User added')) {
      add.reset();
      loadList($('#users'));
    }
  });
}

lists();
localTimes();
startLogs();
liveStage();
likes();
wire();
deleteForm();
newSpace();
tokens();
admin();
for (const t of $$('table[data-list]')) loadList(t);
