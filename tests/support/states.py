"""State data for tests: the shipped districts and officials of a few states (fast to load)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from sms.targets import custom_sets, importer, state_lookup, states
from tests.support.calls import FIXTURE_ZIPS, legislator_rows

STATES = ("KY", "MA", "NH", "NE", "TX")
ZIPS = FIXTURE_ZIPS | {"40004", "40601", "01003", "03032", "03301", "68001", "68508", "75020"}


def seed_states(session: Session, only: tuple[str, ...] = STATES) -> None:
    """Load the shipped state districts and officials of ``only``."""
    districts = {key: found for key, found in states.read_districts(states.DISTRICTS_CSV).items() if key[0] in only}
    states.import_districts(session, districts)
    rows = [(where, row) for where, row in states.read_officials(states.OFFICIALS_CSV, date(2026, 8, 5))
            if row["state"] in only]
    states.import_officials(session, rows)
    state_lookup.forget_directory()


@pytest.fixture
def states_db(svc):  # noqa: ANN001, ANN201
    """Congress (members, the calls fixture's ZIPs and these) and the state data of KY, MA, NH, NE, TX."""
    rows = tuple((n, r) for n, r in importer.read_rows(importer.ZIPS_CSV, importer.ZIP_COLUMNS) if r["zcta"] in ZIPS)
    with svc.db.session() as session:
        importer.import_legislators(session, legislator_rows())
        importer.import_zips(session, rows)
        custom_sets.import_custom_targets(session, custom_sets.load_custom_targets())
        seed_states(session)
    return svc
