"""Opt-outs, unclear texts, HELP and the way back in — through signed webhooks, on both databases."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from sms.console import simulator
from sms.messaging import catalogue, compliance, encoding
from sms.store import ConsentEvent, OptOutReview, Subscriber
from tests.conftest import SERVICE_NUMBER, Phone, signed_post

TEXTS = catalogue.load_yaml()["messages"]
ORG = "Action Line Test"
STOP_CONFIRM = TEXTS["stop_confirm"].replace("{org}", ORG)
REJOIN = compliance.REJOIN_HINT.format(org=ORG)
DEMANDS = {str(d["keyword"]): d["reply"] for d in catalogue.load_yaml()["demands"]}


def status(svc, number: str) -> str | None:
    with svc.db.session() as session:
        return session.scalar(select(Subscriber.status).where(Subscriber.phone == number))


def history(svc, number: str) -> list[tuple[str, str, str | None]]:
    with svc.db.session() as session:
        rows = session.execute(select(ConsentEvent.action, ConsentEvent.source, ConsentEvent.detail)
                               .join(Subscriber, Subscriber.id == ConsentEvent.subscriber_id)
                               .where(Subscriber.phone == number).order_by(ConsentEvent.id))
        return [tuple(row) for row in rows]


def reviews(svc) -> list[OptOutReview]:
    with svc.db.session() as session:
        return list(session.scalars(select(OptOutReview).order_by(OptOutReview.id)))


@pytest.fixture
def known(phone: Phone) -> Phone:
    phone.text("HI")
    return phone


FIRST = ("opt_in", "sms-first-text", "HI")


@pytest.mark.parametrize(("text", "rule"), [
    ("stop texting me", "phrase:{stop} {send} {me}"),
    ("unsubscribe me please", "word:unsubscribe"),
    ("remove me", "keyword:remove me"),
    ("no more texts", "phrase:no more {texts}"),
    ("take me off your list", "phrase:take|get|cross|put {me} off|out"),
    ("please remove me from this list", "phrase:{remove} {me}"),
    ("don't text me again", "phrase:{dont} {send} {me}"),
    ("wrong number", "phrase:wrong number|person|phone|num"),
    ("no más mensajes", "phrase:no mas {es_texts}"),
    ("ya no me manden", "phrase:no [me|nos] {es_send}"),
    ("BAJA", "keyword:baja"),
    ("PARAR", "keyword:parar"),
    ("ALTO", "keyword:alto"),
    ("CANCELAR", "keyword:cancelar"),
    ("STOPPP!!", "keyword:stop"),
    ("s t o p", "keyword:stop"),
    ("I have told you three times already STOP", "last-word:stop"),
])
def test_an_opt_out_is_confirmed_once_and_recorded_with_its_rule(known, svc, text, rule):
    assert known.text(text) == [STOP_CONFIRM]
    assert status(svc, known.number) == "opted_out"
    assert history(svc, known.number) == [FIRST, ("opt_out", "sms", rule)]
    assert known.text(text) == []


@pytest.mark.parametrize(("text", "reply"), [
    ("please stop police violence", TEXTS["unknown"]),
    ("end qualified immunity", DEMANDS["IMMUNITY"]),
    ("stop the 1033 program", DEMANDS["1033"]),
    ("END NO KNOCK WARRANTS", DEMANDS["NOKNOCK"]),
    ("cancel call", "You have no call-back booked."),
    ("CANCELCALL", "You have no call-back booked."),
])
def test_a_stop_word_about_the_cause_is_answered_and_changes_no_consent(known, svc, text, reply):
    assert known.text(text) == [reply]
    assert status(svc, known.number) == "active"
    assert history(svc, known.number) == [FIRST]
    assert reviews(svc) == []


@pytest.mark.parametrize("text", ["PARAR", "no más mensajes", "STOP", "wrong number"])
def test_a_first_text_that_says_stop_never_signs_the_number_up(phone, svc, text):
    assert phone.text(text) == [STOP_CONFIRM]  # no disclosure, no menu
    assert status(svc, phone.number) == "opted_out"
    assert [event[:2] for event in history(svc, phone.number)] == [("opt_out", "sms")]


def test_an_unclear_text_is_answered_told_how_to_stop_once_a_day_and_flagged(known, svc):
    (first,) = known.text("who is this?")
    assert first == f"{TEXTS['unknown']}\n{compliance.STOP_HINT}"
    (second,) = known.text("why do you keep texting me")
    assert second == TEXTS["unknown"]  # told once today already
    assert status(svc, known.number) == "active"
    assert history(svc, known.number) == [FIRST]
    assert [(r.rule, r.hinted, r.resolved_at) for r in reviews(svc)] == [
        ("unclear:who is|are|r this|dis|{you}", True, None), ("unclear:why ... {send} me", False, None)]


def test_an_unclear_first_text_gets_the_disclosure_which_says_how_to_stop(phone, svc):
    menu, disclosure = phone.text("who is this?")
    assert "STOP to opt out" in disclosure and compliance.STOP_HINT not in menu + disclosure
    assert [r.hinted for r in reviews(svc)] == [True]


def test_an_opt_out_closes_the_numbers_open_reviews(known, svc):
    known.text("who is this?")
    known.text("stop texting me")
    (review,) = reviews(svc)
    assert (review.resolution, review.resolved_by) == ("opted_out", "opt-out")


@pytest.mark.parametrize("word", ["JOIN", "MENU", "CHOKEHOLD", "CALL", "subscribe"])
def test_a_keyword_from_an_opted_out_number_says_how_to_come_back_once_a_day(known, svc, word):
    known.text("STOP")
    assert known.text(word) == [REJOIN]
    assert known.text(word) == []
    assert known.text("MENU") == []
    assert status(svc, known.number) == "opted_out"
    assert [event[0] for event in history(svc, known.number)] == ["opt_in", "opt_out"]


def test_an_opted_out_number_hears_nothing_but_help_and_start(known, svc):
    known.text("STOP")
    assert known.text("who is this?") == []
    assert known.text("thanks") == []
    assert "Msg & data rates may apply" in known.text("HELP")[0]
    assert known.text("START") == [TEXTS["start_confirm"].replace("{org}", ORG)]
    assert status(svc, known.number) == "active"
    assert history(svc, known.number)[-1] == ("opt_in", "sms", "START")


def test_delete_says_what_it_erases_and_keeps_and_works_while_opted_out(known, svc):
    known.text("STOP")
    (prompt,) = known.text("DELETE")
    assert "erase" in prompt and "ZIP" in prompt and "keep only your number" in prompt
    (done,) = known.text("YES")  # the erasure, not an opt-in
    assert done == TEXTS["deleted"].replace("{org}", ORG) and "START" in done
    assert status(svc, known.number) == "opted_out"
    assert known.text("JOIN") == [REJOIN]
    assert status(svc, known.number) == "opted_out"


def twilio_keyword(client, number: str, body: str, opt_out_type: str) -> list[str]:
    """The webhook Twilio sends when its Advanced Opt-Out has answered ``body`` itself."""
    params = {**simulator.sms_params(number, body, SERVICE_NUMBER), "OptOutType": opt_out_type}
    response = signed_post(client, "/sms", params)
    assert response.status_code == 200
    return [m.text or "" for m in ET.fromstring(response.get_data(as_text=True)).findall("./Message")]


def test_twilio_advanced_opt_out_is_recorded_with_its_source_and_not_answered_twice(client, known, svc):
    assert twilio_keyword(client, known.number, "PARAR", "STOP") == []
    assert status(svc, known.number) == "opted_out"
    assert history(svc, known.number)[-1] == ("opt_out", compliance.TWILIO_OPT_OUT, "OptOutType=STOP PARAR")
    assert twilio_keyword(client, known.number, "HELP", "HELP") == []
    assert twilio_keyword(client, known.number, "START", "START") == []
    assert status(svc, known.number) == "active"
    assert history(svc, known.number)[-1] == ("opt_in", compliance.TWILIO_OPT_OUT, "OptOutType=START START")


def test_a_new_number_opted_out_by_twilio_was_never_signed_up(client, svc):
    assert twilio_keyword(client, "+16175550999", "STOP", "STOP") == []
    assert history(svc, "+16175550999") == [("opt_out", compliance.TWILIO_OPT_OUT, "OptOutType=STOP STOP")]


def test_an_unknown_opt_out_type_is_ignored(client, known, svc):
    assert twilio_keyword(client, known.number, "CHOKEHOLD", "MAYBE") == [DEMANDS["CHOKEHOLD"]]


class TestWithALowLimitAndAContact:
    @pytest.fixture
    def config(self, config):
        return {**config, "INBOUND_LIMIT_PER_HOUR": "3", "ORG_CONTACT": "help@actionline.example.org"}

    def test_an_opt_out_over_the_inbound_limit_is_still_honoured(self, phone, svc):
        for _ in range(3):
            phone.text("MENU")
        assert phone.text("MENU") == []  # over the limit: recorded, not answered
        assert phone.text("stop texting me") == [STOP_CONFIRM]
        assert status(svc, phone.number) == "opted_out"

    def test_help_names_the_program_frequency_rates_how_to_stop_and_the_contact(self, phone):
        phone.text("HI")
        (reply,) = phone.text("HELP")
        for part in ("Action Line", "4 msgs/week", "Msg & data rates may apply", "STOP", "help@actionline.example.org"):
            assert part in reply
        assert encoding.count(reply).encoding == "GSM-7" and encoding.count(reply).segments <= 2
