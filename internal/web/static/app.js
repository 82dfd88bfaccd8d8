// wagate's UI script: live updates over server-sent events, copy buttons. No inline scripts anywhere (the
// Content-Security-Policy forbids them); pages mark what they want refreshed with data attributes:
//   data-live-any                  refresh (htmx trigger "live") on any change
//   data-live-conversation="ID"    refresh on changes to conversation ID
//   data-copy="#selector"          a button copying the selected input's value or element's text
(function () {
  "use strict";
  var pending = new Set();
  var timer = null;

  function fire(el) { if (window.htmx) { window.htmx.trigger(el, "live"); } }

  function flush() {
    timer = null;
    pending.forEach(fire);
    pending.clear();
  }

  // Refreshes are coalesced: a burst of receipts redraws a list once.
  function schedule(el) {
    pending.add(el);
    if (!timer) { timer = setTimeout(flush, 150); }
  }

  function apply(change) {
    document.querySelectorAll("[data-live-any]").forEach(schedule);
    document.querySelectorAll("[data-live-conversation]").forEach(function (el) {
      if (change.k === "reset" || el.getAttribute("data-live-conversation") === change.c) { schedule(el); }
    });
    document.dispatchEvent(new CustomEvent("wagate:change", { detail: change }));
  }

  function connect() {
    var url = document.body && document.body.getAttribute("data-live");
    if (!url || !window.EventSource) { return; }
    var es = new EventSource(url);
    var wasOpen = false;
    es.addEventListener("open", function () {
      document.body.setAttribute("data-live-state", "open");
      if (wasOpen) { apply({ k: "reset" }); } // changes may have been missed while reconnecting
      wasOpen = true;
    });
    es.addEventListener("error", function () { document.body.setAttribute("data-live-state", "reconnecting"); });
    es.addEventListener("change", function (e) {
      try { apply(JSON.parse(e.data)); } catch (err) { apply({ k: "reset" }); }
    });
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy]");
    if (!btn) { return; }
    var src = document.querySelector(btn.getAttribute("data-copy"));
    if (!src) { return; }
    var text = src.value !== undefined ? src.value : src.textContent;
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(function () { btn.setAttribute("data-copied", "1"); });
    } else if (src.select) {
      src.select();
      document.execCommand("copy");
      btn.setAttribute("data-copied", "1");
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }

  // ---- inbox: Enter sends the composer, Shift+Enter starts a new line ----
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || !t.matches || !t.matches("textarea[data-enter-sends]")) { return; }
    e.preventDefault();
    if (t.form && t.form.requestSubmit) { t.form.requestSubmit(); }
  });
})();
