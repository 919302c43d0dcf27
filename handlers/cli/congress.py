"""The Congress data: ``flask data-status`` (how current it is) and ``flask refresh-congress`` (refresh it).

``refresh-congress`` fetches congress-legislators' current files (``CONGRESS_DATA_URL``, or
``--source DIR``), checks them, prints what would change and applies it in one transaction
unless ``--dry-run`` or the checks refuse it (``sms.targets.refresh``); ``--rollback`` puts
back the data of before the last applied refresh. A refused or failed refresh exits 1,
says why and changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import click

from handlers.cli.base import Commands
from handlers.context import services
from sms.errors import DataError
from sms.targets import datasets, refresh, terms, verification, zipmaps
from sms.targets.models import Dataset, Refresh

commands = Commands()


@commands.command("refresh-congress")
@click.option("--source", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Read legislators-current.yaml (or .csv) and legislators-district-offices.csv from this "
                   "directory instead of fetching them from CONGRESS_DATA_URL.")
@click.option("--dry-run", is_flag=True, help="Check and print what would change; write nothing.")
@click.option("--force", is_flag=True, help="Apply even if many members or offices would go, or many seats "
              "would be vacant (a file that does not read, or seats that cannot be, are refused anyway).")
@click.option("--rollback", is_flag=True, help="Put back the members and offices of before the last applied refresh.")
def refresh_congress(source: Path | None, dry_run: bool, force: bool, rollback: bool) -> None:
    """Refresh the members of Congress and their district offices from upstream, checked first."""
    svc = services()
    if rollback:
        if source or dry_run or force:
            raise click.UsageError("--rollback takes no other option.")
        with svc.db.session() as session:
            undone = refresh.last_undoable(session)
            maps = refresh.zip_maps_since(session, undone) if undone is not None else []
        row = refresh.rollback(svc, "cli")
        click.echo(f"Rolled back (#{row.id}): {row.message}.")
        for line in _zip_maps_kept(maps):
            click.echo(line)
        return
    click.echo(f"Congress data from {source or svc.settings.congress_data_url}")
    done = refresh.run(svc, "cli", source, dry_run, force)
    if done.plan is None:
        raise click.ClickException(f"{done.error} (nothing was changed)")
    for line in describe(done.plan):
        click.echo(line)
    if done.outcome == "refused":
        raise click.ClickException("refused, nothing was changed: " + "; ".join(done.plan.refused))
    click.echo(verdict(done))


def describe(plan: refresh.Plan) -> list[str]:
    """The data offered and what it changes."""
    return ([f"New data: {plan.census}.", f"Changes: {plan.change.summary()}."] + plan.change.lines()
            + [f"  note: {note}" for note in plan.notes])


def verdict(done: refresh.Outcome, command: str = "flask refresh-congress") -> str:
    """The run's last line: dry run, unchanged or applied (a refused or failed run exits with its reasons)."""
    if done.outcome == "dry-run":
        return "Dry run: nothing was changed." + (" It would be refused: " + "; ".join(done.plan.refused)
                                                  if done.plan is not None and done.plan.refused else "")
    if done.outcome == "unchanged":
        return "Unchanged: the data loaded is already this."
    number = done.logged.id if done.logged is not None else "?"
    return (f"Applied (refresh #{number}): every web process and worker uses it from its next lookup; "
            f"{command} --rollback puts the previous data back.")


LISTED = 10
"""Ended terms named in the output; the rest are counted."""


def _zip_maps_kept(maps: list[Dataset]) -> list[str]:
    """A rollback restores members and offices only: say so, and how to undo a ZIP map loaded since."""
    lines = ["ZIP maps are not restored: refresh-congress never changes them, so a rollback leaves them as they are."]
    for found in maps:
        day = found.effective.isoformat() if found.effective else "any date"
        lines.append(f"  The ZIP map in force from {day} ({found.source}) was loaded after that refresh and stays; "
                     f"to undo it: flask remove-zip-map {day}" if found.effective else
                     f"  The ZIP map in force at {day} ({found.source}) was loaded after that refresh and stays; "
                     "reload the previous one with flask import-zips PATH.")
    return lines


@commands.command("remove-zip-map")
@click.argument("effective", type=click.DateTime(["%Y-%m-%d"]))
def remove_zip_map(effective: datetime) -> None:
    """Remove the ZIP map that takes effect on EFFECTIVE (YYYY-MM-DD); lookups use the map before it."""
    svc = services()
    with svc.db.session() as session:
        try:
            removed = zipmaps.remove(session, effective.date())
        except DataError as exc:
            raise click.ClickException(f"{exc} (nothing was changed)") from exc
    click.echo(f"Removed the ZIP map in force from {effective.date().isoformat()} ({removed:,} rows); "
               "lookups on and after that day use the map before it.")


@commands.command("data-status")
@click.option("--on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Check as of noon Eastern on this day (e.g. a campaign's launch day) instead of now.")
def data_status(on: datetime | None) -> None:
    """Where the Congress data came from, which terms have ended or end soon, and what to run."""
    svc = services()
    now = datetime.combine(on.date(), time(12), terms.EASTERN) if on else None
    since = svc.settings.targets_verified_since
    with svc.db.session() as session:
        found = datasets.report(session, svc.settings.call_ended_terms, now)
        flagged = verification.unverified(session, since)
    for line in render(found) + _custom_targets(flagged, since):
        click.echo(line)


def _custom_targets(flagged: list[verification.Unverified], since: date | None) -> list[str]:
    """Custom-target phones nobody verified lately (TARGETS_VERIFIED_SINCE), and what to do."""
    if not flagged:
        return ["", "Custom targets: every phone verified" + (f" since {since.isoformat()}." if since else ".")]
    limit = f"since {since.isoformat()} (TARGETS_VERIFIED_SINCE)" if since else "ever"
    return ["", f"Custom targets: {len(flagged)} phone{'s' if len(flagged) != 1 else ''} not verified {limit} "
                "(still dialed):",
            *[f"  {item.describe(since)}" for item in flagged[:LISTED]],
            *([f"  and {len(flagged) - LISTED} more"] if len(flagged) > LISTED else []),
            f"  {verification.action(flagged)}"]


def render(found: datasets.Report) -> list[str]:
    """The report as lines of text."""
    sits_until = terms.congress_span(found.congress)[1].isoformat()
    lines = [f"Congress data as of {found.now.strftime('%Y-%m-%d %H:%M %Z')} "
             f"(the {terms.ordinal(found.congress)} Congress sits until {sits_until}).", ""]
    for kind in datasets.KINDS:
        lines += _dataset(datasets.LABELS[kind], found.datasets.get(kind))
    for ahead in found.upcoming:
        lines += _dataset(f"ZIP map from {ahead.effective.isoformat() if ahead.effective else '?'}", ahead)
    for kind in datasets.STATE_KINDS:
        lines += _dataset(datasets.LABELS[kind], found.datasets.get(kind), congress=False)
    lines += _refreshes(found)
    meanwhile = "still connected to the seat's office" if found.policy == "dial" else "left out of calls"
    lines += ["", f"Terms: {_terms(found)}",
              f"Members whose term ended are {meanwhile} (CALL_ENDED_TERMS={found.policy}).",
              "", "What to do:"]
    return lines + [f"  {action}" for action in found.actions()]


def _dataset(label: str, row: Dataset | None, congress: bool = True) -> list[str]:
    if row is None:
        return [f"{label}: no record (loaded before Action Line kept one, or never): re-import it."]
    day = row.upstream_date.isoformat() if row.upstream_date else ""
    upstream = " of ".join(part for part in (row.upstream[:12], day) if part) or "unknown"
    describes = ""
    if congress:
        describes = f"describes the {terms.ordinal(row.congress)} Congress; " if row.congress else \
            "describes an unknown Congress; "
    return [f"{label}: {row.rows:,} rows from {row.source}",
            f"  upstream {upstream}; {describes}imported {row.imported_at:%Y-%m-%d %H:%M} UTC"]


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


def _refreshes(found: datasets.Report) -> list[str]:
    """The last refresh of Congress's data and of the state officials', and the last applied if that was not it."""
    return (_refresh_lines("", found.refresh, found.applied, "flask refresh-congress; DATA_REFRESH=daily")
            + _refresh_lines("State officials: ", found.state_refresh, found.state_applied,
                             "flask refresh-states; STATE_DATA_REFRESH=daily"))


def _refresh_lines(what: str, last: Refresh | None, applied: Refresh | None, how: str) -> list[str]:
    def line(label: str, row: Refresh) -> str:
        return f"{what}{label}: {row.action} {row.outcome} {row.at:%Y-%m-%d %H:%M} UTC ({row.trigger}) from " \
               f"{row.source}: {row.message}"
    if last is None:
        return [f"{what}Refreshes: none yet ({how} runs it every day)."]
    lines = [line("Last refresh", last)]
    if last.outcome in ("refused", "failed"):
        lines.append("  The data is as it was before it.")
    if applied is not None and applied is not last:
        lines.append(line("Last applied", applied))
    return lines
