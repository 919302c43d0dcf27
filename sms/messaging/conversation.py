"""Inbound text → reply: consent first, then menus, keywords and pending questions.

``respond(turn)`` is the whole state machine. It reads the catalogue snapshot and
the texter's conversation row, changes them through the turn's session and says
its replies with ``turn.say``. Each feature keeps its words, questions and phrases in a
``Words`` table (``@words.command("CALL")``, ``@words.answer("call_zip")``,
``@words.phrase(r"call my senator")``); texts that only name a demand ("What is HR 1154?")
are answered through ``Catalogue.mentioned``, and every list shown fits the reply budget;
``sms.features`` lists every table once and ``install`` makes them the conversation's,
in the web process and the worker alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from sms import defaults, ratelimit
from sms.messaging import budget, compliance, intent, languages, outbound, subscribers, unkept
from sms.messaging.catalogue import (
    ENDED_TEXT,
    CampaignView,
    Catalogue,
    DemandView,
    fold,
    keyword_key,
    normalise,
)
from sms.settings import Settings
from sms.store import Conversation, Message, Subscriber, utcnow

MENU_WORDS = frozenset({"MENU", "HI", "HELLO", "JOIN", "HEY", "OPTIONS", "LIST"})
REJOIN_WORDS = frozenset({"SUBSCRIBE", "RESUBSCRIBE", "OPTIN", "REJOIN"})
"""Words asking for texts again that, like JOIN, only tell an opted-out number to reply START."""

MENU_DIGITS = 2
"""Menu numbers have one or two digits (a ZIP has five, the keyword 1033 four)."""

CommandHandler = Callable[["Turn", str], None]
AnswerHandler = Callable[["Turn"], bool]
PhraseHandler = Callable[["Turn", re.Match[str]], None]
COMMANDS: dict[str, CommandHandler] = {}
"""First word of a text → handler, from every installed ``Words`` table."""
ANSWERS: dict[str, AnswerHandler] = {}
"""Pending question → handler (returns False to let the text through), from every installed table."""
PHRASES: list[tuple[re.Pattern[str], PhraseHandler]] = []
"""Patterns searched in a folded text ("my zip is 02139", "call my senator") → handler, in table order."""


@dataclass
class Words:
    """One feature's words (a text's first word → handler) and answers (a pending question → handler)."""

    commands: dict[str, CommandHandler] = field(default_factory=dict)
    answers: dict[str, AnswerHandler] = field(default_factory=dict)
    phrases: list[tuple[re.Pattern[str], PhraseHandler]] = field(default_factory=list)
    unkept: dict[str, str] = field(default_factory=dict)
    """Questions whose answers are never stored → what their inbound rows hold (``sms.messaging.unkept``)."""

    def command(self, *words: str) -> Callable[[CommandHandler], CommandHandler]:
        """Handle texts whose first word is one of ``words``; the handler gets the rest."""

        def decorate(fn: CommandHandler) -> CommandHandler:
            for word in words:
                self.commands[word] = fn
            return fn

        return decorate

    def answer(self, pending: str, kept_as: str | None = None) -> Callable[[AnswerHandler], AnswerHandler]:
        """Handle replies to the question ``pending``; the handler returns False to pass.

        ``kept_as``: the reply is never stored, its inbound row holds this text instead.
        """

        def decorate(fn: AnswerHandler) -> AnswerHandler:
            self.answers[pending] = fn
            if kept_as is not None:
                self.unkept[pending] = kept_as
            return fn

        return decorate

    def phrase(self, pattern: str) -> Callable[[PhraseHandler], PhraseHandler]:
        """Handle texts in which ``pattern`` is found (searched in the folded, lower-case text)."""

        def decorate(fn: PhraseHandler) -> PhraseHandler:
            self.phrases.append((re.compile(pattern), fn))
            return fn

        return decorate


words = Words()
"""The conversation's own words: menus, campaigns, YES/NO."""
DELETE, DELETE_CONFIRM = "DELETE", "delete_confirm"
DELETE_ALIASES = ("BORRAR", "BORRARME")
"""The erasure command and its question (``sms.messaging.privacy``), heard from opted-out numbers too."""


def install(tables: Iterable[Words]) -> None:
    """Make ``tables`` the conversation's words; a word or question claimed twice is a bug."""
    commands: dict[str, CommandHandler] = {}
    answers: dict[str, AnswerHandler] = {}
    phrases: list[tuple[re.Pattern[str], PhraseHandler]] = []
    private: dict[str, str] = {}
    for table in tables:
        clash = (commands.keys() & table.commands.keys()) | (answers.keys() & table.answers.keys())
        if clash:
            raise ValueError(f"conversation words claimed twice: {', '.join(sorted(clash))}")
        commands.update(table.commands)
        answers.update(table.answers)
        phrases += table.phrases
        private.update(table.unkept)
    COMMANDS.clear()
    COMMANDS.update(commands)
    ANSWERS.clear()
    ANSWERS.update(answers)
    PHRASES[:] = phrases
    unkept.UNKEPT.clear()
    unkept.UNKEPT.update(private)


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
    interests: frozenset[str] | None = None
    """Keywords the texter had texted before this turn, read with them (None: ask the database)."""
    _classified: tuple[str, Any, intent.Verdict] | None = field(default=None, repr=False, compare=False)
    """The last ``intent.classify`` of this turn: (body, the catalogue's causes, verdict)."""

    def __post_init__(self) -> None:
        self.text = normalise(self.body)
        self.key = keyword_key(self.text)
        self.words = self.text.upper().split()

    def say(self, text: str) -> None:
        self.replies.append(text)

    def classify(self) -> intent.Verdict:
        """``intent.classify`` of this text against the catalogue's causes, once per body and catalogue.

        A new texter's text is classified to decide the opt-in and again to answer it.
        """
        causes = self.catalogue.causes
        if self._classified is None or self._classified[0] != self.body or self._classified[1] is not causes:
            self._classified = (self.body, causes, intent.classify(self.body, causes))
        return self._classified[2]

    @property
    def language(self) -> str:
        """The texter's language code (the default language until they choose or a first text shows one)."""
        return self.subscriber.language or languages.DEFAULT

    def t(self, source: str, **values: Any) -> str:
        """A system text (its English source) in the texter's language (``languages.translate``)."""
        return languages.translate(self.language, source, **values)

    def set_language(self, code: str, source: str) -> bool:
        """Make ``code`` the texter's language (an event if it changed); this turn's replies follow it."""
        changed = subscribers.set_language(self.session, self.subscriber, code, source)
        self.catalogue = self.catalogue.localized(code)
        return changed

    @property
    def budget(self) -> budget.Budget:
        """Segments a reply may take: MAX_REPLY_SEGMENTS, or the texter's language's GSM-7/UCS-2 budget."""
        return languages.reply_budget(self.language, self.settings.max_reply_segments,
                                      self.settings.language_segments)

    def fit(self, *candidates: str) -> str:
        """The first of ``candidates`` that fits the budget (the last one if none does)."""
        return budget.first_fit(candidates, self.budget)

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
    _keyword_language(turn)
    key = turn.key
    if turn.subscriber.opted_out:
        return _while_opted_out(turn)
    if key in compliance.START_WORDS:
        compliance.opt_in(turn.session, turn.subscriber, "sms", key)
        return turn.say(turn.text_of("start_confirm"))
    if key in compliance.HELP_WORDS:
        return turn.say(turn.text_of("help"))
    if (chosen := languages.chosen_by(key)) is not None:
        return choose_language(turn, chosen)
    _converse(turn)
    if turn.verdict.unclear:
        _flag_for_a_person(turn)
    return None


def _keyword_language(turn: Turn) -> None:
    """A texter who never chose a language and texts AYUDA hears the answer, and what follows, in Spanish.

    An opt-out (PARAR) is confirmed in the texter's language as it stands: leaving changes nothing else.
    """
    if turn.subscriber.language is None and (code := languages.keyword_language(turn.key)) is not None:
        turn.set_language(code, "detected")


def choose_language(turn: Turn, language: languages.Language) -> None:
    """ESPAÑOL, ENGLISH...: every reply from now on is in ``language``; a pending question stays pending."""
    turn.set_language(language.code, "sms")
    turn.say(language.switched)


def opts_out(turn: Turn) -> bool:
    """Whether this text revokes consent (so a first text that does never signs the number up)."""
    if turn.opt_out_type:
        return turn.opt_out_type == "STOP"
    return turn.key in compliance.STOP_WORDS or turn.classify().opt_out


def honour_opt_out(turn: Turn) -> bool:
    """Act on Twilio's own keyword handling or an opt-out in the text; True if the text was one.

    Also called for a texter over the inbound limit: an opt-out is never dropped.
    """
    if turn.opt_out_type:
        _twilio_keyword(turn)
        return True
    turn.verdict = turn.classify()
    if turn.key in compliance.STOP_WORDS or turn.verdict.opt_out:  # a STOP word alone, whatever the rules say
        _stop(turn)
        return True
    return False


def _converse(turn: Turn) -> None:
    pending = turn.conversation.pending
    if pending and pending in ANSWERS:
        if ANSWERS[pending](turn):
            return None
        turn.ask(None)
    if turn.key in COMMANDS:
        return COMMANDS[turn.key](turn, "")
    if understand(turn, turn.text):
        return None
    if turn.is_new or turn.key in MENU_WORDS or not turn.text and not turn.media_count:
        return send_menu(turn)
    turn.say(turn.text_of("unknown"))


def understand(turn: Turn, text: str) -> bool:
    """Answer ``text`` if it says something we know; False to fall back on the menu or the unknown reply.

    In order: an exact keyword or alias, a command as the first word (after a greeting: "Hi, what
    is HR 1154?"), a phrase ("my zip is 02139", "call my senator"), a number from the last list,
    then the demands the text names (one is answered, several are offered as a numbered choice).
    """
    key = keyword_key(text)
    item = turn.catalogue.lookup(key)
    if item is not None:  # before first-word commands, so "NO KNOCK" is not "NO"
        send_item(turn, item)
        return True
    if key in turn.catalogue.ended:
        send_ended(turn, turn.catalogue.ended[key])
        return True
    first, _, rest = text.partition(" ")
    first_key = keyword_key(first)
    if first_key in MENU_WORDS and rest and understand(turn, rest):
        return True
    if first_key in COMMANDS:
        COMMANDS[first_key](turn, rest)
        return True
    folded = fold(text)
    for pattern, handler in PHRASES:
        if (match := pattern.search(folded)) is not None:
            handler(turn, match)
            return True
    if key.isdigit() and len(key) <= MENU_DIGITS:
        return _pick_from_menu(turn, int(key))
    named = turn.catalogue.mentioned(text)
    if len(named) == 1:  # "chokehold ban", "END NO KNOCK WARRANTS", "tell me about qualified immunity"
        send_item(turn, named[0])
    elif named:
        send_choice(turn, named)
    return bool(named)


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
    if turn.key in compliance.START_WORDS or turn.key == "YES":  # not SI: a Spanish yes rejoins with START
        compliance.opt_in(turn.session, turn.subscriber, "sms", turn.key)
        turn.say(turn.text_of("start_confirm"))
    elif turn.key in compliance.HELP_WORDS:
        turn.say(turn.text_of("help"))
    elif turn.key in (DELETE, *DELETE_ALIASES) and DELETE in COMMANDS:  # erasure must not need a rejoin
        COMMANDS[DELETE](turn, "")
    elif _asks_for_texts(turn) and _once_a_day(turn, "rejoin-hint"):
        turn.say(turn.t(compliance.REJOIN_HINT, org=turn.settings.org_name))


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
        turn.replies = compliance.with_hint(turn.replies, turn.t(compliance.STOP_HINT), turn.budget)
    compliance.flag_for_review(turn.session, turn.subscriber, turn.inbound, turn.verdict.rule, hint or turn.is_new)


@words.command(*MENU_WORDS)
def send_menu(turn: Turn, _rest: str = "") -> None:
    """Welcome + numbered areas."""
    rows = [("", title) for _, title in sorted(turn.catalogue.areas.items())]
    turn.show_menu("areas")
    turn.say(budget.numbered(turn.text_of("welcome"), rows, turn.text_of("menu_footer"), turn.budget))


def send_ended(turn: Turn, title: str) -> None:
    """A retired demand's keyword: say it ended, then the areas still offered (its history stays)."""
    template = turn.catalogue.texts.get("ended", ENDED_TEXT)
    rows = [("", area) for _, area in sorted(turn.catalogue.areas.items())]
    turn.show_menu("areas")
    turn.say(budget.numbered(_fill_title(template, title), rows, turn.text_of("menu_footer"), turn.budget))


def _fill_title(template: str, title: str) -> str:
    return template.replace("{title}", title)


@words.command("CAMPAIGNS", "CAMPAIGN", "CAMPANAS", "CAMPANA")
def send_campaigns(turn: Turn, _rest: str = "") -> None:
    rows = [(c.keyword, c.name) for c in turn.catalogue.campaigns]
    turn.show_menu("campaigns")
    turn.say(budget.numbered(turn.text_of("campaigns_header"), rows, "", turn.budget))


def send_area(turn: Turn, number: int) -> None:
    turn.show_menu(f"area:{number}")
    turn.say(area_text(turn.catalogue, number, turn.budget))


def area_text(catalogue: Catalogue, number: int, segments: int) -> str:
    """An area's numbered demands, as texted in the catalogue's language (the console's editor shows it too)."""
    rows = [(d.keyword, d.title) for d in catalogue.demands_in(number)]
    footer = languages.translate(catalogue.language, "Reply a number or keyword, or MENU.")
    return budget.numbered(f"{catalogue.areas[number]}:", rows, footer, segments)


CHOICE = "choice:"
"""The menu of a numbered choice between the items a text named: ``choice:1033,INSURRECTION``."""


def send_choice(turn: Turn, items: list[DemandView | CampaignView]) -> None:
    """The text named several demands (or campaigns): which one? Answerable by number."""
    items = items[:9]
    rows = [(i.keyword, i.title if isinstance(i, DemandView) else i.name) for i in items]
    turn.show_menu(CHOICE + ",".join(i.keyword for i in items))
    turn.say(budget.numbered(turn.t("Which one do you mean?"), rows, turn.t("Reply a number, or MENU for all demands."),
                             turn.budget))


def _menu_items(turn: Turn, menu: str) -> list[DemandView | CampaignView]:
    if menu.startswith("area:"):
        return list(turn.catalogue.demands_in(int(menu.split(":", 1)[1])))
    if menu == "campaigns":
        return list(turn.catalogue.campaigns)
    if menu.startswith(CHOICE):
        found = (turn.catalogue.lookup(keyword_key(k)) for k in menu[len(CHOICE):].split(","))
        return [item for item in found if item is not None]
    return []


def _pick_from_menu(turn: Turn, number: int) -> bool:
    """Follow a numbered reply within the last list shown, or say which numbers it has.

    False only for a new texter who has seen no list yet (they get the menu).
    """
    menu = turn.conversation.menu or "areas"
    if menu == "areas":
        if number in turn.catalogue.areas:
            send_area(turn, number)
            return True
        count = len(turn.catalogue.areas)
    else:
        choices = _menu_items(turn, menu)
        if 1 <= number <= len(choices):
            send_item(turn, choices[number - 1])
            return True
        count = len(choices)
    if turn.is_new and not turn.conversation.menu or not count:
        return False
    turn.say(turn.t("Reply {range} to choose from the last list, or MENU for the demands.",
                    range="1" if count == 1 else f"1-{count}"))
    return True


def send_item(turn: Turn, item: DemandView | CampaignView) -> None:
    """Reply with a demand or campaign and remember the interest."""
    _, first_interest = subscribers.record_interest(turn.session, turn.subscriber, item.keyword, turn.is_new,
                                                    known=turn.interests)
    if isinstance(item, DemandView):
        turn.subscriber.last_demand = item.keyword
        if first_interest and item.followup and turn.services is not None:
            schedule_followup(turn, item)
    turn.say(item.reply)


@words.command("YES", "NO", "Y", "N", "SI")
def nothing_pending(turn: Turn, _rest: str = "") -> None:
    footer = turn.text_of("menu_footer")
    turn.say(turn.fit(turn.t("There's no question waiting for an answer.") + " " + footer, footer))


def schedule_followup(turn: Turn, demand: DemandView) -> None:
    """Plan the follow-up for a new subscriber's first demand; enqueued after the commit."""
    body = turn.text_of("followup", title=demand.title, keyword=demand.keyword)
    send_at = utcnow() + timedelta(seconds=turn.settings.followup_delay_seconds)
    message = outbound.plan(turn.session, turn.subscriber.id, turn.subscriber.phone, "followup", body, send_at)
    turn.after_commit.append(lambda: outbound.enqueue_when_near(turn.services, message.id, send_at))
