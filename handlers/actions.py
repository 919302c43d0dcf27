"""Public action pages: ``/act/<keyword>`` (the form, plain POST, no JS needed), the code, the call's progress.

Failure modes: an unknown keyword is a 404 page; a refused request re-renders the form with
what was typed and the reason (400, 403 or 429: the guards in ``sms.web``); a form token that
is stale or too quick is refused the same way, with a fresh token. No cookies are set; the
IP address is only ever hashed (``sms.web.guards.hash_ip``). ``?embed=1`` is the widget's
``<iframe>`` fallback: framable by WIDGET_ORIGINS only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, abort, make_response, redirect, render_template, request, url_for

from handlers.context import services
from sms.errors import WebError
from sms.messaging import compliance
from sms.web import calls, confirm, counts, guards, progress, texts

bp = Blueprint("act", __name__, template_folder="templates", static_folder="static", static_url_path="/act/static")


def csp(embed: bool = False) -> str:
    """A strict policy: our own files only; framed only by WIDGET_ORIGINS, and only when embedded."""
    origins = " ".join(services().settings.widget_origins) if embed else ""
    return ("default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
            f"form-action 'self'; base-uri 'none'; frame-ancestors {origins or chr(39) + 'none' + chr(39)}")


def secured(response: Response, embed: bool = False) -> Response:
    response.headers["Content-Security-Policy"] = csp(embed)
    if not embed:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def request_of(fields: Mapping[str, Any], keyword: str, source: str) -> calls.CallRequest:
    """The form's (or the JSON body's) fields as a call request; the IP only as its hash."""
    settings = services().settings
    consent = fields.get("consent") in (True, "yes", "on", "1", "true")
    return calls.CallRequest(
        demand=keyword, phone=str(fields.get("phone") or "")[:40], zip=str(fields.get("zip") or "")[:10],
        district=str(fields.get("district") or "")[:8], consent=consent,
        page=str(fields.get("page") or request.referrer or request.path)[:300],
        ip_hash=guards.hash_ip(settings, request.remote_addr), source=source)


def _page(keyword: str, fields: Mapping[str, Any], error: WebError | None = None, find: bool = False) -> Response:
    """The action page: the demand, the form (with ``fields`` kept), who the ZIP calls, an error if any."""
    svc, embed = services(), request.values.get("embed") == "1"
    lang = texts.language(request.values.get("lang"))
    with svc.db.session() as session:
        try:
            demand = calls.demand_of(session, keyword)
        except WebError as exc:
            return secured(make_response(render_template("act/missing.html", t=_t(lang), error=exc), 404))
        seen, zip_error = None, None
        if fields.get("zip") and (find or error is None or error.field != "zip"):
            try:
                seen = calls.preview(session, svc.settings, demand, str(fields["zip"]), str(fields.get("district", "")))
            except WebError as exc:
                zip_error = exc
        error = error or zip_error
        token = guards.issue(svc.settings, demand.keyword, lang)
        body = render_template("act/page.html", t=_t(lang), lang=lang, demand=demand, fields=fields, seen=seen,
                               error=error, token=token, embed=embed, script=calls.script_of(demand, seen))
    return secured(make_response(body, error.status if error and not find else 200), embed)


def _t(lang: str) -> Any:
    org = services().settings.org_name
    return lambda key, **values: texts.text(key, lang, org=org, **values)


@bp.get("/act/<keyword>")
def page(keyword: str) -> Response:
    return _page(keyword, request.args)


@bp.post("/act/<keyword>")
def submit(keyword: str) -> Response:
    """``action=find`` shows who the ZIP calls (no call); anything else asks for the call."""
    if request.form.get("action") == "find":
        return _page(keyword, request.form, find=True)
    svc = services()
    embed = "?embed=1" if request.values.get("embed") == "1" else ""
    with svc.db.session() as session:
        try:
            asked = request_of(request.form, keyword, "page")
            started = calls.start(svc, session, asked, request.form.get("token", ""))
        except WebError as exc:
            return _page(keyword, request.form, exc)
    target = "act.code" if started.status == "confirm" else "act.status"
    return redirect(url_for(target, handle=started.handle) + embed, 303)


@bp.route("/act/code/<handle>", methods=["GET", "POST"])
def code(handle: str) -> Response:
    """The texted code: on a match the waiting request is placed (its guards checked again)."""
    svc, lang, error = services(), texts.language(request.values.get("lang")), None
    embed = request.values.get("embed") == "1"
    if request.method == "POST":
        with svc.db.session() as session:
            try:
                waiting = confirm.check_code(svc, handle, request.form.get("code", ""))
                started = calls.start(svc, session, calls.CallRequest(**waiting), confirmed=True)
                return redirect(url_for("act.status", handle=started.handle) + ("?embed=1" if embed else ""), 303)
            except WebError as exc:
                error = exc
    phone = confirm.waiting_phone(svc, handle)
    if phone is None and error is None:
        error = WebError("err_code_expired", status=410)
    body = render_template("act/code.html", t=_t(lang), handle=handle, phone=compliance.mask(phone), error=error,
                           embed=embed)
    return secured(make_response(body, error.status if error else 200), embed)


@bp.get("/act/calls/<handle>")
def status(handle: str) -> Response:
    """The call's progress: refreshes itself without JS, polled by act.js with it."""
    svc, lang, embed = services(), texts.language(request.args.get("lang")), request.args.get("embed") == "1"
    with svc.db.session() as session:
        seen = progress.of(session, handle)
        if seen is None:
            abort(404)
        body = render_template("act/status.html", t=_t(lang), handle=handle, p=seen, embed=embed,
                               message=message(seen, lang))
    return secured(make_response(body), embed)


@bp.post("/act/calls/<handle>/cancel")
def cancel(handle: str) -> Response:
    with services().db.session() as session:
        progress.cancel(session, handle)
    return redirect(url_for("act.status", handle=handle), 303)


def message(seen: progress.Progress, lang: str) -> str:
    """The sentence the page (and the API) says for a call's state."""
    org = services().settings.org_name
    if seen.state == "booked":
        return texts.text("status_booked", lang, org=org, when=seen.when)
    return texts.text(f"status_{seen.state}", lang, org=org)


@bp.get("/counter")
def counter() -> Response:
    """The public counter (``?demand=KEYWORD`` for one demand), framable by WIDGET_ORIGINS like ``?embed=1``."""
    svc, lang = services(), texts.language(request.args.get("lang"))
    demand = (request.args.get("demand") or "").upper()[:40]
    shown = counts.public(svc, demand or None)
    scope = shown.get("demands", {}).get(demand) if demand else shown.get("total")
    body = render_template("act/counter.html", t=_t(lang), lang=lang, scope=scope, states=shown.get("states"),
                           embed=True)
    response = secured(make_response(body), embed=True)
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@bp.get("/widget.js")
def widget() -> Response:
    """The embeddable widget: one small script, no cookies, no third-party code."""
    response = bp.send_static_file("widget.js")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
