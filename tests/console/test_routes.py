"""Every console route, found by walking ``app.url_map`` (so a new route cannot be forgotten):
anonymous requests are refused, unsafe requests need a CSRF token (rq-dashboard: an admin and
this origin), and organizer- or texter-written HTML is escaped on every page that shows it.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from sms.broadcasts.models import Broadcast, Reminder
from sms.store import Subscriber, utcnow
from tests.conftest import Phone
from tests.support.console import csrf_token, login_as, make_organizer, post

XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PUBLIC = {"console.login", "console.static"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ARGS = {"int": "1", "default": "x", "path": "console.css"}


def console_rules(app) -> list:  # noqa: ANN001
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/console")]


def url_for_rule(rule, values: dict[str, str] | None = None) -> str:  # noqa: ANN001
    """The rule's path with each variable filled from ``values`` (else a harmless placeholder)."""
    values = values or {}

    def fill(match: re.Match) -> str:
        converter, name = match.group(1) or "default", match.group(2)
        return values.get(name, ARGS.get(converter, "x"))

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule.rule)


def methods(rule) -> list[str]:  # noqa: ANN001
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def test_every_console_route_refuses_anonymous_requests(app, client):
    rules = console_rules(app)
    assert {r.endpoint for r in rules} >= {"console.dashboard", "console.export_messages", "console.stats_api",
                                           "rq_dashboard.queues_overview", "rq_dashboard.requeue_job_view"}
    checked = 0
    for rule in rules:
        if rule.endpoint in PUBLIC:
            continue
        path = url_for_rule(rule)
        for method in methods(rule):
            response = client.open(path, method=method)
            refused = response.status_code == 401 or (
                response.status_code == 302 and response.location.startswith("/console/login"))
            assert refused, f"{method} {path} ({rule.endpoint}) answered {response.status_code} without a login"
            checked += 1
    assert checked >= 50


def test_only_the_login_form_and_static_files_are_public(app, client):
    for rule in console_rules(app):
        if rule.endpoint in PUBLIC:
            response = client.get(url_for_rule(rule))
            assert response.status_code in (200, 404), rule.endpoint  # 404: a static file that does not exist


@pytest.fixture
def admin(client, svc):  # noqa: ANN001, ANN201
    login_as(client, make_organizer(svc, "boss@example.org", "admin"))
    return client


def test_every_state_changing_route_needs_a_csrf_token(app, admin, svc):
    """(The login form's own CSRF check is in tests/console/test_auth.py: a logged-in organizer is just redirected.)"""
    unsafe = [(rule, method) for rule in console_rules(app) for method in methods(rule)
              if method in UNSAFE and not rule.endpoint.startswith("rq_dashboard.") and rule.endpoint not in PUBLIC]
    assert len(unsafe) >= 15
    for rule, method in unsafe:
        path = url_for_rule(rule, {"keyword": "CHOKEHOLD", "action": "cancel"})
        for name, kwargs in {"no token": {"data": {"x": "1"}},
                             "forged token": {"data": {"x": "1", "csrf_token": "forged"}},
                             "json without header": {"json": {"body": "MENU"}}}.items():
            response = admin.open(path, method=method, **kwargs)
            assert response.status_code == 400, f"{method} {path} with {name}: {response.status_code}"
    assert admin.get("/console/").status_code == 200  # still logged in: the refusals changed nothing


def test_queue_dashboard_actions_need_an_admin_on_this_origin(app, admin, svc):
    """rq-dashboard posts without a CSRF token; its unsafe requests are checked by origin instead."""
    unsafe = [(rule, method) for rule in console_rules(app) for method in methods(rule)
              if rule.endpoint.startswith("rq_dashboard.") and (method in UNSAFE
                                                                or rule.endpoint == "rq_dashboard.requeue_all")]
    assert len(unsafe) >= 6
    for rule, method in unsafe:
        path = url_for_rule(rule, {"queue_name": "default", "registry_name": "failed", "job_id": "nope"})
        for headers in ({}, {"Origin": "https://evil.example"}, {"Referer": "https://evil.example/console/"}):
            assert admin.open(path, method=method, headers=headers).status_code == 403, (method, path, headers)


@pytest.fixture
def hostile(client, svc, admin, targets_db):  # noqa: ANN001, ANN201
    """HTML/JS in everything organizers (and texters) can write, stored through the console where it can be."""
    texter = Phone(client, "+16175550123")
    texter.text(f"hello {XSS}")
    with svc.db.session() as session:
        subscriber = session.scalar(select(Subscriber))
        subscriber.first_name = XSS
        session.commit()
    demand = {"keyword": "CHOKEHOLD", "aliases": "", "title": f"Ban {XSS}", "ask": XSS, "reply": f"Hi {XSS}",
              "script": f"Say {XSS}", "targets": "congress", "target_order": "house, senate"}
    assert post(admin, "/console/demands/CHOKEHOLD", demand).status_code == 302
    assert post(admin, "/console/broadcasts", {"message": f"Vote {XSS}", "mps": "1000"}).status_code == 302
    at = (utcnow() + timedelta(days=1)).isoformat()
    assert post(admin, "/console/reminders", {"message": f"Remind {XSS}", "send_at": at}).status_code == 302
    target = {"set_name": "da_office", "name": XSS, "title": XSS, "phone": "(502) 574-1100", "note": XSS}
    assert post(admin, "/console/targets/custom", target).status_code == 302
    assert post(admin, "/console/calls/block", {"phone": "+16175550199", "reason": XSS}).status_code == 302
    assert post(admin, f"/console/inbox/{subscriber.id}/reply", {"body": f"Reply {XSS}"}).status_code == 302
    assert post(admin, "/console/settings/texts/help", {"text": f"Help {XSS} STOP"}).status_code in (302, 400)
    with svc.db.session() as session:
        broadcast_id = session.scalar(select(Broadcast.id))
        reminder_id = session.scalar(select(Reminder.id))
    return {"subscriber_id": str(subscriber.id), "broadcast_id": str(broadcast_id),
            "reminder_id": str(reminder_id), "keyword": "CHOKEHOLD", "filename": "console.css"}


def test_written_html_is_escaped_on_every_console_page(app, admin, hostile):
    pages = {}
    for rule in console_rules(app):
        if "GET" not in rule.methods or rule.endpoint.startswith("rq_dashboard.") or rule.endpoint in PUBLIC:
            continue
        path = url_for_rule(rule, hostile)
        response = admin.get(path)
        assert response.status_code < 500, path
        text = response.get_data(as_text=True)
        if response.mimetype == "text/html":
            pages[path] = text
            assert "<script>alert" not in text and "<img src=x" not in text, path
        elif response.mimetype == "text/csv":
            assert response.headers["Content-Disposition"].startswith("attachment"), path  # never rendered
        else:
            assert response.mimetype == "application/json" and "<script>" not in text.replace("\\u003c", ""), path
    shown = {path for path, text in pages.items() if ESCAPED in text}
    expected = {"/console/demands", "/console/demands/CHOKEHOLD", "/console/broadcasts",
                f"/console/broadcasts/{hostile['broadcast_id']}", "/console/reminders", "/console/targets",
                "/console/calls", "/console/inbox", f"/console/inbox/{hostile['subscriber_id']}"}
    assert expected <= shown, expected - shown


def test_csrf_token_is_per_session(client, svc, admin):
    token = csrf_token(admin, "/console/")
    other = client.application.test_client()
    login_as(other, make_organizer(svc, "other@example.org", "admin"))
    response = other.post("/console/logout", data={"csrf_token": token})
    assert response.status_code == 400  # someone else's token is no token
