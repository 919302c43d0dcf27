"""Every domain error, each knowing what to tell the person who caused it.

    ActionLineError          base; ``reply`` is what the texter or organizer is told
    ├── SmsError             a texter's request failed; ``reply`` is safe to text back
    │   ├── InvalidNumber    a phone number that cannot be E.164
    │   ├── InvalidZip       a ZIP that is malformed or unknown
    │   └── LimitReached     a per-caller or per-target limit
    ├── InputError           an organizer's input was refused (also a ValueError); ``reply`` says why
    │   ├── ConfigError      a setting is missing or malformed (start-up stops)
    │   ├── CatalogueError   the demands catalogue or an edit to it
    │   ├── OptOutRulesError data/opt_out.yaml, the words that opt a texter out
    │   ├── DataError        a data file to import (legislators, ZIPs, custom targets)
    │   │   └── FetchError   a data file could not be fetched (HTTP error, timeout, rate limit)
    │   ├── StanceError      a stances file
    │   ├── AudienceError    a broadcast filter or saved segment
    │   ├── BroadcastError   a broadcast's body, or an impossible transition
    │   ├── OrganizerError   an organizer account change
    │   ├── IntegrationError a webhook destination, an event replay or a signed opt-out
    │   └── WebError         a web action refused (bad field, a guard); ``key`` names its text in data/web.yaml
    └── TransportError       sending failed; ``code`` is Twilio's, ``retryable`` says what to do

Handlers turn an ``SmsError`` into a 200 TwiML reply, an ``InputError`` into a form
error or a CLI message; nothing in this tree becomes a 500.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from sms import defaults


class ActionLineError(Exception):
    reply = "Sorry, something went wrong."

    def __init__(self, detail: str = "", reply: str | None = None) -> None:
        super().__init__(detail or self.reply)
        if reply is not None:
            self.reply = reply


class SmsError(ActionLineError):
    reply = "Sorry, something went wrong. Reply MENU to start again."


class InputError(ActionLineError, ValueError):
    """The organizer's input cannot be used; the message names the item, file or line."""

    def __init__(self, detail: str = "", reply: str | None = None) -> None:
        super().__init__(detail, reply if reply is not None else detail)


class WebError(InputError):
    """A request from an action page, the widget or the API was refused.

    ``key`` names the text shown (data/web.yaml, in the page's language), ``field`` the form
    field it is about ("" for the whole form), ``status`` the HTTP status. ``detail`` is for
    logs only: the page never says which bot guard caught a request.
    """

    def __init__(self, key: str, detail: str = "", field: str = "", status: int = 400, **values: str) -> None:
        super().__init__(detail or key, reply=key)
        self.key, self.field, self.status, self.values = key, field, status, values


class InvalidNumber(SmsError):
    reply = "That doesn't look like a phone number we can use."


class InvalidZip(SmsError):
    reply = "That doesn't look like a US ZIP code. Reply with 5 digits, e.g. 02139."


class LimitReached(SmsError):
    reply = "You've reached today's limit. Thank you for taking action - try again tomorrow."


class ConfigError(InputError):
    """A configuration value is missing or malformed."""


class CatalogueError(InputError):
    """The catalogue file or an edit to it is invalid; the message names the item."""


class OptOutRulesError(InputError):
    """The opt-out rules file is invalid; the message names the entry."""


class DataError(InputError):
    """A data file is unusable; the message names the file and line."""


class FetchError(DataError):
    """Upstream's file could not be fetched; the message names the URL and what the server (or nobody) said."""


class StanceError(InputError):
    """The stances file is unusable; the message names the line."""


class AudienceError(InputError):
    """A filter or segment name that cannot be used (the message says which)."""


class BroadcastError(InputError):
    """Bad input or an impossible transition (the message is for the organizer)."""


class OrganizerError(InputError):
    """An organizer cannot be created or changed as asked; the message says why."""


class IntegrationError(InputError):
    """A webhook destination, a replay or a signed request that cannot be used; the message says why."""


class TransportError(ActionLineError):
    """Sending through Twilio (or the outbox) failed."""

    def __init__(self, message: str, code: int | None = None, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """429 and 5xx are worth retrying; Twilio's permanent error codes never are."""
        if self.code in defaults.PERMANENT_ERROR_CODES:
            return False
        return self.status == 429 or (self.status or 0) >= 500 or self.status is None

    @property
    def opted_out(self) -> bool:
        return self.code == defaults.OPTED_OUT_ERROR_CODE

    @property
    def outcome_unknown(self) -> bool:
        """No answer (timeout, dropped connection): the request may have reached Twilio, so never resend blind."""
        return self.status is None and self.code is None

    def retry_delay(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (0-based): jittered back-off, at least Twilio's Retry-After."""
        interval = defaults.RETRY_INTERVALS[min(attempt, len(defaults.RETRY_INTERVALS) - 1)]
        delay = interval * random.uniform(0.8, 1.2)
        if self.retry_after:
            delay = max(delay, min(self.retry_after, defaults.RETRY_AFTER_MAX_SECONDS))
        return delay


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header as seconds: a number, or an HTTP date counted from ``now`` (None if neither)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
