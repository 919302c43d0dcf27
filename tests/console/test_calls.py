"""Console pages for calls: call log, blocklist, targets (edit, ZIP lookup, data status), simulated calls."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from sms.calls import call_log
from sms.calls.models import Blocked, CallLeg, CallSession
from sms.store import utcnow
from sms.targets.models import CustomTarget
from tests.support.calls import NADLER
from tests.support.console import csrf_token, login_as, make_organizer, post

XSS = '<script>alert("x")</script>'
SIM = "+12025550143"


def add_call(svc, phone: str, demand: str | None, legs: list[tuple[str, str, str, int | None]], **fields) -> int:
    """A finished call session with legs (ref, label, outcome, duration)."""
    with svc.db.session() as session:
        call = CallSession(phone=phone, demand=demand, status="completed", call_sid=f"CA{phone[-4:]}{demand}",
                           duration=95, **fields)
        session.add(call)
        session.flush()
        for position, (ref, label, outcome, duration) in enumerate(legs):
            session.add(CallLeg(session_id=call.id, position=position, kind="house", ref=ref, label=label,
                                number="+12025550100", outcome=outcome, duration=duration,
                                started_at=call.created_at))
        session.commit()
        return call.id


def sample_calls(svc) -> None:
    add_call(svc, "+16175550101", "CHOKEHOLD", [("N000002", "Rep. Jerrold Nadler", "connected", 65),
                                                ("S000148", "Sen. Chuck Schumer", "busy", 0)])
    add_call(svc, "+16175550102", "DEFUND", [("S000148", "Sen. Chuck Schumer", "connected", 30)])
    add_call(svc, "+16175550103", "CHOKEHOLD", [], direction="callin")


def test_call_log_masks_callers_and_filters_by_demand_and_office(console, svc):
    sample_calls(svc)
    page = console.get("/console/calls").get_data(as_text=True)
    assert "+1617***0101" in page and "+16175550101" not in page
    assert "Rep. Jerrold Nadler" in page and "1m 05s" in page and "outcome-busy" in page and "call-in" in page
    chokehold = console.get("/console/calls?demand=CHOKEHOLD").get_data(as_text=True)
    assert "+1617***0101" in chokehold and "+1617***0103" in chokehold and "+1617***0102" not in chokehold
    schumer = console.get("/console/calls?office=S000148").get_data(as_text=True)
    assert "+1617***0101" in schumer and "+1617***0102" in schumer and "+1617***0103" not in schumer
    assert "No calls match." in console.get("/console/calls?office=X").get_data(as_text=True)


def test_call_log_pages(console, svc, monkeypatch):
    sample_calls(svc)
    monkeypatch.setattr(call_log, "PAGE_SIZE", 2)
    first = console.get("/console/calls").get_data(as_text=True)
    assert "+1617***0103" in first and "+1617***0101" not in first and "Older ›" in first
    second = console.get("/console/calls?page=2").get_data(as_text=True)
    assert "+1617***0101" in second and "+1617***0103" not in second and "‹ Newer" in second
    assert console.get("/console/calls?page=-1").status_code == 200


def test_calls_csv_has_one_row_per_leg_and_full_numbers(console, svc):
    sample_calls(svc)
    response = console.get("/console/export/calls.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["caller"], r["office"], r["outcome"], r["leg_duration"]) for r in rows] == [
        ("+16175550101", "Rep. Jerrold Nadler", "connected", "65"), ("+16175550101", "Sen. Chuck Schumer", "busy", "0"),
        ("+16175550102", "Sen. Chuck Schumer", "connected", "30"), ("+16175550103", "", "", ""),
    ]


def test_dashboard_counts_calls_per_day_demand_and_office(console, svc):
    sample_calls(svc)
    add_call(svc, "+16175550104", "DEFUND", [("S000148", "Sen. Chuck Schumer", "connected", 40)],
             created_at=utcnow() - timedelta(days=40))  # outside the window
    stats = console.get("/console/api/stats?days=7").get_json()
    series = {s["name"]: s["data"] for s in stats["groups"]["calls"]}
    assert (series["calls"][-1], series["offices_dialed"][-1], series["offices_connected"][-1]) == (3, 3, 2)
    by_demand = stats["tables"]["calls_by_demand"]["rows"]
    assert [(r["key"], r["dialed"], r["connected"]) for r in by_demand] == [("CHOKEHOLD", 2, 1), ("DEFUND", 1, 1)]
    by_office = stats["tables"]["calls_by_office"]["rows"]
    assert by_office[0] == {"label": "Sen. Chuck Schumer", "key": "S000148", "dialed": 2, "connected": 1,
                            "avg_seconds": 30}
    page = console.get("/console/").get_data(as_text=True)
    assert 'id="chart-calls"' in page and 'id="chart-calls-demand"' in page and "3 calls" in page


def test_block_and_unblock_a_number(console, svc, phone, targets_db):
    response = post(console, "/console/calls/block", {"phone": "(617) 555-0123", "reason": XSS})
    assert response.status_code == 302
    with svc.db.session() as session:
        assert session.get(Blocked, phone.number).reason == XSS
    page = console.get("/console/calls").get_data(as_text=True)
    assert "+1617***0123" in page and phone.number not in page and XSS not in page and "&lt;script&gt;" in page
    phone.text("ZIP 99501")
    assert phone.text("CALL CHOKEHOLD") == ["Sorry, calls are not available for this number."]
    with svc.db.session() as session:
        assert session.scalars(select(CallSession)).all() == []
    ref = page.split('name="ref" value="', 1)[1].split('"', 1)[0]
    assert post(console, "/console/calls/unblock", {"ref": ref}).status_code == 302
    with svc.db.session() as session:
        assert session.get(Blocked, phone.number) is None
    post(console, "/console/calls/unblock", {"ref": ref})
    assert "That number was not blocked." in console.get("/console/calls").get_data(as_text=True)


def test_block_refuses_what_is_not_a_number(console, svc):
    response = post(console, "/console/calls/block", {"phone": "call me maybe"})
    assert response.status_code == 400 and "That is not a phone number." in response.get_data(as_text=True)
    with svc.db.session() as session:
        assert session.scalars(select(Blocked)).all() == []


def target_form(**changes: str) -> dict[str, str]:
    return {"set_name": "da_office", "name": "District Attorney", "title": "DA", "phone": "(502) 574-1100",
            "note": "", **changes}


def targets_of(svc, set_name: str) -> list[tuple[str, str]]:
    with svc.db.session() as session:
        return [(t.name, t.phone) for t in session.scalars(
            select(CustomTarget).where(CustomTarget.set_name == set_name).order_by(CustomTarget.position))]


def test_custom_targets_add_edit_reorder_remove(console, svc, phone):
    assert post(console, "/console/targets/custom", target_form()).status_code == 302
    post(console, "/console/targets/custom", target_form(name=XSS, phone="+1 502 574 2000"))
    assert targets_of(svc, "da_office") == [("District Attorney", "+15025741100"), (XSS, "+15025742000")]
    page = console.get("/console/targets").get_data(as_text=True)
    assert XSS not in page and "&lt;script&gt;" in page and "not used by any demand" in page
    with svc.db.session() as session:
        first, second = session.scalars(select(CustomTarget).where(CustomTarget.set_name == "da_office")
                                        .order_by(CustomTarget.position)).all()
    post(console, f"/console/targets/custom/{second.id}", {"action": "up"})
    assert [n for n, _ in targets_of(svc, "da_office")] == [XSS, "District Attorney"]
    post(console, f"/console/targets/custom/{second.id}", {**target_form(name="Chief of Staff"), "action": "save"})
    post(console, f"/console/targets/custom/{first.id}", {"action": "delete"})
    assert targets_of(svc, "da_office") == [("Chief of Staff", "+15025741100")]
    assert console.get("/console/targets").status_code == 200


@pytest.mark.parametrize("changes, field, message", [
    ({"phone": "555-1234"}, "phone", "Not a valid US phone number"),
    ({"phone": ""}, "phone", "Required."),
    ({"name": ""}, "name", "Required."),
    ({"title": "t" * 61}, "title", "At most 60"),
    ({"set_name": "Bad Set!"}, "set_name", "lowercase letters"),
])
def test_custom_target_validation(console, svc, changes, field, message):
    response = post(console, "/console/targets/custom", target_form(**changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page.split(f'id="err-new-{field}">', 1)[1].split("</span>", 1)[0]
    assert targets_of(svc, changes.get("set_name", "da_office")) == []


def test_custom_target_edit_validation_keeps_the_row(console, svc):
    post(console, "/console/targets/custom", target_form())
    with svc.db.session() as session:
        target_id = session.scalar(select(CustomTarget.id))
    response = post(console, f"/console/targets/custom/{target_id}", {**target_form(phone="12"), "action": "save"})
    assert response.status_code == 400 and f'id="err-{target_id}-phone"' in response.get_data(as_text=True)
    assert targets_of(svc, "da_office") == [("District Attorney", "+15025741100")]
    assert post(console, "/console/targets/custom/99999", {"action": "delete"}).status_code == 404


def test_zip_lookup_and_data_status(console, targets_db):
    page = console.get("/console/targets?zip=10001&demand=CHOKEHOLD").get_data(as_text=True)
    result = page.split('id="lookup-result"', 1)[1].split("</table>", 1)[0]
    assert "Rep. Jerrold Nadler" in result and NADLER in result and "Sen. " in result and "DEFUND" not in result
    split = console.get("/console/targets?zip=02139").get_data(as_text=True)
    assert "MA-5, MA-7" in split and "texter is asked which one" in split and "louisville" in split.lower()
    assert "UNIONS, FORCE" in split and "IMMUNITY, DECREES" in split  # demands calling the same offices together
    assert "(The Louisville Metro Council takes calls from Louisville residents)" in split
    rules = split.split('id="rules-louisville_council">', 1)[1].split("</p>", 1)[0]
    assert rules == "Hours: 9-17 America/Kentucky/Louisville on weekdays. Takes calls from Louisville residents only."
    assert "A ZIP is 5 digits." in console.get("/console/targets?zip=abc").get_data(as_text=True)
    assert "not in the ZIP table" in console.get("/console/targets?zip=20500").get_data(as_text=True)
    status = page.split('id="data-status"', 1)[1].split("</section>", 1)[0]
    assert "100 Senate" in status and "ZIP-district pairs" in status and "UTC" in status


def test_simulator_plays_the_call_back_and_a_call_in(console, svc, targets_db):
    def text(body: str) -> list[str]:
        return console.post("/console/api/simulator", json={"from": SIM, "body": body},
                            headers={"X-CSRFToken": _token(console)}).get_json()["replies"]

    text("ZIP 10001")
    text("CALL CHOKEHOLD")
    assert text("2")[0].startswith("Calling you now")
    played = _call(console, {"from": SIM, "digits": "1", "dial_status": "completed,busy"})
    assert played["note"] == "" and played["callin"] is False
    kinds = [e["kind"] for e in played["events"]]
    assert kinds[:2] == ["say", "say"] and kinds.count("dial") == 3 and kinds[-1] == "hangup"
    assert [e["text"] for e in played["events"] if e["kind"] == "dial"][0] == NADLER
    assert [(leg["label"], leg["outcome"]) for leg in played["legs"]][:2] == [
        ("Rep. Jerrold Nadler", "connected"), (played["legs"][1]["label"], "busy")]
    assert played["texts"] and played["texts"][0].startswith("Thank you for calling! You reached Rep. Jerrold Nadler")
    callin = _call(console, {"from": SIM, "digits": ""})
    assert callin["note"].startswith("No call-back was waiting") and callin["callin"] is True
    assert not [e for e in callin["events"] if e["kind"] == "dial"]


def test_simulated_call_says_what_it_pressed_and_why(console, svc, targets_db):
    def text(body: str) -> None:
        console.post("/console/api/simulator", json={"from": SIM, "body": body},
                     headers={"X-CSRFToken": _token(console)})

    def presses(played: dict) -> list[str]:
        return [e["text"] for e in played["events"] if e["kind"] == "press"]

    text("ZIP 99501")  # one district: CALL asks nothing more
    text("CALL CHOKEHOLD")
    auto = _call(console, {"from": SIM, "digits": None})  # the field left empty
    assert presses(auto)[0] == "1 (not given: 1 connects you)"
    text("CALL CHOKEHOLD")
    chosen = _call(console, {"from": SIM, "digits": "9, 1, 7, 7, 7, 7, 7, 7"})
    assert presses(chosen)[0] == "9 (your key 1 of 8)"
    assert [e["text"] for e in chosen["events"] if e["kind"] == "note"][-1].startswith("Keys not used")
    silent = _call(console, {"from": SIM, "mode": "callin", "digits": ""})
    assert presses(silent)[0] == "(silence) (your key 1 of 1)"


@pytest.mark.parametrize("payload, message", [
    ({"from": "+16172531234"}, "fictional number"), ({"from": "nope"}, "not a phone number"),
    ({"from": SIM, "dial_status": "maybe"}, "Offices answer with one of"),
])
def test_simulated_call_validation(console, svc, payload, message):
    response = console.post("/console/api/simulator/call", json=payload, headers={"X-CSRFToken": _token(console)})
    assert response.status_code == 400 and message in response.get_json()["error"]
    with svc.db.session() as session:
        assert session.scalars(select(CallSession)).all() == []


def _token(client) -> str:
    return csrf_token(client, "/console/")


def _call(client, payload: dict[str, str]) -> dict:
    response = client.post("/console/api/simulator/call", json=payload, headers={"X-CSRFToken": _token(client)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize("path", ["/console/calls/block", "/console/calls/unblock", "/console/targets/custom",
                                  "/console/targets/custom/1", "/console/api/simulator/call"])
def test_new_forms_need_login_and_csrf(client, svc, path):
    anonymous = client.post(path, data={"phone": "+16175550123"})
    assert anonymous.status_code in (302, 401)
    login_as(client, make_organizer(svc))
    refused = client.post(path, data={"phone": "+16175550123", "name": "x", "set_name": "x"})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    with svc.db.session() as session:
        assert session.scalars(select(Blocked)).all() == [] and session.scalars(select(CustomTarget)).all() == []


@pytest.mark.parametrize("path", ["/console/calls", "/console/targets", "/console/export/calls.csv"])
def test_new_pages_need_login(client, path):
    assert client.get(path).location.startswith("/console/login?next=")
