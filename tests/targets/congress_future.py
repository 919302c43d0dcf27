"""The Congress data on either side of a term's end, built from the shipped files (helpers for tests/targets).

The shipped members (2026-06-15 snapshot) say that two appointed senators' terms ended on
2026-11-03 (Husted OH, Moody FL) and that every House term and 33 Senate terms end on
2027-01-03. These helpers load that data with its provenance, freeze the term clock at a
chosen moment, and build the refreshes that seat successors.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest

from sms.targets import datasets, importer, terms
from tests.support.calls import legislator_rows

TODAY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
NOV_1 = datetime(2026, 11, 1, 15, 0, tzinfo=UTC)  # before the special elections
JAN_3_BEFORE_NOON = datetime(2027, 1, 3, 11, 59, tzinfo=terms.EASTERN)
JAN_3_AFTER_NOON = datetime(2027, 1, 3, 12, 1, tzinfo=terms.EASTERN)
ZIPS = frozenset({"43004", "01060", "32501", "10001"})  # OH-3, MA-2, FL-1, NY-10/NY-12
HUSTED, MOODY, MOODY_SUCCESSOR = "H001104", "M001244", "Z000001"
BEATTY, HUSTED_PHONE, MORENO = "+12022254324", "+12022243353", "+12022242315"
MCGOVERN, MARKEY, WARREN = "+12022256101", "+12022242742", "+12022244543"
Row = tuple[int, dict[str, Any]]


def freeze(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Every term check without an explicit time sees ``moment``."""
    monkeypatch.setattr(terms, "clock", lambda: moment)


def member_rows() -> list[Row]:
    """The shipped members file's rows (copies: safe to change)."""
    return [(line, dict(row)) for line, row in legislator_rows()]


def zip_rows() -> list[Row]:
    return [(line, row) for line, row in importer.read_rows(importer.ZIPS_CSV, importer.ZIP_COLUMNS)
            if row["zcta"] in ZIPS]


def load(svc: Any, members: list[Row] | None = None, origin: datasets.Origin | None = None,
         zips: datasets.Origin | None = None) -> None:
    """Import ``members`` (default: the shipped file, recorded as it) and the test ZIPs (the shipped map's)."""
    with svc.db.session() as session:
        importer.import_legislators(session, members if members is not None else member_rows(),
                                    origin=origin or datasets.origin("legislators", importer.LEGISLATORS_CSV))
        importer.import_zips(session, zip_rows(), origin=zips or datasets.origin("zips", importer.ZIPS_CSV))


def refreshed(source: str, day: date) -> datasets.Origin:
    """What an import of a refreshed members file records (its Congress is read from the terms)."""
    return datasets.Origin("legislators", source, upstream_date=day)


def special_elections_seated(rows: list[Row]) -> list[Row]:
    """The data after the 2026-11-03 special elections: Husted re-elected, Moody succeeded by Z000001."""
    out = []
    for line, row in copy.deepcopy(rows):
        if row["bioguide_id"] == HUSTED:
            row.update(term_start="2026-11-12", term_end="2029-01-03")
        elif row["bioguide_id"] == MOODY:
            row.update(bioguide_id=MOODY_SUCCESSOR, first_name="Pat", last_name="Successor",
                       full_name="Pat Successor", phone="202-224-3121", term_start="2026-11-18", term_end="2029-01-03")
        out.append((line, row))
    return out


def new_congress_seated(rows: list[Row]) -> list[Row]:
    """The data after 2027-01-03: the special elections seated and every term that ended renewed."""
    out = []
    for line, row in special_elections_seated(rows):
        if row["term_end"] == "2027-01-03":
            row.update(term_start="2027-01-03", term_end="2029-01-03" if row["type"] == "rep" else "2033-01-03")
        out.append((line, row))
    return out


def without_term_dates(rows: list[Row]) -> list[Row]:
    """Rows as upstream's CSV gives them (no term columns)."""
    return [(line, {k: v for k, v in row.items() if not k.startswith("term_")}) for line, row in rows]
