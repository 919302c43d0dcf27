"""The languages Action Line speaks, as data: one ``data/languages/<code>.yaml`` per language.

Each file says how a texter chooses the language (ESPAÑOL, ENGLISH), which first texts are
taken to be in it ("hola", "quiero llamar a mi senador"), how calls sound in it (the ``<Say>``
voice and the ``<Gather>`` language), what a reply may cost (its own GSM-7 and UCS-2 segment
budget) and its system texts: the service's own sentences, keyed by their English source in
the code (``translate(code, "Which one do you mean?")``), gettext-style. A sentence with no
translation is sent in the default language and listed by ``missing_texts`` for organizers.
Adding a language is adding a file (and the catalogue's ``data/demands.<code>.yaml``), no code.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sms import defaults
from sms.errors import CatalogueError
from sms.messaging import budget

log = logging.getLogger(__name__)
DIRECTORY = defaults.DATA_DIR / "languages"
DEFAULT = "en"
"""The language of data/demands.yaml and of the sentences in the code (DEFAULT_LANGUAGE)."""
_KEY = re.compile(r"[^A-Z0-9]")
_WORD = re.compile(r"[a-z]+")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Language:
    """One language's settings and system texts (``data/languages/<code>.yaml``)."""

    code: str
    name: str
    choose: frozenset[str]
    """Keyword keys of the texts that switch a texter to this language (ESPANOL, SPANISH)."""
    voice: str
    voice_language: str
    gather_language: str
    gsm7_segments: int
    ucs2_segments: int
    switched: str
    offer: str = ""
    """Appended to a new texter's first reply in another language ("Para español, responde ESPAÑOL")."""
    detect: frozenset[str] = frozenset()
    """Folded words that make a new texter's first text count as this language."""
    keywords: frozenset[str] = frozenset()
    """Keyword keys of this language's compliance words (AYUDA, PARAR): answered in it for a texter who chose none."""
    texts: dict[str, str] = field(default_factory=dict)


@functools.cache
def registry(directory: Path | str = DIRECTORY) -> dict[str, Language]:
    """Every language file of ``directory``, read and checked once per process (code → Language)."""
    found: dict[str, Language] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        language = _load(path)
        found[language.code] = language
    if DEFAULT not in found:
        raise CatalogueError(f"{directory}: no {DEFAULT}.yaml for the default language")
    chosen: dict[str, str] = {}
    for language in found.values():
        for key in language.choose:
            if chosen.setdefault(key, language.code) != language.code:
                raise CatalogueError(f"languages: {key} chooses both {chosen[key]} and {language.code}")
    return found


def _load(path: Path) -> Language:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"cannot read {path.name}: {exc}") from exc
    if not isinstance(data, dict) or data.get("code") != path.stem:
        raise CatalogueError(f"{path.name}: must be a mapping whose code is {path.stem!r}")
    for name in ("name", "voice", "voice_language", "gather_language", "switched"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise CatalogueError(f"{path.name}: {name} is missing")
    segments = data.get("segments") or {}
    gsm7, ucs2 = segments.get("gsm7"), segments.get("ucs2")
    if not all(isinstance(n, int) and 1 <= n <= 10 for n in (gsm7, ucs2)):
        raise CatalogueError(f"{path.name}: segments must give gsm7 and ucs2 counts from 1 to 10")
    texts = data.get("texts") or {}
    for source, text in texts.items():
        if not isinstance(text, str) or set(_PLACEHOLDER.findall(text)) != set(_PLACEHOLDER.findall(str(source))):
            raise CatalogueError(f"{path.name}: the translation of {source!r} must keep its {{placeholders}}")
    return Language(
        code=path.stem, name=data["name"], choose=frozenset(key(w) for w in data.get("choose") or []),
        voice=data["voice"], voice_language=data["voice_language"], gather_language=data["gather_language"],
        gsm7_segments=gsm7, ucs2_segments=ucs2, switched=data["switched"], offer=data.get("offer") or "",
        detect=frozenset(fold_word(w) for w in data.get("detect") or []),
        keywords=frozenset(key(w) for w in data.get("keywords") or []), texts={str(k): v for k, v in texts.items()},
    )


def key(text: str) -> str:
    """Upper-case letters and digits without accents: ``Inglés`` → ``INGLES`` (as ``catalogue.keyword_key``)."""
    return _KEY.sub("", fold_word(text).upper())


def fold_word(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().strip()


def codes() -> tuple[str, ...]:
    """The language codes, the default first."""
    return (DEFAULT, *sorted(code for code in registry() if code != DEFAULT))


def get(code: str | None) -> Language:
    """The language ``code`` (the default one for None or a code no file defines)."""
    languages = registry()
    return languages.get(code or DEFAULT) or languages[DEFAULT]


def known(code: str | None) -> bool:
    return bool(code) and code in registry()


def chosen_by(text_key: str) -> Language | None:
    """The language a text that is only ``text_key`` (ESPANOL, ENGLISH) asks for, if any."""
    return next((lang for lang in registry().values() if text_key in lang.choose), None)


def keyword_language(text_key: str) -> str | None:
    """The language whose compliance word ``text_key`` is (AYUDA, PARAR: es), if not the default's."""
    return next((lang.code for lang in registry().values() if lang.code != DEFAULT and text_key in lang.keywords), None)


def detect(text: str) -> str | None:
    """The language a first text seems written in ("hola", "ayuda", "quiero llamar"), or None."""
    words = set(_WORD.findall(fold_word(text)))
    for language in registry().values():
        if language.code != DEFAULT and words & language.detect:
            return language.code
    return None


def translate(code: str | None, source: str, **values: Any) -> str:
    """The system text ``source`` (its English form in the code) in language ``code``, placeholders filled.

    A sentence the language file does not translate is sent as written (the default language).
    """
    text = source if not code or code == DEFAULT else get(code).texts.get(source)
    if text is None:
        _note_missing(code or DEFAULT, source)
        text = source
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


MISSING: dict[str, set[str]] = {}
"""System texts asked for in a language that does not translate them, since start-up (code → sources)."""


def _note_missing(code: str, source: str) -> None:
    missing = MISSING.setdefault(code, set())
    if source not in missing:
        missing.add(source)
        log.warning("no %s translation of the system text %r; sent in %s", code, source[:60], DEFAULT)


def voice(code: str | None, default_voice: str, default_language: str) -> tuple[str, str]:
    """The ``<Say>`` voice and language for ``code``; the default language's are VOICE_NAME, VOICE_LANGUAGE."""
    language = get(code)
    if language.code == DEFAULT:
        return default_voice, default_language
    return language.voice, language.voice_language


def gather_language(code: str | None, default_language: str) -> str:
    """The ``<Gather language=...>`` of ``code`` (speech recognition), VOICE_LANGUAGE for the default."""
    language = get(code)
    return default_language if language.code == DEFAULT else language.gather_language


def reply_budget(code: str | None, default_segments: int, overrides: dict[str, tuple[int, int]] | None = None
                 ) -> budget.Budget:
    """The reply budget of ``code``: MAX_REPLY_SEGMENTS for the default language (accents of names folded,
    as always), else LANGUAGE_SEGMENTS' or its file's GSM-7/UCS-2 segments, accents kept."""
    language = get(code)
    if language.code == DEFAULT:
        return budget.Budget(default_segments)
    gsm7, ucs2 = (overrides or {}).get(language.code, (language.gsm7_segments, language.ucs2_segments))
    return budget.Budget(gsm7, ucs2, fold=False)


def offers(code: str | None) -> str:
    """What a new texter in ``code`` is told about the other languages ("Para español, responde ESPAÑOL.")."""
    this = get(code).code
    return " ".join(lang.offer for lang in registry().values() if lang.code != this and lang.offer)


def script_labels(code: str | None) -> tuple[str, str, str]:
    """``budget.SCRIPT_LABELS`` in ``code`` ("Your script: "...)."""
    return tuple(translate(code, label) for label in budget.SCRIPT_LABELS)  # type: ignore[return-value]
