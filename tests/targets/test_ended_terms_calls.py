"""Who a texter is connected to once a member's term has ended: CALL_ENDED_TERMS=dial (default) or skip.

Through signed webhooks: the texter sends ZIP and CALL, the worker places the call-back, and
the voice steps dial each office in turn.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from sms.errors import ConfigError
from sms.settings import Settings
from tests.conftest import Phone
from tests.support.calls import answer_call_back, dial_every_office, tune
from tests.targets.congress_future import (
    BEATTY,
    HUSTED_PHONE,
    JAN_3_AFTER_NOON,
    JAN_3_BEFORE_NOON,
    MARKEY,
    MCGOVERN,
    MORENO,
    TODAY,
    WARREN,
    freeze,
    load,
    member_rows,
    refreshed,
    special_elections_seated,
)

OHIO = "Calling you now to connect you with Rep. Joyce Beatty, Sen. Jon Husted, Sen. Bernie Moreno."
MASSACHUSETTS = "Rep. James P. McGovern, Sen. Edward J. Markey, Sen. Elizabeth Warren"


@pytest.fixture
def congress(svc, monkeypatch):  # noqa: ANN001, ANN201
    freeze(monkeypatch, TODAY)
    load(svc)
    return svc


def call(phone: Phone, zip_code: str, run_jobs, transport) -> tuple[str, list[str]]:  # noqa: ANN001
    """Text ZIP and CALL, answer the call-back, press 1 and let every office answer: (reply, numbers dialed)."""
    phone.text(f"ZIP {zip_code}")
    reply = phone.text("CALL CHOKEHOLD")[0]
    run_jobs()
    return reply, dial_every_office(*answer_call_back(phone.client, phone.number, transport))


def test_by_default_an_ohio_texter_is_still_connected_to_the_ended_senators_office(
        congress, phone, run_jobs, transport) -> None:  # noqa: ANN001
    reply, numbers = call(phone, "43004", run_jobs, transport)
    assert reply == OHIO
    assert numbers == [BEATTY, HUSTED_PHONE, MORENO]


def test_with_skip_the_ended_senator_is_left_out_and_the_texter_is_told(
        congress, phone, run_jobs, transport) -> None:  # noqa: ANN001
    tune(congress, call_ended_terms="skip")
    reply, numbers = call(phone, "43004", run_jobs, transport)
    assert reply == ("Calling you now to connect you with Rep. Joyce Beatty, Sen. Bernie Moreno. "
                     "(Sen. Jon Husted's term ended Nov 3, 2026.)")
    assert numbers == [BEATTY, MORENO]


def test_after_a_refresh_seats_the_winner_skip_calls_them_again(congress, phone, run_jobs, transport) -> None:  # noqa: ANN001
    tune(congress, call_ended_terms="skip")
    load(congress, special_elections_seated(member_rows()), refreshed("a refresh", date(2026, 11, 20)))
    reply, numbers = call(phone, "43004", run_jobs, transport)
    assert reply == OHIO and numbers == [BEATTY, HUSTED_PHONE, MORENO]
    florida = Phone(phone.client, "+16175550124")
    reply, _ = call(florida, "32501", run_jobs, transport)
    assert reply == "Calling you now to connect you with Rep. Jimmy Patronis, Sen. Rick Scott, Sen. Pat Successor."


@pytest.mark.parametrize(("moment", "policy", "reply", "numbers"), [
    (JAN_3_BEFORE_NOON, "skip", f"Calling you now to connect you with {MASSACHUSETTS}.", [MCGOVERN, MARKEY, WARREN]),
    (JAN_3_AFTER_NOON, "dial", f"Calling you now to connect you with {MASSACHUSETTS}.", [MCGOVERN, MARKEY, WARREN]),
    (JAN_3_AFTER_NOON, "skip", "Calling you now to connect you with Sen. Elizabeth Warren. (Rep. James P. "
     "McGovern's term ended Jan 3, 2027; Sen. Edward J. Markey's term ended Jan 3, 2027.)", [WARREN]),
])
def test_on_january_3_at_noon_the_119th_congress_terms_end(congress, phone, run_jobs, transport, monkeypatch,
                                                           moment: datetime, policy: str, reply: str,
                                                           numbers: list[str]) -> None:  # noqa: ANN001
    freeze(monkeypatch, moment)
    tune(congress, call_ended_terms=policy)
    assert call(phone, "01060", run_jobs, transport) == (reply, numbers)


def test_skip_names_each_ended_term_in_calling_order(
        congress, phone, monkeypatch) -> None:  # noqa: ANN001
    freeze(monkeypatch, JAN_3_AFTER_NOON)
    tune(congress, call_ended_terms="skip")
    phone.text("ZIP 43004")  # OH-3 ends 2027-01-03; Husted ended 2026-11-03; Moreno runs to 2031
    assert phone.text("CALL CHOKEHOLD")[0].startswith(
        "Calling you now to connect you with Sen. Bernie Moreno. (Rep. Joyce Beatty's term ended Jan 3, 2027; "
        "Sen. Jon Husted's term ended Nov 3, 2026.)")


def test_call_ended_terms_setting() -> None:
    base = {"DATABASE_URL": "sqlite://"}
    assert Settings.from_mapping(base).call_ended_terms == "dial"
    assert Settings.from_mapping({**base, "CALL_ENDED_TERMS": "Skip"}).call_ended_terms == "skip"
    with pytest.raises(ConfigError, match="CALL_ENDED_TERMS must be dial or skip, not 'never'"):
        Settings.from_mapping({**base, "CALL_ENDED_TERMS": "never"})
