"""Run every benchmark script in this folder (``make bench``)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if not module.name.startswith("_"):
        print(f"== {module.name}")
        importlib.import_module(f"benchmarks.{module.name}").main()
