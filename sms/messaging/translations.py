"""The catalogue in other languages: ``data/demands.<code>.yaml`` beside the seed, then SQL rows.

A translation file mirrors the seed by key, not by position::

    language: es
    areas: {1: "Quitar barreras a la rendición de cuentas"}
    demands:
      CHOKEHOLD: {title: ..., reply: ..., script: ..., aliases: [ESTRANGULAMIENTO, LLAVE]}
    campaigns:
      M4BL: {name: ..., reply: ...}
    messages: {welcome: ..., help: ...}
    fold_accents: [demands.CHOKEHOLD.reply]

Each text is one ``CatalogueTranslation`` row (language, kind, key, field). Aliases and mentions
are words, not texts: they join the English ones for every texter, whatever their language.
``fold_accents`` lists the texts an organizer chose to send without the accents GSM-7 lacks (á, í,
ó, ú: ``información`` → ``informacion``), so they fit in fewer, cheaper segments; nothing else is
ever folded. A text with no translation falls back to the default language's, and ``missing``
lists it for organizers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sms.errors import CatalogueError
from sms.messaging import encoding

KINDS = {"areas": "area", "demands": "demand", "campaigns": "campaign", "messages": "text"}
"""Sections of a translation file → the ``kind`` of their rows."""
FIELDS = {
    "area": ("title",),
    "demand": ("title", "summary", "ask", "reply", "script", "aliases", "mentions"),
    "campaign": ("name", "reply"),
    "text": ("text",),
}
"""What may be translated of each kind."""
WORD_FIELDS = frozenset({"aliases", "mentions"})
"""Fields that hold words (joined with ", " in their row), not a text to send."""
TEXT_FIELDS = {"area": ("title",), "demand": ("title", "reply", "script"), "campaign": ("name", "reply"),
               "text": ("text",)}
"""Fields a texter reads: a translation missing one of them is shown as missing."""

Key = tuple[str, str, str]
"""(kind, key, field): ``("demand", "CHOKEHOLD", "reply")``."""


def sibling_paths(path: Path | str) -> list[Path]:
    """The translation files beside a catalogue file: ``demands.es.yaml`` beside ``demands.yaml``."""
    path = Path(path)
    return sorted(path.parent.glob(f"{path.stem}.*{path.suffix}"))


def read_siblings(path: Path | str) -> dict[str, dict[str, Any]]:
    """Every translation file beside ``path``, as language code → its mapping."""
    found: dict[str, dict[str, Any]] = {}
    for sibling in sibling_paths(path):
        try:
            data = yaml.safe_load(sibling.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogueError(f"cannot read {sibling.name}: {exc}") from exc
        code = sibling.stem.split(".", 1)[1]
        if not isinstance(data, dict) or data.get("language", code) != code:
            raise CatalogueError(f"{sibling.name}: must be a mapping for language {code!r}")
        found[code] = data
    return found


def rows(data: dict[str, Any], where: str = "translation") -> Iterator[tuple[str, str, str, str, bool]]:
    """(kind, key, field, text, fold_accents) for every translated text of one language's mapping."""
    folded = set(data.get("fold_accents") or [])
    for section, kind in KINDS.items():
        items = data.get(section) or {}
        if not isinstance(items, dict):
            raise CatalogueError(f"{where}: {section} must map keys to translations")
        for key, value in items.items():
            fields = value if isinstance(value, dict) else {FIELDS[kind][0]: value}
            for name, text in fields.items():
                if name not in FIELDS[kind]:
                    raise CatalogueError(f"{where}: {section}.{key}.{name} cannot be translated "
                                         f"(only {', '.join(FIELDS[kind])})")
                if name in WORD_FIELDS:
                    if not isinstance(text, list):
                        raise CatalogueError(f"{where}: {section}.{key}.{name} must be a list")
                    text = ", ".join(str(word) for word in text)
                elif not isinstance(text, str) or not text.strip():
                    raise CatalogueError(f"{where}: {section}.{key}.{name} must be a text")
                path = f"{section}.{key}" + ("" if kind == "text" else f".{name}")
                yield kind, str(key), name, text, path in folded


def fold_accents(text: str) -> str:
    """``text`` without the accents GSM-7 lacks (é and ñ stay): the organizer's choice, per text."""
    return encoding.gsm_letters(encoding.gsm_safe(text))


@dataclass(frozen=True)
class Translations:
    """Every stored translation: language → {(kind, key, field): text}, with the folding already applied."""

    texts: dict[str, dict[Key, str]] = field(default_factory=dict)
    folded: frozenset[tuple[str, str, str, str]] = frozenset()

    @classmethod
    def of(cls, items: Iterable[tuple[str, str, str, str, str, bool]]) -> Translations:
        """From (language, kind, key, field, text, fold_accents) rows."""
        texts: dict[str, dict[Key, str]] = {}
        folded = set()
        for language, kind, key, name, text, fold in items:
            texts.setdefault(language, {})[(kind, key, name)] = fold_accents(text) if fold else text
            if fold:
                folded.add((language, kind, key, name))
        return cls(texts, frozenset(folded))

    def get(self, language: str, kind: str, key: str, name: str) -> str | None:
        return self.texts.get(language, {}).get((kind, key, name))

    def words(self, kind: str, key: str, name: str) -> list[str]:
        """The aliases (or mentions) of one item in every language."""
        return [word.strip() for by_key in self.texts.values() for word in by_key.get((kind, key, name), "").split(",")
                if word.strip()]

    def missing(self, language: str, expected: Iterable[Key]) -> list[Key]:
        """The texts of ``expected`` with no translation in ``language``."""
        have = self.texts.get(language, {})
        return [item for item in expected if item not in have]
