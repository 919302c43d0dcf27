"""Counties and incorporated places from the geocoder, and matching a city's name to a mayor's or an official's.

Action Line ships no ZIP → county or ZIP → city map: a texter's county and city are known
from their street address (``sms.targets.geocoder``, then forgotten) as Census GEOIDs, kept on
the subscriber (``county_fips``, ``place_geoid``). The names of those areas (public Census
facts, not the texter's) are kept in ``census_areas``, so a later call can match them.

Names differ between Open States and the Census: Open States' ``Louisville`` is the Census
place ``Louisville/Jefferson County metro government (balance)``, ``Nashville`` is
``Nashville-Davidson metropolitan government (balance)``, ``Saint Louis`` is ``St. Louis``,
``O Fallon`` is ``O'Fallon``. ``keys`` folds both to the same keys: accents, case, punctuation,
hyphens and spaces dropped; ``St``/``Mt``/``Ft`` spelled out; a consolidated government's
``(balance)``, government words and the part after ``/`` or ``-`` dropped. Matching is exact on
those keys within one state: a near miss finds nobody rather than the wrong mayor.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy.orm import Session

from sms.targets import geocoder
from sms.targets.models import CensusArea

GOVERNMENT = re.compile(r"\s*\b(?:metro(?:politan)? government|unified government|consolidated government|"
                        r"urban county)\s*$")
"""What a consolidated city-county's Census name adds after its core (``Lexington-Fayette urban county``)."""
_SPELLED = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}


def _words(name: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().replace("'", "")
    return [_SPELLED.get(w, w) for w in re.split(r"[^a-z0-9]+", plain) if w]


def key(name: str) -> str:
    """One name folded: ``St. Louis`` and ``Saint Louis`` are ``saintlouis``; ``O'Fallon`` ``ofallon``."""
    return "".join(_words(name))


def keys(census_name: str) -> set[str]:
    """The keys a Census place or county name answers to: its own, and a consolidated government's core
    (``Louisville/Jefferson County metro government (balance)`` also answers to ``louisville``)."""
    found = {key(census_name)}
    text = census_name.lower().strip()
    balance = "(balance)" in text
    if balance or GOVERNMENT.search(text):
        core = GOVERNMENT.sub("", text.replace("(balance)", "").strip())
        core = re.sub(r"\s+(?:county|city)$", "", core) if balance else re.sub(r"\s+county$", "", core)
        found |= {key(core), key(re.split(r"[/-]", core)[0])}
    return {k for k in found if k}


def remember(session: Session, *areas: geocoder.Area | None) -> None:
    """Keep the names of the areas an address was in (one row per GEOID, the latest name)."""
    for area in areas:
        if area is None or not area.name:
            continue
        kind = "county" if len(area.geoid) == 5 else "place"
        state = geocoder.FIPS.get(area.geoid[:2], "")
        row = session.get(CensusArea, area.geoid)
        if row is None:
            session.add(CensusArea(geoid=area.geoid, kind=kind, state=state, name=area.name))
        elif row.name != area.name:
            row.name = area.name


def name_of(session: Session, geoid: str | None) -> str | None:
    """The name of a county or place GEOID the geocoder gave (None if unknown)."""
    if not geoid:
        return None
    row = session.get(CensusArea, geoid)
    return row.name if row is not None else None


def same(official_city: str, census_name: str | None) -> bool:
    """True if an official's city (Open States or an organizer's CSV) is the Census area named ``census_name``."""
    return bool(census_name) and key(official_city) in keys(census_name or "")
