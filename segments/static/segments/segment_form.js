// Show only the fieldset of the chosen segment type. Without JavaScript every
// fieldset stays visible and the server ignores the ones of other types.
(function () {
  "use strict";
  var form = document.querySelector("form.segment-form");
  if (!form) return;
  function chosenType() {
    var checked = form.querySelector('input[name="type"]:checked');
    return checked ? checked.value : "";
  }
  function update() {
    var type = chosenType();
    form.querySelectorAll("[data-segment-type]").forEach(function (fieldset) {
      fieldset.hidden = type !== "" && fieldset.getAttribute("data-segment-type") !== type;
    });
  }
  form.querySelectorAll('input[name="type"]').forEach(function (radio) {
    radio.addEventListener("change", update);
  });
  update();
})();
