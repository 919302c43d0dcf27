"""Supporters' phone numbers never appear unmasked in logs, at DEBUG, from any logger.

One test runs a whole day of the service through the real Twilio SDK (against
tests/support/twilio_mock.py, so the SDK's and urllib3's own logging runs too): keywords,
CALL + ZIP, the call-back placed and played through the voice webhooks, a call-in,
a broadcast, STOP, Twilio errors (21211 names the number in its message, like
Twilio's), a status callback, a send with no answer settled by asking Twilio (a GET
with ``To=`` in its query string), a manual reply from the console, retention.
Lawmakers' office numbers are public and may be logged; supporters' numbers may
appear only masked (``+1617***0123``), in any form: E.164, national digits, URL-encoded.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from sms import tasks
from sms.broadcasts import dispatch, lifecycle
from sms.calls.models import CallSession
from sms.messaging import outbound
from sms.store import Message, Subscriber, utcnow
from tests.conftest import Phone, signed_post
from tests.support.broadcasts import new_broadcast
from tests.support.calls import Caller
from tests.support.console import login_as, make_organizer, post
from tests.support.twilio_mock import Fault, error, start

TEXTER, CALLER, STOPPER, INVALID = "+16175550123", "+16175550124", "+16175550125", "+16175550126"
SUPPORTERS = (TEXTER, CALLER, STOPPER, INVALID)


def forms_of(number: str) -> set[str]:
    """Ways a number can be written in a log line: E.164, digits, national, URL-encoded."""
    return {number, number[1:], number[2:], quote(number, safe=""), f"({number[2:5]}) {number[5:8]}-{number[8:]}"}


@pytest.fixture
def mock(svc):
    server, stop = start()
    svc.transport = server.transport(timeout=0.3)
    yield server
    stop()


def day_of_the_service(client, svc, mock, run_jobs) -> None:
    texter = Phone(client, TEXTER)
    for body in ("CHOKEHOLD", "MENU", "1", "HELP", "PRIVACY", "ZIP 99501", "CALL CHOKEHOLD"):
        texter.text(body)
    run_jobs()  # the call-back is placed through the SDK
    with svc.db.session() as session:
        call = session.scalars(select(CallSession)).one()
    caller = Caller(client, TEXTER, call.call_sid)
    caller.post(f"/voice/answer?s={call.token}")
    caller.post("/voice/connect", Digits="1")
    caller.post("/voice/dialed?leg=0", DialCallStatus="busy", DialCallSid="CA" + "7" * 32)
    caller.post("/voice/next?leg=1", Digits="#")
    caller.status("completed")
    texter.text("1")  # "talked"
    callin = Caller(client, CALLER, "CA" + "5" * 32)
    callin.post("/voice")
    callin.post("/voice/zip", Digits="99501")
    callin.status("completed")
    for number in (STOPPER, INVALID):
        Phone(client, number).text("JOIN")
    mock.fail("Messages", error(400, 21211), error(429, 20429, retry_after="1"))
    broadcast_id = new_broadcast(svc, "Vote Thursday. Reply CALL.", mps=1000)
    lifecycle.start(svc, broadcast_id)
    dispatch.run_batch(svc, broadcast_id)
    Phone(client, STOPPER).text("STOP")
    run_jobs()
    with svc.db.session() as session:
        sid = session.scalar(select(Message.twilio_sid).where(Message.phone == TEXTER, Message.direction == "out",
                                                              Message.twilio_sid.is_not(None)))
    signed_post(client, "/sms/status", {"MessageSid": sid or "SMx", "MessageStatus": "undelivered",
                                        "ErrorCode": "30003", "To": TEXTER})
    signed_post(client, "/sms/status", {"MessageSid": "SMunknown", "MessageStatus": "failed", "ErrorCode": "21610",
                                        "To": INVALID})
    mock.fail("Messages", Fault(hang=True, acted=True))
    with svc.db.session() as session:
        lost = outbound.plan(session, None, TEXTER, "manual", "See you Saturday", utcnow())
        session.commit()
    assert outbound.deliver(svc, lost.id) == "unknown"
    outbound.sweep(svc, utcnow() + outbound.STALE_SENDING + timedelta(seconds=1))  # GET ...?To=+1617...
    login_as(client, make_organizer(svc))
    with svc.db.session() as session:
        subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.phone == TEXTER))
    post(client, f"/console/inbox/{subscriber_id}/reply", {"body": "Thank you!"})
    client.get("/console/export/subscribers.csv").get_data()
    signed_post(client, "/sms", {"MessageSid": "SMbad", "From": TEXTER + "x", "Body": "hi"})  # unusable sender
    tasks.purge_expired()


def test_no_supporter_number_is_logged_unmasked(client, svc, mock, run_jobs, targets_db, caplog):
    caplog.set_level(logging.DEBUG)  # the root logger: every logger without its own level...
    for name in list(logging.root.manager.loggerDict):  # ...and those with one (SQLAlchemy's SQL echo included)
        caplog.set_level(logging.DEBUG, logger=name)
    day_of_the_service(client, svc, mock, run_jobs)
    lines = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert len(caplog.records) > 50 and any("***0123" in line for line in lines)  # the flow did log, masked
    assert {"urllib3.connectionpool", "sqlalchemy.engine.Engine"} <= {r.name for r in caplog.records}  # SQL echo too
    leaks = {(number, line) for line in lines for number in SUPPORTERS for form in forms_of(number) if form in line}
    assert not leaks, "\n".join(sorted(line[:300] for _, line in leaks))
