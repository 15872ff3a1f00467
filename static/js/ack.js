// One-click acknowledge (templates/paging/ack.html). The link in a page only shows the incident:
// mail scanners fetch links without running scripts, and must never acknowledge. A person's
// browser runs this and submits the "Acknowledge as …" form at once, so for them it is one click.
(function () {
  "use strict";
  var form = document.querySelector("form[data-auto-submit]");
  if (!form) return;
  var button = form.querySelector("button");
  if (button) {
    button.disabled = true;
    button.textContent = "Acknowledging…";
  }
  form.submit();
})();
