/* Broadcast composer (live recipients, segments, cost) and live progress on a broadcast's page. */
(function () {
  "use strict";

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json().then(function (data) { return {ok: response.ok, data: data}; }); });
  }

  function show(id, text) {
    var element = document.getElementById(id);
    if (!element) { return; }
    element.hidden = !text;
    element.textContent = text || "";
  }

  // "Send at" pickers are read in the browser's zone: tell the server which one it is.
  var zoneName = window.Intl ? Intl.DateTimeFormat().resolvedOptions().timeZone : "";
  if (zoneName) {
    document.querySelectorAll("input.browser-tz").forEach(function (input) { input.value = zoneName; });
    document.querySelectorAll(".tz-name").forEach(function (span) { span.textContent = zoneName; });
  }

  // The draft as one real recipient gets it, its audience in words, and what makes it UCS-2.
  var alternative = null;
  function showDraft(d) {
    var panel = document.getElementById("draft-preview");
    if (!panel) { return; }
    panel.hidden = !d.sample;
    show("draft-audience", d.audience ? "Audience: " + d.audience + "." : "");
    show("draft-left-out", d.left_out ? d.left_out + "." : "");
    if (!d.sample) { return; }
    show("draft-who", d.sample.who ? "As " + d.sample.who + ", one of its recipients, gets it:" :
      "With sample values (nobody in the audience yet):");
    document.getElementById("draft-text").textContent = d.sample.text;
    show("draft-fallbacks", d.sample.fallbacks.map(function (f) {
      return "{" + f.field + "} is empty for them: \u201c" + f.fallback + "\u201d is used instead.";
    }).join(" "));
    alternative = d.gsm_alternative;
    document.getElementById("draft-gsm").hidden = !alternative;
    if (alternative) {
      show("draft-encoding", "UCS-2 because of " + d.ucs2_characters.join(", ") + ".");
      show("draft-gsm-segments", d.gsm_alternative_segments + " segment" + (d.gsm_alternative_segments === 1 ? "" : "s") + " each");
      show("draft-gsm-text", alternative);
    }
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
        if (d.capped) {
          text += " (" + d.capped.toLocaleString() + " more in the audience left out by the frequency cap)";
        }
        if (d.segments_per_message) {
          text += " · " + d.encoding + ", " + d.segments_per_message + " segment" +
            (d.segments_per_message === 1 ? "" : "s") + " each · " + d.total_segments.toLocaleString() +
            " segment" + (d.total_segments === 1 ? "" : "s") + " · about $" + d.estimated_cost.toFixed(2);
        }
        if (d.problems.length) { text += " · " + d.problems.join("; "); }
        output.textContent = text;
        // Each language's recipients get their own text (or the default language's): its own segments and cost.
        var byLanguage = document.getElementById("language-preview");
        if (byLanguage) {
          byLanguage.textContent = (d.languages || []).map(function (p) {
            return p.name + ": " + p.recipients.toLocaleString() + " recipient" + (p.recipients === 1 ? "" : "s") +
              ", " + p.encoding + ", " + p.segments_per_message + " segment" + (p.segments_per_message === 1 ? "" : "s") +
              " each, about $" + p.estimated_cost.toFixed(2) + (p.translated ? "" : " (no text in " + p.name +
              ": they get the default one)");
          }).join(" · ");
        }
        showDraft(d);
      }).catch(function () { output.textContent = "Could not reach the service for a preview."; });
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(refresh, 300); };
    composer.addEventListener("input", later);
    composer.addEventListener("change", later);
    var useGsm = document.getElementById("use-gsm7");
    if (useGsm) {
      useGsm.addEventListener("click", function () {
        if (alternative === null) { return; }
        var message = document.getElementById("message");
        message.value = alternative;
        message.dispatchEvent(new Event("input", {bubbles: true}));
        message.focus();
      });
    }
    refresh();
  }

  // Progress: draw it once, poll while the broadcast can still change; reload when its state changes.
  var panel = document.getElementById("progress");
  if (!panel) { return; }
  var shown = document.getElementById("broadcast-status").textContent;
  var fields = ["planned", "waiting", "sent", "delivered", "failed", "skipped", "cancelled"];
  // Why the rest waits: text from the server, written with textContent (never HTML).
  var showWhy = function (why) {
    document.getElementById("why-summary").textContent = why.summary;
    var list = document.getElementById("why-reasons");
    list.textContent = "";
    why.reasons.forEach(function (reason) {
      var item = document.createElement("li");
      item.className = "why-" + reason.kind;
      item.textContent = reason.text;
      list.appendChild(item);
    });
    var finish = document.getElementById("why-finish");
    finish.hidden = !why.finish;
    finish.textContent = why.finish || "";
  };
  var poll = function () {
    getJSON(panel.dataset.endpoint).then(function (result) {
      if (!result.ok) { return; }
      var d = result.data;
      fields.forEach(function (name) {
        var cell = document.getElementById("p-" + name);
        if (cell) { cell.textContent = d[name].toLocaleString(); }
      });
      if (d.why) { showWhy(d.why); }
      var done = d.sent + d.failed + d.skipped + d.cancelled;
      document.getElementById("progress-bar").style.width = (d.planned ? Math.round(100 * done / d.planned) : 0) + "%";
      if (d.status !== shown) { window.location.reload(); return; }
      if (d.live) { setTimeout(poll, 2000); }
    }).catch(function () { setTimeout(poll, 5000); });
  };
  poll();
}());
