// Fills the strength meter beside a new-password field while the user types. The score and the
// rules the password breaks come from the server, which runs the same password validators as
// the form (with the form's names, email, tax code, phone and ID number as context), so the meter
// never calls "very strong" a password the rules refuse. Without JavaScript the form's answer
// shows the same meter.
(function () {
  "use strict";
  var CONTEXT = ["username", "first_name", "last_name", "email", "owner_email", "phone",
                 "owner_phone", "tax_code", "name", "national_id_number"];
  document.querySelectorAll("meter[data-strength-for]").forEach(function (meter) {
    var input = document.getElementById(meter.dataset.strengthFor);
    if (!input || !input.form) { return; }
    var form = input.form;
    var label = meter.parentNode.querySelector(".strength-label");
    var problems = meter.parentNode.parentNode.querySelector(".strength-problems");
    var showProblems = function (list) {
      if (!problems) { return; }
      problems.textContent = "";
      (list || []).forEach(function (text) {  // one message per line, as text, never as markup
        var line = document.createElement("p");
        line.textContent = text;
        problems.appendChild(line);
      });
    };
    var labels = (meter.dataset.labels || "").split("|");
    var timer = null;
    var sequence = 0;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var mine = ++sequence;
        if (!input.value) { meter.value = 0; label.textContent = ""; showProblems([]); return; }
        var body = new FormData();
        body.append("password", input.value);
        CONTEXT.forEach(function (name) {
          if (form.elements[name]) { body.append(name, form.elements[name].value); }
        });
        var token = form.elements.csrfmiddlewaretoken;
        fetch(meter.dataset.strengthUrl, {
          method: "POST", body: body, credentials: "same-origin",
          headers: token ? {"X-CSRFToken": token.value} : {}
        }).then(function (response) { return response.ok ? response.json() : null; })
          .then(function (answer) {
            if (!answer || mine !== sequence) { return; }  // a later keystroke already asked
            meter.value = answer.score;
            label.textContent = labels[answer.score] || "";
            showProblems(answer.problems);
          }).catch(function () {});
      }, 250);
    });
  });
})();
