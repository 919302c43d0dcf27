"""Edit one demand from the console with the same rules as the catalogue file.

The edited demand is checked together with the whole stored catalogue through
``catalogue.validate`` (reserved words, duplicate keywords, aliases and mentions, texts
within MAX_REPLY_SEGMENTS), plus the console's own checks on targets and script and on
keywords that would read as opt-outs (``sms.messaging.intent``). ``composed`` is what the
texter would get from the edit, as the service composes it: the reply, the area's list,
the script after CALL filled with the longest name it could be sent with, the follow-up;
an edit that would overflow one of them is refused. Saving bumps the catalogue version so
every process rebuilds its snapshot and the next text already gets the new wording.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms import defaults
from sms.calls import commands
from sms.messaging import catalogue, conversation, encoding, intent
from sms.store import Area, Campaign, CatalogueText, Demand, Interest, Subscriber, utcnow
from sms.targets import kinds, lookup
from sms.targets.models import CustomTarget, Legislator, StateOfficial

CUSTOM_SET = re.compile(r"^custom:[a-z0-9_]{1,50}$")
TARGET_ORDER_WORDS = frozenset({"house", "senate"})
TARGET_SLOTS = 6
"""How many ordered target choices the editor offers."""
SCRIPT_PLACEHOLDERS = frozenset({"target", "zip", "caller_city"})
FIELD_LIMITS = {"title": 120, "ask": 200, "targets": 200}


@dataclass
class DemandEdit:
    keyword: str
    aliases: list[str]
    title: str
    ask: str
    reply: str
    script: str
    targets: str
    target_order: list[str]
    mentions: list[str] = field(default_factory=list)
    ask_as_of: date | None = None
    """The day the ask was last checked true; ``ask_as_of_text`` keeps what was typed when it is not a date."""
    ask_as_of_text: str = ""

    @classmethod
    def from_form(cls, form: Any) -> DemandEdit:
        """Read the editor's fields (aliases and target order are comma separated)."""
        split = lambda name: [p.strip() for p in (form.get(name) or "").split(",") if p.strip()]  # noqa: E731
        return cls(
            keyword=(form.get("keyword") or "").strip().upper(),
            aliases=split("aliases"),
            title=(form.get("title") or "").strip(),
            ask=(form.get("ask") or "").strip(),
            reply=(form.get("reply") or "").strip(),
            script=(form.get("script") or "").strip(),
            targets=",".join(v.strip() for v in _all(form, "targets") if v.strip()),
            target_order=[p.lower() for p in split("target_order")],
            mentions=split("mentions"),
            ask_as_of=_date_or_none(form.get("ask_as_of")),
            ask_as_of_text=(form.get("ask_as_of") or "").strip(),
        )


EDITABLE = ("keyword", "aliases", "title", "ask", "reply", "script", "targets", "target_order", "mentions",
            "ask_as_of")
"""The demand fields the editor changes (and import-catalogue keeps once changed)."""


def _date_or_none(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _all(form: Any, name: str) -> list[str]:
    """Every value of a repeated field (the editor's ordered target choices); one for a plain dict."""
    return list(form.getlist(name)) if hasattr(form, "getlist") else [str(form.get(name) or "")]


def target_choices(session: Session) -> list[tuple[str, str]]:
    """(value, label) of every target kind the editor offers, custom sets by name."""
    names = sorted(set(session.scalars(select(CustomTarget.set_name).distinct())))
    return [(k, kinds.LABELS.get(k, k)) for k in kinds.CHOICES if k != "custom:<set>"] + [
        (f"custom:{n}", f"Custom set {n}") for n in names]


def chosen_kinds(edit: DemandEdit) -> list[str]:
    """The kinds as the editor shows them, one per choice (the old ``congress`` with its order expanded)."""
    try:
        return list(kinds.parse(edit.targets, edit.target_order))
    except catalogue.CatalogueError:
        return [p for p in edit.targets.split(",") if p]


def errors_for(session: Session, original: str, edit: DemandEdit,
               segments: int = defaults.MAX_REPLY_SEGMENTS) -> dict[str, str]:
    """Problems with ``edit`` of demand ``original``, keyed by field name (empty when it may be saved)."""
    problems: dict[str, str] = {}
    for name in ("keyword", "title", "reply", "script", "targets"):
        if not getattr(edit, name):
            problems[name] = "Required."
    for name, limit in FIELD_LIMITS.items():
        if len(getattr(edit, name)) > limit:
            problems[name] = f"At most {limit} characters."
    if edit.ask_as_of_text and edit.ask_as_of is None:
        problems["ask_as_of"] = "A date, YYYY-MM-DD."
    elif edit.ask_as_of and edit.ask_as_of > utcnow().date():
        problems["ask_as_of"] = "The day the ask was last checked cannot be in the future."
    if edit.targets:
        try:
            kinds.parse(edit.targets, edit.target_order if edit.targets == "congress" else (),
                        f"demand {original}")
        except catalogue.CatalogueError as exc:
            problems["target_order" if "target_order" in str(exc) else "targets"] = \
                "For congress, list house and/or senate." if "target_order" in str(exc) else str(exc)
        bad = [k for k in edit.targets.split(",")
               if k.strip().startswith("custom:") and not CUSTOM_SET.match(k.strip())]
        if bad and "targets" not in problems:
            problems["targets"] = f"{bad[0]!r}: a custom set's name is lower-case letters, digits and _."
    unknown = set(re.findall(r"\{(\w+)\}", edit.script)) - SCRIPT_PLACEHOLDERS
    if unknown:
        problems["script"] = "Unknown placeholder(s): " + ", ".join(sorted(unknown)) + \
            ". Use {target}, {zip} or {caller_city}."
    problems.update({k: v for k, v in _word_problems(session, original, edit).items() if k not in problems})
    if not problems:
        try:
            catalogue.validate(_catalogue_with(session, original, edit), segments)
            catalogue.check_script("script", edit.script, segments, longest_target(session, edit))
        except catalogue.CatalogueError as exc:
            problems[_field_of(str(exc))] = str(exc)
    return problems


@dataclass(frozen=True)
class Composed:
    """One text as a texter would get it from the edited demand."""

    label: str
    text: str
    segments: int


def composed(session: Session, original: str, edit: DemandEdit, segments: int = defaults.MAX_REPLY_SEGMENTS,
             org: str = defaults.ORG_NAME) -> list[Composed]:
    """The texts the service composes from ``edit``: reply, area list, script after CALL, follow-up."""
    data = _catalogue_with(session, original, edit)
    snapshot = catalogue.from_data(data)
    area = next((d["area"] for d in data["demands"] if d["keyword"] == edit.keyword), None)
    target = longest_target(session, edit)
    texts = [(f"Reply to {edit.keyword or 'the keyword'}", encoding.gsm_safe(edit.reply))]
    if area in snapshot.areas:
        texts.append((f"Area {area} list", conversation.area_text(snapshot, area, segments)))
    texts.append((f"After CALL, with the longest name it can be sent with ({target})",
                  commands.script_text(edit.script, target, "02139", "MA", segments)))
    if "followup" in snapshot.texts:
        followup = snapshot.text("followup", org=org, title=edit.title, keyword=edit.keyword)
        texts.append(("Follow-up a day later", encoding.gsm_safe(followup)))
    return [Composed(label, text, encoding.count(text).segments) for label, text in texts]


def longest_target(session: Session, edit: DemandEdit) -> str:
    """The longest spoken name the script can be filled with: any office its targets could call first."""
    found = chosen_kinds(edit)
    names = list(session.scalars(select(CustomTarget.name).where(
        CustomTarget.set_name.in_(kinds.custom_sets(found))))) if kinds.custom_sets(found) else []
    chambers = [c for c in found if c in TARGET_ORDER_WORDS]
    if chambers:
        rows = session.execute(select(Legislator.title, Legislator.name).where(Legislator.chamber.in_(chambers)))
        names += [f"{lookup.SPOKEN_TITLES.get(title, title)} {name}" for title, name in rows]
    roles = [k for k in found if k in kinds.ATOMIC and k not in kinds.CONGRESS]
    if roles:
        rows = session.execute(select(StateOfficial.title, StateOfficial.name).where(StateOfficial.role.in_(roles)))
        names += [f"{lookup.SPOKEN_TITLES.get(title, title)} {name}" for title, name in rows]
    return max(names, key=len, default="x" * catalogue.TARGET_NAME_CHECKED)


def _word_problems(session: Session, original: str, edit: DemandEdit) -> dict[str, str]:
    """Reserved or already-used keyword and aliases, reported on the field that has them."""
    taken: dict[str, str] = {}
    for d in session.scalars(select(Demand).where(Demand.keyword != original)):
        for word in (d.keyword, *(d.aliases or [])):
            taken[catalogue.keyword_key(word)] = f"demand {d.keyword}"
    for c in session.scalars(select(Campaign)):
        taken[catalogue.keyword_key(c.keyword)] = f"campaign {c.keyword}"
    problems: dict[str, str] = {}
    seen: set[str] = set()
    for field_name, words in (("keyword", [edit.keyword]), ("aliases", edit.aliases)):
        for word in words:
            key = catalogue.keyword_key(word)
            if not key:
                message = f"{word!r} has no letters or digits."
            elif key in catalogue.RESERVED_WORDS:
                message = f"{word!r} is a reserved word (STOP, HELP, MENU...)."
            elif intent.classify(word).opt_out:  # compliance is read first: the demand could never be reached
                message = f"{word!r} reads as an opt-out (see data/opt_out.yaml)."
            elif key in taken:
                message = f"{word!r} is already used by {taken[key]}."
            elif key in seen:
                message = f"{word!r} repeats the keyword or another alias."
            else:
                seen.add(key)
                continue
            problems.setdefault(field_name, message)
    return problems


def _field_of(message: str) -> str:
    if message.startswith("script") or " script" in message.split(":", 1)[0]:
        return "script"
    if message.startswith("messages.followup"):
        return "title"  # the follow-up names the demand by its title
    if "mention" in message:
        return "mentions"
    if "reply" in message and "segments" in message:
        return "reply"
    return "aliases" if "alias" in message or "already used" in message or "reserved" in message else "keyword"


def _catalogue_with(session: Session, original: str, edit: DemandEdit) -> dict[str, Any]:
    """The stored catalogue as a catalogue-file mapping, with ``edit`` in place of ``original``."""
    demands = []
    for d in session.scalars(select(Demand).order_by(Demand.position)):
        item = {"keyword": d.keyword, "aliases": d.aliases, "area": d.area, "title": d.title,
                "reply": d.reply, "script": d.script, "mentions": d.mentions or []}
        if d.keyword == original:
            item.update(keyword=edit.keyword, aliases=edit.aliases, title=edit.title, reply=edit.reply,
                        script=edit.script, mentions=edit.mentions)
        demands.append(item)
    campaigns = [{"keyword": c.keyword, "name": c.name, "reply": c.reply}
                 for c in session.scalars(select(Campaign).order_by(Campaign.position))]
    texts = {t.key: t.text for t in session.scalars(select(CatalogueText)) if t.key != catalogue.VERSION_KEY}
    titles = {a.number: a.title for a in session.scalars(select(Area))}
    areas = [{"number": n, "title": titles.get(n, f"Area {n}")} for n in sorted({d["area"] for d in demands})]
    return {"areas": areas, "demands": demands, "campaigns": campaigns, "messages": texts}


def save(session: Session, original: str, edit: DemandEdit) -> Demand:
    """Apply a validated ``edit`` (renaming the keyword where it is remembered); bump the version; commit."""
    demand = session.get(Demand, original)
    if demand is None:
        raise catalogue.CatalogueError(f"demand {original} does not exist")
    if edit.keyword != original:
        session.execute(update(Interest).where(Interest.keyword == original).values(keyword=edit.keyword))
        session.execute(update(Subscriber).where(Subscriber.last_demand == original).values(last_demand=edit.keyword))
    order = edit.target_order if edit.targets == "congress" else ()
    targets, target_order = kinds.stored(kinds.parse(edit.targets, order, f"demand {original}"))
    if targets == "congress" and not target_order:
        target_order = ["house", "senate"]
    edit = replace(edit, targets=targets, target_order=target_order)
    changed = [name for name in EDITABLE if getattr(demand, name) != getattr(edit, name)]
    for name in changed:
        setattr(demand, name, getattr(edit, name))
    if changed:  # remembered so that import-catalogue keeps them (unless --overwrite)
        renamed = {f"{catalogue.RENAMED}{original}"} if edit.keyword != original else set()
        demand.edited_fields = sorted({*(demand.edited_fields or []), *changed, *renamed} - {"keyword"})
        demand.edited_at = utcnow()
    catalogue.bump_version(session)
    session.commit()
    return demand


def retire(session: Session, keyword: str) -> Demand:
    """Stop offering a demand: out of menus and mentions, its keyword says it ended; history kept; commit."""
    demand = _get(session, keyword)
    demand.active, demand.retired_at = False, utcnow()
    catalogue.bump_version(session)
    session.commit()
    return demand


def restore(session: Session, keyword: str) -> Demand:
    """Offer a retired demand again; commit."""
    demand = _get(session, keyword)
    demand.active, demand.retired_at = True, None
    catalogue.bump_version(session)
    session.commit()
    return demand


def _get(session: Session, keyword: str) -> Demand:
    demand = session.get(Demand, keyword.strip().upper())
    if demand is None:
        raise catalogue.CatalogueError(f"demand {keyword} does not exist")
    return demand


@dataclass(frozen=True)
class AskAge:
    """How old a demand's "as of" date is, for organizers (the seed's bills are of the 116th Congress)."""

    as_of: date | None
    days: int | None
    stale: bool

    @property
    def label(self) -> str:
        if self.as_of is None:
            return "as of: not set"
        return f"as of {self.as_of.isoformat()}" + (f" ({self.days} days ago: check it still stands)"
                                                     if self.stale else "")


def ask_age(as_of: date | None, today: date | None = None, stale_days: int = defaults.ASK_STALE_DAYS) -> AskAge:
    """``as_of``'s age; stale past ``stale_days`` (a bill may have passed, died or been renumbered)."""
    if as_of is None:
        return AskAge(None, None, False)
    days = ((today or utcnow().date()) - as_of).days
    return AskAge(as_of, days, days > stale_days)


# -- service texts (welcome, help, disclosure...) -----------------------------------------

TEXT_PLACEHOLDERS = {"followup": frozenset({"org", "title", "keyword"}), "help": frozenset({"org", "contact"})}
MUST_MENTION = {"help": ("STOP", "MSG & DATA RATES MAY APPLY", "{CONTACT}"), "disclosure": ("HELP", "STOP"),
                "start_confirm": ("STOP",), "deleted": ("START",)}
"""Compliance: these texts must keep telling people how to stop (and get help)."""


def text_problem(key: str, text: str, segments: int = defaults.MAX_REPLY_SEGMENTS,
                 demands: Sequence[tuple[str, str]] = ()) -> str | None:
    """Why service text ``key`` cannot be ``text``, or None when it can (``demands``: keyword, title)."""
    if not text.strip():
        return "Required."
    allowed = TEXT_PLACEHOLDERS.get(key, frozenset({"org"}))
    unknown = set(re.findall(r"\{(\w+)\}", text)) - allowed
    if unknown:
        return f"Unknown placeholder(s): {', '.join(sorted(unknown))}. Allowed: " + \
            ", ".join("{" + p + "}" for p in sorted(allowed)) + "."
    missing = [word for word in MUST_MENTION.get(key, ()) if word not in text.upper()]
    if missing:
        return f"This text must tell people about {' and '.join(missing)}."
    try:
        catalogue.check_text(key, text, segments)
        for keyword, title in demands if key == "followup" else ():
            catalogue.check_text(f"{key} (for {keyword})", text, segments, {"title": title, "keyword": keyword})
    except catalogue.CatalogueError as exc:
        return str(exc)
    return None


def demand_titles(session: Session) -> list[tuple[str, str]]:
    """(keyword, title) of every demand, for the follow-up's check."""
    return [(d.keyword, d.title) for d in session.scalars(select(Demand).order_by(Demand.position))]


def save_text(session: Session, key: str, text: str) -> None:
    """Store a checked service text and bump the catalogue version; commit."""
    row = session.get(CatalogueText, key)
    if row is None or key == catalogue.VERSION_KEY:
        raise catalogue.CatalogueError(f"no service text {key}")
    row.text = text
    row.edited_at = utcnow()  # import-catalogue keeps it unless --overwrite
    catalogue.bump_version(session)
    session.commit()


def service_texts(session: Session) -> dict[str, str]:
    rows = session.scalars(select(CatalogueText).order_by(CatalogueText.key))
    return {t.key: t.text for t in rows if t.key != catalogue.VERSION_KEY}
