"""Twilio REST faults, through the real SDK against a local mock (tests/support/twilio_mock.py).

For each sender (scheduled follow-up, broadcast dispatch, call-back placement):
transient refusals (429 with or without Retry-After, 500, 503) are retried with
back-off and the later success is recorded once; permanent errors (21211) are
recorded with their code and never retried; 21610 opts the number out; a request
that gets no answer is bounded by the transport's timeout and leaves the row in a
state a sweeper resolves (asking Twilio before any resend), never stuck.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from sms import defaults
from sms.broadcasts import dispatch, lifecycle, recovery
from sms.broadcasts.models import Delivery
from sms.calls import sessions
from sms.calls.models import CallSession
from sms.errors import TransportError
from sms.messaging import outbound
from sms.store import ConsentEvent, Message, Subscriber, utcnow
from tests.support.broadcasts import add_people, broadcast_status, delivery, new_broadcast
from tests.support.calls import Caller, path_of
from tests.support.twilio_mock import Fault, TwilioMock, error, start

TRANSIENT = [error(429, 20429), error(429, 20429, retry_after="30"), error(500, 20500), error(503, 20503)]
INVALID_TO = error(400, 21211)
UNSUBSCRIBED = error(400, 21610)
NUMBER = "+16175550123"


@pytest.fixture(scope="module")
def server():
    mock, stop = start()
    yield mock
    stop()


@pytest.fixture
def mock(server: TwilioMock, svc) -> TwilioMock:
    server.reset()
    svc.transport = server.transport()
    return server


def ids(fault: Fault) -> str:
    return fault.label


def consent_sources(svc, phone: str) -> list[tuple[str, str]]:
    with svc.db.session() as session:
        sub = session.scalar(select(Subscriber).where(Subscriber.phone == phone))
        return [(e.action, e.source) for e in session.scalars(
            select(ConsentEvent).where(ConsentEvent.subscriber_id == sub.id).order_by(ConsentEvent.id))]


def status_of(svc, phone: str) -> str:
    with svc.db.session() as session:
        return session.scalar(select(Subscriber.status).where(Subscriber.phone == phone))


def scheduled_jobs(svc, queue: str) -> list[str]:
    return svc.queue(queue).scheduled_job_registry.get_job_ids()


def assert_backoff(fault: Fault, before, retry_at, attempt: int = 0) -> None:
    """The retry waits the jittered interval, and at least Twilio's Retry-After."""
    low = defaults.RETRY_INTERVALS[attempt] * 0.8
    if fault.retry_after:
        low = max(low, float(fault.retry_after))
    high = max(defaults.RETRY_INTERVALS[attempt] * 1.2, float(fault.retry_after or 0)) + 5
    assert before + timedelta(seconds=low) <= retry_at <= utcnow() + timedelta(seconds=high)


# -- the transport itself -----------------------------------------------------------------------------------


def test_transport_maps_twilio_error_bodies(mock):
    mock.fail("Messages", error(429, 20429, retry_after="7"), INVALID_TO)
    with pytest.raises(TransportError) as limited:
        mock.transport().send_sms(NUMBER, "hi")
    with pytest.raises(TransportError) as invalid:
        mock.transport().send_sms(NUMBER, "hi")
    assert (limited.value.status, limited.value.code, limited.value.retry_after) == (429, 20429, 7.0)
    assert limited.value.retryable and not limited.value.outcome_unknown
    assert (invalid.value.status, invalid.value.code, invalid.value.retryable) == (400, 21211, False)


def test_a_hung_api_times_out_instead_of_hanging_the_worker(mock):
    mock.fail("Messages", Fault(hang=True))
    with pytest.raises(TransportError) as hung:
        mock.transport(timeout=0.3).send_sms(NUMBER, "hi")
    assert hung.value.outcome_unknown and hung.value.retryable


def test_a_refused_connection_is_an_unknown_outcome():
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    from sms.transport import TwilioTransport

    transport = TwilioTransport("AC" + "a" * 32, "token", "+15005550006", api_base_url=f"http://127.0.0.1:{port}",
                                timeout=0.3)
    with pytest.raises(TransportError) as refused:
        transport.send_sms(NUMBER, "hi")
    assert refused.value.outcome_unknown  # settled by asking Twilio later, like a timeout


def test_production_transport_has_a_finite_timeout():
    from sms.transport import TwilioTransport

    transport = TwilioTransport("AC" + "b" * 32, "token", "+15005550006")  # no mock: api.twilio.com
    assert transport.client.http_client.timeout == defaults.TWILIO_TIMEOUT_SECONDS


# -- scheduled follow-up (sms.messaging.outbound.deliver) -------------------------------------------------------------


def followup(svc, phone) -> Message:
    phone.text("CHOKEHOLD")
    with svc.db.session() as session:
        return session.scalars(select(Message).where(Message.kind == "followup")).one()


def message(svc, message_id: int) -> Message:
    with svc.db.session() as session:
        return session.get(Message, message_id)


@pytest.mark.parametrize("fault", TRANSIENT, ids=ids)
def test_followup_transient_fault_is_retried_then_sent_once(mock, svc, phone, fault):
    planned = followup(svc, phone)
    mock.fail("Messages", fault)
    before = utcnow()
    assert outbound.deliver(svc, planned.id, now=planned.send_at) == "retrying"
    row = message(svc, planned.id)
    assert (row.status, row.attempts, row.error_code) == ("scheduled", 1, fault.code)
    assert_backoff(fault, before, row.send_at)
    assert f"deliver-{planned.id}" in scheduled_jobs(svc, "default")
    assert outbound.deliver(svc, planned.id, now=row.send_at - timedelta(seconds=5)) == "early"
    assert outbound.deliver(svc, planned.id, now=row.send_at) == "sent"
    assert outbound.deliver(svc, planned.id, now=row.send_at) == "skipped"
    (created,) = mock.created
    sent = message(svc, planned.id)
    assert (sent.status, sent.twilio_sid) == ("sent", created["sid"])
    assert len(mock.posts("Messages")) == 2


def test_followup_gives_up_after_the_last_retry(mock, svc, phone):
    planned = followup(svc, phone)
    mock.fail("Messages", *[error(503, 20503)] * (len(defaults.RETRY_INTERVALS) + 1))
    when = planned.send_at
    for _ in defaults.RETRY_INTERVALS:
        assert outbound.deliver(svc, planned.id, now=when) == "retrying"
        when = message(svc, planned.id).send_at
    assert outbound.deliver(svc, planned.id, now=when) == "failed"
    row = message(svc, planned.id)
    assert (row.status, row.error_code, row.attempts) == ("failed", 20503, len(defaults.RETRY_INTERVALS) + 1)
    assert mock.created == []


def test_followup_to_an_invalid_number_fails_once_with_the_code(mock, svc, phone):
    planned = followup(svc, phone)
    mock.fail("Messages", INVALID_TO)
    assert outbound.deliver(svc, planned.id, now=planned.send_at) == "failed"
    row = message(svc, planned.id)
    assert (row.status, row.error_code, row.attempts) == ("failed", 21211, 0)
    assert outbound.sweep(svc, planned.send_at + timedelta(hours=1))["requeued"] == 0
    assert outbound.deliver(svc, planned.id, now=planned.send_at) == "skipped"
    assert len(mock.posts("Messages")) == 1 and status_of(svc, phone.number) == "active"


def test_followup_21610_opts_the_number_out(mock, svc, phone):
    planned = followup(svc, phone)
    mock.fail("Messages", UNSUBSCRIBED)
    assert outbound.deliver(svc, planned.id, now=planned.send_at) == "failed"
    assert (message(svc, planned.id).status, message(svc, planned.id).error_code) == ("failed", 21610)
    assert status_of(svc, phone.number) == "opted_out"
    assert consent_sources(svc, phone.number)[-1] == ("opt_out", "twilio-21610")
    with svc.db.session() as session:  # anything else planned for them is never sent
        later = outbound.plan(session, planned.subscriber_id, phone.number, "call", "Another", utcnow())
        session.commit()
    assert outbound.deliver(svc, later.id) == "opted-out"
    assert len(mock.posts("Messages")) == 1


@pytest.mark.parametrize("acted", [True, False], ids=["twilio-sent-it", "twilio-did-not"])
def test_followup_with_no_answer_is_settled_by_asking_twilio(mock, svc, phone, acted):
    planned = followup(svc, phone)
    mock.fail("Messages", Fault(hang=True, acted=acted))
    assert outbound.deliver(svc, planned.id, now=planned.send_at) == "unknown"
    assert message(svc, planned.id).status == "sending"  # never resent blind...
    counts = outbound.sweep(svc, planned.send_at + outbound.STALE_SENDING + timedelta(seconds=1))
    row = message(svc, planned.id)  # ...but not stuck either
    if acted:
        assert counts["settled"] == 1 and (row.status, row.twilio_sid) == ("sent", mock.created[0]["sid"])
    else:
        assert counts["reset"] == 1 and row.status == "scheduled"
        assert outbound.deliver(svc, planned.id) == "sent"
    assert len(mock.created) == 1


# -- broadcast dispatch (sms.broadcasts.dispatch) ----------------------------------------------------------------------


def first_to(mock) -> str:
    """The number the mock was asked to text first (the one that met the fault)."""
    return mock.posts("Messages")[0].form["To"][0]


def started(svc, people: int = 2) -> tuple[int, list[str]]:
    phones = add_people(svc, people)
    broadcast_id = new_broadcast(svc, mps=1000)
    lifecycle.start(svc, broadcast_id)
    return broadcast_id, phones


@pytest.mark.parametrize("fault", TRANSIENT, ids=ids)
def test_broadcast_transient_fault_is_retried_then_sent_once(mock, svc, fault):
    broadcast_id, phones = started(svc)
    mock.fail("Messages", fault)
    before = utcnow()
    assert dispatch.run_batch(svc, broadcast_id) == {"pending": 1, "sent": 1}
    retry = delivery(svc, broadcast_id, first_to(mock))
    assert (retry.status, retry.attempts, retry.error_code) == ("pending", 1, fault.code)
    assert_backoff(fault, before, retry.send_at)
    assert broadcast_status(svc, broadcast_id) == "sending"
    assert dispatch.run_batch(svc, broadcast_id) == {}  # not due yet
    with svc.db.session() as session:  # time passes
        session.execute(update(Delivery).where(Delivery.id == retry.id).values(send_at=utcnow()))
        session.commit()
    assert dispatch.run_batch(svc, broadcast_id) == {"sent": 1}
    sent = delivery(svc, broadcast_id, first_to(mock))
    assert sent.status == "sent" and sent.twilio_sid in {c["sid"] for c in mock.created}
    assert sorted(c["to"] for c in mock.created) == phones
    assert broadcast_status(svc, broadcast_id) == "sent"


@pytest.mark.parametrize("fault, opted_out", [(INVALID_TO, False), (UNSUBSCRIBED, True)], ids=["21211", "21610"])
def test_broadcast_permanent_error_fails_once_with_the_code(mock, svc, fault, opted_out):
    broadcast_id, phones = started(svc)
    mock.fail("Messages", fault)
    dispatch.run_batch(svc, broadcast_id)
    faulted = first_to(mock)
    failed = delivery(svc, broadcast_id, faulted)
    assert (failed.status, failed.error_code) == ("failed", fault.code)
    assert broadcast_status(svc, broadcast_id) == "sent"  # nothing left to retry
    assert [c["to"] for c in mock.created] == [p for p in phones if p != faulted]
    assert len(mock.posts("Messages")) == 2
    assert status_of(svc, faulted) == ("opted_out" if opted_out else "active")
    assert (("opt_out", "twilio-21610") in consent_sources(svc, faulted)) == opted_out


@pytest.mark.parametrize("acted", [True, False], ids=["twilio-sent-it", "twilio-did-not"])
def test_broadcast_send_with_no_answer_is_settled_not_resent_blind(mock, svc, acted):
    broadcast_id, phones = started(svc, 1)
    mock.fail("Messages", Fault(hang=True, acted=acted))
    assert dispatch.run_batch(svc, broadcast_id) == {"sending": 1}
    assert delivery(svc, broadcast_id, phones[0]).status == "sending"
    stale = utcnow() + timedelta(seconds=svc.settings.broadcast_stale_seconds + 1)
    assert recovery.settle(svc, broadcast_id, stale) == ["settled" if acted else "reset"]
    dispatch.run_batch(svc, broadcast_id)  # resends only what Twilio does not have, then finishes
    assert delivery(svc, broadcast_id, phones[0]).status == "sent"
    assert len(mock.created) == 1 and broadcast_status(svc, broadcast_id) == "sent"


def test_a_hung_api_costs_one_timeout_per_broadcast_batch(mock, svc):
    broadcast_id, phones = started(svc, 3)
    mock.fail("Messages", Fault(hang=True))
    before = utcnow()
    assert dispatch.run_batch(svc, broadcast_id) == {"sending": 1}
    assert len(mock.posts("Messages")) == 1  # the other two did not each wait out a timeout
    later = [delivery(svc, broadcast_id, phone) for phone in phones if phone != first_to(mock)]
    assert {d.status for d in later} == {"pending"} and all(d.attempts == 0 for d in later)
    assert all(d.send_at >= before + timedelta(seconds=defaults.RETRY_INTERVALS[0]) for d in later)
    with svc.db.session() as session:  # time passes; Twilio answers again
        session.execute(update(Delivery).where(Delivery.status == "pending").values(send_at=utcnow()))
        session.commit()
    assert dispatch.run_batch(svc, broadcast_id) == {"sent": 2}


# -- call-back placement (sms.calls.sessions.place) ------------------------------------------------------------------


def call_back(svc, phone) -> CallSession:
    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    with svc.db.session() as session:
        return session.scalars(select(CallSession)).one()


def session_row(svc, session_id: int) -> CallSession:
    with svc.db.session() as session:
        return session.get(CallSession, session_id)


def sorry_texts(svc) -> list[str]:
    with svc.db.session() as session:
        return list(session.scalars(select(Message.body).where(Message.kind == "call")))


@pytest.mark.parametrize("fault", TRANSIENT, ids=ids)
def test_call_back_transient_fault_is_retried_then_placed_once(mock, svc, phone, targets_db, fault):
    queued = call_back(svc, phone)
    mock.fail("Calls", fault)
    before = utcnow()
    assert sessions.place(svc, queued.id) == "retrying"
    row = session_row(svc, queued.id)
    assert (row.status, row.place_attempts, row.call_sid) == ("queued", 1, None)
    assert_backoff(fault, before, row.place_at)
    assert f"call-{queued.id}" in scheduled_jobs(svc, "high")
    soon = before + timedelta(seconds=defaults.SWEEP_GRACE_SECONDS // 4 + 1)  # the sweeper's grace has passed
    assert sessions.sweep(svc, soon)["requeued"] == 0  # but the retry's time has not
    assert sessions.place(svc, queued.id) == "placed"
    assert sessions.place(svc, queued.id) == "already placed"
    (created,) = mock.created
    placed = session_row(svc, queued.id)
    assert (placed.status, placed.call_sid) == ("placed", created["sid"])
    assert len(mock.posts("Calls")) == 2 and sorry_texts(svc) == []


def test_call_back_refused_past_the_place_window_fails_with_a_text(mock, svc, phone, targets_db):
    queued = call_back(svc, phone)
    mock.fail("Calls", *[error(503, 20503)] * 5)
    results = [sessions.place(svc, queued.id) for _ in range(4)]
    assert results[:2] == ["retrying", "retrying"] and results[2] == "failed"
    assert results[3] == "already placed"
    row = session_row(svc, queued.id)
    assert row.status == "failed" and row.error.startswith("20503")
    assert len(mock.posts("Calls")) == 3 and mock.created == []
    assert sorry_texts(svc) == ["Sorry, we couldn't place your call just now. Reply CALL to try again."]


@pytest.mark.parametrize("fault, opted_out", [(INVALID_TO, False), (UNSUBSCRIBED, True)], ids=["21211", "21610"])
def test_call_back_permanent_error_fails_once_with_the_code(mock, svc, phone, targets_db, fault,
                                                            opted_out):
    queued = call_back(svc, phone)
    mock.fail("Calls", fault)
    assert sessions.place(svc, queued.id) == "failed"
    row = session_row(svc, queued.id)
    assert row.status == "failed" and row.error.startswith(str(fault.code))
    assert sessions.sweep(svc, utcnow() + timedelta(minutes=10))["requeued"] == 0
    assert sessions.place(svc, queued.id) == "already placed"
    assert len(mock.posts("Calls")) == 1
    assert status_of(svc, phone.number) == ("opted_out" if opted_out else "active")
    assert (("opt_out", "twilio-21610") in consent_sources(svc, phone.number)) == opted_out


def test_call_back_with_no_answer_is_never_placed_twice(client, mock, svc, phone, targets_db):
    queued = call_back(svc, phone)
    mock.fail("Calls", Fault(hang=True, acted=True))
    assert sessions.place(svc, queued.id) == "unknown"
    row = session_row(svc, queued.id)
    assert row.status == "placing" and row.error.startswith("no answer from Twilio")
    later = utcnow() + sessions.placing_stale() + timedelta(seconds=1)
    assert sessions.sweep(svc, later)["settled"] == 1  # asked Twilio
    assert sessions.place(svc, queued.id) == "already placed"
    assert len(mock.posts("Calls")) == 1 and sorry_texts(svc) == []
    (ringing,) = mock.created  # Twilio did place it: when the texter picks up, the call goes on
    assert (session_row(svc, queued.id).status, session_row(svc, queued.id).call_sid) == ("placed", ringing["sid"])
    caller = Caller(client, phone.number, ringing["sid"])
    assert caller.post(path_of(mock.posts("Calls")[0].form["Url"][0])).find("./Gather") is not None
    assert caller.post("/voice/connect", Digits="1").find("./Dial") is not None
    assert session_row(svc, queued.id).status == "confirmed"


# -- a manual reply from the console inbox (sms.console.inbox.send_manual) ------------------------------------------


def test_manual_reply_with_no_answer_is_settled_not_resent(mock, svc, phone):
    from sms.console import inbox

    phone.text("HI")
    with svc.db.session() as session:
        subscriber_id = session.scalar(select(Subscriber.id))
    mock.fail("Messages", Fault(hang=True, acted=True))
    sent = inbox.send_manual(svc, subscriber_id, "See you Saturday", "org@example.org")
    assert message(svc, sent.id).status == "sending"  # not scheduled for a blind resend
    assert outbound.sweep(svc, utcnow() + outbound.STALE_SENDING + timedelta(seconds=1))["settled"] == 1
    assert (message(svc, sent.id).status, len(mock.created)) == ("sent", 1)


def test_manual_reply_honours_retry_after(mock, svc, phone):
    from sms.console import inbox

    phone.text("HI")
    with svc.db.session() as session:
        subscriber_id = session.scalar(select(Subscriber.id))
    mock.fail("Messages", error(429, 20429, retry_after="120"))
    before = utcnow()
    sent = inbox.send_manual(svc, subscriber_id, "See you Saturday", "org@example.org")
    row = message(svc, sent.id)
    assert row.status == "scheduled" and row.send_at >= before + timedelta(seconds=120)
    assert f"deliver-{sent.id}" in scheduled_jobs(svc, "default")


# -- the same through a real RQ worker: the retry job is scheduled, then runs --------------------------------


def test_worker_retries_a_refused_call_back_and_places_it_once(mock, svc, phone, targets_db, run_jobs,
                                                                monkeypatch):
    import time

    monkeypatch.setattr(defaults, "RETRY_INTERVALS", (1, 1, 1))  # seconds, so the test can wait them out
    mock.fail("Calls", error(503, 20503))
    queued = call_back(svc, phone)
    run_jobs()
    assert session_row(svc, queued.id).status == "queued" and mock.created == []
    time.sleep(1.3)
    run_jobs()  # the worker's scheduler moves the due retry onto the queue and runs it
    (created,) = mock.created
    assert (session_row(svc, queued.id).status, session_row(svc, queued.id).call_sid) == ("placed", created["sid"])
    assert len(mock.posts("Calls")) == 2
