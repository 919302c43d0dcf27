"""The daily event prune: old deliveries that ended and their events go; nothing still to send does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from sms import cron
from sms.errors import ConfigError
from sms.integrations import delivery, destinations, pruning
from sms.integrations.models import Event, EventDelivery
from sms.settings import Settings
from sms.store import utcnow
from tests.conftest import Phone
from tests.support.broadcasts import configure
from tests.support.integrations import SECRET


def _age(svc, days: int, status: str | None = None) -> None:
    """Make every event and delivery (of ``status``, if given) ``days`` old."""
    then = utcnow() - timedelta(days=days)
    with svc.db.session() as session:
        query = update(EventDelivery).values(created_at=then)
        session.execute(query.where(EventDelivery.status == status) if status else query)
        session.execute(update(Event).values(created_at=then))
        session.commit()


def _statuses(svc) -> list[tuple[str]]:
    with svc.db.session() as session:
        return list(session.execute(select(EventDelivery.status)))


def _counts(svc) -> tuple[int, int]:
    with svc.db.session() as session:
        return (session.scalar(select(func.count()).select_from(Event)),
                session.scalar(select(func.count()).select_from(EventDelivery)))


def test_old_ended_deliveries_and_their_events_are_pruned_in_batches(client, svc, receiver):
    with svc.db.session() as session:
        destinations.add(session, receiver.url, "all", "crm", False, SECRET)
    Phone(client, "+16175550101").text("CHOKEHOLD")
    Phone(client, "+16175550102").text("CHOKEHOLD")
    assert delivery.deliver_now(svc) == {"delivered": 4}
    assert pruning.prune(svc) == {"deliveries": 0, "events": 0}  # all recent
    _age(svc, 31)
    assert pruning.prune(svc, batch=3) == {"deliveries": 4, "events": 4}
    assert _counts(svc) == (0, 0)


def test_undelivered_deliveries_are_never_pruned_however_old(client, svc, receiver):
    with svc.db.session() as session:
        crm = destinations.add(session, receiver.url, "all", "crm", False, SECRET)
        destinations.pause(session, crm, "maintenance")
        session.commit()
    Phone(client, "+16175550101").text("CHOKEHOLD")
    _age(svc, 400)
    delivery.route(svc)  # fanned out to a paused destination: its backlog, pending
    assert {r for (r,) in _statuses(svc)} == {"pending"}
    _age(svc, 400)
    assert pruning.prune(svc) == {"deliveries": 0, "events": 0}
    assert _counts(svc) == (2, 2)
    with svc.db.session() as session:
        session.execute(update(EventDelivery).where(EventDelivery.id == session.scalar(
            select(func.min(EventDelivery.id)))).values(status="sending"))
        session.commit()
    assert pruning.prune(svc) == {"deliveries": 0, "events": 0}


def test_an_event_not_fanned_out_yet_is_kept(client, svc):
    Phone(client, "+16175550101").text("CHOKEHOLD")  # no destination: nothing fans out until the router runs
    _age(svc, 400)
    assert pruning.prune(svc)["events"] == 0
    delivery.route(svc)  # no destination: fanned out with no delivery
    assert pruning.prune(svc)["events"] == 2


def test_zero_keeps_everything_and_the_setting_is_checked(client, svc):
    configure(svc, event_retention_days=0)
    Phone(client, "+16175550101").text("CHOKEHOLD")
    delivery.route(svc)
    _age(svc, 4000)
    assert pruning.prune(svc) == {}
    assert Settings.from_mapping({"EVENT_RETENTION_DAYS": "7"}).event_retention_days == 7
    for bad in ("1", "-3", "soon"):
        with pytest.raises(ConfigError, match="EVENT_RETENTION_DAYS"):
            Settings.from_mapping({"EVENT_RETENTION_DAYS": bad})


def test_the_prune_runs_daily_from_the_cron():
    assert ("sms.tasks.prune_events", 24 * 3600) in cron.PERIODIC
