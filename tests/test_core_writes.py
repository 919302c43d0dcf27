"""sms.core_writes writes a session's rows as the flush would, and leaves it what it cannot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import ForeignKey, Integer, String, event, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.orm.exc import StaleDataError

from sms import core_writes
from sms.integrations.models import Event
from sms.store import Conversation, Interest, Message, OptOutReview, Subscriber, utcnow


@pytest.fixture
def statements(svc):
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement.split()[0] + " " + statement.split()[2 if statement.startswith("INSERT") else 1])

    event.listen(svc.db.engine, "before_cursor_execute", record)
    yield sent
    event.remove(svc.db.engine, "before_cursor_execute", record)


@pytest.fixture
def subscriber_id(svc) -> int:
    with svc.db.session() as session:
        subscriber = Subscriber(phone="+16175550100")
        session.add(subscriber)
        session.commit()
        return subscriber.id


def test_new_rows_get_their_defaults_and_ids_and_leave_the_flush_nothing(svc, subscriber_id, statements):
    with svc.db.session() as session:
        first = Event(type="subscriber.joined", subscriber_id=subscriber_id)
        interest = Interest(subscriber_id=subscriber_id, keyword="CHOKEHOLD")
        second = Event(type="interest.recorded", subscriber_id=subscriber_id, data={"keyword": "CHOKEHOLD"})
        session.add_all([first, interest, second])
        assert core_writes.write_session(session) == 3
        assert not session.new and not session.dirty
        statements.clear()
        session.commit()
    assert statements == []  # the commit's flush had nothing left
    assert first.id < second.id  # in the order they were added, as the flush would
    assert first.data == {} and first.fanned_out is False and first.schema == 1 and len(first.uuid) == 36
    assert interest.times == 1 and timedelta(0) <= interest.last_at - interest.first_at < timedelta(seconds=1)
    with svc.db.session() as session:
        stored = session.get(Event, second.id)
        assert (stored.uuid, stored.data, stored.fanned_out, stored.created_at) == (
            second.uuid, {"keyword": "CHOKEHOLD"}, False, second.created_at)
        assert session.get(Interest, interest.id).times == 1


def test_a_written_row_added_to_another_session_is_not_inserted_again(svc, subscriber_id):
    with svc.db.session() as session:
        interest = Interest(subscriber_id=subscriber_id, keyword="QI")
        session.add(interest)
        core_writes.write_session(session)
        session.commit()
    with svc.db.session() as session:
        session.add(interest)
        interest.times = 4
        session.commit()
        assert session.scalars(select(Interest.times)).all() == [4]


def test_only_changed_columns_are_updated_and_onupdate_is_stamped(svc, subscriber_id, statements):
    with svc.db.session() as session:
        session.add(Conversation(subscriber_id=subscriber_id, menu="areas", data={}))
        session.commit()
    with svc.db.session() as session:
        state = session.get(Conversation, subscriber_id)
        before = state.updated_at
        subscriber = session.get(Subscriber, subscriber_id)
        subscriber.tier = subscriber.tier  # set to what it was: nothing to write
        state.menu, state.pending = "campaigns", "call_zip"
        statements.clear()
        assert core_writes.write_session(session) == 1
        session.commit()
    assert statements == ["UPDATE conversations"]
    assert state.updated_at > before
    with svc.db.session() as session:
        stored = session.get(Conversation, subscriber_id)
        assert (stored.menu, stored.pending, stored.updated_at) == ("campaigns", "call_zip", state.updated_at)


def test_an_update_of_a_row_gone_away_fails_as_the_flush_would(svc, subscriber_id):
    with svc.db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        with svc.db.session() as other:
            other.execute(Subscriber.__table__.delete())
            other.commit()
        subscriber.tier = "urgent"
        with pytest.raises(StaleDataError):
            core_writes.write_session(session)


def test_rows_with_relationships_are_left_to_the_flush(svc, subscriber_id):
    with svc.db.session() as session:
        message = Message(subscriber_id=subscriber_id, direction="in", kind="inbound", phone="+16175550100",
                          body="who is this", twilio_sid="SM" + "1" * 32, status="received")
        review = OptOutReview(subscriber_id=subscriber_id, message=message, rule="unclear:who is this")
        session.add(review)
        assert core_writes.write_session(session) == 1  # the message; the review points at it
        assert review in session.new
        session.commit()
    with svc.db.session() as session:
        stored = session.scalars(select(OptOutReview)).one()
        assert stored.message_id == message.id


def test_a_scheduled_message_keeps_the_models_defaults(svc, subscriber_id):
    send_at = utcnow() + timedelta(hours=1)
    with svc.db.session() as session:
        planned = Message(subscriber_id=subscriber_id, direction="out", kind="followup", phone="+16175550100",
                          body="Still with us?", segments=1, status="scheduled", send_at=send_at)
        session.add(planned)
        core_writes.write_session(session)
        session.commit()
    with svc.db.session() as session:
        stored = session.get(Message, planned.id)
        assert (stored.attempts, stored.media_count, stored.send_at, stored.twilio_sid) == (0, 0, send_at, None)
        assert stored.created_at == planned.created_at


def test_later_statements_go_with_the_commit_even_without_write_session(svc, subscriber_id):
    bump = Subscriber.__table__.update().values(tier="urgent")
    with svc.db.session() as session:
        core_writes.later(session, bump, {})
        session.commit()
    with svc.db.session() as session:
        assert session.get(Subscriber, subscriber_id).tier == "urgent"


def test_later_statements_of_a_rolled_back_turn_are_dropped(svc, subscriber_id):
    with svc.db.session() as session:
        core_writes.later(session, Subscriber.__table__.update().values(tier="urgent"), {})
        session.rollback()
        session.commit()
    with svc.db.session() as session:
        assert session.get(Subscriber, subscriber_id).tier == "normal"


def test_an_interest_texted_from_two_sessions_at_once_counts_both(svc, subscriber_id):
    from sms.messaging import subscribers

    with svc.db.session() as session:
        session.add(Interest(subscriber_id=subscriber_id, keyword="QI"))
        session.commit()
    first, second = svc.db.session(), svc.db.session()
    try:
        for session in (first, second):  # both read the interest before either writes
            owner = session.get(Subscriber, subscriber_id)
            assert subscribers.record_interest(session, owner, "QI") == (False, False)
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    with svc.db.session() as session:
        assert session.scalar(select(Interest.times)) == 3


def test_a_child_of_a_one_to_many_relationship_is_left_to_the_flush():
    class Base(DeclarativeBase):
        pass

    class Parent(Base):
        __tablename__ = "parents"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        children: Mapped[list[Child]] = relationship()

    class Child(Base):  # its parent_id is set by the flush from Parent.children
        __tablename__ = "children"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        parent_id: Mapped[int | None] = mapped_column(ForeignKey("parents.id"))

    class Keyed(Base):  # a key the database does not make
        __tablename__ = "keyed"
        code: Mapped[str] = mapped_column(String(8), primary_key=True)

    assert core_writes._plain_columns(inspect(Child)) is None
    assert core_writes._plain_columns(inspect(Parent)) is None  # has a relationship itself
    assert core_writes._insert_plan(inspect(Keyed), frozenset()) is None
    assert core_writes._insert_plan(inspect(Keyed), frozenset({"code"})) is not None
    assert core_writes._plain_columns(inspect(Interest)) is not None
