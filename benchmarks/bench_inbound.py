"""Inbound SMS webhook vs a bare Flask endpoint, same server (gunicorn) and same load tool.

The bare endpoint returns a fixed TwiML reply; ours checks the signature, matches the
keyword, writes the inbound and reply rows and renders TwiML. Both get the same signed
requests, prepared before the clock starts, from load processes separate from the server
(benchmarks.loadgen flat out, benchmarks.openloop at a fixed rate). Three workloads, flat out:
``known`` (texters already subscribed: keywords, menus, menu picks), ``new`` (every text a new
number's first, with its opt-in and disclosure) and ``mix`` (a real campaign's: 70 % known, 30 % new);
then the mix at a fixed BENCH_RATE (200/s, open loop). Printed for each (SQLite, and PostgreSQL
when it answers): the rate with p50/p99, and the ratios to bare Flask.
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
WORKERS = os.environ.get("BENCH_WORKERS", "4")
THREADS = os.environ.get("BENCH_THREADS", "2")
"""The Procfile's web setting (WEB_CONCURRENCY x WEB_THREADS), which the bare baseline runs under too."""
RATE = float(os.environ.get("BENCH_RATE", "200"))
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", WORKERS,
           "--threads", THREADS, "--log-level", "warning", app_spec]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{app_spec} did not start")


KNOWN = 1000
"""Senders made known by the warm-up."""
BODIES = ["CHOKEHOLD", "MENU", "1", "QI", "Stop chokeholds now please", "NOKNOCK"]
_fresh = iter(range(10**7))
"""New numbers, never reused within one run of the benchmark."""


def sender(workload: str, i: int) -> str:
    if workload == "known" or (workload == "mix" and i % 10 < 7):
        return f"+1617555{i % KNOWN:04d}"
    return f"+1415{next(_fresh):07d}"


def signed_requests(base: str, count: int, workload: str = "known") -> list[loadgen.Request]:
    """``count`` signed inbound texts of ``workload`` (known, new, mix): keywords, menus and menu picks."""
    run = uuid.uuid4().hex[:8]
    requests = []
    for i in range(count):
        params = simulator.sms_params(sender(workload, i), BODIES[i % len(BODIES)], "+15005550006",
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


WORKLOADS = ("known", "new", "mix")


def measure(spec: str, env: dict[str, str], workloads: tuple[str, ...] = WORKLOADS,
            ) -> tuple[dict[str, loadgen.Result], loadgen.Result]:
    """Closed-loop maximum rate of each workload, then open-loop latency of the mix at RATE, under gunicorn."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(spec, port, {**env, "PUBLIC_BASE_URL": base})
    try:
        loadgen.closed_loop(port, signed_requests(base, KNOWN), 2.0)  # warm up: the known senders' first texts
        peaks = {w: loadgen.closed_loop(port, signed_requests(base, int(DURATION * 6000), w), DURATION,
                                        threads=CONCURRENCY // 2) for w in workloads}
        steady = fixed_rate(port, signed_requests(base, int(RATE * DURATION), "mix"))
        return peaks, steady
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    env = {"REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"), "TWILIO_AUTH_TOKEN": TOKEN,
           "INBOUND_LIMIT_PER_HOUR": "0", "FOLLOWUP_DELAY_SECONDS": "86400", "QUIET_HOURS": "off"}
    print(f"gunicorn {WORKERS} workers x {THREADS} threads; load from 2 processes: "
          f"{CONCURRENCY} keep-alive clients flat out, then {RATE:.0f} req/s open-loop; {DURATION:.0f} s each")
    ratios = []
    with databases() as urls:
        bare_peaks, bare_steady = measure("benchmarks.bare_app:create_app()", {**env, "DATABASE_URL": urls[0][1]},
                                          ("mix",))  # the bare endpoint ignores who texts
        bare_peak = bare_peaks["mix"]
        print(bare_peak.line("bare Flask, flat out"))
        print(bare_steady.line(f"bare Flask, {RATE:.0f} req/s"))
        for label, url in urls:
            prepare(url, env)
            peaks, steady = measure("app:create_app()", {**env, "DATABASE_URL": url})
            for workload, peak in peaks.items():
                print(peak.line(f"POST /sms {workload} ({label}), flat out"))
            print(steady.line(f"POST /sms mix ({label}), {RATE:.0f} req/s"))
            ratios.append(f"{label}: " + ", ".join(f"{w} {p.rate / bare_peak.rate:.2f}x" for w, p in peaks.items())
                          + f" bare; mix p99 at {RATE:.0f}/s {steady.percentile(0.99) * 1000:.0f} ms "
                          f"({steady.percentile(0.99) / bare_steady.percentile(0.99):.1f}x bare)")
    print("ratios: " + "; ".join(ratios))


if __name__ == "__main__":
    main()
