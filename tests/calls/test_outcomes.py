"""After the call: the outcome question, answers on the legs, one retry reminder, stats; stances."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms.calls import outcomes
from sms.calls.models import CallLeg, CallSession, Stance
from sms.store import Message
from tests.support.calls import Caller, answer_call_back, dialed, path_of, spoken, tune

pytestmark = pytest.mark.usefixtures("targets_db")
GILLIBRAND, SCHUMER = "G000555", "S000148"


def call_through(phone, run_jobs, transport, statuses: list[str]) -> Caller:  # noqa: ANN001
    """CALL CHOKEHOLD from NY-12 and give each office the next Dial status in turn."""
    phone.text("ZIP 10001")
    phone.text("CALL CHOKEHOLD")
    phone.text("2")
    run_jobs()
    caller, _ = answer_call_back(phone.client, phone.number, transport)
    for position, status in enumerate(statuses):
        if position:
            caller.post(f"/voice/next?leg={position}")
        caller.post(f"/voice/dialed?leg={position}", DialCallStatus=status, DialCallDuration="60")
    caller.status("completed", "200")
    return caller


def test_outcome_question_answer_stored_and_one_retry_reminder(phone, svc, run_jobs, transport, runner) -> None:  # noqa: ANN001
    call_through(phone, run_jobs, transport, ["completed", "busy", "completed"])
    run_jobs()
    summary = transport.bodies_to(phone.number)[-1]
    assert summary.endswith("Reply 1 talked, 2 voicemail, 3 no answer.")
    assert phone.text("2") == ["Thanks! Voicemails are tallied too."]
    assert phone.text("2") != ["Thanks! Voicemails are tallied too."]  # answered once; 2 is a menu pick again
    with svc.db.session() as session:
        reported = [(leg.outcome, leg.reported) for leg in session.scalars(select(CallLeg).order_by(CallLeg.position))]
        assert reported == [("connected", "voicemail"), ("busy", None), ("connected", "voicemail")]
        retry = session.scalars(select(Message).where(Message.kind == "call_retry")).one()
        assert retry.body.startswith("Earlier you didn't get through to Sen. Kirsten E. Gillibrand.")
        assert retry.status == "scheduled" and "CALL CHOKEHOLD" in retry.body
        rows = {r.key: r for r in outcomes.stats(session, "office")}
        assert (rows["Rep. Jerrold Nadler"].placed, rows["Rep. Jerrold Nadler"].connected) == (1, 1)
        assert rows["Sen. Kirsten E. Gillibrand"].connected == 0
        (demand,) = outcomes.stats(session, "demand")
        assert (demand.key, demand.placed, demand.connected, demand.talked, demand.avg_seconds) == (
            "CHOKEHOLD", 3, 2, 0, 60.0)
    result = runner.invoke(args=["call-stats", "--by", "demand"])
    assert result.exit_code == 0 and "CHOKEHOLD" in result.output and " 60" in result.output


def test_talked_counts_and_no_reminder_when_everyone_was_reached(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    call_through(phone, run_jobs, transport, ["completed", "completed", "completed"])
    assert phone.text("1") == ["Thank you! Every conversation counts."]
    with svc.db.session() as session:
        assert session.scalar(select(Message).where(Message.kind == "call_retry")) is None
        assert outcomes.stats(session)[0].talked == 3


def test_no_question_to_an_opted_out_caller(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    caller = call_through(phone, run_jobs, transport, ["completed"])
    phone.text("STOP")
    caller.post("/voice/next?leg=1", Digits="#")
    run_jobs()
    assert not any("How did it go" in body for body in transport.bodies_to(phone.number))


def write_csv(tmp_path, text: str):  # noqa: ANN001, ANN201
    path = tmp_path / "stances.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_stances_checks_lines_and_is_idempotent(svc, runner, tmp_path) -> None:  # noqa: ANN001
    bad = write_csv(tmp_path, "bioguide_id,demand,stance\nG000555,CHOKEHOLD,supports\nX1,CHOKEHOLD,supports\n"
                    "S000148,NOPE,opposes\nS000148,CHOKEHOLD,maybe\n")
    result = runner.invoke(args=["import-stances", str(bad)])
    assert result.exit_code == 1
    assert "line 3: bad bioguide_id 'X1'" in result.output and "line 4: unknown demand 'NOPE'" in result.output
    assert "line 5: stance must be" in result.output and "nothing was changed" in result.output
    good = write_csv(tmp_path, "bioguide_id,demand,stance\nG000555,chokehold,supports\nS000148,CHOKEHOLD,opposes\n")
    assert "2 added" in runner.invoke(args=["import-stances", str(good)]).output
    assert "2 unchanged" in runner.invoke(args=["import-stances", str(good)]).output
    with svc.db.session() as session:
        assert len(session.scalars(select(Stance)).all()) == 2


@pytest.mark.parametrize("policy", ["skip", "thank"])
def test_supporters_are_skipped_or_thanked(policy, phone, svc, runner, run_jobs, transport, tmp_path) -> None:  # noqa: ANN001
    csv = write_csv(tmp_path, "bioguide_id,demand,stance\nG000555,CHOKEHOLD,supports\nS000148,CHOKEHOLD,opposes\n")
    runner.invoke(args=["import-stances", str(csv)])
    assert runner.invoke(args=["call-policy", "chokehold", "--supporters", policy]).exit_code == 0
    phone.text("ZIP 10001")
    phone.text("CALL CHOKEHOLD")
    calling = phone.text("2")[0]
    with svc.db.session() as session:
        targets = session.scalars(select(CallSession)).one().targets
    refs = [t["ref"] for t in targets]
    if policy == "skip":
        assert "skipping Sen. Kirsten E. Gillibrand: already supports CHOKEHOLD" in calling
        assert refs == ["N000002", SCHUMER]
        return
    assert "Sen. Kirsten E. Gillibrand already supports CHOKEHOLD: please thank them" in calling
    assert refs == ["N000002", GILLIBRAND, SCHUMER] and targets[1]["script"] == "thank"
    run_jobs()
    caller = Caller(phone.client, phone.number, transport.calls[-1]["sid"])
    caller.post(path_of(transport.calls[-1]["url"]))
    caller.post("/voice/connect", Digits="1")
    caller.post("/voice/dialed?leg=0", DialCallStatus="completed")
    root = caller.post("/voice/next?leg=1")
    assert "Senator Kirsten E. Gillibrand supports this, so please thank them." in spoken(root)
    assert "to thank Senator Kirsten E. Gillibrand for supporting this" in spoken(root)
    assert dialed(root) == ["+12022244451"]


def test_no_retry_reminder_past_the_daily_call_limit(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    tune(svc, call_limit_per_day=1)
    call_through(phone, run_jobs, transport, ["busy", "busy", "busy"])
    with svc.db.session() as session:
        assert session.scalar(select(Message).where(Message.kind == "call_retry")) is None
        assert session.scalars(select(CallSession)).one().retry_at is None


@pytest.mark.parametrize("offices", [1, 3, 5, 8])
def test_the_call_summary_fits_the_budget_with_long_office_names(offices) -> None:
    """Five offices with district-office labels and the outcome question: names give way, the question stays."""
    label = 'Rep. Charles J. "Chuck" Fleischmann, Chattanooga district office'
    legs = [CallLeg(label=f"{label} {i}", outcome="connected" if i % 2 else "busy") for i in range(offices)]
    text = outcomes.summary(legs, asked=True)
    from sms.messaging import encoding

    assert encoding.count(text).segments <= 2
    assert text.startswith(("Thank you for calling!", "Thanks for trying!"))
    assert text.endswith("Reply 1 talked, 2 voicemail, 3 no answer.")


def test_a_number_outside_the_outcome_question_says_which_numbers_it_has(phone, svc, run_jobs, transport) -> None:  # noqa: ANN001
    call_through(phone, run_jobs, transport, ["completed", "completed", "completed"])
    assert phone.text("7") == ["Reply 1-3: 1 talked, 2 voicemail, 3 no answer."]
    assert phone.text("1") == ["Thank you! Every conversation counts."]
