"""Edit a demand's text in another language from the console, beside the default language's.

Each field is one ``CatalogueTranslation`` row; an empty field removes it (the texter then reads
the default language's, and ``Catalogue.missing`` lists it). The reply is checked against the
language's own budget (GSM-7 or UCS-2 segments), sent without the accents GSM-7 lacks only when
the organizer ticks "send without accents" (``fold_accents``); aliases are checked like the
catalogue's (no reserved word, none another item's). Saving bumps the catalogue version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from sms.errors import CatalogueError
from sms.messaging import catalogue, encoding, languages, translations
from sms.store import CatalogueTranslation

FIELDS = ("title", "reply", "script", "aliases")
"""The demand fields the console translates (summary and ask stay in the catalogue file)."""


@dataclass
class TranslationEdit:
    """One language's fields of one demand, as typed."""

    language: str
    title: str = ""
    reply: str = ""
    script: str = ""
    aliases: str = ""
    fold_reply: bool = False

    @classmethod
    def from_form(cls, language: str, form: Any) -> TranslationEdit:
        return cls(language, *((form.get(name) or "").strip() for name in FIELDS),
                   fold_reply=form.get("fold_reply") == "on")


def load(session: Session, keyword: str, language: str) -> TranslationEdit:
    """The stored translation of ``keyword`` in ``language`` (empty fields where there is none)."""
    rows = {row.field: row for row in session.query(CatalogueTranslation).filter_by(
        language=language, kind="demand", key=keyword)}
    edit = TranslationEdit(language, **{name: rows[name].text for name in FIELDS if name in rows})
    edit.fold_reply = bool(rows.get("reply") and rows["reply"].fold_accents)
    return edit


def problems(session: Session, keyword: str, edit: TranslationEdit, segments: int) -> dict[str, str]:
    """What stops ``edit`` from being saved, by field."""
    found: dict[str, str] = {}
    limit = languages.reply_budget(edit.language, segments)
    reply = translations.fold_accents(edit.reply) if edit.fold_reply else edit.reply
    checks = (("reply", lambda: catalogue.check_text("reply", reply, limit)),
              ("script", lambda: catalogue.check_script("script", edit.script, limit, language=edit.language)))
    for name, check in checks:
        if getattr(edit, name):
            try:
                check()
            except CatalogueError as exc:
                found[name] = str(exc)
    snapshot = catalogue.current(session)
    for word in (w.strip() for w in edit.aliases.split(",") if w.strip()):
        key = catalogue.keyword_key(word)
        owner = snapshot.lookup(key)
        if not key or key in catalogue.RESERVED_WORDS:
            found["aliases"] = f"{word!r} is empty or a reserved word"
        elif owner is not None and owner.keyword != keyword:
            found["aliases"] = f"{word!r} is already used by {owner.keyword}"
    return found


def save(session: Session, keyword: str, edit: TranslationEdit) -> None:
    """Store ``edit`` (an empty field removes its row) and bump the catalogue version; commit."""
    session.execute(delete(CatalogueTranslation).where(
        CatalogueTranslation.language == edit.language, CatalogueTranslation.kind == "demand",
        CatalogueTranslation.key == keyword, CatalogueTranslation.field.in_(FIELDS)))
    for name in FIELDS:
        text = getattr(edit, name)
        if text:
            session.add(CatalogueTranslation(language=edit.language, kind="demand", key=keyword, field=name, text=text,
                                             fold_accents=name == "reply" and edit.fold_reply))
    catalogue.bump_version(session)
    session.commit()


def side_by_side(session: Session, keyword: str, segments: int) -> list[dict[str, Any]]:
    """Each other language's edit of ``keyword`` with its budget and what is missing, for the editor."""
    out = []
    for code in languages.codes()[1:]:
        edit = load(session, keyword, code)
        limit = languages.reply_budget(code, segments)
        sent = translations.fold_accents(edit.reply) if edit.fold_reply else edit.reply
        missing = [name for name in ("title", "reply", "script") if not getattr(edit, name)]
        out.append({"code": code, "name": languages.get(code).name, "edit": edit, "gsm7": int(limit),
                    "ucs2": limit.ucs2, "missing": missing,
                    "sent": sent, "segments": encoding.count(sent).segments if sent else 0})
    return out
