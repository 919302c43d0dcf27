"""Who a demand calls: an ordered list of target kinds, checked where it is written (YAML, console).

A demand's ``targets`` is one kind or several in the organizer's order: ``congress`` (the
House member and senators, in ``target_order``), ``house``, ``senate``, ``state`` (the state
senator and representative), ``state-upper``, ``state-lower``, ``governor``,
``attorney-general``, ``mayor`` and ``custom:<set>``. Stored, it is either the old form
(``congress`` with ``target_order``, or a single ``custom:<set>``) or the kinds joined by
commas, each one atomic (``state`` and ``congress`` expanded), e.g.
``state-upper,state-lower,house,senate,custom:da``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from sms.errors import CatalogueError

CONGRESS = ("house", "senate")
STATE = ("state-upper", "state-lower")
ATOMIC = (*CONGRESS, *STATE, "governor", "attorney-general", "mayor")
GROUPS = {"congress": CONGRESS, "state": STATE}
CHOICES = ("congress", "house", "senate", "state", "state-upper", "state-lower", "governor", "attorney-general",
           "mayor", "custom:<set>")
"""The kinds an organizer may write, in the order the console offers them."""
LABELS = {"congress": "Congress (House member and senators)", "house": "U.S. House member",
          "senate": "U.S. senators", "state": "State legislators (senator and representative)",
          "state-upper": "State senator", "state-lower": "State representative", "governor": "Governor",
          "attorney-general": "State attorney general", "mayor": "Mayor (when the texter's city has one)"}
LEVELS = {"house": "congress", "senate": "congress", "state-upper": "state", "state-lower": "state",
          "governor": "state", "attorney-general": "state", "mayor": "city"}
"""The level whose office hours a kind keeps (a custom set keeps its own)."""


def refusal(where: str, value: object) -> CatalogueError:
    return CatalogueError(f"{where}: targets {value!r} is not a target kind; the kinds are "
                          f"{', '.join(CHOICES)}")


def parse(value: object, order: Iterable[str] | None = None, where: str = "demand") -> tuple[str, ...]:
    """The atomic kinds, in order, of ``targets`` (a string, comma-separated or not, or a list) with the
    old ``target_order`` refining ``congress``; CatalogueError naming ``where``, the value and the kinds."""
    items = value if isinstance(value, list | tuple) else str(value or "congress").split(",")
    out: list[str] = []
    for raw in items:
        kind = str(raw).strip()
        low = kind.lower()
        if low.startswith("custom:") and kind[7:].strip():
            out.append("custom:" + kind[7:].strip())
        elif low == "congress":
            wanted = tuple(o for o in order or () if o in CONGRESS) or CONGRESS
            bad = [o for o in order or () if o not in CONGRESS]
            if bad:
                raise CatalogueError(f"{where}: target_order {bad[0]!r} is neither house nor senate")
            out += wanted
        elif low in GROUPS:
            out += GROUPS[low]
        elif low in ATOMIC:
            out.append(low)
        else:
            raise refusal(where, kind)
    if not out:
        raise refusal(where, value)
    return tuple(dict.fromkeys(out))


def stored(kinds: tuple[str, ...]) -> tuple[str, list[str]]:
    """(``targets``, ``target_order``) to store: the old form where it says it all."""
    if all(k in CONGRESS for k in kinds):
        return "congress", list(kinds)
    if len(kinds) == 1 and kinds[0].startswith("custom:"):
        return kinds[0], []
    return ",".join(kinds), list(kinds)


@functools.lru_cache(maxsize=512)
def _of(targets: str, order: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return parse(targets, order)
    except CatalogueError:  # stored before kinds were checked: Congress, as it always meant
        return CONGRESS


def of(targets: str, order: Iterable[str] | None = ()) -> tuple[str, ...]:
    """The atomic kinds of a stored demand (``DemandView.targets``, ``target_order``)."""
    return _of(targets or "congress", tuple(order or ()))


def only_custom(targets: str) -> str | None:
    """The set a demand calls when it calls a custom set only, else None."""
    found = of(targets)
    return found[0].split(":", 1)[1] if len(found) == 1 and found[0].startswith("custom:") else None


def custom_sets(kinds: Iterable[str]) -> list[str]:
    return [k.split(":", 1)[1] for k in kinds if k.startswith("custom:")]


def needs_place(kinds: Iterable[str]) -> bool:
    """True if any kind is found from where the texter is (a ZIP); custom sets may need it too (their rules)."""
    return any(not k.startswith("custom:") for k in kinds)


def label(kinds: Iterable[str]) -> str:
    """For people: ``State senator, State representative, U.S. House member``."""
    return ", ".join(LABELS.get(k, f"the {k.split(':', 1)[1]} set" if k.startswith("custom:") else k) for k in kinds)
