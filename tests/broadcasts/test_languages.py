"""Broadcasts and reminders per language: each texter gets their language's text, else the default's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms.broadcasts import audiences, lifecycle, reminders
from sms.broadcasts.models import Broadcast
from sms.errors import BroadcastError
from sms.store import utcnow
from tests.support.broadcasts import add_people, new_broadcast

ENGLISH = "The House votes Thursday. Reply CALL."
SPANISH = "La Cámara vota el jueves. Responde LLAMAR."


def sent(transport) -> dict[str, str]:  # noqa: ANN001
    return {m["to"]: m["body"] for m in transport.messages}


def test_each_recipient_gets_their_languages_text_and_the_rest_the_default(svc, transport, run_jobs):
    english = add_people(svc, 2)
    spanish = add_people(svc, 2, 100, language="es")
    chosen_english = add_people(svc, 1, 200, language="en")
    broadcast_id = new_broadcast(svc, ENGLISH, mps=1000, translations={"es": SPANISH})
    assert lifecycle.send(svc, broadcast_id) == "started"
    run_jobs()
    bodies = sent(transport)
    assert {bodies[p] for p in english + chosen_english} == {ENGLISH}
    assert {bodies[p] for p in spanish} == {SPANISH}


def test_without_a_translation_everyone_gets_the_default_text(svc, transport, run_jobs):
    spanish = add_people(svc, 1, language="es")
    broadcast_id = new_broadcast(svc, ENGLISH, mps=1000)
    lifecycle.send(svc, broadcast_id)
    run_jobs()
    assert sent(transport)[spanish[0]] == ENGLISH


def test_the_preview_counts_segments_and_cost_per_language(svc):
    add_people(svc, 3)
    add_people(svc, 2, 100, language="es")
    with svc.db.session() as session:
        draft = lifecycle.create(session, svc.settings, ENGLISH, translations={"es": SPANISH + " " + "¿Sí? " * 12})
        preview = lifecycle.preview(session, svc.settings, draft)
    parts = {p.language: p for p in preview.languages}
    assert (parts["en"].recipients, parts["en"].encoding, parts["en"].segments_per_message) == (3, "GSM-7", 1)
    assert (parts["es"].recipients, parts["es"].encoding, parts["es"].segments_per_message) == (2, "UCS-2", 2)
    assert preview.total_segments == 3 * 1 + 2 * 2
    assert preview.estimated_cost == round(7 * svc.settings.price_per_segment, 2)


def test_a_bad_translation_is_refused_naming_the_language(svc):
    with svc.db.session() as session, pytest.raises(BroadcastError, match="Español: unknown merge field"):
        lifecycle.create(session, svc.settings, ENGLISH, translations={"es": "Hola {apodo}"})
    with svc.db.session() as session, pytest.raises(BroadcastError, match="no language 'fr'"):
        lifecycle.create(session, svc.settings, ENGLISH, translations={"fr": "Bonjour"})


@pytest.mark.parametrize(("codes", "expected"), [(["es"], 2), (["en"], 4), (["en", "es"], 6)])
def test_the_audience_can_be_filtered_by_language(svc, codes, expected):
    add_people(svc, 3)
    add_people(svc, 1, 50, language="en")
    add_people(svc, 2, 100, language="es")
    with svc.db.session() as session:
        assert audiences.count(session, {"languages": codes}) == expected
    assert "read Español" in audiences.in_words({"languages": ["es"]})
    assert audiences.describe({"languages": ["es"]}) == "language=es"
    with pytest.raises(audiences.AudienceError, match="language must be one of"):
        audiences.clean({"languages": ["xx"]})


def test_a_reminder_keeps_its_translations_and_sends_them(svc, transport, run_jobs):
    spanish = add_people(svc, 1, language="es")
    english = add_people(svc, 1, 100)
    with svc.db.session() as session:
        reminder = reminders.create(session, svc.settings, ENGLISH, utcnow(), mps=1000, translations={"es": SPANISH})
        session.commit()
        reminder_id = reminder.id
    broadcast_id = reminders.fire(svc, reminder_id, 0)
    run_jobs()
    with svc.db.session() as session:
        assert session.scalar(select(Broadcast.translations).where(Broadcast.id == broadcast_id)) == {"es": SPANISH}
    assert sent(transport) == {spanish[0]: SPANISH, english[0]: ENGLISH}


def test_the_composer_shows_each_language_and_saves_the_translation(console, svc):
    add_people(svc, 1, language="es")
    data = console.get("/console/api/broadcasts/preview",
                       query_string={"message": ENGLISH, "message_es": SPANISH}).get_json()
    assert [(p["language"], p["recipients"], p["translated"]) for p in data["languages"]] == [
        ("en", 0, True), ("es", 1, True)]
    page = console.get("/console/broadcasts").get_data(as_text=True)
    assert 'name="message_es"' in page and "Español only" in page
