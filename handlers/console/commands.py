"""``flask create-organizer EMAIL [--password PW] [--admin]``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from sms import organizers


@click.command("create-organizer")
@click.argument("email")
@click.option("--password", default=None, help="Password (prompted for, hidden, when omitted).")
@click.option("--admin", is_flag=True, help="Make an admin (manages organizers and settings).")
@with_appcontext
def create_organizer(email: str, password: str | None, admin: bool) -> None:
    """Create a console login for EMAIL."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    services = current_app.extensions["actionline"]
    with services.db.session() as session:
        try:
            organizer = organizers.create(session, email, password, "admin" if admin else "organizer")
        except organizers.OrganizerError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
    click.echo(f"Organizer {organizer.email} created ({organizer.role}).")
