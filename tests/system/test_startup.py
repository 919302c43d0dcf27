"""What a process says when it starts: the configuration warnings once, RQ's per-job lines not at all.

The warnings (outbox mode, development token, no SECRET_KEY) are given once per serving process,
once by gunicorn's master for all its workers (``gunicorn.conf.py``), and never by ``flask``
commands. worker.py keeps RQ's own logger at WORKER_LOG_LEVEL (WARNING) and says in one line of
its own what a periodic job did, when it did something.
"""

from __future__ import annotations

import logging
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from rq import Queue, SimpleWorker

import app as app_module
import worker
from sms import cron, services
from sms.settings import ConfigError, Settings, startup_warnings
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
WARNINGS = ("No TWILIO_ACCOUNT_SID", "No TWILIO_AUTH_TOKEN", "No ORG_CONTACT", "No SECRET_KEY")
DEV_CONFIG = {"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "ORG_CONTACT": "", "SECRET_KEY": "", "TESTING": False}
"""What a newcomer's first ``make run`` has: no Twilio account, no token, no secret key."""


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as if nothing had warned yet (neither an earlier create_app() nor a gunicorn master)."""
    monkeypatch.setattr(app_module, "_announced", False)
    monkeypatch.setenv(app_module.ANNOUNCED, "")
    monkeypatch.delenv(app_module.ANNOUNCED)


def kinds(lines: list[str]) -> list[str]:
    """Which of WARNINGS each line is, in order."""
    return [next(w for w in WARNINGS if line.startswith(w)) for line in lines]


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "actionline" and r.levelno == logging.WARNING]


def build(tmp_path: Path, **config: Any) -> Any:
    application = app_module.create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "REDIS_URL": REDIS_URL,
                                         **DEV_CONFIG, **config})
    application.extensions["actionline"].close()
    return application


def test_two_apps_in_one_process_warn_once(fresh_process, tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="actionline")
    build(tmp_path)
    build(tmp_path)
    assert kinds(warnings_in(caplog)) == list(WARNINGS)


def test_a_test_app_does_not_complain_of_the_missing_secret_key() -> None:
    settings = Settings.from_mapping({"DATABASE_URL": "sqlite://"})
    assert kinds(startup_warnings(settings)) == list(WARNINGS)
    assert kinds(startup_warnings(settings, testing=True)) == list(WARNINGS[:3])
    configured = Settings.from_mapping({"DATABASE_URL": "sqlite://", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
                                        "TWILIO_AUTH_TOKEN": "real-token", "SECRET_KEY": "s3cret",
                                        "ORG_CONTACT": "help@actionline.org"})
    assert startup_warnings(configured) == []


@pytest.mark.parametrize(("command", "warns"), [("run", True), ("init-db", False), ("simulate", False)])
def test_only_flask_run_warns_among_flask_commands(fresh_process, tmp_path, caplog, command, warns) -> None:
    caplog.set_level(logging.WARNING, logger="actionline")
    with click.Context(click.Command(command)):
        build(tmp_path)
    assert bool(warnings_in(caplog)) is warns


def test_gunicorn_master_warns_once_for_its_workers(fresh_process, tmp_path, caplog, monkeypatch) -> None:
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)

    class Log:
        lines: list[str] = []

        def warning(self, line: str) -> None:
            self.lines.append(line)

    server = type("Arbiter", (), {"log": Log()})()
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    hooks["when_ready"](server)
    assert kinds(server.log.lines) == list(WARNINGS)
    assert os.environ[app_module.ANNOUNCED] == "1"  # inherited by the workers it forks next
    caplog.set_level(logging.WARNING, logger="actionline")
    build(tmp_path)  # what each worker does
    assert warnings_in(caplog) == []


def clean_env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SECRET_KEY", "ACTIONLINE_"))}
    return {**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "REDIS_URL": REDIS_URL}


@pytest.mark.parametrize("args", [["--help"], ["init-db"]], ids=" ".join)
def test_flask_commands_print_no_configuration_warning(tmp_path, args) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=clean_env(tmp_path),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "create-organizer" in result.stdout if args == ["--help"] else "latest schema" in result.stdout
    output = result.stdout + result.stderr
    assert [w for w in WARNINGS if w in output] == []


def test_worker_keeps_rq_at_warning_unless_told() -> None:
    assert Settings.from_mapping({"DATABASE_URL": "sqlite://"}).worker_log_level == "WARNING"
    assert Settings.from_mapping({"DATABASE_URL": "sqlite://", "WORKER_LOG_LEVEL": "info"}).worker_log_level == "INFO"
    with pytest.raises(ConfigError, match="WORKER_LOG_LEVEL"):
        Settings.from_mapping({"DATABASE_URL": "sqlite://", "WORKER_LOG_LEVEL": "chatty"})


@pytest.mark.parametrize(("env", "level"), [({}, "WARNING"), ({"WORKER_LOG_LEVEL": "debug"}, "DEBUG")])
def test_worker_main_passes_the_level_to_rq(tmp_path, monkeypatch, env, level) -> None:
    passed: dict[str, Any] = {}
    monkeypatch.setattr(worker.StoppableWorker, "work", lambda self, **kwargs: passed.update(kwargs))
    monkeypatch.delenv("WORKER_LOG_LEVEL", raising=False)
    for key, value in {"DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "REDIS_URL": REDIS_URL, **env}.items():
        monkeypatch.setenv(key, value)
    try:
        worker.main(["--burst"])
    finally:
        services.bind(None)
    assert passed["logging_level"] == level


def test_cron_summary_is_one_line_for_work_done_and_none_when_idle() -> None:
    assert worker.cron_summary("sms.tasks.sweep", {"requeued": 0, "settled": 0}) is None
    assert worker.cron_summary("sms.tasks.sweep", {}) is None
    assert worker.cron_summary("sms.tasks.sweep", "skipped") is None  # sms.cron logs that itself
    assert worker.cron_summary("sms.tasks.sweep", {"requeued": 2, "settled": 0}) == "sweep: {'requeued': 2}"


class InProcessWorker(SimpleWorker, worker.StoppableWorker):
    """worker.py's worker, running its jobs in this process (so caplog sees them)."""


@pytest.fixture
def rq_logger():  # noqa: ANN201
    logger = logging.getLogger("rq.worker")
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_idle_cron_jobs_log_nothing_and_busy_ones_one_line(svc, caplog, monkeypatch, rq_logger) -> None:
    caplog.set_level(logging.DEBUG, logger="actionline.worker")
    queue = Queue("default", connection=svc.redis)
    for path, _ in cron.PERIODIC:
        if path != "sms.tasks.purge_expired":  # daily, and it logs its own line
            queue.enqueue(cron.run_exclusive, path, result_ttl=60)
    InProcessWorker([queue], connection=svc.redis).work(burst=True, logging_level="WARNING")
    assert [r for r in caplog.records if r.name.startswith(("rq.", "actionline.worker"))] == []

    monkeypatch.setattr("sms.tasks.replay_spool", lambda: {"replayed": 2, "failed": 0})
    queue.enqueue(cron.run_exclusive, "sms.tasks.replay_spool", result_ttl=60)
    InProcessWorker([queue], connection=svc.redis).work(burst=True, logging_level="WARNING")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith(("rq.", "actionline.worker"))]
    assert lines == ["replay_spool: {'replayed': 2}"]
