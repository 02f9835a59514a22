// Tiny bit of behaviour so the page is more than a poster: a clock and a
// counter kept in localStorage.
(function () {
  "use strict";

  var clock = document.getElementById("clock");
  var host = document.getElementById("host");
  var out = document.getElementById("count");
  var key = "podium-hello-count";
  var count = parseInt(window.localStorage.getItem(key) || "0", 10) || 0;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var d = new Date();
    clock.textContent = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function show() {
    out.textContent = String(count);
    window.localStorage.setItem(key, String(count));
  }

  document.getElementById("plus").addEventListener("click", function () { count += 1; show(); });
  document.getElementById("minus").addEventListener("click", function () { count -= 1; show(); });
  document.getElementById("year").textContent = String(new Date().getFullYear());
  host.textContent = window.location.host;

  tick();
  show();
  window.setInterval(tick, 1000);
})();
