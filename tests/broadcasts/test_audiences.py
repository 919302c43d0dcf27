from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from sms.broadcasts import audiences
from sms.store import Message, Subscriber, utcnow
from tests.support.broadcasts import add_people


@pytest.fixture
def crowd(svc):
    add_people(svc, 4, 0, ("CHOKEHOLD",), state="KY", district=3, zip="40202")
    add_people(svc, 3, 100, ("DEFUND",), state="KY", district=4, zip="40601")
    add_people(svc, 2, 200, (), state="CA", district=12, zip="94110")
    with svc.db.session() as session:
        session.execute(update(Subscriber).where(Subscriber.phone == "+16175550000").values(status="opted_out"))
        session.execute(update(Subscriber).where(Subscriber.phone == "+16175550001").values(tier="low"))
        old = {"created_at": utcnow() - timedelta(days=400), "last_active_at": utcnow() - timedelta(days=90)}
        session.execute(update(Subscriber).where(Subscriber.phone == "+16175550200").values(**old))
        caller = session.scalar(select(Subscriber.id).where(Subscriber.phone == "+16175550100"))
        session.execute(insert(Message), [{"subscriber_id": caller, "direction": "in", "kind": "inbound",
                                           "phone": "+16175550100", "body": "call chokehold"}])
        session.commit()


FILTER_CASES = [
    ({}, 7),  # 9 minus the opted-out one minus the LESS one
    ({"demands": ["CHOKEHOLD"]}, 2),
    ({"demands": ["chokehold", "DEFUND"]}, 5),
    ({"states": ["ky"]}, 5),
    ({"districts": ["KY-4"]}, 3),
    ({"districts": ["KY-3", "CA-12"]}, 4),
    ({"zips": ["94110", "40601"]}, 5),
    ({"called": True}, 1),
    ({"called": False}, 6),
    ({"joined_before": (utcnow() - timedelta(days=100)).date().isoformat()}, 1),
    ({"joined_after": (utcnow() - timedelta(days=100)).isoformat()}, 6),
    ({"active_since": (utcnow() - timedelta(days=30)).isoformat()}, 6),
    ({"active_before": (utcnow() - timedelta(days=30)).isoformat()}, 1),
    ({"states": ["KY"], "demands": ["DEFUND"], "called": False}, 2),
]


def test_filters_select_opted_in_subscribers(svc, crowd):
    with svc.db.session() as session:
        for filters, expected in FILTER_CASES:
            assert audiences.count(session, filters) == expected, filters
            phones = {row.phone for row in session.execute(audiences.recipients(filters))}
            assert len(phones) == expected, filters
            assert "+16175550000" not in phones


def test_less_tier_only_hears_urgent(svc, crowd):
    with svc.db.session() as session:
        assert audiences.count(session, {"demands": ["CHOKEHOLD"]}, urgent=True) == 3


def test_saved_segment_round_trips_and_combines(svc, crowd):
    with svc.db.session() as session:
        audiences.save(session, "kentucky", {"states": ["KY"]})
        session.commit()
        segment = audiences.get(session, "kentucky")
        combined = audiences.combine(segment.filters, {"demands": ["DEFUND"]})
        assert audiences.count(session, combined) == 3
        with pytest.raises(audiences.AudienceError, match="exclude everyone"):
            audiences.combine(segment.filters, {"states": ["CA"]})


@pytest.mark.parametrize(("filters", "message"), [
    ({"states": ["Kentucky"]}, "two-letter"),
    ({"zips": ["4020"]}, "5 digits"),
    ({"districts": ["KY3"]}, "KY-3"),
    ({"joined_after": "last tuesday"}, "ISO 8601"),
    ({"colour": "blue"}, "unknown filter"),
])
def test_bad_filters_are_refused(filters, message):
    with pytest.raises(audiences.AudienceError, match=message):
        audiences.clean(filters)


def test_segment_cli_save_list_preview(runner, svc, crowd):
    saved = runner.invoke(args=["segment", "save", "ky-callers", "--state", "KY", "--called"])
    assert saved.exit_code == 0 and saved.output.strip() == "Segment ky-callers: 1 subscribers"
    assert "ky-callers" in runner.invoke(args=["segment", "list"]).output
    assert runner.invoke(args=["segment", "preview", "ky-callers"]).output.strip() == "1"
    bad = runner.invoke(args=["segment", "save", "x", "--zip", "123"])
    assert bad.exit_code == 1 and "5 digits" in bad.output
    assert runner.invoke(args=["segment", "preview", "nope"]).exit_code == 1


def test_a_call_in_the_call_log_counts_as_called(svc, crowd):
    from sms.calls.models import CallSession

    with svc.db.session() as session:
        callee = session.scalar(select(Subscriber.id).where(Subscriber.phone == "+16175550201"))
        session.add(CallSession(subscriber_id=callee, phone="+16175550201", direction="callin"))
        session.commit()
        assert audiences.count(session, {"called": True}) == 2
        assert audiences.has_called(session, callee)


@pytest.mark.parametrize(("filters", "urgent", "words"), [
    ({}, False, "Every opted-in subscriber (not LESS subscribers: they hear only urgent ones)"),
    ({"states": ["KY", "CA"], "demands": ["CHOKEHOLD"], "called": True}, False,
     "Opted-in subscribers in KY or CA who texted CHOKEHOLD and have called "
     "(not LESS subscribers: they hear only urgent ones)"),
    ({"districts": ["KY-3"], "zips": ["40202", "40203", "40204"], "called": False,
      "active_since": "2026-01-01T00:00:00+00:00"}, True,
     "Opted-in subscribers in district KY-3, in ZIP 40202, 40203 or 40204 who have never called and texted on or "
     "after 2026-01-01 (LESS subscribers too: it is urgent)"),
    ({"joined_after": "2026-01-01T12:30:00+00:00", "active_before": "2026-06-01T00:00:00+00:00"}, False,
     "Opted-in subscribers who joined on or after 2026-01-01T12:30:00+00:00 and last texted before 2026-06-01 "
     "(not LESS subscribers: they hear only urgent ones)"),
])
def test_in_words_reads_a_filter_as_a_sentence(filters, urgent, words):
    assert audiences.in_words(audiences.clean(filters), urgent) == words


def test_in_words_says_something_for_every_filter_key():
    every = {"demands": ["A"], "states": ["KY"], "districts": ["KY-3"], "zips": ["40202"], "called": True,
             "joined_after": "2026-01-01", "joined_before": "2026-02-01", "active_since": "2026-03-01",
             "active_before": "2026-04-01", "languages": ["es"]}
    assert set(every) == audiences.FILTER_KEYS
    words = audiences.in_words(audiences.clean(every))
    assert all(value in words for value in ("A", "KY", "KY-3", "40202", "called", "2026-01-01", "2026-02-01",
                                            "2026-03-01", "2026-04-01", "Español"))
