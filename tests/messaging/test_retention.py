"""Retention (RETENTION_DAYS): old message bodies, call logs, call-back bookings and outbox rows go,
texters silent for the period are erased, in batches, from the daily cron job; consent stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from sms import cron, tasks
from sms.calls.models import CallLeg, CallSession, ScheduledCall
from sms.messaging import retention
from sms.store import ConsentEvent, Message, OutboxItem, Subscriber, utcnow
from tests.conftest import Phone

OLD = timedelta(days=731)  # just past the default 730 days


def backdate(svc, model, age: timedelta, *where) -> None:
    with svc.db.session() as session:
        session.execute(update(model).where(*where).values(created_at=utcnow() - age))
        session.commit()


def subscriber(svc, number: str) -> Subscriber:
    with svc.db.session() as session:
        return session.scalar(select(Subscriber).where(Subscriber.phone == number))


@pytest.fixture
def history(client, svc, targets_db):
    """Two years of a texter who is still active, and one who went silent."""
    active, silent = Phone(client, "+16175550123"), Phone(client, "+16175550124")
    for phone in (active, silent):
        phone.text("CHOKEHOLD")
        phone.text("ZIP 99501")
        phone.text("CALL CHOKEHOLD")
    with svc.db.session() as session:
        for call in session.scalars(select(CallSession)):
            session.add(CallLeg(session_id=call.id, position=0, kind="house", ref="Y000033",
                                label="Rep. Young", number="+12022255765", outcome="connected"))
        session.add(ScheduledCall(subscriber_id=subscriber(svc, active.number).id, phone=active.number,
                                  demand="CHOKEHOLD", run_at=utcnow() - OLD, status="done"))
        session.add(OutboxItem(kind="sms", sid="SMold", to=active.number, from_="+15005550006", body="old"))
        session.commit()
    for model in (Message, CallSession, ScheduledCall, OutboxItem):
        backdate(svc, model, OLD)
    backdate(svc, Subscriber, OLD, Subscriber.phone == silent.number)  # created long ago...
    with svc.db.session() as session:  # ...and silent since
        session.execute(update(Subscriber).where(Subscriber.phone == silent.number)
                        .values(last_active_at=utcnow() - OLD))
        session.commit()
    active.text("MENU")  # the active texter is back today: this text is recent
    return active, silent


def test_retention_job_strips_old_records_and_erases_silent_texters(svc, history):
    active, silent = history
    consent_before = _count(svc, ConsentEvent)
    counts = tasks.purge_expired()
    assert counts["subscribers"] == 1 and counts["call_sessions"] == 2
    assert counts["scheduled_calls"] == 1 and counts["outbox"] == 1
    with svc.db.session() as session:
        old_bodies = session.scalars(select(Message.body).where(Message.created_at < utcnow() - OLD / 2,
                                                                Message.status != "scheduled")).all()
        recent = session.scalars(select(Message.body).where(Message.created_at >= utcnow() - OLD / 2)).all()
        silent_followup = session.scalar(select(Message.status).where(
            Message.phone == silent.number, Message.kind == "followup"))
        sessions = session.scalars(select(CallSession)).all()
        legs = session.scalar(select(func.count(CallLeg.id)))
    assert old_bodies and set(old_bodies) == {None}
    assert silent_followup == "cancelled"  # erased texters get no more texts, and never an empty one
    assert recent and all(recent)  # today's MENU and its reply are kept
    assert {(c.phone, c.zip, c.subscriber_id) for c in sessions} == {("", None, None)}
    assert legs == 2  # the office statistics stay
    assert _count(svc, ScheduledCall) == 0 and _count(svc, OutboxItem) == 0
    kept, erased = subscriber(svc, active.number), subscriber(svc, silent.number)
    assert kept.zip == "99501" and erased.zip is None and erased.last_demand is None
    assert erased.status == "active" and _count(svc, ConsentEvent) == consent_before  # the consent record stays
    assert sum(tasks.purge_expired().values()) == 0  # nothing left to do


def test_retention_runs_in_batches(svc, history, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    calls_seen = []
    original = retention.message_bodies
    monkeypatch.setitem(retention.STEPS, "message_bodies",
                        lambda session, cutoff, batch: calls_seen.append(original(session, cutoff, batch))
                        or calls_seen[-1])
    counts = retention.purge(svc)
    assert max(calls_seen) <= 2 and calls_seen[-1] == 0 and sum(calls_seen) == counts["message_bodies"]
    with svc.db.session() as session:
        assert session.scalar(select(func.count(Message.id)).where(
            Message.created_at < utcnow() - OLD / 2, Message.body.is_not(None), Message.status != "scheduled")) == 0


def test_texts_waiting_to_be_sent_keep_their_body(svc, history):
    active, _ = history
    with svc.db.session() as session:
        pending = session.scalar(select(Message).where(Message.status == "scheduled", Message.phone == active.number))
    assert pending.created_at < utcnow() - OLD / 2  # planned two years ago in this fixture, never sent
    retention.purge(svc)
    with svc.db.session() as session:
        assert session.get(Message, pending.id).body == pending.body


def test_retention_zero_keeps_everything(svc, history):
    import dataclasses

    svc.settings = dataclasses.replace(svc.settings, retention_days=0)
    assert retention.purge(svc) == {}
    with svc.db.session() as session:
        assert session.scalar(select(func.count(Message.id)).where(Message.body.is_(None))) == 0


def test_a_shorter_period_is_honoured(svc, history):
    import dataclasses

    svc.settings = dataclasses.replace(svc.settings, retention_days=1)
    backdate(svc, Message, timedelta(days=2), Message.body == "MENU")
    retention.purge(svc)
    with svc.db.session() as session:
        assert session.scalar(select(Message.body).where(Message.direction == "in").order_by(Message.id.desc())
                              .limit(1)) is None


def test_the_cron_runs_retention_daily():
    assert ("sms.tasks.purge_expired", 24 * 3600) in cron.PERIODIC


def _count(svc, model) -> int:
    with svc.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))
