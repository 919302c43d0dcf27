"""Inbound text → reply: consent first, then menus, keywords and pending questions.

``respond(turn)`` is the whole state machine. It reads the catalogue snapshot and
the texter's conversation row, changes them through the turn's session and says
its replies with ``turn.say``. Each feature keeps its words and questions in a
``Words`` table (``@words.command("CALL")``, ``@words.answer("call_zip")``);
``sms.features`` lists every table once and ``install`` makes them the conversation's,
in the web process and the worker alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from sms import defaults, ratelimit
from sms.messaging import compliance, intent, outbound, subscribers
from sms.messaging.catalogue import CampaignView, Catalogue, DemandView, keyword_key, normalise
from sms.settings import Settings
from sms.store import Conversation, Message, Subscriber, utcnow

MENU_WORDS = frozenset({"MENU", "HI", "HELLO", "JOIN", "HEY", "OPTIONS", "LIST"})
REJOIN_WORDS = frozenset({"SUBSCRIBE", "RESUBSCRIBE", "OPTIN", "REJOIN"})
"""Words asking for texts again that, like JOIN, only tell an opted-out number to reply START."""

CommandHandler = Callable[["Turn", str], None]
AnswerHandler = Callable[["Turn"], bool]
COMMANDS: dict[str, CommandHandler] = {}
"""First word of a text → handler, from every installed ``Words`` table."""
ANSWERS: dict[str, AnswerHandler] = {}
"""Pending question → handler (returns False to let the text through), from every installed table."""


@dataclass
class Words:
    """One feature's words (a text's first word → handler) and answers (a pending question → handler)."""

    commands: dict[str, CommandHandler] = field(default_factory=dict)
    answers: dict[str, AnswerHandler] = field(default_factory=dict)

    def command(self, *words: str) -> Callable[[CommandHandler], CommandHandler]:
        """Handle texts whose first word is one of ``words``; the handler gets the rest."""

        def decorate(fn: CommandHandler) -> CommandHandler:
            for word in words:
                self.commands[word] = fn
            return fn

        return decorate

    def answer(self, pending: str) -> Callable[[AnswerHandler], AnswerHandler]:
        """Handle replies to the question ``pending``; the handler returns False to pass."""

        def decorate(fn: AnswerHandler) -> AnswerHandler:
            self.answers[pending] = fn
            return fn

        return decorate


words = Words()
"""The conversation's own words: menus, campaigns, YES/NO."""
DELETE, DELETE_CONFIRM = "DELETE", "delete_confirm"
"""The erasure command and its question (``sms.messaging.privacy``), heard from opted-out numbers too."""


def install(tables: Iterable[Words]) -> None:
    """Make ``tables`` the conversation's words; a word or question claimed twice is a bug."""
    commands: dict[str, CommandHandler] = {}
    answers: dict[str, AnswerHandler] = {}
    for table in tables:
        clash = (commands.keys() & table.commands.keys()) | (answers.keys() & table.answers.keys())
        if clash:
            raise ValueError(f"conversation words claimed twice: {', '.join(sorted(clash))}")
        commands.update(table.commands)
        answers.update(table.answers)
    COMMANDS.clear()
    COMMANDS.update(commands)
    ANSWERS.clear()
    ANSWERS.update(answers)


@dataclass
class Turn:
    """One inbound text being answered."""

    session: Session
    settings: Settings
    catalogue: Catalogue
    subscriber: Subscriber
    conversation: Conversation
    body: str
    is_new: bool = False
    media_count: int = 0
    opt_out_type: str = ""
    """Twilio's ``OptOutType`` (STOP, START, HELP): Twilio's Advanced Opt-Out already answered this text."""
    inbound: Message | None = None
    verdict: intent.Verdict = intent.Verdict(intent.NOT)
    replies: list[str] = field(default_factory=list)
    after_commit: list[Callable[[], Any]] = field(default_factory=list)
    services: Any = None

    def __post_init__(self) -> None:
        self.text = normalise(self.body)
        self.key = keyword_key(self.text)
        self.words = self.text.upper().split()

    def say(self, text: str) -> None:
        self.replies.append(text)

    def text_of(self, name: str, **values: Any) -> str:
        contact = self.settings.org_contact or defaults.ORG_CONTACT_FALLBACK
        return self.catalogue.text(name, org=self.settings.org_name, contact=contact, **values)

    def ask(self, pending: str | None, **data: Any) -> None:
        """Remember that the next reply answers ``pending`` (None clears it)."""
        self.conversation.pending = pending
        self.conversation.data = {**(self.conversation.data or {}), **data} if pending else {}

    def show_menu(self, menu: str | None) -> None:
        self.conversation.menu = menu


def respond(turn: Turn) -> None:
    """Answer one inbound text (the replies end up in ``turn.replies``).

    Consent comes first, before pending questions and commands (``honour_opt_out``). An
    opted-out number then hears only HELP, DELETE and how to come back; an unclear text
    is answered as usual, told once a day how to stop, and flagged for a person.
    """
    if not COMMANDS:
        raise RuntimeError("no conversation words installed: call sms.features.install() at start-up")
    if honour_opt_out(turn):
        return None
    key = turn.key
    if turn.subscriber.opted_out:
        return _while_opted_out(turn)
    if key in compliance.START_WORDS:
        compliance.opt_in(turn.session, turn.subscriber, "sms", key)
        return turn.say(turn.text_of("start_confirm"))
    if key in compliance.HELP_WORDS:
        return turn.say(turn.text_of("help"))
    _converse(turn)
    if turn.verdict.unclear:
        _flag_for_a_person(turn)
    return None


def honour_opt_out(turn: Turn) -> bool:
    """Act on Twilio's own keyword handling or an opt-out in the text; True if the text was one.

    Also called for a texter over the inbound limit: an opt-out is never dropped.
    """
    if turn.opt_out_type:
        _twilio_keyword(turn)
        return True
    turn.verdict = intent.classify(turn.body, turn.catalogue.causes)
    if turn.key in compliance.STOP_WORDS or turn.verdict.opt_out:  # a STOP word alone, whatever the rules say
        _stop(turn)
        return True
    return False


def _converse(turn: Turn) -> None:
    key = turn.key
    pending = turn.conversation.pending
    if pending and pending in ANSWERS:
        if ANSWERS[pending](turn):
            return None
        turn.ask(None)
    if key in COMMANDS:
        return COMMANDS[key](turn, "")
    item = turn.catalogue.lookup(key)
    if item is not None:  # before first-word commands, so "NO KNOCK" is not "NO"
        return send_item(turn, item)
    first_key = keyword_key(turn.words[0]) if turn.words else ""
    if first_key in COMMANDS:
        return COMMANDS[first_key](turn, " ".join(turn.text.split()[1:]))
    if key.isdigit() and _pick_from_menu(turn, int(key)):
        return None
    if turn.verdict.rule.startswith("cause:") and (named := turn.catalogue.named_in(turn.words)) is not None:
        return send_item(turn, named)  # "END NO KNOCK WARRANTS" is NOKNOCK said with END
    if turn.is_new or key in MENU_WORDS or not turn.text and not turn.media_count:
        return send_menu(turn)
    turn.say(turn.text_of("unknown"))


def _stop(turn: Turn) -> None:
    """Opt out once, naming the rule that matched in the consent history, and confirm it once."""
    keyword = turn.key in compliance.STOP_WORDS
    rule = turn.verdict.rule if turn.verdict.opt_out else f"keyword:{turn.key.lower()}"
    changed = compliance.opt_out(turn.session, turn.subscriber, "sms", rule)
    turn.ask(None)
    # STOP_CONFIRMATION=false leaves the confirmation of carrier keywords to Twilio; Twilio never confirms a phrase.
    if changed and (turn.settings.stop_confirmation or not keyword):
        turn.say(turn.text_of("stop_confirm"))


def _twilio_keyword(turn: Turn) -> None:
    """Twilio's Advanced Opt-Out has answered this keyword itself: record what it changed, say nothing."""
    detail = f"OptOutType={turn.opt_out_type} {turn.key[:40]}".strip()
    if turn.opt_out_type == "STOP":
        compliance.opt_out(turn.session, turn.subscriber, compliance.TWILIO_OPT_OUT, detail)
        turn.ask(None)
    elif turn.opt_out_type == "START":
        compliance.opt_in(turn.session, turn.subscriber, compliance.TWILIO_OPT_OUT, detail)


def _while_opted_out(turn: Turn) -> None:
    """An opted-out number hears only HELP, DELETE and, once a day for a keyword, how to come back."""
    if turn.conversation.pending == DELETE_CONFIRM and DELETE_CONFIRM in ANSWERS:
        if ANSWERS[DELETE_CONFIRM](turn):
            return
        turn.ask(None)
    if turn.key in compliance.START_WORDS or turn.key == "YES":
        compliance.opt_in(turn.session, turn.subscriber, "sms", turn.key)
        turn.say(turn.text_of("start_confirm"))
    elif turn.key in compliance.HELP_WORDS:
        turn.say(turn.text_of("help"))
    elif turn.key == DELETE and DELETE in COMMANDS:  # erasure must not need a rejoin
        COMMANDS[DELETE](turn, "")
    elif _asks_for_texts(turn) and _once_a_day(turn, "rejoin-hint"):
        turn.say(compliance.REJOIN_HINT.format(org=turn.settings.org_name))


def _asks_for_texts(turn: Turn) -> bool:
    """JOIN, MENU, a command or a demand keyword: never an opt-in (only START, UNSTOP and YES are)."""
    first_key = keyword_key(turn.words[0]) if turn.words else ""
    return (turn.key in MENU_WORDS or turn.key in REJOIN_WORDS or turn.key in COMMANDS or first_key in COMMANDS
            or turn.catalogue.lookup(turn.key) is not None)


def _once_a_day(turn: Turn, name: str) -> bool:
    if turn.services is None:
        return True
    return ratelimit.once(turn.services.redis, name, turn.subscriber.phone, defaults.HINT_INTERVAL_SECONDS)


def _flag_for_a_person(turn: Turn) -> None:
    """An unclear text: told how to stop (once a day; a new texter's disclosure says it) and flagged for a person."""
    since = utcnow() - timedelta(seconds=defaults.HINT_INTERVAL_SECONDS)
    hint = not turn.is_new and not compliance.hinted_since(turn.session, turn.subscriber.id, since)
    if hint:
        turn.replies = compliance.with_hint(turn.replies, compliance.STOP_HINT)
    compliance.flag_for_review(turn.session, turn.subscriber, turn.inbound, turn.verdict.rule, hint or turn.is_new)


@words.command(*MENU_WORDS)
def send_menu(turn: Turn, _rest: str = "") -> None:
    """Welcome + numbered areas."""
    lines = [turn.text_of("welcome")]
    lines += [f"{number} {title}" for number, title in sorted(turn.catalogue.areas.items())]
    lines.append(turn.text_of("menu_footer"))
    turn.show_menu("areas")
    turn.say("\n".join(lines))


@words.command("CAMPAIGNS", "CAMPAIGN")
def send_campaigns(turn: Turn, _rest: str = "") -> None:
    lines = [turn.text_of("campaigns_header")]
    lines += [f"{i} {c.keyword} - {c.name}" for i, c in enumerate(turn.catalogue.campaigns, 1)]
    turn.show_menu("campaigns")
    turn.say("\n".join(lines))


def send_area(turn: Turn, number: int) -> None:
    demands = turn.catalogue.demands_in(number)
    lines = [f"{turn.catalogue.areas[number]}:"]
    lines += [f"{i} {d.keyword} - {d.title}" for i, d in enumerate(demands, 1)]
    lines.append("Reply a number or keyword, or MENU.")
    turn.show_menu(f"area:{number}")
    turn.say("\n".join(lines))


def _pick_from_menu(turn: Turn, number: int) -> bool:
    """Follow a numbered reply within the last menu shown; False if it means nothing there."""
    menu = turn.conversation.menu or "areas"
    if menu == "areas" and number in turn.catalogue.areas:
        send_area(turn, number)
        return True
    choices: list[DemandView | CampaignView] = []
    if menu.startswith("area:"):
        choices = list(turn.catalogue.demands_in(int(menu.split(":", 1)[1])))
    elif menu == "campaigns":
        choices = list(turn.catalogue.campaigns)
    if 1 <= number <= len(choices):
        send_item(turn, choices[number - 1])
        return True
    return False


def send_item(turn: Turn, item: DemandView | CampaignView) -> None:
    """Reply with a demand or campaign and remember the interest."""
    _, first_interest = subscribers.record_interest(turn.session, turn.subscriber, item.keyword, turn.is_new)
    if isinstance(item, DemandView):
        turn.subscriber.last_demand = item.keyword
        if first_interest and item.followup and turn.services is not None:
            schedule_followup(turn, item)
    turn.say(item.reply)


@words.command("YES", "NO", "Y", "N")
def nothing_pending(turn: Turn, _rest: str = "") -> None:
    turn.say("There's no question waiting for an answer. " + turn.text_of("menu_footer"))


def schedule_followup(turn: Turn, demand: DemandView) -> None:
    """Plan the follow-up for a new subscriber's first demand; enqueued after the commit."""
    body = turn.text_of("followup", title=demand.title, keyword=demand.keyword)
    send_at = utcnow() + timedelta(seconds=turn.settings.followup_delay_seconds)
    message = outbound.plan(turn.session, turn.subscriber.id, turn.subscriber.phone, "followup", body, send_at)
    turn.after_commit.append(lambda: outbound.enqueue_delivery(turn.services, message.id, send_at))
