"""Custom-target phones that nobody has checked lately (the seed's Louisville number says "verify before launch").

Unlike the Congress data, an organizer's own offices have no upstream: a number is only known
good when someone called it. Each target keeps the day it was last verified (``verified_on``,
from the console's "Verified today" or ``verified:`` in ``custom_targets:``); one that was never
verified, or not since TARGETS_VERIFIED_SINCE, is flagged on the Targets page and in
``flask data-status``. Flagged numbers are still dialed: the flag asks a person to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sms.store import utcnow
from sms.targets.models import CustomTarget


@dataclass(frozen=True)
class Unverified:
    id: int
    set_name: str
    name: str
    phone: str
    verified_on: date | None

    def describe(self, since: date | None) -> str:
        """``louisville_council: Metro Council +1502…0100, never verified``."""
        when = f"last verified {self.verified_on.isoformat()}" if self.verified_on else "never verified"
        limit = f" (not since {since.isoformat()})" if since and self.verified_on else ""
        return f"{self.set_name}: {self.name} {masked(self.phone)}, {when}{limit}"


def masked(phone: str) -> str:
    """``+1502…0100``: enough for an organizer to recognise it, as in the logs."""
    return f"{phone[:5]}…{phone[-4:]}" if len(phone) > 9 else phone


def is_flagged(verified_on: date | None, since: date | None) -> bool:
    return verified_on is None or (since is not None and verified_on < since)


def unverified(session: Session, since: date | None) -> list[Unverified]:
    """Targets never verified, or not on or after ``since``, by set and calling order."""
    stale = CustomTarget.verified_on.is_(None)
    if since is not None:
        stale = or_(stale, CustomTarget.verified_on < since)
    rows = session.scalars(select(CustomTarget).where(stale).order_by(CustomTarget.set_name, CustomTarget.position))
    return [Unverified(r.id, r.set_name, r.name, r.phone, r.verified_on) for r in rows]


def mark_verified(session: Session, target: CustomTarget, on: date | None = None) -> None:
    """Record that someone called ``target`` and it reached the office (today by default); commit."""
    target.verified_on = on or utcnow().date()
    session.commit()


def action(flagged: list[Unverified]) -> str:
    """What to do about ``flagged`` (an empty string when nothing is)."""
    if not flagged:
        return ""
    return (f"Call the {len(flagged)} custom-target phone{'s' if len(flagged) != 1 else ''} not verified "
            "lately, then press \"Verified today\" beside each on the console's Targets page "
            "(or set verified: YYYY-MM-DD in custom_targets: and run flask import-targets).")
