"""Organizer edits of call targets: custom target sets, the ZIP lookup and the data status.

Custom targets are checked the way ``flask import-targets`` checks the YAML (phone numbers
must be valid US numbers, stored in E.164) and only numbers stored here are ever dialed.
Call sessions keep a copy of their targets, so an edit never changes a call in progress.
Note that ``flask import-targets`` replaces a set with the YAML file's version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import distinct, func, select, update
from sqlalchemy.orm import Session

from sms.calls import sessions
from sms.messaging import catalogue
from sms.settings import Settings
from sms.store import Demand
from sms.targets import kinds, lookup, state_lookup, targeting, terms
from sms.targets.importer import e164
from sms.targets.models import CustomTarget, DistrictOffice, Legislator, ZipDistrict

SET_NAME = re.compile(r"^[a-z0-9_]{1,60}$")
LIMITS = {"name": 120, "title": 60, "note": 400}


@dataclass
class TargetEdit:
    """A custom target as typed into the form (phone not yet normalised)."""

    name: str = ""
    title: str = ""
    phone: str = ""
    note: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> TargetEdit:
        return cls(**{k: " ".join(str(form.get(k) or "").split()) for k in ("name", "title", "phone", "note")})

    @classmethod
    def of(cls, row: CustomTarget) -> TargetEdit:
        return cls(row.name, row.title, row.phone, row.note)


def problems(edit: TargetEdit) -> dict[str, str]:
    """Field → what is wrong; empty when the edit can be saved."""
    found = {k: f"At most {n} characters." for k, n in LIMITS.items() if len(getattr(edit, k)) > n}
    if not edit.name:
        found["name"] = "Required."
    try:
        if e164(edit.phone) is None:
            found["phone"] = "Required."
    except ValueError:
        found["phone"] = "Not a valid US phone number (e.g. 502-574-1100 or +15025741100)."
    return found


def set_problem(set_name: str) -> str | None:
    if not SET_NAME.match(set_name):
        return "A set name is 1-60 lowercase letters, digits or _ (e.g. louisville_council)."
    return None


def add(session: Session, set_name: str, edit: TargetEdit) -> CustomTarget:
    """Append a target to ``set_name`` (creating the set); the edit must have no problems."""
    last = session.scalar(select(func.max(CustomTarget.position)).where(CustomTarget.set_name == set_name))
    row = CustomTarget(set_name=set_name, position=(last + 1) if last is not None else 0)
    _apply(row, edit)
    session.add(row)
    session.commit()
    return row


def save(session: Session, row: CustomTarget, edit: TargetEdit) -> None:
    _apply(row, edit)
    session.commit()


def _apply(row: CustomTarget, edit: TargetEdit) -> None:
    row.name, row.title, row.note = edit.name, edit.title, edit.note
    phone = e164(edit.phone) or ""
    if phone != row.phone:
        row.verified_on = None  # a new number is not known to reach the office until someone calls it
    row.phone = phone


def remove(session: Session, row: CustomTarget) -> None:
    session.delete(row)
    session.commit()


def move(session: Session, row: CustomTarget, delta: int) -> bool:
    """Swap ``row`` with its neighbour up (-1) or down (+1) in the calling order; False at an end."""
    column = CustomTarget.position
    nearer = column < row.position if delta < 0 else column > row.position
    other = session.scalar(select(CustomTarget).where(CustomTarget.set_name == row.set_name, nearer)
                           .order_by(column.desc() if delta < 0 else column).limit(1))
    if other is None:
        return False
    mine, theirs = row.position, other.position
    # (set_name, position) is unique: park one row first so no statement sees a duplicate.
    session.execute(update(CustomTarget).where(CustomTarget.id == row.id).values(position=-1))
    session.execute(update(CustomTarget).where(CustomTarget.id == other.id).values(position=mine))
    session.execute(update(CustomTarget).where(CustomTarget.id == row.id).values(position=theirs))
    session.commit()
    return True


@dataclass(frozen=True)
class TargetSet:
    name: str
    targets: list[CustomTarget]
    demands: list[str]  # keywords whose targets are ``custom:<name>``
    rules: lookup.SetRules | None = None  # hours and constituents from data/demands.yaml; None: none declared

    @property
    def hours(self) -> str:
        """``9-17 America/Kentucky/Louisville on weekdays``, ``always open`` or Congress's (none declared)."""
        if self.rules is None:
            return "Congress's office hours (none declared: flask import-targets loads them from the YAML)"
        if self.rules.hours is None:
            return "always open"
        return "{}-{} {} on weekdays".format(*self.rules.hours)


def sets(session: Session) -> list[TargetSet]:
    """Every custom set that has targets or is named by a demand (an empty one calls no one)."""
    used: dict[str, list[str]] = {}
    for keyword, spec in session.execute(select(Demand.keyword, Demand.targets).order_by(Demand.position)):
        for name in kinds.custom_sets(kinds.of(spec or "")):
            used.setdefault(name, []).append(keyword)
    rows: dict[str, list[CustomTarget]] = {}
    for row in session.scalars(select(CustomTarget).order_by(CustomTarget.set_name, CustomTarget.position)):
        rows.setdefault(row.set_name, []).append(row)
    return [TargetSet(name, rows.get(name, []), used.get(name, []), lookup.set_rules(session, name))
            for name in sorted(set(used) | set(rows))]


@dataclass(frozen=True)
class DataStatus:
    """What the Congress tables hold (the ZIP map: the one in force) and when an import last changed the members."""

    representatives: int
    senators: int
    without_phone: int
    members_changed_at: datetime | None
    offices: int
    zip_rows: int
    zips: int
    districts: int

    @property
    def loaded(self) -> bool:
        return self.representatives + self.senators > 0 and self.zip_rows > 0


def data_status(session: Session) -> DataStatus:
    chambers = dict(session.execute(select(Legislator.chamber, func.count()).group_by(Legislator.chamber)).all())
    in_force = ZipDistrict.effective == lookup.directory(session).map_at(terms.clock())
    zips = session.execute(select(func.count(), func.count(distinct(ZipDistrict.zip)))
                           .select_from(ZipDistrict).where(in_force)).one()
    seats = session.scalar(select(func.count()).select_from(
        select(ZipDistrict.state, ZipDistrict.district).where(in_force).distinct().subquery())) or 0
    return DataStatus(
        representatives=chambers.get("house", 0), senators=chambers.get("senate", 0),
        without_phone=session.scalar(select(func.count()).where(Legislator.phone.is_(None))) or 0,
        members_changed_at=session.scalar(select(func.max(Legislator.updated_at))),
        offices=session.scalar(select(func.count()).select_from(DistrictOffice)) or 0,
        zip_rows=zips[0], zips=zips[1], districts=seats,
    )


@dataclass(frozen=True)
class Lookup:
    """Who a texter from ``zip`` would be connected to, per demand."""

    zip: str
    place: lookup.Place | None
    seats: list[str]
    plans: list[tuple[list[str], sessions.Plan]]  # (demand keywords that call the same offices, plan)
    split_rule: str
    ended: dict[str, date] = field(default_factory=dict)  # planned members whose term ended (CALL_ENDED_TERMS=dial)
    levels: list[tuple[str, list[lookup.Target]]] = field(default_factory=list)
    """Every level's offices for the ZIP, whatever the demands call: (label, offices), several for a split ZIP."""
    state_districts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # chamber → the ZIP's districts
    by_address: dict[str, str] = field(default_factory=dict)
    """Level label → why its office depends on the texter's street address (the ZIP does not settle it)."""


def preview(session: Session, settings: Settings, zip_code: str, keyword: str = "",
            now: datetime | None = None) -> Lookup:
    """The plan for each demand (or one) as ``CALL`` would make it for a texter from ``zip_code``;
    demands that would call the same offices are listed together."""
    now = now or terms.clock()
    place = lookup.place_of(session, zip_code)
    seats = list(place.districts) if place else []
    state = seats[0][0] if seats else None
    grouped: dict[Any, tuple[list[str], sessions.Plan]] = {}
    for demand in catalogue.current(session).demands:
        if (keyword and demand.keyword != keyword) or (place is None and kinds.only_custom(demand.targets) is None):
            continue
        plan = sessions.plan(session, settings, demand, state, seats, now, zip_code=zip_code)
        pending = targeting.by_address(session, demand.targets, demand.target_order,
                                       targeting.Where(zip_code, state, seats))
        if pending:
            plan = replace(plan, notes=[*plan.notes, f"{kinds.label(pending)}: {address_note(settings)}"])
        key = (tuple(t.ref for t in plan.targets), tuple(plan.notes), plan.outside)
        grouped.setdefault(key, ([], plan))[0].append(demand.keyword)
    plans = list(grouped.values())
    ended = lookup.ended_terms(session, [t for _, plan in plans for t in plan.targets], now)
    state_place = state_lookup.place_of(session, zip_code, state)
    return Lookup(zip_code, place, [lookup.district_label(*s) for s in seats], plans,
                  settings.call_split_districts, ended, every_level(session, zip_code, state, seats),
                  state_place.districts if state_place else {}, by_address(session, settings, zip_code, state, seats))


def address_note(settings: Settings) -> str:
    """What CALL does for an office the ZIP does not settle (a mayor, a county's or city's official)."""
    if settings.geocoder_url:
        return ("depends on the texter's street address: CALL asks it (the Census geocoder gives the county and "
                "city; if it fails, that office is skipped)")
    return "depends on the texter's street address, and the geocoder is off (GEOCODER_URL): skipped"


def by_address(session: Session, settings: Settings, zip_code: str, state: str | None,
               seats: list[tuple[str, int]]) -> dict[str, str]:
    """The levels (of ``every_level``) whose office for ``zip_code`` depends on the street address."""
    where = targeting.Where(zip_code, state, seats)
    return {kinds.LABELS[k]: address_note(settings) for k in targeting.by_address(session, "mayor", (), where)}


def every_level(session: Session, zip_code: str, state: str | None,
                seats: list[tuple[str, int]]) -> list[tuple[str, list[lookup.Target]]]:
    """Each target kind's offices for a texter from ``zip_code`` (every candidate of a split ZIP)."""
    where = targeting.Where(zip_code, state, seats)
    out = []
    for kind in kinds.ATOMIC:
        found = targeting.for_demand(session, kind, (), where)
        out.append((kinds.LABELS[kind], found))
    return out
