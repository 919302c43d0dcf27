"""Load the public data sets behind ``sms.targets.lookup``: legislators, district offices, ZIP → district.

Each import reads a whole file, checks every row (a malformed row is reported by line
number), then makes the table equal to the file in one transaction with bulk inserts,
updates and deletes, so a re-import that changes nothing writes nothing. Files:
unitedstates/congress-legislators (CSV or YAML) and us-zipcodes-congress ``zccd.csv``
(see data/SOURCES.md). Given an ``Origin``, the same transaction records the import
(``sms.targets.datasets``) and moves the data version every process's cache checks
(``sms.targets.lookup.bump_version``). Members keep their current term's start and end: the
YAML has them; upstream's CSV does not (the shipped CSV adds ``term_start``/``term_end`` columns).
A ZIP map is one of several, each in force from its ``effective`` day: an import replaces
the map of that day only (``sms.targets.zipmaps``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import phonenumbers
import yaml
from sqlalchemy import ColumnElement, delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from sms.errors import DataError
from sms.targets import datasets, zipmaps
from sms.targets.lookup import DATA, bump_version, forget_directory, house_title
from sms.targets.models import DistrictOffice, Legislator, ZipDistrict

LEGISLATORS_CSV = DATA / "congress" / "legislators-current.csv"
OFFICES_CSV = DATA / "congress" / "legislators-district-offices.csv"
ZIPS_CSV = DATA / "congress" / "zccd.csv"
CHUNK = 2000
_BIOGUIDE = re.compile(r"^[A-Z]\d{6}$")
_STATE = re.compile(r"^[A-Z]{2}$")


Row = tuple[int, dict[str, Any]]


@dataclass
class Summary:
    """What an import did."""

    loaded: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the organizer should know about the file

    def __str__(self) -> str:
        return (f"{self.loaded} rows loaded: {self.added} added, {self.changed} changed, {self.removed} removed, "
                f"{self.unchanged} unchanged, {len(self.rejected)} rejected")


def read_rows(path: Path | str, required: Iterable[str]) -> Iterator[Row]:
    """(line number, row) from a CSV or YAML file; raise DataError if the header lacks a column."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        yield from _yaml_rows(path)
        return
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"{path}: {exc.strerror}") from exc
    with fh:
        reader = csv.DictReader(fh)
        missing = set(required) - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{path}: line 1: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            yield reader.line_num, row


def _yaml_rows(path: Path) -> Iterator[Row]:
    """congress-legislators YAML flattened to the CSV's columns (the current term is the last)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        people = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: {exc}") from exc
    if not isinstance(people, list):
        raise DataError(f"{path}: not a list of people (is it a congress-legislators members file?)")
    for number, person in enumerate(people, 1):
        person = person if isinstance(person, dict) else {}  # reported by the row's check, with its number
        term = (person.get("terms") or [{}])[-1]
        name = person.get("name") or {}
        yield number, {
            "bioguide_id": (person.get("id") or {}).get("bioguide", ""), "type": term.get("type", ""),
            "state": term.get("state", ""), "district": str(term.get("district", "")),
            "full_name": name.get("official_full", ""), "first_name": name.get("first", ""),
            "last_name": name.get("last", ""), "party": term.get("party", ""), "phone": term.get("phone", ""),
            "term_start": term.get("start", ""), "term_end": term.get("end", ""),
        }


def e164(raw: str) -> str | None:
    """A US phone number in E.164, None if empty; ValueError if present but not a number."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"phone {raw!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"phone {raw!r} is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def legislator_record(row: dict[str, Any]) -> dict[str, Any]:
    """One legislators-current row as Legislator fields; ValueError says what is wrong."""
    bioguide, kind, state = (str(row.get(k) or "").strip() for k in ("bioguide_id", "type", "state"))
    if not _BIOGUIDE.match(bioguide):
        raise ValueError(f"bioguide_id {bioguide!r} is malformed")
    if kind not in ("sen", "rep"):
        raise ValueError(f"type {kind!r} is neither sen nor rep")
    if not _STATE.match(state):
        raise ValueError(f"state {state!r} is not a USPS code")
    district = None
    if kind == "rep":
        district = _int(row.get("district"), "district")
    name = str(row.get("full_name") or "").strip() or f"{row.get('first_name', '')} {row.get('last_name', '')}"
    return {
        "bioguide": bioguide, "chamber": "senate" if kind == "sen" else "house",
        "title": "Sen." if kind == "sen" else house_title(state), "name": " ".join(name.split())[:80],
        "party": str(row.get("party") or "")[:20], "state": state, "district": district,
        "phone": e164(str(row.get("phone") or "")),
        "term_start": _day(row.get("term_start"), "term_start"), "term_end": _day(row.get("term_end"), "term_end"),
    }


def _day(raw: Any, name: str) -> date | None:
    """A term date (YYYY-MM-DD; YAML may give a date already), None if the file has none."""
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a date (YYYY-MM-DD)") from None


def office_record(row: dict[str, Any]) -> dict[str, Any]:
    office_id, bioguide = str(row.get("id") or "").strip(), str(row.get("bioguide") or "").strip()
    if not office_id or not _BIOGUIDE.match(bioguide):
        raise ValueError("office id or bioguide is missing or malformed")
    return {
        "id": office_id[:60], "bioguide": bioguide, "city": (row.get("city") or "")[:60],
        "state": (row.get("state") or "")[:2], "zip": (row.get("zip") or "")[:10],
        "phone": e164(row.get("phone") or ""), "hours": (row.get("hours") or "")[:200],
        "latitude": _coordinate(row.get("latitude"), 90), "longitude": _coordinate(row.get("longitude"), 180),
    }


def _coordinate(value: Any, bound: float) -> float | None:
    """A latitude/longitude, or None if missing or impossible (the source has a few typos; the
    office is still dialable, it just cannot be ranked by distance)."""
    try:
        number = float(str(value or "").strip())
    except ValueError:
        return None
    return round(number, 6) if -bound <= number <= bound else None


def zip_record(row: dict[str, Any]) -> dict[str, Any]:
    zcta, state = str(row.get("zcta") or "").strip(), str(row.get("state_abbr") or "").strip()
    if not re.fullmatch(r"\d{5}", zcta):
        raise ValueError(f"zcta {zcta!r} is not 5 digits (read ZIPs as text: leading zeros matter)")
    if not _STATE.match(state):
        raise ValueError(f"state_abbr {state!r} is not a USPS code")
    return {"zip": zcta, "state": state, "district": _int(row.get("cd"), "cd")}


def _int(raw: Any, name: str) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{name} {raw!r} is not a whole number") from None
    if not 0 <= value <= 99:
        raise ValueError(f"{name} {value} is out of range")
    return value


def collect(rows: Iterable[Row], make: Any, key: Any, path: Path | str, skip_bad: bool,
            summary: Summary) -> dict[Any, dict[str, Any]]:
    """Turn rows into records by primary key; a bad row raises DataError unless ``skip_bad``."""
    records: dict[Any, dict[str, Any]] = {}
    for line, row in rows:
        try:
            record = make(row)
        except ValueError as exc:
            if not skip_bad:
                raise DataError(f"{path}: line {line}: {exc}") from None
            summary.rejected.append(f"line {line}: {exc}")
            continue
        records[key(record)] = record
        summary.loaded += 1
    return records


def sync(session: Session, model: type, records: dict[Any, dict[str, Any]], summary: Summary,
         scope: ColumnElement[bool] | None = None, commit: bool = True, version: str = "congress") -> Summary:
    """Make ``model``'s table (the rows in ``scope``) equal to ``records`` with bulk statements, moving the
    data version if anything changed; commit unless told not to (a refresh applies several in one transaction)."""
    pk = [c.name for c in model.__table__.primary_key.columns]
    columns = [c.name for c in model.__table__.columns if c.name != "updated_at"]
    key = (lambda r: r[pk[0]]) if len(pk) == 1 else (lambda r: tuple(r[c] for c in pk))
    query = select(*[model.__table__.c[c] for c in columns])
    existing = {key(r): r for r in (dict(m) for m in session.execute(
        query if scope is None else query.where(scope)).mappings())}
    new = [r for k, r in records.items() if k not in existing]
    changed = [r for k, r in records.items() if k in existing and existing[k] != r]
    gone = [k for k in existing if k not in records]
    for start in range(0, len(new), CHUNK):
        session.execute(insert(model), new[start:start + CHUNK])
    if changed:
        session.execute(update(model), changed)
    cols = tuple_(*[model.__table__.c[c] for c in pk]) if len(pk) > 1 else model.__table__.c[pk[0]]
    for start in range(0, len(gone), CHUNK):
        session.execute(delete(model).where(cols.in_(gone[start:start + CHUNK])))
    if new or changed or gone:
        bump_version(session, version)
    if commit:
        session.commit()
    summary.added, summary.changed, summary.removed = len(new), len(changed), len(gone)
    summary.unchanged = len(records) - len(new) - len(changed)
    return summary


LEGISLATOR_COLUMNS = ("bioguide_id", "type", "state", "district", "phone")
OFFICE_COLUMNS = ("id", "bioguide", "phone")
ZIP_COLUMNS = ("state_abbr", "zcta", "cd")


def import_legislators(session: Session, rows: Iterable[Row], path: Path | str = "", skip_bad: bool = False,
                       origin: datasets.Origin | None = None) -> Summary:
    summary = Summary()
    records = collect(rows, legislator_record, lambda r: r["bioguide"], path, skip_bad, summary)
    undated = sum(1 for r in records.values() if r["term_end"] is None)
    if undated:
        summary.notes.append(f"{undated} of {len(records)} members have no term dates (term_start/term_end), so "
                             "nobody can tell when their terms end: prefer legislators-current.yaml.")
    if origin is not None:
        datasets.record(session, origin, summary.loaded, datasets.members_congress(list(records.values())))
    sync(session, Legislator, records, summary)
    forget_directory()
    return summary


def import_offices(session: Session, rows: Iterable[Row], path: Path | str = "", skip_bad: bool = False,
                   origin: datasets.Origin | None = None) -> Summary:
    summary = Summary()
    records = collect(rows, office_record, lambda r: r["id"], path, skip_bad, summary)
    if origin is not None:
        datasets.record(session, origin, summary.loaded)
    return sync(session, DistrictOffice, records, summary)


def zip_records(rows: Iterable[Row], effective: date, path: Path | str = "", skip_bad: bool = False,
                summary: Summary | None = None) -> dict[Any, dict[str, Any]]:
    """The rows of a ZIP map in force from ``effective``, by primary key."""
    return collect(rows, lambda row: {"effective": effective, **zip_record(row)},
                   lambda r: (r["effective"], r["zip"], r["state"], r["district"]), path, skip_bad,
                   summary if summary is not None else Summary())


def import_zips(session: Session, rows: Iterable[Row], path: Path | str = "", skip_bad: bool = False,
                origin: datasets.Origin | None = None, records: dict[Any, dict[str, Any]] | None = None) -> Summary:
    """Replace the ZIP map in force from ``zipmaps.map_effective(origin)`` (other maps stay); ``records`` if read."""
    summary = Summary()
    effective = zipmaps.map_effective(session, origin)
    if records is None:
        records = zip_records(rows, effective, path, skip_bad, summary)
    else:
        summary.loaded = len(records)
    if origin is not None:
        datasets.record(session, replace(origin, effective=effective), summary.loaded)
    sync(session, ZipDistrict, records, summary, ZipDistrict.effective == effective)
    forget_directory()
    return summary
