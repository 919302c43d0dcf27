"""A local stand-in for the US Census Bureau's geocoder, and where an address could have been kept.

``census`` serves ``geographies/onelineaddress`` on 127.0.0.1 (match, none, timeout, 500) and
points GEOCODER_URL at it; ``stored_text`` joins every text column of every table, to check an
address is kept nowhere.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import String, Text, select

from sms import features
from sms.targets import geocoder
from tests.support.calls import tune

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
