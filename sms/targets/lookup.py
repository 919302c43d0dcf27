"""Who a caller is connected to: ZIP → districts → House member and senators, or a custom set.

DC and the territories have no senators: a Senate-only demand calls their delegate instead
(the conversation asks first). A custom set may take calls only from its own constituents
(``SetRules``, declared with the set in data/demands.yaml).

The tables are filled from public data by ``sms.targets.importer`` (``flask import-legislators``,
``flask import-zips``, ``flask import-targets``) and ``sms.targets.refresh`` (``flask
refresh-congress``). Only numbers stored here are ever dialed. ZCTAs are not ZIPs and the
ZIP table is over-inclusive near district lines, so a ZIP may give several House candidates;
the caller chooses (or the organizer calls them all). Several ZIP maps may be loaded, each
with the day it takes effect: a lookup uses the one in force by ``terms.clock()``.

Every change to these tables moves a version number in SQL (``bump_version``, in the
change's transaction); each process rebuilds its cached ``Directory`` when the number it
reads differs from the one the cache was built at, so a refresh applied by one process is
used by every web process and worker from their next lookup.
"""

from __future__ import annotations

import csv
import functools
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from sms import defaults
from sms.store import utcnow
from sms.targets import terms
from sms.targets.models import CustomTarget, CustomTargetSet, DataVersion, Legislator, ZipDistrict

DATA = defaults.DATA_DIR
TIMEZONES_CSV = DATA / "timezones" / "us-state-timezones.csv"
DELEGATE_TITLES = {"PR": "Res. Comm."}
TERRITORIES = frozenset({"DC", "PR", "GU", "VI", "AS", "MP"})
PLACE_NAMES = {"DC": "DC", "PR": "Puerto Rico", "GU": "Guam", "VI": "the U.S. Virgin Islands",
               "AS": "American Samoa", "MP": "the Northern Mariana Islands"}
"""How a text names DC and each territory."""
ISLAND_PREFIXES = (("96799", "AS"), ("9695", "MP"), ("969", "GU"), ("008", "VI"))
"""ZIP prefixes of island areas that have no ZCTA (longest first): their at-large delegate."""
SPOKEN_TITLES = {"Rep.": "Representative", "Sen.": "Senator", "Del.": "Delegate",
                 "Res. Comm.": "Resident Commissioner", "State Sen.": "State Senator",
                 "State Rep.": "State Representative", "Asm.": "Assemblymember", "Gov.": "Governor",
                 "Atty. Gen.": "Attorney General", "Mayor": "Mayor"}
_ZIP = re.compile(r"^\d{5}$")
_DISTRICT = re.compile(r"^([A-Z]{2})[\s\-]*(\d{1,2}|AL|AT ?LARGE)?$")
EARLIEST = date(1789, 3, 4)
"""The effective date of a ZIP map nobody dated (the first Congress's first day): in force always."""
VERSION = "congress"
"""The ``data_versions`` row of the Congress tables."""


@dataclass(frozen=True)
class Target:
    """One office to dial: what the caller hears and the number from the tables."""

    kind: str  # house | senate | custom
    ref: str  # bioguide or custom target id
    title: str
    name: str
    phone: str
    state: str = ""
    district: int | None = None
    seat: str = ""  # a state legislator's district key ("7", "D02")

    @property
    def label(self) -> str:
        """Short written form: ``Rep. Jerrold Nadler`` (a custom target's name says it all)."""
        return self.name if self.kind == "custom" else f"{self.title} {self.name}".strip()

    @property
    def member(self) -> str:
        """The person behind the office: a bioguide, or an Open States person id (stances are theirs)."""
        if self.kind == "office":  # a district office id starts with its member's bioguide
            return self.ref.split("-", 1)[0]
        if self.kind not in ("house", "senate", "custom") and ":" in self.ref:
            return self.ref.split(":", 1)[0]
        return self.ref

    @property
    def spoken(self) -> str:
        """Spoken form: ``Representative Jerrold Nadler``."""
        if self.kind == "custom":
            return self.name
        return f"{SPOKEN_TITLES.get(self.title, self.title)} {self.name}".strip()

    @classmethod
    def of(cls, data: dict[str, object]) -> Target:
        """A target stored in a call session's JSON."""
        found = cls(**{k: data.get(k) for k in ("kind", "ref", "title", "name", "phone", "state", "district")})
        return cls(**{**found.__dict__, "seat": str(data.get("seat") or "")}) if data.get("seat") else found

    def to_dict(self) -> dict[str, object]:
        out = {k: getattr(self, k) for k in ("kind", "ref", "title", "name", "phone", "state", "district")}
        return {**out, "seat": self.seat} if self.seat else out


@dataclass(frozen=True)
class Place:
    """Where a ZIP is: its state(s) and candidate districts."""

    zip: str
    districts: tuple[tuple[str, int], ...]

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(state for state, _ in self.districts))

    @property
    def split(self) -> bool:
        return len(self.districts) > 1


def house_title(state: str) -> str:
    return DELEGATE_TITLES.get(state, "Del.") if state in TERRITORIES else "Rep."


def district_label(state: str, district: int | None) -> str:
    """``NY-12``; at-large seats and delegates are ``AK-AL``."""
    return f"{state}-{district}" if district else f"{state}-AL"


def valid_zip(text: str) -> bool:
    return bool(_ZIP.match(text or ""))


_zips = ZipDistrict.__table__.c
_PLACE_QUERY = select(_zips.state, _zips.district).where(
    _zips.effective == bindparam("effective"), _zips.zip == bindparam("zip")).order_by(_zips.state, _zips.district)
"""Built once: a Core statement skips the ORM's per-call overhead on the hottest lookup."""


def place_of(session: Session, zip_code: str, now: datetime | None = None) -> Place | None:
    """The candidate districts of ``zip_code`` in the ZIP map in force at ``now`` (default: the clock;
    island ZIPs by prefix), or None if unknown."""
    if not valid_zip(zip_code):
        return None
    effective = directory(session).map_at(now or terms.clock())
    rows = session.connection().execute(_PLACE_QUERY, {"zip": zip_code, "effective": effective}).all() \
        if effective else []
    if rows:
        return Place(zip_code, tuple((state, district) for state, district in rows))
    for prefix, state in ISLAND_PREFIXES:
        if zip_code.startswith(prefix):
            return Place(zip_code, ((state, 0),))
    return None


def parse_district(text: str) -> tuple[str, int] | None:
    """``MA-7``, ``ma 7``, ``AK-AL``, ``DC`` → (state, district); None if it is not one."""
    match = _DISTRICT.match(" ".join((text or "").upper().split()))
    if not match:
        return None
    number = match.group(2)
    return match.group(1), int(number) if number and number.isdigit() else 0


@dataclass(frozen=True)
class Term:
    """A member's current term as the data gives it (None where the file had no dates)."""

    start: date | None
    end: date | None


@dataclass(frozen=True)
class Directory:
    """Every current member by seat and senators by state: 537 rows, read once per process.

    When the data holds two members for one seat, the one whose term started later is the
    seat's holder (a senator is dropped once a same-state senator's term started on or after
    theirs ended): the data's successor is called, never the member it replaced.
    """

    house: dict[tuple[str, int], Target]
    senate: dict[str, list[Target]]
    loaded_at: float
    terms: dict[str, Term] = field(default_factory=dict)  # bioguide → term, for the members above
    version: int = 0  # the data version it was built at
    maps: tuple[date, ...] = ()  # the effective dates of the ZIP maps loaded, oldest first

    def members(self) -> list[Target]:
        """Every seat holder: House seats, then senators, in a stable order."""
        return [self.house[seat] for seat in sorted(self.house)] + [
            t for state in sorted(self.senate) for t in self.senate[state]]

    def map_at(self, now: datetime) -> date | None:
        """The effective date of the ZIP map in force at ``now`` (None before the first one begins)."""
        begun = [day for day in self.maps if terms.has_begun(day, now)]
        return begun[-1] if begun else None


DIRECTORY_TTL = 60.0
"""Seconds a process keeps its Directory even when the data version has not moved (a backstop for edits
made in SQL by hand; every import and refresh moves the version, which is seen at the next lookup)."""
_directories: dict[str, Directory] = {}
_SESSION_VERSION = "actionline.congress_version"
"""``Session.info`` key: the version one session read (a request or job reads it once)."""


def data_version(session: Session, name: str = VERSION) -> int:
    """A data version in SQL (Congress's by default; ``states`` for the state tables), read once per session."""
    key = _SESSION_VERSION if name == VERSION else f"{_SESSION_VERSION}.{name}"
    if key not in session.info:
        found = session.scalar(select(DataVersion.version).where(DataVersion.name == name))
        session.info[key] = found or 0
    return session.info[key]


def bump_version(session: Session, name: str = VERSION) -> int:
    """Move a data version in the caller's transaction (it commits); return the new one.

    The UPDATE comes first so that, on PostgreSQL, two refreshes take turns on its row lock.
    """
    key = _SESSION_VERSION if name == VERSION else f"{_SESSION_VERSION}.{name}"
    moved = session.execute(update(DataVersion).where(DataVersion.name == name).values(
        version=DataVersion.version + 1, changed_at=utcnow()))
    if not moved.rowcount:  # type: ignore[attr-defined]
        session.add(DataVersion(name=name, version=1, changed_at=utcnow()))
        session.flush()
    session.info[key] = session.scalar(select(DataVersion.version).where(DataVersion.name == name))
    return session.info[key]


def directory(session: Session) -> Directory:
    """The member directory for this database (cached until the data version moves; one small query a session)."""
    key = str(session.get_bind().url)
    version = data_version(session)
    cached = _directories.get(key)
    if cached is not None and cached.version == version and time.monotonic() - cached.loaded_at < DIRECTORY_TTL:
        return cached
    house: dict[tuple[str, int], Target] = {}
    senate: dict[str, list[Target]] = {}
    rows = sorted(session.scalars(select(Legislator)), key=lambda m: (m.term_start or date.min, m.bioguide))
    spans = {m.bioguide: Term(m.term_start, m.term_end) for m in rows}
    for member in rows:
        if member.chamber == "senate":
            senate.setdefault(member.state, []).append(_target(member))
        else:
            house[(member.state, member.district or 0)] = _target(member)
    senate = {state: _unsucceeded(members, spans) for state, members in senate.items()}
    kept = {t.ref for t in [*house.values(), *(t for ts in senate.values() for t in ts)]}
    maps = tuple(sorted(session.scalars(select(ZipDistrict.effective).distinct())))
    _directories[key] = Directory(house, senate, time.monotonic(), {k: v for k, v in spans.items() if k in kept},
                                  version, maps)
    return _directories[key]


def _unsucceeded(members: list[Target], spans: dict[str, Term]) -> list[Target]:
    """A state's senators without those whose term ended before another one's began; by bioguide."""
    starts = [spans[t.ref].start for t in members if spans[t.ref].start]
    kept = [t for t in members if not (spans[t.ref].end and any(s >= spans[t.ref].end for s in starts))]
    return sorted(kept, key=lambda t: t.ref)


def ended_terms(session: Session, targets: list[Target], now: datetime) -> dict[str, date]:
    """The members among ``targets`` whose term has ended by ``now`` → its end date."""
    known = directory(session).terms
    ends = {t.ref: known[t.ref].end for t in targets if t.ref in known}
    return {ref: end for ref, end in ends.items() if end is not None and terms.has_ended(end, now)}


def forget_directory() -> None:
    """Drop cached directories (after an import in this process)."""
    _directories.clear()


def house_members(session: Session, seats: list[tuple[str, int]]) -> list[Target]:
    """Members for ``seats`` in the order given; vacant seats and members without a phone are left out."""
    house = directory(session).house
    return [house[seat] for seat in seats if seat in house and house[seat].phone]


def senators(session: Session, state: str) -> list[Target]:
    """Both senators of ``state`` (none for DC and territories), in a stable order."""
    return [t for t in directory(session).senate.get(state, []) if t.phone]


@dataclass(frozen=True)
class SetRules:
    """What a custom set declares: its weekday office hours and who may call it."""

    name: str
    title: str = ""  # starts a sentence: "The Louisville Metro Council"
    hours: tuple[int, int, str] | None = None  # (opens, closes, zone); None: always open
    who: str = ""  # "Louisville residents"
    states: tuple[str, ...] = ()
    zips: tuple[str, ...] = ()
    zip_prefixes: tuple[str, ...] = ()
    others: str = ""  # a demand calling Congress, offered to everyone else

    @property
    def limited(self) -> bool:
        return bool(self.states or self.zips or self.zip_prefixes)

    def admits(self, zip_code: str | None, state: str | None) -> bool:
        """True if a caller from ``zip_code`` (in ``state``) may call the set."""
        if not self.limited:
            return True
        zip_code = zip_code or ""
        return (bool(state) and state in self.states) or zip_code in self.zips or any(
            zip_code.startswith(prefix) for prefix in self.zip_prefixes if zip_code)

    @property
    def refusal(self) -> str:
        """``The Louisville Metro Council takes calls from Louisville residents``."""
        return f"{self.title or 'This office'} takes calls from {self.who or 'its constituents'}"


def set_rules(session: Session, set_name: str) -> SetRules | None:
    """The rules declared with a custom set; None for a set that declared none (made in the console)."""
    row = session.get(CustomTargetSet, set_name)
    if row is None:
        return None
    hours = (row.opens, row.closes, row.zone) if row.opens is not None and row.closes is not None else None
    return SetRules(row.name, row.title, hours, row.who, tuple(row.states or ()), tuple(row.zips or ()),
                    tuple(row.zip_prefixes or ()), row.others)


def custom(session: Session, set_name: str) -> list[Target]:
    rows = session.scalars(select(CustomTarget).where(CustomTarget.set_name == set_name)
                           .order_by(CustomTarget.position))
    return [Target("custom", str(r.id), r.title, r.name, r.phone) for r in rows]


def _target(member: Legislator) -> Target:
    kind = "senate" if member.chamber == "senate" else "house"
    return Target(kind, member.bioguide, member.title, member.name, member.phone or "", member.state,
                  member.district)


def for_demand(session: Session, targets: str, order: tuple[str, ...] | list[str], state: str | None,
               seats: list[tuple[str, int]]) -> list[Target]:
    """The offices to call for a demand: ``custom:<set>``, or Congress in ``order`` (house/senate).

    A Senate-only demand from DC or a territory gives its delegate (they have no senators).
    """
    if targets.startswith("custom:"):
        return custom(session, targets.split(":", 1)[1])
    out: list[Target] = []
    for chamber in ("house",) if delegate_instead(order, state) else order or ("house", "senate"):
        if chamber == "house":
            out += house_members(session, seats)
        elif chamber == "senate" and state:
            out += senators(session, state)
    return out


def delegate_instead(order: tuple[str, ...] | list[str], state: str | None) -> bool:
    """True if a Senate-only demand from ``state`` calls its delegate: DC and the territories have no senators."""
    return state in TERRITORIES and "senate" in (order or ()) and "house" not in order


def is_vacant(session: Session, state: str, district: int) -> bool:
    return (state, district) not in directory(session).house


def seat_exists(session: Session, state: str, district: int) -> bool:
    """True if the seat is in the ZIP map in force or held by a member (vacant seats are in the ZIP map)."""
    effective = directory(session).map_at(terms.clock())
    in_zips = session.scalar(select(ZipDistrict.zip).where(
        ZipDistrict.effective == effective, ZipDistrict.state == state, ZipDistrict.district == district).limit(1))
    return in_zips is not None or not is_vacant(session, state, district)


@functools.cache
def state_timezones() -> dict[str, str]:
    """State → primary IANA zone (from the shipped table)."""
    with TIMEZONES_CSV.open(newline="", encoding="utf-8") as fh:
        return {row["state"]: row["primary_tz"] for row in csv.DictReader(fh)}


def timezone_of(state: str | None) -> str | None:
    return state_timezones().get(state or "")
