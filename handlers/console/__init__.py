"""The organizer console under /console: login, CSRF, roles and the pages.

Every console route needs a logged-in organizer (``bp.before_request``): pages
redirect to the login form, API-style requests (``/console/api/...`` or
``Accept: application/json``) get a 401. Every unsafe request is CSRF-checked
here rather than app-wide, because Twilio's signed webhooks carry no CSRF token.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Flask, abort, jsonify, make_response, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import NotFound

from handlers.context import services
from sms.console.models import Organizer

log = logging.getLogger(__name__)
bp = Blueprint(
    "console", __name__, url_prefix="/console",
    template_folder="../templates", static_folder="../static", static_url_path="/static",
)
csrf = CSRFProtect()
PUBLIC_ENDPOINTS = frozenset({"console.login", "console.static"})
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def wants_json() -> bool:
    if request.path.startswith("/console/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def init_app(app: Flask) -> None:
    """Sessions, CSRF, cookies and the queue dashboard for the console."""
    settings = services(app).settings
    https = settings.public_base_url.startswith("https://")
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked in bp.before_request instead
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=12 * 3600, REMEMBER_COOKIE_DURATION=14 * 24 * 3600,
    )
    csrf.init_app(app)
    app.register_error_handler(404, not_found)
    manager = LoginManager()
    manager.login_view = "console.login"
    manager.user_loader(_load_organizer)
    manager.init_app(app)
    from handlers.console import queues

    queues.mount(app)


def _load_organizer(organizer_id: str) -> Organizer | None:
    if not organizer_id.isdigit():
        return None
    with services().db.session() as session:
        organizer = session.get(Organizer, int(organizer_id))
        return organizer if organizer is not None and organizer.active else None


def refuse_anonymous() -> Any:
    """The answer to a console request without a login: 401 for APIs, else a redirect to the form."""
    if wants_json():
        return jsonify(error="login required"), 401
    return redirect(url_for("console.login", next=request.full_path.rstrip("?")))


@bp.before_request
def guard() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return refuse_anonymous()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    return None


@bp.after_request
def headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "console.static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def not_found(exc: NotFound) -> Any:
    """Unknown URLs under /console get the console's own 404 page (JSON under its API); elsewhere Flask's."""
    if not request.path.startswith("/console"):
        return exc
    if wants_json():
        return headers(make_response(jsonify(error="not found"), 404))
    page = render_template("console/error.html", title="Not found",
                           message=f"There is no console page at {request.path}.")
    return headers(make_response(page, 404))


@bp.errorhandler(CSRFError)
def csrf_failed(exc: CSRFError) -> Any:
    log.warning("console CSRF check failed on %s: %s", request.path, exc.description)
    if wants_json():
        return jsonify(error=exc.description), 400
    return exc.description, 400


def organizer_zone(candidate: str | None = None) -> ZoneInfo:
    """The organizer's time zone: ``candidate`` (the browser's, sent with a form) if it is one, remembered
    for the session; else the one remembered; else CONSOLE_TIMEZONE."""
    for name in (candidate, cookie_session.get("tz"), services().settings.console_timezone):
        try:
            zone = ZoneInfo(str(name)) if name else None
        except (ValueError, ZoneInfoNotFoundError):
            zone = None
        if zone is not None:
            if name == candidate:
                cookie_session["tz"] = zone.key
            return zone
    return ZoneInfo("UTC")


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only admins (managing organizers and settings); others get 403."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


from handlers.console import (  # noqa: E402 - the pages add their routes to ``bp`` defined above
    auth,
    broadcasts,
    calls,
    demands,
    exports,
    inbox,
    integrations,
    pages,
    simulator,
    targets,
)

PAGES = (auth, broadcasts, calls, demands, exports, inbox, integrations, pages, simulator, targets)
"""The console's pages, each adding its routes to ``bp``; ``create_app`` registers ``bp`` once they are all here."""
