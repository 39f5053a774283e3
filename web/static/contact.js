/* Contact form: articles matching the subject appear as the customer types (web/contact.py `suggest`).
   Without this script the form still works: the server shows its suggestions before sending. */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }
  /* The draft survives opening a suggestion and pressing Back: the subject's autocomplete="off" (kept so the
     browser's own list does not cover the suggestions) also stops the browser restoring it, and a page that is
     not kept in the back/forward cache comes back empty. The draft lives in this tab's sessionStorage only,
     and is dropped when the form is sent. */
  var FIELDS = ["subject", "message", "name", "email"];
  function keepDraft(form) {
    var key = "kb-contact-draft:" + location.pathname;
    var store;
    try { store = window.sessionStorage; } catch (e) { return; }
    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    if (saved) {
      FIELDS.forEach(function (name) {
        var el = form.elements[name];
        if (el && !el.value && saved[name]) el.value = saved[name];
      });
    }
    form.addEventListener("input", function () {
      var draft = {};
      FIELDS.forEach(function (name) { var el = form.elements[name]; if (el) draft[name] = el.value; });
      try { store.setItem(key, JSON.stringify(draft)); } catch (e) { /* full or disabled: nothing kept */ }
    });
    form.addEventListener("submit", function () { try { store.removeItem(key); } catch (e) {} });
  }

  ready(function () {
    var form = document.querySelector("form.contact-form");
    if (form) keepDraft(form);
    var input = document.getElementById("subject");
    var box = document.getElementById("suggestions");
    var seen = document.getElementById("suggested");
    if (!input || !box || !input.getAttribute("data-suggest")) return;
    var endpoint = input.getAttribute("data-suggest");
    var timer = null, last = null, pending = null;

    function render(items) {
      box.textContent = "";
      box.classList.toggle("is-empty", items.length === 0);
      if (!items.length) return;
      var h = document.createElement("h2");
      h.textContent = box.getAttribute("data-heading");
      var ul = document.createElement("ul");
      ul.className = "article-list";
      items.forEach(function (s) {
        var li = document.createElement("li");
        li.className = "article-item";
        var a = document.createElement("a");
        a.href = s.url;
        a.lang = s.lang;
        a.textContent = s.title;
        li.appendChild(a);
        ul.appendChild(li);
      });
      box.appendChild(h);
      box.appendChild(ul);
      seen.value = "1";  /* the customer saw suggestions: the server need not show them again */
    }

    function lookup() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 3) { render([]); return; }
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(endpoint + "&q=" + encodeURIComponent(q), {signal: pending.signal, headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : {suggestions: []}; })
        .then(function (data) { if (q === input.value.trim()) render(data.suggestions || []); })
        .catch(function () {});
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 250);
    });
    if (input.value.trim()) lookup();
  });
})();
