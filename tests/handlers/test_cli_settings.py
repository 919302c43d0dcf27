"""``flask settings`` and the warning of commands that hand work to a worker whose settings differ."""

from __future__ import annotations

import dataclasses

from sms import settings_report
from tests.support.broadcasts import add_people


def test_settings_lists_every_key_masked_and_says_no_worker_published(runner, svc):
    result = runner.invoke(args=["settings"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Settings of this command: the environment, then ") and lines[0].endswith(
        ".env (the environment wins).")
    for key in settings_report.report(svc.settings):
        assert any(line.startswith(f"  {key} ") for line in lines), key
    assert "test-secret" not in result.output and "Calls" in lines
    assert lines[-1] == "No worker has published its settings (worker.py publishes them when it starts)."


def test_settings_names_what_differs_in_the_worker(runner, svc):
    settings_report.publish(svc.redis, dataclasses.replace(svc.settings, broadcast_mps=25.0))
    lines = runner.invoke(args=["settings"]).output.splitlines()
    assert lines[-2].startswith("The worker (") and lines[-2].endswith(" differs:")
    assert lines[-1] == "  BROADCAST_MPS: 1 here, 25 in the worker"


def test_worker_facing_commands_warn_when_the_worker_differs(runner, svc):
    add_people(svc, 1)
    settings_report.publish(svc.redis, dataclasses.replace(svc.settings, quiet_hours=(9, 20)))
    result = runner.invoke(args=["broadcast", "create", "--message", "Vote Thursday", "--id-only"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        result.stderr.splitlines()[0],
        "  QUIET_HOURS: off here, 9-20 in the worker",
        "  Give both the same environment (or .env) and restart the one that is wrong; flask settings shows them all."]
    assert result.stderr.startswith("Warning: the worker (") and result.stdout.strip().isdigit()
    assert runner.invoke(args=["data-status"]).stderr == ""  # not a command the worker takes part in
    settings_report.publish(svc.redis, svc.settings)
    assert runner.invoke(args=["broadcast", "list"]).stderr == ""
