"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from flask import Blueprint
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from handlers.context import services

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    """200 when both the database and Redis answer, else 503 naming what is down."""
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
    return {"status": "ok" if ok else "unavailable", **checks}, 200 if ok else 503
