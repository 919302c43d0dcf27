"""Errors that know what to tell the texter.

    SmsError                 base; ``reply`` is safe to send back
    ├── InvalidNumber        a phone number that cannot be E.164
    ├── InvalidZip           a ZIP that is malformed or unknown
    └── LimitReached         a per-caller or per-target limit
    TransportError           sending failed; ``code`` is Twilio's, ``retryable`` says what to do
"""

from __future__ import annotations

import random

from sms import defaults


class SmsError(Exception):
    reply = "Sorry, something went wrong. Reply MENU to start again."

    def __init__(self, detail: str = "", reply: str | None = None) -> None:
        super().__init__(detail or self.reply)
        if reply is not None:
            self.reply = reply


class InvalidNumber(SmsError):
    reply = "That doesn't look like a phone number we can use."


class InvalidZip(SmsError):
    reply = "That doesn't look like a US ZIP code. Reply with 5 digits, e.g. 02139."


class LimitReached(SmsError):
    reply = "You've reached today's limit. Thank you for taking action - try again tomorrow."


class TransportError(Exception):
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
