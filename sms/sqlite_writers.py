"""Queue SQLite writers on a lock instead of letting SQLite's busy handler poll.

SQLite allows one writer at a time. A writer that finds the lock taken sleeps and
retries (1, 2, 5 ... 100 ms), so under concurrent webhooks the unlucky ones wait
hundreds of milliseconds while the lock sits free between their naps. Connections
made with ``QueuedWriterConnection`` take a per-process lock, and across processes
an ``flock`` on ``<database>-writer.lock``, before their first write statement, and
give both back when the transaction ends: writers wait in the kernel and wake the
moment the previous one commits. Reads never take the lock (WAL lets them run beside
the writer). SQLite's own busy timeout stays as the fallback for writers from outside
this code (the ``sqlite3`` shell, another program).

WAL checkpoints are taken the same way: SQLite's automatic one runs inside the commit that
crosses its threshold, while this process still holds the writer's turn, so every writer waits
for its copy and fsync (about half of a new texter's commit time). Here a committing writer
checkpoints (``PASSIVE``, which never blocks readers or writers) after it has given its turn back,
every CHECKPOINT_EVERY write transactions of its process; SQLite's own stays as a backstop
at WAL_BACKSTOP_PAGES.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from typing import Any

LOCK_TIMEOUT = 30.0
"""Seconds a writer waits for its turn in this process, as SQLite's busy timeout would."""

CHECKPOINT_EVERY = 64
"""Write transactions of one process between its WAL checkpoints."""
WAL_BACKSTOP_PAGES = 10_000
"""SQLite's own automatic checkpoint (``wal_autocheckpoint``), for a WAL no checkpoint here has kept short."""

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


class WriterQueue:
    """One process's turn-taking for writes to one database file."""

    def __init__(self, path: str | None) -> None:
        self._turn = threading.Lock()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path else None
        self._writes = 0

    def acquire(self) -> None:
        if not self._turn.acquire(timeout=LOCK_TIMEOUT):
            raise sqlite3.OperationalError("database is locked (waited for this process's writer)")
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._turn.release()
                raise

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._turn.release()

    def checkpoint_due(self) -> bool:
        """Count a committed write; true every CHECKPOINT_EVERY of them (a file database only)."""
        self._writes += 1  # under the GIL; a count off by one only moves a checkpoint
        return self._fd is not None and self._writes % CHECKPOINT_EVERY == 0


_queues: dict[tuple[str, int], WriterQueue] = {}
_queues_lock = threading.Lock()


def queue_for(database: str) -> WriterQueue:
    """The queue for ``database`` in this process (a forked child gets its own file handle)."""
    key = (database, os.getpid())
    with _queues_lock:
        if key not in _queues:
            path = database.removeprefix("file:").split("?", 1)[0]
            in_memory = path in ("", ":memory:") or "mode=memory" in database
            _queues[key] = WriterQueue(None if in_memory else f"{path}-writer.lock")
        return _queues[key]


def is_write(sql: str) -> bool:
    head = sql.lstrip()[:16].upper()
    if head.startswith("WITH"):
        upper = sql.upper()
        return any(f" {verb} " in upper for verb in ("INSERT", "UPDATE", "DELETE"))
    return head.startswith(_WRITES)


class QueuedWriterConnection(sqlite3.Connection):
    """A ``sqlite3`` connection that waits for its turn before its first write."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._writer_queue = queue_for(os.fspath(database))
        self._holding = False

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # noqa: ARG002 - always ours
        return _QueuedCursor(self)

    def take_turn(self, sql: str) -> None:
        if not self._holding and is_write(sql):
            self._writer_queue.acquire()
            self._holding = True

    def end_turn_if_idle(self) -> None:
        if self._holding and not self.in_transaction:
            self._holding = False
            self._writer_queue.release()

    def commit(self) -> None:
        wrote = self._holding
        try:
            super().commit()
        finally:
            self.end_turn_if_idle()
        if wrote and self._writer_queue.checkpoint_due():
            self.checkpoint()

    def checkpoint(self) -> None:
        """Copy the WAL into the database without waiting for anyone (after the writer's turn is given back)."""
        try:
            super().execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        except sqlite3.OperationalError:  # busy with another checkpoint: the next one catches up
            pass

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn_if_idle()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._holding:
                self._holding = False
                self._writer_queue.release()


class _QueuedCursor(sqlite3.Cursor):
    connection: QueuedWriterConnection

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self.connection.take_turn(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection.end_turn_if_idle()

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> sqlite3.Cursor:
        self.connection.take_turn(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection.end_turn_if_idle()

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        self.connection.take_turn("CREATE")  # a script may write anything
        try:
            return super().executescript(sql_script)
        finally:
            self.connection.end_turn_if_idle()
