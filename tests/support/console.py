"""Helpers for the console tests: organizers, logging in and CSRF tokens (CSRF stays on).

A pytest plugin (``pytest_plugins`` in tests/conftest.py): the ``console`` fixture is a logged-in client.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

from sms.console.models import Organizer

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


@functools.cache
def _hash() -> str:
    return generate_password_hash(PASSWORD)  # scrypt is slow on purpose: hash once per test run


def make_organizer(svc: Any, email: str = "org@example.org", role: str = "organizer") -> int:
    with svc.db.session() as session:
        organizer = Organizer(email=email, password_hash=_hash(), role=role)
        session.add(organizer)
        session.commit()
        return organizer.id


def login_as(client: Any, organizer_id: int) -> None:
    """Log in without the password round trip (the login form itself is tested in tests/console/test_auth.py)."""
    with client.session_transaction() as session:
        session["_user_id"] = str(organizer_id)
        session["_fresh"] = True


@pytest.fixture
def console(client, svc):
    """The test client, logged in as an organizer."""
    login_as(client, make_organizer(svc))
    return client


def csrf_token(client: Any, path: str = "/console/login") -> str:
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: Any, email: str = "org@example.org", password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post("/console/login", data={"email": email, "password": password, "csrf_token": token})


def post(client: Any, path: str, data: dict[str, str], **kwargs: Any) -> Any:
    """POST a console form with a valid CSRF token taken from the dashboard."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/console/")}, **kwargs)
