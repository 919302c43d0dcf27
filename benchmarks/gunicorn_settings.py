"""gunicorn workers x threads compared: bench_voice and bench_inbound once per setting, ratios against bare.

``python -m benchmarks.gunicorn_settings [2x4 2x8 3x4 4x2 ...]``: for each setting, bench_voice
(SQLite, then PostgreSQL when it answers) and bench_inbound (both backends) run in processes of
their own with BENCH_WORKERS and BENCH_THREADS set, so every Action Line figure has its bare Flask
baseline measured under the same setting, minutes apart at most. Each benchmark's lines are printed
with the 1-minute load average when it started: the machine may be shared, so compare ratios, not
rates. Not a ``bench_*`` module: ``make bench`` measures the setting the benchmarks default to.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks.support import fresh_database

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("4x2", "2x4", "4x1", "3x2")


def run(module: str, workers: str, threads: str, database_url: str = "") -> list[str]:
    """One benchmark module under ``workers`` x ``threads``: its output lines."""
    env = {**os.environ, "BENCH_WORKERS": workers, "BENCH_THREADS": threads, "PYTHONUNBUFFERED": "1"}
    if database_url:
        env["BENCH_DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    return done.stdout.splitlines()


def main(argv: list[str]) -> None:
    for setting in argv or SETTINGS:
        workers, threads = setting.split("x")
        for module, backend in (("bench_voice", "sqlite"), ("bench_voice", "postgresql"), ("bench_inbound", "")):
            load = os.getloadavg()[0]
            if backend:
                with fresh_database(backend) as url:
                    lines = run(module, workers, threads, url)
            else:
                lines = run(module, workers, threads)
            print(f"=== {setting} {module} {backend} (load average {load:.1f} at start)", flush=True)
            print(
                "\n".join(line for line in lines if "req/s" in line or "ratios" in line or "Error" in line), flush=True
            )


if __name__ == "__main__":
    main(sys.argv[1:])
