/* polykb: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  /* Search suggestions as the visitor types: titles of public articles only. */
  function autocomplete(input) {
    var endpoint = input.getAttribute("data-autocomplete");
    var lang = input.getAttribute("data-lang") || "";
    var form = input.form;
    var list = document.createElement("ul");
    var listId = "ac-" + Math.random().toString(36).slice(2);
    var timer = null, seq = 0, items = [], active = -1;
    list.className = "ac-list";
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    form.style.position = "relative";
    form.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");

    function close() { list.hidden = true; active = -1; input.setAttribute("aria-expanded", "false"); }
    function show(suggestions) {
      list.textContent = "";
      items = suggestions;
      active = -1;
      suggestions.forEach(function (s, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = listId + "-" + i;
        li.setAttribute("lang", s.lang);
        li.textContent = s.title;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); window.location.href = s.url; });
        list.appendChild(li);
      });
      list.hidden = suggestions.length === 0;
      input.setAttribute("aria-expanded", suggestions.length ? "true" : "false");
    }
    function highlight(i) {
      var lis = list.querySelectorAll("li");
      lis.forEach(function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
      active = i;
      if (i >= 0) input.setAttribute("aria-activedescendant", lis[i].id); else input.removeAttribute("aria-activedescendant");
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        var url = endpoint + "?q=" + encodeURIComponent(q) + (lang ? "&lang=" + encodeURIComponent(lang) : "");
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) { if (mine === seq && input.value.trim() === q) show(data.suggestions || []); })
          .catch(function () { close(); });
      }, 220);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) return;
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, -1)); }
      else if (e.key === "Escape") { close(); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); window.location.href = items[active].url; }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  /* Copy buttons on the agent page. */
  function toast() {
    var t = document.querySelector(".copied-toast");
    if (!t) return;
    t.hidden = false;
    clearTimeout(t._timer);
    t._timer = setTimeout(function () { t.hidden = true; }, 1600);
  }
  function copy(text, button) {
    function done() {
      button.classList.add("copied");
      button.setAttribute("data-copied", "true");
      document.documentElement.setAttribute("data-last-copied", text.length);
      window.kbLastCopied = text;
      toast();
      setTimeout(function () { button.classList.remove("copied"); }, 1600);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }
  function fallbackCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more we can do */ }
    document.body.removeChild(ta);
  }

  /* "This solved it" / "Not relevant" without leaving the page. */
  function asyncMark(form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = e.submitter || form.querySelector("button");
      var data = new FormData(form);
      if (button && button.name) data.set(button.name, button.value);
      fetch(form.action, { method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
          var note = document.createElement("span");
          note.className = "mark-done";
          note.setAttribute("role", "status");
          note.textContent = "✓ " + button.textContent;
          form.replaceChildren(note);
        })
        .catch(function () { form.submit(); });
    });
  }

  /* A "Copy" button on each code block of an article (without JavaScript the code is still selectable). */
  function codeCopyButtons(prose) {
    var label = prose.getAttribute("data-copy-label") || "Copy";
    var done = prose.getAttribute("data-copied-label") || label;
    prose.querySelectorAll("pre").forEach(function (pre) {
      var box = document.createElement("div");
      var head = document.createElement("div");
      var lang = document.createElement("span");
      var code = pre.querySelector("code");
      var match = code && /(?:^|\s)language-([\w+#.-]+)/.exec(code.className);
      box.className = "code-block";
      head.className = "code-head";
      lang.className = "code-lang";
      lang.textContent = match ? match[1] : "";
      pre.parentNode.insertBefore(box, pre);
      head.appendChild(lang);
      box.appendChild(head);
      box.appendChild(pre);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "code-copy";
      button.textContent = label;
      button.addEventListener("click", function () {
        copy(pre.innerText.replace(/\n$/, ""), button);
        button.textContent = done;
        setTimeout(function () { button.textContent = label; }, 1600);
      });
      head.appendChild(button);
    });
  }

  /* The language menu (a <details>) closes on Escape, focus back on its button, and on a click elsewhere. */
  function languageMenu(menu) {
    var summary = menu.querySelector("summary");
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) {
        var inside = menu.contains(document.activeElement);
        menu.open = false;
        if (inside) summary.focus();
      }
    });
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) menu.open = false;
    });
  }

  /* A placeholder that does not fit its box (a phone, a long language) gives way to its short form, measured in
     the input's own font, so it is never cut mid-word. */
  function fitPlaceholder(input) {
    var long = input.placeholder, short = input.getAttribute("data-short-placeholder");
    var ctx = document.createElement("canvas").getContext("2d");
    function fit() {
      var cs = getComputedStyle(input);
      var room = input.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      if (!ctx || room <= 0) return;
      ctx.font = cs.fontStyle + " " + cs.fontWeight + " " + cs.fontSize + " " + cs.fontFamily;
      input.placeholder = ctx.measureText(long).width <= room ? long : short;
    }
    fit();
    window.addEventListener("resize", fit);
  }

  ready(function () {
    document.querySelectorAll("input[data-short-placeholder]").forEach(fitPlaceholder);
    document.querySelectorAll("input[data-autocomplete]").forEach(autocomplete);
    document.querySelectorAll(".prose[data-copy-label]").forEach(codeCopyButtons);
    document.querySelectorAll("details.langmenu").forEach(languageMenu);
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () { copy(b.getAttribute("data-copy"), b); });
    });
    document.querySelectorAll("[data-copy-from]").forEach(function (b) {
      b.addEventListener("click", function () {
        // Internal text: the first click shows why not to paste it to a customer, the second copies.
        var warning = b.hasAttribute("data-confirm") && document.getElementById(b.getAttribute("data-confirm"));
        if (warning && warning.hidden) {
          warning.hidden = false;
          b.textContent = b.getAttribute("data-confirm-label");
          b.setAttribute("aria-describedby", warning.id);
          return;
        }
        var src = document.getElementById(b.getAttribute("data-copy-from"));
        if (src) copy(src.value, b);
      });
    });
    document.querySelectorAll("form[data-async]").forEach(asyncMark);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    document.querySelectorAll("textarea[data-counter]").forEach(function (ta) {
      var out = document.getElementById(ta.getAttribute("data-counter"));
      var max = parseInt(ta.getAttribute("maxlength"), 10);
      function update() { if (out) out.textContent = ta.value.length.toLocaleString() + " / " + max.toLocaleString(); }
      ta.addEventListener("input", update);
      update();
    });
  });
})();
