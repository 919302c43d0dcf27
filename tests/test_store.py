"""The schema: migrations and models agree on both backends; timestamps stay UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from sms import features, store
from sms.errors import InvalidNumber
from sms.messaging import subscribers
from sms.store import Subscriber


def test_migrations_produce_exactly_the_models(database_url):
    db = store.Database(database_url)
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, features.load_models().metadata)
    finally:
        db.dispose()
    assert diff == []


def test_timestamps_come_back_timezone_aware_in_utc(svc):
    plus_two = datetime(2026, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with svc.db.session() as session:
        session.add(Subscriber(phone="+16175550100", created_at=plus_two))
        session.commit()
    with svc.db.session() as session:
        created = session.scalar(select(Subscriber.created_at))
    assert created == plus_two and created.utcoffset() == timedelta(0)
    assert created.tzinfo is not None and created.astimezone(UTC).hour == 10


def test_naive_datetimes_are_refused(svc):
    with svc.db.session() as session:
        session.add(Subscriber(phone="+16175550101", created_at=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


def test_get_or_create_returns_the_same_row(svc):
    with svc.db.session() as session:
        first, created = subscribers.get_or_create(session, "+16175550102")
        again, created_again = subscribers.get_or_create(session, "+16175550102")
        session.commit()
    assert created and not created_again and first.id == again.id


def test_get_or_create_for_a_number_a_racing_request_just_added_reads_that_row(svc):
    with svc.db.session() as other:
        winner, _ = subscribers.get_or_create(other, "+16175550103")
        other.commit()
    with svc.db.session() as session:
        loser, created = subscribers.get_or_create(session, "+16175550103", probably_new=True)
        loser.first_name = "Ada"  # the session is still usable: nothing was rolled back
        session.commit()
    assert not created and loser.id == winner.id
    with svc.db.session() as session:
        assert session.get(Subscriber, winner.id).first_name == "Ada"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [("+1 (617) 555-0123", "+16175550123"), ("617-555-0123", "+16175550123"), ("+44 7700 900123", "+447700900123")],
)
def test_normalise_phone_to_e164(raw, e164):
    assert subscribers.normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "Twilio", "12", "+1 555"])
def test_unusable_numbers_raise(raw):
    with pytest.raises(InvalidNumber):
        subscribers.normalise_phone(raw)


def test_postgres_style_urls_use_psycopg3():
    assert store.normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert store.normalise_url("sqlite:///x.db") == "sqlite:///x.db"
