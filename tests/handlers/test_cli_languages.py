"""``flask languages``: list, missing and set."""

from __future__ import annotations

from sqlalchemy import select

from sms.integrations.models import Event
from sms.store import CatalogueTranslation, Subscriber


def test_list_shows_each_language_with_its_budget_and_voice(runner, phone):
    phone.text("hola")
    out = runner.invoke(args=["languages", "list"]).output
    assert "es  Español" in out and "budget: 2 GSM-7 / 3 UCS-2" in out and "Polly.Lupe-Neural (es-US)" in out
    assert "texters: 1" in out


def test_missing_lists_an_untranslated_text(runner, svc):
    result = runner.invoke(args=["languages", "missing", "es"])
    assert result.exit_code == 0 and "es: 0 catalogue text(s) missing." in result.output
    with svc.db.session() as session:
        session.delete(session.get(CatalogueTranslation, ("es", "demand", "CHOKEHOLD", "reply")))
        from sms.messaging import catalogue

        catalogue.bump_version(session)
        session.commit()
    out = runner.invoke(args=["languages", "missing"]).output
    assert "es: 1 catalogue text(s) missing:" in out and "demand CHOKEHOLD reply" in out
    assert runner.invoke(args=["languages", "missing", "xx"]).exit_code == 2


def test_set_changes_a_texters_language_once_with_an_event(runner, phone, svc):
    phone.text("HI")
    assert runner.invoke(args=["languages", "set", phone.number, "es"]).output == "Español.\n"
    assert runner.invoke(args=["languages", "set", phone.number, "es"]).output == "Already Español.\n"
    with svc.db.session() as session:
        assert session.scalar(select(Subscriber.language)) == "es"
        assert [e.data for e in session.scalars(select(Event).where(Event.type == "subscriber.language_changed"))] \
            == [{"language": "es", "source": "cli"}]
    assert runner.invoke(args=["languages", "set", phone.number, "xx"]).exit_code == 2
    assert runner.invoke(args=["languages", "set", "+16175550199", "es"]).exit_code == 1


def test_broadcast_create_takes_a_translation_and_a_language_filter(runner, svc):
    from tests.support.broadcasts import add_people

    add_people(svc, 2)
    add_people(svc, 1, 100, language="es")
    result = runner.invoke(args=["broadcast", "create", "--message", "Vote Thursday. Reply CALL.",
                                 "--translation", "es=Votan el jueves. Responde LLAMAR."])
    assert result.exit_code == 0, result.output
    assert "  en: 2 recipients, GSM-7, 1 segment each" in result.output
    assert "  es: 1 recipient, GSM-7, 1 segment each" in result.output
    only = runner.invoke(args=["broadcast", "create", "--message", "Hola", "--language", "es", "--id-only"])
    assert only.exit_code == 0
    bad = runner.invoke(args=["broadcast", "create", "--message", "Hi", "--translation", "nonsense"])
    assert bad.exit_code == 2 and "must look like es=TEXT" in bad.output
