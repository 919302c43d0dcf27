"""The call log for organizers: sessions with their legs, filters, dashboard numbers and the CSV.

Read-only over ``call_sessions`` and ``call_legs`` (``sms.calls.sessions`` writes them). A session is
one phone call with a supporter; each leg is an office dialed (or skipped) during it. Caller
numbers leave this module masked, except in the CSV export (organizers asked for them).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from sms.calls.models import CallLeg, CallSession
from sms.console import dashboard
from sms.console.exports import batches, csv_lines
from sms.messaging import compliance

PAGE_SIZE = 50
DIALED = CallLeg.outcome != "skipped"
CONNECTED = CallLeg.outcome == "connected"
CALL_COLUMNS = ["call_id", "created_at", "direction", "demand", "caller", "zip", "call_status", "call_duration",
                "leg", "attempt", "office", "kind", "office_ref", "office_number", "outcome", "caller_report",
                "leg_duration", "leg_started_at"]


charts = dashboard.Charts()
"""The calls panel of the dashboard: calls, offices dialed and connected, per demand and office."""


@dataclass(frozen=True)
class LegRow:
    label: str
    kind: str
    outcome: str
    reported: str | None
    duration: int | None


@dataclass(frozen=True)
class CallRow:
    id: int
    created_at: datetime
    direction: str
    demand: str | None
    caller: str  # masked
    subscriber_id: int | None
    status: str
    duration: int | None
    legs: list[LegRow] = field(default_factory=list)

    @property
    def connected(self) -> int:
        return sum(leg.outcome == "connected" for leg in self.legs)


def page(session: Session, demand: str = "", office: str = "", number: int = 1,
         size: int = PAGE_SIZE) -> list[CallRow]:
    """Newest calls first, optionally only one demand's or those that dialed one office (by ref)."""
    query = select(CallSession).order_by(CallSession.id.desc())
    if demand:
        query = query.where(CallSession.demand == demand)
    if office:
        query = query.where(CallSession.id.in_(select(CallLeg.session_id).where(CallLeg.ref == office)))
    calls = session.scalars(query.limit(size).offset((max(number, 1) - 1) * size)).all()
    legs: dict[int, list[LegRow]] = {}
    if calls:
        rows = session.scalars(select(CallLeg).where(CallLeg.session_id.in_([c.id for c in calls]))
                               .order_by(CallLeg.session_id, CallLeg.position, CallLeg.attempt))
        for leg in rows:
            legs.setdefault(leg.session_id, []).append(
                LegRow(leg.label, leg.kind, leg.outcome, leg.reported, leg.duration))
    return [CallRow(c.id, c.created_at, c.direction, c.demand, compliance.mask(c.phone), c.subscriber_id,
                    c.status, c.duration, legs.get(c.id, [])) for c in calls]


def offices(session: Session) -> list[tuple[str, str]]:
    """(ref, label) of every office ever dialed, by label: the choices of the office filter."""
    rows = session.execute(select(CallLeg.ref, func.max(CallLeg.label)).group_by(CallLeg.ref))
    return sorted(((ref, label) for ref, label in rows), key=lambda r: r[1])


def demands(session: Session) -> list[str]:
    """Demand keywords that have calls (a renamed demand keeps its old keyword here)."""
    rows = session.scalars(select(CallSession.demand).where(CallSession.demand.is_not(None)).distinct())
    return sorted(rows)


def calls_csv(session: Session) -> Iterator[str]:
    """One row per leg (a session without legs gets one row), with the caller's full number."""
    return csv_lines(itertools.chain([CALL_COLUMNS], _csv_rows(session)))


def _csv_rows(session: Session) -> Iterator[list[Any]]:
    for batch in batches(session, CallSession):
        legs: dict[int, list[Any]] = {}
        for leg in session.execute(select(*CallLeg.__table__.columns).where(
                CallLeg.session_id.in_([c.id for c in batch])).order_by(CallLeg.position, CallLeg.attempt)):
            legs.setdefault(leg.session_id, []).append(leg)
        for c in batch:
            head = [c.id, c.created_at, c.direction, c.demand, c.phone, c.zip, c.status, c.duration]
            for leg in legs.get(c.id) or [None]:
                yield head + ([leg.position, leg.attempt, leg.label, leg.kind, leg.ref, leg.number, leg.outcome,
                               leg.reported, leg.duration, leg.started_at] if leg else [""] * 10)


@charts.series("calls", "Calls (supporters on the phone)", "calls")
def _calls(session: Session, since: datetime) -> dict[date, int]:
    return dashboard.count_by_day(session, CallSession.created_at, since, CallSession.call_sid.is_not(None))


@charts.series("offices_dialed", "Offices dialed", "calls")
def _dialed(session: Session, since: datetime) -> dict[date, int]:
    return dashboard.count_by_day(session, CallLeg.started_at, since, DIALED)


@charts.series("offices_connected", "Offices connected", "calls")
def _connected(session: Session, since: datetime) -> dict[date, int]:
    return dashboard.count_by_day(session, CallLeg.started_at, since, CONNECTED)


@charts.breakdown("calls_by_demand", "Per demand", "calls")
def by_demand(session: Session, since: datetime) -> list[dict[str, Any]]:
    """Offices dialed and connected per demand since ``since``, busiest first."""
    rows = session.execute(
        select(CallSession.demand, func.count(distinct(CallSession.id)), func.count(CallLeg.id),
               func.count(CallLeg.id).filter(CONNECTED))
        .join(CallLeg, CallLeg.session_id == CallSession.id)
        .where(CallLeg.started_at >= since, DIALED).group_by(CallSession.demand)
        .order_by(func.count(CallLeg.id).desc(), CallSession.demand))
    return [{"label": d or "(call-in, no demand)", "key": d or "", "calls": c, "dialed": n, "connected": k}
            for d, c, n, k in rows]


@charts.breakdown("calls_by_office", "Per office", "calls")
def by_office(session: Session, since: datetime, limit: int = 15) -> list[dict[str, Any]]:
    """Dialed, connected and average connected minutes per office since ``since``, busiest first."""
    rows = session.execute(
        select(CallLeg.ref, func.max(CallLeg.label), func.count(CallLeg.id), func.count(CallLeg.id).filter(CONNECTED),
               func.avg(CallLeg.duration).filter(CONNECTED))
        .where(CallLeg.started_at >= since, DIALED).group_by(CallLeg.ref)
        .order_by(func.count(CallLeg.id).desc(), func.max(CallLeg.label)).limit(limit))
    return [{"label": label, "key": ref, "dialed": n, "connected": k,
             "avg_seconds": round(float(avg)) if avg is not None else None} for ref, label, n, k, avg in rows]
