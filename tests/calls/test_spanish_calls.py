"""Whole conversations in Spanish through signed webhooks: texts, the call in Spanish TwiML, after the call."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from sms.messaging import budget, encoding, languages
from sms.store import Subscriber
from tests.conftest import Phone
from tests.support.calls import NADLER, Caller, dialed, path_of, spoken

pytestmark = pytest.mark.usefixtures("targets_db")
ORG = "Action Line Test"


@pytest.fixture
def hablante(phone: Phone) -> Phone:
    """A texter whose first text was in Spanish."""
    replies = phone.text("hola")
    assert "For English, reply ENGLISH." in "\n".join(replies)
    return phone


def language_of(svc, number: str) -> str | None:  # noqa: ANN001
    with svc.db.session() as session:
        return session.scalar(select(Subscriber.language).where(Subscriber.phone == number))


def test_a_whole_call_in_spanish_with_a_split_zip(hablante, svc, run_jobs, transport) -> None:  # noqa: ANN001
    (saved,) = hablante.text("CP 10001")
    assert saved.startswith("Gracias, guardamos el código postal 10001")
    (question,) = hablante.text("LLAMAR ESTRANGULAMIENTO")
    assert question.startswith("El código postal 10001 abarca 2 distritos. ¿Quién es tu Representante?")
    assert "o TODOS para llamar a cada uno." in question
    calling, script = hablante.text("2")
    assert calling.startswith("Te llamamos ahora para conectarte con Rep. ")
    assert script.startswith("Tu guion (habla con la oficina en el idioma que prefieras): Hola, me llamo ____") \
        or script.startswith("Guion corto (habla en el idioma que prefieras): ")
    run_jobs()
    placed = transport.calls[-1]
    caller = Caller(hablante.client, hablante.number, placed["sid"])

    root = caller.post(path_of(placed["url"]))
    say, gather = root.find("./Say"), root.find("./Gather")
    assert (say.get("voice"), say.get("language")) == ("Polly.Lupe-Neural", "es-US")
    assert say.text == f"Hola, le habla {ORG}. Gracias por actuar sobre: Prohibir la llave de estrangulamiento."
    assert gather.get("language") == "es-US"
    assert "Marque 1 ahora para conectarse con Rep. " in spoken(gather)
    assert "en el idioma que prefiera" in spoken(gather)

    root = caller.post("/voice/connect", Digits="1")
    assert "Esto es lo que puede decir." in spoken(root)
    assert "Llamo para pedirle a Representative Jerrold Nadler que apoye una prohibición federal" in spoken(root)
    assert dialed(root) == [NADLER]
    assert all(s.get("voice") == "Polly.Lupe-Neural" for s in root.iter("Say"))

    root = caller.post("/voice/dialed?leg=0", DialCallStatus="completed", DialCallDuration="95",
                       DialCallSid="CA" + "d" * 32)
    assert "Marque asterisco para saltar esta oficina" in spoken(root)
    root = caller.post("/voice/next?leg=1", Digits="#")
    assert "¡Gracias por hacer oír su voz!" in spoken(root)
    run_jobs()
    summary = transport.bodies_to(hablante.number)[-1]
    assert summary.startswith("¡Gracias por llamar! Hablaste con Rep. Jerrold Nadler.")
    assert summary.endswith("¿Cómo te fue? Responde 1 hablé, 2 buzón de voz, 3 no contestaron.")
    assert budget.allows(languages.reply_budget("es", 2), summary)
    assert hablante.text("7") == ["Responde 1-3: 1 hablé, 2 buzón de voz, 3 no contestaron."]
    assert hablante.text("1") == ["¡Gracias! Cada conversación cuenta."]


def test_a_spanish_zip_question_and_the_call_offer(hablante) -> None:  # noqa: ANN001
    hablante.text("INMUNIDAD")
    (ask,) = hablante.text("LLAMAR")
    assert ask.startswith("¿Cuál es tu código postal?")
    (wrong,) = hablante.text("1234x")
    assert wrong.startswith("Eso no parece un código postal")


def test_later_privacy_delete_help_and_stop_in_spanish(hablante, svc) -> None:  # noqa: ANN001
    hablante.text("FUERZA")
    (later,) = hablante.text("LUEGO")
    assert later.startswith("Listo, te escribiremos otra vez sobre FORCE hacia las ")
    (privacy,) = hablante.text("PRIVACIDAD")
    assert privacy.startswith(f"{ORG}: guardamos tu numero, codigo postal")  # sent without accents (fold_accents)
    assert encoding.count(privacy).encoding == "GSM-7"
    (prompt,) = hablante.text("BORRAR")
    assert "Responde SI para borrar o NO para guardarlo todo." in prompt
    assert hablante.text("NO") == ["Listo, guardamos tus datos. Responde MENU para actuar."]
    (helped,) = hablante.text("AYUDA")
    assert helped.startswith(f"{ORG}: Action Line te manda llamadas")
    assert hablante.text("PARAR") == [f"{ORG}: cancelaste tu suscripción a Action Line y no recibirás más mensajes. "
                                      "Responde START para volver."]
    assert hablante.text("AYUDA")[0].startswith(f"{ORG}: Action Line te manda llamadas")  # HELP while opted out
    (prompt,) = hablante.text("BORRAR")
    assert prompt.startswith(f"{ORG}: ¿borrar tu codigo postal")
    (deleted,) = hablante.text("SÍ")
    assert deleted.startswith(f"{ORG}: borramos tus datos")


def test_stop_in_english_from_a_spanish_texter_is_confirmed_in_spanish(hablante) -> None:  # noqa: ANN001
    assert hablante.text("STOP")[0].startswith(f"{ORG}: cancelaste tu suscripción")


def test_switching_mid_call_question_keeps_the_question(phone, svc) -> None:  # noqa: ANN001
    phone.text("HI")
    phone.text("CHOKEHOLD")
    phone.text("CALL")  # asks for the ZIP, in English
    assert phone.text("ESPAÑOL") == [languages.get("es").switched]
    (saved,) = phone.text("02139")
    assert language_of(svc, phone.number) == "es"
    assert saved.startswith("El código postal 02139 abarca 2 distritos.")  # the pending CALL goes on, in Spanish


def _filled(text: str) -> str:
    return re.sub(r"\{\w+\}", "X" * 12, text)


def test_every_spanish_system_text_fits_the_spanish_budget() -> None:
    limit = languages.reply_budget("es", 2)
    too_long = [source for source, text in languages.get("es").texts.items()
                if not budget.allows(limit, encoding.gsm_safe(_filled(text)))]
    assert too_long == []


def test_a_call_back_offered_and_booked_in_spanish_says_when_in_spanish(hablante, svc, monkeypatch) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    from sms.calls import office_hours
    from tests.support.calls import tune

    tune(svc, call_office_hours={"congress": (9, 17, "America/New_York")}, quiet_hours=(9, 20))
    monkeypatch.setattr(office_hours, "clock", lambda: datetime(2026, 11, 28, 15, 0, tzinfo=UTC))  # a Saturday
    hablante.text("CP 10001")
    hablante.text("LLAMAR ESTRANGULAMIENTO")
    (offer,) = hablante.text("2")
    assert offer == "Las oficinas están cerradas ahora. Responde SI para una llamada: lun 9am ET."
    assert office_hours.spoken_time(datetime(2026, 11, 29, 14, 0, tzinfo=UTC), office_hours.ZoneInfo(
        "America/New_York"), datetime(2026, 11, 28, 15, 0, tzinfo=UTC), "es") == "mañana 9am ET"
    assert hablante.text("SI") == ["Listo: te llamaremos entonces. Responde CANCELAR LLAMADA para cancelarla."]


def test_a_first_text_asking_to_call_in_spanish_is_answered_in_spanish_with_the_question(phone) -> None:  # noqa: ANN001
    first = phone.text("quiero llamar a mi senador")
    assert first[0] == ("¿Sobre qué tema quieres llamar? Responde una palabra como ESTRANGULAMIENTO, "
                        "o MENU para la lista.")
    assert first[1].startswith(f"{ORG}: te uniste a las alertas") and first[1].endswith("For English, reply ENGLISH.")
    assert phone.text("ESTRANGULAMIENTO") == [
        "¿Cuál es tu código postal? Responde con 5 dígitos para conectarte con tus propios legisladores."]
