"""Closed-loop HTTP load from separate processes on loopback: the highest rate a server answers.

Requests are prepared (and signed) before the clock starts, so the generator spends its
time sending. Fixed-rate (open-loop) load is ``benchmarks.openloop``.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Request = tuple[str, bytes, dict[str, str]]  # path, body, headers


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds, of 2xx answers
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)  # kept only when asked
    seconds: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))]

    def line(self, name: str) -> str:
        errors = sum(n for s, n in self.statuses.items() if not 200 <= s < 300)
        return (f"{name:<34} {self.rate:8.0f} req/s   p50 {self.percentile(0.5) * 1000:7.1f} ms   "
                f"p99 {self.percentile(0.99) * 1000:7.1f} ms   ({self.ok} ok, {errors} errors)")

    def merge(self, other: Result) -> None:
        self.latencies += other.latencies
        self.bodies += other.bodies
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n


def _send(conn: http.client.HTTPConnection, request: Request) -> tuple[int, bytes]:
    path, body, headers = request
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _connection(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def _closed_worker(port: int, requests: Sequence[Request], seconds: float, threads: int,
                   keep_bodies: bool, out: mp.Queue) -> None:
    result = Result()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        conn, mine, i = _connection(port), Result(), offset
        while time.perf_counter() < stop and i < len(requests):
            t0 = time.perf_counter()
            status, body = _send(conn, requests[i])
            _record(mine, status, body, time.perf_counter() - t0, keep_bodies)
            i += threads
        with lock:
            result.merge(mine)

    _run_threads(client, threads)
    result.seconds = seconds
    out.put(result)


def _record(result: Result, status: int, body: bytes, latency: float, keep_bodies: bool) -> None:
    result.statuses[status] = result.statuses.get(status, 0) + 1
    if 200 <= status < 300:
        result.latencies.append(latency)
    if keep_bodies:
        result.bodies.append(body)


def _run_threads(target: Callable[[int], None], threads: int) -> None:
    workers = [threading.Thread(target=target, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def _gather(procs: list[mp.Process], out: mp.Queue) -> Result:
    total = Result()
    for _ in procs:
        total.merge(out.get())
    for p in procs:
        p.join()
    return total


def closed_loop(port: int, requests: Sequence[Request], seconds: float, processes: int = 2,
                threads: int = 4, keep_bodies: bool = False) -> Result:
    """``processes`` x ``threads`` keep-alive clients, each sending as fast as answers come."""
    ctx = mp.get_context("fork")
    out: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=_closed_worker, args=(port, requests[p::processes], seconds, threads, keep_bodies,
                                                      out)) for p in range(processes)]
    for p in procs:
        p.start()
    result = _gather(procs, out)
    result.seconds = seconds
    return result
