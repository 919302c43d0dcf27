"""Opt-outs coming back from a CRM: POST /integrations/optout, signed with CRM_OPTOUT_SECRET."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from sms.integrations import delivery, webhooks
from sms.integrations.models import Event
from sms.messaging import compliance, subscribers
from tests.conftest import Phone
from tests.support.calls import tune
from tests.support.integrations import AN_KEY

CRM_SECRET = "crm-shared-secret-0123456789"
ALICE = "+16175550101"


@pytest.fixture
def crm(svc):  # noqa: ANN001, ANN201
    tune(svc, crm_optout_secret=CRM_SECRET)


def post(client, payload, secret: str = CRM_SECRET, at: float | None = None):  # noqa: ANN001, ANN201
    body = json.dumps(payload).encode()
    signature = webhooks.sign(secret, body, int(time.time() if at is None else at))
    return client.post("/integrations/optout", data=body, content_type="application/json",
                       headers={webhooks.SIGNATURE_HEADER: signature})


def status_of(svc, phone: str) -> tuple[str, list[tuple[str, str]]]:  # noqa: ANN001
    with svc.db.session() as session:
        subscriber = subscribers.find(session, phone)
        history = [(c.action, c.source) for c in compliance.consent_history(session, subscriber.id)]
        return subscriber.status, history


def test_a_signed_opt_out_from_the_crm_is_in_the_consent_history(client, svc, crm):
    Phone(client, ALICE).text("MENU")
    response = post(client, {"phone": "(617) 555-0101", "reason": "unsubscribed in the CRM"})
    assert response.status_code == 200
    assert response.get_json() == {"opted_out": 1, "already": 0, "unknown": 0, "invalid": 0}
    assert status_of(svc, ALICE) == ("opted_out", [("opt_in", "sms-first-text"), ("opt_out", "crm")])
    assert post(client, {"phones": [ALICE, "+16175550199", "nonsense"]}).get_json() == {
        "opted_out": 0, "already": 1, "unknown": 1, "invalid": 1}


@pytest.mark.parametrize("how", ["wrong secret", "no signature", "an hour old", "body changed"])
def test_a_bad_signature_is_refused_and_changes_nothing(client, svc, crm, how):
    Phone(client, ALICE).text("MENU")
    if how == "no signature":
        response = client.post("/integrations/optout", json={"phone": ALICE})
    elif how == "body changed":
        good = webhooks.sign(CRM_SECRET, json.dumps({"phone": "+16175550199"}).encode(), int(time.time()))
        response = client.post("/integrations/optout", json={"phone": ALICE},
                               headers={webhooks.SIGNATURE_HEADER: good})
    else:
        response = post(client, {"phone": ALICE}, secret="not-the-secret-at-all" if how == "wrong secret" else
                        CRM_SECRET, at=time.time() - 3600 if how == "an hour old" else None)
    assert response.status_code == 403
    assert status_of(svc, ALICE)[0] == "active"


def test_without_a_secret_configured_everything_is_refused(client, svc):
    Phone(client, ALICE).text("MENU")
    assert post(client, {"phone": ALICE}, secret="").status_code == 403
    assert status_of(svc, ALICE)[0] == "active"


def test_action_network_webhook_shape_opts_out_unsubscribed_numbers(client, svc, crm):
    Phone(client, ALICE).text("MENU")
    Phone(client, "+16175550102").text("MENU")
    def person(number: str, status: str) -> dict:
        return {"person": {"phone_numbers": [{"number": number, "status": status}]}}

    payload = [{"osdi:submission": person("16175550101", "unsubscribed")},
               {"osdi:signature": person("16175550102", "subscribed")}]
    assert post(client, payload).get_json()["opted_out"] == 1
    assert status_of(svc, ALICE)[0] == "opted_out" and status_of(svc, "+16175550102")[0] == "active"


def test_a_signed_body_of_another_shape_is_a_400(client, svc, crm):
    assert post(client, {"number": ALICE}).status_code == 400
    assert post(client, {"phones": "+16175550101"}).status_code == 400


def test_an_opt_out_reaches_action_network_and_one_comes_back(client, svc, crm, action_network):
    tune(svc, action_network_api_key=AN_KEY, action_network_api_url=action_network.url)
    alice, bob = Phone(client, ALICE), Phone(client, "+16175550102")
    alice.text("MENU")
    bob.text("MENU")
    alice.text("STOP")  # ours, going out
    assert post(client, {"phone": bob.number}).status_code == 200  # theirs, coming back
    delivery.deliver_now(svc)
    assert sorted(action_network.statuses()) == [
        ("16175550101", "subscribed"), ("16175550101", "unsubscribed"),
        ("16175550102", "subscribed"), ("16175550102", "unsubscribed")]
    assert status_of(svc, bob.number) == ("opted_out", [("opt_in", "sms-first-text"), ("opt_out", "crm")])
    (reply,) = bob.text("CHOKEHOLD")  # an opted-out number hears only how to come back, and stays out
    assert "Reply START" in reply and status_of(svc, bob.number)[0] == "opted_out"
    with svc.db.session() as session:
        sources = [e.data["source"] for e in session.scalars(select(Event).where(Event.type == "subscriber.opted_out")
                                                             .order_by(Event.id))]
    assert sources == ["sms", "crm"]
