"""Inbound SMS webhook vs a bare Flask endpoint, same server (gunicorn) and same load tool.

The bare endpoint returns a fixed TwiML reply; ours checks the signature, matches the
keyword, writes the inbound and reply rows and renders TwiML. Both get the same signed
requests, prepared before the clock starts, from load processes separate from the server
(benchmarks.loadgen flat out, benchmarks.openloop at a fixed rate). Printed for each (SQLite,
and PostgreSQL when it answers): the flat-out rate with p50/p99, the p50/p99 at a fixed
BENCH_RATE (200/s, open loop), and the ratios.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from benchmarks import loadgen, openloop
from sms.console import simulator

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
DURATION = float(os.environ.get("BENCH_SECONDS", "8"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
RATE = float(os.environ.get("BENCH_RATE", "200"))
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", WORKERS,
           "--threads", os.environ.get("BENCH_THREADS", "4"), "--log-level", "warning", app_spec]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{app_spec} did not start")


def signed_requests(base: str, count: int, senders: int = 1000) -> list[loadgen.Request]:
    """``count`` signed inbound texts from ``senders`` numbers: keywords, menus and menu picks."""
    run = uuid.uuid4().hex[:8]
    bodies = ["CHOKEHOLD", "MENU", "1", "QI", "Stop chokeholds now please", "NOKNOCK"]
    requests = []
    for i in range(count):
        params = simulator.sms_params(f"+1617555{i % senders:04d}", bodies[i % len(bodies)], "+15005550006",
                                      sid=f"SM{run}{i:024d}")
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": simulator.sign(TOKEN, base + "/sms", params)}
        requests.append(("/sms", urlencode(params).encode(), headers))
    return requests


@contextmanager
def databases() -> Iterator[list[tuple[str, str]]]:
    """A fresh SQLite file and, when PostgreSQL answers, a fresh schema: [(label, url)]."""
    with tempfile.TemporaryDirectory() as tmp:
        urls = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = None
        try:
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            urls.append(("postgresql", f"{PG_URL}?options=-csearch_path%3D{schema}"))
        except OperationalError:
            print(f"(PostgreSQL not reachable at {PG_URL}: SQLite only)")
        try:
            yield urls
        finally:
            if len(urls) > 1:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            if admin is not None:
                admin.dispose()


def prepare(db_url: str, env: dict[str, str]) -> None:
    for command in (["init-db"], ["import-catalogue"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", *command], cwd=ROOT,
                       env={**os.environ, **env, "DATABASE_URL": db_url}, check=True, capture_output=True)


def fixed_rate(port: int, requests: list[loadgen.Request]) -> loadgen.Result:
    """``requests`` at RATE per second, open-loop (benchmarks.openloop), as a loadgen.Result."""
    raw = [openloop.encode(path, body.decode(), headers) for path, body, headers in requests]
    result = loadgen.Result(seconds=len(raw) / RATE)
    for answer in openloop.run(port, raw, RATE):
        result.statuses[answer.status] = result.statuses.get(answer.status, 0) + 1
        if 200 <= answer.status < 300:
            result.latencies.append(answer.latency)
    return result


def measure(spec: str, env: dict[str, str]) -> tuple[loadgen.Result, loadgen.Result]:
    """Closed-loop maximum rate, then open-loop latency at RATE, of one app under gunicorn."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(spec, port, {**env, "PUBLIC_BASE_URL": base})
    try:
        loadgen.closed_loop(port, signed_requests(base, 400), 1.0)  # warm up
        peak = loadgen.closed_loop(port, signed_requests(base, int(DURATION * 6000)), DURATION,
                                   threads=CONCURRENCY // 2)
        steady = fixed_rate(port, signed_requests(base, int(RATE * DURATION)))
        return peak, steady
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    env = {"REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"), "TWILIO_AUTH_TOKEN": TOKEN,
           "INBOUND_LIMIT_PER_HOUR": "0", "FOLLOWUP_DELAY_SECONDS": "86400", "QUIET_HOURS": "off"}
    print(f"gunicorn {WORKERS} workers x {os.environ.get('BENCH_THREADS', '4')} threads; load from 2 processes: "
          f"{CONCURRENCY} keep-alive clients flat out, then {RATE:.0f} req/s open-loop; {DURATION:.0f} s each")
    ratios = []
    with databases() as urls:
        bare_peak, bare_steady = measure("benchmarks.bare_app:create_app()", {**env, "DATABASE_URL": urls[0][1]})
        print(bare_peak.line("bare Flask, flat out"))
        print(bare_steady.line(f"bare Flask, {RATE:.0f} req/s"))
        for label, url in urls:
            prepare(url, env)
            peak, steady = measure("app:create_app()", {**env, "DATABASE_URL": url})
            print(peak.line(f"POST /sms ({label}), flat out"))
            print(steady.line(f"POST /sms ({label}), {RATE:.0f} req/s"))
            ratios.append(f"{label}: throughput {peak.rate / bare_peak.rate:.2f}x bare, "
                          f"p99 at {RATE:.0f}/s {steady.percentile(0.99) * 1000:.0f} ms "
                          f"({steady.percentile(0.99) / bare_steady.percentile(0.99):.1f}x bare)")
    print("ratios: " + "; ".join(ratios))


if __name__ == "__main__":
    main()
