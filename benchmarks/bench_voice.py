"""Voice webhooks (/voice TwiML steps) vs a bare Flask endpoint, both under gunicorn as in bench_inbound.

The bare endpoint returns a fixed <Say>/<Gather> TwiML. Action Line runs three workloads, every
request signed and every call session a fresh one seeded in the bench database beforehand (a
texter from ZIP 10001, the CHOKEHOLD demand, Rep. Nadler and New York's two senators):

  answer   POST /voice/answer?s=<token>: bind the CallSid, read the demand, <Gather> "press 1"
  connect  POST /voice/connect Digits=1: confirm, record the first leg, read the script, <Dial>
  call     a whole call, six steps in order per session: answer, connect, dialed?leg=0,
           next?leg=1 (<Dial> a senator), dialed?leg=1, next?leg=2 Digits=# (finish, summary text queued)

After each run the database is checked (sessions answered, legs recorded, calls finished), so a
step answering "this call has expired" cannot pass for a fast one. The load is closed-loop:
CONCURRENCY (8) keep-alive clients, each sending a call's steps in order. Printed: requests per
second and p50/p99 latency of each, then the ratios to the bare endpoint. BENCH_DATABASE_URL selects the
database (default: a temporary SQLite file); BENCH_REDIS_URL (default redis://127.0.0.1:6379/11).
"""

from __future__ import annotations

import http.client
import itertools
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import func, insert, select

from benchmarks.bench_inbound import CONCURRENCY, DURATION, TOKEN, WORKERS, free_port, serve
from sms import store
from sms.calls import sessions
from sms.calls.models import CallLeg, CallSession
from sms.console import simulator
from sms.messaging import catalogue
from sms.settings import Settings
from sms.store import Subscriber, utcnow
from sms.targets import importer

SESSIONS = int(os.environ.get("BENCH_VOICE_SESSIONS", "9000"))
"""Call sessions seeded per workload (each request, or each whole call, uses a fresh one)."""
SERVICE = "+15005550006"
DEMAND = "CHOKEHOLD"
WORKLOADS = {"answer": "1", "connect": "2", "call": "3"}
"""Workload → the digit after +1646 in its texters' phones (how the checks find its sessions)."""
CALL_STEPS = 6
MakeRequest = Callable[[int, int], tuple[str, str, dict[str, str]]]


def phone_of(workload: str, k: int) -> str:
    return f"+1646{WORKLOADS[workload]}{k:06d}"


def call_sid(workload: str, k: int) -> str:
    return f"CA{WORKLOADS[workload]}{k:08d}".ljust(34, "0")


def seed(database_url: str) -> list[dict[str, object]]:
    """Migrate, load the catalogue and the members of Congress; plan the CHOKEHOLD call for NY-12."""
    store.upgrade(database_url)
    db = store.Database(database_url)
    with db.session() as session:
        catalogue.import_catalogue(session, catalogue.load_yaml())
        importer.import_legislators(session, importer.read_rows(importer.LEGISLATORS_CSV, ()))
        session.commit()
        demand = catalogue.current(session).demand(DEMAND)
        plan = sessions.plan(session, Settings.from_mapping({"DATABASE_URL": database_url}), demand, "NY", [("NY", 12)])
        targets = sessions.stored(plan.targets, plan.thanked)
    db.dispose()
    assert len(targets) == 3, targets
    return targets


def seed_sessions(database_url: str, targets: list[dict[str, object]]) -> None:
    """SESSIONS texters and call sessions per workload: placed (answer, call) or answered (connect)."""
    db = store.Database(database_url)
    now = utcnow()
    keys = [(w, k) for w in WORKLOADS for k in range(SESSIONS)]
    with db.session() as session:
        session.execute(insert(Subscriber), [
            {"phone": phone_of(*key), "status": "active", "tier": "normal", "zip": "10001", "state": "NY",
             "district": 12, "timezone": "America/New_York", "last_demand": DEMAND,
             "created_at": now - timedelta(days=3), "last_active_at": now} for key in keys])
        ids = dict(session.execute(select(Subscriber.phone, Subscriber.id)).all())
        session.execute(insert(CallSession), [_session_row(key, ids[phone_of(*key)], targets, now) for key in keys])
        session.commit()
    db.dispose()


def _session_row(key: tuple[str, int], subscriber_id: int, targets: list[dict[str, object]],
                 now: object) -> dict[str, object]:
    workload = key[0]
    answered = workload == "connect"
    return {"token": uuid.uuid4().hex, "call_sid": call_sid(*key) if answered else None,
            "subscriber_id": subscriber_id, "phone": phone_of(*key), "direction": "callback", "demand": DEMAND,
            "zip": "10001", "seats": [["NY", 12]], "targets": targets, "position": 0,
            "status": "answered" if answered else "placed", "answered_at": now if answered else None,
            "created_at": now, "summary_sent": False}


def tokens(database_url: str) -> dict[str, str]:
    """Texter phone → the session's answer token."""
    db = store.Database(database_url)
    with db.session() as session:
        found = dict(session.execute(select(CallSession.phone, CallSession.token)).all())
    db.dispose()
    return found


class Workload:
    """Signed requests for one workload; counts what each client asked, for the checks afterwards.

    Sessions come from one pool shared by the clients (a fast client takes more); in the
    whole-call workload a client keeps its session for the six steps, then takes the next.
    """

    def __init__(self, name: str, base: str, token_of: dict[str, str]) -> None:
        self.name, self.base, self.token_of = name, base, token_of
        self.pool = itertools.count()  # next() on a count is atomic under the GIL
        self.current = [0] * CONCURRENCY
        self.issued = [0] * CONCURRENCY

    def __call__(self, n: int, _i: int) -> tuple[str, str, dict[str, str]]:
        index = self.issued[n] % CALL_STEPS if self.name == "call" else 0
        if index == 0:
            self.current[n] = next(self.pool)
        k = self.current[n]
        if k >= SESSIONS:
            raise RuntimeError(f"{self.name}: all {SESSIONS} sessions used; raise BENCH_VOICE_SESSIONS")
        self.issued[n] += 1
        path, extra = self.step(k, index)
        form = {"CallSid": call_sid(self.name, k), "AccountSid": "AC" + "0" * 32,
                "From": SERVICE, "To": phone_of(self.name, k), "CallStatus": "in-progress", **extra}
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": simulator.sign(TOKEN, self.base + path, form)}
        return path, urlencode(form), headers

    def step(self, k: int, index: int) -> tuple[str, dict[str, str]]:
        if self.name == "answer" or (self.name == "call" and index == 0):
            return f"/voice/answer?s={self.token_of[phone_of(self.name, k)]}", {}
        if self.name == "connect" or index == 1:
            return "/voice/connect", {"Digits": "1"}
        return [("/voice/dialed?leg=0", {"DialCallStatus": "completed", "DialCallDuration": "60"}),
                ("/voice/next?leg=1", {}),
                ("/voice/dialed?leg=1", {"DialCallStatus": "completed", "DialCallDuration": "45"}),
                ("/voice/next?leg=2", {"Digits": "#"})][index - 2]


def check(database_url: str, workload: Workload) -> str:
    """Compare the database with what was asked; raise if a step did not do its work."""
    prefix = f"+1646{WORKLOADS[workload.name]}%"
    db = store.Database(database_url)
    with db.session() as session:
        mine = select(CallSession.id).where(CallSession.phone.like(prefix))

        def sessions(status: str) -> int:
            return session.scalar(select(func.count()).where(CallSession.phone.like(prefix),
                                                             CallSession.status == status))

        legs = session.scalar(select(func.count()).where(CallLeg.session_id.in_(mine)))
        answered, confirmed, completed = sessions("answered"), sessions("confirmed"), sessions("completed")
    db.dispose()
    issued = sum(workload.issued)
    if workload.name == "answer":
        got, want = (answered, legs), (issued, 0)
    elif workload.name == "connect":
        got, want = (confirmed, legs), (issued, issued)
    else:
        done = [c // CALL_STEPS for c in workload.issued]
        partial = [c % CALL_STEPS for c in workload.issued]
        want = (sum(done), sum(2 * d + (p >= 2) + (p >= 4) for d, p in zip(done, partial)))
        got = (completed, legs)
    if got != want:
        raise AssertionError(f"{workload.name}: database has (sessions, legs) {got}, expected {want}")
    return f"{workload.name}: {issued} requests, database agrees (sessions, legs) = {got}"


def load(port: int, make_request: MakeRequest, seconds: float) -> list[float]:
    """Closed loop: CONCURRENCY keep-alive clients, each in order (a call's steps follow each other); latencies."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(n: int) -> None:
        conn, mine, i = http.client.HTTPConnection("127.0.0.1", port, timeout=10), [], 0
        while time.perf_counter() < stop:
            path, body, headers = make_request(n, i)
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - t0)
            assert response.status == 200, response.status
            i += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def summarise(name: str, latencies: list[float], seconds: float) -> tuple[float, float, float]:
    rps = len(latencies) / seconds
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(f"{name:<28} {rps:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({len(latencies)} requests)")
    return rps, p50, p99


def bare_request(n: int, i: int) -> tuple[str, str, dict[str, str]]:
    form = {"CallSid": f"CA{n:02d}{i:030d}", "AccountSid": "AC" + "0" * 32, "From": SERVICE,
            "To": "+16465550100", "CallStatus": "in-progress"}
    return "/voice", urlencode(form), {"Content-Type": "application/x-www-form-urlencoded"}


def measure(name: str, spec: str, env: dict[str, str], make: Callable[[str], MakeRequest]) -> tuple[tuple, object]:
    """Serve ``spec`` under gunicorn, warm up for a second, load it for DURATION; return the summary."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(spec, port, {**env, "PUBLIC_BASE_URL": base})
    try:
        maker = make(base)
        load(port, maker, 1.0)  # warm up (on fresh sessions of its own)
        return summarise(name, load(port, maker, DURATION), DURATION), maker
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        env = {"DATABASE_URL": db_url, "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"),
               "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_PHONE_NUMBER": SERVICE, "QUIET_HOURS": "off",
               "CALL_OFFICE_HOURS": "off", "FOLLOWUP_DELAY_SECONDS": "86400"}
        targets = seed(db_url)
        seed_sessions(db_url, targets)
        token_of = tokens(db_url)
        print(f"gunicorn, {WORKERS} workers, {CONCURRENCY} keep-alive clients, {DURATION:.0f} s each; "
              f"database {db_url.split(':')[0].split('+')[0]}; {len(token_of):,} call sessions seeded", flush=True)
        bare, _ = measure("bare Flask /voice (baseline)", "benchmarks.bare_app:create_app()", env,
                          lambda base: bare_request)
        results, checks = {}, []
        for name, label in [("answer", "answer->Gather"), ("connect", "connect->Dial"),
                            ("call", "whole call")]:
            results[name], workload = measure(f"Action Line {label}", "app:create_app()", env,
                                              lambda base, name=name: Workload(name, base, token_of))
            checks.append(check(db_url, workload))
    for line in checks:
        print(f"  checked {line}")
    bare_rps, _, bare_p99 = bare
    print("ratios (ours / bare): " + ", ".join(
        f"{name} {rps / bare_rps:.2f}x req/s, {p99 / bare_p99:.1f}x p99" for name, (rps, _, p99) in results.items()))


if __name__ == "__main__":
    main()
