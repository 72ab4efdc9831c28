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
