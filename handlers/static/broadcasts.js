/* Broadcast composer (live recipients, segments, cost) and live progress on a broadcast's page. */
(function () {
  "use strict";

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json().then(function (data) { return {ok: response.ok, data: data}; }); });
  }

  // Composer: ask the server what the draft would do (nothing is saved) a moment after typing stops.
  var composer = document.getElementById("composer");
  var output = document.getElementById("audience-preview");
  if (composer && output) {
    var timer = null, seq = 0;
    var refresh = function () {
      var params = new URLSearchParams(new FormData(composer));
      params.delete("csrf_token");
      var mine = ++seq;
      getJSON(output.dataset.endpoint + "?" + params.toString()).then(function (result) {
        if (mine !== seq) { return; }  // a newer keystroke already asked again
        var d = result.data;
        output.classList.toggle("over", !!(d.problems && d.problems.length));
        if (d.recipients === null || d.recipients === undefined) {
          output.textContent = (d.problems || ["Cannot count recipients."]).join("; ");
          return;
        }
        var text = d.recipients.toLocaleString() + " recipient" + (d.recipients === 1 ? "" : "s");
        if (d.segments_per_message) {
          text += " · " + d.encoding + ", " + d.segments_per_message + " segment" +
            (d.segments_per_message === 1 ? "" : "s") + " each · " + d.total_segments.toLocaleString() +
            " segments · about $" + d.estimated_cost.toFixed(2);
        }
        if (d.problems.length) { text += " · " + d.problems.join("; "); }
        output.textContent = text;
      }).catch(function () { output.textContent = "Could not reach the service for a preview."; });
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(refresh, 300); };
    composer.addEventListener("input", later);
    composer.addEventListener("change", later);
    refresh();
  }

  // Progress: draw it once, poll while the broadcast can still change; reload when its state changes.
  var panel = document.getElementById("progress");
  if (!panel) { return; }
  var shown = document.getElementById("broadcast-status").textContent;
  var fields = ["planned", "waiting", "sent", "delivered", "failed", "skipped", "cancelled"];
  var poll = function () {
    getJSON(panel.dataset.endpoint).then(function (result) {
      if (!result.ok) { return; }
      var d = result.data;
      fields.forEach(function (name) {
        var cell = document.getElementById("p-" + name);
        if (cell) { cell.textContent = d[name].toLocaleString(); }
      });
      var done = d.sent + d.failed + d.skipped + d.cancelled;
      document.getElementById("progress-bar").style.width = (d.planned ? Math.round(100 * done / d.planned) : 0) + "%";
      if (d.status !== shown) { window.location.reload(); return; }
      if (d.live) { setTimeout(poll, 2000); }
    }).catch(function () { setTimeout(poll, 5000); });
  };
  poll();
}());
