"""Make the per-test app cheap to build, without changing what a test sees.

Every test builds its own app (``tests.conftest.app``), and werkzeug compiles two URL builders
per route for each new app: Python source generated, parsed and ``compile()``d, about a fifth of
the suite's CPU. A builder depends only on the rule's parsed parts, its defaults and whether it
appends unknown arguments (the rule itself is passed in at call time), so the same function can
serve every app: ``share_url_builders`` keeps one per distinct rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import rules

_built: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}


def _key(rule: rules.Rule, append_unknown: bool) -> tuple[Any, ...] | None:
    defaults = rule.defaults or {}
    try:
        key = (rule.rule, tuple(rule._trace), tuple(sorted(defaults.items())), append_unknown,
               tuple(sorted((name, type(conv)) for name, conv in rule._converters.items())))
        hash(key)
    except TypeError:  # a default that cannot be a key: compile as werkzeug does
        return None
    return key


def share_url_builders() -> None:
    """Compile each distinct route's URL builders once per test session instead of once per app."""
    compile_builder = rules.Rule._compile_builder
    if getattr(compile_builder, "shared", False):
        return

    def shared(self: rules.Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        key = _key(self, append_unknown)
        if key is None:
            return compile_builder(self, append_unknown)
        if key not in _built:
            _built[key] = compile_builder(self, append_unknown)
        return _built[key]

    shared.shared = True  # type: ignore[attr-defined]
    rules.Rule._compile_builder = shared  # type: ignore[method-assign]
