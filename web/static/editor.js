/* The writers' editor: live preview, the background index's progress, and jumping to an error's line. */
(function () {
  "use strict";
  var token = document.querySelector("input[name=csrf_token]");

  function preview() {
    var body = document.getElementById("body");
    var out = document.getElementById("preview");
    if (!body || !out) return;
    var timer = null, sent = null;
    function refresh() {
      if (body.value === sent) return;
      sent = body.value;
      fetch(body.dataset.previewUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token ? token.value : ""},
        body: JSON.stringify({body: sent})
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (data) out.innerHTML = data.html;  /* sanitised by the server, as on the article page */
      }).catch(function () {});
    }
    body.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 500); });
    refresh();
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] == null ? "" : values[k]; });
  }

  function indexStatus() {
    var box = document.getElementById("index-status");
    if (!box || !box.dataset.ticketUrl) return;
    box.hidden = false;
    function poll() {
      fetch(box.dataset.ticketUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.state === "done") {
            var when = new Date(s.searchable_since);
            box.textContent = fill(box.dataset.done, {time: when.toLocaleTimeString()});
            box.classList.add("e-index-done");
            box.dataset.state = "done";
            return;
          }
          if (s.state === "failed") {
            box.textContent = fill(box.dataset.failed, {error: s.error});
            box.classList.add("notice-error");
            box.dataset.state = "failed";
            return;
          }
          if (s.state === "unknown") { box.hidden = true; return; }
          box.textContent = s.stage === "embed" && s.total ? fill(box.dataset.progress, {done: s.done, total: s.total})
            : (s.state === "indexing" ? box.dataset.indexing : box.dataset.queued);
          setTimeout(poll, 500);
        }).catch(function () { setTimeout(poll, 2000); });
    }
    poll();
  }

  function gotoLine() {
    document.addEventListener("click", function (e) {
      var a = e.target.closest("a.e-goto");
      if (!a) return;
      var area = document.getElementById("body") || document.getElementById("text");
      if (!area) return;
      e.preventDefault();
      var lines = area.value.split("\n"), n = parseInt(a.dataset.line, 10) - 1, start = 0;
      for (var i = 0; i < n && i < lines.length; i++) start += lines[i].length + 1;
      area.focus();
      area.setSelectionRange(start, start + (lines[n] || "").length);
      var lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
      area.scrollTop = Math.max(0, (n - 3) * lineHeight);
    });
  }

  function guardUnsaved() {
    var form = document.getElementById("editor-form");
    if (!form) return;
    var dirty = false;
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
  }

  preview();
  indexStatus();
  gotoLine();
  guardUnsaved();
})();
