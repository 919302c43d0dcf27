"""Who a texter reaches in their state: ZIP → state districts → legislators; the governor, attorney general, mayor.

The tables are filled by ``sms.targets.states`` (``flask import-state-districts``, ``flask
import-state-legislators``). 39% of (state, chamber, ZIP) pairs overlap several districts: a
split ZIP gives several candidates, settled by the texter's chosen district (asked by name, or
found from an address by ``sms.targets.geocoder``) or by calling every candidate. Officials
are read once per process into a ``StateDirectory``, rebuilt when the ``states`` data version
moves (every import moves it), like Congress's ``lookup.directory``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from sms.targets import lookup
from sms.targets.models import StateOfficial, StateZip

VERSION = "states"
CHAMBERS = {"state-upper": "upper", "state-lower": "lower"}
CAPITAL_ZONES = {"AZ": "America/Phoenix", "ID": "America/Boise", "KY": "America/New_York", "TN": "America/Chicago",
                 "FL": "America/New_York", "IN": "America/Indiana/Indianapolis", "MI": "America/Detroit",
                 "ND": "America/Chicago", "NE": "America/Chicago", "OR": "America/Los_Angeles",
                 "SD": "America/Chicago", "TX": "America/Chicago", "KS": "America/Chicago", "AK": "America/Anchorage"}
"""The zone of each state's capitol where it differs from (or must not be taken from) the state's primary zone:
a state office keeps its capitol's hours even for texters in another zone (Boise is Mountain, not Pacific)."""


@dataclass(frozen=True)
class StatePlace:
    """The candidate state districts of a ZIP: chamber → district keys (several for a split ZIP)."""

    zip: str
    state: str
    districts: dict[str, tuple[str, ...]]

    def split(self, chamber: str) -> bool:
        return len(self.districts.get(chamber, ())) > 1


@dataclass(frozen=True)
class StateDirectory:
    """Every state official with a phone, by seat, by state and role, and mayors by (state, city)."""

    seats: dict[tuple[str, str, str], list[lookup.Target]]  # (state, role, district) → holders
    statewide: dict[tuple[str, str], list[lookup.Target]]  # (state, governor|attorney-general) → holders
    mayors: dict[tuple[str, str], list[lookup.Target]]  # (state, city lower case) → mayor
    loaded_at: float
    version: int


_directories: dict[str, StateDirectory] = {}
_zips = StateZip.__table__.c
_PLACE_QUERY = select(_zips.state, _zips.chamber, _zips.district).where(_zips.zip == bindparam("zip")).order_by(
    _zips.state, _zips.chamber, _zips.district)


def directory(session: Session) -> StateDirectory:
    """The state officials for this database (cached until the ``states`` data version moves)."""
    key = str(session.get_bind().url)
    version = lookup.data_version(session, VERSION)
    cached = _directories.get(key)
    if cached is not None and cached.version == version and \
            time.monotonic() - cached.loaded_at < lookup.DIRECTORY_TTL:
        return cached
    seats: dict[tuple[str, str, str], list[lookup.Target]] = {}
    statewide: dict[tuple[str, str], list[lookup.Target]] = {}
    mayors: dict[tuple[str, str], list[lookup.Target]] = {}
    for row in session.scalars(select(StateOfficial).order_by(StateOfficial.state, StateOfficial.id)):
        if not row.phone:
            continue
        target = lookup.Target(row.role, row.id, row.title, row.name, row.phone, row.state, None, row.district or "")
        if row.role in CHAMBERS and row.district:
            seats.setdefault((row.state, row.role, row.district), []).append(target)
        elif row.role == "mayor":
            mayors.setdefault((row.state, row.city.lower()), []).append(target)
        elif row.role in ("governor", "attorney-general"):
            statewide.setdefault((row.state, row.role), []).append(target)
    _directories[key] = StateDirectory(seats, statewide, mayors, time.monotonic(), version)
    return _directories[key]


def forget_directory() -> None:
    _directories.clear()


def place_of(session: Session, zip_code: str, state: str | None = None) -> StatePlace | None:
    """The state districts of ``zip_code`` (in ``state`` if it straddles a state line), or None if unknown."""
    if not lookup.valid_zip(zip_code):
        return None
    memo = session.info.setdefault(_PLACES, {})  # one query per ZIP per session (each chamber asks)
    key = (zip_code, state, lookup.data_version(session, VERSION))
    if key not in memo:
        memo[key] = _place(session, zip_code, state)
    return memo[key]


_PLACES = "actionline.state_places"


def _place(session: Session, zip_code: str, state: str | None) -> StatePlace | None:
    rows = session.connection().execute(_PLACE_QUERY, {"zip": zip_code}).all()
    if not rows:
        return None
    states = list(dict.fromkeys(r.state for r in rows))
    chosen = state if state in states else states[0]
    found: dict[str, list[str]] = {}
    for row in rows:
        if row.state == chosen:
            found.setdefault(row.chamber, []).append(row.district)
    return StatePlace(zip_code, chosen, {c: tuple(sorted(d, key=_natural)) for c, d in found.items()})


def _natural(key: str) -> tuple[int, str]:
    digits = "".join(ch for ch in key if ch.isdigit())
    return (int(digits) if digits else 0, key)


def legislators(session: Session, kind: str, state: str, districts: tuple[str, ...] | list[str]) -> list[lookup.Target]:
    """The ``kind`` (state-upper | state-lower) members for ``districts``, in the order given (a multi-member
    district, such as New Hampshire's, gives all its members)."""
    seats = directory(session).seats
    return [t for d in districts for t in seats.get((state, kind, d), [])]


def statewide(session: Session, kind: str, state: str | None) -> list[lookup.Target]:
    return list(directory(session).statewide.get((state or "", kind), [])) if state else []


def zone_of(state: str | None) -> str | None:
    """The zone a state office keeps its hours in: its capitol's."""
    return CAPITAL_ZONES.get(state or "") or lookup.timezone_of(state)
