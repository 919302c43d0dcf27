"""Action Line web app factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from sms import conversation, services
from sms.settings import Settings, load_env

log = logging.getLogger("actionline")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment (and ``.env``), overridden by ``test_config``."""
    app = Flask(__name__)
    env = {**load_env(), **(test_config or {})}
    settings = Settings.from_mapping(env)
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key or "dev-only-secret-change-me",
        MAX_CONTENT_LENGTH=256 * 1024,
        ACTIONLINE=settings,
    )
    app.config.update(test_config or {})
    transport = (test_config or {}).get("TRANSPORT")
    app.extensions["actionline"] = services.Services.from_settings(settings, transport)
    conversation.load_commands()
    _trust_proxies(app, settings.proxy_hops)
    _register(app)
    _announce(app, settings)
    return app


def _trust_proxies(app: Flask, hops: int) -> None:
    """Believe X-Forwarded-For/-Proto/-Host from the last ``hops`` proxies (PROXY_HOPS; 0 = none).

    The scheme and host matter: without PUBLIC_BASE_URL, Twilio signatures are checked
    against the URL as the client saw it, which only the proxy knows.
    """
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _register(app: Flask) -> None:
    from handlers import cli, console, health, sms, status, voice
    from handlers.console import commands

    for module in (health, sms, status, console, voice):
        app.register_blueprint(module.bp)
    cli.init_app(app)
    console.init_app(app)
    app.cli.add_command(commands.create_organizer)


def _announce(app: Flask, settings: Settings) -> None:
    if settings.outbox_mode:
        log.warning("No TWILIO_ACCOUNT_SID: outbox mode, nothing leaves this machine.")
    if settings.dev_token:
        log.warning("No TWILIO_AUTH_TOKEN: webhooks must be signed with the development token %r.",
                    settings.auth_token)
    if not settings.secret_key and not app.testing:
        log.warning("No SECRET_KEY: using an insecure development key.")
