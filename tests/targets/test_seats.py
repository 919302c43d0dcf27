"""The seats of Congress: the 2020 apportionment, and a members file counted against it."""

from __future__ import annotations

from sms.targets import importer, lookup, seats
from tests.targets.congress_future import member_rows


def test_the_apportionment_is_the_shipped_maps_and_the_shipped_members_count_right() -> None:
    districts: dict[str, set[int]] = {}
    for _, row in importer.read_rows(importer.ZIPS_CSV, importer.ZIP_COLUMNS):
        districts.setdefault(row["state_abbr"], set()).add(int(row["cd"]))
    assert {s: max(d) or 1 for s, d in districts.items() if s not in lookup.TERRITORIES} == seats.APPORTIONMENT
    assert (seats.HOUSE_SEATS, seats.SENATE_SEATS) == (435, 100)
    summary = importer.Summary()
    records = importer.collect(member_rows(), importer.legislator_record, lambda r: r["bioguide"], "", False, summary)
    found = seats.census(records.values())
    assert found.wrong == [] and found.vacant_house == ["CA-14", "FL-20", "GA-13", "TX-23"]
    assert str(found) == ("100 of 100 senators, 431 of 435 House seats filled (4 vacant: CA-14, FL-20, GA-13, "
                          "TX-23), 6 of 6 delegates")


def test_what_cannot_be_is_named() -> None:
    base = {"title": "Rep.", "name": "A B", "chamber": "house", "district": 0}
    found = seats.census([{**base, "bioguide": "Z000001", "state": "MT"},
                          {**base, "bioguide": "Z000002", "state": "VT"},
                          {**base, "bioguide": "Z000003", "state": "VT"},
                          {**base, "bioguide": "Z000004", "state": "XX", "chamber": "senate", "title": "Sen."}])
    assert found.wrong == [
        "Rep. A B (Z000001) holds MT-AL, which is no seat (MT has 2 districts)",
        "Sen. A B (Z000004) is a senator for XX, which has no senators",
        "2 members for VT-AL: Rep. A B (Z000002), Rep. A B (Z000003)",
    ]
    assert seats.is_seat("DC", 0) and not seats.is_seat("DC", 1) and seats.is_seat("NY", 26)
    assert not seats.is_seat("NY", 27) and seats.house_seats()[:2] == [("AK", 0), ("AL", 1)]
