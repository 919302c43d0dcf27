"""Fixtures of the web actions tests: a supporter's browser without JS (form posts), the clock, the guards."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from sms.calls import office_hours
from sms.web import guards
from tests.support.calls import tune

PHONE = "+16175550123"


class Visitor:
    """A browser without JavaScript on an action page: reads the form's token, posts the form."""

    def __init__(self, client: Any, svc: Any, ip: str = "203.0.113.7") -> None:
        self.client, self.svc, self.ip = client, svc, ip

    def open(self, keyword: str = "CHOKEHOLD", **args: str) -> Any:
        return self.client.get(f"/act/{keyword}", query_string=args, environ_base={"REMOTE_ADDR": self.ip})

    def token(self, keyword: str = "CHOKEHOLD", age: float = 10.0) -> str:
        """The token the page serves, issued ``age`` seconds ago (a person takes a while to fill a form)."""
        page = self.open(keyword).get_data(as_text=True)
        assert re.search(r'name="token" value="([^"]+)"', page)
        return guards.issue(self.svc.settings, keyword, "en", now=time.time() - age)

    def post(self, keyword: str = "CHOKEHOLD", token: str | None = None, **fields: str) -> Any:
        form = {"action": "call", "zip": "02139", "district": "MA-7", "phone": "617 555 0123", **fields}
        form["token"] = self.token(keyword) if token is None else token
        return self.client.post(f"/act/{keyword}", data=form, environ_base={"REMOTE_ADDR": self.ip})


@pytest.fixture
def visitor(client, svc, targets_db) -> Visitor:  # noqa: ANN001
    """A visitor; numbers need no texted code unless a test turns it on."""
    tune(svc, web_confirm_numbers=False)
    return Visitor(client, svc)


@pytest.fixture
def clock(monkeypatch) -> dict[str, Any]:  # noqa: ANN001
    """Office hours' clock, ours to set."""
    now: dict[str, Any] = {}
    monkeypatch.setattr(office_hours, "clock", lambda: now["now"])
    return now
