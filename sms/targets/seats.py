"""The seats of Congress, and what a members file must say about them before it replaces the data.

435 House seats apportioned among the 50 states by the 2020 census (for the 118th to the 122nd
Congress; the 2030 census reapportions them for the 123rd), one delegate's seat for each of DC,
PR, GU, VI, AS and MP, and two senators for each state. ``census`` counts a members file
against them: vacancies are counted (a seat may be vacant for months), but a member of a seat
that does not exist, a third senator or a second member for one seat means the file is wrong.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sms import defaults
from sms.targets.lookup import TERRITORIES, district_label

APPORTIONMENT = {
    "AK": 1, "AL": 7, "AR": 4, "AZ": 9, "CA": 52, "CO": 8, "CT": 5, "DE": 1, "FL": 28, "GA": 14, "HI": 2, "IA": 4,
    "ID": 2, "IL": 17, "IN": 9, "KS": 4, "KY": 6, "LA": 6, "MA": 9, "MD": 8, "ME": 2, "MI": 13, "MN": 8, "MO": 8,
    "MS": 4, "MT": 2, "NC": 14, "ND": 1, "NE": 3, "NH": 2, "NJ": 12, "NM": 3, "NV": 4, "NY": 26, "OH": 15, "OK": 5,
    "OR": 6, "PA": 17, "RI": 2, "SC": 7, "SD": 1, "TN": 9, "TX": 38, "UT": 4, "VA": 11, "VT": 1, "WA": 10, "WI": 8,
    "WV": 2, "WY": 1,
}
"""House seats per state from the 2020 census (the districts of data/congress/zccd.csv; a test checks it)."""
HOUSE_SEATS = sum(APPORTIONMENT.values())
SENATE_SEATS = 2 * len(APPORTIONMENT)
SHOWN = 12
"""Seats or members named in one message; the rest are counted."""


def house_seats() -> list[tuple[str, int]]:
    """Every voting House seat: ``(state, 0)`` for an at-large state, else districts 1 to n."""
    return [(state, n) for state, count in sorted(APPORTIONMENT.items())
            for n in ([0] if count == 1 else range(1, count + 1))]


def delegate_seats() -> list[tuple[str, int]]:
    return [(territory, 0) for territory in sorted(TERRITORIES)]


def is_seat(state: str, district: int) -> bool:
    """True if (state, district) is a House seat or a delegate's."""
    if state in TERRITORIES:
        return district == 0
    count = APPORTIONMENT.get(state)
    return count is not None and (district == 0 if count == 1 else 1 <= district <= count)


def named(items: Iterable[str], shown: int = SHOWN) -> str:
    """``NY-12, OH-3`` with at most ``shown`` named and the rest counted."""
    items = list(items)
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


@dataclass
class Census:
    """A members file counted against the seats."""

    senators: int = 0
    house: int = 0  # voting members
    delegates: int = 0
    vacant_house: list[str] = field(default_factory=list)  # NY-12
    vacant_senate: list[str] = field(default_factory=list)  # a state once per vacant seat
    vacant_delegates: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # what cannot be: the file is refused, even with --force

    @property
    def vacancies(self) -> int:
        return len(self.vacant_house) + len(self.vacant_senate)

    def implausible(self, limit: int = defaults.REFRESH_MAX_VACANCIES) -> str:
        """Why the vacancies look like a cut or half-published file, or "" (``--force`` accepts them)."""
        if self.vacancies <= limit:
            return ""
        return (f"{self.vacancies} seats would be vacant ({len(self.vacant_house)} of {HOUSE_SEATS} House seats, "
                f"{len(self.vacant_senate)} of {SENATE_SEATS} Senate seats), more than the {limit} a refresh may "
                f"leave: {named(self.vacant_house + self.vacant_senate)}")

    def __str__(self) -> str:
        def vacant(seats: list[str]) -> str:
            return f" ({len(seats)} vacant: {named(seats)})" if seats else ""
        return (f"{self.senators} of {SENATE_SEATS} senators{vacant(self.vacant_senate)}, {self.house} of "
                f"{HOUSE_SEATS} House seats filled{vacant(self.vacant_house)}, {self.delegates} of "
                f"{len(TERRITORIES)} delegates{vacant(self.vacant_delegates)}")


def census(records: Iterable[dict[str, Any]]) -> Census:
    """Count members (``sms.targets.importer.legislator_record`` fields) seat by seat."""
    found = Census()
    senators: dict[str, list[str]] = defaultdict(list)
    holders: dict[tuple[str, int], list[str]] = defaultdict(list)
    for member in records:
        who = f"{member['title']} {member['name']} ({member['bioguide']})"
        state = member["state"]
        if member["chamber"] == "senate":
            if state not in APPORTIONMENT:
                found.wrong.append(f"{who} is a senator for {state}, which has no senators")
            else:
                senators[state].append(who)
        elif not is_seat(state, member["district"] or 0):
            count = APPORTIONMENT.get(state)
            why = f"{state} has {count} district{'s' if count != 1 else ''}" if count else f"{state} is not a state"
            found.wrong.append(f"{who} holds {district_label(state, member['district'])}, which is no seat ({why})")
        else:
            holders[(state, member["district"] or 0)].append(who)
    for state, members in sorted(senators.items()):
        if len(members) > 2:
            found.wrong.append(f"{len(members)} senators for {state} (a state has 2): {', '.join(members)}")
    for seat, members in sorted(holders.items()):
        if len(members) > 1:
            found.wrong.append(f"{len(members)} members for {district_label(*seat)}: {', '.join(members)}")
    found.senators = sum(min(len(m), 2) for m in senators.values())
    found.vacant_senate = [s for s in sorted(APPORTIONMENT) for _ in range(2 - min(len(senators.get(s, [])), 2))]
    found.house = sum(1 for seat in house_seats() if seat in holders)
    found.vacant_house = [district_label(*seat) for seat in house_seats() if seat not in holders]
    found.delegates = sum(1 for seat in delegate_seats() if seat in holders)
    found.vacant_delegates = [district_label(*seat) for seat in delegate_seats() if seat not in holders]
    return found
