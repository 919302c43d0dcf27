/* Action Line console: SMS segment counter, SMS preview and the phone simulator.
   Mirrors sms/segments.py (GSM-7 vs UCS-2) so organizers see the cost while typing;
   the server checks again on save. No third-party code, no network but this origin. */
(function () {
  "use strict";
  var GSM7_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXT = "^{}\\[~]|€\f";
  var SAFE = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u2013": "-", "\u2014": "-",
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2026": "...", "\u00a0": " ", "\u2007": " ",
    "\u202f": " ", "\u2022": "-", "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": ""};

  function gsmSafe(text) {
    return Array.from(text).map(function (ch) { return ch in SAFE ? SAFE[ch] : ch; }).join("");
  }

  function count(text) {
    var chars = Array.from(text), units = 0, single, multi, encoding;
    var gsm = chars.every(function (ch) { return GSM7_BASIC.indexOf(ch) >= 0 || GSM7_EXT.indexOf(ch) >= 0; });
    if (gsm) {
      chars.forEach(function (ch) { units += GSM7_EXT.indexOf(ch) >= 0 ? 2 : 1; });
      single = 160; multi = 153; encoding = "GSM-7";
    } else {
      chars.forEach(function (ch) { units += ch.codePointAt(0) > 0xFFFF ? 2 : 1; });
      single = 70; multi = 67; encoding = "UCS-2";
    }
    var segments = units <= single ? (units ? 1 : 0) : Math.ceil(units / multi);
    return {encoding: encoding, units: units, segments: segments, perSegment: units <= single ? single : multi};
  }
  window.ActionLine = {count: count, gsmSafe: gsmSafe};

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Phone menu: one button opens every page (the CSS keeps the menu open where this never runs).
  var toggle = document.getElementById("nav-toggle");
  if (toggle) {
    var header = toggle.closest(".top");
    var setOpen = function (open) {
      header.classList.toggle("menu-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    };
    header.classList.add("menu-ready");
    toggle.hidden = false;
    toggle.addEventListener("click", function () { setOpen(!header.classList.contains("menu-open")); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) { setOpen(false); toggle.focus(); }
    });
  }

  // Destructive buttons ask first: <form data-confirm="Deactivate x? ...">
  document.addEventListener("submit", function (event) {
    var question = event.target.dataset ? event.target.dataset.confirm : "";
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  // Segment counters: <textarea data-segments data-max-segments=N data-preview="#id">
  document.querySelectorAll("textarea[data-segments]").forEach(function (area) {
    var output = document.querySelector('[data-counter-for="' + area.id + '"]');
    var preview = area.dataset.preview ? document.querySelector(area.dataset.preview) : null;
    var max = parseInt(area.dataset.maxSegments || "0", 10);
    // A language with its own UCS-2 budget (data-max-ucs2), and the organizer's "send without accents" box.
    var maxUcs2 = parseInt(area.dataset.maxUcs2 || area.dataset.maxSegments || "0", 10);
    var fold = area.dataset.fold ? document.querySelector(area.dataset.fold) : null;
    function update() {
      var text = gsmSafe(area.value.trim());
      if (fold && fold.checked) { text = foldAccents(text); }
      var info = count(text);
      var limit = info.encoding === "UCS-2" ? maxUcs2 : max;
      if (output) {
        output.textContent = info.units + " " + info.encoding + " characters · " + info.segments +
          " segment" + (info.segments === 1 ? "" : "s") + (limit ? " of " + limit + " allowed" : "") +
          (info.encoding === "UCS-2" ? " · a character outside GSM-7 makes every segment shorter" : "") +
          (fold && fold.checked ? " · sent without accents" : "");
        output.classList.toggle("over", limit > 0 && info.segments > limit);
      }
      if (preview) { preview.textContent = text; }
    }
    area.addEventListener("input", update);
    if (fold) { fold.addEventListener("change", update); }
    update();
  });

  // The accents GSM-7 lacks (á í ó ú and their capitals, ç...), dropped; é, ñ, ü, ¿, ¡ stay (translations.fold_accents).
  function foldAccents(text) {
    var kept = "éÉñÑüÜäÄöÖàèùìòåÅøØæÆß¿¡Ç";
    return text.split("").map(function (ch) {
      if (kept.indexOf(ch) >= 0) { return ch; }
      var base = ch.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
      return base.length === 1 && /[A-Za-z]/.test(base) ? base : ch;
    }).join("");
  }

  function postJSON(url, payload) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    });
  }
  window.ActionLine.postJSON = postJSON;

  // Simulator
  var form = document.getElementById("sim-form");
  if (!form) { return; }
  var screen = document.getElementById("sim-screen");
  var bodyInput = document.getElementById("sim-body");
  var fromInput = document.getElementById("sim-from");

  function bubble(text, side, extra) {
    var div = document.createElement("div");
    div.className = "bubble " + side + (extra ? " " + extra : "");
    div.textContent = text;  // never innerHTML: replies are organizer-written text
    screen.appendChild(div);
    screen.scrollTop = screen.scrollHeight;
    return div;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = bodyInput.value;
    if (!text.trim()) { return; }
    bubble(text, "out");
    bodyInput.value = "";
    var button = form.querySelector("button");
    button.disabled = true;
    postJSON(form.dataset.endpoint, {from: fromInput.value, body: text}).then(function (result) {
      if (!result.ok) { bubble(result.data.error || "Error", "note", "error"); return; }
      if (!result.data.replies.length) { bubble("(no reply)", "note"); }
      result.data.replies.forEach(function (reply) { bubble(reply, "in"); });
    }).catch(function () {
      bubble("Could not reach the service.", "note", "error");
    }).finally(function () {
      button.disabled = false;
      bodyInput.focus();
    });
  });

  // Simulator: play the call (what the caller hears, who is dialed)
  var callForm = document.getElementById("call-form");
  var flow = document.getElementById("call-flow");
  var LABELS = {say: "Caller hears", press: "Caller presses", dial: "Dialing", office: "Office answers",
                hangup: "Call ends", note: "", text: "Text after the call"};

  function step(kind, text) {
    var li = document.createElement("li");
    li.className = "step " + kind;
    var label = document.createElement("b");
    label.textContent = LABELS[kind] || kind;
    li.appendChild(label);
    li.appendChild(document.createTextNode(text ? " " + text : ""));  // text, never HTML
    flow.appendChild(li);
  }

  callForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var mode = event.submitter && event.submitter.value === "callin" ? "callin" : "callback";
    var buttons = callForm.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    flow.textContent = "";
    postJSON(callForm.dataset.endpoint, {
      from: fromInput.value, mode: mode, digits: document.getElementById("call-digits").value.trim() || null,
      dial_status: document.getElementById("call-status").value
    }).then(function (result) {
      if (!result.ok) { step("note", result.data.error || "Error"); flow.lastChild.classList.add("error"); return; }
      var data = result.data, legs = {};
      data.legs.forEach(function (leg) { if (leg.number) { legs[leg.number] = leg.label; } });
      if (data.note) { step("note", data.note); }
      data.events.forEach(function (e) {
        step(e.kind, e.kind === "dial" ? (legs[e.text] ? legs[e.text] + " at " : "") + e.text : e.text);
      });
      data.texts.forEach(function (t) { step("text", t); });
    }).catch(function () {
      step("note", "Could not reach the service.");
    }).finally(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    });
  });
}());
