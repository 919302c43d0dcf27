"""What one inbound text costs the database: statements per text, counted, never timed (issue 15).

The writes of a text go in one batch at the end of the turn (the inbound row, then its replies in
one ``executemany``); these bounds keep a change from quietly adding round trips to the hot path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from sms.store import Message
from tests.conftest import Phone


@contextmanager
def statements(svc) -> Iterator[list[str]]:  # noqa: ANN001
    """The SQL statements run on ``svc``'s engine inside the block (an executemany counts once)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(svc.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", record)


def rows_for(svc, sid: str) -> tuple[Message, list[Message]]:  # noqa: ANN001
    with svc.db.session() as session:
        inbound = session.scalars(select(Message).where(Message.twilio_sid == sid)).one()
        replies = session.scalars(select(Message).where(Message.in_reply_to_id == inbound.id).order_by(Message.id))
        return inbound, list(replies)


def test_known_texter_menu_is_one_read_and_four_writes(phone, svc):
    phone.text("MENU")
    with statements(svc) as seen:
        replies = phone.text("1", sid="SM" + "1" * 32)
    # the read (texter, menu state, catalogue version, duplicate check); the inbound row; the menu
    # state; the texter's activity; the replies in one executemany
    assert seen.count("SELECT") == 1
    assert len(seen) <= 5, seen
    inbound, stored = rows_for(svc, "SM" + "1" * 32)
    assert inbound.body == "1" and inbound.direction == "in" and inbound.status == "received"
    assert [m.body for m in stored] == replies and all(m.status == "replied" for m in stored)


def test_new_texter_rows_are_written_in_one_batch(phone, client, svc):
    Phone(client, "+16175550999").text("MENU")  # the catalogue is read once per process and version
    with statements(svc) as seen:
        replies = phone.text("MENU", sid="SM" + "2" * 32)
    inbound, stored = rows_for(svc, "SM" + "2" * 32)
    assert len(replies) >= 1 and [m.body for m in stored] == replies
    assert inbound.subscriber_id == stored[0].subscriber_id is not None
    # one INSERT for the inbound row and one for all its replies, however many there are
    assert seen.count("INSERT") <= 6, seen  # subscriber, join event, consent, menu state, inbound, replies
    assert len(seen) <= 8, seen


def test_redelivered_text_only_reads(phone, svc):
    first = phone.text("MENU", sid="SM" + "3" * 32)
    with statements(svc) as seen:
        again = phone.text("MENU", sid="SM" + "3" * 32)
    assert again == first
    assert seen and all(kind == "SELECT" for kind in seen), seen
