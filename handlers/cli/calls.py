"""Calls: the blocklist, the offline call simulator, saturation, statistics and supporter policies."""

from __future__ import annotations

from datetime import timedelta

import click

from handlers.cli.base import Commands
from handlers.context import services
from handlers.twilio_auth import signed_post
from sms.calls import blocklist, outcomes, player, routing, stances
from sms.console import simulator
from sms.errors import InvalidNumber
from sms.messaging import catalogue, subscribers
from sms.store import utcnow

commands = Commands()
SUPPORTER_POLICIES = {"call": "called", "skip": "skipped", "thank": "thanked"}


def _phone(raw: str) -> str:
    try:
        return subscribers.normalise_phone(raw)
    except InvalidNumber as exc:
        raise click.BadParameter(f"{raw!r} is not a phone number") from exc


@commands.command("call-block")
@click.argument("phone")
@click.option("--reason", default="", help="Why (kept with the entry).")
def call_block(phone: str, reason: str) -> None:
    """Never call PHONE back or connect it (abuse, toll fraud)."""
    number = _phone(phone)
    with services().db.session() as session:
        blocklist.block(session, number, reason, by="cli")
    click.echo("Blocked.")


@commands.command("call-unblock")
@click.argument("phone")
def call_unblock(phone: str) -> None:
    """Remove PHONE from the call blocklist."""
    number = _phone(phone)
    with services().db.session() as session:
        removed = blocklist.unblock(session, number, by="cli")
    click.echo("Unblocked." if removed else "That number was not blocked.")


@commands.command("simulate-call")
@click.argument("phone")
@click.option("--digits", default=None,
              help="Keys pressed at each prompt, comma-separated ('' = silence). Default: 1 where the call asks "
                   "to connect, nothing elsewhere (a ZIP prompt gets none).")
@click.option("--dial-status", default="", help="How each office answers: completed,busy,no-answer,failed.")
@click.option("--callin", is_flag=True, help="Dial the service instead of answering a queued call-back.")
def simulate_call(phone: str, digits: str | None, dial_status: str, callin: bool) -> None:
    """Play PHONE's call offline: the queued call-back (after CALL), else a call-in; then the texts it sent."""
    number, svc = _phone(phone), services()
    warning = simulator.real_phone_warning(number, svc.settings.outbox_mode)
    if warning:
        click.echo(warning, err=True)
    since = utcnow()
    begin = player.start(svc, number, callin)
    if begin.placed == "failed":
        raise click.ClickException("The call-back could not be placed (see the log); nothing was played.")
    click.echo(_which_call(begin, number, svc.settings.phone_number, callin))

    def post(target: str, params: dict[str, str]) -> str:
        response = signed_post(target, params)
        if response.status_code >= 400:
            raise click.ClickException(f"{target} answered HTTP {response.status_code}")
        return response.get_data(as_text=True) or "<Response/>"

    keys = [d.strip() for d in digits.split(",")] if digits is not None else None
    statuses = [s.strip() for s in dial_status.split(",") if s.strip()]
    walk = player.walk(post, begin.path, number, svc.settings.phone_number, keys, statuses, begin.call_sid)
    icons = {"say": "  caller hears:", "press": "  caller presses:", "dial": "  DIALING", "office": "  office:",
             "hangup": "  (hang up)", "note": "  note:"}
    for kind, value in walk.events:
        click.echo(f"{icons[kind]} {value}".rstrip())
    with svc.db.session() as session:
        texts = player.texts_after(session, number, since)
    click.echo("Texted after the call:" if texts else "No text was sent after the call.")
    for text in texts:
        click.echo(f"  {text}")


def _which_call(begin: player.Start, number: str, service_number: str, callin: bool) -> str:
    if begin.session_id is not None:
        return f"Call-back to {number}, the one their CALL queued (call session {begin.session_id}):"
    reason = "--callin" if callin else "no call-back was waiting for this number"
    return f"Call-in: {number} dials the service number {service_number} ({reason}):"


@commands.command("offices-saturation")
@click.option("--limit", default=20, show_default=True, help="How many offices to list.")
def offices_saturation(limit: int) -> None:
    """Offices ranked by saturation right now (busy/no-answer/completed in the last 15 minutes)."""
    svc = services()
    with svc.db.session() as session:
        loads = routing.ranked(svc.redis, session, limit=limit)
    click.echo(f"{'office':<60} {'saturation':>10}  outcomes (15 min)")
    for load in loads:
        click.echo(f"{load.label[:60]:<60} {load.saturation:>10.0%}  {load.busy} busy, {load.no_answer} no answer, "
                   f"{load.failed} failed, {load.completed} completed")
    if not loads:
        click.echo("No calls in the last 15 minutes.")


@commands.command("call-stats")
@click.option("--by", type=click.Choice(["demand", "office"]), default="demand", show_default=True)
@click.option("--days", type=int, default=0, help="Only the last N days (0 = all time).")
def call_stats(by: str, days: int) -> None:
    """Calls placed, connected, talked (callers' replies) and average connected duration."""
    with services().db.session() as session:
        rows = outcomes.stats(session, by, utcnow() - timedelta(days=days) if days else None)
    click.echo(f"{by:<50} {'placed':>7} {'connected':>9} {'talked':>7} {'avg s':>6}")
    for row in rows:
        avg = f"{row.avg_seconds:.0f}" if row.avg_seconds is not None else "-"
        click.echo(f"{row.key[:50]:<50} {row.placed:>7} {row.connected:>9} {row.talked:>7} {avg:>6}")


@commands.command("call-policy")
@click.argument("demand")
@click.option("--supporters", type=click.Choice(list(SUPPORTER_POLICIES)), required=True,
              help="What a call does about lawmakers who already support the demand.")
@click.option("--thank-script", default=None, help="What to say to supporters ({target}, {zip} are filled in).")
def call_policy(demand: str, supporters: str, thank_script: str | None) -> None:
    """Set a demand's supporter policy: call them as usual, skip them, or thank them."""
    with services().db.session() as session:
        view = catalogue.current(session).demand(demand.upper())
        if view is None:
            raise click.ClickException(f"No demand {demand!r}.")
        stances.set_policy(session, view.keyword, supporters, thank_script)
    click.echo(f"{view.keyword}: supporters are {SUPPORTER_POLICIES[supporters]}.")
