"""The context stage on real documents from ../shared/data (skipped when the folder is absent)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from pearl.context import compress, entity_sheet, index_document

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"no development data at {DATA}"),
]


@pytest.fixture(autouse=True)
def _pearl_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEARL_HOME", str(tmp_path))


def _rows(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def test_contract_clauses_survive_compression_and_the_cache_loads_fast() -> None:
    row = min(_rows("leval_legal_contract_qa.jsonl"), key=lambda r: len(str(r["input"])))
    text = str(row["input"])
    index = index_document(text)
    kept = 0
    questions = list(row["instructions"])
    answers = list(row["outputs"])
    for question, answer in zip(questions, answers, strict=True):
        context = compress(index, str(question), 1500)
        assert context.tokens <= 1500
        original = " ".join(index.text[s:e] for s, e in context.spans)
        kept += _norm(str(answer)) in _norm(original)
    assert kept >= len(questions) // 2
    started = time.perf_counter()
    cached = index_document(text)
    assert cached.from_cache and time.perf_counter() - started < 0.2


def test_story_entity_sheet_names_the_protagonist() -> None:
    row = _rows("leval_quality.jsonl")[0]
    index = index_document(str(row["input"]), cache=False)
    sheet = entity_sheet(index, budget_tokens=200)
    assert "Dennis Brooke (PERSON" in sheet.splitlines()[1]
