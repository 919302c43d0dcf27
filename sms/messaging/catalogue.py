"""The demand catalogue: areas, demands, campaigns and service texts.

``data/demands.yaml`` is the seed; ``import_catalogue`` loads it into the database,
where organizers edit it. The conversation reads an immutable ``Catalogue``
snapshot, rebuilt only when the stored version changes.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sms import defaults
from sms.errors import CatalogueError
from sms.messaging import budget, encoding, languages, translations
from sms.store import Area, Campaign, CatalogueText, CatalogueTranslation, Demand, utcnow
from sms.targets import kinds

log = logging.getLogger(__name__)
DEFAULT_PATH = defaults.DATA_DIR / "demands.yaml"
VERSION_KEY = "__version__"
RESERVED_WORDS = frozenset(
    "MENU HI HELLO JOIN HELP INFO AYUDA STOP STOPALL UNSUBSCRIBE CANCEL END QUIT OPTOUT REVOKE REMOVE "
    "BAJA PARAR ALTO CANCELAR START UNSTOP YES NO "
    "CALL ZIP DISTRICT PRIVACY DELETE CAMPAIGNS LATER LESS MORE SKIP "
    "ENGLISH INGLES ESPANOL SPANISH CASTELLANO ENESPANOL INFORMACION "
    "LLAMAR CODIGOPOSTAL DISTRITO PRIVACIDAD BORRAR CAMPANAS LUEGO DESPUES MASTARDE MENOS MAS SI".split()
)
"""Words no demand may use: the compliance words (tests check every opt-out keyword of data/opt_out.yaml is here)."""
REQUIRED_TEXTS = (
    "welcome", "menu_footer", "campaigns_header", "unknown", "help", "disclosure",
    "stop_confirm", "start_confirm", "privacy", "delete_confirm_prompt", "deleted", "followup",
)

TARGET_SOURCES = ("seed", "organizer")
"""Who chose a demand's targets: the seed names the body that acts, or it does not and organizers chose."""
MENTION_MAX = 60
"""A mention (a named ask such as "HR 1154" or "Breonna's Law") is at most this many characters."""
PHRASE_WORDS = 4
"""A keyword or alias may be typed as up to this many words ("no knock warrants"); mentions as theirs."""
TARGET_NAME_CHECKED = 48
"""Scripts are checked with a target name this long ("Representative " and the longest names in the data)."""

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_REPEATS = re.compile(r"([^\W\d_])\1+")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
MAX_TOKENS = 80
"""Words of a text searched for names (the rest of a long text is not)."""


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
    mentions: tuple[str, ...] = ()
    """Named asks that point at this demand inside a longer text ("HR 1154", "Breonna's Law")."""


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
    """Every keyword, alias and mention, as typed and squeezed: what makes "END NO KNOCK" about the cause."""
    phrases: dict[str, tuple[DemandView | CampaignView, ...]] = field(default_factory=dict)
    """Keyword, alias or mention key → the items it names (a mention may name several)."""
    longest: int = PHRASE_WORDS
    ended: dict[str, str] = field(default_factory=dict)
    """Keyword or alias key of a retired demand → its title: texting it says the campaign ended."""
    language: str = languages.DEFAULT
    """The language of this snapshot's texts (``localized`` makes the others)."""
    translations: translations.Translations = field(default_factory=translations.Translations)
    root: Catalogue | None = field(default=None, compare=False, repr=False)
    """The default language's snapshot, of which this one is a translation (None for that one)."""
    _localized: dict[str, Catalogue] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for item in (*self.demands, *self.campaigns):
            for key in (item.keyword, *getattr(item, "aliases", ())):
                self.index.setdefault(keyword_key(key), item)
        for key, item in self.index.items():
            self.phrases[key] = (item,)
        for demand in self.demands:
            for mention in demand.mentions:
                key = keyword_key(mention)
                if demand not in self.phrases.get(key, ()):
                    self.phrases[key] = (*self.phrases.get(key, ()), demand)
                object.__setattr__(self, "longest", max(self.longest, len(_TOKEN.findall(fold(mention)))))
        self.causes.update(self.phrases, map(squeeze, self.phrases))

    def lookup(self, key: str) -> DemandView | CampaignView | None:
        """The demand or campaign whose keyword or alias is ``key`` (already a keyword_key)."""
        return self.index.get(key)

    def mentioned(self, text: str) -> list[DemandView | CampaignView]:
        """The items ``text`` names by keyword, alias or mention, as whole words, in the order named.

        Words are joined to match ("no knock warrants" is NOKNOCKWARRANTS), but never two numbers
        ("10:33" is not 1033). A name inside a longer one counts only as the longer one ("M4BL
        platform" is a mention of DECRIMINALIZE, not the campaign M4BL).
        """
        tokens = [key for key in map(keyword_key, _TOKEN.findall(fold(text)[:2000])) if key][:MAX_TOKENS]
        spans: list[tuple[int, int, tuple[DemandView | CampaignView, ...]]] = []
        for n in range(min(self.longest, len(tokens)), 0, -1):
            for i in range(len(tokens) - n + 1):
                words = tokens[i:i + n]
                items = self.phrases.get("".join(words))
                if not items or any(a.isdigit() and b.isdigit() for a, b in zip(words, words[1:])):
                    continue
                if not any(start <= i and i + n <= end for start, end, _ in spans):
                    spans.append((i, i + n, items))
        found = [item for _, _, items in sorted(spans, key=lambda span: span[0]) for item in items]
        return list(dict.fromkeys(found))

    def demand(self, keyword: str) -> DemandView | None:
        item = self.index.get(keyword_key(keyword))
        return item if isinstance(item, DemandView) else None

    def demands_in(self, area: int) -> list[DemandView]:
        return [d for d in self.demands if d.area == area]

    def text(self, name: str, **values: Any) -> str:
        """A service text with ``{placeholders}`` filled; unknown placeholders stay as written."""
        return _fill(self.texts[name], values)

    def localized(self, code: str | None) -> Catalogue:
        """This catalogue in language ``code``: each text translated, the default language's where none is.

        Keywords, aliases and mentions are those of every language in each snapshot, so a texter
        finds a demand by INMUNIDAD or IMMUNITY whatever their language. Built once per language.
        """
        root = self.root or self
        code = code if languages.known(code) else languages.DEFAULT
        if code == root.language:
            return root
        cached = root._localized.get(code)
        if cached is None:
            cached = root._localized[code] = _translate(root, code)
        return cached

    def missing(self, code: str) -> list[translations.Key]:
        """What a texter in ``code`` reads in the default language, for want of a translation."""
        root = self.root or self
        expected = [("area", str(n), "title") for n in root.areas]
        expected += [("demand", d.keyword, name) for d in root.demands for name in translations.TEXT_FIELDS["demand"]]
        expected += [("campaign", c.keyword, name) for c in root.campaigns for name in ("name", "reply")]
        expected += [("text", name, "text") for name in sorted(root.texts)]
        return root.translations.missing(code, expected)


def _translate(root: Catalogue, code: str) -> Catalogue:
    def get(kind: str, key: str, name: str, default: str) -> str:
        return root.translations.get(code, kind, key, name) or default

    demands = tuple(replace(d, **{name: get("demand", d.keyword, name, getattr(d, name))
                                  for name in ("title", "summary", "ask", "reply", "script")}) for d in root.demands)
    campaigns = tuple(replace(c, name=get("campaign", c.keyword, "name", c.name),
                              reply=get("campaign", c.keyword, "reply", c.reply)) for c in root.campaigns)
    return Catalogue(
        areas={n: get("area", str(n), "title", title) for n, title in root.areas.items()},
        demands=demands, campaigns=campaigns,
        texts={name: get("text", name, "text", text) for name, text in root.texts.items()},
        version=root.version, language=code, translations=root.translations, root=root,
    )


def _with_words(demands: tuple[DemandView, ...], found: translations.Translations) -> tuple[DemandView, ...]:
    """Each demand with the aliases and mentions of every language (the English ones first)."""
    def merged(own: tuple[str, ...], more: list[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*own, *more]))

    return tuple(replace(d, aliases=merged(d.aliases, found.words("demand", d.keyword, "aliases")),
                         mentions=merged(d.mentions, found.words("demand", d.keyword, "mentions")))
                 for d in demands)


def _fill(template: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), template)


# -- loading the seed ---------------------------------------------------------------------


def load_yaml(path: Path | str = DEFAULT_PATH, segments: int = defaults.MAX_REPLY_SEGMENTS) -> dict[str, Any]:
    """Read and validate a catalogue file (its texts within ``segments``)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"cannot read catalogue {path}: {exc}") from exc
    validate({**data, "translations": translations.read_siblings(path)} if isinstance(data, dict) else data, segments)
    return data


def with_translations(data: dict[str, Any], path: Path | str = DEFAULT_PATH) -> dict[str, Any]:
    """``data`` with the translation files beside ``path`` under ``translations``, unless it has its own.

    Only the translations of the items ``data`` has are kept (a test or an organizer's file may
    have fewer demands than the seed); ``load_yaml`` checks them all.
    """
    if "translations" in data:
        return data
    keys = {"areas": {a.get("number") for a in data.get("areas") or []},
            "demands": {str(d.get("keyword")) for d in data.get("demands") or []},
            "campaigns": {str(c.get("keyword")) for c in data.get("campaigns") or []},
            "messages": set(data.get("messages") or {})}
    found = {}
    for code, mapping in translations.read_siblings(path).items():
        kept = {section: {k: v for k, v in (mapping.get(section) or {}).items()
                          if (k if section == "areas" else str(k)) in keys[section]} for section in keys}
        found[code] = {**mapping, **kept}
    return {**data, "translations": found}


def validate(data: Any, segments: int = defaults.MAX_REPLY_SEGMENTS) -> None:
    """Raise CatalogueError for the first problem: missing fields, duplicates, texts over ``segments``.

    Texts are checked as they are sent: with the longest organisation name and contact allowed, the
    follow-up with every demand's title, and each script as CALL texts it (``budget.script_text``).
    """
    if not isinstance(data, dict):
        raise CatalogueError("catalogue must be a mapping with areas, demands, campaigns, messages")
    areas = {a.get("number") for a in data.get("areas") or []}
    if not areas:
        raise CatalogueError("catalogue has no areas")
    seen: dict[str, str] = {}
    for kind in ("demands", "campaigns"):
        for item in data.get(kind) or []:
            _validate_item(kind, item, areas, seen, segments)
    for item in data.get("demands") or []:
        _validate_mentions(item, seen)
    messages = data.get("messages") or {}
    for name in REQUIRED_TEXTS:
        if not isinstance(messages.get(name), str) or not messages[name].strip():
            raise CatalogueError(f"messages.{name} is missing")
        check_text(f"messages.{name}", messages[name], segments)
    for item in data.get("demands") or []:
        values = {"title": item["title"], "keyword": str(item["keyword"])}
        check_text(f"messages.followup (for {item['keyword']})", messages["followup"], segments, values)
    for code, mapping in (data.get("translations") or {}).items():
        _validate_translation(data, code, mapping, seen, segments)


def _validate_translation(data: dict[str, Any], code: str, mapping: dict[str, Any], seen: dict[str, str],
                          segments: int) -> None:
    """One language's texts against its budget; its aliases and mentions against every other word."""
    where = f"demands.{code}.yaml"
    if not languages.known(code) or code == languages.DEFAULT:
        raise CatalogueError(f"{where}: no data/languages/{code}.yaml defines this language")
    keys = {"area": {str(a["number"]) for a in data["areas"]},
            "demand": {str(d["keyword"]) for d in data.get("demands") or []},
            "campaign": {str(c["keyword"]) for c in data.get("campaigns") or []},
            "text": set(data.get("messages") or {})}
    limit = languages.reply_budget(code, segments)
    titles = {}
    for kind, key, name, text, fold in translations.rows(mapping, where):
        label = f"{where} {kind} {key}" + ("" if kind == "text" else f" {name}")
        if key not in keys[kind]:
            raise CatalogueError(f"{label}: the seed has no {kind} {key}")
        sent = translations.fold_accents(text) if fold else text
        if name in translations.WORD_FIELDS:
            _check_translated_words(label, f"demands {key}", text, seen, mentions=name == "mentions")
        elif name == "script":
            check_script(label, sent, limit, language=code)
        elif name in ("reply", "text"):
            check_text(label, sent, limit)
        if kind == "demand" and name == "title":
            titles[key] = sent
    followup = translations.fold_accents(mapping["messages"]["followup"]) if "messages.followup" in (
        mapping.get("fold_accents") or []) else (mapping.get("messages") or {}).get("followup")
    for key, title in titles.items() if followup else ():
        check_text(f"{where} messages.followup (for {key})", followup, limit, {"title": title, "keyword": key})


def _check_translated_words(label: str, owner: str, words: str, seen: dict[str, str], mentions: bool) -> None:
    for word in (w.strip() for w in words.split(",") if w.strip()):
        key = keyword_key(word)
        if not key or key in RESERVED_WORDS:
            raise CatalogueError(f"{label}: {word!r} is empty or a reserved word")
        if seen.get(key, owner) != owner:
            raise CatalogueError(f"{label}: {word!r} is already used by {seen[key]}")
        if not mentions:
            seen[key] = owner


def _validate_item(kind: str, item: dict[str, Any], areas: set[Any], seen: dict[str, str], segments: int) -> None:
    keyword = str(item.get("keyword", ""))
    where = f"{kind} {keyword or '?'}"
    for name in ("keyword", "reply") + (("title", "area", "script") if kind == "demands" else ("name",)):
        if item.get(name) in (None, ""):
            raise CatalogueError(f"{where}: '{name}' is missing")
    if kind == "demands" and item["area"] not in areas:
        raise CatalogueError(f"{where}: area {item['area']} is not defined")
    if kind == "demands" and "ask_as_of" in item:
        _as_of(item)
    if kind == "demands" and item.get("target_source", "seed") not in TARGET_SOURCES:
        raise CatalogueError(f"{where}: target_source must be {' or '.join(TARGET_SOURCES)}")
    if kind == "demands":
        kinds.parse(item.get("targets", "congress"), item.get("target_order"), where)
    for word in (keyword, *[str(a) for a in item.get("aliases") or []]):
        key = keyword_key(word)
        if not key:
            raise CatalogueError(f"{where}: keyword or alias {word!r} has no letters or digits")
        if key in RESERVED_WORDS:
            raise CatalogueError(f"{where}: {word!r} is a reserved word")
        if key in seen:
            raise CatalogueError(f"{where}: {word!r} is already used by {seen[key]}")
        seen[key] = where
    check_text(f"{where} reply", item["reply"], segments)
    if kind == "demands":
        check_script(f"{where} script", item["script"], segments)


def _validate_mentions(item: dict[str, Any], seen: dict[str, str]) -> None:
    """Mentions: a list of short phrases, none a reserved word or another item's keyword or alias."""
    where = f"demands {item['keyword']}"
    mentions = item.get("mentions") or []
    if not isinstance(mentions, list):
        raise CatalogueError(f"{where}: mentions must be a list of phrases")
    for mention in mentions:
        key = keyword_key(str(mention))
        if not key or len(str(mention)) > MENTION_MAX:
            raise CatalogueError(f"{where}: mention {mention!r} must have letters or digits, "
                                 f"in at most {MENTION_MAX} characters")
        if key in RESERVED_WORDS:
            raise CatalogueError(f"{where}: mention {mention!r} is a reserved word")
        if seen.get(key, where) != where:
            raise CatalogueError(f"{where}: mention {mention!r} is already a keyword or alias of {seen[key]}")


WORST_VALUES = {"org": "x" * defaults.ORG_NAME_MAX, "contact": "x" * defaults.ORG_CONTACT_MAX}
"""Placeholders of service texts, filled as long as they can be when a text is checked."""


def check_text(where: str, text: str, segments: int = defaults.MAX_REPLY_SEGMENTS,
               values: dict[str, str] | None = None) -> None:
    """Raise CatalogueError if ``text``, its placeholders filled at their longest, needs more than ``segments``."""
    filled = encoding.gsm_safe(_fill(text, {**WORST_VALUES, **(values or {})}))  # counted as it is sent
    info = encoding.count(filled)
    allowed = budget.limit(segments, info)
    if info.segments > allowed:
        hint = ""
        if info.encoding == "UCS-2" and budget.allows(segments, translations.fold_accents(filled)):
            hint = (f" (its {''.join(encoding.ucs2_characters(filled))} make it UCS-2: shorten it, or list it "
                    "under fold_accents to send it without those accents)")
        raise CatalogueError(
            f"{where} needs {info.segments} SMS segments ({info.units} {info.encoding} units); "
            f"the limit is {allowed}{hint}"
        )


def check_script(where: str, script: str, segments: int = defaults.MAX_REPLY_SEGMENTS,
                 target: str = "x" * TARGET_NAME_CHECKED, language: str | None = None) -> None:
    """Raise CatalogueError if not even the script's ask sentence fits in a text after CALL."""
    def fill(template: str) -> str:
        return _fill(template, {"target": target, "zip": "02139", "caller_city": "my community"})

    if not budget.script_fits(script, fill, segments, languages.script_labels(language)):
        raise CatalogueError(f"{where}: its first sentence naming {{target}} does not fit in {segments} SMS "
                             f"segments with a {len(target)}-character name; shorten that sentence")


@dataclass
class ImportSummary:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)
    """Console edits the import left in place ("CHOKEHOLD: reply, title (edited 2026-12-01)")."""
    missing: list[str] = field(default_factory=list)
    """Demands offered from the database that the YAML no longer has (still live unless retired)."""
    retired: list[str] = field(default_factory=list)


def import_catalogue(session: Session, data: dict[str, Any], segments: int = defaults.MAX_REPLY_SEGMENTS,
                     overwrite: bool = False, retire_missing: bool = False) -> ImportSummary:
    """Upsert areas, demands, campaigns and texts from validated ``data``; commit.

    What an organizer changed in the console is kept unless ``overwrite`` (and listed in
    ``kept``); live demands the YAML lacks are listed in ``missing``, and retired when
    ``retire_missing``, never deleted (their people's history stays).
    """
    data = with_translations(data)
    validate(data, segments)
    summary = ImportSummary()
    for area in data["areas"]:
        _upsert(session, Area, area["number"], {"title": area["title"]}, summary)
    renamed = _renamed(session)
    for position, item in enumerate(data.get("demands") or []):
        fields = _demand_fields(item, position)
        if "ask_as_of" in item:
            fields["ask_as_of"] = _as_of(item)
        keyword = renamed.get(str(item["keyword"]), item["keyword"])
        if keyword != item["keyword"]:
            summary.kept.append(f"demand {item['keyword']}: renamed {keyword} in the console")
        _upsert(session, Demand, keyword, _keep_demand_edits(session, keyword, fields, overwrite, summary), summary)
    for position, item in enumerate(data.get("campaigns") or []):
        fields = {"name": item["name"], "reply": item["reply"], "position": position}
        _upsert(session, Campaign, item["keyword"], fields, summary)
    for key, value in (data.get("messages") or {}).items():
        _upsert(session, CatalogueText, key, _keep_text_edit(session, key, value, overwrite, summary), summary)
    for code, mapping in (data.get("translations") or {}).items():
        for kind, key, name, text, fold in translations.rows(mapping):
            _upsert(session, CatalogueTranslation, (code, kind, key, name), {"text": text, "fold_accents": fold},
                    summary)
    _missing_demands(session, data, retire_missing, summary)
    if summary.added or summary.changed or summary.retired:
        bump_version(session)
    session.commit()
    return summary


RENAMED = "was:"
"""``edited_fields`` entry of a demand renamed in the console: ``was:CHOKEHOLD`` (the YAML's keyword)."""


def _renamed(session: Session) -> dict[str, str]:
    """YAML keyword → the keyword an organizer renamed that demand to in the console."""
    renamed: dict[str, str] = {}
    for keyword, edited in session.execute(select(Demand.keyword, Demand.edited_fields)
                                           .where(Demand.edited_fields.is_not(None))):
        for entry in edited or []:
            if entry.startswith(RENAMED):
                renamed[entry[len(RENAMED):]] = keyword
    return renamed


def _as_of(item: dict[str, Any]) -> date | None:
    value = item.get("ask_as_of")
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CatalogueError(f"demands {item['keyword']}: ask_as_of {value!r} is not a date (YYYY-MM-DD)") from exc


def _keep_demand_edits(session: Session, keyword: str, fields: dict[str, Any], overwrite: bool,
                       summary: ImportSummary) -> dict[str, Any]:
    """``fields`` without the ones an organizer edited in the console (unless ``overwrite``)."""
    row = session.get(Demand, keyword)
    edited = set(row.edited_fields or []) if row is not None else set()
    if not edited:
        return fields
    if overwrite:  # the YAML's wording wins; a console rename stays (the keyword is how people reach it)
        names = sorted(name for name in edited if name.startswith(RENAMED)) or None
        return {**fields, "edited_fields": names, "edited_at": None}
    kept = sorted(name for name in edited & fields.keys() if getattr(row, name) != fields[name])
    if kept:
        summary.kept.append(f"demand {keyword}: {', '.join(kept)}{_edited_on(row.edited_at)}")
    return {name: value for name, value in fields.items() if name not in edited}


def _keep_text_edit(session: Session, key: str, value: str, overwrite: bool, summary: ImportSummary
                    ) -> dict[str, Any]:
    row = session.get(CatalogueText, key)
    if row is None or row.edited_at is None:
        return {"text": value}
    if overwrite:
        return {"text": value, "edited_at": None}
    if row.text != value:
        summary.kept.append(f"text {key}{_edited_on(row.edited_at)}")
    return {"text": row.text}


def _edited_on(when: datetime | None) -> str:
    return f" (edited in the console {when:%Y-%m-%d})" if when else " (edited in the console)"


def _missing_demands(session: Session, data: dict[str, Any], retire: bool, summary: ImportSummary) -> None:
    renamed = _renamed(session)
    in_yaml = {renamed.get(str(item["keyword"]), str(item["keyword"])) for item in data.get("demands") or []}
    for row in session.scalars(select(Demand).where(Demand.active).order_by(Demand.position)):
        if row.keyword in in_yaml:
            continue
        if retire:
            row.active, row.retired_at = False, utcnow()
            summary.retired.append(row.keyword)
        else:
            summary.missing.append(row.keyword)


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
        **_targets(item),
        "script": item["script"],
        "followup": bool(item.get("followup", True)),
        "mentions": [str(m) for m in item.get("mentions") or []],
    }


def _targets(item: dict[str, Any]) -> dict[str, Any]:
    """``targets`` and ``target_order`` as stored (``sms.targets.kinds``; checked by ``_validate_item``)."""
    targets, order = kinds.stored(kinds.parse(item.get("targets", "congress"), item.get("target_order"),
                                              f"demands {item.get('keyword', '?')}"))
    return {"targets": targets, "target_order": order or (["house", "senate"] if targets == "congress" else [])}


def _upsert(session: Session, model: type, key: Any, fields: dict[str, Any], summary: ImportSummary) -> None:
    row = session.get(model, key)
    if row is None:
        names = [column.name for column in model.__mapper__.primary_key]
        session.add(model(**dict(zip(names, key if isinstance(key, tuple) else (key,), strict=True)), **fields))
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


@functools.cache
def version_query() -> Select[tuple[str]]:
    """The stored catalogue's version (a scalar subquery callers may fold into their own read).

    Built once: every step reading the catalogue asks it, and building it costs more than running it.
    """
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
    """A snapshot straight from catalogue data (a validated YAML mapping), with the shipped translations."""
    data = with_translations(data)
    demands = tuple(_demand_view(str(d["keyword"]), _demand_fields(d, 0)) for d in data.get("demands") or [])
    campaigns = tuple(CampaignView(str(c["keyword"]), c["name"], c["reply"]) for c in data.get("campaigns") or [])
    areas = {a["number"]: a["title"] for a in data["areas"]}
    found = translations.Translations.of(
        (code, *row) for code, mapping in (data.get("translations") or {}).items()
        for row in translations.rows(mapping, f"demands.{code}.yaml"))
    return Catalogue(areas=areas, demands=_with_words(demands, found), campaigns=campaigns,
                     texts=dict(data.get("messages") or {}), translations=found)


def _demand_view(keyword: str, fields: dict[str, Any]) -> DemandView:
    fields = {k: v for k, v in fields.items() if k in DemandView.__dataclass_fields__ and k != "keyword"}
    return DemandView(
        keyword=keyword, **{**fields, "aliases": tuple(fields["aliases"] or ()),
                            "target_order": tuple(fields["target_order"] or ()),
                            "mentions": tuple(fields.get("mentions") or ())}
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
    found = translations.Translations.of(
        (t.language, t.kind, t.key, t.field, t.text, t.fold_accents)
        for t in session.scalars(select(CatalogueTranslation)))
    return Catalogue(areas=areas, demands=_with_words(demands, found), campaigns=campaigns, texts=texts,
                     version=version, translations=found, ended=_ended(session))


ENDED_TEXT = "{title}: this campaign has ended. Thank you to everyone who took part."
"""What texting a retired demand's keyword says before the menu (a catalogue text ``ended`` replaces it)."""


def _ended(session: Session) -> dict[str, str]:
    """Retired demands' keywords and aliases (keys) → title; a live item's word is never shadowed."""
    ended: dict[str, str] = {}
    rows = session.execute(select(Demand.keyword, Demand.aliases, Demand.title)
                           .where(~Demand.active, Demand.retired_at.is_not(None)))
    for keyword, aliases, title in rows:
        for word in (keyword, *(aliases or [])):
            ended.setdefault(keyword_key(word), title)
    return ended
