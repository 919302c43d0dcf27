"""A street address → its districts, from the US Census Bureau's geocoder, keeping only the district ids.

``GET {GEOCODER_URL}/geographies/onelineaddress?address=...&benchmark=Public_AR_Current&
vintage=Current_Current&format=json`` answers ``result.addressMatches[]``, each with
``geographies``: layers named by vintage (``119th Congressional Districts``, ``2024 State
Legislative Districts - Upper`` / ``- Lower``), each a list of areas with ``STATE`` (FIPS),
``CD119``/``SLDU``/``SLDL`` codes, ``BASENAME`` and ``GEOID``; ``Counties`` (``STATE``, ``COUNTY``,
``GEOID`` = both, ``BASENAME`` ``Jefferson``, ``NAME`` ``Jefferson County``) and ``Incorporated
Places`` (``STATE``, ``PLACE``, ``GEOID`` = both, ``BASENAME``/``NAME``: ``Louisville/Jefferson County
metro government (balance)``; absent for an address outside any city, town or village). Layers
are found by what their name contains, so a new vintage needs no change; a missing or odd layer
gives None for what it would have said.

The address is used for this one request and forgotten: it is never logged (urllib3 logs
request lines at DEBUG, so its connection-pool logger drops any line naming the geocoder's
path), never stored, never part of an error. The request has one deadline for connect and
read (GEOCODER_TIMEOUT, at most 8 s, so a texter's webhook answers well within Twilio's 15 s).
A circuit breaker in Redis stops asking after GEOCODER_BREAKER_FAILURES failures in a row
(no answer, a 5xx, a body that does not read) for GEOCODER_BREAKER_SECONDS: texters are asked
their member's name meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests

from sms import defaults

PATH = "/geographies/onelineaddress"
PARAMS = {"benchmark": "Public_AR_Current", "vintage": "Current_Current", "format": "json"}
BREAKER_KEY = "actionline:geocoder:failures"
log = logging.getLogger(__name__)


class Unavailable(Exception):  # noqa: N818 - reads as "geocoder.Unavailable"
    """The geocoder did not answer usefully (down, slow, 5xx, garbled, or its breaker is open)."""


class _DropAddressLines(logging.Filter):
    """urllib3 logs each request line (with its query, the address) at DEBUG: drop the geocoder's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return PATH not in record.getMessage()


logging.getLogger("urllib3.connectionpool").addFilter(_DropAddressLines())


@dataclass(frozen=True)
class Area:
    """A county or an incorporated place: its Census GEOID (county 5 digits, place 7) and name."""

    geoid: str
    name: str


@dataclass(frozen=True)
class Districts:
    """What an address is in: the state (USPS), House district (0 at large), state senate and house codes,
    the county and the incorporated place (None: outside any, or the layer was missing)."""

    state: str | None
    congress: int | None
    upper: str | None
    lower: str | None
    county: Area | None = None
    place: Area | None = None

    @property
    def county_fips(self) -> str | None:
        return self.county.geoid if self.county else None


FIPS = {"01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE", "11": "DC",
        "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL", "18": "IN", "19": "IA", "20": "KS", "21": "KY",
        "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT",
        "31": "NE", "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND", "39": "OH",
        "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD", "47": "TN", "48": "TX", "49": "UT",
        "50": "VT", "51": "VA", "53": "WA", "54": "WV", "55": "WI", "56": "WY", "60": "AS", "66": "GU", "69": "MP",
        "72": "PR", "78": "VI"}


class Geocoder:
    """The Census geocoder at ``base_url`` (GEOCODER_URL), with a deadline and a circuit breaker in ``redis``."""

    def __init__(self, base_url: str, timeout: float = defaults.GEOCODER_TIMEOUT, redis: Any = None,
                 failures: int = defaults.GEOCODER_BREAKER_FAILURES,
                 cooldown: int = defaults.GEOCODER_BREAKER_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.redis = redis
        self.failures, self.cooldown = failures, cooldown
        self._local_failures = 0

    @property
    def open(self) -> bool:
        """True while the breaker is open (too many failures in a row lately): do not ask."""
        return self._failures() >= self.failures

    def districts(self, address: str) -> Districts | None:
        """The districts of ``address`` (None: the geocoder found no such address); Unavailable if it failed."""
        if self.open:
            raise Unavailable("the geocoder failed several times in a row lately; not asked")
        try:
            answer = requests.get(self.base_url + PATH, params={"address": address[:200], **PARAMS},
                                  timeout=(self.timeout, self.timeout), allow_redirects=False)
        except requests.RequestException as exc:
            raise self._failed(f"no answer ({type(exc).__name__})") from None
        if answer.status_code != 200:
            raise self._failed(f"HTTP {answer.status_code}")
        try:
            matches = answer.json()["result"]["addressMatches"]
        except (ValueError, KeyError, TypeError):
            raise self._failed("an answer that is not the geocoder's JSON") from None
        self._succeeded()
        return parse_match(matches[0]) if matches else None

    def _failures(self) -> int:
        if self.redis is None:
            return self._local_failures
        try:
            return int(self.redis.get(BREAKER_KEY) or 0)
        except Exception:  # noqa: BLE001 - Redis down: the breaker fails closed (ask the geocoder)
            return 0

    def _failed(self, why: str) -> Unavailable:
        log.warning("geocoder failed: %s", why)  # never the address
        self._local_failures += 1
        if self.redis is not None:
            try:
                pipe = self.redis.pipeline()
                pipe.incr(BREAKER_KEY)
                pipe.expire(BREAKER_KEY, self.cooldown)
                pipe.execute()
            except Exception:  # noqa: BLE001 - the breaker is best effort
                pass
        return Unavailable(why)

    def _succeeded(self) -> None:
        self._local_failures = 0
        if self.redis is not None:
            try:
                self.redis.delete(BREAKER_KEY)
            except Exception:  # noqa: BLE001
                pass


def _layer(geographies: dict[str, Any], *words: str, last: str = "") -> dict[str, Any] | None:
    """The first area of the layer whose name has every word of ``words`` (lower case) and, with ``last``,
    ends with it (``counties``, not ``County Subdivisions``)."""
    if not isinstance(geographies, dict):
        return None
    for name, areas in geographies.items():
        lower = str(name).lower()
        if all(w in lower for w in words) and lower.endswith(last) and isinstance(areas, list) and areas:
            return areas[0] if isinstance(areas[0], dict) else None
    return None


def parse_match(match: dict[str, Any]) -> Districts:
    """The district ids of one ``addressMatches`` entry (nothing else of it is kept)."""
    geos = match.get("geographies") or {}
    cd = _layer(geos, "congressional")
    upper = _layer(geos, "legislative", "upper")
    lower = _layer(geos, "legislative", "lower")
    county = _area(_layer(geos, "counties", last="counties"), "COUNTY", 3)
    place = _area(_layer(geos, "incorporated places", last="places"), "PLACE", 5)
    state = next((FIPS.get(str(a.get("STATE"))) for a in (cd, upper, lower) if a), None)
    state = state or next((FIPS.get(a.geoid[:2]) for a in (county, place) if a), None)
    congress = None
    if cd is not None:
        code = next((str(v) for k, v in cd.items() if k.startswith("CD") and str(v).isdigit()), "")
        congress = int(code) if code else None
        congress = 0 if congress in (0, 98) else congress  # 00: at large, 98: a delegate's
    return Districts(state, congress, _code(upper, "SLDU"), _code(lower, "SLDL"), county, place)


def _area(area: dict[str, Any] | None, field: str, digits: int) -> Area | None:
    """A county (``COUNTY``, 3 digits) or place (``PLACE``, 5) of a layer: GEOID = state FIPS + code, checked."""
    if not area:
        return None
    geoid = str(area.get("GEOID") or "").strip()
    if not (geoid.isdigit() and len(geoid) == 2 + digits):
        state, code = str(area.get("STATE") or "").strip(), str(area.get(field) or "").strip()
        geoid = state.zfill(2) + code.zfill(digits) if state.isdigit() and code.isdigit() else ""
    if len(geoid) != 2 + digits or geoid[:2] not in FIPS:
        return None
    base = " ".join(str(area.get("BASENAME") or "").split())
    return Area(geoid, (base or base_name(" ".join(str(area.get("NAME") or "").split())))[:100])


LSAD = ("city and borough", "city", "town", "village", "borough", "municipality", "county", "parish", "cdp")
"""The legal descriptions a Census NAME ends with (its BASENAME is the name without them)."""


def base_name(name: str) -> str:
    """A NAME without its legal description (``Kansas City city`` → ``Kansas City``), when BASENAME is missing."""
    for lsad in LSAD:
        if name.lower().endswith(" " + lsad) and len(name) > len(lsad) + 1:
            return name[: -len(lsad) - 1].strip()
    return name


def _code(area: dict[str, Any] | None, field: str) -> str | None:
    if not area:
        return None
    code = str(area.get(field) or area.get("BASENAME") or "").strip()
    return code or None


def key_in(code: str | None, candidates: tuple[str, ...] | list[str]) -> str | None:
    """The map's district key a Census code names (``007`` is ``7``; ``D01`` stays), if it is a candidate."""
    if not code:
        return None
    for form in (code, code.lstrip("0") or "0"):
        if form in candidates:
            return form
    return None


def from_settings(settings: Any, redis: Any = None) -> Geocoder | None:
    """The geocoder configured (None with GEOCODER_URL=off)."""
    url = getattr(settings, "geocoder_url", "")
    return Geocoder(url, settings.geocoder_timeout, redis) if url else None
