"""The shape of ``sms/``: no import cycles, jobs enqueued by name, no import kept for a side effect."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sms", "handlers")
SIDE_EFFECT_IMPORT = re.compile(r"noqa:[^\n]*F40[1]")  # the marker, spelled so that a grep for it finds only real uses


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
            if "migrations" not in p.parts}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every project module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name not in PACKAGES:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    files = sources()
    known = set(files)
    return {name: imports_of(path, known) - {name} for name, path in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan), as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_sms_modules() -> None:
    edges = {name: {d for d in deps if d.startswith("sms.")} for name, deps in graph().items()
             if name.startswith("sms.")}
    assert cycles(edges) == []


def test_function_local_imports_are_in_the_graph() -> None:
    edges = graph()
    # sms.broadcasts.merge_fields imports the ZIP lookup inside a function only
    assert "sms.targets.lookup" in edges["sms.broadcasts.merge_fields"]


def test_nothing_in_sms_imports_the_job_module() -> None:
    importers = sorted(name for name, deps in graph().items() if "sms.tasks" in deps and name.startswith("sms."))
    assert importers == []


def test_sms_never_imports_flask_or_handlers() -> None:
    offenders = []
    for name, path in sources().items():
        if not name.startswith("sms."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{name}: {m}" for m in modules if m.split(".")[0] in ("flask", "handlers")]
    assert offenders == []


def test_no_import_is_kept_only_for_its_side_effect() -> None:
    """An import marked ``# noqa`` for F401 (unused) in the sources means something registers itself on import."""
    kept = [f"{name}:{n}" for name, path in sources().items()
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if SIDE_EFFECT_IMPORT.search(line)]
    assert kept == []
