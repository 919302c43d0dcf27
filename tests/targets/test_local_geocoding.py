"""The county DA and the mayor found from the texter's address (a fake Census geocoder served locally).

No ZIP → county or city map is shipped: when a demand calls a mayor or a county's official and
the ZIP does not settle it, CALL asks the street address (the same step as split districts),
keeps only the county FIPS and place GEOID, and calls that county's DA or that city's mayor.
No match, a 500, a timeout, an open breaker or no geocoder: the texter is told and that call is
skipped, the others go on; nobody wrong is called. The address is kept nowhere.
"""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import select

from sms.calls import commands
from sms.messaging import subscribers
from sms.store import Message
from sms.targets import geocoder, local_officials, places, state_lookup, states, targeting
from sms.targets.models import CensusArea
from tests.support.calls import tune
from tests.support.geocoder import ADDRESS, census_answer, stored_text
from tests.targets.test_state_routing import _called, _set_targets

DAS = """set,name,title,phone,state,county_fips,city,zips
da,Jefferson Commonwealth's Attorney,Commonwealth's Attorney,502-595-2300,KY,21111,,
da,Fayette Commonwealth's Attorney,Commonwealth's Attorney,859-246-2060,KY,21067,,
"""
LOUISVILLE = ("48006", "Louisville/Jefferson County metro government (balance)",
              "Louisville/Jefferson County metro government (balance)")
JEFFERSON = ("111", "Jefferson")
DA_MISSING = "We couldn't find your county's Commonwealth's Attorney, so we'll skip that call."
MAYOR_MISSING = "We couldn't find your city's mayor, so we'll skip that call."


def _load(svc, text: str) -> None:  # noqa: ANN001
    with svc.db.session() as session:
        local_officials.load(session, local_officials.read(text))


def _louisville(census, place=LOUISVILLE) -> None:  # noqa: ANN001
    census.answer = census_answer("03", "035", "041", county=JEFFERSON, place=place)


# --- parsing the geocoder's layers ----------------------------------------------------------------------------


def test_the_county_and_place_are_read_from_their_layers_and_missing_ones_are_none() -> None:
    match = census_answer("03", "035", "041", county=JEFFERSON, place=LOUISVILLE)["result"]["addressMatches"][0]
    found = geocoder.parse_match(match)
    assert found.county == geocoder.Area("21111", "Jefferson") and found.county_fips == "21111"
    assert found.place == geocoder.Area("2148006", LOUISVILLE[1])
    outside = census_answer("03", "035", "041", county=JEFFERSON, place=None)["result"]["addressMatches"][0]
    assert geocoder.parse_match(outside).place is None  # Census Designated Places are not cities
    bare = {"geographies": {"Incorporated Places": [{"STATE": "31", "PLACE": "28000", "NAME": "Lincoln city"}],
                            "Counties": [{"GEOID": "31109", "NAME": "Lancaster County"}]}}
    assert geocoder.parse_match(bare) == geocoder.Districts("NE", None, None, None, geocoder.Area("31109", "Lancaster"),
                                                            geocoder.Area("3128000", "Lincoln"))
    odd = {"geographies": {"Counties": [{"GEOID": "2111", "STATE": "x"}], "Incorporated Places": "nothing"}}
    assert geocoder.parse_match(odd) == geocoder.Districts(None, None, None, None, None, None)
    assert geocoder.parse_match({"geographies": None}).county is None


@pytest.mark.parametrize(("official", "census_name", "same"), [
    ("Louisville", "Louisville/Jefferson County metro government (balance)", True),
    ("Nashville", "Nashville-Davidson metropolitan government (balance)", True),
    ("Lexington", "Lexington-Fayette urban county", True),
    ("Indianapolis", "Indianapolis city (balance)", True),
    ("Saint Louis", "St. Louis", True),
    ("O Fallon", "O'Fallon", True),
    ("Kansas City", "Kansas City", True),
    ("Kauai", "Kauaʻi", True),
    ("Winston-Salem", "Winston Salem", True),
    ("Kansas", "Kansas City", False),
    ("Winston", "Winston-Salem", False),
    ("Louisville", "Shively", False),
    ("Jefferson", "Louisville/Jefferson County metro government (balance)", False),
])
def test_city_names_match_the_census_names_of_the_same_city_only(official, census_name, same) -> None:  # noqa: ANN001
    assert places.same(official, census_name) is same


@pytest.mark.parametrize(("state", "zip_code", "county", "place", "mayor"), [
    ("KY", "40202", ("21111", "Jefferson"), ("2148006", LOUISVILLE[1]), ["Mayor Craig Greenberg"]),
    ("TX", "78701", ("48453", "Travis"), ("4805000", "Austin"), ["Mayor Kirk Watson"]),
    ("NE", "68508", ("31109", "Lancaster"), ("3128000", "Lincoln"), ["Mayor Leirion Gaylor Baird"]),
    ("MA", "02108", ("25025", "Suffolk"), ("2507000", "Boston"), ["Mayor Michelle Wu"]),
    ("MA", "01773", ("25017", "Middlesex"), ("2535950", "Lincoln"), []),  # Lincoln, MA: not Lincoln, NE's mayor
    ("KY", "40216", ("21111", "Jefferson"), ("2170284", "Shively"), []),  # a city inside Louisville's county
    ("KY", "40601", ("21073", "Franklin"), None, []),  # outside any city
])
def test_the_mayor_of_the_place_the_address_is_in(states_db, state, zip_code, county, place, mayor) -> None:  # noqa: ANN001
    with states_db.db.session() as session:
        places.remember(session, geocoder.Area(*county), geocoder.Area(*place) if place else None)
        where = targeting.Where(zip_code, state, [], None, None, county[0], place[0] if place else None)
        assert [t.label for t in targeting.for_demand(session, "mayor", (), where)] == mayor
        gaps = targeting.gaps(session, "mayor", (), where)
        assert gaps == ([] if mayor else [(MAYOR_MISSING, {})])


@pytest.mark.parametrize(("state", "county", "place", "mayor"), [
    ("TN", ("47037", "Davidson"), ("4752006", "Nashville-Davidson metropolitan government (balance)"),
     ["Mayor Freddie O'Connell"]),
    ("IN", ("18097", "Marion"), ("1836003", "Indianapolis city (balance)"), ["Mayor Joe Hogsett"]),
    ("MO", ("29510", "St. Louis"), ("2965000", "St. Louis"), ["Mayor Cara Spencer"]),  # Open States: Saint Louis
    ("MO", ("29095", "Jackson"), ("2938000", "Kansas City"), ["Mayor Quinton Lucas"]),
    ("MO", ("29189", "St. Louis"), None, []),  # unincorporated St. Louis County: not the city's mayor
    ("HI", ("15003", "Honolulu"), None, ["Mayor Rick Blangiardi"]),  # no incorporated places: the county's mayor
    ("HI", ("15007", "Kauaʻi"), None, ["Mayor Derek S.K. Kawakami"]),
    ("KY", ("21111", "Jefferson"), ("2148006", LOUISVILLE[1]), ["Mayor Craig Greenberg"]),
])
def test_real_cities_of_the_shipped_mayors(states_db, state, county, place, mayor) -> None:  # noqa: ANN001
    rows = [(where, row) for where, row in states.read_officials(states.OFFICIALS_CSV, date(2026, 8, 5))
            if row["role"] == "mayor" and row["state"] in ("TN", "IN", "MO", "HI", "KY")]
    with states_db.db.session() as session:
        states.import_officials(session, rows, force=True)
        state_lookup.forget_directory()
        places.remember(session, geocoder.Area(*county), geocoder.Area(*place) if place else None)
        where = targeting.Where("00000", state, [], None, None, county[0], place[0] if place else None)
        assert [t.label for t in targeting.mayors(session, where)] == mayor
    state_lookup.forget_directory()


# --- the address step for local officials ---------------------------------------------------------------------


def test_the_county_da_from_an_uploaded_csv_through_the_address_step(states_db, census, phone, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.DEBUG)
    _load(states_db, DAS)
    _set_targets(states_db, "NOKNOCK", "custom:da, governor")
    _louisville(census)
    phone.text("ZIP 40202")
    assert phone.text("CALL NOKNOCK") == [commands.ASK_ADDRESS]
    replies = phone.text(ADDRESS)
    assert replies[0] == "Calling you now to connect you with Jefferson Commonwealth's Attorney, Gov. Andy Beshear."
    assert census.queries[0]["address"] == [f"{ADDRESS}, 40202"]
    assert _called(states_db) == ["Jefferson Commonwealth's Attorney", "Gov. Andy Beshear"]
    with states_db.db.session() as session:
        sub = subscribers.find(session, phone.number)
        assert (sub.county_fips, sub.place_geoid) == ("21111", "2148006")
        inbound = session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id.desc())).first()
        assert inbound.body == commands.ADDRESS_KEPT_AS
        assert session.get(CensusArea, "21111").name == "Jefferson"
    assert "Capital Avenue" not in stored_text(states_db) and "9Q" not in stored_text(states_db)
    assert "Capital" not in caplog.text and "9Q" not in caplog.text
    assert phone.text("CALL NOKNOCK")[0] != commands.ASK_ADDRESS  # the county is kept: no second question
    assert len(census.queries) == 1


def test_the_mayor_through_the_address_step_and_a_new_zip_forgets_the_place(states_db, census, phone) -> None:  # noqa: ANN001
    _set_targets(states_db, "CHOKEHOLD", "mayor")
    _louisville(census)
    phone.text("ZIP 40202")
    assert phone.text("CALL CHOKEHOLD") == [commands.ASK_ADDRESS]
    assert phone.text(ADDRESS)[0] == "Calling you now to connect you with Mayor Craig Greenberg."
    phone.text("ZIP 78701")
    with states_db.db.session() as session:
        sub = subscribers.find(session, phone.number)
        assert (sub.county_fips, sub.place_geoid) == (None, None)
    assert phone.text("CALL CHOKEHOLD") == [commands.ASK_ADDRESS]  # Austin's mayor needs Austin's address


def test_a_place_without_a_mayor_in_the_data_calls_no_mayor(states_db, census, phone) -> None:  # noqa: ANN001
    _set_targets(states_db, "CHOKEHOLD", "mayor, governor")
    _louisville(census, place=("70284", "Shively", "Shively city"))
    phone.text("ZIP 40202")
    phone.text("CALL CHOKEHOLD")
    replies = phone.text(ADDRESS)
    assert replies[:2] == [MAYOR_MISSING, "Calling you now to connect you with Gov. Andy Beshear."]
    assert _called(states_db) == ["Gov. Andy Beshear"]


@pytest.mark.parametrize(("mode", "sorry"), [
    ("none", "We couldn't find that address."),
    ("timeout", "We couldn't look up addresses just now."),
    ("500", "We couldn't look up addresses just now."),
])
def test_no_match_a_timeout_or_a_500_skip_the_da_and_call_the_others(states_db, census, phone, mode, sorry) -> None:  # noqa: ANN001
    _load(states_db, DAS)
    _set_targets(states_db, "NOKNOCK", "custom:da, governor")
    census.mode = mode
    phone.text("ZIP 40202")
    assert phone.text("CALL NOKNOCK") == [commands.ASK_ADDRESS]
    replies = phone.text(ADDRESS)
    assert replies[:3] == [sorry, DA_MISSING, "Calling you now to connect you with Gov. Andy Beshear."]
    assert _called(states_db) == ["Gov. Andy Beshear"]
    with states_db.db.session() as session:
        assert subscribers.find(session, phone.number).county_fips is None
    assert "Capital Avenue" not in stored_text(states_db)


@pytest.mark.parametrize("why", ["breaker open", "geocoder off"])
def test_an_open_breaker_or_no_geocoder_skips_the_da_without_asking(states_db, census, phone, redis, why) -> None:  # noqa: ANN001
    _load(states_db, DAS)
    _set_targets(states_db, "NOKNOCK", "custom:da, governor")
    if why == "breaker open":
        redis.set(geocoder.BREAKER_KEY, 3)
    else:
        tune(states_db, geocoder_url="")
    phone.text("ZIP 40202")
    replies = phone.text("CALL NOKNOCK")
    assert replies[:2] == [DA_MISSING, "Calling you now to connect you with Gov. Andy Beshear."]
    assert _called(states_db) == ["Gov. Andy Beshear"]
    assert census.queries == []


def test_a_mayor_only_demand_without_the_address_calls_nobody_and_says_why(states_db, census, phone) -> None:  # noqa: ANN001
    tune(states_db, geocoder_url="")
    _set_targets(states_db, "CHOKEHOLD", "mayor")
    phone.text("ZIP 40202")
    replies = phone.text("CALL CHOKEHOLD")
    assert replies[0] == MAYOR_MISSING and replies[1].startswith("Sorry, there's no office for you to call")


def test_an_uploaded_zip_list_still_settles_it_without_the_address(states_db, census, phone) -> None:  # noqa: ANN001
    _load(states_db, DAS.replace("KY,21111,,", "KY,21111,,40202 40203"))
    _set_targets(states_db, "NOKNOCK", "custom:da, governor")
    phone.text("ZIP 40202")
    assert phone.text("CALL NOKNOCK")[0] == ("Calling you now to connect you with Jefferson Commonwealth's "
                                             "Attorney, Gov. Andy Beshear.")
    assert census.queries == []
    with states_db.db.session() as session:  # once an address gave the county, the county decides
        places.remember(session, geocoder.Area("21067", "Fayette"))
        where = targeting.Where("40202", "KY", [], None, None, "21067", None)
        assert [t.name for t in targeting.custom(session, "da", where)] == ["Fayette Commonwealth's Attorney"]


def test_delete_erases_the_county_and_place(states_db, census, phone) -> None:  # noqa: ANN001
    _set_targets(states_db, "CHOKEHOLD", "mayor")
    _louisville(census)
    phone.text("ZIP 40202")
    phone.text("CALL CHOKEHOLD")
    phone.text(ADDRESS)
    with states_db.db.session() as session:
        sub = subscribers.find(session, phone.number)
        subscribers.erase(session, sub)
        session.commit()
        assert (sub.county_fips, sub.place_geoid) == (None, None)


# --- the console ----------------------------------------------------------------------------------------------


def test_who_would_this_zip_call_says_when_the_answer_depends_on_the_address(states_db, census, console) -> None:  # noqa: ANN001
    _load(states_db, DAS)
    _set_targets(states_db, "NOKNOCK", "custom:da, governor")
    page = console.get("/console/targets?zip=40202&demand=NOKNOCK").get_data(as_text=True)
    assert "the da set: depends on the texter&#39;s street address: CALL asks it" in page
    every = console.get("/console/targets?zip=40202").get_data(as_text=True)
    assert ('Mayor (when the texter&#39;s city has one)</td><td data-label="Offices"><span class="meta by-address">'
            "(depends on the texter&#39;s street address") in every
    tune(states_db, geocoder_url="")
    off = console.get("/console/targets?zip=40202&demand=NOKNOCK").get_data(as_text=True)
    assert "the geocoder is off (GEOCODER_URL): skipped" in off


def test_a_spanish_texter_is_told_in_spanish(states_db, census, phone) -> None:  # noqa: ANN001
    tune(states_db, geocoder_url="")
    _load(states_db, DAS)
    _set_targets(states_db, "NOKNOCK", "custom:da, mayor, governor")
    phone.text("ESPAÑOL")
    phone.text("CP 40202")
    replies = phone.text("LLAMAR NOKNOCK")
    assert replies[:2] == [
        "No encontramos a Commonwealth's Attorney de tu condado, así que omitiremos esa llamada.",
        "No encontramos a la alcaldía de tu ciudad, así que omitiremos esa llamada."]
    assert _called(states_db) == ["Gov. Andy Beshear"]
