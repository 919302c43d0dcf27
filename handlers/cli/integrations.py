"""Event destinations and the event log: ``flask webhooks add|list|remove|test|...``, ``flask events tail``."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import click

from handlers.cli.base import Commands
from handlers.context import services
from sms.errors import IntegrationError
from sms.integrations import delivery, destinations, events, webhooks
from sms.integrations.http import NoAnswer
from sms.integrations.models import Event

commands = Commands()


@commands.group("webhooks")
def webhooks_cli() -> None:
    """Where events go: signed webhooks (and Action Network, set by ACTION_NETWORK_API_KEY)."""


@webhooks_cli.command("add")
@click.argument("url")
@click.option("--events", "types", required=True,
              help=f"Comma-separated event types, or all: {', '.join(events.TYPES)}.")
@click.option("--name", default="", help="A short name (default: the URL's host).")
@click.option("--allow-phone", is_flag=True, help="Include supporters' phone numbers in the payloads.")
@click.option("--secret", default="", help="The signing secret (default: a random one, printed once).")
def webhooks_add(url: str, types: str, name: str, allow_phone: bool, secret: str) -> None:
    """Send the chosen events to URL (https://; http:// only for localhost), signed."""
    with services().db.session() as session:
        destination = destinations.add(session, url, types, name, allow_phone, secret)
        click.echo(f"Added {destination.name}: {', '.join(destination.events)}"
                   f"{' (with phone numbers)' if allow_phone else ''}.")
        click.echo(f"Signing secret (shown once): {destination.secret}")


@webhooks_cli.command("list")
def webhooks_list() -> None:
    """Every destination: status, backlog, delivered and failed counts."""
    with services().db.session() as session:
        found = destinations.overview(session, last=0)
        if not found:
            click.echo("No destinations. Add one with: flask webhooks add URL --events ...")
        for o in found:
            d = o.destination
            click.echo(f"{d.name}  [{d.status}]  {d.url}")
            click.echo(f"  events: {', '.join(d.events)}; phone numbers: {'yes' if d.allow_phone else 'no'}")
            click.echo(f"  backlog {o.backlog}, delivered {o.delivered}, failed {o.failed}"
                       + (f"; {d.status_reason}" if d.status_reason else ""))


@webhooks_cli.command("remove")
@click.argument("name")
def webhooks_remove(name: str) -> None:
    """Remove destination NAME and its deliveries."""
    with services().db.session() as session:
        destinations.remove(session, destinations.named(session, name))
    click.echo(f"Removed {name}.")


@webhooks_cli.command("test")
@click.argument("name")
def webhooks_test(name: str) -> None:
    """POST a signed webhook.test event to NAME now and print its answer."""
    svc = services()
    with svc.db.session() as session:
        destination = destinations.named(session, name)
        if destination.kind != "webhook":
            raise IntegrationError("only webhooks take a test event")
        probe = webhooks.probe(destination)
    started = time.perf_counter()
    try:
        answer = svc.http.post(probe.url, probe.body, probe.headers)
    except NoAnswer as exc:
        raise click.ClickException(f"{name} did not answer ({exc})") from exc
    took = (time.perf_counter() - started) * 1000
    click.echo(f"{name} answered HTTP {answer.status} in {took:.0f} ms.")
    if webhooks.outcome(answer) != "delivered":
        raise click.ClickException("not a 2xx: the test event was refused")


@webhooks_cli.command("pause")
@click.argument("name")
def webhooks_pause(name: str) -> None:
    """Stop sending to NAME; its events wait."""
    with services().db.session() as session:
        destinations.pause(session, destinations.named(session, name))
    click.echo(f"Paused {name}.")


@webhooks_cli.command("resume")
@click.argument("name")
def webhooks_resume(name: str) -> None:
    """Send to NAME again, starting with its backlog."""
    svc = services()
    with svc.db.session() as session:
        destination = destinations.named(session, name)
        backlog = destinations.resume(session, destination)
        destination_id = destination.id
    delivery.kick(svc, destination_id, urgent=True)
    delivery.kick(svc, destination_id)
    click.echo(f"Resumed {name}: {backlog} events in its backlog.")


@webhooks_cli.command("replay")
@click.argument("name")
@click.option("--since", required=True, help="Replay events from this time (ISO 8601; UTC unless it says).")
def webhooks_replay(name: str, since: str) -> None:
    """Deliver NAME's events since a time again (the same ids: receivers dedupe)."""
    start = _when(since)
    with services().db.session() as session:
        count = destinations.replay(session, destinations.named(session, name), start)
    click.echo(f"Replaying {count} events to {name}.")


def _when(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint="--since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@commands.group("events")
def events_cli() -> None:
    """The event log every integration is fed from."""


@events_cli.command("tail")
@click.option("-n", "count", default=20, show_default=True, help="How many of the latest events to show first.")
@click.option("--type", "types", multiple=True, help="Only this type (repeatable).")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events (Ctrl-C stops).")
def events_tail(count: int, types: tuple[str, ...], follow: bool) -> None:
    """Print the latest events (no phone numbers: the log holds none)."""
    unknown = [t for t in types if t not in events.TYPES]
    if unknown:
        raise click.BadParameter(f"unknown type {', '.join(unknown)}", param_hint="--type")
    db = services().db
    with db.session() as session:
        shown = events.latest(session, count, types)
    last = _print(shown, 0)
    while follow:
        time.sleep(1)
        with db.session() as session:
            last = _print(events.since(session, last, types), last)


def _print(rows: list[Event], last: int) -> int:
    for event in rows:
        subscriber = f"#{event.subscriber_id}" if event.subscriber_id is not None else "-"
        click.echo(f"{event.created_at:%Y-%m-%d %H:%M:%S}  {event.id:>7}  {event.type:<22} {subscriber:>8}  "
                   f"{json.dumps(event.data, sort_keys=True)}")
        last = event.id
    return last
