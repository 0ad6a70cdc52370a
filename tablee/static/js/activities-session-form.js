// Programming a session: choosing a format fills the kind, audience and title left empty (or
// still holding the previous format's values), and the end time from the start and the duration.
(function () {
  "use strict";
  var form = document.querySelector("[data-session-form]");
  var script = document.getElementById("format-defaults");
  if (!form || !script) {
    return;
  }
  var defaults = JSON.parse(script.textContent);
  var format = form.querySelector("#id_format");
  var kind = form.querySelector("#id_kind");
  var audience = form.querySelector("#id_audience");
  var title = form.querySelector("#id_title");
  var start = form.querySelector("#id_start_time");
  var end = form.querySelector("#id_end_time");
  var previous = defaults[format.value] || null;
  var computedEnd = "";

  function fill(field, value, old) {
    if (field && (!field.value || field.value === old)) {
      field.value = value;
    }
  }

  function endTime(startValue, minutes) {
    var parts = (startValue || "").split(":");
    if (parts.length < 2) {
      return "";
    }
    var total = parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10) + minutes;
    if (isNaN(total) || total >= 24 * 60) {
      return "";
    }
    var hours = Math.floor(total / 60);
    var rest = total % 60;
    return (hours < 10 ? "0" : "") + hours + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function updateEnd() {
    var chosen = defaults[format.value];
    if (!chosen || !end || (end.value && end.value !== computedEnd)) {
      return;
    }
    computedEnd = endTime(start.value, chosen.duration);
    end.value = computedEnd;
  }

  format.addEventListener("change", function () {
    var chosen = defaults[format.value];
    if (chosen) {
      fill(kind, chosen.kind, previous && previous.kind);
      fill(audience, chosen.audience, previous && previous.audience);
      fill(title, chosen.title, previous && previous.title);
      updateEnd();
    }
    previous = chosen || null;
  });
  if (start) {
    start.addEventListener("change", updateEnd);
  }
})();
