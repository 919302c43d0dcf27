from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sms.broadcasts import lifecycle, merge_fields
from sms.broadcasts.lifecycle import BroadcastError
from sms.broadcasts.models import Delivery
from sms.store import utcnow
from tests.support.broadcasts import (
    add_people,
    broadcast_status,
    configure,
    count_deliveries,
    delivery,
    new_broadcast,
    statuses,
)

PRICE = 0.0083


@pytest.mark.parametrize(("body", "encoding", "per_message"), [
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("{" + "[" * 79, "GSM-7", 1),  # extension characters count twice: 80 x 2 = 160 units
    ("€" * 81, "GSM-7", 2),
    ("Vote! " + "✊" * 64, "UCS-2", 1),  # 70 UCS-2 units
    ("Vote! " + "😀" * 33, "UCS-2", 2),  # emoji outside the BMP are two units each: 72
])
def test_preview_counts_recipients_segments_and_cost(svc, body, encoding, per_message):
    add_people(svc, 7, interests=("CHOKEHOLD",))
    add_people(svc, 3, 100)
    broadcast_id = new_broadcast(svc, body, filters={"demands": ["CHOKEHOLD"]})
    with svc.db.session() as session:
        preview = lifecycle.preview(session, svc.settings, lifecycle.get(session, broadcast_id))
    assert (preview.recipients, preview.encoding, preview.segments_per_message) == (7, encoding, per_message)
    assert preview.total_segments == 7 * per_message
    assert preview.estimated_cost == round(7 * per_message * PRICE, 2)


def test_preview_counts_merge_fields_at_a_typical_length(svc):
    body = "Hi {first_name}, call {rep} today." + "x" * 110
    assert len(body) < 160 < len(merge_fields.sample(body))
    with svc.db.session() as session:
        draft = lifecycle.create(session, svc.settings, body)
        assert lifecycle.preview(session, svc.settings, draft).segments_per_message == 2


def test_cli_create_preview_send_status(runner, svc, run_jobs, transport):
    add_people(svc, 3, interests=("CHOKEHOLD",), state="KY")
    add_people(svc, 2, 100, state="CA")
    result = runner.invoke(args=["broadcast", "create", "--message", "Hi {first_name}: vote Thursday!",
                                 "--demand", "chokehold", "--state", "KY", "--mps", "1000"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    broadcast_id = int(last.split()[1])
    assert last == (f"Broadcast {broadcast_id} created (draft, 3 recipients). "
                    f"Send it: flask broadcast send {broadcast_id}")
    assert "Recipients: 3" in result.output and "Encoding: GSM-7" in result.output
    assert runner.invoke(args=["broadcast", "preview", str(broadcast_id)]).output.startswith("Recipients: 3")
    assert runner.invoke(args=["broadcast", "send", str(broadcast_id)]).exit_code == 0
    run_jobs()
    assert sorted(m["to"] for m in transport.messages) == [f"+1617555{i:04d}" for i in range(3)]
    assert transport.messages[0]["body"] == "Hi friend: vote Thursday!"
    status = runner.invoke(args=["broadcast", "status", str(broadcast_id)]).output
    assert f"Broadcast {broadcast_id}: sent, 3 planned" in status and "sent: 3" in status


@pytest.mark.parametrize(("args", "message"), [
    (["--message", "   "], "empty"),
    (["--message", "x" * 1531], "longer than 10"),
    (["--message", "hi", "--demand", "NOSUCH"], "unknown demand"),
    (["--message", "hi", "--segment", "nosuch"], "no segment"),
    (["--message", "hi", "--send-at", "2020-01-01T12:00:00Z"], "in the past"),
    (["--message", "hi", "--send-at", "tomorrow"], "ISO 8601"),
    (["--message", "hi {name}"], "unknown merge field"),
    (["--message", "hi", "--mps", "0"], "more than zero"),
])
def test_cli_refuses_bad_input(runner, args, message):
    result = runner.invoke(args=["broadcast", "create", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_cli_unknown_broadcast_exits_nonzero(runner):
    result = runner.invoke(args=["broadcast", "status", "999"])
    assert result.exit_code == 1 and "no broadcast 999" in result.output


def test_plan_writes_one_row_per_recipient_in_time_zone_waves(svc):
    add_people(svc, 2, 0, timezone="America/Los_Angeles")
    add_people(svc, 2, 100, timezone="America/New_York")
    add_people(svc, 1, 200)  # unknown zone: treated as Eastern
    add_people(svc, 1, 300, timezone="America/Chicago")
    configure(svc, quiet_hours=(9, 20))
    now = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)  # 7:30 in New York, 4:30 in Los Angeles
    broadcast_id = new_broadcast(svc, now=now)
    assert lifecycle.start(svc, broadcast_id, now) == "started"
    assert lifecycle.start(svc, broadcast_id, now) == "skipped"  # idempotent
    hours = {phone: delivery(svc, broadcast_id, phone).send_at.hour for phone in
             ("+16175550000", "+16175550100", "+16175550200", "+16175550300")}
    assert hours == {"+16175550100": 14, "+16175550200": 14, "+16175550300": 15, "+16175550000": 17}
    assert count_deliveries(svc, broadcast_id) == 6


def test_waves_go_east_to_west_when_everyone_is_awake(svc):
    add_people(svc, 1, 0, timezone="America/Los_Angeles")
    add_people(svc, 1, 100, timezone="America/Chicago")
    add_people(svc, 1, 200, timezone="America/New_York")
    broadcast_id = new_broadcast(svc)
    lifecycle.start(svc, broadcast_id)
    with svc.db.session() as session:
        order = session.scalars(select(Delivery.phone).where(Delivery.broadcast_id == broadcast_id)
                                .order_by(Delivery.send_at)).all()
    assert order == ["+16175550200", "+16175550100", "+16175550000"]


def test_frequency_cap_leaves_out_subscribers_who_had_enough(svc):
    add_people(svc, 3)
    configure(svc, broadcast_cap_day=1)
    first = new_broadcast(svc)
    lifecycle.start(svc, first)
    add_people(svc, 2, 100)
    second = new_broadcast(svc, "Another one")
    lifecycle.start(svc, second)
    assert count_deliveries(svc, first) == 3
    assert count_deliveries(svc, second) == 2
    configure(svc, broadcast_cap_day=0)
    configure(svc, broadcast_cap_week=2)
    third = new_broadcast(svc, "Third")
    lifecycle.start(svc, third)
    assert count_deliveries(svc, third) == 5  # everyone has had at most one this week
    fourth = new_broadcast(svc, "Fourth")
    lifecycle.start(svc, fourth)
    assert count_deliveries(svc, fourth) == 0


def test_pause_resume_cancel(svc, run_jobs, transport):
    add_people(svc, 5)
    broadcast_id = new_broadcast(svc, mps=1000)
    lifecycle.send(svc, broadcast_id)
    lifecycle.pause(svc, broadcast_id)
    run_jobs()
    assert transport.messages == [] and broadcast_status(svc, broadcast_id) == "paused"
    with pytest.raises(BroadcastError, match="cannot make it paused"):
        lifecycle.pause(svc, broadcast_id)
    lifecycle.resume(svc, broadcast_id)
    run_jobs()
    assert len(transport.messages) == 5 and broadcast_status(svc, broadcast_id) == "sent"
    with pytest.raises(BroadcastError, match="cannot make it cancelled"):
        lifecycle.cancel(svc, broadcast_id)


def test_cancel_mid_broadcast_leaves_the_rest_unsent(svc, run_jobs, transport):
    add_people(svc, 4)
    broadcast_id = new_broadcast(svc, mps=1000)
    lifecycle.send(svc, broadcast_id)
    lifecycle.cancel(svc, broadcast_id)
    run_jobs()
    assert transport.messages == []
    assert statuses(svc, broadcast_id) == {"cancelled": 4}


def test_scheduled_broadcast_waits_for_its_time(svc, run_jobs, transport):
    add_people(svc, 2)
    later = utcnow() + timedelta(hours=2)
    broadcast_id = new_broadcast(svc, send_at=later)
    assert lifecycle.send(svc, broadcast_id) == "scheduled"
    run_jobs()
    assert transport.messages == [] and broadcast_status(svc, broadcast_id) == "scheduled"
    assert lifecycle.start(svc, broadcast_id, later) == "started"
