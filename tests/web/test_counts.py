"""Public live counts: per demand and overall, per state only from the threshold, cached, as public as chosen."""

from __future__ import annotations

import pytest

from sms.calls.models import CallLeg, CallSession
from sms.web import counts
from tests.support.calls import tune

pytestmark = pytest.mark.usefixtures("targets_db")
PRESSLEY, WARREN, NADLER = "P000617", "W000817", "N000002"


def add_calls(svc, demand: str, legs: list[tuple[str, str]], times: int = 1) -> None:  # noqa: ANN001
    """``times`` call sessions about ``demand``, each dialing ``legs`` [(ref, outcome)]."""
    with svc.db.session() as session:
        for _ in range(times):
            call = CallSession(phone="+16175550123", demand=demand, status="completed")
            session.add(call)
            session.flush()
            for position, (ref, outcome) in enumerate(legs):
                session.add(CallLeg(session_id=call.id, position=position, kind="house", ref=ref, label=ref,
                                    outcome=outcome))
        session.commit()


def test_counts_per_demand_state_and_overall_with_the_state_threshold(svc, client) -> None:  # noqa: ANN001
    tune(svc, web_public_counts=("total", "demands", "states"), web_counts_state_min=3)
    add_calls(svc, "CHOKEHOLD", [(PRESSLEY, "connected"), (WARREN, "no-answer")], times=3)  # MA: 3 calls
    add_calls(svc, "CHOKEHOLD", [(NADLER, "connected"), ("X", "skipped")], times=2)  # NY: 2 calls, below 3
    add_calls(svc, "NOKNOCK", [(NADLER, "connected")])
    add_calls(svc, "CHOKEHOLD", [(PRESSLEY, "skipped")])  # nobody dialed: not a call made
    body = client.get("/api/v1/counts").get_json()
    assert body["total"] == {"calls": 6, "offices": 6}
    assert body["demands"] == {"CHOKEHOLD": {"calls": 5, "offices": 5}, "NOKNOCK": {"calls": 1, "offices": 1}}
    assert body["states"] == {"MA": {"calls": 3, "offices": 3}, "NY": {"calls": 3, "offices": 3}}  # 2 + 1 overall
    one = client.get("/api/v1/counts?demand=chokehold").get_json()
    assert one["demands"] == {"CHOKEHOLD": {"calls": 5, "offices": 5}}
    assert one["states"] == {"MA": {"calls": 3, "offices": 3}}  # NY has only 2 CHOKEHOLD calls: not shown
    assert one["text"] == {"calls": "5 calls made", "offices": "5 offices reached"}
    page = client.get("/counter?demand=CHOKEHOLD").get_data(as_text=True)
    assert "5 calls made" in page and ">MA<" in page and ">NY<" not in page


def test_organizers_choose_what_is_public(svc, client) -> None:  # noqa: ANN001
    add_calls(svc, "CHOKEHOLD", [(PRESSLEY, "connected")], times=20)
    assert set(client.get("/api/v1/counts").get_json()) == {"total", "demands", "text"}  # the default
    tune(svc, web_public_counts=("total",))
    assert set(client.get("/api/v1/counts").get_json()) == {"total", "text"}
    tune(svc, web_public_counts=())
    assert client.get("/api/v1/counts").get_json() == {}
    assert "calls made" not in client.get("/counter").get_data(as_text=True)


def test_counts_are_computed_once_per_ttl_and_cached_in_redis(svc, redis) -> None:  # noqa: ANN001
    add_calls(svc, "CHOKEHOLD", [(PRESSLEY, "connected")])
    assert counts.public(svc)["total"] == {"calls": 1, "offices": 1}
    add_calls(svc, "CHOKEHOLD", [(PRESSLEY, "connected")])
    assert counts.public(svc)["total"] == {"calls": 1, "offices": 1}  # from the cache
    assert 0 < redis.ttl(counts.CACHE_KEY) <= 60
    redis.delete(counts.CACHE_KEY)  # the TTL ran out
    assert counts.public(svc)["total"] == {"calls": 2, "offices": 2}


def test_a_web_call_is_counted_once_it_dials(svc, client, transport, run_jobs) -> None:  # noqa: ANN001
    tune(svc, web_min_fill_seconds=0, web_confirm_numbers=False)
    form = client.get("/api/v1/form?demand=CHOKEHOLD").get_json()
    client.post("/api/v1/calls", json={"demand": "CHOKEHOLD", "phone": "6175550123", "zip": "02139",
                                       "district": "MA-7", "token": form["token"]})
    assert client.get("/api/v1/counts").get_json()["total"] == {"calls": 0, "offices": 0}  # not dialed yet
