"""State data for tests: the shipped districts and officials of a few states (fast to load)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from sms.targets import state_lookup, states

STATES = ("KY", "MA", "NH", "NE", "TX")


def seed_states(session: Session, only: tuple[str, ...] = STATES) -> None:
    """Load the shipped state districts and officials of ``only``."""
    districts = {key: found for key, found in states.read_districts(states.DISTRICTS_CSV).items() if key[0] in only}
    states.import_districts(session, districts)
    rows = [(where, row) for where, row in states.read_officials(states.OFFICIALS_CSV, date(2026, 8, 5))
            if row["state"] in only]
    states.import_officials(session, rows)
    state_lookup.forget_directory()
