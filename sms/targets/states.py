"""State legislators, governors, attorneys general and mayors, and the ZIP → state district map.

Sources (data/SOURCES.md): Open States' ``people`` YAML (CC0; one person a file) and the Census
Bureau's ZCTA → 2024 state legislative district relationship files (as compiled by
state-leg-zips' ``districts.json``). The service ships compact copies derived from them
(``data/states/state-officials.csv``, ``data/states/state-districts.csv``; ``python -m
sms.targets.states build PEOPLE_DIR DISTRICTS_JSON OUT_DIR`` rebuilds them) and the imports read
either the compact copies or the upstream files.

A legislator's Open States district (``Second Worcester``, ``Rockingham 32``, ``8A``) is joined
to the Census district key (through its name ``2nd Worcester District``, or ``32``, ``8``) by
``join_key``: the key itself, the number without zeros, the normalised district name (ordinal
words, ``District``/``State House`` dropped, zeros of numbers dropped), or the number of a seat
lettered inside one district (Idaho's ``8A``/``8B``). Maine's tribal representatives have no
district and are not joined (they are kept, and no ZIP leads to them).

Every import checks the whole file first and changes nothing when it refuses (with why), then
makes the tables equal to the file in one transaction, moving the ``states`` data version.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from sms.errors import DataError
from sms.targets import datasets, importer
from sms.targets.lookup import DATA
from sms.targets.models import StateDistrict, StateOfficial, StateZip

OFFICIALS_CSV = DATA / "states" / "state-officials.csv"
DISTRICTS_CSV = DATA / "states" / "state-districts.csv"
VERSION = "states"
"""The ``data_versions`` row of the state tables."""
OFFICIAL_COLUMNS = ("id", "state", "role", "seat", "name", "party", "phone", "city", "term_end")
DISTRICT_COLUMNS = ("state", "chamber", "district", "name", "zips")
ROLES = {"upper": "state-upper", "lower": "state-lower", "legislature": "state-upper", "governor": "governor",
         "attorney general": "attorney-general", "mayor": "mayor"}
"""Open States role type → the target kind it answers to (Nebraska's unicameral Legislature is ``upper``)."""
CHAMBERS = {"state-upper": "upper", "state-lower": "lower"}
LOWER_TITLES = {**dict.fromkeys(("MD", "VA", "WV"), "Del."), **dict.fromkeys(("CA", "NV", "NY", "WI", "NJ"), "Asm.")}
TITLES = {"state-upper": "State Sen.", "state-lower": "State Rep.", "governor": "Gov.",
          "attorney-general": "Atty. Gen.", "mayor": "Mayor"}
SPOKEN = {"State Sen.": "State Senator", "State Rep.": "State Representative", "Del.": "Delegate",
          "Asm.": "Assemblymember", "Gov.": "Governor", "Atty. Gen.": "Attorney General", "Mayor": "Mayor"}
PHONE_ORDER = ("capitol", "primary", "capitol-mail", "district")
"""Which office's number is dialed: the capitol's first (its staff answer for the seat)."""
MAX_DROP = 0.25
"""A state losing more than this share of its loaded officials is refused (a truncated file), unless forced."""
_STATE = re.compile(r"^[A-Z]{2}$")
_ZIP = re.compile(r"^\d{5}$")
_ORDINALS = {w: n for n, w in enumerate(("first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
                                         "twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth "
                                         "nineteenth twentieth").split(), 1)}
_NOISE = re.compile(r"\b(state house|state senate|house|senate|senatorial|legislative|assembly|district|of|the|and)\b")
_LETTERED = re.compile(r"^0*(\d+)[A-Z]$")


def title_of(role: str, state: str) -> str:
    """``State Sen.``, ``State Rep.``, ``Del.`` (MD, VA, WV), ``Asm.`` (CA, NV, NY, WI, NJ), ``Gov.``..."""
    return LOWER_TITLES.get(state, TITLES[role]) if role == "state-lower" else TITLES[role]


def normalise(text: str) -> str:
    """A district name reduced to compare: ``2nd Worcester District`` and ``Second Worcester`` → ``2worcester``;
    ``Norfolk, Plymouth and Bristol`` and ``Norfolk-Plymouth-Bristol District`` → ``norfolkplymouthbristol``."""
    words = re.sub(r"[^a-z0-9]+", " ", (text or "").lower().replace("&", " and "))
    words = _NOISE.sub(" ", words)
    out = []
    for word in words.split():
        word = str(_ORDINALS[word]) if word in _ORDINALS else re.sub(r"^(\d+)(st|nd|rd|th)$", r"\1", word)
        out.append(word.lstrip("0") or "0" if word.isdigit() else word)
    return "".join(out)


@dataclass(frozen=True)
class Chamber:
    """One chamber's districts: keys, and keys by normalised name, to join seats to."""

    keys: frozenset[str]
    by_name: dict[str, str]

    @classmethod
    def of(cls, districts: dict[str, str]) -> Chamber:
        """``districts``: key → Census name."""
        by_name: dict[str, str] = {}
        for key, name in districts.items():
            by_name.setdefault(normalise(name), key)
            by_name.setdefault(normalise(key), key)
        return cls(frozenset(districts), by_name)


def join_key(seat: str, chamber: Chamber | None, state: str = "") -> tuple[str | None, str]:
    """The district key ``seat`` (Open States' district) joins to, and "" or why it does not."""
    seat = (seat or "").strip()
    if chamber is None:
        return None, "no districts loaded for this state and chamber"
    if seat in chamber.keys:
        return seat, ""
    if seat.isdigit() and seat.lstrip("0") in chamber.keys:
        return seat.lstrip("0"), ""
    found = chamber.by_name.get(normalise(seat))
    if found is not None:
        return found, ""
    lettered = _LETTERED.match(seat.upper())
    if lettered and lettered.group(1) in chamber.keys:  # Idaho's seats 8A and 8B are both of district 8
        return lettered.group(1), ""
    if state == "ME" and not any(ch.isdigit() for ch in seat):
        return None, f"tribal seat {seat!r} has no geographic district"
    county = re.sub(r"\s*\d+$", "", seat).lower()
    if state == "NH" and county and any(normalise(n).startswith(county) for n in chamber.by_name):
        return None, f"floterial district {seat!r} overlays base districts and is not in the Census map"
    return None, f"district {seat!r} matches no district of the map"


# --- reading -------------------------------------------------------------------------------------------------


def _current(role: dict[str, Any], today: date) -> bool:
    end = role.get("end_date")
    return not end or str(end) >= today.isoformat()


def _phone(offices: list[dict[str, Any]]) -> str:
    """The number to dial: the first office of PHONE_ORDER with a voice number, else any."""
    ranked = sorted((o for o in offices or () if isinstance(o, dict) and o.get("voice")),
                    key=lambda o: PHONE_ORDER.index(o.get("classification")) if o.get("classification")
                    in PHONE_ORDER else len(PHONE_ORDER))
    return str(ranked[0]["voice"]) if ranked else ""


def _city_names(state_dir: Path) -> dict[str, str]:
    """jurisdiction id → city name, from ``municipalities.yml``."""
    path = state_dir / "municipalities.yml"
    if not path.exists():
        return {}
    rows = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or []  # noqa: S506 - a safe loader
    return {str(r.get("id")): str(r.get("name")) for r in rows if isinstance(r, dict)}


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_people(root: Path, today: date) -> list[tuple[str, dict[str, Any]]]:
    """(file, row) for each current role of interest in an Open States ``people`` checkout (or its ``data/``)."""
    base = root / "data" if (root / "data").is_dir() else root
    if not base.is_dir():
        raise DataError(f"{root}: not a directory of Open States people (data/<state>/...)")
    out: list[tuple[str, dict[str, Any]]] = []
    for state_dir in sorted(p for p in base.iterdir() if p.is_dir() and len(p.name) == 2 and p.name != "us"):
        cities = _city_names(state_dir)
        for sub in ("legislature", "executive", "municipalities"):
            for path in sorted((state_dir / sub).glob("*.yml")):
                out += _person_rows(path, state_dir.name.upper(), cities, today)
    return out


def _person_rows(path: Path, state: str, cities: dict[str, str], today: date) -> list[tuple[str, dict[str, Any]]]:
    try:
        person = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: {exc}") from exc
    if not isinstance(person, dict):
        return [(path.name, {"id": "", "name": ""})]
    uuid = str(person.get("id", "")).removeprefix("ocd-person/")
    party = ((person.get("party") or [{}])[0] or {}).get("name", "")
    rows = []
    for role in person.get("roles") or ():
        kind = ROLES.get(str(role.get("type", "")))
        if kind is None or not _current(role, today):
            continue
        jurisdiction = str(role.get("jurisdiction", ""))
        rows.append((f"{state.lower()}/{path.name}", {
            "id": f"{uuid}:{kind}", "state": state, "role": kind, "seat": str(role.get("district") or ""),
            "name": person.get("name", ""), "party": party, "phone": _phone(person.get("offices") or []),
            "city": cities.get(jurisdiction, "") if kind == "mayor" else "",
            "term_end": str(role.get("end_date") or "")}))
    return rows


def read_officials(path: Path, today: date) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) from the compact CSV or an Open States checkout (a directory)."""
    if path.is_dir():
        return read_people(path, today)
    return [(f"line {line}", row) for line, row in importer.read_rows(path, OFFICIAL_COLUMNS)]


def read_districts(path: Path) -> dict[tuple[str, str], dict[str, tuple[str, list[str]]]]:
    """(state, chamber) → district key → (name, ZIPs), from ``districts.json`` or the compact CSV."""
    if path.suffix.lower() == ".json":
        return _districts_json(path)
    out: dict[tuple[str, str], dict[str, tuple[str, list[str]]]] = defaultdict(dict)
    for line, row in importer.read_rows(path, DISTRICT_COLUMNS):
        state, chamber, key = (str(row.get(k) or "").strip() for k in ("state", "chamber", "district"))
        zips = str(row.get("zips") or "").split()
        _check_district(f"{path}: line {line}", state, chamber, key, zips)
        out[(state, chamber)][key] = (str(row.get("name") or "")[:120], zips)
    return dict(out)


def _districts_json(path: Path) -> dict[tuple[str, str], dict[str, tuple[str, list[str]]]]:
    try:
        states = json.loads(path.read_text(encoding="utf-8"))["states"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a state-leg-zips districts.json ({exc})") from exc
    out: dict[tuple[str, str], dict[str, tuple[str, list[str]]]] = {}
    for fips, entry in states.items():
        state = str(entry.get("abbreviation", ""))
        for chamber, body in (entry.get("chambers") or {}).items():
            for key, district in (body.get("districts") or {}).items():
                zips = [str(z) for z in district.get("zips") or ()]
                _check_district(f"{path}: state {fips}", state, chamber, key, zips)
                out.setdefault((state, chamber), {})[str(key)] = (str(district.get("name") or "")[:120], zips)
    return out


def _check_district(where: str, state: str, chamber: str, key: str, zips: list[str]) -> None:
    if not _STATE.match(state):
        raise DataError(f"{where}: state {state!r} is not a USPS code")
    if chamber not in ("upper", "lower"):
        raise DataError(f"{where}: chamber {chamber!r} is neither upper nor lower")
    if not key or len(key) > 20:
        raise DataError(f"{where}: district key {key!r} is empty or too long")
    bad = next((z for z in zips if not _ZIP.match(z)), None)
    if bad is not None:
        raise DataError(f"{where}: ZIP {bad!r} of {state} {chamber} {key} is not 5 digits")


# --- importing -----------------------------------------------------------------------------------------------


@dataclass
class StateCount:
    """One state's part of an import."""

    loaded: int = 0
    changed: int = 0  # added, changed or removed
    rejected: int = 0
    not_joined: Counter[str] = field(default_factory=Counter)  # why → how many

    def line(self, state: str) -> str:
        why = "; ".join(f"{n} {reason}" for reason, n in self.not_joined.most_common(3))
        joined = f", {sum(self.not_joined.values())} not joined ({why})" if self.not_joined else ""
        return f"{state}: {self.loaded} loaded, {self.changed} new or changed, {self.rejected} rejected{joined}"


@dataclass
class StateSummary:
    """What a state import did, in all and by state."""

    total: importer.Summary = field(default_factory=importer.Summary)
    states: dict[str, StateCount] = field(default_factory=lambda: defaultdict(StateCount))

    def lines(self, every: bool = False) -> list[str]:
        """A line per state (only those with news unless ``every``)."""
        return [count.line(state) for state, count in sorted(self.states.items())
                if every or count.changed or count.rejected or count.not_joined]


def chambers(session: Session) -> dict[tuple[str, str], Chamber]:
    """The loaded districts of every (state, chamber), to join seats to."""
    found: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for row in session.execute(select(StateDistrict.state, StateDistrict.chamber, StateDistrict.district,
                                      StateDistrict.name)):
        found[(row.state, row.chamber)][row.district] = row.name
    return {key: Chamber.of(value) for key, value in found.items()}


def official_record(row: dict[str, Any], joined: dict[tuple[str, str], Chamber]) -> tuple[dict[str, Any], str]:
    """One row as StateOfficial fields, and why its seat did not join ("" if it did); ValueError if malformed."""
    uid, state, role = (str(row.get(k) or "").strip() for k in ("id", "state", "role"))
    name = " ".join(str(row.get("name") or "").split())
    if not uid or not name:
        raise ValueError("id or name is missing")
    if not _STATE.match(state):
        raise ValueError(f"state {state!r} is not a USPS code")
    if role not in TITLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(TITLES)}")
    seat, why = str(row.get("seat") or "").strip(), ""
    district = None
    if role in CHAMBERS:
        district, why = join_key(seat, joined.get((state, CHAMBERS[role])), state)
    try:
        phone = importer.e164(str(row.get("phone") or ""))
    except ValueError:
        phone = None
    end = str(row.get("term_end") or "").strip()
    try:
        term_end = date.fromisoformat(end[:10]) if end else None
    except ValueError:
        raise ValueError(f"term_end {end!r} is not a date") from None
    return {"id": uid[:80], "state": state, "role": role, "seat": seat[:80], "district": district,
            "title": title_of(role, state), "name": name[:120], "party": str(row.get("party") or "")[:40],
            "phone": phone, "city": str(row.get("city") or "")[:80], "term_end": term_end}, why


def import_officials(session: Session, rows: Iterable[tuple[str, dict[str, Any]]], path: Path | str = "",
                     skip_bad: bool = False, origin: datasets.Origin | None = None,
                     force: bool = False) -> StateSummary:
    """Make ``state_officials`` equal to ``rows`` (joined to the loaded districts); refuse, changing nothing,
    a malformed row (unless ``skip_bad``), an empty district map, or a state losing many officials."""
    joined = chambers(session)
    if not joined:
        raise DataError("no state districts are loaded: run flask import-state-districts first")
    out = StateSummary()
    records: dict[str, dict[str, Any]] = {}
    for where, row in rows:
        state = str(row.get("state") or "").strip()
        state = state if _STATE.match(state) else "?"
        try:
            record, why = official_record(row, joined)
        except ValueError as exc:
            if not skip_bad:
                raise DataError(f"{path}: {where}: {exc}") from None
            out.total.rejected.append(f"{where}: {exc}")
            out.states[state].rejected += 1
            continue
        records[record["id"]] = record
        out.states[state].loaded += 1
        out.total.loaded += 1
        if why:
            out.states[state].not_joined[_reason(why)] += 1
    _refuse_drops(session, records, force)
    existing = {r.id: r.state for r in session.execute(select(StateOfficial.id, StateOfficial.state))}
    before = _snapshot(session)
    if origin is not None:
        datasets.record(session, origin, out.total.loaded)
    importer.sync(session, StateOfficial, records, out.total, version=VERSION)
    after = _snapshot(session)
    for uid in set(before) | set(after):
        if before.get(uid) != after.get(uid):
            out.states[(records.get(uid) or {}).get("state") or existing.get(uid, "?")].changed += 1
    phoneless = sum(1 for r in records.values() if r["phone"] is None)
    if phoneless:
        out.total.notes.append(f"{phoneless} officials have no usable phone and are never called")
    return out


def _reason(why: str) -> str:
    """The kind of reason, without the seat (to count them)."""
    if why.startswith("tribal"):
        return "tribal seats (no geographic district)"
    if why.startswith("floterial"):
        return "floterial districts (not in the Census map)"
    return "districts matching none of the map" if "matches no" in why else why


def _snapshot(session: Session) -> dict[str, tuple[Any, ...]]:
    cols = [c for c in StateOfficial.__table__.columns if c.name != "updated_at"]
    return {row[0]: tuple(row) for row in session.execute(select(*cols))}


def _refuse_drops(session: Session, records: dict[str, dict[str, Any]], force: bool) -> None:
    """Refuse a file with a state missing, or losing more than MAX_DROP of its officials (a truncated file)."""
    if force:
        return
    loaded = Counter(session.scalars(select(StateOfficial.state)))
    offered = Counter(r["state"] for r in records.values())
    short = [f"{state} {offered[state]} of {n}" for state, n in sorted(loaded.items())
             if offered[state] < n * (1 - MAX_DROP)]
    if short:
        raise DataError(f"the file has far fewer officials than loaded for {', '.join(short[:8])}: a truncated or "
                        "wrong file? (--force loads it anyway)")


def import_districts(session: Session, districts: dict[tuple[str, str], dict[str, tuple[str, list[str]]]],
                     origin: datasets.Origin | None = None, force: bool = False) -> StateSummary:
    """Make ``state_districts`` and ``state_zip_districts`` equal to ``districts``; refuse a map missing a
    state already loaded (unless ``force``)."""
    offered = {state for state, _ in districts}
    loaded = set(session.scalars(select(StateDistrict.state).distinct()))
    if loaded - offered and not force:
        raise DataError(f"the map has no districts for {', '.join(sorted(loaded - offered))}, which are loaded: "
                        "a partial file? (--force loads it anyway)")
    out = StateSummary()
    rows: dict[Any, dict[str, Any]] = {}
    pairs: dict[Any, dict[str, Any]] = {}
    for (state, chamber), found in districts.items():
        for key, (name, zips) in found.items():
            rows[(state, chamber, key)] = {"state": state, "chamber": chamber, "district": key, "name": name}
            for zip_code in zips:
                pairs[(zip_code, state, chamber, key)] = {"zip": zip_code, "state": state, "chamber": chamber,
                                                          "district": key}
            out.states[state].loaded += 1
    out.total.loaded = len(pairs)
    if origin is not None:
        datasets.record(session, origin, len(pairs))
    before = Counter(s for s, *_ in session.execute(select(StateZip.state, StateZip.zip)))
    importer.sync(session, StateDistrict, rows, importer.Summary(), commit=False, version=VERSION)
    importer.sync(session, StateZip, pairs, out.total, version=VERSION)
    after = Counter(p["state"] for p in pairs.values())
    for state in set(before) | set(after):
        if before[state] != after[state]:
            out.states[state].changed += abs(after[state] - before[state])
    return out


# --- building the shipped copies -----------------------------------------------------------------------------


def build(people: Path, districts_json: Path, out_dir: Path, today: date) -> tuple[int, int]:
    """Write the compact CSVs shipped in data/states from the upstream files; return their row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    officials = sorted((row for _, row in read_people(people, today)), key=lambda r: (r["state"], r["role"], r["id"]))
    with (out_dir / OFFICIALS_CSV.name).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, OFFICIAL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(officials)
    found = _districts_json(districts_json)
    count = 0
    with (out_dir / DISTRICTS_CSV.name).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(DISTRICT_COLUMNS)
        for (state, chamber) in sorted(found):
            for key, (name, zips) in sorted(found[(state, chamber)].items(), key=lambda kv: _natural(kv[0])):
                writer.writerow([state, chamber, key, name, " ".join(sorted(zips))])
                count += 1
    return len(officials), count


def _natural(key: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key))


if __name__ == "__main__":  # python -m sms.targets.states build PEOPLE_DIR DISTRICTS_JSON OUT_DIR [YYYY-MM-DD]
    if len(sys.argv) < 5 or sys.argv[1] != "build":
        sys.exit(__doc__.split("\n\n")[1] if __doc__ else "usage: build PEOPLE DISTRICTS OUT [DATE]")
    day = date.fromisoformat(sys.argv[5]) if len(sys.argv) > 5 else date.today()
    print(build(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), day))
