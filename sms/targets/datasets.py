"""Where the Congress data came from and whether it still describes today: import records and the report.

Every ``flask import-legislators`` and ``flask import-zips`` records what it loaded as a
``Dataset`` row: source, upstream commit or date, the Congress it describes, when. The shipped
files' provenance is in ``data/congress/datasets.yaml``, found by the file's SHA-256, so
``make db`` needs no options; a refreshed file is described with ``--source``, ``--upstream``
and ``--congress`` (the members' Congress is also read from their terms).

``report`` puts that together with the members' term dates at a moment: which terms have
ended with nobody after them in the data, which end soon, the ZIP map in force and those
loaded ahead, the last refresh (``sms.targets.refresh``) and what to run. ``flask
data-status``, the console's Congress data card and warning banner, and ``/readyz`` show it.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms import defaults
from sms.errors import DataError
from sms.targets import lookup, refresh_log, terms
from sms.targets.models import Dataset, Refresh

MANIFEST = defaults.DATA_DIR / "congress" / "datasets.yaml"
KINDS = ("legislators", "offices", "zips")
LABELS = {"legislators": "Members", "offices": "District offices", "zips": "ZIP map",
          "state-districts": "State districts (ZIP map)", "state-officials": "State officials"}
STATE_KINDS = ("state-districts", "state-officials")
"""The state data's records (``sms.targets.states``); shown after Congress's."""
STATE_STALE_DAYS = 120
"""State officials older than this are worth refreshing (elections seat new legislatures in January)."""
REFRESH_COMMAND = "flask refresh-congress"
MEMBERS_COMMAND = "flask import-legislators legislators-current.yaml --offices legislators-district-offices.csv"
ZIPS_COMMAND = "flask import-zips zccd.csv --congress {congress}"
SHOWN = 5
"""Ended terms named in a warning; the rest are counted."""
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PAST = {"refused": "was refused", "failed": "failed"}


@dataclass(frozen=True)
class Origin:
    """What an import knows about its file (recorded with it)."""

    kind: str
    source: str
    upstream: str = ""  # commit
    upstream_date: date | None = None
    congress: int | None = None
    sha256: str = ""
    effective: date | None = None  # zips: the day the map takes effect


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise DataError(f"{path}: {exc.strerror}") from exc
    return digest.hexdigest()


@functools.cache
def manifest() -> dict[str, dict[str, Any]]:
    """Known files by SHA-256: the shipped copies and the upstream files they were made from."""
    entries = yaml.safe_load(MANIFEST.read_text(encoding="utf-8")) or {}
    return {str(entry["sha256"]): {"name": name, **entry} for name, entry in entries.items()}


def origin(kind: str, path: Path | str, source: str = "", upstream: str = "", congress: int | None = None) -> Origin:
    """The origin of ``path``: the manifest's entry if the file is a known one, then what the organizer says.

    ``upstream`` is a commit (``dfa9622``) or the data's ISO date (``2027-01-04``).
    """
    digest = sha256_of(path)
    known = manifest().get(digest, {})
    commit, day = str(known.get("upstream") or ""), _date(known.get("upstream_date"), "upstream_date")
    if upstream:
        commit, day = ("", _date(upstream, "--upstream")) if _ISO_DATE.match(upstream) else (upstream.strip(), None)
    return Origin(kind, (source or str(known.get("source") or "") or str(path))[:300], commit[:80], day,
                  congress or known.get("congress"), digest)


def _date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DataError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


def members_congress(records: list[dict[str, Any]]) -> int | None:
    """The Congress most House terms in ``records`` belong to (House terms last one Congress)."""
    found = Counter(terms.congress_on(r["term_start"]) for r in records
                    if r.get("chamber") == "house" and r.get("term_start"))
    return found.most_common(1)[0][0] if found else None


def record(session: Session, found: Origin, rows: int, congress: int | None = None) -> None:
    """Add the import's row unless the newest of its kind already says the same (the caller commits)."""
    row = Dataset(kind=found.kind, source=found.source, upstream=found.upstream, upstream_date=found.upstream_date,
                  congress=found.congress or congress, rows=rows, sha256=found.sha256, imported_at=terms.clock(),
                  effective=found.effective)
    if found.kind == "zips":
        last = next((m for m in zip_maps(session) if m.effective == found.effective), None)
    else:
        last = latest(session).get(found.kind)
    fields = ("source", "upstream", "upstream_date", "congress", "rows", "sha256")
    if last is None or any(getattr(last, f) != getattr(row, f) for f in fields):
        session.add(row)


def latest(session: Session, now: datetime | None = None) -> dict[str, Dataset]:
    """The records of the data loaded: the newest members and offices imports, the ZIP map in force at ``now``."""
    newest = select(func.max(Dataset.id)).where(Dataset.kind != "zips").group_by(Dataset.kind)
    found = {row.kind: row for row in session.scalars(select(Dataset).where(Dataset.id.in_(newest)))}
    now = now or terms.clock()
    in_force = [m for m in zip_maps(session) if terms.has_begun(m.effective or lookup.EARLIEST, now)]
    if in_force:
        found["zips"] = in_force[-1]
    return found


def zip_maps(session: Session) -> list[Dataset]:
    """The newest record of each ZIP map loaded (one per effective day), the earliest map first."""
    newest = select(func.max(Dataset.id)).where(Dataset.kind == "zips").group_by(Dataset.effective)
    return sorted(session.scalars(select(Dataset).where(Dataset.id.in_(newest))),
                  key=lambda m: (m.effective or lookup.EARLIEST, m.id))


@dataclass(frozen=True)
class Holder:
    """A member whose term has ended or ends soon."""

    label: str  # Sen. Jon Husted
    seat: str  # OH, NY-12
    end: date

    def __str__(self) -> str:
        return f"{self.label} ({self.seat}, ended {self.end.isoformat()})"


@dataclass(frozen=True)
class Report:
    """The Congress data at ``now``: what was loaded, which terms are over or nearly, what to do."""

    now: datetime
    datasets: dict[str, Dataset]
    members: int
    ended: list[Holder]  # ended, and the data has nobody after them in the seat
    ending: list[Holder]  # end within ``terms.SOON``
    undated: int  # members imported without term dates
    policy: str = defaults.CALL_ENDED_TERMS  # CALL_ENDED_TERMS
    upcoming: list[Dataset] = field(default_factory=list)  # ZIP maps loaded ahead of their effective day
    refresh: Refresh | None = None  # the last refresh or rollback attempted
    applied: Refresh | None = None  # the last one that changed the data
    state_refresh: Refresh | None = None  # the last refresh or rollback of the state officials
    state_applied: Refresh | None = None

    @property
    def refresh_failed(self) -> bool:
        """The last refresh was refused or failed (the data is as it was before it)."""
        return self.refresh is not None and self.refresh.outcome in ("refused", "failed")

    @property
    def congress(self) -> int:
        """The Congress sitting at ``now``."""
        return terms.congress_at(self.now)

    @property
    def zip_congress(self) -> int | None:
        zips = self.datasets.get("zips")
        return zips.congress if zips is not None else None

    @property
    def zips_outdated(self) -> bool:
        """The ZIP map describes a Congress that has ended."""
        return self.zip_congress is not None and self.zip_congress < self.congress

    @property
    def zips_ending(self) -> bool:
        ending = self.zip_congress == self.congress and terms.ends_soon(terms.congress_span(self.congress)[1],
                                                                         self.now)
        return ending and not any(m.congress == self.congress + 1 for m in self.upcoming)

    def actions(self) -> list[str]:
        """What to run, most urgent first (one line each)."""
        out = [line for line in (self._refresh_action(), self._members_action(), self._zips_action(),
                                 self._state_refresh_action(), self._state_action()) if line]
        return out or [f"Nothing to do: no term in the data ends within {terms.SOON.days} days and the ZIP map "
                       "describes the sitting Congress."]

    def _refresh_action(self) -> str:
        if not self.refresh_failed or self.refresh is None:
            return ""
        return (f"The last refresh ({self.refresh.trigger}, {self.refresh.at:%Y-%m-%d %H:%M} UTC) "
                f"{_PAST[self.refresh.outcome]} and changed nothing: {self.refresh.message}. Fix the cause, then run "
                "flask refresh-congress (--dry-run shows what it would change).")

    def _members_action(self) -> str:
        refresh = (f"{REFRESH_COMMAND} (or download legislators-current.yaml from unitedstates/congress-legislators, "
                   f"then {MEMBERS_COMMAND})")
        if not self.members:
            return f"Load the members: flask import-legislators (the shipped copy), or {refresh}."
        if self.ended:
            return f"Refresh the members now ({len(self.ended)} terms have ended): {refresh}."
        if self.undated:
            return f"Re-import the members from a file with term dates ({self.undated} have none): {refresh}."
        if self.ending:
            first = min(h.end for h in self.ending)
            return (f"Refresh the members once the new terms begin ({first.isoformat()}; congress-legislators is "
                    f"updated within days): {refresh}.")
        return ""

    def _zips_action(self) -> str:
        if self.zip_congress is None:
            return ("Record the ZIP map's Congress: flask import-zips (the shipped zccd.csv describes the 119th), "
                    "or " + ZIPS_COMMAND.format(congress=self.congress) + " for a map you built.")
        if self.zips_outdated or self.zips_ending:
            wanted = self.congress if self.zips_outdated else self.congress + 1
            when = "now" if self.zips_outdated else f"when the {terms.ordinal(wanted)} Congress begins " \
                f"({terms.congress_span(wanted)[0].isoformat()})"
            return (f"And the ZIP map {when}: build zccd.csv from the Census {terms.ordinal(wanted)} Congress ZCTA "
                    f"relationship file (docs/congress-data.md), then {ZIPS_COMMAND.format(congress=wanted)}.")
        return ""

    def _state_refresh_action(self) -> str:
        last = self.state_refresh
        if last is None or last.outcome not in _PAST:
            return ""
        return (f"The last refresh of the state officials ({last.trigger}, {last.at:%Y-%m-%d %H:%M} UTC) "
                f"{_PAST[last.outcome]} and changed nothing: {last.message}. Fix the cause, then run "
                "flask refresh-states (--dry-run shows what it would change).")

    def _state_action(self) -> str:
        officials = self.datasets.get("state-officials")  # not loaded: only demands calling states need it
        day = officials.upstream_date if officials is not None else None
        if day is not None and (self.now.date() - day).days > STATE_STALE_DAYS:
            return (f"Refresh the state officials (the data is of {day.isoformat()}; elections change legislatures): "
                    "flask refresh-states (Open States' legislator CSVs), or download github.com/openstates/people "
                    "for governors, attorneys general and mayors too, then flask refresh-states --source "
                    "PATH/TO/people.")
        return ""

    def warnings(self) -> list[str]:
        """What is wrong for callers right now (the console's banner); empty when nothing is."""
        out = []
        if self.ended:
            names = ", ".join(str(h) for h in self.ended[:SHOWN])
            more = f" and {len(self.ended) - SHOWN} more" if len(self.ended) > SHOWN else ""
            meanwhile = ("Callers are still connected to the seat's office (CALL_ENDED_TERMS=dial)."
                         if self.policy == "dial" else "They are left out of calls (CALL_ENDED_TERMS=skip).")
            out.append(f"{len(self.ended)} members' terms have ended and the data has no successor: "
                       f"{names}{more}. {meanwhile}")
        if self.zips_outdated:
            out.append(f"The ZIP map describes the {terms.ordinal(self.zip_congress or 0)} Congress, which ended "
                       f"on {terms.congress_span(self.zip_congress or 0)[1].isoformat()}: texters may be matched "
                       "to districts that changed.")
        if self.undated:
            out.append(f"{self.undated} members were imported without term dates: nobody can tell when their "
                       "terms end.")
        if self.refresh_failed and self.refresh is not None:
            out.append(f"The last refresh of the members ({self.refresh.at:%Y-%m-%d %H:%M} UTC) "
                       f"{_PAST[self.refresh.outcome]}; the data is as it was before it.")
        return out

    def summary(self) -> dict[str, Any]:
        """The report as JSON (``/readyz``)."""
        return {
            "as_of": self.now.isoformat(timespec="seconds"), "sitting_congress": self.congress,
            "terms_ended": len(self.ended), f"terms_ending_within_{terms.SOON.days}_days": len(self.ending),
            "term_dates_unknown": self.undated, "ended_terms_are": "dialed" if self.policy == "dial" else "skipped",
            "datasets": {kind: _summary(self.datasets.get(kind)) for kind in KINDS + STATE_KINDS},
            "zip_maps_ahead": [_summary(m) for m in self.upcoming],
            "last_refresh": _refresh_summary(self.refresh),
            "last_state_refresh": _refresh_summary(self.state_refresh),
            "action": " ".join(self.actions()),
        }


def _summary(row: Dataset | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"source": row.source, "upstream": row.upstream or None,
            "upstream_date": row.upstream_date.isoformat() if row.upstream_date else None,
            "congress": row.congress, "rows": row.rows, "imported_at": row.imported_at.isoformat(timespec="seconds"),
            **({"effective": row.effective.isoformat()} if row.effective else {})}


def _refresh_summary(row: Refresh | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"at": row.at.isoformat(timespec="seconds"), "trigger": row.trigger, "action": row.action,
            "outcome": row.outcome, "message": row.message}


def refreshes(session: Session, kind: str = "congress") -> tuple[Refresh | None, Refresh | None]:
    """The last refresh (or rollback) of ``kind`` attempted, and the last one applied."""
    return refresh_log.latest(session, kind)


def report(session: Session, policy: str = defaults.CALL_ENDED_TERMS, now: datetime | None = None) -> Report:
    """The Congress data at ``now`` (default: the clock)."""
    now = now or terms.clock()
    found = lookup.directory(session)
    ended, ending, undated = [], [], 0
    for member in found.members():
        end = found.terms[member.ref].end if member.ref in found.terms else None
        seat = lookup.district_label(member.state, member.district) if member.kind == "house" else member.state
        if end is None:
            undated += 1
        elif terms.has_ended(end, now):
            ended.append(Holder(member.label, seat, end))
        elif terms.ends_soon(end, now):
            ending.append(Holder(member.label, seat, end))
    by_end = lambda h: (h.end, h.seat, h.label)  # noqa: E731
    upcoming = [m for m in zip_maps(session) if not terms.has_begun(m.effective or lookup.EARLIEST, now)]
    return Report(now, latest(session, now), len(found.members()), sorted(ended, key=by_end),
                  sorted(ending, key=by_end), undated, policy, upcoming, *refreshes(session),
                  *refreshes(session, "states"))
