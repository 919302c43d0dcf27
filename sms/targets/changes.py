"""What a refresh (or a rollback) changes: members in and out, changed phones, seats and district offices.

Records are the ones ``sms.targets.importer`` makes (``legislator_record``, ``office_record``),
keyed by bioguide and by office id. ``diff`` compares two versions of the data; its lines are
what ``flask refresh-congress`` prints and its summary what the refresh log keeps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sms.targets.lookup import district_label

Records = dict[str, dict[str, Any]]
SEAT_FIELDS = ("chamber", "state", "district")


def label(member: dict[str, Any]) -> str:
    """``Rep. Jerrold Nadler (NY-12)``, ``Sen. Jon Husted (OH)``."""
    seat = member["state"] if member["chamber"] == "senate" else district_label(member["state"], member["district"])
    return f"{member['title']} {member['name']} ({seat})"


@dataclass
class Change:
    """The difference between the data loaded and the data offered."""

    joined: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)  # Rep. X (NY-12): +1202... -> +1202...
    moved: list[str] = field(default_factory=list)  # a member in another seat or chamber
    other: int = 0  # members with other changes only (term dates, names, parties)
    offices: list[str] = field(default_factory=list)  # members in both whose district offices changed
    offices_added: int = 0
    offices_removed: int = 0
    offices_changed: int = 0

    @property
    def members_changed(self) -> int:
        return len(self.phones) + len(self.moved) + self.other

    @property
    def offices_total(self) -> int:
        return self.offices_added + self.offices_removed + self.offices_changed

    @property
    def empty(self) -> bool:
        return not (self.joined or self.left or self.members_changed or self.offices_total)

    def counts(self) -> tuple[int, int, int, int]:
        """Members in, out, changed, and district offices changed (the refresh log's columns)."""
        return len(self.joined), len(self.left), self.members_changed, self.offices_total

    def summary(self) -> str:
        """One line: ``3 members in, 3 out, 1 phone changed, 0 moved, 470 other changes; district offices: ...``."""
        if self.empty:
            return "no change"
        return (f"{len(self.joined)} members in, {len(self.left)} out, {len(self.phones)} phone"
                f"{'s' if len(self.phones) != 1 else ''} changed, {len(self.moved)} moved, {self.other} with other "
                f"changes (terms, names, parties); district offices: {self.offices_added} added, "
                f"{self.offices_removed} removed, {self.offices_changed} changed")

    def lines(self) -> list[str]:
        """Every member in, out, with a new phone or seat, and whose offices changed."""
        return ([f"  in:      {who}" for who in self.joined] + [f"  out:     {who}" for who in self.left]
                + [f"  phone:   {line}" for line in self.phones] + [f"  moved:   {line}" for line in self.moved]
                + [f"  offices: {line}" for line in self.offices])


def diff(old: Records, new: Records, old_offices: Records, new_offices: Records) -> Change:
    """What replacing (``old``, ``old_offices``) by (``new``, ``new_offices``) changes."""
    change = Change(joined=sorted(label(new[b]) for b in new.keys() - old.keys()),
                    left=sorted(label(old[b]) for b in old.keys() - new.keys()))
    for bioguide in sorted(old.keys() & new.keys(), key=lambda b: label(new[b])):
        before, after = old[bioguide], new[bioguide]
        if any(before[f] != after[f] for f in SEAT_FIELDS):
            change.moved.append(f"{label(before)} -> {label(after)}")
        elif before["phone"] != after["phone"]:
            change.phones.append(f"{label(after)}: {before['phone'] or 'none'} -> {after['phone'] or 'none'}")
        elif before != after:
            change.other += 1
    _offices(change, old_offices, new_offices, {b: label(new[b]) for b in old.keys() & new.keys()})
    return change


def _offices(change: Change, old: Records, new: Records, staying: dict[str, str]) -> None:
    """Count office changes; name the members who stay and whose offices changed."""
    per_member: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for office_id in new.keys() | old.keys():
        before, after = old.get(office_id), new.get(office_id)
        if before == after:
            continue
        slot = 0 if before is None else 1 if after is None else 2
        per_member[(after or before or {})["bioguide"]][slot] += 1
    for bioguide, (added, removed, changed) in per_member.items():
        change.offices_added += added
        change.offices_removed += removed
        change.offices_changed += changed
        if bioguide in staying:
            parts = [f"{n} {what}" for n, what in ((added, "added"), (removed, "removed"), (changed, "changed")) if n]
            change.offices.append(f"{staying[bioguide]}: {', '.join(parts)}")
    change.offices.sort()
