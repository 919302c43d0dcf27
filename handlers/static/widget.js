/* Action Line call-me widget: <div class="actionline" data-demand="KEYWORD"></div> + this script.
 * One file, no third-party code, no cookies, no storage. It draws the form with DOM nodes (no HTML strings),
 * talks to /api/v1 on the server it came from (CORS: WIDGET_ORIGINS) and falls back to an <iframe> of
 * /act/KEYWORD?embed=1 when that fails. data-counter="KEYWORD" (or "") draws the live count instead. */
(function () {
  "use strict";
  var me = document.currentScript;
  var base = me ? new URL(me.src).origin : "";
  var seq = 0;

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function call(method, path, body) {
    var options = {method: method, credentials: "omit", headers: {Accept: "application/json"}};
    if (body) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    return fetch(base + "/api/v1" + path, options).then(function (r) {
      return r.json().then(function (json) { return {ok: r.ok, status: r.status, body: json}; });
    });
  }

  function fallback(host, demand) {
    host.textContent = "";
    var frame = el("iframe", null, {src: base + "/act/" + encodeURIComponent(demand) + "?embed=1", title: demand});
    frame.style.cssText = "width:100%;min-height:40rem;border:0";  // CSSOM: allowed by a strict style-src
    host.appendChild(frame);
  }

  function field(form, id, label, hint, attrs) {
    var box = el("div", null, {"class": "actionline-field"});
    box.appendChild(el("label", label, {"for": id}));
    if (hint) box.appendChild(el("p", hint, {id: id + "-hint", "class": "actionline-hint"}));
    var input = el("input", null, attrs);
    input.id = id;
    if (hint) input.setAttribute("aria-describedby", id + "-hint");
    input.style.cssText = "display:block;font:inherit;padding:.5rem;max-width:20rem;width:100%;box-sizing:border-box";
    box.appendChild(input);
    form.appendChild(box);
    return input;
  }

  function draw(host, data) {
    var t = data.texts, n = ++seq, id = function (name) { return "actionline-" + n + "-" + name; };
    var served = Date.now(), token = data.token, handle = null;
    host.textContent = "";
    var form = el("form", null, {"class": "actionline-form", novalidate: ""});
    form.appendChild(el("h3", data.demand.title));
    form.appendChild(el("p", data.demand.ask, {"class": "actionline-ask"}));
    var zip = field(form, id("zip"), t.zip_label, t.zip_hint,
      {inputmode: "numeric", autocomplete: "postal-code", maxlength: "10", required: ""});
    var who = el("div", null, {"class": "actionline-who", "aria-live": "polite"});
    form.appendChild(who);
    var phone = field(form, id("phone"), t.phone_label, t.phone_hint,
      {type: "tel", autocomplete: "tel", maxlength: "40", required: ""});
    var check = el("div", null, {"class": "actionline-consent"});
    var consent = el("input", null, {type: "checkbox", id: id("consent")});
    check.appendChild(consent);
    check.appendChild(el("label", " " + t.consent, {"for": id("consent")}));
    form.appendChild(check);
    var button = el("button", t.submit_button, {type: "submit"});
    button.style.cssText = "font:inherit;font-weight:600;padding:.6rem 1.2rem;margin:.6rem 0";
    form.appendChild(button);
    var status = el("p", null, {role: "status", "aria-live": "polite", "class": "actionline-status"});
    form.appendChild(status);
    form.appendChild(el("h4", t.script_heading));
    var script = el("blockquote", data.demand.script, {"class": "actionline-script"});
    form.appendChild(script);
    host.appendChild(form);

    function district() {
      var picked = form.querySelector("input[name=" + id("district") + "]:checked");
      return picked ? picked.value : "";
    }

    zip.addEventListener("input", function () {
      var value = zip.value.trim().slice(0, 5);
      if (!/^\d{5}$/.test(value)) return;
      call("GET", "/targets?demand=" + encodeURIComponent(data.demand.keyword) + "&zip=" + value).then(function (r) {
        who.textContent = "";
        if (!r.ok) { who.appendChild(el("p", r.body.error.message)); return; }
        who.appendChild(el("p", t.who_heading, {"class": "actionline-who-heading"}));
        if (r.body.choices.length) {
          var set = el("fieldset");
          set.appendChild(el("legend", t.district_legend));
          r.body.choices.concat([{value: "ALL", label: t.district_all}]).forEach(function (c) {
            var label = el("label");
            label.style.display = "block";
            label.appendChild(el("input", null, {type: "radio", name: id("district"), value: c.value}));
            label.appendChild(document.createTextNode(" " + c.label));
            set.appendChild(label);
          });
          who.appendChild(set);
        } else {
          var list = el("ul");
          r.body.targets.forEach(function (target) { list.appendChild(el("li", target.label)); });
          who.appendChild(list);
        }
        script.textContent = r.body.script;
      });
    });

    function say(text, alert) {
      status.textContent = text;
      status.setAttribute("role", alert ? "alert" : "status");
    }

    function refused(r, input) {
      say(r.body.error.message, true);
      var target = {zip: zip, phone: phone}[r.body.error.field] || input;
      if (target) target.focus();
      if (r.body.error.code === "form") {
        call("GET", "/form?demand=" + encodeURIComponent(data.demand.keyword) + "&lang=" + data.lang)
          .then(function (f) { if (f.ok) { token = f.body.token; served = Date.now(); } });
      }
    }

    function poll() {
      call("GET", "/calls/" + handle + "?lang=" + data.lang).then(function (r) {
        if (!r.ok) return;
        say(r.body.message);
        if (r.body.script) script.textContent = r.body.script;
        if (!r.body.final && r.body.state !== "booked") setTimeout(poll, 2000);
      });
    }

    function started(r) {
      if (!r.ok) return refused(r);
      handle = r.body.handle;
      if (r.body.script) script.textContent = r.body.script;
      if (r.body.status === "confirm") return askCode();
      button.disabled = true;
      say(r.body.status === "booked" ? t.status_booked.replace("{when}", r.body.when) : t.status_queued);
      if (r.body.status === "calling") setTimeout(poll, 1500);
    }

    function askCode() {
      button.disabled = true;
      say(t.code_heading);
      var box = el("div", null, {"class": "actionline-code"});
      var code = field(box, id("code"), t.code_label, null,
        {inputmode: "numeric", autocomplete: "one-time-code", maxlength: "8"});
      var confirm = el("button", t.code_button, {type: "button"});
      box.appendChild(confirm);
      form.insertBefore(box, status);
      code.focus();
      confirm.addEventListener("click", function () {
        call("POST", "/calls/" + handle + "/confirm", {code: code.value}).then(function (r) {
          if (r.ok) box.parentNode.removeChild(box);
          r.ok ? started(r) : refused(r, code);
        });
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var wait = Math.max(0, data.min_fill_seconds * 1000 - (Date.now() - served));
      setTimeout(function () {
        call("POST", "/calls", {demand: data.demand.keyword, phone: phone.value, zip: zip.value,
          district: district(), consent: consent.checked, token: token, page: location.href, source: "widget"})
          .then(started, function () { fallback(host, data.demand.keyword); });
      }, wait);
    });
  }

  function counter(host) {
    var demand = host.getAttribute("data-counter") || "", lang = host.getAttribute("data-lang") || "en";
    call("GET", "/counts?lang=" + encodeURIComponent(lang) + (demand ? "&demand=" + encodeURIComponent(demand) : ""))
      .then(function (r) {
        if (!r.ok || !r.body.text) return;
        host.textContent = "";
        host.appendChild(el("strong", r.body.text.calls, {"class": "actionline-calls"}));
        host.appendChild(document.createTextNode(" · " + r.body.text.offices));
      });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(".actionline[data-demand]"), function (host) {
      var demand = host.getAttribute("data-demand"), lang = host.getAttribute("data-lang") || "en";
      call("GET", "/form?demand=" + encodeURIComponent(demand) + "&lang=" + encodeURIComponent(lang))
        .then(function (r) { r.ok ? draw(host, r.body) : fallback(host, demand); },
              function () { fallback(host, demand); });
    });
    Array.prototype.forEach.call(document.querySelectorAll(".actionline[data-counter]"), counter);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
