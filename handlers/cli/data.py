"""The schema and the shipped data: ``flask init-db`` and the ``import-*`` commands (``make db``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path
from typing import Any

import click

from handlers.cli.base import Commands
from handlers.context import services
from sms import store
from sms.calls import stances
from sms.errors import DataError, StanceError
from sms.messaging import catalogue
from sms.targets import custom_sets, datasets, importer, terms
from sms.targets.models import Dataset

commands = Commands()
FILE = click.Path(dir_okay=False, path_type=Path)


@commands.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    store.upgrade(services().settings.database_url)
    click.echo("Database is at the latest schema.")


@commands.command("import-catalogue")
@click.argument("path", required=False, type=FILE)
@click.option("--if-empty", is_flag=True, help="Only seed an empty catalogue; keep organizers' edits otherwise.")
def import_catalogue(path: Path | None, if_empty: bool) -> None:
    """Load demands, campaigns and texts from YAML (idempotent; overwrites edits made in the console)."""
    data = catalogue.load_yaml(path or catalogue.DEFAULT_PATH)
    with services().db.session() as session:
        if if_empty and catalogue.is_loaded(session):
            click.echo("Catalogue already loaded; keeping its edits (run import-catalogue to reload the YAML).")
            return
        summary = catalogue.import_catalogue(session, data)
    click.echo(f"Catalogue: {summary.added} added, {summary.changed} changed, {summary.unchanged} unchanged.")


def _run_import(label: str, path: Path, columns: tuple[str, ...], load: Callable[..., Any], skip_bad: bool,
                kind: str, described: dict[str, object]) -> None:
    """Read ``path`` under a progress bar, import it and record its origin, print the summary; errors name the line."""
    length = max(sum(1 for _ in path.open("rb")) - 1, 0) if path.suffix == ".csv" and path.exists() else None
    try:
        origin = datasets.origin(kind, path, **described)  # type: ignore[arg-type]
        with click.progressbar(importer.read_rows(path, columns), length=length, label=label) as rows:
            with services().db.session() as session:
                summary = load(session, rows, path, skip_bad, origin)
    except DataError as exc:
        raise click.ClickException(f"{exc} (nothing was changed)") from exc
    for line in summary.rejected[:10]:
        click.echo(f"  rejected {line}", err=True)
    for note in summary.notes:
        click.echo(f"  note: {note}", err=True)
    click.echo(f"{label}: {summary}.")


def _described(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say where a data file came from (recorded with the import; see flask data-status)."""
    for option in reversed((
        click.option("--source", default="", help="Where the file came from (default: the shipped file's "
                     "source from data/congress/datasets.yaml, else the path)."),
        click.option("--upstream", default="", help="Upstream commit, or the data's date (YYYY-MM-DD)."),
        click.option("--congress", type=click.IntRange(1, 999), default=None,
                     help="The Congress the file describes, e.g. 120 (members: read from their terms)."),
    )):
        function = option(function)
    return function


@commands.command("import-legislators")
@click.argument("path", required=False, type=FILE)
@click.option("--offices", type=FILE, help="legislators-district-offices.csv (default: the shipped copy).")
@click.option("--skip-bad", is_flag=True, help="Reject malformed rows and go on instead of stopping.")
@_described
def import_legislators(path: Path | None, offices: Path | None, skip_bad: bool, **described: object) -> None:
    """Load current members of Congress (congress-legislators YAML or CSV) and their district offices."""
    _run_import("Legislators", path or importer.LEGISLATORS_CSV, importer.LEGISLATOR_COLUMNS,
                importer.import_legislators, skip_bad, "legislators", described)
    offices = offices or (importer.OFFICES_CSV if path is None else None)
    if offices is not None:
        _run_import("District offices", offices, importer.OFFICE_COLUMNS, importer.import_offices, skip_bad,
                    "offices", {**described, "source": ""})


@commands.command("import-zips")
@click.argument("path", required=False, type=FILE)
@click.option("--skip-bad", is_flag=True, help="Reject malformed rows and go on instead of stopping.")
@_described
def import_zips(path: Path | None, skip_bad: bool, **described: object) -> None:
    """Load the ZIP (ZCTA) → congressional district table (zccd.csv; say which Congress with --congress)."""
    _run_import("ZIP districts", path or importer.ZIPS_CSV, importer.ZIP_COLUMNS, importer.import_zips,
                skip_bad, "zips", described)


@commands.command("import-targets")
@click.argument("path", required=False, type=FILE)
@click.option("--if-empty", is_flag=True, help="Keep sets' targets and rules already loaded (console edits).")
def import_targets(path: Path | None, if_empty: bool) -> None:
    """Load custom target sets (``custom_targets:``: hours, constituents, targets) from the catalogue or a YAML."""
    sets = custom_sets.load_custom_targets(path or custom_sets.CATALOGUE_YAML)
    with services().db.session() as session:
        summary = custom_sets.import_custom_targets(session, sets, if_empty=if_empty)
    click.echo(f"Custom targets ({', '.join(sets) or 'none'}): {summary}.")
    for note in summary.notes:
        click.echo(f"  {note}")


@commands.command("import-stances")
@click.argument("path", type=FILE)
def import_stances(path: Path) -> None:
    """Load lawmakers' stances (CSV: bioguide_id, demand, supports|opposes|unknown); idempotent."""
    with services().db.session() as session:
        known = {d.keyword for d in catalogue.current(session).demands}
        try:
            rows = stances.read(path, known)
        except StanceError as exc:
            raise click.ClickException(f"{exc} (nothing was changed)") from exc
        counts = stances.import_rows(session, rows)
    click.echo(f"Stances: {len(rows)} rows: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".")


LISTED = 10
"""Ended terms named in the output; the rest are counted."""


@commands.command("data-status")
@click.option("--on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Check as of noon Eastern on this day (e.g. a campaign's launch day) instead of now.")
def data_status(on: datetime | None) -> None:
    """Where the Congress data came from, which terms have ended or end soon, and what to run."""
    svc = services()
    now = datetime.combine(on.date(), time(12), terms.EASTERN) if on else None
    with svc.db.session() as session:
        found = datasets.report(session, svc.settings.call_ended_terms, now)
    for line in render(found):
        click.echo(line)


def render(found: datasets.Report) -> list[str]:
    """The report as lines of text."""
    sits_until = terms.congress_span(found.congress)[1].isoformat()
    lines = [f"Congress data as of {found.now.strftime('%Y-%m-%d %H:%M %Z')} "
             f"(the {terms.ordinal(found.congress)} Congress sits until {sits_until}).", ""]
    for kind in datasets.KINDS:
        lines += _dataset(datasets.LABELS[kind], found.datasets.get(kind))
    meanwhile = "still connected to the seat's office" if found.policy == "dial" else "left out of calls"
    lines += ["", f"Terms: {_terms(found)}",
              f"Members whose term ended are {meanwhile} (CALL_ENDED_TERMS={found.policy}).",
              "", "What to do:"]
    return lines + [f"  {action}" for action in found.actions()]


def _dataset(label: str, row: Dataset | None) -> list[str]:
    if row is None:
        return [f"{label}: no record (loaded before Action Line kept one, or never): re-import it."]
    day = row.upstream_date.isoformat() if row.upstream_date else ""
    upstream = " of ".join(part for part in (row.upstream[:12], day) if part) or "unknown"
    congress = f"the {terms.ordinal(row.congress)} Congress" if row.congress else "an unknown Congress"
    return [f"{label}: {row.rows:,} rows from {row.source}",
            f"  upstream {upstream}; describes {congress}; imported {row.imported_at:%Y-%m-%d %H:%M} UTC"]


def _terms(found: datasets.Report) -> str:
    ended = "none ended"
    if found.ended:
        more = f" and {len(found.ended) - LISTED} more" if len(found.ended) > LISTED else ""
        ended = (f"{len(found.ended)} ended with no successor in the data "
                 f"({', '.join(map(str, found.ended[:LISTED]))}{more})")
    soon = f"{len(found.ending)} end within {terms.SOON.days} days"
    if found.ending:
        soon += f" (the first on {min(h.end for h in found.ending).isoformat()})"
    undated = f"; {found.undated} have no term dates" if found.undated else ""
    return f"{found.members} members; {ended}; {soon}{undated}."
