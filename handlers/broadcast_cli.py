"""Organizer CLI for audiences, broadcasts and reminders: ``flask segment|broadcast|remind ...``."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from sms import audiences, broadcasts, recovery, reminders  # recovery registers the status listener
from sms.broadcasts import BroadcastError

__all__ = ["recovery", "init_app"]
FILTER_OPTIONS = [
    click.option("--demand", "demands", multiple=True, help="Texted this demand keyword (repeatable)."),
    click.option("--state", "states", multiple=True, help="Two-letter state (repeatable)."),
    click.option("--district", "districts", multiple=True, help="Congressional district like KY-3 (repeatable)."),
    click.option("--zip", "zips", multiple=True, help="5-digit ZIP (repeatable)."),
]


def filter_options(fn: Any) -> Any:
    for option in reversed(FILTER_OPTIONS):
        fn = option(fn)
    return fn


def init_app(app: Any) -> None:
    for group in (segment_cli, broadcast_cli, remind_cli):
        app.cli.add_command(group)


def svc():  # noqa: ANN201 - sms.services.Services
    return current_app.extensions["actionline"]


def fail_on_bad_input(fn: Any) -> Any:
    """Turn domain errors into a clean message and exit status 1."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (BroadcastError, audiences.AudienceError) as exc:
            raise click.ClickException(str(exc)) from exc

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


def parse_time(value: str | None) -> datetime | None:
    return audiences.parse_when(value, "--send-at") if value else None


@click.group("segment", cls=AppGroup)
def segment_cli() -> None:
    """Saved audiences (opted-in subscribers only)."""


@segment_cli.command("save")
@click.argument("name")
@filter_options
@click.option("--called/--never-called", default=None, help="Has (not) asked for a call.")
@click.option("--joined-after")
@click.option("--joined-before")
@click.option("--active-since")
@click.option("--active-before")
@fail_on_bad_input
def segment_save(name: str, **filters: Any) -> None:
    """Create or replace segment NAME and print how many it selects."""
    filters = {k: list(v) if isinstance(v, tuple) else v for k, v in filters.items()}
    with svc().db.session() as session:
        segment = audiences.save(session, name, filters)
        session.commit()
        click.echo(f"Segment {segment.name}: {audiences.count(session, segment.filters)} subscribers")


@segment_cli.command("list")
def segment_list() -> None:
    """List saved segments."""
    with svc().db.session() as session:
        for segment in audiences.all_segments(session):
            click.echo(f"{segment.name}\t{segment.filters}")


@segment_cli.command("preview")
@click.argument("name")
@fail_on_bad_input
def segment_preview(name: str) -> None:
    """Count the subscribers segment NAME selects (a SQL COUNT)."""
    with svc().db.session() as session:
        click.echo(audiences.count(session, audiences.get(session, name).filters))


@click.group("broadcast", cls=AppGroup)
def broadcast_cli() -> None:
    """Compose, preview, send and steer broadcasts."""


@broadcast_cli.command("create")
@click.option("--message", required=True, help="The text (merge fields: {first_name} {rep} {zip}).")
@filter_options
@click.option("--segment", help="A saved segment name.")
@click.option("--send-at", help="ISO 8601 time (UTC unless an offset is given).")
@click.option("--mps", type=float, help="Messages per second (default BROADCAST_MPS).")
@click.option("--urgent", is_flag=True, help="Also reaches LESS subscribers and ignores quiet hours.")
@fail_on_bad_input
def broadcast_create(message: str, segment: str | None, send_at: str | None, mps: float | None, urgent: bool,
                     **filters: Any) -> None:
    """Create a draft (or, with --send-at, scheduled) broadcast; prints its id on the last line."""
    s = svc()
    with s.db.session() as session:
        broadcast = broadcasts.create(session, s.settings, message, {k: list(v) for k, v in filters.items()},
                                      segment, parse_time(send_at), mps, urgent)
        session.commit()
        broadcast_id, scheduled = broadcast.id, broadcast.status == "scheduled"
    if scheduled:
        broadcasts.send(s, broadcast_id)
        click.echo(f"Scheduled for {send_at}.")
    _print_preview(broadcast_id)
    click.echo(broadcast_id)


def _print_preview(broadcast_id: int) -> None:
    s = svc()
    with s.db.session() as session:
        p = broadcasts.preview(session, s.settings, broadcasts.get(session, broadcast_id))
    click.echo(f"Recipients: {p.recipients}\nEncoding: {p.encoding}\nSegments per message: "
               f"{p.segments_per_message}\nTotal segments: {p.total_segments}\n"
               f"Estimated cost: ${p.estimated_cost:,.2f}")


@broadcast_cli.command("preview")
@click.argument("broadcast_id", type=int)
@fail_on_bad_input
def broadcast_preview(broadcast_id: int) -> None:
    """Recipients, encoding, segments and estimated cost."""
    _print_preview(broadcast_id)


@broadcast_cli.command("send")
@click.argument("broadcast_id", type=int)
@fail_on_bad_input
def broadcast_send(broadcast_id: int) -> None:
    """Plan the deliveries and start paced sending (or schedule it, if it has a send time)."""
    s = svc()
    with s.db.session() as session:
        total = broadcasts.preview(session, s.settings, broadcasts.get(session, broadcast_id)).recipients
    with click.progressbar(length=total, label="Planning deliveries") as bar:
        result = broadcasts.send(s, broadcast_id, on_progress=bar.update)
    click.echo(f"Broadcast {broadcast_id}: {result}")


def _steer(name: str, action: Any) -> None:
    @broadcast_cli.command(name)
    @click.argument("broadcast_id", type=int)
    @fail_on_bad_input
    def command(broadcast_id: int) -> None:
        click.echo(f"Broadcast {broadcast_id}: {action(svc(), broadcast_id)}")

    command.__doc__ = f"{name.capitalize()} a broadcast."


for _name, _action in (("pause", broadcasts.pause), ("resume", broadcasts.resume), ("cancel", broadcasts.cancel)):
    _steer(_name, _action)


@broadcast_cli.command("status")
@click.argument("broadcast_id", type=int)
@click.option("--watch", is_flag=True, help="Show a progress bar until the broadcast finishes.")
@fail_on_bad_input
def broadcast_status(broadcast_id: int, watch: bool) -> None:
    """State and delivery counts."""
    s = svc()
    with s.db.session() as session:
        broadcast = broadcasts.get(session, broadcast_id)
        click.echo(f"Broadcast {broadcast_id}: {broadcast.status}, {broadcast.planned} planned")
        for status, n in sorted(broadcasts.progress(session, broadcast_id).items()):
            click.echo(f"  {status}: {n}")
    if watch:
        _watch(broadcast_id, broadcast.planned)


def _watch(broadcast_id: int, planned: int) -> None:
    s, done = svc(), 0
    with click.progressbar(length=planned, label="Sending") as bar:
        while True:
            with s.db.session() as session:
                counts = broadcasts.progress(session, broadcast_id)
                state = broadcasts.get(session, broadcast_id).status
            finished = planned - counts.get("pending", 0) - counts.get("sending", 0)
            bar.update(finished - done)
            done = finished
            if state != "sending":
                break
            time.sleep(1)


@click.group("remind", cls=AppGroup)
def remind_cli() -> None:
    """Organizer reminders: one-off or recurring, to a demand's texters or a segment."""


@remind_cli.command("create")
@click.option("--message", required=True)
@filter_options
@click.option("--segment")
@click.option("--send-at", "at", required=True, help="First time, ISO 8601.")
@click.option("--every", help="hourly, daily, weekly or like 3d (default: once).")
@click.option("--mps", type=float)
@click.option("--urgent", is_flag=True)
@fail_on_bad_input
def remind_create(message: str, segment: str | None, at: str, every: str | None, mps: float | None, urgent: bool,
                  **filters: Any) -> None:
    """Schedule a reminder; prints its id on the last line."""
    s = svc()
    with s.db.session() as session:
        reminder = reminders.create(session, s.settings, message, parse_time(at), {k: list(v) for k, v in
                                    filters.items()}, segment, every, urgent, mps)
        session.commit()
        reminder_id = reminder.id
    reminders.schedule(s, reminder_id)
    _print_reminder(reminder_id)
    click.echo(reminder_id)


def _print_reminder(reminder_id: int) -> None:
    s = svc()
    with s.db.session() as session:
        r = reminders.get(session, reminder_id)
        every = f"every {r.every_seconds // 3600}h" if r.every_seconds else "once"
        click.echo(f"Reminder {r.id}: {r.status}, next {r.next_at.isoformat()} ({every}), fired {r.fired}x, "
                   f"{audiences.count(session, r.filters, r.urgent)} recipients now")


@remind_cli.command("status")
@click.argument("reminder_id", type=int)
@fail_on_bad_input
def remind_status(reminder_id: int) -> None:
    """State, next time and audience size."""
    _print_reminder(reminder_id)


@remind_cli.command("preview")
@click.argument("reminder_id", type=int)
@fail_on_bad_input
def remind_preview(reminder_id: int) -> None:
    """Audience size, encoding, segments and cost of the next occurrence."""
    s = svc()
    with s.db.session() as session:
        r = reminders.get(session, reminder_id)
        draft = broadcasts.Broadcast(body=r.body, filters=r.filters, urgent=r.urgent, status="draft")
        p = broadcasts.preview(session, s.settings, draft)
    click.echo(f"Recipients: {p.recipients}\nEncoding: {p.encoding}\nSegments per message: "
               f"{p.segments_per_message}\nTotal segments: {p.total_segments}\nEstimated cost: "
               f"${p.estimated_cost:,.2f}")


@remind_cli.command("send")
@click.argument("reminder_id", type=int)
@fail_on_bad_input
def remind_send(reminder_id: int) -> None:
    """Send the reminder's message now (an extra broadcast; the schedule is unchanged)."""
    click.echo(f"Reminder {reminder_id}: sending as broadcast {reminders.send_now(svc(), reminder_id)}")


@remind_cli.command("list")
def remind_list() -> None:
    """List reminders."""
    s = svc()
    with s.db.session() as session:
        for r in session.scalars(reminders.select(reminders.Reminder).order_by(reminders.Reminder.id)):
            click.echo(f"{r.id}\t{r.status}\t{r.next_at.isoformat()}\t{r.body[:40]}")


for _name, _target in (("pause", "paused"), ("resume", "active"), ("cancel", "cancelled")):
    def _make(name: str, target: str) -> None:
        @remind_cli.command(name)
        @click.argument("reminder_id", type=int)
        @fail_on_bad_input
        def command(reminder_id: int) -> None:
            click.echo(f"Reminder {reminder_id}: {reminders.set_status(svc(), reminder_id, target)}")

        command.__doc__ = f"{name.capitalize()} a reminder."

    _make(_name, _target)


