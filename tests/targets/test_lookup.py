"""ZIP → targets lookups: district names, territories, islands, unknown ZIPs, time zones."""

from __future__ import annotations

import pytest

from sms.targets import lookup


@pytest.mark.parametrize(("text", "seat"), [
    ("MA-7", ("MA", 7)), ("ma 7", ("MA", 7)), ("NY12", ("NY", 12)), ("AK-AL", ("AK", 0)), ("DC", ("DC", 0)),
    ("AK at large", ("AK", 0)), ("7", None), ("Massachusetts", None), ("", None),
])
def test_parse_district(text: str, seat: tuple[str, int] | None) -> None:
    assert lookup.parse_district(text) == seat


def test_lookups_cover_territories_islands_and_unknown_zips(targets_db) -> None:  # noqa: ANN001
    with targets_db.db.session() as session:
        assert lookup.place_of(session, "96910").districts == (("GU", 0),)
        assert lookup.place_of(session, "96950").districts == (("MP", 0),)
        assert lookup.place_of(session, "96799").districts == (("AS", 0),)
        assert lookup.place_of(session, "00802").districts == (("VI", 0),)
        assert lookup.place_of(session, "20500") is None  # PO-box / White House: no ZCTA
        assert lookup.place_of(session, "1234") is None
        assert [t.label for t in lookup.house_members(session, [("PR", 0)])][0].startswith("Res. Comm.")
        assert lookup.house_members(session, [("GU", 0)])[0].title == "Del."
        assert lookup.senators(session, "DC") == []
        assert len(lookup.senators(session, "MA")) == 2
        assert lookup.place_of(session, "30165").states == ("AL", "GA")
    assert lookup.timezone_of("CA") == "America/Los_Angeles"
    assert lookup.timezone_of("PR") == "America/Puerto_Rico"
