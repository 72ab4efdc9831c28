"""Answering methods, by name: one-call methods answer an `AskContext`; planned ones run a plan `Pearl` made."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pearl.methods._base import QUESTION_SHARES, AskContext, ReplyFormat, choose_letter, citations_for, reply_format
from pearl.methods._direct import answer_direct, direct_window_problem
from pearl.methods._planned import ARGUED_NOTE, Executor, answer_from_plan
from pearl.methods._rag import answer_rag, rag_window_problem
from pearl.models import Answer

__all__ = [
    "ARGUED_NOTE",
    "FALLBACK",
    "METHODS",
    "QUESTION_SHARES",
    "AskContext",
    "Executor",
    "Method",
    "ReplyFormat",
    "answer_direct",
    "answer_from_plan",
    "answer_rag",
    "choose_letter",
    "citations_for",
    "direct_window_problem",
    "rag_window_problem",
    "reply_format",
]


@dataclass(frozen=True)
class Method:
    """One answering method: either one call (`answer`), or a plan run by an `executor`."""

    name: str
    description: str
    answer: Callable[[AskContext], Awaitable[Answer]] | None = None
    executor: Executor | None = None
    ranks: bool = False
    """Whether it shows the sentences `compress` ranks best (and so uses dense similarity, when on)."""
    fallback: str = "rag"
    """A planned method's: the method that answers when no valid plan came out of self-correction."""
    prompts: tuple[str, ...] = ("direct", "choose")
    """The prompt templates its own calls use (`load_prompt` names; its fallback's are the fallback's)."""
    window_problem: Callable[[AskContext], str | None] | None = None
    """A one-call method's: why the model's window cannot hold its prompt showing the question, or None when it can.
    Checked before the method (or a planned one falling back on it) makes any call: such a prompt answers nothing."""

    @property
    def sends(self) -> tuple[str, ...]:
        """Every prompt template an answer by this method may have used: its own, and its fallback's if it plans."""
        own = self.prompts + (METHODS[self.fallback].prompts if self.planned else ())
        return tuple(dict.fromkeys(own))

    @property
    def planned(self) -> bool:
        """Whether the method plans first (and falls back on `fallback` when no plan is valid)."""
        return self.executor is not None


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "pearl",
            "plan, then run each step over evidence chosen for it",
            executor="compressed",
            ranks=True,
            prompts=("plan", "plan_fix", "step", "step_nodoc", "answer", "choose"),
        ),
        Method(
            "direct",
            "one call with as much of the document as fits",
            answer=answer_direct,
            window_problem=direct_window_problem,
        ),
        Method(
            "rag",
            "one call over the compressed context for the question",
            answer=answer_rag,
            ranks=True,
            window_problem=rag_window_problem,
        ),
        # The paper falls back on answering zero-shot, from the whole document.
        Method(
            "pearl-fulldoc",
            "plan, then run each step over the whole document (the paper)",
            executor="fulldoc",
            fallback="direct",
            prompts=("plan", "plan_fix", "step_paper", "choose"),
        ),
    )
}

FALLBACK = METHODS["rag"]
"""Answers `pearl`'s question when no valid plan came out of self-correction (each method names its own:
`Method.fallback`)."""
