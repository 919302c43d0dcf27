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
