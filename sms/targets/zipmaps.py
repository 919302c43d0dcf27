"""ZIP maps over time: the day an import takes effect, and whether a map fits the members then.

A ZIP map (ZCTA → state and district, for one Congress's districts) is loaded with the day it
takes effect, e.g. ahead of a new Congress: ``flask import-zips zccd.csv --congress 120
--effective 2027-01-03``. Lookups switch to it at noon Eastern that day by themselves
(``sms.targets.lookup.place_of``); the maps before it stay for lookups of earlier moments.

``check`` compares a map's (state, district) pairs with the House members in force when it
takes effect (now, for a map already in effect): a pair that is no seat, or a member whose
district the map lacks, means the map and the members describe different districts, and the
import is refused naming the pairs (unless the members will follow: ``--members-will-follow``).
Districts of the map without a member are vacancies; a few are normal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sms import defaults
from sms.errors import DataError
from sms.targets import datasets, lookup, seats, terms
from sms.targets.models import Dataset, Legislator, ZipDistrict

NO_ZCTAS = frozenset({"AS", "GU", "MP", "VI"})
"""Island areas with no ZCTA: their delegates are found by ZIP prefix, never in a map."""


def effective_dates(session: Session) -> list[date]:
    """The days the loaded maps take effect, oldest first."""
    return sorted(session.scalars(select(ZipDistrict.effective).distinct()))


def map_effective(session: Session, origin: datasets.Origin | None) -> date:
    """The day a map import takes effect: the origin's ``effective``, else its Congress's first day, else
    that of the map in force now (the import replaces it), else ``lookup.EARLIEST`` (in force always)."""
    if origin is not None and origin.effective:
        return origin.effective
    if origin is not None and origin.congress:
        return terms.congress_span(origin.congress)[0]
    now = terms.clock()
    begun = [day for day in effective_dates(session) if terms.has_begun(day, now)]
    return begun[-1] if begun else lookup.EARLIEST


@dataclass(frozen=True)
class Fit:
    """How a map's districts fit the House members in force at ``moment``."""

    moment: datetime
    loaded: int  # House members in the data at all (0: nothing to check against)
    in_force: int  # House members in force at ``moment``
    not_seats: list[str] = field(default_factory=list)  # pairs that are no seat
    unmapped: list[str] = field(default_factory=list)  # members' districts the map lacks
    vacant: list[str] = field(default_factory=list)  # the map's districts without a member

    @property
    def problems(self) -> list[str]:
        """Why the map does not fit (empty when it does)."""
        when = self.moment.astimezone(terms.EASTERN).strftime("%Y-%m-%d %H:%M %Z")
        out = []
        if self.not_seats:
            out.append(f"{len(self.not_seats)} districts of the map are no House seat: {seats.named(self.not_seats)}")
        if self.loaded and not self.in_force:
            out.append(f"no House member's term is in force on {when}, so none of the map's {len(self.vacant)} "
                       f"districts has a member ({seats.named(self.vacant)}): the members loaded are of another "
                       "Congress; refresh them first (flask refresh-congress)")
        elif self.unmapped:
            out.append(f"{len(self.unmapped)} districts of the members in force on {when} are not in the map: "
                       f"{seats.named(self.unmapped)}")
        if self.in_force and len(self.vacant) > defaults.REFRESH_MAX_VACANCIES:
            out.append(f"{len(self.vacant)} districts of the map have no member in force on {when}: "
                       f"{seats.named(self.vacant)}")
        return out

    @property
    def notes(self) -> list[str]:
        if not self.loaded:
            return ["no members are loaded: the map's districts were not checked against them"]
        if self.vacant and not self.problems:
            return [f"vacant (no member in force): {seats.named(self.vacant)}"]
        return []


def check(session: Session, pairs: Iterable[tuple[str, int]], effective: date) -> Fit:
    """Compare a map's (state, district) pairs with the House members in force when it takes effect."""
    moment = max(terms.ends_at(effective), terms.clock())
    members = session.execute(select(Legislator.state, Legislator.district, Legislator.term_start,
                                     Legislator.term_end).where(Legislator.chamber == "house")).all()
    held = {(m.state, m.district or 0) for m in members
            if (m.term_start is None or terms.has_begun(m.term_start, moment)) and not terms.has_ended(m.term_end,
                                                                                                     moment)}
    mapped = set(pairs)
    label = lambda found: sorted(lookup.district_label(*seat) for seat in found)  # noqa: E731
    return Fit(moment, len(members), len(held),
               not_seats=label(seat for seat in mapped if not seats.is_seat(*seat)),
               unmapped=label(seat for seat in held - mapped if seat[0] not in NO_ZCTAS),
               vacant=label(seat for seat in mapped - held if seats.is_seat(*seat)))


def remove(session: Session, effective: date) -> int:
    """Drop the map that takes effect on ``effective`` and its records; lookups fall back to the one before. Commit.

    Refused for the only map loaded: nobody could be matched to a district.
    """
    days = effective_dates(session)
    if effective not in days:
        loaded = ", ".join(day.isoformat() for day in days) or "none"
        raise DataError(f"no ZIP map takes effect on {effective.isoformat()} (maps loaded from: {loaded})")
    if len(days) == 1:
        raise DataError("it is the only ZIP map loaded: load its replacement with flask import-zips instead")
    removed = session.execute(delete(ZipDistrict).where(ZipDistrict.effective == effective)).rowcount or 0
    session.execute(delete(Dataset).where(Dataset.kind == "zips", Dataset.effective == effective))
    lookup.bump_version(session)
    session.commit()
    lookup.forget_directory()
    return removed
