"""Texts that start a call: CALL, ZIP, DISTRICT, split ZIPs, limits and fraud guards (places: test_places.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from sms.calls.models import CallLeg, CallSession
from sms.errors import LimitReached, TransportError
from sms.messaging import catalogue, encoding, subscribers
from sms.store import Demand, Message, utcnow
from sms.targets.lookup import Target
from tests.conftest import Phone
from tests.support.calls import GOLDMAN, NADLER, tune

pytestmark = pytest.mark.usefixtures("targets_db")


def call_sessions(svc) -> list[CallSession]:  # noqa: ANN001
    with svc.db.session() as session:
        return list(session.scalars(select(CallSession).order_by(CallSession.id)))


def test_call_asks_for_the_zip_once_then_calls_back_with_the_script(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    phone.text("CHOKEHOLD")
    assert phone.text("CALL") == ["What's your ZIP code? Reply with 5 digits so we can connect you to your own "
                                  "lawmakers."]
    assert "spans 2 districts" in phone.text("02108")[0]  # MA-7 and MA-8: asks which; pick 1
    replies = phone.text("1")
    assert replies[0] == "Calling you now to connect you with Rep. Ayanna Pressley, Sen. Edward J. Markey, " \
                         "Sen. Elizabeth Warren."
    assert replies[1].startswith("Your script in short (the call reads it in full): Hi, my name is ____ and I'm a "
                                 "constituent from 02108. I'm calling to urge Representative Ayanna Pressley")
    with svc.db.session() as session:
        sub = subscribers.find(session, phone.number)
        assert (sub.zip, sub.state, sub.district, sub.timezone) == ("02108", "MA", 7, "America/New_York")
    assert svc.queue("high").count == 1
    run_jobs()
    assert len(transport.calls) == 1
    placed = transport.calls[0]
    call = call_sessions(svc)[0]
    assert placed["to"] == phone.number
    assert placed["url"] == f"https://actionline.test/voice/answer?s={call.token}"
    assert placed["status_callback"] == "https://actionline.test/voice/status"
    assert (call.status, call.call_sid) == ("placed", placed["sid"])
    # the ZIP is remembered: the next CALL (another day) asks nothing
    with svc.db.session() as session:
        session.execute(update(CallSession).values(status="completed"))
        session.commit()
    assert phone.text("CALL")[0].startswith("Calling you now")


def test_invalid_and_unknown_zips_get_a_clear_reply(phone) -> None:  # noqa: ANN001
    phone.text("CALL CHOKEHOLD")
    assert phone.text("123") == ["That doesn't look like a US ZIP code. Reply with 5 digits, e.g. 02139."]
    assert phone.text("20500")[0].startswith("We couldn't find ZIP 20500")
    assert phone.text("ZIP 0213")[0].startswith("That doesn't look like a US ZIP code")
    assert phone.text("my zip is 99501")[0].startswith("Calling you now to connect you with Rep.")


def test_zip_command_updates_the_zip_any_time(phone, svc) -> None:  # noqa: ANN001
    assert phone.text("ZIP 10001")[0].startswith("Thanks, we saved ZIP 10001 (NY-10 or NY-12) to connect your calls "
                                                 "to your own lawmakers. Text DISTRICT")
    assert phone.text("ZIP 02139") == ["Thanks, we saved ZIP 02139 (MA-5 or MA-7) to connect your calls to your own "
                                       "lawmakers. Text DISTRICT with yours to choose. Reply MENU to see the demands, "
                                       "then CALL to be connected."]
    phone.text("CHOKEHOLD")
    assert phone.text("zip 99501")[0] == ("Thanks, we saved ZIP 99501 (AK-AL) to connect your calls to your own "
                                          "lawmakers. Reply CALL to be connected.")
    with svc.db.session() as session:
        sub = subscribers.find(session, phone.number)
        assert (sub.zip, sub.state, sub.district, sub.timezone) == ("99501", "AK", 0, "America/Anchorage")


@pytest.mark.parametrize(("answer", "expected"), [
    ("2", ["Rep. Jerrold Nadler"]),
    ("ALL", ["Rep. Daniel S. Goldman", "Rep. Jerrold Nadler"]),
])
def test_split_zip_asks_which_member(phone, svc, answer, expected) -> None:  # noqa: ANN001
    phone.text("ZIP 10001")
    question = phone.text("CALL CHOKEHOLD")[0]
    assert question == ("ZIP 10001 spans 2 districts. Who is your Rep? Reply 1 Rep. Daniel S. Goldman (NY-10), "
                        "2 Rep. Jerrold Nadler (NY-12), or ALL to call every one.")
    phone.text(answer)
    labels = [Target.of(t).label for t in call_sessions(svc)[0].targets]
    assert labels[:-2] == expected
    assert [t["kind"] for t in call_sessions(svc)[0].targets][-2:] == ["senate", "senate"]


def test_organizer_can_call_every_candidate_of_a_split_zip(config, svc, phone) -> None:  # noqa: ANN001
    tune(svc, call_split_districts="all")
    phone.text("ZIP 10001")
    assert phone.text("CALL CHOKEHOLD")[0].startswith(
        "Calling you now to connect you with Rep. Daniel S. Goldman, Rep. Jerrold Nadler, Sen.")
    assert [t["phone"] for t in call_sessions(svc)[0].targets][:2] == [GOLDMAN, NADLER]


def test_district_overrides_the_zip(phone, svc) -> None:  # noqa: ANN001
    phone.text("ZIP 02139")
    assert phone.text("DISTRICT MA-7") == ["Got it: you're in MA-7 (Rep. Ayanna Pressley). Reply CALL to be "
                                           "connected."]
    assert phone.text("CALL FORCE")[0] == "Calling you now to connect you with Rep. Ayanna Pressley."
    assert phone.text("DISTRICT ZZ-99")[0].startswith("We don't know that district. Reply DISTRICT with")


@pytest.mark.parametrize(("zip_code", "expected"), [
    ("99501", "Rep. Nicholas J. Begich III, Sen. "),  # at-large: district 0
    ("20001", "Del. Eleanor Holmes Norton."),  # DC: a delegate, no senators
    ("00601", "Res. Comm. Pablo Jos"),  # PR
    ("96910", "Del. James C. Moylan."),  # Guam has no ZCTA: by ZIP prefix
])
def test_at_large_seats_and_territories(phone, zip_code, expected) -> None:  # noqa: ANN001
    phone.text(f"ZIP {zip_code}")
    assert phone.text("CALL CHOKEHOLD")[0].startswith("Calling you now to connect you with " + expected)


def test_vacant_seat_and_member_without_phone_are_left_out(phone, svc) -> None:  # noqa: ANN001
    phone.text("ZIP 94541")  # CA-14, vacant in the snapshot
    reply = phone.text("CALL CHOKEHOLD")[0]
    assert reply.startswith("Calling you now to connect you with Sen. ") and "(CA-14 is vacant.)" in reply
    assert "Rep." not in reply
    with svc.db.session() as session:
        session.execute(update(CallSession).values(status="completed"))
        session.commit()
    assert phone.text("CALL FORCE")[0].startswith("Sorry, there's no office for you to call about FORCE right "
                                                  "now (CA-14 is vacant)")
    other = Phone(phone.client, "+16175550199")
    other.text("ZIP 95568")  # CA-1: Gallagher has no phone yet
    assert "Rep." not in other.text("CALL CHOKEHOLD")[0]


def test_target_order_puts_senators_first(phone, svc) -> None:  # noqa: ANN001
    with svc.db.session() as session:
        session.get(Demand, "CHOKEHOLD").target_order = ["senate", "house"]
        catalogue.bump_version(session)
        session.commit()
    phone.text("ZIP 40202")
    assert [t["kind"] for t in (phone.text("CALL CHOKEHOLD") and call_sessions(svc)[0].targets)] == \
        ["senate", "senate", "house"]


def test_call_without_a_demand_asks_which(phone, svc) -> None:  # noqa: ANN001
    assert phone.text("CALL")[0].startswith("Which issue do you want to call about?")
    assert phone.text("INSURRECTION")[0].startswith("What's your ZIP code?")
    assert phone.text("05001")[0].startswith("Calling you now to connect you with Sen. ")
    assert [t["kind"] for t in call_sessions(svc)[0].targets] == ["senate", "senate"]
    assert phone.text("CALL NOSUCHTHING")[0].startswith("We don't have an issue called NOSUCHTHING.")


def test_call_reply_fits_two_segments_even_with_many_offices(phone, svc) -> None:  # noqa: ANN001
    tune(svc, call_split_districts="all")
    phone.text("ZIP 90210")
    reply = phone.text("CALL CHOKEHOLD")[0]
    assert reply.startswith("Calling you now to connect you with Rep. ")
    assert encoding.count(reply).segments <= 2
    assert len(call_sessions(svc)[0].targets) == 5


def test_a_second_call_while_one_is_active_is_refused(phone, svc) -> None:  # noqa: ANN001
    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    assert phone.text("CALL CHOKEHOLD") == ["We're already calling you - please pick up! Reply CALL again later."]
    assert len(call_sessions(svc)) == 1


def test_daily_limit_per_caller(phone, svc) -> None:  # noqa: ANN001
    tune(svc, call_limit_per_day=2)
    phone.text("ZIP 99501")
    for _ in range(2):
        assert phone.text("CALL CHOKEHOLD")[0].startswith("Calling you now")
        with svc.db.session() as session:
            session.execute(update(CallSession).values(status="completed"))
            session.commit()
    assert phone.text("CALL CHOKEHOLD") == [LimitReached.reply]
    with svc.db.session() as session:  # a day later the caller may call again
        session.execute(update(CallSession).values(created_at=utcnow() - timedelta(days=1, minutes=1)))
        session.commit()
    assert phone.text("CALL CHOKEHOLD")[0].startswith("Calling you now")


def test_per_target_cap_skips_an_office_that_had_enough_calls(phone, svc) -> None:  # noqa: ANN001
    tune(svc, call_target_cap_per_day=1)
    with svc.db.session() as session:
        other = CallSession(phone="+16175550100", targets=[], status="completed")
        session.add(other)
        session.flush()
        session.add(CallLeg(session_id=other.id, position=0, kind="house", ref="N000002", label="Rep. Jerrold Nadler",
                            number=NADLER, outcome="connected"))
        session.commit()
    phone.text("ZIP 10001")
    phone.text("CALL CHOKEHOLD")
    reply = phone.text("2")[0]
    assert "Rep. Jerrold Nadler has had all the calls we can send today" in reply
    assert NADLER not in [t["phone"] for t in call_sessions(svc)[-1].targets]


def test_blocked_numbers_get_no_call(phone, svc, runner, run_jobs, transport) -> None:  # noqa: ANN001
    assert runner.invoke(args=["call-block", phone.number, "--reason", "abuse"]).output == "Blocked.\n"
    phone.text("ZIP 99501")
    assert phone.text("CALL CHOKEHOLD") == ["Sorry, calls are not available for this number."]
    assert call_sessions(svc) == []
    assert runner.invoke(args=["call-unblock", phone.number]).output == "Unblocked.\n"
    assert phone.text("CALL CHOKEHOLD")[0].startswith("Calling you now")


@pytest.mark.parametrize("number", ["+18769271234", "+442071838750"])  # Jamaica shares +1; the UK
def test_only_allowed_countries_are_called_back(client, svc, number) -> None:  # noqa: ANN001
    abroad = Phone(client, number)
    abroad.text("ZIP 99501")
    assert abroad.text("CALL CHOKEHOLD")[-1] == "Sorry, we can only call phone numbers in the US."
    assert call_sessions(svc) == []


def test_opted_out_numbers_are_never_called(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    phone.text("ZIP 99501")
    phone.text("STOP")
    (hint,) = phone.text("CALL CHOKEHOLD")  # how to come back, and no call
    assert "Reply START" in hint
    assert call_sessions(svc) == []
    phone.text("START")
    phone.text("CALL CHOKEHOLD")
    phone.text("STOP")  # after the CALL, before the worker places it
    run_jobs()
    assert transport.calls == []
    assert call_sessions(svc)[0].status == "canceled"


def test_a_failed_call_back_is_explained_by_text(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    transport.fail_with.append(TransportError("bad number", code=21211, status=400))
    run_jobs()
    assert call_sessions(svc)[0].status == "failed"
    assert transport.bodies_to(phone.number) == ["Sorry, we couldn't place your call just now. Reply CALL to try "
                                                 "again."]


def test_place_job_runs_once(phone, svc, transport) -> None:  # noqa: ANN001
    from sms.calls import sessions

    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    call_id = call_sessions(svc)[0].id
    assert sessions.place(svc, call_id) == "placed"
    assert sessions.place(svc, call_id) == "already placed"
    assert len(transport.calls) == 1
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.kind == "call")) == 0


@pytest.mark.parametrize(("env", "message"), [
    ({"CALL_SPLIT_DISTRICTS": "some"}, "CALL_SPLIT_DISTRICTS must be ask, address or all"),
    ({"CALL_ALLOWED_COUNTRIES": "USA"}, "CALL_ALLOWED_COUNTRIES must be ISO country codes"),
    ({"CALL_LIMIT_PER_DAY": "five"}, "CALL_LIMIT_PER_DAY must be a whole number"),
])
def test_call_settings_are_checked_at_start_up(env, message) -> None:  # noqa: ANN001
    from sms.settings import ConfigError, Settings

    with pytest.raises(ConfigError, match=message):
        Settings.from_mapping({"DATABASE_URL": "sqlite://", **env})
    settings = Settings.from_mapping({"DATABASE_URL": "sqlite://", "CALL_ALLOWED_COUNTRIES": "us, ca"})
    assert settings.call_allowed_countries == ("US", "CA") and settings.call_limit_per_day == 5


def test_sweeper_replaces_call_backs_that_redis_lost(phone, svc, redis, run_jobs, transport) -> None:  # noqa: ANN001
    from sms.calls import sessions

    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    redis.flushdb()  # the place job is gone
    assert sessions.sweep(svc)["requeued"] == 0  # too young: the job may still be on its way
    later = utcnow() + timedelta(seconds=30)
    assert sessions.sweep(svc, now=later) == {"requeued": 1, "expired": 0, "settled": 0, "replaced": 0, "unknown": 0,
                                           "lost": 0}
    run_jobs()
    assert len(transport.calls) == 1
    with svc.db.session() as session:  # a call-back still queued after 2 minutes is not placed late
        session.add(CallSession(phone="+16175550111", targets=[], status="queued",
                                created_at=utcnow() - timedelta(minutes=3)))
        session.add(CallSession(phone="+16175550112", targets=[], status="placing",
                                created_at=utcnow() - timedelta(minutes=3)))
        session.commit()
    assert sessions.sweep(svc) == {"requeued": 0, "expired": 1, "settled": 0, "replaced": 0, "unknown": 0, "lost": 1}
    assert [c.status for c in call_sessions(svc)] == ["placed", "expired", "failed"]


def test_delete_erases_the_zip_from_call_sessions(phone, svc) -> None:  # noqa: ANN001
    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    assert call_sessions(svc)[0].zip == "99501"
    phone.text("DELETE")
    phone.text("YES")
    assert (call_sessions(svc)[0].zip, call_sessions(svc)[0].seats) == (None, [])


def test_call_keyword_counts_as_interest_and_split_question_fits(phone, svc) -> None:  # noqa: ANN001
    from sms.store import Interest

    phone.text("ZIP 90210")
    question = phone.text("CALL CHOKEHOLD")[0]
    assert question.startswith("ZIP 90210 spans 3 districts. Who is your Rep? Reply 1 ")
    assert encoding.count(question).segments <= 2
    with svc.db.session() as session:
        assert session.scalars(select(Interest.keyword)).all() == ["CHOKEHOLD"]
