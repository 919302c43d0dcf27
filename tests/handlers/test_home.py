"""``/``: a short public page pointing at the console and the simulator, instead of a 404."""

from __future__ import annotations

from handlers.console import CSP
from tests.conftest import TOKEN


def test_home_page_links_the_console_and_the_simulator_without_a_login(client) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<title>Action Line Test</title>" in page
    assert 'href="/console/"' in page and 'href="/console/simulator"' in page
    assert "Status: database ok · redis ok" in page
    assert response.headers["Content-Security-Policy"] == CSP
    assert "Set-Cookie" not in response.headers  # logged out, and nothing started a session


def test_home_page_shows_no_secret(client, app) -> None:
    page = client.get("/").get_data(as_text=True)
    settings = app.extensions["actionline"].settings
    assert TOKEN not in page and settings.secret_key not in page and settings.database_url not in page


def test_home_page_is_get_only(client) -> None:
    assert client.post("/").status_code == 405
    assert client.head("/").status_code == 200


def test_home_page_says_when_redis_is_down(config, redis) -> None:
    from app import create_app

    application = create_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    page = application.test_client().get("/").get_data(as_text=True)
    assert "redis unreachable" in page
    application.extensions["actionline"].close()


def test_the_console_still_asks_for_a_login(client) -> None:
    response = client.get("/console/simulator")
    assert response.status_code == 302 and "/console/login" in response.location
