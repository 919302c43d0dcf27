"""Audiences, broadcasts and reminders: ``flask segment|broadcast|remind ...``."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import click
from sqlalchemy import select

from handlers.cli.base import Commands, filter_options, filters_of
from handlers.context import services
from sms.broadcasts import audiences, compose, lifecycle, reminders, waiting
from sms.broadcasts.models import Broadcast, Reminder
from sms.store import utcnow

commands = Commands()
WATCH_SECONDS = 2
"""How often ``broadcast status --watch`` looks again."""


def parse_time(value: str | None, option: str) -> datetime | None:
    return audiences.parse_when(value, option) if value else None


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _one_line(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def _render_preview(p: lifecycle.Preview, session: Any = None, broadcast: Broadcast | None = None) -> None:
    click.echo(f"Recipients: {p.recipients}\nEncoding: {p.encoding}\nSegments per message: "
               f"{p.segments_per_message}\nTotal segments: {p.total_segments}\n"
               f"Estimated cost: ${p.estimated_cost:,.2f}")
    for part in p.languages:
        own = "" if part.translated else " (no text in it: they get the default one)"
        click.echo(f"  {part.language}: {_plural(part.recipients, 'recipient')}, {part.encoding}, "
                   f"{_plural(part.segments_per_message, 'segment')} each, ${part.estimated_cost:,.2f}{own}")
    if p.capped:
        click.echo(f"Left out by the frequency cap: {p.capped} of the {p.audience} in the audience "
                   "(not counted in Recipients, segments or cost; BROADCAST_CAP_DAY / BROADCAST_CAP_WEEK)")
    if broadcast is not None:
        _render_truth(session, broadcast)


def _translations(values: tuple[str, ...]) -> dict[str, str]:
    """``--translation es=TEXT`` options as ``{"es": TEXT}``."""
    out = {}
    for value in values:
        code, sep, text = value.partition("=")
        if not sep or not code.strip():
            raise click.BadParameter(f"{value[:20]!r} must look like es=TEXT", param_hint="--translation")
        out[code.strip().lower()] = text
    return out


TRANSLATION_OPTION = click.option("--translation", "translations", multiple=True,
                                  help="The text in another language, like es=TEXT (repeatable); its texters get it.")


def _render_truth(session: Any, broadcast: Broadcast) -> None:
    """The audience in words, the text as one of its recipients gets it, and what makes it UCS-2."""
    click.echo(f"Audience: {audiences.in_words(broadcast.filters, broadcast.urgent)}")
    sample = compose.sample_message(session, broadcast.body, broadcast.filters, broadcast.urgent)
    who = f"As {sample['who']} gets it" if sample["who"] else "With sample values (nobody in the audience yet)"
    click.echo(f"{who}: {sample['text']}")
    for used in sample["fallbacks"]:
        click.echo(f"  {{{used['field']}}} is empty for them: \"{used['fallback']}\" is used instead.")
    help_ = compose.encoding_help(broadcast.body)
    if help_["ucs2_characters"]:
        click.echo(f"UCS-2 because of {', '.join(help_['ucs2_characters'])}.")
        if help_["gsm_alternative"]:
            click.echo(f"In GSM-7 ({_plural(help_['gsm_alternative_segments'], 'segment')} each): "
                       f"{help_['gsm_alternative']}")


# -- segment ----------------------------------------------------------------------------------------------------

@commands.group("segment")
def segment_cli() -> None:
    """Saved audiences (opted-in subscribers only)."""


@segment_cli.command("save")
@click.argument("name")
@filter_options
@click.option("--called/--never-called", default=None, help="Has (not) asked for a call.")
@click.option("--joined-after", help="Subscribed on or after this date (ISO 8601).")
@click.option("--joined-before", help="Subscribed before this date (ISO 8601).")
@click.option("--active-since", help="Texted on or after this date (ISO 8601).")
@click.option("--active-before", help="Last texted before this date (ISO 8601).")
def segment_save(name: str, **filters: Any) -> None:
    """Create or replace segment NAME and print how many it selects."""
    with services().db.session() as session:
        segment = audiences.save(session, name, filters_of(filters))
        session.commit()
        click.echo(f"Segment {segment.name}: {audiences.count(session, segment.filters)} subscribers")


@segment_cli.command("list")
def segment_list() -> None:
    """List saved segments and their filters."""
    with services().db.session() as session:
        segments = audiences.all_segments(session)
        width = max((len(s.name) for s in segments), default=0)
        for segment in segments:
            click.echo(f"{segment.name:<{width}}  {audiences.describe(segment.filters)}")
    if not segments:
        click.echo("No saved segments (flask segment save NAME --state KY ...).")


@segment_cli.command("preview")
@click.argument("name")
def segment_preview(name: str) -> None:
    """Count the subscribers segment NAME selects (a SQL COUNT)."""
    with services().db.session() as session:
        click.echo(audiences.count(session, audiences.get(session, name).filters))


# -- broadcast --------------------------------------------------------------------------------------------------

@commands.group("broadcast")
def broadcast_cli() -> None:
    """Compose, preview, send and steer broadcasts."""


@broadcast_cli.command("create")
@click.option("--message", required=True, help="The text (merge fields: {first_name} {rep} {zip}).")
@filter_options
@click.option("--segment", help="A saved segment name.")
@click.option("--send-at", help="ISO 8601 time (UTC unless an offset is given); schedules the broadcast.")
@click.option("--mps", type=float, help="Messages per second (default BROADCAST_MPS).")
@click.option("--urgent", is_flag=True, help="Also reaches LESS subscribers and ignores quiet hours.")
@click.option("--id-only", is_flag=True, help="Print only the new broadcast's id (for scripts).")
@TRANSLATION_OPTION
def broadcast_create(message: str, segment: str | None, send_at: str | None, mps: float | None, urgent: bool,
                     id_only: bool, translations: tuple[str, ...], **filters: Any) -> None:
    """Create a draft broadcast, or a scheduled one.

    Prints the preview (recipients, segments, cost) and how to send it; with --send-at
    it is scheduled for that time instead. --id-only prints just the new id.
    """
    svc = services()
    with svc.db.session() as session:
        broadcast = lifecycle.create(session, svc.settings, message, filters_of(filters), segment,
                                     parse_time(send_at, "--send-at"), mps, urgent,
                                     translations=_translations(translations))
        session.commit()
        broadcast_id, when = broadcast.id, broadcast.send_at
    if when is not None:
        lifecycle.send(svc, broadcast_id)
    if id_only:
        click.echo(broadcast_id)
        return
    with svc.db.session() as session:
        broadcast = lifecycle.get(session, broadcast_id)
        p = lifecycle.preview(session, svc.settings, broadcast)
        _render_preview(p, session, broadcast)
    recipients = _plural(p.recipients, "recipient")
    if when is None:
        click.echo(f"Broadcast {broadcast_id} created (draft, {recipients}). "
                   f"Send it: flask broadcast send {broadcast_id}")
    else:
        click.echo(f"Broadcast {broadcast_id} created (scheduled for {when.isoformat()}, {recipients}). "
                   f"Cancel it: flask broadcast cancel {broadcast_id}")


@broadcast_cli.command("list")
@click.option("--status", type=click.Choice(lifecycle.STATUSES), help="Only broadcasts in this state.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many to list.")
def broadcast_list(status: str | None, limit: int) -> None:
    """List broadcasts, newest first.

    Recipients are counted now for drafts and scheduled broadcasts; once sending
    started they read finished/planned deliveries.
    """
    with services().db.session() as session:
        rows = lifecycle.recent(session, status, limit)
    if not rows:
        click.echo(f"No {status} broadcasts." if status else "No broadcasts yet (flask broadcast create --help).")
        return
    click.echo(f"{'id':>6}  {'status':<9}  {'created (UTC)':<16}  {'recipients':>11}  message")
    for row in rows:
        recipients = f"{row.recipients:,}" if row.finished is None else f"{row.finished:,}/{row.recipients:,}"
        click.echo(f"{row.id:>6}  {row.status:<9}  {row.created_at:%Y-%m-%d %H:%M}  {recipients:>11}  "
                   f"{_one_line(row.body)}")


@broadcast_cli.command("preview")
@click.argument("broadcast_id", type=int)
def broadcast_preview(broadcast_id: int) -> None:
    """Recipients, cost, the audience in words and the text as one of its recipients gets it."""
    svc = services()
    with svc.db.session() as session:
        broadcast = lifecycle.get(session, broadcast_id)
        _render_preview(lifecycle.preview(session, svc.settings, broadcast), session, broadcast)


@broadcast_cli.command("send")
@click.argument("broadcast_id", type=int)
def broadcast_send(broadcast_id: int) -> None:
    """Plan the deliveries and start paced sending (or schedule it, if it has a send time)."""
    svc = services()
    with svc.db.session() as session:
        total = lifecycle.preview(session, svc.settings, lifecycle.get(session, broadcast_id)).recipients
    with click.progressbar(length=total, label="Planning deliveries") as bar:
        result = lifecycle.send(svc, broadcast_id, on_progress=bar.update)
    click.echo(f"Broadcast {broadcast_id}: {result}")


@broadcast_cli.command("pause")
@click.argument("broadcast_id", type=int)
def broadcast_pause(broadcast_id: int) -> None:
    """Pause a sending broadcast.

    Nothing new is sent until `flask broadcast resume BROADCAST_ID`; messages already
    handed to a worker still go out.
    """
    click.echo(f"Broadcast {broadcast_id}: {lifecycle.pause(services(), broadcast_id)}")


@broadcast_cli.command("resume")
@click.argument("broadcast_id", type=int)
def broadcast_resume(broadcast_id: int) -> None:
    """Resume a paused broadcast where it stopped."""
    click.echo(f"Broadcast {broadcast_id}: {lifecycle.resume(services(), broadcast_id)}")


@broadcast_cli.command("cancel")
@click.argument("broadcast_id", type=int)
def broadcast_cancel(broadcast_id: int) -> None:
    """Cancel a broadcast for good.

    Works on a draft, scheduled, sending or paused broadcast: messages not sent yet
    never will be; those already sent stay sent.
    """
    click.echo(f"Broadcast {broadcast_id}: {lifecycle.cancel(services(), broadcast_id)}")


@broadcast_cli.command("status")
@click.argument("broadcast_id", type=int)
@click.option("--watch", is_flag=True, help="Print what changes, every 2 seconds, until the broadcast finishes.")
def broadcast_status(broadcast_id: int, watch: bool) -> None:
    """State, delivery counts, what each waiting delivery waits for, and the estimated finish."""
    svc = services()
    with svc.db.session() as session:
        broadcast = lifecycle.get(session, broadcast_id)
        click.echo(f"Broadcast {broadcast_id}: {broadcast.status}, {broadcast.planned} planned")
        for status, n in sorted(lifecycle.progress(session, broadcast_id).items()):
            click.echo(f"  {status}: {n}")
    explanation = waiting.explain_broadcast(svc, broadcast_id)
    for line in explanation.lines():
        click.echo(line)
    if watch:
        _watch(broadcast_id, explanation)


def _watch(broadcast_id: int, explanation: waiting.Explanation) -> None:
    """One line each time the counts or reasons change; stop when the broadcast is sent or cancelled."""
    if explanation.finished:
        click.echo(f"Nothing to watch: broadcast {broadcast_id} has finished.")
        return
    svc, last = services(), None
    while not explanation.finished:
        with svc.db.session() as session:
            counts = lifecycle.progress(session, broadcast_id)
            planned = lifecycle.get(session, broadcast_id).planned
        done = planned - sum(counts.get(s, 0) for s in lifecycle.OPEN)
        line = f"{done:,}/{planned:,} done. " + "; ".join(
            [r.text for r in explanation.reasons] or [explanation.summary])
        if line != last:
            click.echo(f"{utcnow():%H:%M:%S} UTC  {line}")
            last = line
        time.sleep(WATCH_SECONDS)
        explanation = waiting.explain_broadcast(svc, broadcast_id, with_left_out=False)
    click.echo(f"Broadcast {broadcast_id}: {explanation.summary}")


# -- remind -----------------------------------------------------------------------------------------------------

@commands.group("remind")
def remind_cli() -> None:
    """Organizer reminders: one-off or recurring, to a demand's texters or a segment."""


@remind_cli.command("create")
@click.option("--message", required=True, help="The text (merge fields: {first_name} {rep} {zip}).")
@filter_options
@click.option("--segment", help="A saved segment name.")
@click.option("--send-at", "at", required=True, help="First time, ISO 8601 (UTC unless an offset is given).")
@click.option("--every", help="hourly, daily, weekly or like 3d (default: once).")
@click.option("--mps", type=float, help="Messages per second (default BROADCAST_MPS).")
@click.option("--urgent", is_flag=True, help="Also reaches LESS subscribers and ignores quiet hours.")
@TRANSLATION_OPTION
def remind_create(message: str, segment: str | None, at: str, every: str | None, mps: float | None, urgent: bool,
                  translations: tuple[str, ...], **filters: Any) -> None:
    """Schedule a reminder; prints its id on the last line."""
    svc = services()
    with svc.db.session() as session:
        reminder = reminders.create(session, svc.settings, message, parse_time(at, "--send-at"), filters_of(filters),
                                    segment, every, urgent, mps, translations=_translations(translations))
        session.commit()
        reminder_id = reminder.id
    reminders.schedule(svc, reminder_id)
    _print_reminder(reminder_id)
    click.echo(reminder_id)


def _print_reminder(reminder_id: int) -> None:
    with services().db.session() as session:
        r = reminders.get(session, reminder_id)
        every = f"every {r.every_seconds // 3600}h" if r.every_seconds else "once"
        click.echo(f"Reminder {r.id}: {r.status}, next {r.next_at.isoformat()} ({every}), fired {r.fired}x, "
                   f"{audiences.count(session, r.filters, r.urgent)} recipients now")


@remind_cli.command("status")
@click.argument("reminder_id", type=int)
def remind_status(reminder_id: int) -> None:
    """State, next time and audience size."""
    _print_reminder(reminder_id)


@remind_cli.command("preview")
@click.argument("reminder_id", type=int)
def remind_preview(reminder_id: int) -> None:
    """Audience size, encoding, segments and cost of the next occurrence."""
    svc = services()
    with svc.db.session() as session:
        r = reminders.get(session, reminder_id)
        draft = Broadcast(body=r.body, filters=r.filters, urgent=r.urgent, status="draft")
        _render_preview(lifecycle.preview(session, svc.settings, draft), session, draft)


@remind_cli.command("send")
@click.argument("reminder_id", type=int)
def remind_send(reminder_id: int) -> None:
    """Send the reminder's message now (an extra broadcast; the schedule is unchanged)."""
    click.echo(f"Reminder {reminder_id}: sending as broadcast {reminders.send_now(services(), reminder_id)}")


@remind_cli.command("list")
def remind_list() -> None:
    """List reminders."""
    with services().db.session() as session:
        for r in session.scalars(select(Reminder).order_by(Reminder.id)):
            click.echo(f"{r.id}\t{r.status}\t{r.next_at.isoformat()}\t{r.body[:40]}")


@remind_cli.command("pause")
@click.argument("reminder_id", type=int)
def remind_pause(reminder_id: int) -> None:
    """Pause a reminder; its schedule is kept.

    It does not fire until `flask remind resume REMINDER_ID`.
    """
    click.echo(f"Reminder {reminder_id}: {reminders.set_status(services(), reminder_id, 'paused')}")


@remind_cli.command("resume")
@click.argument("reminder_id", type=int)
def remind_resume(reminder_id: int) -> None:
    """Resume a paused reminder.

    It fires at its next time again (at once, if that time passed while it was paused).
    """
    click.echo(f"Reminder {reminder_id}: {reminders.set_status(services(), reminder_id, 'active')}")


@remind_cli.command("cancel")
@click.argument("reminder_id", type=int)
def remind_cancel(reminder_id: int) -> None:
    """Cancel a reminder for good.

    It never fires again; broadcasts it already started go on (see `flask broadcast`).
    """
    click.echo(f"Reminder {reminder_id}: {reminders.set_status(services(), reminder_id, 'cancelled')}")
