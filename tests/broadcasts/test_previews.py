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
