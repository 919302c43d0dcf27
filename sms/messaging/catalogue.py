"""The demand catalogue: areas, demands, campaigns and service texts.

``data/demands.yaml`` is the seed; ``import_catalogue`` loads it into the database,
where organizers edit it. The conversation reads an immutable ``Catalogue``
snapshot, rebuilt only when the stored version changes.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sms import defaults
from sms.errors import CatalogueError
from sms.messaging import encoding
from sms.store import Area, Campaign, CatalogueText, Demand

log = logging.getLogger(__name__)
DEFAULT_PATH = defaults.DATA_DIR / "demands.yaml"
VERSION_KEY = "__version__"
RESERVED_WORDS = frozenset(
    "MENU HI HELLO JOIN HELP INFO AYUDA STOP STOPALL UNSUBSCRIBE CANCEL END QUIT OPTOUT REVOKE REMOVE "
    "BAJA PARAR ALTO CANCELAR START UNSTOP YES NO "
    "CALL ZIP DISTRICT PRIVACY DELETE CAMPAIGNS LATER LESS MORE SKIP".split()
)
"""Words no demand may use: the compliance words (tests check every opt-out keyword of data/opt_out.yaml is here)."""
REQUIRED_TEXTS = (
    "welcome", "menu_footer", "campaigns_header", "unknown", "help", "disclosure",
    "stop_confirm", "start_confirm", "privacy", "delete_confirm_prompt", "deleted", "followup",
)

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_REPEATS = re.compile(r"([^\W\d_])\1+")


def normalise(text: str) -> str:
    """Fold an inbound text into plain, trimmed characters (full-width, smart quotes, zero-width)."""
    text = unicodedata.normalize("NFKC", text or "").translate(_ZERO_WIDTH)
    text = encoding.gsm_safe(text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """``normalise``, then lower case without accents: ``"¡NO MÁS!"`` → ``"¡no mas!"``."""
    if text.isascii():  # most texts: skip the decomposition
        return normalise(text).lower()
    decomposed = unicodedata.normalize("NFKD", normalise(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def squeeze(word: str) -> str:
    """Collapse repeated letters, not digits: ``STOPPP`` → ``STOP``, ``1033`` stays ``1033``."""
    return _REPEATS.sub(r"\1", word)


def keyword_key(text: str) -> str:
    """The matching key of a text: upper-case letters and digits only (``" Choke hold!"`` → ``CHOKEHOLD``)."""
    return _NOT_ALNUM.sub("", fold(text).upper())


@dataclass(frozen=True)
class DemandView:
    keyword: str
    aliases: tuple[str, ...]
    area: int
    title: str
    summary: str
    ask: str
    reply: str
    targets: str
    target_order: tuple[str, ...]
    script: str
    followup: bool = True


@dataclass(frozen=True)
class CampaignView:
    keyword: str
    name: str
    reply: str


@dataclass(frozen=True)
class Catalogue:
    """An immutable snapshot of everything the conversation says."""

    areas: dict[int, str]
    demands: tuple[DemandView, ...]
    campaigns: tuple[CampaignView, ...]
    texts: dict[str, str]
    version: str = ""
    index: dict[str, DemandView | CampaignView] = field(default_factory=dict)
    causes: set[str] = field(default_factory=set)
    """Every keyword and alias, as typed and squeezed: the words that make "END NO KNOCK" about the cause."""

    def __post_init__(self) -> None:
        for item in (*self.demands, *self.campaigns):
            for key in (item.keyword, *getattr(item, "aliases", ())):
                self.index.setdefault(keyword_key(key), item)
        self.causes.update(self.index, map(squeeze, self.index))

    def lookup(self, key: str) -> DemandView | CampaignView | None:
        """The demand or campaign whose keyword or alias is ``key`` (already a keyword_key)."""
        return self.index.get(key)

    def named_in(self, words: list[str]) -> DemandView | CampaignView | None:
        """The first item whose keyword or alias is one to three of ``words`` ("END NO KNOCK WARRANTS")."""
        keys = [keyword_key(word) for word in words]
        for n in (3, 2, 1):
            for i in range(len(keys) - n + 1):
                if (item := self.index.get("".join(keys[i:i + n]))) is not None:
                    return item
        return None

    def demand(self, keyword: str) -> DemandView | None:
        item = self.index.get(keyword_key(keyword))
        return item if isinstance(item, DemandView) else None

    def demands_in(self, area: int) -> list[DemandView]:
        return [d for d in self.demands if d.area == area]

    def text(self, name: str, **values: Any) -> str:
        """A service text with ``{placeholders}`` filled; unknown placeholders stay as written."""
        return _fill(self.texts[name], values)


def _fill(template: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), template)


# -- loading the seed ---------------------------------------------------------------------


def load_yaml(path: Path | str = DEFAULT_PATH) -> dict[str, Any]:
    """Read and validate a catalogue file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"cannot read catalogue {path}: {exc}") from exc
    validate(data)
    return data


def validate(data: Any) -> None:
    """Raise CatalogueError for the first problem: missing fields, duplicates, over-long texts."""
    if not isinstance(data, dict):
        raise CatalogueError("catalogue must be a mapping with areas, demands, campaigns, messages")
    areas = {a.get("number") for a in data.get("areas") or []}
    if not areas:
        raise CatalogueError("catalogue has no areas")
    seen: dict[str, str] = {}
    for kind in ("demands", "campaigns"):
        for item in data.get(kind) or []:
            _validate_item(kind, item, areas, seen)
    messages = data.get("messages") or {}
    for name in REQUIRED_TEXTS:
        if not isinstance(messages.get(name), str) or not messages[name].strip():
            raise CatalogueError(f"messages.{name} is missing")
        check_text(f"messages.{name}", messages[name])


def _validate_item(kind: str, item: dict[str, Any], areas: set[Any], seen: dict[str, str]) -> None:
    keyword = str(item.get("keyword", ""))
    where = f"{kind} {keyword or '?'}"
    for name in ("keyword", "reply") + (("title", "area", "script") if kind == "demands" else ("name",)):
        if item.get(name) in (None, ""):
            raise CatalogueError(f"{where}: '{name}' is missing")
    if kind == "demands" and item["area"] not in areas:
        raise CatalogueError(f"{where}: area {item['area']} is not defined")
    for word in (keyword, *[str(a) for a in item.get("aliases") or []]):
        key = keyword_key(word)
        if not key:
            raise CatalogueError(f"{where}: keyword or alias {word!r} has no letters or digits")
        if key in RESERVED_WORDS:
            raise CatalogueError(f"{where}: {word!r} is a reserved word")
        if key in seen:
            raise CatalogueError(f"{where}: {word!r} is already used by {seen[key]}")
        seen[key] = where
    check_text(f"{where} reply", item["reply"])


def check_text(where: str, text: str) -> None:
    """Raise CatalogueError if ``text`` needs more than the allowed SMS segments."""
    from sms.defaults import MAX_SEGMENTS

    info = encoding.count(encoding.gsm_safe(text))
    if info.segments > MAX_SEGMENTS:
        raise CatalogueError(
            f"{where} needs {info.segments} SMS segments ({info.units} {info.encoding} units); "
            f"the limit is {MAX_SEGMENTS}"
        )


@dataclass
class ImportSummary:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def import_catalogue(session: Session, data: dict[str, Any]) -> ImportSummary:
    """Upsert areas, demands, campaigns and texts from validated ``data``; commit."""
    validate(data)
    summary = ImportSummary()
    for area in data["areas"]:
        _upsert(session, Area, area["number"], {"title": area["title"]}, summary)
    for position, item in enumerate(data.get("demands") or []):
        _upsert(session, Demand, item["keyword"], _demand_fields(item, position), summary)
    for position, item in enumerate(data.get("campaigns") or []):
        fields = {"name": item["name"], "reply": item["reply"], "position": position}
        _upsert(session, Campaign, item["keyword"], fields, summary)
    for key, value in (data.get("messages") or {}).items():
        _upsert(session, CatalogueText, key, {"text": value}, summary)
    if summary.added or summary.changed:
        bump_version(session)
    session.commit()
    return summary


def is_loaded(session: Session) -> bool:
    """True once any demand is stored (from the YAML or the console)."""
    return session.scalar(select(Demand.keyword).limit(1)) is not None


def _demand_fields(item: dict[str, Any], position: int) -> dict[str, Any]:
    return {
        "aliases": [str(a) for a in item.get("aliases") or []],
        "area": item["area"],
        "position": position,
        "title": item["title"],
        "summary": item.get("summary", ""),
        "ask": item.get("ask", ""),
        "reply": item["reply"],
        "targets": item.get("targets", "congress"),
        "target_order": list(item.get("target_order") or ["house", "senate"]),
        "script": item["script"],
        "followup": bool(item.get("followup", True)),
    }


def _upsert(session: Session, model: type, key: Any, fields: dict[str, Any], summary: ImportSummary) -> None:
    row = session.get(model, key)
    if row is None:
        pk = model.__mapper__.primary_key[0].name
        session.add(model(**{pk: key}, **fields))
        summary.added += 1
    elif any(getattr(row, name) != value for name, value in fields.items()):
        for name, value in fields.items():
            setattr(row, name, value)
        summary.changed += 1
    else:
        summary.unchanged += 1


def bump_version(session: Session) -> None:
    """Mark the stored catalogue as changed so every process rebuilds its snapshot."""
    import uuid

    row = session.get(CatalogueText, VERSION_KEY)
    if row is None:
        session.add(CatalogueText(key=VERSION_KEY, text=uuid.uuid4().hex))
    else:
        row.text = uuid.uuid4().hex


# -- reading the stored catalogue ------------------------------------------------------------

_cache: dict[str, Catalogue] = {}
_cache_lock = threading.Lock()


def version_query() -> Select[tuple[str]]:
    """The stored catalogue's version (a scalar subquery callers may fold into their own read)."""
    return select(CatalogueText.text).where(CatalogueText.key == VERSION_KEY)


def current(session: Session, version: str | None = None) -> Catalogue:
    """The stored catalogue, rebuilt only when its version row changed (one query otherwise).

    ``version`` is the version a caller already read (see ``version_query``), saving that query.
    """
    if version is None:
        version = session.scalar(version_query()) or ""
    cache_key = f"{id(session.get_bind())}:{version}"
    cached = _cache.get(cache_key)
    if cached is not None:
        return cached
    snapshot = build(session, version)
    if not snapshot.texts:  # nothing imported yet: answer from the shipped seed rather than fail
        log.warning("catalogue tables are empty; using %s (run flask import-catalogue)", DEFAULT_PATH.name)
        snapshot = from_data(load_yaml())
    with _cache_lock:
        _cache.clear()
        _cache[cache_key] = snapshot
    return snapshot


def from_data(data: dict[str, Any]) -> Catalogue:
    """A snapshot straight from catalogue data (a validated YAML mapping)."""
    demands = tuple(_demand_view(str(d["keyword"]), _demand_fields(d, 0)) for d in data.get("demands") or [])
    campaigns = tuple(CampaignView(str(c["keyword"]), c["name"], c["reply"]) for c in data.get("campaigns") or [])
    areas = {a["number"]: a["title"] for a in data["areas"]}
    return Catalogue(areas=areas, demands=demands, campaigns=campaigns, texts=dict(data.get("messages") or {}))


def _demand_view(keyword: str, fields: dict[str, Any]) -> DemandView:
    fields = {k: v for k, v in fields.items() if k in DemandView.__dataclass_fields__ and k != "keyword"}
    return DemandView(
        keyword=keyword, **{**fields, "aliases": tuple(fields["aliases"] or ()),
                            "target_order": tuple(fields["target_order"] or ())}
    )


def build(session: Session, version: str = "") -> Catalogue:
    """Read every catalogue table into a snapshot."""
    areas = {a.number: a.title for a in session.scalars(select(Area).order_by(Area.number))}
    demands = tuple(
        _demand_view(d.keyword, {name: getattr(d, name) for name in DemandView.__dataclass_fields__})
        for d in session.scalars(select(Demand).where(Demand.active).order_by(Demand.position))
    )
    campaigns = tuple(
        CampaignView(keyword=c.keyword, name=c.name, reply=c.reply)
        for c in session.scalars(select(Campaign).order_by(Campaign.position))
    )
    texts = {t.key: t.text for t in session.scalars(select(CatalogueText)) if t.key != VERSION_KEY}
    return Catalogue(areas=areas, demands=demands, campaigns=campaigns, texts=texts, version=version)
