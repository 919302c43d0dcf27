"""Fault tests: Redis and PostgreSQL restarted, and workers killed, mid-broadcast and mid-call.

Every test runs the real ``worker.py`` (its sweepers sped up, see ``tests.support.faults.FAST_WORKER``)
against servers of its own: a private ``redis-server`` and a private PostgreSQL cluster, so they
can be stopped, restarted and flushed without touching the shared ones. The workers must carry on
by themselves after a dependency comes back; the test only watches the database. Everything sent
goes through the outbox transport, so "sent exactly once" is a count of outbox rows.

Redis faults run on SQLite (the default deployment; no Redis code path depends on the SQL
backend), PostgreSQL faults on the private PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import select, text

from sms import cron, services, store
from sms.calls import commands
from sms.calls.models import CallSession
from sms.console import simulator
from sms.messaging import catalogue, encoding, inbound, spool, subscribers
from sms.store import Message, OutboxItem
from sms.targets import importer
from tests.conftest import BASE_URL, SERVICE_NUMBER, TOKEN, Phone, _reset_database, signed_post
from tests.support.broadcasts import broadcast_status, start_broadcast, statuses
from tests.support.calls import Caller, dialed, legislator_rows, legs, path_of, zip_rows
from tests.support.faults import Workers, wait_for
from tests.support.geocoder import FakeCensus, stored_text

slow = pytest.mark.slow
RECIPIENTS = 40
TEXTER = "+16175550123"


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('faults') / 'faults.db'}"
    store.upgrade(url)
    return url


def build_app(database_url: str, redis_url: str, catalogue_data: dict[str, Any]) -> Any:
    """The web app on the given servers, with an empty database (catalogue and targets loaded)."""
    from app import create_app

    application = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_PHONE_NUMBER": SERVICE_NUMBER, "PUBLIC_BASE_URL": BASE_URL, "SECRET_KEY": "test-secret",
        "QUIET_HOURS": "off", "CALL_OFFICE_HOURS": "off", "FOLLOWUP_DELAY_SECONDS": "3600",
        "BROADCAST_STALE_SECONDS": "2",
    })
    svc = application.extensions["actionline"]
    _reset_database(svc.db, catalogue_data)
    with svc.db.session() as session:
        importer.import_legislators(session, legislator_rows())
        importer.import_zips(session, zip_rows())
    return application


@pytest.fixture
def redis_app(sqlite_url, private_redis, catalogue_data) -> Iterator[Any]:
    application = build_app(sqlite_url, private_redis.url, catalogue_data)
    services.bind(application.extensions["actionline"])
    yield application
    services.bind(None)
    application.extensions["actionline"].close()


@pytest.fixture
def pg_app(private_postgres, private_redis, catalogue_data) -> Iterator[Any]:
    application = build_app(private_postgres.url, private_redis.url, catalogue_data)
    services.bind(application.extensions["actionline"])
    yield application
    services.bind(None)
    application.extensions["actionline"].close()


@pytest.fixture
def workers_for(tmp_path: Path) -> Iterator[Any]:
    made: list[Workers] = []

    def make(app: Any) -> Workers:
        settings = app.extensions["actionline"].settings
        made.append(Workers(settings.database_url, settings.redis_url, tmp_path))
        return made[-1]

    yield make
    for workers in made:
        workers.stop_all()


# --- what the tests look at ---------------------------------------------------------------------

def outbox(svc: Any, kind: str = "sms") -> list[OutboxItem]:
    with svc.db.session() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.kind == kind).order_by(OutboxItem.id)))


def per_recipient(svc: Any, kind: str = "sms") -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in outbox(svc, kind):
        counts[item.to] = counts.get(item.to, 0) + 1
    return counts


def call_session(svc: Any) -> CallSession:
    with svc.db.session() as session:
        return session.scalars(select(CallSession)).one()


def assert_broadcast_once(svc: Any, phones: list[str], broadcast_id: int) -> None:
    assert per_recipient(svc) == {phone: 1 for phone in phones}
    assert statuses(svc, broadcast_id) == {"sent": len(phones)}


def broadcast_through(app: Any, workers_for: Any, fault: Callable[[], object]) -> None:
    """Start a broadcast, run ``fault`` once some texts are out, and check each recipient got one."""
    svc = app.extensions["actionline"]
    phones, broadcast_id = start_broadcast(svc, RECIPIENTS, mps=20)
    workers_for(app).start()
    wait_for(lambda: len(outbox(svc)) >= 10)
    fault()
    assert len(outbox(svc)) < RECIPIENTS
    wait_for(lambda: broadcast_status(svc, broadcast_id) == "sent", what="the broadcast to finish")
    assert_broadcast_once(svc, phones, broadcast_id)


def ask_for_call(client: Any) -> Phone:
    """A supporter texts CALL CHOKEHOLD and a ZIP with one House seat: the call-back is queued."""
    phone = Phone(client, TEXTER)
    phone.text("CALL CHOKEHOLD")
    assert phone.text("99501")[0].startswith("Calling you now to connect you with Rep.")
    return phone


def answer_call(client: Any, svc: Any) -> tuple[Caller, list[str]]:
    """Twilio rings the texter, who answers and presses 1: the first office is dialed."""
    [placed] = outbox(svc, "call")
    caller = Caller(client, TEXTER, placed.sid)
    caller.post(path_of(placed.url or ""))
    return caller, dialed(caller.post("/voice/connect", Digits="1"))


def next_office(caller: Caller, leg: int) -> list[str]:
    """The Dial to office ``leg`` ends (completed); silence at the prompt dials the next office."""
    caller.post(f"/voice/dialed?leg={leg}", DialCallStatus="completed", DialCallDuration="30")
    return dialed(caller.post(f"/voice/next?leg={leg + 1}"))


def hang_up(caller: Caller, svc: Any, last_leg: int) -> None:
    caller.post(f"/voice/dialed?leg={last_leg}", DialCallStatus="completed", DialCallDuration="30")
    assert caller.status("completed") in (200, 204)


def assert_each_office_dialed_once(svc: Any, numbers: list[str]) -> None:
    call = call_session(svc)
    expected = [t["phone"] for t in call.targets]
    assert numbers == expected
    assert [(leg.position, leg.number, leg.outcome) for leg in legs(svc)] == [
        (i, number, "connected") for i, number in enumerate(expected)]


def waiting_on_a_lock(svc: Any) -> bool:
    """True while some PostgreSQL session (the worker's job) waits for a lock the test holds."""
    with svc.db.engine.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")))


def summary_texts(svc: Any) -> list[str]:
    return [item.body or "" for item in outbox(svc) if (item.body or "").startswith("Thank you for calling!")]


# --- Redis restarted ------------------------------------------------------------------------------


def finish_call(client: Any, svc: Any, before_each_office: Sequence[Callable[[], object]]) -> None:
    """Answer the call-back and dial two offices, running one fault before each; then a step Twilio
    repeats must dial nothing new, and each office is dialed once, one call placed, one summary sent."""
    caller, numbers = answer_call(client, svc)
    for position, fault in enumerate(before_each_office):
        fault()
        numbers += next_office(caller, position)
    assert dialed(caller.post("/voice/next?leg=2")) == numbers[-1:]  # Twilio retried the step: no new leg
    hang_up(caller, svc, 2)
    wait_for(lambda: summary_texts(svc), what="the summary text")
    assert_each_office_dialed_once(svc, numbers)
    assert [item.to for item in outbox(svc, "call")] == [TEXTER]
    assert len(summary_texts(svc)) == 1

@slow
def test_redis_restarted_mid_broadcast_sends_each_text_once(redis_app, private_redis, workers_for):
    # every queued job, pacing clock and worker registration is gone
    broadcast_through(redis_app, workers_for, private_redis.restart)


@slow
def test_redis_restarted_with_the_call_back_queued_places_it_once(redis_app, private_redis, workers_for):
    svc = redis_app.extensions["actionline"]
    client = redis_app.test_client()
    ask_for_call(client)
    assert svc.queue("high").count == 1
    private_redis.restart()  # the queued call-back job is lost; the SQL session row is the promise
    workers = workers_for(redis_app)
    workers.start()
    wait_for(lambda: call_session(svc).status == "placed", what="the call-back")
    # Redis dies while the supporter is on the phone, and comes back empty
    finish_call(client, svc, before_each_office=(private_redis.stop, private_redis.start))


@slow
def test_text_while_redis_is_down_is_answered_and_the_call_back_placed_later(redis_app, private_redis, workers_for):
    svc = redis_app.extensions["actionline"]
    private_redis.stop()
    ask_for_call(redis_app.test_client())  # answered from SQL; the job could not be enqueued
    assert call_session(svc).status == "queued"
    private_redis.start()
    workers_for(redis_app).start()
    wait_for(lambda: call_session(svc).status == "placed", what="the sweeper to place the call-back")
    assert [item.to for item in outbox(svc, "call")] == [TEXTER]


@slow
def test_readyz_names_redis_while_it_is_down(redis_app, private_redis):
    client = redis_app.test_client()
    assert client.get("/readyz").status_code == 200
    private_redis.stop()
    down = client.get("/readyz")
    assert (down.status_code, down.get_json()) == (503, {"status": "unavailable", "database": "ok",
                                                         "redis": "unreachable"})
    private_redis.start()
    assert client.get("/readyz").status_code == 200


# --- PostgreSQL restarted -------------------------------------------------------------------------

@slow
def test_postgres_restarted_mid_broadcast_sends_each_text_once(pg_app, private_postgres, workers_for):
    # every connection of the worker is cut mid-batch
    broadcast_through(pg_app, workers_for, private_postgres.restart)


@slow
def test_postgres_down_while_the_call_back_is_queued_places_it_once(pg_app, private_postgres, workers_for):
    svc = pg_app.extensions["actionline"]
    client = pg_app.test_client()
    ask_for_call(client)
    private_postgres.stop()
    workers = workers_for(pg_app)
    workers.start()  # takes the call-back job while the database is down
    wait_for(lambda: svc.queue("high").count == 0, what="the worker to take the job")
    private_postgres.start()
    wait_for(lambda: call_session(svc).status == "placed", what="the call-back")
    # restarted between two voice webhooks: the app's pooled connections are dead
    finish_call(client, svc, before_each_office=(private_postgres.restart, private_postgres.restart))


@slow
def test_readyz_names_the_database_while_it_is_down(pg_app, private_postgres):
    client = pg_app.test_client()
    assert client.get("/readyz").status_code == 200
    private_postgres.stop()
    try:
        down = client.get("/readyz")
        assert (down.status_code, down.get_json()) == (503, {"status": "unavailable", "database": "unreachable",
                                                             "redis": "ok"})
    finally:
        private_postgres.start()
    assert client.get("/readyz").status_code == 200


@slow
def test_texts_while_postgres_is_down_are_kept_and_answered_by_text_once(pg_app, private_postgres, workers_for):
    svc = pg_app.extensions["actionline"]
    client = pg_app.test_client()
    workers_for(pg_app).start()
    private_postgres.stop()
    supporter, leaver = "+16175550101", "+16175550102"
    first = simulator.sms_params(supporter, "CHOKEHOLD", SERVICE_NUMBER)
    try:
        for params in (first, first,  # Twilio delivered the same text twice
                       simulator.sms_params(leaver, "STOP", SERVICE_NUMBER),
                       simulator.sms_params(leaver, "CHOKEHOLD", SERVICE_NUMBER)):
            response = signed_post(client, "/sms", params)
            assert response.status_code == 200
            assert ET.fromstring(response.get_data(as_text=True)).findall("./Message") == []
        assert spool.pending(svc.redis) == 4
    finally:
        private_postgres.start()
    wait_for(lambda: spool.pending(svc.redis) == 0 and outbox(svc), what="the worker to replay the spool")
    with svc.db.session() as session:
        received = session.scalars(select(Message.phone).where(Message.direction == "in").order_by(Message.id)).all()
        replies = session.execute(select(Message.phone, Message.body, Message.status).where(
            Message.kind == "reply").order_by(Message.id)).all()
        demand = catalogue.current(session).demand("CHOKEHOLD")
        leaver_status = subscribers.find(session, leaver).status
    assert received == [supporter, leaver, leaver]  # every text recorded once, in order
    assert leaver_status == "opted_out"
    assert [body for _, body in outbox_texts(svc)] == [body for phone, body, status in replies if phone == supporter]
    assert outbox_texts(svc)[0][1].startswith(encoding.gsm_safe(demand.reply)[:60])
    assert {(phone, status) for phone, _, status in replies} == {(supporter, "sent"), (leaver, "cancelled")}


def outbox_texts(svc: Any) -> list[tuple[str, str]]:
    return [(item.to, item.body or "") for item in outbox(svc)]


@slow
def test_an_address_texted_while_postgres_is_down_is_spooled_without_it(pg_app, private_postgres):
    svc = pg_app.extensions["actionline"]
    census = FakeCensus()
    threading.Thread(target=census.server.serve_forever, daemon=True).start()
    svc.settings = dataclasses.replace(svc.settings, geocoder_url=census.url, call_split_districts="address")
    phone = Phone(pg_app.test_client(), TEXTER)
    try:
        phone.text("ZIP 10001")
        assert phone.text("CALL CHOKEHOLD") == [commands.ASK_ADDRESS]
        private_postgres.stop()
        try:
            assert phone.text("350 5th Ave") == []  # kept in the spool, without its words
            assert [json.loads(raw)["body"] for raw in svc.redis.lrange(spool.KEY, 0, -1)] == [commands.ADDRESS_KEPT_AS]
        finally:
            private_postgres.start()
        assert spool.replay(svc) == {"replayed": 1, "dead": 0}
        assert [body for _, body in outbox_texts(svc)] == [commands.ADDRESS_LOST, commands.ASK_ADDRESS]
        assert census.queries == []
        assert "5th Ave" not in stored_text(svc)
    finally:
        census.server.shutdown()
        census.server.server_close()


@slow
def test_a_text_while_the_database_and_redis_are_both_down_gets_503(pg_app, private_postgres, private_redis):
    client = pg_app.test_client()
    private_postgres.stop()
    private_redis.stop()
    try:
        response = signed_post(client, "/sms", simulator.sms_params(TEXTER, "CHOKEHOLD", SERVICE_NUMBER))
        assert response.status_code == 503  # nothing could keep it: Twilio's fallback URL applies
    finally:
        private_postgres.start()
    private_redis.start()
    assert Phone(client, TEXTER).text("CHOKEHOLD")  # both back: answered by TwiML again


# --- worker killed --------------------------------------------------------------------------------

@slow
def test_worker_killed_while_placing_the_call_back_places_it_once(pg_app, private_postgres, workers_for):
    svc = pg_app.extensions["actionline"]
    client = pg_app.test_client()
    ask_for_call(client)
    workers = workers_for(pg_app)
    job_id = f"call-{call_session(svc).id}"
    with svc.db.engine.connect() as lock:  # hold the session row: the worker blocks inside the job
        lock.execute(select(CallSession).with_for_update())
        first = workers.start()
        wait_for(lambda: waiting_on_a_lock(svc), what="the job to block on the row")
        assert job_id in svc.queue("high").started_job_registry.get_job_ids()
        workers.kill(first)
        lock.rollback()
    assert call_session(svc).status == "queued"
    assert outbox(svc, "call") == []
    second = workers.start()
    wait_for(lambda: call_session(svc).status == "placed", what="the sweeper to place the call-back")
    caller, numbers = answer_call(client, svc)
    workers.kill(second)  # the worker dies while the supporter is on the phone
    numbers += next_office(caller, 0)
    numbers += next_office(caller, 1)
    assert dialed(caller.post("/voice/next?leg=2")) == numbers[-1:]  # Twilio retried the step: no new leg
    hang_up(caller, svc, 2)
    workers.start()
    wait_for(lambda: summary_texts(svc), what="the summary text")
    assert_each_office_dialed_once(svc, numbers)
    assert [item.to for item in outbox(svc, "call")] == [TEXTER]
    assert len(summary_texts(svc)) == 1


@slow
def test_worker_killed_mid_request_to_twilio_still_places_the_call_back_once(pg_app, workers_for):
    svc = pg_app.extensions["actionline"]
    ask_for_call(pg_app.test_client())
    workers = workers_for(pg_app)
    with svc.db.engine.connect() as lock:  # the outbox is our Twilio: its request hangs until the kill
        lock.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
        first = workers.start(place_window=20)  # the sweeper asks after 5 s, and may place it again until 20 s
        wait_for(lambda: waiting_on_a_lock(svc), what="the worker to call Twilio")
        assert call_session(svc).status == "placing"
        workers.kill(first)
        lock.rollback()
    workers.start(place_window=20)
    wait_for(lambda: call_session(svc).status not in ("placing", "queued"), what="the sweeper to settle the call-back")
    assert [item.to for item in outbox(svc, "call")] == [TEXTER]
    assert call_session(svc).status == "placed"


# --- the pieces that make this work -------------------------------------------------------------

def test_cron_thread_survives_an_unexpected_error(monkeypatch):
    """A dead cron thread would silently stop every sweeper, so any error in a tick is logged and skipped."""
    ticks: list[float] = []

    def tick(redis, now, last, jobs=None):
        ticks.append(now)
        if len(ticks) == 1:
            raise ValueError("a bug, not a Redis outage")
        return 0

    monkeypatch.setattr(cron, "tick", tick)
    stop = threading.Event()
    thread = cron.start(Redis(), stop)
    try:
        wait_for(lambda: len(ticks) >= 2, timeout=60, what="a second tick")
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(5)


def test_spool_replay_sets_aside_what_it_cannot_replay_and_goes_on(redis_app):
    svc = redis_app.extensions["actionline"]
    svc.redis.rpush(spool.KEY, json.dumps({"sid": "SMbroken"}))  # no phone: cannot be an InboundSms
    spool.keep(svc.redis, inbound.InboundSms(sid="SM" + "7" * 32, phone=TEXTER, body="CHOKEHOLD"))
    assert spool.replay(svc) == {"replayed": 1, "dead": 1}
    assert spool.pending(svc.redis) == 0
    assert svc.redis.lrange(spool.DEAD, 0, -1) == [json.dumps({"sid": "SMbroken"}).encode()]
    sent = outbox_texts(svc)
    assert {to for to, _ in sent} == {TEXTER}
    spool.keep(svc.redis, inbound.InboundSms(sid="SM" + "7" * 32, phone=TEXTER, body="CHOKEHOLD"))  # kept twice
    assert spool.replay(svc) == {"replayed": 1, "dead": 0}
    assert outbox_texts(svc) == sent  # answered once



@slow
def test_worker_process_carries_on_when_redis_dies_while_a_job_runs(pg_app, private_redis, workers_for):
    """RQ's work loop quits on a Redis error outside its dequeue retry (e.g. the heartbeat while a job
    runs); the worker process must start working again when Redis is back, not exit."""
    svc = pg_app.extensions["actionline"]
    client = pg_app.test_client()
    ask_for_call(client)
    with svc.db.engine.connect() as lock:  # hold the session row: the job runs until Redis is gone
        lock.execute(select(CallSession).with_for_update())
        worker = workers_for(pg_app).start()
        wait_for(lambda: waiting_on_a_lock(svc), what="the job to block on the row")
        private_redis.stop()
        lock.rollback()
    wait_for(lambda: call_session(svc).status == "placed", what="the job to finish")
    private_redis.start()
    Phone(client, "+16175550199").text("CALL CHOKEHOLD")
    assert Phone(client, "+16175550199").text("99501")[0].startswith("Calling you now")
    wait_for(lambda: len(outbox(svc, "call")) == 2, what="the same worker process to place the next call-back")
    assert worker.poll() is None
    assert sorted(item.to for item in outbox(svc, "call")) == [TEXTER, "+16175550199"]
