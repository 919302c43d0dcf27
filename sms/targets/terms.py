"""Time facts about Congress: when a term ends, which Congress a moment falls in, and the clock.

Since the 20th Amendment a Congress and its members' regular terms begin and end at noon
on January 3 of odd years (the 119th: 2025-01-03 to 2027-01-03). congress-legislators gives
each term's end as a date; a term counts as ended from noon Eastern on that date (an
appointed senator's term "ends" on the special election's date, and the winner is sworn in
some days later, so the seat may then have nobody in the data).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sms import defaults
from sms.store import utcnow

EASTERN = ZoneInfo("America/New_York")
SOON = timedelta(days=defaults.TERMS_ENDING_SOON_DAYS)


def clock() -> datetime:
    """Now, for every term check that is not given a time (tests freeze it here)."""
    return utcnow()


def ends_at(day: date) -> datetime:
    """The moment a term dated ``day`` ends: noon Eastern."""
    return datetime.combine(day, time(12), EASTERN)


def has_ended(end: date | None, now: datetime) -> bool:
    """True once a term ending ``end`` is over (unknown ends never are)."""
    return end is not None and now >= ends_at(end)


def has_begun(day: date, now: datetime) -> bool:
    """True once what starts on ``day`` (a term, a ZIP map) is in force: from noon Eastern that day."""
    return now >= ends_at(day)


def ends_soon(end: date | None, now: datetime, within: timedelta = SOON) -> bool:
    """True if a term ending ``end`` is still running but ends within ``within`` of ``now``."""
    return end is not None and now < ends_at(end) <= now + within


def congress_span(number: int) -> tuple[date, date]:
    """The first and last day of Congress ``number`` (each starts on the day the previous ends)."""
    return date(1787 + 2 * number, 1, 3), date(1789 + 2 * number, 1, 3)


def congress_at(moment: datetime) -> int:
    """The Congress sitting at ``moment`` (from noon Eastern on January 3 of an odd year)."""
    number = (moment.astimezone(EASTERN).year - 1787) // 2
    return number - 1 if moment < ends_at(congress_span(number)[0]) else number


def congress_on(day: date) -> int:
    """The Congress a term starting on ``day`` belongs to."""
    return congress_at(ends_at(day))


def ordinal(number: int) -> str:
    """``119th``, ``121st``, ``122nd``."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def spoken_date(day: date) -> str:
    """``Nov 3, 2026`` (for texts; the console and CLI use ISO dates)."""
    return f"{day:%b} {day.day}, {day.year}"
