"""Two gunicorn web processes and two RQ workers on one database and one Redis, as behind a load balancer.

Each worker runs its own cron thread (the sweepers must not double anything). Texts
alternate between the two web ports, some deliveries of the same MessageSid reach both
webs at once (Twilio retrying), callers ask for a call-back, and a broadcast goes out
meanwhile. Everything is counted in SQL afterwards: the outbox the workers' transport
writes to, the inbound and reply rows, the call sessions.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from rq import Worker
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from sms import defaults
from sms.calls.models import CallSession
from sms.console import simulator
from sms.store import Message, OutboxItem
from tests.conftest import BASE_URL, REDIS_URL, ROOT, SERVICE_NUMBER, TOKEN
from tests.support.broadcasts import broadcast_status, start_broadcast
from tests.support.faults import spare_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("targets_db")]
RECIPIENTS = 300
TEXTERS = 16
CALLERS = 4


class Cluster:
    """The processes of one deployment, their ports and logs."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp, self.env = tmp, env
        self.procs: list[subprocess.Popen] = []
        self.ports: list[int] = []

    def spawn(self, name: str, argv: list[str], **env: str) -> None:
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.procs.append(subprocess.Popen(argv, cwd=ROOT, env={**self.env, **env}, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True))

    def web(self) -> None:
        port = spare_port()
        self.ports.append(port)
        self.spawn(f"web{len(self.ports)}", [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                                             "--workers", "1", "--threads", "4",
                                             "--no-control-socket",  # one per host by default: they would collide
                                             "app:create_app()"])

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted(self.tmp.glob("*.log")))

    def wait_ready(self) -> None:
        def ready(port: int) -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except requests.RequestException:  # not listening yet, or still importing the app
                return False

        self.wait_for(lambda: all(ready(port) for port in self.ports), "the web processes to start")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 45) -> None:
        """Wait for ``condition``, failing at once (with the logs) if one of the processes dies."""
        wait_for(condition, timeout, what, interval=0.25, procs=self.procs, logs=self.logs)

    def stop(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # RQ's scheduler child and gunicorn's worker too
            except ProcessLookupError:
                pass
            proc.wait()


@pytest.fixture
def cluster(svc, tmp_path) -> Iterator[Cluster]:  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "REDIS_", "WORKER_", "DB_"))}
    env.update(DATABASE_URL=svc.settings.database_url, REDIS_URL=REDIS_URL, TWILIO_AUTH_TOKEN=TOKEN,
               TWILIO_PHONE_NUMBER=SERVICE_NUMBER, PUBLIC_BASE_URL=BASE_URL, SECRET_KEY="multiprocess-test",
               QUIET_HOURS="off", CALL_OFFICE_HOURS="off", PYTHONUNBUFFERED="1")
    cluster = Cluster(tmp_path, env)
    try:
        cluster.web()
        cluster.web()
        cluster.spawn("worker1", [sys.executable, "worker.py", "high", "default", "bulk"])
        cluster.spawn("worker2", [sys.executable, "worker.py"], WORKER_QUEUES="high,default,bulk")
        cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop()


def text(port: int, sender: str, body: str, sid: str | None = None) -> tuple[str, list[str]]:
    """POST a signed inbound text to one web process; return its MessageSid and the replies."""
    params = simulator.sms_params(sender, body, SERVICE_NUMBER, sid=sid)
    signature = simulator.sign(TOKEN, f"{BASE_URL}/sms", params)
    response = requests.post(f"http://127.0.0.1:{port}/sms", data=params, timeout=30,
                             headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text
    return params["MessageSid"], [m.text or "" for m in ET.fromstring(response.text).findall("./Message")]


def conversation(ports: list[int], sender: str, bodies: list[str], duplicate_last: bool) -> dict[str, list[list[str]]]:
    """One texter's texts, alternating web ports; the last one optionally delivered to both at once."""
    replies: dict[str, list[list[str]]] = {}
    cycle = itertools.cycle(ports)
    for i, body in enumerate(bodies):
        if duplicate_last and i == len(bodies) - 1:
            sid = "SM" + os.urandom(16).hex()
            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(lambda port: text(port, sender, body, sid)[1], ports))
            replies[sid] = answers
        else:
            sid, answer = text(next(cycle), sender, body)
            replies[sid] = [answer]
    return replies


def drained(svc) -> bool:  # noqa: ANN001
    """No job queued or running on any queue (scheduled ones are for later)."""
    return all(svc.queue(name).count == 0 and StartedJobRegistry(name, connection=svc.redis).count == 0
               for name in defaults.QUEUES)


def rows(svc, query: Any) -> list[Any]:  # noqa: ANN001
    with svc.db.session() as session:
        return list(session.execute(query).all())


def test_two_webs_and_two_workers_send_everything_exactly_once(cluster, svc) -> None:  # noqa: ANN001
    recipients, broadcast_id = start_broadcast(svc, RECIPIENTS, mps=60)
    texters = [f"+1617555{9000 + i:04d}" for i in range(TEXTERS)]
    callers = [f"+1617555{9500 + i:04d}" for i in range(CALLERS)]
    scripts = [(t, ["CHOKEHOLD", "MENU", "HELP"], i % 2 == 0) for i, t in enumerate(texters)]
    scripts += [(c, ["CALL CHOKEHOLD", "99501"], True) for c in callers]  # the ZIP, delivered twice, starts the call
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda s: conversation(cluster.ports, *s), scripts))
    replies = {sid: answers for result in results for sid, answers in result.items()}

    cluster.wait_for(lambda: broadcast_status(svc, broadcast_id) == "sent", "the broadcast")
    cluster.wait_for(lambda: len(rows(svc, select(OutboxItem.id).where(OutboxItem.kind == "call"))) >= CALLERS,
                     "the call-backs")
    cluster.wait_for(lambda: drained(svc), "the queues to drain")

    texts = Counter(to for (to,) in rows(svc, select(OutboxItem.to).where(OutboxItem.kind == "sms")))
    assert texts == Counter(recipients)  # one broadcast text per recipient, nothing else sent by the workers
    calls = Counter(to for (to,) in rows(svc, select(OutboxItem.to).where(OutboxItem.kind == "call")))
    assert calls == Counter(callers)
    assert sorted(s for (s,) in rows(svc, select(CallSession.status))) == ["placed"] * CALLERS

    inbound = dict(rows(svc, select(Message.twilio_sid, Message.id).where(Message.direction == "in")))
    assert set(inbound) == set(replies)  # each MessageSid recorded once, duplicates included
    answered = dict(rows(svc, select(Message.in_reply_to_id, func.count()).where(Message.kind == "reply")
                         .group_by(Message.in_reply_to_id)))
    for sid, answers in replies.items():
        assert all(a == answers[0] for a in answers), f"both webs must give the same reply to {sid}"
        assert answers[0] and answered.get(inbound[sid]) == len(answers[0])
    assert any("Calling you now" in r for answers in replies.values() for r in answers[0])

    workers = Worker.all(connection=svc.redis)
    assert len(workers) == 2
    assert all(w.successful_job_count > 0 for w in workers), [(w.name, w.successful_job_count) for w in workers]
