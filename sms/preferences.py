"""Texter words about how often to hear from us: ``LESS``, ``MORE`` and ``LATER``.

``LESS`` moves a subscriber to the low-frequency tier (urgent alerts only; see
``sms.audiences.recipients``), ``MORE`` moves them back. ``LATER`` texts them
again about their last demand after ``LATER_DELAY_SECONDS``, moved into their
local daytime, through the durable outbound path (opt-out checked at send time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from sms import audiences, compliance, defaults, outbound
from sms.conversation import Turn, command
from sms.store import Message, utcnow


@command("LESS", "FEWER")
def less(turn: Turn, _rest: str = "") -> None:
    turn.subscriber.tier = "low"
    turn.say("OK, you'll only get urgent alerts from now on. Reply MORE to get every update again, STOP to opt out.")


@command("MORE")
def more(turn: Turn, _rest: str = "") -> None:
    turn.subscriber.tier = "normal"
    turn.say("OK, you'll get every update again. Reply LESS for urgent alerts only.")


@command("LATER")
def later(turn: Turn, _rest: str = "", now: datetime | None = None) -> None:
    demand = turn.catalogue.demand(turn.subscriber.last_demand or "")
    if demand is None:
        turn.say("Text a keyword first (reply MENU to see them), then LATER to be reminded.")
        return
    send_at = later_time(now or utcnow(), turn)
    body = turn.text_of("followup", title=demand.title, keyword=demand.keyword)
    message = outbound.plan(turn.session, turn.subscriber.id, turn.subscriber.phone, "later", body, send_at)
    if turn.services is not None:
        turn.after_commit.append(lambda: outbound.enqueue_delivery(turn.services, message.id, send_at))
    local = send_at.astimezone(compliance.subscriber_zone(turn.subscriber))
    turn.say(f"OK, we'll text you again about {demand.keyword} around {local:%-I%p} your time. Reply STOP to opt out.")


def later_time(now: datetime, turn: Turn) -> datetime:
    """A few hours from now, pushed into the texter's local daytime."""
    window = turn.settings.quiet_hours or defaults.DAYTIME
    zone = compliance.subscriber_zone(turn.subscriber)
    return compliance.next_allowed_time(now + timedelta(seconds=turn.settings.later_delay_seconds), zone, window)


def followup_obsolete(session, message: Message) -> bool:  # noqa: ANN001 - a Session
    """A follow-up is pointless once the texter asked for a call or opted for urgent alerts only."""
    if message.subscriber_id is None:
        return False
    from sms.store import Subscriber

    tier = session.scalar(select(Subscriber.tier).where(Subscriber.id == message.subscriber_id))
    return tier == "low" or audiences.has_called(session, message.subscriber_id)
