"""Shared fixtures for the calls tests: the real member list and a small ZIP subset.

Importing the full 42,033-row ZIP table for every test would dominate the run, so
lookups are tested against the rows of a few ZIPs (taken from the shipped file)
and the full import is tested once per backend in tests/targets/test_importer.py.
A pytest plugin (``pytest_plugins`` in tests/conftest.py): ``targets_db`` and ``offices_db``.
"""

from __future__ import annotations

import dataclasses
import functools
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from sqlalchemy import select

from sms.calls.models import CallLeg
from sms.targets import custom_sets, importer
from tests.conftest import SERVICE_NUMBER, signed_post

FIXTURE_ZIPS = frozenset({
    "10001", "02139", "02108", "99501", "20001", "00601", "90210", "94541", "95568", "40202", "05001",
    "30165", "59801",
    "78701",  # TX-37: a new texter's ZIP (issue 13)
    "37402",  # TN-3: the longest House member's name in the data (Charles J. "Chuck" Fleischmann)
    "89501",  # NV-2: the longest senator's name (Catherine Cortez Masto)
})
NADLER = "+12022255635"
GOLDMAN = "+12022257944"


@functools.cache
def zip_rows() -> tuple[tuple[int, dict[str, Any]], ...]:
    rows = importer.read_rows(importer.ZIPS_CSV, importer.ZIP_COLUMNS)
    return tuple((line, row) for line, row in rows if row["zcta"] in FIXTURE_ZIPS)


@functools.cache
def legislator_rows() -> tuple[tuple[int, dict[str, Any]], ...]:
    return tuple(importer.read_rows(importer.LEGISLATORS_CSV, importer.LEGISLATOR_COLUMNS))


@pytest.fixture
def targets_db(svc):  # noqa: ANN001, ANN201
    """All current legislators, the fixture ZIPs and the catalogue's custom targets."""
    with svc.db.session() as session:
        importer.import_legislators(session, legislator_rows())
        importer.import_zips(session, zip_rows())
        custom_sets.import_custom_targets(session, custom_sets.load_custom_targets())
    return svc


@pytest.fixture
def offices_db(targets_db):  # noqa: ANN001, ANN201
    """Also every district office (1,300 rows, with coordinates)."""
    with targets_db.db.session() as session:
        importer.import_offices(session, importer.read_rows(importer.OFFICES_CSV, importer.OFFICE_COLUMNS))
    return targets_db


def tune(svc, **changes: Any) -> None:  # noqa: ANN001
    """Change settings of the running app (as if its environment had said so)."""
    svc.settings = dataclasses.replace(svc.settings, **changes)


class Caller:
    """A phone on a call with the service: signed voice webhooks carrying one CallSid."""

    def __init__(self, client: Any, number: str, call_sid: str = "CA" + "1" * 32) -> None:
        self.client = client
        self.number = number
        self.call_sid = call_sid

    def post(self, path: str, **params: str) -> ET.Element:
        form = {"CallSid": self.call_sid, "AccountSid": "AC" + "0" * 32, "From": self.number,
                "To": SERVICE_NUMBER, "CallStatus": "in-progress", **params}
        response = signed_post(self.client, path, form)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/xml"
        return ET.fromstring(response.get_data(as_text=True))

    def status(self, status: str, duration: str = "30") -> int:
        form = {"CallSid": self.call_sid, "AccountSid": "AC" + "0" * 32, "From": SERVICE_NUMBER,
                "To": self.number, "CallStatus": status, "CallDuration": duration}
        return signed_post(self.client, "/voice/status", form).status_code


def path_of(url: str) -> str:
    from sms.calls.player import path_of as _path_of

    return _path_of(url)


def dialed(root: ET.Element) -> list[str]:
    return [(n.text or "").strip() for n in root.findall("./Dial/Number")]


def answer_call_back(client: Any, number: str, transport: Any) -> tuple[Caller, ET.Element]:
    """Answer the last call-back placed and press 1: the caller, and the TwiML dialing the first office."""
    placed = transport.calls[-1]
    caller = Caller(client, number, placed["sid"])
    caller.post(path_of(placed["url"]))
    return caller, caller.post("/voice/connect", Digits="1")


def dial_every_office(caller: Caller, root: ET.Element) -> list[str]:
    """Let every office the call dials answer for a minute, from ``root`` on: the numbers dialed."""
    numbers, leg = [], 0
    while root.find("./Dial") is not None:
        numbers += dialed(root)
        caller.post(f"/voice/dialed?leg={leg}", DialCallStatus="completed", DialCallDuration="60",
                    DialCallSid=f"CA{leg:032d}")
        leg += 1
        root = caller.post(f"/voice/next?leg={leg}")
    return numbers


def spoken(root: ET.Element) -> str:
    return " ".join((s.text or "") for s in root.iter("Say"))


def legs(svc) -> list[CallLeg]:  # noqa: ANN001
    """Every leg of every call, in the order they were dialed (position, then attempt)."""
    with svc.db.session() as session:
        return list(session.scalars(select(CallLeg).order_by(CallLeg.position, CallLeg.attempt)))
