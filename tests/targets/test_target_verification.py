"""Custom-target phones not verified since a date are flagged: console Targets page and flask data-status."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from sms.errors import ConfigError, DataError
from sms.settings import Settings
from sms.targets import custom_sets, editing, verification
from sms.targets.models import CustomTarget
from tests.support.console import post


def _council(svc) -> CustomTarget:
    with svc.db.session() as session:
        return session.scalar(select(CustomTarget).where(CustomTarget.set_name == "louisville_council"))


@pytest.fixture
def loaded(runner):
    assert runner.invoke(args=["import-targets"]).exit_code == 0


def test_the_shipped_council_number_is_flagged_until_verified(loaded, svc, runner):
    status = runner.invoke(args=["data-status"]).output
    assert "Custom targets: 1 phone not verified ever (still dialed):" in status
    assert "louisville_council: " in status and "never verified" in status and "+1502…" in status
    with svc.db.session() as session:
        verification.mark_verified(session, session.get(CustomTarget, _council(svc).id), date(2026, 11, 20))
    assert "Custom targets: every phone verified." in runner.invoke(args=["data-status"]).output


def test_a_date_the_organizer_sets_flags_older_verifications(loaded, svc):
    with svc.db.session() as session:
        row = session.get(CustomTarget, _council(svc).id)
        verification.mark_verified(session, row, date(2026, 6, 1))
        assert verification.unverified(session, None) == []
        flagged = verification.unverified(session, date(2026, 11, 1))
    assert [f.name for f in flagged] == [row.name]
    assert "last verified 2026-06-01 (not since 2026-11-01)" in flagged[0].describe(date(2026, 11, 1))


def test_changing_the_phone_in_the_console_clears_the_verification(loaded, svc):
    with svc.db.session() as session:
        row = session.get(CustomTarget, _council(svc).id)
        verification.mark_verified(session, row)
        editing.save(session, row, editing.TargetEdit(row.name, row.title, "502-574-1199", row.note))
        assert row.verified_on is None
        verification.mark_verified(session, row)
        editing.save(session, row, editing.TargetEdit("Renamed", row.title, row.phone, row.note))
        assert row.verified_on is not None  # same number: still verified


def test_the_console_flags_and_verifies(loaded, console, svc):
    page = console.get("/console/targets").get_data(as_text=True)
    assert 'id="unverified"' in page and "1 phone not verified yet" in page
    target = _council(svc)
    response = post(console, f"/console/targets/custom/{target.id}", {"action": "verified", "name": target.name,
                                                                      "phone": target.phone})
    assert response.status_code == 302
    assert _council(svc).verified_on is not None
    assert 'id="unverified"' not in console.get("/console/targets").get_data(as_text=True)


def test_verified_in_the_yaml_is_taken_and_a_bad_one_named(svc, tmp_path):
    path = tmp_path / "targets.yaml"
    spec = "custom_targets:\n  da:\n    hours: always\n    targets:\n      - {name: DA, phone: '(502) 595-2300'%s}\n"
    path.write_text(spec % "")
    with svc.db.session() as session:
        custom_sets.import_custom_targets(session, custom_sets.load_custom_targets(path))
        assert [t.name for t in verification.unverified(session, None)] == ["DA"]
        path.write_text(spec % ", verified: 2026-11-20")
        summary = custom_sets.import_custom_targets(session, custom_sets.load_custom_targets(path))
        assert summary.changed == 1 and verification.unverified(session, None) == []
    path.write_text(spec % ", verified: soon")
    with pytest.raises(DataError, match=r"da.targets\[0\].verified: 'soon' is not a date"):
        custom_sets.load_custom_targets(path)


def test_targets_verified_since_is_checked_at_startup():
    assert Settings.from_mapping({"TARGETS_VERIFIED_SINCE": "2026-11-01"}).targets_verified_since == date(2026, 11, 1)
    with pytest.raises(ConfigError, match="TARGETS_VERIFIED_SINCE must be a date"):
        Settings.from_mapping({"TARGETS_VERIFIED_SINCE": "November"})
