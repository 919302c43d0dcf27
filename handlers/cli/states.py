"""State data: ``flask import-state-districts`` and ``flask import-state-legislators`` (``make db``), and
``flask refresh-states`` (fetch, check, print what changes per state, apply in one transaction unless
``--dry-run`` or refused; ``--rollback``; ``sms.targets.state_refresh``). A refused or failed refresh exits 1,
says why and changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from handlers.cli import congress
from handlers.cli.base import Commands
from handlers.context import services
from sms.errors import DataError
from sms.targets import datasets, state_lookup, state_refresh, states, terms

commands = Commands()
PATH = click.Path(path_type=Path)


def _origin(kind: str, path: Path, source: str, upstream: str) -> datasets.Origin:
    """The file's provenance (the manifest knows the shipped ones); a directory is described by the options."""
    if path.is_dir():
        day = upstream if len(upstream) == 10 and upstream[4] == "-" else ""
        return datasets.Origin(kind, (source or str(path))[:300], "" if day else upstream[:80],
                               date.fromisoformat(day) if day else None)
    return datasets.origin(kind, path, source, upstream)


def _echo(label: str, summary: states.StateSummary, every: bool) -> None:
    for line in summary.total.rejected[:10]:
        click.echo(f"  rejected {line}", err=True)
    for line in summary.lines(every):
        click.echo(f"  {line}")
    for note in summary.total.notes:
        click.echo(f"  note: {note}", err=True)
    click.echo(f"{label}: {summary.total}.")


_SOURCE = click.option("--source", default="", help="Where the data came from (default: the shipped file's source).")
_UPSTREAM = click.option("--upstream", default="", help="Upstream commit, or the data's date (YYYY-MM-DD).")
_FORCE = click.option("--force", is_flag=True, help="Load it even if a state loaded now is missing or shrinks a lot.")
_EVERY = click.option("--every-state", is_flag=True, help="A line for every state, not only those with news.")


@commands.command("import-state-districts")
@click.argument("path", required=False, type=PATH)
@_SOURCE
@_UPSTREAM
@_FORCE
@_EVERY
def import_state_districts(path: Path | None, source: str, upstream: str, force: bool, every_state: bool) -> None:
    """Load the ZIP → state legislative district map (the shipped CSV, or state-leg-zips' districts.json)."""
    path = path or states.DISTRICTS_CSV
    try:
        found = states.read_districts(path)
        origin = _origin("state-districts", path, source, upstream)
        with click.progressbar(length=len(found), label="State districts") as bar, \
                services().db.session() as session:
            bar.update(len(found) // 2)
            summary = states.import_districts(session, found, origin, force)
            bar.update(len(found) - len(found) // 2)
    except DataError as exc:
        raise click.ClickException(f"{exc} (nothing was changed)") from exc
    state_lookup.forget_directory()
    _echo("State districts", summary, every_state)


@commands.command("import-state-legislators")
@click.argument("path", required=False, type=PATH)
@click.option("--skip-bad", is_flag=True, help="Reject malformed rows and go on instead of stopping.")
@_SOURCE
@_UPSTREAM
@_FORCE
@_EVERY
def import_state_legislators(path: Path | None, skip_bad: bool, source: str, upstream: str, force: bool,
                             every_state: bool) -> None:
    """Load state legislators, governors, attorneys general and mayors (the shipped CSV, or an Open States
    people checkout), joined to the state districts loaded."""
    path = path or states.OFFICIALS_CSV
    try:
        rows = states.read_officials(path, terms.clock().date())
        origin = _origin("state-officials", path, source, upstream)
        with click.progressbar(rows, label="State officials") as bar, services().db.session() as session:
            summary = states.import_officials(session, bar, path, skip_bad, origin, force)
    except DataError as exc:
        raise click.ClickException(f"{exc} (nothing was changed)") from exc
    state_lookup.forget_directory()
    _echo("State officials", summary, every_state)


@commands.command("refresh-states")
@click.option("--source", default=None, help="A directory (an Open States people checkout, state-officials.csv or "
              "Open States' <st>.csv files), a .csv file, or a URL, instead of STATE_DATA_URL.")
@click.option("--dry-run", is_flag=True, help="Check and print what would change per state; write nothing.")
@click.option("--force", is_flag=True, help="Apply even if a state loses many legislators, a chamber has more "
              "members than seats, or an office has two holders (a row that does not read is refused anyway).")
@click.option("--rollback", is_flag=True, help="Put back the state officials of before the last applied refresh.")
def refresh_states(source: str | None, dry_run: bool, force: bool, rollback: bool) -> None:
    """Refresh state legislators (and, from a full source, governors, AGs and mayors) from upstream, checked first."""
    svc = services()
    if rollback:
        if source or dry_run or force:
            raise click.UsageError("--rollback takes no other option.")
        try:
            row = state_refresh.rollback(svc, "cli")
        except DataError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Rolled back (#{row.id}): {row.message}.")
        return
    click.echo(f"State officials from {source or svc.settings.state_data_url}")
    done = state_refresh.run(svc, "cli", source, dry_run, force)
    if done.plan is None:
        raise click.ClickException(f"{done.error} (nothing was changed)")
    for line in _describe(done.plan):
        click.echo(line)
    if done.outcome == "refused":
        raise click.ClickException("refused, nothing was changed: " + "; ".join(done.plan.refused))
    click.echo(congress.verdict(done, "flask refresh-states"))


def _describe(plan: state_refresh.Plan) -> list[str]:
    offer = plan.offer
    covers = "every role" if offer.complete else f"legislators of {offer.covered()} (governors, " \
        "attorneys general and mayors are left as loaded)"
    return ([f"New data: {len(plan.records):,} officials, {covers}.", f"Changes: {plan.change.summary()}."]
            + plan.change.lines() + [f"  note: {note}" for note in plan.notes])

