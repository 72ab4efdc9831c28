"""The public API is exactly what `pearl.__all__` lists, sorted, and importing it does no I/O."""

from __future__ import annotations

import subprocess
import sys

import pearl


def test_all_is_sorted_and_importable() -> None:
    assert pearl.__all__ == sorted(pearl.__all__, key=lambda n: (not n.isupper(), n))
    for name in pearl.__all__:
        assert hasattr(pearl, name), name


def test_import_does_no_io(tmp_path: object) -> None:
    code = (
        "import builtins, os\n"
        "opened = []\n"
        "real = builtins.open\n"
        "builtins.open = lambda f, *a, **k: (opened.append(str(f)), real(f, *a, **k))[1]\n"
        "import pearl\n"
        "print([f for f in opened if 'pearl' in f and not f.endswith('.py')])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
