"""A real worker process answers spooled texts exactly as the web process answers them live.

Texts kept in the inbound spool while the database was down are replayed by the worker
(``sms.tasks.replay_spool``). The worker never runs ``create_app()``, so this proves that
``sms.features.install()`` gives it the same conversation: CALL, the ZIP it asks for,
LESS, LATER and DISTRICT, not "Sorry, we didn't get that".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sms.messaging import inbound, spool
from sms.store import Message
from tests.conftest import BASE_URL, Phone
from tests.support.faults import Workers, wait_for

TEXTS = ["CHOKEHOLD", "CALL", "10001", "LESS", "LATER", "DISTRICT NY-12", "MORE"]
LIVE, SPOOLED = "+14155550001", "+14155550002"


def replies_to(svc: Any, phone: str) -> list[str]:
    with svc.db.session() as session:
        return list(session.scalars(select(Message.body).where(Message.phone == phone, Message.kind == "reply")
                                    .order_by(Message.id)))


def worker_env(config: dict[str, Any]) -> dict[str, str]:
    """The settings the web app runs with, as the worker's environment (no Twilio account: the outbox)."""
    keys = ("DATABASE_URL", "REDIS_URL", "TWILIO_PHONE_NUMBER", "ORG_NAME", "QUIET_HOURS", "CALL_OFFICE_HOURS",
            "FOLLOWUP_DELAY_SECONDS")
    return {**{key: str(config[key]) for key in keys}, "PUBLIC_BASE_URL": BASE_URL}


@pytest.mark.slow
def test_worker_replays_spooled_texts_with_the_replies_the_web_gives(client, svc, config, targets_db,
                                                                    tmp_path: Path):
    live = Phone(client, LIVE)
    for body in TEXTS:
        live.text(body)
    expected = replies_to(svc, LIVE)
    assert len(expected) >= len(TEXTS)  # every text answered (the first also gets the opt-in disclosure)
    assert not any(reply.startswith("Sorry, we didn't get that") for reply in expected)

    for n, body in enumerate(TEXTS):
        spool.keep(svc.redis, inbound.InboundSms(sid=f"SM{n:032d}", phone=SPOOLED, body=body))
    workers = Workers(config["DATABASE_URL"], config["REDIS_URL"], tmp_path)
    workers.env.update(worker_env(config))
    workers.start()
    try:
        wait_for(lambda: spool.pending(svc.redis) == 0 and len(replies_to(svc, SPOOLED)) >= len(expected),
                 what="the worker to replay the spool")
    finally:
        workers.stop_all()
    assert replies_to(svc, SPOOLED) == expected, workers.logs()
    assert SPOOLED not in workers.logs()  # the texter's number is masked in the worker's log too
