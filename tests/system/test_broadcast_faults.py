"""Fault tests: a real worker process killed, or Redis flushed, mid-broadcast.

Each ends with every recipient messaged exactly once, counted in the outbox the
worker's OutboxTransport writes to.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from sms.broadcasts import recovery
from sms.services import Services
from sms.store import OutboxItem
from sms.transport import OutboxTransport
from tests.conftest import REDIS_URL, ROOT
from tests.support.broadcasts import broadcast_status, start_broadcast, statuses
from tests.support.faults import kill_tree, stop_group, wait_for

pytestmark = pytest.mark.slow
RECIPIENTS = 60


@pytest.fixture
def outbox_svc(svc):
    """The test's view of the service, sending (and reconciling) through the same outbox as the worker."""
    settings = dataclasses.replace(svc.settings, broadcast_stale_seconds=2)
    return Services(settings, svc.db, svc.redis, OutboxTransport(svc.db, settings.phone_number))


@pytest.fixture
def workers(svc, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    env.update(DATABASE_URL=svc.settings.database_url, REDIS_URL=REDIS_URL, QUIET_HOURS="off",
               BROADCAST_STALE_SECONDS="2", PYTHONUNBUFFERED="1")
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"worker{len(started)}.log", "w")  # noqa: SIM115 - closed with the process
        # A session of its own, so a kill reaches RQ's scheduler child process too.
        proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log, stderr=log,
                                start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        stop_group(proc, timeout=10)


def outbox_count(svc) -> int:
    with svc.db.session() as session:
        return session.scalar(select(func.count()).select_from(OutboxItem))


def finish(outbox_svc, broadcast_id, start_worker, worker) -> subprocess.Popen:
    """Run the sweeper (as the worker's cron would) until the broadcast is sent, restarting dead workers."""

    def done() -> bool:
        nonlocal worker
        if worker.poll() is not None:
            worker = start_worker()
        recovery.sweep(outbox_svc)
        return broadcast_status(outbox_svc, broadcast_id) == "sent"

    wait_for(done, 60, interval=0.2)  # each poll runs the sweeper once
    return worker


def assert_each_messaged_once(svc, phones, broadcast_id) -> None:
    with svc.db.session() as session:
        per_phone = dict(session.execute(select(OutboxItem.to, func.count()).group_by(OutboxItem.to)).all())
    assert per_phone == {phone: 1 for phone in phones}
    assert statuses(svc, broadcast_id) == {"sent": len(phones)}


def test_worker_killed_mid_broadcast_resumes_without_duplicates(outbox_svc, workers):
    phones, broadcast_id = start_broadcast(outbox_svc, RECIPIENTS, mps=30)
    first = workers()
    wait_for(lambda: outbox_count(outbox_svc) >= 10, 60, interval=0.2)
    kill_tree(first)  # the worker, its scheduler child and the work horse sending the batch
    assert outbox_count(outbox_svc) < RECIPIENTS
    assert statuses(outbox_svc, broadcast_id).get("sending", 0) > 0  # killed mid-batch: outcomes unknown
    finish(outbox_svc, broadcast_id, workers, workers())
    assert_each_messaged_once(outbox_svc, phones, broadcast_id)


def test_redis_flushed_mid_broadcast_resumes_without_duplicates(outbox_svc, workers, redis):
    phones, broadcast_id = start_broadcast(outbox_svc, RECIPIENTS, mps=30)
    worker = workers()
    wait_for(lambda: outbox_count(outbox_svc) >= 10, 60, interval=0.2)
    redis.flushdb()  # this test's Redis database only
    assert outbox_count(outbox_svc) < RECIPIENTS
    finish(outbox_svc, broadcast_id, workers, worker)
    assert_each_messaged_once(outbox_svc, phones, broadcast_id)
