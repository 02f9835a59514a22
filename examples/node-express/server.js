// An Express app as podium runs it: listen on $PORT, on any address.
const express = require("express");

const app = express();
const started = new Date().toISOString();

app.get("/", (req, res) => {
  res.type("html").send(`<!doctype html><title>Express on podium</title>
<h1>Hello from Express</h1>
<p>Space ${process.env.SPACE_ID || "?"}, up since ${started}.</p>`);
});

app.get("/api/hello", (req, res) => {
  res.json({ hello: req.query.name || "world", space: process.env.SPACE_ID });
});

app.listen(Number(process.env.PORT || 7860), "0.0.0.0", () => {
  console.log(`express listening on ${process.env.PORT}`);
});
