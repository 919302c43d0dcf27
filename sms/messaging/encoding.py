"""SMS encoding and segment counting (GSM 03.38 vs UCS-2), and GSM-safe replies.

A message that fits the GSM-7 alphabet costs 160 characters per segment (153 when
concatenated; extension characters such as ``€`` or ``{`` count twice). One
character outside it switches the whole message to UCS-2: 70 per segment, 67 when
concatenated, and characters outside the BMP (most emoji) count twice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

# Look-alikes that would silently turn a reply into UCS-2.
_GSM_REPLACEMENTS = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
        "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
        "\u2026": "...", "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2022": "-",
        "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
    }
)


@dataclass(frozen=True)
class SegmentInfo:
    """How a text travels: its encoding, length in code units and segment count."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int
    per_segment: int


GSM7 = GSM7_BASIC | GSM7_EXTENSION


def is_gsm7(text: str) -> bool:
    """True if every character of ``text`` is in the GSM-7 alphabet (with extension)."""
    return GSM7.issuperset(text)  # one set operation in C: every reply is counted on the inbound path


def count(text: str) -> SegmentInfo:
    """Count the SMS segments ``text`` needs."""
    if is_gsm7(text):
        units = len(text) + sum(text.count(ch) for ch in GSM7_EXTENSION)  # extension characters count twice
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2  # outside the BMP counts twice
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SegmentInfo(encoding, units, 1 if units else 0, single)
    return SegmentInfo(encoding, units, -(-units // multi), multi)


def gsm_safe(text: str) -> str:
    """Replace typographic look-alikes with GSM-7 characters where that changes nothing visible.

    Text that still needs UCS-2 afterwards (emoji, other scripts) is returned
    with the substitutions applied; it is never stripped of meaning.
    """
    return text.translate(_GSM_REPLACEMENTS)


def ucs2_characters(text: str) -> list[str]:
    """The characters of ``text`` outside GSM-7 (each once, in order): what makes it UCS-2."""
    return list(dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION))


def gsm_alternative(text: str) -> str:
    """``text`` in GSM-7: look-alikes replaced (``gsm_safe``), accents dropped where GSM-7 lacks the
    letter (``ç`` -> ``c``), and what has no GSM-7 form (emoji, other scripts) left out."""
    kept = "".join(ch if is_gsm7(ch) else "".join(c for c in unicodedata.normalize("NFKD", ch) if is_gsm7(c))
                   or _DROPPED for ch in gsm_safe(text))
    # A character left out takes the spaces around it along: none before punctuation, else one.
    kept = re.sub(f" *{_DROPPED}+[ {_DROPPED}]*(?=[.,!?;:)]|$)", "", kept, flags=re.MULTILINE)
    kept = re.sub(f" *{_DROPPED}+[ {_DROPPED}]*", " ", kept)
    return "\n".join(line.strip() for line in kept.split("\n")).strip()


_DROPPED = "\x00"


def gsm_letters(text: str) -> str:
    """Drop the accents GSM-7 lacks (``Hernández`` → ``Hernandez``) when that makes ``text`` GSM-7.

    For the names the service puts in its own texts: one ``á`` would make the whole
    text UCS-2, more than doubling its segments. Text that needs UCS-2 anyway is returned as is.
    """
    if is_gsm7(text):
        return text
    plain = "".join(ch if ch in GSM7_BASIC or ch in GSM7_EXTENSION else _base_letter(ch) for ch in text)
    return plain if is_gsm7(plain) else text


def _base_letter(ch: str) -> str:
    base = unicodedata.normalize("NFKD", ch)[:1]
    return base if base.isascii() and base.isalpha() else ch
