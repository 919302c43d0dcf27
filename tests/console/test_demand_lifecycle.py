"""The console's demands page: retire and offer again, the ask's "as of" date and its warning."""

from __future__ import annotations

from datetime import date, timedelta

from sms.store import Demand, utcnow
from tests.console.test_pages import demand_form
from tests.support.console import post


def test_retire_from_the_console_then_offer_again(console, svc, phone):
    response = post(console, "/console/demands/CHOKEHOLD/retire", {"action": "retire"})
    assert response.status_code == 302
    page = console.get("/console/demands").get_data(as_text=True)
    assert 'id="demand-CHOKEHOLD" class="retired"' in page and "Offer again" in page
    assert "this campaign has ended" in phone.text("CHOKEHOLD")[0]
    post(console, "/console/demands/CHOKEHOLD/retire", {"action": "restore"})
    with svc.db.session() as session:
        assert session.get(Demand, "CHOKEHOLD").active
    assert post(console, "/console/demands/NOPE/retire", {"action": "retire"}).status_code == 404


def test_an_old_ask_is_flagged_and_a_fresh_one_is_not(console, svc):
    old = (utcnow().date() - timedelta(days=400)).isoformat()
    assert post(console, "/console/demands/CHOKEHOLD", demand_form(ask_as_of=old)).status_code == 302
    listing = console.get("/console/demands").get_data(as_text=True)
    assert 'id="stale-asks"' in listing and f"as of {old}" in listing
    assert 'id="stale-ask"' in console.get("/console/demands/CHOKEHOLD").get_data(as_text=True)
    today = utcnow().date().isoformat()
    post(console, "/console/demands/CHOKEHOLD", demand_form(ask_as_of=today))
    assert 'id="stale-asks"' not in console.get("/console/demands").get_data(as_text=True)
    with svc.db.session() as session:
        assert session.get(Demand, "CHOKEHOLD").ask_as_of == date.fromisoformat(today)


def test_a_bad_or_future_as_of_date_is_refused(console):
    bad = post(console, "/console/demands/CHOKEHOLD", demand_form(ask_as_of="June"))
    assert bad.status_code == 400 and "A date, YYYY-MM-DD." in bad.get_data(as_text=True)
    future = (utcnow().date() + timedelta(days=3)).isoformat()
    assert post(console, "/console/demands/CHOKEHOLD", demand_form(ask_as_of=future)).status_code == 400
