"""Unclear texts in the console inbox ("needs a person") and opt-outs made by an organizer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms.messaging import compliance
from sms.store import ConsentEvent, OptOutReview, Subscriber
from tests.conftest import Phone
from tests.support.console import login_as, make_organizer, post

ORG = "Action Line Test"


@pytest.fixture
def console(client, svc):
    login_as(client, make_organizer(svc))
    return client


def subscriber(svc, number: str) -> Subscriber:
    with svc.db.session() as session:
        return session.scalar(select(Subscriber).where(Subscriber.phone == number))


def consent(svc, subscriber_id: int) -> list[tuple[str, str, str | None]]:
    with svc.db.session() as session:
        return [(e.action, e.source, e.detail) for e in session.scalars(
            select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber_id).order_by(ConsentEvent.id))]


def review(svc) -> OptOutReview:
    with svc.db.session() as session:
        return session.scalars(select(OptOutReview)).one()


@pytest.fixture
def flagged(phone, svc) -> int:
    """A texter whose second text could not be placed: answered, and waiting for a person."""
    phone.text("HI")
    phone.text("why do you keep texting me")
    return subscriber(svc, phone.number).id


def test_an_unclear_text_marks_its_thread_needs_a_person(console, flagged, client):
    Phone(client, "+16175550777").text("CHOKEHOLD")  # another thread, nothing to look at
    page = console.get("/console/inbox").get_data(as_text=True)
    assert page.count("needs a person</span>") == 1
    only = console.get("/console/inbox?review=1").get_data(as_text=True)
    assert f"/console/inbox/{flagged}" in only and "0777" not in only
    thread = console.get(f"/console/inbox/{flagged}").get_data(as_text=True)
    assert "needs a person" in thread and "It meant stop: opt this number out" in thread
    assert "why do you keep texting me" in thread and 'class="bubble in flagged"' in thread


def test_an_organizer_opts_the_number_out_from_the_console(console, flagged, svc, phone):
    response = post(console, f"/console/inbox/{flagged}/opt-out", {})
    assert response.status_code == 302
    assert subscriber(svc, phone.number).status == "opted_out"
    assert consent(svc, flagged)[-1] == ("opt_out", "console", "by org@example.org")
    done = review(svc)
    assert (done.resolution, done.resolved_by) == ("opted_out", "org@example.org")
    assert "needs a person</span>" not in console.get("/console/inbox").get_data(as_text=True)
    assert phone.text("MENU") == [compliance.REJOIN_HINT.format(org=ORG)]  # never texted otherwise
    again = console.get(post(console, f"/console/inbox/{flagged}/opt-out", {}).location).get_data(as_text=True)
    assert "already opted out" in again


def test_an_organizer_clears_a_text_that_was_not_an_opt_out(console, flagged, svc, phone):
    response = post(console, f"/console/inbox/{flagged}/reviewed", {})
    assert response.status_code == 302
    assert "Marked 1 text(s) as not an opt-out." in console.get(response.location).get_data(as_text=True)
    done = review(svc)
    assert (done.resolution, done.resolved_by) == ("not_opt_out", "org@example.org")
    assert subscriber(svc, phone.number).status == "active"
    assert consent(svc, flagged) == [("opt_in", "sms-first-text", "HI")]
    assert console.get("/console/inbox?review=1").get_data(as_text=True).count("/console/inbox/") == 0


def test_any_thread_can_be_opted_out_by_hand_and_an_unknown_one_is_404(console, svc, phone):
    phone.text("CHOKEHOLD")
    sid = subscriber(svc, phone.number).id
    assert "Opt this number out" in console.get(f"/console/inbox/{sid}").get_data(as_text=True)
    post(console, f"/console/inbox/{sid}/opt-out", {})
    assert consent(svc, sid)[-1][:2] == ("opt_out", "console")
    assert post(console, "/console/inbox/999999/opt-out", {}).status_code == 404


def test_the_console_actions_need_a_login_and_a_csrf_token(client, console, flagged, svc, phone):
    assert client.post(f"/console/inbox/{flagged}/opt-out").status_code == 400  # no CSRF token
    assert subscriber(svc, phone.number).status == "active"


def test_a_demand_alias_that_reads_as_an_opt_out_is_refused(console):
    form = {"keyword": "CHOKEHOLD", "aliases": "CHOKEHOLDS, NO MORE TEXTS", "title": "Ban chokeholds",
            "ask": "Pass the ban", "reply": "Ban chokeholds. Reply CALL to be connected.",
            "script": "Hi, I'm a constituent from {zip}. I urge {target} to ban chokeholds.",
            "targets": "congress", "target_order": "house, senate"}
    response = post(console, "/console/demands/CHOKEHOLD", form)
    assert response.status_code == 400
    assert "reads as an opt-out" in response.get_data(as_text=True)
