"""SQLite writers queue on a lock (sms.sqlite_writers) instead of polling SQLite's busy handler."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from sms import sqlite_writers
from sms.store import Database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield database
    database.dispose()


@pytest.mark.parametrize("sql, writes", [
    ("SELECT 1", False),
    ("  select * from t", False),
    ("PRAGMA foreign_keys=ON", False),
    ("INSERT INTO t (v) VALUES (?)", True),
    ("\n update t set v = 1", True),
    ("DELETE FROM t", True),
    ("CREATE TABLE x (a)", True),
    ("BEGIN IMMEDIATE", True),
    ("WITH s AS (SELECT 1) INSERT INTO t (v) SELECT * FROM s", True),
    ("WITH s AS (SELECT 1) SELECT * FROM s", False),
])
def test_write_statements_are_recognised(sql: str, writes: bool) -> None:
    assert sqlite_writers.is_write(sql) is writes


def _hold_write(db: Database, holding: threading.Event, release: threading.Event) -> None:
    with db.engine.connect() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES ('first')"))
        holding.set()
        release.wait(10)
        conn.commit()


def _writer(db: Database, value: str) -> tuple[threading.Thread, threading.Event]:
    """A thread inserting ``value`` in its own transaction; the event is set once it committed."""
    done = threading.Event()

    def write() -> None:
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    return thread, done


def test_a_second_writer_waits_for_the_first_to_commit_and_readers_do_not(db: Database) -> None:
    holding, release = threading.Event(), threading.Event()
    first = threading.Thread(target=_hold_write, args=(db, holding, release))
    first.start()
    assert holding.wait(5)

    second, second_done = _writer(db, "second")
    with db.engine.connect() as conn:  # a reader is not held up by the writer
        assert conn.scalar(text("SELECT count(*) FROM t")) == 0
    assert not second_done.wait(0.3)  # still queued behind the uncommitted first writer
    release.set()
    first.join(5)
    second.join(5)
    assert second_done.is_set()
    with db.engine.connect() as conn:
        assert conn.scalars(text("SELECT v FROM t ORDER BY id")).all() == ["first", "second"]


def test_writers_in_this_process_queue_on_the_turn_not_on_sqlite(db: Database, tmp_path: Path) -> None:
    queue = sqlite_writers.queue_for(str(tmp_path / "w.db"))
    queue.acquire()  # SQLite itself is unlocked: only our turn is taken
    thread, done = _writer(db, "queued")
    try:
        assert not done.wait(0.3)
    finally:
        queue.release()
    thread.join(5)
    assert done.is_set()


def test_the_turn_is_given_back_on_rollback_and_on_error(db: Database) -> None:
    with db.engine.connect() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES ('x')"))
        conn.rollback()
    with pytest.raises(Exception), db.engine.begin() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES ('y')"))
        raise RuntimeError("handler failed")
    thread, done = _writer(db, "z")
    thread.join(5)
    assert done.is_set()
    with db.engine.connect() as conn:
        assert conn.scalars(text("SELECT v FROM t")).all() == ["z"]


def test_another_process_holding_the_turn_makes_our_writer_wait(db: Database, tmp_path: Path) -> None:
    lock_file = f"{tmp_path / 'w.db'}-writer.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.readline()"
        ), lock_file],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        thread, done = _writer(db, "after")
        assert not done.wait(0.5)  # queued behind the other process
        holder.stdin.write("go\n")
        holder.stdin.flush()
        thread.join(5)
        assert done.is_set()
    finally:
        holder.kill()
        holder.wait()


def test_commits_checkpoint_the_wal_every_n_writes_after_giving_the_turn_back(db: Database, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_writers, "CHECKPOINT_EVERY", 3)
    queue = sqlite_writers.queue_for(str(db.engine.url.database))
    seen: list[bool] = []
    checkpoint = sqlite_writers.QueuedWriterConnection.checkpoint

    def spy(self) -> None:
        seen.append(queue._turn.locked())  # the writer's turn, free while the WAL is copied
        checkpoint(self)

    monkeypatch.setattr(sqlite_writers.QueuedWriterConnection, "checkpoint", spy)
    queue._writes = 0
    for value in range(7):
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": str(value)})
    with db.engine.connect() as conn:  # a read commits nothing and counts for nothing
        conn.execute(text("SELECT count(*) FROM t")).scalar_one()
        conn.commit()
    assert seen == [False, False]


def test_sqlites_own_checkpoint_waits_for_the_backstop(db: Database) -> None:
    with db.engine.connect() as conn:
        pages = conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
    assert pages == sqlite_writers.WAL_BACKSTOP_PAGES
