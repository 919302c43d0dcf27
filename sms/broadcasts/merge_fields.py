"""Merge fields in broadcast and reminder texts: ``{first_name}``, ``{rep}``, ``{zip}``.

``{rep}`` is the subscriber's House member, looked up through ``REP_LOOKUPS``
(callables taking ``(session, state, district)``, returning a name or None); the
default reads the calls feature's legislator table, and with no answer (unknown
district, vacant seat, table not imported) the text reads "your Representative".

A recipient's text never needs more segments than the preview counted with ``SAMPLE``
(``render(..., segments=)``): a value that would push it over is replaced by its fallback,
and names lose the accents GSM-7 lacks rather than turning the whole text into UCS-2.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.orm import Session

from sms.messaging import encoding

FIELDS = ("first_name", "rep", "zip")
FALLBACKS = {"first_name": "friend", "rep": "your Representative", "zip": "your ZIP"}
SAMPLE = {"first_name": "Alexandria", "rep": 'Rep. Charles J. "Chuck" Fleischmann', "zip": "02139"}
"""Long values (the rep is the longest House label in the shipped data), so previews do not under-count
segments; a longer real value gives way to its fallback (``render``)."""
_FIELD = re.compile(r"\{(\w*)\}")

def house_member(session: Session, state: str | None, district: int | None) -> str | None:
    """``Rep. Jane Doe`` from the calls feature's legislator table (None when unknown or vacant)."""
    from sms.targets import lookup

    if not state or district is None:
        return None
    members = lookup.house_members(session, [(state, district)])
    return members[0].label if members else None


REP_LOOKUPS: list[Callable[[Session, str | None, int | None], str | None]] = [house_member]
"""Who represents (state, district) in the House: the legislator table, then "your Representative"."""


def unknown_fields(body: str) -> list[str]:
    """Merge fields in ``body`` that this module cannot fill."""
    return [name for name in _FIELD.findall(body) if name not in FIELDS]


def sample(body: str) -> str:
    """``body`` with typical values, for segment counts in previews."""
    return render(body, SAMPLE)


def render(body: str, values: dict[str, str | None], segments: int | None = None) -> str:
    """Fill the merge fields in ``body``; missing values get a neutral fallback.

    With ``segments``, a value that would make the text need more is replaced by its fallback
    (the longest first), so a recipient never costs more than the preview said.
    """
    if "{" not in body:
        return body
    values = {name: encoding.gsm_letters(value) if value else value for name, value in values.items()}
    text = _fill(body, values)
    gains = {n: len(values.get(n) or "") - len(FALLBACKS[n]) for n in FIELDS}
    for name in sorted((n for n in FIELDS if gains[n] > 0), key=lambda n: -gains[n]):
        if segments is None or encoding.count(text).segments <= segments:
            break
        values[name] = None
        text = _fill(body, values)
    return text


def _fill(body: str, values: dict[str, str | None]) -> str:
    return _FIELD.sub(lambda m: (values.get(m.group(1)) or FALLBACKS.get(m.group(1), m.group(0))), body)


def fallbacks_used(body: str, values: dict[str, str | None]) -> dict[str, str]:
    """The fields of ``body`` that ``render`` fills with their fallback for these values (field: fallback)."""
    return {name: FALLBACKS[name] for name in dict.fromkeys(_FIELD.findall(body))
            if name in FALLBACKS and not values.get(name)}


def representative(session: Session, state: str | None, district: int | None,
                   cache: dict[tuple[str | None, int | None], str | None] | None = None) -> str | None:
    """The House member for ``state``/``district`` from the registered lookups (cached per batch)."""
    key = (state, district)
    if cache is not None and key in cache:
        return cache[key]
    name = None
    for lookup in REP_LOOKUPS:
        name = lookup(session, state, district)
        if name:
            break
    if cache is not None:
        cache[key] = name
    return name
