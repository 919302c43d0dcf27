"""HELP's contact (ORG_CONTACT): checked at start-up, warned about when unset, and HELP stays in 2 GSM-7 segments."""

from __future__ import annotations

import logging

import pytest

from sms import defaults
from sms.errors import ConfigError
from sms.messaging import catalogue, encoding
from sms.settings import Settings

HELP = catalogue.load_yaml()["messages"]["help"]
LONG_ORG = "Action Line Organizing Committee"


@pytest.mark.parametrize("contact", [
    "help@actionline.org", "+1 (617) 555-0100", "617-555-0100", "https://actionline.org/help",
    "http://example.org",
])
def test_org_contact_may_be_an_email_a_phone_or_a_url(contact):
    assert Settings.from_mapping({"ORG_CONTACT": contact}).org_contact == contact


@pytest.mark.parametrize("contact", ["call us", "555-01", "www example org", "ftp://x.org", "help@",
                                     "a" * 61 + "@x.org", "ayuda@acción.org"])
def test_a_bad_org_contact_stops_start_up_naming_the_key(contact):
    with pytest.raises(ConfigError, match="ORG_CONTACT"):
        Settings.from_mapping({"ORG_CONTACT": contact})


LONGEST = "x" * (defaults.ORG_CONTACT_MAX - 12) + "@example.org"


@pytest.mark.parametrize("contact", [LONGEST, defaults.ORG_CONTACT_FALLBACK])
def test_help_fits_two_gsm7_segments_with_a_long_name_and_the_longest_contact(contact):
    assert len(contact) <= defaults.ORG_CONTACT_MAX
    text = catalogue.from_data(catalogue.load_yaml()).text("help", org=LONG_ORG, contact=contact)
    info = encoding.count(text)
    assert info.encoding == "GSM-7" and info.segments <= 2
    for part in ("Action Line", "msgs/week", "Msg & data rates may apply", "STOP", contact):
        assert part in text


def test_help_without_a_contact_says_to_reply(phone):
    phone.text("HI")
    (reply,) = phone.text("HELP")
    assert reply.endswith(f"Help: {defaults.ORG_CONTACT_FALLBACK}")


def test_start_up_warns_once_when_org_contact_is_unset(config, transport, caplog, monkeypatch):
    import app as app_module
    from app import create_app

    monkeypatch.setattr(app_module, "_announced", False)  # as in a fresh process
    monkeypatch.delenv(app_module.ANNOUNCED, raising=False)
    with caplog.at_level(logging.WARNING, logger="actionline"):
        create_app({**config, "TRANSPORT": transport}).extensions["actionline"].close()
        create_app({**config, "TRANSPORT": transport, "ORG_CONTACT": "help@actionline.org"}) \
            .extensions["actionline"].close()
    warning = (f"No ORG_CONTACT: HELP tells texters to {defaults.ORG_CONTACT_FALLBACK}; "
               "set an email, phone number or URL.")
    assert [r.getMessage() for r in caplog.records].count(warning) == 1


def test_the_console_help_text_must_keep_its_contact_and_rates():
    from sms.console import demand_editor

    assert "CONTACT" in demand_editor.text_problem("help", HELP.replace("{contact}", "us"))
    assert "DATA RATES" in demand_editor.text_problem("help", HELP.replace("Msg & data rates may apply. ", ""))
    assert demand_editor.text_problem("help", HELP) is None
