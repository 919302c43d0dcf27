"""``python -m handlers.cli``: Action Line's overview first, commands by area; simulators that say what they do."""

from __future__ import annotations

import re

from click.testing import CliRunner
from flask.cli import ScriptInfo

from handlers import cli
from tests.support.broadcasts import configure


def overview(app) -> str:  # noqa: ANN001
    result = CliRunner().invoke(cli.cli, ["--help"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    return result.output


def test_help_starts_with_action_lines_overview_and_lists_commands_by_area(app):
    text = overview(app)
    assert text.splitlines()[2] == "  Action Line: the SMS and voice call-to-action service, from a terminal."
    headings = re.findall(r"^([A-Z][^\n:]+):$", text, re.MULTILINE)
    assert headings == ["Options", *[name for name, _ in cli.AREAS], "Flask's own"]
    broadcasts = text.split("Broadcasts and reminders:\n")[1].split("\n\n")[0]
    assert [line.split()[0] for line in broadcasts.splitlines()] == ["segment", "broadcast", "remind"]


def test_every_command_is_under_exactly_one_heading_and_no_env_file_is_read_by_flask():
    listed = [name for _, names in cli.AREAS for name in names]
    ours = {name for module in cli.MODULES for name in module.commands.commands}
    assert sorted(listed) == sorted(ours) and len(listed) == len(set(listed))
    assert cli.cli.load_dotenv is False  # settings come from sms.settings.load_env only, as in the worker


def test_simulate_warns_before_texting_as_a_real_phone_when_twilio_is_configured(runner, svc):
    configure(svc, account_sid="AC" + "1" * 32)
    real = runner.invoke(args=["simulate", "+16175551234", "MENU"])
    assert real.exit_code == 0, real.output
    assert real.stderr.startswith("Warning: Twilio credentials are set and +16175551234 looks like a real phone.")
    assert "Reply 1-4" in real.stdout
    assert runner.invoke(args=["simulate", "+15555550123", "MENU"]).stderr == ""  # 555-01xx: fictional
    call = runner.invoke(args=["simulate-call", "+16175551234", "--callin", "--digits", ""])
    assert call.stderr.startswith("Warning: Twilio credentials are set and +16175551234 looks like a real phone.")
    configure(svc, account_sid="")
    assert runner.invoke(args=["simulate", "+16175551234", "MENU"]).stderr == ""  # outbox mode: nothing leaves


def test_plain_flask_help_starts_with_action_lines_overview(tmp_path):
    """The README's `FLASK_APP=app flask --help`, in a real process: our overview and areas, Flask's own last."""
    import os
    import subprocess
    import sys

    from tests.conftest import REDIS_URL, ROOT

    env = {**os.environ, "FLASK_APP": "app", "DATABASE_URL": f"sqlite:///{tmp_path / 'help.db'}",
           "REDIS_URL": REDIS_URL}
    done = subprocess.run([sys.executable, "-m", "flask", "--help"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Usage: flask [OPTIONS] COMMAND [ARGS]..."
    assert lines[2] == "  Action Line: the SMS and voice call-to-action service, from a terminal."
    assert "A general utility script for Flask applications" not in done.stdout
    headings = re.findall(r"^([A-Z][^\n:]+):$", done.stdout, re.MULTILINE)
    assert headings == ["Options", *[name for name, _ in cli.AREAS], "Flask's own"]


def test_only_a_bare_flask_help_is_answered_by_the_overview():
    assert cli.flask_help_asked(["/venv/bin/flask", "--help"])
    assert cli.flask_help_asked(["/venv/bin/flask", "--app", "app", "--help"])
    assert cli.flask_help_asked(["/usr/lib/python3/site-packages/flask/__main__.py", "-A=app", "--help"])
    assert not cli.flask_help_asked(["/venv/bin/flask", "routes"])
    assert not cli.flask_help_asked(["/venv/bin/flask", "broadcast", "--help"])  # a command's own help
    assert not cli.flask_help_asked(["/venv/bin/pytest"])  # create_app in tests and servers never prints it
    assert not cli.flask_help_asked(["gunicorn", "--help"])
