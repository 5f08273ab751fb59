/* A filter box above long <select data-filterable> lists (segments, templates).
 * Typing hides the options that do not contain every typed word; the select stays
 * a plain, keyboard-usable <select>. */
(function () {
  "use strict";
  var MANY = 10;

  function attach(select) {
    if (select.options.length <= MANY) return;
    var input = document.createElement("input");
    input.type = "search";
    input.className = "form-control form-control-sm mb-1 select-filter";
    input.id = select.id + "-filter";
    input.placeholder = "Type to filter";
    input.setAttribute("aria-controls", select.id);
    var label = document.querySelector("label[for='" + select.id + "']");
    input.setAttribute("aria-label", "Filter " + (label ? label.textContent.trim() : "options"));
    select.parentNode.insertBefore(input, select);
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var text = option.textContent.toLowerCase();
        var keep = !option.value || words.every(function (w) { return text.indexOf(w) >= 0; });
        option.hidden = !keep;
        if (keep && option.value && !first) first = option;
      });
      var chosen = select.options[select.selectedIndex];
      if (first && (!chosen || chosen.hidden || !chosen.value)) select.value = first.value;
    });
  }

  document.querySelectorAll("select[data-filterable]").forEach(attach);
})();
