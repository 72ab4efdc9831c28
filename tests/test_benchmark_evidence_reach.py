"""benchmarks/evidence_reach.py: the scripted model behaves as its options say."""

from __future__ import annotations

import sys
from pathlib import Path

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


def test_a_share_sizes_every_auto_budget_meanwhile_and_is_put_back() -> None:
    from pearl.context import index_document
    from pearl.execution import AUTO_SHARE, evidence_budget
    from pearl.models import Document

    text = " ".join(f"Clause {i} sets out the fee of party {i}." for i in range(600))
    index = index_document(Document.from_text(text))
    default, fixed = evidence_budget(index, 6000, "auto"), evidence_budget(index, 6000, 500)
    with evidence_reach.auto_share(0.4):
        larger = evidence_budget(index, 6000, "auto")
        assert evidence_budget(index, 6000, 500) == fixed  # a number of tokens is not a share
    assert larger.shared + larger.step == round(0.4 * min(index.tokens, 6000)) > default.shared + default.step
    assert evidence_budget(index, 6000, "auto") == default and AUTO_SHARE == 0.2
