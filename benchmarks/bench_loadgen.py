"""The open-loop load generator's own ceiling, against the bare Flask app (so the load test can trust it).

``benchmarks.openloop`` (the generator tests/system/test_load.py uses) sends fixed-rate POST /sms
to benchmarks.bare_app under gunicorn with the same settings as bench_inbound, at rising
rates for BENCH_LOADGEN_SECONDS (5) each (BENCH_LOADGEN_RATES, default 200,400,800,1200,1600,2400).
A rate is sustained when answers keep up (achieved >= 98% of the target) and p99 stays
under 50 ms; the baseline is the load test's 200 req/s. Printed: per rate the achieved
rate, latency percentiles from the due time and the generator's own send lag, then the
sustained ceiling as a ratio to 200 req/s. No database is used.
"""

from __future__ import annotations

import os
from urllib.parse import urlencode

from benchmarks import openloop
from benchmarks.bench_inbound import WORKERS, free_port, serve
from benchmarks.support import table

USES_DATABASE = False
SECONDS = float(os.environ.get("BENCH_LOADGEN_SECONDS", "5"))
RATES = [float(r) for r in os.environ.get("BENCH_LOADGEN_RATES", "200,400,800,1200,1600,2400").split(",")]
PROCESSES = int(os.environ.get("BENCH_LOADGEN_PROCESSES", "2"))
LOAD_TEST_RATE = 200.0


def sustained(rate: float, achieved: float, p99_ms: float, errors: int) -> bool:
    return errors == 0 and achieved >= 0.98 * rate and p99_ms < 50


def main() -> None:
    port = free_port()
    proc = serve("benchmarks.bare_app:create_app()", port, {})
    body = urlencode({"Body": "CHOKEHOLD", "From": "+16175550123", "MessageSid": "SM" + "0" * 32})
    raw = openloop.encode("/sms", body, {"Content-Type": "application/x-www-form-urlencoded"})
    rows, ceiling = [], 0.0
    try:
        openloop.run(port, [raw] * 200, 400, processes=PROCESSES)  # warm up
        for rate in RATES:
            results = openloop.run(port, [raw] * int(rate * SECONDS), rate, processes=PROCESSES)
            errors = sum(r.status != 200 for r in results)
            achieved = openloop.achieved_rate(results, rate)
            d = openloop.distribution(results)
            ok = sustained(rate, achieved, d["p99"], errors)
            ceiling = max(ceiling, rate) if ok else ceiling
            rows.append((f"{rate:,.0f}", f"{achieved:,.0f}", f"{d['p50']:.1f}", f"{d['p99']:.1f}", f"{d['max']:.1f}",
                         f"{d['lag p99']:.1f}", str(errors), "yes" if ok else "no"))
    finally:
        proc.terminate()
        proc.wait()
    print(f"open-loop generator: {PROCESSES} processes (asyncio, keep-alive); bare Flask under gunicorn, "
          f"{WORKERS} workers; {SECONDS:.0f} s per rate")
    print(table(("target req/s", "achieved", "p50 ms", "p99 ms", "max ms", "send lag p99 ms", "errors", "sustained"),
                rows))
    print(f"ratios: sustained ceiling {ceiling:,.0f} req/s = {ceiling / LOAD_TEST_RATE:.1f}x the load test's "
          f"{LOAD_TEST_RATE:.0f} req/s")


if __name__ == "__main__":
    main()
