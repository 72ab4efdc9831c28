"""What every answering method gets and gives: an `AskContext` in, an `Answer` out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pearl.config import Settings
from pearl.llm._types import LLM
from pearl.models import Answer, Document, Trace
from pearl.prompts import PromptTemplate, load_prompt
from pearl.questions import Question, parse_choice
from pearl.tokens import count_tokens, truncate_to_tokens
from pearl.trace import Recorder

__all__ = ["AskContext", "Method", "choose_letter", "fit_document"]

# cl100k counts only estimate other models' tokenizers: keep a margin when filling a window.
_TOKENIZER_MARGIN = 0.8
_REPLY_RESERVE = 64


@dataclass
class AskContext:
    """Everything a method may use to answer one question."""

    llm: LLM
    settings: Settings
    document: Document
    question: Question
    trace: Trace = field(default_factory=Trace)

    @property
    def recorder(self) -> Recorder:
        return Recorder(self.llm, self.trace)


Method = Callable[[AskContext], Awaitable[Answer]]


def fit_document(text: str, template: PromptTemplate, window: int, reply_tokens: int, **others: str) -> tuple[str, int]:
    """Cut `text` so the rendered prompt plus the reply fits `window` tokens.

    Returns:
        The (possibly cut) text, and how many of its tokens were kept.
    """
    overhead = sum(count_tokens(m.content) for m in template.render(document="", **others))
    budget = int((window - reply_tokens - _REPLY_RESERVE) * _TOKENIZER_MARGIN) - overhead
    kept, _ = truncate_to_tokens(text, max(0, budget))
    return kept, count_tokens(kept)


async def choose_letter(ctx: AskContext, answer: str) -> str | None:
    """Map a free-form answer to an option letter: parse it, else ask the model (constrained where possible)."""
    question = ctx.question
    letter = parse_choice(answer, len(question.options))
    if letter is not None or not question.options:
        return letter
    template = load_prompt("choose")
    letters = question.letters
    messages = template.render(
        question=question.text, options_block=question.options_block(), answer=answer, letters=", ".join(letters)
    )
    grammar = f"root ::= [{letters}]" if ctx.llm.supports_grammar else None
    reply = await ctx.recorder.acall("choose", template, messages, max_tokens=4, grammar=grammar)
    return parse_choice(reply.text, len(question.options))
