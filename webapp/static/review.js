// Lookalike review: keyboard triage and in-place decisions (progressive enhancement: every action
// also works as a plain form or link without this script). No inline script anywhere: CSP forbids it.
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : null;
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tr.row"));
  var matchEl = document.getElementById("match");
  var chooser = document.getElementById("dismiss-chooser");
  var help = document.getElementById("help");
  var current = 0;
  var pendingDismiss = null;

  function toast(text) {
    var el = document.getElementById("toast");
    if (!el) return;
    el.textContent = text;
    el.classList.add("shown");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.classList.remove("shown"); }, 2500);
  }

  function select(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (r, i) { r.classList.toggle("current", i === current); });
    rows[current].scrollIntoView({ block: "nearest" });
  }

  function post(url, fields) {
    var body = new URLSearchParams(fields || {});
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf || "" }
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
        return data;
      });
    });
  }

  function showStatus(id, status) {
    rows.forEach(function (r) {
      if (r.dataset.id === String(id)) {
        r.className = r.className.replace(/status-\S+/, "status-" + status);
        r.classList.add("decided");
        var cell = r.querySelector(".status");
        if (cell) cell.textContent = status;
      }
    });
    if (matchEl && matchEl.dataset.id === String(id)) {
      var el = document.getElementById("status");
      if (el) el.textContent = status;
    }
  }

  function currentId() {
    if (matchEl) return matchEl.dataset.id;
    return rows.length ? rows[current].dataset.id : null;
  }

  function decide(action, reason, note) {
    var id = currentId();
    if (!id || !csrf) return;
    var fields = { action: action };
    if (reason) fields.reason = reason;
    if (note) fields.note = note;
    // The next row is already on the page: move on at once, the answer only updates the decided row.
    if (!matchEl) select(current + 1);
    post("/matches/" + id + "/decide", fields).then(function (data) {
      data.done.forEach(function (d) { showStatus(d.id, d.status); });
      toast(data.done.length ? ("match " + id + ": " + action + "ed") : "no change (already there, or not allowed)");
      if (matchEl) window.location.assign(matchEl.dataset.next);
    }).catch(function (err) { toast("match " + id + ": " + err.message); });
  }

  function undo() {
    if (!csrf) return;
    post("/undo", {}).then(function (data) {
      data.done.forEach(function (d) { showStatus(d.id, d.status); });
      toast("undone: " + data.done.length + " match(es)");
      if (!matchEl && data.done.length) {
        rows.forEach(function (r, i) { if (r.dataset.id === String(data.done[0].id)) select(i); });
      }
    }).catch(function (err) { toast(err.message); });
  }

  function openListing() {
    var url = matchEl ? matchEl.dataset.url : (rows.length ? rows[current].dataset.url : null);
    if (url && /^https?:\/\//i.test(url)) window.open(url, "_blank", "noopener,noreferrer");
  }

  function openChooser() {
    if (!chooser) return;
    pendingDismiss = currentId();
    chooser.hidden = false;
    var note = document.getElementById("dismiss-note");
    if (note) note.value = "";
  }

  function closeChooser() { if (chooser) chooser.hidden = true; pendingDismiss = null; }

  function chooserKey(event) {
    if (event.key === "Escape") { closeChooser(); return true; }
    var n = parseInt(event.key, 10);
    var items = chooser.querySelectorAll("li[data-reason]");
    if (n >= 1 && n <= items.length) {
      var note = document.getElementById("dismiss-note");
      var reason = items[n - 1].dataset.reason;
      closeChooser();
      decide("dismiss", reason, note ? note.value : "");
      return true;
    }
    return false;
  }

  if (chooser) {
    chooser.addEventListener("click", function (event) {
      var li = event.target.closest("li[data-reason]");
      if (!li) return;
      var note = document.getElementById("dismiss-note");
      closeChooser();
      decide("dismiss", li.dataset.reason, note ? note.value : "");
    });
  }
  document.querySelectorAll("[data-help]").forEach(function (b) {
    b.addEventListener("click", function () { if (help) help.hidden = !help.hidden; });
  });
  rows.forEach(function (r, i) { r.addEventListener("click", function (e) {
    if (e.target.tagName !== "A" && e.target.tagName !== "INPUT") select(i);
  }); });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (chooser && !chooser.hidden) {
      if (event.target.id === "dismiss-note" && !/^[1-9]$/.test(event.key) && event.key !== "Escape") return;
      if (chooserKey(event)) event.preventDefault();
      return;
    }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") return;
    var handled = true;
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "c": decide("confirm"); break;
      case "d": openChooser(); break;
      case "o": openListing(); break;
      case "u": undo(); break;
      case "x":
        if (rows.length) { var box = rows[current].querySelector('input[type="checkbox"]'); if (box) box.checked = !box.checked; }
        break;
      case "Enter": if (rows.length) window.location.assign(rows[current].dataset.href); break;
      case "?": if (help) help.hidden = !help.hidden; break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });
  if (rows.length) select(0);
})();
