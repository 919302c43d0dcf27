"""import-catalogue against a catalogue organizers have changed: console edits kept, missing demands named."""

from __future__ import annotations

import copy
from datetime import date

from sqlalchemy import func, select

from sms.console import demand_editor
from sms.messaging import catalogue
from sms.store import CatalogueText, Demand, Interest
from tests.support.console import post

DATA = catalogue.load_yaml()


def seed_form(svc, **changes: str) -> dict[str, str]:
    """CHOKEHOLD's editor form as stored, with ``changes``."""
    with svc.db.session() as session:
        row = session.get(Demand, "CHOKEHOLD")
        form = {"keyword": row.keyword, "aliases": ", ".join(row.aliases), "title": row.title, "ask": row.ask,
                "reply": row.reply, "script": row.script, "targets": row.targets,
                "target_order": ", ".join(row.target_order), "mentions": ", ".join(row.mentions or [])}
    return {**form, **changes}


def _edit_reply(console, svc, text: str = "Edited in the console. Reply CALL to be connected.") -> None:
    assert post(console, "/console/demands/CHOKEHOLD", seed_form(svc, reply=text)).status_code == 302


def test_import_keeps_a_console_edit_and_says_which_fields(console, svc, runner):
    _edit_reply(console, svc)
    result = runner.invoke(args=["import-catalogue"])
    assert result.exit_code == 0, result.output
    assert "demand CHOKEHOLD: reply (edited in the console" in result.output
    assert "--overwrite takes the YAML" in result.output
    with svc.db.session() as session:
        row = session.get(Demand, "CHOKEHOLD")
        assert row.reply.startswith("Edited in the console.")
        assert row.edited_fields == ["reply"]


def test_import_still_updates_the_fields_nobody_edited(console, svc):
    _edit_reply(console, svc)
    data = copy.deepcopy(DATA)
    chokehold = next(d for d in data["demands"] if d["keyword"] == "CHOKEHOLD")
    chokehold["summary"] = "A new summary from the YAML."
    with svc.db.session() as session:
        summary = catalogue.import_catalogue(session, data)
        row = session.get(Demand, "CHOKEHOLD")
        assert row.summary == "A new summary from the YAML." and row.reply.startswith("Edited in the console.")
    assert summary.changed == 1


def test_overwrite_takes_the_yaml_and_forgets_the_edit(console, svc, runner):
    _edit_reply(console, svc)
    result = runner.invoke(args=["import-catalogue", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert "Kept" not in result.output and "1 changed" in result.output
    with svc.db.session() as session:
        row = session.get(Demand, "CHOKEHOLD")
        assert row.reply == next(d["reply"] for d in DATA["demands"] if d["keyword"] == "CHOKEHOLD")
        assert not row.edited_fields
    assert "Kept" not in runner.invoke(args=["import-catalogue"]).output  # and the next import has nothing to keep


def test_a_service_text_edited_in_the_console_is_kept(svc):
    text = "Reply with a keyword, or MENU. Msg&data rates may apply. Reply STOP to end."
    with svc.db.session() as session:
        demand_editor.save_text(session, "unknown", text)
        summary = catalogue.import_catalogue(session, copy.deepcopy(DATA))
        assert session.get(CatalogueText, "unknown").text == text
    assert any(line.startswith("text unknown (edited in the console") for line in summary.kept)


def test_a_demand_renamed_in_the_console_is_not_added_back(console, svc):
    assert post(console, "/console/demands/CHOKEHOLD", seed_form(svc, keyword="BANCHOKE")).status_code == 302
    with svc.db.session() as session:
        summary = catalogue.import_catalogue(session, copy.deepcopy(DATA))
        assert session.get(Demand, "CHOKEHOLD") is None and session.get(Demand, "BANCHOKE") is not None
    assert "demand CHOKEHOLD: renamed BANCHOKE in the console" in summary.kept
    assert summary.missing == [] and summary.added == 0


def test_demands_missing_from_the_yaml_are_reported_then_retired_on_request(svc, runner, tmp_path):
    import yaml

    data = copy.deepcopy(DATA)
    data["demands"] = [d for d in data["demands"] if d["keyword"] not in ("CHOKEHOLD", "1033")]
    path = tmp_path / "demands.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    reported = runner.invoke(args=["import-catalogue", str(path)])
    assert reported.exit_code == 0, reported.output
    assert "not in the YAML, still offered: 1033, CHOKEHOLD" in reported.output
    with svc.db.session() as session:
        assert session.get(Demand, "CHOKEHOLD").active  # reported, not changed
    retired = runner.invoke(args=["import-catalogue", str(path), "--retire-missing"])
    assert "Retired (not in the YAML): 1033, CHOKEHOLD." in retired.output
    with svc.db.session() as session:
        assert not session.get(Demand, "CHOKEHOLD").active and session.get(Demand, "CHOKEHOLD").retired_at
        assert catalogue.current(session).demand("CHOKEHOLD") is None
    assert "still offered" not in runner.invoke(args=["import-catalogue", str(path)]).output


def test_ask_as_of_in_the_yaml_is_read_and_a_bad_one_named(svc, tmp_path):
    data = copy.deepcopy(DATA)
    data["demands"][0]["ask_as_of"] = date(2020, 6, 8)
    with svc.db.session() as session:
        catalogue.import_catalogue(session, data)
        assert session.get(Demand, data["demands"][0]["keyword"]).ask_as_of == date(2020, 6, 8)
    data["demands"][0]["ask_as_of"] = "last June"
    try:
        catalogue.validate(data)
    except catalogue.CatalogueError as exc:
        assert "ask_as_of 'last June' is not a date" in str(exc)
    else:
        raise AssertionError("a bad ask_as_of was accepted")


def test_retiring_keeps_the_history_and_the_keyword_says_it_ended(svc, phone):
    phone.text("CHOKEHOLD")
    with svc.db.session() as session:
        demand_editor.retire(session, "CHOKEHOLD")
    reply = phone.text("chokeholds")[0]  # an alias too
    assert reply.startswith("Federal chokehold ban: this campaign has ended.")
    assert "\n1 " in reply  # then the menu of what is still offered
    assert "CHOKEHOLD" not in phone.text("MENU 1")[0].split("campaign has ended")[-1]
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Interest).where(Interest.keyword == "CHOKEHOLD")) == 1
        demand_editor.restore(session, "CHOKEHOLD")
    assert "Reply CALL" in phone.text("CHOKEHOLD")[0]


def test_retire_demand_command(runner, svc):
    assert "Retired CHOKEHOLD" in runner.invoke(args=["retire-demand", "chokehold"]).output
    with svc.db.session() as session:
        assert not session.get(Demand, "CHOKEHOLD").active
    assert "offered again" in runner.invoke(args=["retire-demand", "CHOKEHOLD", "--restore"]).output
    missing = runner.invoke(args=["retire-demand", "NOPE"])
    assert missing.exit_code == 1 and "demand NOPE does not exist" in missing.output


def test_ask_age_is_stale_past_the_limit():
    today = date(2027, 1, 10)
    assert not demand_editor.ask_age(date(2026, 12, 1), today).stale
    old = demand_editor.ask_age(date(2020, 6, 8), today)
    assert old.stale and "check it still stands" in old.label
    assert demand_editor.ask_age(None, today).label == "as of: not set"
