"""The offices a demand calls for one texter, every level in the organizer's order (``sms.targets.kinds``).

Congress comes from ``lookup`` (ZIP → House seat(s), senators; DC and the territories' delegate
for a Senate-only demand), the state level from ``state_lookup`` (ZIP → state districts, or the
texter's known districts; the governor and attorney general by state; the mayor by city), and
custom sets from ``lookup.custom``, keeping only the local officials whose area holds the
texter (``area``: states, ZIPs, counties, cities) and, for a set that picks, its ``always``
targets plus k of the rest at random.

A county's or a city's official (and a mayor) is found from the texter's county and place, once
their street address has given them (``Where.county``/``place``, Census GEOIDs), else from the
ZIPs an organizer uploaded with them: no ZIP → county or city map is shipped. ``by_address``
names the kinds a texter's ZIP does not settle (CALL then asks the street address), ``gaps``
the lines a texter is told for a kind that found nobody (that call is skipped, never guessed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms.targets import geocoder, kinds, lookup, places, state_lookup
from sms.targets.models import CustomTarget, CustomTargetSet


@dataclass(frozen=True)
class Where:
    """What is known of where a texter is: ZIP, state, House seats, state districts chosen or found."""

    zip: str | None = None
    state: str | None = None
    seats: list[tuple[str, int]] = field(default_factory=list)
    upper: str | None = None  # the texter's state senate district, once known
    lower: str | None = None
    county: str | None = None  # the texter's county (5-digit FIPS), once found from their address
    place: str | None = None  # their incorporated place (GEOID); None with a county: outside any city

    @property
    def located(self) -> bool:
        """True once the address gave the county (and the place, if any): a county or city official is exact."""
        return self.county is not None

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
            out += mayors(session, where)
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


def mayors(session: Session, where: Where) -> list[lookup.Target]:
    """The texter's mayor: by the place their address is in (exact), else by a city's uploaded ZIPs."""
    state = _state(session, where)
    if not where.located:
        return _mayors_of(session, state, city_of(session, where.zip, state))
    name = _place_name(session, where, state)
    if name is None and state == "HI":  # Hawaii has no incorporated places: its mayors are its counties'
        name = places.name_of(session, where.county)
    return _mayors_of(session, state, name)


def _mayors_of(session: Session, state: str | None, city: str | None) -> list[lookup.Target]:
    """The mayors of ``city`` (a Census or an organizer's name, folded) in ``state``."""
    if not state or not city:
        return []
    return [t for (st, name), found in sorted(state_lookup.directory(session).mayors.items())
            if st == state and places.same(name, city) for t in found]


def _place_name(session: Session, where: Where, state: str | None) -> str | None:
    """The name of the texter's place, if it is in their state."""
    if not where.place or geocoder.FIPS.get(where.place[:2]) != state:
        return None
    return places.name_of(session, where.place)


def _local(area: dict[str, Any] | None) -> bool:
    """A county's or a city's official (as opposed to a state's, a ZIP list's, or everyone's)."""
    return bool(area and (area.get("counties") or area.get("cities")))


def admits(area: dict[str, Any] | None, where: Where, place_name: str | None = None) -> bool:
    """True if a local official serving ``area`` serves the texter (no area: everyone). A county's or city's
    official: by the texter's county or place once their address gave it, else by the ZIPs uploaded."""
    if not area:
        return True
    states = area.get("states") or ()
    in_state = where.state in states or any(s in states for s, _ in where.seats)
    if _local(area) and where.located:
        if states and not in_state:
            return False
        if area.get("counties"):
            return where.county in area["counties"]
        return any(places.same(city, place_name) for city in area.get("cities") or ())
    zips = area.get("zips") or ()
    if zips:
        return bool(where.zip) and where.zip in zips
    return bool(states) and not _local(area) and in_state


def custom(session: Session, set_name: str, where: Where, rng: random.Random | None = None) -> list[lookup.Target]:
    """A set's targets that serve the texter; with ``pick``, its ``always`` ones plus ``pick`` of the rest."""
    name = _place_name(session, where, _state(session, where)) if where.located else None
    rows = [r for r in _rows(session, set_name) if admits(r.area, where, name)]
    pick = session.scalar(select(CustomTargetSet.pick).where(CustomTargetSet.name == set_name))
    if pick is not None and pick >= 0:
        always = [r for r in rows if r.always]
        rest = [r for r in rows if not r.always]
        chosen = {r.id for r in (rng or random.SystemRandom()).sample(rest, min(pick, len(rest)))}
        rows = always + [r for r in rest if r.id in chosen]
    return [lookup.Target("custom", str(r.id), r.title, r.name, r.phone) for r in rows]


def _rows(session: Session, set_name: str) -> list[CustomTarget]:
    return list(session.scalars(select(CustomTarget).where(CustomTarget.set_name == set_name)
                                .order_by(CustomTarget.position)))


def _local_rows(session: Session, set_name: str, where: Where) -> list[CustomTarget]:
    """A set's county or city officials who could serve the texter's state."""
    state = _state(session, where)
    return [r for r in _rows(session, set_name) if _local(r.area)
            and (not (r.area or {}).get("states") or state in (r.area or {})["states"])]


def by_address(session: Session, targets: str, order: Any, where: Where) -> list[str]:
    """The mayor and custom kinds of a demand whose office the texter's ZIP does not settle: no uploaded ZIP
    list holds it, the address has not been found yet, and there is someone to find (a mayor in the state's data,
    a county's or city's official)."""
    if where.located:
        return []
    out = []
    state = _state(session, where)
    for kind in kinds.of(targets, order):
        if kind == "mayor" and not city_of(session, where.zip, state) and \
                any(st == state for st, _ in state_lookup.directory(session).mayors):
            out.append(kind)
        elif kind.startswith("custom:"):
            local = _local_rows(session, kind.split(":", 1)[1], where)
            if local and not any(where.zip in ((r.area or {}).get("zips") or ()) for r in local):
                out.append(kind)
    return out


def gaps(session: Session, targets: str, order: Any, where: Where) -> list[tuple[str, dict[str, str]]]:
    """What to tell the texter of each mayor or county/city official kind that found nobody for them:
    (English source, values), for ``turn.t``. That call is skipped; the others go on."""
    out: list[tuple[str, dict[str, str]]] = []
    for kind in kinds.of(targets, order):
        if kind == "mayor" and not mayors(session, where):
            out.append(("We couldn't find your city's mayor, so we'll skip that call.", {}))
        elif kind.startswith("custom:"):
            local = _local_rows(session, kind.split(":", 1)[1], where)
            name = _place_name(session, where, _state(session, where)) if where.located else None
            if local and not any(admits(r.area, where, name) for r in local):
                area = "county" if any((r.area or {}).get("counties") for r in local) else "city"
                title = local[0].title or local[0].name
                out.append((f"We couldn't find your {area}'s {{title}}, so we'll skip that call.", {"title": title}))
    return out


def has_local(session: Session, set_name: str) -> bool:
    """True if the set has county or city officials (which one calls depends on where the texter is)."""
    return any(_local(r.area) for r in _rows(session, set_name))
