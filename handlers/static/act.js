// Action pages, enhanced: who the ZIP calls as you type it, and the call's progress without reloading.
// Everything works without this file (plain form posts, a self-refreshing status page).
(function () {
  "use strict";
  var api = "/api/v1";

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function get(url, done) {
    fetch(url, {credentials: "omit", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json().then(function (body) { done(r.ok, body); }); })
      .catch(function () { done(false, null); });
  }

  function showWho(form, body) {
    var who = document.getElementById("who");
    var heading = who.querySelector("h2");
    who.textContent = "";
    who.appendChild(heading);
    if (body.choices && body.choices.length) {
      var set = el("fieldset", null, {id: "district"});
      set.appendChild(el("legend", body.texts.district_legend));
      body.choices.concat([{value: "ALL", label: body.texts.district_all}]).forEach(function (c) {
        var label = el("label");
        label.appendChild(el("input", null, {type: "radio", name: "district", value: c.value}));
        label.appendChild(document.createTextNode(" " + c.label));
        set.appendChild(label);
      });
      who.appendChild(set);
    } else {
      var list = el("ul", null, {"class": "targets"});
      body.targets.forEach(function (t) { list.appendChild(el("li", t.label)); });
      who.appendChild(list);
      (body.notes || []).forEach(function (n) { who.appendChild(el("p", n, {"class": "note"})); });
    }
    if (body.script) document.getElementById("script").textContent = body.script;
  }

  function watchZip(form) {
    var zip = form.querySelector("#zip"), last = "";
    zip.addEventListener("input", function () {
      var value = zip.value.trim().slice(0, 5);
      if (!/^\d{5}$/.test(value) || value === last) return;
      last = value;
      get(api + "/targets?demand=" + encodeURIComponent(form.dataset.demand) + "&zip=" + value, function (ok, body) {
        if (ok && body) showWho(form, body);
      });
    });
  }

  function poll(box) {
    get(api + "/calls/" + box.dataset.handle, function (ok, body) {
      if (ok && body) {
        document.getElementById("state").textContent = body.message;
        var list = document.getElementById("offices");
        list.textContent = "";
        body.offices.forEach(function (o) {
          list.appendChild(el("li", o.label + ": " + o.outcome_text, {"class": "leg-" + o.outcome}));
        });
        if (body.final || body.state === "booked") return;
      }
      setTimeout(function () { poll(box); }, 2000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var error = document.getElementById("error");
    if (error) error.focus();
    var form = document.querySelector("form.act-form");
    if (form) watchZip(form);
    var box = document.getElementById("status");
    if (box && box.dataset.final === "no") setTimeout(function () { poll(box); }, 1500);
  });
})();
