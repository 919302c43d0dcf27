"""Custom target sets (``custom_targets:`` in data/demands.yaml): their rules and their targets.

A set is a list of offices (a city council, a district attorney...) with the rules declared
beside it: the weekday hours its offices answer (``hours: "9-17"`` and ``zone:``, or
``hours: always``; a set without hours is refused, so nothing is dialed around the clock by
accident) and, optionally, the constituents it takes calls from (states, ZIPs or ZIP
prefixes) and a Congress demand offered to everyone else. ``flask import-targets`` loads
them; the console edits the targets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from sms.errors import DataError
from sms.targets.importer import Summary, e164
from sms.targets.lookup import DATA
from sms.targets.models import CustomTarget, CustomTargetSet

CATALOGUE_YAML = DATA / "demands.yaml"
_STATE = re.compile(r"[A-Z]{2}")
_ZIP5 = re.compile(r"\d{5}")
_ZIP_PREFIX = re.compile(r"\d{1,5}")
_SET_NAME = re.compile(r"^[a-z0-9_]{1,60}$")


@dataclass
class CustomSet:
    """One set of ``custom_targets:``: its rules (a CustomTargetSet row) and its targets, in calling order."""

    name: str
    rules: dict[str, Any]
    targets: list[dict[str, Any]]


def load_custom_targets(path: Path | str = CATALOGUE_YAML) -> dict[str, CustomSet]:
    """``custom_targets:`` from a catalogue or targets YAML, validated, phones in E.164.

    Each set declares its weekday office hours (``hours: "9-17"`` with ``zone:``, or
    ``hours: always``) and may take calls only from its constituents (``constituents:``).
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: {exc}") from exc
    return {str(name): _custom_set(f"{path}: custom_targets.{name}", str(name), spec)
            for name, spec in (data.get("custom_targets") or {}).items()}


def _custom_set(where: str, name: str, spec: Any) -> CustomSet:
    if not _SET_NAME.match(name):
        raise DataError(f"{where}: a set name is 1-60 lowercase letters, digits or _")
    if not isinstance(spec, dict):
        raise DataError(f"{where}: declare the set's office hours with its targets, e.g. "
                        "{hours: \"9-17\", zone: America/New_York, targets: [...]} (hours: always if it never closes)")
    pick = spec.get("pick")
    if pick is not None and (not isinstance(pick, int) or isinstance(pick, bool) or pick < 0):
        raise DataError(f"{where}: pick is how many of the targets not marked always to call at random (0 or more)")
    rules = {"name": name, "title": str(spec.get("name") or "").strip()[:120], **_hours(where, spec),
             **_constituents(f"{where}.constituents", spec.get("constituents")), "pick": pick}
    targets = [_custom_target(f"{where}.targets[{position}]", name, position, item)
               for position, item in enumerate(spec.get("targets") or [])]
    return CustomSet(name, rules, targets)


def _hours(where: str, spec: dict[str, Any]) -> dict[str, Any]:
    """``hours: "9-17"`` + ``zone:`` (weekdays), or ``hours: always``; nothing is always open by default."""
    raw = str(spec.get("hours") or "").strip().lower()
    if not raw:
        raise DataError(f"{where}: hours are missing: say when its offices answer on weekdays, e.g. "
                        "hours: \"9-17\" with zone: America/Kentucky/Louisville (or hours: always)")
    if raw == "always":
        return {"opens": None, "closes": None, "zone": ""}
    span = re.fullmatch(r"(\d{1,2})\s*-\s*(\d{1,2})", raw)
    if span is None or not 0 <= int(span[1]) < int(span[2]) <= 24:
        raise DataError(f"{where}: hours {raw!r} are not START-END in whole hours (e.g. \"9-17\") or always")
    zone = str(spec.get("zone") or "").strip()
    try:
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise DataError(f"{where}: zone {zone!r} is not a time zone (e.g. America/Kentucky/Louisville)") from None
    return {"opens": int(span[1]), "closes": int(span[2]), "zone": zone}


def _constituents(where: str, spec: Any) -> dict[str, Any]:
    """Who may call: ``states``, ``zips`` and ``zip_prefixes``, ``who`` they are, ``others``' demand."""
    if not spec:
        return {"who": "", "states": [], "zips": [], "zip_prefixes": [], "others": ""}
    if not isinstance(spec, dict):
        raise DataError(f"{where}: give who, and states, zips or zip_prefixes")
    lists = {key: [str(v).strip().upper() for v in spec.get(key) or []] for key in ("states", "zips", "zip_prefixes")}
    for key, pattern in (("states", _STATE), ("zips", _ZIP5), ("zip_prefixes", _ZIP_PREFIX)):
        bad = [v for v in lists[key] if not pattern.fullmatch(v)]
        if bad:
            raise DataError(f"{where}.{key}: {bad[0]!r} is not a {key[:-1].replace('_', ' ')} (quote ZIPs: '02139')")
    if not any(lists.values()):
        raise DataError(f"{where}: list the constituents' states, zips or zip_prefixes")
    who = " ".join(str(spec.get("who") or "").split())
    if not who or len(who) > 120:
        raise DataError(f"{where}.who: say who they are in up to 120 characters, as in \"takes calls from "
                        "Louisville residents\"")
    return {"who": who, **lists, "others": str(spec.get("others") or "").strip().upper()[:40]}


def _custom_target(where: str, set_name: str, position: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not item.get("name") or not item.get("phone"):
        raise DataError(f"{where}: name and phone are required")
    try:
        phone = e164(str(item["phone"]))
    except ValueError as exc:
        raise DataError(f"{where}: {exc}") from None
    return {"set_name": set_name, "position": position, "name": str(item["name"])[:120],
            "title": str(item.get("title") or "")[:60], "phone": phone, "note": str(item.get("note") or "")[:400],
            "verified_on": _verified(where, item.get("verified")), "always": bool(item.get("always", False))}


def _verified(where: str, value: Any) -> date | None:
    """``verified: 2026-11-20``: the day someone called the number and it reached the office."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DataError(f"{where}.verified: {value!r} is not a date (YYYY-MM-DD)") from None


def set_exists(session: Session, set_name: str) -> bool:
    """True if the custom target set has any targets (loaded or edited in the console)."""
    return session.scalar(select(CustomTarget.id).where(CustomTarget.set_name == set_name).limit(1)) is not None


def import_custom_targets(session: Session, sets: dict[str, CustomSet], if_empty: bool = False) -> Summary:
    """Replace the rules and targets of each set named in ``sets`` (other sets are left alone); commit.

    ``if_empty`` keeps what is there (console edits): only sets without targets get the file's
    targets, and only sets without rules get the file's hours and constituents.
    """
    summary = Summary()
    for custom_set in sets.values():
        _import_rules(session, custom_set, if_empty, summary)
        if not (if_empty and set_exists(session, custom_set.name)):
            _import_targets(session, custom_set, summary)
    session.commit()
    return summary


def _import_rules(session: Session, custom_set: CustomSet, if_empty: bool, summary: Summary) -> None:
    row = session.get(CustomTargetSet, custom_set.name)
    if row is not None and (if_empty or all(getattr(row, k) == v for k, v in custom_set.rules.items())):
        return
    if row is None:
        session.add(CustomTargetSet(**custom_set.rules))
    else:
        for key, value in custom_set.rules.items():
            setattr(row, key, value)
    summary.notes.append(f"{custom_set.name}: {describe(custom_set.rules)}")


def describe(rules: dict[str, Any]) -> str:
    """``open 9-17 America/Kentucky/Louisville on weekdays, takes calls from Louisville residents``."""
    hours = "always open" if rules["opens"] is None else \
        f"open {rules['opens']}-{rules['closes']} {rules['zone']} on weekdays"
    return f"{hours}, takes calls from {rules['who'] or 'anyone'}"


def _import_targets(session: Session, custom_set: CustomSet, summary: Summary) -> None:
    """Replace a set's targets with the file's, unless they are the same (a ``verified:`` date is still taken)."""
    items = custom_set.targets
    rows = session.scalars(
        select(CustomTarget).where(CustomTarget.set_name == custom_set.name).order_by(CustomTarget.position)).all()
    current = [{"name": r.name, "title": r.title, "phone": r.phone, "note": r.note, "always": r.always} for r in rows]
    wanted = [{k: i[k] for k in ("name", "title", "phone", "note", "always")} for i in items]
    summary.loaded += len(items)
    if current == wanted:  # the same targets: keep them (and the console's verifications)
        dated = [(i, r) for i, r in zip(items, rows) if i["verified_on"] not in (None, r.verified_on)]
        for item, row in dated:
            row.verified_on = item["verified_on"]
        summary.changed += len(dated)
        summary.unchanged += len(items) - len(dated)
        return
    session.execute(delete(CustomTarget).where(CustomTarget.set_name == custom_set.name))
    if items:
        session.execute(insert(CustomTarget), items)
    if current:
        summary.changed += len(items)
    else:
        summary.added += len(items)
