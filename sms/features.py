"""Every feature's part in the shared tables, listed once and installed explicitly.

The conversation, the dashboard, delivery status callbacks, opt-outs, erasure and the
event emitters (consent, interests, calls, call-backs, broadcast recipients) are
shared by several feature packages. Nothing adds itself to them when imported:
``install()`` puts exactly what is listed here in place (and reads the files it depends on, so a
bad one stops start-up), and both ``create_app()`` and ``worker.main()`` call it first, so the
web process and the worker answer a text, a status callback or an opt-out the same way. The voice
steps have their one table in ``sms.calls.steps``; the periodic jobs theirs in ``sms.cron.PERIODIC``.
"""

from __future__ import annotations

from sms import store
from sms.broadcasts import dispatch, recovery
from sms.broadcasts import models as broadcast_models
from sms.calls import call_log, later, outcomes, sessions
from sms.calls import commands as call_commands
from sms.calls import models as call_models
from sms.console import dashboard
from sms.console import models as console_models
from sms.integrations import events
from sms.integrations import models as integration_models
from sms.messaging import compliance, conversation, delivery_status, intent, preferences, privacy, subscribers
from sms.targets import models as target_models
from sms.web import models as web_models
from sms.web import texts as web_texts

CONVERSATION: tuple[conversation.Words, ...] = (
    conversation.words,  # MENU, CAMPAIGNS, YES/NO
    privacy.words,  # PRIVACY, DELETE and its question
    call_commands.words,  # CALL, ZIP, DISTRICT and their questions
    later.words,  # CANCEL CALL, the call-back offer
    outcomes.words,  # the after-call question
    preferences.words,  # LESS, MORE, LATER
)
"""The words and pending questions a text can meet (compliance words come first, in ``respond``)."""
CHARTS: tuple[dashboard.Charts, ...] = (dashboard.charts, call_log.charts)
"""Dashboard series and tables, in the order their groups are drawn."""
STATUS_LISTENERS = (recovery.on_status,)
"""Hear every Twilio message status callback (broadcast deliveries follow their message's status)."""
OPT_OUT_HOOKS = (later.cancel_on_opt_out, compliance.resolve_on_opt_out)
"""Run on every opt-out, in the same transaction."""
ERASERS = (sessions.erase_calls, events.erase)
"""Erase a feature's personal data of a subscriber (DELETE, retention), in the same transaction."""
CONSENT_HOOKS = (events.on_consent,)
"""Hear every consent change (joined, opted out, opted in), in the same transaction."""
LANGUAGE_HOOKS = (events.on_language,)
"""Hear a subscriber's language change, in the same transaction."""
INTEREST_HOOKS = (events.on_interest,)
"""Hear a subscriber's first text of each keyword, in the same transaction."""
CALL_HOOKS = (events.on_call,)
"""Hear a call end and the caller's report of it, in the same transaction."""
BOOKING_HOOKS = (events.on_booking,)
"""Hear a call-back booked for later, in the same transaction."""
RECIPIENT_HOOKS = (events.on_recipient,)
"""Hear a broadcast recipient's delivery end (delivered or failed), in the same transaction."""
MODELS = (store, call_models, target_models, broadcast_models, console_models, integration_models, web_models)
"""Modules that declare tables on ``sms.store.Base``."""


def install() -> None:
    """Put every listed feature in place in this process (idempotent); a bad data/opt_out.yaml or
    data/web.yaml stops it."""
    intent.rules()
    web_texts.catalogue()
    conversation.install(CONVERSATION)
    dashboard.install(CHARTS)
    delivery_status.LISTENERS[:] = STATUS_LISTENERS
    compliance.OPT_OUT_HOOKS[:] = OPT_OUT_HOOKS
    subscribers.ERASERS[:] = ERASERS
    compliance.CONSENT_HOOKS[:] = CONSENT_HOOKS
    subscribers.INTEREST_HOOKS[:] = INTEREST_HOOKS
    subscribers.LANGUAGE_HOOKS[:] = LANGUAGE_HOOKS
    outcomes.CALL_HOOKS[:] = CALL_HOOKS
    later.BOOKING_HOOKS[:] = BOOKING_HOOKS
    dispatch.RECIPIENT_HOOKS[:] = RECIPIENT_HOOKS


def load_models() -> type[store.Base]:
    """``Base`` with every feature's tables (for Alembic and schema checks)."""
    missing = [module.__name__ for module in MODELS if not _declares_tables(module)]
    if missing:
        raise RuntimeError(f"model modules without tables: {', '.join(missing)}")
    return store.Base


def _declares_tables(module: object) -> bool:
    return any(isinstance(value, type) and issubclass(value, store.Base) and hasattr(value, "__table__")
               for value in vars(module).values())
