"""What every answering method gets and gives: an `AskContext` in, an `Answer` out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from pearl.actions import ActionLibrary
from pearl.config import Settings
from pearl.context import DocumentIndex, rank_sentences
from pearl.llm._types import LLM
from pearl.models import Answer, Citation, Document, Trace
from pearl.planning import DemoStore
from pearl.prompts import PromptTemplate, load_prompt
from pearl.questions import Question, parse_choice
from pearl.tokens import count_tokens, truncate_to_tokens
from pearl.trace import Recorder

__all__ = ["AskContext", "Method", "choose_letter", "citations_for", "fit_document", "reply_format"]

_FREE_TEXT_TOKENS = 256


@dataclass
class AskContext:
    """Everything a method may use to answer one question."""

    llm: LLM
    settings: Settings
    document: Document
    question: Question
    library: ActionLibrary
    demos: DemoStore
    load_index: Callable[[Document], DocumentIndex]
    trace: Trace = field(default_factory=Trace)
    _index: DocumentIndex | None = None

    @property
    def recorder(self) -> Recorder:
        return Recorder(self.llm, self.trace)

    def index(self) -> DocumentIndex:
        """The document's index, built (or loaded from the disk cache) on first use."""
        if self._index is None:
            self._index = self.load_index(self.document)
            self.recorder.note(
                "index",
                f"{self._index.sentence_count} sentences, {len(self._index.entities)} entities",
                tokens=self._index.tokens,
            )
        return self._index


Method = Callable[[AskContext], Awaitable[Answer]]


def fit_document(text: str, template: PromptTemplate, window: int, reply_tokens: int, **others: str) -> tuple[str, int]:
    """Cut `text` (the template's `document`) so the rendered prompt plus the reply fits `window` tokens.

    Returns:
        The (possibly cut) text, and how many of its tokens were kept.
    """
    kept, _ = truncate_to_tokens(text, template.room_for("document", window, reply_tokens, **others))
    return kept, count_tokens(kept)


def reply_format(ctx: AskContext, *, cite: bool) -> tuple[str, int, str | None]:
    """How the final reply should look: the instruction, its token limit, and a grammar for a letter."""
    question = ctx.question
    if question.options:
        grammar = f"root ::= [{question.letters}]" if ctx.llm.supports_grammar else None
        return f"Reply with the letter of the best option ({', '.join(question.letters)}) and nothing else.", 8, grammar
    instruction = "Answer in one or two sentences."
    if cite:
        instruction += " Cite the labels of the sentences that support the answer, like [S12]."
    return instruction, _FREE_TEXT_TOKENS, None


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


def citations_for(
    index: DocumentIndex, cited: Sequence[int], shown: Sequence[int], answer: str, question: Question, limit: int = 3
) -> tuple[list[Citation], str | None]:
    """Citations for an answer: the sentences the model cited, else the shown ones closest to question and answer.

    Returns:
        The citations, and a note when they were inferred rather than cited by the model.
    """
    valid = [sid for sid in dict.fromkeys(cited) if 0 <= sid < index.sentence_count]
    if valid:
        return [index.citation(sid) for sid in valid[:8]], None
    if not shown:
        return [], None
    allowed = set(shown)
    query = " ".join([question.text, answer])
    ranked = [sid for sid, _ in rank_sentences(index, query) if sid in allowed][:limit]
    if not ranked:
        return [], None
    note = "the model cited no sentence; evidence is the closest of those it was shown"
    return [index.citation(sid) for sid in sorted(ranked)], note
