"""Liveness and readiness probes."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from handlers.context import services
from sms.targets import datasets

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """200 when both the database and Redis answer, else 503 naming what is down.

    When ready, ``congress_data`` tells how current the Congress data is (terms ended, ending
    soon, what to run). It never makes the probe fail: stale data is the organizers' problem to
    fix, not a reason to take the service out of the load balancer.
    """
    svc = services()
    checks = {"database": "ok", "redis": "ok"}
    try:
        svc.db.ping()
    except SQLAlchemyError as exc:
        log.error("readyz: database unreachable: %s", type(exc).__name__)
        checks["database"] = "unreachable"
    try:
        svc.redis.ping()
    except RedisError as exc:
        log.error("readyz: redis unreachable: %s", type(exc).__name__)
        checks["redis"] = "unreachable"
    ok = all(v == "ok" for v in checks.values())
    body: dict[str, Any] = {"status": "ok" if ok else "unavailable", **checks}
    if ok:
        body["congress_data"] = _congress_data(svc)
    return body, 200 if ok else 503


def _congress_data(svc: Any) -> dict[str, Any]:
    try:
        with svc.db.session() as session:
            return datasets.report(session, svc.settings.call_ended_terms).summary()
    except SQLAlchemyError as exc:  # e.g. a schema not migrated yet
        log.warning("readyz: Congress data status unavailable: %s", type(exc).__name__)
        return {"error": "unavailable"}
