"""Action Line web app factory."""

from __future__ import annotations

import logging
import os
from typing import Any

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from handlers import context
from sms import features, services
from sms.settings import Settings, load_env, startup_warnings

log = logging.getLogger("actionline")
ANNOUNCED = "ACTIONLINE_STARTUP_ANNOUNCED"
"""Set (by gunicorn.conf.py's master) when the start-up warnings were given for this process and its children."""
_announced = False


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment (and ``.env``), overridden by ``test_config``."""
    features.install()
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
    app.extensions[context.EXTENSION] = services.Services.from_settings(settings, transport)
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
    from handlers import actions, api, cli, console, health, home, integrations, sms, status, voice

    for module in (health, home, sms, status, console, voice, integrations, actions, api):
        app.register_blueprint(module.bp)
    cli.init_app(app)
    console.init_app(app)


def _announce(app: Flask, settings: Settings) -> None:
    """Warn about a development-only configuration once per process, when it starts serving.

    Not per ``create_app()`` call, and not from ``flask`` commands (``init-db``, ``--help``...) other
    than ``flask run``. Under gunicorn the master says it once (``gunicorn.conf.py``), not each worker.
    """
    global _announced
    if _announced or os.environ.get(ANNOUNCED) or not _serving():
        return
    _announced = True
    for line in startup_warnings(settings, testing=app.testing):
        log.warning(line)


def _serving() -> bool:
    """False inside a ``flask`` CLI command other than ``flask run``."""
    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.command.name == "run"
