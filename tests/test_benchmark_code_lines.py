"""benchmarks/code_lines.py: code found without pearl, and looked for as lines of the prompt."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import code_lines  # noqa: E402  (a script beside the package, not part of it)


def test_code_is_found_in_fences_and_in_a_pages_pre_only() -> None:
    markdown = "Run it.\n\n```python\nfor x in a:\n    print(x)\n\n```\n\nMention of a <pre> in prose.\n"
    assert code_lines.code_lines(markdown) == ["for x in a:", "    print(x)"]
    page = "<!DOCTYPE html><html><body><p>Run:</p><pre>&gt;&gt;&gt; f(1)\n  2\n</pre></body></html>"
    assert code_lines.code_lines(page) == [">>> f(1)", "  2"]


def test_a_fenced_block_is_measured_against_its_collapsed_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Loop\n\nIt prints.\n\n```python\nfor x in a:\n    print(x)\n```\n", encoding="utf-8")
    assert code_lines.main([str(notes)]) == 0
    out = capsys.readouterr().out
    assert "notes.md" in out and "code lines=    2 as written=1.000 (collapsed 0.000)" in out
