"""Numbers for the console dashboard: totals and per-day series, computed in SQL.

Each series is a function in a ``Charts`` table (``@charts.series(name, label, group)``)
that returns ``{date: count}`` for a window of days; the dashboard draws every
series of a group on one chart. ``@charts.breakdown`` adds a table to a group's
panel (calls per demand, per office). The calls feature keeps its own table in
``sms.calls.call_log``; ``sms.features`` lists every table and ``install`` puts
them on the dashboard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from sms.store import ConsentEvent, Interest, Message, Subscriber, utcnow

DEFAULT_DAYS = 30
UNSENT = ("scheduled", "cancelled")
SENT_OUT = (Message.direction == "out", Message.status.not_in(UNSENT))
"""Outbound texts that count as sent: planned follow-ups and cancelled ones do not."""

SeriesFn = Callable[[Session, datetime], dict[date, int]]


@dataclass(frozen=True)
class SeriesDef:
    name: str
    label: str
    group: str
    fn: SeriesFn


BreakdownFn = Callable[[Session, datetime], list[dict[str, Any]]]
SERIES: dict[str, SeriesDef] = {}
"""Every installed per-day series, by name."""
BREAKDOWNS: dict[str, SeriesDef] = {}
"""Tables over the same window (calls per demand, per office): rows of dicts with a ``label``."""


@dataclass
class Charts:
    """One feature's dashboard series and breakdown tables."""

    series_defs: dict[str, SeriesDef] = field(default_factory=dict)
    breakdown_defs: dict[str, SeriesDef] = field(default_factory=dict)

    def series(self, name: str, label: str, group: str) -> Callable[[SeriesFn], SeriesFn]:
        """A per-day series: ``fn(session, since)`` returns counts keyed by date in ``since``'s zone
        (``count_by_day`` does that)."""

        def decorate(fn: SeriesFn) -> SeriesFn:
            self.series_defs[name] = SeriesDef(name, label, group, fn)
            return fn

        return decorate

    def breakdown(self, name: str, label: str, group: str) -> Callable[[BreakdownFn], BreakdownFn]:
        """A table for a group's panel: ``fn(session, since)`` returns rows (dicts with ``label``)."""

        def decorate(fn: BreakdownFn) -> BreakdownFn:
            self.breakdown_defs[name] = SeriesDef(name, label, group, fn)  # type: ignore[arg-type]
            return fn

        return decorate


charts = Charts()
"""The dashboard's own series: people and texts."""


def install(tables: Iterable[Charts]) -> None:
    """Show the series and tables of ``tables`` on the dashboard (``sms.features.install``)."""
    SERIES.clear()
    BREAKDOWNS.clear()
    for table in tables:
        SERIES.update(table.series_defs)
        BREAKDOWNS.update(table.breakdown_defs)


def hour_of(session: Session, column: Any) -> Any:
    """SQL for the UTC hour a timestamp column falls in, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", column))
    return func.strftime("%Y-%m-%d %H:00:00", column)


def count_by_day(session: Session, column: Any, since: datetime, *where: Any) -> dict[date, int]:
    """Rows per calendar day of ``column`` since ``since``, days in ``since``'s time zone (UTC if naive).

    SQL counts per UTC hour (at most 24 rows a day) and Python puts each hour on its local
    day, so daylight saving time is right on both databases. Zones whose offset is not a
    whole hour (India, Newfoundland) put up to half an hour on the neighbouring day.
    """
    zone = since.tzinfo or UTC
    hour = hour_of(session, column)
    rows = session.execute(select(hour, func.count()).where(column >= since, *where).group_by(hour))
    counts: dict[date, int] = {}
    for at, n in rows:
        if at is not None:
            day = _as_hour(at).astimezone(zone).date()
            counts[day] = counts.get(day, 0) + n
    return counts


def _as_hour(value: datetime | str) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


@charts.series("new_subscribers", "New subscribers", "people")
def _new_subscribers(session: Session, since: datetime) -> dict[date, int]:
    return count_by_day(session, Subscriber.created_at, since)


@charts.breakdown("people_by_language", "By language", "people")
def _by_language(session: Session, since: datetime) -> list[dict[str, Any]]:
    """Opted-in subscribers per language (all time) and those who joined since ``since``."""
    from sms.messaging import languages

    rows = session.execute(select(Subscriber.language, func.count(Subscriber.id),
                                  func.count(Subscriber.id).filter(Subscriber.created_at >= since))
                           .where(Subscriber.status == "active").group_by(Subscriber.language)).all()
    counts: dict[str, list[int]] = {}
    for code, total, new in rows:
        known = code if languages.known(code) else languages.DEFAULT
        counts.setdefault(known, [0, 0])
        counts[known][0] += total
        counts[known][1] += new
    return [{"label": languages.get(code).name, "key": code, "subscribers": total, "new": new}
            for code, (total, new) in sorted(counts.items(), key=lambda item: -item[1][0])]


@charts.series("opt_ins", "Opt-ins", "people")
def _opt_ins(session: Session, since: datetime) -> dict[date, int]:
    return count_by_day(session, ConsentEvent.created_at, since, ConsentEvent.action == "opt_in")


@charts.series("opt_outs", "Opt-outs", "people")
def _opt_outs(session: Session, since: datetime) -> dict[date, int]:
    return count_by_day(session, ConsentEvent.created_at, since, ConsentEvent.action == "opt_out")


@charts.series("texts_in", "Texts in", "texts")
def _texts_in(session: Session, since: datetime) -> dict[date, int]:
    return count_by_day(session, Message.created_at, since, Message.direction == "in")


@charts.series("texts_out", "Texts out", "texts")
def _texts_out(session: Session, since: datetime) -> dict[date, int]:
    return count_by_day(session, Message.created_at, since, *SENT_OUT)


@dataclass
class Stats:
    days: list[str]
    """The window's dates in ``zone``, oldest first; the last one is today there."""
    totals: dict[str, int]
    groups: dict[str, list[dict[str, Any]]]
    interests: list[dict[str, Any]]
    calls_available: bool
    notes: list[str] = field(default_factory=list)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    zone: str = "UTC"

    @property
    def today(self) -> str:
        return self.days[-1]

    @property
    def today_label(self) -> str:
        """``Tue 1 Dec``: today in ``zone``, as the page says it."""
        day = date.fromisoformat(self.today)
        return f"{day:%a} {day.day} {day:%b}"

    def series_total(self, name: str) -> int:
        """The sum of a series over the window (0 if no such series)."""
        return next((sum(s["data"]) for group in self.groups.values() for s in group if s["name"] == name), 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days, "totals": self.totals, "groups": self.groups,
            "interests": self.interests, "calls_available": self.calls_available, "tables": self.tables,
            "zone": self.zone, "today": self.today,
        }


def compute(session: Session, days: int = DEFAULT_DAYS, now: datetime | None = None,
            zone: tzinfo = UTC) -> Stats:
    """Totals, every registered series over the last ``days`` days (today included, days in ``zone``),
    and interest per demand."""
    now = now or utcnow()
    first = now.astimezone(zone).date() - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=zone)
    axis = [first + timedelta(days=i) for i in range(days)]
    groups: dict[str, list[dict[str, Any]]] = {}
    for definition in SERIES.values():
        counts = definition.fn(session, since)
        groups.setdefault(definition.group, []).append(
            {"name": definition.name, "label": definition.label, "data": [counts.get(d, 0) for d in axis]}
        )
    tables: dict[str, dict[str, Any]] = {}
    for definition in BREAKDOWNS.values():
        tables[definition.name] = {"title": definition.label, "group": definition.group,
                                   "rows": definition.fn(session, since)}
    return Stats(
        days=[d.isoformat() for d in axis],
        totals=totals(session),
        groups=groups,
        interests=interests(session),
        calls_available=has_table(session, "call_sessions"),
        tables=tables,
        zone=str(getattr(zone, "key", None) or zone),
    )


def totals(session: Session) -> dict[str, int]:
    by_status = dict(session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status)).all())
    texts_in = session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
    texts_out = session.scalar(select(func.count()).select_from(Message).where(*SENT_OUT))
    return {
        "subscribers": sum(by_status.values()),
        "active": by_status.get("active", 0),
        "opted_out": by_status.get("opted_out", 0),
        "texts_in": texts_in or 0,
        "texts_out": texts_out or 0,
    }


def interests(session: Session) -> list[dict[str, Any]]:
    """Subscribers per demand/campaign keyword, most popular first."""
    rows = session.execute(
        select(Interest.keyword, func.count(Interest.id), func.sum(Interest.times))
        .group_by(Interest.keyword).order_by(func.count(Interest.id).desc(), Interest.keyword)
    )
    return [{"keyword": k, "subscribers": n, "texts": int(t or 0)} for k, n, t in rows]


def has_table(session: Session, name: str) -> bool:
    """True once a feature's table exists (the calls panel waits for the calls migration)."""
    return inspect(session.get_bind()).has_table(name)
