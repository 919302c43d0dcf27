"""The SMS conversation through the signed webhook: menus, keywords, unknown text, state."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from sms.messaging import catalogue, encoding, inbound
from sms.store import Conversation, Interest, Message, Subscriber
from tests.conftest import Phone

DATA = catalogue.load_yaml()
REPLY_BY_KEYWORD = {str(d["keyword"]): d["reply"] for d in DATA["demands"]}
WORDS = [(str(d["keyword"]), word) for d in DATA["demands"] for word in [d["keyword"], *d.get("aliases", [])]]
WORDS += [(str(c["keyword"]), c["keyword"]) for c in DATA["campaigns"]]
CAMPAIGN_REPLY = {c["keyword"]: c["reply"] for c in DATA["campaigns"]}


def reply_for(keyword: str) -> str:
    return REPLY_BY_KEYWORD.get(keyword) or CAMPAIGN_REPLY[keyword]


@pytest.fixture
def known(phone):
    """A texter who has already texted once (past the first-text disclosure)."""
    phone.text("HI")
    return phone


def test_first_text_gets_menu_and_opt_in_disclosure(phone):
    replies = phone.text("hello")
    joined = "\n".join(replies)
    assert "1 Remove barriers to accountability" in joined
    assert "4 Reduce police interventions" in joined
    assert "Msg & data rates may apply" in joined and "STOP" in joined and "HELP" in joined
    assert "Action Line Test" in joined  # the configured org name
    assert all(encoding.count(r).segments <= 2 for r in replies)


def test_first_text_that_is_a_keyword_answers_it_and_discloses(phone):
    replies = phone.text("CHOKEHOLD")
    assert replies[0].startswith(REPLY_BY_KEYWORD["CHOKEHOLD"])
    assert any("Msg & data rates may apply" in r for r in replies)


def test_disclosure_only_once(known):
    assert not any("Msg & data rates" in r for r in known.text("MENU"))


@pytest.mark.parametrize(("keyword", "typed"), WORDS, ids=[f"{k}-{w}" for k, w in WORDS])
def test_every_keyword_and_alias_answers_its_item(known, keyword, typed):
    assert known.text(str(typed).lower()) == [reply_for(keyword)]


@pytest.mark.parametrize(
    "typed", ["Choke hold!", " chokehold ", "ＣＨＯＫＥＨＯＬＤ", "\u201cchokehold\u201d", "CHOKE\u200bHOLD"]
)
def test_keyword_matching_is_forgiving(known, typed):
    assert known.text(typed) == [REPLY_BY_KEYWORD["CHOKEHOLD"]]


@pytest.mark.parametrize("typed", ["NO KNOCK", "no-knock", "Breonna"])
def test_no_knock_aliases(known, typed):
    assert known.text(typed) == [REPLY_BY_KEYWORD["NOKNOCK"]]


@pytest.mark.parametrize("word", ["MENU", "menu", "Hi", "HELLO", "join"])
def test_menu_words_show_numbered_areas(known, word):
    (reply,) = known.text(word)
    lines = reply.splitlines()
    assert [line.split(" ", 1)[0] for line in lines[1:5]] == ["1", "2", "3", "4"]


def test_numbers_drill_down_from_areas_to_demands(known):
    known.text("MENU")
    (area,) = known.text("3")
    assert area.startswith("Reform tactics")
    assert "1 FORCE" in area and "2 CHOKEHOLD" in area and "3 NOKNOCK" in area
    assert known.text("2") == [REPLY_BY_KEYWORD["CHOKEHOLD"]]


def test_campaigns_menu_and_pick(known):
    (listing,) = known.text("CAMPAIGNS")
    assert "Movement for Black Lives" in listing
    first = DATA["campaigns"][0]["keyword"]
    assert known.text("1") == [CAMPAIGN_REPLY[first]]


@pytest.mark.parametrize(("menu", "number", "expected"), [("MENU", "9", "1-4"), ("MENU", "0", "1-4"),
                                                          ("CAMPAIGNS", "7", "1-6"), ("3", "12", "1-3")])
def test_number_outside_the_last_list_says_which_numbers_it_has(known, menu, number, expected):
    known.text("MENU")
    known.text(menu)
    assert known.text(number) == [f"Reply {expected} to choose from the last list, or MENU for the demands."]


def test_1033_is_a_keyword_not_a_menu_number(known):
    known.text("MENU")
    assert known.text("1033") == [REPLY_BY_KEYWORD["1033"]]


def test_menu_position_survives_a_redis_flush(known, redis):
    known.text("MENU")
    known.text("2")
    redis.flushdb()
    assert known.text("1") == [REPLY_BY_KEYWORD["1033"]]


@pytest.mark.parametrize("body", ["what time is the rally", "🙂", "x" * 1600, "ok thanks"])
def test_unknown_text_gets_a_hint_never_silence(known, body):
    assert known.text(body) == [DATA["messages"]["unknown"]]


def test_empty_body_and_media_only(known):
    assert "1 Remove barriers" in known.text("")[0]
    assert known.text("", media=1) == [DATA["messages"]["unknown"]]


def test_interest_is_recorded_per_keyword(known, svc):
    known.text("CHOKEHOLD")
    known.text("choke hold")
    known.text("DEFUND")
    with svc.db.session() as session:
        rows = {i.keyword: i.times for i in session.scalars(select(Interest))}
        subscriber = session.scalar(select(Subscriber))
    assert rows == {"CHOKEHOLD": 2, "DEFUND": 1}
    assert subscriber.last_demand == "DEFUND"


def test_inbound_and_replies_are_stored(known, svc):
    known.text("DEFUND", sid="SMdefund0001")
    with svc.db.session() as session:
        inbound = session.scalar(select(Message).where(Message.twilio_sid == "SMdefund0001"))
        replies = session.scalars(select(Message).where(Message.in_reply_to_id == inbound.id)).all()
    assert inbound.direction == "in" and inbound.body == "DEFUND" and inbound.phone == "+16175550123"
    assert [r.body for r in replies] == [REPLY_BY_KEYWORD["DEFUND"]]
    assert replies[0].segments == encoding.count(REPLY_BY_KEYWORD["DEFUND"]).segments


def test_same_message_sid_is_processed_once_and_gets_the_same_reply(known, svc):
    first = known.text("UNIONS", sid="SMdup00000000000000000000000000001")
    second = known.text("UNIONS", sid="SMdup00000000000000000000000000001")
    assert first == second == [REPLY_BY_KEYWORD["UNIONS"]]
    with svc.db.session() as session:
        count = session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
        times = session.scalar(select(Interest.times).where(Interest.keyword == "UNIONS"))
    assert count == 2  # HI + UNIONS
    assert times == 1


def test_replies_are_gsm7_even_when_the_catalogue_has_curly_quotes(known, svc):
    with svc.db.session() as session:
        data = catalogue.load_yaml()
        data["demands"][7]["reply"] = "Don\u2019t wait \u2014 ban chokeholds. Reply CALL to be connected."
        catalogue.import_catalogue(session, data)
    (reply,) = known.text("CHOKEHOLD")
    assert reply == "Don't wait - ban chokeholds. Reply CALL to be connected."
    assert encoding.count(reply).encoding == "GSM-7"


@pytest.mark.parametrize("sender", ["+447700900123", "+33612345678"])
def test_non_us_sender_gets_a_reply(client, sender):
    assert Phone(client, sender).text("MENU")


def test_unusable_sender_is_recorded_but_not_answered(client, svc):
    assert Phone(client, "Twilio").text("hello") == []
    with svc.db.session() as session:
        stored = session.scalar(select(Message).where(Message.phone == "Twilio"))
    assert stored.status == "unanswered" and stored.body == "hello"


@pytest.fixture
def config(config):
    return {**config, "INBOUND_LIMIT_PER_HOUR": "5"}


def test_inbound_limit_stops_answering_but_keeps_recording(phone, svc):
    answered = [phone.text(f"menu {i}") for i in range(7)]
    assert all(answered[:5]) and answered[5:] == [[], []]
    with svc.db.session() as session:
        inbound = session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
    assert inbound == 7


def test_an_empty_catalogue_falls_back_to_the_shipped_seed(known, svc):
    from sms.store import Area, Campaign, CatalogueText, Demand

    with svc.db.session() as session:
        for model in (Demand, Area, Campaign, CatalogueText):
            session.query(model).delete()
        session.commit()
    assert known.text("CHOKEHOLD") == [REPLY_BY_KEYWORD["CHOKEHOLD"]]
    assert "1 Remove barriers" in known.text("MENU")[0]


def test_redis_down_still_answers_and_keeps_the_followup_for_the_sweeper(config, transport):
    from app import create_app

    application = create_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0", "TRANSPORT": transport})
    svc = application.extensions["actionline"]
    phone = Phone(application.test_client(), "+16175550777")
    assert phone.text("CHOKEHOLD")[0].startswith(REPLY_BY_KEYWORD["CHOKEHOLD"])
    with svc.db.session() as session:
        followup = session.scalar(select(Message).where(Message.kind == "followup", Message.phone == phone.number))
    assert followup.status == "scheduled"
    svc.close()


def test_a_first_text_delivered_twice_is_answered_once(phone, svc):
    first = phone.text("UNIONS", sid="SMnewdup000000000000000000000000001")
    second = phone.text("UNIONS", sid="SMnewdup000000000000000000000000001")
    assert first == second and first
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 1


def _stale_read(monkeypatch, race):  # noqa: ANN001, ANN202
    """Make inbound's first read see the world just before ``race()`` commits a twin's rows."""
    real_load, calls = inbound._load, []

    def load(session, phone, sid):  # noqa: ANN001, ANN202
        known = real_load(session, phone, sid)
        if not calls:
            calls.append(sid)
            race()
        return known

    monkeypatch.setattr(inbound, "_load", load)
    return calls


def test_a_text_that_loses_a_race_for_the_menu_row_is_answered_not_dropped(known, svc, monkeypatch):
    with svc.db.session() as session:
        subscriber = session.scalar(select(Subscriber).where(Subscriber.phone == known.number))
        session.execute(delete(Conversation).where(Conversation.subscriber_id == subscriber.id))
        session.commit()

    def twin_commits_a_menu_row() -> None:
        with svc.db.session() as other:
            other.add(Conversation(subscriber_id=subscriber.id, data={}))
            other.commit()

    calls = _stale_read(monkeypatch, twin_commits_a_menu_row)
    sid = "SMrace0000000000000000000000000001"
    assert known.text("UNIONS", sid=sid) == [REPLY_BY_KEYWORD["UNIONS"]]
    assert calls  # the race happened
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.twilio_sid == sid)) == 1


def test_a_twin_delivery_that_commits_first_wins_and_the_loser_repeats_its_reply(known, svc, client, monkeypatch):
    sid = "SMtwin0000000000000000000000000001"

    def twin_delivery_commits_first() -> None:
        assert Phone(client, known.number).text("UNIONS", sid=sid) == [REPLY_BY_KEYWORD["UNIONS"]]

    _stale_read(monkeypatch, twin_delivery_commits_first)
    assert known.text("UNIONS", sid=sid) == [REPLY_BY_KEYWORD["UNIONS"]]
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.twilio_sid == sid)) == 1
        assert session.scalar(select(Interest.times).where(Interest.keyword == "UNIONS")) == 1
