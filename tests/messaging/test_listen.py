"""Listening like a person (issue 13): natural phrasing, numbered choices, and replies that fit.

Through the signed webhook on both databases, as a new texter would try it, plus the
pure pieces: ``Catalogue.mentioned``, ``sms.messaging.budget`` and the settings.
"""

from __future__ import annotations

import copy

import pytest

from sms.errors import ConfigError
from sms.messaging import budget, catalogue, encoding
from sms.messaging.catalogue import CatalogueError
from sms.settings import Settings
from sms.store import Subscriber

DATA = catalogue.load_yaml()
SNAPSHOT = catalogue.from_data(DATA)
REPLY = {str(d["keyword"]): d["reply"] for d in DATA["demands"]}
UNKNOWN = DATA["messages"]["unknown"]


def fits(replies: list[str], segments: int = 2) -> bool:
    return all(encoding.count(r).encoding == "GSM-7" and encoding.count(r).segments <= segments for r in replies)


@pytest.fixture
def known(phone):
    phone.text("HI")
    return phone


@pytest.mark.parametrize(("body", "demand"), [
    ("chokehold ban", "CHOKEHOLD"),
    ("end qualified immunity", "IMMUNITY"),
    ("1033 program", "1033"),
    ("tell me about qualified immunity", "IMMUNITY"),
    ("What is HR 1154?", "UNIONS"),
    ("what's H.R. 1154", "UNIONS"),
    ("Hi! What is the PEACE Act?", "FORCE"),
    ("tell me about Breonna's Law", "NOKNOCK"),
    ("END NO KNOCK WARRANTS", "NOKNOCK"),
    ("stop the 1033 program", "1033"),
    ("Insurrection Act?", "INSURRECTION"),
    ("what's the M4BL platform", "DECRIMINALIZE"),
    ("Black Alliance for Just Immigration report", "DECRIMINALIZE"),
    ("info on consent decrees please", "DECREES"),
])
def test_a_new_texter_naming_a_demand_in_words_gets_it(phone, svc, body, demand) -> None:  # noqa: ANN001
    replies = phone.text(body)
    assert replies[0].startswith(REPLY[demand])
    assert any("Msg & data rates may apply" in r for r in replies)
    assert fits(replies)
    with svc.db.session() as session:
        sub = session.query(Subscriber).one()
        assert not sub.opted_out and sub.last_demand == demand  # the cause, never an opt-out


def test_a_text_naming_several_demands_gets_a_numbered_choice(known) -> None:  # noqa: ANN001
    assert known.text("what about the NDAA amendment?") == [
        "Which one do you mean?\n1 1033 - End the 1033 military equipment program\n"
        "2 INSURRECTION - No military against protests\nReply a number, or MENU for all demands."]
    assert known.text("4") == ["Reply 1-2 to choose from the last list, or MENU for the demands."]
    assert known.text("2") == [REPLY["INSURRECTION"]]
    assert known.text("1") == [REPLY["1033"]]  # the choice stays the last list shown


def test_a_choice_lists_demands_in_the_order_named(known) -> None:  # noqa: ANN001
    (choice,) = known.text("HR 1154 and qualified immunity")
    assert choice.splitlines()[1:3] == ["1 UNIONS - Break the power of police unions",
                                        "2 IMMUNITY - End qualified immunity for police"]


@pytest.mark.parametrize("body", ["what time is the rally", "see you at the march", "at 10:33 pm", "123"])
def test_a_text_naming_nothing_gets_the_unknown_reply(known, body) -> None:  # noqa: ANN001
    assert known.text(body) == [UNKNOWN]


def test_greetings_before_a_question_are_not_the_menu(known) -> None:  # noqa: ANN001
    assert known.text("hey, what's the PEACE Act") == [REPLY["FORCE"]]
    assert known.text("hey there")[0].startswith("Action Line: take action")  # a greeting alone is


@pytest.mark.parametrize("body", ["MENU", "CAMPAIGNS", "1", "2", "3", "4", "what about the NDAA amendment?", "YES",
                                  "HELP", "PRIVACY", "DELETE", "CALL", "LESS", "LATER", "123", "x" * 1600])
def test_every_composed_reply_fits_two_gsm7_segments(known, body) -> None:  # noqa: ANN001
    if body in ("1", "2", "3", "4"):
        known.text("MENU")
    assert fits(known.text(body))


def test_the_campaigns_list_fits_and_still_numbers_every_campaign(known) -> None:  # noqa: ANN001
    (listing,) = known.text("CAMPAIGNS")
    lines = listing.splitlines()
    assert lines[0] == DATA["messages"]["campaigns_header"]
    assert [line.split(" ")[:2] for line in lines[1:]] == [[str(i), c["keyword"]] for i, c in
                                                          enumerate(DATA["campaigns"], 1)]
    assert encoding.count(listing).segments == 2
    assert known.text("3") == [DATA["campaigns"][2]["reply"]]


def test_with_a_larger_budget_the_campaigns_list_is_whole(config, svc, known) -> None:  # noqa: ANN001
    from tests.support.calls import tune

    tune(svc, max_reply_segments=3)
    (listing,) = known.text("CAMPAIGNS")
    assert "3 FORCEPROJECT - Police Use of Force Project (Campaign Zero)" in listing


# -- the pieces ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("no knock warrants", ["NOKNOCK"]),
    ("the NDAA", ["1033", "INSURRECTION"]),
    ("M4BL", ["M4BL"]),
    ("M4BL platform", ["DECRIMINALIZE"]),  # a name inside a longer one is the longer one
    ("call me at 10:33", []),  # two numbers are never joined
    ("Campaign Zero", ["CAMPAIGNZERO"]),
    ("", []),
])
def test_mentioned_finds_whole_words_and_phrases(text, expected) -> None:
    assert [item.keyword for item in SNAPSHOT.mentioned(text)] == expected


def test_mentions_make_stop_words_about_the_cause() -> None:
    from sms.messaging import intent

    intent.rules()
    assert not intent.classify("end HR 1154 now", SNAPSHOT.causes).opt_out
    assert intent.classify("END NO KNOCK WARRANTS", SNAPSHOT.causes).rule.startswith("cause:")


def demand(data: dict, keyword: str) -> dict:
    return next(d for d in data["demands"] if str(d["keyword"]) == keyword)


@pytest.mark.parametrize(("mentions", "message"), [
    (["STOP"], "reserved word"),
    (["choke hold s"], "already a keyword or alias of demands CHOKEHOLD"),
    (["x" * 61], "at most 60 characters"),
    (["?!"], "letters or digits"),
    ("HR 1154", "must be a list"),
])
def test_bad_mentions_are_refused_at_load(mentions, message) -> None:
    data = copy.deepcopy(DATA)
    demand(data, "UNIONS")["mentions"] = mentions
    with pytest.raises(CatalogueError, match=message):
        catalogue.validate(data)


def test_a_mention_may_name_several_demands() -> None:
    assert "NDAA" in demand(DATA, "1033")["mentions"] and "NDAA" in demand(DATA, "INSURRECTION")["mentions"]


def test_a_script_whose_ask_cannot_be_texted_is_refused() -> None:
    data = copy.deepcopy(DATA)
    demand(data, "FORCE")["script"] = "I urge {target} to " + "support it " * 40 + "now."
    with pytest.raises(CatalogueError, match="FORCE script: its first sentence naming"):
        catalogue.validate(data)


def test_the_follow_up_is_checked_with_every_title() -> None:
    data = copy.deepcopy(DATA)
    demand(data, "FORCE")["title"] = "x" * 150
    with pytest.raises(CatalogueError, match=r"messages.followup \(for FORCE\)"):
        catalogue.validate(data)


def test_stored_texts_are_counted_as_sent_accents_and_all() -> None:
    data = copy.deepcopy(DATA)
    demand(data, "FORCE")["reply"] = "Información: " + "á" * 130 + ". Reply CALL."  # UCS-2 as sent: 3 segments
    with pytest.raises(CatalogueError, match="needs 3 SMS segments .* UCS-2"):
        catalogue.validate(data)


def test_target_source_is_seed_or_organizer() -> None:
    data = copy.deepcopy(DATA)
    demand(data, "FORCE")["target_source"] = "congress"
    with pytest.raises(CatalogueError, match="target_source must be seed or organizer"):
        catalogue.validate(data)


def test_numbered_cuts_labels_then_drops_them_then_rows() -> None:
    rows = [(f"KEY{i}", "a long label of several words " * 3) for i in range(1, 7)]
    text = budget.numbered("Header:", rows, "Footer.", 2)
    assert encoding.count(text).segments <= 2 and "1 KEY1 - a long" in text and text.endswith("Footer.")
    assert budget.numbered("H", rows * 2, "F", 1).splitlines()[1:3] == ["1 KEY1", "2 KEY2"]
    many = [(f"KEYWORD{i:03}", "") for i in range(60)]
    assert budget.numbered("H", many, "F", 2).splitlines()[-2] == "..."


def test_script_forms_go_from_full_to_the_ask() -> None:
    forms = budget.script_forms("Hi, I'm from {zip}. I urge {target} to act, now. It matters. Thank you.")
    assert forms == ["Hi, I'm from {zip}. I urge {target} to act, now. It matters. Thank you.",
                     "Hi, I'm from {zip}. I urge {target} to act, now. Thank you.",
                     "I urge {target} to act, now. Thank you.", "I urge {target} to act. Thank you.",
                     "I urge {target} to act."]


def test_names_lose_only_the_accents_gsm7_lacks() -> None:
    assert encoding.gsm_letters("Pablo José Hernández") == "Pablo José Hernandez"
    assert encoding.gsm_letters("Hernández ✊🏿") == "Hernández ✊🏿"  # UCS-2 anyway: left alone


@pytest.mark.parametrize(("env", "message"), [
    ({"MAX_REPLY_SEGMENTS": "1"}, "MAX_REPLY_SEGMENTS must be from 2 to 10"),
    ({"MAX_REPLY_SEGMENTS": "11"}, "MAX_REPLY_SEGMENTS must be from 2 to 10"),
    ({"MAX_REPLY_SEGMENTS": "two"}, "MAX_REPLY_SEGMENTS must be a whole number"),
    ({"ORG_NAME": "x" * 41}, "ORG_NAME must be at most 40"),
])
def test_reply_settings_are_checked_at_start_up(env, message) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_mapping({"DATABASE_URL": "sqlite://", **env})


def test_reply_budget_defaults_to_two_segments() -> None:
    assert Settings.from_mapping({"DATABASE_URL": "sqlite://"}).max_reply_segments == 2
    assert Settings.from_mapping({"DATABASE_URL": "sqlite://", "MAX_REPLY_SEGMENTS": "4"}).max_reply_segments == 4
