"""Every text of the web pages, the widget and the counter, from data/web.yaml, by language.

One place for the words: the templates, the widget (through ``GET /api/v1/form``) and the
texts sent by SMS all read them here, so a language is a block added to the file.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

from sms import defaults
from sms.errors import ConfigError

PATH: Path = defaults.DATA_DIR / "web.yaml"
DEFAULT = "en"


@functools.cache
def catalogue(path: Path = PATH) -> dict[str, dict[str, str]]:
    """Every language's texts; a language missing a key of the default one stops start-up."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if DEFAULT not in data:
        raise ConfigError(f"{path.name}: no {DEFAULT!r} texts")
    wanted = set(data[DEFAULT])
    for lang, texts in data.items():
        missing = sorted(wanted - set(texts or {}))
        if missing:
            raise ConfigError(f"{path.name}: {lang!r} lacks {', '.join(missing)}")
    return {lang: {k: str(v) for k, v in texts.items()} for lang, texts in data.items()}


def languages() -> tuple[str, ...]:
    return tuple(catalogue())


def language(wanted: str | None) -> str:
    """``wanted`` if there are texts in it, else the default language."""
    return wanted if wanted in catalogue() else DEFAULT


def text(key: str, lang: str = DEFAULT, **values: Any) -> str:
    """One text with its ``{placeholders}`` filled (unknown ones stay as written)."""
    template = catalogue()[language(lang)][key]
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), template)


def all_texts(lang: str = DEFAULT, **values: Any) -> dict[str, str]:
    """Every text of ``lang``, filled with ``values`` (what the widget renders with)."""
    return {key: text(key, lang, **values) for key in catalogue()[language(lang)]}
