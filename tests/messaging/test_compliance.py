"""STOP/START/HELP, consent history, privacy and DELETE — through the signed webhook."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from sms.messaging import catalogue, compliance
from sms.store import ConsentEvent, Interest, Message, Subscriber

TEXTS = catalogue.load_yaml()["messages"]
ORG = "Action Line Test"
REJOIN = compliance.REJOIN_HINT.format(org=ORG)


def subscriber(svc, number="+16175550123") -> Subscriber:
    with svc.db.session() as session:
        return session.scalar(select(Subscriber).where(Subscriber.phone == number))


def history(svc) -> list[tuple[str, str, str | None]]:
    with svc.db.session() as session:
        return [(e.action, e.source, e.detail) for e in session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))]


@pytest.fixture
def known(phone):
    phone.text("HI")
    return phone


@pytest.mark.parametrize("word", ["STOP", "stop", "StopAll", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "Stop."])
def test_stop_words_opt_out_with_one_confirmation_then_silence(known, svc, word):
    assert known.text(word) == [TEXTS["stop_confirm"].replace("{org}", ORG)]
    assert subscriber(svc).status == "opted_out"
    assert known.text(word) == []  # one confirmation only
    assert known.text("CHOKEHOLD") == [REJOIN]  # how to come back, once a day; never an opt-in
    assert known.text("MENU") == []
    assert subscriber(svc).status == "opted_out"
    assert history(svc)[-1][:2] == ("opt_out", "sms")


def test_first_text_stop_opts_out_without_disclosure(phone, svc):
    assert phone.text("STOP") == [TEXTS["stop_confirm"].replace("{org}", ORG)]
    assert [h[0] for h in history(svc)] == ["opt_out"]  # a first text that says stop never signed up


@pytest.fixture
def no_confirmation(config):
    config["STOP_CONFIRMATION"] = "false"


def test_stop_confirmation_can_be_left_to_twilio_advanced_opt_out(no_confirmation, known, svc):
    assert known.text("STOP") == []
    assert subscriber(svc).status == "opted_out"


@pytest.mark.parametrize("word", ["START", "unstop", "YES"])
def test_start_words_opt_back_in(known, svc, word):
    known.text("STOP")
    assert known.text(word) == [TEXTS["start_confirm"].replace("{org}", ORG)]
    assert subscriber(svc).status == "active"
    assert [h[0] for h in history(svc)] == ["opt_in", "opt_out", "opt_in"]
    assert known.text("CHOKEHOLD")


def test_yes_without_a_question_does_not_claim_anything(known, svc):
    (reply,) = known.text("YES")
    assert "no question" in reply
    assert [h[0] for h in history(svc)] == ["opt_in"]


@pytest.mark.parametrize("word", ["HELP", "info", "Help!"])
def test_help_names_the_org_and_how_to_stop(known, word):
    (reply,) = known.text(word)
    assert ORG in reply and "STOP" in reply and "Msg & data rates may apply" in reply


def test_help_still_answers_an_opted_out_number(known):
    known.text("STOP")
    (reply,) = known.text("HELP")
    assert ORG in reply


def test_privacy_explains_what_is_kept_and_for_how_long(known):
    (reply,) = known.text("PRIVACY")
    assert "DELETE" in reply and "keep" in reply.lower() and "2 years" in reply


def test_delete_needs_yes_then_erases_but_keeps_the_opt_out(known, svc):
    known.text("CHOKEHOLD")
    (prompt,) = known.text("DELETE")
    assert "YES" in prompt
    (done,) = known.text("YES")
    assert done == TEXTS["deleted"].replace("{org}", ORG)
    sub = subscriber(svc)
    with svc.db.session() as session:
        bodies = session.scalars(select(Message.body).where(Message.subscriber_id == sub.id).order_by(Message.id)).all()
        interests = session.scalars(select(Interest)).all()
    assert sub.status == "opted_out" and sub.zip is None and sub.last_demand is None
    assert interests == []
    assert bodies[-1] == done  # only the confirmation of the erasure itself has a body
    assert bodies[:-1] == [None] * (len(bodies) - 1)
    assert history(svc)[-1] == ("opt_out", "sms-delete", "DELETE")
    assert known.text("CHOKEHOLD") == [REJOIN]


def test_delete_then_no_keeps_everything(known, svc):
    known.text("CHOKEHOLD")
    known.text("DELETE")
    (kept,) = known.text("no")
    assert "kept" in kept
    assert subscriber(svc).status == "active"
    assert known.text("CHOKEHOLD")


def test_delete_then_something_else_cancels_the_question(known, svc):
    known.text("DELETE")
    assert known.text("DEFUND")[0].startswith("Defund")
    assert "no question" in known.text("YES")[0]
    assert subscriber(svc).status == "active"


def test_may_message_reads_the_database_at_send_time(known, svc):
    with svc.db.session() as session:
        assert compliance.may_message(session, "+16175550123")
    known.text("STOP")
    with svc.db.session() as session:
        assert not compliance.may_message(session, "+16175550123")


@pytest.mark.parametrize(
    ("now_utc", "zone", "expected_utc"),
    [
        (datetime(2026, 11, 25, 15, 0, tzinfo=UTC), "America/New_York", datetime(2026, 11, 25, 15, 0, tzinfo=UTC)),
        # 03:00 in Los Angeles -> 09:00 Los Angeles the same day (17:00 UTC)
        (datetime(2026, 11, 25, 11, 0, tzinfo=UTC), "America/Los_Angeles", datetime(2026, 11, 25, 17, 0, tzinfo=UTC)),
        # 21:30 in New York -> 09:00 the next morning
        (datetime(2026, 11, 26, 2, 30, tzinfo=UTC), "America/New_York", datetime(2026, 11, 26, 14, 0, tzinfo=UTC)),
        # Honolulu (no DST), 07:00 local -> 09:00 local
        (datetime(2026, 7, 1, 17, 0, tzinfo=UTC), "Pacific/Honolulu", datetime(2026, 7, 1, 19, 0, tzinfo=UTC)),
        # Overnight across the DST change in New York (Nov 1 2026): 22:00 EDT -> 09:00 EST
        (datetime(2026, 11, 1, 2, 0, tzinfo=UTC), "America/New_York", datetime(2026, 11, 1, 14, 0, tzinfo=UTC)),
    ],
)
def test_next_allowed_time_respects_local_quiet_hours(now_utc, zone, expected_utc):
    assert compliance.next_allowed_time(now_utc, ZoneInfo(zone), (9, 20)) == expected_utc


def test_quiet_hours_off_sends_any_time():
    now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert compliance.next_allowed_time(now, ZoneInfo("America/New_York"), None) == now


@pytest.mark.parametrize(("phone", "masked"), [("+16175550123", "+1617***0123"), (None, "-"), ("12345", "***")])
def test_mask_hides_the_middle_of_numbers(phone, masked):
    assert compliance.mask(phone) == masked
