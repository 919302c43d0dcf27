"""The console in a real browser: Playwright driving Debian's Chromium against a live server thread.

Chromium comes from the system (``make chromium``, part of ``make test``); Playwright
never downloads a browser. Screenshots go to ``test-artifacts/``. SQLite only: the
request-level tests already cover both databases, and these are the slow ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.broadcasts import add_people
from tests.support.browser import chromium, free_port, live_server, screenshot
from tests.support.console import PASSWORD, make_organizer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def database_url(database_urls: dict[str, str]) -> str:
    return database_urls.get("sqlite") or next(iter(database_urls.values()))


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def config(config: dict[str, Any], port: int) -> dict[str, Any]:
    return {**config, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}


@pytest.fixture
def live_url(app, port: int) -> Iterator[str]:  # noqa: ANN001
    with live_server(app, port) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def context_options() -> dict[str, Any]:
    """Extra options of the browser context (a test parametrizes it to set ``timezone_id``, say)."""
    return {}


@pytest.fixture
def page(browser: Any, live_url: str, svc: Any, context_options: dict[str, Any]) -> Iterator[Any]:
    make_organizer(svc, "org@example.org")
    context = browser.new_context(base_url=live_url, **{"viewport": {"width": 1280, "height": 900},
                                                        **context_options})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(f"{msg.text} ({msg.location.get('url')})")
            if msg.type == "error" else None)
    page.expected_errors = []  # substrings of errors a test asks for on purpose (they may arrive late)
    yield page
    context.close()
    errors = [e for e in errors if not any(expected in e for expected in page.expected_errors)]
    assert errors == [], errors  # no script errors, no CSP violations


def shot(page: Any, name: str) -> None:
    screenshot(page, f"console-{name}")


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
    assert "by day in America/New_York; today is " in page.locator("#dashboard-window").inner_text()
    labels = page.evaluate("() => Object.values(Chart.instances)[0].data.labels")
    assert labels[-1] == "today" and len(labels) == 30
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
    assert page.locator("#call-flow .step.press").first.inner_text() == "Caller presses 1 (not given: 1 connects you)"
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


def _quiet_now_in(zone: str) -> tuple[int, int]:
    """Quiet hours that make it quiet in ``zone`` right now: the window is the next local hour."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    hour = datetime.now(ZoneInfo(zone)).hour
    return (hour + 1, hour + 2) if hour < 23 else (0, 1)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_broadcast_says_why_it_is_not_sending(page, svc, width):
    from sms.broadcasts import lifecycle
    from tests.support.broadcasts import configure, new_broadcast

    add_people(svc, 2, timezone="America/Los_Angeles")
    configure(svc, quiet_hours=_quiet_now_in("America/Los_Angeles"))
    broadcast_id = new_broadcast(svc)
    lifecycle.send(svc, broadcast_id)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page)
    page.goto(f"/console/broadcasts/{broadcast_id}")
    reason = page.locator("#why-reasons li").first
    assert reason.inner_text().startswith("2 waiting for quiet hours to end in America/Los_Angeles (until ")
    assert " local, " in reason.inner_text() and reason.is_visible()
    assert page.locator("#why-finish").inner_text().startswith("Estimated finish: ")
    box = page.locator("#why").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # fits the screen
    shot(page, f"broadcast-waiting-{width}")
    page.click("#action-pause")
    page.wait_for_function("() => document.getElementById('broadcast-status').textContent === 'paused'")
    assert page.locator("#why-summary").inner_text() == "Paused: 2 waiting; nothing new is sent until it is resumed."
    assert page.locator("#why-reasons li").first.inner_text() == "2 waiting for the broadcast to be resumed"
    shot(page, f"broadcast-paused-{width}")


@pytest.mark.parametrize("context_options", [{"timezone_id": "America/Chicago", "viewport": {"width": 1280,
                                                                                             "height": 900}},
                                             {"timezone_id": "America/Chicago", "viewport": {"width": 390,
                                                                                             "height": 844}}],
                         ids=["1280", "390"])
def test_the_composer_previews_a_real_text_offers_gsm7_and_schedules_in_the_browsers_zone(page, svc,
                                                                                          context_options):
    width = context_options["viewport"]["width"]
    add_people(svc, 1, state="KY", first_name="Ada")
    log_in(page)
    page.goto("/console/broadcasts")
    assert page.locator("label .tz-name").inner_text() == "America/Chicago"
    page.fill("#message", "Hi {first_name} ✊ the House votes Thursday")
    page.fill("input[name=states]", "KY")
    page.wait_for_function("() => document.getElementById('draft-text').textContent.startsWith('Hi Ada ✊')")
    assert page.locator("#draft-who").inner_text() == "As +1617***0000, one of its recipients, gets it:"
    assert page.locator("#draft-audience").inner_text().startswith("Audience: Opted-in subscribers in KY")
    assert page.locator("#draft-encoding").inner_text() == "UCS-2 because of ✊ (U+270A)."
    box = page.locator("#draft-preview").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    shot(page, f"composer-ucs2-{width}")
    page.click("#use-gsm7")
    assert page.input_value("#message") == "Hi {first_name} the House votes Thursday"
    page.wait_for_function("() => document.getElementById('audience-preview').textContent.includes('GSM-7')")
    assert page.locator("#draft-gsm").is_hidden()
    page.fill("input[name=send_at]", "2027-01-14T10:00")
    shot(page, f"composer-gsm7-{width}")
    page.click("#composer button[type=submit]")
    page.wait_for_url("**/console/broadcasts/*")
    assert page.locator("#send-at").inner_text() == "2027-01-14 10:00 America/Chicago (2027-01-14 16:00 UTC)"
    assert page.locator("#sample-text").inner_text() == "Hi Ada the House votes Thursday"
    shot(page, f"broadcast-scheduled-{width}")


def _fits(page: Any, width: int) -> bool:
    """Nothing on the page is wider than the window (no sideways scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth") <= width


def _make_admin(svc: Any) -> None:
    from sqlalchemy import update

    from sms.console.models import Organizer

    with svc.db.session() as session:
        session.execute(update(Organizer).where(Organizer.email == "org@example.org").values(role="admin"))
        session.commit()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_menu_fits_the_screen_and_every_page_is_one_tap_away(page, svc, width):
    _make_admin(svc)  # admins see the longest menu
    page.set_viewport_size({"width": width, "height": 844})
    log_in(page)
    page.goto("/console/")
    links = page.locator(".main-nav a")
    assert links.count() == 13 and _fits(page, width)  # Integrations (admins) included
    if width < 760:
        assert page.locator("#nav-toggle").inner_text() == "Menu · Dashboard" and not links.first.is_visible()
        shot(page, "menu-closed-390")
        page.click("#nav-toggle")
        assert page.get_attribute("#nav-toggle", "aria-expanded") == "true"
    else:
        assert page.locator("#nav-toggle").is_hidden()
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert links.nth(i).is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= width, links.nth(i)
    shot(page, f"menu-{width}")
    page.click(".main-nav >> text=Broadcasts")
    page.wait_for_url("**/console/broadcasts")
    assert page.locator(".main-nav a[aria-current=page]").inner_text() == "Broadcasts"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_way_back_from_the_queues_a_console_404_and_destructive_buttons(page, svc, width):
    _make_admin(svc)
    helper = make_organizer(svc, "helper@example.org")
    page.set_viewport_size({"width": width, "height": 844})
    # rq-dashboard's own page asks for the app's /static/favicon.ico, which Action Line does not have;
    # the 404 page below is asked for on purpose.
    page.expected_errors += ["/static/favicon.ico)", "/console/no-such-page)"]
    log_in(page)
    page.goto("/console/queues/")
    back = page.locator("#back-to-console")
    assert back.is_visible() and "console" in back.inner_text()
    shot(page, f"queues-{width}")
    back.click()
    page.wait_for_url("**/console/")

    response = page.goto("/console/no-such-page")
    assert response.status == 404 and page.locator("h1").inner_text() == "Not found"
    assert "There is no console page at /console/no-such-page." in page.locator("main").inner_text()
    assert _fits(page, width)
    shot(page, f"not-found-{width}")

    page.goto("/console/organizers")
    deactivate = page.locator(f"#deactivate-{helper}")
    color = deactivate.evaluate("b => getComputedStyle(b).color")
    assert color == "rgb(207, 34, 46)"  # --err: red, unlike the blue of every other button
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    deactivate.click()
    assert questions == ["Deactivate helper@example.org? They can no longer log in (Activate undoes it)."]
    assert page.locator(".flash.ok").count() == 0  # dismissed: nothing changed
    page.once("dialog", lambda dialog: dialog.accept())
    deactivate.click()
    page.wait_for_selector(".flash.ok")
    assert "helper@example.org updated" in page.locator(".flash.ok").inner_text()
    shot(page, f"organizers-{width}")


def test_a_demand_side_by_side_in_spanish_and_a_texters_language(page, svc):
    """Issue 17: the Spanish text beside the English one, its own counter and budget, and a texter's language."""
    log_in(page)
    page.goto("/console/demands/CHOKEHOLD")
    spanish = page.locator("#translation-es")
    assert "In Español" in spanish.locator("h2").inner_text()
    assert "missing" not in spanish.locator("h2").inner_text()
    assert page.is_checked("#fold-es")  # the shipped reply is sent without accents (fold_accents)
    page.uncheck("#fold-es")
    page.fill("#reply-es", "Prohibir la llave: pídele al Congreso que la prohíba. Responde LLAMAR.")
    counter = page.locator('[data-counter-for="reply-es"]')
    assert "UCS-2" in counter.inner_text() and "of 3 allowed" in counter.inner_text()
    page.check("#fold-es")
    assert "GSM-7" in counter.inner_text() and "sent without accents" in counter.inner_text()
    assert page.locator("#bubble-es").inner_text().startswith("Prohibir la llave: pidele al Congreso")
    shot(page, "demand-spanish")
    page.click("#translation-form-es button[type=submit]")
    assert "Saved CHOKEHOLD in Español" in page.locator(".flash.ok").inner_text()

    page.click("nav >> text=Simulator")
    simulate(page, "ESPAÑOL")
    assert simulate(page, "estrangulamiento").startswith("Prohibir la llave: pidele al Congreso")
    page.goto("/console/inbox")
    page.locator(".threads a").first.click()
    assert page.locator("#subscriber-language").inner_text() == "Español"
    page.select_option("#language-form select", "en")
    page.click("#language-form button")
    assert page.locator("#subscriber-language").inner_text() == "English"
    shot(page, "conversation-language")


def test_the_demand_editor_offers_the_target_kinds_in_order_and_the_lookup_shows_every_level(page, svc):
    from sms.store import Demand
    from tests.support.states import seed_states

    with svc.db.session() as session:
        seed_states(session, ("KY",))
    log_in(page)
    page.goto("/console/demands/CHOKEHOLD")
    first = page.locator("#target-kinds select").nth(0)
    offered = first.locator("option").all_inner_texts()
    for label in ("State legislators (senator and representative)", "Governor", "State attorney general",
                  "Mayor (when the texter's city has one)", "U.S. senators"):
        assert label in offered
    first.select_option("governor")
    page.locator("#target-kinds select").nth(1).select_option("state-upper")
    page.locator("#target-kinds select").nth(2).select_option("")
    page.locator("#target-kinds select").nth(3).select_option("")
    shot(page, "demand-target-kinds")
    page.click("#demand-form button[type=submit]")
    assert "Saved CHOKEHOLD" in page.locator(".flash.ok").inner_text()
    with svc.db.session() as session:
        demand = session.get(Demand, "CHOKEHOLD")
        assert (demand.targets, demand.target_order) == ("governor,state-upper", ["governor", "state-upper"])
    assert page.locator("#target-kinds select").nth(0).input_value() == "governor"
    page.goto("/console/targets?zip=40601")
    levels = page.locator("#lookup-levels").inner_text()
    assert "Gov. Andy Beshear" in levels and "State Sen. Aaron Reed" in levels
    assert "senate 7 or 12 or 20" in page.locator("#state-districts").inner_text()
    shot(page, "targets-every-level")
