"""Split ZIPs settled by the texter's address through a fake Census geocoder served locally.

Match, no match, timeout, 500 and the circuit breaker; the address is sent once and kept
nowhere: not in any table (the inbound row is redacted), not in the logs.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import String, Text, select

from sms import features
from sms.calls import commands
from sms.messaging import subscribers
from sms.store import Message
from sms.targets import geocoder
from tests.support.calls import tune
from tests.targets.test_state_routing import _called, _set_targets

ADDRESS = "700 Capital Avenue Apt 9Q"


def census_answer(congress: str, upper: str, lower: str, state: str = "21",
                  county: tuple[str, str] = ("073", "Franklin"),
                  place: tuple[str, str, str] | None = ("28900", "Frankfort", "Frankfort city")) -> dict[str, Any]:
    """The shape of geographies/onelineaddress's JSON (trimmed to what matters; fields as the Census names
    them: ``Counties`` STATE/COUNTY/GEOID/BASENAME/NAME, ``Incorporated Places`` STATE/PLACE/GEOID/BASENAME/NAME,
    no places layer for an address outside any city)."""
    layers: dict[str, Any] = {
        "119th Congressional Districts": [{"STATE": state, "CD119": congress, "GEOID": state + congress,
                                           "BASENAME": str(int(congress))}],
        "2024 State Legislative Districts - Upper": [{"STATE": state, "SLDU": upper, "BASENAME": upper}],
        "2024 State Legislative Districts - Lower": [{"STATE": state, "SLDL": lower, "BASENAME": lower}],
        "County Subdivisions": [{"STATE": state, "COUNTY": county[0], "COUSUB": "90000", "GEOID": "2100000000",
                                 "NAME": "Some CCD"}],
        "Counties": [{"STATE": state, "COUNTY": county[0], "GEOID": state + county[0], "BASENAME": county[1],
                      "NAME": f"{county[1]} County", "LSADC": "06"}],
        "Census Designated Places": [{"STATE": state, "PLACE": "99999", "GEOID": state + "99999",
                                      "BASENAME": "Not A City", "NAME": "Not A City CDP"}]}
    if place is not None:
        layers["Incorporated Places"] = [{"STATE": state, "PLACE": place[0], "GEOID": state + place[0],
                                          "BASENAME": place[1], "NAME": place[2], "LSADC": "25"}]
    return {"result": {"input": {"address": {"address": "..."}}, "addressMatches": [{
        "matchedAddress": "700 CAPITAL AVE, FRANKFORT, KY, 40601", "coordinates": {"x": -84.87, "y": 38.18},
        "geographies": layers}]}}


class FakeCensus:
    """A local stand-in for the Census geocoder: answers with ``mode`` and records each query."""

    def __init__(self) -> None:
        self.mode = "match"
        self.answer = census_answer("06", "007", "057")
        self.queries: list[dict[str, list[str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                fake.queries.append({"path": [url.path], **parse_qs(url.query)})
                if fake.mode == "timeout":
                    time.sleep(1.5)  # past the 0.5 s deadline: the client has gone, nothing is sent
                    return
                if fake.mode == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                body = fake.answer if fake.mode == "match" else {"result": {"addressMatches": []}}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/geocoder"


@pytest.fixture
def census(states_db, redis) -> Iterator[FakeCensus]:  # noqa: ANN001
    fake = FakeCensus()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    redis.delete(geocoder.BREAKER_KEY)
    tune(states_db, geocoder_url=fake.url, geocoder_timeout=0.5, call_split_state_districts="address")
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    redis.delete(geocoder.BREAKER_KEY)


def stored_text(svc) -> str:  # noqa: ANN001
    """Every text column of every table, joined: where an address could have been kept."""
    out = []
    with svc.db.engine.connect() as conn:
        for table in features.load_models().metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text) or "JSON" in type(c.type).__name__]
            if columns:
                out += [str(v) for row in conn.execute(select(*columns)) for v in row if v is not None]
    return "\n".join(out)


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
