"""``flask settings``: what a command runs with, beside what the running worker published.

Also ``warn_if_worker_differs``, which the commands that hand work to the worker call first
(``handlers.cli.base.Command``): a broadcast sent with other quiet hours, caps or Twilio
credentials than the worker's would not do what the command says.
"""

from __future__ import annotations

import click

from handlers.cli.base import Commands
from handlers.context import services
from sms import settings_report
from sms.settings import ROOT

commands = Commands()


@commands.command("settings")
def show_settings() -> None:
    """Every setting this command runs with (secrets masked), and whether the worker's are the same."""
    svc = services()
    mine = settings_report.report(svc.settings)
    click.echo(f"Settings of this command: the environment, then {ROOT / '.env'} (the environment wins).")
    width = max(len(key) for key in mine)
    for group, rows in settings_report.grouped(mine):
        click.echo(f"\n{group}")
        for key, value in rows:
            click.echo(f"  {key:<{width}}  {value}")
    worker = settings_report.published(svc.redis)
    click.echo("")
    if worker is None:
        click.echo("No worker has published its settings (worker.py publishes them when it starts).")
        return
    found = settings_report.differences(mine, worker.values)
    if not found:
        click.echo(f"The worker ({worker.process}, started {worker.started_at:%Y-%m-%d %H:%M} UTC) "
                   "runs with the same settings.")
        return
    click.echo(f"The worker ({worker.process}, started {worker.started_at:%Y-%m-%d %H:%M} UTC) differs:")
    for key, here, there in found:
        click.echo(f"  {key}: {here} here, {there} in the worker")


def warn_if_worker_differs() -> None:
    """Say on stderr, in one line per key, where this command's settings differ from the running worker's."""
    svc = services()
    worker = settings_report.published(svc.redis)
    if worker is None:
        return
    found = settings_report.differences(settings_report.report(svc.settings), worker.values)
    if not found:
        return
    click.echo(f"Warning: the worker ({worker.process}, started {worker.started_at:%Y-%m-%d %H:%M} UTC) runs with "
               "other settings than this command:", err=True)
    for key, here, there in found:
        click.echo(f"  {key}: {here} here, {there} in the worker", err=True)
    click.echo("  Give both the same environment (or .env) and restart the one that is wrong; "
               "flask settings shows them all.", err=True)
