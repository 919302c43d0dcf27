"""How a web call-back is going, for the page that polls it (no phone number in it, only offices).

The handle is a random 32-hex string the page was given; it tells only the state of that one
call and the offices' names, which anyone could look up from the ZIP anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms.calls import commands, office_hours, sessions
from sms.calls.models import CallLeg, CallSession, ScheduledCall
from sms.messaging import catalogue
from sms.targets import lookup
from sms.web.models import WebCall

STATES = {"queued": "queued", "placing": "queued", "placed": "ringing", "answered": "on_call",
          "confirmed": "on_call", "completed": "done", "closed": "done", "unconfirmed": "done",
          "unanswered": "unanswered", "failed": "failed", "expired": "failed", "canceled": "canceled"}
"""A call session's status → what the page says (``status_<state>`` in data/web.yaml)."""
FINAL = frozenset({"done", "unanswered", "failed", "canceled"})
LEGS = {"connected": "connected", "dialing": "dialing"}
"""A leg's outcome → the page's word for it (anything else: missed; an office not dialed yet: waiting)."""
ENDED = frozenset(status for status, state in STATES.items() if state in FINAL)


@dataclass(frozen=True)
class Progress:
    """One web call's state, its booked time (``booked``) and each office dialed so far."""

    state: str
    demand: str
    run_at: datetime | None = None
    script: str = ""
    when: str = ""
    """The booked time as said to the caller (``tomorrow 9am ET``), in their zone."""
    offices: list[tuple[str, str]] = field(default_factory=list)  # (label, connected | dialing | missed | waiting)

    @property
    def final(self) -> bool:
        return self.state in FINAL


def of(session: Session, handle: str) -> Progress | None:
    """The progress of the web call ``handle``, or None if there is no such call."""
    web = session.scalar(select(WebCall).where(WebCall.handle == handle[:32]))
    if web is None:
        return None
    demand = catalogue.current(session).demand(web.demand)
    script = demand.script if demand else ""
    if web.scheduled_id is not None:
        row = session.get(ScheduledCall, web.scheduled_id)
        script = commands.fill_script(script, "your lawmaker", row.zip, row.state)
        if row.status in office_hours.PENDING:
            zone = ZoneInfo(row.timezone or office_hours.EASTERN)
            return Progress("booked", web.demand, row.run_at, script,
                            office_hours.spoken_time(row.run_at, zone, office_hours.clock()))
        if row.session_id is None:
            return Progress("canceled" if row.status == "canceled" else "failed", web.demand, row.run_at, script)
        call = session.get(CallSession, row.session_id)
    else:
        call = session.get(CallSession, web.session_id)
    if call is None:
        return Progress("failed", web.demand, script=script)
    first = lookup.Target.of(call.targets[0]).spoken if call.targets else "your lawmaker"
    script = commands.fill_script(demand.script if demand else "", first, call.zip, None)
    state = "ringing" if sessions.placed_after_all(call) else STATES.get(call.status, "queued")
    return Progress(state, web.demand, script=script, offices=_offices(session, call))


def _offices(session: Session, call: CallSession) -> list[tuple[str, str]]:
    """Each office dialed so far with its outcome, then the ones still to come (``waiting``)."""
    legs = _legs(session, call)
    done = {leg.position for leg in legs}
    later = [(lookup.Target.of(t).label, "waiting") for n, t in enumerate(call.targets or []) if n not in done
             and n >= call.position and call.status not in ENDED]
    return [(leg.label, LEGS.get(leg.outcome, "missed")) for leg in legs] + later


def _legs(session: Session, call: CallSession) -> list[CallLeg]:
    return [leg for leg in sessions.legs_of(session, call) if leg.outcome != "skipped"]


def cancel(session: Session, handle: str, now: datetime | None = None) -> bool:
    """Cancel a booked web call-back (the page's button); True if there was one to cancel."""
    web = session.scalar(select(WebCall).where(WebCall.handle == handle[:32]))
    if web is None or web.scheduled_id is None:
        return False
    row = session.get(ScheduledCall, web.scheduled_id)
    if row is None or row.status not in office_hours.PENDING or row.run_at < (now or office_hours.clock()):
        return False
    row.status = "canceled"
    session.commit()
    return True
