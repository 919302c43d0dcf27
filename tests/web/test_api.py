"""The JSON API: every answer checked against data/openapi.json (itself a valid OpenAPI 3.1 document), and CORS."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from sqlalchemy import select

from sms.calls.models import CallLeg, CallSession
from tests.support.calls import tune
from tests.web.conftest import PHONE

SPEC = json.loads((__import__("pathlib").Path(__file__).resolve().parents[2] / "data" / "openapi.json").read_text())
ORGANIZER = "https://organizer.example"


def test_the_openapi_document_is_valid_and_served(client) -> None:  # noqa: ANN001
    validate(SPEC)
    served = client.get("/api/v1/openapi.json").get_json()
    assert served["paths"] == SPEC["paths"] and served["servers"] == [{"url": "https://actionline.test/api/v1"}]


def checked(response: Any, path: str, method: str = "get") -> Any:
    """``response``'s JSON, after checking it against the document's schema for its path and status."""
    answer = SPEC["paths"][path][method]["responses"][str(response.status_code)]
    if "$ref" in answer:
        answer = SPEC["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = {**answer["content"]["application/json"]["schema"], "components": SPEC["components"]}
    body = response.get_json()
    OAS31Validator(schema).validate(body)
    return body


def request_checked(body: dict[str, Any]) -> dict[str, Any]:
    OAS31Validator({"$ref": "#/components/schemas/CallRequest", "components": SPEC["components"]}).validate(body)
    return body


def test_the_schemas_can_fail() -> None:
    with pytest.raises(Exception, match="required"):
        request_checked({"demand": "CHOKEHOLD"})


def test_demands_list_every_active_demand(client) -> None:  # noqa: ANN001
    body = checked(client.get("/api/v1/demands"), "/demands")
    chokehold = next(d for d in body["demands"] if d["keyword"] == "CHOKEHOLD")
    assert chokehold["page"] == "https://actionline.test/act/CHOKEHOLD" and "your lawmaker" in chokehold["script"]


def test_targets_for_a_zip_and_the_choices_of_a_split_one(client, targets_db) -> None:  # noqa: ANN001
    body = checked(client.get("/api/v1/targets?demand=CHOKEHOLD&zip=20001"), "/targets")
    assert [t["label"] for t in body["targets"]] == ["Del. Eleanor Holmes Norton"]
    split = checked(client.get("/api/v1/targets?demand=CHOKEHOLD&zip=02139"), "/targets")
    assert [c["value"] for c in split["choices"]] == ["MA-5", "MA-7"] and split["targets"] == []
    chosen = checked(client.get("/api/v1/targets?demand=CHOKEHOLD&zip=02139&district=MA-7"), "/targets")
    assert chosen["targets"][0]["name"] == "Ayanna Pressley" and "Representative Ayanna Pressley" in chosen["script"]
    assert len(chosen["targets"]) == 3  # and both senators
    bad = client.get("/api/v1/targets?demand=CHOKEHOLD&zip=abc")
    assert bad.status_code == 400 and checked(bad, "/targets")["error"]["field"] == "zip"
    assert client.get("/api/v1/targets?demand=NOPE&zip=02139").status_code == 404


def _ask(client, svc, **fields: Any) -> Any:  # noqa: ANN001
    form = checked(client.get("/api/v1/form?demand=CHOKEHOLD"), "/form")
    assert form["texts"]["consent"].startswith("Text me updates from Action Line Test")
    body = request_checked({"demand": "CHOKEHOLD", "phone": "617-555-0123", "zip": "02139", "district": "MA-7",
                            "token": form["token"], "source": "widget", **fields})
    return client.post("/api/v1/calls", json=body, headers={"Origin": ORGANIZER})


def test_a_call_through_the_api_and_its_progress(client, svc, targets_db, transport, run_jobs) -> None:  # noqa: ANN001
    tune(svc, web_min_fill_seconds=0, web_confirm_numbers=False, widget_origins=(ORGANIZER,))
    started = checked(_ask(client, svc), "/calls", "post")
    assert started["status"] == "calling" and "Representative Ayanna Pressley" in started["script"]
    run_jobs()
    assert [c["to"] for c in transport.calls] == [PHONE]
    progress = checked(client.get(f"/api/v1/calls/{started['handle']}"), "/calls/{handle}")
    assert progress["state"] == "ringing" and progress["final"] is False
    assert [o["outcome"] for o in progress["offices"]] == ["waiting"] * 3  # who you'll be connected to
    with svc.db.session() as session:  # the caller picked up and reached their Rep; the senators are next
        call = session.scalars(select(CallSession)).one()
        call.status, call.position = "confirmed", 1
        session.add(CallLeg(session_id=call.id, position=0, kind="house", ref="P000617", label="Rep. Ayanna Pressley",
                            outcome="connected"))
        session.commit()
    progress = checked(client.get(f"/api/v1/calls/{started['handle']}"), "/calls/{handle}")
    assert progress["state"] == "on_call" and progress["message"] == "You're on the call. Thank you!"
    assert [(o["label"], o["outcome_text"]) for o in progress["offices"]][:2] == [
        ("Rep. Ayanna Pressley", "reached"), ("Sen. Edward J. Markey", "next")]
    assert checked(client.get("/api/v1/calls/" + "0" * 32), "/calls/{handle}")["error"]["code"] == "not_found"


def test_the_api_texts_a_code_and_places_the_call_once_confirmed(client, svc, targets_db, transport, run_jobs) -> None:  # noqa: ANN001
    tune(svc, web_min_fill_seconds=0, widget_origins=(ORGANIZER,))
    started = checked(_ask(client, svc, consent=True), "/calls", "post")
    assert started["status"] == "confirm"
    run_jobs()
    code = re.search(r"\b(\d{6})\b", transport.messages[0]["body"]).group(1)
    path = f"/api/v1/calls/{started['handle']}/confirm"
    wrong = client.post(path, json={"code": "12345x"}, headers={"Origin": ORGANIZER})
    assert checked(wrong, "/calls/{handle}/confirm", "post")["error"]["code"] == "code"
    placed = checked(client.post(path, json={"code": code}, headers={"Origin": ORGANIZER}),
                     "/calls/{handle}/confirm", "post")
    assert placed["status"] == "calling"
    run_jobs()
    assert [c["to"] for c in transport.calls] == [PHONE]


def test_guards_answer_in_the_documented_shape(client, svc, targets_db) -> None:  # noqa: ANN001
    tune(svc, web_min_fill_seconds=3, widget_origins=(ORGANIZER,))
    too_fast = _ask(client, svc)
    assert too_fast.status_code == 400 and checked(too_fast, "/calls", "post")["error"]["code"] == "form"
    tune(svc, web_min_fill_seconds=0)
    foreign = _ask(client, svc, phone="+442079460958")
    assert foreign.status_code == 403 and checked(foreign, "/calls", "post")["error"]["field"] == "phone"
    junk = client.post("/api/v1/calls", data="not json", headers={"Origin": ORGANIZER})
    assert junk.status_code == 400 and checked(junk, "/calls", "post")["error"]["code"] == "form"


def test_cors_answers_only_the_listed_origins(client, svc, targets_db, transport) -> None:  # noqa: ANN001
    tune(svc, web_min_fill_seconds=0, web_confirm_numbers=False, widget_origins=(ORGANIZER,))
    preflight = {"Origin": ORGANIZER, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    allowed = client.options("/api/v1/calls", headers=preflight)
    assert allowed.status_code == 204 and allowed.headers["Access-Control-Allow-Origin"] == ORGANIZER
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    refused = client.options("/api/v1/calls", headers={**preflight, "Origin": "https://evil.example"})
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    read = client.get("/api/v1/demands", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in read.headers  # the browser will not let that page read it
    form = client.get("/api/v1/form?demand=CHOKEHOLD").get_json()
    posted = client.post("/api/v1/calls", headers={"Origin": "https://evil.example"},
                         json={"demand": "CHOKEHOLD", "phone": PHONE, "zip": "02139", "district": "MA-7",
                               "token": form["token"]})
    assert posted.status_code == 403 and checked(posted, "/calls", "post")["error"]["code"] == "origin"
    assert transport.calls == [] and "Set-Cookie" not in posted.headers
