"""What every CLI module shares: the ``Commands`` group class and the filter options.

Each module under ``handlers.cli`` holds its commands on a registry, ``commands = Commands()``:
top-level ones with ``@commands.command(...)``, groups with ``@commands.group(...)``
(``handlers.cli.init_app`` adds them all to ``app.cli``). Through ``Commands`` every
command runs in the app context (it is Flask's ``AppGroup``) and an input the domain
refuses (any ``sms.errors.InputError``: a bad filter, file, transition, account...)
ends as ``Error: <message>`` with exit status 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo

from sms.broadcasts import audiences
from sms.errors import AudienceError, InputError

WORKER_FACING = frozenset({"broadcast", "remind", "simulate", "simulate-call"})
"""Top-level commands that hand work to the worker: they first warn if its settings differ from theirs."""


class Command(click.Command):
    """A command that reports an ``InputError`` as a ``ClickException`` (its message, exit status 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        if _top_level_name(ctx) in WORKER_FACING:
            from handlers.cli.config import warn_if_worker_differs

            if not current_app:  # what the command's own with_appcontext would do a moment later
                ctx.with_resource(ctx.ensure_object(ScriptInfo).load_app().app_context())
            warn_if_worker_differs()
        try:
            return super().invoke(ctx)
        except InputError as exc:
            raise click.ClickException(str(exc)) from exc


def _top_level_name(ctx: click.Context) -> str | None:
    """``broadcast`` for ``flask broadcast send 3``: the command just under the root group."""
    while ctx.parent is not None and ctx.parent.parent is not None:
        ctx = ctx.parent
    return ctx.info_name


class Commands(AppGroup):
    """An ``AppGroup`` of ``Command``s whose subgroups are ``Commands`` too."""

    command_class = Command

    def group(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Group]:  # type: ignore[override]
        kwargs.setdefault("cls", Commands)
        return super().group(*args, **kwargs)


class StateCode(click.ParamType):
    """A US state or territory code (``KY``, ``dc``); anything else is a usage error naming it."""

    name = "state"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return audiences.state_code(value)
        except AudienceError as exc:
            self.fail(str(exc), param, ctx)


FILTER_OPTIONS = [
    click.option("--demand", "demands", multiple=True, help="Texted this demand keyword (repeatable)."),
    click.option("--state", "states", multiple=True, type=StateCode(),
                 help="Two-letter state or territory code (repeatable)."),
    click.option("--district", "districts", multiple=True, help="Congressional district like KY-3 (repeatable)."),
    click.option("--zip", "zips", multiple=True, help="5-digit ZIP (repeatable)."),
    click.option("--language", "languages", multiple=True,
                 help="Texters of this language, like es (repeatable; en includes those who chose none)."),
]


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The audience options shared by ``segment save``, ``broadcast create`` and ``remind create``."""
    for option in reversed(FILTER_OPTIONS):
        fn = option(fn)
    return fn


def filters_of(options: dict[str, Any]) -> dict[str, Any]:
    """Click's option values as an audience filter (tuples of repeated options as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
