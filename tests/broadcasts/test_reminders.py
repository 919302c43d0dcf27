from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from sms import defaults
from sms.broadcasts import recovery, reminders
from sms.broadcasts.lifecycle import BroadcastError
from sms.messaging import outbound, preferences
from sms.store import Message, Subscriber, utcnow
from tests.support.broadcasts import add_people


def make_reminder(svc, at, **kwargs):
    with svc.db.session() as session:
        reminder = reminders.create(session, svc.settings, "The House votes Thursday. Text CALL.", at, **kwargs)
        session.commit()
        return reminder.id


def reminder(svc, reminder_id):
    with svc.db.session() as session:
        return reminders.get(session, reminder_id)


def work_with_scheduler(svc):
    queues = [svc.queue(name) for name in defaults.QUEUES]
    SimpleWorker(queues, connection=svc.redis).work(burst=True, with_scheduler=True)


def test_recurring_reminder_fires_through_the_rq_scheduler(svc, transport):
    phones = add_people(svc, 2, interests=("CHOKEHOLD",))
    add_people(svc, 2, 100, interests=("DEFUND",))
    at = utcnow()
    reminder_id = make_reminder(svc, at, filters={"demands": ["CHOKEHOLD"]}, every="daily", mps=1000)
    reminders.schedule(svc, reminder_id)
    assert svc.queue("default").scheduled_job_registry.get_job_ids() == [f"remind-{reminder_id}-0"]
    work_with_scheduler(svc)
    assert sorted(m["to"] for m in transport.messages) == phones
    fired = reminder(svc, reminder_id)
    assert (fired.fired, fired.status, fired.next_at) == (1, "active", at + timedelta(days=1))
    assert svc.queue("default").scheduled_job_registry.get_job_ids() == [f"remind-{reminder_id}-1"]
    assert reminders.fire(svc, reminder_id, 0) is None  # a duplicate job is a no-op
    assert len(transport.messages) == 2


def test_sweeper_fires_a_reminder_whose_job_redis_lost(svc, redis, transport, run_jobs):
    add_people(svc, 1, interests=("CHOKEHOLD",))
    an_hour_ago = utcnow() - timedelta(hours=1)
    reminder_id = make_reminder(svc, an_hour_ago, filters={"demands": ["CHOKEHOLD"]}, mps=1000, now=an_hour_ago)
    reminders.schedule(svc, reminder_id)
    redis.flushdb()
    assert recovery.sweep(svc)["reminders"] == 1
    run_jobs()
    assert len(transport.messages) == 1
    assert reminder(svc, reminder_id).status == "done"
    assert recovery.sweep(svc)["reminders"] == 0


def test_paused_reminder_does_not_fire(svc, transport):
    add_people(svc, 1)
    reminder_id = make_reminder(svc, utcnow())
    reminders.schedule(svc, reminder_id)
    reminders.set_status(svc, reminder_id, "paused")
    work_with_scheduler(svc)
    assert transport.messages == []
    with pytest.raises(BroadcastError, match="cannot make it paused"):
        reminders.set_status(svc, reminder_id, "paused")


def test_cli_remind_create_send_cancel_and_errors(runner, svc, transport, run_jobs):
    add_people(svc, 2, interests=("CHOKEHOLD",))
    at = (utcnow() + timedelta(hours=1)).isoformat()
    result = runner.invoke(args=["remind", "create", "--message", "Vote Thursday", "--demand", "CHOKEHOLD",
                                 "--send-at", at, "--every", "weekly"])
    assert result.exit_code == 0, result.output
    reminder_id = result.output.strip().splitlines()[-1]
    assert "(every 168h)" in runner.invoke(args=["remind", "status", reminder_id]).output
    assert runner.invoke(args=["remind", "preview", reminder_id]).output.startswith("Recipients: 2")
    assert "sending as broadcast" in runner.invoke(args=["remind", "send", reminder_id]).output
    run_jobs()
    assert len(transport.messages) == 2 and reminder(svc, int(reminder_id)).fired == 0
    assert runner.invoke(args=["remind", "cancel", reminder_id]).output.strip() == f"Reminder {reminder_id}: cancelled"
    bad = runner.invoke(args=["remind", "create", "--message", "x", "--send-at", at, "--every", "fortnightly"])
    assert bad.exit_code == 1 and "--every must be" in bad.output


def test_less_and_more_change_the_tier(phone, svc):
    phone.text("CHOKEHOLD")
    assert "urgent alerts" in phone.text("LESS")[0]
    tier = lambda: svc.db.session().scalar(select(Subscriber.tier).where(Subscriber.phone == phone.number))  # noqa: E731
    assert tier() == "low"
    phone.text("more")
    assert tier() == "normal"


def test_later_texts_again_in_local_daytime(phone, svc, monkeypatch):
    evening = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)  # 19:30 in New York; +3 h is 22:30
    monkeypatch.setattr(preferences, "utcnow", lambda: evening)
    phone.text("CHOKEHOLD")
    reply = phone.text("LATER")[0]
    with svc.db.session() as session:
        later = session.scalar(select(Message).where(Message.kind == "later"))
    assert later.send_at == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 9:00 the next morning there
    assert "9AM your time" in reply and "CHOKEHOLD" in later.body


@pytest.mark.parametrize(("second_text", "expected"), [("CALL", "obsolete"), ("thanks", "sent")])
def test_followup_is_skipped_for_texters_who_asked_for_a_call(phone, svc, transport, second_text, expected):
    phone.text("CHOKEHOLD")
    phone.text(second_text)
    with svc.db.session() as session:
        followup = session.scalar(select(Message).where(Message.kind == "followup"))
    assert outbound.deliver(svc, followup.id, now=followup.send_at + timedelta(seconds=5)) == expected
