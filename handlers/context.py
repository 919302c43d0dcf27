"""The one way a handler reaches the process's long-lived clients (``sms.services.Services``)."""

from __future__ import annotations

from flask import Flask, current_app

from sms.services import Services

EXTENSION = "actionline"
"""The key ``create_app()`` stores the services under in ``app.extensions``."""


def services(app: Flask | None = None) -> Services:
    """The services of ``app`` (default: the current app), built once by ``create_app()``."""
    return (app or current_app).extensions[EXTENSION]
