// The print button is shown only where it works (with JavaScript); without it the page says to
// use the browser's own Print command, and the print stylesheet keeps only what matters.
(function () {
  "use strict";
  document.querySelectorAll(".print-button").forEach(function (button) {
    button.hidden = false;
    var hint = button.parentNode.querySelector(".print-hint");
    if (hint) { hint.hidden = true; }
    button.addEventListener("click", function () { window.print(); });
  });
})();
