"""Gunicorn reads this file from the working directory; the Procfile's ``web`` line holds the options.

Only a start-up hook: the master gives the configuration warnings (outbox mode, development token,
no SECRET_KEY) once, instead of each worker's ``create_app()`` giving them again.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def when_ready(server: Any) -> None:
    """In the master, before the workers are forked: warn once, and tell the workers it is done."""
    before = set(sys.modules)
    try:
        from sms.errors import ConfigError
        from sms.settings import Settings, load_env, startup_warnings

        try:
            lines = startup_warnings(Settings.from_mapping(load_env()))
        except ConfigError:
            return  # each worker's create_app() stops on it, naming the key
        for line in lines:
            server.log.warning(line)
        os.environ["ACTIONLINE_STARTUP_ANNOUNCED"] = "1"  # app.ANNOUNCED, inherited by the workers
    finally:
        # No preload: each worker imports the project itself, so a HUP still loads new code.
        for name in set(sys.modules) - before:
            if name == "sms" or name.startswith("sms."):
                del sys.modules[name]
