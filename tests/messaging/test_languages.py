"""A language per texter: chosen (ESPAÑOL, ENGLISH), offered, inferred from a first text, kept in SQL."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select

from sms.errors import CatalogueError
from sms.integrations.models import Event
from sms.messaging import catalogue, encoding, languages, translations
from sms.store import Subscriber
from tests.conftest import Phone

ROOT = Path(__file__).resolve().parents[2]
EN = catalogue.load_yaml()
ES = catalogue.with_translations(EN)["translations"]["es"]
ORG = "Action Line Test"
SPANISH = languages.get("es")


def language_of(svc, number: str) -> str | None:
    with svc.db.session() as session:
        return session.scalar(select(Subscriber.language).where(Subscriber.phone == number))


def language_events(svc) -> list[dict]:
    with svc.db.session() as session:
        return [e.data for e in session.scalars(
            select(Event).where(Event.type == "subscriber.language_changed").order_by(Event.id))]


def es_text(name: str) -> str:
    return ES["messages"][name].replace("{org}", ORG)


@pytest.fixture
def known(phone: Phone) -> Phone:
    phone.text("HI")
    return phone


@pytest.mark.parametrize("word", ["ESPAÑOL", "español", "Espanol", "SPANISH", "castellano"])
def test_espanol_switches_the_texter_to_spanish_and_says_so_in_spanish(known, svc, word):
    assert known.text(word) == [SPANISH.switched]
    assert language_of(svc, known.number) == "es"
    assert language_events(svc) == [{"language": "es", "source": "sms"}]
    (menu,) = known.text("MENU")
    assert menu.startswith(translations.fold_accents(ES["messages"]["welcome"]))
    assert "1 Quitar barreras a la rendicion de cuentas" in menu  # folded by the organizers (fold_accents)
    assert encoding.count(menu).encoding == "GSM-7"


@pytest.mark.parametrize("word", ["ENGLISH", "inglés", "INGLES"])
def test_english_switches_back(known, svc, word):
    known.text("ESPAÑOL")
    assert known.text(word) == [languages.get("en").switched]
    assert language_of(svc, known.number) == "en"
    assert [e["language"] for e in language_events(svc)] == ["es", "en"]
    assert known.text("MENU")[0].startswith(EN["messages"]["welcome"])


def test_choosing_the_language_one_has_changes_nothing_and_emits_nothing_new(known, svc):
    known.text("ESPAÑOL")
    known.text("ESPAÑOL")
    assert len(language_events(svc)) == 1


def test_a_new_english_texter_is_offered_spanish_in_the_first_reply(phone, svc):
    replies = phone.text("hello")
    assert "Para español, responde ESPAÑOL." in "\n".join(replies)
    assert all(encoding.count(r).segments <= 2 for r in replies)
    assert language_of(svc, phone.number) is None  # not chosen: the default language
    assert phone.text("MENU") and not any("ESPAÑOL" in r for r in phone.text("MENU"))  # offered once


@pytest.mark.parametrize("first", ["hola", "Hola!", "ayuda", "información", "quiero llamar a mi senador",
                                   "Buenas tardes"])
def test_a_first_text_in_spanish_is_answered_in_spanish(phone, svc, first):
    replies = phone.text(first)
    joined = "\n".join(replies)
    assert language_of(svc, phone.number) == "es"
    assert language_events(svc) == [{"language": "es", "source": "detected"}]
    assert "For English, reply ENGLISH." in joined
    assert "Pueden aplicar tarifas" in joined  # the opt-in disclosure, in Spanish
    assert "Msg & data rates" not in joined


def test_a_spanish_first_text_that_opts_out_signs_nothing_up_and_sets_no_language(phone, svc):
    phone.text("PARAR")
    assert language_of(svc, phone.number) is None
    assert language_events(svc) == []


def test_ayuda_from_a_texter_who_chose_no_language_is_answered_in_spanish(known, svc):
    (reply,) = known.text("AYUDA")
    assert reply.startswith(f"{ORG}: Action Line te manda llamadas")
    assert language_of(svc, known.number) == "es"


def test_ayuda_from_a_texter_who_chose_english_stays_english(known, svc):
    known.text("ENGLISH")
    (reply,) = known.text("AYUDA")
    assert reply.startswith(f"{ORG}: Action Line texts you")


@pytest.mark.parametrize(("typed", "keyword"), [("INMUNIDAD", "IMMUNITY"), ("estrangulamiento", "CHOKEHOLD"),
                                                 ("LLAVE", "CHOKEHOLD"), ("sindicatos", "UNIONS")])
def test_spanish_aliases_work_for_english_texters_in_english(known, typed, keyword):
    english = {str(d["keyword"]): d["reply"] for d in EN["demands"]}
    assert known.text(typed) == [english[keyword]]


def test_english_keywords_work_for_spanish_texters_in_spanish(known):
    known.text("ESPAÑOL")
    (reply,) = known.text("CHOKEHOLD")
    assert reply.startswith("Prohibir la llave de estrangulamiento")


def test_a_texter_switched_mid_conversation_keeps_their_menu(known):
    known.text("MENU")
    known.text("ESPAÑOL")
    (area,) = known.text("3")
    assert area.startswith("Reformar tacticas")


# -- the language files ------------------------------------------------------------------


def test_every_language_file_loads_and_the_default_is_english():
    assert languages.codes()[0] == "en" and "es" in languages.codes()
    assert languages.chosen_by("ESPANOL").code == "es"
    assert languages.chosen_by("INGLES").code == "en"


def test_a_language_file_must_keep_placeholders(tmp_path):
    (tmp_path / "en.yaml").write_text((ROOT / "data/languages/en.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    bad = (ROOT / "data/languages/es.yaml").read_text(encoding="utf-8") + '  "Hi {org}": "Hola"\n'
    (tmp_path / "es.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(CatalogueError, match="placeholders"):
        languages.registry(str(tmp_path))


def _translated_sources() -> set[str]:
    """Every constant English sentence the code passes to ``t``, ``translate(code, ...)`` or a voice ``say``."""
    found = set()
    for path in [*(ROOT / "sms").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            args = node.args[1:] if name == "translate" else node.args if name in ("t", "say", "goodbye") else []
            if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                found.add(args[0].value)
    return found


def test_every_system_text_the_code_translates_has_a_spanish_translation():
    sources = _translated_sources()
    assert len(sources) > 20
    assert sorted(sources - SPANISH.texts.keys()) == []


def test_every_spanish_catalogue_text_is_translated_and_within_its_budget():
    snapshot = catalogue.from_data(EN)
    assert snapshot.localized("es").missing("es") == []
    budget = languages.reply_budget("es", 2)
    for demand in snapshot.localized("es").demands:
        assert encoding.count(demand.reply).segments <= (budget if encoding.is_gsm7(demand.reply) else budget.ucs2)
