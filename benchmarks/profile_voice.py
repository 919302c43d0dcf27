"""Python calls and SQL statements per voice step, in-process: figures a busy machine does not change.

``python -m benchmarks.profile_voice [--top N] [--requests N]``: bench_voice's three workloads
(answer, connect, a whole call of six steps) through the Flask test client, signed, on fresh sessions
seeded as bench_voice seeds them, each request under cProfile and with the SQL statements it sends
counted. Not a ``bench_*`` module (the runner does not time it): the wall-clock benchmarks are
bench_voice's; this is what to compare before and after a change. BENCH_DATABASE_URL selects the
database (default: a temporary SQLite file), BENCH_REDIS_URL the Redis.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from benchmarks import bench_voice
from benchmarks.bench_inbound import TOKEN

BASE = "http://127.0.0.1:5000"


def app_for(db_url: str) -> Any:
    from app import create_app

    return create_app(
        {
            "DATABASE_URL": db_url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"),
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_PHONE_NUMBER": bench_voice.SERVICE,
            "PUBLIC_BASE_URL": BASE,
            "QUIET_HOURS": "off",
            "CALL_OFFICE_HOURS": "off",
            "FOLLOWUP_DELAY_SECONDS": "86400",
        }
    )


def measure(
    app: Any,
    workload: bench_voice.Workload,
    requests: int,
    top: int,
    sql: bool = False,
) -> tuple[float, float]:
    """Python calls and SQL statements per request over ``requests`` requests (after a warm-up of 12)."""
    client = app.test_client()
    engine = app.extensions["actionline"].db.engine
    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[re.sub(r"^SELECT .{60,}? FROM", "SELECT ... FROM", " ".join(statement.split()))[:160]] += 1

    def send(n: int) -> None:
        for i in range(n):
            path, body, headers = workload(0, i)
            response = client.post(path, data=body, headers=headers, base_url=BASE)
            assert response.status_code == 200, (path, response.status_code)

    send(12)
    event.listen(engine, "before_cursor_execute", count)
    profile = cProfile.Profile()
    profile.runcall(send, requests)
    event.remove(engine, "before_cursor_execute", count)
    stats = pstats.Stats(profile)
    if top:
        stats.sort_stats("cumulative").print_stats(top)
    if sql:
        for statement, times in statements.most_common():
            print(f"{times / requests:6.2f}  {statement}")
    return stats.total_calls / requests, statements.total() / requests


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_voice", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=120, help="profiled requests per workload (a multiple of 6)")
    parser.add_argument("--top", type=int, default=0, help="also print the N functions with most cumulative time")
    parser.add_argument("--sql", action="store_true", help="also print each statement's count per request")
    args = parser.parse_args(argv)
    bench_voice.SESSIONS = args.requests + 60
    with tempfile.TemporaryDirectory() as tmp:
        db_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        bench_voice.seed_sessions(db_url, bench_voice.seed(db_url))
        token_of = bench_voice.tokens(db_url)
        app = app_for(db_url)
        rows: list[tuple[str, float, float]] = []
        checks: list[Callable[[], str]] = []
        for name in bench_voice.WORKLOADS:
            workload = bench_voice.Workload(name, BASE, token_of)
            rows.append((name, *measure(app, workload, args.requests, args.top, args.sql)))
            checks.append(lambda workload=workload: bench_voice.check(db_url, workload))
        app.extensions["actionline"].close()
        for check in checks:
            print("checked", check())
    print(f"database {db_url.split(':')[0].split('+')[0]}; {args.requests} profiled requests per workload")
    print(f"{'workload':<10} {'calls/request':>14} {'statements/request':>19}")
    for name, calls, statements in rows:
        print(f"{name:<10} {calls:>14,.0f} {statements:>19.2f}")


if __name__ == "__main__":
    main()
