"""``sms.settings_report``: every setting by key, secrets masked, the worker's published and compared.

Also the one configuration: the web app, the worker and a CLI command read the same ``.env``.
"""

from __future__ import annotations

import dataclasses

import pytest
from redis import Redis

import worker
from sms import services, settings_report
from sms.settings import Settings, load_env
from sms.transport import MemoryTransport
from tests.conftest import REDIS_URL
from tests.test_docs import setting_keys

BASE = {"DATABASE_URL": "sqlite://"}


def test_the_report_lists_every_key_settings_reads_once():
    listed = [key for _, keys in settings_report.GROUPS for key, _ in keys]
    assert len(listed) == len(set(listed))
    assert set(listed) == setting_keys()
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert {name for _, keys in settings_report.GROUPS for _, name in keys} <= fields


def test_secrets_and_url_passwords_are_masked_to_a_fingerprint():
    settings = Settings.from_mapping({
        "DATABASE_URL": "postgresql+psycopg://app:hunter2hunter2@db.internal:5432/actionline",
        "REDIS_URL": "rediss://:redispass123@cache.internal:6380/2", "SECRET_KEY": "s3cret-s3cret-s3cret",
        "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef", "TWILIO_AUTH_TOKEN": "tok-tok-tok-tok"})
    shown = settings_report.report(settings)
    text = repr(shown)
    assert all(secret not in text for secret in ("hunter2hunter2", "redispass123", "s3cret-s3cret", "tok-tok-tok"))
    assert shown["DATABASE_URL"].startswith("postgresql+psycopg://app:***@db.internal:5432/actionline (password "
                                            "fingerprint ")
    assert shown["REDIS_URL"].startswith("rediss://:***@cache.internal:6380/2 (password fingerprint ")
    assert shown["SECRET_KEY"].startswith("set (fingerprint ") and shown["TWILIO_ACCOUNT_SID"] == "AC0123…cdef"
    other = settings_report.report(dataclasses.replace(settings, secret_key="another-secret-entirely"))
    assert [key for key, _, _ in settings_report.differences(shown, other)] == ["SECRET_KEY"]  # seen, not shown


def test_office_hours_call_limits_and_defaults_read_plainly():
    shown = settings_report.report(Settings.from_mapping(BASE))
    assert (shown["CALL_OFFICE_HOURS"], shown["CALL_LIMIT_PER_DAY"], shown["CALL_TARGET_CAP_PER_DAY"]) == (
        "congress=9-17@America/New_York", "5", "0")
    assert (shown["QUIET_HOURS"], shown["BROADCAST_MPS"], shown["WORKER_QUEUES"], shown["SECRET_KEY"]) == (
        "9-20", "1", "high,default,bulk", "(not set)")
    assert shown["TWILIO_AUTH_TOKEN"] == "development token (not secret)"
    assert settings_report.report(Settings.from_mapping({**BASE, "CALL_OFFICE_HOURS": "off", "QUIET_HOURS": "off"}))[
        "CALL_OFFICE_HOURS"] == "off (always open)"


def test_publish_and_compare_skip_what_differs_per_process(redis):
    worker_settings = Settings.from_mapping({**BASE, "QUIET_HOURS": "8-21", "PORT": "5100"})
    assert settings_report.publish(redis, worker_settings)
    found = settings_report.published(redis)
    assert found.values["QUIET_HOURS"] == "8-21" and " pid " in found.process
    mine = settings_report.report(Settings.from_mapping(BASE))
    assert settings_report.differences(mine, found.values) == [("QUIET_HOURS", "9-20", "8-21")]  # not PORT


def test_without_redis_nothing_is_published_and_nothing_found():
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert settings_report.publish(down, Settings.from_mapping(BASE)) is False
    assert settings_report.published(down) is None


@pytest.fixture
def dot_env(tmp_path, monkeypatch) -> dict[str, str]:  # noqa: ANN001
    """A project root whose .env is the only place the settings come from (nothing in the environment)."""
    import sms.settings

    values = {"DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}", "REDIS_URL": REDIS_URL, "QUIET_HOURS": "8-21",
              "CALL_LIMIT_PER_DAY": "7", "BROADCAST_CAP_DAY": "3", "SECRET_KEY": "same-everywhere"}
    (tmp_path / ".env").write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    monkeypatch.setattr(sms.settings, "ROOT", tmp_path)
    for key in [*values, "WORKER_LOG_LEVEL", "PORT"]:
        monkeypatch.delenv(key, raising=False)
    return values


def test_the_web_app_the_worker_and_the_cli_read_the_same_env_file(dot_env, redis, monkeypatch):
    from app import create_app

    monkeypatch.setattr(worker.StoppableWorker, "work", lambda self, **kwargs: None)
    try:
        worker.main(["--burst"])  # publishes what it runs with
    finally:
        services.bind(None)
    app = create_app({"TESTING": True, "TRANSPORT": MemoryTransport()})
    try:
        web = settings_report.report(app.extensions["actionline"].settings)
        assert web == settings_report.report(Settings.from_mapping(load_env()))
        assert (web["QUIET_HOURS"], web["CALL_LIMIT_PER_DAY"], web["BROADCAST_CAP_DAY"]) == ("8-21", "7", "3")
        assert settings_report.published(redis).values == web
        output = app.test_cli_runner().invoke(args=["settings"]).output
    finally:
        app.extensions["actionline"].close()
    assert "  QUIET_HOURS" in output and "8-21" in output
    assert output.strip().endswith("runs with the same settings.")

