"""Open-loop HTTP load: requests go out at fixed arrival times whatever the answers, latency from the due time.

A closed-loop client (bench_inbound's) waits for each answer before asking again, so a slow
server is asked less often and its queueing never shows (coordinated omission). Here request i
is due at ``start + i / rate``; at that moment it is written to an idle keep-alive connection
(a new one while fewer than ``max_connections`` are open, else it waits for one), and its
latency runs from the due time, so waiting for a connection or in the server's queue counts.
Requests are pre-encoded bytes; the schedule is shared by ``processes`` child processes
(request i goes to process i % processes, ``python -m benchmarks.openloop``), each one asyncio loop.
"""

from __future__ import annotations

import asyncio
import pickle
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
IDLE_SECONDS = 1.5
"""Connections idle longer are dropped, not reused: gunicorn closes idle keep-alive connections after 2 s."""


@dataclass(frozen=True)
class Result:
    """One request: how late it was sent and answered (seconds after it was due), and the answer."""

    index: int
    lag: float
    latency: float
    status: int
    body: str


def encode(path: str, body: str, headers: Mapping[str, str], host: str = HOST) -> bytes:
    """A complete HTTP/1.1 keep-alive POST, ready to write to a socket."""
    data = body.encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(data)}",
             *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1") + data


def run(port: int, requests: Sequence[bytes], rate: float, processes: int = 2, max_connections: int = 256,
        timeout: float = 30.0) -> list[Result]:
    """Send ``requests`` to 127.0.0.1:``port`` at ``rate`` per second, open-loop; results in request order."""
    children = []
    for k in range(processes):
        # A fresh interpreter per share (python -m benchmarks.openloop): no fork of the caller's threads and pools.
        child = subprocess.Popen([sys.executable, "-m", "benchmarks.openloop"], cwd=ROOT, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE)
        share = [(i, requests[i]) for i in range(k, len(requests), processes)]
        pickle.dump((port, share, rate, max_connections, timeout), child.stdin)
        child.stdin.flush()
        children.append(child)
    for child in children:
        if child.stdout.readline() != b"ready\n":
            raise RuntimeError("a load generator process did not start")
    start = time.monotonic() + 0.2  # CLOCK_MONOTONIC is one clock for every process on the machine
    for child in children:
        child.stdin.write(f"{start!r}\n".encode())
        child.stdin.close()
    try:
        results = [Result(*r) for child in children for r in pickle.load(child.stdout)]  # sent as tuples
    except EOFError:
        results = []
    if any(child.wait() != 0 for child in children) or len(results) != len(requests):
        raise RuntimeError("a load generator process failed (its traceback is above)")
    return sorted(results, key=lambda r: r.index)


def _child() -> None:
    """One share of the schedule: read the job from stdin, say ready, wait for the start time, pickle the results."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # room for many connections
    port, share, rate, max_connections, timeout = pickle.load(sys.stdin.buffer)
    sys.stdout.buffer.write(b"ready\n")
    sys.stdout.buffer.flush()
    start = float(sys.stdin.buffer.readline())
    results = asyncio.run(Driver(port, max_connections, timeout).drive(share, rate, start))
    pickle.dump([astuple(r) for r in results], sys.stdout.buffer)  # this module is __main__ here
    sys.stdout.buffer.flush()


class Driver:
    """One process's share of the schedule over a pool of keep-alive connections (most recently used first)."""

    def __init__(self, port: int, max_connections: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.slots = asyncio.Semaphore(max_connections)

    async def drive(self, share: list[tuple[int, bytes]], rate: float, start: float) -> list[Result]:
        tasks = []
        for index, raw in share:
            due = start + index / rate
            if (delay := due - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.one(index, raw, due)))
        results = await asyncio.gather(*tasks)
        for _reader, writer, _used in self.idle:
            writer.close()
        return results

    async def one(self, index: int, raw: bytes, due: float) -> Result:
        async with self.slots:
            sent = time.monotonic()
            try:
                status, body = await asyncio.wait_for(self.exchange(raw), self.timeout)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                status, body = 0, f"{type(exc).__name__}: {exc}"
            return Result(index, sent - due, time.monotonic() - due, status, body)

    async def exchange(self, raw: bytes) -> tuple[int, str]:
        """Write one request and read its answer; reused connections the server has closed are replaced."""
        while True:
            reader, writer, reused = await self.connection()
            try:
                writer.write(raw)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                writer.close()
                if reused and not getattr(exc, "partial", b""):
                    continue  # closed while idle, before reading this request: nothing was answered
                raise
            except asyncio.CancelledError:  # timed out: this connection may still get the late answer
                writer.close()
                raise
            status, length, close = _parse_head(head)
            try:
                body = await reader.readexactly(length)
            except BaseException:
                writer.close()
                raise
            if close:
                writer.close()
            else:
                self.idle.append((reader, writer, time.monotonic()))
            return status, body.decode("utf-8", "replace")

    async def connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        """The most recently used idle connection still inside the server's keep-alive window, else a new one."""
        while self.idle:
            reader, writer, used = self.idle.pop()
            if time.monotonic() - used < IDLE_SECONDS:
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.open_connection(HOST, self.port)
        return reader, writer, False


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" not in fields:
        raise ValueError(f"no Content-Length in the answer ({fields.get('transfer-encoding', 'no body length')})")
    return status, int(fields["content-length"]), fields.get("connection", "").lower() == "close"


def distribution(results: Sequence[Result]) -> dict[str, float]:
    """Latency percentiles and send lag (sent - due, waiting for a free connection included), in ms."""
    latencies = sorted(r.latency for r in results)
    lags = sorted(r.lag for r in results)

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(len(values) * p))] * 1000

    return {"p50": statistics.median(latencies) * 1000, "p90": pct(latencies, 0.90), "p99": pct(latencies, 0.99),
            "p99.9": pct(latencies, 0.999), "max": latencies[-1] * 1000,
            "lag p99": pct(lags, 0.99), "lag max": lags[-1] * 1000}


def windows(results: Sequence[Result], rate: float, seconds: float = 10.0) -> list[tuple[float, int, float]]:
    """Per ``seconds`` of arrivals: (window start, requests, p99 latency in ms), to show a queue building up."""
    buckets: dict[int, list[float]] = {}
    for r in results:
        buckets.setdefault(int(r.index / rate // seconds), []).append(r.latency)
    return [(k * seconds, len(v), sorted(v)[min(len(v) - 1, int(len(v) * 0.99))] * 1000)
            for k, v in sorted(buckets.items())]


def achieved_rate(results: Sequence[Result], rate: float) -> float:
    """Answers per second over the run: requests / (last answer - first due)."""
    last = max(r.index / rate + r.latency for r in results)
    return len(results) / last


if __name__ == "__main__":
    _child()
