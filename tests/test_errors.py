"""The error tree's helpers: Retry-After, read once for Twilio and for the integrations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sms.errors import retry_after_seconds

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "seconds"), [
    ("30", 30.0), (" 2.5 ", 2.5), ("-4", 0.0),
    ("Tue, 01 Dec 2026 12:01:00 GMT", 60.0), ("Tue, 01 Dec 2026 11:59:00 GMT", 0.0),
    ("Tue, 01 Dec 2026 12:00:10", 10.0),  # no zone: HTTP dates are GMT
    ("", None), (None, None), ("soon", None),
])
def test_retry_after_is_seconds_or_an_http_date(value, seconds):
    assert retry_after_seconds(value, NOW) == seconds
