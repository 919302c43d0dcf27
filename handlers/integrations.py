"""POST /integrations/optout: opt-outs coming back from the CRM, signed with CRM_OPTOUT_SECRET.

Failure modes: no secret configured or a bad, missing or stale signature → 403 and nothing
changes; a body that is not one of the shapes ``sms.integrations.optouts`` reads → 400.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, abort, jsonify, request

from handlers.context import services
from sms.errors import IntegrationError
from sms.integrations import optouts, webhooks

log = logging.getLogger(__name__)
bp = Blueprint("integrations", __name__, url_prefix="/integrations")


@bp.post("/optout")
def crm_optout() -> Any:
    """Opt out the numbers in a signed body (source ``crm`` in the consent history)."""
    body = request.get_data()
    secret = services().settings.crm_optout_secret
    if not webhooks.verify(secret, request.headers.get(webhooks.SIGNATURE_HEADER, ""), body):
        log.warning("refused an opt-out without a valid signature%s", "" if secret else " (no CRM_OPTOUT_SECRET)")
        abort(403)
    try:
        numbers, reason = optouts.numbers_in(json.loads(body))
    except (ValueError, IntegrationError) as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(optouts.receive(services(), numbers, reason))
