"""Office hours and call-backs for later: no one is patched through to a closed office.

DC offices answer about 9:00-17:00 Eastern on weekdays (``CALL_OFFICE_HOURS``); district
offices the same hours in their state's zone; a custom set declares its own with its targets
(data/demands.yaml). A ``CALL`` while every office is closed offers a call-back for the first
time an office is open in the caller's daytime, or, where the two never meet (Guam, the
Northern Mariana Islands), for when the first office opens, said in the caller's zone. ``CALL 9AM`` /
``CALL TOMORROW`` ask for one at a stated time in the caller's own zone. A call-back is
a ``ScheduledCall`` row first and an RQ ``enqueue_at`` second (the sweeper re-enqueues
rows Redis lost); it is never placed in the caller's quiet hours unless they said yes to a
call in their night (hours that never meet), and STOP or ``CANCEL CALL`` cancels it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms.calls.models import ScheduledCall
from sms.messaging import compliance, languages
from sms.settings import Settings
from sms.store import utcnow
from sms.targets import kinds, lookup, state_lookup

EASTERN = "America/New_York"
OVERLAP_HORIZON = timedelta(days=14)
"""How far ahead ``call_time`` looks for an office open in the caller's daytime before saying there is none."""
Hours = tuple[int, int, str]
PENDING = ("offered", "scheduled")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(AM|PM)?$")


def clock() -> datetime:
    """Now (tests freeze it by replacing this function; domain functions also take ``now=``)."""
    return utcnow()


def set_of(demand_targets: str) -> str:
    """The office-hours set of a demand's targets: ``congress`` or the custom set's name (when it calls only it)."""
    return kinds.only_custom(demand_targets) or "congress"


@dataclass(frozen=True)
class Schedule:
    """When a demand's offices answer on weekdays: (open hour, close hour, zone); None: always.

    ``hours`` are Congress's (or the only custom set's); ``levels`` those of the other levels a
    demand calls: ``state`` (in each state capitol's zone), ``city`` (the state's zone), ``custom``.
    """

    hours: Hours | None
    levels: dict[str, Hours | None] = field(default_factory=dict)

    def of(self, target: lookup.Target) -> Hours | None:
        """The hours of one office: a district office keeps them in its own state's zone, a state office in
        its capitol's, a mayor's in the state's."""
        level = "state" if target.kind in state_lookup.CHAMBERS or target.kind in STATEWIDE else \
            "city" if target.kind == "mayor" else "custom" if target.kind == "custom" else ""
        hours = self.levels.get(level, self.hours) if level else self.hours
        if hours is None:
            return None
        start, end, zone = hours
        if target.kind == "office" or level == "city":
            zone = lookup.timezone_of(target.state) or zone
        elif level == "state":  # a capitol keeps its own zone, whatever zone the hours were written in
            zone = state_lookup.zone_of(target.state) or zone
        return start, end, zone


STATEWIDE = ("governor", "attorney-general")


def schedule_of(session: Session, settings: Settings, demand_targets: str) -> Schedule:
    """The office hours of a demand's targets (``congress``, ``custom:<set>``, or kinds of several levels).

    CALL_OFFICE_HOURS=off: always open. Congress: its CALL_OFFICE_HOURS entry. A custom set:
    its CALL_OFFICE_HOURS entry if listed (an override), else the hours declared with the set
    (data/demands.yaml), else (a set started in the console) Congress's. State offices: the
    ``state`` entry if listed, else Congress's hours in each capitol's own zone; mayors: the
    ``city`` entry, else Congress's hours in the state's zone.
    """
    configured = settings.call_office_hours
    found = kinds.of(demand_targets)
    sets = kinds.custom_sets(found)
    if len(found) == 1 and sets:
        return _set_schedule(session, configured, sets[0])
    levels: dict[str, Hours | None] = {}
    if sets:
        levels["custom"] = _set_schedule(session, configured, sets[0]).hours
    if configured:
        for level in ("state", "city"):
            if level in configured:
                levels[level] = configured[level]
    return Schedule(configured.get("congress") if configured else None, levels)


def _set_schedule(session: Session, configured: dict[str, Hours], name: str) -> Schedule:
    if not configured or name in configured:
        return Schedule(configured.get(name))
    rules = lookup.set_rules(session, name)
    if rules is not None:
        return Schedule(rules.hours)
    return Schedule(configured.get("congress"))


def closed_now(schedule: Schedule, chosen: list[lookup.Target], now: datetime) -> bool:
    """True if every office in ``chosen`` is closed at ``now``."""
    return bool(chosen) and not any(is_open(schedule.of(t), now) for t in chosen)


def opening(schedule: Schedule, chosen: list[lookup.Target], now: datetime) -> str | None:
    """None if an office is open now, else when the first one opens (``Mon 9am ET``) in its own zone."""
    if not closed_now(schedule, chosen, now):
        return None
    hours = [h for h in (schedule.of(t) for t in chosen) if h is not None]
    first = min(hours, key=lambda h: next_open(h, now))
    return spoken_time(next_open(first, now), ZoneInfo(first[2]), now)


def is_open(hours: Hours | None, when: datetime) -> bool:
    if hours is None:
        return True
    local = when.astimezone(ZoneInfo(hours[2]))
    return local.weekday() < 5 and hours[0] <= local.hour < hours[1]


def next_open(hours: Hours | None, when: datetime) -> datetime:
    """The first moment at or after ``when`` that the office is open."""
    if is_open(hours, when):
        return when
    zone = ZoneInfo(hours[2])
    local = when.astimezone(zone)
    day = local.date() + timedelta(days=0 if local.hour < hours[0] else 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hours[0]), zone).astimezone(when.tzinfo)


def first_opening(schedule: Schedule, chosen: list[lookup.Target], when: datetime) -> datetime:
    """The first moment at or after ``when`` that any office in ``chosen`` is open."""
    return min(next_open(h, when) for h in [schedule.of(t) for t in chosen] or [None])


def call_time(settings: Settings, schedule: Schedule, chosen: list[lookup.Target], caller_zone: ZoneInfo,
              when: datetime) -> datetime | None:
    """The first moment from ``when`` on that an office is open and it is daytime for the caller
    (outside their quiet hours); None if the two never meet (Guam's day is Washington's night)."""
    hours = [schedule.of(t) for t in chosen] or [None]
    horizon = when + OVERLAP_HORIZON
    while when < horizon:
        allowed = compliance.next_allowed_time(first_opening(schedule, chosen, when), caller_zone,
                                               settings.quiet_hours)
        if any(is_open(h, allowed) for h in hours):
            return allowed
        when = allowed + timedelta(minutes=30)
    return None


def callback_time(settings: Settings, schedule: Schedule, chosen: list[lookup.Target], caller_zone: ZoneInfo,
                  when: datetime) -> tuple[datetime, bool]:
    """When to call back from ``when`` on, and whether that is in the caller's night: the first open
    office in their daytime, else (hours that never meet) the first office's opening."""
    daytime = call_time(settings, schedule, chosen, caller_zone, when)
    if daytime is not None:
        return daytime, False
    return first_opening(schedule, chosen, when), True


def parse_when(text: str, caller_zone: ZoneInfo, now: datetime) -> datetime | None:
    """``9AM``, ``2:30 PM``, ``14``, ``TOMORROW`` (at 9am) → the next such time in the caller's zone (UTC)."""
    words = " ".join(text.upper().split())
    local = now.astimezone(caller_zone)
    if words in ("TOMORROW", "TMRW"):
        return datetime.combine(local.date() + timedelta(days=1), time(9), caller_zone).astimezone(now.tzinfo)
    match = _TIME.match(words.replace("TOMORROW", "").strip())
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half == "PM" and hour < 12:
        hour += 12
    elif half == "AM" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    day = local.date() + timedelta(days=1 if "TOMORROW" in words else 0)
    at = datetime.combine(day, time(hour, minute), caller_zone)
    if at <= local:
        at += timedelta(days=1)
    return at.astimezone(now.tzinfo)


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
"""Day names in a spoken time (English sources: a language file translates each, and ``tomorrow``)."""


def spoken_time(when: datetime, zone: ZoneInfo, now: datetime, language: str | None = None) -> str:
    """``9am ET`` / ``tomorrow 9:30am CT`` / ``Mon 9am ET`` for a text, its words in ``language``."""
    local, today = when.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%I:%M%p").lstrip("0").replace(":00", "").lower()
    abbr = {"EST": "ET", "EDT": "ET", "CST": "CT", "CDT": "CT", "MST": "MT", "MDT": "MT", "PST": "PT",
            "PDT": "PT"}.get(local.tzname() or "", local.tzname() or "")
    if local.date() == today:
        day = ""
    elif local.date() == today + timedelta(days=1):
        day = languages.translate(language, "tomorrow") + " "
    else:
        day = languages.translate(language, WEEKDAYS[local.weekday()]) + " "
    return f"{day}{clock} {abbr}".strip()


def cancel(session: Session, phone: str) -> int:
    """Cancel pending call-backs of ``phone`` (STOP, CANCEL CALL); return how many."""
    return session.execute(update(ScheduledCall).where(
        ScheduledCall.phone == phone, ScheduledCall.status.in_(PENDING)).values(status="canceled")).rowcount


def pending_of(session: Session, phone: str) -> ScheduledCall | None:
    return session.scalar(select(ScheduledCall).where(ScheduledCall.phone == phone,
                                                      ScheduledCall.status.in_(PENDING)).order_by(
        ScheduledCall.id.desc()).limit(1))
