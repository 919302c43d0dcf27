"""Audiences: saved filters over subscribers, compiled to SQL and counted in SQL.

A filter is a small dict (JSON in the ``segments`` table) so the CLI, the console
and reminders share one vocabulary::

    {"demands": ["CHOKEHOLD"], "states": ["KY"], "districts": ["KY-3"], "zips": ["40202"],
     "called": true, "joined_after": "2026-01-01", "joined_before": ..., "active_since": ...,
     "active_before": ...}

Opted-out subscribers are never part of an audience, whatever the filter says.
"Called" is decided by ``CALLED_SOURCES``: subqueries of subscriber ids who called:
inbound texts starting with ``CALL`` (the call-back request) and the calls
feature's ``call_sessions`` log (call-backs and call-ins).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Select, exists, func, or_, select, union
from sqlalchemy.orm import Session

from sms.broadcasts.models import Segment
from sms.errors import AudienceError
from sms.messaging import languages
from sms.store import Interest, Message, Subscriber

FILTER_KEYS = frozenset({
    "demands", "states", "districts", "zips", "called", "joined_after", "joined_before",
    "active_since", "active_before", "languages",
})
STATES = frozenset(
    "AK AL AR AZ CA CO CT DE FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS MT NC ND NE NH NJ NM NV NY OH "
    "OK OR PA RI SC SD TN TX UT VA VT WA WI WV WY DC AS GU MP PR VI".split()
)
"""The two-letter codes a subscriber's state can have: the 50 states, DC and the five inhabited territories."""


def _called_by_text() -> Select:
    return select(Message.subscriber_id).where(
        Message.direction == "in", func.upper(func.trim(Message.body)).like("CALL%")
    )


def _called_by_call_log() -> Select:
    from sms.calls.models import CallSession  # the calls feature's table (call-backs and call-ins)

    return select(CallSession.subscriber_id).where(CallSession.subscriber_id.is_not(None))


CALLED_SOURCES: list[Callable[[], Select]] = [_called_by_text, _called_by_call_log]
"""Subqueries of subscriber ids that count as "called": a texted CALL, or any call session."""


def clean(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise a filter dict; raise AudienceError naming the bad key."""
    unknown = set(filters) - FILTER_KEYS
    if unknown:
        raise AudienceError(f"unknown filter {sorted(unknown)[0]!r}")
    out: dict[str, Any] = {}
    for key in ("demands", "states", "zips", "districts"):
        values = [str(v).strip().upper() for v in filters.get(key) or [] if str(v).strip()]
        if values:
            out[key] = values
    out["states"] = [state_code(state) for state in out.get("states", [])] or None
    for zip_code in out.get("zips", []):
        if len(zip_code) != 5 or not zip_code.isdigit():
            raise AudienceError(f"ZIP must be 5 digits, not {zip_code!r}")
    out["districts"] = [_district(d) for d in out.get("districts", [])] or None
    codes = [str(v).strip().lower() for v in filters.get("languages") or [] if str(v).strip()]
    for code in codes:
        if not languages.known(code):
            raise AudienceError(f"language must be one of {', '.join(languages.codes())}, not {code!r}")
    out["languages"] = codes or None
    if filters.get("called") is not None:
        out["called"] = bool(filters["called"])
    for key in ("joined_after", "joined_before", "active_since", "active_before"):
        if filters.get(key):
            out[key] = parse_when(filters[key], key).isoformat()
    return {k: v for k, v in out.items() if v is not None}


def state_code(value: str) -> str:
    """``value`` as an upper-case code from ``STATES``; AudienceError naming it otherwise."""
    code = str(value).strip().upper()
    if code not in STATES:
        raise AudienceError(f"state must be a two-letter US state or territory code like KY, not {value!r}")
    return code


def _district(value: str) -> str:
    state, _, number = value.partition("-")
    if len(state) != 2 or not number.isdigit():
        raise AudienceError(f"district must look like KY-3, not {value!r}")
    state_code(state)
    return f"{state}-{int(number)}"


DESCRIBED = (("states", "state"), ("districts", "district"), ("zips", "zip"), ("demands", "demand"),
             ("languages", "language"), ("called", "called"), ("joined_after", "joined-after"),
             ("joined_before", "joined-before"),
             ("active_since", "active-since"), ("active_before", "active-before"))
"""Filter keys in the order ``describe`` lists them, with the CLI option each comes from."""


def describe(filters: Mapping[str, Any]) -> str:
    """A stored filter as one readable line: ``state=MA,NY demand=CHOKEHOLD called=yes``."""
    parts = []
    for key, label in DESCRIBED:
        value = filters.get(key)
        if value is None or value == []:
            continue
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, list):
            text = ",".join(str(v) for v in value)
        elif key in ("joined_after", "joined_before", "active_since", "active_before"):
            when = parse_when(value)
            text = when.date().isoformat() if when.time() == time(0) else when.isoformat()
        else:
            text = str(value)
        parts.append(f"{label}={text}")
    return " ".join(parts) or "everyone opted in"


def in_words(filters: Mapping[str, Any], urgent: bool = False) -> str:
    """A stored filter as a sentence: ``Opted-in subscribers in KY or CA who texted CHOKEHOLD and have called``."""
    places = [template.format(_either(filters[key])) for key, template in
              (("states", "in {}"), ("districts", "in district {}"), ("zips", "in ZIP {}")) if filters.get(key)]
    clauses = [f"texted {_either(filters['demands'])}"] if filters.get("demands") else []
    if filters.get("languages"):
        clauses.append(f"read {_either([languages.get(c).name for c in filters['languages']])}")
    if filters.get("called") is not None:
        clauses.append("have called" if filters["called"] else "have never called")
    for key, words in (("joined_after", "joined on or after"), ("joined_before", "joined before"),
                       ("active_since", "texted on or after"), ("active_before", "last texted before")):
        if filters.get(key):
            when = parse_when(filters[key])
            clauses.append(f"{words} {when.date().isoformat() if when.time() == time(0) else when.isoformat()}")
    who = " ".join(([", ".join(places)] if places else []) + ([f"who {_all_of(clauses)}"] if clauses else []))
    tier = "LESS subscribers too: it is urgent" if urgent else "not LESS subscribers: they hear only urgent ones"
    return f"{'Opted-in subscribers ' + who if who else 'Every opted-in subscriber'} ({tier})"


def _either(values: list[Any]) -> str:
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def _all_of(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def parse_when(value: Any, key: str = "date") -> datetime:
    """A date or ISO 8601 time as an aware UTC datetime (naive means UTC)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise AudienceError(f"{key} must be an ISO 8601 date or time, not {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def recipients(filters: Mapping[str, Any], urgent: bool = False) -> Select:
    """SELECT id, phone, timezone of the opted-in subscribers ``filters`` selects.

    Low-frequency subscribers (``LESS``) only hear urgent messages.
    """
    f = clean(filters)
    s = Subscriber
    query = select(s.id, s.phone, s.timezone).where(s.status == "active")
    if not urgent:
        query = query.where(s.tier != "low")
    if f.get("demands"):
        query = query.where(exists().where(Interest.subscriber_id == s.id, Interest.keyword.in_(f["demands"])))
    if f.get("states"):
        query = query.where(s.state.in_(f["states"]))
    if f.get("zips"):
        query = query.where(s.zip.in_(f["zips"]))
    if f.get("languages"):  # a texter who chose none reads the default language
        chosen = s.language.in_(f["languages"])
        query = query.where(or_(chosen, s.language.is_(None)) if languages.DEFAULT in f["languages"] else chosen)
    if f.get("districts"):
        pairs = [d.split("-") for d in f["districts"]]
        query = query.where(or_(*[(s.state == st) & (s.district == int(n)) for st, n in pairs]))
    if "called" in f:
        sources = [source() for source in CALLED_SOURCES]
        ids = sources[0] if len(sources) == 1 else select(union(*sources).subquery().c[0])
        called = s.id.in_(ids)
        query = query.where(called if f["called"] else ~called)
    bounds = (("joined_after", s.created_at, ">="), ("joined_before", s.created_at, "<"),
              ("active_since", s.last_active_at, ">="), ("active_before", s.last_active_at, "<"))
    for key, column, op in bounds:
        if key in f:
            when = parse_when(f[key])
            query = query.where(column >= when if op == ">=" else column < when)
    return query


def count(session: Session, filters: Mapping[str, Any], urgent: bool = False) -> int:
    """How many subscribers ``filters`` selects, counted by the database."""
    return session.scalar(select(func.count()).select_from(recipients(filters, urgent).subquery())) or 0


def save(session: Session, name: str, filters: Mapping[str, Any]) -> Segment:
    """Create or replace the segment ``name``."""
    name = name.strip()
    if not name or len(name) > 60:
        raise AudienceError("segment name must be 1-60 characters")
    cleaned = clean(filters)
    segment = session.scalar(select(Segment).where(Segment.name == name))
    if segment is None:
        segment = Segment(name=name, filters=cleaned)
        session.add(segment)
    else:
        segment.filters = cleaned
    session.flush()
    return segment


def get(session: Session, name: str) -> Segment:
    """The saved segment ``name``; AudienceError if there is none."""
    segment = session.scalar(select(Segment).where(Segment.name == name.strip()))
    if segment is None:
        raise AudienceError(f"no segment named {name!r}")
    return segment


def all_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.name)))


def combine(*parts: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge filters (a saved segment plus --demand/--state): lists are intersected by AND."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in clean(part or {}).items():
            if isinstance(value, list) and key in merged:
                narrowed = [v for v in merged[key] if v in value]
                if not narrowed:
                    raise AudienceError(f"the {key} given exclude everyone the segment selects")
                merged[key] = narrowed
            else:
                merged[key] = value
    return merged


def has_called(session: Session, subscriber_id: int) -> bool:
    """True if any ``CALLED_SOURCES`` lists this subscriber."""
    for source in CALLED_SOURCES:
        ids = source().subquery()
        if session.scalar(select(ids.c[0]).where(ids.c[0] == subscriber_id).limit(1)) is not None:
            return True
    return False
