"""The factory, configuration, signatures, health probes and status callbacks."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from sms.console import simulator
from sms.settings import ConfigError, Settings
from sms.store import ConsentEvent, Message, Subscriber
from tests.conftest import BASE_URL, TOKEN, signed_post

ROOT = Path(__file__).resolve().parent.parent


def count(svc, model) -> int:
    with svc.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"QUIET_HOURS": "late"}, "QUIET_HOURS"),
        ({"QUIET_HOURS": "20-9"}, "QUIET_HOURS"),
        ({"INBOUND_LIMIT_PER_HOUR": "lots"}, "INBOUND_LIMIT_PER_HOUR"),
        ({"PUBLIC_BASE_URL": "actionline.org"}, "PUBLIC_BASE_URL"),
        ({"TWILIO_ACCOUNT_SID": "XX123"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
        ({"STOP_CONFIRMATION": "perhaps"}, "STOP_CONFIRMATION"),
        ({"CONSOLE_TIMEZONE": "Mars/Olympus_Mons"}, "CONSOLE_TIMEZONE"),
    ],
)
def test_bad_configuration_stops_startup_naming_the_key(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_mapping({"DATABASE_URL": "sqlite://", **env})


def test_no_credentials_means_outbox_mode_and_a_dev_token():
    settings = Settings.from_mapping({"DATABASE_URL": "sqlite://"})
    assert settings.outbox_mode and settings.dev_token
    assert settings.quiet_hours == (9, 20)


def test_twilio_credentials_select_the_sdk_transport(database_url):
    from sms.transport import TwilioTransport

    application = create_app({"DATABASE_URL": database_url, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
                              "TWILIO_AUTH_TOKEN": "secret"})
    assert isinstance(application.extensions["actionline"].transport, TwilioTransport)


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_when_everything_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["redis"] == "ok"


def test_readyz_is_503_when_redis_is_down(config, redis):
    application = create_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = application.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "ok", "redis": "unreachable"}


def test_readyz_is_503_when_the_database_is_unreachable(config, redis):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    response = create_app({**config, "DATABASE_URL": url}).test_client().get("/readyz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def sms_params(body="MENU", sid="SMsig000000000000000000000000000001"):
    return simulator.sms_params("+16175550123", body, "+15005550006", sid=sid)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Twilio-Signature": ""},
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        {"X-Twilio-Signature": simulator.sign("other-token", BASE_URL + "/sms", sms_params())},
        {"X-Twilio-Signature": simulator.sign(TOKEN, "https://evil.example/sms", sms_params())},
        {"X-Twilio-Signature": simulator.sign(TOKEN, BASE_URL + "/sms", sms_params("STOP"))},  # body changed
    ],
)
@pytest.mark.parametrize("path", ["/sms", "/sms/status"])
def test_unsigned_or_badly_signed_requests_get_403_and_change_nothing(client, svc, headers, path):
    response = client.post(path, data=sms_params(), headers=headers)
    assert response.status_code == 403
    assert count(svc, Message) == 0 and count(svc, Subscriber) == 0


def test_signature_falls_back_to_the_request_url_without_public_base_url(config, redis, transport):
    application = create_app({**config, "PUBLIC_BASE_URL": "", "TRANSPORT": transport})
    client = application.test_client()
    params = sms_params()
    good = simulator.sign(TOKEN, "http://localhost/sms", params)
    assert client.post("/sms", data=params, headers={"X-Twilio-Signature": good}).status_code == 200
    proxied = simulator.sign(TOKEN, "https://public.example/sms", {**params, "MessageSid": "SMother"})
    headers = {"X-Twilio-Signature": proxied, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example"}
    assert client.post("/sms", data={**params, "MessageSid": "SMother"}, headers=headers).status_code == 200


def test_signature_covers_the_query_string(client):
    params = sms_params()
    signature = simulator.sign(TOKEN, BASE_URL + "/sms?campaign=1", params)
    assert client.post("/sms?campaign=1", data=params, headers={"X-Twilio-Signature": signature}).status_code == 200
    assert client.post("/sms?campaign=2", data=params, headers={"X-Twilio-Signature": signature}).status_code == 403


def test_get_is_not_allowed_on_webhooks(client):
    assert client.get("/sms").status_code == 405


def test_signed_request_without_message_fields_gets_empty_twiml(client, svc):
    response = signed_post(client, "/sms", {"Body": "hello"})
    assert response.status_code == 200 and response.get_data(as_text=True).endswith("<Response />")
    assert count(svc, Message) == 0


def test_status_callback_records_status_and_error_code(phone, client, svc):
    phone.text("HI")
    with svc.db.session() as session:
        reply = session.scalar(select(Message).where(Message.direction == "out"))
        reply.twilio_sid, reply.status = "SMout1", "sent"
        session.commit()
    for status in ("delivered", "sent"):  # a late 'sent' must not undo 'delivered'
        response = signed_post(client, "/sms/status", {"MessageSid": "SMout1", "MessageStatus": status})
        assert response.status_code == 204
    with svc.db.session() as session:
        assert session.scalar(select(Message.status).where(Message.twilio_sid == "SMout1")) == "delivered"
    signed_post(client, "/sms/status", {"MessageSid": "SMout1", "MessageStatus": "undelivered", "ErrorCode": "30007"})
    with svc.db.session() as session:
        row = session.scalar(select(Message).where(Message.twilio_sid == "SMout1"))
    assert row.status == "undelivered" and row.error_code == 30007


def test_status_21610_opts_the_number_out(phone, client, svc):
    phone.text("HI")
    with svc.db.session() as session:
        session.scalar(select(Message).where(Message.direction == "out")).twilio_sid = "SMout2"
        session.commit()
    signed_post(client, "/sms/status", {"MessageSid": "SMout2", "MessageStatus": "failed", "ErrorCode": "21610"})
    with svc.db.session() as session:
        assert session.scalar(select(Subscriber.status)) == "opted_out"
        assert session.scalar(select(ConsentEvent.source).order_by(ConsentEvent.id.desc())) == "twilio-21610"


@pytest.mark.parametrize("form", [{}, {"MessageSid": "SMnope", "MessageStatus": "delivered"},
                                  {"MessageSid": "SMx", "MessageStatus": "exploded"}])
def test_status_callback_for_unknown_or_malformed_is_harmless(client, form):
    assert signed_post(client, "/sms/status", form).status_code == 204


def test_procfile_entries_point_at_real_code():
    procfile = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(procfile) == {"web", "worker"}
    module, factory = re.search(r'"(\w+):(\w+)\(\)"', procfile["web"]).groups()
    assert callable(getattr(importlib.import_module(module), factory))
    assert "worker.py" in procfile["worker"]
    worker = importlib.import_module("worker")
    assert callable(worker.main)


def test_request_body_size_is_capped(client):
    response = client.post("/sms", data={"Body": "x" * 300_000}, headers={"X-Twilio-Signature": "c2ln"})
    assert response.status_code == 413


def test_callback_urls_without_a_public_base_use_the_local_port():
    from sms.services import Services

    settings = Settings.from_mapping({"DATABASE_URL": "sqlite://", "PORT": "5077"})
    assert Services(settings, None, None, None).url("/voice/answer") == "http://127.0.0.1:5077/voice/answer"
    assert Settings.from_mapping({"DATABASE_URL": "sqlite://"}).port == 5000
