"""Inbound SMS webhook vs a bare Flask endpoint, same server (gunicorn) and same load tool.

The bare endpoint returns a fixed TwiML reply; ours checks the signature, matches the
keyword, writes the inbound and reply rows and renders TwiML. Printed: requests per
second and p50/p99 latency of each, and the ratios.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from sms import simulator

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
DURATION = float(os.environ.get("BENCH_SECONDS", "8"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")


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


def load(port: int, make_request, seconds: float) -> list[float]:  # noqa: ANN001
    """Closed-loop load: CONCURRENCY keep-alive clients for ``seconds``; return latencies."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        i = 0
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


def bare_request(n: int, i: int) -> tuple[str, str, dict[str, str]]:
    return "/sms", urlencode({"Body": "CHOKEHOLD"}), {"Content-Type": "application/x-www-form-urlencoded"}


def sms_request(base: str):  # noqa: ANN201
    run = uuid.uuid4().hex[:8]

    def make(n: int, i: int) -> tuple[str, str, dict[str, str]]:
        sender = f"+1617555{n:02d}{i % 100:02d}"
        params = simulator.sms_params(sender, "CHOKEHOLD", "+15005550006", sid=f"SM{run}{n:04d}{i:020d}")
        signature = simulator.sign(TOKEN, base + "/sms", params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        return "/sms", urlencode(params), headers

    return make


def summarise(name: str, latencies: list[float], seconds: float) -> tuple[float, float, float]:
    rps = len(latencies) / seconds
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(f"{name:<28} {rps:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({len(latencies)} requests)")
    return rps, p50, p99


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.db")
        env = {"DATABASE_URL": db_url, "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"),
               "TWILIO_AUTH_TOKEN": TOKEN, "INBOUND_LIMIT_PER_HOUR": "0", "FOLLOWUP_DELAY_SECONDS": "86400"}
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "init-db"], cwd=ROOT, env={**os.environ, **env},
                       check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "import-catalogue"], cwd=ROOT,
                       env={**os.environ, **env}, check=True, capture_output=True)
        print(f"gunicorn, {WORKERS} workers, {CONCURRENCY} keep-alive clients, {DURATION:.0f} s each; "
              f"database {db_url.split(':')[0]}")
        results = {}
        for name, spec, maker in [("bare Flask (baseline)", "benchmarks.bare_app:create_app()", lambda b: bare_request),
                                  ("Action Line POST /sms", "app:create_app()", sms_request)]:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            proc = serve(spec, port, {**env, "PUBLIC_BASE_URL": base})
            try:
                load(port, maker(base), 1.0)  # warm up
                results[name] = summarise(name, load(port, maker(base), DURATION), DURATION)
            finally:
                proc.terminate()
                proc.wait()
    (bare_rps, _, bare_p99), (ours_rps, _, ours_p99) = results.values()
    print(f"throughput ratio (ours / bare): {ours_rps / bare_rps:.2f}   "
          f"p99 ratio (ours / bare): {ours_p99 / bare_p99:.1f}x")


if __name__ == "__main__":
    main()
