"""The schema and the shipped data: ``flask init-db`` and the ``import-*`` commands (``make db``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from handlers.cli.base import Commands
from handlers.context import services
from sms import store
from sms.calls import stances
from sms.errors import DataError, StanceError
from sms.messaging import catalogue
from sms.targets import importer

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


def _run_import(label: str, path: Path, columns: tuple[str, ...], load: Callable[..., Any], skip_bad: bool) -> None:
    """Read ``path`` under a progress bar, import it, print the summary; errors name the line."""
    length = max(sum(1 for _ in path.open("rb")) - 1, 0) if path.suffix == ".csv" and path.exists() else None
    try:
        with click.progressbar(importer.read_rows(path, columns), length=length, label=label) as rows:
            with services().db.session() as session:
                summary = load(session, rows, path, skip_bad)
    except DataError as exc:
        raise click.ClickException(f"{exc} (nothing was changed)") from exc
    for line in summary.rejected[:10]:
        click.echo(f"  rejected {line}", err=True)
    click.echo(f"{label}: {summary}.")


@commands.command("import-legislators")
@click.argument("path", required=False, type=FILE)
@click.option("--offices", type=FILE, help="legislators-district-offices.csv (default: the shipped copy).")
@click.option("--skip-bad", is_flag=True, help="Reject malformed rows and go on instead of stopping.")
def import_legislators(path: Path | None, offices: Path | None, skip_bad: bool) -> None:
    """Load current members of Congress (congress-legislators CSV or YAML) and their district offices."""
    _run_import("Legislators", path or importer.LEGISLATORS_CSV, importer.LEGISLATOR_COLUMNS,
                importer.import_legislators, skip_bad)
    offices = offices or (importer.OFFICES_CSV if path is None else None)
    if offices is not None:
        _run_import("District offices", offices, importer.OFFICE_COLUMNS, importer.import_offices, skip_bad)


@commands.command("import-zips")
@click.argument("path", required=False, type=FILE)
@click.option("--skip-bad", is_flag=True, help="Reject malformed rows and go on instead of stopping.")
def import_zips(path: Path | None, skip_bad: bool) -> None:
    """Load the ZIP (ZCTA) → congressional district table (zccd.csv)."""
    _run_import("ZIP districts", path or importer.ZIPS_CSV, importer.ZIP_COLUMNS, importer.import_zips, skip_bad)


@commands.command("import-targets")
@click.argument("path", required=False, type=FILE)
@click.option("--if-empty", is_flag=True, help="Only load sets that do not exist yet; keep console edits.")
def import_targets(path: Path | None, if_empty: bool) -> None:
    """Load custom target sets (``custom_targets:``) from the catalogue or a targets YAML."""
    sets = importer.load_custom_targets(path or importer.CATALOGUE_YAML)
    with services().db.session() as session:
        if if_empty:
            sets = {name: items for name, items in sets.items() if not importer.set_exists(session, name)}
        summary = importer.import_custom_targets(session, sets)
    click.echo(f"Custom targets ({', '.join(sets) or 'none'}): {summary}.")


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
