"""What lets another site embed the form and what keeps the rest out: settings, CSP, the widget file."""

from __future__ import annotations

import pytest

from sms.errors import ConfigError
from sms.settings import Settings
from sms.web import texts
from tests.support.calls import tune

ORGANIZER = "https://campaign.example"


def test_widget_origins_and_public_counts_are_checked_at_start_up() -> None:
    settings = Settings.from_mapping({"WIDGET_ORIGINS": "https://Campaign.example/, http://localhost:8000",
                                      "WEB_PUBLIC_COUNTS": "states total"})
    assert settings.widget_origins == ("https://campaign.example", "http://localhost:8000")
    assert settings.web_public_counts == ("states", "total")
    assert Settings.from_mapping({"WEB_PUBLIC_COUNTS": "off"}).web_public_counts == ()
    with pytest.raises(ConfigError, match="WIDGET_ORIGINS: 'campaign.example/page'"):
        Settings.from_mapping({"WIDGET_ORIGINS": "campaign.example/page"})
    with pytest.raises(ConfigError, match="WEB_PUBLIC_COUNTS: unknown names"):
        Settings.from_mapping({"WEB_PUBLIC_COUNTS": "total,names"})
    with pytest.raises(ConfigError, match="WEB_CONFIRM_NUMBERS"):
        Settings.from_mapping({"WEB_CONFIRM_NUMBERS": "maybe"})


def test_only_listed_sites_may_frame_the_embedded_page(client, svc) -> None:  # noqa: ANN001
    tune(svc, widget_origins=(ORGANIZER,))
    embedded = client.get("/act/CHOKEHOLD?embed=1")
    assert f"frame-ancestors {ORGANIZER}" in embedded.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in embedded.headers
    plain = client.get("/act/CHOKEHOLD")
    assert "frame-ancestors 'none'" in plain.headers["Content-Security-Policy"]
    assert plain.headers["X-Frame-Options"] == "DENY"
    tune(svc, widget_origins=())
    assert "frame-ancestors 'none'" in client.get("/act/CHOKEHOLD?embed=1").headers["Content-Security-Policy"]


def test_the_widget_is_one_small_script_without_cookies_or_outside_code(client) -> None:  # noqa: ANN001
    response = client.get("/widget.js")
    source = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "Set-Cookie" not in response.headers and len(response.data) < 15_000
    for forbidden in ("document.cookie", "localStorage", "sessionStorage", "innerHTML", "http://", "https://"):
        assert forbidden not in source, forbidden


def test_every_language_has_every_text(tmp_path) -> None:  # noqa: ANN001
    assert "en" in texts.languages()
    broken = tmp_path / "web.yaml"
    broken.write_text("en:\n  a: A\n  b: B\nes:\n  a: A\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'es' lacks b"):
        texts.catalogue(broken)
