"""Event destinations as organizers manage them: add, remove, pause, resume, replay, and what they see.

Shared by the console's Integrations page and ``flask webhooks``. A webhook URL must be
``https://`` (``http://`` only for localhost or 127.0.0.1, for tests and development), because
events carry supporters' data; its secret is made here unless one is given, and shown once.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from sms.errors import IntegrationError
from sms.integrations import events
from sms.integrations.models import Destination, Event, EventDelivery
from sms.settings import https_url_problem
from sms.store import UTCDateTime, utcnow

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")


def parse_types(raw: str | list[str] | tuple[str, ...]) -> list[str]:
    """Event types from a comma-separated string or a list; ``all`` (or ``*``) means every type."""
    names = [n.strip() for n in (raw.split(",") if isinstance(raw, str) else raw) if n.strip()]
    if any(n in ("all", "*") for n in names):
        return list(events.TYPES)
    unknown = [n for n in names if n not in events.TYPES]
    if unknown:
        raise IntegrationError(f"unknown event type {', '.join(unknown)} (types: {', '.join(events.TYPES)})")
    if not names:
        raise IntegrationError("choose at least one event type")
    return list(dict.fromkeys(names))


def add(session: Session, url: str, types: str | list[str], name: str = "", allow_phone: bool = False,
        secret: str = "") -> Destination:
    """Add a webhook destination (committed); raise IntegrationError for a URL, name or type we refuse."""
    url = url.strip()
    problem = https_url_problem(url)
    if problem:
        raise IntegrationError(f"the URL {problem}")
    name = (name.strip().lower() or _free_name(session, urlsplit(url).hostname or "webhook"))
    if not NAME.match(name):
        raise IntegrationError("a name is up to 60 lower-case letters, digits, dots, dashes or underscores")
    if session.scalar(select(Destination.id).where(Destination.name == name)) is not None:
        raise IntegrationError(f"there is already a destination named {name}")
    if secret and len(secret) < 16:
        raise IntegrationError("a secret needs 16 characters or more (leave it out to get a random one)")
    destination = Destination(name=name, kind="webhook", url=url, events=parse_types(types),
                              secret=secret or f"whsec_{secrets.token_hex(24)}", allow_phone=allow_phone,
                              status="active")
    session.add(destination)
    session.commit()
    return destination


def _free_name(session: Session, base: str) -> str:
    base = re.sub(r"[^a-z0-9._-]", "-", base.lower())[:50] or "webhook"
    taken = set(session.scalars(select(Destination.name).where(Destination.name.like(f"{base}%"))))
    return next(n for n in (base, *(f"{base}-{i}" for i in range(2, 1000))) if n not in taken)


def named(session: Session, name: str) -> Destination:
    """The destination called ``name`` (or with that id); IntegrationError if there is none."""
    query = select(Destination).where(Destination.name == name.strip().lower())
    destination = session.scalar(query)
    if destination is None and name.strip().isdigit():
        destination = session.get(Destination, int(name))
    if destination is None:
        raise IntegrationError(f"no destination named {name!r}")
    return destination


def remove(session: Session, destination: Destination) -> None:
    """Delete a webhook destination and its deliveries (Action Network follows its setting instead)."""
    if destination.kind == "action_network":
        raise IntegrationError("Action Network is configured by ACTION_NETWORK_API_KEY: unset it to stop the sync")
    session.execute(delete(EventDelivery).where(EventDelivery.destination_id == destination.id))
    session.delete(destination)
    session.commit()


def pause(session: Session, destination: Destination, reason: str = "paused by an organizer") -> None:
    if destination.status == "disabled":
        raise IntegrationError("this destination is disabled by its setting")
    destination.status, destination.paused_at, destination.status_reason = "paused", utcnow(), reason
    session.commit()


def resume(session: Session, destination: Destination, now: datetime | None = None) -> int:
    """Make a paused destination active again; its backlog is due now, with a fresh day of retries."""
    if destination.status == "disabled":
        raise IntegrationError("this destination is disabled by its setting")
    now = now or utcnow()
    destination.status, destination.status_reason = "active", None
    destination.paused_at = destination.failing_since = None
    backlog = session.execute(update(EventDelivery).where(
        EventDelivery.destination_id == destination.id, EventDelivery.status == "pending")
        .values(next_at=now, attempts=0, first_try_at=None)).rowcount
    session.commit()
    return backlog


def replay(session: Session, destination: Destination, start: datetime, now: datetime | None = None) -> int:
    """Deliver again every event of the destination's types since ``start`` (same ids: receivers dedupe)."""
    now = now or utcnow()
    chosen = select(Event.id).where(Event.created_at >= start, Event.type.in_(destination.events),
                                    Event.fanned_out.is_(True))
    d = EventDelivery
    again = session.execute(update(d).where(d.destination_id == destination.id, d.event_id.in_(chosen),
                                            d.status.not_in(("pending", "sending")))
                            .values(status="pending", attempts=0, first_try_at=None, next_at=now, done_at=None,
                                    error=None), execution_options={"synchronize_session": False}).rowcount
    missing = select(Event.id, literal(destination.id), Event.subscriber_id, Event.type.in_(events.URGENT),
                     literal("pending"), literal(0), literal(now, UTCDateTime), literal(now, UTCDateTime)).where(
        Event.id.in_(chosen), ~exists().where(d.destination_id == destination.id, d.event_id == Event.id))
    added = session.scalar(select(func.count()).select_from(missing.subquery())) or 0  # (rowcount: -1 on psycopg)
    session.execute(insert(d).from_select(
        ["event_id", "destination_id", "subscriber_id", "urgent", "status", "attempts", "next_at", "created_at"],
        missing))
    session.commit()
    return again + added


@dataclass(frozen=True)
class Overview:
    """One destination as the console and ``flask webhooks list`` show it."""

    destination: Destination
    backlog: int
    failed: int
    delivered: int
    last: list[tuple[EventDelivery, str]]


def overview(session: Session, last: int = 8) -> list[Overview]:
    """Every destination with its backlog, counts and last attempted deliveries (newest first)."""
    counts: dict[tuple[int, str], int] = {
        (dest, status): n for dest, status, n in session.execute(
            select(EventDelivery.destination_id, EventDelivery.status, func.count())
            .group_by(EventDelivery.destination_id, EventDelivery.status))}
    out = []
    for destination in session.scalars(select(Destination).order_by(Destination.id)):
        recent = session.execute(
            select(EventDelivery, Event.type).join(Event, Event.id == EventDelivery.event_id)
            .where(EventDelivery.destination_id == destination.id, EventDelivery.attempts > 0)
            .order_by(EventDelivery.id.desc()).limit(last)).all()
        of = lambda status: counts.get((destination.id, status), 0)  # noqa: E731
        out.append(Overview(destination, of("pending") + of("sending"), of("failed"), of("delivered"),
                            [(row[0], row[1]) for row in recent]))
    return out


def masked(secret: str) -> str:
    return f"{secret[:10]}…{secret[-4:]}" if len(secret) > 16 else "…"
