"""Fit the texts the service composes into the reply budget (``MAX_REPLY_SEGMENTS`` SMS segments).

Catalogue texts are checked when they are stored (``sms.messaging.catalogue.check_text``). Texts
put together while answering (numbered lists, the caller's script, who is being called, call
summaries) are offered here from their fullest form down to shorter ones, and the first that
fits is sent, counted as it will travel: GSM-safe, with names losing the accents GSM-7 lacks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from sms.messaging import encoding

MIN_LABEL = 12
"""A list label is cut no shorter than this (with "...") before labels are dropped."""
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_CLAUSE = re.compile(r"(?:,|;|:| -) ")


class Budget(int):
    """A reply budget: ``int(budget)`` GSM-7 segments, or ``ucs2`` segments for a text that needs UCS-2.

    A plain int is a budget of that many segments whatever the encoding (the default language's).
    ``fold`` says whether a composed text loses the accents GSM-7 lacks in the names it carries (the
    default language's texts do); a language written with accents keeps them: folding them is an
    organizer's choice per text (``fold_accents``), never made silently.
    """

    ucs2: int
    fold: bool

    def __new__(cls, gsm7: int, ucs2: int | None = None, fold: bool = True) -> Budget:
        budget = super().__new__(cls, gsm7)
        budget.ucs2 = gsm7 if ucs2 is None else ucs2
        budget.fold = fold
        return budget

    def __repr__(self) -> str:
        return f"Budget(gsm7={int(self)}, ucs2={self.ucs2}, fold={self.fold})"


def limit(budget: int, info: encoding.SegmentInfo) -> int:
    """The segments ``budget`` allows a text counted as ``info``."""
    return budget.ucs2 if isinstance(budget, Budget) and info.encoding == "UCS-2" else int(budget)


def allows(budget: int, text: str) -> bool:
    """True if ``text``, as it travels, fits ``budget``."""
    info = encoding.count(text)
    return info.segments <= limit(budget, info)


def clean(text: str, fold: bool = True) -> str:
    """``text`` as it will be sent: typographic look-alikes (and, with ``fold``, non-GSM accents) replaced."""
    safe = encoding.gsm_safe(text)
    return encoding.gsm_letters(safe) if fold else safe


def segments(text: str) -> int:
    return encoding.count(clean(text)).segments


def fits(text: str, budget: int) -> bool:
    return allows(budget, clean(text, getattr(budget, "fold", True)))


def first_fit(candidates: Iterable[str], budget: int) -> str:
    """The first of ``candidates`` that fits in ``budget`` segments, cleaned; the last one if none does."""
    text = ""
    fold = getattr(budget, "fold", True)
    for candidate in candidates:
        text = clean(candidate, fold)
        if allows(budget, text):
            return text
    return text


def numbered(header: str, rows: Sequence[tuple[str, str]], footer: str, budget: int) -> str:
    """``header``, a ``1 KEY - label`` line per row (``1 label`` without a key), ``footer``.

    Labels are cut (then dropped, when every row has a key) until it fits; as a last resort
    the list stops early with "..." (numbers past it still work).
    """
    return first_fit(_listings(header, rows, footer), budget)


def _listings(header: str, rows: Sequence[tuple[str, str]], footer: str) -> Iterator[str]:
    def text(lines: list[str]) -> str:
        return "\n".join(line for line in (header, *lines, footer) if line)

    def lines(width: int | None, keys_only: bool = False) -> list[str]:
        out = []
        for i, (key, label) in enumerate(rows, 1):
            label = "" if keys_only else cut(label, width) if width else label
            out.append(" ".join(part for part in (str(i), key, "-" if key and label else "", label) if part))
        return out

    yield text(lines(None))
    longest = max((len(label) for _, label in rows), default=0)
    for width in range(longest - 1, MIN_LABEL - 1, -1):
        yield text(lines(width))
    shortest = lines(None, keys_only=True) if all(key for key, _ in rows) else lines(MIN_LABEL)
    yield text(shortest)
    for shown in range(len(rows) - 1, 0, -1):
        yield text([*shortest[:shown], "..."])


def cut(label: str, width: int) -> str:
    """``label`` in at most ``width`` characters, cut at a word with "..."."""
    if len(label) <= width:
        return label
    room = label[:max(width - 3, 1)]
    if " " in room.strip():
        room = room.rsplit(" ", 1)[0]
    return room.rstrip(" ,;:-") + "..."


def script_forms(script: str) -> list[str]:
    """A call script from full to its ask alone: still templates (``{target}`` unfilled), no repeats.

    The ask is the first sentence naming ``{target}``; shorter forms keep the sentences before it
    (the greeting) and a closing "Thank you.", then the ask alone, then the ask to its first clause.
    """
    sentences = [s for s in _SENTENCE.split(" ".join(script.split())) if s]
    if not sentences:
        return [script]
    at = next((i for i, s in enumerate(sentences) if "{target}" in s), 0)
    ask = sentences[at]
    closing = [s for s in sentences[at + 1:][-1:] if s.lower().startswith(CLOSINGS)]
    start = ask.find("{target}")
    clause = _CLAUSE.search(ask, max(start, 0))
    short_ask = ask[:clause.start()].rstrip(".") + "." if clause else ask
    forms = [" ".join(sentences), " ".join([*sentences[:at + 1], *closing]), " ".join([ask, *closing]),
             " ".join([short_ask, *closing]), short_ask]
    return list(dict.fromkeys(forms))


CLOSINGS = ("thank", "gracias", "merci", "obrigad")
"""How a script's closing sentence starts, in the languages written so far (kept in its short forms)."""
SCRIPT_FULL = "Your script: "
SCRIPT_SHORT = "Your script in short (the call reads it in full): "
SCRIPT_NONE = "The call will read you the script before connecting you."
"""How the script is texted after CALL: in full, in short when it cannot fit, or not at all."""


SCRIPT_LABELS = (SCRIPT_FULL, SCRIPT_SHORT, SCRIPT_NONE)


def script_text(script: str, fill: Callable[[str], str], budget: int,
                labels: tuple[str, str, str] = SCRIPT_LABELS) -> str:
    """The script as texted after CALL: in full if it fits, else the first shorter form that does.

    ``labels`` are ``SCRIPT_LABELS`` in the texter's language.
    """
    forms = script_forms(script)
    full, short, none = labels
    candidates = [full + fill(forms[0]), *(short + fill(form) for form in forms[1:]), none]
    return first_fit(candidates, budget)


def script_fits(script: str, fill: Callable[[str], str], budget: int,
                labels: tuple[str, str, str] = SCRIPT_LABELS) -> bool:
    """True if the script, at least its ask, can be texted (``script_text`` does not give up on it)."""
    return script_text(script, fill, budget, labels) != labels[2]
