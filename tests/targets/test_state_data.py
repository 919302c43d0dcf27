"""State data: the shipped files imported (counts, joins, named districts), refusals, data-status."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sms.errors import DataError
from sms.targets import states
from sms.targets.models import StateDistrict, StateOfficial, StateZip


def _count(session, *where) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(StateOfficial).where(*where))


@pytest.mark.slow
def test_the_shipped_state_data_imports_with_its_counts_joins_and_named_districts(svc, runner) -> None:  # noqa: ANN001
    result = runner.invoke(args=["import-state-districts"])
    assert result.exit_code == 0, result.output
    assert "104146 rows loaded: 104146 added" in result.output
    result = runner.invoke(args=["import-state-legislators"])
    assert result.exit_code == 0, result.output
    assert "7835 rows loaded: 7835 added" in result.output
    assert "NH: 415 loaded, 415 new or changed, 0 rejected, 57 not joined (57 floterial districts" in result.output
    assert "ME: 191 loaded, 191 new or changed, 0 rejected, 2 not joined (2 tribal seats" in result.output
    assert "PR: 81 loaded" in result.output and "no districts loaded for this state and chamber" in result.output
    with svc.db.session() as session:
        legislators = StateOfficial.role.in_(("state-upper", "state-lower"))
        assert _count(session, legislators) == 7451
        assert _count(session, legislators, StateOfficial.district.is_not(None)) == 7299
        for state, n in (("KY", 138), ("MA", 198), ("NE", 49), ("TX", 181), ("VT", 180), ("ID", 105)):
            assert _count(session, legislators, StateOfficial.state == state) == n, state
            assert _count(session, legislators, StateOfficial.state == state,
                          StateOfficial.district.is_(None)) == 0, state
        assert _count(session, StateOfficial.role == "governor") == 38
        seat = lambda state, role, where: session.scalar(  # noqa: E731
            select(StateOfficial.district).where(StateOfficial.state == state, StateOfficial.role == role, where))
        assert seat("MA", "state-upper", StateOfficial.seat == "Norfolk, Plymouth and Bristol") == "D33"
        assert seat("MA", "state-lower", StateOfficial.seat == "2nd Worcester") == "143"  # "2nd Worcester District"
        assert seat("NH", "state-lower", StateOfficial.seat == "Rockingham 30") == "730"
        assert seat("VT", "state-upper", StateOfficial.seat == "Chittenden Southeast") == "CHS"
        assert seat("VT", "state-lower", StateOfficial.seat == "Chittenden-19") is not None
        assert {seat("ID", "state-lower", StateOfficial.seat == s) for s in ("8A", "8B")} == {"8"}
        assert session.scalar(select(func.count()).select_from(StateDistrict)) == 6775
        assert session.scalar(select(func.count(func.distinct(StateZip.zip)))) > 30000
    again = runner.invoke(args=["import-state-legislators"])
    assert "0 added, 0 changed, 0 removed, 7835 unchanged" in again.output
    status = runner.invoke(args=["data-status"])
    assert "State officials: 7,835 rows from github.com/openstates/people" in status.output
    assert "upstream 934bf09a94a3 of 2026-08-05" in status.output


def test_district_names_join_by_number_name_and_lettered_seat() -> None:
    ma = states.Chamber.of({"D33": "Norfolk-Plymouth-Bristol District", "D26": "Second Middlesex District",
                            "2": "2nd Worcester District"})
    assert states.join_key("Norfolk, Plymouth and Bristol", ma, "MA") == ("D33", "")
    assert states.join_key("2nd Middlesex", ma, "MA") == ("D26", "")
    assert states.join_key("Second Worcester", ma, "MA") == ("2", "")
    idaho = states.Chamber.of({"8": "State House District 8"})
    assert states.join_key("8A", idaho, "ID") == ("8", "")
    assert states.join_key("08", idaho, "ID") == ("8", "")
    nh = states.Chamber.of({"730": "State House District Rockingham 30"})
    assert states.join_key("Rockingham 30", nh, "NH") == ("730", "")
    assert states.join_key("Rockingham 31", nh, "NH")[1].startswith("floterial district 'Rockingham 31'")
    maine = states.Chamber.of({"1": "State House District 1"})
    assert states.join_key("Passamaquoddy Tribe", maine, "ME")[1].startswith("tribal seat")
    assert states.join_key("99", maine, "ME") == (None, "district '99' matches no district of the map")


def _write(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _officials(only: str) -> list[dict[str, str]]:
    with states.OFFICIALS_CSV.open(newline="", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row["state"] == only]


def _districts(only: str) -> list[dict[str, str]]:
    with states.DISTRICTS_CSV.open(newline="", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row["state"] == only]


def test_an_import_without_districts_or_with_a_bad_row_or_truncated_is_refused_and_changes_nothing(
        svc, runner, tmp_path) -> None:  # noqa: ANN001
    officials = _write(tmp_path / "ky.csv", _officials("KY"), states.OFFICIAL_COLUMNS)
    refused = runner.invoke(args=["import-state-legislators", str(officials)])
    assert refused.exit_code != 0
    assert "no state districts are loaded: run flask import-state-districts first (nothing was changed)" \
        in refused.output
    districts = _write(tmp_path / "ky-districts.csv", _districts("KY"), states.DISTRICT_COLUMNS)
    assert runner.invoke(args=["import-state-districts", str(districts)]).exit_code == 0
    assert runner.invoke(args=["import-state-legislators", str(officials)]).exit_code == 0
    bad = _officials("KY")
    bad[3] = {**bad[3], "name": " "}
    bad[4] = {**bad[4], "state": "Kentucky"}
    refused = runner.invoke(args=["import-state-legislators", str(_write(tmp_path / "bad.csv", bad,
                                                                          states.OFFICIAL_COLUMNS))])
    assert refused.exit_code != 0 and "line 5: id or name is missing (nothing was changed)" \
        in refused.output
    short = runner.invoke(args=["import-state-legislators", str(_write(tmp_path / "short.csv", _officials("KY")[:20],
                                                                        states.OFFICIAL_COLUMNS))])
    assert short.exit_code != 0 and "far fewer officials than loaded for KY 20 of 142" in short.output
    with svc.db.session() as session:
        assert _count(session) == 142
    skipped = runner.invoke(args=["import-state-legislators", str(tmp_path / "bad.csv"), "--skip-bad"])
    assert skipped.exit_code == 0, skipped.output
    assert "KY: 140 loaded, 2 new or changed, 1 rejected" in skipped.output
    assert "?: 0 loaded, 0 new or changed, 1 rejected" in skipped.output


def test_a_malformed_district_map_is_refused(svc, runner, tmp_path) -> None:  # noqa: ANN001
    rows = _districts("NE")
    rows[0] = {**rows[0], "zips": "6850 68508"}
    refused = runner.invoke(args=["import-state-districts", str(_write(tmp_path / "ne.csv", rows,
                                                                        states.DISTRICT_COLUMNS))])
    assert refused.exit_code != 0 and "ZIP '6850' of NE upper 1 is not 5 digits (nothing was changed)" \
        in refused.output
    with pytest.raises(DataError, match="not a state-leg-zips districts.json"):
        states.read_districts(_write(tmp_path / "x.json", [], ()))
