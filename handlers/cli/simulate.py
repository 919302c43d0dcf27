"""``flask simulate SENDER BODY``: text the service as Twilio would, through the signed webhook.

The request goes through the same ``@validate_twilio_request`` as Twilio's, signed with
the app's own auth token, so a simulated text or call (this command, ``flask simulate-call``
and the console's simulator page) exercises the real path.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import click
import requests

from handlers.cli.base import Commands
from handlers.context import services
from handlers.twilio_auth import signed_post
from sms.console import simulator

commands = Commands()


def _post_to(url: str, params: dict[str, str]) -> tuple[int, str]:
    """POST the signed webhook to a running service at ``url``."""
    target = url.rstrip("/") + "/sms"
    signature = simulator.sign(services().settings.auth_token, target, params)
    try:
        response = requests.post(target, data=params, headers={"X-Twilio-Signature": signature}, timeout=15)
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach {target}: is the service running? ({exc.__class__.__name__})")
    return response.status_code, response.text


@commands.command("simulate")
@click.argument("sender")
@click.argument("body")
@click.option("--url", default=None, help="Base URL of a running app (default: in-process).")
def simulate(sender: str, body: str, url: str | None) -> None:
    """Text BODY from SENDER to the service through the signed webhook and print the reply.

    With Twilio credentials set, a SENDER that looks like a real phone gets a warning first:
    what the service sends later (follow-ups, call-backs) would reach that phone for real.
    """
    settings = services().settings
    warning = simulator.real_phone_warning(sender, settings.outbox_mode)
    if warning:
        click.echo(warning, err=True)
    params = simulator.sms_params(sender, body, settings.phone_number)
    if url:
        status, xml = _post_to(url, params)
    else:
        response = signed_post("/sms", params)
        status, xml = response.status_code, response.get_data(as_text=True)
    if status != 200:
        raise click.ClickException(f"the service answered HTTP {status}")
    replies = [m.text or "" for m in ET.fromstring(xml).findall("./Message")]
    for reply in replies or ["(no reply)"]:
        click.echo(reply)
        click.echo("---")
