"""The worker pipeline on the real Redis: follow-ups, retries, quiet hours, the sweeper."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from sms import cron, defaults, tasks
from sms.errors import TransportError
from sms.messaging import outbound
from sms.store import ConsentEvent, Message, Subscriber, utcnow


def followups(svc) -> list[Message]:
    with svc.db.session() as session:
        return list(session.scalars(select(Message).where(Message.kind == "followup").order_by(Message.id)))


@pytest.fixture
def known(phone):
    phone.text("HI")
    return phone


def scheduled_jobs(svc) -> list[str]:
    return ScheduledJobRegistry("default", connection=svc.redis).get_job_ids()


def test_first_keyword_plans_one_durable_followup_that_the_sweeper_schedules_when_near(known, svc):
    known.text("CHOKEHOLD")
    known.text("DEFUND")
    (message,) = followups(svc)
    assert message.status == "scheduled" and message.phone == "+16175550123"
    assert "CHOKEHOLD" in message.body and "STOP" in message.body
    assert timedelta(minutes=59) < message.send_at - utcnow() <= timedelta(hours=1)
    assert scheduled_jobs(svc) == []  # an hour ahead: the row is the promise, Redis holds no job yet
    assert outbound.sweep(svc, now=message.send_at - timedelta(minutes=10))["ahead"] == 0
    near = message.send_at - timedelta(seconds=defaults.SCHEDULE_AHEAD_SECONDS - 1)
    assert outbound.sweep(svc, now=near)["ahead"] == 1
    assert scheduled_jobs(svc) == [f"deliver-{message.id}"]
    assert outbound.sweep(svc, now=near)["ahead"] == 1  # enqueued again: the job id keeps it one job
    assert scheduled_jobs(svc) == [f"deliver-{message.id}"]
    assert outbound.sweep(svc, now=message.send_at)["ahead"] == 0  # due: the requeue after the grace's


@pytest.fixture
def soon(config):
    config["FOLLOWUP_DELAY_SECONDS"] = str(defaults.SCHEDULE_AHEAD_SECONDS // 2)


def test_a_followup_due_within_the_sweepers_window_is_scheduled_at_once(soon, known, svc):
    known.text("CHOKEHOLD")
    (message,) = followups(svc)
    assert scheduled_jobs(svc) == [f"deliver-{message.id}"]


def test_later_is_left_to_the_sweeper_until_near(known, svc):
    known.text("CHOKEHOLD")
    known.text("LATER")
    with svc.db.session() as session:
        later = session.scalars(select(Message).where(Message.kind == "later")).one()
    assert f"deliver-{later.id}" not in scheduled_jobs(svc)
    outbound.sweep(svc, now=later.send_at - timedelta(seconds=1))
    assert f"deliver-{later.id}" in scheduled_jobs(svc)


@pytest.fixture
def immediate(config):
    config["FOLLOWUP_DELAY_SECONDS"] = "0"


def test_worker_with_scheduler_sends_the_followup_through_the_transport(immediate, known, svc, transport, run_jobs):
    known.text("CHOKEHOLD")
    run_jobs()
    (message,) = followups(svc)
    assert message.status == "sent" and message.twilio_sid.startswith("SMmem")
    assert transport.bodies_to("+16175550123") == [message.body]
    assert transport.messages[0]["status_callback"] == "https://actionline.test/sms/status"
    run_jobs()  # a second run sends nothing more
    assert len(transport.messages) == 1


def test_deliver_twice_sends_once(immediate, known, svc, transport):
    known.text("CHOKEHOLD")
    (message,) = followups(svc)
    assert outbound.deliver(svc, message.id) == "sent"
    assert outbound.deliver(svc, message.id) == "skipped"
    assert len(transport.messages) == 1


def test_stop_before_the_followup_cancels_it(immediate, known, svc, transport, run_jobs):
    known.text("CHOKEHOLD")
    known.text("STOP")
    run_jobs()
    assert followups(svc)[0].status == "cancelled"
    assert transport.messages == []


def test_followup_waits_for_the_texters_daytime(known, svc, transport):
    known.text("CHOKEHOLD")
    (message,) = followups(svc)
    with svc.db.session() as session:
        session.get(Subscriber, message.subscriber_id).timezone = "America/Los_Angeles"
        session.get(Message, message.id).send_at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
        session.commit()
    svc.settings = dataclasses.replace(svc.settings, quiet_hours=(9, 20))
    three_am_la = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    assert outbound.deliver(svc, message.id, now=three_am_la) == "deferred"
    assert followups(svc)[0].send_at == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    assert transport.messages == []
    assert outbound.deliver(svc, message.id, now=datetime(2026, 11, 25, 17, 0, 5, tzinfo=UTC)) == "sent"


def test_transient_error_is_retried_with_backoff(immediate, known, svc, transport):
    known.text("CHOKEHOLD")
    (message,) = followups(svc)
    transport.fail_with.append(TransportError("Too Many Requests", code=20429, status=429))
    before = utcnow()
    assert outbound.deliver(svc, message.id) == "retrying"
    after = utcnow()
    retried = followups(svc)[0]
    assert retried.status == "scheduled" and retried.attempts == 1
    assert before + timedelta(seconds=7) < retried.send_at < after + timedelta(seconds=13)
    assert outbound.deliver(svc, message.id, now=retried.send_at) == "sent"


def test_retries_stop_after_the_last_interval(immediate, known, svc, transport):
    known.text("CHOKEHOLD")
    (message,) = followups(svc)
    transport.fail_with.extend(TransportError("down", status=503) for _ in range(4))
    results = [outbound.deliver(svc, message.id, now=utcnow() + timedelta(hours=i)) for i in range(4)]
    assert results == ["retrying", "retrying", "retrying", "failed"]


@pytest.mark.parametrize(("code", "opted_out"), [(21610, True), (21211, False)])
def test_permanent_errors_are_never_retried(immediate, known, svc, transport, code, opted_out):
    known.text("CHOKEHOLD")
    (message,) = followups(svc)
    transport.fail_with.append(TransportError("permanent", code=code, status=400))
    assert outbound.deliver(svc, message.id) == "failed"
    assert followups(svc)[0].error_code == code
    with svc.db.session() as session:
        status = session.scalar(select(Subscriber.status))
        sources = session.scalars(select(ConsentEvent.source)).all()
    assert (status == "opted_out") is opted_out
    assert ("twilio-21610" in sources) is opted_out


def test_sweeper_requeues_what_a_redis_flush_lost(immediate, known, svc, transport, redis, run_jobs):
    known.text("CHOKEHOLD")
    redis.flushdb()
    run_jobs()
    assert transport.messages == []  # the job is gone with Redis...
    later = utcnow() + timedelta(minutes=5)
    assert outbound.sweep(svc, now=later)["requeued"] == 1
    run_jobs()
    assert len(transport.messages) == 1  # ...but the row brought it back, once
    assert outbound.sweep(svc, now=later)["requeued"] == 0


def test_sweeper_settles_a_send_whose_outcome_was_lost(immediate, known, svc, transport):
    known.text("CHOKEHOLD")
    (message,) = followups(svc)
    sid = transport.send_sms(message.phone, message.body)  # Twilio accepted it...
    with svc.db.session() as session:  # ...but the worker died before recording that
        row = session.get(Message, message.id)
        row.status, row.sent_at = "sending", utcnow() - timedelta(minutes=10)
        session.commit()
    assert outbound.sweep(svc)["settled"] == 1
    settled = followups(svc)[0]
    assert (settled.status, settled.twilio_sid) == ("sent", sid)
    assert len(transport.messages) == 1


def test_sweeper_resends_a_lost_send_that_never_went_out(immediate, known, svc, transport, run_jobs):
    known.text("CHOKEHOLD")
    (message,) = followups(svc)
    with svc.db.session() as session:
        row = session.get(Message, message.id)
        row.status, row.sent_at = "sending", utcnow() - timedelta(minutes=10)
        session.commit()
    assert outbound.sweep(svc)["reset"] == 1
    assert outbound.deliver(svc, message.id) == "sent"
    assert len(transport.messages) == 1


def test_cron_tick_enqueues_each_periodic_job_once_per_slot(svc, redis):
    last: dict[str, int] = {}
    assert cron.tick(redis, 1_000_000.0, last) == len(cron.PERIODIC)
    every_second = sum(1 for _, every in cron.PERIODIC if every == 1)  # the event router
    assert every_second == 1
    assert cron.tick(redis, 1_000_001.5, last) == 0  # same slots
    assert cron.tick(redis, 1_000_001.0 + 30, last) == 0  # new slots, but each job's last one still waits
    assert svc.queue("default").count == len(cron.PERIODIC)
    redis.delete("actionline:cron:waiting:route_events")  # what run_exclusive does as the job starts
    assert cron.tick(redis, 1_000_002.0 + 30, last) == every_second


def test_a_slow_worker_does_not_pile_up_periodic_jobs(svc, redis):
    """A worker slower than the schedule keeps one of each waiting, so broadcasts on ``bulk`` still run."""
    last: dict[str, int] = {}
    for second in range(120):
        cron.tick(redis, 1_000_000.0 + second, last)
    assert svc.queue("default").count == len(cron.PERIODIC)


def test_retention_purge_erases_silent_texters_only(known, svc, phone):
    known.text("CHOKEHOLD")
    with svc.db.session() as session:
        sub = session.scalar(select(Subscriber))
        sub.zip, sub.last_active_at = "02139", utcnow() - timedelta(days=800)
        session.commit()
    assert tasks.purge_expired()["subscribers"] == 1
    with svc.db.session() as session:
        sub = session.scalar(select(Subscriber))
        bodies = session.scalars(select(Message.body).where(Message.direction == "in")).all()
    assert sub.zip is None and sub.status == "active"
    assert set(bodies) == {None}
    assert sum(tasks.purge_expired().values()) == 0
