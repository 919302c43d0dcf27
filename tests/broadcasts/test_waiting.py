"""Why a broadcast waits (``sms.broadcasts.waiting``): grouped reasons, the finish estimate, caps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rq import Worker
from sqlalchemy import update

from sms.broadcasts import lifecycle, waiting
from sms.broadcasts.models import Delivery
from tests.support.broadcasts import add_people, configure, new_broadcast

NEW_YORK, LOS_ANGELES = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")
MORNING = datetime(2027, 1, 14, 15, 0, tzinfo=UTC)  # 10:00 in New York, 07:00 in Los Angeles


def explain(svc, broadcast_id, now=MORNING, workers=1):  # noqa: ANN001, ANN201
    with svc.db.session() as session:
        return waiting.explain(session, svc.settings, lifecycle.get(session, broadcast_id), now, workers)


def started(svc, now=MORNING, **kwargs) -> int:  # noqa: ANN001
    broadcast_id = new_broadcast(svc, now=now, **kwargs)
    assert lifecycle.start(svc, broadcast_id, now) == "started"
    return broadcast_id


def test_finish_time_plays_the_rate_forward_group_by_group():
    groups = [(MORNING, 10, NEW_YORK), (MORNING + timedelta(hours=2), 4, LOS_ANGELES)]
    assert waiting.finish_time(groups, 2.0, MORNING, None) == MORNING + timedelta(hours=2, seconds=2)
    assert waiting.finish_time([(MORNING, 10, NEW_YORK), (MORNING, 10, NEW_YORK)], 1.0, MORNING, None) == (
        MORNING + timedelta(seconds=20))  # one sender clock: the second group waits for the first
    assert waiting.finish_time([], 1.0, MORNING, None) is None


def test_finish_time_moves_what_runs_into_quiet_hours_to_the_next_opening():
    evening = datetime(2027, 1, 15, 0, 59, 57, tzinfo=UTC)  # 19:59:57 in New York, 3 s before 20:00
    finish = waiting.finish_time([(evening, 5, NEW_YORK)], 1.0, evening, (9, 20))
    assert finish == datetime(2027, 1, 15, 14, 0, 2, tzinfo=UTC)  # 3 tonight, 2 at 9:00 tomorrow
    night = datetime(2027, 1, 15, 4, 0, tzinfo=UTC)  # 23:00 in New York
    assert waiting.finish_time([(night, 1, NEW_YORK)], 1.0, night, (9, 20)) == datetime(
        2027, 1, 15, 14, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "text"), [(0.2, "1 s"), (59, "59 s"), (61, "2 min"), (3600, "1 h"),
                                               (7500, "2 h 5 min"), (90000, "1 d 1 h"), (86400 * 2, "2 d")])
def test_durations_read_like_a_person_would_say_them(seconds, text):
    assert waiting.duration(seconds) == text


def test_quiet_hours_are_grouped_per_zone_with_local_and_utc_times(svc):
    add_people(svc, 3, 0, timezone="America/New_York")
    add_people(svc, 2, 100, timezone="America/Los_Angeles")
    configure(svc, quiet_hours=(9, 20))
    broadcast_id = started(svc, mps=1)
    found = explain(svc, broadcast_id)
    assert found.summary == "Sending: 5 waiting."
    assert [r.text for r in found.reasons] == [
        "2 waiting for quiet hours to end in America/Los_Angeles (until 09:00 local, 17:00 UTC)",
        "3 due now, going out at 1 a second (about 3 s)",
    ]
    assert found.finish_at == datetime(2027, 1, 14, 17, 0, 2, 1000, tzinfo=UTC)
    assert found.lines()[-1] == "Estimated finish: 2027-01-14 17:00 UTC"


def test_a_window_opening_tomorrow_names_the_day(svc):
    add_people(svc, 1, 0)  # no zone: treated as Eastern
    configure(svc, quiet_hours=(9, 20))
    late = datetime(2027, 1, 15, 2, 0, tzinfo=UTC)  # 21:00 in New York
    found = explain(svc, started(svc, late), late)
    assert [r.text for r in found.reasons] == [
        "1 waiting for quiet hours to end in America/New_York (zone unknown) "
        "(until Fri 15 Jan 09:00 local, 14:00 UTC)"]


def test_no_worker_on_the_bulk_queue_is_the_reason_given(svc):
    add_people(svc, 2)
    found = explain(svc, started(svc), workers=0)
    assert [(r.kind, r.text) for r in found.reasons] == [
        ("no_worker", "2 due now, but no worker serves the bulk queue: start worker.py (make run starts one)")]


def test_a_paused_broadcast_waits_for_resume_and_has_no_finish_time(svc):
    add_people(svc, 4)
    broadcast_id = started(svc)
    lifecycle.pause(svc, broadcast_id)
    found = explain(svc, broadcast_id)
    assert found.summary == "Paused: 4 waiting; nothing new is sent until it is resumed."
    assert [(r.kind, r.count) for r in found.reasons] == [("paused", 4)]
    assert found.finish_at is None


def test_retries_in_flight_and_unknown_outcomes_are_told_apart(svc):
    phones = add_people(svc, 4)
    broadcast_id = started(svc)
    with svc.db.session() as session:
        rows = {"retry": (phones[0], {"error_code": 20429, "attempts": 1, "send_at": MORNING + timedelta(minutes=2)}),
                "in_flight": (phones[1], {"status": "sending", "claimed_at": MORNING - timedelta(seconds=5)}),
                "unknown": (phones[2], {"status": "sending", "claimed_at": MORNING - timedelta(minutes=10)})}
        for phone, values in rows.values():
            session.execute(update(Delivery).where(Delivery.phone == phone).values(**values))
        session.commit()
    texts = {r.kind: r.text for r in explain(svc, broadcast_id).reasons}
    assert texts == {
        "retry": "1 waiting to retry after Twilio error 20429 (from 15:02 UTC)",
        "rate": "1 due now, going out at 1 a second (about 1 s)",
        "in_flight": "1 handed to Twilio, waiting for its answer",
        "unknown": "1 sent with no answer from Twilio yet: the sweeper asks Twilio what it sent before anything "
                   "is sent again",
    }


def test_finished_drafts_and_scheduled_broadcasts_say_so(svc, run_jobs):
    add_people(svc, 2)
    draft = new_broadcast(svc, now=MORNING, mps=2)
    found = explain(svc, draft)
    assert found.summary == "Draft: nothing is sent until you send it."
    assert found.lines()[-1] == "Estimated finish if sent now: 2027-01-14 15:00 UTC"
    scheduled = new_broadcast(svc, now=MORNING, send_at=MORNING + timedelta(hours=1))
    assert explain(svc, scheduled, workers=0).lines() == [
        "Scheduled for 2027-01-14 16:00 UTC; recipients are chosen then.",
        "Estimated finish: 2027-01-14 16:00 UTC",
        "No worker serves the bulk queue (worker.py): nothing is sent until one runs."]
    sent = new_broadcast(svc)
    lifecycle.start(svc, sent)
    run_jobs()
    found = explain(svc, sent, now=None)
    assert found.finished and found.summary.startswith("Finished: sent at ") and found.reasons == ()


def test_people_a_frequency_cap_left_out_are_counted(svc):
    add_people(svc, 3)
    configure(svc, broadcast_cap_day=1, broadcast_cap_week=0)
    first = new_broadcast(svc)
    lifecycle.start(svc, first)
    second = new_broadcast(svc, "Another one")
    with svc.db.session() as session:
        assert waiting.left_out_by_cap(session, svc.settings, lifecycle.get(session, second)).text == (
            "3 of the audience would be left out by the frequency cap (BROADCAST_CAP_DAY=1)")
    add_people(svc, 1, 100)
    lifecycle.start(svc, second)
    found = explain(svc, second, now=None)
    assert found.left_out.text == "3 of the audience were left out by the frequency cap (BROADCAST_CAP_DAY=1)"
    with svc.db.session() as session:
        assert waiting.left_out_by_cap(session, svc.settings, lifecycle.get(session, first)) is None


def test_bulk_workers_counts_the_workers_serving_the_bulk_queue(svc):
    assert waiting.bulk_workers(svc) == 0
    worker = Worker([svc.queue("bulk")], connection=svc.redis)
    worker.register_birth()
    try:
        assert waiting.bulk_workers(svc) == 1
    finally:
        worker.register_death()
