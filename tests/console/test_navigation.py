"""Finding the way: the phone menu's markup, the way back from the queues, the console's 404, destructive buttons."""

from __future__ import annotations

from html import unescape

import pytest

from tests.support.console import login_as, make_organizer


def test_every_page_has_a_menu_button_for_phones_and_one_nav(console):
    page = console.get("/console/broadcasts").get_data(as_text=True)
    assert ('<button type="button" class="nav-toggle" id="nav-toggle" aria-expanded="false" '
            'aria-controls="console-menu" hidden>Menu <span class="nav-here">· Broadcasts</span></button>') in page
    assert page.count('<nav class="main-nav"') == 1 and '<div class="console-menu" id="console-menu">' in page


def test_an_unknown_console_url_gets_the_consoles_own_404(console):
    response = console.get("/console/no-such-page")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 404 and response.headers["Content-Security-Policy"].startswith("default-src")
    assert "There is no console page at /console/no-such-page." in page
    assert '<nav class="main-nav"' in page and "Go to the dashboard" in page
    api = console.get("/console/api/no-such-thing")
    assert (api.status_code, api.get_json()) == (404, {"error": "not found"})


def test_a_404_without_a_login_offers_the_login_and_other_paths_keep_flasks(client):
    response = client.get("/console/no-such-page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "Log in" in page and '<nav class="main-nav"' not in page
    elsewhere = client.get("/no-such-page")
    assert elsewhere.status_code == 404 and "console" not in elsewhere.get_data(as_text=True)


def test_the_queues_page_has_a_way_back_to_the_console(console):
    response = console.get("/console/queues/", follow_redirects=True)
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert '<a class="btn btn-dark mr-3" id="back-to-console" href="/console/">← Action Line Test console</a>' in page
    assert "/view/jobs" in page and "/view/workers" in page  # rq-dashboard's own tabs are still there


@pytest.fixture
def admin(client, svc):  # noqa: ANN001, ANN201
    login_as(client, make_organizer(svc, "boss@example.org", "admin"))
    return client


def test_destructive_buttons_look_destructive_and_ask_first(admin, svc):
    other = make_organizer(svc, "helper@example.org")
    page = unescape(admin.get("/console/organizers").get_data(as_text=True))
    assert f'<button type="submit" class="danger" id="deactivate-{other}">Deactivate</button>' in page
    assert 'data-confirm="Deactivate helper@example.org? They can no longer log in (Activate undoes it)."' in page
    calls = admin.get("/console/calls").get_data(as_text=True)
    assert '<button type="submit" class="danger">Block</button>' in calls and "data-confirm=" in calls
