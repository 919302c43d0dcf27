"""What a state refresh (or its rollback) changes, per state: officials added, removed, changed.

Records are ``StateOfficial`` fields (``sms.targets.states.official_record``), keyed by id. A change
is one of name, phone, party or district (shown before and after); other differences (a seat's
spelling, a title, a term date) are counted. ``flask refresh-states`` prints the lines, the refresh
log keeps the summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LEGISLATORS = ("state-upper", "state-lower")
DIFF_FIELDS = ("name", "phone", "party", "district")
Records = dict[str, dict[str, Any]]


@dataclass
class StateDiff:
    """One state's part of a change."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # State Sen. X (district 7): phone +1... -> +1...
    other: int = 0  # officials with other changes only (seat names, titles, term dates)

    def line(self, state: str) -> str:
        other = f", {self.other} with other changes" if self.other else ""
        return f"{state}: {len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed{other}"


@dataclass
class StateChange:
    """What replacing the officials loaded by those offered changes, by state."""

    states: dict[str, StateDiff] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(d.added or d.removed or d.changed or d.other for d in self.states.values())

    def counts(self) -> tuple[int, int, int, int]:
        """Officials added, removed, changed (name, phone, party, district), and with other changes."""
        found = self.states.values()
        return (
            sum(len(d.added) for d in found),
            sum(len(d.removed) for d in found),
            sum(len(d.changed) for d in found),
            sum(d.other for d in found),
        )

    def summary(self) -> str:
        """``3 added, 2 removed, 1 changed, 0 with other changes (KY: 1 added, ...; TX: ...)``."""
        if self.empty:
            return "no change"
        added, removed, changed, other = self.counts()
        by_state = "; ".join(d.line(s) for s, d in sorted(self.states.items()))
        return f"{added} added, {removed} removed, {changed} changed, {other} with other changes ({by_state})"

    def lines(self) -> list[str]:
        """A line per state with changes, then every official added, removed or changed."""
        out: list[str] = []
        for state, found in sorted(self.states.items()):
            out.append(f"  {found.line(state)}")
            out += [f"    added:   {who}" for who in found.added] + [f"    removed: {who}" for who in found.removed]
            out += [f"    changed: {line}" for line in found.changed]
        return out


def label(record: dict[str, Any]) -> str:
    """``State Sen. Aaron Reed (district 7)``, ``Gov. Andy Beshear``, ``Mayor Craig Greenberg (Louisville)``."""
    who = f"{record['title']} {record['name']}"
    if record["role"] in LEGISLATORS:
        return f"{who} (district {record['seat'] or record['district'] or '?'})"
    return f"{who} ({record['city']})" if record["role"] == "mayor" else who


def diff(old: Records, new: Records) -> StateChange:
    """What replacing ``old`` by ``new`` changes, by state."""
    change = StateChange()
    per = lambda record: change.states.setdefault(record["state"], StateDiff())  # noqa: E731
    for uid in sorted(new.keys() - old.keys(), key=lambda u: label(new[u])):
        per(new[uid]).added.append(label(new[uid]))
    for uid in sorted(old.keys() - new.keys(), key=lambda u: label(old[u])):
        per(old[uid]).removed.append(label(old[uid]))
    for uid in sorted(old.keys() & new.keys(), key=lambda u: label(new[u])):
        before, after = old[uid], new[uid]
        moved = [f"{f} {before[f] or 'none'} -> {after[f] or 'none'}" for f in DIFF_FIELDS if before[f] != after[f]]
        if moved:
            per(after).changed.append(f"{label(before)}: {'; '.join(moved)}")
        elif before != after:
            per(after).other += 1
    return change
