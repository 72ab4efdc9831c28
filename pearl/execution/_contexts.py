"""What a step sees of the document: a compressed slice (pearl) or the whole text cut to fit (the paper's way)."""

from __future__ import annotations

from pearl._text import neutralise_fence
from pearl.context import DocumentIndex, compress
from pearl.models import StepRequest, StepSlice
from pearl.tokens import count_tokens, truncate_to_tokens

__all__ = ["CompressedStepContext", "FullDocumentContext"]


class CompressedStepContext:
    """Each step gets the sentences that matter to its arguments and the question, packed to a budget.

    Args:
        index: the document's index.
        budget_tokens: the most context tokens one step may get (the window may allow less).
    """

    def __init__(self, index: DocumentIndex, budget_tokens: int) -> None:
        self.index = index
        self.budget_tokens = budget_tokens

    def slice(self, request: StepRequest, room: int) -> StepSlice:
        strings = request.strings
        question = request.question
        # The step's own arguments lead; the question adds the terms a step may have dropped.
        query = " ".join([*strings, *request.inputs, question.text, *question.options])
        budget = max(1, min(self.budget_tokens, room))
        piece = compress(self.index, query, budget, focus=strings)
        note = f"{len(piece.sentence_ids)} of {self.index.sentence_count} sentences, chosen for this step"
        return StepSlice(text=piece.text, sentence_ids=piece.sentence_ids, note=note)


class FullDocumentContext:
    """The paper's executor: the whole document in every step, cut to what the window holds."""

    def __init__(self, text: str) -> None:
        self.text = neutralise_fence(text)  # shown inside <excerpts>: it must not close them
        self.tokens = count_tokens(self.text)

    def slice(self, request: StepRequest, room: int) -> StepSlice:
        text, cut = truncate_to_tokens(self.text, room)
        note = f"whole document, cut to {room:,} of {self.tokens:,} tokens" if cut else "whole document"
        return StepSlice(text=text, note=note)
