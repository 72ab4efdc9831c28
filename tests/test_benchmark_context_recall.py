"""benchmarks/context_recall.py: the dense signal's switch adds exactly what it is given, for one call."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from pearl.context import _compress, compress, index_document

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import context_recall  # noqa: E402  (a script beside the package, not part of it)

TEXT = " ".join(
    [
        "The keeper lit the lamp at dusk.",
        "Gulls circled the rocks below the tower.",
        "The supply boat came every second Tuesday.",
        "Dorota mended the nets in the boathouse.",
        "Winter storms closed the harbour for weeks.",
        "The lamp burned oil from the mainland.",
    ]
)


@pytest.fixture(autouse=True)
def _pearl_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEARL_HOME", str(tmp_path / "home"))


def test_a_zero_dense_signal_changes_nothing_and_a_strong_one_brings_its_sentence() -> None:
    original = _compress._bm25
    index = index_document(TEXT, cache=False, ner=False)
    question = "When was the lamp lit?"
    budget = 30  # room for two of the six sentences
    plain = compress(index, question, budget)
    with context_recall.dense_signal(np.zeros(index.sentence_count)):
        same = compress(index, question, budget)
    assert same.sentence_ids == plain.sentence_ids
    boat = next(i for i in range(index.sentence_count) if "boat" in index.sentence_text(i))
    assert boat not in plain.sentence_ids  # no word of the question: only the added signal can bring it
    extra = np.zeros(index.sentence_count)
    extra[boat] = 5.0
    with context_recall.dense_signal(extra):
        assert boat in compress(index, question, budget).sentence_ids
    assert compress(index, question, budget).sentence_ids == plain.sentence_ids  # switched off on leaving
    assert _compress._bm25 is original
