"""Developer conveniences for ``make run``/``make test``.

``python -m sms.devserver ensure-redis`` pings REDIS_URL; when nothing answers on a
local address and ``redis-server`` is installed, it starts one (no persistence,
like CI's); otherwise it exits non-zero with a message saying how to get one.

``python -m sms.devserver ensure-port PORT`` exits non-zero, saying which port is taken
and which one to pick instead, when something already listens on PORT.

``python -m sms.devserver banner --port PORT`` (a process of ``make run``'s honcho) waits
until the web answers on PORT and a worker is idle, prints what to open and type first,
then idles until honcho stops it (honcho stops everything when one process exits).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import requests
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker

from sms import defaults
from sms.settings import load_env

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (RedisError, OSError):
        return False


def ensure_redis(url: str) -> int:
    """Return 0 once Redis answers at ``url`` (starting a local one if needed), else 1."""
    if redis_answers(url):
        return 0
    parsed = urlparse(url)
    server = shutil.which("redis-server")
    if parsed.hostname not in LOCAL_HOSTS or server is None:
        print(
            f"Redis is not answering at {url}.\n"
            "Start one (Debian/Ubuntu: sudo apt install redis-server; macOS: brew install redis && "
            "brew services start redis) or set REDIS_URL to a Redis you can reach.",
            file=sys.stderr,
        )
        return 1
    port = str(parsed.port or 6379)
    print(f"Redis is not answering at {url}; starting a local redis-server on port {port}.")
    subprocess.run(
        [server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no"],
        check=False,
    )
    for _ in range(50):
        if redis_answers(url):
            return 0
        time.sleep(0.1)
    print(f"Started redis-server but it still does not answer at {url}.", file=sys.stderr)
    return 1


def port_free(port: int, host: str = "0.0.0.0") -> bool:
    """Whether a server could listen on ``host:port`` now (as gunicorn does: SO_REUSEADDR, all addresses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ensure_port(port: int) -> int:
    """0 when ``port`` is free, else 1 after saying so and naming a free one to use instead."""
    if port_free(port):
        return 0
    spare = next((p for p in range(port + 1, min(port + 100, 65536)) if port_free(p)), port + 1)
    print(f"Port {port} is in use (is another `make run` running?). Stop it, or pick another: make run PORT={spare}",
          file=sys.stderr)
    return 1


def flask_command() -> str:
    """How to type ``flask`` from the project root: the virtualenv's, when this runs in one."""
    exe = Path(sys.executable).parent / "flask"
    if not exe.exists():
        return "flask"
    try:
        return str(exe.relative_to(Path.cwd()))
    except ValueError:
        return str(exe)


def banner_text(port: int, flask: str = "flask", worker_up: bool = True) -> str:
    """What ``make run`` says last: where the service is, and the first three things to do."""
    url = f"http://127.0.0.1:{port}"
    rule = "-" * 78
    lines = [
        rule,
        f"Action Line is running on {url}  (Ctrl-C stops the web and the worker)",
        "  1. Create the first organizer (it asks for a password):",
        f"       {flask} --app app create-organizer you@example.org --admin",
        f"  2. Log in to the console: {url}/console",
        f"  3. Text the service from the simulator: {url}/console/simulator",
        f"     or from a shell: {flask} --app app simulate +15555550123 MENU --url {url}",
    ]
    if not worker_up:
        lines.append("  (No worker has started yet: follow-ups and broadcasts wait in Redis; see worker.1 above.)")
    return "\n".join([*lines, rule])


def web_answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def worker_idle(redis: Redis, since: float, settle: float = 2.0) -> bool:
    """A worker born after ``since`` has run ``settle`` seconds (its cron's first jobs) and is idle."""
    try:
        workers = Worker.all(connection=redis)
        busy = Queue("default", connection=redis).count
    except RedisError:
        return False
    now = time.time()
    return not busy and any(
        w.birth_date is not None and since - 5 <= w.birth_date.timestamp() <= now - settle and w.get_state() == "idle"
        for w in workers
    )


def banner(port: int, redis_url: str, timeout: float = 120.0) -> int:
    """Wait for the web (and a worker), print ``banner_text``, then idle until SIGTERM/SIGINT."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # honcho's stop, or Ctrl-C: end quietly
        signal.signal(sig, lambda *_: stop.set())
    started = time.time()
    deadline = time.monotonic() + timeout
    while not web_answers(port):
        if stop.wait(0.5):
            return 0
        if time.monotonic() > deadline:
            print(f"The web process did not answer on http://127.0.0.1:{port}/healthz; see the web.1 lines above.")
            return _idle(stop)
    redis = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=2)
    deadline = time.monotonic() + 30
    while not (worker_up := worker_idle(redis, started)) and time.monotonic() < deadline:
        if stop.wait(0.5):
            return 0
    print(banner_text(port, flask_command(), worker_up), flush=True)
    return _idle(stop)


def _idle(stop: threading.Event) -> int:
    while not stop.wait(60):
        pass
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sms.devserver", description="make run's helpers")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ensure-redis", help="make sure Redis answers at REDIS_URL (start a local one if possible)")
    port_parser = commands.add_parser("ensure-port", help="fail, saying what to do, if PORT is taken")
    port_parser.add_argument("port", type=int)
    banner_parser = commands.add_parser("banner", help="once the web and worker are up, say what to do first")
    banner_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 5000))
    args = parser.parse_args(argv[1:])
    redis_url = load_env().get("REDIS_URL") or defaults.DEFAULT_REDIS_URL
    if args.command == "ensure-port":
        return ensure_port(args.port)
    if args.command == "banner":
        return banner(args.port, redis_url)
    return ensure_redis(redis_url)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
