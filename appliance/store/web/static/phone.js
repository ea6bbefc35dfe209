// The citizen's ticket page follows the queue: server-sent events, or a poll every 5 s
// when the event stream cannot be kept (an old browser, a proxy, too many streams).
(function () {
  "use strict";
  var box = document.getElementById("ticket");
  var base = box && box.dataset.base;
  if (!base) return;
  var $ = function (id) { return document.getElementById(id); };
  var timer = null;
  var source = null;

  function show(v) {
    box.dataset.kind = v.kind;
    $("number").textContent = v.number;
    $("service").textContent = v.service_name || "";
    var head = $("headline");
    head.textContent = v.headline;
    head.className = "huge" + (v.kind === "called" ? " called" : (v.final ? " gone" : ""));
    $("facts").hidden = v.kind !== "waiting";
    $("ahead").textContent = v.ahead === undefined ? "" : v.ahead;
    $("wait").textContent = v.wait || "";
    $("detail").textContent = v.detail || "";
    var names = v.counters || [];
    $("counters").hidden = names.length === 0;
    $("counter-list").textContent = names.join(", ");
    $("stale").hidden = true;
    if (v.kind === "called" && navigator.vibrate) navigator.vibrate([300, 150, 300]);
    if (v.final) stop();
  }

  function stop() {
    if (source) { source.close(); source = null; }
    if (timer) { clearInterval(timer); timer = null; }
  }

  function poll() {
    fetch(base + "/status", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(show)
      .catch(function () { $("stale").hidden = false; });
  }

  function startPolling() {
    if (timer) return;
    timer = setInterval(poll, 5000);
    poll();
  }

  if (window.EventSource) {
    source = new EventSource(base + "/events");
    source.onmessage = function (e) { show(JSON.parse(e.data)); };
    source.onerror = function () {
      // the browser reconnects by itself; if the stream was refused, poll instead
      if (source && source.readyState === EventSource.CLOSED) { source = null; startPolling(); }
      else { $("stale").hidden = false; }
    };
  } else {
    startPolling();
  }
})();
