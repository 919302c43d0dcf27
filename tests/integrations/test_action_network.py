"""Action Network sync against a fake OSDI server on 127.0.0.1: request shapes, 201/429/4xx/5xx/timeouts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from sms.integrations import action_network, delivery
from sms.integrations.http import RequestsClient
from sms.integrations.models import Destination, Event, EventDelivery
from sms.store import Subscriber, utcnow
from tests.conftest import Phone
from tests.support.calls import tune
from tests.support.integrations import AN_KEY

ALICE, BOB = "+16175550101", "+16175550102"


@pytest.fixture
def synced(svc, action_network):  # noqa: ANN001, ANN201
    """The app with ACTION_NETWORK_API_KEY set, pointed at the fake server."""
    tune(svc, action_network_api_key=AN_KEY, action_network_api_url=action_network.url)
    return action_network


def an_rows(svc) -> list[tuple[str, EventDelivery]]:  # noqa: ANN001
    with svc.db.session() as session:
        return list(session.execute(
            select(Event.type, EventDelivery).join(Event, Event.id == EventDelivery.event_id)
            .join(Destination, Destination.id == EventDelivery.destination_id)
            .where(Destination.kind == "action_network").order_by(EventDelivery.event_id)))


@pytest.mark.usefixtures("targets_db")
def test_join_posts_the_person_with_status_postal_code_and_keyword_tags(client, svc, synced):
    alice = Phone(client, ALICE)
    alice.text("CHOKEHOLD")
    alice.text("ZIP 10001")
    assert delivery.deliver_now(svc) == {"delivered": 2}
    assert synced.problems == []
    joined, interest = synced.people
    assert joined == {
        "person": {"phone_numbers": [{"number": "16175550101", "number_type": "Mobile", "status": "subscribed"}],
                   "postal_addresses": [{"postal_code": "10001", "country": "US"}], "origin_system": "Action Line"},
        "add_tags": ["CHOKEHOLD"]}
    assert interest["add_tags"] == ["CHOKEHOLD"] and "status" not in interest["person"]["phone_numbers"][0]


@pytest.mark.usefixtures("targets_db")
def test_the_texters_language_is_languages_spoken_on_join_and_when_it_changes(client, svc, synced):
    alice = Phone(client, ALICE)
    alice.text("hola")  # a first text in Spanish: the texter's language is es
    alice.text("ENGLISH")
    assert delivery.deliver_now(svc) == {"delivered": 3}
    assert synced.problems == []
    joined, spanish, english = synced.people
    assert joined["person"]["languages_spoken"] == ["en"]  # built when delivered, from the texter as they are now
    assert [p["person"]["languages_spoken"] for p in (spanish, english)] == [["en"], ["en"]]
    assert "status" not in english["person"]["phone_numbers"][0]


def test_an_opt_out_reaches_action_network_promptly_from_the_high_queue(client, svc, synced, redis, monkeypatch):
    monkeypatch.setattr(delivery.defaults, "EVENT_SETTLE_SECONDS", 0)
    alice = Phone(client, ALICE)
    alice.text("MENU")
    delivery.deliver_now(svc)
    for n in range(3):  # other people's backlog on the default queue
        Phone(client, f"+1617555030{n}").text("MENU")
    alice.text("STOP")
    delivery.route(svc)
    (urgent,) = svc.queue("high").get_jobs()
    assert urgent.func_name == "sms.tasks.drain_events" and urgent.args[1] is True
    delivery.drain(svc, *urgent.args)
    assert synced.statuses() == [("16175550101", "subscribed"), ("16175550101", "unsubscribed")]


def test_a_429_waits_for_its_retry_after_and_holds_the_batch(client, svc, synced):
    Phone(client, ALICE).text("MENU")
    Phone(client, BOB).text("MENU")
    synced.script = [(429, 120)]
    now = utcnow()
    assert delivery.deliver_now(svc, now) == {"retry": 1}  # Bob's waits too: Action Network asked us to
    (_, alice), (_, bob) = an_rows(svc)
    assert alice.next_at >= now + timedelta(seconds=120) and alice.response_code == 429
    assert bob.next_at == alice.next_at and bob.attempts == 0
    assert delivery.deliver_now(svc, alice.next_at) == {"delivered": 2}


def test_a_4xx_is_recorded_and_not_retried_and_the_next_event_goes_on(client, svc, synced):
    alice = Phone(client, ALICE)
    alice.text("MENU")
    alice.text("STOP")
    synced.script = [422]
    assert delivery.deliver_now(svc) == {"failed": 1, "delivered": 1}
    (_, joined), (_, opted_out) = an_rows(svc)
    assert (joined.status, joined.response_code, joined.attempts) == ("failed", 422, 1)
    assert opted_out.status == "delivered"
    assert delivery.deliver_now(svc, utcnow() + timedelta(days=2)) == {}  # never retried


def test_5xx_and_timeouts_are_retried(client, svc, synced):
    svc.http = RequestsClient(timeout=0.3)
    Phone(client, ALICE).text("MENU")
    synced.script = [500, "timeout"]
    now = utcnow()
    assert delivery.deliver_now(svc, now) == {"retry": 1}
    (_, row), = an_rows(svc)
    assert row.response_code == 500
    assert delivery.deliver_now(svc, row.next_at) == {"retry": 1}
    (_, row), = an_rows(svc)
    assert row.error.startswith("no answer") and row.attempts == 2
    assert delivery.deliver_now(svc, row.next_at) == {"delivered": 1}


def test_the_key_turns_the_sync_on_and_off(client, svc, action_network):
    Phone(client, ALICE).text("MENU")
    delivery.deliver_now(svc)
    assert action_network.people == [] and an_rows(svc) == []  # no key: no destination, nothing queued
    tune(svc, action_network_api_key=AN_KEY, action_network_api_url=action_network.url)
    Phone(client, BOB).text("MENU")
    assert delivery.deliver_now(svc) == {"delivered": 1}
    tune(svc, action_network_api_key="")
    Phone(client, ALICE).text("STOP")
    assert delivery.deliver_now(svc) == {}
    with svc.db.session() as session:
        (found,) = session.scalars(select(Destination)).all()
        assert (found.status, found.status_reason) == ("disabled", "ACTION_NETWORK_API_KEY is unset")


def test_a_completed_call_is_a_tag(svc):
    tune(svc, action_network_api_key=AN_KEY)
    event = Event(type="call.completed", data={"demand": "CHOKEHOLD", "call_id": 1}, subscriber_id=1, schema=1)
    with svc.db.session() as session:
        request = action_network.request(session, svc.settings, event, Subscriber(id=1, phone=ALICE))
    assert request.url == "https://actionnetwork.org/api/v2/people/"
    assert request.headers["OSDI-API-Token"] == AN_KEY
    assert json.loads(request.body)["add_tags"] == ["Action Line call: CHOKEHOLD"]


@pytest.mark.parametrize("payload, problem", [
    ({"person": {"phone_numbers": [{"number": "+16175550101", "number_type": "Mobile"}]}}, "must be numeric"),
    ({"person": {"phone_numbers": [{"number": "6175550101", "number_type": "Mobile"}]}}, "with its country code"),
    ({"person": {"phone_numbers": [{"number": "16175550101", "number_type": "Cell"}]}}, "not an OSDI number type"),
    ({"person": {"phone_numbers": [{"number": "16175550101", "number_type": "Mobile", "status": "opted_out"}]}},
     "only subscribed or unsubscribed"),
    ({"person": {"phone": "16175550101"}}, "person has unknown fields ['phone']"),
    ({"person": {"phone_numbers": [{"number": "16175550101", "number_type": "Mobile"}]}, "tags": ["X"]},
     "helper has unknown fields ['tags']"),
    ({"person": {"phone_numbers": [{"number": "16175550101", "number_type": "Mobile"}],
                 "postal_addresses": [{"zip": "10001"}]}}, "postal_addresses[] has unknown fields ['zip']"),
    ({"person": {"phone_numbers": [{"number": "16175550101", "number_type": "Mobile"}]}, "add_tags": "CHOKEHOLD"},
     "add_tags must be a list of strings"),
])
def test_the_fake_refuses_what_the_osdi_docs_do_not_allow(action_network, payload, problem):
    """The fake checks the documented shape field by field, so a request that drifts from it fails the tests."""
    headers = {"OSDI-API-Token": action_network.key, "Content-Type": "application/json"}
    found = action_network.check("/api/v2/people/", headers, json.dumps(payload).encode())
    assert found is not None and problem in found
