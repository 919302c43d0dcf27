"""RQ job functions: thin, importable, taking ids; they re-fetch and are idempotent.

The top of the import graph: nothing in ``sms/`` imports this module. Jobs are enqueued
by dotted path (``services.enqueue("high", "sms.tasks.place_call", session_id)``).
"""

from __future__ import annotations

import logging

from sms.broadcasts import dispatch, lifecycle, recovery, reminders
from sms.calls import later, sessions
from sms.integrations import delivery, pruning
from sms.messaging import outbound, retention, spool
from sms.services import current
from sms.targets import refresh, state_refresh

log = logging.getLogger(__name__)


def deliver_message(message_id: int) -> str:
    """Send a scheduled outbound message (follow-ups, reminders) once."""
    result = outbound.deliver(current(), message_id)
    log.info("message %s: %s", message_id, result)
    return result


def sweep() -> dict[str, int]:
    """Re-enqueue work that Redis lost and settle sends whose outcome is unknown."""
    return outbound.sweep(current())


def purge_expired() -> dict[str, int]:
    """Erase personal data past the retention period (see PRIVACY and ``sms.messaging.retention``); run daily."""
    return retention.purge(current())


def place_call(session_id: int) -> str:
    """Place the call-back for a call session (once; a repeat finds it claimed)."""
    result = sessions.place(current(), session_id)
    log.info("call session %s: %s", session_id, result)
    return result


def sweep_calls() -> dict[str, int]:
    """Re-enqueue call-backs Redis lost; expire the ones too old to place."""
    return {**sessions.sweep(current()), **later.sweep(current())}


def place_scheduled_call(row_id: int) -> str:
    """A call-back booked for later is due: open its call session (once)."""
    result = later.run(current(), row_id)
    log.info("scheduled call %s: %s", row_id, result)
    return result


def start_broadcast(broadcast_id: int) -> str:
    """Plan a scheduled broadcast whose time has come and start dispatching it."""
    return lifecycle.start(current(), broadcast_id)


def dispatch_broadcast(broadcast_id: int) -> dict[str, int]:
    """Send one paced batch of a broadcast (bulk queue) and enqueue the next."""
    return dispatch.run_batch(current(), broadcast_id)


def fire_reminder(reminder_id: int, fired: int) -> int | None:
    """Turn a reminder's due occurrence into a broadcast (a no-op if it already fired)."""
    return reminders.fire(current(), reminder_id, fired)


def broadcast_sweep() -> dict[str, int]:
    """Start due broadcasts, settle unknown sends, revive stalled dispatch, fire lost reminders."""
    return recovery.sweep(current())


def replay_spool() -> dict[str, int]:
    """Answer the texts kept while the database was down (see ``sms.messaging.spool``)."""
    return spool.replay(current())


def refresh_congress() -> dict[str, int]:
    """Refresh the Congress members and offices from upstream, checked first (daily with DATA_REFRESH=daily)."""
    return refresh.scheduled(current())


def refresh_states() -> dict[str, int]:
    """Refresh the state officials from upstream, checked first (daily with STATE_DATA_REFRESH=daily)."""
    return state_refresh.scheduled(current())


def route_events() -> dict[str, int]:
    """Fan new events out to their destinations and kick the drains of those with due deliveries."""
    return delivery.route(current())


def drain_events(destination_id: int, urgent: bool = False) -> dict[str, int]:
    """Send one destination's due event deliveries for a moment (its opt-outs first when ``urgent``)."""
    return delivery.drain(current(), destination_id, urgent)


def sweep_events() -> dict[str, int]:
    """Hand back event deliveries a killed worker left mid-request."""
    return delivery.sweep(current())


def prune_events() -> dict[str, int]:
    """Delete event deliveries that ended more than EVENT_RETENTION_DAYS ago, and events left with none."""
    return pruning.prune(current())
