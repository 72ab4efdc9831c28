"""Scripts beside the package (`datasets/*/build.py`), loaded as modules for their tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def load_script(relative: str) -> ModuleType:
    """The script at `relative` (from the repository's root) as a module named after its folder and file.

    Not imported by name: "build" is also a PyPI package, and two folders' `build.py` would be one module.
    """
    path = REPO / relative
    spec = importlib.util.spec_from_file_location("_".join(Path(relative).with_suffix("").parts), path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
