"""Organizer CLI commands through Flask's CLI runner."""

from __future__ import annotations

from sqlalchemy import func, select

from sms.store import Demand, Message


def test_init_db_is_idempotent(runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "latest schema" in result.output


def test_import_catalogue_reports_what_changed(runner, svc):
    result = runner.invoke(args=["import-catalogue"])
    assert result.exit_code == 0, result.output
    assert "0 added, 0 changed" in result.output
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Demand)) == 12


def test_import_catalogue_names_the_problem(runner, tmp_path):
    bad = tmp_path / "demands.yaml"
    bad.write_text("areas: [{number: 1, title: A}]\ndemands:\n  - keyword: STOP\n    reply: x\n")
    result = runner.invoke(args=["import-catalogue", str(bad)])
    assert result.exit_code != 0
    assert "demands STOP: 'title' is missing" in result.output


def test_simulate_prints_the_reply_and_stores_the_exchange(runner, svc):
    result = runner.invoke(args=["simulate", "+16175550199", "CHOKEHOLD"])
    assert result.exit_code == 0, result.output
    assert "Reply CALL to be connected" in result.output
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.phone == "+16175550199")) >= 2


def test_simulate_against_a_server_that_is_not_running_says_so(runner):
    result = runner.invoke(args=["simulate", "+16175550199", "MENU", "--url", "http://127.0.0.1:1"])
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:1/sms: is the service running?" in result.output


def test_make_db_seeding_keeps_console_edits(runner, svc):
    """`make db` runs on every `make run`; it must not overwrite what organizers edited."""
    from sms.targets.models import CustomTarget

    assert runner.invoke(args=["import-targets"]).exit_code == 0
    with svc.db.session() as session:
        session.get(Demand, "CHOKEHOLD").reply = "Edited in the console. Reply CALL to be connected."
        session.scalar(select(CustomTarget)).phone = "+15025550100"
        session.commit()
    seeded = runner.invoke(args=["import-catalogue", "--if-empty"])
    assert "keeping its edits" in seeded.output
    assert runner.invoke(args=["import-targets", "--if-empty"]).exit_code == 0
    with svc.db.session() as session:
        assert session.get(Demand, "CHOKEHOLD").reply.startswith("Edited in the console.")
        assert session.scalar(select(CustomTarget.phone)) == "+15025550100"
    reloaded = runner.invoke(args=["import-catalogue"])  # an explicit reload still takes the YAML
    assert "1 changed" in reloaded.output


def test_if_empty_seeds_a_fresh_database(runner, svc):
    with svc.db.session() as session:
        session.query(Demand).delete()
        session.commit()
    result = runner.invoke(args=["import-catalogue", "--if-empty"])
    assert "Catalogue: 12 added, 0 changed" in result.output
    with svc.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Demand)) == 12
