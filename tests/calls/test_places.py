"""Calls that respect the place: a local set's constituents, DC and the territories (no senators)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms.calls import sessions
from sms.calls.models import CallSession
from sms.targets.lookup import Target
from sms.targets.models import CustomTargetSet
from tests.conftest import Phone
from tests.support.calls import NADLER, Caller, dialed, spoken, tune

pytestmark = pytest.mark.usefixtures("targets_db")
COUNCIL = "+15025741100"
NORTON = "+12022258050"
MOYLAN = "+12022251188"
GUAM_PHONE = "+16714770123"
OUTSIDER = "The Louisville Metro Council takes calls from Louisville residents"


def call_sessions(svc) -> list[CallSession]:  # noqa: ANN001
    with svc.db.session() as session:
        return list(session.scalars(select(CallSession).order_by(CallSession.id)))


def offer_congress_to_outsiders(svc, keyword: str = "CHOKEHOLD") -> None:  # noqa: ANN001
    with svc.db.session() as session:
        session.get(CustomTargetSet, "louisville_council").others = keyword
        session.commit()


def test_a_local_set_asks_where_the_texter_lives_then_calls_for_a_resident(phone, svc) -> None:  # noqa: ANN001
    assert phone.text("CALL NOKNOCK")[0].startswith(f"What's your ZIP code? {OUTSIDER}. Reply with 5 digits.")
    assert phone.text("40202")[0] == "Calling you now to connect you with Louisville Metro Council."
    assert [t["phone"] for t in call_sessions(svc)[0].targets] == [COUNCIL]


def test_others_are_told_why_and_offered_nothing_when_the_set_names_no_congress_call(phone, svc) -> None:  # noqa: ANN001
    phone.text("ZIP 10001")
    assert phone.text("CALL NOKNOCK") == [f"{OUTSIDER}, so there's no office for you to call about NOKNOCK. "
                                          "Reply MENU for other ways to act."]
    assert not phone.text("YES")[0].startswith("Calling")  # nothing was offered, so YES starts nothing
    assert call_sessions(svc) == []


def test_others_are_offered_their_own_members_of_congress(phone, svc) -> None:  # noqa: ANN001
    offer_congress_to_outsiders(svc)
    phone.text("ZIP 10001")
    phone.text("DISTRICT NY-12")
    assert phone.text("CALL NOKNOCK") == [f"{OUTSIDER}. Reply YES to call your members of Congress about "
                                          "CHOKEHOLD instead."]
    assert phone.text("YES")[0].startswith("Calling you now to connect you with Rep. Jerrold Nadler, Sen. ")
    (call,) = call_sessions(svc)
    assert call.demand == "CHOKEHOLD" and call.targets[0]["phone"] == NADLER
    assert COUNCIL not in [t["phone"] for t in call.targets]


def test_a_call_in_from_outside_louisville_is_connected_to_congress_instead(client, svc) -> None:  # noqa: ANN001
    offer_congress_to_outsiders(svc)
    tune(svc, call_featured_demand="NOKNOCK")
    caller = Caller(client, "+16175550142", "CA" + "3" * 32)
    caller.post("/voice")
    caller.post("/voice/zip", Digits="10001")
    root = caller.post("/voice/district", Digits="2")
    assert f"{OUTSIDER}, so we'll connect you with your members of Congress instead." in spoken(root)
    assert "Press 1 now to be connected to Rep. Jerrold Nadler, Sen. " in spoken(root)
    assert dialed(caller.post("/voice/connect", Digits="1")) == [NADLER]


@pytest.mark.parametrize(("number", "zip_code", "told"), [
    ("+12025550123", "20001", "DC has no senators. Reply YES to call your Delegate, Eleanor Holmes Norton, about "
                              "INSURRECTION instead."),
    (GUAM_PHONE, "96910", "Guam has no senators. Reply YES to call your Delegate, James C. Moylan, about "
                          "INSURRECTION instead."),
])
def test_a_senate_only_demand_offers_dc_and_territories_their_delegate(client, svc, number, zip_code, told,
                                                                       run_jobs, transport) -> None:  # noqa: ANN001
    texter = Phone(client, number)
    texter.text(f"ZIP {zip_code}")
    assert texter.text("CALL INSURRECTION") == [told]
    assert call_sessions(svc) == []
    reply = texter.text("YES")[0]
    assert reply.startswith("Calling you now to connect you with Del. ")
    (call,) = call_sessions(svc)
    assert [t["phone"] for t in call.targets] == [NORTON if zip_code == "20001" else MOYLAN]
    run_jobs()
    assert [c["to"] for c in transport.calls] == [number]  # a territory's number is called back


def test_the_delegate_stands_in_for_senators_everywhere_a_plan_is_made(svc) -> None:  # noqa: ANN001
    from sms.messaging import catalogue

    with svc.db.session() as session:
        insurrection = catalogue.current(session).demand("INSURRECTION")
        plan = sessions.plan(session, svc.settings, insurrection, "PR", [("PR", 0)])
        assert plan.no_senators == "Puerto Rico"
        assert [Target.of(t.to_dict()).title for t in plan.targets] == ["Res. Comm."]
        in_maine = sessions.plan(session, svc.settings, insurrection, "ME", [("ME", 1)])
        assert not in_maine.no_senators and {t.kind for t in in_maine.targets} == {"senate"}


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


def test_booking_a_time_with_a_local_set_checks_where_the_texter_lives(phone, svc) -> None:  # noqa: ANN001
    from sms.calls.models import ScheduledCall

    phone.text("NOKNOCK")
    assert phone.text("CALL 9AM") == [f"{OUTSIDER}. Text ZIP and your 5-digit ZIP code first, then CALL 9AM again."]
    phone.text("ZIP 10001")
    assert phone.text("CALL 9AM")[0].startswith(f"{OUTSIDER}, so there's no office for you to call about NOKNOCK.")
    phone.text("ZIP 40202")
    assert phone.text("CALL 9AM")[0].startswith("OK: we'll call you about NOKNOCK at ")
    with svc.db.session() as session:
        assert len(session.scalars(select(ScheduledCall)).all()) == 1
