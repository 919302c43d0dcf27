"""Organizer CLI for calls: data imports, the blocklist and the offline call simulator."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from handlers import simclient
from sms import blocklist, subscribers, targetdata, voicesim
from sms.errors import InvalidNumber

FILE = click.Path(dir_okay=False, path_type=Path)


class AppContextCommand(click.Command):
    """Run inside the app context however invoked (``flask ...`` or a test runner on ``app.cli``)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.callback = with_appcontext(self.callback)


def init_app(app) -> None:  # noqa: ANN001
    for cmd in (import_legislators, import_zips, import_targets, call_block, call_unblock, simulate_call,
                offices_saturation, call_stats, import_stances, call_policy):
        app.cli.add_command(cmd)


def _services():  # noqa: ANN202
    return current_app.extensions["actionline"]


def _run_import(label: str, path: Path, columns: tuple[str, ...], importer, skip_bad: bool) -> None:  # noqa: ANN001
    """Read ``path`` under a progress bar, import it, print the summary; errors name the line."""
    length = max(sum(1 for _ in path.open("rb")) - 1, 0) if path.suffix == ".csv" and path.exists() else None
    try:
        with click.progressbar(targetdata.read_rows(path, columns), length=length, label=label) as rows:
            with _services().db.session() as session:
                summary = importer(session, rows, path, skip_bad)
    except targetdata.DataError as exc:
        raise click.ClickException(f"{exc} (nothing was changed)") from exc
    for line in summary.rejected[:10]:
        click.echo(f"  rejected {line}", err=True)
    click.echo(f"{label}: {summary}.")


@click.command(cls=AppContextCommand, name="import-legislators")
@click.argument("path", required=False, type=FILE)
@click.option("--offices", type=FILE, help="legislators-district-offices.csv (default: the shipped copy).")
@click.option("--skip-bad", is_flag=True, help="Reject malformed rows and go on instead of stopping.")
def import_legislators(path: Path | None, offices: Path | None, skip_bad: bool) -> None:
    """Load current members of Congress (congress-legislators CSV or YAML) and their district offices."""
    _run_import("Legislators", path or targetdata.LEGISLATORS_CSV, targetdata.LEGISLATOR_COLUMNS,
                targetdata.import_legislators, skip_bad)
    offices = offices or (targetdata.OFFICES_CSV if path is None else None)
    if offices is not None:
        _run_import("District offices", offices, targetdata.OFFICE_COLUMNS, targetdata.import_offices, skip_bad)


@click.command(cls=AppContextCommand, name="import-zips")
@click.argument("path", required=False, type=FILE)
@click.option("--skip-bad", is_flag=True, help="Reject malformed rows and go on instead of stopping.")
def import_zips(path: Path | None, skip_bad: bool) -> None:
    """Load the ZIP (ZCTA) → congressional district table (zccd.csv)."""
    _run_import("ZIP districts", path or targetdata.ZIPS_CSV, targetdata.ZIP_COLUMNS, targetdata.import_zips,
                skip_bad)


@click.command(cls=AppContextCommand, name="import-targets")
@click.argument("path", required=False, type=FILE)
@click.option("--if-empty", is_flag=True, help="Only load sets that do not exist yet; keep console edits.")
def import_targets(path: Path | None, if_empty: bool) -> None:
    """Load custom target sets (``custom_targets:``) from the catalogue or a targets YAML."""
    try:
        sets = targetdata.load_custom_targets(path or targetdata.CATALOGUE_YAML)
    except targetdata.DataError as exc:
        raise click.ClickException(str(exc)) from exc
    with _services().db.session() as session:
        if if_empty:
            sets = {name: items for name, items in sets.items() if not targetdata.set_exists(session, name)}
        summary = targetdata.import_custom_targets(session, sets)
    click.echo(f"Custom targets ({', '.join(sets) or 'none'}): {summary}.")


def _phone(raw: str) -> str:
    try:
        return subscribers.normalise_phone(raw)
    except InvalidNumber as exc:
        raise click.BadParameter(f"{raw!r} is not a phone number") from exc


@click.command(cls=AppContextCommand, name="call-block")
@click.argument("phone")
@click.option("--reason", default="", help="Why (kept with the entry).")
def call_block(phone: str, reason: str) -> None:
    """Never call PHONE back or connect it (abuse, toll fraud)."""
    number = _phone(phone)
    with _services().db.session() as session:
        blocklist.block(session, number, reason, by="cli")
    click.echo("Blocked.")


@click.command(cls=AppContextCommand, name="call-unblock")
@click.argument("phone")
def call_unblock(phone: str) -> None:
    """Remove PHONE from the call blocklist."""
    number = _phone(phone)
    with _services().db.session() as session:
        removed = blocklist.unblock(session, number, by="cli")
    click.echo("Unblocked." if removed else "That number was not blocked.")


@click.command(cls=AppContextCommand, name="simulate-call")
@click.argument("phone")
@click.option("--digits", default="1", help="Keys pressed at each prompt, comma-separated ('' = silence).")
@click.option("--dial-status", default="", help="How each office answers: completed,busy,no-answer,failed.")
@click.option("--callin", is_flag=True, help="Dial the service instead of answering a queued call-back.")
def simulate_call(phone: str, digits: str, dial_status: str, callin: bool) -> None:
    """Play PHONE's call offline: the queued call-back (after CALL), else a call-in."""
    number = _phone(phone)
    begin = voicesim.start(_services(), number, callin)
    if begin.placed == "failed":
        raise click.ClickException("The call-back could not be placed (see the log); nothing was played.")

    def post(target: str, params: dict[str, str]) -> str:
        response = simclient.signed_post(target, params)
        if response.status_code >= 400:
            raise click.ClickException(f"{target} answered HTTP {response.status_code}")
        return response.get_data(as_text=True) or "<Response/>"

    keys = [d.strip() for d in digits.split(",")] if digits else []
    statuses = [s.strip() for s in dial_status.split(",") if s.strip()]
    walk = voicesim.walk(post, begin.path, number, _services().settings.phone_number, keys, statuses,
                         begin.call_sid)
    icons = {"say": "  caller hears:", "press": "  caller presses:", "dial": "  DIALING", "office": "  office:",
             "hangup": "  (hang up)"}
    for kind, value in walk.events:
        click.echo(f"{icons[kind]} {value}".rstrip())


@click.command(cls=AppContextCommand, name="offices-saturation")
@click.option("--limit", default=20, show_default=True, help="How many offices to list.")
def offices_saturation(limit: int) -> None:
    """Offices ranked by saturation right now (busy/no-answer/completed in the last 15 minutes)."""
    from sms import routing

    svc = _services()
    with svc.db.session() as session:
        loads = routing.ranked(svc.redis, session, limit=limit)
    click.echo(f"{'office':<60} {'saturation':>10}  outcomes (15 min)")
    for load in loads:
        click.echo(f"{load.label[:60]:<60} {load.saturation:>10.0%}  {load.busy} busy, {load.no_answer} no answer, "
                   f"{load.failed} failed, {load.completed} completed")
    if not loads:
        click.echo("No calls in the last 15 minutes.")


@click.command(cls=AppContextCommand, name="call-stats")
@click.option("--by", type=click.Choice(["demand", "office"]), default="demand", show_default=True)
@click.option("--days", type=int, default=0, help="Only the last N days (0 = all time).")
def call_stats(by: str, days: int) -> None:
    """Calls placed, connected, talked (callers' replies) and average connected duration."""
    from datetime import timedelta

    from sms import outcomes
    from sms.store import utcnow

    with _services().db.session() as session:
        rows = outcomes.stats(session, by, utcnow() - timedelta(days=days) if days else None)
    click.echo(f"{by:<50} {'placed':>7} {'connected':>9} {'talked':>7} {'avg s':>6}")
    for row in rows:
        avg = f"{row.avg_seconds:.0f}" if row.avg_seconds is not None else "-"
        click.echo(f"{row.key[:50]:<50} {row.placed:>7} {row.connected:>9} {row.talked:>7} {avg:>6}")


@click.command(cls=AppContextCommand, name="import-stances")
@click.argument("path", type=FILE)
def import_stances(path: Path) -> None:
    """Load lawmakers' stances (CSV: bioguide_id, demand, supports|opposes|unknown); idempotent."""
    from sms import catalogue, stances

    with _services().db.session() as session:
        known = {d.keyword for d in catalogue.current(session).demands}
        try:
            rows = stances.read(path, known)
        except stances.StanceError as exc:
            raise click.ClickException(f"{exc} (nothing was changed)") from exc
        counts = stances.import_rows(session, rows)
    click.echo(f"Stances: {len(rows)} rows: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".")


@click.command(cls=AppContextCommand, name="call-policy")
@click.argument("demand")
@click.option("--supporters", type=click.Choice(["call", "skip", "thank"]), required=True,
              help="What a call does about lawmakers who already support the demand.")
@click.option("--thank-script", default=None, help="What to say to supporters ({target}, {zip} are filled in).")
def call_policy(demand: str, supporters: str, thank_script: str | None) -> None:
    """Set a demand's supporter policy: call them as usual, skip them, or thank them."""
    from sms import catalogue, stances

    with _services().db.session() as session:
        view = catalogue.current(session).demand(demand.upper())
        if view is None:
            raise click.ClickException(f"No demand {demand!r}.")
        stances.set_policy(session, view.keyword, supporters, thank_script)
    click.echo(f"{view.keyword}: supporters are {dict(call='called', skip='skipped', thank='thanked')[supporters]}.")
