"""Shared helpers for the broadcast tests: bulk subscribers and a quick way to run a broadcast."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from sms.broadcasts import lifecycle
from sms.broadcasts.models import Delivery
from sms.store import Interest, Subscriber, utcnow


def add_people(svc: Any, n: int, start: int = 0, interests: tuple[str, ...] = (), **fields: Any) -> list[str]:
    """Insert ``n`` active subscribers (numbers +1617555xxxx) and return their phones."""
    phones = [f"+1617555{start + i:04d}" for i in range(n)]
    now = utcnow()
    rows = [{"phone": p, "status": "active", "tier": "normal", "created_at": now - timedelta(days=10),
             "last_active_at": now - timedelta(days=1), **fields} for p in phones]
    with svc.db.session() as session:
        session.execute(insert(Subscriber), rows)
        if interests:
            ids = session.scalars(select(Subscriber.id).where(Subscriber.phone.in_(phones))).all()
            session.execute(insert(Interest), [{"subscriber_id": i, "keyword": k} for i in ids for k in interests])
        session.commit()
    return phones


def new_broadcast(svc: Any, body: str = "Vote Thursday. Reply CALL.", **kwargs: Any) -> int:
    with svc.db.session() as session:
        broadcast = lifecycle.create(session, svc.settings, body, **kwargs)
        session.commit()
        return broadcast.id


def start_broadcast(svc: Any, people: int = 0, *, mps: float, **kwargs: Any) -> tuple[list[str], int]:
    """Add ``people`` subscribers (see ``add_people``), then create a broadcast and start sending it.

    ``kwargs`` go to ``lifecycle.create`` (e.g. ``filters``); returns the phones added and the broadcast.
    """
    phones = add_people(svc, people) if people else []
    broadcast_id = new_broadcast(svc, "Vote Thursday. Reply CALL.", mps=mps, **kwargs)
    assert lifecycle.send(svc, broadcast_id) == "started"
    return phones, broadcast_id


def statuses(svc: Any, broadcast_id: int) -> dict[str, int]:
    with svc.db.session() as session:
        return lifecycle.progress(session, broadcast_id)


def broadcast_status(svc: Any, broadcast_id: int) -> str:
    with svc.db.session() as session:
        return lifecycle.get(session, broadcast_id).status


def delivery(svc: Any, broadcast_id: int, phone: str) -> Delivery:
    with svc.db.session() as session:
        return session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id,
                                                      Delivery.phone == phone)).one()


def count_deliveries(svc: Any, broadcast_id: int) -> int:
    with svc.db.session() as session:
        return session.scalar(select(func.count()).where(Delivery.broadcast_id == broadcast_id))


def configure(svc: Any, **settings: Any) -> None:
    """Change settings of a running test app (Settings is frozen: replace it)."""
    import dataclasses

    svc.settings = dataclasses.replace(svc.settings, **settings)
