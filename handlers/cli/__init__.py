"""Organizer CLI: ``flask --app app <command>``, one module per area (see ``handlers.cli.base``)."""

from __future__ import annotations

from flask import Flask

from handlers.cli import broadcasts, calls, congress, data, organizers, simulate

MODULES = (data, congress, calls, broadcasts, organizers, simulate)


def init_app(app: Flask) -> None:
    """Add every command and group of every CLI module to ``app.cli``."""
    for module in MODULES:
        for command in module.commands.commands.values():
            app.cli.add_command(command)
