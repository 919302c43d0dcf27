"""Local officials without open data (DAs, sheriffs, council members) from an organizer's CSV.

Columns: ``set`` (the custom set, e.g. ``da``), ``name``, ``title``, ``phone``, the area they
serve (``state``, ``county_fips``, ``city``, ``zips``: ZIPs separated by spaces, commas or
semicolons), and optionally ``always`` (yes: called every time by a set that picks k at
random) and ``note``. Every line is checked and every problem reported with its line number;
a file with any problem loads nothing. A set in the file is replaced by the file's rows (other
sets stay), so the upload is idempotent.

Action Line ships no ZIP → county or ZIP → city map (none is in the public data it uses): a
county's or a city's official is matched (``sms.targets.targeting.admits``) by the texter's
county FIPS or incorporated place, found from their street address by the Census geocoder
(CALL asks it when the ZIP does not settle it), or else by the ``zips`` uploaded with them
(optional; a city's ZIPs also let ``mayor`` find the texter's city without the address). A
state-wide official (``state`` only) serves every texter of that state. A demand calling
``custom:da`` then calls "the DA for the texter's county".
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from sms.errors import DataError
from sms.targets import importer
from sms.targets.models import CustomTarget

COLUMNS = ("set", "name", "title", "phone", "state", "county_fips", "city", "zips", "always", "note")
REQUIRED = ("set", "name", "phone")
_SET = re.compile(r"^[a-z0-9_]{1,60}$")
_STATE = re.compile(r"^[A-Z]{2}$")
_FIPS = re.compile(r"^\d{5}$")
_ZIP = re.compile(r"^\d{5}$")
YES = {"yes", "y", "true", "1", "always"}


@dataclass
class Upload:
    """What a CSV holds: rows by set, and the problems of each line (nothing loads if there are any)."""

    sets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(len(v) for v in self.sets.values())


def read(text: str, source: str = "upload") -> Upload:
    """Check every line of a local officials CSV (text); DataError if the header lacks a column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or ()]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DataError(f"{source}: line 1: missing column(s) {', '.join(missing)} (the columns are "
                        f"{', '.join(COLUMNS)})")
    out = Upload()
    for row in reader:
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not any(clean.values()):
            continue
        try:
            record = _record(clean)
        except ValueError as exc:
            out.problems.append(f"line {reader.line_num}: {exc}")
            continue
        found = out.sets.setdefault(record["set_name"], [])
        record["position"] = len(found)
        found.append(record)
    return out


def _record(row: dict[str, str]) -> dict[str, Any]:
    """One line as CustomTarget fields; ValueError says everything wrong with it."""
    wrong = []
    set_name = row.get("set", "").lower()
    if not _SET.match(set_name):
        wrong.append(f"set {row.get('set', '')!r} must be lower-case letters, digits and _")
    if not row.get("name"):
        wrong.append("name is missing")
    phone = None
    try:
        phone = importer.e164(row.get("phone", ""))
        if phone is None:
            wrong.append("phone is missing")
    except ValueError as exc:
        wrong.append(str(exc))
    state = row.get("state", "").upper()
    if state and not _STATE.match(state):
        wrong.append(f"state {state!r} is not a USPS code (KY)")
    county = row.get("county_fips", "")
    if county and not _FIPS.match(county):
        wrong.append(f"county_fips {county!r} is not 5 digits (21111 is Jefferson County, KY)")
    zips = [z for z in re.split(r"[\s,;]+", row.get("zips", "")) if z]
    bad = [z for z in zips if not _ZIP.match(z)]
    if bad:
        wrong.append(f"zips {', '.join(bad[:3])} {'is' if len(bad) == 1 else 'are'} not 5 digits")
    if wrong:
        raise ValueError("; ".join(wrong))
    area = {k: v for k, v in (("states", [state] if state else []), ("counties", [county] if county else []),
                              ("cities", [row["city"]] if row.get("city") else []), ("zips", sorted(set(zips))))
            if v}
    return {"set_name": set_name, "name": row["name"][:120], "title": row.get("title", "")[:60], "phone": phone,
            "note": row.get("note", "")[:400], "area": area or None,
            "always": row.get("always", "").lower() in YES}


def load(session: Session, upload: Upload) -> importer.Summary:
    """Replace each set of ``upload`` with its rows (unchanged sets write nothing); refuse an upload with problems."""
    if upload.problems:
        raise DataError(f"{len(upload.problems)} line(s) have problems, nothing was loaded: "
                        + "; ".join(upload.problems[:5]))
    summary = importer.Summary()
    fields = ("name", "title", "phone", "note", "area", "always")
    for set_name, rows in upload.sets.items():
        current = [{f: getattr(r, f) for f in fields} for r in session.scalars(
            select(CustomTarget).where(CustomTarget.set_name == set_name).order_by(CustomTarget.position))]
        summary.loaded += len(rows)
        if current == [{f: r[f] for f in fields} for r in rows]:
            summary.unchanged += len(rows)
            continue
        session.execute(delete(CustomTarget).where(CustomTarget.set_name == set_name))
        session.execute(insert(CustomTarget), rows)
        summary.added += max(len(rows) - len(current), 0)
        summary.changed += min(len(rows), len(current))
        summary.removed += max(len(current) - len(rows), 0)
    session.commit()
    return summary
