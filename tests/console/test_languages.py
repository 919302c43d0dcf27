"""The console and languages: a texter's language, a demand in Spanish beside English, dashboard, export."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from sms.integrations.models import Event
from sms.store import CatalogueTranslation, Subscriber
from tests.conftest import Phone
from tests.support.console import post


def subscriber_id(svc, phone: str) -> int:  # noqa: ANN001
    with svc.db.session() as session:
        return session.scalar(select(Subscriber.id).where(Subscriber.phone == phone))


def test_a_conversation_shows_and_sets_the_texters_language(console, svc, phone):
    phone.text("hola")
    sid = subscriber_id(svc, phone.number)
    page = console.get(f"/console/inbox/{sid}").get_data(as_text=True)
    assert '<span id="subscriber-language">Español</span>' in page
    response = post(console, f"/console/inbox/{sid}/language", {"language": "en"})
    assert response.status_code == 302
    with svc.db.session() as session:
        assert session.get(Subscriber, sid).language == "en"
        sources = [e.data["source"] for e in session.scalars(
            select(Event).where(Event.type == "subscriber.language_changed").order_by(Event.id))]
    assert sources == ["detected", "console"]
    assert phone.text("MENU")[0].startswith("Action Line: take action")
    assert post(console, f"/console/inbox/{sid}/language", {"language": "xx"}).status_code == 400


def test_the_demand_page_edits_the_spanish_text_beside_the_english(console, svc, client):
    page = console.get("/console/demands/CHOKEHOLD").get_data(as_text=True)
    assert 'id="translation-es"' in page and 'data-max-ucs2="3"' in page and 'id="fold-es" checked' in page
    reply = "Prohibir la llave de estrangulamiento ya. Responde LLAMAR."
    response = post(console, "/console/demands/CHOKEHOLD/translation/es",
                    {"title": "Prohibir la llave", "reply": reply, "script": "", "aliases": "LLAVE, ASFIXIA"})
    assert response.status_code == 302
    with svc.db.session() as session:
        rows = {r.field: r for r in session.scalars(select(CatalogueTranslation).where(
            CatalogueTranslation.language == "es", CatalogueTranslation.key == "CHOKEHOLD"))}
    assert rows["reply"].text == reply and not rows["reply"].fold_accents and "script" not in rows
    assert "missing: script" in console.get("/console/demands/CHOKEHOLD").get_data(as_text=True)
    texter = Phone(client, "+16175550177")
    texter.text("ESPAÑOL")
    assert texter.text("ASFIXIA") == [reply]  # the new alias, for everyone
    assert texter.text("ENGLISH") and texter.text("ASFIXIA")[0].startswith("Federal chokehold ban")


def test_a_spanish_reply_over_its_budget_is_refused_and_folding_is_the_organizers_choice(console, svc):
    long = "Prohibir la llave de estrangulamiento: la táctica policial violenta. " * 4
    refused = post(console, "/console/demands/CHOKEHOLD/translation/es", {"title": "T", "reply": long})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "the limit is 3" in text and "fold_accents" in text
    saved = post(console, "/console/demands/CHOKEHOLD/translation/es",
                 {"title": "T", "reply": long[:280], "fold_reply": "on"})
    assert saved.status_code == 302
    clash = post(console, "/console/demands/CHOKEHOLD/translation/es", {"title": "T", "aliases": "INMUNIDAD"})
    assert clash.status_code == 400 and "already used by IMMUNITY" in clash.get_data(as_text=True)
    assert post(console, "/console/demands/CHOKEHOLD/translation/xx", {"title": "T"}).status_code == 404


def test_the_dashboard_and_the_export_show_the_language(console, client):
    Phone(client, "+16175550101").text("hola")
    Phone(client, "+16175550102").text("hello")
    page = console.get("/console/").get_data(as_text=True)
    assert 'id="people-by-language"' in page and "<td>Español</td>" in page
    rows = list(csv.DictReader(io.StringIO(console.get("/console/export/subscribers.csv").get_data(as_text=True))))
    assert {r["phone"]: r["language"] for r in rows} == {"+16175550101": "es", "+16175550102": "en"}
