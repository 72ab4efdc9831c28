"""benchmarks/whole_document.py measures what its docstring says."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pearl.context import index_document
from pearl.execution import CompressedStepContext, evidence_budget
from pearl.models import StepRequest
from pearl.questions import Question

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "sample" / "the_keeper_of_tren_light.txt"
sys.path.insert(0, str(BENCHMARKS))

import whole_document  # noqa: E402  (a script beside the package, not part of it)


def test_only_the_excerpts_count_as_seen_not_the_instructions_example_label() -> None:
    index = index_document("\n\n".join(f"Paragraph {n} of the story goes on." for n in range(100)), ner=False)
    question = Question(text="What happens?", options=["It rains.", "It snows."])
    excerpts = '<excerpts name="d" note="">\n[S95] Paragraph 95 of the story goes on.\n</excerpts>'
    prompt = f"Cite the labels of the sentences you rely on, like [S12].\n{excerpts}"
    row = whole_document.measure(index, prompt, question, 0)
    assert row.tenths == 0.1 and row.end == 1.0


def test_search_is_what_pearl_did_before_skim_beyond_the_answer_calls_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    index = index_document(SAMPLE.read_text(encoding="utf-8") * 2, cache=False, ner=False)
    question = Question(text="Why did Dorota put water in the lamp oil?")
    provider = CompressedStepContext(index, question, evidence_budget(index, 6000, "auto", answer_floor=1500))
    answer = set(provider.more_for_question(room=5000).sentence_ids) - set(provider.shared().sentence_ids)
    monkeypatch.setattr("pearl.execution._contexts.skim", whole_document._search)
    monkeypatch.setattr(CompressedStepContext, "_choose", whole_document._choosing)
    step = provider.slice(StepRequest(var="s1", action="SUMMARIZE", question=question), room=5000)
    assert answer and step.sentence_ids and not answer & set(step.sentence_ids)


def test_a_free_text_answer_counts_its_own_words_and_has_no_margin() -> None:
    index = index_document("\n\n".join(f"Paragraph {n} tells of the harvest." for n in range(20)), ner=False)
    excerpts = '<excerpts name="d" note="">\n[S3] Paragraph 3 tells of the harvest.\n</excerpts>'
    row = whole_document.measure(index, excerpts, Question(text="What is it about?"), "the harvest festival")
    assert row.margin is None and row.gold == 0.5  # "harvest" seen, "festival" not
