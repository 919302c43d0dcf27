"""``handlers.cli``: every command the Makefile and README name exists, in one style, and refused input is an error."""

from __future__ import annotations

import ast
import re

import click
import pytest

from handlers import cli, context
from handlers.cli import base
from tests.conftest import ROOT

EVERY_COMMAND = {
    "init-db", "import-catalogue", "import-legislators", "import-zips", "import-targets", "import-stances",
    "create-organizer", "simulate", "simulate-call", "call-block", "call-unblock", "offices-saturation",
    "call-stats", "call-policy", "segment", "broadcast", "remind", "data-status", "refresh-congress",
    "webhooks", "events", "settings", "retire-demand", "remove-zip-map", "languages",
    "import-state-districts", "import-state-legislators", "refresh-states",
}


FLASK_BUILTINS = {"run", "shell", "routes"}
DOCUMENTED_IN = ["Makefile", "README.md", "docs/**/*.md", "sms/devserver.py"]


def makefile_db_commands() -> list[str]:
    """The commands ``make db`` runs (on every ``make run``)."""
    target = re.search(r"^db:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert target, "the Makefile has no db target"
    return re.findall(r"flask --app app ([a-z][a-z-]*)", target.group(1))


def documented_commands() -> set[str]:
    """Every ``flask --app app NAME`` the Makefile, the README, docs/ and the dev server's banner tell people to run."""
    names: set[str] = set()
    for pattern in DOCUMENTED_IN:
        for path in ROOT.glob(pattern):
            names |= set(re.findall(r"flask --app app ([a-z][a-z-]*)", path.read_text(encoding="utf-8")))
    return names - FLASK_BUILTINS


def walk(group: click.Group, prefix: str = ""):  # noqa: ANN201
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from walk(command, f"{prefix}{name} ")


def test_make_db_runs_the_data_commands():
    assert makefile_db_commands() == ["init-db", "import-catalogue", "import-legislators", "import-zips",
                                      "import-state-districts", "import-state-legislators", "import-targets"]


@pytest.mark.parametrize("name", sorted({*makefile_db_commands(), "create-organizer", "simulate"}
                                        | documented_commands()))
def test_every_command_the_makefile_and_docs_run_exists(app, runner, name):
    assert name in app.cli.commands
    result = runner.invoke(args=[name, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ") and f" {name} " in result.output.splitlines()[0]


def test_every_command_is_registered_by_cli_init_app(app):
    ours = {name for module in cli.MODULES for name in module.commands.commands}
    assert ours == EVERY_COMMAND
    assert EVERY_COMMAND <= set(app.cli.commands)


def test_one_style_every_command_runs_in_the_app_context_and_reports_input_errors(app):
    for module in cli.MODULES:
        assert isinstance(module.commands, base.Commands), module.__name__
    for name, command in walk(app.cli):
        if name.split()[0] not in EVERY_COMMAND:
            continue  # Flask's own run, shell, routes
        assert isinstance(command, base.Commands if isinstance(command, click.Group) else base.Command), name
        assert command.help, name


@pytest.mark.parametrize(("args", "message"), [
    (["broadcast", "cancel", "999"], "Error: no broadcast 999"),  # BroadcastError
    (["broadcast", "create", "--message", "hi", "--zip", "123"], "Error: ZIP must be 5 digits"),  # AudienceError
    (["segment", "preview", "nope"], "Error: no segment named 'nope'"),  # AudienceError
    (["remind", "status", "999"], "Error: no reminder 999"),
    (["create-organizer", "short@example.org", "--password", "short"], "Error: The password must be"),  # OrganizerError
    (["import-targets", "/nonexistent/targets.yaml"], "Error: "),  # DataError
    (["webhooks", "add", "http://example.org/hook", "--events", "all"], "Error: the URL must start with https://"),
    (["webhooks", "remove", "nope"], "Error: no destination named 'nope'"),  # IntegrationError
])
def test_refused_input_is_a_one_line_error_not_a_traceback(runner, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a ClickException, not an escaped InputError
    assert result.output.strip().splitlines()[-1].startswith(message), result.output


def test_a_bad_catalogue_is_a_clean_error(runner, tmp_path):
    bad = tmp_path / "demands.yaml"
    bad.write_text("areas: [{number: 1, title: A}]\ndemands:\n  - keyword: STOP\n    reply: x\n")
    result = runner.invoke(args=["import-catalogue", str(bad)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Error: demands STOP: 'title' is missing" in result.output


def test_handlers_reach_the_services_only_through_handlers_context():
    offenders = []
    for path in (ROOT / "handlers").rglob("*.py"):
        if path.name == "context.py" and path.parent.name == "handlers":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "extensions":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_console_services_is_the_one_accessor(app):
    from handlers import console

    assert console.services is context.services
    with app.app_context():
        assert context.services() is app.extensions[context.EXTENSION] is context.services(app)


def test_the_old_cli_modules_are_gone():
    for old in ("handlers/cli.py", "handlers/broadcast_cli.py", "handlers/callcli.py", "handlers/simclient.py",
                "handlers/console/commands.py"):
        assert not (ROOT / old).exists(), old
