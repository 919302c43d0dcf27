"""Organizers: the people who log in to the console, with hashed passwords and a role.

Passwords are stored only as werkzeug hashes (scrypt by default). The model carries
the four attributes Flask-Login expects, so ``sms/`` needs no Flask import.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from sms.console.models import Organizer
from sms.errors import OrganizerError
from sms.store import utcnow

ROLES = ("organizer", "admin")
MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(email: str) -> str:
    """Trim and lower-case an email; raise OrganizerError when it does not look like one."""
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise OrganizerError("Enter a valid email address.")
    return email


def check_password(password: str) -> None:
    """Raise OrganizerError for a password too short to protect 100,000 phone numbers."""
    if len(password or "") < MIN_PASSWORD:
        raise OrganizerError(f"The password must be at least {MIN_PASSWORD} characters.")


def create(session: Session, email: str, password: str, role: str = "organizer") -> Organizer:
    """Add an organizer (not committed); raise OrganizerError for a bad or taken email."""
    email = normalise_email(email)
    check_password(password)
    if role not in ROLES:
        raise OrganizerError(f"Role must be one of: {', '.join(ROLES)}.")
    if find(session, email) is not None:
        raise OrganizerError(f"An organizer with email {email} already exists.")
    organizer = Organizer(email=email, password_hash=generate_password_hash(password), role=role)
    session.add(organizer)
    session.flush()
    return organizer


def set_password(organizer: Organizer, password: str) -> None:
    check_password(password)
    organizer.password_hash = generate_password_hash(password)


def find(session: Session, email: str) -> Organizer | None:
    return session.scalar(select(Organizer).where(Organizer.email == (email or "").strip().lower()))


def authenticate(session: Session, email: str, password: str) -> Organizer | None:
    """The active organizer with these credentials, or None (same cost either way)."""
    organizer = find(session, email)
    if organizer is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(organizer.password_hash, password or "") or not organizer.active:
        return None
    organizer.last_login_at = utcnow()
    return organizer


def admins_left(session: Session, excluding: int | None = None) -> int:
    """How many active admins there are besides ``excluding`` (never lock everyone out)."""
    query = select(func.count(Organizer.id)).where(Organizer.role == "admin", Organizer.active)
    if excluding is not None:
        query = query.where(Organizer.id != excluding)
    return session.scalar(query) or 0


def listing(session: Session) -> list[Organizer]:
    return list(session.scalars(select(Organizer).order_by(Organizer.email)))
