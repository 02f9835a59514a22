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

function say(text, ok = true) {
  const r = $('#result');
  if (!r) return;
  r.textContent = text;
  r.className = ok ? 'ok' : 'error';
}

function answer(res, done) {
  if (res.ok) say(done);
  else say((res.data && res.data.error) || ('failed: HTTP ' + res.status), false);
  return res.ok;
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
    }
  });
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
      pre.append(el('span', { class: 'line' }, el('time', { datetime: line.timestamp || '' }, when),
        String(line.data ?? ''), '\n'));
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

// ---- space page: the stage, live; the state section follows it ----
const SERVING = ['RUNNING', 'RUNNING_BUILDING', 'RUNNING_APP_STARTING'];
function category(stage) {
  if (SERVING.includes(stage)) return 'serving';
  if (stage === 'BUILDING' || stage === 'APP_STARTING') return 'building';
  if (/ERROR|NO_APP_FILE/.test(stage)) return 'error';
  return stage;
}

function setStage(badge, stage) {
  badge.textContent = stage;
  badge.className = 'badge stage-' + stage;
}

function liveStage() {
  const head = $('.space-head');
  const badge = $('#stage');
  if (!head || !badge) return;
  const id = head.dataset.space;
  let shown = badge.textContent;
  const tick = async () => {
    const r = await api('GET', '/api/spaces/' + id + '/runtime');
    if (r.ok && r.data && r.data.stage && r.data.stage !== shown) {
      const before = shown;
      shown = r.data.stage;
      setStage(badge, shown);
      const state = $('#state');
      // a redeploy's note changes; the serving iframe stays as it is
      if (state && (category(before) !== category(shown) || category(shown) === 'serving')) {
        const page = await fetch(location.pathname, { credentials: 'same-origin' });
        const doc = new DOMParser().parseFromString(await page.text(), 'text/html');
        const fresh = $('#state', doc);
        const title = $('.space-head h1', doc);
        if (title) $('.space-head h1').replaceWith(title);  // the release's front matter
        if (fresh) {
          const frame = $('iframe.app', state);
          if (frame && $('iframe.app', fresh)) {
            // keep the running app (and what the visitor typed into it)
            $('iframe.app', fresh).replaceWith(frame);
          }
          for (const c of closers) c();
          closers = [];
          state.replaceWith(fresh);
          startLogs(fresh);
        }
      }
    }
    setTimeout(tick, 1500);
  };
  setTimeout(tick, 1500);
}

// ---- settings ----
function formJSON(form) {
  const out = {};
  for (const i of $$('input[name], select[name]', form)) {
    if (i.type === 'radio' && !i.checked) continue;
    if (i.dataset.type === 'bool' || i.type === 'checkbox') out[i.name] = i.checked;
    else if (i.dataset.type === 'int') out[i.name] = parseInt(i.value, 10);
    else out[i.name] = i.value;
  }
  return out;
}

const lists = {};
async function loadList(table) {
  const r = await api('GET', table.dataset.list);
  const body = $('tbody', table);
  if (!r.ok) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 4 }, (r.data && r.data.error) || 'cannot load')));
    return;
  }
  const render = lists[table.id];
  body.replaceChildren(...render(r.data, table));
}

function delButton(table, label, fn) {
  return el('button', { type: 'button', class: 'small', onclick: fn, 'aria-label': label }, 'Delete');
}

lists.variables = (data, table) => Object.entries(data).map(([k, v]) =>
  el('tr', {}, el('td', {}, k), el('td', {}, v.value ?? ''), el('td', {},
    delButton(table, 'Delete variable ' + k, async () => {
      if (answer(await api('DELETE', table.dataset.list, { key: k }), 'Deleted ' + k)) loadList(table);
    }))));
lists.secrets = (data, table) => Object.entries(data).map(([k, v]) =>
  el('tr', {}, el('td', {}, k), el('td', {}, v.updatedAt ?? ''), el('td', {},
    delButton(table, 'Delete secret ' + k, async () => {
      if (answer(await api('DELETE', table.dataset.list, { key: k }), 'Deleted ' + k)) loadList(table);
    }))));
lists.releases = (data, table) => data.map((r) =>
  el('tr', {}, el('td', {}, '#' + r.id + (r.serving ? ' (serving)' : '')),
    el('td', {}, el('code', {}, String(r.sha || '').slice(0, 10))), el('td', {}, r.status),
    el('td', {}, r.status === 'ok' && r.available && !r.serving ?
      el('button', { type: 'button', class: 'small', 'aria-label': 'Roll back to release ' + r.id,
        onclick: async () => {
          const url = table.dataset.list.replace(/\/releases$/, '/rollback');
          if (answer(await api('POST', url, { release: r.id }), 'Rolling back to #' + r.id)) loadList(table);
        } }, 'Roll back') : '')));
lists.tokens = (data, table) => data.map((t) =>
  el('tr', {}, el('td', {}, t.name ?? '(unnamed)'), el('td', {}, t.role), el('td', {}, el('code', {}, t.prefix)),
    el('td', {}, el('button', { type: 'button', class: 'small', 'aria-label': 'Revoke token ' + (t.name ?? t.prefix),
      onclick: async () => {
        if (answer(await api('DELETE', '/api/settings/tokens/' + t.id), 'Revoked ' + (t.name ?? t.prefix))) loadList(table);
      } }, 'Revoke'))));
lists.users = (data, table) => data.map((u) => {
  const change = (body, done) => async () => {
    if (answer(await api('POST', '/api/admin/users/' + encodeURIComponent(u.name), body), done)) loadList(table);
  };
  return el('tr', {}, el('td', {}, u.name), el('td', {}, u.admin ? 'admin' : 'user'),
    el('td', {}, u.disabled ? 'disabled' : 'active'),
    el('td', {}, el('button', { type: 'button', class: 'small', onclick: change({ disabled: !u.disabled },
      u.name + (u.disabled ? ' enabled' : ' disabled')) }, u.disabled ? 'Enable' : 'Disable'), ' ',
    el('button', { type: 'button', class: 'small', onclick: change({ admin: !u.admin },
      u.name + (u.admin ? ' is a user' : ' is an admin')) }, u.admin ? 'Remove admin' : 'Make admin')));
});

function settings() {
  for (const b of $$('button[data-post]')) {
    b.addEventListener('click', async () => {
      say('…');
      answer(await api('POST', b.dataset.post), b.textContent + ': done');
    });
  }
  for (const f of $$('form.api')) {
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      say('…');
      const ok = answer(await api(f.dataset.method, f.dataset.api, formJSON(f)), 'Saved');
      for (const i of $$('input[data-clear]', f)) i.value = '';  // secrets never linger
      if (ok && f.dataset.reload) loadList(document.getElementById(f.dataset.reload));
    });
  }
  const del = $('#delete');
  if (del) {
    del.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if ($('#confirm', del).value !== del.dataset.name) {
        say('Type the space\'s name to delete it.', false);
        return;
      }
      const r = await api('DELETE', '/api/repos/delete',
        { type: 'space', name: del.dataset.name, organization: del.dataset.owner });
      if (answer(r, 'Deleted')) location.assign('/');
    });
  }
}

function newSpace() {
  const f = $('#create');
  if (!f) return;
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = formJSON(f);
    const r = await api('POST', '/api/repos/create',
      { type: 'space', name: v.name, organization: v.organization, sdk: v.sdk, private: v.visibility === 'private' });
    if (!answer(r, 'Created ' + v.organization + '/' + v.name)) return;
    const url = f.dataset.hub + '/spaces/' + v.organization + '/' + v.name;
    $('#commands').textContent = [
      'cd my-app            # your app\'s directory',
      'git init -b main',
      'git remote add podium ' + url,
      'git add -A && git commit -m "first version"',
      'git push podium main   # user: ' + v.organization + ', password: a write token',
    ].join('\n');
    $('#open').href = '/spaces/' + v.organization + '/' + v.name;
    $('#next').hidden = false;
  });
}

function tokens() {
  const f = $('#newtoken');
  if (!f) return;
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await api('POST', '/api/settings/tokens', formJSON(f));
    if (!answer(r, 'Created token ' + (r.data && r.data.name))) return;
    $('#newvalue').textContent = r.data.token;
    $('#shown').hidden = false;
    f.reset();
    loadList($('#tokens'));
  });
}

async function admin() {
  const dl = $('#health');
  if (!dl) return;
  const r = await api('GET', '/api/health');
  if (r.ok) {
    const res = r.data.resources || {};
    const rows = [['Status', r.data.status]];
    for (const [k, v] of Object.entries(res)) rows.push([k, typeof v === 'object' ? JSON.stringify(v) : v]);
    dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }
  const add = $('#adduser');
  add.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (answer(await api('POST', '/api/admin/users', formJSON(add)), 'User added')) {
      add.reset();
      loadList($('#users'));
    }
  });
}

lists();
startLogs();
liveStage();
settings();
newSpace();
tokens();
admin();
for (const t of $$('table[data-list]')) loadList(t);
