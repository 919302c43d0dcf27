"""Term dates and dataset records: flask data-status, /readyz, the console's data card and warning."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from sms.targets import datasets, importer, lookup, terms
from sms.targets.models import Dataset, Legislator
from tests.support.calls import tune
from tests.support.console import login_as, make_organizer
from tests.targets.congress_future import (
    HUSTED,
    JAN_3_AFTER_NOON,
    JAN_3_BEFORE_NOON,
    MOODY,
    MOODY_SUCCESSOR,
    NOV_1,
    TODAY,
    freeze,
    load,
    member_rows,
    new_congress_seated,
    refreshed,
    special_elections_seated,
    without_term_dates,
)

CONSOLE_PAGES = ("/console/", "/console/targets", "/console/demands", "/console/calls", "/console/inbox")
BANNER = 'id="congress-data-warning"'


@pytest.fixture
def congress(svc, monkeypatch):  # noqa: ANN001, ANN201
    """The shipped members and a few ZIPs, recorded as the shipped files, on 2026-12-01."""
    freeze(monkeypatch, TODAY)
    load(svc)
    return svc


@pytest.fixture
def organizer(client, svc):  # noqa: ANN001, ANN201
    login_as(client, make_organizer(svc))
    return client


def text_of(client: Any, path: str) -> str:
    """The page as the organizer reads it (entities decoded)."""
    response = client.get(path)
    assert response.status_code == 200, path
    return html.unescape(response.get_data(as_text=True))


def test_congress_dates() -> None:
    assert terms.congress_at(TODAY) == 119 and terms.congress_span(119) == (date(2025, 1, 3), date(2027, 1, 3))
    assert terms.congress_at(JAN_3_BEFORE_NOON) == 119 and terms.congress_at(JAN_3_AFTER_NOON) == 120
    assert terms.congress_on(date(2025, 1, 3)) == 119 and terms.congress_on(date(2024, 11, 5)) == 118
    end = date(2027, 1, 3)
    assert not terms.has_ended(end, JAN_3_BEFORE_NOON) and terms.has_ended(end, JAN_3_AFTER_NOON)
    assert terms.ends_soon(end, TODAY) and not terms.ends_soon(end, NOV_1) and not terms.has_ended(None, TODAY)
    assert [terms.ordinal(n) for n in (119, 120, 121, 122, 123, 111, 112)] == [
        "119th", "120th", "121st", "122nd", "123rd", "111th", "112th"]


def test_members_keep_their_terms_and_each_import_is_recorded_once(congress) -> None:  # noqa: ANN001
    with congress.db.session() as session:
        husted, nadler = session.get(Legislator, HUSTED), session.get(Legislator, "N000002")
        assert (husted.term_start, husted.term_end) == (date(2025, 1, 21), date(2026, 11, 3))
        assert (nadler.term_start, nadler.term_end) == (date(2025, 1, 3), date(2027, 1, 3))
        found = datasets.latest(session)
        members, zips = found["legislators"], found["zips"]
        assert members.source.startswith("github.com/unitedstates/congress-legislators gh-pages:")
        assert (members.upstream, members.upstream_date, members.congress, members.rows) == (
            "dfa9622263dd4c8d08636926e498f1845704d7eb", date(2026, 6, 15), 119, 537)
        assert (zips.upstream[:7], zips.upstream_date, zips.congress) == ("f58fe99", date(2024, 11, 12), 119)
        assert members.imported_at == TODAY
    load(congress)  # the same files again: nothing to record
    with congress.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Dataset)) == 2


def test_manifest_knows_the_shipped_files() -> None:
    for path in (importer.LEGISLATORS_CSV, importer.OFFICES_CSV, importer.ZIPS_CSV):
        assert datasets.sha256_of(path) in datasets.manifest(), f"update data/congress/datasets.yaml for {path.name}"


@pytest.mark.parametrize(("day", "expected"), [
    ("2026-11-01", ["Terms: 537 members; none ended; 2 end within 45 days (the first on 2026-11-03).",
                    "Refresh the members once the new terms begin (2026-11-03;"]),
    ("2027-01-02", ["537 members; 2 ended with no successor in the data (Sen. Ashley Moody (FL, ended 2026-11-03), "
                    "Sen. Jon Husted (OH, ended 2026-11-03)); 470 end within 45 days (the first on 2027-01-03).",
                    "Refresh the members now (2 terms have ended): flask refresh-congress (or download "
                    "legislators-current.yaml",
                    "And the ZIP map when the 120th Congress begins (2027-01-03): build zccd.csv from the Census "
                    "120th Congress ZCTA relationship file", "flask import-zips zccd.csv --congress 120."]),
    ("2027-01-03", ["the 120th Congress sits until 2029-01-03", "472 ended with no successor",
                    "and 462 more); 0 end within 45 days.", "Refresh the members now (472 terms have ended)",
                    "And the ZIP map now: build zccd.csv from the Census 120th Congress"]),
])
def test_data_status_on_a_day_says_what_ended_and_what_to_run(congress, runner, day, expected) -> None:  # noqa: ANN001
    result = runner.invoke(args=["data-status", "--on", day])
    assert result.exit_code == 0, result.output
    assert f"Congress data as of {day} 12:00 EST" in result.output
    for text in expected:
        assert text in result.output
    assert "Members: 537 rows from github.com/unitedstates/congress-legislators" in result.output
    assert "  upstream dfa9622263dd of 2026-06-15; describes the 119th Congress; imported 2026-12-01 15:00 UTC" \
        in result.output
    assert "ZIP map: 5 rows from github.com/OpenSourceActivismTech/us-zipcodes-congress" in result.output
    assert "District offices: no record" in result.output  # this fixture imports no offices
    assert "flask import-legislators legislators-current.yaml --offices legislators-district-offices.csv" \
        in result.output
    assert "are still connected to the seat's office (CALL_ENDED_TERMS=dial)." in result.output


def test_data_status_after_the_refreshes(congress, runner, monkeypatch) -> None:  # noqa: ANN001
    load(congress, special_elections_seated(member_rows()), refreshed("a refresh", date(2026, 11, 20)))
    today = runner.invoke(args=["data-status"]).output
    assert "537 members; none ended; 470 end within 45 days" in today
    assert "Members: 537 rows from a refresh\n  upstream 2026-11-20; describes the 119th Congress;" in today
    freeze(monkeypatch, JAN_3_AFTER_NOON)
    load(congress, new_congress_seated(member_rows()), refreshed("after Jan 3", date(2027, 1, 5)),
         datasets.Origin("zips", "my 120th map", congress=120))
    after = runner.invoke(args=["data-status"]).output
    assert "describes the 120th Congress" in after and "537 members; none ended; 0 end within 45 days." in after
    assert "What to do:\n  Nothing to do: no term in the data ends within 45 days" in after


def test_data_status_of_a_database_loaded_without_dates_or_records(svc, runner, monkeypatch) -> None:  # noqa: ANN001
    freeze(monkeypatch, TODAY)
    with svc.db.session() as session:
        summary = importer.import_legislators(session, without_term_dates(member_rows()))
    assert summary.notes == ["537 of 537 members have no term dates (term_start/term_end), so nobody can tell "
                             "when their terms end: prefer legislators-current.yaml."]
    output = runner.invoke(args=["data-status"]).output
    assert "Members: no record (loaded before Action Line kept one, or never): re-import it." in output
    assert "537 members; none ended; 0 end within 45 days; 537 have no term dates." in output
    assert "Re-import the members from a file with term dates (537 have none)" in output
    assert "Record the ZIP map's Congress: flask import-zips" in output


def test_import_commands_record_what_they_are_told(svc, runner, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    freeze(monkeypatch, TODAY)
    zccd = tmp_path / "zccd.csv"
    zccd.write_text("state_fips,state_abbr,zcta,cd\n39,OH,43004,3\n25,MA,01060,2\n", encoding="utf-8")
    bad = runner.invoke(args=["import-zips", str(zccd), "--upstream", "2027-13-01"])
    assert bad.exit_code != 0 and "--upstream '2027-13-01' is not a date (YYYY-MM-DD) (nothing was changed)" \
        in bad.output
    result = runner.invoke(args=["import-zips", str(zccd), "--congress", "120", "--upstream", "2027-02-01",
                                 "--source", "Census cd120 ZCTA file"])
    assert result.exit_code == 0, result.output
    with svc.db.session() as session:
        assert "zips" not in datasets.latest(session)  # a 120th Congress map is in force from 2027-01-03 only
        (zips,) = datasets.zip_maps(session)
        assert (zips.source, zips.upstream, zips.upstream_date, zips.congress, zips.rows, zips.effective) == (
            "Census cd120 ZCTA file", "", date(2027, 2, 1), 120, 2, date(2027, 1, 3))
        assert len(zips.sha256) == 64 and session.scalar(select(func.count()).select_from(Dataset)) == 1


def test_readyz_reports_the_data_and_stays_ready(congress, client, monkeypatch) -> None:  # noqa: ANN001
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["status"] == "ok"
    data = response.json["congress_data"]
    assert (data["terms_ended"], data["terms_ending_within_45_days"], data["term_dates_unknown"]) == (2, 470, 0)
    assert (data["sitting_congress"], data["ended_terms_are"], data["as_of"]) == (
        119, "dialed", "2026-12-01T15:00:00+00:00")
    members = data["datasets"]["legislators"]
    assert (members["upstream_date"], members["congress"], members["rows"]) == ("2026-06-15", 119, 537)
    assert data["datasets"]["zips"]["congress"] == 119 and data["datasets"]["offices"] is None
    assert data["action"].startswith("Refresh the members now (2 terms have ended)")
    freeze(monkeypatch, JAN_3_AFTER_NOON)
    later = client.get("/readyz")
    assert later.status_code == 200 and later.json["status"] == "ok"
    assert later.json["congress_data"]["terms_ended"] == 472
    assert "And the ZIP map now" in later.json["congress_data"]["action"]


def test_console_warns_on_every_page_until_a_refresh_seats_successors(congress, organizer, monkeypatch) -> None:  # noqa: ANN001
    for path in CONSOLE_PAGES:
        page = text_of(organizer, path)
        assert BANNER in page, path
        assert ("2 members' terms have ended and the data has no successor: Sen. Ashley Moody (FL, ended "
                "2026-11-03), Sen. Jon Husted (OH, ended 2026-11-03). Callers are still connected to the seat's "
                "office (CALL_ENDED_TERMS=dial).") in page
    card = text_of(organizer, "/console/targets")
    assert "upstream dfa9622 of 2026-06-15 · 119th Congress · imported 2026-12-01 15:00 UTC" in card
    assert "<b>2 ended</b> with no successor in the data" in card and "470 end within 45 days" in card
    assert "Refresh the members now (2 terms have ended)" in card

    load(congress, special_elections_seated(member_rows()), refreshed("a refresh", date(2026, 11, 20)))
    for path in CONSOLE_PAGES:
        assert BANNER not in text_of(organizer, path), path
    assert "none ended;" in text_of(organizer, "/console/targets")

    freeze(monkeypatch, JAN_3_AFTER_NOON)  # the 119th Congress is over and nobody refreshed
    page = text_of(organizer, "/console/")
    assert "470 members' terms have ended and the data has no successor" in page and "and 465 more" in page
    assert "The ZIP map describes the 119th Congress, which ended on 2027-01-03" in page
    load(congress, new_congress_seated(member_rows()), refreshed("after Jan 3", date(2027, 1, 5)),
         datasets.Origin("zips", "my 120th map", congress=120))
    assert BANNER not in text_of(organizer, "/console/")


def test_banner_names_the_skip_policy_and_stays_off_the_login_page(congress, client, monkeypatch) -> None:  # noqa: ANN001
    assert BANNER not in text_of(client, "/console/login")
    tune(congress, call_ended_terms="skip")
    login_as(client, make_organizer(congress))
    assert "They are left out of calls (CALL_ENDED_TERMS=skip)." in text_of(client, "/console/")


def test_zip_lookup_marks_members_still_dialed_after_their_term(congress, organizer) -> None:  # noqa: ANN001
    page = text_of(organizer, "/console/targets?zip=43004&demand=CHOKEHOLD")
    assert "Sen. Jon Husted <span class=\"phone-number meta\">+12022243353</span> <span class=\"meta\">(term " \
           "ended 2026-11-03; still dialed)</span>" in page
    assert "Sen. Bernie Moreno <span class=\"phone-number meta\">+12022242315</span></div>" in page


def test_a_successor_listed_beside_the_member_it_replaced_is_the_one_called(congress) -> None:  # noqa: ANN001
    rows = member_rows()
    successor = [row for _, row in special_elections_seated(rows) if row["bioguide_id"] == MOODY_SUCCESSOR]
    nadler = next(dict(row) for _, row in rows if row["bioguide_id"] == "N000002")
    nadler.update(bioguide_id="Z000012", full_name="New Member", phone="202-225-0012", term_start="2026-12-01",
                  term_end="2027-01-03")
    load(congress, rows + [(900, successor[0]), (901, nadler)], refreshed("both listed", date(2026, 12, 1)))
    with congress.db.session() as session:
        assert [t.ref for t in lookup.senators(session, "FL")] == ["S001217", MOODY_SUCCESSOR]
        assert [t.ref for t in lookup.house_members(session, [("NY", 12)])] == ["Z000012"]
        assert MOODY not in lookup.directory(session).terms
        found = datasets.report(session)
    assert [h.label for h in found.ended] == ["Sen. Jon Husted"] and found.members == 537
