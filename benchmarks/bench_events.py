"""Event deliveries per second of one worker, against a bare HTTP loop measured in the same run.

    python -m benchmarks.bench_events [--events 4000] [--database-url URL]

Seeds BENCH_EVENTS events (two per subscriber: subscriber.joined and interest.added) into a fresh
database (BENCH_DATABASE_URL, default a temporary SQLite file), with one webhook destination taking
every type and allowed phone numbers. The receiver is a threaded ``http.server`` in a child
process on 127.0.0.1 that answers 200 to everything. Then, in this one process (one worker):
  1. baseline: a ``requests.Session`` POSTing as many pre-built, signed bodies of the same size,
     one after the other (the ceiling of a sequential sender);
  2. ``sms.integrations.delivery``: fan-out, claims in order per subscriber, signing, sending and
     recording each result in SQL, until every event is delivered (checked afterwards).
Printed: a table of events per second and a line of ratios to the baseline.

Environment: BENCH_EVENTS (4000), BENCH_REDIS_URL (default redis://127.0.0.1:6379/10 — FLUSHED).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from redis import Redis
from sqlalchemy import func, insert, select

from benchmarks.support import table
from sms import features, services, store
from sms.integrations import delivery, destinations, webhooks
from sms.integrations.models import Event, EventDelivery
from sms.settings import Settings
from sms.store import Subscriber, utcnow

EVENTS = int(os.environ.get("BENCH_EVENTS", "4000"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
SECRET = "whsec_bench_0123456789abcdef"


class Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def serve(port: multiprocessing.Queue) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    port.put(server.server_address[1])
    server.serve_forever()


def seed(svc: services.Services, count: int, url: str) -> None:
    now = utcnow() - timedelta(minutes=5)
    people = count // 2
    with svc.db.session() as session:
        destinations.add(session, url, "all", "bench", allow_phone=True, secret=SECRET)
        session.execute(insert(Subscriber), [{"phone": f"+1617{n:07d}", "status": "active", "tier": "normal",
                                              "created_at": now, "last_active_at": now} for n in range(people)])
        ids = session.scalars(select(Subscriber.id).order_by(Subscriber.id)).all()
        rows = []
        for subscriber_id in ids:
            rows.append({"uuid": str(uuid.uuid4()), "type": "subscriber.joined", "schema": 1,
                         "subscriber_id": subscriber_id, "data": {"source": "sms"}, "fanned_out": False,
                         "created_at": now})
            rows.append({"uuid": str(uuid.uuid4()), "type": "interest.added", "schema": 1,
                         "subscriber_id": subscriber_id, "data": {"keyword": "CHOKEHOLD"}, "fanned_out": False,
                         "created_at": now})
        session.execute(insert(Event), rows)
        session.commit()


def baseline(url: str, count: int) -> float:
    """A bare sequential sender: pre-built signed bodies, one keep-alive session."""
    http = requests.Session()
    data = {"subscriber_id": 1, "keyword": "CHOKEHOLD", "phone": "+16175550123"}
    body = webhooks.envelope(str(uuid.uuid4()), "interest.added", 1, utcnow().isoformat(), data)
    started = time.perf_counter()
    for _ in range(count):
        headers = {"Content-Type": "application/json",
                   webhooks.SIGNATURE_HEADER: webhooks.sign(SECRET, body, int(time.time()))}
        http.post(url, data=body, headers=headers, timeout=(3.05, 10)).raise_for_status()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    args, _names = parser.parse_known_args()  # `python -m benchmarks events` passes names
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    store.upgrade(url)
    Redis.from_url(REDIS_URL).flushdb()
    features.install()
    svc = services.Services.from_settings(Settings.from_mapping({"DATABASE_URL": url, "REDIS_URL": REDIS_URL}))
    ports: multiprocessing.Queue = multiprocessing.Queue()
    sink = multiprocessing.Process(target=serve, args=(ports,), daemon=True)
    sink.start()
    hook = f"http://127.0.0.1:{ports.get(timeout=10)}/hook"
    try:
        seed(svc, args.events, hook)
        bare = baseline(hook, args.events)
        started = time.perf_counter()
        totals = delivery.deliver_now(svc, passes=100_000)
        ours = args.events / (time.perf_counter() - started)
        with svc.db.session() as session:
            delivered = session.scalar(select(func.count()).select_from(EventDelivery)
                                       .where(EventDelivery.status == "delivered"))
        assert delivered == args.events == totals.get("delivered"), (delivered, totals)
    finally:
        sink.terminate()
        Redis.from_url(REDIS_URL).flushdb()
        svc.close()
    print(f"database: {svc.db.engine.dialect.name}; {args.events} events, {args.events // 2} subscribers, "
          "1 webhook destination, 1 worker process")
    print(table(("sender", "events per second", "vs bare loop"),
                [("bare requests loop (baseline)", f"{bare:,.0f}", "1.00x"),
                 ("sms.integrations.delivery", f"{ours:,.0f}", f"{ours / bare:.2f}x")]))
    print(f"ratios: webhook delivery {ours / bare:.2f}x the bare HTTP loop ({ours:,.0f} events/s per worker)")


if __name__ == "__main__":
    main()
