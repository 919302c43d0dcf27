"""Developer conveniences for ``make run``/``make test``: make sure Redis answers.

``python -m sms.devserver ensure-redis`` pings REDIS_URL; when nothing answers on a
local address and ``redis-server`` is installed, it starts one (no persistence,
like CI's); otherwise it exits non-zero with a message saying how to get one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from urllib.parse import urlparse

from redis import Redis
from redis.exceptions import RedisError

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


def main(argv: list[str]) -> int:
    if argv[1:] != ["ensure-redis"]:
        print("usage: python -m sms.devserver ensure-redis", file=sys.stderr)
        return 2
    return ensure_redis(load_env().get("REDIS_URL") or defaults.DEFAULT_REDIS_URL)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
