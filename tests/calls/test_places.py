"""Calls that respect the place: DC and the territories."""

from __future__ import annotations

import pytest

from sms.calls import sessions
from tests.support.calls import tune

GUAM_PHONE = "+16714770123"


@pytest.mark.parametrize(("number", "allowed"), [
    ("+16714770123", True), ("+17877210000", True), ("+19397210000", True), ("+13407740000", True),
    ("+16846330000", True), ("+16702340000", True), ("+12025550100", True),
    ("+18095550000", False), ("+18769271234", False),  # the Dominican Republic and Jamaica share +1
])
def test_territory_numbers_are_us_numbers_for_call_backs(svc, number, allowed) -> None:  # noqa: ANN001
    assert sessions.country_allowed(svc.settings, number) is allowed


def test_listing_a_territory_alone_allows_only_it(svc) -> None:  # noqa: ANN001
    tune(svc, call_allowed_countries=("GU",))
    assert sessions.country_allowed(svc.settings, GUAM_PHONE)
    assert not sessions.country_allowed(svc.settings, "+17877210000")
