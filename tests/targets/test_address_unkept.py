"""The street address is kept nowhere, whatever happens to the turn that reads it.

Siblings of ``test_geocoder``'s scan (every text column of every table, the DEBUG logs), which also
look at every SQL statement's parameters (rolled-back ones too): a turn that crashes, a texter
over the inbound limit, an address the opt-out matcher reads as an opt-out or as unclear (the
review inbox), and the database down (the Redis spool, and its set-aside list).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from sms.calls import commands
from sms.console import inbox
from sms.messaging import inbound, spool, subscribers, unkept
from sms.store import ConsentEvent, Message
from tests.support.calls import tune
from tests.support.geocoder import stored_text
from tests.targets.test_geocoder import ADDRESS
from tests.targets.test_state_routing import _set_targets

CALLING = "Calling you now to connect you with State Sen. Aaron Reed."


@pytest.fixture
def sql(states_db) -> Iterator[list[str]]:  # noqa: ANN001
    """The parameters of every SQL statement sent while the test runs, committed or not."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append(repr(parameters))

    event.listen(states_db.db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(states_db.db.engine, "before_cursor_execute", record)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def ask_the_address(svc, phone) -> None:  # noqa: ANN001
    _set_targets(svc, "CHOKEHOLD", "state-upper")
    phone.text("ZIP 40601")
    assert phone.text("CALL CHOKEHOLD") == [commands.ASK_ADDRESS]


def assert_kept_nowhere(svc, sql: list[str], logs: pytest.LogCaptureFixture, *pieces: str) -> None:  # noqa: ANN001
    tables = stored_text(svc)
    for piece in pieces:
        assert piece not in tables
        assert not [params for params in sql if piece in params]
        assert piece not in logs.text


def last_inbound(svc) -> Message:  # noqa: ANN001
    with svc.db.session() as session:
        return session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id.desc())).first()


def database_down(*_args: Any, **_kwargs: Any) -> None:
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


def test_a_turn_that_crashes_on_the_address_keeps_it_nowhere(
    states_db, census, phone, sql, debug_logs, monkeypatch
) -> None:  # noqa: ANN001
    ask_the_address(states_db, phone)

    def crash(*_args: Any) -> None:
        raise RuntimeError("the turn broke after the geocoder answered")

    monkeypatch.setattr(commands, "keep_districts", crash)
    with pytest.raises(RuntimeError):
        phone.text(ADDRESS)
    assert census.queries[0]["address"] == [f"{ADDRESS}, 40601"]  # the turn had it, in memory
    assert_kept_nowhere(states_db, sql, debug_logs, "Capital", "9Q")
    monkeypatch.undo()
    assert phone.text(ADDRESS)[0] == CALLING  # rolled back: the question still waits for the address


def test_an_address_over_the_inbound_limit_is_recorded_without_it(states_db, census, phone, sql, debug_logs) -> None:  # noqa: ANN001
    ask_the_address(states_db, phone)
    tune(states_db, inbound_limit_per_hour=2)
    assert phone.text(ADDRESS) == []  # recorded, not answered: the turn never reads the question
    assert last_inbound(states_db).body == commands.ADDRESS_KEPT_AS
    assert_kept_nowhere(states_db, sql, debug_logs, "Capital", "9Q")


@pytest.mark.parametrize(("address", "piece"), [("8 Wrong Number Rd", "Number Rd"), ("77 Unsubscribe Blvd", "Blvd")])
def test_an_address_read_as_an_opt_out_is_honoured_and_kept_nowhere(
    states_db, census, phone, sql, debug_logs, address, piece
) -> None:  # noqa: ANN001
    ask_the_address(states_db, phone)
    assert phone.text(address)[0].endswith(
        "you're unsubscribed from Action Line and will get no more messages. Reply START to rejoin."
    )
    with states_db.db.session() as session:
        sub = subscribers.find(session, phone.number)
        assert sub.opted_out
        detail = session.scalars(
            select(ConsentEvent.detail).where(ConsentEvent.subscriber_id == sub.id).order_by(ConsentEvent.id.desc())
        ).first()
    assert detail.startswith(("phrase:", "word:"))  # the rule that matched, not the words
    assert census.queries == []
    assert last_inbound(states_db).body == commands.ADDRESS_KEPT_AS
    assert_kept_nowhere(states_db, sql, debug_logs, piece)


def test_an_address_the_matcher_finds_unclear_reaches_the_review_inbox_without_it(
    states_db, census, phone, sql, debug_logs
) -> None:  # noqa: ANN001
    ask_the_address(states_db, phone)
    replies = phone.text("123 Stop St")
    assert replies[0].startswith(CALLING)  # answered as the address it is
    assert census.queries[0]["address"] == ["123 Stop St, 40601"]
    with states_db.db.session() as session:
        sub = subscribers.find(session, phone.number)
        reviews = inbox.open_reviews(session, sub.id)
        _, thread = inbox.thread(session, sub.id)
        assert [(r.rule, r.message.body) for r in reviews.values()] == [("word:stop", commands.ADDRESS_KEPT_AS)]
    assert commands.ADDRESS_KEPT_AS in [m.body for m in thread]
    assert_kept_nowhere(states_db, sql, debug_logs, "Stop St")


def spooled(svc) -> list[dict[str, Any]]:  # noqa: ANN001
    return [json.loads(raw) for raw in svc.redis.lrange(spool.KEY, 0, -1)]


def texted(transport, phone) -> list[str]:  # noqa: ANN001
    return [m["body"] for m in transport.messages if m["to"] == phone.number]


def test_an_address_texted_while_the_database_is_down_is_spooled_without_it(
    states_db, census, phone, sql, debug_logs, transport, monkeypatch
) -> None:  # noqa: ANN001
    ask_the_address(states_db, phone)
    with monkeypatch.context() as down:
        down.setattr(states_db.db, "session", database_down)
        assert phone.text(ADDRESS, sid="SM" + "1" * 32) == []  # kept in the spool, answered later
    assert [m["body"] for m in spooled(states_db)] == [commands.ADDRESS_KEPT_AS]
    assert spool.replay(states_db) == {"replayed": 1, "dead": 0}
    assert texted(transport, phone) == [commands.ADDRESS_LOST, commands.ASK_ADDRESS]  # asked again, by text
    assert census.queries == []
    assert phone.text(ADDRESS)[0] == CALLING
    assert unkept.marked(states_db.redis, phone.number) is None  # answered: later texts are spooled as sent
    assert_kept_nowhere(states_db, sql, debug_logs, "Capital", "9Q")


@pytest.mark.parametrize(("text", "kept_as"), [("SKIP", "SKIP"), ("please stop texting me", unkept.OPT_OUT_AS)])
def test_a_keyword_or_an_opt_out_spooled_after_the_question_keeps_its_meaning(
    states_db, census, phone, monkeypatch, text, kept_as
) -> None:  # noqa: ANN001
    ask_the_address(states_db, phone)
    with monkeypatch.context() as down:
        down.setattr(states_db.db, "session", database_down)
        phone.text(text)
    assert [m["body"] for m in spooled(states_db)] == [kept_as]
    spool.replay(states_db)
    with states_db.db.session() as session:
        assert subscribers.find(session, phone.number).opted_out == (kept_as == unkept.OPT_OUT_AS)


def test_a_spooled_address_whose_replay_crashes_is_set_aside_without_it(states_db, census, phone, monkeypatch) -> None:  # noqa: ANN001
    ask_the_address(states_db, phone)
    unkept.unmark(states_db.redis, phone.number)  # Redis lost the mark (flushed) while the database was down:
    spool.keep(states_db.redis, inbound.InboundSms(sid="SM" + "2" * 32, phone=phone.number, body=ADDRESS))
    assert [m["body"] for m in spooled(states_db)] == [ADDRESS]  # the documented residual, in Redis only

    def crash(*_args: Any) -> None:
        raise RuntimeError("the replayed turn broke")

    monkeypatch.setattr(commands, "keep_districts", crash)
    assert spool.replay(states_db) == {"replayed": 0, "dead": 1}
    assert spooled(states_db) == []
    dead = [json.loads(raw) for raw in states_db.redis.lrange(spool.DEAD, 0, -1)]
    assert [m["body"] for m in dead] == [commands.ADDRESS_KEPT_AS]
    assert "Capital" not in stored_text(states_db)
