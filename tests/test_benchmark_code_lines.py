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


def test_a_source_file_is_measured_read_as_code_against_read_as_prose(tmp_path: Path) -> None:
    tool = tmp_path / "tool.py"
    code = "import os\n\n\ndef main():\n    for name in os.listdir():\n        print(name)\n"
    tool.write_text(code, encoding="utf-8")
    row = code_lines._source_row(tool)
    assert row["lines"] == 4
    assert row["code as written"] == 4 and row["code own line"] == 4
    # As prose the function's lines run together: only the import, a unit alone, is a line of its own.
    assert row["prose as written"] == 1 and row["prose own line"] == 1
