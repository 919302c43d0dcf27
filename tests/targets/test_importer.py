"""Target data: imports of the real files and malformed input (custom sets: test_custom_sets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from sms import features
from sms.targets import importer, lookup
from sms.targets.models import DistrictOffice, Legislator, ZipDistrict
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared" / "data"


def shared(path: str) -> Path:
    file = SHARED / path
    if not file.exists():
        pytest.skip(f"{file} is absent: the public data sets are not on this machine (see data/SOURCES.md)")
    return file


@pytest.mark.slow
def test_import_of_the_real_files_gives_the_documented_counts_and_facts(svc, runner) -> None:  # noqa: ANN001
    legislators = shared("congress-legislators/legislators-current.csv")
    offices = shared("congress-legislators/legislators-district-offices.csv")
    zccd = shared("zip-congressional-district/zccd.csv")
    result = runner.invoke(args=["import-legislators", str(legislators), "--offices", str(offices)])
    assert result.exit_code == 0, result.output
    assert "537 rows loaded: 537 added" in result.output
    result = runner.invoke(args=["import-zips", str(zccd)])
    assert "42033 rows loaded: 42033 added" in result.output, result.output
    with svc.db.session() as session:
        count = lambda *where: session.scalar(select(func.count()).select_from(Legislator).where(*where))  # noqa: E731
        assert count(Legislator.chamber == "senate") == 100
        assert count(Legislator.chamber == "house") == 437
        assert count(Legislator.title == "Del.") == 5 and count(Legislator.title == "Res. Comm.") == 1
        assert count(Legislator.phone.is_(None)) == 1
        assert session.scalar(select(func.count(func.distinct(ZipDistrict.zip)))) == 33774
        assert session.scalar(select(func.count()).select_from(DistrictOffice)) == 1312
        assert session.scalar(select(func.count()).select_from(DistrictOffice)
                              .where(DistrictOffice.phone.is_(None))) == 32
        gallagher = session.get(Legislator, "G000607")
        assert (gallagher.name, gallagher.phone, gallagher.district) == ("James Gallagher", None, 1)
        assert session.get(Legislator, "M001246").name == "Analilia Mejia"
        assert lookup.place_of(session, "10001").districts == (("NY", 10), ("NY", 12))
        assert lookup.place_of(session, "90210").districts == (("CA", 30), ("CA", 32), ("CA", 36))
        assert lookup.place_of(session, "00601").districts == (("PR", 0),)
        nadler = lookup.house_members(session, [("NY", 12)])[0]
        assert (nadler.label, nadler.phone) == ("Rep. Jerrold Nadler", "+12022255635")
        for seat in (("CA", 14), ("FL", 20), ("GA", 13), ("TX", 23)):
            assert lookup.is_vacant(session, *seat) and lookup.seat_exists(session, *seat)
    again = runner.invoke(args=["import-zips", str(zccd)])
    assert "0 added, 0 changed, 0 removed, 42033 unchanged" in again.output


@pytest.mark.slow
def test_yaml_and_shipped_csv_legislator_files_give_the_same_records() -> None:
    """The shipped CSV's term_start/term_end columns are the YAML's current terms."""
    yaml_file = shared("congress-legislators/legislators-current.yaml")
    csv_file = importer.LEGISLATORS_CSV

    def records(path: Path) -> dict:
        summary = importer.Summary()
        rows = importer.read_rows(path, importer.LEGISLATOR_COLUMNS)
        return importer.collect(rows, importer.legislator_record, lambda r: r["bioguide"], path, False, summary)

    from_yaml, from_csv = records(yaml_file), records(csv_file)
    assert len(from_yaml) == 537
    differing = [k for k in from_csv if from_csv[k] != from_yaml.get(k)]
    assert differing == []


def test_shipped_copies_match_the_shared_files() -> None:
    """Unchanged copies, except that the members CSV adds two columns (term_start, term_end) to each line."""
    for shipped, original in (("congress/zccd.csv", "zip-congressional-district/zccd.csv"),
                              ("congress/legislators-district-offices.csv",
                               "congress-legislators/legislators-district-offices.csv")):
        assert (lookup.DATA / shipped).read_bytes() == shared(original).read_bytes()
    members = (lookup.DATA / "congress/legislators-current.csv").read_bytes().split(b"\r\n")
    upstream = shared("congress-legislators/legislators-current.csv").read_bytes().split(b"\r\n")
    assert len(members) == len(upstream) == 539
    assert [line.rsplit(b",", 2)[0] if line else line for line in members] == upstream


def test_malformed_row_stops_the_import_naming_the_line(svc, runner, tmp_path) -> None:  # noqa: ANN001
    bad = tmp_path / "zccd.csv"
    bad.write_text("state_fips,state_abbr,zcta,cd\n36,NY,10001,10\n36,NY,1001,12\n36,NY,10002,x\n")
    result = runner.invoke(args=["import-zips", str(bad)])
    assert result.exit_code != 0
    assert "line 3" in result.output and "zcta '1001'" in result.output
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ZipDistrict)) == 0
    result = runner.invoke(args=["import-zips", str(bad), "--skip-bad"])
    assert result.exit_code == 0
    assert "1 rows loaded: 1 added" in result.output and "2 rejected" in result.output
    assert "line 4: cd 'x'" in result.output


def test_missing_column_and_bad_phone_are_named(runner, tmp_path, app) -> None:  # noqa: ANN001
    no_cd = tmp_path / "z.csv"
    no_cd.write_text("state_abbr,zcta\nNY,10001\n")
    assert "line 1: missing column(s) cd" in runner.invoke(args=["import-zips", str(no_cd)]).output
    members = tmp_path / "m.csv"
    members.write_text("bioguide_id,type,state,district,phone,full_name\nN000002,rep,NY,12,202-225-563,X Y\n")
    result = runner.invoke(args=["import-legislators", str(members)])
    assert result.exit_code != 0 and "line 2" in result.output and "phone" in result.output


def test_reimport_reports_changes_and_removals(svc, tmp_path) -> None:  # noqa: ANN001
    file = tmp_path / "m.csv"
    header = "bioguide_id,type,state,district,phone,first_name,last_name,full_name\n"
    file.write_text(header + "A000001,rep,VT,0,202-225-4115,Ann,Ay,\nB000002,sen,VT,,202-224-5141,Bo,Be,Bo Be\n")
    with svc.db.session() as session:
        first = importer.import_legislators(session, importer.read_rows(file, ()))
        assert (first.added, first.changed) == (2, 0)
        assert session.get(Legislator, "A000001").name == "Ann Ay"  # no full name: first + last
        file.write_text(header + "A000001,rep,VT,0,202-225-0000,Ann,Ay,\n")
        second = importer.import_legislators(session, importer.read_rows(file, ()))
        assert (second.added, second.changed, second.removed, second.unchanged) == (0, 1, 1, 0)
        assert session.get(Legislator, "A000001").phone == "+12022250000"


def test_phone_numbers_are_normalised_to_e164() -> None:
    assert importer.e164("202-225-5635") == "+12022255635"
    assert importer.e164("(502) 574-1100") == "+15025741100"
    assert importer.e164("") is None
    with pytest.raises(ValueError):
        importer.e164("555-1234")


def test_models_and_migrations_agree(database_url) -> None:  # noqa: ANN001
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from sms import store

    engine = store.make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), features.load_models().metadata)
    engine.dispose()
    mine = {"legislators", "zip_districts", "district_offices", "custom_targets", "custom_target_sets",
            "call_sessions", "call_legs", "call_blocklist"}
    assert [d for d in diff if any(name in str(d) for name in mine)] == []
