"""Local officials from an organizer's CSV: per-line problems, idempotent loads, the DA for the texter's county."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from sms.calls.models import CallSession
from sms.messaging import catalogue
from sms.store import Demand
from sms.targets import local_officials, targeting
from sms.targets.lookup import Target
from sms.targets.models import CustomTarget
from tests.support.console import post

CSV = """set,name,title,phone,state,county_fips,city,zips,always,note
da,Jefferson Commonwealth's Attorney,Commonwealth's Attorney,502-595-2300,KY,21111,,40202 40203 40204,,
da,Fayette Commonwealth's Attorney,Commonwealth's Attorney,859-246-2060,KY,21067,,40502;40503,,
sheriff,Kentucky State Police,Commissioner,502-782-1800,KY,,,,,statewide
"""
BAD = """set,name,title,phone,state,county_fips,city,zips
da,Somebody,DA,555-0100,Kentucky,2111,,
Bad Set,,DA,502-595-2300,KY,21111,,
da,Good One,DA,502-595-2300,KY,,Louisville,
"""


def test_a_csv_with_bad_lines_names_each_and_loads_nothing(runner, svc, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "bad.csv"
    path.write_text(BAD)
    result = runner.invoke(args=["import-targets", str(path)])
    assert result.exit_code != 0
    assert "line 2: phone '555-0100' is not a valid number; state 'KENTUCKY' is not a USPS code (KY); county_fips " \
           "'2111' is not 5 digits" in result.output
    assert "line 3: set 'Bad Set' must be lower-case letters, digits and _; name is missing" in result.output
    assert "line 4" not in result.output  # a city's official without zips: matched by the texter's address
    assert "2 line(s) have problems (nothing was changed)" in result.output
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(CustomTarget)) == 0


def test_the_da_for_the_texters_county_from_an_uploaded_csv(runner, svc, tmp_path, phone, states_db) -> None:  # noqa: ANN001
    path = tmp_path / "officials.csv"
    path.write_text(CSV)
    result = runner.invoke(args=["import-targets", str(path)])
    assert result.exit_code == 0, result.output
    assert "Local officials (da, sheriff): 3 rows loaded: 3 added" in result.output
    again = runner.invoke(args=["import-targets", str(path)])
    assert "3 rows loaded: 0 added, 0 changed, 0 removed, 3 unchanged" in again.output
    with svc.db.session() as session:
        jefferson = targeting.custom(session, "da", targeting.Where("40202", "KY", [("KY", 3)]))
        assert [t.name for t in jefferson] == ["Jefferson Commonwealth's Attorney"]
        assert [t.phone for t in jefferson] == ["+15025952300"]
        assert [t.name for t in targeting.custom(session, "da", targeting.Where("40502", "KY"))] == [
            "Fayette Commonwealth's Attorney"]
        assert targeting.custom(session, "da", targeting.Where("41001", "KY")) == []
        assert [t.name for t in targeting.custom(session, "sheriff", targeting.Where("41001", "KY"))] == [
            "Kentucky State Police"]
        demand = session.get(Demand, "NOKNOCK")
        demand.targets, demand.target_order = "custom:da,governor", ["custom:da", "governor"]
        catalogue.bump_version(session)
        session.commit()
    phone.text("ZIP 40202")
    reply = phone.text("CALL NOKNOCK")
    assert reply[0].startswith("Calling you now to connect you with Jefferson Commonwealth's Attorney, Gov. Andy "
                               "Beshear."), reply
    with svc.db.session() as session:
        call = session.scalars(select(CallSession)).one()
        assert [Target.of(t).name for t in call.targets] == ["Jefferson Commonwealth's Attorney", "Andy Beshear"]


def test_reading_keeps_the_area_and_always() -> None:
    upload = local_officials.read("set,name,phone,zips,always,city\ncouncil,A,502-574-1100,40202,yes,Louisville\n")
    assert upload.problems == []
    row = upload.sets["council"][0]
    assert row["area"] == {"cities": ["Louisville"], "zips": ["40202"]} and row["always"] is True


def test_the_console_upload_loads_a_csv_or_shows_each_bad_line(console, svc) -> None:  # noqa: ANN001
    bad = post(console, "/console/targets/upload", {"file": (io.BytesIO(BAD.encode()), "bad.csv")},
               content_type="multipart/form-data", follow_redirects=True)
    page = bad.get_data(as_text=True)
    assert "Not loaded, nothing was changed: line 2: phone" in page and "line 4" not in page
    good = post(console, "/console/targets/upload", {"file": (io.BytesIO(CSV.encode()), "officials.csv")},
                content_type="multipart/form-data", follow_redirects=True)
    page = good.get_data(as_text=True)
    assert "Loaded da, sheriff: 3 rows loaded: 3 added" in page
    assert "Jefferson Commonwealth" in page
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(CustomTarget)) == 3


def test_a_citys_uploaded_zips_let_the_mayor_kind_find_the_texters_mayor(svc, states_db) -> None:  # noqa: ANN001
    upload = local_officials.read("set,name,phone,state,city,zips\n"
                                  "metro_council,Louisville Metro Council,502-574-1100,KY,Louisville,40202 40203\n")
    with svc.db.session() as session:
        local_officials.load(session, upload)
        assert targeting.city_of(session, "40202", "KY") == "Louisville"
        mayor = targeting.for_demand(session, "mayor", (), targeting.Where("40202", "KY"))
        assert [t.label for t in mayor] == ["Mayor Craig Greenberg"]
        assert targeting.for_demand(session, "mayor", (), targeting.Where("40601", "KY")) == []
