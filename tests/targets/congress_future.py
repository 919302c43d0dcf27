"""The Congress data on either side of a term's end, built from the shipped files (helpers for tests/targets).

The shipped members (2026-06-15 snapshot) say that two appointed senators' terms ended on
2026-11-03 (Husted OH, Moody FL) and that every House term and 33 Senate terms end on
2027-01-03. These helpers load that data with its provenance, freeze the term clock at a
chosen moment, and build the refreshes that seat successors: the 120th Congress as upstream
would publish it (``congress_120``, as upstream's YAML and offices CSV) and a ZIP map for it.
"""

from __future__ import annotations

import copy
import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
import yaml

from sms.targets import datasets, importer, terms
from tests.conftest import Phone
from tests.support.calls import answer_call_back, dial_every_office, legislator_rows

TODAY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
NOV_1 = datetime(2026, 11, 1, 15, 0, tzinfo=UTC)  # before the special elections
JAN_3_BEFORE_NOON = datetime(2027, 1, 3, 11, 59, tzinfo=terms.EASTERN)
JAN_3_AFTER_NOON = datetime(2027, 1, 3, 12, 1, tzinfo=terms.EASTERN)
ZIPS = frozenset({"43004", "01060", "32501", "10001"})  # OH-3, MA-2, FL-1, NY-10/NY-12
HUSTED, MOODY, MOODY_SUCCESSOR = "H001104", "M001244", "Z000001"
BEATTY, HUSTED_PHONE, MORENO = "+12022254324", "+12022243353", "+12022242315"
MCGOVERN, MARKEY, WARREN = "+12022256101", "+12022242742", "+12022244543"
BALDERSON = "+12022255355"  # OH-12
NADLER_ID, PATRONIS_ID, MARKEY_ID, MCGOVERN_ID, BEATTY_ID = "N000002", "P000622", "M000133", "M000312", "B001281"
NEWCOMER, MA_SENATOR = "Z000012", "Z000002"  # the 120th's new NY-12 member and Markey's successor
NEWCOMER_PHONE, MA_SENATOR_PHONE, MCGOVERN_NEW = "+12022250012", "+12022240002", "+12022256102"
SWORN_IN = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # the day after the 120th Congress began
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


def congress_120(rows: list[Row]) -> list[Row]:
    """The 120th Congress: every term renewed, and Nadler (NY-12) succeeded by Z000012, Markey (MA) by Z000002,
    Patronis (FL-1) gone with nobody after him (a vacancy), McGovern (MA-2) with a new phone."""
    out = []
    for line, row in new_congress_seated(rows):
        bioguide = row["bioguide_id"]
        if bioguide == PATRONIS_ID:
            continue
        if bioguide == NADLER_ID:
            row.update(bioguide_id=NEWCOMER, first_name="Pat", last_name="Newcomer", full_name="Pat Newcomer",
                       phone="202-225-0012")
        elif bioguide == MARKEY_ID:
            row.update(bioguide_id=MA_SENATOR, first_name="Sam", last_name="Senator", full_name="Sam Senator",
                       phone="202-224-0002")
        elif bioguide == MCGOVERN_ID:
            row["phone"] = "202-225-6102"
        out.append((line, row))
    return out


def members_yaml(rows: list[Row]) -> str:
    """``rows`` as upstream's legislators-current.yaml (each person's current term only)."""
    people = []
    for _, row in rows:
        term = {"type": row["type"], "start": row["term_start"], "end": row["term_end"], "state": row["state"],
                "party": row["party"]}
        if row["type"] == "rep":
            term["district"] = int(row["district"])
        if row["phone"]:
            term["phone"] = row["phone"]
        name = {"first": row["first_name"], "last": row["last_name"]}
        if row["full_name"]:
            name["official_full"] = row["full_name"]
        people.append({"id": {"bioguide": row["bioguide_id"]}, "name": name, "terms": [term]})
    return yaml.safe_dump(people, sort_keys=False)


def offices_120() -> str:
    """The shipped district offices for the 120th: the departed members' offices go, Z000012 opens one in
    New York, and Beatty's Columbus office has a new phone."""
    with importer.OFFICES_CSV.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames or [], list(reader)
    kept = [row for row in rows if row["bioguide"] not in (NADLER_ID, PATRONIS_ID, MARKEY_ID, MOODY)]
    for row in kept:
        if row["id"] == f"{BEATTY_ID}-columbus":
            row["phone"] = "614-220-0004"
    kept.append({**dict.fromkeys(fields, ""), "bioguide": NEWCOMER, "id": f"{NEWCOMER}-new_york",
                 "city": "New York", "state": "NY", "zip": "10001", "phone": "212-367-7351"})
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(kept)
    return out.getvalue()


def zip_map_120() -> str:
    """A 120th Congress ZIP map: one ZIP for every district of the shipped map, and the test ZIPs, with Ohio
    redrawn so that 43004 is in OH-12 (it was in OH-3)."""
    rows = list(importer.read_rows(importer.ZIPS_CSV, importer.ZIP_COLUMNS))
    one_each = {}
    for _, row in rows:
        if row["zcta"] not in ZIPS:
            one_each.setdefault((row["state_abbr"], row["cd"]), row)
    mine = [dict(row, cd="12") if row["zcta"] == "43004" else row for _, row in rows if row["zcta"] in ZIPS]
    lines = ["state_fips,state_abbr,zcta,cd"] + [
        f"{r['state_fips']},{r['state_abbr']},{r['zcta']},{r['cd']}" for r in [*one_each.values(), *mine]]
    return "\n".join(lines) + "\n"


def connect(client: Any, number: str, zip_code: str, run_jobs: Any, transport: Any) -> tuple[str, list[str]]:
    """A new texter sends CALL CHOKEHOLD, then their ZIP; answers the call-back, presses 1, every office answers:
    (the reply, the numbers dialed)."""
    phone = Phone(client, number)
    assert phone.text("CALL CHOKEHOLD")[0].startswith("What's your ZIP code?")
    reply = phone.text(zip_code)[0]
    run_jobs()
    return reply, dial_every_office(*answer_call_back(client, number, transport))
