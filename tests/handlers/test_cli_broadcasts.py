"""``flask broadcast|segment|remind``: what create prints, list, help texts, readable segments, state codes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sms.broadcasts import audiences
from sms.broadcasts.models import Broadcast, Reminder, Segment
from sms.store import utcnow
from tests.support.broadcasts import add_people, new_broadcast


def count(svc, model) -> int:  # noqa: ANN001
    with svc.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def only_broadcast(svc) -> Broadcast:  # noqa: ANN001
    with svc.db.session() as session:
        return session.scalars(select(Broadcast)).one()


def test_create_ends_with_what_was_made_and_how_to_send_it(runner, svc):
    add_people(svc, 3, interests=("CHOKEHOLD",), state="KY")
    add_people(svc, 2, 100, state="CA")
    result = runner.invoke(args=["broadcast", "create", "--message", "Vote Thursday", "--demand", "chokehold",
                                 "--state", "ky"])
    assert result.exit_code == 0, result.output
    broadcast = only_broadcast(svc)
    assert (broadcast.status, broadcast.filters) == ("draft", {"demands": ["CHOKEHOLD"], "states": ["KY"]})
    lines = result.output.strip().splitlines()
    assert lines[-1] == (f"Broadcast {broadcast.id} created (draft, 3 recipients). "
                         f"Send it: flask broadcast send {broadcast.id}")
    assert "Recipients: 3" in lines and "Encoding: GSM-7" in lines  # the preview comes first


def test_create_id_only_prints_just_the_id(runner, svc):
    add_people(svc, 1)
    result = runner.invoke(args=["broadcast", "create", "--message", "Vote Thursday", "--id-only"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{only_broadcast(svc).id}\n"


def test_create_with_a_send_time_says_it_is_scheduled(runner, svc):
    add_people(svc, 1)
    at = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    result = runner.invoke(args=["broadcast", "create", "--message", "Vote Thursday", "--send-at", at.isoformat()])
    assert result.exit_code == 0, result.output
    broadcast = only_broadcast(svc)
    assert broadcast.status == "scheduled"
    assert result.output.strip().splitlines()[-1] == (
        f"Broadcast {broadcast.id} created (scheduled for {at.isoformat()}, 1 recipient). "
        f"Cancel it: flask broadcast cancel {broadcast.id}")


@pytest.mark.parametrize("args", [
    ["broadcast", "create", "--message", "hi", "--state", "ZZ"],
    ["broadcast", "create", "--message", "hi", "--state", "KY", "--state", "ZZ", "--id-only"],
    ["segment", "save", "nowhere", "--state", "ZZ"],
    ["remind", "create", "--message", "hi", "--send-at", "2099-01-01T10:00:00Z", "--state", "ZZ"],
])
def test_an_unknown_state_is_a_usage_error_and_nothing_is_created(runner, svc, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--state'" in result.output and "'ZZ'" in result.output
    assert (count(svc, Broadcast), count(svc, Segment), count(svc, Reminder)) == (0, 0, 0)


def test_an_unknown_state_in_a_district_is_refused_too(runner, svc):
    result = runner.invoke(args=["broadcast", "create", "--message", "hi", "--district", "ZZ-3"])
    assert result.exit_code == 1
    assert "Error: " in result.output and "'ZZ'" in result.output
    assert count(svc, Broadcast) == 0


def test_the_console_refuses_an_unknown_state(console, svc):
    from tests.support.console import post

    response = post(console, "/console/broadcasts", {"message": "hi", "states": "KY ZZ"})
    assert response.status_code == 400
    assert "not &#39;ZZ&#39;" in response.get_data(as_text=True)
    assert count(svc, Broadcast) == 0
    preview = console.get("/console/api/broadcasts/preview", query_string={"message": "hi", "states": "zz"})
    assert preview.get_json()["recipients"] is None and "'ZZ'" in preview.get_json()["problems"][0]


@pytest.mark.parametrize("code", ["KY", "ky", " dc ", "PR", "GU", "VI", "AS", "MP"])
def test_states_and_territories_are_codes_the_audience_accepts(code):
    assert audiences.clean({"states": [code]}) == {"states": [code.strip().upper()]}


@pytest.mark.parametrize("filters", [{"states": ["ZZ"]}, {"states": ["KY", "XX"]}, {"districts": ["QQ-1"]}])
def test_unknown_state_codes_are_refused_by_the_audience(filters):
    with pytest.raises(audiences.AudienceError, match="two-letter US state or territory code"):
        audiences.clean(filters)


def test_broadcast_list_newest_first_with_progress_and_a_status_filter(runner, svc, run_jobs):
    assert runner.invoke(args=["broadcast", "list"]).output == "No broadcasts yet (flask broadcast create --help).\n"
    add_people(svc, 3, interests=("CHOKEHOLD",))
    sent = new_broadcast(svc, "Sent one", filters={"demands": ["CHOKEHOLD"]})
    assert runner.invoke(args=["broadcast", "send", str(sent)]).exit_code == 0
    run_jobs()
    cancelled = new_broadcast(svc, "Cancelled one")
    assert runner.invoke(args=["broadcast", "cancel", str(cancelled)]).output == f"Broadcast {cancelled}: cancelled\n"
    draft = new_broadcast(svc, "A draft whose text is much longer than forty characters, cut short")

    result = runner.invoke(args=["broadcast", "list"])
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["id", "status", "created", "(UTC)", "recipients", "message"]
    assert [int(row.split()[0]) for row in rows] == [draft, cancelled, sent]
    assert rows[0].split()[1] == "draft" and rows[0].split()[4] == "3"  # counted now
    assert rows[0].endswith("A draft whose text is much longer tha...")
    assert rows[1].split()[1:2] + rows[1].split()[4:] == ["cancelled", "0", "Cancelled", "one"]
    assert rows[2].split()[1] == "sent" and rows[2].split()[4] == "3/3"  # finished/planned
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", " ".join(rows[2].split()[2:4]))

    only_drafts = runner.invoke(args=["broadcast", "list", "--status", "draft"]).output.splitlines()[1:]
    assert [int(row.split()[0]) for row in only_drafts] == [draft]
    assert runner.invoke(args=["broadcast", "list", "--status", "paused"]).output == "No paused broadcasts.\n"
    assert len(runner.invoke(args=["broadcast", "list", "--limit", "1"]).output.splitlines()) == 2
    bad = runner.invoke(args=["broadcast", "list", "--status", "lost"])
    assert bad.exit_code == 2 and "'lost' is not one of" in bad.output


@pytest.mark.parametrize(("group", "command", "words"), [
    ("broadcast", "pause", "Pause a sending broadcast."),
    ("broadcast", "resume", "Resume a paused broadcast"),
    ("broadcast", "cancel", "Cancel a broadcast for good."),
    ("broadcast", "list", "List broadcasts, newest first."),
    ("remind", "pause", "Pause a reminder"),
    ("remind", "resume", "Resume a paused reminder."),
    ("remind", "cancel", "Cancel a reminder for good."),
])
def test_steering_commands_have_help(runner, group, command, words):
    assert words in runner.invoke(args=[group, command, "--help"]).output
    listing = runner.invoke(args=[group, "--help"]).output
    assert re.search(rf"^  {command}\s+{re.escape(words[:20])}", listing, re.MULTILINE), listing


def test_every_broadcast_and_remind_option_has_help(app):
    for group in ("segment", "broadcast", "remind"):
        for name, command in app.cli.commands[group].commands.items():
            assert command.help, f"{group} {name}"
            for param in command.params:
                if param.param_type_name == "option" and param.name != "help":
                    assert param.help, f"{group} {name} --{param.name}"


def test_segment_list_prints_filters_readably(runner, svc):
    assert runner.invoke(args=["segment", "list"]).output.startswith("No saved segments")
    saved = runner.invoke(args=["segment", "save", "northeast", "--state", "MA", "--state", "ny", "--demand",
                                "chokehold", "--called", "--joined-after", "2026-01-01"])
    assert saved.exit_code == 0, saved.output
    assert runner.invoke(args=["segment", "save", "all"]).exit_code == 0
    assert runner.invoke(args=["segment", "save", "fresh", "--never-called", "--active-since",
                               "2026-02-01T12:30:00Z"]).exit_code == 0
    assert runner.invoke(args=["segment", "list"]).output.splitlines() == [
        "all        everyone opted in",
        "fresh      called=no active-since=2026-02-01T12:30:00+00:00",
        "northeast  state=MA,NY demand=CHOKEHOLD called=yes joined-after=2026-01-01",
    ]


def test_describe_lists_every_filter_key():
    described = {key for key, _ in audiences.DESCRIBED}
    assert described == audiences.FILTER_KEYS


def test_status_says_what_each_waiting_delivery_waits_for(runner, svc, monkeypatch):
    from datetime import UTC, datetime

    from sms.broadcasts import lifecycle, waiting
    from tests.support.broadcasts import configure

    add_people(svc, 2, 0, timezone="America/Los_Angeles")
    add_people(svc, 1, 100, timezone="America/New_York")
    configure(svc, quiet_hours=(9, 20))
    morning = datetime(2027, 1, 14, 15, 0, tzinfo=UTC)  # 10:00 in New York, 07:00 in Los Angeles
    broadcast_id = new_broadcast(svc, now=morning)
    lifecycle.start(svc, broadcast_id, morning)
    monkeypatch.setattr(waiting, "utcnow", lambda: morning)
    result = runner.invoke(args=["broadcast", "status", str(broadcast_id)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == [f"Broadcast {broadcast_id}: sending, 3 planned", "  pending: 3", "Sending: 3 waiting."]
    assert lines[3:] == [
        "  2 waiting for quiet hours to end in America/Los_Angeles (until 09:00 local, 17:00 UTC)",
        "  1 due now, but no worker serves the bulk queue: start worker.py (make run starts one)",
        "Estimated finish: 2027-01-14 17:00 UTC"]


def test_watch_on_a_finished_broadcast_says_so_and_exits(runner, svc, run_jobs):
    add_people(svc, 2)
    broadcast_id = new_broadcast(svc)
    assert runner.invoke(args=["broadcast", "send", str(broadcast_id)]).exit_code == 0
    run_jobs()
    result = runner.invoke(args=["broadcast", "status", str(broadcast_id), "--watch"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2].startswith("Finished: sent at ") and lines[2].endswith("; nothing is waiting.")
    assert lines[-1] == f"Nothing to watch: broadcast {broadcast_id} has finished."


def test_watch_prints_changes_until_the_broadcast_is_sent(runner, svc, run_jobs, monkeypatch):
    from handlers.cli import broadcasts as cli

    add_people(svc, 3)
    broadcast_id = new_broadcast(svc, mps=1000)
    assert runner.invoke(args=["broadcast", "send", str(broadcast_id)]).exit_code == 0
    monkeypatch.setattr(cli.time, "sleep", lambda seconds: run_jobs())  # the worker runs while the CLI waits
    result = runner.invoke(args=["broadcast", "status", str(broadcast_id), "--watch"])
    assert result.exit_code == 0, result.output
    watched = result.output.splitlines()[-2:]
    assert watched[0].endswith(" UTC  0/3 done. 3 due now, but no worker serves the bulk queue: start worker.py "
                               "(make run starts one)")
    assert watched[1].startswith(f"Broadcast {broadcast_id}: Finished: sent at ")


def test_preview_shows_the_audience_in_words_and_a_recipients_text(runner, svc):
    add_people(svc, 1, 0, state="KY", first_name="")
    broadcast_id = new_broadcast(svc, "Hi {first_name} ✊ vote", filters={"states": ["KY"]})
    result = runner.invoke(args=["broadcast", "preview", str(broadcast_id)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[5:] == [
        "Audience: Opted-in subscribers in KY (not LESS subscribers: they hear only urgent ones)",
        "As +1617***0000 gets it: Hi friend ✊ vote",
        '  {first_name} is empty for them: "friend" is used instead.',
        "UCS-2 because of ✊ (U+270A).",
        "In GSM-7 (1 segment each): Hi {first_name} vote"]
