"""Organizer CLI: ``flask --app app <command>``, one module per area (see ``handlers.cli.base``).

``cli`` below is a ``FlaskGroup`` with Action Line's own overview and the commands grouped by
area: ``python -m handlers.cli``. Plain ``flask --help`` shows the same: Flask's ``flask``
formats its generic help text before it loads the app, so ``init_app`` (which runs while
``flask`` lists the app's commands) prints ``cli``'s help instead and exits. Every other
``flask`` invocation is untouched.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from handlers.cli import (
    broadcasts,
    calls,
    config,
    congress,
    data,
    integrations,
    languages,
    organizers,
    simulate,
    states,
)

MODULES = (data, congress, states, calls, broadcasts, organizers, simulate, integrations, config, languages)
AREAS = (
    ("Set up and Congress data", ("init-db", "import-catalogue", "import-legislators", "import-zips",
                                  "import-state-districts", "import-state-legislators",
                                  "import-targets", "import-stances", "retire-demand", "data-status",
                                  "refresh-congress", "refresh-states", "remove-zip-map")),
    ("Broadcasts and reminders", ("segment", "broadcast", "remind")),
    ("Calls", ("call-block", "call-unblock", "call-policy", "call-stats", "offices-saturation")),
    ("Try it", ("simulate", "simulate-call")),
    ("Integrations", ("webhooks", "events")),
    ("Languages", ("languages",)),
    ("Console logins", ("create-organizer",)),
    ("Settings", ("settings",)),
)
"""The headings ``--help`` lists Action Line's commands under, in order; Flask's own come last."""
OVERVIEW = """Action Line: the SMS and voice call-to-action service, from a terminal.

A supporter texts a demand keyword (CHOKEHOLD), replies CALL and is patched through to the
lawmakers who can act on it; organizers steer it from the console (/console) and from these
commands. Every command reads the same settings as the web process and the worker: the
environment over .env (`settings` shows them, and whether the running worker's differ).

\b
First steps:
  init-db, then the import-* commands       (make run does these)
  create-organizer you@example.org --admin  (a console login)
  simulate +15555550123 MENU                (text the service)
Each command's --help says more; docs/usage.md has them all."""


def init_app(app: Flask) -> None:
    """Add every command and group of every CLI module to ``app.cli``; answer a plain ``flask --help``."""
    for module in MODULES:
        for command in module.commands.commands.values():
            app.cli.add_command(command)
    if flask_help_asked(sys.argv):
        cli.main(args=["--help"], prog_name="flask", obj=ScriptInfo(create_app=lambda: app, load_dotenv_defaults=False))


_FLASK_OPTIONS = {"-A": 1, "--app": 1, "-e": 1, "--env-file": 1, "--debug": 0, "--no-debug": 0}
"""Flask's own options before a command, and how many values each takes."""


def flask_help_asked(argv: list[str]) -> bool:
    """True when ``argv`` is Flask's ``flask`` (or ``python -m flask``) asked only for its help."""
    program = Path(argv[0] if argv else "")
    if program.name != "flask" and program.parts[-2:] != ("flask", "__main__.py"):
        return False
    rest, i = [], 1
    while i < len(argv):
        name, _, value = argv[i].partition("=")
        if name in _FLASK_OPTIONS:
            i += 1 + (_FLASK_OPTIONS[name] if not value else 0)
            continue
        rest.append(argv[i])
        i += 1
    return rest in ([], ["--help"])


def _create_app() -> Flask:
    from app import create_app  # app.py imports this package: import it only when a command runs

    return create_app()


class ActionLine(FlaskGroup):
    """``flask`` with Action Line's overview first and its commands grouped by area.

    It reads no ``.env`` of its own (Flask's ``flask`` loads one found from the current
    directory up): settings come only from ``sms.settings.load_env``, as in the worker.
    """

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        width = formatter.width - 6 - max(map(len, names), default=0)
        listed = {name for _, area in AREAS for name in area}
        for heading, area in [*AREAS, ("Flask's own", tuple(n for n in names if n not in listed))]:
            rows = [(name, command.get_short_help_str(width)) for name in area
                    if (command := self.get_command(ctx, name)) is not None and not command.hidden]
            if rows:
                with formatter.section(heading):
                    formatter.write_dl(rows)


cli = ActionLine(name="flask --app app", help=OVERVIEW, create_app=_create_app, load_dotenv=False,
                 add_version_option=False)


def main(args: Any = None) -> None:
    """``python -m handlers.cli``."""
    cli.main(args=args, prog_name="python -m handlers.cli")
