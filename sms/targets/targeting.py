"""The offices a demand calls for one texter, every level in the organizer's order (``sms.targets.kinds``).

Congress comes from ``lookup`` (ZIP → House seat(s), senators; DC and the territories' delegate
for a Senate-only demand), the state level from ``state_lookup`` (ZIP → state districts, or the
texter's known districts; the governor and attorney general by state; the mayor by city), and
custom sets from ``lookup.custom``, keeping only the local officials whose area holds the
texter (``area``: states, ZIPs; a county's or city's officials by the ZIP list uploaded with
them) and, for a set that picks, its ``always`` targets plus k of the rest at random.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms.targets import kinds, lookup, state_lookup
from sms.targets.models import CustomTarget, CustomTargetSet


@dataclass(frozen=True)
class Where:
    """What is known of where a texter is: ZIP, state, House seats, state districts chosen or found."""

    zip: str | None = None
    state: str | None = None
    seats: list[tuple[str, int]] = field(default_factory=list)
    upper: str | None = None  # the texter's state senate district, once known
    lower: str | None = None

    def chosen(self, kind: str) -> str | None:
        return self.upper if kind == "state-upper" else self.lower if kind == "state-lower" else None


def state_districts(session: Session, where: Where, kind: str) -> tuple[str | None, tuple[str, ...]]:
    """(state, candidate districts) of ``kind`` (state-upper | state-lower) for the texter."""
    chamber = state_lookup.CHAMBERS[kind]
    place = state_lookup.place_of(session, where.zip or "", where.state) if where.zip else None
    state = place.state if place is not None else where.state
    if where.chosen(kind):
        return state, (where.chosen(kind) or "",)
    return state, place.districts.get(chamber, ()) if place is not None else ()


def split_kinds(session: Session, targets: str, order: Any, where: Where) -> list[str]:
    """The state kinds of a demand for which the texter's ZIP spans several districts (nothing chosen yet)."""
    return [k for k in kinds.of(targets, order) if k in state_lookup.CHAMBERS
            and len(state_districts(session, where, k)[1]) > 1]


def for_demand(session: Session, targets: str, order: Any, where: Where,
               rng: random.Random | None = None) -> list[lookup.Target]:
    """The offices to call, in the demand's order; kinds the texter has no office for add nobody."""
    found = kinds.of(targets, order)
    congress = tuple(k for k in found if k in kinds.CONGRESS)
    delegate = lookup.delegate_instead(congress, where.state)
    out: list[lookup.Target] = []
    for kind in found:
        if kind == "house" or (kind == "senate" and delegate):
            out += lookup.house_members(session, where.seats)
        elif kind == "senate" and where.state:
            out += lookup.senators(session, where.state)
        elif kind in state_lookup.CHAMBERS:
            state, districts = state_districts(session, where, kind)
            out += state_lookup.legislators(session, kind, state or "", districts)
        elif kind in ("governor", "attorney-general"):
            out += state_lookup.statewide(session, kind, _state(session, where))
        elif kind == "mayor":
            state = _state(session, where)
            out += state_lookup.mayor(session, state, city_of(session, where.zip, state))
        elif kind.startswith("custom:"):
            out += custom(session, kind.split(":", 1)[1], where, rng)
    return list(dict.fromkeys(out))


def _state(session: Session, where: Where) -> str | None:
    if where.seats:
        return where.seats[0][0]
    if where.state:
        return where.state
    place = lookup.place_of(session, where.zip or "")
    if place is not None:
        return place.states[0]
    state_place = state_lookup.place_of(session, where.zip or "")
    return state_place.state if state_place is not None else None


def city_of(session: Session, zip_code: str | None, state: str | None) -> str | None:
    """The texter's city, where the data knows it: a city whose ZIPs an organizer uploaded with its officials
    (``flask import-targets`` CSV, ``city`` and ``zips``). Action Line ships no ZIP → city map."""
    if not zip_code:
        return None
    for area in session.scalars(select(CustomTarget.area).where(CustomTarget.area.is_not(None))):
        if area and zip_code in (area.get("zips") or ()) and area.get("cities"):
            if not state or not area.get("states") or state in area["states"]:
                return str(area["cities"][0])
    return None


def admits(area: dict[str, Any] | None, where: Where) -> bool:
    """True if a local official serving ``area`` serves the texter (no area: everyone)."""
    if not area:
        return True
    zips = area.get("zips") or ()
    if zips:
        return bool(where.zip) and where.zip in zips
    states = area.get("states") or ()
    return bool(states) and (where.state in states or any(s in states for s, _ in where.seats))


def custom(session: Session, set_name: str, where: Where, rng: random.Random | None = None) -> list[lookup.Target]:
    """A set's targets that serve the texter; with ``pick``, its ``always`` ones plus ``pick`` of the rest."""
    rows = [r for r in session.scalars(select(CustomTarget).where(CustomTarget.set_name == set_name)
                                       .order_by(CustomTarget.position)) if admits(r.area, where)]
    pick = session.scalar(select(CustomTargetSet.pick).where(CustomTargetSet.name == set_name))
    if pick is not None and pick >= 0:
        always = [r for r in rows if r.always]
        rest = [r for r in rows if not r.always]
        chosen = {r.id for r in (rng or random.SystemRandom()).sample(rest, min(pick, len(rest)))}
        rows = always + [r for r in rest if r.id in chosen]
    return [lookup.Target("custom", str(r.id), r.title, r.name, r.phone) for r in rows]
