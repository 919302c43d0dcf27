"""Helpers shared by the benchmarks: a fresh database per backend, aligned tables, the machine's facts."""

from __future__ import annotations

import os
import platform
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_BASE = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """A URL to an empty database: a temporary SQLite file, or a PostgreSQL schema of its own (dropped after)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r} (sqlite or postgresql)")
    schema = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows under headers, the first column left-aligned and the rest right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def machine() -> dict[str, str]:
    """Cores, memory, CPU model, Python, SQLite and PostgreSQL versions of this machine."""
    return {
        "cores": str(os.cpu_count()),
        "memory": f"{_meminfo_kb('MemTotal') / 1024 / 1024:.1f} GiB",
        "cpu": _cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
    }


def _meminfo_kb(key: str) -> float:
    try:
        with open("/proc/meminfo") as f:
            for row in f:
                if row.startswith(key + ":"):
                    return float(row.split()[1])
    except OSError:
        pass
    return 0.0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for row in f:
                if row.startswith("model name"):
                    return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _postgres_version() -> str:
    try:
        engine = create_engine(PG_BASE)
        with engine.connect() as conn:
            version = conn.scalar(text("SHOW server_version"))
        engine.dispose()
        return str(version)
    except Exception as exc:  # noqa: BLE001 - the report says why instead of failing
        return f"unavailable ({type(exc).__name__})"
