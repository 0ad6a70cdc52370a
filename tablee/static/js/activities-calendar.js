// The calendar page: copy the secret address of the iCal feed, and say so to screen readers.
(function () {
  "use strict";
  var status = document.querySelector("[data-copy-status]");
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy-target"));
      if (!field) {
        return;
      }
      var done = function () {
        if (status) {
          status.textContent = button.getAttribute("data-copied-label");
        }
        button.textContent = button.getAttribute("data-copied-label");
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          field.select();
        });
      } else {
        field.select();
      }
    });
  });
})();
