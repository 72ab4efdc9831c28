"""benchmarks/context_recall.py --dense: its lines come from pearl's own dense signal, and `pearl` stays lexical."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from test_dense import QUESTION, TEXT, Concepts

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import context_recall  # noqa: E402  (a script beside the package, not part of it)


def test_dense_lines_measure_the_signal_and_the_pearl_line_is_measured_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "set.jsonl"
    row = {"input": TEXT, "instructions": [QUESTION], "outputs": ["The supply boat came every second Tuesday."]}
    data.write_text(json.dumps(row) + "\n", encoding="utf-8")
    monkeypatch.setattr(context_recall, "MiniLM", Concepts)
    assert context_recall.main([str(data), "--budget", "30", "--dense", "--no-ner"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")}
    assert "verbatim=0.000" in lines["pearl"]  # the vectors are attached, but this line is the lexical ranking
    assert "verbatim=1.000" in lines["dense"] and "verbatim=1.000" in lines["pearl+dense"]
    assert context_recall.main([str(data), "--budget", "30", "--dense", "--no-ner", "--dense-weight", "0"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")}
    assert "verbatim=0.000" in lines["pearl+dense"]


def test_unit_cap_indexes_afresh_with_that_cap_and_puts_the_default_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pearl.context import _index

    # One sentence of some 150 tokens with no clause mark: cut at the cap, its gold piece fits a small budget.
    words = " ".join(f"word{i}" for i in range(60))
    sentence = f"On weekdays {words} the ferry leaves at noon from the north pier."
    data = tmp_path / "set.jsonl"
    row = {"input": sentence, "instructions": ["When does the ferry leave?"], "outputs": ["the ferry leaves at noon"]}
    data.write_text(json.dumps(row) + "\n", encoding="utf-8")
    default = _index.MAX_UNIT_TOKENS

    def pearl_line(*extra: str) -> str:
        assert context_recall.main([str(data), "--budget", "60", "--no-ner", *extra]) == 0
        return next(line for line in capsys.readouterr().out.splitlines() if line.startswith("pearl "))

    assert "verbatim=0.000" in pearl_line()  # one unit over the budget: cut to its start, the gold lost
    assert "verbatim=1.000" in pearl_line("--unit-cap", "40")
    assert default == _index.MAX_UNIT_TOKENS
    assert "verbatim=0.000" in pearl_line()  # the capped index was not cached
