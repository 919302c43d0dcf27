"""Getting through: busy DC line → district office, saturation routing (and after a Redis flush)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from sms.calls import routing
from sms.calls.models import CallLeg, CallSession
from sms.store import utcnow
from sms.targets.lookup import Target
from tests.support.calls import NADLER, Caller, dialed, legs, path_of, spoken, tune

NADLER_NY_OFFICE = "+12123677350"
pytestmark = pytest.mark.usefixtures("offices_db")


def start_call(phone, run_jobs, transport) -> Caller:  # noqa: ANN001
    phone.text("ZIP 10001")
    phone.text("CALL CHOKEHOLD")
    phone.text("2")  # 10001 is split: NY-12
    run_jobs()
    placed = transport.calls[-1]
    caller = Caller(phone.client, phone.number, placed["sid"])
    caller.post(path_of(placed["url"]))
    return caller


def leg_outcomes(svc) -> list[tuple[int, str, str, str]]:  # noqa: ANN001
    """(position, kind, ref, outcome) of each leg, in dialing order."""
    return [(leg.position, leg.kind, leg.ref, leg.outcome) for leg in legs(svc)]


def test_busy_dc_line_offers_the_district_office_then_goes_on(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    caller = start_call(phone, run_jobs, transport)
    assert dialed(caller.post("/voice/connect", Digits="1")) == [NADLER]
    root = caller.post("/voice/dialed?leg=0", DialCallStatus="busy", DialCallDuration="0")
    assert "That line was busy. Let's try Representative Jerrold Nadler, New York office." in spoken(root)
    assert root.find("./Gather").get("action").endswith("/voice/next?leg=1")  # offered: * skips it
    assert dialed(caller.post("/voice/next?leg=1")) == [NADLER_NY_OFFICE]
    again = caller.post("/voice/dialed?leg=0", DialCallStatus="busy")  # a Twilio retry adds nothing
    assert dialed(again) == [NADLER_NY_OFFICE]
    root = caller.post("/voice/dialed?leg=1", DialCallStatus="completed", DialCallDuration="61")
    assert root.find("./Gather").get("action").endswith("/voice/next?leg=2")  # then the senators
    caller.post("/voice/next?leg=2", Digits="#")
    run_jobs()
    summary = transport.bodies_to(phone.number)[-1]
    assert summary.startswith("Thank you for calling! You reached Rep. Jerrold Nadler, New York office. How did")
    assert leg_outcomes(svc)[:2] == [(0, "house", "N000002", "busy"), (1, "office", "N000002-new_york", "connected")]
    with svc.db.session() as session:
        assert len(session.scalars(select(CallSession)).one().targets) == 4


def test_auto_fallback_dials_the_office_at_once_and_never_twice(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    tune(svc, call_busy_fallback="auto")
    caller = start_call(phone, run_jobs, transport)
    caller.post("/voice/connect", Digits="1")
    assert dialed(caller.post("/voice/dialed?leg=0", DialCallStatus="no-answer")) == [NADLER_NY_OFFICE]
    root = caller.post("/voice/dialed?leg=1", DialCallStatus="busy")  # the office is busy too: no third try
    assert root.find("./Gather").get("action").endswith("/voice/next?leg=2")
    assert [leg[3] for leg in leg_outcomes(svc)] == ["no-answer", "busy"]


def test_fallback_off_moves_straight_to_the_next_target(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    tune(svc, call_busy_fallback="off")
    caller = start_call(phone, run_jobs, transport)
    caller.post("/voice/connect", Digits="1")
    root = caller.post("/voice/dialed?leg=0", DialCallStatus="busy")
    assert "Senator Kirsten E. Gillibrand" in spoken(root)


def test_district_offices_nearest_to_the_callers_zip_first(svc) -> None:  # noqa: ANN001
    schumer = Target("senate", "S000148", "Sen.", "Charles E. Schumer", "+12022246542", "NY")
    with svc.db.session() as session:
        assert routing.district_offices(session, schumer, "14620", "NY")[0].ref == "S000148-rochester"
        assert routing.district_offices(session, schumer, "10001", "NY")[0].ref == "S000148-new_york"
        assert routing.district_offices(session, schumer, "13202", "NY")[0].ref == "S000148-syracuse"
        unknown = routing.district_offices(session, schumer, None, "NY")  # no estimate: by city
        assert [t.ref for t in unknown][:2] == ["S000148-albany", "S000148-binghamton"]


def seed_busy_legs(svc, ref: str, count: int, minutes_ago: int = 2) -> None:  # noqa: ANN001
    """Outcomes other callers had, in SQL only (as if Redis had just been flushed)."""
    ended = utcnow() - timedelta(minutes=minutes_ago)
    with svc.db.session() as session:
        call = CallSession(phone="+12125550100", status="completed")
        session.add(call)
        session.flush()
        session.add_all(CallLeg(session_id=call.id, position=i, kind="house", ref=ref, label="Rep. Jerrold Nadler",
                                dial_status="busy", outcome="busy", ended_at=ended) for i in range(count))
        session.commit()


def test_saturation_routes_new_callers_to_the_least_busy_office_even_after_a_flush(
        phone, svc, redis, run_jobs, transport, runner) -> None:  # noqa: ANN001
    seed_busy_legs(svc, "N000002", 4)
    seed_busy_legs(svc, "N000002", 5, minutes_ago=40)  # outside the 15-minute window: ignored
    redis.flushdb()  # our test DB only: the sorted sets are rebuilt from SQL
    phone.text("ZIP 10001")
    phone.text("CALL CHOKEHOLD")
    replies = phone.text("2")
    assert "Rep. Jerrold Nadler's DC line is jammed, so we'll try their New York office" in replies[0]
    with svc.db.session() as session:
        call = session.scalars(select(CallSession).where(CallSession.phone == phone.number)).one()
        assert [t["ref"] for t in call.targets] == ["N000002-new_york", "G000555", "S000148"]
        assert routing.load(redis, "N000002").busy == 4
    result = runner.invoke(args=["offices-saturation"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[1]
    assert "Rep. Jerrold Nadler (DC)" in first and "100%" in first and "4 busy" in first


def test_a_clear_dc_line_wins_and_the_window_slides(svc, redis) -> None:  # noqa: ANN001
    nadler = Target("house", "N000002", "Rep.", "Jerrold Nadler", NADLER, "NY", 12)
    now = utcnow()
    with svc.db.session() as session:
        for leg_id in range(3):
            routing.record(redis, "N000002-new_york", leg_id, "busy", now)
        routing.record(redis, "N000002", 9, "busy", now)  # one busy is not enough to judge
        assert routing.least_saturated(redis, session, nadler, "10001", "NY", now).ref == "N000002"
        for leg_id in range(10, 13):
            routing.record(redis, "N000002", leg_id, "busy", now)
        assert routing.least_saturated(redis, session, nadler, "10001", "NY", now).ref == "N000002"  # both jammed
        later = now + timedelta(minutes=16)
        assert routing.load(redis, "N000002", now=later).total == 0


def test_routing_is_skipped_not_fatal_when_redis_is_down(svc, monkeypatch) -> None:  # noqa: ANN001
    from redis import Redis

    nadler = Target("house", "N000002", "Rep.", "Jerrold Nadler", NADLER, "NY", 12)
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setattr(svc, "redis", down)
    with svc.db.session() as session:
        assert routing.route(svc, session, [nadler], "10001", "NY") == ([nadler], [])
    routing.record(down, "N000002", 1, "busy")  # logged, not raised: the leg is in SQL
