"""Every guard of a web call-back: bots, rate limits, foreign, opted-out and blocked numbers, office hours, codes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from sms.calls import later
from sms.calls.models import Blocked, CallSession, ScheduledCall
from sms.messaging import compliance, subscribers
from sms.web import guards
from sms.web.models import WebCall
from tests.support.calls import tune
from tests.web.conftest import PHONE

SATURDAY_10AM_ET = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
TUESDAY_11AM_ET = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


def calls(svc) -> list[CallSession]:  # noqa: ANN001
    with svc.db.session() as session:
        return list(session.scalars(select(CallSession)))


def page_token(visitor) -> str:  # noqa: ANN001
    return re.search(r'name="token" value="([^"]+)"', visitor.open().get_data(as_text=True)).group(1)


def test_a_bot_posting_the_form_at_once_is_refused_and_nothing_is_called(visitor, svc) -> None:  # noqa: ANN001
    tune(svc, web_min_fill_seconds=3)
    response = visitor.post(token=page_token(visitor))
    assert response.status_code == 400 and "sent too quickly" in response.get_data(as_text=True)
    assert calls(svc) == []


@pytest.mark.parametrize("token", ["", "forged.token", "eyJkIjoiTk9LTk9DSyJ9.x"])
def test_a_missing_or_forged_token_is_refused(visitor, svc, token: str) -> None:  # noqa: ANN001
    assert visitor.post(token=token).status_code == 400
    assert calls(svc) == []


def test_a_token_for_another_demand_or_used_twice_is_refused(visitor, svc) -> None:  # noqa: ANN001
    assert visitor.post(token=visitor.token("NOKNOCK")).status_code == 400
    token = visitor.token()
    assert visitor.post(token=token).status_code == 303
    assert visitor.post(token=token, phone="617 555 0199").status_code == 400  # a replay
    assert len(calls(svc)) == 1


def test_a_form_filled_by_a_person_passes_the_fill_time(visitor, svc) -> None:  # noqa: ANN001
    tune(svc, web_min_fill_seconds=3)
    assert visitor.post(token=guards.issue(svc.settings, "CHOKEHOLD", "en", now=1e9)).status_code == 400  # too old
    assert visitor.post().status_code == 303  # served 10 s ago


def test_requests_per_ip_are_limited(visitor, svc) -> None:  # noqa: ANN001
    tune(svc, web_limit_per_ip_hour=2, web_limit_per_number_day=0)
    assert visitor.post(phone="617 555 0101").status_code == 303
    assert visitor.post(phone="617 555 0102").status_code == 303
    refused = visitor.post(phone="617 555 0103")
    assert refused.status_code == 429 and "Too many requests" in refused.get_data(as_text=True)
    visitor.ip = "198.51.100.9"  # another address is not held back
    assert visitor.post(phone="617 555 0104").status_code == 303
    assert len(calls(svc)) == 3


def test_requests_per_number_are_limited_from_any_ip(visitor, svc) -> None:  # noqa: ANN001
    tune(svc, web_limit_per_number_day=1, call_limit_per_day=0)
    assert visitor.post().status_code == 303
    with svc.db.session() as session:  # the first call is over
        session.execute(CallSession.__table__.update().values(status="completed"))
        session.commit()
    visitor.ip = "198.51.100.9"
    assert visitor.post().status_code == 429
    assert len(calls(svc)) == 1


def test_a_foreign_number_is_refused(visitor, svc, transport) -> None:  # noqa: ANN001
    response = visitor.post(phone="+44 20 7946 0958")
    assert response.status_code == 403 and "only call phone numbers in the US" in response.get_data(as_text=True)
    assert calls(svc) == [] and transport.calls == []


@pytest.mark.parametrize("how", ["opted_out", "blocked"])
def test_opted_out_and_blocked_numbers_are_refused_alike(visitor, svc, transport, run_jobs, how: str) -> None:  # noqa: ANN001
    with svc.db.session() as session:
        if how == "blocked":
            session.add(Blocked(phone=PHONE, reason="test"))
        else:
            sub, _ = subscribers.get_or_create(session, PHONE)
            compliance.opt_out(session, sub, "sms")
        session.commit()
    response = visitor.post(consent="yes")
    assert response.status_code == 403
    assert "we can&#39;t place a call to this number" in response.get_data(as_text=True)
    run_jobs()
    assert calls(svc) == [] and transport.calls == [] and transport.messages == []
    with svc.db.session() as session:
        assert compliance.may_message(session, PHONE) is (how == "blocked")  # the box never opts back in


def test_a_call_already_on_and_the_daily_limit_are_the_sms_guards(visitor, svc) -> None:  # noqa: ANN001
    tune(svc, call_limit_per_day=1)
    assert visitor.post().status_code == 303
    assert "already calling you" in visitor.post().get_data(as_text=True)
    with svc.db.session() as session:
        session.execute(CallSession.__table__.update().values(status="completed"))
        session.commit()
    response = visitor.post()
    assert response.status_code == 429 and "most calls we can place" in response.get_data(as_text=True)


def test_offices_closed_books_the_call_for_when_they_open(visitor, svc, clock, run_jobs, transport) -> None:  # noqa: ANN001
    tune(svc, call_office_hours={"congress": (9, 17, "America/New_York")}, quiet_hours=(9, 20))
    clock["now"] = SATURDAY_10AM_ET
    response = visitor.post()
    handle = response.headers["Location"].rsplit("/", 1)[1]
    assert calls(svc) == []
    with svc.db.session() as session:
        row = session.scalars(select(ScheduledCall)).one()
        assert (row.status, row.subscriber_id, row.zip, row.state, row.district) == ("scheduled", None, "02139",
                                                                                      "MA", 7)
        assert session.scalars(select(WebCall)).one().scheduled_id == row.id
    html = visitor.client.get(f"/act/calls/{handle}").get_data(as_text=True)
    assert "We&#39;ll call you at Mon 9am ET" in html and "Cancel this call-back" in html
    assert later.run(svc, row.id, now=TUESDAY_11AM_ET.replace(day=30, hour=14)) == "placed"  # Monday 9am ET
    run_jobs()
    assert [c["to"] for c in transport.calls] == [PHONE]
    (call,) = calls(svc)
    assert call.targets[0]["name"] == "Ayanna Pressley" and call.zip == "02139"
    assert "ringing" in visitor.client.get(f"/api/v1/calls/{handle}").get_json()["state"]


def test_a_booked_call_can_be_cancelled_from_the_page_and_by_stop(visitor, svc, clock) -> None:  # noqa: ANN001
    tune(svc, call_office_hours={"congress": (9, 17, "America/New_York")})
    clock["now"] = SATURDAY_10AM_ET
    handle = visitor.post().headers["Location"].rsplit("/", 1)[1]
    visitor.client.post(f"/act/calls/{handle}/cancel")
    assert "call-back is cancelled" in visitor.client.get(f"/act/calls/{handle}").get_data(as_text=True)
    visitor.post(phone="617 555 0177")
    with svc.db.session() as session:
        sub, _ = subscribers.get_or_create(session, "+16175550177")
        compliance.opt_out(session, sub, "sms")  # STOP cancels a web booking of the number too
        session.commit()
        assert [r.status for r in session.scalars(select(ScheduledCall).order_by(ScheduledCall.id))] == [
            "canceled", "canceled"]


def test_a_new_number_confirms_a_texted_code_before_its_first_call(visitor, svc, transport, run_jobs) -> None:  # noqa: ANN001
    tune(svc, web_confirm_numbers=True)
    response = visitor.post(consent="yes")
    assert response.status_code == 303 and "/act/code/" in response.headers["Location"]
    handle = response.headers["Location"].rsplit("/", 1)[1]
    run_jobs()
    (text,) = [m for m in transport.messages if m["to"] == PHONE]
    code = re.search(r"\b(\d{6})\b", text["body"]).group(1)
    page = visitor.client.get(f"/act/code/{handle}").get_data(as_text=True)
    assert "+1617***0123" in page and PHONE not in page
    wrong = visitor.client.post(f"/act/code/{handle}", data={"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and "doesn&#39;t match" in wrong.get_data(as_text=True)
    assert calls(svc) == []
    done = visitor.client.post(f"/act/code/{handle}", data={"code": code})
    assert done.status_code == 303 and "/act/calls/" in done.headers["Location"]
    assert visitor.client.post(f"/act/code/{handle}", data={"code": code}).status_code == 410  # once only
    run_jobs()
    assert [c["to"] for c in transport.calls] == [PHONE]
    with svc.db.session() as session:
        from sms.web.models import WebConsent

        assert session.scalars(select(WebConsent)).one().number_confirmed is True
        session.execute(CallSession.__table__.update().values(status="completed"))
        session.commit()
    again = visitor.post(phone="617 555 0123")
    assert "/act/calls/" in again.headers["Location"]  # confirmed today: no second code


def test_too_many_wrong_codes_end_the_request(visitor, svc) -> None:  # noqa: ANN001
    tune(svc, web_confirm_numbers=True)
    handle = visitor.post().headers["Location"].rsplit("/", 1)[1]
    statuses = [visitor.client.post(f"/act/code/{handle}", data={"code": "x"}).status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 410]
    assert calls(svc) == []


def test_retention_drops_old_web_records_and_their_bookings(visitor, svc, clock) -> None:  # noqa: ANN001
    from datetime import timedelta

    from sms.messaging import retention

    tune(svc, call_office_hours={"congress": (9, 17, "America/New_York")}, retention_days=30)
    clock["now"] = SATURDAY_10AM_ET
    assert visitor.post().status_code == 303  # a booking and its web record
    counts = retention.purge(svc, now=SATURDAY_10AM_ET + timedelta(days=60))
    assert counts["web_calls"] == 1 and counts["scheduled_calls"] == 1
    with svc.db.session() as session:
        assert session.scalars(select(WebCall)).all() == [] and session.scalars(select(ScheduledCall)).all() == []
