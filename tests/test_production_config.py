"""Running beyond one machine: TLS and Sentinel Redis, worker queues and cron, pools, proxies, sender pools.

Redis over TLS and Redis Sentinel are tested against private ``redis-server`` processes
started here (never the shared one); Twilio is a tiny local HTTP server the real SDK is
pointed at through TWILIO_API_BASE_URL.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from redis import Redis
from redis.connection import SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select

from sms import cron, services
from sms.console import simulator
from sms.messaging import outbound
from sms.settings import ConfigError, Settings
from sms.store import Message, OutboxItem
from sms.transport import TwilioTransport
from tests.conftest import BASE_URL, ROOT, SERVICE_NUMBER, TOKEN, Phone
from tests.support.faults import spare_port, wait_for
from tests.support.twilio_mock import SPEC

ACCOUNT = "AC" + "b" * 32
SERVICE_SID = "MG" + "c" * 32
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


def settings(**env: str) -> Settings:
    return Settings.from_mapping({"DATABASE_URL": "sqlite://", **env})


# -- configuration keys ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "value", "message"), [
    ("REDIS_URL", "http://127.0.0.1:6379/0", "REDIS_URL is not a Redis URL"),
    ("REDIS_SENTINELS", "10.0.0.1:port", "REDIS_SENTINELS: '10.0.0.1:port' is not host:port"),
    ("REDIS_SENTINELS", "10.0.0.1:26379", "REDIS_SENTINEL_MASTER is required"),
    ("REDIS_SSL_CA_CERTS", "/nonexistent/ca.pem", "REDIS_SSL_CA_CERTS: no such file"),
    ("WORKER_QUEUES", "high,urgent", "WORKER_QUEUES: unknown queue urgent (queues: high, default, bulk)"),
    ("WORKER_CRON", "sometimes", "WORKER_CRON must be true or false"),
    ("DB_POOL_SIZE", "-1", "DB_POOL_SIZE must not be negative"),
    ("DB_MAX_OVERFLOW", "lots", "DB_MAX_OVERFLOW must be a whole number"),
    ("PROXY_HOPS", "one", "PROXY_HOPS must be a whole number"),
    ("TWILIO_MESSAGING_SERVICE_SID", "PN123", "TWILIO_MESSAGING_SERVICE_SID must start with 'MG'"),
])
def test_a_malformed_deployment_key_stops_startup_naming_it(key, value, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings(**{key: value})


def test_deployment_keys_are_parsed() -> None:
    parsed = settings(REDIS_SENTINELS="10.0.0.1:26380, sentinel-b", REDIS_SENTINEL_MASTER="mymaster",
                      WORKER_QUEUES="bulk, high", WORKER_CRON="false", PROXY_HOPS="2")
    assert parsed.redis_sentinels == (("10.0.0.1", 26380), ("sentinel-b", 26379))
    assert parsed.worker_queues == ("bulk", "high") and parsed.worker_cron is False
    assert parsed.proxy_hops == 2
    defaults = settings()
    assert defaults.worker_queues == ("high", "default", "bulk") and defaults.worker_cron is True
    assert defaults.proxy_hops == 1 and defaults.redis_sentinels == ()


def test_rediss_url_builds_a_verifying_tls_pool_without_connecting(tmp_path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read until a connection is made")
    pool = services.connect_redis(settings(REDIS_URL="rediss://:pw@redis.example:6380/4",
                                           REDIS_SSL_CA_CERTS=str(ca))).connection_pool
    assert pool.connection_class is SSLConnection
    kwargs = pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == ("redis.example", 6380, 4, "pw")
    assert kwargs["ssl_ca_certs"] == str(ca) and kwargs.get("ssl_cert_reqs", "required") == "required"
    query = services.connect_redis(settings(REDIS_URL="rediss://redis.example/0?ssl_cert_reqs=none"))
    assert query.connection_pool.connection_kwargs["ssl_cert_reqs"] == "none"
    dashboard = services.dashboard_redis(settings(REDIS_URL="rediss://redis.example/0", REDIS_SSL_CA_CERTS=str(ca)))
    dashboard_pool = Redis.from_url(dashboard["RQ_DASHBOARD_REDIS_URL"]).connection_pool  # how rq-dashboard opens it
    assert dashboard_pool.connection_kwargs["ssl_ca_certs"] == str(ca)


def test_postgres_gets_the_pool_settings_and_sqlite_keeps_its_own(database_urls) -> None:
    if "postgresql" not in database_urls:
        pytest.skip("PostgreSQL not in TEST_BACKENDS")
    tuned = settings(DATABASE_URL=database_urls["postgresql"], DB_POOL_SIZE="3", DB_MAX_OVERFLOW="2",
                     DB_POOL_RECYCLE="600")
    db = services.Services.from_settings(tuned).db
    try:
        assert (db.engine.pool.size(), db.engine.pool._max_overflow) == (3, 2)
        assert db.engine.pool._pre_ping is True and db.engine.pool._recycle == 600
        db.ping()
    finally:
        db.dispose()
    lite = services.Services.from_settings(settings(DATABASE_URL=database_urls.get("sqlite", "sqlite://"),
                                                    DB_POOL_SIZE="3"))
    lite.db.ping()
    assert services.engine_options(lite.settings) == {}
    lite.close()


# -- private Redis servers: TLS and Sentinel ---------------------------------------------------------

def start_redis(args: list[str], ready: Any, log: Path) -> subprocess.Popen:
    """Start a private redis-server and wait until ``ready()`` (a ping) succeeds."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    proc = subprocess.Popen(["redis-server", *args], stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            if ready():
                return proc
        except (RedisConnectionError, OSError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.skip(f"private redis-server {' '.join(args[:3])} did not start: {log.read_text()[-300:]}")
        time.sleep(0.1)


def stop_redis(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """A private redis-server speaking only TLS, with a certificate from a throwaway CA."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed: cannot make a test certificate")
    tmp = tmp_path_factory.mktemp("tls")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
            "-subj", "/CN=actionline-test-ca", cwd=tmp)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1", cwd=tmp)
    (tmp / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "1", "-extfile", "san.cnf", cwd=tmp)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt",
            "-days", "1", "-subj", "/CN=someone-else", cwd=tmp)
    port = spare_port()
    url = f"rediss://127.0.0.1:{port}/0"
    ca = str(tmp / "ca.crt")
    proc = start_redis(["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(tmp / "server.crt"),
                        "--tls-key-file", str(tmp / "server.key"), "--tls-ca-cert-file", ca,
                        "--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                       lambda: Redis.from_url(url, ssl_ca_certs=ca, socket_connect_timeout=1).ping(),
                       tmp / "redis.log")
    yield {"url": url, "ca": ca, "other_ca": str(tmp / "other.crt"), "port": port, "dir": tmp}
    stop_redis(proc)


@pytest.fixture(scope="module")
def sentinel_redis(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """A private master and one Sentinel (quorum 1) monitoring it as ``actionline``."""
    tmp = tmp_path_factory.mktemp("sentinel")
    master_port, sentinel_port = spare_port(), spare_port()
    master = start_redis(["--port", str(master_port), "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                         lambda: Redis(port=master_port, socket_connect_timeout=1).ping(), tmp / "master.log")
    conf = tmp / "sentinel.conf"  # Sentinel rewrites its config file: it must be a private, writable one
    conf.write_text(f"port {sentinel_port}\ndir {tmp}\nsentinel monitor actionline 127.0.0.1 {master_port} 1\n"
                    "sentinel down-after-milliseconds actionline 5000\n")
    try:
        sentinel = start_redis(
            [str(conf), "--sentinel"],
            lambda: Redis(port=sentinel_port, socket_connect_timeout=1).execute_command(
                "SENTINEL", "get-master-addr-by-name", "actionline") is not None,
            tmp / "sentinel.log")
    except BaseException:
        stop_redis(master)
        raise
    yield {"master_port": master_port, "sentinels": f"127.0.0.1:{sentinel_port}"}
    stop_redis(sentinel)
    stop_redis(master)


def test_tls_redis_is_reached_with_the_ca_and_refused_with_another(tls_redis) -> None:
    with_query = services.connect_redis(settings(REDIS_URL=f"{tls_redis['url']}?ssl_ca_certs={tls_redis['ca']}"))
    assert with_query.ping()
    assert services.connect_redis(settings(REDIS_URL=tls_redis["url"], REDIS_SSL_CA_CERTS=tls_redis["ca"])).ping()
    wrong = services.connect_redis(settings(REDIS_URL=tls_redis["url"], REDIS_SSL_CA_CERTS=tls_redis["other_ca"]))
    with pytest.raises(RedisConnectionError, match="certificate verify failed"):
        wrong.ping()
    with pytest.raises(RedisConnectionError):  # the TLS port never speaks plain Redis
        Redis(port=tls_redis["port"], socket_timeout=0.5, socket_connect_timeout=0.5, retry=None).ping()


def test_sentinel_over_tls_finds_and_reaches_a_tls_master(tls_redis, tmp_path) -> None:
    port, certs, ca = spare_port(), tls_redis["dir"], tls_redis["ca"]
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port 0\ntls-port {port}\ndir {tmp_path}\ntls-cert-file {certs}/server.crt\n"
                    f"tls-key-file {certs}/server.key\ntls-ca-cert-file {ca}\ntls-auth-clients no\n"
                    f"tls-replication yes\nsentinel monitor actionline 127.0.0.1 {tls_redis['port']} 1\n")
    ask = lambda: Redis(port=port, ssl=True, ssl_ca_certs=ca).execute_command(  # noqa: E731
        "SENTINEL", "get-master-addr-by-name", "actionline")
    sentinel = start_redis([str(conf), "--sentinel"], ask, tmp_path / "sentinel.log")
    try:
        client = services.connect_redis(settings(REDIS_SENTINELS=f"127.0.0.1:{port}", REDIS_URL="rediss:///5",
                                                 REDIS_SENTINEL_MASTER="actionline", REDIS_SSL_CA_CERTS=ca))
        assert client.connection_pool.connection_class is services.SentinelSSLConnection
        assert client.set("actionline:test:tls", "v") is True
        assert Redis.from_url(tls_redis["url"].replace("/0", "/5"), ssl_ca_certs=ca).get("actionline:test:tls") == b"v"
        client.delete("actionline:test:tls")
    finally:
        stop_redis(sentinel)


def run_worker(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python worker.py ARGS`` with ``env`` overlaid (no Twilio credentials: outbox transport)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "REDIS_", "WORKER_"))}
    return subprocess.run([sys.executable, "worker.py", *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=timeout)


def outbox_texts(svc: services.Services) -> list[str]:
    with svc.db.session() as session:
        return list(session.scalars(select(OutboxItem.to).where(OutboxItem.kind == "sms")))


def followup_status(svc: services.Services) -> str:
    with svc.db.session() as session:
        return session.scalar(select(Message.status).where(Message.kind == "followup"))


def texted_app(config: dict[str, Any], transport: Any, **env: str) -> Any:
    """An app on the test database with ``env`` overriding its Redis settings; a new texter's keyword."""
    from app import create_app

    app = create_app({**config, "FOLLOWUP_DELAY_SECONDS": "0", "TRANSPORT": transport, **env})
    Phone(app.test_client(), "+16175550177").text("CHOKEHOLD")  # plans and enqueues the follow-up
    return app


@pytest.mark.slow
def test_web_and_a_worker_share_a_tls_redis_and_workers_serve_only_their_queues(
        tls_redis, svc, config, transport) -> None:
    env = {"REDIS_URL": tls_redis["url"], "REDIS_SSL_CA_CERTS": tls_redis["ca"]}
    Redis.from_url(tls_redis["url"], ssl_ca_certs=tls_redis["ca"]).flushdb()
    app = texted_app(config, transport, **env)
    assert app.test_client().get("/readyz").get_json()["redis"] == "ok"
    worker_env = {"DATABASE_URL": svc.settings.database_url, "QUIET_HOURS": "off", **env}
    high_only = run_worker(worker_env, "--burst", "high")
    assert high_only.returncode == 0, high_only.stderr
    assert followup_status(svc) == "scheduled" and outbox_texts(svc) == []  # the follow-up is on `default`
    done = run_worker({**worker_env, "WORKER_QUEUES": "default"}, "--burst")
    assert done.returncode == 0, done.stderr
    assert followup_status(svc) == "sent" and outbox_texts(svc) == ["+16175550177"]
    app.extensions["actionline"].close()


@pytest.mark.slow
def test_web_and_a_worker_share_redis_through_sentinel(sentinel_redis, svc, config, transport) -> None:
    env = {"REDIS_SENTINELS": sentinel_redis["sentinels"], "REDIS_SENTINEL_MASTER": "actionline",
           "REDIS_URL": "redis://host-ignored-with-sentinel:1/3"}
    master = Redis(port=sentinel_redis["master_port"], db=3)
    master.flushdb()
    app = texted_app(config, transport, **env)
    ready = app.test_client().get("/readyz").get_json()
    assert (ready["status"], ready["database"], ready["redis"]) == ("ok", "ok", "ok")
    assert any(key.startswith(b"rq:") for key in master.keys()), "the job should be in the master's db 3"
    done = run_worker({"DATABASE_URL": svc.settings.database_url, "QUIET_HOURS": "off", **env}, "--burst")
    assert done.returncode == 0, done.stderr
    assert followup_status(svc) == "sent" and outbox_texts(svc) == ["+16175550177"]
    dashboard = services.dashboard_redis(app.extensions["actionline"].settings)
    assert dashboard["RQ_DASHBOARD_REDIS_URL"] == f"redis+sentinel://{sentinel_redis['sentinels']}/actionline/3"
    app.extensions["actionline"].close()
    master.flushdb()
    master.close()


def test_a_read_cut_short_does_not_leave_its_reply_to_the_next_command(sentinel_redis) -> None:
    """What RQ's warm shutdown does to a worker's BLPOP: an exception raised mid-read (here by a timer)."""
    client = services.connect_redis(settings(REDIS_SENTINELS=sentinel_redis["sentinels"],
                                             REDIS_SENTINEL_MASTER="actionline", REDIS_URL="redis:///3"))

    class Interrupted(Exception):
        pass

    def interrupt(*_: Any) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(Interrupted):
            client.blpop(["actionline:test:empty"], timeout=1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    time.sleep(1.2)  # the server answers the abandoned BLPOP (nil) now; it must not reach the next command
    assert client.ping() is True
    assert client.set("actionline:test:key", "v") is True and client.get("actionline:test:key") == b"v"


# -- worker command line and the cron thread -------------------------------------------------------

def test_worker_refuses_an_unknown_queue_with_a_clear_message() -> None:
    result = run_worker({"DATABASE_URL": "sqlite://"}, "high", "urgent", timeout=30)
    assert result.returncode == 2
    assert "unknown queue urgent (queues: high, default, bulk)" in result.stderr


def test_worker_arguments_override_the_environment() -> None:
    import worker

    env = settings(WORKER_QUEUES="bulk", WORKER_CRON="false")
    from_env = worker.parse_args([], env)
    assert (from_env.queues, from_env.cron, from_env.burst) == (("bulk",), False, False)
    args = worker.parse_args(["default", "high", "default", "--burst"], settings())
    assert (args.queues, args.cron, args.burst) == (("default", "high"), True, True)
    assert worker.parse_args(["--no-cron"], settings()).cron is False


def test_cron_in_several_workers_enqueues_each_sweeper_once_per_slot(svc, redis) -> None:
    now = 2_000_000.0
    assert cron.tick(redis, now, {}) == len(cron.PERIODIC)  # worker A's thread
    assert cron.tick(redis, now + 0.5, {}) == 0  # worker B's thread, same slots
    assert svc.queue("default").count == len(cron.PERIODIC)


SLOW_SWEEP = {"entered": threading.Event(), "release": threading.Event(), "calls": []}


def slow_sweep() -> str:
    """A periodic job that holds its lock until the test releases it."""
    SLOW_SWEEP["calls"].append(1)
    SLOW_SWEEP["entered"].set()
    SLOW_SWEEP["release"].wait(10)
    return "swept"


def test_a_sweeper_never_runs_twice_at_once(svc, monkeypatch) -> None:
    entered, release, calls = threading.Event(), threading.Event(), []
    monkeypatch.setitem(SLOW_SWEEP, "entered", entered)
    monkeypatch.setitem(SLOW_SWEEP, "release", release)
    monkeypatch.setitem(SLOW_SWEEP, "calls", calls)
    path = f"{__name__}.slow_sweep"
    monkeypatch.setattr(cron, "PERIODIC", [(path, 30)])
    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(cron.run_exclusive(path)))
    first.start()
    assert entered.wait(10)
    assert cron.run_exclusive(path) == "skipped"  # a second worker, while the first still sweeps
    release.set()
    first.join(10)
    assert results == ["swept"] and len(calls) == 1
    assert cron.run_exclusive(path) == "swept"  # the lock is released afterwards
    assert not svc.redis.exists("actionline:cron:slow_sweep")


# -- behind a proxy ------------------------------------------------------------------------------------

PUBLIC = "https://public.example"
INTERNAL = "http://10.0.0.5:8000"


def proxied_post(client: Any, forwarded: dict[str, str], signed_for: str = PUBLIC) -> int:
    params = simulator.sms_params("+16175550123", "HELP", SERVICE_NUMBER)
    headers = {"X-Twilio-Signature": simulator.sign(TOKEN, signed_for + "/sms", params), **forwarded}
    return client.post("/sms", data=params, headers=headers, base_url=INTERNAL).status_code


ONE_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example", "X-Forwarded-For": "54.1.2.3"}
TWO_PROXIES = {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "public.example, lb.internal",
               "X-Forwarded-For": "54.1.2.3, 10.0.0.2"}


@pytest.mark.parametrize(("base_url", "hops", "forwarded", "status"), [
    ("", "1", ONE_PROXY, 200),  # the scheme and host Twilio used come from the proxy
    ("", "0", ONE_PROXY, 403),  # not trusted: the app sees http://10.0.0.5:8000, which Twilio did not sign
    ("", "2", TWO_PROXIES, 200),  # CDN -> load balancer -> gunicorn
    ("", "1", TWO_PROXIES, 403),  # only the load balancer's hop is believed: http://lb.internal
    (PUBLIC, "0", ONE_PROXY, 200),  # PUBLIC_BASE_URL alone decides what was signed
    (PUBLIC, "1", TWO_PROXIES, 200),
])
def test_signatures_validate_behind_a_proxy_that_rewrites_scheme_and_host(config, base_url, hops, forwarded,
                                                                         status, request) -> None:
    config.update(PUBLIC_BASE_URL=base_url, PROXY_HOPS=hops)
    client = request.getfixturevalue("client")
    assert proxied_post(client, forwarded) == status


def test_a_request_signed_for_another_host_is_refused_behind_the_proxy(config, request) -> None:
    config.update(PUBLIC_BASE_URL="", PROXY_HOPS="1")
    client = request.getfixturevalue("client")
    assert proxied_post(client, ONE_PROXY, signed_for="https://attacker.example") == 403
    assert proxied_post(client, ONE_PROXY, signed_for=INTERNAL) == 403


# -- Twilio Messaging Service (sender pool) through the real SDK ----------------------------------------

class TwilioMock(ThreadingHTTPServer):
    """Plays api.twilio.com for Messages.json: keeps each form, refuses unknown or missing fields."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), TwilioMockHandler)
        self.received: list[dict[str, list[str]]] = []
        self.known: set[str] | None = None
        if SPEC.exists():
            schema = json.loads(SPEC.read_text(encoding="utf-8"))["paths"][MESSAGES]["post"]["requestBody"]
            self.known = set(schema["content"]["application/x-www-form-urlencoded"]["schema"]["properties"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class TwilioMockHandler(BaseHTTPRequestHandler):
    server: TwilioMock

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        self.server.received.append(form)
        unknown = set(form) - self.server.known if self.server.known is not None else set()
        if not self.path.endswith("/Messages.json") or "To" not in form or unknown:
            return self._reply(400, {"code": 21205, "message": f"bad request {self.path} {sorted(unknown)}"})
        if ("From" in form) == ("MessagingServiceSid" in form):
            return self._reply(400, {"code": 21603, "message": "exactly one of From or MessagingServiceSid"})
        sid = f"SM{len(self.server.received):032d}"
        self._reply(201, {"sid": sid, "to": form["To"][0], "body": form.get("Body", [""])[0], "status": "accepted",
                          "messaging_service_sid": form.get("MessagingServiceSid", [None])[0],
                          "from": form.get("From", [None])[0]})

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps({"status": status, **payload} if status >= 400 else payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def twilio_mock() -> Iterator[TwilioMock]:
    server = TwilioMock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_texts_go_out_through_the_messaging_service_when_one_is_set(twilio_mock, svc, config, phone) -> None:
    env = {**config, "FOLLOWUP_DELAY_SECONDS": "0", "TWILIO_ACCOUNT_SID": ACCOUNT,
           "TWILIO_API_BASE_URL": twilio_mock.url, "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID}
    pooled_settings = Settings.from_mapping(env)
    pooled = services.Services(pooled_settings, svc.db, svc.redis, services.build_transport(pooled_settings, svc.db))
    assert isinstance(pooled.transport, TwilioTransport)
    phone.text("CHOKEHOLD")
    with svc.db.session() as session:
        followup = session.scalar(select(Message).where(Message.kind == "followup"))
    assert outbound.deliver(pooled, followup.id, now=followup.send_at) == "sent"
    (form,) = twilio_mock.received
    assert form["MessagingServiceSid"] == [SERVICE_SID] and "From" not in form
    assert form["To"] == [phone.number] and form["Body"] == [followup.body]
    assert form["StatusCallback"] == [f"{BASE_URL}/sms/status"]
    with svc.db.session() as session:
        assert session.get(Message, followup.id).twilio_sid == "SM" + "1".zfill(32)


def test_without_a_messaging_service_texts_come_from_the_number(twilio_mock) -> None:
    transport = TwilioTransport(ACCOUNT, TOKEN, SERVICE_NUMBER, api_base_url=twilio_mock.url)
    transport.send_sms("+16175550123", "hello")
    (form,) = twilio_mock.received
    assert form["From"] == [SERVICE_NUMBER] and "MessagingServiceSid" not in form



@pytest.fixture
def sentinel_with_replica(tmp_path) -> Iterator[dict[str, Any]]:
    """A private master, its replica and a Sentinel that can promote the replica."""
    ports = {"master": spare_port(), "replica": spare_port(), "sentinel": spare_port()}
    common = ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    procs = [start_redis(["--port", str(ports["master"]), "--repl-diskless-sync-delay", "0", *common],
                         lambda: Redis(port=ports["master"]).ping(), tmp_path / "master.log")]
    try:
        procs.append(start_redis(["--port", str(ports["replica"]), "--replicaof", "127.0.0.1", str(ports["master"]),
                                  *common], lambda: Redis(port=ports["replica"]).info("replication")[
                                      "master_link_status"] == "up", tmp_path / "replica.log"))
        conf = tmp_path / "sentinel.conf"
        conf.write_text(f"port {ports['sentinel']}\ndir {tmp_path}\n"
                        f"sentinel monitor actionline 127.0.0.1 {ports['master']} 1\n"
                        f"sentinel known-replica actionline 127.0.0.1 {ports['replica']}\n"
                        "sentinel down-after-milliseconds actionline 2000\n"
                        "sentinel failover-timeout actionline 10000\n")
        procs.append(start_redis([str(conf), "--sentinel"], lambda: replica_ready(ports["sentinel"]),
                                 tmp_path / "sentinel.log"))
        yield {**ports, "sentinels": f"127.0.0.1:{ports['sentinel']}"}
    finally:
        for proc in reversed(procs):
            stop_redis(proc)


def replica_ready(sentinel_port: int) -> bool:
    """Sentinel has heard from the replica and would promote it."""
    replicas = Redis(port=sentinel_port, decode_responses=True).execute_command("SENTINEL", "replicas", "actionline")
    fields = [dict(zip(r[::2], r[1::2], strict=True)) if isinstance(r, list) else r for r in replicas]
    return any(f.get("flags") == "slave" and f.get("master-link-status") == "ok" for f in fields)


def master_port(sentinel_port: int) -> int:
    return int(Redis(port=sentinel_port).execute_command("SENTINEL", "get-master-addr-by-name", "actionline")[1])


@pytest.mark.slow
def test_after_a_sentinel_failover_web_and_worker_follow_the_new_master(sentinel_with_replica, svc, config,
                                                                        transport, tmp_path) -> None:
    ports = sentinel_with_replica
    env = {"REDIS_SENTINELS": ports["sentinels"], "REDIS_SENTINEL_MASTER": "actionline", "REDIS_URL": "redis:///2"}
    app = texted_app(config, transport, **env)
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "worker.py", "--no-cron"], cwd=ROOT, stdout=log.open("w"),
                              stderr=subprocess.STDOUT, start_new_session=True,
                              env={**{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "REDIS_"))},
                                   "DATABASE_URL": svc.settings.database_url, "QUIET_HOURS": "off", **env})
    until = functools.partial(wait_for, timeout=30, interval=0.2, procs=[worker], logs=lambda: log.read_text()[-3000:])
    try:
        until(lambda: len(outbox_texts(svc)) == 1, what="the first text")
        Redis(port=ports["sentinel"]).execute_command("SENTINEL", "FAILOVER", "actionline")
        until(lambda: master_port(ports["sentinel"]) == ports["replica"], what="the failover")
        Phone(app.test_client(), "+16175550178").text("CHOKEHOLD")  # enqueued on the new master
        until(lambda: len(outbox_texts(svc)) == 2, what="the text enqueued on the new master")
        assert sorted(outbox_texts(svc)) == ["+16175550177", "+16175550178"]
        os.killpg(worker.pid, signal.SIGTERM)  # RQ's warm shutdown interrupts its BLPOP and unregisters
        assert worker.wait(30) == 0, log.read_text()[-3000:]
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        app.extensions["actionline"].close()
