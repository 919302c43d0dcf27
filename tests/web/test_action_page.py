"""The public action page without JavaScript: the form, who you'll call, the call-back, its progress."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markupsafe import escape
from sqlalchemy import select

from sms.calls.models import CallSession
from sms.store import ConsentEvent, Message, Subscriber
from sms.web import texts
from sms.web.models import WebCall, WebConsent
from tests.support.calls import tune
from tests.web.conftest import PHONE


class Labels(HTMLParser):
    """Every form control's id and the ids that a <label for> names."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []
        self.labelled: set[str] = set()
        self.checkbox_checked: bool | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"] or "")
        if tag == "input" and a.get("type") not in ("hidden", "radio"):
            self.controls.append(a.get("id") or "?")
            if a.get("type") == "checkbox":
                self.checkbox_checked = "checked" in a


def handle_of(response) -> str:  # noqa: ANN001
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].split("?")[0].rsplit("/", 1)[1]


def test_the_page_has_the_demand_its_ask_and_script_and_labelled_fields(visitor) -> None:  # noqa: ANN001
    response = visitor.open()
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Federal chokehold ban" in html and "Ban police chokeholds" in html
    assert "urge your lawmaker to support a federal ban" in html
    parsed = Labels()
    parsed.feed(html)
    assert parsed.controls == ["zip", "phone", "consent"]
    assert set(parsed.controls) <= parsed.labelled
    assert parsed.checkbox_checked is False  # "Text me updates" starts unticked
    assert str(escape(texts.text("consent", org="Action Line Test"))) in html
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in response.headers


def test_page_css_and_js_weigh_under_50_kb(visitor, client) -> None:  # noqa: ANN001
    sizes = [len(visitor.open().data)]
    sizes += [len(client.get(f"/act/static/{name}").data) for name in ("act.css", "act.js")]
    assert sum(sizes) < 50_000, sizes


def test_a_zip_shows_who_you_will_be_connected_to(visitor) -> None:  # noqa: ANN001
    html = visitor.client.post("/act/CHOKEHOLD", data={"action": "find", "zip": "20001"}).get_data(as_text=True)
    assert "Del. Eleanor Holmes Norton" in html
    html = visitor.client.post("/act/CHOKEHOLD", data={"action": "find", "zip": "99999"}).get_data(as_text=True)
    assert "We couldn&#39;t find ZIP 99999" in html


def test_a_split_zip_asks_which_district_like_sms_or_calls_all(visitor, svc) -> None:  # noqa: ANN001
    html = visitor.client.post("/act/CHOKEHOLD", data={"action": "find", "zip": "02139"}).get_data(as_text=True)
    assert "Rep. Katherine M. Clark (MA-5)" in html and 'value="MA-7"' in html and "<fieldset" in html
    html = visitor.client.post("/act/CHOKEHOLD", data={"action": "find", "zip": "02139", "district": "MA-7"}
                               ).get_data(as_text=True)
    assert "Rep. Ayanna Pressley" in html and "Katherine M. Clark" not in html
    response = visitor.post(district="")
    assert response.status_code == 400 and "Choose your district" in response.get_data(as_text=True)
    tune(svc, call_split_districts="all")
    html = visitor.client.post("/act/CHOKEHOLD", data={"action": "find", "zip": "02139"}).get_data(as_text=True)
    assert "Rep. Katherine M. Clark" in html and "Rep. Ayanna Pressley" in html and "<fieldset" not in html


def test_submitting_calls_back_only_the_callers_own_number(visitor, svc, transport, run_jobs) -> None:  # noqa: ANN001
    handle = handle_of(visitor.post(phone="(617) 555-0123", to="+12025550100", number="+12025550100"))
    run_jobs()
    assert [c["to"] for c in transport.calls] == [PHONE]
    assert transport.messages == []  # the box was not ticked: no text at all
    with svc.db.session() as session:
        call = session.scalars(select(CallSession)).one()
        assert call.subscriber_id is None and call.targets[0]["name"] == "Ayanna Pressley"
        assert session.scalars(select(Subscriber)).all() == []
        web = session.scalars(select(WebCall)).one()
        assert web.session_id == call.id and web.source == "page" and "203.0.113.7" not in web.ip_hash
    status = visitor.client.get(f"/act/calls/{handle}")
    html = status.get_data(as_text=True)
    assert "Your phone should be ringing" in html
    assert "<li class=\"leg-waiting\">Rep. Ayanna Pressley: next</li>" in html  # who you'll be connected to
    assert "urge Representative Ayanna Pressley" in html  # the script, for the first office
    assert '<meta http-equiv="refresh"' in html  # no JS: the page refreshes itself


def test_a_ticked_box_keeps_the_exact_wording_and_texts_the_script(visitor, svc, transport, run_jobs) -> None:  # noqa: ANN001
    handle_of(visitor.post(consent="yes", page="https://campaign.example/chokehold"))
    run_jobs()
    with svc.db.session() as session:
        sub = session.scalars(select(Subscriber)).one()
        event = session.scalars(select(ConsentEvent)).one()
        kept = session.scalars(select(WebConsent)).one()
        assert (sub.phone, sub.status, sub.zip, sub.state) == (PHONE, "active", "02139", "MA")
        assert (event.action, event.source, event.detail) == ("opt_in", "web", "https://campaign.example/chokehold")
        assert kept.consent_event_id == event.id and kept.page == "https://campaign.example/chokehold"
        assert kept.wording == ("Text me updates from Action Line Test about this and other calls to action "
                                "(up to 4 msgs/week, msg & data rates may apply, reply STOP to opt out).")
        assert kept.created_at is not None and kept.number_confirmed is False
        assert re.fullmatch(r"[0-9a-f]{32}", kept.ip_hash) and "203.0.113" not in kept.ip_hash
        assert session.scalars(select(CallSession)).one().subscriber_id == sub.id
        assert {m.kind for m in session.scalars(select(Message))} == {"script"}
    bodies = " | ".join(m["body"] for m in transport.messages)  # the script, and the opt-in disclosure
    assert "urge Representative Ayanna Pressley" in bodies and "you've joined Action Line alerts" in bodies


def test_a_refused_form_keeps_what_was_typed(visitor) -> None:  # noqa: ANN001
    response = visitor.post(phone="12", consent="yes")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter a phone number we can call" in html and 'value="02139"' in html and 'value="12"' in html
    assert re.search(r'id="consent"[^>]*checked', html)


def test_an_unknown_keyword_is_a_404_page(visitor) -> None:  # noqa: ANN001
    response = visitor.open("NOSUCHTHING")
    assert response.status_code == 404 and "We don&#39;t have an action called NOSUCHTHING" in response.get_data(
        as_text=True)


def test_an_alias_opens_its_demand(visitor) -> None:  # noqa: ANN001
    assert "Federal chokehold ban" in visitor.open("floyd").get_data(as_text=True)
