"""Webhook delivery over real HTTP to a local receiver: signed, once per destination, in order, retried, paused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from sms.errors import IntegrationError
from sms.integrations import delivery, destinations
from sms.integrations.http import RequestsClient
from sms.integrations.models import Destination, Event, EventDelivery
from sms.store import utcnow
from tests.conftest import Phone
from tests.support.integrations import SECRET

ALICE, BOB = "+16175550101", "+16175550102"


def add(svc, url: str, types: str = "all", name: str = "", allow_phone: bool = False) -> int:  # noqa: ANN001
    with svc.db.session() as session:
        return destinations.add(session, url, types, name, allow_phone, SECRET).id


def rows(svc, destination_id: int) -> list[EventDelivery]:  # noqa: ANN001
    with svc.db.session() as session:
        return list(session.scalars(select(EventDelivery).where(EventDelivery.destination_id == destination_id)
                                    .order_by(EventDelivery.event_id)))


def event_ids(svc, types: tuple[str, ...] = ()) -> list[str]:  # noqa: ANN001
    with svc.db.session() as session:
        query = select(Event.uuid).order_by(Event.id)
        return list(session.scalars(query.where(Event.type.in_(types)) if types else query))


def test_every_event_reaches_each_destination_once_signed_and_only_the_types_it_takes(client, svc, receiver):
    everything = add(svc, receiver.url, name="everything")
    consent_only = add(svc, receiver.url.replace("/hook", "/consent"), "subscriber.opted_out,subscriber.opted_in",
                       name="consent")
    alice = Phone(client, ALICE)
    alice.text("CHOKEHOLD")
    alice.text("STOP")
    alice.text("START")
    assert delivery.deliver_now(svc) == {"delivered": 6}
    assert delivery.deliver_now(svc) == {}  # nothing twice
    assert receiver.bad_signatures == 0
    assert sorted(receiver.ids()) == sorted(event_ids(svc) + event_ids(svc, ("subscriber.opted_out",
                                                                            "subscriber.opted_in")))
    assert [r.status for r in rows(svc, everything)] == ["delivered"] * 4
    assert [r.status for r in rows(svc, consent_only)] == ["delivered"] * 2
    first = receiver.events[0]
    assert (first["type"], first["schema_version"]) == ("subscriber.joined", 1)
    assert receiver.headers[0]["X-ActionLine-Event-Id"] == first["id"]
    assert receiver.headers[0]["Content-Type"] == "application/json"


def test_a_phone_number_goes_only_to_a_destination_allowed_one(client, svc, receiver):
    add(svc, receiver.url, name="crm", allow_phone=True)
    add(svc, receiver.url.replace("/hook", "/stats"), name="stats")
    Phone(client, ALICE).text("CHOKEHOLD")
    delivery.deliver_now(svc)
    with_phone = [e for e in receiver.events if "phone" in e["data"]]
    assert len(with_phone) == 2 and {e["data"]["phone"] for e in with_phone} == {ALICE}
    assert len(receiver.events) == 4
    assert all(ALICE.lstrip("+") not in str(e) for e in receiver.events if "phone" not in e["data"])


def test_deleted_never_carries_the_phone_even_where_allowed(client, svc, receiver):
    add(svc, receiver.url, "subscriber.deleted", allow_phone=True)
    alice = Phone(client, ALICE)
    alice.text("DELETE")
    alice.text("YES")
    delivery.deliver_now(svc)
    (deleted,) = receiver.events
    assert deleted["type"] == "subscriber.deleted" and set(deleted["data"]) == {"subscriber_id"}


def test_a_redis_flush_loses_no_delivery(client, svc, receiver, redis, run_jobs, monkeypatch):
    monkeypatch.setattr(delivery.defaults, "EVENT_SETTLE_SECONDS", 0)
    add(svc, receiver.url)
    Phone(client, ALICE).text("CHOKEHOLD")
    assert delivery.route(svc)["kicked"] == 1
    redis.flushdb()  # the drain job and its marker are gone; the rows are not
    assert delivery.route(svc)["kicked"] == 1
    run_jobs()
    bob = Phone(client, BOB)
    bob.text("MENU")  # joined (a first text that says STOP never signs up)
    bob.text("STOP")
    delivery.route(svc)
    redis.flushdb()
    delivery.route(svc)
    run_jobs()
    assert sorted(receiver.ids()) == sorted(event_ids(svc)) and len(receiver.ids()) == 4


def test_order_per_subscriber_survives_a_failure_while_others_go_on(client, svc, receiver):
    destination_id = add(svc, receiver.url)
    Phone(client, ALICE).text("CHOKEHOLD")  # joined, interest.added
    Phone(client, BOB).text("MENU")  # joined
    Phone(client, ALICE).text("STOP")  # opted_out: must wait for Alice's earlier events
    receiver.script = [500]  # Alice's joined fails once
    now = utcnow()
    with svc.db.session() as session:
        delivery.fan_out(session, now, settle_seconds=0)
        session.commit()
    assert delivery.drain(svc, destination_id, urgent=False, now=now) == {"retry": 1, "delivered": 1}
    assert receiver.types() == ["subscriber.joined"]  # Bob's, not held back by Alice
    alice = [r for r in rows(svc, destination_id) if r.subscriber_id != rows(svc, destination_id)[2].subscriber_id]
    assert [r.status for r in alice] == ["pending", "pending", "pending"] and alice[0].attempts == 1
    assert now + timedelta(seconds=5) <= alice[0].next_at <= now + timedelta(seconds=10)
    assert alice[0].response_code == 500 and alice[0].error.startswith("HTTP 500")
    assert delivery.deliver_now(svc, alice[0].next_at) == {"delivered": 3}
    alice_types = [e["type"] for e in receiver.events if e["data"]["subscriber_id"] == alice[0].subscriber_id]
    assert alice_types == ["subscriber.joined", "interest.added", "subscriber.opted_out"]


def test_an_opt_out_goes_first_from_the_high_queue_with_its_subscriber_chain(client, svc, receiver):
    destination_id = add(svc, receiver.url)
    for n in range(5):
        Phone(client, f"+1617555020{n}").text("MENU")
    alice = Phone(client, ALICE)
    alice.text("CHOKEHOLD")
    alice.text("STOP")
    with svc.db.session() as session:
        delivery.fan_out(session, utcnow(), settle_seconds=0)
        session.commit()
    counts = delivery.drain(svc, destination_id, urgent=True)
    assert counts == {"delivered": 3}  # Alice's joined, interest.added, then the opt-out; nobody else yet
    assert receiver.types() == ["subscriber.joined", "interest.added", "subscriber.opted_out"]
    assert delivery.drain(svc, destination_id) == {"delivered": 5}


def test_no_answer_is_retried_and_a_day_of_failures_is_given_up(client, svc, receiver):
    svc.http = RequestsClient(timeout=0.3)
    destination_id = add(svc, receiver.url)
    alice = Phone(client, ALICE)
    alice.text("MENU")
    alice.text("STOP")
    receiver.delay, receiver.status = 1.0, 503  # longer than the client waits (and no delivery, however late)
    now = utcnow()
    assert delivery.deliver_now(svc, now) == {"retry": 1}
    first = rows(svc, destination_id)[0]
    assert first.error.startswith("no answer") and first.response_code is None
    receiver.delay, receiver.status = 0, 503
    later = now + timedelta(days=1, seconds=1)
    assert delivery.deliver_now(svc, later) == {"retry": 1}  # the last try, a day after the first
    given_up, opted_out = rows(svc, destination_id)
    assert given_up.status == "failed" and given_up.error.startswith("gave up after a day")
    receiver.status = 200
    with svc.db.session() as session:  # the destination was paused by then (an hour of failures): resume it
        assert session.get(Destination, destination_id).status == "paused"
        destinations.resume(session, session.get(Destination, destination_id), later)
    assert delivery.deliver_now(svc, later) == {"delivered": 1}  # the next event is no longer held back
    assert receiver.types() == ["subscriber.opted_out"]


def test_an_hour_of_failures_pauses_and_resume_sends_the_backlog(client, svc, receiver):
    destination_id = add(svc, receiver.url)
    receiver.status = 500
    Phone(client, ALICE).text("MENU")
    start = utcnow()
    assert delivery.deliver_now(svc, start) == {"retry": 1}
    Phone(client, BOB).text("MENU")
    assert delivery.deliver_now(svc, start + timedelta(minutes=59)) == {"retry": 2}  # Alice's again, and Bob's
    with svc.db.session() as session:
        assert session.get(Destination, destination_id).status == "active"
    assert delivery.deliver_now(svc, start + timedelta(minutes=61)) == {"retry": 1}  # paused: Bob's waits
    with svc.db.session() as session:
        paused = session.get(Destination, destination_id)
        assert paused.status == "paused" and paused.status_reason.startswith("failing since")
    Phone(client, ALICE).text("STOP")
    assert delivery.deliver_now(svc, start + timedelta(hours=3)) == {}  # paused: nothing is sent, rows wait
    assert [r.status for r in rows(svc, destination_id)] == ["pending"] * 3
    receiver.status = 200
    with svc.db.session() as session:
        assert destinations.resume(session, session.get(Destination, destination_id)) == 3
    assert delivery.deliver_now(svc) == {"delivered": 3}
    assert sorted(receiver.types()) == ["subscriber.joined", "subscriber.joined", "subscriber.opted_out"]


def test_replay_from_a_time_sends_the_same_events_again(client, svc, receiver):
    destination_id = add(svc, receiver.url, "subscriber.joined,subscriber.opted_out")
    Phone(client, ALICE).text("MENU")
    delivery.deliver_now(svc)
    middle = utcnow()
    bob = Phone(client, BOB)
    bob.text("MENU")
    bob.text("STOP")
    delivery.deliver_now(svc)
    with svc.db.session() as session:
        session.execute(update(Event).where(Event.type == "subscriber.opted_out").values(created_at=utcnow()))
        session.commit()
        assert destinations.replay(session, session.get(Destination, destination_id), middle) == 2
    delivery.deliver_now(svc)
    ids = receiver.ids()
    assert len(ids) == 5 and len(set(ids)) == 3  # Bob's two events twice, with the same ids
    late = add(svc, receiver.url.replace("/hook", "/late"), "all", name="late")  # added after the events
    with svc.db.session() as session:
        assert destinations.replay(session, session.get(Destination, late), middle) == 2  # new rows for it
    assert delivery.deliver_now(svc) == {"delivered": 2}


@pytest.mark.parametrize("url", ["http://example.org/hook", "ftp://127.0.0.1/x", "https://", "example.org"])
def test_a_webhook_url_must_be_https_unless_local(svc, url):
    with svc.db.session() as session, pytest.raises(IntegrationError, match="https://|URL"):
        destinations.add(session, url, "all")
