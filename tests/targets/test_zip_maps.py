"""ZIP maps with an effective date: loaded ahead, switched to at noon Eastern by themselves, checked against the
members in force when they take effect; the migration dates the map a database already had."""

from __future__ import annotations

import html
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text

from sms import store
from sms.targets import datasets, lookup
from sms.targets.models import Dataset, ZipDistrict
from tests.conftest import BACKENDS, PG_BASE
from tests.support.console import login_as, make_organizer
from tests.targets.congress_future import (
    BALDERSON,
    BEATTY,
    HUSTED_PHONE,
    JAN_3_AFTER_NOON,
    JAN_3_BEFORE_NOON,
    MORENO,
    SWORN_IN,
    TODAY,
    congress_120,
    connect,
    freeze,
    load,
    member_rows,
    refreshed,
    zip_map_120,
)

OHIO_119 = "Calling you now to connect you with Rep. Joyce Beatty, Sen. Jon Husted, Sen. Bernie Moreno."
OHIO_120 = "Calling you now to connect you with Rep. Troy Balderson, Sen. Jon Husted, Sen. Bernie Moreno."
MAP_119 = date(2025, 1, 3)  # the shipped map's effective day: the 119th Congress's first
AHEAD = ["import-zips", "--congress", "120", "--effective", "2027-01-03", "--source", "my 120th map"]


@pytest.fixture
def congress(svc, monkeypatch):  # noqa: ANN001, ANN201
    freeze(monkeypatch, TODAY)
    load(svc)
    return svc


@pytest.fixture
def map_120(tmp_path: Path) -> Path:
    path = tmp_path / "zccd-120.csv"
    path.write_text(zip_map_120(), encoding="utf-8")
    return path


def import_map(runner: Any, path: Path, *options: str) -> Any:
    return runner.invoke(args=[AHEAD[0], str(path), *AHEAD[1:], *options])


def test_a_map_loaded_ahead_takes_effect_at_noon_on_its_day(congress, runner, client, run_jobs, transport,
                                                            monkeypatch, map_120) -> None:  # noqa: ANN001
    result = import_map(runner, map_120, "--members-will-follow")
    assert result.exit_code == 0, result.output
    assert "note: the map is in force from 2027-01-03 (noon Eastern)" in result.output
    assert connect(client, "+16175550301", "43004", run_jobs, transport) == (OHIO_119, [BEATTY, HUSTED_PHONE,
                                                                                      MORENO])
    status = runner.invoke(args=["data-status"]).output
    assert "ZIP map: 5 rows from github.com/OpenSourceActivismTech/us-zipcodes-congress" in status
    assert "ZIP map from 2027-01-03: 442 rows from my 120th map\n  upstream unknown; describes the 120th Congress" \
        in status
    assert "And the ZIP map" not in status  # the next Congress's map is loaded: nothing to do about it
    login_as(client, make_organizer(congress))
    card = html.unescape(client.get("/console/targets").get_data(as_text=True))
    assert "<th>ZIP map from 2027-01-03</th><td>my 120th map<br>" in card
    assert "in force from noon Eastern on 2027-01-03; lookups switch to it by themselves" in card

    freeze(monkeypatch, JAN_3_BEFORE_NOON)
    assert connect(client, "+16175550302", "43004", run_jobs, transport)[0] == OHIO_119
    freeze(monkeypatch, JAN_3_AFTER_NOON)  # Ohio's new map: 43004 is in OH-12 now (its member's term is over too)
    assert connect(client, "+16175550303", "43004", run_jobs, transport) == (OHIO_120, [BALDERSON, HUSTED_PHONE,
                                                                                      MORENO])
    with congress.db.session() as session:
        assert lookup.place_of(session, "43004").districts == (("OH", 12),)
        assert lookup.place_of(session, "43004", JAN_3_BEFORE_NOON).districts == (("OH", 3),)
        assert datasets.latest(session)["zips"].source == "my 120th map"
    assert "ZIP map: 442 rows from my 120th map" in runner.invoke(args=["data-status"]).output


def test_a_map_that_does_not_fit_the_members_is_refused_naming_the_pairs(congress, runner, monkeypatch, map_120,
                                                                         tmp_path) -> None:  # noqa: ANN001
    refused = import_map(runner, map_120)
    assert refused.exit_code == 1
    assert ("the map does not fit the members: no House member's term is in force on 2027-01-03 12:00 EST, so none "
            "of the map's 437 districts has a member (AK-AL, AL-1, AL-2,") in refused.output
    assert "Pass --members-will-follow if they will be refreshed before the map takes effect (nothing was changed)" \
        in refused.output
    with congress.db.session() as session:
        assert lookup.directory(session).maps == (MAP_119,)
        assert session.scalar(select(func.count()).select_from(Dataset).where(Dataset.kind == "zips")) == 1

    freeze(monkeypatch, SWORN_IN)  # the 120th Congress's members are in
    load(congress, congress_120(member_rows()), refreshed("the 120th", SWORN_IN.date()))
    at_large = tmp_path / "montana-at-large.csv"
    lines = [line.rsplit(",", 1)[0] + ",0" if line.startswith("30,MT,") else line
             for line in zip_map_120().splitlines()]  # Montana's two districts drawn as one
    at_large.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wrong = import_map(runner, at_large)
    assert wrong.exit_code == 1
    assert "1 districts of the map are no House seat: MT-AL" in wrong.output
    assert "2 districts of the members in force on 2027-01-04 10:00 EST are not in the map: MT-1, MT-2" \
        in wrong.output
    fits = import_map(runner, map_120)
    assert fits.exit_code == 0, fits.output
    assert "note: vacant (no member in force): CA-14, FL-1, FL-20, GA-13, TX-23" in fits.output


def test_a_map_without_a_congress_replaces_the_map_in_force(congress, runner, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "fix.csv"
    path.write_text("state_fips,state_abbr,zcta,cd\n39,OH,43004,3\n25,MA,01060,2\n", encoding="utf-8")
    result = runner.invoke(args=["import-zips", str(path), "--members-will-follow"])
    assert result.exit_code == 0, result.output
    with congress.db.session() as session:
        assert session.scalars(select(ZipDistrict.effective).distinct()).all() == [MAP_119]
        assert session.scalar(select(func.count()).select_from(ZipDistrict)) == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_dates_the_map_a_database_already_had(backend: str, tmp_path: Path) -> None:
    url, drop = _fresh_database(backend, tmp_path)
    try:
        store.upgrade(url, "0008_terms")
        engine = store.make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO zip_districts (zip, state, district) VALUES ('10001', 'NY', 10), "
                              "('10001', 'NY', 12)"))
            conn.execute(text("INSERT INTO datasets (kind, source, upstream, rows, sha256, imported_at, congress) "
                              "VALUES ('zips', 'shipped', '', 2, '', '2026-11-30 12:00:00+00:00', 119)"))
        store.upgrade(url)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT DISTINCT effective FROM zip_districts")).scalars().all() in (
                [MAP_119], ["2025-01-03"])
            conn.execute(text("INSERT INTO zip_districts (effective, zip, state, district) "
                              "VALUES ('2027-01-03', '10001', 'NY', 10)"))  # a second map: the new key allows it
        command.downgrade(store.alembic_config(url), "0008_terms")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM zip_districts")).scalar() == 2
        engine.dispose()
    finally:
        drop()


def _fresh_database(backend: str, tmp_path: Path) -> tuple[str, Any]:
    """An empty database (a file, or a schema of its own) and how to drop it."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}", lambda: None
    schema = f"m_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return f"{PG_BASE}?options=-csearch_path%3D{schema}", drop
