"""Post signed Twilio webhooks to this app in-process: the simulators (CLI and console) use it.

The request goes through the same ``@validate_twilio_request`` as Twilio's, signed with
the app's own auth token, so a simulated text or call exercises the real path.
"""

from __future__ import annotations

from flask import current_app
from werkzeug.test import TestResponse

from sms import simulator


def signed_post(path: str, params: dict[str, str]) -> TestResponse:
    """POST ``params`` to ``path`` (query included) as Twilio would, signed for the public URL."""
    services = current_app.extensions["actionline"]
    signature = simulator.sign(services.settings.auth_token, services.url(path), params)
    return current_app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature},
                                          base_url=services.url(""))
