"""Previews that tell the truth (``sms.broadcasts.compose``): a real recipient's text, fallbacks, GSM-7, send times."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sms.broadcasts import compose, lifecycle, merge_fields
from sms.errors import BroadcastError
from tests.support.broadcasts import add_people, new_broadcast

CHICAGO = ZoneInfo("America/Chicago")


def test_fallbacks_used_names_each_empty_field_once():
    body = "Hi {first_name}, call {rep} about {zip}. Bye {first_name}"
    assert merge_fields.fallbacks_used(body, {"first_name": "", "rep": "Rep. Smith", "zip": None}) == {
        "first_name": "friend", "zip": "your ZIP"}
    assert merge_fields.fallbacks_used("No fields", {}) == {}


def test_sample_message_is_the_first_real_recipients_text_with_its_fallbacks(svc, monkeypatch):
    monkeypatch.setattr(merge_fields, "REP_LOOKUPS", [lambda s, st, d: f"Rep. Smith ({st}-{d})" if st else None])
    add_people(svc, 1, 0, state="CA", first_name="Zed")
    add_people(svc, 1, 100, state="KY", district=3)
    with svc.db.session() as session:
        body = "Hi {first_name}, call {rep} from {zip}."
        sample = compose.sample_message(session, body, {"states": ["KY"]})
        assert sample == {"text": "Hi friend, call Rep. Smith (KY-3) from your ZIP.", "who": "+1617***0100",
                          "fallbacks": [{"field": "first_name", "fallback": "friend"},
                                        {"field": "zip", "fallback": "your ZIP"}]}
        nobody = compose.sample_message(session, body, {"states": ["NY"]})
    assert nobody == {"text": merge_fields.render(body, merge_fields.SAMPLE), "who": None, "fallbacks": []}


def test_encoding_help_names_the_characters_and_offers_gsm7():
    assert compose.encoding_help("Vote ✊ today, {first_name}") == {
        "ucs2_characters": ["✊ (U+270A)"], "gsm_alternative": "Vote today, {first_name}",
        "gsm_alternative_segments": 1}
    assert compose.encoding_help("Plain")["gsm_alternative"] is None


@pytest.mark.parametrize(("value", "expected"), [
    ("2027-01-14T10:00", datetime(2027, 1, 14, 16, 0, tzinfo=UTC)),  # a datetime-local picker, read in Chicago
    ("2027-07-14T10:00", datetime(2027, 7, 14, 15, 0, tzinfo=UTC)),  # daylight saving time
    ("2027-01-14T10:00:00Z", datetime(2027, 1, 14, 10, 0, tzinfo=UTC)),  # an offset is kept
    ("2027-01-14T10:00-05:00", datetime(2027, 1, 14, 15, 0, tzinfo=UTC)),
    ("", None),
])
def test_send_time_reads_a_picker_in_the_organizers_zone(value, expected):
    assert compose.send_time(value, CHICAGO) == expected


def test_send_time_refuses_what_is_not_a_time():
    with pytest.raises(BroadcastError, match="like 2026-12-01T10:00"):
        compose.send_time("next tuesday", CHICAGO)


def test_a_draft_can_switch_to_its_gsm7_text_until_it_is_sent(svc):
    add_people(svc, 1)
    broadcast_id = new_broadcast(svc, "Vote ✊ today")
    assert lifecycle.use_gsm7(svc, broadcast_id) == "its text is now GSM-7"
    with svc.db.session() as session:
        assert lifecycle.get(session, broadcast_id).body == "Vote today"
    lifecycle.send(svc, broadcast_id)
    with pytest.raises(BroadcastError, match="can no longer change"):
        lifecycle.use_gsm7(svc, broadcast_id)


def test_preview_counts_leave_out_people_at_a_frequency_cap(svc, runner):
    from tests.support.broadcasts import configure

    add_people(svc, 3)
    configure(svc, broadcast_cap_day=1, broadcast_cap_week=0, price_per_segment=0.01)
    first = new_broadcast(svc)
    lifecycle.start(svc, first)
    add_people(svc, 2, 100)  # not texted today: not capped
    second = new_broadcast(svc, "Another one")
    with svc.db.session() as session:
        preview = lifecycle.preview(session, svc.settings, lifecycle.get(session, second))
        draft = compose.draft_preview(session, svc.settings, "Another one", {})
    assert (preview.recipients, preview.audience, preview.capped) == (2, 5, 3)
    assert preview.total_segments == 2 and preview.estimated_cost == 0.02  # the capped cost nothing
    assert (draft["recipients"], draft["audience_size"], draft["capped"]) == (2, 5, 3)
    assert draft["left_out"] == "3 of the audience would be left out by the frequency cap (BROADCAST_CAP_DAY=1)"
    shown = runner.invoke(args=["broadcast", "preview", str(second)]).output
    assert "Recipients: 2\n" in shown and "Left out by the frequency cap: 3 of the 5 in the audience" in shown
    configure(svc, broadcast_cap_day=0)
    with svc.db.session() as session:
        uncapped = lifecycle.preview(session, svc.settings, lifecycle.get(session, second))
    assert (uncapped.recipients, uncapped.capped) == (5, 0)


def test_the_broadcast_page_says_how_many_the_cap_leaves_out(console, svc):
    from tests.support.broadcasts import configure

    add_people(svc, 2)
    configure(svc, broadcast_cap_day=1, broadcast_cap_week=0)
    lifecycle.start(svc, new_broadcast(svc))
    second = new_broadcast(svc, "Another one")
    page = console.get(f"/console/broadcasts/{second}").get_data(as_text=True)
    assert 'id="recipients">0 <span class="meta" id="recipients-capped">(of 2 in the audience: 2 left out' in page
