// The official @huggingface/hub client, unchanged, against a real podium daemon
// (issue 15). Run by tests/integration/test_hubjs.py with PODIUM_PORT and
// PODIUM_TOKEN set; prints one "ok NAME" line per call that works and exits
// non-zero at the first that does not. Written for Node 18 (Debian 12).
import assert from "node:assert/strict";
import http from "node:http";
import {
  commit,
  countCommits,
  createRepo,
  deleteFile,
  deleteRepo,
  downloadFile,
  fileExists,
  listCommits,
  listFiles,
  listSpaces,
  repoExists,
  spaceInfo,
  uploadFile,
  uploadFiles,
  whoAmI,
} from "@huggingface/hub";

const port = Number(process.env.PODIUM_PORT);
const accessToken = process.env.PODIUM_TOKEN;
const hubUrl = `http://127.0.0.1:${port}`;
const name = process.env.PODIUM_SPACE || "hubjs";
const repo = { type: "space", name: `admin/${name}` };
const privRepo = { type: "space", name: `admin/${name}-private` };
const creds = { accessToken, hubUrl };
const binary = new Uint8Array(4096).map((_, i) => (i * 7) % 256);

function ok(what) {
  console.log(`ok ${what}`);
}

// The app through the proxy: its host is OWNER-NAME.localhost (node's fetch will
// not send a Host header of our choosing, node:http will).
function getApp(path) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path, headers: { Host: `admin-${name}.localhost:${port}` } },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function waitApp(path, text) {
  const deadline = Date.now() + 120000;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await getApp(path);
      if (last.status === 200 && last.body.includes(text)) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`app never served ${JSON.stringify(text)} at ${path}; last ${JSON.stringify(last)}`);
}

async function collect(iter) {
  const out = [];
  for await (const x of iter) out.push(x);
  return out;
}

const me = await whoAmI(creds);
assert.equal(me.name, "admin");
assert.equal(me.type, "user");
ok("whoAmI");

const created = await createRepo({
  ...creds,
  repo,
  sdk: "static",
  private: false,
  files: [{ path: "index.html", content: new Blob(["<h1>hello from hubjs</h1>"]) }],
});
// on the host the client called (its hubUrl), as the Hub answers
assert.equal(created.repoUrl, `${hubUrl}/spaces/${repo.name}`);
assert.match(created.id, /^[0-9a-f]{24}$/);
ok("createRepo (space, sdk, private, files)");

assert.equal(await repoExists({ ...creds, repo }), true);
assert.equal(await repoExists({ ...creds, repo: { type: "space", name: "admin/does-not-exist" } }), false);
ok("repoExists");

await waitApp("/", "hello from hubjs");
ok("the app created with files is live");

const spaces = await collect(listSpaces(creds));
const listed = spaces.find((s) => s.name === repo.name);
assert.ok(listed, `${repo.name} not in listSpaces`);
assert.equal(listed.sdk, "static");
assert.equal(listed.private, false);
assert.match(listed.id, /^[0-9a-f]{24}$/);
assert.ok(!Number.isNaN(listed.updatedAt.getTime()), "lastModified is a date");
ok("listSpaces (with lastModified)");

const info = await spaceInfo({ ...creds, name: repo.name });
assert.equal(info.name, repo.name);
assert.equal(info.id, created.id);
assert.equal(info.sdk, "static");
ok("spaceInfo");

const up = await uploadFiles({
  ...creds,
  repo,
  files: [
    { path: "index.html", content: new Blob(["<h1>second version</h1>"]) },
    { path: "data/bin.dat", content: new Blob([binary]) },
    { path: "data/tmp.txt", content: new Blob(["to be deleted"]) },
  ],
});
assert.match(up.commit.oid, /^[0-9a-f]{40}$/);
ok("uploadFiles");

const del = await commit({
  ...creds,
  repo,
  title: "delete tmp.txt",
  operations: [{ operation: "delete", path: "data/tmp.txt" }],
});
assert.match(del.commit.oid, /^[0-9a-f]{40}$/);
ok("commit (delete)");

await waitApp("/", "second version");
ok("the uploaded version is live");

const files = await collect(listFiles({ ...creds, repo, recursive: true }));
const paths = files.map((f) => f.path).sort();
assert.deepEqual(paths, ["data", "data/bin.dat", "index.html"]);
assert.equal(files.find((f) => f.path === "data/bin.dat").size, binary.length);
assert.equal(files.find((f) => f.path === "data").type, "directory");
ok("listFiles");

const commits = await collect(listCommits({ ...creds, repo }));
assert.equal(commits.length, 3);
assert.equal(commits[0].oid, del.commit.oid);
assert.equal(commits[0].title, "delete tmp.txt");
assert.equal(commits[0].authors[0].username, "admin");
ok("listCommits");

assert.equal(await fileExists({ ...creds, repo, path: "data/bin.dat" }), true);
assert.equal(await fileExists({ ...creds, repo, path: "data/tmp.txt" }), false);
ok("fileExists");

const blob = await downloadFile({ ...creds, repo, path: "data/bin.dat" });
assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), binary);
const text = await downloadFile({ ...creds, repo, path: "index.html", raw: true });
assert.equal(await text.text(), "<h1>second version</h1>");
assert.equal(await downloadFile({ ...creds, repo, path: "nope.txt" }), null);
ok("downloadFile");

await uploadFile({ ...creds, repo, file: { path: "extra.txt", content: new Blob(["x"]) } });
assert.equal(await fileExists({ ...creds, repo, path: "extra.txt" }), true);
await deleteFile({ ...creds, repo, path: "extra.txt" });
assert.equal(await fileExists({ ...creds, repo, path: "extra.txt" }), false);
assert.equal(await countCommits({ ...creds, repo }), 5);
ok("uploadFile, deleteFile, countCommits");

await createRepo({ ...creds, repo: privRepo, sdk: "static", private: true });
assert.equal((await spaceInfo({ ...creds, name: privRepo.name, additionalFields: ["private"] })).private, true);
assert.equal(await repoExists({ hubUrl, repo: privRepo }), false, "anonymous callers do not see it");
ok("createRepo private");

await deleteRepo({ ...creds, repo });
await deleteRepo({ ...creds, repo: privRepo });
assert.equal(await repoExists({ ...creds, repo }), false);
ok("deleteRepo");
console.log("all ok");
