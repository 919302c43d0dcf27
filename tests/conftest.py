"""Fixtures: the app on real SQLite and PostgreSQL, the real local Redis, a recording transport.

Every test that uses ``app`` runs once per backend in ``TEST_BACKENDS``
(default ``sqlite,postgresql``). PostgreSQL tests use a schema of their own in
the ``test`` database, so parallel runs never see each other's rows; Redis tests
use the database number in ``TEST_REDIS_URL`` (default 15), flushed per test; under
pytest-xdist (``make test`` runs ``-n auto``) worker ``gwN`` uses that number minus N.

Fixtures of one area live with that area's helpers in tests/support/ and are shared
through ``pytest_plugins`` below; tests import helpers as ``from tests.support.calls import ...``
and the names here as ``from tests.conftest import ...``.
"""

from __future__ import annotations

import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import create_engine, text

from sms import defaults, features, services, store
from sms.console import simulator
from sms.transport import MemoryTransport
from tests.support import speed

pytest_plugins = [
    "tests.support.calls",  # targets_db, offices_db
    "tests.support.states",  # states_db
    "tests.support.geocoder",  # census (a fake Census geocoder)
    "tests.support.console",  # console
    "tests.support.faults",  # private_redis, private_postgres
    "tests.support.integrations",  # receiver, action_network
    "tests.support.twilio_mock",  # twilio_api, api
    "tests.support.upstream",  # upstream
]

BASE_URL = "https://actionline.test"
TOKEN = "test-auth-token"
SERVICE_NUMBER = "+15005550006"
PG_BASE = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _redis_url_of_this_worker(base: str) -> str:
    """``base`` for a plain run; under pytest-xdist worker ``gwN`` uses database number ``base's - N``.

    Tests flush their Redis database, so two workers must never share one.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return base
    head, _, number = base.rpartition("/")
    database = int(number or 0) - int(worker[2:])
    if database < 1:  # 0 is the development database (REDIS_URL default)
        raise pytest.UsageError(f"TEST_REDIS_URL={base}: too few Redis databases below it for worker {worker}")
    return f"{head}/{database}"


REDIS_URL = _redis_url_of_this_worker(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
speed.share_url_builders()
BACKENDS = [b.strip() for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole session."""
    urls: dict[str, str] = {}
    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    if "sqlite" in BACKENDS:
        urls["sqlite"] = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    if "postgresql" in BACKENDS:
        admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        urls["postgresql"] = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    for url in urls.values():
        store.upgrade(url)
    yield urls
    if "postgresql" in urls:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    return database_urls[request.param]


@pytest.fixture
def redis() -> Iterator[Redis]:
    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def transport() -> MemoryTransport:
    return MemoryTransport(phone_number=SERVICE_NUMBER)


@pytest.fixture
def config(database_url: str) -> dict[str, Any]:
    """Test configuration; tests may change it before asking for ``app``."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_PHONE_NUMBER": SERVICE_NUMBER,
        "PUBLIC_BASE_URL": BASE_URL,
        "SECRET_KEY": "test-secret",
        "ORG_NAME": "Action Line Test",
        "QUIET_HOURS": "off",
        "CALL_OFFICE_HOURS": "off",
        "FOLLOWUP_DELAY_SECONDS": "3600",
        "GEOCODER_URL": "off",  # no test reaches the internet: tests/targets/test_geocoder.py serves a fake one
    }


CATALOGUE_TABLES = {"areas", "demands", "campaigns", "catalogue_texts", "catalogue_translations"}
_seeded_versions: dict[str, str] = {}


@pytest.fixture(scope="session")
def catalogue_data() -> dict[str, Any]:
    from sms.messaging import catalogue

    return catalogue.load_yaml()


@pytest.fixture
def app(config: dict[str, Any], redis: Redis, transport: MemoryTransport, catalogue_data: dict[str, Any]):  # noqa: ANN201
    from app import create_app

    application = create_app({**config, "TRANSPORT": transport})
    svc = application.extensions["actionline"]
    _reset_database(svc.db, catalogue_data)
    services.bind(svc)
    yield application
    services.bind(None)
    svc.close()


def _reset_database(db: store.Database, catalogue_data: dict[str, Any]) -> None:
    """Empty every table but the catalogue, and re-seed the catalogue only if a test changed it."""
    import copy

    from sms.messaging import catalogue

    tables = [t.name for t in reversed(features.load_models().metadata.sorted_tables) if t.name not in CATALOGUE_TABLES]
    _delete_rows(db, tables)
    with db.session() as session:
        version = session.get(store.CatalogueText, catalogue.VERSION_KEY)
        if version is None or _seeded_versions.get(db.url) != version.text:
            # Start from empty catalogue tables: an upsert would keep rows a test added or renamed.
            for table in reversed(features.load_models().metadata.sorted_tables):
                if table.name in CATALOGUE_TABLES:
                    session.execute(table.delete())
            session.expunge_all()
            catalogue.import_catalogue(session, copy.deepcopy(catalogue_data))
            _seeded_versions[db.url] = session.get(store.CatalogueText, catalogue.VERSION_KEY).text


def _delete_rows(db: store.Database, tables: list[str]) -> None:
    """Empty ``tables`` (children first) in one round trip rather than one per table."""
    script = "".join(f'DELETE FROM "{name}";' for name in tables)
    raw = db.engine.raw_connection()
    try:
        if db.engine.dialect.name == "sqlite":
            raw.driver_connection.executescript(script)
        else:
            with raw.cursor() as cursor:
                cursor.execute(script)
            raw.commit()
    finally:
        raw.close()


@pytest.fixture
def svc(app) -> services.Services:  # noqa: ANN001
    return app.extensions["actionline"]


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


@pytest.fixture
def runner(app):  # noqa: ANN001, ANN201
    return app.test_cli_runner()


def signed_post(client: Any, path: str, params: dict[str, str], token: str = TOKEN) -> Any:
    """POST form ``params`` to ``path`` with the signature Twilio would compute."""
    signature = simulator.sign(token, BASE_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


class Phone:
    """A texter's phone: sends signed inbound webhooks and reads the TwiML replies."""

    def __init__(self, client: Any, number: str) -> None:
        self.client = client
        self.number = number

    def text(self, body: str, sid: str | None = None, media: int = 0) -> list[str]:
        params = simulator.sms_params(self.number, body, SERVICE_NUMBER, sid=sid, media=media)
        response = signed_post(self.client, "/sms", params)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/xml"
        return [m.text or "" for m in ET.fromstring(response.get_data(as_text=True)).findall("./Message")]


@pytest.fixture
def phone(client) -> Phone:  # noqa: ANN001
    return Phone(client, "+16175550123")


@pytest.fixture
def run_jobs(svc: services.Services):  # noqa: ANN201
    """Run every queued job in-process on the real Redis, as a worker would."""

    def run() -> None:
        queues = [svc.queue(name) for name in defaults.QUEUES]
        SimpleWorker(queues, connection=svc.redis).work(burst=True, with_scheduler=True)

    return run


ROOT = Path(__file__).resolve().parent.parent


WHOLE_SYSTEM_MODULES = frozenset({
    "tests/system/test_load.py", "tests/system/test_dependency_faults.py", "tests/system/test_broadcast_faults.py",
    "tests/system/test_event_faults.py", "tests/system/test_multiprocess.py", "tests/system/test_worker_replay.py",
    "tests/test_production_config.py",
})
"""Tests that run real servers and workers (gunicorn, worker.py, redis-server, PostgreSQL) and wait on them."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``) the whole-system tests take turns on one worker.

    Two of them at once (the load test's 200 texts/s beside a broadcast that must resume after a
    fault) starve each other's worker processes on a small machine; the other tests run beside them.
    """
    missing = sorted(m for m in WHOLE_SYSTEM_MODULES if not (ROOT / m).exists())
    if missing:
        raise pytest.UsageError(f"WHOLE_SYSTEM_MODULES names files that do not exist: {', '.join(missing)}")
    for item in items:
        if item.nodeid.split("::", 1)[0] in WHOLE_SYSTEM_MODULES:
            item.add_marker(pytest.mark.xdist_group("whole-system"))
