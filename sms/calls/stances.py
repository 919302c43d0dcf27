"""Where lawmakers stand on a demand, and what a call does about supporters.

Organizers import stances (e.g. a bill's cosponsors) with ``flask import-stances``. A
demand's ``CallPolicy`` says whether supporters are called like anyone else, skipped,
or thanked with a thank-you script; the caller's text says which and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sms.calls.models import CallPolicy, Stance
from sms.errors import StanceError
from sms.targets import importer
from sms.targets.lookup import Target

STANCES = ("supports", "opposes", "unknown")
POLICIES = ("call", "skip", "thank")
COLUMNS = ("bioguide_id", "demand", "stance")
THANK_SCRIPT = ("Hi, I'm a constituent from {zip}. I'm calling to thank {target} for supporting this: "
                "please keep standing with us.")
_BIOGUIDE = re.compile(r"^[A-Z]\d{6}$")
_PERSON = re.compile(r"^(?:OCD-PERSON/)?([0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})$")
"""An Open States person (a state legislator, governor, attorney general, mayor): ``ocd-person/<uuid>``."""


@dataclass(frozen=True)
class Screened:
    """Targets after the demand's supporter policy, with what to tell the caller."""

    targets: list[Target]
    thanked: frozenset[str]
    notes: list[str]


def read(path: Path, known_demands: set[str]) -> list[tuple[str, str, str]]:
    """Parse and check every row; raise StanceError listing bad lines (nothing is imported)."""
    rows, errors = [], []
    try:
        for line, row in importer.read_rows(path, COLUMNS):
            bioguide = (row["bioguide_id"] or "").strip().upper()
            demand = (row["demand"] or "").strip().upper()
            stance = (row["stance"] or "").strip().lower()
            person = _PERSON.match(bioguide)
            bioguide = person.group(1).lower() if person else bioguide
            if not person and not _BIOGUIDE.match(bioguide):
                errors.append(f"line {line}: bad bioguide_id {bioguide!r} (a bioguide, or an Open States "
                              "ocd-person/<id> for a state official)")
            elif demand not in known_demands:
                errors.append(f"line {line}: unknown demand {demand!r}")
            elif stance not in STANCES:
                errors.append(f"line {line}: stance must be supports, opposes or unknown, not {stance!r}")
            else:
                rows.append((bioguide, demand, stance))
    except importer.DataError as exc:
        raise StanceError(str(exc)) from exc
    if errors:
        raise StanceError("; ".join(errors[:10]) + (f" (+{len(errors) - 10} more)" if len(errors) > 10 else ""))
    return rows


def import_rows(session: Session, rows: list[tuple[str, str, str]]) -> dict[str, int]:
    """Make the stored stances of each demand in ``rows`` equal the file (re-import = no change)."""
    wanted = {(b, d): s for b, d, s in rows}
    demands = {d for _, d in wanted}
    current = {(s.bioguide, s.demand): s for s in session.scalars(select(Stance).where(Stance.demand.in_(demands)))}
    counts = {"added": 0, "changed": 0, "removed": 0, "unchanged": 0}
    for key, stance in wanted.items():
        row = current.get(key)
        if row is None:
            session.add(Stance(bioguide=key[0], demand=key[1], stance=stance))
            counts["added"] += 1
        elif row.stance != stance:
            row.stance = stance
            counts["changed"] += 1
        else:
            counts["unchanged"] += 1
    for key in set(current) - set(wanted):
        session.execute(delete(Stance).where(Stance.bioguide == key[0], Stance.demand == key[1]))
        counts["removed"] += 1
    session.commit()
    return counts


def policy_of(session: Session, demand: str) -> CallPolicy:
    return session.get(CallPolicy, demand) or CallPolicy(demand=demand, supporters="call", thank_script="")


def set_policy(session: Session, demand: str, supporters: str, thank_script: str | None = None) -> CallPolicy:
    if supporters not in POLICIES:
        raise ValueError(f"supporters must be one of {', '.join(POLICIES)}")
    policy = session.get(CallPolicy, demand) or CallPolicy(demand=demand, thank_script="")
    policy.supporters = supporters
    if thank_script is not None:
        policy.thank_script = thank_script
    session.add(policy)
    session.commit()
    return policy


def screen(session: Session, demand: str, chosen: list[Target]) -> Screened:
    """Apply the demand's supporter policy to ``chosen`` (custom targets have no stance; members of Congress and
    state officials do, by bioguide or Open States person id)."""
    policy = policy_of(session, demand)
    refs = [t.member for t in chosen if t.kind not in ("custom", "office")]
    if policy.supporters == "call" or not refs:
        return Screened(chosen, frozenset(), [])
    supporters = set(session.scalars(select(Stance.bioguide).where(
        Stance.demand == demand, Stance.bioguide.in_(refs), Stance.stance == "supports")))
    if not supporters:
        return Screened(chosen, frozenset(), [])
    names = [t.label for t in chosen if t.member in supporters]
    if policy.supporters == "skip":
        note = f"skipping {', '.join(names)}: already {'support' if len(names) > 1 else 'supports'} {demand}"
        return Screened([t for t in chosen if t.member not in supporters], frozenset(), [note])
    note = f"{', '.join(names)} already {'support' if len(names) > 1 else 'supports'} {demand}: please thank them"
    return Screened(chosen, frozenset(supporters), [note])


def thank_script(session: Session, demand: str) -> str:
    return policy_of(session, demand).thank_script or THANK_SCRIPT
