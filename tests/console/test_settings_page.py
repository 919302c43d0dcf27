"""The admin Settings page: every value the web process runs with, masked, beside the worker's."""

from __future__ import annotations

import dataclasses
from html import unescape

import pytest

from sms import settings_report
from tests.support.console import login_as, make_organizer


@pytest.fixture
def admin(client, svc):  # noqa: ANN001, ANN201
    login_as(client, make_organizer(svc, "boss@example.org", "admin"))
    return client


def page(client) -> str:  # noqa: ANN001
    response = client.get("/console/settings")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def test_every_setting_is_shown_with_secrets_masked(admin, svc):
    text = page(admin)
    for key in settings_report.report(svc.settings):
        assert f'id="setting-{key}"' in text
    assert "test-secret" not in text and "test-auth-token" not in text  # SECRET_KEY, TWILIO_AUTH_TOKEN
    assert '<code>CALL_OFFICE_HOURS</code></td><td data-label="Web">off (always open)</td>' in text
    assert '<code>CALL_LIMIT_PER_DAY</code></td><td data-label="Web">5</td>' in text
    assert 'id="worker-unknown"' in text and "is <code>worker.py</code> running?" in text


def test_the_worker_published_settings_are_compared(admin, svc):
    settings_report.publish(svc.redis, svc.settings)
    assert 'id="worker-same"' in page(admin)
    settings_report.publish(svc.redis, dataclasses.replace(svc.settings, quiet_hours=(8, 21), broadcast_cap_day=9))
    text = page(admin)
    assert 'id="worker-differs"' in text
    assert "<code>QUIET_HOURS</code>, <code>BROADCAST_CAP_DAY</code>" in text
    assert ('<tr id="setting-QUIET_HOURS" class="differs"><td data-label="Key"><code>QUIET_HOURS</code></td>'
            '<td data-label="Web">off</td><td data-label="Worker">8-21</td></tr>') in text
