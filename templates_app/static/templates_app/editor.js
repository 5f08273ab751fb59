/* Template editor: line numbers beside the message, and a live preview that
   re-renders (debounced) as the marketer types. No inline scripts (CSP). */
(function () {
  "use strict";
  var root = document.getElementById("template-editor");
  if (!root) return;
  var form = document.getElementById("template-form");
  var message = form.elements.message;
  var gutter = root.querySelector(".code-gutter");
  var previewForm = document.getElementById("preview-form");
  var sampleKey = document.getElementById("sample-key");
  var DELAY = 400;
  var timer = null;
  var lastPayload = null;
  var checks = 0;  // answers to older checks may arrive late: only the newest counts

  function errorLines() {
    var lines = {};
    root.querySelectorAll(".field-error, #preview-errors li").forEach(function (el) {
      var match = /(?:^|message: )[Ll]ine (\d+)/.exec(el.textContent);
      if (match) lines[match[1]] = true;
    });
    return lines;
  }

  function renderGutter() {
    var count = message.value.split("\n").length;
    var marked = errorLines();
    var parts = [];
    for (var i = 1; i <= count; i++) {
      parts.push(marked[i] ? '<span class="error-line">' + i + "</span>" : String(i));
    }
    gutter.innerHTML = parts.join("\n");
    gutter.scrollTop = message.scrollTop;
  }

  function field(name) { return form.elements[name].value; }

  function schedule() {
    renderGutter();
    clearTimeout(timer);
    timer = setTimeout(refresh, DELAY);
  }

  function refresh() {
    var payload = JSON.stringify([field("type"), field("subject"), field("message"), sampleKey.value]);
    if (payload === lastPayload) return;
    lastPayload = payload;
    ["type", "subject", "message"].forEach(function (name) {
      previewForm.elements[name].value = field(name);
    });
    previewForm.elements.customer.value = sampleKey.value;
    previewForm.submit();
    check();
  }

  function check() {
    var data = new FormData(previewForm);
    var number = ++checks;
    fetch(root.dataset.checkUrl, { method: "POST", body: data, credentials: "same-origin",
                                   headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) { if (result && number === checks) showCheck(result); })
      .catch(function () { /* the frame still shows the preview */ });
  }

  function showCheck(result) {
    document.getElementById("preview-subject").textContent = result.subject;
    var errors = document.getElementById("preview-errors");
    var list = errors.querySelector("ul");
    list.replaceChildren.apply(list, result.errors.map(function (text) { return item(text); }));
    errors.classList.toggle("d-none", result.errors.length === 0);
    var variables = document.getElementById("preview-variables");
    var rows = result.variables.map(function (v) {
      var li = document.createElement("li");
      var code = document.createElement("code");
      code.textContent = v.name;
      li.appendChild(code);
      if (v.missing) {
        var badge = document.createElement("span");
        badge.className = "badge text-bg-warning ms-1";
        badge.textContent = "no value for this customer";
        li.appendChild(badge);
      }
      return li;
    });
    if (!rows.length) rows = [item("No variables.", "text-muted")];
    variables.replaceChildren.apply(variables, rows);
    document.getElementById("sample-label").textContent = result.sample;
    renderGutter();
  }

  function item(text, className) {
    var li = document.createElement("li");
    li.textContent = text;
    if (className) li.className = className;
    return li;
  }

  function findSamples(input) {
    var results = document.getElementById("sample-results");
    var q = input.value.trim();
    if (!q) { results.replaceChildren(); return; }
    fetch(root.dataset.samplesUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var rows = data.customers.map(function (customer) {
          var li = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          button.className = "btn btn-link btn-sm p-0";
          button.textContent = customer.label;
          button.addEventListener("click", function () {
            sampleKey.value = String(customer.id);
            results.replaceChildren();
            input.value = "";
            refresh();
          });
          li.appendChild(button);
          return li;
        });
        if (!rows.length) rows = [item("No customer matches.", "text-muted")];
        results.replaceChildren.apply(results, rows);
      })
      .catch(function () { results.replaceChildren(item("Search failed; reload the page.")); });
  }

  message.addEventListener("keydown", function (event) {
    if (event.key !== "Tab" || event.shiftKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();  // Tab indents; Esc then Tab leaves the editor
    document.execCommand("insertText", false, "  ");
  });
  message.addEventListener("keydown", function (event) {
    if (event.key === "Escape") message.blur();
  });
  message.addEventListener("scroll", function () { gutter.scrollTop = message.scrollTop; });
  ["name", "type", "subject", "message"].forEach(function (name) {
    form.elements[name].addEventListener("input", schedule);
  });
  function showSubjectForEmail() {  // WhatsApp messages have no subject
    document.getElementById("subject-row").classList.toggle("d-none", field("type") === "whatsapp");
  }
  form.elements.type.addEventListener("change", showSubjectForEmail);
  showSubjectForEmail();
  var search = document.getElementById("sample-search");
  var searchTimer = null;
  search.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { findSamples(search); }, 250);
  });
  renderGutter();
  refresh();
})();
