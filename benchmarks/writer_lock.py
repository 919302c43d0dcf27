"""How long a text's SQLite write transaction holds the writer lock under gunicorn, flat out.

Not a ``bench_*`` module. Starts bench_inbound's server (fresh SQLite file, catalogue imported, the
known senders warmed up) with this file as gunicorn's config, whose ``post_worker_init`` times
``sms.sqlite_writers.WriterQueue`` in each worker; drives it with ``benchmarks.loadgen`` and prints,
per write transaction: the lock's wall time held, the holding thread's CPU inside it, the wait for
it, the workers' CPU, and the share of the wall time the lock was held. Only one thread of all the
workers can hold it, so the rate cannot exceed 1 / (time held)::

    .venv/bin/python -m benchmarks.writer_lock [--workload known|new|mix] [--seconds 12]

Used as a config file (``gunicorn -c benchmarks/writer_lock.py``) it replaces gunicorn.conf.py,
whose only hook gives the start-up warnings once.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

STATS_DIR = "WRITER_LOCK_STATS_DIR"
FIELDS = ("transactions", "held", "holder_cpu", "wait")


def post_worker_init(worker: Any) -> None:  # noqa: ARG001 - gunicorn's hook signature
    """In each worker: time every turn at the writer lock and write the totals to a file every second."""
    from sms import sqlite_writers

    totals = dict.fromkeys(FIELDS, 0.0)
    local = threading.local()
    acquire, release = sqlite_writers.WriterQueue.acquire, sqlite_writers.WriterQueue.release

    def timed_acquire(self: sqlite_writers.WriterQueue) -> None:
        start = time.perf_counter()
        acquire(self)
        local.since, local.cpu = time.perf_counter(), time.thread_time()
        totals["wait"] += local.since - start

    def timed_release(self: sqlite_writers.WriterQueue) -> None:
        totals["held"] += time.perf_counter() - local.since
        totals["holder_cpu"] += time.thread_time() - local.cpu
        totals["transactions"] += 1
        release(self)

    sqlite_writers.WriterQueue.acquire, sqlite_writers.WriterQueue.release = timed_acquire, timed_release
    path = Path(os.environ[STATS_DIR]) / f"{os.getpid()}.json"

    def write_totals() -> None:
        while True:
            time.sleep(1)
            path.write_text(json.dumps({**totals, "process_cpu": time.process_time(), "at": time.time()}))

    threading.Thread(target=write_totals, daemon=True).start()


def snapshot(directory: str) -> list[dict[str, float]]:
    """Every worker's latest totals."""
    return [json.loads(p.read_text()) for p in sorted(Path(directory).glob("*.json"))]


def report(before: list[dict[str, float]], after: list[dict[str, float]], wall: float) -> str:
    """Per-transaction figures between two snapshots of the same workers, ``wall`` seconds of load apart."""

    def delta(key: str) -> float:
        return sum(b[key] - a[key] for a, b in zip(before, after))

    count = delta("transactions") or 1
    return (
        f"{count:.0f} write transactions in {wall:.1f} s; per transaction: lock held "
        f"{1000 * delta('held') / count:.2f} ms (holder's CPU {1000 * delta('holder_cpu') / count:.2f} ms), "
        f"waited for {1000 * delta('wait') / count:.1f} ms, workers' CPU {1000 * delta('process_cpu') / count:.2f} "
        f"ms; lock held {100 * delta('held') / wall:.0f} % of the wall time "
        f"(ceiling 1 / held = {count / delta('held'):.0f} per s)"
    )


def main() -> None:
    import argparse

    from benchmarks import bench_inbound, loadgen

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="mix", choices=bench_inbound.WORKLOADS)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    env = {
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"),
        "TWILIO_AUTH_TOKEN": bench_inbound.TOKEN,
        "INBOUND_LIMIT_PER_HOUR": "0",
        "FOLLOWUP_DELAY_SECONDS": "86400",
        "QUIET_HOURS": "off",
    }
    with tempfile.TemporaryDirectory() as stats, tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        bench_inbound.prepare(url, env)
        port = bench_inbound.free_port()
        base = f"http://127.0.0.1:{port}"
        proc = bench_inbound.serve(
            "app:create_app()",
            port,
            {
                **env,
                "DATABASE_URL": url,
                "PUBLIC_BASE_URL": base,
                STATS_DIR: stats,
                "GUNICORN_CMD_ARGS": f"-c {Path(__file__).resolve()}",
            },
        )
        try:
            loadgen.closed_loop(port, bench_inbound.signed_requests(base, bench_inbound.KNOWN), 2.0)
            time.sleep(1.5)  # every worker has written its totals once
            before = snapshot(stats)
            requests = bench_inbound.signed_requests(base, int(args.seconds * 1000), args.workload)
            result = loadgen.closed_loop(port, requests, args.seconds, threads=bench_inbound.CONCURRENCY // 2)
            time.sleep(1.5)  # and again after the last transaction
            print(result.line(f"POST /sms {args.workload} (sqlite), flat out"))
            print(report(before, snapshot(stats), result.seconds))
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
