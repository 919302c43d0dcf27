"""The voice flow through signed webhooks: call-back, call-in, voicemail guard, retries, records."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms.calls.models import CallSession
from sms.targets.models import CustomTarget, Legislator
from tests.conftest import SERVICE_NUMBER, Phone, signed_post
from tests.support.calls import NADLER, Caller, dialed, legs, path_of, spoken, tune

pytestmark = pytest.mark.usefixtures("targets_db")
MURKOWSKI_OR_SULLIVAN = {"+12022246665", "+12022243004"}


def callback(phone: Phone, run_jobs, transport, zip_code: str = "10001", pick: str = "2") -> tuple[Caller, str]:  # noqa: ANN001
    """Text CALL, let the worker place the call, and return the phone's side of it plus the answer path."""
    phone.text(f"ZIP {zip_code}")
    phone.text("CALL CHOKEHOLD")
    if pick:
        phone.text(pick)
    run_jobs()
    placed = transport.calls[-1]
    return Caller(phone.client, phone.number, placed["sid"]), path_of(placed["url"])


def call_of(svc) -> CallSession:  # noqa: ANN001
    with svc.db.session() as session:
        return session.scalars(select(CallSession)).one()


def test_whole_call_back_flow(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    caller, answer = callback(phone, run_jobs, transport)
    root = caller.post(answer)
    gather = root.find("./Gather")
    assert gather.get("action") == "https://actionline.test/voice/connect" and gather.get("numDigits") == "1"
    assert "Press 1 now to be connected to Rep. Jerrold Nadler, Sen." in spoken(gather)
    assert [v.tag for v in root] == ["Say", "Gather", "Say", "Hangup"]  # silence → hang up, nothing bridged
    assert root.find("./Say").get("voice") == "Polly.Joanna"

    root = caller.post("/voice/connect", Digits="1")
    assert "urge Representative Jerrold Nadler to support a federal ban" in spoken(root)
    dial = root.find("./Dial")
    assert dialed(root) == [NADLER]
    assert dial.get("callerId") == SERVICE_NUMBER
    assert dial.get("action") == "https://actionline.test/voice/dialed?leg=0"

    root = caller.post("/voice/dialed?leg=0", DialCallStatus="completed", DialCallDuration="95",
                       DialCallSid="CA" + "d" * 32)
    gather = root.find("./Gather")
    assert gather.get("action") == "https://actionline.test/voice/next?leg=1"
    assert "Press star to skip this office, or pound to end the call." in spoken(gather)
    assert root.find("./Redirect").text == "https://actionline.test/voice/next?leg=1"

    root = caller.post("/voice/next?leg=1")  # silence: go on
    first_senator = dialed(root)
    root = caller.post("/voice/dialed?leg=1", DialCallStatus="busy", DialCallDuration="0")
    root = caller.post("/voice/next?leg=2", Digits="*")
    assert "Thank you for making your voice heard!" in spoken(root) and root.find("./Hangup") is not None
    assert caller.status("completed", "300") == 204

    rows = legs(svc)
    assert [(leg.position, leg.outcome, leg.dial_status) for leg in rows] == [
        (0, "connected", "completed"), (1, "busy", "busy"), (2, "skipped", None)]
    assert rows[0].duration == 95 and rows[0].number == NADLER and rows[0].ref == "N000002"
    assert rows[1].number == first_senator[0]
    call = call_of(svc)
    assert (call.status, call.call_status, call.duration, call.summary_sent) == ("completed", "completed", 300, True)
    run_jobs()
    summary = transport.bodies_to(phone.number)[-1]
    assert summary.startswith("Thank you for calling! You reached Rep. Jerrold Nadler. Not reached: Sen. ")


def test_every_step_is_idempotent_under_retries(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    caller, answer = callback(phone, run_jobs, transport)
    first = caller.post(answer)
    assert [e.tag for e in caller.post(answer)] == [e.tag for e in first]
    dial = caller.post("/voice/connect", Digits="1")
    again = caller.post("/voice/connect", Digits="1")  # Twilio retried: the same Dial, no new leg
    assert dialed(again) == dialed(dial) == [NADLER]
    assert len(legs(svc)) == 1
    after = caller.post("/voice/dialed?leg=0", DialCallStatus="completed", DialCallDuration="40")
    retry = caller.post("/voice/dialed?leg=0", DialCallStatus="failed", DialCallDuration="0")
    assert retry.find("./Gather").get("action") == after.find("./Gather").get("action")
    assert call_of(svc).position == 1 and legs(svc)[0].outcome == "connected" and legs(svc)[0].duration == 40
    senator = caller.post("/voice/next?leg=1")
    assert dialed(caller.post("/voice/next?leg=1")) == dialed(senator)  # the same leg, dialed once
    caller.post("/voice/dialed?leg=1", DialCallStatus="completed", DialCallDuration="30")
    late = caller.post("/voice/next?leg=1", Digits="*")  # a stale duplicate cannot skip anything
    assert late.find("./Gather").get("action").endswith("/voice/next?leg=2")
    assert [leg.outcome for leg in legs(svc)] == ["connected", "connected"]
    stale_connect = caller.post("/voice/connect", Digits="1")
    assert stale_connect.find("./Gather").get("action").endswith("/voice/next?leg=2")
    caller.post("/voice/next?leg=2", Digits="#")
    caller.post("/voice/next?leg=2", Digits="#")
    caller.status("completed")
    caller.status("completed")
    run_jobs()
    assert len([m for m in transport.messages if "Thank you for calling" in m["body"]]) == 1
    assert len(transport.calls) == 1


def test_voicemail_guard_bridges_nothing_without_a_key(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    caller, answer = callback(phone, run_jobs, transport)
    caller.post(answer)
    assert caller.status("completed", "12") == 204  # the Gather timed out and the call hung up
    assert legs(svc) == []
    assert call_of(svc).status == "unconfirmed"
    run_jobs()
    assert transport.messages == []


def test_other_keys_repeat_the_prompt(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    caller, answer = callback(phone, run_jobs, transport)
    caller.post(answer)
    root = caller.post("/voice/connect", Digits="7")
    assert root.find("./Gather").get("action").endswith("/voice/connect") and dialed(root) == []


def test_unanswered_call_back_is_recorded(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    caller, _answer = callback(phone, run_jobs, transport)
    caller.status("no-answer", "0")
    call = call_of(svc)
    assert (call.status, call.call_status) == ("unanswered", "no-answer")


def test_only_numbers_from_the_target_tables_are_dialed(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    caller, answer = callback(phone, run_jobs, transport, zip_code="99501", pick="")
    caller.post(answer, To="+19005550100", Number="+19005550100")
    numbers = dialed(caller.post("/voice/connect", Digits="1", Number="+19005550100", To="+19005550100"))
    for leg in range(1, 3):
        caller.post(f"/voice/dialed?leg={leg - 1}", DialCallStatus="completed", Number="+19005550100")
        numbers += dialed(caller.post(f"/voice/next?leg={leg}", Digits="1", Called="+19005550100"))
    with svc.db.session() as session:
        known = set(session.scalars(select(Legislator.phone))) | set(session.scalars(select(CustomTarget.phone)))
    assert len(numbers) == 3 and set(numbers) <= known
    assert set(numbers[1:]) == MURKOWSKI_OR_SULLIVAN


def test_unsigned_or_forged_requests_change_nothing(phone, svc, run_jobs, transport, client) -> None:  # noqa: ANN001
    caller, answer = callback(phone, run_jobs, transport)
    form = {"CallSid": caller.call_sid, "Digits": "1"}
    assert client.post("/voice/connect", data=form).status_code == 403
    assert signed_post(client, "/voice/connect", form, token="wrong").status_code == 403
    assert client.post("/voice", data={"CallSid": "CA1", "From": phone.number}).status_code == 403
    assert legs(svc) == [] and call_of(svc).status == "placed"


def test_unknown_token_hangs_up(phone, svc) -> None:  # noqa: ANN001
    root = Caller(phone.client, phone.number).post("/voice/answer?s=nosuchtoken")
    assert root.find("./Hangup") is not None and dialed(root) == []


def test_call_in_from_an_unknown_number_asks_for_the_zip(client, svc) -> None:  # noqa: ANN001
    caller = Caller(client, "+16175550142", "CA" + "2" * 32)
    root = caller.post("/voice")
    gather = root.find("./Gather")
    assert gather.get("numDigits") == "5" and gather.get("action").endswith("/voice/zip")
    assert caller.post("/voice").find("./Gather").get("numDigits") == "5"  # a retried call-in: one session
    assert "couldn't find that ZIP" in spoken(caller.post("/voice/zip", Digits="20500"))
    root = caller.post("/voice/zip", Digits="10001")
    assert "For Representative Daniel S. Goldman, press 1. For Representative Jerrold Nadler, press 2." in spoken(root)
    root = caller.post("/voice/district", Digits="2")
    assert "Press 1 now to be connected to Rep. Jerrold Nadler." in spoken(root)  # UNIONS: HR 1154 is a House bill
    assert dialed(caller.post("/voice/connect", Digits="1")) == [NADLER]
    caller.post("/voice/dialed?leg=0", DialCallStatus="completed", DialCallDuration="20")
    assert "summary" not in spoken(caller.post("/voice/next?leg=1", Digits="#"))
    caller.status("completed")
    with svc.db.session() as session:
        call = session.scalars(select(CallSession)).one()
        assert (call.direction, call.zip, call.subscriber_id, call.status) == ("callin", "10001", None, "completed")
        assert call.summary_sent is False  # never texted us: no summary text


def test_call_in_from_a_texter_offers_their_last_demand_and_a_menu(phone, svc) -> None:  # noqa: ANN001
    phone.text("FORCE")
    caller = Caller(phone.client, phone.number, "CA" + "6" * 32)
    caller.post("/voice")
    caller.post("/voice/zip", Digits="99501")  # a texter's ZIP entered by keypad is remembered
    with svc.db.session() as session:
        from sms.messaging import subscribers

        assert subscribers.find(session, phone.number).state == "AK"
    caller = Caller(phone.client, phone.number, "CA" + "3" * 32)
    root = caller.post("/voice")
    assert "Thank you for taking action on: Federal use of force standard." in spoken(root)
    assert "Press 2 to hear another issue." in spoken(root)
    root = caller.post("/voice/connect", Digits="2")
    assert "on: Federal chokehold ban." in spoken(root)  # the next demand in the catalogue
    assert dialed(caller.post("/voice/connect", Digits="1"))


def test_call_in_respects_the_blocklist_and_daily_limit(client, svc, runner) -> None:  # noqa: ANN001
    runner.invoke(args=["call-block", "+16175550143"])
    root = Caller(client, "+16175550143").post("/voice")
    assert "not available" in spoken(root) and root.find("./Hangup") is not None
    tune(svc, call_limit_per_day=1)
    Caller(client, "+16175550144", "CA" + "4" * 32).post("/voice")
    root = Caller(client, "+16175550144", "CA" + "5" * 32).post("/voice")
    assert "today's limit" in spoken(root)


def test_simulate_call_plays_the_queued_call_back(phone, runner) -> None:  # noqa: ANN001
    phone.text("ZIP 10001")
    phone.text("CALL CHOKEHOLD")
    phone.text("2")
    result = runner.invoke(args=["simulate-call", phone.number, "--digits", "1,,*", "--dial-status", "busy"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Call-back to {phone.number}, the one their CALL queued (call session ")
    assert "  caller presses: 1" in lines and f"  DIALING {NADLER}" in lines and "  office: busy" in lines
    hang_up = lines.index("  (hang up)")
    assert lines[hang_up - 1] == ("  caller hears: Thank you for making your voice heard! We'll text you a summary. "
                                  "Goodbye.")
    assert lines[hang_up + 1] == "Texted after the call:" and lines[hang_up + 2].startswith("  ")
    assert len([line for line in lines if line.startswith("  DIALING")]) == 2


def test_simulate_call_in_without_key_hangs_up(client, runner, targets_db) -> None:  # noqa: ANN001
    result = runner.invoke(args=["simulate-call", "+15555550123", "--digits", "02139,1,", "--callin"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Call-in: +15555550123 dials the service number +15005550006 (--callin):\n")
    assert "  caller presses: 02139" in result.output and "spans 2 congressional districts" in result.output
    assert "DIALING" not in result.output and result.output.endswith("No text was sent after the call.\n")


def test_simulate_call_never_makes_up_a_zip(client, runner, targets_db) -> None:  # noqa: ANN001
    result = runner.invoke(args=["simulate-call", "+15555550123"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("Call-in: +15555550123 dials the service number +15005550006 "
                        "(no call-back was waiting for this number):")
    assert "  caller presses: 1" not in lines and "  caller presses: (silence)" in lines
    assert "  note: The call asks for a ZIP by keypad and none is made up: give one, e.g. --digits 02139,1" in lines


def test_simulate_call_presses_1_to_connect_by_default(phone, runner) -> None:  # noqa: ANN001
    phone.text("ZIP 99501")  # Anchorage: one district
    phone.text("CALL CHOKEHOLD")
    result = runner.invoke(args=["simulate-call", phone.number])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[lines.index("  caller presses: 1") + 1].startswith("  caller hears: ")
    assert any(line.startswith("  DIALING ") for line in lines) and "Texted after the call:" in lines


def test_an_answer_before_the_place_job_commits_is_not_undone(phone, svc, transport) -> None:  # noqa: ANN001
    from sms.calls import sessions

    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    with svc.db.session() as session:
        call = session.scalars(select(CallSession)).one()
    caller = Caller(phone.client, phone.number, "CAmem" + "0" * 28)  # the SID the transport will return

    def answered_during_the_request(to: str, url: str, status_callback: str | None = None) -> str:
        caller.post(path_of(url))  # Twilio fetches the TwiML before place() has stored anything
        return caller.call_sid

    transport.place_call = answered_during_the_request
    assert sessions.place(svc, call.id) == "answered first"
    assert (call_of(svc).status, call_of(svc).call_sid) == ("answered", caller.call_sid)
    assert dialed(caller.post("/voice/connect", Digits="1"))


def test_call_in_offers_the_featured_demand(phone, svc) -> None:  # noqa: ANN001
    tune(svc, call_featured_demand="DEFUND")
    phone.text("ZIP 99501")
    phone.text("FORCE")
    root = Caller(phone.client, phone.number, "CA" + "7" * 32).post("/voice")
    assert "Thank you for taking action on: Defund the police." in spoken(root)
