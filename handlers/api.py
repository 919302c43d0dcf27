"""The JSON API under /api/v1 (the widget's, and anyone's): demands, targets, a form, calls, counts.

Documented in data/openapi.json (served at /api/v1/openapi.json). Cross-origin requests are
answered only for WIDGET_ORIGINS (CORS without credentials; a POST from any other origin is
refused with 403); no cookies are read or set. Errors are ``{"error": {"code", "field",
"message"}}`` with the status of the guard that refused (400, 403, 404, 410, 429, 503).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from handlers import actions
from handlers.context import services
from sms.errors import WebError
from sms.settings import ROOT
from sms.web import calls, confirm, counts, guards, progress, texts

bp = Blueprint("api", __name__, url_prefix="/api/v1")
OPENAPI = ROOT / "data" / "openapi.json"


def _origin_allowed(origin: str) -> bool:
    return origin.rstrip("/").lower() in (*services().settings.widget_origins, request.host_url.rstrip("/").lower())


@bp.before_request
def cors_preflight() -> Response | None:
    """Answer a preflight; refuse an unsafe request from an origin that is not listed."""
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":
        return Response(status=204 if origin and _origin_allowed(origin) else 403)
    if origin and request.method not in ("GET", "HEAD") and not _origin_allowed(origin):
        return _error(WebError("err_origin", f"origin {origin[:80]} not in WIDGET_ORIGINS", status=403))
    return None


@bp.after_request
def cors_headers(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and _origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers["Vary"] = "Origin"
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error(exc: WebError, lang: str = texts.DEFAULT) -> Response:
    message = texts.text(exc.key, lang, org=services().settings.org_name, **exc.values)
    response = jsonify(error={"code": exc.key.removeprefix("err_"), "field": exc.field, "message": message})
    response.status_code = exc.status
    return response


def _demand(demand: Any) -> dict[str, Any]:
    return {"keyword": demand.keyword, "title": demand.title, "summary": demand.summary, "ask": demand.ask,
            "script": calls.script_of(demand), "page": services().url(f"/act/{demand.keyword}")}


@bp.get("/demands")
def demands() -> Response:
    with services().db.session() as session:
        listed = [_demand(d) for d in calls.catalogue.current(session).demands]
    response = jsonify(demands=listed)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/targets")
def targets() -> Response:
    """Who a ZIP calls for a demand, or the districts of a split ZIP to choose from."""
    svc, lang = services(), texts.language(request.args.get("lang"))
    with svc.db.session() as session:
        try:
            demand = calls.demand_of(session, request.args.get("demand", ""))
            seen = calls.preview(session, svc.settings, demand, request.args.get("zip", ""),
                                 request.args.get("district", ""))
        except WebError as exc:
            return _error(exc, lang)
    return jsonify(zip=seen.zip, state=seen.state, script=calls.script_of(demand, seen),
                   targets=[{"label": t.label, "title": t.title, "name": t.name, "kind": t.kind,
                             "state": t.state or None, "district": t.district} for t in seen.targets],
                   choices=[{"value": c.value, "label": c.label} for c in seen.choices], notes=list(seen.notes),
                   texts={k: texts.text(k, lang) for k in ("district_legend", "district_all")})


@bp.get("/form")
def form() -> Response:
    """Everything a widget needs to draw the form: the demand, the texts, a fresh form token."""
    svc, lang = services(), texts.language(request.args.get("lang"))
    with svc.db.session() as session:
        try:
            demand = calls.demand_of(session, request.args.get("demand", ""))
        except WebError as exc:
            return _error(exc, lang)
        body = {"demand": _demand(demand), "lang": lang, "token": guards.issue(svc.settings, demand.keyword, lang),
                "min_fill_seconds": svc.settings.web_min_fill_seconds,
                "texts": texts.all_texts(lang, org=svc.settings.org_name)}
    return jsonify(body)


@bp.post("/calls")
def create_call() -> Response:
    """Ask for a call-back: 202 with ``calling``, ``booked`` or ``confirm`` (a code was texted)."""
    svc, body = services(), request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(WebError("err_form", "not a JSON object"))
    source = body.get("source") if body.get("source") in calls.SOURCES else "api"
    with svc.db.session() as session:
        try:
            started = calls.start(svc, session, actions.request_of(body, str(body.get("demand") or ""), source),
                                  str(body.get("token") or ""))
        except WebError as exc:
            return _error(exc)
    return _started(started)


@bp.post("/calls/<handle>/confirm")
def confirm_call(handle: str) -> Response:
    svc, body = services(), request.get_json(silent=True) or {}
    with svc.db.session() as session:
        try:
            waiting = confirm.check_code(svc, handle, str(body.get("code") or ""))
            started = calls.start(svc, session, calls.CallRequest(**waiting), confirmed=True)
        except WebError as exc:
            return _error(exc)
    return _started(started)


def _started(started: calls.Started) -> Response:
    response = jsonify(status=started.status, handle=started.handle, script=started.script,
                       when=started.when or None)
    response.status_code = 202
    return response


@bp.get("/calls/<handle>")
def call_progress(handle: str) -> Response:
    lang = texts.language(request.args.get("lang"))
    with services().db.session() as session:
        seen = progress.of(session, handle)
    if seen is None:
        return _error(WebError("err_not_found", status=404, keyword="call"), lang)
    org = services().settings.org_name
    return jsonify(state=seen.state, final=seen.final, demand=seen.demand, message=actions.message(seen, lang),
                   when=seen.when or None, script=seen.script,
                   offices=[{"label": label, "outcome": outcome, "outcome_text": texts.text(f"leg_{outcome}", lang,
                                                                                             org=org)}
                            for label, outcome in seen.offices])


@bp.get("/counts")
def public_counts() -> Response:
    """Calls made and offices reached, as public as the organizers chose (WEB_PUBLIC_COUNTS)."""
    svc, lang = services(), texts.language(request.args.get("lang"))
    demand = (request.args.get("demand") or "").upper()[:40]
    shown = counts.public(svc, demand or None)
    scope = shown.get("demands", {}).get(demand) if demand else shown.get("total")
    if scope is not None:
        shown["text"] = {"calls": texts.text("counter_calls", lang, calls=f"{scope['calls']:,}"),
                         "offices": texts.text("counter_offices", lang, offices=f"{scope['offices']:,}")}
    response = jsonify(shown)
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    spec = json.loads(OPENAPI.read_text(encoding="utf-8"))
    spec["servers"] = [{"url": services().url("/api/v1")}]
    response = jsonify(spec)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
