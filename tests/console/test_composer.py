"""Console broadcasts beyond the basics: live composer preview, progress polling, deliveries CSV, filters."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from sms.broadcasts.models import Broadcast, Reminder
from tests.support.broadcasts import add_people, new_broadcast
from tests.support.console import post


def preview(client, **params: str) -> dict:
    response = client.get("/console/api/broadcasts/preview", query_string=params)
    assert response.status_code == 200
    return response.get_json()


def test_composer_preview_counts_recipients_segments_and_cost(console, svc):
    add_people(svc, 3, interests=("CHOKEHOLD",), state="KY")
    add_people(svc, 2, 100, state="CA")
    assert preview(console, message="Vote Thursday", demands="chokehold")["recipients"] == 3
    everyone = preview(console, message="Vote ✊ " * 12)
    assert (everyone["recipients"], everyone["encoding"], everyone["segments_per_message"],
            everyone["total_segments"], everyone["problems"]) == (5, "UCS-2", 2, 10, [])
    assert everyone["estimated_cost"] == round(10 * svc.settings.price_per_segment, 2)
    assert preview(console, message="Hi {nickname}", demands="NOSUCH")["problems"] == [
        "unknown demand 'NOSUCH'", "unknown merge field {nickname}; use first_name, rep, zip"]
    assert preview(console, message="x" * 1600)["problems"] == ["the message is longer than 10 SMS segments"]
    bad = preview(console, message="hi", states="Kentucky")
    assert bad["recipients"] is None and "two-letter" in bad["problems"][0]
    with svc.db.session() as session:
        assert session.query(Broadcast).count() == 0  # a preview saves nothing


def test_progress_is_polled_until_sent_and_deliveries_export(console, svc, run_jobs, transport):
    add_people(svc, 3, interests=("CHOKEHOLD",))
    response = post(console, "/console/broadcasts", {"message": "Vote Thursday", "called": "no",
                                                     "active_since": "2020-01-01"})
    broadcast_id = int(response.location.rsplit("/", 1)[1])
    page = console.get(response.location).get_data(as_text=True)
    assert 'id="action-send"' in page and 'id="action-pause"' not in page and 'data-live="no"' in page
    with svc.db.session() as session:
        assert session.get(Broadcast, broadcast_id).filters == {"called": False,
                                                                 "active_since": "2020-01-01T00:00:00+00:00"}
    post(console, f"/console/broadcasts/{broadcast_id}/send", {})
    live = console.get(f"/console/api/broadcasts/{broadcast_id}/progress").get_json()
    assert (live["status"], live["live"], live["planned"], live["waiting"], live["sent"]) == ("sending", True, 3, 3, 0)
    assert 'data-live="yes"' in console.get(f"/console/broadcasts/{broadcast_id}").get_data(as_text=True)
    run_jobs()
    done = console.get(f"/console/api/broadcasts/{broadcast_id}/progress").get_json()
    assert (done["status"], done["live"], done["sent"], done["waiting"], done["failed"]) == ("sent", False, 3, 0, 0)
    rows = list(csv.DictReader(io.StringIO(
        console.get(f"/console/export/deliveries.csv?broadcast={broadcast_id}").get_data(as_text=True))))
    assert sorted(r["phone"] for r in rows) == sorted(m["to"] for m in transport.messages)
    assert {r["status"] for r in rows} == {"sent"} and all(r["twilio_sid"].startswith("SM") for r in rows)
    other = new_broadcast(svc)
    assert len(list(csv.DictReader(io.StringIO(console.get(
        f"/console/export/deliveries.csv?broadcast={other}").get_data(as_text=True))))) == 0
    assert console.get("/console/api/broadcasts/9999/progress").status_code == 404


def test_the_broadcast_page_and_its_poll_say_why_deliveries_wait(console, svc, run_jobs):
    from html import unescape

    from sms.broadcasts import lifecycle

    add_people(svc, 2)
    broadcast_id = new_broadcast(svc)
    lifecycle.send(svc, broadcast_id)
    page = unescape(console.get(f"/console/broadcasts/{broadcast_id}").get_data(as_text=True))
    no_worker = "2 due now, but no worker serves the bulk queue: start worker.py (make run starts one)"
    assert '<p id="why-summary">Sending: 2 waiting.</p>' in page
    assert f'<li class="why-no_worker">{no_worker}</li>' in page
    why = console.get(f"/console/api/broadcasts/{broadcast_id}/progress").get_json()["why"]
    assert (why["summary"], why["finished"], [r["text"] for r in why["reasons"]]) == (
        "Sending: 2 waiting.", False, [no_worker])
    assert why["finish"].startswith("Estimated finish: ")
    lifecycle.pause(svc, broadcast_id)
    why = console.get(f"/console/api/broadcasts/{broadcast_id}/progress").get_json()["why"]
    assert [(r["kind"], r["count"]) for r in why["reasons"]] == [("paused", 2)] and why["finish"] is None
    lifecycle.resume(svc, broadcast_id)
    run_jobs()
    why = console.get(f"/console/api/broadcasts/{broadcast_id}/progress").get_json()["why"]
    assert why["finished"] and why["reasons"] == [] and why["summary"].startswith("Finished: sent at ")


@pytest.mark.parametrize("path", ["/console/api/broadcasts/preview", "/console/api/broadcasts/1/progress",
                                  "/console/export/deliveries.csv"])
def test_broadcast_apis_need_login(client, path):
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 401


def test_save_filters_as_a_segment_and_use_it(console, svc):
    add_people(svc, 2, state="KY")
    add_people(svc, 1, 100, state="CA")
    response = post(console, "/console/broadcasts", {"action": "segment", "segment_name": "Kentucky",
                                                     "states": "ky", "message": ""})
    assert response.status_code == 302 and response.location.endswith("#segments")
    page = console.get("/console/broadcasts").get_data(as_text=True)
    assert "states=KY" in page and '<td data-label="Recipients now">2</td>' in page
    assert preview(console, message="hi", segment="Kentucky")["recipients"] == 2
    bad = post(console, "/console/broadcasts", {"action": "segment", "segment_name": "", "states": "KY"})
    assert bad.status_code == 400 and "segment name must be 1-60 characters" in bad.get_data(as_text=True)


def test_reminder_rows_offer_only_the_actions_their_state_allows(console, svc):
    from datetime import timedelta

    from sms.store import utcnow

    at = (utcnow() + timedelta(days=1)).isoformat()
    post(console, "/console/reminders", {"message": "House votes Thursday", "send_at": at})
    with svc.db.session() as session:
        base = f"/console/reminders/{session.scalar(select(Reminder.id))}"
    page = console.get("/console/reminders").get_data(as_text=True)
    assert f"{base}/pause" in page and f"{base}/resume" not in page
    post(console, f"{base}/cancel", {})
    page = console.get("/console/reminders").get_data(as_text=True)
    assert f"{base}/" not in page and "cancelled" in page


def test_the_composer_preview_shows_a_real_recipient_the_audience_in_words_and_the_gsm7_way(console, svc):
    add_people(svc, 1, 0, state="KY", first_name="Ada")
    add_people(svc, 1, 100, state="KY")
    found = preview(console, message="Hi {first_name} ✊ call {rep}", states="ky")
    assert found["audience"] == ("Opted-in subscribers in KY (not LESS subscribers: they hear only urgent ones)")
    assert found["sample"] == {"text": "Hi Ada ✊ call your Representative", "who": "+1617***0000",
                               "fallbacks": [{"field": "rep", "fallback": "your Representative"}]}
    assert (found["encoding"], found["ucs2_characters"], found["gsm_alternative"]) == (
        "UCS-2", ["✊ (U+270A)"], "Hi {first_name} call {rep}")
    assert preview(console, message="", states="ky")["sample"] is None


def test_send_at_is_read_in_the_browsers_zone_and_shown_with_it(console, svc):
    response = post(console, "/console/broadcasts", {"message": "Vote Thursday", "send_at": "2027-01-14T10:00",
                                                     "tz": "America/Chicago"})
    assert response.status_code == 302
    with svc.db.session() as session:
        broadcast = session.scalars(select(Broadcast)).one()
        assert (broadcast.status, broadcast.send_at.isoformat()) == ("scheduled", "2027-01-14T16:00:00+00:00")
    page = console.get(response.location).get_data(as_text=True)
    assert '<dd id="send-at">2027-01-14 10:00 America/Chicago <span class="meta">(2027-01-14 16:00 UTC)' in page
    form = console.get("/console/broadcasts").get_data(as_text=True)  # the zone is remembered for the session
    assert 'name="tz" value="America/Chicago"' in form and 'type="datetime-local" name="send_at"' in form


def test_without_a_browser_zone_send_at_is_read_in_console_timezone(console, svc):
    from tests.support.broadcasts import configure

    configure(svc, console_timezone="America/Los_Angeles")
    post(console, "/console/broadcasts", {"message": "Vote Thursday", "send_at": "2027-01-14T10:00", "tz": "Nope/X"})
    with svc.db.session() as session:
        assert session.scalars(select(Broadcast)).one().send_at.isoformat() == "2027-01-14T18:00:00+00:00"
    bad = post(console, "/console/broadcasts", {"message": "Vote Thursday", "send_at": "soon"})
    assert bad.status_code == 400 and "send time must be a date and time" in bad.get_data(as_text=True)


def test_the_broadcast_page_renders_a_recipients_text_and_switches_to_gsm7(console, svc):
    from html import unescape

    add_people(svc, 1, 0, first_name="")
    broadcast_id = new_broadcast(svc, "Hi {first_name} ✊ vote Thursday")
    page = unescape(console.get(f"/console/broadcasts/{broadcast_id}").get_data(as_text=True))
    assert '<div class="bubble in" id="sample-text">Hi friend ✊ vote Thursday</div>' in page
    assert "As +1617***0000, one of its recipients, gets it:" in page
    assert "<code>{first_name}</code> is empty for them: “friend” is used instead." in page
    assert '<dd id="audience-words">Every opted-in subscriber' in page
    assert "because of ✊ (U+270A)" in page and '<q id="gsm-alternative">Hi {first_name} vote Thursday</q>' in page
    post(console, f"/console/broadcasts/{broadcast_id}/gsm7", {})
    page = unescape(console.get(f"/console/broadcasts/{broadcast_id}").get_data(as_text=True))
    assert '<dd id="encoding">GSM-7</dd>' in page and 'id="action-gsm7"' not in page
    assert "its text is now GSM-7" in page
