"""After the call: ask how it went, store the answer on the legs, remind once about missed offices.

Twilio only knows a Dial was answered, not whether a person or a voicemail box picked
up, so the caller is asked (``1 talked, 2 voicemail, 3 no answer``) and the answer is
stored on the session's connected legs. Offices not reached get one reminder text
later (held to the caller's daytime by ``outbound.deliver``; not sent to a caller who
has used up today's calls). ``stats`` is what organizers see per demand and office.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from sms import defaults
from sms.calls import sessions
from sms.calls.models import CallLeg, CallSession
from sms.messaging import budget, compliance, languages, outbound
from sms.messaging.conversation import Turn, Words
from sms.services import Services
from sms.store import Conversation, Message, Subscriber, utcnow

REPORTS = {"1": "talked", "2": "voicemail", "3": "no-answer"}
OUTCOME_AGAIN = "Reply 1-3: 1 talked, 2 voicemail, 3 no answer."
"""A number outside the after-call question's list: the list again (``defaults.OUTCOME_QUESTION``'s)."""
MISSED = ("busy", "no-answer", "failed", "hangup", "canceled")


words = Words()
"""The after-call question: how did it go (1 talked, 2 voicemail, 3 no answer)."""
CALL_HOOKS: list[Callable[[Session, CallSession, str], None]] = []
"""Called with (session, call, change) in the same transaction when a call ends (``completed``, once) and
when the caller says how it went (``reported``), e.g. the event log; filled by ``sms.features.install``."""


def ask(session: Session, call: CallSession) -> bool:
    """Make the caller's next reply answer the outcome question; False if nothing connected."""
    legs = sessions.legs_of(session, call)
    if call.subscriber_id is None or not any(leg.outcome == "connected" for leg in legs):
        return False
    conversation = session.get(Conversation, call.subscriber_id)
    if conversation is None:
        conversation = Conversation(subscriber_id=call.subscriber_id)
        session.add(conversation)
    conversation.pending, conversation.data = "call_outcome", {"session": call.id}
    return True


@words.answer("call_outcome")
def answer_outcome(turn: Turn) -> bool:
    """``1``/``2``/``3`` after a call; anything else goes on to the usual commands."""
    report = REPORTS.get(turn.key)
    call = turn.session.get(CallSession, int((turn.conversation.data or {}).get("session", 0)))
    if call is not None and report is None and turn.key.isdigit() and len(turn.key) <= 2:
        turn.say(turn.t(OUTCOME_AGAIN))  # the last list shown
        return True
    if report is None or call is None:
        return False
    for leg in sessions.legs_of(turn.session, call):
        if leg.outcome == "connected":
            leg.reported = report
    for hook in CALL_HOOKS:
        hook(turn.session, call, "reported")
    turn.ask(None)
    if report == "no-answer":
        schedule_retry(turn.services, turn.session, call, commit=False, after_commit=turn.after_commit)
    turn.say(turn.t({"talked": "Thank you! Every conversation counts.",
                     "voicemail": "Thanks! Voicemails are tallied too.",
                     "no-answer": "Thanks for letting us know. We'll remind you later to try again."}[report]))
    return True


def unreached(session: Session, call: CallSession) -> list[str]:
    """Labels of offices the caller did not get through to (a member reached at any office counts)."""
    legs = sessions.legs_of(session, call)
    reached = {leg.label.split(",")[0] for leg in legs if leg.outcome == "connected" and leg.reported != "no-answer"}
    return list(dict.fromkeys(leg.label for leg in legs if leg.label.split(",")[0] not in reached
                              and (leg.outcome in MISSED or leg.reported == "no-answer")))


def schedule_retry(services: Services | None, session: Session, call: CallSession, now: datetime | None = None,
                   commit: bool = True, after_commit: list | None = None) -> Message | None:
    """Plan the one reminder about unreached offices (none twice, none past the daily limit)."""
    now = now or utcnow()
    missed = unreached(session, call)
    if services is None or call.retry_at is not None or not missed or call.subscriber_id is None:
        return None
    limit = services.settings.call_limit_per_day
    today = session.scalar(select(func.count(CallSession.id)).where(
        CallSession.phone == call.phone, CallSession.created_at >= now - timedelta(days=1))) or 0
    if (limit and today >= limit) or not compliance.may_message(session, call.phone):
        return None
    zone = compliance.subscriber_zone(session.get(Subscriber, call.subscriber_id))
    send_at = compliance.next_allowed_time(now + timedelta(hours=defaults.CALL_RETRY_REMINDER_HOURS), zone,
                                           services.settings.quiet_hours)
    code = language_of(session, call)

    def t(source: str, **values: object) -> str:
        return languages.translate(code, source, **values)

    again = t("reply CALL {keyword} to try again.", keyword=call.demand or "").replace("  ", " ")
    more = {shown: t(" and {count} more", count=len(missed) - shown) if len(missed) > shown else ""
            for shown in range(1, 4)}
    body = budget.first_fit([*(t("Earlier you didn't get through to {who}. Lines are often clearer now: {again}",
                                 who=", ".join(missed[:shown]) + more[shown], again=again)
                               for shown in range(min(len(missed), 3), 0, -1)),
                             t("Earlier you didn't get through to every office. Lines are often clearer now: {again}",
                               again=again)], reply_budget(services, code))
    message = outbound.plan(session, call.subscriber_id, call.phone, "call_retry", body, send_at)
    call.retry_at = send_at
    def nudge() -> None:
        outbound.enqueue_delivery(services, message.id, send_at)

    if commit:
        session.commit()
        nudge()
    elif after_commit is not None:
        after_commit.append(nudge)
    return message


@dataclass(frozen=True)
class Row:
    """Call results for one demand or office."""

    key: str
    placed: int
    connected: int
    talked: int
    avg_seconds: float | None


def stats(session: Session, by: str = "demand", since: datetime | None = None) -> list[Row]:
    """Calls placed (legs dialed), connected, talked (caller's report) and average connected duration.

    ``by`` is ``demand`` (keyword) or ``office`` (leg label: member, or member + district office).
    """
    group = CallSession.demand if by == "demand" else CallLeg.label
    connected = CallLeg.outcome == "connected"
    query = (select(group, func.count(CallLeg.id), func.sum(case((connected, 1), else_=0)),
                    func.sum(case((CallLeg.reported == "talked", 1), else_=0)),
                    func.avg(case((connected, CallLeg.duration), else_=None)))
             .join(CallSession, CallSession.id == CallLeg.session_id)
             .where(CallLeg.outcome != "skipped").group_by(group).order_by(func.count(CallLeg.id).desc(), group))
    if since is not None:
        query = query.where(CallLeg.started_at >= since)
    return [Row(key or "-", placed, int(conn or 0), int(talk or 0), float(avg) if avg is not None else None)
            for key, placed, conn, talk, avg in session.execute(query)]


def summary(legs: list[CallLeg], asked: bool, segments: int = defaults.MAX_REPLY_SEGMENTS,
            language: str | None = None) -> str:
    """The after-call text (and the outcome question) in ``segments``: fewer names until it fits."""
    question = " " + languages.translate(language, defaults.OUTCOME_QUESTION) if asked else ""
    forms = [sessions.summary_text(legs, shown, language) + question for shown in (None, *range(len(legs) - 1, -1, -1))]
    return budget.first_fit([*forms, sessions.summary_text(legs, 0, language)], segments)


def language_of(session: Session, call: CallSession) -> str | None:
    """The caller's language (None: the default), for the texts and the voice of a call."""
    subscriber = session.get(Subscriber, call.subscriber_id) if call.subscriber_id is not None else None
    return subscriber.language if subscriber is not None else None


def reply_budget(services: Services, code: str | None) -> int:
    settings = services.settings
    return languages.reply_budget(code, settings.max_reply_segments, settings.language_segments)


def finish(services: Services, session: Session, call: CallSession, status: str = "completed") -> None:
    """Close the session once and text the summary once (if an office was dialed).

    Its reads do not flush first: each would write what the finish changed so far in a unit of work
    of its own (five in a row), and none of them can find anything different for it. A voice step
    has no leg, conversation or subscriber pending, and the legs it changed are the same objects
    when read again. Everything is written together at the summary's commit, or at the end.
    """
    with session.no_autoflush:
        _finish(services, session, call, status)


def _finish(services: Services, session: Session, call: CallSession, status: str) -> None:
    ending = call.status in sessions.ACTIVE
    if ending:
        call.status = status
        call.ended_at = call.ended_at or utcnow()
    for leg in sessions.legs_of(session, call):
        if leg.outcome == "dialing":
            leg.outcome, leg.ended_at = "hangup", utcnow()
    if ending:
        for hook in CALL_HOOKS:
            hook(session, call, "completed")
    legs = sessions.legs_of(session, call)
    # Only texters get a summary: a caller who never texted has not agreed to texts.
    if call.summary_sent or call.subscriber_id is None or not any(leg.outcome != "skipped" for leg in legs):
        session.commit()
        return
    call.summary_sent = True
    asked = ask(session, call)
    code = language_of(session, call)
    sessions.send_text(services, session, call, summary(legs, asked, reply_budget(services, code), code),
                       kind="call_summary")
    schedule_retry(services, session, call)
