"""The load scenario shared by tests/system/test_load.py and benchmarks/bench_load.py.

Inbound texts at a fixed rate against a real gunicorn (the Procfile's ``web`` line), while
``worker.py`` (the Procfile's ``worker`` line) sends a broadcast, both real processes in outbox
mode on a PostgreSQL schema of the scenario's own. The texts are sent open-loop by
``benchmarks.openloop``: each at its arrival time whatever the answers so far, its latency counted
from that time, so queueing is not hidden (no coordinated omission). Every text comes from a phone
of its own, half of them already subscribers, with one of the demand or menu keywords. A warm-up
of WARMUP texts at a tenth of the rate (other phones, not measured) first opens the database
connections and fills the caches a running server has.

``run`` returns an ``Outcome``: every answer, and what the database holds afterwards (inbound rows
per text, stored replies per text, the broadcast's statuses, outbox rows per phone). The test
asserts what must hold under any load; the benchmark prints the latency and whether the goal was met.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, func, insert, select, text

from benchmarks import openloop
from sms import store
from sms.broadcasts import lifecycle
from sms.console import simulator
from sms.messaging import catalogue
from sms.services import Services
from sms.settings import Settings
from sms.store import Message, OutboxItem, Subscriber, utcnow

ROOT = Path(__file__).resolve().parent.parent
TWILIO_TIMEOUT = 15.0
HANG = 120.0
"""The generator gives up on an answer after this long."""
CONNECTIONS = 1000  # per generator process: an arrival waits for a connection only far past overload
RECIPIENTS = 3000
WARMUP = 100
KEYWORDS = ("CHOKEHOLD", "DEFUND", "MENU", "FORCE", "NOKNOCK", "1033", "UNIONS", "HI")
SERVICE_NUMBER = "+15005550006"


@dataclass
class Outcome:
    """What the load produced: the answers and the database's record of them."""

    rate: float
    seconds: float
    results: list[openloop.Result]
    sids: list[str]
    recipients: list[str]
    broadcast_status: str
    broadcast_statuses: dict[str, int]
    inbound: dict[str, int]
    """Inbound rows per MessageSid."""
    replies: dict[int, list[str]]
    """Stored reply bodies (in order) per text index."""
    outbox: dict[str, int]
    """Outbox rows per phone."""

    def answers(self) -> list[list[str] | None]:
        return [twiml_messages(r) for r in self.results]

    def p99(self) -> float:
        """Seconds, from arrival."""
        return openloop.distribution(self.results)["p99"] / 1000

    def achieved(self) -> float:
        return openloop.achieved_rate(self.results, self.rate)

    def describe(self) -> str:
        d = openloop.distribution(self.results)
        answered = sum(r.status == 200 for r in self.results)
        in_time = sum(r.status == 200 and r.latency <= TWILIO_TIMEOUT for r in self.results)
        by_time = ", ".join(f"{start:.0f}s {p99:.0f}" for start, _n, p99 in openloop.windows(self.results, self.rate))
        return (f"{len(self.results)} texts at {self.rate:g}/s for {self.seconds:g} s, open-loop: {answered} answered "
                f"200 ({in_time} within Twilio's {TWILIO_TIMEOUT:g} s), achieved {self.achieved():.0f}/s; "
                "latency from arrival (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in d.items())
                + f"; p99 by arrival time (ms): {by_time}")


@contextmanager
def schema(pg_base: str) -> Iterator[str]:
    """A migrated PostgreSQL schema of its own, with the catalogue; dropped afterwards."""
    name = f"load_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(pg_base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {name}"))
    url = f"{pg_base}?options=-csearch_path%3D{name}"
    try:
        store.upgrade(url)
        db = store.Database(url)
        with db.session() as session:
            catalogue.import_catalogue(session, catalogue.load_yaml())
            session.commit()
        db.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


def environment(url: str, port: int, redis_url: str, token: str) -> dict[str, str]:
    """Outbox mode (no Twilio account), replies signed with ``token``, follow-ups due tomorrow."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    bin_dir = str(Path(sys.executable).parent)
    return {**base, "PATH": f"{bin_dir}:{base.get('PATH', '')}", "PORT": str(port), "DATABASE_URL": url,
            "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": token, "TWILIO_PHONE_NUMBER": SERVICE_NUMBER,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SECRET_KEY": "load-test", "QUIET_HOURS": "off",
            "FOLLOWUP_DELAY_SECONDS": "86400", "PYTHONUNBUFFERED": "1"}


def procfile(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(f"no {name} in the Procfile")


def start(command: str, env: Mapping[str, str], log: Path) -> subprocess.Popen:
    """A Procfile command in a process group of its own (so stopping it reaches its children)."""
    with open(log, "w") as out:
        return subprocess.Popen(["/bin/sh", "-c", f"exec {command}"], cwd=ROOT, env=dict(env), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM the process group and wait; then SIGKILL whatever is left in it."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextmanager
def serving(env: Mapping[str, str], port: int, log_dir: Path) -> Iterator[None]:
    """The Procfile's web and worker processes, until the block ends."""
    web = start(procfile("web"), env, log_dir / "web.log")
    worker = start(procfile("worker"), env, log_dir / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while not healthy(port):
            if web.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start: " + (log_dir / "web.log").read_text()[-2000:])
            time.sleep(0.2)
        yield
    finally:
        stop(web)
        stop(worker)


def seed_people(url: str, texters: list[str]) -> list[str]:
    """RECIPIENTS broadcast recipients in Vermont, and every other texter already known (not a first text)."""
    recipients = [f"+1802555{i:04d}" for i in range(RECIPIENTS)]
    now = utcnow()
    rows = [{"phone": p, "status": "active", "tier": "normal", "state": "VT", "created_at": now,
             "last_active_at": now} for p in recipients]
    rows += [{"phone": p, "status": "active", "tier": "normal", "created_at": now, "last_active_at": now}
             for p in texters[::2]]
    db = store.Database(url)
    with db.session() as session:
        session.execute(insert(Subscriber), rows)
        session.commit()
    db.dispose()
    return recipients


def signed_texts(port: int, token: str, texters: list[str], prefix: str = "SM") -> tuple[list[bytes], list[str]]:
    """One pre-signed POST /sms per texter, and its MessageSid."""
    requests, sids = [], []
    for i, phone in enumerate(texters):
        sid = f"{prefix}{i:032d}"
        params = simulator.sms_params(phone, KEYWORDS[i % len(KEYWORDS)], SERVICE_NUMBER, sid=sid)
        signature = simulator.sign(token, f"http://127.0.0.1:{port}/sms", params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        requests.append(openloop.encode("/sms", urlencode(params), headers))
        sids.append(params["MessageSid"])
    return requests, sids


def twiml_messages(result: openloop.Result) -> list[str] | None:
    """The reply texts of a 200 TwiML answer, or None if the answer is anything else."""
    if result.status != 200:
        return None
    try:
        root = ET.fromstring(result.body)
    except ET.ParseError:
        return None
    messages = [m.text or "" for m in root.findall("./Message")]
    return messages if root.tag == "Response" and messages and all(messages) else None


def stored_replies(url: str, sids: list[str]) -> tuple[dict[str, int], dict[int, list[str]]]:
    """Inbound rows per MessageSid, and reply bodies (in order) per text index."""
    db = store.Database(url)
    with db.session() as session:
        inbound = dict(session.execute(select(Message.twilio_sid, func.count()).where(
            Message.kind == "inbound").group_by(Message.twilio_sid)).all())
        ids = dict(session.execute(select(Message.twilio_sid, Message.id).where(Message.kind == "inbound")).all())
        replies: dict[int, list[str]] = {}
        for reply_to, body in session.execute(select(Message.in_reply_to_id, Message.body).where(
                Message.kind == "reply").order_by(Message.id)):
            replies.setdefault(reply_to, []).append(body)
    db.dispose()
    return {sid: inbound.get(sid, 0) for sid in sids}, {i: replies.get(ids[sid], []) for i, sid in
                                                         enumerate(sids) if sid in ids}


def outbox_per_phone(url: str) -> dict[str, int]:
    db = store.Database(url)
    with db.session() as session:
        counts = dict(session.execute(select(OutboxItem.to, func.count()).group_by(OutboxItem.to)).all())
    db.dispose()
    return counts


def start_broadcast(svc: Services, mps: float) -> int:
    """A broadcast to the seeded Vermont recipients, started."""
    with svc.db.session() as session:
        broadcast = lifecycle.create(session, svc.settings, "Vote Thursday. Reply CALL.", mps=mps,
                                     filters={"states": ["VT"]})
        session.commit()
        broadcast_id = broadcast.id
    if lifecycle.send(svc, broadcast_id) != "started":
        raise RuntimeError("the broadcast did not start")
    return broadcast_id


def broadcast_state(svc: Services, broadcast_id: int) -> tuple[str, dict[str, int]]:
    with svc.db.session() as session:
        return lifecycle.get(session, broadcast_id).status, lifecycle.progress(session, broadcast_id)


def wait_until_sent(svc: Services, broadcast_id: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while broadcast_state(svc, broadcast_id)[0] == "sending" and time.monotonic() < deadline:
        time.sleep(0.5)


def run(url: str, env: Mapping[str, str], port: int, rate: float, seconds: float, log_dir: Path,
        token: str) -> Outcome:
    """``rate`` texts a second for ``seconds`` during a broadcast of RECIPIENTS over the same time."""
    texters = [f"+1415{i:07d}" for i in range(int(rate * seconds))]
    recipients = seed_people(url, texters)
    requests, sids = signed_texts(port, token, texters)
    warmup, _ = signed_texts(port, token, [f"+1416{i:07d}" for i in range(WARMUP)], prefix="SMwarm")
    mps = RECIPIENTS / seconds  # the broadcast runs through the whole load
    services = Services.from_settings(Settings.from_mapping(env))
    try:
        with serving(env, port, log_dir):
            if not all(r.status == 200 for r in openloop.run(port, warmup, rate / 10, processes=1, timeout=HANG)):
                raise RuntimeError("the warm-up texts were not all answered: " + (log_dir / "web.log").read_text())
            broadcast_id = start_broadcast(services, mps)
            results = openloop.run(port, requests, rate, processes=2, max_connections=CONNECTIONS, timeout=HANG)
            wait_until_sent(services, broadcast_id, timeout=RECIPIENTS / mps + 60)
            status, statuses = broadcast_state(services, broadcast_id)
    finally:
        services.close()
    inbound, replies = stored_replies(url, sids)
    return Outcome(rate=rate, seconds=seconds, results=results, sids=sids, recipients=recipients,
                   broadcast_status=status, broadcast_statuses=statuses, inbound=inbound, replies=replies,
                   outbox=outbox_per_phone(url))
