"""A voice step's call session and legs written by ``sms.core_writes`` as the unit of work would write them."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm.exc import StaleDataError

from sms import core_writes
from sms.calls.models import CallLeg, CallSession
from sms.store import Subscriber, utcnow


def _seed(svc) -> tuple[int, int]:  # noqa: ANN001
    """A placed call session with one dialing leg; their ids."""
    with svc.db.session() as session:
        call = CallSession(phone="+16175550123", demand="CHOKEHOLD", targets=[], status="placed")
        session.add(call)
        session.flush()
        leg = CallLeg(session_id=call.id, position=0, kind="house", ref="N000002", label="Rep. Nadler",
                      number="+12022255635")
        session.add(leg)
        session.commit()
        return call.id, leg.id


def _first_words(seen: list[str]):  # noqa: ANN202
    return lambda _conn, _cursor, sql, *_args: seen.append(sql.split()[0])


def test_writes_only_changed_columns_and_the_new_rows(svc) -> None:  # noqa: ANN001
    call_id, leg_id = _seed(svc)
    with svc.db.session() as session:
        call, leg = session.get(CallSession, call_id), session.get(CallLeg, leg_id)
        call.status, call.call_sid, call.demand = "answered", "CA" + "1" * 32, "CHOKEHOLD"  # demand: unchanged
        leg.outcome, leg.duration = "connected", 60
        session.add(Subscriber(phone="+16175550199", status="active"))  # another table, new: written too
        assert core_writes.write_session(session) == 3
        assert not session.dirty and not session.new
        session.commit()
    with svc.db.session() as session:
        call, leg = session.get(CallSession, call_id), session.get(CallLeg, leg_id)
        assert (call.status, call.call_sid, call.demand) == ("answered", "CA" + "1" * 32, "CHOKEHOLD")
        assert (leg.outcome, leg.duration, leg.label) == ("connected", 60, "Rep. Nadler")
        assert session.scalar(select(Subscriber.status).where(Subscriber.phone == "+16175550199")) == "active"


def test_an_unchanged_value_writes_nothing(svc) -> None:  # noqa: ANN001
    call_id, _leg_id = _seed(svc)
    with svc.db.session() as session:
        call = session.get(CallSession, call_id)
        call.status = "placed"  # set, but to what it was
        seen: list[str] = []
        listener = _first_words(seen)
        event.listen(svc.db.engine, "before_cursor_execute", listener)
        try:
            core_writes.write_session(session)
            session.commit()
        finally:
            event.remove(svc.db.engine, "before_cursor_execute", listener)
    assert "UPDATE" not in seen and not session.dirty


def test_a_row_gone_meanwhile_fails_as_the_flush_did(svc) -> None:  # noqa: ANN001
    call_id, leg_id = _seed(svc)
    with svc.db.session() as session:
        call = session.get(CallSession, call_id)
        session.execute(delete(CallLeg).where(CallLeg.id == leg_id))
        session.execute(delete(CallSession).where(CallSession.id == call_id)
                        .execution_options(synchronize_session=False))
        call.status = "answered"
        with pytest.raises(StaleDataError):
            core_writes.write_session(session)


def test_the_same_timestamp_type_as_the_orm_writes(svc) -> None:  # noqa: ANN001
    call_id, _leg_id = _seed(svc)
    now = utcnow()
    with svc.db.session() as session:
        session.get(CallSession, call_id).answered_at = now
        core_writes.write_session(session)
        session.commit()
    with svc.db.session() as session:
        assert session.get(CallSession, call_id).answered_at == now


def test_the_leg_read_with_the_call_is_forgotten_once_the_step_writes_it(svc) -> None:  # noqa: ANN001
    from sms.calls import voice

    sid = "CA" + "7" * 32
    with svc.db.session() as session:
        call = CallSession(phone="+16175550123", demand="CHOKEHOLD", call_sid=sid, status="confirmed", targets=[
            {"kind": "house", "ref": "N000002", "phone": "+12022255635"}])
        session.add(call)
        session.commit()
    with svc.db.session() as session:
        flow = voice.Flow(svc, session)
        call = flow.find({"CallSid": sid})
        assert flow.legs == {(call.id, 0): None}  # read with the call: no leg at its position yet
        seen: list[str] = []
        listener = _first_words(seen)
        event.listen(svc.db.engine, "before_cursor_execute", listener)
        try:
            assert flow.leg(call, 0) is None and seen == []  # no second read
            voice._write_leg(flow, call, 0, number="+12022255635")
            leg = flow.leg(call, 0)  # written in this step: read again
        finally:
            event.remove(svc.db.engine, "before_cursor_execute", listener)
        assert seen == ["INSERT", "SELECT"]
        assert (leg.position, leg.outcome, leg.ref, leg.number) == (0, "dialing", "N000002", "+12022255635")
        session.commit()
    with svc.db.session() as session:
        flow = voice.Flow(svc, session)
        call = flow.find({"CallSid": sid})
        assert flow.legs[(call.id, 0)].id == leg.id  # the next step finds it with the call
