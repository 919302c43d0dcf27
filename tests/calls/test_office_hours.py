"""Office hours and call-backs for later, across time zones, with frozen clocks (no sleeps)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from rq.job import Job
from sqlalchemy import select

from sms.calls import later, office_hours
from sms.calls.models import CallSession, ScheduledCall
from sms.store import Subscriber
from sms.targets.lookup import Target
from tests.conftest import Phone
from tests.support.calls import Caller, dialed, spoken, tune

pytestmark = pytest.mark.usefixtures("targets_db")
SATURDAY = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 10am ET
WEDNESDAY_3PM_ET = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
MONDAY_9AM_ET = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
HONOLULU = ZoneInfo("Pacific/Honolulu")
GUAM = ZoneInfo("Pacific/Guam")
DC = Target("house", "N000002", "Rep.", "Jerrold Nadler", "+12022255635", "NY", 12)
CA_OFFICE = Target("office", "X000001-la", "Rep.", "Someone, Los Angeles office", "+12135550100", "CA", 1)


@pytest.fixture
def hours(svc, monkeypatch):  # noqa: ANN001, ANN201
    """Congress keeps 9-17 Eastern; callers have 9-20 local quiet hours; the clock is ours."""
    tune(svc, call_office_hours={"congress": (9, 17, "America/New_York")}, quiet_hours=(9, 20))
    clock = {"now": SATURDAY}
    monkeypatch.setattr(office_hours, "clock", lambda: clock["now"])
    return clock


def rows(svc) -> list[ScheduledCall]:  # noqa: ANN001
    with svc.db.session() as session:
        return list(session.scalars(select(ScheduledCall).order_by(ScheduledCall.id)))


def test_hours_and_call_times_across_zones(svc) -> None:  # noqa: ANN001
    tuned = dataclasses.replace(svc.settings, call_office_hours={"congress": (9, 17, "America/New_York")},
                                quiet_hours=(9, 20))
    congress = office_hours.Schedule((9, 17, "America/New_York"))
    eastern = congress.of(DC)
    assert not office_hours.is_open(eastern, SATURDAY) and office_hours.is_open(eastern, MONDAY_9AM_ET)
    assert office_hours.next_open(eastern, SATURDAY) == MONDAY_9AM_ET
    assert congress.of(CA_OFFICE)[2] == "America/Los_Angeles"  # a district office keeps home time
    assert office_hours.next_open(congress.of(CA_OFFICE), MONDAY_9AM_ET).hour == 17  # 9am PT
    eastern_caller = office_hours.call_time(tuned, congress, [DC], ZoneInfo("America/New_York"), SATURDAY)
    assert eastern_caller == MONDAY_9AM_ET
    # 9am ET is 4am in Honolulu: the call waits for the caller's 9am (2pm ET, offices still open).
    hawaii = office_hours.call_time(tuned, congress, [DC], HONOLULU, SATURDAY)
    assert hawaii == datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
    # Guam's daytime is Washington's night: no time suits both, so the call-back is for the opening.
    assert office_hours.call_time(tuned, congress, [DC], GUAM, SATURDAY) is None
    assert office_hours.callback_time(tuned, congress, [DC], GUAM, SATURDAY) == (MONDAY_9AM_ET, True)
    assert office_hours.Schedule(None).of(DC) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("9AM", datetime(2026, 11, 26, 14, 0, tzinfo=UTC)),  # 9am already passed today: tomorrow
    ("4:30 pm", datetime(2026, 11, 25, 21, 30, tzinfo=UTC)),
    ("TOMORROW", datetime(2026, 11, 26, 14, 0, tzinfo=UTC)),
    ("tomorrow 2pm", datetime(2026, 11, 26, 19, 0, tzinfo=UTC)),
    ("25", None), ("CHOKEHOLD", None),
])
def test_parse_when_reads_the_callers_local_time(text: str, expected: datetime | None) -> None:
    assert office_hours.parse_when(text, ZoneInfo("America/New_York"), WEDNESDAY_3PM_ET) == expected


def test_call_while_closed_offers_a_call_back_yes_books_it_cancel_call_cancels(phone, svc, redis, hours) -> None:  # noqa: ANN001
    phone.text("ZIP 10001")
    phone.text("CALL CHOKEHOLD")
    assert phone.text("2") == ["The offices are closed right now. Reply YES for a call at Mon 9am ET."]
    assert rows(svc)[0].status == "offered" and not redis.exists("rq:job:callback-1")
    assert phone.text("YES") == ["You're booked: we'll call you then. Reply CANCEL CALL to cancel."]
    (row,) = rows(svc)
    assert (row.status, row.run_at) == ("scheduled", MONDAY_9AM_ET)
    assert f"callback-{row.id}" in svc.queue("high").scheduled_job_registry.get_job_ids()
    assert phone.text("CANCEL CALL") == ["Your call-back is cancelled. Reply CALL anytime."]
    assert rows(svc)[0].status == "canceled"
    assert later.run(svc, row.id, now=MONDAY_9AM_ET) == "skipped"
    with svc.db.session() as session:
        assert session.scalar(select(CallSession)) is None


def test_call_9am_is_booked_survives_a_flush_and_places_the_call(phone, svc, redis, hours, run_jobs, transport) -> None:  # noqa: ANN001
    hours["now"] = WEDNESDAY_3PM_ET
    phone.text("ZIP 10001")
    phone.text("DISTRICT NY-12")
    phone.text("CHOKEHOLD")
    assert phone.text("CALL 9AM") == [
        "OK: we'll call you about CHOKEHOLD at tomorrow 9am ET. Reply CANCEL CALL to cancel."]
    (row,) = rows(svc)
    redis.flushdb()
    assert later.sweep(svc, now=WEDNESDAY_3PM_ET)["callbacks_requeued"] == 1
    assert Job.exists(f"callback-{row.id}", connection=redis)
    assert later.sweep(svc, now=WEDNESDAY_3PM_ET)["callbacks_requeued"] == 0  # still there: not doubled
    assert later.run(svc, row.id, now=WEDNESDAY_3PM_ET) == "not yet"
    assert later.run(svc, row.id, now=row.run_at) == "placed"
    assert later.run(svc, row.id, now=row.run_at) == "skipped"  # a repeated job places nothing
    run_jobs()
    assert [c["to"] for c in transport.calls] == [phone.number]
    with svc.db.session() as session:
        call = session.scalars(select(CallSession)).one()
        assert call.demand == "CHOKEHOLD" and call.targets[0]["ref"] == "N000002"


def test_call_at_a_time_before_any_demand_asks_which_issue(phone, svc, hours) -> None:  # noqa: ANN001
    reply = phone.text("CALL TOMORROW")[0]  # a first text also carries the welcome disclosure
    assert reply.startswith("Which issue should we call you about? Text its keyword first (e.g. CHOKEHOLD), "
                            "then CALL TOMORROW.")
    assert rows(svc) == []


def test_a_booking_never_rings_in_the_callers_quiet_hours_and_stop_cancels(phone, svc, hours) -> None:  # noqa: ANN001
    hours["now"] = WEDNESDAY_3PM_ET
    phone.text("ZIP 10001")
    phone.text("DISTRICT NY-12")
    phone.text("CHOKEHOLD")
    reply = phone.text("CALL 7AM")[0]  # before the caller's quiet hours end (9am): moved to 9am
    assert "at tomorrow 9am ET (the first time the offices are open and it's daytime for you)" in reply
    (row,) = rows(svc)
    with svc.db.session() as session:
        session.get(Subscriber, row.subscriber_id).timezone = "America/Los_Angeles"  # they moved west
        session.commit()
    assert later.run(svc, row.id, now=row.run_at) == "held for daytime"  # 6am in Los Angeles
    assert rows(svc)[0].run_at == datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    phone.text("CANCEL")  # a STOP word: opts out and cancels the call-back
    assert rows(svc)[0].status == "canceled"


def test_a_call_in_while_closed_says_when_offices_open_and_dials_no_one(client, svc, hours) -> None:  # noqa: ANN001
    caller = Caller(client, "+16175550142", "CA" + "2" * 32)
    caller.post("/voice")
    caller.post("/voice/zip", Digits="10001")
    root = caller.post("/voice/district", Digits="2")
    assert "The offices are closed right now. They open Mon 9am ET." in spoken(root)
    assert dialed(root) == [] and root.find("./Hangup") is not None
    assert dialed(caller.post("/voice/connect", Digits="1")) == []  # a stale key press cannot bridge anything


@pytest.mark.parametrize(("env", "message"), [
    ({"CALL_BUSY_FALLBACK": "sometimes"}, "CALL_BUSY_FALLBACK must be offer, auto or off"),
    ({"CALL_OFFICE_HOURS": "congress=17-9"}, "CALL_OFFICE_HOURS: 'congress=17-9'"),
    ({"CALL_OFFICE_HOURS": "congress=9-17@Mars/Olympus"}, "is not set=START-END@Zone"),
])
def test_bad_call_settings_stop_start_up_naming_the_key(env: dict[str, str], message: str) -> None:
    from sms.settings import ConfigError, Settings

    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Settings.from_mapping(env)
    hours = Settings.from_mapping({"CALL_OFFICE_HOURS": "congress=9-17,louisville=10-16@America/Kentucky/Louisville"})
    assert hours.call_office_hours["louisville"] == (10, 16, "America/Kentucky/Louisville")


WEDNESDAY_3_28AM_ET = datetime(2026, 11, 25, 8, 28, tzinfo=UTC)
WEDNESDAY_6PM_ET = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)  # Thursday 9am in Guam
THURSDAY_9AM_ET = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # Friday midnight in Guam


def test_a_local_set_keeps_its_own_hours_and_calls_back_when_it_opens(phone, svc, hours) -> None:  # noqa: ANN001
    """Issue 13: the Louisville Metro Council was dialed at 03:28 ET."""
    hours["now"] = WEDNESDAY_3_28AM_ET
    phone.text("ZIP 40202")
    assert phone.text("CALL NOKNOCK") == ["The offices are closed right now. Reply YES for a call at 9am ET."]
    phone.text("YES")
    (row,) = rows(svc)
    assert (row.status, row.demand, row.run_at) == ("scheduled", "NOKNOCK", datetime(2026, 11, 25, 14, 0, tzinfo=UTC))
    with svc.db.session() as session:
        assert session.scalar(select(CallSession)) is None  # nobody was dialed at 03:28
    assert later.run(svc, row.id, now=row.run_at) == "placed"
    with svc.db.session() as session:
        assert [t["phone"] for t in session.scalars(select(CallSession)).one().targets] == ["+15025741100"]


def test_where_a_sets_hours_come_from(svc) -> None:  # noqa: ANN001
    from sms.targets import editing

    congress = {"congress": (9, 17, "America/New_York")}
    with svc.db.session() as session:
        editing.add(session, "da_office", editing.TargetEdit("District Attorney", "", "(502) 574-1100"))
        of = lambda targets, **hours: office_hours.schedule_of(  # noqa: E731
            session, dataclasses.replace(svc.settings, call_office_hours=hours), targets).hours
        assert of("custom:louisville_council", **congress) == (9, 17, "America/Kentucky/Louisville")  # its own
        override = (10, 16, "America/Kentucky/Louisville")
        assert of("custom:louisville_council", **congress, louisville_council=override) == override
        assert of("custom:da_office", **congress) == congress["congress"]  # started in the console: Congress's
        assert of("custom:louisville_council") is None  # CALL_OFFICE_HOURS=off: always open
        assert of("congress", louisville_council=override) is None  # Congress not listed: always open


def test_guam_is_offered_a_call_when_offices_open_in_its_night_and_gets_it(client, svc, hours, run_jobs,
                                                                          transport) -> None:  # noqa: ANN001
    hours["now"] = WEDNESDAY_6PM_ET
    guam = Phone(client, "+16714770123")
    guam.text("ZIP 96910")
    assert guam.text("CALL CHOKEHOLD") == [
        "The offices are closed right now and open only during your night. Reply YES for a call at tomorrow 12am "
        "ChST, when they open, or text CALL while they're open."]
    guam.text("YES")
    (row,) = rows(svc)
    assert row.run_at == THURSDAY_9AM_ET
    assert later.run(svc, row.id, now=THURSDAY_9AM_ET) == "placed"  # midnight in Guam, as they said yes to
    run_jobs()
    assert [c["to"] for c in transport.calls] == ["+16714770123"]
    with svc.db.session() as session:
        assert [t["phone"] for t in session.scalars(select(CallSession)).one().targets] == ["+12022251188"]


def test_guam_asking_for_a_time_is_moved_to_when_offices_open(client, svc, hours) -> None:  # noqa: ANN001
    hours["now"] = WEDNESDAY_6PM_ET
    guam = Phone(client, "+16714770123")
    guam.text("ZIP 96910")
    guam.text("CHOKEHOLD")
    assert guam.text("CALL 10AM") == [  # 10am ChST is 7pm ET the day before: closed until 9am ET
        "OK: we'll call you about CHOKEHOLD at tomorrow 12am ChST (when the offices open: they're open only "
        "during your night). Reply CANCEL CALL to cancel."]
    assert rows(svc)[0].run_at == THURSDAY_9AM_ET
