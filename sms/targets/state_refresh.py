"""Refresh the state officials from upstream in one step: ``flask refresh-states`` and its daily job.

The same pipeline as Congress's (``sms.targets.refresh_log``), with rows of kind ``states``:

1. get the rows (``sms.targets.state_upstream``: Open States' per-state CSVs from ``STATE_DATA_URL``,
   a compact file, or a directory);
2. read every row and join it to the districts loaded (a row that does not read, e.g. no name
   or an unknown chamber, refuses the refresh, naming the file and line);
3. check, per state, unless ``force``: legislators dropping by more than
   ``DATA_REFRESH_MAX_DROP`` percent (a cut or half-published file), a chamber with more
   members than it has seats (``SEATS``), two governors or attorneys general, or two mayors of a city;
4. work out what changes per state (``sms.targets.state_changes``: added, removed, changed) and,
   unless it is a dry run, apply it in one transaction that keeps every official replaced on the
   log row (``snapshot``), records the source (``datasets``, kind ``state-officials``) and moves the
   ``states`` data version: every web process and worker routes texters to the new officials from
   its next lookup, without a restart.

A refused or failed refresh changes nothing and is logged with why. ``rollback`` restores the
officials of before the last applied refresh. The districts (``flask import-state-districts``)
are not refreshed: boundaries change with redistricting, not with elections.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from sms.errors import DataError
from sms.services import Services
from sms.targets import datasets, importer, refresh_log, state_changes, state_lookup, state_upstream, states, terms
from sms.targets.models import Refresh, StateOfficial

log = logging.getLogger(__name__)
KIND = "states"
"""The refresh log rows (``data_refreshes.kind``) of the state officials."""
Records = dict[str, dict[str, Any]]
CHAMBER_NAMES = {"state-upper": "state senate", "state-lower": "state house"}
_SEATS = (
    "AL 35 105, AK 20 40, AZ 30 60, AR 35 100, CA 40 80, CO 35 65, CT 36 151, DE 21 41, FL 40 120, "
    "GA 56 180, HI 25 51, ID 35 70, IL 59 118, IN 50 100, IA 50 100, KS 40 125, KY 38 100, LA 39 105, "
    "ME 35 154, MD 47 141, MA 40 160, MI 38 110, MN 67 134, MS 52 122, MO 34 163, MT 50 100, NE 49 0, "
    "NV 21 42, NH 24 400, NJ 40 80, NM 42 70, NY 63 150, NC 50 120, ND 47 94, OH 33 99, OK 48 101, "
    "OR 30 60, PA 50 203, RI 38 75, SC 46 124, SD 35 70, TN 33 99, TX 31 150, UT 29 75, VT 30 150, "
    "VA 40 100, WA 49 98, WV 34 100, WI 33 99, WY 31 62, DC 13 0"
)
SEATS = {
    (entry.split()[0], role): int(n)
    for entry in _SEATS.split(", ")
    for role, n in zip(state_upstream.LEGISLATORS, entry.split()[1:], strict=True)
}
"""Seats per (state, chamber): the 7,386 of the 50 legislatures (NCSL), Nebraska's 49 and DC's council of 13 as
``state-upper``; Maine's house has 151 and up to 3 tribal representatives. Puerto Rico's chambers grow with
its minority-party seats and are not checked."""


@dataclass
class Plan(refresh_log.Refusals):
    """A refresh read and checked: the officials offered, what they change and why they may not be applied."""

    offer: state_upstream.Offer
    records: Records
    change: state_changes.StateChange
    wrong: list[str] = field(default_factory=list)
    unusual: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    force: bool = False


def run(
    svc: Services, trigger: str, source: str | None = None, dry_run: bool = False, force: bool = False
) -> refresh_log.Outcome:
    """Fetch (or read ``source``: a URL, file or directory), check, and apply unless refused or ``dry_run``."""
    settings = svc.settings
    where = source or settings.state_data_url

    def load(session: Session, tmp: Path) -> tuple[state_upstream.Offer, Records, list[str]]:
        offer = state_upstream.get(where, tmp, session, terms.clock().date(), settings.congress_data_timeout)
        return (offer, *read(session, offer))

    def checked(session: Session, loaded: tuple[state_upstream.Offer, Records, list[str]]) -> Plan:
        offer, records, notes = loaded
        plan = check(session, offer, records, settings.data_refresh_max_drop, force)
        plan.notes += notes
        return plan

    return refresh_log.run(svc, KIND, states.VERSION, trigger, where, dry_run, load, checked, apply)


def read(session: Session, offer: state_upstream.Offer) -> tuple[Records, list[str]]:
    """The offer's rows as StateOfficial records joined to the districts loaded; DataError naming a bad row."""
    joined = states.chambers(session)
    if not joined:
        raise DataError("no state districts are loaded: run flask import-state-districts first")
    records: Records = {}
    not_joined = 0
    for where, row in offer.rows:
        try:
            record, why = states.official_record(row, joined)
        except ValueError as exc:
            raise DataError(f"{where}: {exc}") from None
        records[record["id"]] = record
        not_joined += bool(why)
    notes = [f"{not_joined} legislators join no district of the map (kept, never reached by ZIP)"] if not_joined else []
    return records, notes


def scope(offer: state_upstream.Offer) -> ColumnElement[bool] | None:
    """The loaded officials the offer replaces (None: all of them)."""
    if offer.complete:
        return None
    where = StateOfficial.role.in_(offer.roles)
    return and_(where, StateOfficial.state.in_(sorted(offer.states))) if offer.states is not None else where


def current(session: Session, within: ColumnElement[bool] | None = None) -> Records:
    """The officials loaded (those ``within`` a scope), as records."""
    columns = [c for c in StateOfficial.__table__.columns if c.name != "updated_at"]
    query = select(*columns) if within is None else select(*columns).where(within)
    return {r["id"]: dict(r) for r in session.execute(query).mappings()}


def check(session: Session, offer: state_upstream.Offer, records: Records, max_drop: int, force: bool = False) -> Plan:
    """Check the officials offered against the seats and the officials loaded; what they would change."""
    old = current(session, scope(offer))
    if not offer.dated:  # Open States' CSVs have no term dates: keep the loaded ones
        for uid, record in records.items():
            record["term_end"] = old[uid]["term_end"] if uid in old else None
    plan = Plan(offer, records, state_changes.diff(old, records), force=force)
    if not records:
        plan.wrong.append("the data lists nobody")
    plan.unusual += _drops(old, records, max_drop) + _over_seats(records) + _doubles(records)
    return plan


def _drops(old: Records, new: Records, max_drop: int) -> list[str]:
    """States whose legislators would drop by more than ``max_drop`` percent."""
    before = Counter(r["state"] for r in old.values() if r["role"] in state_upstream.LEGISLATORS)
    after = Counter(r["state"] for r in new.values() if r["role"] in state_upstream.LEGISLATORS)
    return [
        f"{state}: the legislators would drop from {n} to {after[state]} ({(n - after[state]) * 100 / n:.0f}%, "
        f"more than DATA_REFRESH_MAX_DROP={max_drop}%): a cut or half-published file?"
        for state, n in sorted(before.items())
        if (n - after[state]) * 100 > max_drop * n
    ]


def _over_seats(new: Records) -> list[str]:
    """Chambers with more members than seats (someone listed twice, or a successor beside the member replaced)."""
    found = Counter((r["state"], r["role"]) for r in new.values() if r["role"] in state_upstream.LEGISLATORS)
    return [
        f"{state}: {n} {CHAMBER_NAMES[role]} members for {SEATS[(state, role)]} seats"
        for (state, role), n in sorted(found.items())
        if n > SEATS.get((state, role), n)
    ]


def _doubles(new: Records) -> list[str]:
    """Two governors or attorneys general of a state, or two mayors of a city."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record in new.values():
        if record["role"] in ("governor", "attorney-general", "mayor"):
            office = states.SPOKEN[record["title"]] + (f" of {record['city']}" if record["role"] == "mayor" else "")
            found[(record["state"], office)].append(record["name"])
    return [
        f"{state}: {len(names)} officials hold the office of {office} ({', '.join(sorted(names))})"
        for (state, office), names in sorted(found.items())
        if len(names) > 1
    ]


def apply(session: Session, plan: Plan, trigger: str, where: str) -> Refresh:
    """Replace the officials in the plan's scope in the session's transaction, keeping all the old ones; commit."""
    snapshot = _snapshot(session)
    importer.sync(
        session,
        StateOfficial,
        plan.records,
        importer.Summary(),
        scope=scope(plan.offer),
        commit=False,
        version=states.VERSION,
    )
    rows = session.scalar(select(func.count()).select_from(StateOfficial)) or 0
    datasets.record(
        session,
        datasets.Origin(
            "state-officials",
            plan.offer.describe()[:300],
            "",
            plan.offer.day or terms.clock().date(),
            None,
            plan.offer.sha256,
        ),
        rows,
    )
    row = refresh_log.log_run(
        session, KIND, trigger, where, "applied", plan.change.summary(), plan.change, snapshot, commit=False
    )
    refresh_log.prune_snapshots(session, KIND)
    session.commit()
    state_lookup.forget_directory()
    log.info("state officials refreshed from %s: %s", where, plan.change.summary())
    return row


def _snapshot(session: Session) -> dict[str, Any]:
    """Every official loaded, as compact JSON (columns once, a list per official), with the import record."""
    found = current(session)
    columns = [c.name for c in StateOfficial.__table__.columns if c.name != "updated_at"]
    plain = lambda v: v.isoformat() if isinstance(v, date) else v  # noqa: E731
    record = datasets.latest(session).get("state-officials")
    kept = (
        {f: plain(getattr(record, f)) for f in ("source", "upstream", "upstream_date", "rows", "sha256")}
        if record is not None
        else None
    )
    return {"columns": columns, "officials": [[plain(r[c]) for c in columns] for r in found.values()], "dataset": kept}


def rollback(svc: Services, trigger: str) -> Refresh:
    """Restore the officials of before the last applied refresh not rolled back; DataError if none."""
    row = refresh_log.undo(svc, KIND, states.VERSION, trigger, _restore)
    state_lookup.forget_directory()
    return row


def _restore(session: Session, snap: dict[str, Any]) -> state_changes.StateChange:
    columns = snap["columns"]
    records = {}
    for values in snap["officials"]:
        record = dict(zip(columns, values, strict=True))
        record["term_end"] = date.fromisoformat(record["term_end"]) if record["term_end"] else None
        records[record["id"]] = record
    change = state_changes.diff(current(session), records)
    importer.sync(session, StateOfficial, records, importer.Summary(), commit=False, version=states.VERSION)
    kept = snap.get("dataset")
    if kept:
        day = date.fromisoformat(kept["upstream_date"]) if kept["upstream_date"] else None
        datasets.record(
            session,
            datasets.Origin("state-officials", kept["source"], kept["upstream"], day, None, kept["sha256"]),
            kept["rows"],
        )
    return change


def last_undoable(session: Session) -> Refresh | None:
    """The applied state refresh ``rollback`` would undo."""
    return refresh_log.last_undoable(session, KIND)


def scheduled(svc: Services) -> dict[str, int]:
    """The daily job: refresh unless STATE_DATA_REFRESH is off or it ran recently; counts for the worker's log."""
    if svc.settings.state_data_refresh != "daily":
        return {}
    with svc.db.session() as session:
        if not refresh_log.due(session, KIND):
            return {}
    done = run(svc, "cron")
    applied = done.plan is not None and done.outcome == "applied"
    added, removed, changed, _ = done.plan.change.counts() if applied else (0, 0, 0, 0)
    return {done.outcome: 1, "added": added, "removed": removed, "changed": changed}
