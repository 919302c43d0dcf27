"""The console in a real browser: Playwright driving Debian's Chromium against a live server thread.

Chromium comes from the system (``make chromium``, part of ``make test``); Playwright
never downloads a browser. Screenshots go to ``test-artifacts/``. SQLite only: the
request-level tests already cover both databases, and these are the slow ones.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.support.broadcasts import add_people
from tests.support.console import PASSWORD, make_organizer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "test-artifacts")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-extensions", "--disable-sync", "--disable-component-update", "--no-first-run",
                 "--disable-default-apps", "--mute-audio"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_url(database_urls: dict[str, str]) -> str:
    return database_urls.get("sqlite") or next(iter(database_urls.values()))


@pytest.fixture
def port() -> int:
    return _free_port()


@pytest.fixture
def config(config: dict[str, Any], port: int) -> dict[str, Any]:
    return {**config, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}


@pytest.fixture
def live_url(app, port: int) -> Iterator[str]:  # noqa: ANN001
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_url: str, svc: Any) -> Iterator[Any]:
    make_organizer(svc, "org@example.org")
    context = browser.new_context(base_url=live_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert errors == [], errors  # no script errors, no CSP violations


def shot(page: Any, name: str) -> None:
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"console-{name}.png"), full_page=True)


def log_in(page: Any) -> None:
    page.goto("/console/demands")
    assert "/console/login" in page.url
    page.fill("input[name=email]", "org@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/demands")


def simulate(page: Any, text: str) -> str:
    """Text the service from the simulator page and return the first new reply bubble's text."""
    before = page.locator("#sim-screen .bubble.in").count()
    page.fill("#sim-body", text)
    page.click("#sim-form button")
    reply = page.locator("#sim-screen .bubble.in").nth(before)
    reply.wait_for()
    return reply.inner_text()


def test_edit_a_demand_and_the_simulator_uses_the_new_text(page):
    log_in(page)
    page.click("text=CHOKEHOLD")
    page.wait_for_url("**/console/demands/CHOKEHOLD")
    new_reply = "Ban chokeholds now ✊ Reply CALL to reach Congress."
    page.fill("#reply", new_reply)
    counter = page.locator('[data-counter-for="reply"]')
    assert "UCS-2" in counter.inner_text() and "1 segment" in counter.inner_text()
    assert page.locator("#bubble").inner_text() == new_reply
    shot(page, "demand-editor")
    page.click("#demand-form button[type=submit]")
    assert "Saved CHOKEHOLD" in page.locator(".flash.ok").inner_text()

    page.click("nav >> text=Simulator")
    assert simulate(page, "chokehold").startswith(new_reply)
    shot(page, "simulator-new-text")


def test_text_the_simulator_on_a_phone_and_find_it_in_the_inbox(page):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    page.goto("/console/simulator")
    reply = simulate(page, "MENU")
    assert "Reply 1-4" in reply
    shot(page, "simulator-phone")
    page.goto("/console/inbox")
    row = page.locator(".threads a").first
    assert "+1202***0143" in row.inner_text()
    row.click()
    assert "+12025550143" in page.locator("h1").inner_text()
    assert page.locator(".thread .bubble.in .body").first.inner_text() == "MENU"
    shot(page, "conversation-phone")


def test_dashboard_draws_charts(page):
    log_in(page)
    page.goto("/console/simulator")
    simulate(page, "DEFUND")
    page.goto("/console/")
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length >= 3")
    assert page.locator(".tile b").first.inner_text() == "1"
    assert "No calls yet" in page.locator("#calls-panel").inner_text()
    shot(page, "dashboard")


def test_text_the_simulator_and_see_the_call_flow(page, targets_db):
    log_in(page)
    page.goto("/console/simulator")
    simulate(page, "ZIP 99501")  # Anchorage: one district, so CALL asks nothing more
    assert simulate(page, "CALL CHOKEHOLD").startswith("Calling you now to connect you with Rep. ")
    page.fill("#call-status", "completed,busy")
    page.click("#call-answer")
    page.locator("#call-flow .step.hangup").wait_for()
    dialed = page.locator("#call-flow .step.dial")
    assert dialed.count() == 3 and dialed.first.inner_text().startswith("Dialing Rep. ")
    assert page.locator("#call-flow .step.office").nth(1).inner_text() == "Office answers busy"
    assert "Thank you for calling!" in page.locator("#call-flow .step.text").inner_text()
    shot(page, "simulator-call")

    page.click("nav >> text=Calls")
    row = page.locator("#call-log tbody tr").first
    assert "+1202***0143" in row.inner_text() and "connected" in row.inner_text() and "busy" in row.inner_text()
    shot(page, "calls")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.locator("#call-log tbody tr").first.is_visible()
    shot(page, "calls-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/console/targets?zip=02139")
    assert "MA-5, MA-7" in page.locator("#zip-place").inner_text()
    shot(page, "targets")
    page.goto("/console/")
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length >= 5")
    assert "1 call ·" in page.locator("#calls-totals").inner_text()
    shot(page, "dashboard-calls")


def test_create_a_broadcast_and_watch_its_progress(page, svc, run_jobs, transport):
    add_people(svc, 3, interests=("CHOKEHOLD",), state="KY")
    add_people(svc, 2, 100, state="CA")
    log_in(page)
    page.click("nav >> text=Broadcasts")
    page.fill("#message", "The House votes Thursday. Reply CALL to be connected to {rep}.")
    page.fill("input[name=demands]", "CHOKEHOLD")
    preview = page.locator("#audience-preview")
    page.wait_for_function("() => document.getElementById('audience-preview').textContent.startsWith('3 recipients')")
    assert "GSM-7, 1 segment each" in preview.inner_text() and "$" in preview.inner_text()
    shot(page, "broadcast-composer")
    page.click("#composer button[type=submit]")
    page.wait_for_url("**/console/broadcasts/*")
    assert page.locator("#recipients").inner_text() == "3"
    page.click("#action-send")
    page.wait_for_function("() => document.getElementById('broadcast-status').textContent === 'sending'")
    run_jobs()  # the worker's part: the page polls and reloads when the broadcast is done
    page.wait_for_function("() => document.getElementById('broadcast-status').textContent === 'sent'")
    assert page.locator("#p-sent").inner_text() == "3" and page.locator("#p-waiting").inner_text() == "0"
    assert len(transport.messages) == 3
    shot(page, "broadcast-progress")
