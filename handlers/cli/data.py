"""The schema and the shipped data: ``flask init-db`` and the ``import-*`` commands (``make db``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from handlers.cli.base import Commands
from handlers.context import services
from sms import store
from sms.calls import stances
from sms.console import demand_editor
from sms.errors import DataError, StanceError
from sms.messaging import catalogue
from sms.targets import custom_sets, datasets, importer, local_officials, lookup, terms, zipmaps

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
@click.option("--overwrite", is_flag=True, help="Take the YAML's wording even where an organizer edited it.")
@click.option("--retire-missing", is_flag=True, help="Retire live demands the YAML no longer has.")
def import_catalogue(path: Path | None, if_empty: bool, overwrite: bool, retire_missing: bool) -> None:
    """Load demands, campaigns and texts from YAML (idempotent; keeps console edits unless --overwrite)."""
    segments = services().settings.max_reply_segments
    data = catalogue.with_translations(catalogue.load_yaml(path or catalogue.DEFAULT_PATH, segments),
                                       path or catalogue.DEFAULT_PATH)  # and its demands.<code>.yaml beside it
    with services().db.session() as session:
        if if_empty and catalogue.is_loaded(session):
            click.echo("Catalogue already loaded; keeping its edits (run import-catalogue to reload the YAML).")
            return
        summary = catalogue.import_catalogue(session, data, segments, overwrite, retire_missing)
    click.echo(f"Catalogue: {summary.added} added, {summary.changed} changed, {summary.unchanged} unchanged.")
    _report_catalogue(summary)


def _report_catalogue(summary: catalogue.ImportSummary) -> None:
    if summary.kept:
        click.echo("Kept what organizers changed in the console (the YAML differs; --overwrite takes the YAML):")
        for line in summary.kept:
            click.echo(f"  {line}")
    if summary.missing:
        click.echo(f"In the database but not in the YAML, still offered: {', '.join(summary.missing)}. "
                   "Retire them in the console (Demands) or with --retire-missing (history is kept).")
    if summary.retired:
        click.echo(f"Retired (not in the YAML): {', '.join(summary.retired)}.")


@commands.command("retire-demand")
@click.argument("keyword")
@click.option("--restore", is_flag=True, help="Offer a retired demand again.")
def retire_demand(keyword: str, restore: bool) -> None:
    """Stop offering a demand (its keyword then says the campaign ended); keeps its history."""
    with services().db.session() as session:
        try:
            row = (demand_editor.restore if restore else demand_editor.retire)(session, keyword)
        except catalogue.CatalogueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{row.keyword} is offered again." if restore else
               f"Retired {row.keyword}: no longer offered; texting it says the campaign ended.")


def _run_import(label: str, path: Path, columns: tuple[str, ...], load: Callable[..., Any], skip_bad: bool,
                kind: str, described: dict[str, object], effective: datetime | None = None,
                members_will_follow: bool = False) -> None:
    """Read ``path`` under a progress bar, import it and record its origin, print the summary; errors name the line.

    A ZIP map (``kind`` zips) is read first and checked against the members (``zipmaps.check``).
    """
    length = max(sum(1 for _ in path.open("rb")) - 1, 0) if path.suffix == ".csv" and path.exists() else None
    try:
        origin = datasets.origin(kind, path, **described)  # type: ignore[arg-type]
        with click.progressbar(importer.read_rows(path, columns), length=length, label=label) as rows:
            with services().db.session() as session:
                if kind == "zips":
                    summary = _import_map(session, rows, path, skip_bad, origin, effective, members_will_follow)
                else:
                    summary = load(session, rows, path, skip_bad, origin)
    except DataError as exc:
        raise click.ClickException(f"{exc} (nothing was changed)") from exc
    for line in summary.rejected[:10]:
        click.echo(f"  rejected {line}", err=True)
    for note in summary.notes:
        click.echo(f"  note: {note}", err=True)
    click.echo(f"{label}: {summary}.")


def _import_map(session: Any, rows: Any, path: Path, skip_bad: bool, origin: datasets.Origin,
                effective: datetime | None, members_will_follow: bool) -> importer.Summary:
    """Read a ZIP map, refuse it if it does not fit the members in force when it takes effect, then load it."""
    if effective is not None:
        origin = replace(origin, effective=effective.date(), congress=origin.congress or terms.congress_on(
            effective.date()))
    day = zipmaps.map_effective(session, origin)
    read = importer.Summary()
    records = importer.zip_records(rows, day, path, skip_bad, read)
    fit = zipmaps.check(session, {(r["state"], r["district"]) for r in records.values()}, day)
    if fit.problems and not members_will_follow:
        raise DataError(f"{path}: the map does not fit the members: {'; '.join(fit.problems)}. Pass "
                        "--members-will-follow if they will be refreshed before the map takes effect")
    summary = importer.import_zips(session, (), path, skip_bad, replace(origin, effective=day), records=records)
    summary.rejected = read.rejected
    summary.notes += (fit.problems + fit.notes) if members_will_follow else fit.notes
    summary.notes.append(f"the map is in force from {day.isoformat()} (noon Eastern)"
                         if day != lookup.EARLIEST else "the map is in force at any date (no Congress given)")
    return summary


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
@click.option("--effective", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day the map takes effect, from noon Eastern (e.g. 2027-01-03); default: the first day of "
                   "its --congress, else the day of the map in force now (which it replaces).")
@click.option("--members-will-follow", is_flag=True,
              help="Load the map even if its districts do not fit the members in force when it takes effect.")
@_described
def import_zips(path: Path | None, skip_bad: bool, effective: datetime | None, members_will_follow: bool,
                **described: object) -> None:
    """Load a ZIP (ZCTA) → congressional district map (zccd.csv), now or ahead of the day it takes effect."""
    _run_import("ZIP districts", path or importer.ZIPS_CSV, importer.ZIP_COLUMNS, importer.import_zips,
                skip_bad, "zips", described, effective, members_will_follow)


@commands.command("import-targets")
@click.argument("path", required=False, type=FILE)
@click.option("--if-empty", is_flag=True, help="Keep sets' targets and rules already loaded (console edits).")
def import_targets(path: Path | None, if_empty: bool) -> None:
    """Load custom target sets (``custom_targets:``: hours, constituents, targets) from the catalogue or a YAML,
    or local officials (DAs, sheriffs, council members, with the area they serve) from a CSV."""
    if path is not None and path.suffix.lower() == ".csv":
        return _import_local(path)
    sets = custom_sets.load_custom_targets(path or custom_sets.CATALOGUE_YAML)
    with services().db.session() as session:
        summary = custom_sets.import_custom_targets(session, sets, if_empty=if_empty)
    click.echo(f"Custom targets ({', '.join(sets) or 'none'}): {summary}.")
    for note in summary.notes:
        click.echo(f"  {note}")


def _import_local(path: Path) -> None:
    """A local officials CSV (sms.targets.local_officials): every line's problems, or the sets replaced."""
    try:
        upload = local_officials.read(path.read_text(encoding="utf-8-sig"), str(path))
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror} (nothing was changed)") from exc
    except DataError as exc:
        raise click.ClickException(f"{exc} (nothing was changed)") from exc
    for problem in upload.problems:
        click.echo(f"  {path}: {problem}", err=True)
    if upload.problems:
        raise click.ClickException(f"{len(upload.problems)} line(s) have problems (nothing was changed)")
    with services().db.session() as session:
        summary = local_officials.load(session, upload)
    click.echo(f"Local officials ({', '.join(sorted(upload.sets)) or 'none'}): {summary}.")


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
