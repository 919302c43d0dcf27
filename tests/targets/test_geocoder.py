"""Split ZIPs settled by the texter's address through a fake Census geocoder served locally.

Match, no match, timeout, 500 and the circuit breaker; the address is sent once and kept
nowhere: not in any table (the inbound row is redacted), not in the logs.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from sms.calls import commands
from sms.messaging import subscribers
from sms.store import Message
from sms.targets import geocoder
from tests.support.calls import tune
from tests.support.geocoder import ADDRESS, census_answer, stored_text
from tests.targets.test_state_routing import _called, _set_targets


def test_the_address_finds_the_district_and_is_kept_nowhere(states_db, census, phone, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.DEBUG)
    _set_targets(states_db, "CHOKEHOLD", "state-upper")
    phone.text("ZIP 40601")
    assert phone.text("CALL CHOKEHOLD") == [commands.ASK_ADDRESS]
    assert commands.ASK_ADDRESS.startswith("What's your street address? We use it once to find your district "
                                           "and don't keep it.")
    replies = phone.text(ADDRESS)
    assert replies[0] == "Calling you now to connect you with State Sen. Aaron Reed."
    assert census.queries[0]["path"] == ["/geocoder/geographies/onelineaddress"]
    assert census.queries[0]["address"] == [f"{ADDRESS}, 40601"]
    assert census.queries[0]["benchmark"] == ["Public_AR_Current"] and census.queries[0]["format"] == ["json"]
    with states_db.db.session() as session:
        sub = subscribers.find(session, phone.number)
        assert sub.state_upper == "7"
        inbound = session.scalars(select(Message).where(Message.direction == "in")
                                  .order_by(Message.id.desc())).first()
        assert inbound.body == commands.ADDRESS_KEPT_AS
    assert "Capital Avenue" not in stored_text(states_db)
    assert "Capital" not in caplog.text and "9Q" not in caplog.text
    assert _called(states_db) == ["State Sen. Aaron Reed"]
    # the district is kept: the next call asks nothing
    assert phone.text("CALL CHOKEHOLD")[0] != commands.ASK_ADDRESS


@pytest.mark.parametrize(("mode", "sorry"), [
    ("none", "We couldn't find that address."),
    ("timeout", "We couldn't look up addresses just now."),
    ("500", "We couldn't look up addresses just now."),
])
def test_no_match_a_timeout_or_a_500_fall_back_to_asking_the_name(states_db, census, phone, mode, sorry) -> None:  # noqa: ANN001
    census.mode = mode
    _set_targets(states_db, "CHOKEHOLD", "state-upper")
    phone.text("ZIP 40601")
    phone.text("CALL CHOKEHOLD")
    replies = phone.text(ADDRESS)
    assert replies[0] == sorry
    assert replies[1].startswith("ZIP 40601 spans 3 state senate districts. Who is your state senator? Reply 1 "
                                 "Aaron Reed")
    assert phone.text("1")[0] == "Calling you now to connect you with State Sen. Aaron Reed."
    assert "Capital Avenue" not in stored_text(states_db)


def test_the_breaker_stops_asking_a_failing_geocoder(states_db, census, phone, redis) -> None:  # noqa: ANN001
    census.mode = "500"
    geo = geocoder.Geocoder(census.url, 0.5, redis)
    for _ in range(3):
        with pytest.raises(geocoder.Unavailable):
            geo.districts(ADDRESS)
    assert geo.open and len(census.queries) == 3
    with pytest.raises(geocoder.Unavailable, match="not asked"):
        geo.districts(ADDRESS)
    assert len(census.queries) == 3
    _set_targets(states_db, "CHOKEHOLD", "state-upper")
    phone.text("ZIP 40601")
    assert phone.text("CALL CHOKEHOLD")[0].startswith("ZIP 40601 spans 3 state senate districts.")  # no address
    redis.delete(geocoder.BREAKER_KEY)
    census.mode = "match"
    assert geo.districts(ADDRESS) == geocoder.Districts("KY", 6, "007", "057", geocoder.Area("21073", "Franklin"),
                                                        geocoder.Area("2128900", "Frankfort"))


def test_congressional_splits_can_be_settled_by_address(states_db, census, phone) -> None:  # noqa: ANN001
    tune(states_db, call_split_districts="address")
    census.answer = census_answer("12", "027", "075", state="36")
    phone.text("ZIP 10001")
    assert phone.text("CALL CHOKEHOLD") == [commands.ASK_ADDRESS]
    assert phone.text("350 5th Ave")[0].startswith("Calling you now to connect you with Rep. Jerrold Nadler, Sen.")
    with states_db.db.session() as session:
        assert subscribers.find(session, phone.number).district == 12


def test_skip_asks_the_name_and_an_off_geocoder_never_asks_the_address(states_db, census, phone) -> None:  # noqa: ANN001
    _set_targets(states_db, "CHOKEHOLD", "state-upper")
    phone.text("ZIP 40601")
    phone.text("CALL CHOKEHOLD")
    assert phone.text("SKIP")[0].startswith("ZIP 40601 spans 3 state senate districts.")
    tune(states_db, geocoder_url="")
    assert phone.text("CALL CHOKEHOLD")[0].startswith("ZIP 40601 spans 3 state senate districts.")
    assert census.queries == []
