from __future__ import annotations

from datetime import timedelta

from sms.broadcasts import reminders
from sms.broadcasts.models import Reminder
from sms.store import utcnow
from tests.support.broadcasts import add_people, broadcast_status
from tests.support.console import post


def test_compose_preview_send_and_cancel_from_the_console(console, svc, transport, run_jobs):
    add_people(svc, 3, interests=("CHOKEHOLD",), state="KY")
    add_people(svc, 2, 100, state="CA")
    response = post(console, "/console/broadcasts", {"message": "Vote Thursday <b>now</b>", "demands": "chokehold",
                                                     "states": "KY", "mps": "1000"})
    assert response.status_code == 302
    page = console.get(response.location).get_data(as_text=True)
    assert '<dd id="recipients">3</dd>' in page and "GSM-7" in page and "&lt;b&gt;" in page
    broadcast_id = int(response.location.rsplit("/", 1)[1])
    assert post(console, f"/console/broadcasts/{broadcast_id}/send", {}).status_code == 302
    run_jobs()
    assert len(transport.messages) == 3 and broadcast_status(svc, broadcast_id) == "sent"
    post(console, f"/console/broadcasts/{broadcast_id}/cancel", {})
    assert "cannot make it cancelled" in console.get(f"/console/broadcasts/{broadcast_id}").get_data(as_text=True)
    assert f'href="/console/broadcasts/{broadcast_id}"' in console.get("/console/broadcasts").get_data(as_text=True)


def test_console_refuses_bad_broadcasts_and_missing_csrf(console):
    response = post(console, "/console/broadcasts", {"message": "hi", "demands": "NOSUCH"})
    assert response.status_code == 400 and "unknown demand" in response.get_data(as_text=True)
    assert console.post("/console/broadcasts", data={"message": "hi"}).status_code == 400  # no CSRF token


def test_schedule_and_cancel_a_reminder_from_the_console(console, svc):
    at = (utcnow() + timedelta(days=1)).isoformat()
    response = post(console, "/console/reminders", {"message": "House votes Thursday", "demands": "CHOKEHOLD",
                                                    "send_at": at, "every": "weekly"})
    assert response.status_code == 302
    with svc.db.session() as session:
        (reminder,) = session.scalars(reminders.select(Reminder)).all()
    assert svc.queue("default").scheduled_job_registry.get_job_ids() == [f"remind-{reminder.id}-0"]
    post(console, f"/console/reminders/{reminder.id}/cancel", {})
    page = console.get("/console/reminders").get_data(as_text=True)
    assert "cancelled" in page and "every 168h" in page
