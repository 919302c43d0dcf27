"""Console logins: ``flask create-organizer EMAIL [--password PW] [--admin]``."""

from __future__ import annotations

import click

from handlers.cli.base import Commands
from handlers.context import services
from sms.console import organizers

commands = Commands()


@commands.command("create-organizer")
@click.argument("email")
@click.option("--password", default=None, help="Password (prompted for, hidden, when omitted).")
@click.option("--admin", is_flag=True, help="Make an admin (manages organizers and settings).")
def create_organizer(email: str, password: str | None, admin: bool) -> None:
    """Create a console login for EMAIL."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with services().db.session() as session:
        organizer = organizers.create(session, email, password, "admin" if admin else "organizer")
        session.commit()
        click.echo(f"Organizer {organizer.email} created ({organizer.role}).")
