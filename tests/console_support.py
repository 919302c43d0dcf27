"""Helpers for the console tests: organizers, logging in and CSRF tokens (CSRF stays on)."""

from __future__ import annotations

import re
from typing import Any

from sms import organizers

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def make_organizer(svc: Any, email: str = "org@example.org", role: str = "organizer") -> None:
    with svc.db.session() as session:
        organizers.create(session, email, PASSWORD, role)
        session.commit()


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
