"""Private servers the fault tests may stop, restart and flush, and real worker processes.

The shared Redis and PostgreSQL are used by other test runs at the same time, so a test
that kills its dependencies gets its own: a ``redis-server`` on a spare port (per test)
and a PostgreSQL cluster made with ``initdb`` in a temporary directory (once per session).
A pytest plugin (``pytest_plugins`` in tests/conftest.py): ``private_redis`` and ``private_postgres``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, text

from sms import store
from tests.conftest import ROOT

PG_BIN = Path(os.environ.get("TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
FAST_WORKER = (
    "from sms import cron, defaults\n"
    "cron.PERIODIC[:] = [(job, min(every, 2)) for job, every in cron.PERIODIC]\n"
    "defaults.SWEEP_GRACE_SECONDS = 4\n"
    "defaults.EVENT_STALE_SECONDS = 3\n"
    "defaults.CALL_PLACE_WINDOW_SECONDS = {place_window}\n"
    "import worker\n"
    "worker.main()\n"
)
"""worker.py with its clock sped up: sweepers every 2 s instead of 15-30 s (event deliveries a killed
worker left mid-request are handed back after 3 s instead of 60), so a test waits seconds."""


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout: float = 120.0, what: str = "the worker", *,
             interval: float = 0.1, procs: Sequence[subprocess.Popen] = (),
             logs: Callable[[], str] | None = None) -> None:
    """Poll ``condition`` every ``interval`` s until it is true; generous, because other test runs may load
    the machine. Fails at once if one of ``procs`` has exited, and then, or on the timeout, shows ``logs()``.
    """

    def detail() -> str:  # read only when failing
        return f"\n{logs()}" if logs else ""

    deadline = time.monotonic() + timeout
    while not condition():
        assert all(p.poll() is None for p in procs), f"a process died while waiting for {what}{detail()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}{detail()}"
        time.sleep(interval)


class PrivateRedis:
    """A ``redis-server`` without persistence: a restart comes back empty, as after a crash."""

    def __init__(self, workdir: Path) -> None:
        self.port = spare_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, 10, "redis-server to start")
        Redis.from_url(self.url).flushall()  # FLUSHALL: this server is ours alone

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def answers(self) -> bool:
        try:
            return bool(Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except RedisError:
            return False


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (``initdb`` + ``pg_ctl``), run as a non-root user if we are root."""

    def __init__(self, datadir: Path) -> None:
        self.datadir = datadir
        self.port = spare_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/actionline"
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        with open(self.datadir / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                       "fsync = off\nfull_page_writes = off\n")  # a process crash keeps the OS cache
        self.start()
        admin = create_engine(self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE actionline"))
        admin.dispose()

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.datadir / "server.log"), "-w", "-t", "30",
                  "start")

    def stop(self) -> None:
        """Stop the server the way a crash or a failover does: every connection is cut."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A migrated PostgreSQL of our own for the session; skipped only if PostgreSQL is not installed."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} (set TEST_PG_BIN)")
    root = Path(tempfile.mkdtemp(prefix="actionline-pg-"))
    server = PrivatePostgres(root / "data")
    if server.user:
        user = pwd.getpwnam(server.user)
        os.chown(root, user.pw_uid, user.pw_gid)
    server.init()
    try:
        store.upgrade(server.url)
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a process and every process it started, at once, as a crash or an OOM kill would.

    RQ's work horse runs in a process group of its own (``os.setpgrp``), so killing the
    worker's group alone would leave the job running.
    """
    for pid in [proc.pid, *descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def stop_group(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM a process started with ``start_new_session`` and wait; then kill whatever it left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
    except ProcessLookupError:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # a scheduler child left in the group
    except ProcessLookupError:
        pass


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (children, grandchildren...), read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


class Workers:
    """Real ``worker.py`` processes (sped-up clock) against the given database and Redis."""

    def __init__(self, database_url: str, redis_url: str, logdir: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
        self.env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, QUIET_HOURS="off",
                        CALL_OFFICE_HOURS="off", BROADCAST_STALE_SECONDS="2", PYTHONUNBUFFERED="1",
                        PUBLIC_BASE_URL="https://actionline.test")
        self.logdir = logdir
        self.started: list[subprocess.Popen] = []

    def start(self, place_window: int = 120) -> subprocess.Popen:
        """Start a worker; ``place_window`` shortens how long a call-back may wait to be placed."""
        log = open(self.logdir / f"worker{len(self.started)}.log", "w")  # noqa: SIM115 - closed with the process
        code = FAST_WORKER.format(place_window=place_window)
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=self.env, stdout=log,
                                stderr=log)
        self.started.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        kill_tree(proc)

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.logdir.glob("worker*.log")))

    def stop_all(self) -> None:
        for proc in self.started:  # SIGKILL: the test is over, and a warm shutdown costs a second or two
            self.kill(proc)
