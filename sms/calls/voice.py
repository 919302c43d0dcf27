"""The patch-through call as TwiML steps, each safe to request twice.

Every step names what it answers (``/voice/next?leg=2``) and reads the session by
``CallSid``; if the session has already moved past that step (a Twilio retry or a
duplicate delivery), the step answers with where the call is now instead of acting
again, so an office is never dialed twice and no target is skipped by accident.

    answer (call-back) / incoming (call-in) → [zip → district] → intro: Gather "press 1"
    → connect → Dial target 0 → dialed?leg=0 → between: Gather "* skip, # end"
    → next?leg=1 → Dial target 1 → ... → thank you, summary text
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from typing import Any

from sqlalchemy import Insert, and_, bindparam, insert, or_, select
from sqlalchemy.orm import Session
from twilio.twiml import TwiML
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from sms import defaults
from sms.calls import office_hours, outcomes, routing, sessions, stances
from sms.calls.commands import fill_script
from sms.calls.models import CallLeg, CallSession
from sms.messaging import catalogue, compliance, languages
from sms.services import Services
from sms.store import Subscriber, utcnow
from sms.targets import lookup

TERMINAL = ("completed", "busy", "no-answer", "failed", "canceled")


class Flow:
    """One voice request: the services, a database session and the TwiML being built."""

    def __init__(self, services: Services, session: Session) -> None:
        self.services = services
        self.session = session
        self.settings = services.settings
        self.vr = VoiceResponse()
        self.language: str | None = None
        """The caller's language (None: the default), once the call is known (``bind``)."""
        self._languages: dict[int, str | None] = {}
        """Subscriber id → language, read once per request (the steps bind the call several times)."""
        self.version: str | None = None
        """The catalogue version read with the call (None: not read yet, ``catalogue.current`` asks)."""
        self.legs: dict[tuple[int, int], CallLeg | None] = {}
        """(session id, position) → its leg (None: none yet), read with the call for the position it was at."""

    def bind(self, call: CallSession | None) -> CallSession | None:
        """Speak ``call``'s caller's language from now on (their subscriber row's)."""
        if call is not None and call.subscriber_id is not None:
            if call.subscriber_id not in self._languages:
                self._languages[call.subscriber_id] = self.session.scalar(LANGUAGE, {"id": call.subscriber_id})
            self.language = self._languages[call.subscriber_id]
        return call

    def find(self, form: Mapping[str, str]) -> CallSession | None:
        """The session holding the request's CallSid, bound (its caller's language, the catalogue
        version and the leg at its position read in the same query)."""
        sid = call_sid(form)
        row = self.session.execute(BY_SID_SPOKEN, {"sid": sid}).first() if sid else None
        if row is None:
            return None
        call, language, version, leg = row
        self.legs[(call.id, call.position)] = leg
        return self.bind(self.known(call, language, version))

    def leg(self, call: CallSession, position: int) -> CallLeg | None:
        """Leg ``position`` of ``call``: as read with the call if it is that one, else read now.

        Read without flushing the step's changes first: nothing pending can change what it finds.
        A leg is written at once (``_write_leg``, which forgets what was read here for it), and a
        leg read earlier is the same object again. The step's changes are written at its end
        (``core_writes.write_session`` in ``steps``), not by an autoflush here.
        """
        if (call.id, position) in self.legs:
            return self.legs[(call.id, position)]
        with self.session.no_autoflush:
            return self.session.scalar(LEG, {"session_id": call.id, "position": position})

    def known(self, call: CallSession, language: str | None, version: str | None) -> CallSession:
        """``call``, its caller's ``language`` and the catalogue ``version`` read along with it (so
        neither ``bind`` nor ``catalogue`` needs a query of its own)."""
        if call.subscriber_id is not None:
            self._languages[call.subscriber_id] = language
        self.version = version
        return call

    def say(self, text: str, into: Any = None, **values: Any) -> None:
        """Say the system text ``text`` (its English source) in the caller's language, with its voice."""
        voice, language = self.voice()
        spoken = languages.translate(self.language, text, **values)
        (into or self.vr).say(spoken, voice=voice, language=language)

    def say_as_is(self, text: str, into: Any = None) -> None:
        """Say ``text``, already in the caller's language (a script, a demand's title)."""
        voice, language = self.voice()
        (into or self.vr).say(text, voice=voice, language=language)

    def voice(self) -> tuple[str, str]:
        """The ``<Say>`` voice and language: VOICE_NAME/VOICE_LANGUAGE, or the caller's language's."""
        override = self.settings.language_voices.get(self.language or "")
        if override is not None:
            return override
        return languages.voice(self.language, self.settings.voice_name, self.settings.voice_language)

    def gather(self, **options: Any) -> Gather:
        """A ``<Gather>``; in another language than the default it says which (``language="es-US"``)."""
        if languages.known(self.language) and self.language != languages.DEFAULT:
            options["language"] = languages.gather_language(self.language, self.settings.voice_language)
        return Gather(**options)

    def catalogue(self) -> catalogue.Catalogue:
        """The stored catalogue in the caller's language."""
        return self.stored_catalogue().localized(self.language)

    def stored_catalogue(self) -> catalogue.Catalogue:
        """The stored catalogue, by the version read with the call if it was (one query fewer)."""
        return catalogue.current(self.session, self.version)

    def url(self, path: str) -> str:
        return self.services.url(path)

    def goodbye(self, text: str, **values: Any) -> str:
        """Say ``text`` and hang up."""
        self.say(text, **values)
        self.vr.hangup()
        return self.render()

    def render(self) -> str:
        """The TwiML built so far, as text (rendered once per distinct document, see ``_Document``)."""
        try:
            return _render(_Document(self.vr))
        except TypeError:  # an unhashable attribute or text (Action Line's verbs have none): rendered as is
            return str(self.vr)


class _Document:
    """A TwiML tree compared by its content: the same verbs, attributes and text render the same XML.

    Most replies repeat (the same intro, the same office dialed for every caller of a demand), and
    ElementTree's serialisation cost more than the rest of building them.
    """

    __slots__ = ("key", "tree")

    def __init__(self, tree: TwiML) -> None:
        self.tree, self.key = tree, _content(tree)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Document) and self.key == other.key


def _content(verb: TwiML | str) -> Hashable:
    """Everything ``TwiML.xml`` reads from ``verb``: its name, attributes, text and children, in order.

    An attribute's type is part of it: ``True`` renders "true" where ``1`` renders "1".
    """
    if isinstance(verb, str):
        return verb
    attrs = tuple((name, type(value), value) for name, value in sorted(verb.attrs.items()))
    return verb.name, attrs, verb.value, tuple(_content(v) for v in verb.verbs)


@functools.lru_cache(maxsize=1024)
def _render(document: _Document) -> str:
    return str(document.tree)


SID_LENGTH = 64
"""call_sessions.call_sid's width: a longer CallSid is cut to it everywhere, so its repeat finds the same session."""


def call_sid(form: Mapping[str, str]) -> str:
    """The request's CallSid as stored (stripped, cut to the column), or ""."""
    return (form.get("CallSid") or "").strip()[:SID_LENGTH]


# Built once (every step reads a session and its legs): building a statement and its cache key
# costs more per request than running it.
BY_SID = select(CallSession).where(CallSession.call_sid == bindparam("sid"))
_SPOKEN = (select(CallSession, Subscriber.language, catalogue.version_query().scalar_subquery())
           .outerjoin(Subscriber, Subscriber.id == CallSession.subscriber_id))
_AT_POSITION = and_(CallLeg.session_id == CallSession.id, CallLeg.position == CallSession.position,
                    CallLeg.attempt == 1)
BY_SID_SPOKEN = (_SPOKEN.add_columns(CallLeg).outerjoin(CallLeg, _AT_POSITION)
                 .where(CallSession.call_sid == bindparam("sid")))
"""The session holding a CallSid, its caller's language, the catalogue version and the leg at its position
(the one every step after the answer asks about): one round trip for all."""
ANSWERING = _SPOKEN.where(or_(CallSession.token == bindparam("token"), CallSession.call_sid == bindparam("sid")))
"""The session the answer URL names, and any session already holding the CallSid (with their language
and the catalogue version)."""
LANGUAGE = select(Subscriber.language).where(Subscriber.id == bindparam("id"))
LEG = select(CallLeg).where(CallLeg.session_id == bindparam("session_id"), CallLeg.position == bindparam("position"),
                            CallLeg.attempt == 1)


def by_sid(session: Session, form: Mapping[str, str]) -> CallSession | None:
    sid = call_sid(form)
    return session.scalar(BY_SID, {"sid": sid}) if sid else None


def answer(flow: Flow, form: Mapping[str, str], token: str) -> str:
    """The call-back was answered: bind the CallSid, then the script and the voicemail guard.

    A CallSid already bound to another session (a replayed or forged webhook) answers nothing here.
    """
    sid = call_sid(form)
    found = [flow.known(*row) for row in flow.session.execute(ANSWERING, {"token": token, "sid": sid})] \
        if token and sid else []
    call = next((c for c in found if c.token == token), None)
    if call is None or (call.call_sid and call.call_sid != sid) or any(c is not call for c in found):
        return flow.goodbye("Sorry, this call has expired. Goodbye.")
    flow.bind(call)
    late = sessions.placed_after_all(call)  # our request timed out, yet Twilio placed the call
    allowed = compliance.may_message(flow.session, call.phone)  # before any change: no flush of its own
    call.call_sid = sid
    if not allowed:
        call.status = "canceled"
        return flow.goodbye("Goodbye.")
    if call.status == "confirmed":
        return current(flow, call)
    if call.status in ("queued", "placing", "placed") or late:
        call.status, call.answered_at = "answered", utcnow()
    return intro(flow, call)


def intro(flow: Flow, call: CallSession) -> str:
    """Say the demand, then wait for a key: nothing is bridged to an answering machine."""
    flow.bind(call)
    demand = flow.catalogue().demand(call.demand or "")
    labels = ", ".join(lookup.Target.of(t).label for t in call.targets)
    if demand:
        flow.say("Hello from {org}. Thank you for taking action on: {title}.", org=flow.settings.org_name,
                 title=demand.title)
    else:
        flow.say("Hello from {org}. Thank you for taking action.", org=flow.settings.org_name)
    gather = flow.gather(num_digits=1, action=flow.url("/voice/connect"), timeout=defaults.CALL_GATHER_TIMEOUT)
    more = " " + languages.translate(flow.language, "Press 2 to hear another issue.") \
        if call.direction == "callin" else ""
    flow.say("Press 1 now to be connected to {labels}.{more}", into=gather, labels=labels, more=more)
    flow.vr.append(gather)
    return flow.goodbye("We didn't hear a key press, so we'll hang up now. Text CALL anytime to try again.")


def connect(flow: Flow, form: Mapping[str, str], _arg: str = "") -> str:
    call = flow.find(form)
    if call is None:
        return flow.goodbye("Sorry, we lost track of this call. Goodbye.")
    digits = (form.get("Digits") or "").strip()
    if call.status == "confirmed":
        return current(flow, call)
    if call.status != "answered":
        return flow.goodbye("This call has ended. Goodbye.")
    if digits == "2" and call.direction == "callin":
        demands = flow.stored_catalogue().demands
        keywords = [d.keyword for d in demands]
        index = keywords.index(call.demand) + 1 if call.demand in keywords else 0
        return choose_demand(flow, call, demands[index % len(demands)].keyword)
    if digits != "1":
        return intro(flow, call)
    call.status = "confirmed"
    return current(flow, call)


def choose_demand(flow: Flow, call: CallSession, keyword: str) -> str:
    """Plan the offices for ``keyword`` (a call-in choosing or switching demand), then the intro."""
    demand = flow.stored_catalogue().demand(keyword)
    seats = [(s, int(d)) for s, d in call.seats]
    plan = sessions.plan(flow.session, flow.settings, demand, seats[0][0] if seats else None, seats,
                         zip_code=call.zip)
    if plan.outside and plan.instead:  # a local set that takes no call from them: their Congress call
        flow.say("{outside}, so we'll connect you with your members of Congress instead.", outside=plan.outside)
        return choose_demand(flow, call, plan.instead)
    routed, _notes = routing.route(flow.services, flow.session, plan.targets, call.zip, seats[0][0] if seats else None)
    call.demand, call.targets = keyword, sessions.stored(routed, plan.thanked)
    if plan.outside:
        return flow.goodbye("{outside}. Text MENU to this number for other ways to act. Goodbye.",
                            outside=plan.outside)
    if not plan.targets:
        return flow.goodbye("Sorry, there is no office to call about this issue from your area. Goodbye.")
    schedule = office_hours.schedule_of(flow.session, flow.settings, demand.targets)
    opens = office_hours.opening(schedule, routed, office_hours.clock())
    if opens is not None:
        call.status = "closed"
        return flow.goodbye("The offices are closed right now. They open {opens}. Text CALL to this number "
                            "and we'll call you back when they open. Goodbye.", opens=opens)
    return intro(flow, call)


def current(flow: Flow, call: CallSession) -> str:
    """TwiML for where the session is now (the answer to any repeated step)."""
    flow.bind(call)
    position = call.position
    if position >= len(call.targets):
        return finish(flow, call)
    leg = flow.leg(call, position)
    if (leg is not None and leg.outcome == "dialing") or position == 0:
        return dial(flow, call, position, leg)
    return between(flow, call, position)


@functools.cache
def _insert_leg() -> Insert:
    return insert(CallLeg.__table__)


def _write_leg(flow: Flow, call: CallSession, position: int, **fields: Any) -> None:
    """Record leg ``position`` of ``call`` (its first attempt) now, with one Core ``INSERT``.

    Not a mapped object flushed by the unit of work, which cost more than the step's own work; the
    row is written at once as the flush wrote it (a duplicate in a race fails here, and the step is
    asked again), and a later read in the step finds it in the database. Nothing in a step uses the
    leg it just wrote as an object.
    """
    target = call.targets[position]
    flow.legs.pop((call.id, position), None)
    flow.session.connection().execute(_insert_leg(), {
        "session_id": call.id, "position": position, "kind": target["kind"], "ref": target["ref"],
        "label": lookup.Target.of(target).label, **fields})


def dial(flow: Flow, call: CallSession, position: int, leg: CallLeg | None) -> str:
    """Connect the caller to target ``position`` (recording its ``leg`` unless there is one: the caller read it)."""
    target = call.targets[position]
    spoken = lookup.Target.of(target).spoken
    if leg is None:
        _write_leg(flow, call, position, number=target["phone"])
    if target.get("script") == "thank":
        script = stances.thank_script(flow.session, call.demand or "")
        flow.say_as_is(languages.translate(flow.language, "{spoken} supports this, so please thank them.",
                                           spoken=spoken) + " " + fill_script(script, spoken, call.zip, None))
    elif position == 0:
        demand = flow.catalogue().demand(call.demand or "")
        if demand is not None and demand.script:
            flow.say_as_is(languages.translate(flow.language, "Here is what to say.") + " "
                           + fill_script(demand.script, spoken, call.zip, None))
    flow.say("Connecting you to {spoken}.", spoken=spoken)
    dial_verb = Dial(caller_id=flow.services.transport.phone_number, timeout=defaults.CALL_DIAL_TIMEOUT,
                     action=flow.url(f"/voice/dialed?leg={position}"))
    dial_verb.number(target["phone"])
    flow.vr.append(dial_verb)
    return flow.render()


def between(flow: Flow, call: CallSession, position: int) -> str:
    """Before the next office: * skips it, # ends the call, silence goes on."""
    spoken = lookup.Target.of(call.targets[position]).spoken
    gather = flow.gather(num_digits=1, action=flow.url(f"/voice/next?leg={position}"), timeout=3)
    flow.say("Next: {spoken}. Press star to skip this office, or pound to end the call.", into=gather, spoken=spoken)
    flow.vr.append(gather)
    flow.vr.redirect(flow.url(f"/voice/next?leg={position}"))
    return flow.render()


def next_target(flow: Flow, form: Mapping[str, str], arg: str) -> str:
    call = flow.find(form)
    if call is None or call.status != "confirmed":
        return flow.goodbye("This call has ended. Goodbye.")
    position = _position(arg)
    if position != call.position or (leg := flow.leg(call, position)) is not None:
        return current(flow, call)  # a repeated request: answer with where the call is now
    digits = (form.get("Digits") or "").strip()
    if digits == "#":
        return finish(flow, call)
    if digits == "*":
        _write_leg(flow, call, position, number=None, outcome="skipped", ended_at=utcnow())
        call.position = position + 1
        return current(flow, call)
    return dial(flow, call, position, leg)


def dialed(flow: Flow, form: Mapping[str, str], arg: str) -> str:
    """The Dial to target ``leg`` ended: record it once, move on once."""
    call = flow.find(form)
    if call is None:
        return flow.goodbye("Goodbye.")
    position = _position(arg)
    leg = flow.leg(call, position)
    if leg is not None and leg.dial_status is None and leg.outcome == "dialing":
        status = (form.get("DialCallStatus") or "failed").strip().lower()
        leg.dial_status, leg.outcome = status[:16], sessions.OUTCOMES.get(status, "failed")
        leg.dial_sid = (form.get("DialCallSid") or "")[:64] or None
        leg.duration = _int(form.get("DialCallDuration"))
        leg.ended_at = utcnow()
        routing.record(flow.services.redis, leg.ref, leg.id, leg.outcome, leg.ended_at)
        if leg.outcome in routing.FAILED and call.status == "confirmed":
            _add_fallback(flow, call, position)
    if leg is not None and call.position == position:
        call.position = position + 1
    if call.status != "confirmed":
        return flow.goodbye("Goodbye.")
    fresh = call.targets[call.position] if call.position < len(call.targets) else {}
    if fresh.get("fallback_for") and flow.leg(call, call.position) is None:
        previous = flow.leg(call, call.position - 1)
        busy = previous is not None and previous.outcome == "busy"
        flow.say("That line was busy. Let's try {spoken}." if busy else "That line didn't answer. Let's try {spoken}.",
                 spoken=lookup.Target.of(fresh).spoken)
        if flow.settings.call_busy_fallback == "auto":
            return dial(flow, call, call.position, None)
    return current(flow, call)


def _add_fallback(flow: Flow, call: CallSession, position: int) -> None:
    """Busy DC line: put the member's best district office next (the organizer chose offer or auto)."""
    if flow.settings.call_busy_fallback == "off":
        return
    office = routing.fallback(flow.services.redis, flow.session, call.targets, position, call.zip)
    if office is not None:
        call.targets = [*call.targets[:position + 1], office, *call.targets[position + 1:]]


def finish(flow: Flow, call: CallSession) -> str:
    flow.bind(call)
    outcomes.finish(flow.services, flow.session, call)
    if call.summary_sent:
        return flow.goodbye("Thank you for making your voice heard! We'll text you a summary. Goodbye.")
    return flow.goodbye("Thank you for making your voice heard! Goodbye.")


def status(flow: Flow, form: Mapping[str, str], _arg: str = "") -> str:
    """Twilio's call status callback: settle sessions the caller never confirmed."""
    call = by_sid(flow.session, form)
    state = (form.get("CallStatus") or "").strip().lower()
    if call is None or not state:
        return ""
    call.call_status = state[:16]
    if state in TERMINAL:
        call.duration = _int(form.get("CallDuration")) or call.duration
        call.ended_at = call.ended_at or utcnow()
        if call.status in ("queued", "placing", "placed"):
            call.status = "unanswered"
        elif call.status == "answered":
            call.status = "unconfirmed"
        elif call.status == "confirmed":
            outcomes.finish(flow.services, flow.session, call)
    return ""


def _position(arg: str) -> int:
    try:
        return int(arg)
    except (TypeError, ValueError):
        return -1


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None

