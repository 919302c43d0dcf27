"""PRIVACY and DELETE: what is kept about a texter, and erasing it.

DELETE erases personal data (``subscribers.erase``) but keeps the number, its status and
the consent history, so the number is never texted again against its wishes; the prompt
says so before the texter confirms. It answers opted-out numbers too (see
``conversation._while_opted_out``): erasure must not need a rejoin.
"""

from __future__ import annotations

from sms.messaging import compliance, subscribers
from sms.messaging.conversation import DELETE, DELETE_ALIASES, DELETE_CONFIRM, Turn, Words

words = Words()
"""PRIVACY, DELETE and the DELETE question."""


@words.command("PRIVACY", "PRIVACIDAD")
def send_privacy(turn: Turn, _rest: str = "") -> None:
    turn.say(turn.text_of("privacy"))


@words.command(DELETE, *DELETE_ALIASES)
def ask_delete(turn: Turn, _rest: str = "") -> None:
    turn.ask(DELETE_CONFIRM)
    turn.say(turn.text_of("delete_confirm_prompt"))


@words.answer(DELETE_CONFIRM)
def answer_delete(turn: Turn) -> bool:
    if turn.key in ("YES", "Y", "SI", DELETE, *DELETE_ALIASES):
        subscribers.erase(turn.session, turn.subscriber)
        compliance.opt_out(turn.session, turn.subscriber, "sms-delete", "DELETE")
        turn.say(turn.text_of("deleted"))
        return True
    if turn.key in ("NO", "N"):
        turn.ask(None)
        turn.say(turn.t("OK, we kept your data.") + ("" if turn.subscriber.opted_out else
                                                      " " + turn.t("Reply MENU to take action.")))
        return True
    return False
