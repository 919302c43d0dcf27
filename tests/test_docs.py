"""README.md and docs/ point only at what exists, map every module and document every setting."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
MARKDOWN_FILE = re.compile(r"(?<![\w./-])([\w./-]*[A-Za-z0-9_]\.md)\b")
SOURCE_PATH = re.compile(r"(?<![\w./-])((?:sms|handlers|tests|benchmarks)/[\w/]+\.py"
                         r"|(?:app|worker|gunicorn\.conf)\.py)\b")
DOTTED_NAME = re.compile(r"(?<![\w./-])((?:sms|handlers)(?:\.[A-Za-z_]\w*)+)")
KEY_READERS = {"get", "_int", "_bool", "_positive"}
"""The helpers ``sms/settings.py`` reads a setting through: the first string argument is its key."""


def text(doc: Path) -> str:
    return doc.read_text(encoding="utf-8")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in text(doc).splitlines() if line.startswith("#")}


def module_file(parts: list[str]) -> Path | None:
    base = ROOT.joinpath(*parts)
    return next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)


def top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def resolves(dotted: str) -> bool:
    """``sms.x.y`` is a module, or a module followed by one of its top-level names."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        found = module_file(parts[:cut])
        if found is not None:
            return cut == len(parts) or parts[cut] in top_level_names(found)
    return False


def module_map() -> list[str]:
    """Entries of the README's module map: ``dir/`` or ``file`` at the margin, ``file.py`` indented under a dir."""
    block = text(ROOT / "README.md").split("## Module map", 1)[1].split("```")[1]
    folder, entries = "", []
    for line in filter(str.strip, block.splitlines()):
        name = line.split()[0]
        if line.startswith(" "):
            entries.append(folder + name)
        else:
            folder = name if name.endswith("/") else ""
            entries.append(name)
    return entries


def setting_keys() -> set[str]:
    tree = ast.parse((ROOT / "sms" / "settings.py").read_text(encoding="utf-8"))
    keys = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            strings = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if name in KEY_READERS and strings:
                keys.add(strings[0])
    return keys


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_links_and_named_files_exist(doc: Path) -> None:
    missing = []
    for target in LINK.findall(text(doc)):
        if re.match(r"[a-z]+:", target):
            continue  # http(s):, mailto:
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists():
            missing.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            missing.append(target)
    for name in MARKDOWN_FILE.findall(text(doc)):
        if not (doc.parent / name).exists() and not (ROOT / name).exists():
            missing.append(name)
    assert missing == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_named_modules_exist(doc: Path) -> None:
    body = text(doc)
    missing = [p for p in SOURCE_PATH.findall(body) if not (ROOT / p).is_file()]
    missing += [name for name in DOTTED_NAME.findall(body) if not name.endswith(".py") and not resolves(name)]
    assert missing == []


def test_module_map_lists_every_module_and_only_real_ones() -> None:
    listed = set(module_map())
    assert sorted(entry for entry in listed if not (ROOT / entry).exists()) == []
    sources = [*ROOT.glob("*.py"), *(ROOT / "sms").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]
    modules = {p.relative_to(ROOT).as_posix() for p in sources if "migrations" not in p.parts}
    by_folder = {f"{entry}__init__.py" for entry in listed if entry.endswith("/")}  # a package's own line
    assert sorted(modules - listed - by_folder) == []


def test_every_setting_is_documented() -> None:
    keys = setting_keys()
    assert {"CALL_OFFICE_HOURS", "DATABASE_URL", "WORKER_CRON"} <= keys  # the reader list still finds them
    documented = text(ROOT / "docs" / "configuration.md")
    assert sorted(k for k in keys if f"`{k}`" not in documented) == []


def test_readme_first_screen() -> None:
    first = "\n".join(text(ROOT / "README.md").splitlines()[:40])
    for needed in ("make run", "make test", "create-organizer", "/console", "simulate"):
        assert needed in first
