// Tiny bit of behaviour so the page is more than a poster: a clock and a
// counter kept in localStorage.
(function () {
  "use strict";

  var clock = document.getElementById("clock");
  var host = document.getElementById("host");
  var out = document.getElementById("count");
  var key = "podium-hello-count";
  // In a cross-site iframe (the hub's space page) the browser may deny storage:
  // reading window.localStorage itself throws then. The counter just is not kept.
  var store = null;
  try {
    store = window.localStorage;
    store.getItem(key);
  } catch (e) {
    store = null;
  }
  var count = parseInt((store && store.getItem(key)) || "0", 10) || 0;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var d = new Date();
    clock.textContent = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function show() {
    out.textContent = String(count);
    if (store) store.setItem(key, String(count));
  }

  document.getElementById("plus").addEventListener("click", function () { count += 1; show(); });
  document.getElementById("minus").addEventListener("click", function () { count -= 1; show(); });
  document.getElementById("year").textContent = String(new Date().getFullYear());
  host.textContent = window.location.host;

  tick();
  show();
  window.setInterval(tick, 1000);
})();
