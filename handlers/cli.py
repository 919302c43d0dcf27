"""Organizer CLI: ``flask --app app <command>``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import click
import requests
from flask import Flask, current_app
from flask.cli import with_appcontext

from sms import catalogue, simulator, store

CATALOGUE_HELP = "Catalogue YAML (default: data/demands.yaml)."


def init_app(app: Flask) -> None:
    from handlers import broadcast_cli, callcli

    for cmd in (init_db, import_catalogue_command, simulate):
        app.cli.add_command(cmd)
    broadcast_cli.init_app(app)
    callcli.init_app(app)


def services():  # noqa: ANN201 - sms.services.Services
    return current_app.extensions["actionline"]


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    store.upgrade(services().settings.database_url)
    click.echo("Database is at the latest schema.")


@click.command("import-catalogue")
@with_appcontext
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--if-empty", is_flag=True, help="Only seed an empty catalogue; keep organizers' edits otherwise.")
def import_catalogue_command(path: Path | None, if_empty: bool) -> None:
    """Load demands, campaigns and texts from YAML (idempotent; overwrites edits made in the console)."""
    try:
        data = catalogue.load_yaml(path or catalogue.DEFAULT_PATH)
        with services().db.session() as session:
            if if_empty and catalogue.is_loaded(session):
                click.echo("Catalogue already loaded; keeping its edits (run import-catalogue to reload the YAML).")
                return
            summary = catalogue.import_catalogue(session, data)
    except catalogue.CatalogueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Catalogue: {summary.added} added, {summary.changed} changed, {summary.unchanged} unchanged.")


@click.command("simulate")
@with_appcontext
@click.argument("sender")
@click.argument("body")
@click.option("--url", default=None, help="Base URL of a running app (default: in-process).")
def simulate(sender: str, body: str, url: str | None) -> None:
    """Text BODY from SENDER to the service through the signed webhook and print the reply."""
    svc = services()
    params = simulator.sms_params(sender, body, svc.settings.phone_number)
    if url:
        target = url.rstrip("/") + "/sms"
        signature = simulator.sign(svc.settings.auth_token, target, params)
        try:
            response = requests.post(target, data=params, headers={"X-Twilio-Signature": signature}, timeout=15)
        except requests.RequestException as exc:
            raise click.ClickException(f"cannot reach {target}: is the service running? ({exc.__class__.__name__})")
        status, xml = response.status_code, response.text
    else:
        target = svc.url("/sms") if svc.settings.public_base_url else "http://localhost/sms"
        signature = simulator.sign(svc.settings.auth_token, target, params)
        response = current_app.test_client().post(
            "/sms", data=params, headers={"X-Twilio-Signature": signature}, base_url="http://localhost"
        )
        status, xml = response.status_code, response.get_data(as_text=True)
    if status != 200:
        raise click.ClickException(f"the service answered HTTP {status}")
    replies = [m.text or "" for m in ET.fromstring(xml).findall("./Message")]
    for reply in replies or ["(no reply)"]:
        click.echo(reply)
        click.echo("---")
