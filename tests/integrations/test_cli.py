"""The ``flask webhooks`` and ``flask events`` commands, against a local receiver."""

from __future__ import annotations

from tests.conftest import Phone
from tests.support.integrations import SECRET

ALICE = "+16175550101"


def test_cli_add_list_test_pause_resume_remove(runner, svc, receiver):
    added = runner.invoke(args=["webhooks", "add", receiver.url, "--events", "subscriber.joined", "--secret", SECRET])
    assert added.exit_code == 0, added.output
    assert "Added 127.0.0.1: subscriber.joined." in added.output and SECRET in added.output
    listed = runner.invoke(args=["webhooks", "list"])
    assert "127.0.0.1  [active]" in listed.output and SECRET not in listed.output
    tested = runner.invoke(args=["webhooks", "test", "127.0.0.1"])
    assert tested.exit_code == 0 and "answered HTTP 200" in tested.output
    assert receiver.types() == ["webhook.test"] and receiver.bad_signatures == 0
    assert "Paused" in runner.invoke(args=["webhooks", "pause", "127.0.0.1"]).output
    assert "[paused]" in runner.invoke(args=["webhooks", "list"]).output
    assert "Resumed 127.0.0.1: 0 events" in runner.invoke(args=["webhooks", "resume", "127.0.0.1"]).output
    replayed = runner.invoke(args=["webhooks", "replay", "127.0.0.1", "--since", "2000-01-01"])
    assert replayed.exit_code == 0 and "Replaying 0 events" in replayed.output
    assert runner.invoke(args=["webhooks", "remove", "127.0.0.1"]).exit_code == 0
    assert "No destinations" in runner.invoke(args=["webhooks", "list"]).output


def test_cli_test_reports_a_refusal(runner, svc, receiver):
    runner.invoke(args=["webhooks", "add", receiver.url, "--events", "all", "--secret", "another-secret-0123456"])
    result = runner.invoke(args=["webhooks", "test", "127.0.0.1"])
    assert result.exit_code == 1 and "answered HTTP 401" in result.output  # the receiver knows another secret


def test_events_tail_prints_the_log_without_numbers(client, runner):
    Phone(client, ALICE).text("CHOKEHOLD")
    Phone(client, ALICE).text("STOP")
    result = runner.invoke(args=["events", "tail", "-n", "2"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 2 and "interest.added" in lines[0] and "subscriber.opted_out" in lines[1]
    assert ALICE not in result.output and ALICE.lstrip("+") not in result.output
    only = runner.invoke(args=["events", "tail", "--type", "subscriber.joined"])
    assert only.output.count("subscriber.joined") == 1 and "interest" not in only.output
    assert runner.invoke(args=["events", "tail", "--type", "nope"]).exit_code == 2
