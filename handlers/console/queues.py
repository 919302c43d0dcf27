"""Queue health: rq-dashboard mounted at /console/queues behind the console login.

rq-dashboard's own buttons (requeue, delete, empty) post with JavaScript and no
CSRF token, so its blueprint is exempt from Flask-WTF; instead its unsafe
requests must come from an admin and from this origin (Origin/Referer check),
and the session cookie is SameSite=Lax.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import rq_dashboard
from flask import Flask, abort, request
from flask_login import current_user

from handlers.context import services

PREFIX = "/console/queues"
UNSAFE_GETS = frozenset({"rq_dashboard.requeue_all"})  # rq-dashboard requeues on GET too


def mount(app: Flask) -> None:
    from handlers.console import csrf
    from sms.services import dashboard_redis

    config = dashboard_redis(services(app).settings)
    app.config.update(config, RQ_DASHBOARD_REDIS_URL=[config["RQ_DASHBOARD_REDIS_URL"]])
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=PREFIX)
    csrf.exempt(rq_dashboard.blueprint)
    app.before_request(_guard)


def _guard() -> Any:
    if request.blueprint != "rq_dashboard":
        return None
    if not current_user.is_authenticated:
        from handlers.console import refuse_anonymous

        return refuse_anonymous()
    if request.method not in ("GET", "HEAD", "OPTIONS") or request.endpoint in UNSAFE_GETS:
        if not current_user.is_admin or not _same_origin():
            abort(403)
    return None


def _same_origin() -> bool:
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return bool(source) and urlsplit(source).netloc == request.host
