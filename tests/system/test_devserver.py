"""``make run``'s helpers (sms.devserver): the busy-port check and the banner printed last."""

from __future__ import annotations

import http.server
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rq import Queue, Worker
from rq.worker import WorkerStatus

from sms import devserver
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something listens on, as a first ``make run``'s gunicorn would."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_busy_port_stops_make_run_naming_the_port_and_another(busy_port, capsys) -> None:
    assert devserver.main(["devserver", "ensure-port", str(busy_port)]) == 1
    err = capsys.readouterr().err
    assert f"Port {busy_port} is in use (is another `make run` running?)" in err
    spare = int(re.search(r"make run PORT=(\d+)", err).group(1))
    assert spare != busy_port and devserver.port_free(spare)


def test_a_free_port_passes(capsys) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert devserver.ensure_port(port) == 0
    assert capsys.readouterr().err == ""


def test_make_run_checks_the_port_before_starting_the_procfile_and_the_banner() -> None:
    dry = subprocess.run(["make", "-n", "run", "PORT=5999"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    commands = dry.stdout
    assert "sms.devserver ensure-port 5999" in commands
    assert commands.index("ensure-port") < commands.index("init-db") < commands.index("honcho start")
    assert "Procfile" in commands and "sms.devserver banner --port 5999" in commands


def test_banner_names_the_console_the_simulator_and_create_organizer() -> None:
    text = devserver.banner_text(5077, ".venv/bin/flask")
    assert "http://127.0.0.1:5077/console" in text
    assert "http://127.0.0.1:5077/console/simulator" in text
    assert ".venv/bin/flask --app app create-organizer you@example.org --admin" in text
    assert ".venv/bin/flask --app app simulate +15555550123 MENU --url http://127.0.0.1:5077" in text
    assert "worker" not in devserver.banner_text(5077, worker_up=True).split("\n")[-2]
    assert "No worker has started yet" in devserver.banner_text(5077, worker_up=False)


def banner_commands() -> list[list[str]]:
    """The ``flask --app app ...`` commands the banner tells a newcomer to type, as argument lists."""
    text = devserver.banner_text(5077, "flask")
    return [shlex.split(line.split("flask --app app", 1)[1]) for line in text.splitlines() if "flask --app app" in line]


def test_the_banners_commands_work_as_typed(runner) -> None:
    create, simulate = banner_commands()
    assert create[0] == "create-organizer" and simulate[0] == "simulate"
    made = runner.invoke(args=create, input="correct horse battery\ncorrect horse battery\n")
    assert made.exit_code == 0, made.output
    assert "Organizer you@example.org created (admin)." in made.output
    url = simulate.index("--url")
    texted = runner.invoke(args=simulate[:url])  # in-process: the same command without a running server
    assert texted.exit_code == 0, texted.output
    assert "---" in texted.output


class Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_banner_waits_for_the_web_and_a_worker_then_prints_and_stops_quietly(redis, tmp_path) -> None:
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthz)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    rq_worker = Worker([Queue("default", connection=redis)], connection=redis)
    rq_worker.register_birth()
    rq_worker.set_state(WorkerStatus.IDLE)
    env = {**os.environ, "REDIS_URL": REDIS_URL, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sms.devserver", "banner", "--port", str(web.server_port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(90, proc.kill)  # never hang the suite if it waits forever
    watchdog.start()
    try:
        lines = [proc.stdout.readline()]
        while lines[-1] and not (len(lines) > 1 and lines[-1].startswith("---")):
            lines.append(proc.stdout.readline())
        proc.send_signal(signal.SIGTERM)  # what honcho does on Ctrl-C
        _, err = proc.communicate()
    finally:
        watchdog.cancel()
        web.shutdown()
        rq_worker.register_death()
    text = "".join(lines)
    assert f"http://127.0.0.1:{web.server_port}/console/simulator" in text and "create-organizer" in text
    assert "No worker has started yet" not in text
    assert proc.returncode == 0 and err == ""
