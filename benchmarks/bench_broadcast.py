"""Broadcast benchmarks, each printed with a baseline measured in the same run.

1. Plan + enqueue a 1,000,000-recipient broadcast (time and peak RSS, in a child
   process of its own) vs a bare ``INSERT … SELECT`` copy of the same rows.
   Goal: under 60 s and 500 MB.
2. Dispatch rate of one RQ worker into a counting transport (rate unlimited) vs
   a naive one-row-per-round-trip dispatcher. Goal: ≥ 2,000 msg/s.
3. Pacing error at a configured MPS vs a ``sleep(1/mps)`` loop. Goal: within ±2 %.

Printed: one table of the three (with their baselines and goals), then a line of ratios.

Environment: BENCH_DATABASE_URL (default: a temporary SQLite file), BENCH_REDIS_URL
(default redis://127.0.0.1:6379/8 — this database is FLUSHED),
BENCH_RECIPIENTS (1000000), BENCH_DISPATCH (20000), BENCH_MPS (50), BENCH_PACE_SECONDS (10).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rq import SimpleWorker
from sqlalchemy import text, update

from benchmarks.support import table
from sms import defaults, services, store
from sms.broadcasts import lifecycle
from sms.broadcasts.models import Broadcast
from sms.settings import Settings
from sms.transport import CallRecord, SentRecord

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", "1000000"))
DISPATCH = int(os.environ.get("BENCH_DISPATCH", "20000"))
MPS = float(os.environ.get("BENCH_MPS", "50"))
PACE_SECONDS = float(os.environ.get("BENCH_PACE_SECONDS", "10"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")


class CountingTransport:
    """Counts sends and remembers when each happened; sends nothing."""

    phone_number = "+15005550006"

    def __init__(self, prefix: str = "bench") -> None:
        self.prefix = prefix
        self.times: list[float] = []
        self.sent = 0

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> str:
        self.times.append(time.perf_counter())
        self.sent += 1
        return f"SM{self.prefix}{self.sent:026d}"

    def place_call(self, to: str, url: str, status_callback: str | None = None) -> str:
        raise NotImplementedError

    def find_messages(self, to: str, since: object) -> list[SentRecord]:
        return []

    def find_calls(self, to: str, since: object) -> list[CallRecord]:
        return []


def build(database_url: str, transport: CountingTransport, caps: bool = False) -> services.Services:
    """Services on the bench database; frequency caps on for planning (their cost counts), off for sending."""
    env = {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "QUIET_HOURS": "off"}
    if not caps:
        env.update(BROADCAST_CAP_DAY="0", BROADCAST_CAP_WEEK="0")
    settings = Settings.from_mapping(env)
    svc = services.Services.from_settings(settings, transport)
    services.bind(svc)
    return svc


def seed(svc: services.Services) -> None:
    """RECIPIENTS subscribers in SQL (no Python loop): DC for the dispatch test, VT for pacing, KY the rest."""
    pace = int(MPS * PACE_SECONDS)
    state = (f"CASE WHEN x <= {DISPATCH} THEN 'DC' WHEN x <= {DISPATCH + pace} THEN 'VT' ELSE 'KY' END")
    zone = "CASE x % 4 " + " ".join(f"WHEN {i} THEN '{z}'" for i, z in enumerate(ZONES)) + " END"
    columns = "phone, status, tier, state, timezone, created_at, last_active_at"
    values = f"'+1' || CAST(2000000000 + x AS VARCHAR), 'active', 'normal', {state}, {zone}, :now, :now"
    if svc.db.engine.dialect.name == "postgresql":
        sql = f"INSERT INTO subscribers ({columns}) SELECT {values} FROM generate_series(1, {RECIPIENTS}) AS x"
    else:
        sql = (f"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {RECIPIENTS}) "
               f"INSERT INTO subscribers ({columns}) SELECT {values} FROM n")
    with svc.db.engine.begin() as conn:
        conn.execute(text(sql), {"now": store.utcnow()})
        conn.execute(text("ANALYZE"))  # statistics as a long-running database would have them


def plan_child(database_url: str) -> None:
    """Child process: plan + enqueue the big broadcast, then the bare copy; print JSON."""
    svc = build(database_url, CountingTransport(), caps=True)
    svc.db.ping()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with svc.db.session() as session:
        broadcast = lifecycle.create(session, svc.settings, "Vote Thursday. Reply CALL to be connected.")
        session.commit()
        broadcast_id = broadcast.id
    started = time.perf_counter()
    lifecycle.send(svc, broadcast_id)
    plan_seconds = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with svc.db.session() as session:
        planned = lifecycle.get(session, broadcast_id).planned
        session.execute(update(Broadcast).values(status="cancelled"))  # keep it out of the next tests
        session.commit()
    with svc.db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_copy (subscriber_id INTEGER, phone VARCHAR(20))"))
        started = time.perf_counter()
        conn.execute(text("INSERT INTO bench_copy SELECT id, phone FROM subscribers WHERE status = 'active'"))
        copy_seconds = time.perf_counter() - started
        conn.execute(text("DROP TABLE bench_copy"))
    print(json.dumps({"planned": planned, "plan_seconds": plan_seconds, "copy_seconds": copy_seconds,
                      "peak_rss_mb": peak_rss, "base_rss_mb": base_rss}))


def run_worker(svc: services.Services) -> None:
    worker = SimpleWorker([svc.queue(name) for name in defaults.QUEUES], connection=svc.redis)
    worker.work(burst=True, logging_level="WARNING")


def dispatch_rate(svc: services.Services, transport: CountingTransport) -> tuple[float, float]:
    """(our msg/s through RQ, naive msg/s) for DC recipients."""
    with svc.db.session() as session:
        broadcast = lifecycle.create(session, svc.settings, "Rate test", {"states": ["DC"]}, mps=1_000_000)
        session.commit()
    started = time.perf_counter()
    lifecycle.send(svc, broadcast.id)
    run_worker(svc)
    ours = len(transport.times) / (time.perf_counter() - started)
    return ours, naive_rate(svc, min(DISPATCH, 3000))


def naive_rate(svc: services.Services, n: int) -> float:
    """One SELECT, opt-out check, send, UPDATE and COMMIT per message (the obvious loop)."""
    transport = CountingTransport("naive")
    with svc.db.session() as session:
        broadcast = lifecycle.create(session, svc.settings, "Naive", {"states": ["DC"]})
        session.commit()
        lifecycle.plan(session, svc.settings, broadcast, store.utcnow())
        session.commit()
        started = time.perf_counter()
        for _ in range(n):
            row = session.execute(text("SELECT id, phone, subscriber_id FROM deliveries WHERE broadcast_id = :b "
                                       "AND status = 'pending' ORDER BY send_at LIMIT 1"), {"b": broadcast.id}).one()
            session.execute(text("SELECT status FROM subscribers WHERE id = :i"), {"i": row.subscriber_id})
            sid = transport.send_sms(row.phone, "Naive")
            session.execute(text("UPDATE deliveries SET status = 'sent', twilio_sid = :s WHERE id = :i"),
                            {"s": sid, "i": row.id})
            session.commit()
        return n / (time.perf_counter() - started)


def pacing(svc: services.Services, transport: CountingTransport) -> tuple[float, float]:
    """(our pacing error, sleep-loop error) as fractions of the target rate."""
    transport.times.clear()
    svc.redis.flushdb()
    with svc.db.session() as session:
        broadcast = lifecycle.create(session, svc.settings, "Pace test", {"states": ["VT"]}, mps=MPS)
        session.commit()
    lifecycle.send(svc, broadcast.id)
    run_worker(svc)
    times = transport.times
    ours = (len(times) - 1) / (times[-1] - times[0]) / MPS - 1
    naive = CountingTransport()
    for _ in range(len(times)):
        naive.send_sms("+15005550006", "x")
        time.sleep(1 / MPS)
    baseline = (len(naive.times) - 1) / (naive.times[-1] - naive.times[0]) / MPS - 1
    return ours, baseline


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        transport = CountingTransport()
        svc = build(database_url, transport)
        svc.redis.flushdb()
        store.upgrade(database_url)
        print(f"database {svc.db.engine.dialect.name}, redis {REDIS_URL}; seeding {RECIPIENTS:,} subscribers...",
              flush=True)
        seed(svc)
        print("planning in a child process...", flush=True)
        child = subprocess.run([sys.executable, "-m", "benchmarks.bench_broadcast", "plan", database_url],
                               cwd=ROOT, capture_output=True, text=True, check=True)
        plan = json.loads(child.stdout.strip().splitlines()[-1])
        svc.redis.flushdb()
        print("dispatching...", flush=True)
        ours, naive = dispatch_rate(svc, transport)
        print(f"pacing {int(MPS * PACE_SECONDS)} sends at {MPS:g} msg/s, then the sleep loop...", flush=True)
        error, baseline = pacing(svc, transport)
        sends = len(transport.times)
        svc.redis.flushdb()
        svc.close()
    print_results(plan, ours, naive, error, baseline, sends)


def print_results(plan: dict[str, float], ours: float, naive: float, error: float, baseline: float,
                  sends: int) -> None:
    """One table (Action Line, the baseline measured in the same run, the goal) and a line of ratios."""
    plan_ratio = plan["plan_seconds"] / plan["copy_seconds"]
    added = plan["peak_rss_mb"] - plan["base_rss_mb"]
    rows = [
        (f"plan+enqueue {plan['planned']:,} recipients", f"{plan['plan_seconds']:.1f} s",
         f"bare INSERT..SELECT {plan['copy_seconds']:.1f} s", f"{plan_ratio:.1f}x", "< 60 s",
         _met(plan["plan_seconds"] < 60)),
        ("peak RSS of the planning process", f"{plan['peak_rss_mb']:.0f} MB (+{added:.0f})",
         f"process at start {plan['base_rss_mb']:.0f} MB", "", "< 500 MB", _met(plan["peak_rss_mb"] < 500)),
        ("dispatch, one worker, counting transport", f"{ours:,.0f} msg/s", f"per-row loop {naive:,.0f} msg/s",
         f"{ours / naive:.1f}x", ">= 2,000 msg/s", _met(ours >= 2000)),
        (f"pacing error at {MPS:g} msg/s ({sends} sends)", f"{error:+.2%}", f"sleep(1/mps) loop {baseline:+.2%}",
         "", "within 2%", _met(abs(error) <= 0.02)),
    ]
    print(table(("broadcast", "Action Line", "baseline (same run)", "ratio", "goal", "met"), rows))
    print(f"ratios: plan {plan_ratio:.1f}x the bare copy, dispatch {ours / naive:.1f}x the per-row loop, "
          f"pacing error {abs(error):.2%} vs {abs(baseline):.2%} for the sleep loop")


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    if sys.argv[1:2] == ["plan"]:
        plan_child(sys.argv[2])
    else:
        main()
