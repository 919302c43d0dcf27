"""Load-independent cost of one inbound text: Python calls and SQL statements per ``POST /sms``.

Not a ``bench_*`` module (``python -m benchmarks`` does not run it): wall-clock figures on a
shared machine say more about the other work than about the code, so issue 15's changes are
chosen on what does not move with the load. In-process through the Flask test client, signed
as Twilio would, on a fresh SQLite file or PostgreSQL schema, the same texts as bench_inbound
(``known``, ``new`` and the 70 % known ``mix``), each workload counted under cProfile (its call
count), with a cursor-execute listener (statements; an ``executemany`` counts once) and with a
count of the packets sent to Redis (round trips; a pipeline is one)::

    .venv/bin/python -m benchmarks.profile_inbound [--backend postgresql] [--texts 300] [--top 25]

``--top N`` prints the N functions of most cumulative time in one workload (``--profile``, default new).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
from typing import Any

from redis.connection import AbstractConnection
from sqlalchemy import event

from benchmarks import bench_inbound
from benchmarks.support import fresh_database
from sms import services, store
from sms.console import simulator

BASE = "https://bench.test"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


def make_app(url: str) -> Any:
    from app import create_app

    store.upgrade(url)
    app = create_app({
        "TESTING": True, "DATABASE_URL": url, "REDIS_URL": REDIS, "TWILIO_AUTH_TOKEN": bench_inbound.TOKEN,
        "TWILIO_PHONE_NUMBER": "+15005550006", "PUBLIC_BASE_URL": BASE, "SECRET_KEY": "bench",
        "INBOUND_LIMIT_PER_HOUR": "0", "FOLLOWUP_DELAY_SECONDS": "86400", "QUIET_HOURS": "off",
    })
    svc = app.extensions["actionline"]
    svc.redis.flushdb()
    from sms.messaging import catalogue

    with svc.db.session() as session:
        catalogue.import_catalogue(session, catalogue.load_yaml())
    services.bind(svc)
    return app


def texts(workload: str, count: int, offset: int) -> list[tuple[dict[str, str], str]]:
    """``count`` signed texts of ``workload``: (form, signature)."""
    out = []
    for i in range(offset, offset + count):
        params = simulator.sms_params(bench_inbound.sender(workload, i), bench_inbound.BODIES[i % 6],
                                      "+15005550006", sid=f"SM{workload[:3]}{i:029d}")
        out.append((params, simulator.sign(bench_inbound.TOKEN, BASE + "/sms", params)))
    return out


def post_all(client: Any, batch: list[tuple[dict[str, str], str]]) -> None:
    for params, signature in batch:
        response = client.post("/sms", data=params, headers={"X-Twilio-Signature": signature}, base_url=BASE)
        assert response.status_code == 200, response.get_data(as_text=True)


def count_redis_round_trips(counter: list[int]) -> Any:
    """Count every packet a Redis connection sends (one per command, one per pipeline); returns the undo."""
    original = AbstractConnection.send_packed_command

    def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        counter[0] += 1
        return original(self, command, check_health)

    AbstractConnection.send_packed_command = counted

    def undo() -> None:
        AbstractConnection.send_packed_command = original

    return undo


def measure(app: Any, count: int, top: int, profiled: str = "new") -> dict[str, tuple[float, float, float]]:
    """{workload: (Python calls per text, statements per text, Redis round trips per text)}."""
    client = app.test_client()
    post_all(client, texts("known", bench_inbound.KNOWN, 0))  # the known senders' first texts
    statements, round_trips = [0], [0]

    def count_statement(*_args: Any) -> None:
        statements[0] += 1

    engine = app.extensions["actionline"].db.engine
    event.listen(engine, "before_cursor_execute", count_statement)
    undo = count_redis_round_trips(round_trips)
    results = {}
    for n, workload in enumerate(bench_inbound.WORKLOADS):
        batch = texts(workload, count, bench_inbound.KNOWN * (n + 1))
        post_all(client, batch[:20])  # warm the statement caches of this workload's paths
        batch = batch[20:]
        statements[0] = round_trips[0] = 0
        profile = cProfile.Profile()
        profile.runcall(post_all, client, batch)
        stats = pstats.Stats(profile)
        results[workload] = (stats.total_calls / len(batch), statements[0] / len(batch), round_trips[0] / len(batch))
        if top and workload == profiled:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(top)
            print(out.getvalue())
    event.remove(engine, "before_cursor_execute", count_statement)
    undo()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--texts", type=int, default=320)
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--profile", default="new", choices=bench_inbound.WORKLOADS)
    args = parser.parse_args()
    with fresh_database(args.backend) as url:
        app = make_app(url)
        try:
            results = measure(app, args.texts, args.top, args.profile)
        finally:
            services.bind(None)
            app.extensions["actionline"].close()
    for workload, (calls, stmts, trips) in results.items():
        print(f"{args.backend} {workload:5}  {calls:8,.0f} Python calls / text  {stmts:5.1f} statements / text"
              f"  {trips:4.1f} Redis round trips / text")


if __name__ == "__main__":
    main()
