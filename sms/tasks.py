"""RQ job functions: thin, importable, taking ids; they re-fetch and are idempotent."""

from __future__ import annotations

import logging

from sms import outbound
from sms.services import current

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
    """Erase personal data past the retention period (see PRIVACY and ``sms.retention``); run daily."""
    from sms import retention

    return retention.purge(current())


def place_call(session_id: int) -> str:
    """Place the call-back for a call session (once; a repeat finds it claimed)."""
    from sms import calls

    result = calls.place(current(), session_id)
    log.info("call session %s: %s", session_id, result)
    return result


def sweep_calls() -> dict[str, int]:
    """Re-enqueue call-backs Redis lost; expire the ones too old to place."""
    from sms import callbacks, calls

    return {**calls.sweep(current()), **callbacks.sweep(current())}


def place_scheduled_call(row_id: int) -> str:
    """A call-back booked for later is due: open its call session (once)."""
    from sms import callbacks

    result = callbacks.run(current(), row_id)
    log.info("scheduled call %s: %s", row_id, result)
    return result


def start_broadcast(broadcast_id: int) -> str:
    """Plan a scheduled broadcast whose time has come and start dispatching it."""
    from sms import broadcasts

    return broadcasts.start(current(), broadcast_id)


def dispatch_broadcast(broadcast_id: int) -> dict[str, int]:
    """Send one paced batch of a broadcast (bulk queue) and enqueue the next."""
    from sms import dispatch

    return dispatch.run_batch(current(), broadcast_id)


def fire_reminder(reminder_id: int, fired: int) -> int | None:
    """Turn a reminder's due occurrence into a broadcast (a no-op if it already fired)."""
    from sms import reminders

    return reminders.fire(current(), reminder_id, fired)


def broadcast_sweep() -> dict[str, int]:
    """Start due broadcasts, settle unknown sends, revive stalled dispatch, fire lost reminders."""
    from sms import recovery

    return recovery.sweep(current())
