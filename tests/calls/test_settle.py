"""Settling a call-back stuck in ``placing``: ask the transport which calls it placed, never place blind.

A worker that dies mid-request, or a REST request that gets no answer, leaves the session
``placing`` with nobody knowing whether Twilio rings the texter. ``calls.sweep`` asks
(``find_calls``): a call found is bound, none found is placed again inside the window,
and past the window the session fails and the texter is told.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from sms import defaults
from sms.calls import sessions
from sms.calls.models import CallSession
from sms.errors import TransportError
from sms.store import Message, utcnow
from sms.transport import MemoryTransport, OutboxTransport
from tests.conftest import SERVICE_NUMBER
from tests.support.twilio_mock import Fault, error

TEXTER, OTHER = "+16175550123", "+16175550199"
URL = "https://actionline.test/voice/answer?s=x"
LONG_AGO = utcnow() - timedelta(days=1)


# -- find_calls on each transport ---------------------------------------------------------------------------


def test_memory_transport_finds_calls_to_a_number_since_a_time() -> None:
    transport = MemoryTransport()
    before = utcnow()
    first = transport.place_call(TEXTER, URL)
    transport.place_call(OTHER, URL)
    assert [c.sid for c in transport.find_calls(TEXTER, before)] == [first]
    assert transport.find_calls(TEXTER, utcnow() + timedelta(seconds=1)) == []
    transport.send_sms(TEXTER, "a text is not a call")
    assert len(transport.find_calls(TEXTER, LONG_AGO)) == 1


def test_outbox_transport_finds_calls_from_the_outbox_table(svc) -> None:  # noqa: ANN001
    transport = OutboxTransport(svc.db, SERVICE_NUMBER)
    before = utcnow() - timedelta(seconds=1)
    first = transport.place_call(TEXTER, URL)
    transport.place_call(OTHER, URL)
    transport.send_sms(TEXTER, "a text is not a call")
    (found,) = transport.find_calls(TEXTER, before)
    assert (found.sid, found.to) == (first, TEXTER)
    assert transport.find_calls(TEXTER, utcnow() + timedelta(minutes=1)) == []


# ``api``: tests/support/twilio_mock.py (with the spec, the list request's query parameters are checked too)


def test_twilio_transport_lists_calls_to_the_number_from_ours(api) -> None:  # noqa: ANN001
    transport = api.transport()
    first = transport.place_call(TEXTER, URL)
    transport.place_call(OTHER, URL)
    second = transport.place_call(TEXTER, URL)
    found = transport.find_calls(TEXTER, utcnow() - timedelta(minutes=1))
    assert len(found) == 2 and {c.sid for c in found} == {first, second} and {c.to for c in found} == {TEXTER}
    assert all(c.status and c.created_at is not None for c in found)
    assert transport.find_calls(TEXTER, utcnow() + timedelta(minutes=1)) == []  # created before ``since``
    (listed, *_) = [r for r in api.received if r.method == "GET"]
    assert listed.resource == "Calls" and listed.query["To"] == [TEXTER] and listed.query["From"] == [SERVICE_NUMBER]
    assert api.errors == []


def test_twilio_transport_list_errors_are_transport_errors(api) -> None:  # noqa: ANN001
    api.fail("Calls", error(503, 20503), Fault(hang=True))
    for _ in range(2):  # refused, then never answered: either way the sweeper asks again later
        with pytest.raises(TransportError):
            api.transport().find_calls(TEXTER, LONG_AGO)
    assert len([r for r in api.received if r.method == "GET"]) == 2


# -- the sweeper settles a session stuck in placing, on the memory and outbox transports -----------------


@pytest.fixture(params=["memory", "outbox"])
def stuck(request, svc, phone, targets_db) -> int:  # noqa: ANN001
    """A call-back whose worker claimed it and died mid-request; returns the session id."""
    if request.param == "outbox":
        svc.transport = OutboxTransport(svc.db, SERVICE_NUMBER)
    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    with svc.db.session() as session:
        session.execute(update(CallSession).values(status="placing", place_at=utcnow()))
        session.commit()
        return session.scalar(select(CallSession.id))


def row(svc, session_id: int) -> CallSession:  # noqa: ANN001
    with svc.db.session() as session:
        return session.get(CallSession, session_id)


def placed_calls(svc) -> list[str]:  # noqa: ANN001
    return [c.sid for c in svc.transport.find_calls(TEXTER, LONG_AGO)]


def sorry_texts(svc) -> list[str]:  # noqa: ANN001
    with svc.db.session() as session:
        return list(session.scalars(select(Message.body).where(Message.phone == TEXTER, Message.kind == "call")))


def after_stale() -> Any:
    return utcnow() + sessions.placing_stale() + timedelta(seconds=1)


def past_window(svc, session_id: int) -> Any:  # noqa: ANN001
    return row(svc, session_id).created_at + timedelta(seconds=defaults.CALL_PLACE_WINDOW_SECONDS + 1)


def test_a_young_placing_session_is_left_alone(svc, stuck) -> None:  # noqa: ANN001
    assert sessions.sweep(svc) == {"requeued": 0, "expired": 0, "settled": 0, "replaced": 0, "unknown": 0, "lost": 0}
    assert row(svc, stuck).status == "placing"  # its request may still be on its way to Twilio


def test_a_call_twilio_placed_is_bound_once(svc, stuck) -> None:  # noqa: ANN001
    sid = svc.transport.place_call(TEXTER, URL)  # Twilio placed it; the worker died before the commit
    assert sessions.sweep(svc, after_stale())["settled"] == 1
    assert (row(svc, stuck).status, row(svc, stuck).call_sid) == ("placed", sid)
    assert sessions.sweep(svc, after_stale())["settled"] == 0
    assert sessions.place(svc, stuck) == "already placed"
    assert placed_calls(svc) == [sid] and sorry_texts(svc) == []


def test_a_call_not_placed_is_placed_again_once(svc, stuck, run_jobs) -> None:  # noqa: ANN001
    counts = sessions.sweep(svc, after_stale())
    assert (counts["replaced"], row(svc, stuck).status) == (1, "queued")
    assert sessions.sweep(svc, after_stale())["replaced"] == 0  # nothing stuck any more
    run_jobs()
    (sid,) = placed_calls(svc)
    assert (row(svc, stuck).status, row(svc, stuck).call_sid) == ("placed", sid)
    assert sessions.place(svc, stuck) == "already placed"
    assert sorry_texts(svc) == []


def test_a_call_to_the_same_number_for_another_session_is_not_taken(svc, stuck) -> None:  # noqa: ANN001
    earlier = svc.transport.place_call(TEXTER, URL)
    with svc.db.session() as session:
        session.add(CallSession(phone=TEXTER, targets=[], status="completed", call_sid=earlier))
        session.commit()
    assert sessions.sweep(svc, after_stale())["replaced"] == 1
    assert row(svc, stuck).call_sid is None


def test_a_transport_that_cannot_answer_leaves_it_then_fails_it_past_the_window(svc, stuck,  # noqa: ANN001
                                                                               monkeypatch) -> None:
    def cannot_answer(to: str, since: Any) -> list[Any]:
        raise TransportError("ReadTimeout")

    monkeypatch.setattr(svc.transport, "find_calls", cannot_answer)
    assert sessions.sweep(svc, after_stale())["unknown"] == 1
    assert row(svc, stuck).status == "placing" and sorry_texts(svc) == []  # never placed blind
    assert sessions.sweep(svc, past_window(svc, stuck))["lost"] == 1
    assert row(svc, stuck).status == "failed" and row(svc, stuck).error.startswith(sessions.NO_ANSWER)
    assert sorry_texts(svc) == [sessions.COULD_NOT_PLACE]
    monkeypatch.undo()
    assert placed_calls(svc) == []


def test_past_the_window_it_fails_once_and_the_texter_is_told(svc, stuck, run_jobs) -> None:  # noqa: ANN001
    later = past_window(svc, stuck)
    assert sessions.sweep(svc, later)["lost"] == 1
    assert sessions.sweep(svc, later)["lost"] == 0
    failed = row(svc, stuck)
    assert failed.status == "failed" and sessions.placed_after_all(failed)  # a late answer still goes on
    run_jobs()
    assert sorry_texts(svc) == [sessions.COULD_NOT_PLACE] and placed_calls(svc) == []
    assert sessions.place(svc, stuck) == "already placed"


# -- through the real SDK: a request with no answer is settled by asking Twilio ----------------------------


def test_no_answer_and_not_placed_is_placed_again_once(api, svc, phone, targets_db, run_jobs) -> None:  # noqa: ANN001
    svc.transport = api.transport()
    api.fail("Calls", Fault(hang=True))  # the request never reached Twilio's call queue
    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    run_jobs()
    session_id = row_id(svc)
    assert row(svc, session_id).status == "placing" and api.created == []
    assert sessions.sweep(svc, after_stale())["replaced"] == 1
    run_jobs()
    (created,) = [c for c in api.created if c["resource"] == "Calls"]
    assert (row(svc, session_id).status, row(svc, session_id).call_sid) == ("placed", created["sid"])
    assert len(api.posts("Calls")) == 2 and sorry_texts(svc) == [] and api.errors == []


def test_a_found_call_that_already_ended_is_settled_unanswered(api, svc, phone, targets_db) -> None:  # noqa: ANN001
    svc.transport = api.transport()
    api.fail("Calls", Fault(hang=True, acted=True))
    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    session_id = row_id(svc)
    assert sessions.place(svc, session_id) == "unknown"
    api.created[0]["status"] = "no-answer"  # it rang out while nobody knew its CallSid
    assert sessions.sweep(svc, after_stale())["settled"] == 1
    settled = row(svc, session_id)
    assert (settled.status, settled.call_status, settled.call_sid) == ("unanswered", "no-answer", api.created[0]["sid"])
    assert len(api.posts("Calls")) == 1 and sorry_texts(svc) == []


def row_id(svc) -> int:  # noqa: ANN001
    with svc.db.session() as session:
        return session.scalars(select(CallSession.id)).one()
