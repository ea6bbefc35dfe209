// The officer's counter screen: follows the hub through server-sent events (or a poll every
// 3 s), sends the keypad's actions with the page's CSRF token and a click id (a retried
// click is done once by the hub), and counts the minutes shown as time passes.
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) return;
  var cid = root.dataset.cid, csrf = root.dataset.csrf;
  var $ = function (id) { return document.getElementById(id); };
  var received = Date.now();

  function minutes(s) {
    if (s === "" || s === null || s === undefined) return "";
    var total = Number(s) + Math.floor((Date.now() - received) / 1000);
    var m = Math.floor(total / 60);
    return m < 1 ? "dưới 1 phút" : m + " phút";
  }
  function text(el, t) { el.textContent = t === undefined || t === null ? "" : String(t); }

  function tick() {
    var since = $("since");
    since.textContent = since.dataset.s !== "" ? "Từ " + minutes(since.dataset.s) + " trước" : "";
    document.querySelectorAll("#services td[data-s]").forEach(function (td) {
      td.textContent = minutes(td.dataset.s);
    });
    var avg = $("mine-avg");
    avg.textContent = avg.dataset.s !== "" ? Math.round(Number(avg.dataset.s) / 60 * 10) / 10 + " phút/lượt" : "";
  }

  function show(v) {
    received = Date.now();
    var msg = $("message");
    if (!v.ok) { msg.hidden = false; text(msg, v.message); return; }
    msg.hidden = true;
    text($("state-line"), v.counter.open ? "Đang mở" : "Đang đóng");
    text($("serving"), v.counter.serving || "—");
    $("since").dataset.s = v.serving_for_s === null ? "" : v.serving_for_s;
    var rows = $("services");
    rows.textContent = "";
    v.services.forEach(function (s) {
      var tr = document.createElement("tr");
      [s.name, s.waiting, s.priority].forEach(function (x) {
        var td = document.createElement("td"); text(td, x); tr.appendChild(td);
      });
      var td = document.createElement("td");
      td.dataset.s = s.longest_wait_s === null ? "" : s.longest_wait_s;
      tr.appendChild(td);
      rows.appendChild(tr);
    });
    var parked = $("parked");
    parked.textContent = "";
    v.parked.forEach(function (t) {
      var li = document.createElement("li");
      var b = document.createElement("b"); text(b, t.number); li.appendChild(b);
      li.appendChild(document.createTextNode(" " + t.service_name + " "));
      var btn = document.createElement("button");
      btn.type = "button"; btn.dataset.action = "resume"; btn.dataset.number = t.number;
      btn.textContent = "Phục vụ tiếp";
      li.appendChild(btn);
      parked.appendChild(li);
    });
    var sel = document.querySelector("#transfer-form select");
    var chosen = sel.value;
    sel.textContent = "";
    v.transfer_to.forEach(function (s) {
      var o = document.createElement("option"); o.value = s.id; o.textContent = s.name;
      if (s.id === chosen) o.selected = true;
      sel.appendChild(o);
    });
    var mine = v.today.officer || {};
    text($("mine-served"), mine.served);
    text($("mine-no-show"), mine.no_show);
    $("mine-avg").dataset.s = mine.avg_service_s === null || mine.avg_service_s === undefined ? "" : mine.avg_service_s;
    text($("counter-served"), v.today.counter.served);
    tick();
  }

  function clickId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function act(action, fields) {
    var body = new FormData();
    body.append("csrf", csrf);
    body.append("action", action);
    body.append("click", clickId());
    Object.keys(fields || {}).forEach(function (k) { body.append(k, fields[k]); });
    root.classList.add("busy");
    return fetch("/quay/" + cid + "/act", { method: "POST", body: body,
                                            headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (r) {
        if (r.view) show(r.view);
        if (!r.ok) { var m = $("message"); m.hidden = false; text(m, r.message || (r.error && r.error.message)); }
      })
      .catch(function () { var m = $("message"); m.hidden = false; text(m, "Không gửi được; hãy thử lại."); })
      .finally(function () { root.classList.remove("busy"); });
  }

  root.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-action]");
    if (!b || b.type === "submit") return;
    act(b.dataset.action, b.dataset.number ? { number: b.dataset.number } : {});
  });
  $("call-form").addEventListener("submit", function (e) {
    e.preventDefault();
    act("call", { number: e.target.number.value });
  });
  $("transfer-form").addEventListener("submit", function (e) {
    e.preventDefault();
    act("transfer", { to_service: e.target.to_service.value });
  });

  var timer = null;
  function poll() {
    fetch("/quay/" + cid + "/state", { cache: "no-store" })
      .then(function (r) { return r.json(); }).then(show).catch(function () {});
  }
  if (window.EventSource) {
    var source = new EventSource("/quay/" + cid + "/events");
    source.onmessage = function (e) { show(JSON.parse(e.data)); };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED && !timer) timer = setInterval(poll, 3000);
    };
  } else {
    timer = setInterval(poll, 3000);
  }
  setInterval(tick, 15000);
  tick();
})();
