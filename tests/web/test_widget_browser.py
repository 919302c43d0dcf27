"""The widget and the action page in a real browser: Playwright driving Debian's Chromium.

An organizer's page on another origin (127.0.0.2, its own strict CSP) embeds ``/widget.js``;
the supporter fills the form, the call-back is placed (the in-memory transport records it) and
the script is shown. The same without JavaScript, an unlisted origin refused, and the page at
390 px. SQLite only, like the console's browser tests (the request-level tests cover both databases).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.browser import chromium, free_port, live_server, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("targets_db")]
PHONE = "+16175550123"
ORGANIZER_HOST = "127.0.0.2"  # another origin on this machine: the whole of 127/8 is loopback



@pytest.fixture
def database_url(database_urls: dict[str, str]) -> str:
    return database_urls.get("sqlite") or next(iter(database_urls.values()))


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def organizer_port() -> int:
    return free_port(ORGANIZER_HOST)


@pytest.fixture
def config(config: dict[str, Any], port: int, organizer_port: int) -> dict[str, Any]:
    return {**config, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "WEB_MIN_FILL_SECONDS": "1",
            "WEB_CONFIRM_NUMBERS": "false", "WIDGET_ORIGINS": f"http://{ORGANIZER_HOST}:{organizer_port}"}


@pytest.fixture
def live_url(app, port: int) -> Iterator[str]:  # noqa: ANN001
    with live_server(app, port) as url:
        yield url


def organizer_site(host: str, port: int, service: str) -> tuple[ThreadingHTTPServer, str]:
    """A campaign page embedding the widget, under a strict CSP of its own that allows only the service."""
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Campaign</title></head><body>'
            f'<h1>Our campaign</h1><div class="actionline" data-demand="CHOKEHOLD"></div>'
            f'<p>Calls so far: <span class="actionline" data-counter="CHOKEHOLD"></span></p>'
            f'<script src="{service}/widget.js" async></script>'
            f'<noscript><iframe src="{service}/act/CHOKEHOLD?embed=1" title="Call"></iframe></noscript>'
            f'</body></html>').encode()
    framed = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Framed</title></head><body>'
              f'<iframe src="{service}/act/CHOKEHOLD?embed=1" title="Call" width="400" height="800"></iframe>'
              f'</body></html>').encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = framed if self.path.startswith("/framed") else html
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", f"default-src 'none'; script-src {service}; "
                             f"connect-src {service}; frame-src {service}; style-src 'none'")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{port}"


@pytest.fixture
def organizer(live_url: str, organizer_port: int) -> Iterator[str]:
    server, url = organizer_site(ORGANIZER_HOST, organizer_port, live_url)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    yield context
    context.close()


def watch(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def shot(page: Any, name: str) -> None:
    screenshot(page, f"web-{name}")


def test_the_widget_on_another_sites_page_places_the_call_and_shows_the_script(context, organizer, transport,
                                                                               run_jobs) -> None:  # noqa: ANN001
    page = context.new_page()
    errors = watch(page)
    page.goto(organizer)
    page.get_by_text("0 calls made").wait_for()  # the embedded counter
    form = page.locator(".actionline form")
    form.get_by_label("Your ZIP code").fill("02139")
    form.get_by_label("Rep. Ayanna Pressley (MA-7)").check()
    form.get_by_label("Your phone number").fill("617 555 0123")
    assert not form.get_by_role("checkbox").is_checked()
    form.get_by_role("button", name="Call me now").click()
    form.get_by_text("We're calling you now").wait_for()
    assert "urge Representative Ayanna Pressley" in form.locator("blockquote").inner_text()
    run_jobs()
    assert [c["to"] for c in transport.calls] == [PHONE]
    form.get_by_text("Your phone should be ringing").wait_for()  # the widget polls the call's progress
    shot(page, "widget")
    assert page.context.cookies() == []  # the widget sets none
    assert errors == []  # no CSP violation under the organizer's strict policy


def test_the_widget_asks_for_the_texted_code_first(context, organizer, svc, transport, run_jobs) -> None:  # noqa: ANN001
    from tests.support.calls import tune

    tune(svc, web_confirm_numbers=True)
    page = context.new_page()
    page.goto(organizer)
    form = page.locator(".actionline form")
    form.get_by_label("Your ZIP code").fill("20001")
    form.get_by_text("Del. Eleanor Holmes Norton").wait_for()
    form.get_by_label("Your phone number").fill("617 555 0123")
    form.get_by_role("button", name="Call me now").click()
    code_field = form.get_by_label("Code", exact=True)
    code_field.wait_for()
    run_jobs()
    code = re.search(r"\b(\d{6})\b", transport.messages[0]["body"]).group(1)
    code_field.fill(code)
    form.get_by_role("button", name="Confirm and call me").click()
    form.get_by_text("We're calling you now").wait_for()
    run_jobs()
    assert [c["to"] for c in transport.calls] == [PHONE]


def test_the_iframe_fallback_loads_on_a_listed_site(context, organizer) -> None:  # noqa: ANN001
    page = context.new_page()
    page.goto(organizer + "/framed")
    frame = page.frame_locator("iframe")
    frame.get_by_role("heading", name="Federal chokehold ban").wait_for()
    frame.get_by_label("Your ZIP code").wait_for()


def test_a_site_not_listed_gets_no_form_and_cannot_ask_for_calls(context, live_url, transport) -> None:  # noqa: ANN001
    server, url = organizer_site(ORGANIZER_HOST, free_port(ORGANIZER_HOST), live_url)
    try:
        page = context.new_page()
        page.goto(url)
        page.locator(".actionline iframe").wait_for(state="attached")  # the form could not be fetched: fallback
        assert page.locator(".actionline form").count() == 0
        outcome = page.evaluate("""service => fetch(service + '/api/v1/calls', {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify({demand: 'CHOKEHOLD'})})
            .then(r => 'answered ' + r.status, e => 'refused')""", live_url)
        assert outcome == "refused"
        assert transport.calls == []
    finally:
        server.shutdown()


def test_without_javascript_the_form_posts_and_the_status_page_refreshes(browser, live_url, transport,
                                                                         run_jobs) -> None:  # noqa: ANN001
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live_url + "/act/CHOKEHOLD")
    page.get_by_label("Your ZIP code").fill("02139")
    page.get_by_role("button", name="Show who I'll call").click()
    page.get_by_label("Rep. Ayanna Pressley (MA-7)").check()
    page.get_by_label("Your phone number").fill("617 555 0123")
    page.wait_for_timeout(1100)  # a person takes longer than WEB_MIN_FILL_SECONDS to fill it
    page.get_by_role("button", name="Call me now").click()
    page.wait_for_url("**/act/calls/*")
    page.get_by_text("urge Representative Ayanna Pressley").wait_for()
    run_jobs()
    assert [c["to"] for c in transport.calls] == [PHONE]
    page.get_by_text("Your phone should be ringing").wait_for()  # the page refreshed itself
    shot(page, "status-nojs")
    context.close()


def test_the_page_fits_a_390_px_phone_and_is_keyboard_reachable(context, live_url) -> None:  # noqa: ANN001
    page = context.new_page()
    errors = watch(page)
    page.goto(live_url + "/act/CHOKEHOLD")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("Your ZIP code").fill("02139")
    page.get_by_label("Rep. Ayanna Pressley (MA-7)").wait_for()  # act.js shows the choice as you type
    focused = []
    for _ in range(8):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    assert "phone" in focused and "consent" in focused
    shot(page, "page-390")
    assert errors == []
