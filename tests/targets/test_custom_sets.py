"""Custom target sets from YAML: hours and constituents declared with the targets, checked, stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from sms.errors import DataError
from sms.targets import custom_sets, lookup
from sms.targets.models import CustomTarget, CustomTargetSet

DA = "{name: Jefferson County DA, title: DA, phone: '(502) 595-2300'}"


def yaml_file(tmp_path: Path, spec: str) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(f"custom_targets:\n  da:\n{spec}\n")
    return path


def test_custom_targets_import_is_idempotent_and_checked(svc, runner, tmp_path) -> None:  # noqa: ANN001
    first = runner.invoke(args=["import-targets"]).output
    assert "1 added" in first
    assert "louisville_council: open 9-17 America/Kentucky/Louisville on weekdays, takes calls from Louisville " \
           "residents" in first
    again = runner.invoke(args=["import-targets"]).output
    assert "1 unchanged" in again and "louisville_council:" not in again  # nothing changed, nothing said
    bad = yaml_file(tmp_path, "    hours: always\n    targets:\n      - {name: District Attorney, phone: '12'}")
    result = runner.invoke(args=["import-targets", str(bad)])
    assert result.exit_code != 0 and "custom_targets.da.targets[0]: phone '12'" in result.output
    good = yaml_file(tmp_path, f"    hours: always\n    targets: [{DA}]")
    assert "1 added" in runner.invoke(args=["import-targets", str(good)]).output
    with svc.db.session() as session:
        assert [t.phone for t in lookup.custom(session, "da")] == ["+15025952300"]
        assert lookup.set_rules(session, "da") == lookup.SetRules("da")  # always open, anyone may call
        assert len(lookup.custom(session, "louisville_council")) == 1  # other sets are left alone
        council = lookup.set_rules(session, "louisville_council")
    assert council.hours == (9, 17, "America/Kentucky/Louisville") and council.who == "Louisville residents"
    assert council.admits("40202", "KY") and council.admits("40118", "KY") and not council.admits("40601", "KY")
    assert not council.admits(None, None) and not council.admits("10001", "NY")


@pytest.mark.parametrize(("spec", "message"), [
    (f"    - {DA}", "custom_targets.da: declare the set's office hours with its targets"),
    (f"    targets: [{DA}]", "custom_targets.da: hours are missing"),
    (f"    hours: '17-9'\n    zone: America/New_York\n    targets: [{DA}]",
     "custom_targets.da: hours '17-9' are not START-END"),
    (f"    hours: '9-17'\n    targets: [{DA}]", "custom_targets.da: zone '' is not a time zone"),
    (f"    hours: '9-17'\n    zone: Mars/Olympus\n    targets: [{DA}]", "zone 'Mars/Olympus' is not a time zone"),
    (f"    hours: always\n    constituents: {{who: residents}}\n    targets: [{DA}]",
     "custom_targets.da.constituents: list the constituents' states, zips or zip_prefixes"),
    (f"    hours: always\n    constituents: {{who: residents, zips: ['4020']}}\n    targets: [{DA}]",
     "custom_targets.da.constituents.zips: '4020' is not a zip"),
    (f"    hours: always\n    constituents: {{states: [KY]}}\n    targets: [{DA}]",
     "custom_targets.da.constituents.who: say who they are"),
])
def test_a_set_without_hours_or_with_unclear_constituents_is_refused_by_name(tmp_path, spec, message) -> None:  # noqa: ANN001
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace("[", r"\[")):
        custom_sets.load_custom_targets(yaml_file(tmp_path, spec))


def test_seeding_keeps_console_edits_yet_gives_a_set_without_rules_its_hours(svc, runner) -> None:  # noqa: ANN001
    """An existing database (migrated, no rules yet): make run's --if-empty adds the hours, keeps the targets."""
    with svc.db.session() as session:
        session.add(CustomTarget(set_name="louisville_council", position=0, name="Edited", phone="+15025550100"))
        session.commit()
        assert lookup.set_rules(session, "louisville_council") is None
    assert runner.invoke(args=["import-targets", "--if-empty"]).exit_code == 0
    with svc.db.session() as session:
        assert session.scalars(select(CustomTarget.name)).all() == ["Edited"]
        assert session.get(CustomTargetSet, "louisville_council").opens == 9
        session.get(CustomTargetSet, "louisville_council").closes = 16  # as if edited since
        session.commit()
    runner.invoke(args=["import-targets", "--if-empty"])
    with svc.db.session() as session:
        assert session.get(CustomTargetSet, "louisville_council").closes == 16
