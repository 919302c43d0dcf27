"""Event deliveries through real worker.py processes: a Redis flush and a SIGKILL mid-batch lose nothing.

The web app and the workers share a SQLite file and a private ``redis-server`` (flushed at will);
the webhook receiver is an ``http.server`` thread on 127.0.0.1 that checks every signature. The
test only texts and watches what the receiver got.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import select

from sms import services, store
from sms.integrations import destinations
from sms.integrations.models import Event
from tests.conftest import BASE_URL, SERVICE_NUMBER, TOKEN, Phone, _reset_database
from tests.support.faults import Workers, wait_for
from tests.support.integrations import SECRET, Receiver

pytestmark = pytest.mark.slow
TEXTERS = [f"+1415555{n:04d}" for n in range(8)]


@pytest.fixture
def event_app(tmp_path: Path, private_redis: Any, catalogue_data: dict[str, Any]) -> Iterator[Any]:
    from app import create_app

    url = f"sqlite:///{tmp_path / 'events.db'}"
    store.upgrade(url)
    application = create_app({
        "TESTING": True, "DATABASE_URL": url, "REDIS_URL": private_redis.url, "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_PHONE_NUMBER": SERVICE_NUMBER, "PUBLIC_BASE_URL": BASE_URL, "SECRET_KEY": "test-secret",
        "QUIET_HOURS": "off", "CALL_OFFICE_HOURS": "off", "FOLLOWUP_DELAY_SECONDS": "3600"})
    svc = application.extensions["actionline"]
    _reset_database(svc.db, catalogue_data)
    services.bind(svc)
    yield application
    services.bind(None)
    svc.close()


@pytest.fixture
def hooked(event_app: Any) -> Iterator[Receiver]:
    """A receiver taking every event type, with phone numbers."""
    receiver = Receiver()
    receiver.start()
    with event_app.extensions["actionline"].db.session() as session:
        destinations.add(session, receiver.url, "all", "crm", allow_phone=True, secret=SECRET)
    yield receiver
    receiver.stop()


def logged(svc: Any) -> list[tuple[str, str]]:
    """(phone-less subscriber id as text, event id) of every event, in the log's order."""
    with svc.db.session() as session:
        return [(str(e.subscriber_id), e.uuid) for e in session.scalars(select(Event).order_by(Event.id))]


def assert_in_order(svc: Any, receiver: Receiver) -> None:
    """Every event arrived, and each subscriber's first arrivals follow the log's order."""
    expected = logged(svc)
    got = receiver.events
    assert {e["id"] for e in got} == {uuid for _, uuid in expected}
    first_seen = list(dict.fromkeys(e["id"] for e in got))
    for subscriber in {s for s, _ in expected}:
        theirs = [uuid for s, uuid in expected if s == subscriber]
        assert [u for u in first_seen if u in theirs] == theirs, f"subscriber {subscriber} out of order"
    assert receiver.bad_signatures == 0


def text_all(client: Any, body: str, who: list[str] = TEXTERS) -> None:
    for number in who:
        Phone(client, number).text(body)


def test_a_redis_flush_mid_delivery_loses_nothing_and_sends_nothing_twice(event_app, hooked, private_redis,
                                                                         tmp_path):
    client, svc = event_app.test_client(), event_app.extensions["actionline"]
    hooked.delay = 0.05
    text_all(client, "CHOKEHOLD")  # joined + interest.added each
    workers = Workers(svc.settings.database_url, private_redis.url, tmp_path)
    workers.start()
    try:
        wait_for(lambda: len(hooked.events) >= 3, what="the first deliveries", logs=workers.logs)
        Redis.from_url(private_redis.url).flushall()  # queued drains and kick markers are gone
        text_all(client, "STOP", TEXTERS[:4])
        wait_for(lambda: len(hooked.events) >= len(logged(svc)), what="every event", logs=workers.logs)
    finally:
        workers.stop_all()
    assert_in_order(svc, hooked)
    assert len(hooked.ids()) == len(set(hooked.ids())) == len(TEXTERS) * 2 + 4  # once each: nobody was killed
    phones = {e["data"]["phone"] for e in hooked.events}
    assert phones == set(TEXTERS)


def test_a_worker_killed_mid_batch_is_replaced_and_every_event_arrives_in_order(event_app, hooked,
                                                                               private_redis, tmp_path):
    client, svc = event_app.test_client(), event_app.extensions["actionline"]
    hooked.delay = 0.3  # a slow receiver: the worker is killed between two requests of one batch
    text_all(client, "CHOKEHOLD")
    workers = Workers(svc.settings.database_url, private_redis.url, tmp_path)
    first = workers.start()
    try:
        wait_for(lambda: len(hooked.events) >= 2, what="the first deliveries", logs=workers.logs)
        workers.kill(first)
        assert len(hooked.events) < len(logged(svc))
        text_all(client, "STOP", TEXTERS[:3])
        hooked.delay = 0.02
        workers.start()
        wait_for(lambda: {e["id"] for e in hooked.events} >= {u for _, u in logged(svc)}, what="every event",
                 logs=workers.logs)
    finally:
        workers.stop_all()
    assert_in_order(svc, hooked)  # at least once: an event in flight when the worker died may come twice
