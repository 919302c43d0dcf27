"""The console's Integrations page (admins): destinations, last deliveries, backlog and controls."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms.integrations import delivery
from sms.integrations.models import Destination
from tests.conftest import Phone
from tests.support.console import login_as, make_organizer, post
from tests.support.integrations import SECRET

ALICE = "+16175550101"


@pytest.fixture
def admin(client, svc):  # noqa: ANN001, ANN201
    login_as(client, make_organizer(svc, "boss@example.org", "admin"))
    return client


def destination(svc) -> Destination:  # noqa: ANN001
    with svc.db.session() as session:
        return session.scalars(select(Destination)).one()


def test_only_admins_see_the_integrations_page(console):
    assert console.get("/console/integrations").status_code == 403


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(admin, svc, receiver):
    response = post(admin, "/console/integrations/destinations", {
        "url": receiver.url, "name": "crm", "types": ["subscriber.joined", "subscriber.opted_out"],
        "allow_phone": "1"})
    assert response.status_code == 200
    added = destination(svc)
    assert (added.name, added.events, added.allow_phone) == ("crm", ["subscriber.joined", "subscriber.opted_out"], True)
    assert added.secret in response.get_data(as_text=True)
    page = admin.get("/console/integrations").get_data(as_text=True)
    assert added.secret not in page and added.secret[:10] in page and receiver.url in page


def test_a_plain_http_url_elsewhere_is_refused_on_the_form(admin, svc):
    response = post(admin, "/console/integrations/destinations", {"url": "http://crm.example.org/hook",
                                                                  "types": ["subscriber.joined"]})
    assert response.status_code == 400
    assert "must start with https://" in response.get_data(as_text=True)
    with svc.db.session() as session:
        assert session.scalar(select(Destination)) is None


def test_the_page_shows_last_deliveries_backlog_and_a_paused_destination(admin, client, svc, receiver, runner):
    assert runner.invoke(args=["webhooks", "add", receiver.url, "--events", "all", "--secret", SECRET,
                               "--name", "crm"]).exit_code == 0
    receiver.status = 503
    Phone(client, ALICE).text("CHOKEHOLD")
    delivery.deliver_now(svc)
    page = admin.get("/console/integrations").get_data(as_text=True)
    assert "HTTP 503" in page and ">503<" in page and " ms<" in page and 'class="backlog">2<' in page
    destination_id = destination(svc).id
    assert post(admin, f"/console/integrations/{destination_id}/pause", {}).status_code == 302
    page = admin.get("/console/integrations").get_data(as_text=True)
    assert "paused by an organizer" in page and "Resume with the backlog" in page
    receiver.status = 200
    assert post(admin, f"/console/integrations/{destination_id}/resume", {}).status_code == 302
    assert destination(svc).status == "active"
    delivery.deliver_now(svc)
    assert sorted(receiver.types()) == ["interest.added", "subscriber.joined"]
    response = post(admin, f"/console/integrations/{destination_id}/replay", {"since": "2000-01-01T00:00"})
    assert response.status_code == 302
    assert "Replaying 2 events" in admin.get("/console/integrations").get_data(as_text=True)
    assert post(admin, f"/console/integrations/{destination_id}/test", {}).status_code == 302
    assert receiver.types()[-1] == "webhook.test"
    assert post(admin, f"/console/integrations/{destination_id}/remove", {}).status_code == 302
    with svc.db.session() as session:
        assert session.scalar(select(Destination)) is None
