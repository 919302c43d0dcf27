"""Get the state officials a refresh offers: Open States' per-state CSVs over HTTP, a compact file, or a directory.

Where from (``STATE_DATA_URL``, or ``flask refresh-states --source``):

- a base URL (the default, ``https://data.openstates.org/people/current/``): Open States'
  per-state legislator CSVs, ``<st>.csv`` for each state whose legislators are loaded (columns
  ``id``, ``name``, ``current_party``, ``current_district``, ``current_chamber``,
  ``capitol_voice``, ``district_voice``...). They list **legislators only** and no term dates:
  governors, attorneys general and mayors stay as loaded, and a legislator keeps the term end
  loaded. The capitol's phone is dialed, else the district office's (as for the YAML);
- a URL or a path ending in ``.csv``: the compact form shipped in ``data/states/state-officials.csv``
  (every role);
- a directory: an Open States ``people`` checkout (every role, read like ``flask
  import-state-legislators``), one holding ``state-officials.csv``, or Open States' ``<st>.csv`` files.

Downloads go through ``sms.targets.upstream.download`` (connect and read timeouts, a size limit,
rate limits): any failure raises ``FetchError`` naming the URL before anything is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from sms import defaults
from sms.errors import DataError
from sms.targets import datasets, importer, state_changes, states, upstream
from sms.targets.models import StateOfficial

LEGISLATORS = state_changes.LEGISLATORS
EVERY_ROLE = tuple(states.TITLES)
OPEN_STATES_COLUMNS = ("id", "name", "current_party", "current_district", "current_chamber")
CHAMBERS = {"upper": "state-upper", "lower": "state-lower", "legislature": "state-upper"}
"""Open States' ``current_chamber`` → role (Nebraska's and DC's unicameral bodies are ``legislature``)."""
USER_AGENT = "ActionLine-state-refresh (python-requests)"
Row = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Offer:
    """The rows one refresh offers and what they cover: the rest of the state officials is left as loaded."""

    rows: list[Row]  # (where: "URL or path: line N", a row in the compact file's columns)
    source: str  # the URL base, file or directory
    roles: tuple[str, ...] = EVERY_ROLE
    states: frozenset[str] | None = None  # None: every state (a state missing from the rows loses its officials)
    dated: bool = True  # False: the rows have no term dates (the loaded ones are kept)
    day: date | None = None  # a server's Last-Modified date
    sha256: str = ""  # of a single file

    @property
    def complete(self) -> bool:
        return self.states is None and self.roles == EVERY_ROLE

    def describe(self) -> str:
        """Where the data came from, as the import record keeps it."""
        if self.complete:
            return self.source
        return f"{self.source} (legislators of {self.covered()}; the others as loaded)"

    def covered(self) -> str:
        """``5 states``, ``KY``: whose legislators the offer has."""
        found = sorted(self.states or ())
        return found[0] if len(found) == 1 else f"{len(found)} states"


def loaded_states(session: Session) -> list[str]:
    """The states whose legislators are loaded (the ones a refresh from Open States' CSVs fetches)."""
    return sorted(set(session.scalars(select(StateOfficial.state).where(StateOfficial.role.in_(LEGISLATORS)))))


def get(
    where: str,
    into: Path,
    session: Session,
    today: date,
    timeout: float = defaults.CONGRESS_DATA_TIMEOUT,
    max_bytes: int = defaults.CONGRESS_DATA_MAX_BYTES,
) -> Offer:
    """The rows at ``where`` (a URL or a path); FetchError if a download fails, DataError if nothing reads."""
    if where.startswith(("http://", "https://")):
        with requests.Session() as http:
            http.headers["User-Agent"] = USER_AGENT
            if where.lower().endswith(".csv"):
                path = into / states.OFFICIALS_CSV.name
                day = upstream.download(http, where, path, timeout, max_bytes)
                return _compact(path, where, day)
            return _fetch_states(http, where, into, session, timeout, max_bytes)
    return local(Path(where), today)


def _fetch_states(
    http: requests.Session, base: str, into: Path, session: Session, timeout: float, max_bytes: int
) -> Offer:
    wanted = loaded_states(session)
    if not wanted:
        raise DataError("no state legislators are loaded to refresh: run flask import-state-legislators first")
    base = base if base.endswith("/") else base + "/"
    rows: list[Row] = []
    day: date | None = None
    for state in wanted:
        url, path = f"{base}{state.lower()}.csv", into / f"{state.lower()}.csv"
        day = upstream.download(http, url, path, timeout, max_bytes) or day
        rows += open_states_rows(path, url, state)
    return Offer(rows, base, LEGISLATORS, frozenset(wanted), dated=False, day=day)


def local(path: Path, today: date) -> Offer:
    """The rows of a compact file, a directory of Open States CSVs or an Open States ``people`` checkout."""
    if path.is_file():
        return _compact(path, str(path), None)
    if not path.is_dir():
        raise DataError(f"{path}: no such file or directory")
    if (path / states.OFFICIALS_CSV.name).is_file():
        return _compact(path / states.OFFICIALS_CSV.name, str(path / states.OFFICIALS_CSV.name), None)
    csvs = sorted(p for p in path.glob("*.csv") if len(p.stem) == 2 and p.stem.isalpha())
    if csvs:
        rows = [row for p in csvs for row in open_states_rows(p, str(p), p.stem.upper())]
        return Offer(rows, str(path), LEGISLATORS, frozenset(p.stem.upper() for p in csvs), dated=False)
    return Offer([(f"{path}: {where}", row) for where, row in states.read_people(path, today)], str(path))


def _compact(path: Path, shown: str, day: date | None) -> Offer:
    try:
        rows = [(f"{shown}: {where}", row) for where, row in states.read_officials(path, date.min)]
    except DataError as exc:
        raise DataError(str(exc).replace(str(path), shown)) from None
    return Offer(rows, shown, day=day, sha256=datasets.sha256_of(path))


def open_states_rows(path: Path, shown: str, state: str) -> list[Row]:
    """One Open States legislator CSV as rows of the compact file's columns; DataError naming ``shown``."""
    out: list[Row] = []
    try:
        for line, row in importer.read_rows(path, OPEN_STATES_COLUMNS):
            chamber = str(row.get("current_chamber") or "").strip()
            role = CHAMBERS.get(chamber, f"chamber {chamber}")  # an unknown chamber is refused by its role
            person = str(row.get("id") or "").strip().removeprefix("ocd-person/")
            out.append(
                (
                    f"{shown}: line {line}",
                    {
                        "id": f"{person}:{role}" if person else "",
                        "state": state,
                        "role": role,
                        "seat": row.get("current_district") or "",
                        "name": row.get("name") or "",
                        "party": row.get("current_party") or "",
                        "phone": row.get("capitol_voice") or row.get("district_voice") or "",
                        "city": "",
                        "term_end": "",
                    },
                )
            )
    except DataError as exc:
        raise DataError(str(exc).replace(str(path), shown)) from None
    return out
