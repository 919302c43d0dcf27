"""Texter words about how often to hear from us: ``LESS``, ``MORE`` and ``LATER``.

``LESS`` moves a subscriber to the low-frequency tier (urgent alerts only; see
``sms.broadcasts.audiences.recipients``), ``MORE`` moves them back. ``LATER`` texts them
again about their last demand after ``LATER_DELAY_SECONDS``, moved into their
local daytime, through the durable outbound path (opt-out checked at send time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sms import defaults
from sms.messaging import compliance, outbound
from sms.messaging.conversation import Turn, Words
from sms.store import utcnow

words = Words()
"""LESS / FEWER, MORE and LATER: how often and when a texter hears from us."""


@words.command("LESS", "FEWER", "MENOS")
def less(turn: Turn, _rest: str = "") -> None:
    turn.subscriber.tier = "low"
    turn.say(turn.t("OK, you'll only get urgent alerts from now on. Reply MORE to get every update again, "
                    "STOP to opt out."))


@words.command("MORE", "MAS")
def more(turn: Turn, _rest: str = "") -> None:
    turn.subscriber.tier = "normal"
    turn.say(turn.t("OK, you'll get every update again. Reply LESS for urgent alerts only."))


@words.command("LATER", "LUEGO", "DESPUES", "MASTARDE")
def later(turn: Turn, _rest: str = "", now: datetime | None = None) -> None:
    demand = turn.catalogue.demand(turn.subscriber.last_demand or "")
    if demand is None:
        turn.say(turn.t("Text a keyword first (reply MENU to see them), then LATER to be reminded."))
        return
    send_at = later_time(now or utcnow(), turn)
    body = turn.text_of("followup", title=demand.title, keyword=demand.keyword)
    message = outbound.plan(turn.session, turn.subscriber.id, turn.subscriber.phone, "later", body, send_at)
    if turn.services is not None:
        turn.after_commit.append(lambda: outbound.enqueue_when_near(turn.services, message.id, send_at))
    local = send_at.astimezone(compliance.subscriber_zone(turn.subscriber))
    turn.say(turn.t("OK, we'll text you again about {keyword} around {time} your time. Reply STOP to opt out.",
                    keyword=demand.keyword, time=f"{local:%-I%p}"))


def later_time(now: datetime, turn: Turn) -> datetime:
    """A few hours from now, pushed into the texter's local daytime."""
    window = turn.settings.quiet_hours or defaults.DAYTIME
    zone = compliance.subscriber_zone(turn.subscriber)
    return compliance.next_allowed_time(now + timedelta(seconds=turn.settings.later_delay_seconds), zone, window)
