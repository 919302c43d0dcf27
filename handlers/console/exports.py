"""CSV exports: subscribers (opted-in, or all with consent history), messages, calls and deliveries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, render_template, request, stream_with_context
from flask_login import current_user

from handlers.console import bp, services
from sms.calls import call_log
from sms.console import exports
from sms.store import utcnow

log = logging.getLogger(__name__)


@bp.get("/export")
def export_page() -> str:
    return render_template("console/export.html")


def _stream(name: str, rows: Callable[[Any], Iterator[str]]) -> Response:
    def generate() -> Iterator[str]:
        with services().db.session() as session:
            yield from rows(session)

    log.info("organizer %s exported %s", current_user.email, name)
    filename = f"actionline-{name}-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/export/subscribers.csv")
def export_subscribers() -> Response:
    everyone = request.args.get("all") == "1"
    return _stream("subscribers-all" if everyone else "subscribers-opted-in",
                   lambda session: exports.subscribers_csv(session, include_opted_out=everyone))


@bp.get("/export/messages.csv")
def export_messages() -> Response:
    return _stream("messages", exports.messages_csv)


@bp.get("/export/calls.csv")
def export_calls() -> Response:
    return _stream("calls", call_log.calls_csv)


@bp.get("/export/deliveries.csv")
def export_deliveries() -> Response:
    """Every broadcast's deliveries, or one broadcast's (``?broadcast=ID``)."""
    wanted = request.args.get("broadcast", "")
    broadcast_id = int(wanted) if wanted.isdigit() else None
    return _stream(f"deliveries-{broadcast_id}" if broadcast_id else "deliveries",
                   lambda session: exports.deliveries_csv(session, broadcast_id))
