from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from sms import defaults
from sms.broadcasts import dispatch, lifecycle, merge_fields, recovery
from sms.broadcasts.models import Broadcast, Delivery
from sms.errors import TransportError
from sms.store import ConsentEvent, Subscriber, utcnow
from tests.conftest import Phone, signed_post
from tests.support.broadcasts import add_people, broadcast_status, configure, delivery, new_broadcast, statuses


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_dispatch_is_paced_in_batches_on_the_bulk_queue(svc, transport):
    add_people(svc, 10)
    broadcast_id = new_broadcast(svc, mps=4)
    lifecycle.send(svc, broadcast_id)
    assert (svc.queue("bulk").count, svc.queue("high").count, svc.queue("default").count) == (1, 0, 0)
    clock, sent_at = FakeClock(), []
    original = transport.send_sms
    transport.send_sms = lambda to, body, cb=None: (sent_at.append(clock()), original(to, body, cb))[1]
    batches = []
    while broadcast_status(svc, broadcast_id) == "sending":
        batches.append(sum(dispatch.run_batch(svc, broadcast_id, clock, clock.sleep).values()))
    assert batches == [4, 4, 2]
    assert sent_at == pytest.approx([clock.now - clock.slept + i / 4 for i in range(10)])
    assert statuses(svc, broadcast_id) == {"sent": 10}


def test_pacing_slots_are_shared_by_every_job_on_the_sender(svc):
    first = dispatch.reserve(svc, 5, 10.0, 100.0)
    second = dispatch.reserve(svc, 5, 10.0, 100.2)  # another worker, same number
    third = dispatch.reserve(svc, 1, 10.0, 500.0)  # after an idle spell the clock restarts at now
    assert (first, second, third) == (100.0, 100.5, 500.0)


WINDOW = min(defaults.OPTOUT_CHECK_MAX, int(1000 * defaults.OPTOUT_FRESH_SECONDS))


@pytest.mark.parametrize(("mps", "people", "stopper"), [(5, 3, 1), (1000, WINDOW + 20, WINDOW)])
def test_stop_mid_broadcast_stops_the_next_send(client, svc, transport, mps, people, stopper):
    """At 5 msg/s every send reads the opt-out; at 1000 msg/s one read covers 0.1 s of sends."""
    phones = add_people(svc, people)
    broadcast_id = new_broadcast(svc, mps=mps)
    lifecycle.send(svc, broadcast_id)
    original = transport.send_sms

    def send_and_meanwhile_stop(to, body, callback=None):
        if to == phones[0]:
            Phone(client, phones[stopper]).text("STOP")
        return original(to, body, callback)

    transport.send_sms = send_and_meanwhile_stop
    clock = FakeClock()
    while broadcast_status(svc, broadcast_id) == "sending":
        dispatch.run_batch(svc, broadcast_id, clock, clock.sleep)
    sent = [m["to"] for m in transport.messages]
    assert phones[stopper] not in sent and len(sent) == people - 1
    assert delivery(svc, broadcast_id, phones[stopper]).status == "skipped"


def test_error_21610_opts_the_subscriber_out(svc, transport, run_jobs):
    phones = add_people(svc, 2)
    transport.fail_with = [TransportError("unsubscribed recipient", code=21610, status=400)]
    broadcast_id = new_broadcast(svc, mps=1000)
    lifecycle.send(svc, broadcast_id)
    run_jobs()
    failed = delivery(svc, broadcast_id, phones[0])
    assert (failed.status, failed.error_code) == ("failed", 21610)
    with svc.db.session() as session:
        subscriber = session.scalar(select(Subscriber).where(Subscriber.phone == phones[0]))
        assert subscriber.status == "opted_out"
        assert session.scalar(select(ConsentEvent.source).where(ConsentEvent.subscriber_id == subscriber.id)) \
            == "twilio-21610"
    assert [m["to"] for m in transport.messages] == [phones[1]]


def test_transient_errors_retry_with_backoff_and_permanent_ones_do_not(svc, transport, run_jobs):
    phones = add_people(svc, 3)
    transport.fail_with = [TransportError("slow down", code=20429, status=429),
                           TransportError("invalid number", code=21211, status=400)]
    broadcast_id = new_broadcast(svc, mps=1000)
    before = utcnow()
    lifecycle.send(svc, broadcast_id)
    run_jobs()
    retry, dead = delivery(svc, broadcast_id, phones[0]), delivery(svc, broadcast_id, phones[1])
    assert (retry.status, retry.attempts) == ("pending", 1)
    assert before + timedelta(seconds=8) <= retry.send_at <= utcnow() + timedelta(seconds=12)
    assert (dead.status, dead.error_code, dead.attempts) == ("failed", 21211, 1)
    assert broadcast_status(svc, broadcast_id) == "sending"
    with svc.db.session() as session:  # time passes
        session.execute(update(Delivery).where(Delivery.id == retry.id).values(send_at=utcnow()))
        session.commit()
    dispatch.run_batch(svc, broadcast_id)
    assert [m["to"] for m in transport.messages] == [phones[2], phones[0]]
    assert statuses(svc, broadcast_id) == {"sent": 2, "failed": 1}
    assert broadcast_status(svc, broadcast_id) == "sent"


def test_status_callbacks_update_deliveries(client, svc, transport, run_jobs):
    phones = add_people(svc, 2)
    broadcast_id = new_broadcast(svc, mps=1000)
    lifecycle.send(svc, broadcast_id)
    run_jobs()
    first, second = (m["sid"] for m in transport.messages)
    for sid, status, code in ((first, "delivered", ""), (second, "undelivered", "30003"), (first, "sent", "")):
        response = signed_post(client, "/sms/status", {"MessageSid": sid, "MessageStatus": status,
                                                       "ErrorCode": code, "To": phones[0]})
        assert response.status_code == 204
    assert delivery(svc, broadcast_id, phones[0]).status == "delivered"  # never moves backwards
    late = delivery(svc, broadcast_id, phones[1])
    assert (late.status, late.error_code) == ("undelivered", 30003)


def test_quiet_hours_defer_sends_per_time_zone(svc, transport, monkeypatch):
    add_people(svc, 1, 0, timezone="America/New_York")
    add_people(svc, 1, 100, timezone="America/Los_Angeles")
    evening = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)  # 20:30 in New York, 17:30 in Los Angeles
    monkeypatch.setattr(dispatch, "utcnow", lambda: evening + timedelta(seconds=1))
    broadcast_id = new_broadcast(svc, mps=1000, now=evening)
    lifecycle.start(svc, broadcast_id, evening)  # planned while quiet hours were off
    configure(svc, quiet_hours=(9, 20))
    dispatch.run_batch(svc, broadcast_id, FakeClock(), lambda s: None)
    assert [m["to"] for m in transport.messages] == ["+16175550100"]
    east = delivery(svc, broadcast_id, "+16175550000")
    assert (east.status, east.send_at) == ("pending", datetime(2026, 11, 26, 14, 0, tzinfo=UTC))
    assert svc.queue("bulk").scheduled_job_registry.count == 1  # the next batch waits for 9:00 in New York


def test_urgent_broadcast_ignores_quiet_hours_and_reaches_less_subscribers(svc, transport, run_jobs, monkeypatch):
    add_people(svc, 1, 0, timezone="America/New_York", tier="low")
    night = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    monkeypatch.setattr(dispatch, "utcnow", lambda: night)
    configure(svc, quiet_hours=(9, 20))
    broadcast_id = new_broadcast(svc, "Vote moved to TONIGHT", urgent=True, mps=1000, now=night)
    lifecycle.start(svc, broadcast_id, night)
    run_jobs()
    assert [m["to"] for m in transport.messages] == ["+16175550000"]


def test_merge_fields_fill_per_recipient(svc, transport, run_jobs, monkeypatch):
    add_people(svc, 1, 0, first_name="Ada", zip="40202", state="KY", district=3)
    add_people(svc, 1, 100)
    monkeypatch.setattr(merge_fields, "REP_LOOKUPS", [lambda s, st, d: f"Rep. Smith ({st}-{d})" if st else None])
    broadcast_id = new_broadcast(svc, "{first_name}, call {rep} from {zip}", mps=1000)
    lifecycle.send(svc, broadcast_id)
    run_jobs()
    assert [m["body"] for m in transport.messages] == [
        "Ada, call Rep. Smith (KY-3) from 40202", "friend, call your Representative from your ZIP"]


def test_sweeper_resumes_a_broadcast_after_redis_is_flushed(svc, redis, transport, run_jobs):
    add_people(svc, 3)
    broadcast_id = new_broadcast(svc, mps=1000)
    lifecycle.send(svc, broadcast_id)
    redis.flushdb()
    run_jobs()
    assert transport.messages == []
    counts = recovery.sweep(svc, utcnow() + timedelta(seconds=10))
    assert counts["kicked"] == 1
    run_jobs()
    assert len(transport.messages) == 3 and broadcast_status(svc, broadcast_id) == "sent"


def test_sweeper_settles_unknown_outcomes_before_any_resend(svc, transport, run_jobs):
    phones = add_people(svc, 2)
    broadcast_id = new_broadcast(svc, "Unknown fate", mps=1000)
    lifecycle.start(svc, broadcast_id)
    svc.redis.flushdb()
    claimed = utcnow() - timedelta(minutes=10)
    with svc.db.session() as session:  # a worker died after Twilio accepted the first text
        session.execute(update(Delivery).where(Delivery.broadcast_id == broadcast_id)
                        .values(status="sending", claim="dead", claimed_at=claimed))
        session.commit()
    sid = transport.send_sms(phones[0], "Unknown fate")
    counts = recovery.sweep(svc)
    assert (counts["settled"], counts["reset"]) == (1, 1)
    assert (delivery(svc, broadcast_id, phones[0]).twilio_sid, delivery(svc, broadcast_id, phones[1]).status) == \
        (sid, "pending")
    recovery.sweep(svc, utcnow() + timedelta(seconds=10))
    run_jobs()
    assert [m["to"] for m in transport.messages] == phones
    assert broadcast_status(svc, broadcast_id) == "sent"


def test_rerun_job_never_resends(svc, transport, run_jobs):
    add_people(svc, 2)
    broadcast_id = new_broadcast(svc, mps=1000)
    lifecycle.send(svc, broadcast_id)
    run_jobs()
    with svc.db.session() as session:  # force the broadcast back to sending: a stale duplicate job runs
        session.execute(update(Broadcast).where(Broadcast.id == broadcast_id)
                        .values(status="sending"))
        session.commit()
    dispatch.run_batch(svc, broadcast_id)
    assert len(transport.messages) == 2


def test_rep_merge_field_reads_the_legislator_table(svc, transport, run_jobs):
    from sms.targets import lookup
    from sms.targets.models import Legislator

    add_people(svc, 1, 0, state="KY", district=3)
    with svc.db.session() as session:
        session.add(Legislator(bioguide="M001220", chamber="house", title="Rep.", name="Morgan McGarvey",
                                       state="KY", district=3, phone="+12022255401"))
        session.commit()
    lookup.forget_directory()
    broadcast_id = new_broadcast(svc, "Call {rep} today", mps=1000)
    lifecycle.send(svc, broadcast_id)
    run_jobs()
    lookup.forget_directory()
    assert [m["body"] for m in transport.messages] == ["Call Rep. Morgan McGarvey today"]


def test_long_merge_values_never_cost_more_segments_than_the_preview(svc, transport, run_jobs, monkeypatch):
    """A 60-letter first name or a very long rep gives way to its fallback; an accent GSM-7 lacks is dropped."""
    from sms.messaging import encoding

    add_people(svc, 1, 0, first_name="x" * 60, state="KY", district=3)
    add_people(svc, 1, 1, first_name="Ada", state="PR", district=0)
    reps = {"KY": "Rep. " + "y" * 70, "PR": "Res. Comm. Pablo José Hernández"}
    monkeypatch.setattr(merge_fields, "REP_LOOKUPS", [lambda s, state, d: reps.get(state)])
    body = "{first_name}, call {rep}. " + "a" * 252
    assert encoding.count(merge_fields.sample(body)).segments == 2  # at the very edge of 2 segments
    broadcast_id = new_broadcast(svc, body, mps=1000)
    lifecycle.send(svc, broadcast_id)
    run_jobs()
    sent = {m["to"]: m["body"] for m in transport.messages}
    assert sent["+16175550000"].startswith("friend, call your Representative. ")
    assert sent["+16175550001"].startswith("Ada, call Res. Comm. Pablo José Hernandez. ")
    assert all(encoding.count(text).encoding == "GSM-7" and encoding.count(text).segments <= 2
               for text in sent.values())
