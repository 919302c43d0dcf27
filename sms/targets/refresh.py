"""Refresh the members of Congress and their district offices from upstream in one step.

``flask refresh-congress`` and the daily job (``DATA_REFRESH=daily``) call ``run``:

1. get the files (``sms.targets.upstream``: from ``CONGRESS_DATA_URL`` over HTTP, or a directory);
2. read every row (a row that does not read, e.g. a phone that is no number, refuses the file);
3. check the new data against the seats (``sms.targets.seats``): a member of a seat that does not
   exist, a third senator or two members for one seat refuse it; so do more than
   ``REFRESH_MAX_VACANCIES`` vacancies or a drop of more than ``DATA_REFRESH_MAX_DROP`` percent
   of the members or offices (a cut or half-published file), unless ``force``;
4. work out what changes (``sms.targets.changes``) and, unless it is a dry run, apply it in one
   transaction that also keeps the replaced members and offices on the log row (``snapshot``),
   records the files (``sms.targets.datasets``) and moves the data version, so every web
   process and worker uses the new data from its next lookup, without a restart.

The transaction begins by moving the data version, whose row lock (PostgreSQL) or writer lock
(SQLite) makes two refreshes take turns; the check reads the data inside it. A refused or
failed refresh changes nothing and is logged with why (``data_refreshes``); a dry run writes
nothing. ``rollback`` restores the data of before the last applied refresh (again: the one before).
The steps every refresh shares (the run's end, the log, snapshots, rollback) are in
``sms.targets.refresh_log``; its rows here are of kind ``congress``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms.errors import DataError
from sms.services import Services
from sms.targets import changes, datasets, importer, lookup, refresh_log, seats, terms, upstream
from sms.targets.models import Dataset, DistrictOffice, Legislator, Refresh

log = logging.getLogger(__name__)
Records = changes.Records
KIND = "congress"
"""The refresh log rows (``data_refreshes.kind``) of Congress's data."""
Outcome = refresh_log.Outcome


@dataclass
class Plan(refresh_log.Refusals):
    """A refresh read and checked: the data offered, what it changes and why it may not be applied."""

    files: upstream.Files
    members: Records
    offices: Records
    census: seats.Census
    change: changes.Change
    wrong: list[str] = field(default_factory=list)  # never applied
    unusual: list[str] = field(default_factory=list)  # applied only with force
    notes: list[str] = field(default_factory=list)
    force: bool = False


def run(svc: Services, trigger: str, source: Path | None = None, dry_run: bool = False,
        force: bool = False) -> Outcome:
    """Fetch (or read ``source``), check, and apply unless refused or ``dry_run``; log the outcome."""
    settings = svc.settings

    def load(_session: Session, tmp: Path) -> tuple[upstream.Files, Records, Records, list[str]]:
        files = upstream.local(source) if source else upstream.fetch(
            settings.congress_data_url, tmp, settings.congress_data_timeout)
        return (files, *read(files))

    def checked(session: Session, offered: tuple[upstream.Files, Records, Records, list[str]]) -> Plan:
        files, members, offices, notes = offered
        plan = check(session, files, members, offices, settings.data_refresh_max_drop, force)
        plan.notes += notes
        return plan

    where = str(source) if source else settings.congress_data_url
    return refresh_log.run(svc, KIND, lookup.VERSION, trigger, where, dry_run, load, checked, apply)


def read(files: upstream.Files) -> tuple[Records, Records, list[str]]:
    """The members and offices the files offer; DataError naming the file (its URL) and line."""
    found: list[Records] = []
    for path, shown, columns, make, key in (
            (files.members, files.members_from, importer.LEGISLATOR_COLUMNS, importer.legislator_record, "bioguide"),
            (files.offices, files.offices_from, importer.OFFICE_COLUMNS, importer.office_record, "id")):
        try:
            found.append(importer.collect(importer.read_rows(path, columns), make, lambda r, k=key: r[k], shown,
                                          False, importer.Summary()))
        except DataError as exc:
            raise DataError(str(exc).replace(str(path), shown)) from None
    members, offices = found
    strays = {k for k, office in offices.items() if office["bioguide"] not in members}
    notes = [f"{len(strays)} district offices of people not in the members file were left out"] if strays else []
    return members, {k: v for k, v in offices.items() if k not in strays}, notes


def current(session: Session) -> tuple[Records, Records]:
    """The members and offices loaded, as records."""
    def rows(model: Any, key: str) -> Records:
        columns = [c for c in model.__table__.columns if c.name != "updated_at"]
        return {r[key]: dict(r) for r in session.execute(select(*columns)).mappings()}
    return rows(Legislator, "bioguide"), rows(DistrictOffice, "id")


def check(session: Session, files: upstream.Files, members: Records, offices: Records, max_drop: int,
          force: bool = False) -> Plan:
    """Check the data offered against the seats and the data loaded; what it would change."""
    old_members, old_offices = current(session)
    census = seats.census(members.values())
    plan = Plan(files, members, offices, census, changes.diff(old_members, members, old_offices, offices),
                wrong=list(census.wrong), force=force)
    if not members:
        plan.wrong.append("the members file lists nobody")
    if census.implausible():
        plan.unusual.append(census.implausible())
    for what, old, new in (("members", len(old_members), len(members)),
                           ("district offices", len(old_offices), len(offices))):
        if old and (old - new) * 100 > max_drop * old:
            plan.unusual.append(f"the {what} would drop from {old} to {new} ({(old - new) * 100 / old:.0f}%, more "
                                f"than DATA_REFRESH_MAX_DROP={max_drop}%): a cut or half-published file?")
    return plan


def apply(session: Session, plan: Plan, trigger: str, where: str) -> Refresh:
    """Replace the members and offices by the plan's in the session's transaction, keeping the old ones; commit."""
    old_members, old_offices = current(session)
    snapshot = _snapshot(session, old_members, old_offices)
    importer.sync(session, Legislator, plan.members, importer.Summary(), commit=False)
    importer.sync(session, DistrictOffice, plan.offices, importer.Summary(), commit=False)
    _record(session, plan)
    row = refresh_log.log_run(session, KIND, trigger, where, "applied", plan.change.summary(), plan.change, snapshot,
                              commit=False)
    refresh_log.prune_snapshots(session, KIND)
    session.commit()
    lookup.forget_directory()
    log.info("congress data refreshed from %s: %s", where, plan.change.summary())
    return row


def _record(session: Session, plan: Plan) -> None:
    """Record both files with the import (a file upstream's manifest knows keeps its commit)."""
    files = plan.files
    congress = datasets.members_congress(list(plan.members.values()))  # the offices are of the same snapshot
    for kind, path, shown, rows in (("legislators", files.members, files.members_from, len(plan.members)),
                                    ("offices", files.offices, files.offices_from, len(plan.offices))):
        found = datasets.origin(kind, path, source=shown)
        if not found.upstream and found.upstream_date is None:
            found = replace(found, upstream_date=files.day or terms.clock().date())
        datasets.record(session, found, rows, congress)


def rollback(svc: Services, trigger: str) -> Refresh:
    """Restore the members and offices of before the last applied refresh not rolled back; DataError if none."""
    row = refresh_log.undo(svc, KIND, lookup.VERSION, trigger, _restore)
    lookup.forget_directory()
    return row


def _restore(session: Session, snap: dict[str, Any]) -> changes.Change:
    """Make the members, offices and their dataset records those of ``snap``; what that changes."""
    members = {r["bioguide"]: _dated(r) for r in snap["legislators"]}
    offices = {r["id"]: r for r in snap["offices"]}
    old_members, old_offices = current(session)
    change = changes.diff(old_members, members, old_offices, offices)
    importer.sync(session, Legislator, members, importer.Summary(), commit=False)
    importer.sync(session, DistrictOffice, offices, importer.Summary(), commit=False)
    for kind, data in (snap.get("datasets") or {}).items():
        datasets.record(session, datasets.Origin(
            kind, data["source"], data["upstream"], _day(data["upstream_date"]), data["congress"],
            data["sha256"]), data["rows"])
    return change


def last_undoable(session: Session) -> Refresh | None:
    """The applied refresh ``rollback`` would undo (its replaced data kept, not rolled back yet)."""
    return refresh_log.last_undoable(session, KIND)


def zip_maps_since(session: Session, refresh: Refresh) -> list[Dataset]:
    """ZIP maps imported after ``refresh``: a rollback leaves them (refreshes never change ZIP maps)."""
    return list(session.scalars(select(Dataset).where(Dataset.kind == "zips", Dataset.imported_at >= refresh.at)
                                .order_by(Dataset.id)))


def _snapshot(session: Session, members: Records, offices: Records) -> dict[str, Any]:
    """The data a refresh replaces, as JSON (dates as ISO strings), with the records of its files."""
    def plain(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in record.items()}
    found = datasets.latest(session)
    return {"legislators": [plain(r) for r in members.values()], "offices": [plain(r) for r in offices.values()],
            "datasets": {kind: plain({f: getattr(found[kind], f) for f in (
                "source", "upstream", "upstream_date", "congress", "rows", "sha256")})
                for kind in ("legislators", "offices") if kind in found}}


def _dated(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "term_start": _day(record.get("term_start")), "term_end": _day(record.get("term_end"))}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def due(session: Session) -> bool:
    """True unless the daily job ran less than DATA_REFRESH_EVERY_HOURS ago."""
    return refresh_log.due(session, KIND)


def scheduled(svc: Services) -> dict[str, int]:
    """The daily job: refresh unless DATA_REFRESH is off or it ran recently; counts for the worker's log line."""
    if svc.settings.data_refresh != "daily":
        return {}
    with svc.db.session() as session:
        if not due(session):
            return {}
    done = run(svc, "cron")
    change = done.plan.change if done.plan is not None and done.outcome == "applied" else changes.Change()
    return {done.outcome: 1, "members_in": len(change.joined), "members_out": len(change.left),
            "members_changed": change.members_changed, "offices_changed": change.offices_total}
