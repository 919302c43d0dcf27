"""The Integrations page (admins): event destinations, their last deliveries and backlog, and their controls.

A new destination's secret is shown once, on the page that answers the form (never flashed:
the session cookie is signed, not encrypted).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from handlers.console import admin_required, bp, services
from sms.errors import IntegrationError
from sms.integrations import delivery, destinations, events, webhooks
from sms.integrations.http import NoAnswer
from sms.integrations.models import Destination


@bp.get("/integrations")
@admin_required
def integrations() -> Any:
    return _render()


def _render(error: str = "", created: Any = None, form: dict[str, Any] | None = None, status: int = 200) -> Any:
    settings = services().settings
    with services().db.session() as session:
        html = render_template(
            "console/integrations.html", overviews=destinations.overview(session), types=events.TYPES,
            error=error, created=created, form=form or {}, masked=destinations.masked,
            action_network=bool(settings.action_network_api_key), crm_optout=bool(settings.crm_optout_secret))
    return html, status


@bp.post("/integrations/destinations")
@admin_required
def integration_add() -> Any:
    form = {"url": request.form.get("url", ""), "name": request.form.get("name", ""),
            "types": request.form.getlist("types"), "allow_phone": bool(request.form.get("allow_phone"))}
    try:
        with services().db.session() as session:
            created = destinations.add(session, form["url"], form["types"], form["name"], form["allow_phone"])
    except IntegrationError as exc:
        return _render(str(exc), form=form, status=400)
    return _render(created=created)


def _act(destination_id: int, action: Any) -> Any:
    """Run ``action(session, destination)`` and come back to the page with what it said."""
    with services().db.session() as session:
        destination = session.get(Destination, destination_id)
        if destination is None:
            return "No such destination.", 404
        try:
            message = action(session, destination)
        except IntegrationError as exc:
            flash(str(exc), "error")
        else:
            flash(message, "ok")
    return redirect(url_for("console.integrations") + f"#destination-{destination_id}")


@bp.post("/integrations/<int:destination_id>/pause")
@admin_required
def integration_pause(destination_id: int) -> Any:
    def pause(session: Any, destination: Any) -> str:
        destinations.pause(session, destination)
        return f"Paused {destination.name}: its events wait until you resume it."

    return _act(destination_id, pause)


@bp.post("/integrations/<int:destination_id>/resume")
@admin_required
def integration_resume(destination_id: int) -> Any:
    def resume(session: Any, destination: Any) -> str:
        backlog = destinations.resume(session, destination)
        delivery.kick(services(), destination.id, urgent=True)
        delivery.kick(services(), destination.id)
        return f"Resumed {destination.name}: {backlog} waiting events are on their way."

    return _act(destination_id, resume)


@bp.post("/integrations/<int:destination_id>/replay")
@admin_required
def integration_replay(destination_id: int) -> Any:
    def replay(session: Any, destination: Any) -> str:
        start = _parse_time(request.form.get("since", ""))
        count = destinations.replay(session, destination, start)
        return f"Replaying {count} events to {destination.name} from {start:%Y-%m-%d %H:%M} UTC."

    return _act(destination_id, replay)


@bp.post("/integrations/<int:destination_id>/remove")
@admin_required
def integration_remove(destination_id: int) -> Any:
    def remove(session: Any, destination: Any) -> str:
        name = destination.name
        destinations.remove(session, destination)
        return f"Removed {name} and its deliveries."

    return _act(destination_id, remove)


@bp.post("/integrations/<int:destination_id>/test")
@admin_required
def integration_test(destination_id: int) -> Any:
    def test(session: Any, destination: Any) -> str:
        if destination.kind != "webhook":
            raise IntegrationError("only webhooks take a test event")
        probe = webhooks.probe(destination)
        try:
            answer = services().http.post(probe.url, probe.body, probe.headers)
        except NoAnswer as exc:
            raise IntegrationError(f"{destination.name} did not answer the test event ({exc})") from exc
        if webhooks.outcome(answer) != "delivered":
            raise IntegrationError(f"{destination.name} answered the test event with HTTP {answer.status}")
        return f"{destination.name} answered the test event with HTTP {answer.status}."

    return _act(destination_id, test)


def _parse_time(raw: str) -> datetime:
    """A ``datetime-local`` value (UTC) or an ISO time."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise IntegrationError("give the time to replay from, like 2026-05-01T09:00 (UTC)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
