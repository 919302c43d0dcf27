"""Console pages: demands editor, inbox and manual replies, simulator, export, dashboard, escaping."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from sms.console import dashboard, exports
from sms.errors import TransportError
from sms.messaging import compliance, subscribers
from sms.store import CatalogueText, Demand, Interest, Message, Subscriber, utcnow
from tests.conftest import Phone
from tests.support.console import csrf_token, login_as, make_organizer, post

XSS = '<script>alert("x")</script>'


def demand_form(**changes: str) -> dict[str, str]:
    form = {"keyword": "CHOKEHOLD", "aliases": "CHOKEHOLDS, NECK HOLD", "title": "Ban chokeholds",
            "ask": "Pass the ban", "reply": "New chokehold reply. Reply CALL to be connected.",
            "script": "Hi, I'm a constituent from {zip}. I urge {target} to ban chokeholds.",
            "targets": "congress", "target_order": "house, senate"}
    return {**form, **changes}


def test_demand_edit_is_saved_and_the_next_text_uses_it(console, svc, phone):
    with svc.db.session() as session:
        version = session.get(CatalogueText, "__version__").text
    response = post(console, "/console/demands/CHOKEHOLD", demand_form())
    assert response.status_code == 302
    with svc.db.session() as session:
        demand = session.get(Demand, "CHOKEHOLD")
        assert demand.aliases == ["CHOKEHOLDS", "NECK HOLD"] and demand.target_order == ["house", "senate"]
        assert session.get(CatalogueText, "__version__").text != version
    assert phone.text("neckhold")[0].startswith("New chokehold reply.")


def test_demand_keyword_rename_moves_interests(console, svc, phone):
    phone.text("CHOKEHOLD")
    assert post(console, "/console/demands/CHOKEHOLD", demand_form(keyword="NOCHOKE")).location.endswith("NOCHOKE")
    with svc.db.session() as session:
        assert session.get(Demand, "CHOKEHOLD") is None
        assert session.scalars(select(Interest.keyword)).all() == ["NOCHOKE"]
        assert session.scalar(select(Subscriber.last_demand)) == "NOCHOKE"
    assert phone.text("nochoke")[0].startswith("New chokehold reply.")


@pytest.mark.parametrize("changes, field, message", [
    ({"keyword": ""}, "keyword", "Required."),
    ({"keyword": "STOP"}, "keyword", "reserved word"),
    ({"keyword": "UNIONS"}, "keyword", "already used"),
    ({"aliases": "HELP"}, "aliases", "reserved word"),
    ({"aliases": "DEFUND"}, "aliases", "already used"),
    ({"reply": ""}, "reply", "Required."),
    ({"reply": "x" * 400}, "reply", "SMS segments"),
    ({"reply": "✊🏾 " * 70}, "reply", "UCS-2"),
    ({"title": "t" * 121}, "title", "At most 120"),
    ({"ask": "a" * 201}, "ask", "At most 200"),
    ({"script": "Call {target} about {bill}"}, "script", "Unknown placeholder(s): bill"),
    ({"targets": "everyone"}, "targets", "congress"),
    ({"target_order": "house, governor"}, "target_order", "house and/or senate"),
    ({"script": "I urge {target} to " + "act now and " * 30 + "vote."}, "script", "first sentence naming {target}"),
    ({"mentions": "STOP"}, "mentions", "reserved word"),
    ({"mentions": "HR 1154"}, "mentions", "already a keyword or alias of demands UNIONS"),
])
def test_demand_edit_validation(console, svc, changes, field, message):
    response = post(console, "/console/demands/CHOKEHOLD", demand_form(**changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="err-{field}">' in page, page[page.find("field-error") - 50:][:400]
    error = page.split(f'id="err-{field}">', 1)[1].split("</span>", 1)[0]
    assert message in error
    with svc.db.session() as session:
        assert session.get(Demand, "CHOKEHOLD").title != "Ban chokeholds"


def test_demand_editor_shows_every_text_as_composed(console, svc, targets_db):
    page = console.get("/console/demands/DATABASE").get_data(as_text=True)
    assert "As texted" in page and "Area 1 list" in page and "Follow-up a day later" in page
    # the script after CALL, with the longest name in the member list, in short: the call reads it in full
    assert "Your script in short (the call reads it in full): Hi, my name is ____ and I&#39;m a constituent from " \
           "02139. I&#39;m calling to urge Representative Charles J. &#34;Chuck&#34; Fleischmann to establish" in page
    assert "1 UNIONS - Break the power of police unions" in page


def test_demand_mentions_are_saved_and_understood(console, svc, phone):
    response = post(console, "/console/demands/CHOKEHOLD", demand_form(mentions="neck restraint, carotid hold"))
    assert response.status_code == 302
    with svc.db.session() as session:
        assert session.get(Demand, "CHOKEHOLD").mentions == ["neck restraint", "carotid hold"]
    phone.text("HI")
    assert phone.text("what about the carotid hold?") == ["New chokehold reply. Reply CALL to be connected."]


def test_unknown_demand_is_404(console):
    assert console.get("/console/demands/NOPE").status_code == 404


def test_organizer_input_is_escaped_everywhere(console, svc, phone):
    assert post(console, "/console/demands/CHOKEHOLD", demand_form(title=XSS, reply=f"Hi {XSS}")).status_code == 302
    phone.text(f"hello {XSS}")
    with svc.db.session() as session:
        subscriber_id = session.scalar(select(Subscriber.id))
    for path in ("/console/demands", "/console/demands/CHOKEHOLD", "/console/inbox",
                 f"/console/inbox/{subscriber_id}", "/console/"):
        page = console.get(path).get_data(as_text=True)
        assert XSS not in page, path
    assert "&lt;script&gt;" in console.get("/console/demands/CHOKEHOLD").get_data(as_text=True)


def test_inbox_masks_numbers_and_conversation_shows_them(console, phone):
    phone.text("CHOKEHOLD")
    page = console.get("/console/inbox").get_data(as_text=True)
    assert phone.number not in page and compliance.mask(phone.number) in page


def test_conversation_page_shows_full_number_and_messages(console, svc, phone):
    phone.text("CHOKEHOLD")
    with svc.db.session() as session:
        subscriber_id = session.scalar(select(Subscriber.id))
    page = console.get(f"/console/inbox/{subscriber_id}").get_data(as_text=True)
    assert phone.number in page and "CHOKEHOLD" in page
    assert console.get("/console/inbox/999999").status_code == 404


def _subscriber_id(svc, number: str) -> int:
    with svc.db.session() as session:
        return session.scalar(select(Subscriber.id).where(Subscriber.phone == number))


def test_manual_reply_goes_through_the_transport(console, svc, phone, transport):
    phone.text("CHOKEHOLD")
    sid = _subscriber_id(svc, phone.number)
    response = post(console, f"/console/inbox/{sid}/reply", {"body": "Thanks for calling, see you Saturday."})
    assert response.status_code == 302
    assert transport.bodies_to(phone.number) == ["Thanks for calling, see you Saturday."]
    with svc.db.session() as session:
        message = session.scalars(select(Message).where(Message.kind == "manual")).one()
    assert (message.direction, message.status, message.twilio_sid) == ("out", "sent", transport.messages[0]["sid"])


def test_manual_reply_refused_for_opted_out_numbers(console, svc, phone, transport):
    phone.text("CHOKEHOLD")
    phone.text("STOP")
    sent_before = len(transport.messages)
    response = post(console, f"/console/inbox/{_subscriber_id(svc, phone.number)}/reply", {"body": "Come back!"})
    assert response.status_code == 400 and "opted out" in response.get_data(as_text=True)
    assert len(transport.messages) == sent_before
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.kind == "manual")) == 0


@pytest.mark.parametrize("body, message", [("   ", "Write a reply first."), ("y" * 700, "SMS segments")])
def test_manual_reply_validation(console, svc, phone, transport, body, message):
    phone.text("MENU")
    response = post(console, f"/console/inbox/{_subscriber_id(svc, phone.number)}/reply", {"body": body})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert transport.bodies_to(phone.number) == []


def test_manual_reply_retries_a_busy_carrier_and_opts_out_on_21610(console, svc, phone, transport):
    phone.text("MENU")
    sid = _subscriber_id(svc, phone.number)
    transport.fail_with.append(TransportError("busy", status=503))
    post(console, f"/console/inbox/{sid}/reply", {"body": "First try"})
    transport.fail_with.append(TransportError("unsubscribed", code=21610, status=400))
    post(console, f"/console/inbox/{sid}/reply", {"body": "Second try"})
    with svc.db.session() as session:
        statuses = session.scalars(select(Message.status).where(Message.kind == "manual").order_by(Message.id)).all()
        assert statuses == ["scheduled", "failed"]
        assert session.get(Subscriber, sid).opted_out
    assert svc.queue("default").count + len(svc.queue("default").scheduled_job_registry) == 1


def test_simulator_texts_the_signed_webhook_and_returns_replies(console, svc):
    token = csrf_token(console, "/console/simulator")
    response = console.post("/console/api/simulator", json={"from": "+12025550143", "body": "CHOKEHOLD"},
                            headers={"X-CSRFToken": token})
    assert response.status_code == 200
    replies = response.get_json()["replies"]
    assert "Reply CALL" in replies[0]
    with svc.db.session() as session:
        assert subscribers.find(session, "+12025550143") is not None
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1


@pytest.mark.parametrize("payload, message", [({"from": "hello", "body": "MENU"}, "not a phone number"),
                                              ({"from": "+16175551234", "body": "MENU"}, "fictional number"),
                                              ({"from": "+12025550143", "body": "  "}, "Type a text")])
def test_simulator_validation(console, payload, message):
    token = csrf_token(console, "/console/simulator")
    response = console.post("/console/api/simulator", json=payload, headers={"X-CSRFToken": token})
    assert response.status_code == 400 and message in response.get_json()["error"]


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_exports(console, client, svc):
    a, b = Phone(client, "+16175550101"), Phone(client, "+16175550102")
    a.text("CHOKEHOLD")
    b.text("DEFUND")
    b.text("STOP")
    opted_in = _rows(console.get("/console/export/subscribers.csv"))
    assert [(r["phone"], r["interests"]) for r in opted_in] == [("+16175550101", "CHOKEHOLD")]
    everyone = _rows(console.get("/console/export/subscribers.csv?all=1"))
    assert [r["phone"] for r in everyone] == ["+16175550101", "+16175550102"]
    history = everyone[1]["consent_history"].split("; ")
    assert history[0].startswith("opt_in@") and history[1].startswith("opt_out@") and "/sms" in history[1]
    messages = _rows(console.get("/console/export/messages.csv"))
    assert [m["direction"] for m in messages if m["phone"] == "+16175550102"][:2] == ["in", "out"]
    assert {m["body"] for m in messages} >= {"CHOKEHOLD", "DEFUND", "STOP"}


def test_export_cells_never_run_as_formulas():
    assert exports.safe_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert exports.safe_cell("+16175550101") == "+16175550101"
    assert exports.safe_cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert exports.safe_cell("@SUM(1)") == "'@SUM(1)"
    assert exports.safe_cell(None) == ""


def test_dashboard_counts_and_series(console, svc, client):
    Phone(client, "+16175550101").text("CHOKEHOLD")
    Phone(client, "+16175550102").text("CHOKEHOLD")
    Phone(client, "+16175550102").text("STOP")
    stats = console.get("/console/api/stats?days=7").get_json()
    with svc.db.session() as session:
        sent = session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "out", Message.status == "replied"))
        planned = session.scalar(select(func.count()).select_from(Message).where(Message.status == "scheduled"))
    assert planned >= 1  # the follow-ups are not "texts out" until sent
    assert stats["totals"] == {"subscribers": 2, "active": 1, "opted_out": 1, "texts_in": 3, "texts_out": sent}
    today = utcnow().astimezone(ZoneInfo(svc.settings.console_timezone)).date().isoformat()
    assert len(stats["days"]) == 7 and stats["days"][-1] == today == stats["today"]
    people = {s["name"]: s["data"] for s in stats["groups"]["people"]}
    assert people["new_subscribers"][-1] == 2 and people["opt_outs"][-1] == 1 and people["opt_ins"][-1] == 2
    texts = {s["name"]: s["data"] for s in stats["groups"]["texts"]}
    assert texts["texts_in"][-1] == 3 and sum(texts["texts_in"]) == 3 and texts["texts_out"][-1] == sent
    assert stats["interests"] == [{"keyword": "CHOKEHOLD", "subscribers": 2, "texts": 2}]
    assert stats["calls_available"] is True and sum(stats["groups"]["calls"][0]["data"]) == 0
    assert "No calls yet" in console.get("/console/").get_data(as_text=True)


def test_dashboard_series_bucket_by_utc_day(svc):
    now = utcnow()
    with svc.db.session() as session:
        session.add_all([Subscriber(phone="+16175550111", created_at=now - timedelta(days=2)),
                         Subscriber(phone="+16175550112", created_at=now - timedelta(days=40))])
        session.commit()
        stats = dashboard.compute(session, days=3, now=now)
    people = {s["name"]: s["data"] for s in stats.groups["people"]}
    assert people["new_subscribers"] == [1, 0, 0]


def test_dashboard_days_are_the_organizers_days(svc):
    now = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)  # 04:00 in Los Angeles
    evening = datetime(2027, 1, 15, 5, 0, tzinfo=UTC)  # 21:00 on the 14th in Los Angeles
    with svc.db.session() as session:
        session.add(Subscriber(phone="+16175550111", created_at=evening))
        session.commit()
        here = dashboard.compute(session, days=2, now=now, zone=ZoneInfo("America/Los_Angeles"))
        utc = dashboard.compute(session, days=2, now=now)
    assert (here.days, here.zone, here.today) == (["2027-01-14", "2027-01-15"], "America/Los_Angeles", "2027-01-15")
    assert {s["name"]: s["data"] for s in here.groups["people"]}["new_subscribers"] == [1, 0]
    assert {s["name"]: s["data"] for s in utc.groups["people"]}["new_subscribers"] == [0, 1]


def test_the_dashboard_says_whose_days_and_what_each_number_counts(console):
    page = console.get("/console/").get_data(as_text=True)
    assert "by day in America/New_York; today is " in page
    assert "<span>opted in</span><small>may be texted now</small>" in page
    assert "by day in America/Chicago;" in console.get("/console/?tz=America/Chicago").get_data(as_text=True)
    assert "by day in America/Chicago;" in console.get("/console/").get_data(as_text=True)  # remembered


@pytest.fixture
def admin_console(client, svc):
    login_as(client, make_organizer(svc, "boss@example.org", "admin"))
    return client


def test_admin_edits_a_service_text_and_the_service_says_it(admin_console, phone):
    response = post(admin_console, "/console/settings/texts/help",
                    {"text": "{org}: call your reps. Msg & data rates may apply. Reply STOP to stop. Help: {contact}"})
    assert response.status_code == 302
    assert phone.text("HELP")[0].startswith("Action Line Test: call your reps. Msg & data rates may apply. Reply STOP")


@pytest.mark.parametrize("key, text, message", [
    ("help", "", "Required."),
    ("help", "{org}: we help. Reply MENU.", "about STOP"),
    ("welcome", "Hi {name}", "Unknown placeholder(s): name"),
    ("welcome", "w" * 400, "SMS segments"),
])
def test_service_text_validation(admin_console, svc, key, text, message):
    response = post(admin_console, f"/console/settings/texts/{key}", {"text": text})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page.split(f'id="err-{key}">', 1)[1].split("</span>", 1)[0]
    with svc.db.session() as session:
        assert session.get(CatalogueText, key).text != text


def test_service_texts_are_admin_only(console):
    assert post(console, "/console/settings/texts/help", {"text": "x STOP"}).status_code == 403
    assert console.get("/console/settings").status_code == 403


def test_inbox_lists_latest_activity_first_and_searches_digits(console, client):
    first, second = Phone(client, "+16175550101"), Phone(client, "+16175550202")
    first.text("MENU")
    second.text("MENU")
    first.text("DEFUND")
    page = console.get("/console/inbox").get_data(as_text=True)
    assert page.index(compliance.mask(first.number)) < page.index(compliance.mask(second.number))
    found = console.get("/console/inbox?q=555-0202").get_data(as_text=True)
    assert compliance.mask(second.number) in found and compliance.mask(first.number) not in found
