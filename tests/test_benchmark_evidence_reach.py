"""benchmarks/evidence_reach.py: the scripted model behaves as its options say."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path

import pytest

from pearl.llm import CompletionRequest
from pearl.models import Message
from pearl.tokens import count_tokens

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import evidence_reach  # noqa: E402  (a script beside the package, not part of it)


def step_request(max_tokens: int) -> CompletionRequest:
    shown = '<excerpts name="d" note="">\n[S7] The keeper lit the lamp at dusk.\n</excerpts>'
    return CompletionRequest(messages=[Message(role="user", content=shown)], max_tokens=max_tokens, prompt="step.v2#x")


def test_long_replies_fill_a_steps_reply_and_never_quote_the_document() -> None:
    short = evidence_reach.Script().reply(step_request(256))
    long = evidence_reach.Script(long=True).reply(step_request(256))
    assert count_tokens(short) < 20 and 250 <= count_tokens(long) <= 256
    assert "[S7]" in long and "lamp" not in long  # reach must come from pearl's prompts, not the fake's reply
    answer = CompletionRequest(messages=step_request(256).messages, max_tokens=256, prompt="answer.v6#x")
    assert count_tokens(evidence_reach.Script(long=True).reply(answer)) < 20  # only the steps are wordy


def test_ablations_switch_a_signal_off_in_every_ranking_and_back() -> None:
    from pearl.context import DocumentIndex, Weights, compress, index_document, rank_sentences, skim
    from pearl.context import _compress as module
    from pearl.models import Document

    index: DocumentIndex = index_document(
        Document.from_text("Terms\n\nThe term is ten years. It renews yearly.\n\nPayment\n\nFees are due monthly.")
    )
    query = "How long is the term?"
    before = (compress(index, query, 40).text, rank_sentences(index, query), skim(index, query, 40).text)
    off = Weights(heading=0.0, section=0.0, continuation=0.0, lead=0.0)
    with evidence_reach.weighted(off):
        assert compress.__kwdefaults__["weights"] is off and skim.__kwdefaults__["weights"] is off
        assert module.DEFAULT_WEIGHTS is off
        assert rank_sentences(index, query) != before[1]  # the ranking the executor reads changed too
    assert (compress(index, query, 40).text, rank_sentences(index, query), skim(index, query, 40).text) == before
    assert compress.__kwdefaults__["weights"] is module.DEFAULT_WEIGHTS == Weights()


def test_shares_run_pearl_with_that_step_share_and_are_written_with_it(tmp_path: Path) -> None:
    from pearl.models import Document

    text = " ".join(f"Clause {i} sets out the fee of party {i}, paid in {i} parts." for i in range(900))
    files = evidence_reach.FileSet(
        path=tmp_path / "set.jsonl",
        documents=[Document.from_text(text, name="fees")],
        items=[evidence_reach.Item(qid="set#d0q0", doc=0, question="What fee does party 7 pay?", gold=["party 7"])],
        skipped={},
    )
    actions = evidence_reach.resolve_actions()
    rows, _ = asyncio.run(evidence_reach.run_file(files, ["pearl", "pearl-fulldoc"], ["two-step"], actions, 8192))
    swept = evidence_reach.sweep(files, rows, [0.1, 0.4], ["two-step"], actions, 8192, False, False)
    assert [row.share for row in swept] == [0.1, 0.4] and {row.share for row in rows} == {None}
    default = next(row.tokens for row in rows if row.method == "pearl")
    assert swept[0].tokens < default < swept[1].tokens  # a share sizes what every call is shown
    empty = evidence_reach.FileSet(path=files.path, documents=files.documents, items=[], skipped={})
    assert evidence_reach.sweep(empty, [], [0.3], ["two-step"], actions, 8192, False, False) == []


def test_a_gold_is_ranked_where_its_sentence_ranks_for_the_question() -> None:
    from pearl.context import index_document, rank_sentences
    from pearl.models import Document

    text = "The lamp burns oil. Dorota keeps the key.\n\nThe keeper sleeps at noon. The key opens the tower."
    index = index_document(Document.from_text(text))
    question = "Who keeps the key to the tower?"
    order = [sid for sid, _ in rank_sentences(index, question)]
    assert evidence_reach.gold_rank(index, question, "Dorota keeps") == order.index(1) + 1
    # a gold across two sentences is placed by the one it starts in; one found twice, by its better place
    assert evidence_reach.gold_rank(index, question, "burns oil. Dorota") == order.index(0) + 1
    assert evidence_reach.gold_rank(index, question, "the key") == min(order.index(1), order.index(3)) + 1
    assert evidence_reach.gold_rank(index, question, "words it never says") is None


def test_a_gold_counts_only_where_a_prompt_shows_it_as_the_documents_text() -> None:
    def request(content: str) -> CompletionRequest:
        return CompletionRequest(messages=[Message(role="user", content=content)], prompt="answer.v7#x")

    gold = ["the keeper lit the lamp"]
    asked = request('Question: Did the keeper lit the lamp?\n<excerpts name="d" note="">\n[S1] Dusk.\n</excerpts>')
    shown = request('<excerpts name="d" note="">\n[S7] The keeper [S8] lit the lamp at dusk.\n</excerpts>')
    assert evidence_reach.score([asked], gold)[0] == []  # the question's words are not the document shown
    assert evidence_reach.score([asked, shown], gold)[0] == ["answer.v7#x"]


def row(
    method: str, shape: str, qid: str, reached: bool, error: str | None = None, share: float | None = None
) -> evidence_reach.Row:
    return evidence_reach.Row(
        file="f", qid=qid, method=method, shape=shape, gold=["g"], reached=reached, reached_by=[],
        tokens=1, uncached=1, calls=1, fallback=False, seconds=0.0, error=error, share=share,
    )  # fmt: skip


def test_pearl_is_compared_with_each_one_call_method_question_by_question() -> None:
    rows = [
        row("pearl", "two-step", "q1", True),
        row("pearl", "two-step", "q2", False),
        row("pearl", "two-step", "q3", True),
        row("pearl", "two-step", "q4", False, error="boom"),  # a run that failed is not compared
        row("pearl", "two-step", "q5", False),
        row("pearl", "two-step", "q2", True, share=0.4),  # a --shares run: not the main run's
        row("pearl", "paper", "q2", True),
        row("pearl", "paper", "q3", False),
        row("direct", "", "q1", True),
        row("direct", "", "q2", True),
        row("direct", "", "q3", False),
        row("direct", "", "q4", True),
        row("direct", "", "q5", True),
        row("rag", "", "q1", True),
        row("rag", "", "q2", False),
    ]
    lines = evidence_reach.paired(rows, ["pearl", "rag", "direct"], ["two-step", "paper"])
    assert lines == [
        "#   pearl/two-step vs rag: both 1, only rag 0, only pearl 0",
        "#   pearl/two-step vs direct: both 1, only direct 2, only pearl 1",
        "#   pearl/paper vs rag: both 0, only rag 0, only pearl 1",
        "#   pearl/paper vs direct: both 1, only direct 0, only pearl 0",
    ]
    assert evidence_reach.paired(rows, ["rag", "direct"], ["two-step"]) == []  # no pearl run, nothing to compare


def test_pearls_reach_is_split_by_the_call_that_showed_the_gold() -> None:
    def by(qid: str, *prompts: str, share: float | None = None) -> evidence_reach.Row:
        return dataclasses.replace(row("pearl", "two-step", qid, bool(prompts), share=share), reached_by=list(prompts))

    rows = [
        by("q1", "answer.v8#a"),
        by("q2", "step.v3#b", "answer.v8#a"),
        by("q3", "step_nodoc.v2#c"),
        by("q4"),
        by("q5", "step.v3#b", share=0.4),  # a --shares run: not the main run's
        dataclasses.replace(row("direct", "", "q1", True), reached_by=["direct.v2#d"]),
    ]
    assert evidence_reach.by_call(rows, ["two-step", "paper"]) == [
        "#   pearl/two-step by call: the answer call reaches 0.500, a step 0.500"
    ]


def test_a_miss_says_where_its_gold_ranks_and_which_one_call_method_showed_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pearl.models import Document

    text = "The lamp burns oil. Dorota keeps the key.\n\nThe keeper sleeps at noon. The key opens the tower."
    question = "Who keeps the key to the tower?"
    items = [evidence_reach.Item(qid=f"set#d0q{n}", doc=0, question=question, gold=["Dorota keeps"]) for n in (0, 1)]
    files = evidence_reach.FileSet(
        path=tmp_path / "set.jsonl", documents=[Document.from_text(text)], items=items, skipped={}
    )
    rows = [
        row("pearl", "two-step", "set#d0q0", False),
        row("pearl", "two-step", "set#d0q1", False),
        row("pearl", "paper", "set#d0q1", True),  # reached: not listed
        row("direct", "", "set#d0q0", True),
        row("rag", "", "set#d0q0", True),
        row("direct", "", "set#d0q1", False),
        row("rag", "", "set#d0q1", True, error="boom"),  # a failed run showed nothing
        row("pearl", "two-step", "set#d0q0", False, share=0.4),  # a --shares run: not listed
        row("direct", "", "set#d0q1", True, share=0.4),  # (one-call methods are never swept)
    ]
    evidence_reach.misses(files, rows, False)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert (
        lines[0].startswith("#   missed set#d0q0 (two-step): gold ranks ")
        and "; rag and direct showed it for" in lines[0]
    )
    assert lines[1].startswith("#   missed set#d0q1 (two-step): gold ranks ") and "showed it" not in lines[1]


def test_each_document_shows_its_cost_against_the_papers_executor_and_who_reached_what(tmp_path: Path) -> None:
    from dataclasses import replace

    from pearl.models import Document

    docs = [Document.from_text("One short clause."), Document.from_text("A longer clause. " * 40)]
    items = [
        evidence_reach.Item(qid=f"set#d{d}q{n}", doc=d, question="q?", gold=["g"]) for d, n in ((0, 0), (1, 0), (1, 1))
    ]
    files = evidence_reach.FileSet(path=tmp_path / "set.jsonl", documents=docs, items=items, skipped={})
    rows = [
        replace(row("pearl", "two-step", "set#d0q0", True), tokens=300),
        replace(row("pearl-fulldoc", "two-step", "set#d0q0", True), tokens=200),
        replace(row("pearl", "two-step", "set#d1q0", True), tokens=400),
        replace(row("pearl", "two-step", "set#d1q1", False), tokens=600),
        replace(row("pearl-fulldoc", "two-step", "set#d1q0", True), tokens=1000),
        replace(row("pearl-fulldoc", "two-step", "set#d1q1", True), tokens=1000),
        replace(row("pearl", "two-step", "set#d1q1", True, share=0.4), tokens=9000),  # a --shares run: left out
        replace(row("direct", "", "set#d1q0", True), tokens=700),
        replace(row("direct", "", "set#d1q1", False, error="boom"), tokens=6),  # a failed run: as the method line
    ]
    lines = evidence_reach.by_document(files, rows, ["two-step"])
    sizes = [count_tokens(doc.text) for doc in docs]
    assert lines == [
        f"#   document 0 ({sizes[0]} tokens, 1 question): pearl/two-step 300 (1.50x) reached 1",
        f"#   document 1 ({sizes[1]} tokens, 2 questions): pearl/two-step 500 (0.50x) reached 1; direct 353 reached 1",
    ]


def test_a_json_file_is_checked_before_the_run_and_its_folder_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "new" / "folder" / "rows.json"
    assert evidence_reach.writable(target) is None and target.parent.is_dir()
    blocker = tmp_path / "a_file"
    blocker.write_text("x", encoding="utf-8")
    assert evidence_reach.writable(blocker / "rows.json")  # a file where its folder should be: said, not raised
    assert evidence_reach.main(["--json", str(blocker / "rows.json")]) == 2  # before any data is read
    assert capsys.readouterr().err.startswith(f"--json {blocker / 'rows.json'}: ")
