"""The event log: each domain change writes its event in its own transaction, with no phone number in it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from sms.broadcasts import lifecycle
from sms.calls import office_hours
from sms.errors import TransportError
from sms.integrations import events
from sms.integrations.models import Event
from sms.messaging import compliance, subscribers
from sms.store import Subscriber
from tests.conftest import signed_post
from tests.support.broadcasts import add_people, new_broadcast
from tests.support.calls import answer_call_back, tune

SATURDAY_10AM_ET = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def logged(svc) -> list[tuple[str, int | None, dict]]:  # noqa: ANN001
    with svc.db.session() as session:
        return [(e.type, e.subscriber_id, e.data) for e in session.scalars(select(Event).order_by(Event.id))]


def subscriber_id(svc, phone: str) -> int:  # noqa: ANN001
    with svc.db.session() as session:
        return session.scalar(select(Subscriber.id).where(Subscriber.phone == phone))


def test_texting_writes_joined_interest_opt_out_and_opt_in_events(phone, svc):
    phone.text("CHOKEHOLD")
    phone.text("CHOKEHOLD")  # the same keyword again is no new interest
    phone.text("STOP")
    phone.text("STOP")  # already opted out: no second event
    phone.text("START")
    sid = subscriber_id(svc, phone.number)
    assert logged(svc) == [
        ("subscriber.joined", sid, {"source": "sms"}),
        ("interest.added", sid, {"keyword": "CHOKEHOLD"}),
        ("subscriber.opted_out", sid, {"source": "sms"}),
        ("subscriber.opted_in", sid, {"source": "sms"}),
    ]
    with svc.db.session() as session:
        stored = session.scalars(select(Event)).all()
        assert len({e.uuid for e in stored}) == 4 and all(e.schema == events.SCHEMA for e in stored)
        assert all(e.created_at.tzinfo is not None for e in stored)


def test_delete_empties_what_the_log_kept_and_says_deleted_with_the_id_only(phone, svc):
    phone.text("CHOKEHOLD")
    phone.text("DELETE")
    phone.text("YES")
    sid = subscriber_id(svc, phone.number)
    assert logged(svc) == [
        ("subscriber.joined", sid, {}), ("interest.added", sid, {}),
        ("subscriber.deleted", sid, {}), ("subscriber.opted_out", sid, {"source": "sms-delete"}),
    ]


def test_an_event_is_written_with_its_change_or_not_at_all(phone, svc):
    phone.text("MENU")
    with svc.db.session() as session:
        subscriber = subscribers.find(session, phone.number)
        assert compliance.opt_out(session, subscriber, "console")
        session.rollback()  # the change failed: its event goes with it
    assert [t for t, _, _ in logged(svc)] == ["subscriber.joined"]


def test_no_event_holds_a_phone_number(phone, svc, client):
    phone.text("CHOKEHOLD")
    phone.text("STOP")
    dumped = json.dumps(logged(svc))
    assert phone.number not in dumped and phone.number.lstrip("+") not in dumped


def test_every_event_type_is_listed_and_unknown_ones_are_refused(svc):
    assert {"subscriber.joined", "subscriber.opted_out", "subscriber.opted_in", "subscriber.deleted",
            "subscriber.language_changed", "interest.added", "call.completed", "callback.booked",
            "broadcast.delivered", "broadcast.failed"} <= set(events.TYPES)
    with svc.db.session() as session, pytest.raises(ValueError, match="unknown event type"):
        events.emit(session, "subscriber.renamed", 1)


@pytest.mark.usefixtures("targets_db")
def test_a_call_writes_completed_once_and_the_callers_report(phone, svc, run_jobs, transport):
    phone.text("ZIP 10001")
    phone.text("CALL CHOKEHOLD")
    phone.text("2")
    run_jobs()
    caller, _ = answer_call_back(phone.client, phone.number, transport)
    caller.post("/voice/dialed?leg=0", DialCallStatus="completed", DialCallDuration="60")
    caller.post("/voice/next?leg=1", Digits="*")
    caller.post("/voice/next?leg=2", Digits="#")
    caller.status("completed", "200")  # Twilio's status callback finishes nothing twice
    phone.text("1")
    sid = subscriber_id(svc, phone.number)
    calls = [(t, d) for t, s, d in logged(svc) if t.startswith("call.")]
    assert [t for t, _ in calls] == ["call.completed", "call.reported"]
    completed, reported = calls[0][1], calls[1][1]
    assert completed["demand"] == "CHOKEHOLD" and completed["offices_dialed"] == 1 and completed["connected"] == 1
    assert [o["outcome"] for o in completed["offices"]] == ["connected", "skipped"]
    assert reported == {"call_id": completed["call_id"], "demand": "CHOKEHOLD", "reported": "talked"}
    assert all(s == sid for t, s, _ in logged(svc) if t.startswith("call."))


@pytest.mark.usefixtures("targets_db")
def test_a_call_back_booked_for_later_is_an_event(phone, svc, monkeypatch):
    tune(svc, call_office_hours={"congress": (9, 17, "America/New_York")}, quiet_hours=(9, 20))
    monkeypatch.setattr(office_hours, "clock", lambda: SATURDAY_10AM_ET)
    phone.text("ZIP 10001")
    phone.text("CALL CHOKEHOLD")
    phone.text("2")  # offices closed: a call-back is offered, not booked
    assert "callback.booked" not in [t for t, _, _ in logged(svc)]
    phone.text("YES")
    (booked,) = [d for t, _, d in logged(svc) if t == "callback.booked"]
    assert booked["demand"] == "CHOKEHOLD" and booked["run_at"].startswith("2026-11-30T14:00")


def test_broadcast_recipients_delivered_and_failed_once_each(client, svc, transport, run_jobs):
    phones = add_people(svc, 3)
    broadcast_id = new_broadcast(svc, mps=1000)
    lifecycle.send(svc, broadcast_id)
    run_jobs()
    first, second, third = (m["sid"] for m in transport.messages)
    for sid, status, code in ((first, "sent", ""), (first, "delivered", ""), (first, "delivered", ""),
                              (second, "undelivered", "30003"), (third, "sent", "")):
        response = signed_post(client, "/sms/status", {"MessageSid": sid, "MessageStatus": status,
                                                       "ErrorCode": code, "To": phones[0]})
        assert response.status_code == 204
    recipients = [(t, d["broadcast_id"], d.get("error_code")) for t, _, d in logged(svc) if t.startswith("broadcast.")]
    assert recipients == [("broadcast.delivered", broadcast_id, None), ("broadcast.failed", broadcast_id, 30003)]


def test_a_broadcast_send_refused_for_good_is_a_failed_event(svc, transport, run_jobs):
    add_people(svc, 2)
    transport.fail_with = [TransportError("invalid number", code=21211, status=400)]
    lifecycle.send(svc, new_broadcast(svc, mps=1000))
    run_jobs()
    assert [(t, d["error_code"]) for t, _, d in logged(svc)] == [("broadcast.failed", 21211)]
