"""What every data refresh shares (Congress's ``sms.targets.refresh``, the states' ``sms.targets.state_refresh``).

A refresh reads what upstream offers, checks it into a plan, and then ``run`` ends it the same
way for each kind: a dry run writes nothing; a refused plan or one that changes nothing is
rolled back and logged with why; else the kind's ``apply`` replaces the data in the
transaction that moved its data version, keeping the data replaced on the log row
(``data_refreshes.snapshot``, the newest ``REFRESH_SNAPSHOTS_KEPT`` of each kind). ``undo``
puts a snapshot back. Rows are told apart by ``kind`` (``congress``, ``states``): each kind's
rollback, daily job and status only look at its own.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms import defaults
from sms.errors import DataError, FetchError
from sms.services import Services
from sms.targets import lookup, terms
from sms.targets.models import Refresh

log = logging.getLogger(__name__)


class Change(Protocol):
    """What a plan changes, as the log needs it."""

    @property
    def empty(self) -> bool: ...

    def summary(self) -> str: ...

    def counts(self) -> tuple[int, int, int, int]:
        """In, out, changed, and the other rows changed (Congress's district offices)."""
        ...


class Refusals:
    """A plan's reasons not to apply it: ``wrong`` never is, ``unusual`` only with ``force``."""

    wrong: list[str]
    unusual: list[str]
    force: bool

    @property
    def refused(self) -> list[str]:
        return self.wrong + ([] if self.force else [f"{why} (--force applies it anyway)" for why in self.unusual])


@dataclass(frozen=True)
class Outcome:
    """What one run did: its plan (None if the data could not be read), its log row (None for a dry run)."""

    plan: Any
    logged: Refresh | None
    error: str = ""

    @property
    def outcome(self) -> str:
        """applied, unchanged, refused, failed or dry-run."""
        if self.logged is not None:
            return self.logged.outcome
        return "failed" if self.plan is None else "dry-run"


def run(
    svc: Services,
    kind: str,
    version: str,
    trigger: str,
    where: str,
    dry_run: bool,
    load: Callable[[Session, Path], Any],
    check: Callable[[Session, Any], Any],
    apply: Callable[[Session, Any, str, str], Refresh],
) -> Outcome:
    """Load (into a temporary directory), check and apply unless refused or ``dry_run``; log the outcome.

    ``load`` raises DataError (FetchError: the download failed) when the data cannot be read; the
    data ``version`` is moved before ``check`` reads the data loaded, so two refreshes take turns.
    """
    with tempfile.TemporaryDirectory(prefix=f"{kind}-") as tmp, svc.db.session() as session:
        try:
            offered = load(session, Path(tmp))
        except DataError as exc:
            outcome = "failed" if isinstance(exc, FetchError) else "refused"
            session.rollback()
            return Outcome(
                None, None if dry_run else log_run(session, kind, trigger, where, outcome, str(exc)), str(exc)
            )
        if not dry_run:
            lookup.bump_version(session, version)  # the data's lock: a refresh running elsewhere finishes first
        plan = check(session, offered)
        if dry_run or plan.refused or plan.change.empty:
            session.rollback()
        if dry_run:
            return Outcome(plan, None)
        if plan.refused:
            return Outcome(plan, log_run(session, kind, trigger, where, "refused", "; ".join(plan.refused)))
        if plan.change.empty:
            return Outcome(plan, log_run(session, kind, trigger, where, "unchanged", "no change"))
        return Outcome(plan, apply(session, plan, trigger, where))


def undo(
    svc: Services, kind: str, version: str, trigger: str, restore: Callable[[Session, dict[str, Any]], Change]
) -> Refresh:
    """Put back the data of before the last applied refresh of ``kind`` not rolled back; DataError if none."""
    with svc.db.session() as session:
        lookup.bump_version(session, version)
        target = last_undoable(session, kind)
        if target is None or not target.snapshot:
            raise DataError(
                "Nothing to roll back: no applied refresh has its replaced data kept "
                f"(the newest {defaults.REFRESH_SNAPSHOTS_KEPT} are)."
            )
        change = restore(session, target.snapshot)
        target.rolled_back_at = terms.clock()
        message = (
            f"restored the data of before refresh #{target.id} ({target.at:%Y-%m-%d %H:%M} UTC): {change.summary()}"
        )
        row = log_run(
            session, kind, trigger, f"refresh #{target.id}", "applied", message, change, action="rollback", commit=False
        )
        session.commit()
    return row


def last_undoable(session: Session, kind: str) -> Refresh | None:
    """The applied refresh of ``kind`` a rollback would undo (its replaced data kept, not rolled back yet)."""
    return session.scalar(
        select(Refresh)
        .where(
            Refresh.kind == kind,
            Refresh.action == "refresh",
            Refresh.outcome == "applied",
            Refresh.rolled_back_at.is_(None),
            Refresh.snapshot.is_not(None),
        )
        .order_by(Refresh.id.desc())
        .limit(1)
    )


def prune_snapshots(session: Session, kind: str) -> None:
    """Keep the replaced data of the newest REFRESH_SNAPSHOTS_KEPT applied refreshes of ``kind`` only."""
    ids = session.scalars(
        select(Refresh.id).where(Refresh.kind == kind, Refresh.snapshot.is_not(None)).order_by(Refresh.id.desc())
    ).all()
    if len(ids) > defaults.REFRESH_SNAPSHOTS_KEPT:
        session.execute(
            update(Refresh).where(Refresh.id.in_(ids[defaults.REFRESH_SNAPSHOTS_KEPT :])).values(snapshot=None)
        )


def log_run(
    session: Session,
    kind: str,
    trigger: str,
    where: str,
    outcome: str,
    message: str,
    change: Change | None = None,
    snapshot: dict[str, Any] | None = None,
    action: str = "refresh",
    commit: bool = True,
) -> Refresh:
    """Add a refresh log row (and commit, unless it is part of the caller's transaction)."""
    came_in, went_out, changed, others = change.counts() if change is not None else (0, 0, 0, 0)
    row = Refresh(
        kind=kind,
        at=terms.clock(),
        trigger=trigger,
        action=action,
        source=where[:300],
        outcome=outcome,
        message=message,
        members_in=came_in,
        members_out=went_out,
        members_changed=changed,
        offices_changed=others,
        snapshot=snapshot,
    )
    session.add(row)
    if commit:
        session.commit()
    if outcome in ("refused", "failed"):
        log.warning("%s data refresh (%s) %s, nothing was changed: %s", kind, trigger, outcome, message)
    return row


def due(session: Session, kind: str) -> bool:
    """True unless the daily job of ``kind`` ran less than DATA_REFRESH_EVERY_HOURS ago."""
    last = session.scalar(
        select(Refresh.at).where(Refresh.kind == kind, Refresh.trigger == "cron").order_by(Refresh.id.desc()).limit(1)
    )
    return last is None or terms.clock() - last >= timedelta(hours=defaults.DATA_REFRESH_EVERY_HOURS)


def latest(session: Session, kind: str) -> tuple[Refresh | None, Refresh | None]:
    """The last refresh (or rollback) of ``kind`` attempted, and the last one applied."""
    last = session.scalar(select(Refresh).where(Refresh.kind == kind).order_by(Refresh.id.desc()).limit(1))
    applied = session.scalar(
        select(Refresh).where(Refresh.kind == kind, Refresh.outcome == "applied").order_by(Refresh.id.desc()).limit(1)
    )
    return last, applied
