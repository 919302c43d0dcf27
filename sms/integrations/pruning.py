"""Prune the event log: deliveries that ended long ago, then the events left with none.

Run daily by the worker's cron (``sms.tasks.prune_events``). A delivery is pruned only once
it has ended (delivered, failed or skipped) more than EVENT_RETENTION_DAYS ago; one still
``pending`` or ``sending`` is never touched, however old: it is inside its retry window or
a paused destination's backlog, which resumes with it. An event goes once it was fanned
out, is older than the period and has no delivery left. Each step deletes at most
``EVENT_PRUNE_BATCH`` rows per transaction and repeats, so a first run over a large log
never holds a long lock. ``EVENT_RETENTION_DAYS=0`` keeps everything.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from sms import defaults
from sms.integrations.models import Event, EventDelivery
from sms.services import Services
from sms.store import utcnow

log = logging.getLogger(__name__)
ENDED = ("delivered", "failed", "skipped")
"""Delivery states that are final: nothing will send them again (a replay makes new rows)."""


def prune(services: Services, now: datetime | None = None, batch: int = defaults.EVENT_PRUNE_BATCH
          ) -> dict[str, int]:
    """Apply EVENT_RETENTION_DAYS once; return how many deliveries and events were deleted."""
    days = services.settings.event_retention_days
    if not days:
        return {}
    cutoff = (now or utcnow()) - timedelta(days=days)
    counts = {"deliveries": _repeat(services, _deliveries, cutoff, batch),
              "events": _repeat(services, _events, cutoff, batch)}
    log.info("event retention (%s days): %s", days, counts)
    return counts


def _repeat(services: Services, step: object, cutoff: datetime, batch: int) -> int:
    total = 0
    while True:
        with services.db.session() as session:
            deleted = step(session, cutoff, batch)  # type: ignore[operator]
            session.commit()
        total += deleted
        if deleted < batch:
            return total


def _deliveries(session: Session, cutoff: datetime, batch: int) -> int:
    ended = (select(EventDelivery.id).where(EventDelivery.status.in_(ENDED),
                                            EventDelivery.created_at < cutoff)
             .order_by(EventDelivery.id).limit(batch))
    ids = list(session.scalars(ended))
    if ids:
        session.execute(delete(EventDelivery).where(EventDelivery.id.in_(ids)))
    return len(ids)


def _events(session: Session, cutoff: datetime, batch: int) -> int:
    orphans = (select(Event.id).where(Event.fanned_out, Event.created_at < cutoff,
                                      ~exists().where(EventDelivery.event_id == Event.id))
               .order_by(Event.id).limit(batch))
    ids = list(session.scalars(orphans))
    if ids:
        session.execute(delete(Event).where(Event.id.in_(ids)))
    return len(ids)
