"""Calls the way people ask for them (issue 13): "call my senator", ZIPs in any form, scripts that fit.

Every reply is checked against the reply budget (MAX_REPLY_SEGMENTS, 2 by default) and
the GSM-7 alphabet, with the longest real names in the member list.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms.calls import commands
from sms.calls.models import CallSession
from sms.messaging import budget, catalogue, encoding, subscribers
from tests.conftest import Phone
from tests.support.calls import Caller, path_of, spoken

pytestmark = pytest.mark.usefixtures("targets_db")
DATA = catalogue.load_yaml()
DEMANDS = [str(d["keyword"]) for d in DATA["demands"]]
REPLY = {str(d["keyword"]): d["reply"] for d in DATA["demands"]}
ASK_DEMAND = commands.ASK_DEMAND


def fits(replies: list[str], segments: int = 2) -> bool:
    return all(encoding.count(r).encoding == "GSM-7" and encoding.count(r).segments <= segments for r in replies)


def saved(svc, phone: Phone) -> tuple[str | None, str | None, int | None]:  # noqa: ANN001
    with svc.db.session() as session:
        sub = subscribers.find(session, phone.number)
        return sub.zip, sub.state, sub.district


def sessions_of(svc) -> list[CallSession]:  # noqa: ANN001
    with svc.db.session() as session:
        return list(session.scalars(select(CallSession)))


@pytest.mark.parametrize("zip_text", ["78701", "my zip is 78701", "zip: 78701", "78701-1234", "My ZIP code is 78701."])
def test_a_new_texter_who_wants_to_call_gets_there_with_a_zip(phone, svc, zip_text) -> None:  # noqa: ANN001
    first = phone.text("I want to call my senator")
    assert first[0].startswith(ASK_DEMAND)  # the disclosure follows: this is a first text
    assert phone.text("CALL") == [ASK_DEMAND]
    reply = phone.text(zip_text)
    assert reply == [f"Thanks, we saved ZIP 78701 (TX-37). {ASK_DEMAND}"]  # kept, and the issue asked again
    assert saved(svc, phone) == ("78701", "TX", 37)
    replies = phone.text("chokehold ban")
    assert replies[0].startswith("Calling you now to connect you with Rep. Lloyd Doggett, Sen. ")
    assert replies[1].startswith("Your script")
    assert fits(first + reply + replies)
    assert [s.demand for s in sessions_of(svc)] == ["CHOKEHOLD"]


@pytest.mark.parametrize("body", ["02139", "my zip is 02139", "zip: 02139", "02139-1234", "Zip code 02139"])
def test_a_zip_as_the_first_text_is_kept_and_explained(phone, svc, body) -> None:  # noqa: ANN001
    replies = phone.text(body)
    assert replies[0].startswith("Thanks, we saved ZIP 02139 (MA-5 or MA-7) to connect your calls to your own "
                                 "lawmakers. Text DISTRICT with yours to choose. Reply MENU to see the demands, "
                                 "then CALL to be connected.")
    assert any("Msg & data rates may apply" in r for r in replies)  # still the opt-in disclosure
    assert fits(replies)
    with svc.db.session() as session:
        sub = subscribers.find(session, phone.number)
        assert (sub.zip, sub.state, sub.district, sub.timezone) == ("02139", "MA", None, "America/New_York")
    phone.text("DISTRICT MA-7")
    assert phone.text("CALL FORCE")[0] == "Calling you now to connect you with Rep. Ayanna Pressley."


def test_a_zip_is_never_a_menu_number(phone, svc) -> None:  # noqa: ANN001
    phone.text("MENU")
    assert phone.text("78701")[0].startswith("Thanks, we saved ZIP 78701 (TX-37)")
    assert phone.text("2")[0].startswith("Demilitarize the police:")  # the menu is still the last list


@pytest.mark.parametrize("body", ["call my senator", "Call my rep", "I'd like to call my representative",
                                  "call my congresswoman", "I want to call", "how do I call my congressman?",
                                  "Hi, I want to call my senators",
                                  "quiero llamar a mi senador", "Quiero llamar a mis senadores", "llamar al congreso",
                                  "¿Cómo llamo a mi representante?", "me gustaría llamar a mi congresista",
                                  "quisiera hacer una llamada"])
def test_asking_to_call_in_words_calls_about_the_last_demand(phone, svc, body) -> None:  # noqa: ANN001
    phone.text("ZIP 99501")
    phone.text("DEFUND")
    assert phone.text(body)[0].startswith("Calling you now to connect you with Rep. Nicholas J. Begich III, Sen.")
    assert [s.demand for s in sessions_of(svc)] == ["DEFUND"]


@pytest.mark.parametrize(("body", "demand"), [
    ("I want to call my senator about chokeholds", "CHOKEHOLD"),
    ("call my rep about the PEACE Act", "FORCE"),
    ("call my senators about qualified immunity", "IMMUNITY"),
    ("I'd like to call about HR 1154", "UNIONS"),
])
def test_asking_to_call_about_something_calls_about_it(phone, svc, body, demand) -> None:  # noqa: ANN001
    phone.text("ZIP 99501")
    assert phone.text(body)[0].startswith("Calling you now to connect you with ")
    assert [s.demand for s in sessions_of(svc)] == [demand]


@pytest.mark.parametrize("body", ["I don't want to call", "no quiero llamar", "dejen de llamar a mi senador por favor",
                                  "llamaré luego"])
def test_not_wanting_to_call_is_not_a_call(phone, svc, body) -> None:  # noqa: ANN001
    phone.text("ZIP 99501")
    phone.text("DEFUND")
    assert not phone.text(body)[0].startswith("Calling you now")
    assert sessions_of(svc) == []


def test_a_call_about_two_demands_asks_which_by_number(phone, svc) -> None:  # noqa: ANN001
    phone.text("ZIP 99501")
    question = phone.text("I want to call about the NDAA amendment")
    assert question == ["Which issue do you want to call about?\n1 1033 - End the 1033 military equipment program\n"
                        "2 INSURRECTION - No military against protests\nReply a number."]
    assert phone.text("3") == ["Reply 1-2 for the issue to call about, or MENU for all demands."]
    assert phone.text("2")[0].startswith("Calling you now to connect you with Sen. ")
    assert [s.demand for s in sessions_of(svc)] == ["INSURRECTION"]


def test_the_issue_can_be_named_in_words_when_call_asks(phone, svc) -> None:  # noqa: ANN001
    phone.text("ZIP 40202")  # Louisville: the NOKNOCK set takes its residents' calls
    assert phone.text("CALL") == [ASK_DEMAND]
    assert phone.text("the one about no-knock warrants")[0].startswith(
        "Calling you now to connect you with Louisville Metro Council")


def test_a_number_outside_the_district_question_says_which_numbers_it_has(phone, svc) -> None:  # noqa: ANN001
    phone.text("ZIP 10001")
    assert phone.text("CALL CHOKEHOLD")[0].startswith("ZIP 10001 spans 2 districts.")
    assert phone.text("5") == ["Reply 1-2 for your Rep, or ALL to call every one."]
    assert phone.text("1")[0].startswith("Calling you now to connect you with Rep. Daniel S. Goldman")


@pytest.mark.parametrize("zip_code", ["37402", "89501", "00601"])
@pytest.mark.parametrize("demand", DEMANDS)
def test_every_reply_after_call_fits_with_the_longest_names(phone, svc, demand, zip_code) -> None:  # noqa: ANN001
    """TN-3 has the longest House member's name, NV the longest senator's, PR a name GSM-7 cannot spell."""
    phone.text(f"ZIP {zip_code}")
    replies = phone.text(f"CALL {demand}")
    assert fits(replies), replies
    if not sessions_of(svc):  # no call yet: Louisville's council takes only its residents; PR is offered its delegate
        assert demand == "NOKNOCK" or (demand, zip_code) == ("INSURRECTION", "00601"), replies
        assert replies[0].startswith({"NOKNOCK": "The Louisville Metro Council takes calls from Louisville residents",
                                      "INSURRECTION": "Puerto Rico has no senators."}[demand]), replies
        return
    calling, script = replies
    assert calling.startswith("Calling you now to connect you with ")
    assert script.startswith(("Your script: ", "Your script in short (the call reads it in full): "))
    target = sessions_of(svc)[0].targets[0]
    assert budget.clean(target["name"]) in script  # the first office is named in its own script
    if zip_code == "00601" and target["kind"] == "house":
        assert "Hernandez" in calling  # "Hernández" would have made the whole text UCS-2


def test_a_script_too_long_to_text_is_shortened_and_read_in_full_on_the_call(phone, svc, run_jobs,  # noqa: ANN001
                                                                             transport) -> None:
    phone.text("ZIP 37402")
    calling, script = phone.text("CALL DATABASE")
    assert script == ("Your script in short (the call reads it in full): Hi, my name is ____ and I'm a constituent "
                      "from 37402. I'm calling to urge Representative Charles J. \"Chuck\" Fleischmann to establish "
                      "a national database of police killings, officer-involved shootings and misconduct. Thank you.")
    run_jobs()
    placed = transport.calls[-1]
    caller = Caller(phone.client, phone.number, placed["sid"])
    caller.post(path_of(placed["url"]))
    said = spoken(caller.post("/voice/connect", Digits="1"))
    assert "Officers with histories of misconduct should never be allowed to work in other departments." in said


def test_the_reply_budget_is_a_setting(config, svc, phone) -> None:  # noqa: ANN001
    from tests.support.calls import tune

    tune(svc, max_reply_segments=3)
    phone.text("ZIP 37402")
    _, script = phone.text("CALL DATABASE")
    assert script.startswith("Your script: Hi, my name is ____") and encoding.count(script).segments == 3


def test_unions_calls_the_house_member_only(phone, svc) -> None:  # noqa: ANN001
    phone.text("ZIP 99501")
    assert phone.text("What is HR 1154?")[0] == REPLY["UNIONS"]
    assert phone.text("CALL")[0] == "Calling you now to connect you with Rep. Nicholas J. Begich III."
    assert [t["kind"] for t in sessions_of(svc)[0].targets] == ["house"]


@pytest.mark.parametrize("body", ["BAJI", "the Black Alliance for Just Immigration report", "M4BL platform"])
def test_the_seed_reading_finds_decriminalize(phone, body) -> None:  # noqa: ANN001
    phone.text("HI")
    assert phone.text(body) == [REPLY["DECRIMINALIZE"]]

