"""`rag`: one call over the compressed context chosen for the question (also PEARL's fallback)."""

from __future__ import annotations

import functools

from pearl._workers import in_worker
from pearl.context import compress
from pearl.execution import cited_ids
from pearl.methods._base import (
    QUESTION_SHARES,
    AskContext,
    ReplyFormat,
    answer_fields,
    choose_letter,
    citations_for,
    reply_format,
    unshown_question,
)
from pearl.models import Answer
from pearl.prompts import Fitted, PromptTemplate, load_prompt

__all__ = ["answer_rag", "rag_budget", "rag_window_problem"]


def rag_budget(ctx: AskContext) -> int:
    """Tokens of evidence a `rag` call shows: `settings.context_budget`, or what the window holds."""
    return _fields(ctx)[2]


def rag_window_problem(ctx: AskContext) -> str | None:
    """Why the window cannot hold a `rag` prompt that shows the question (whole, or `SHOWN_FLOOR` tokens of it)."""
    return unshown_question(ctx, _fitted(ctx)[3])


def _fitted(ctx: AskContext) -> tuple[PromptTemplate, ReplyFormat, dict[str, str], dict[str, Fitted]]:
    """The `rag` prompt, its reply, and its values fitted to the window but for the document (with what was cut)."""
    question = ctx.question
    template = load_prompt("direct")
    reply = reply_format(ctx, template, cite=True)
    fields, report = template.fit(
        ctx.llm.context_window,
        reply.max_tokens,
        QUESTION_SHARES,
        name=ctx.shown_name,
        question=question.text,
        options_block=question.options_block(),
        answer_instruction=reply.instruction,
        truncated_note=' excerpts="yes"',
        document="",
    )
    del fields["document"]
    return template, reply, fields, report


def _fields(ctx: AskContext) -> tuple[dict[str, str], ReplyFormat, int]:
    """The `rag` prompt's values fitted to the window but for the document, its reply, and the document's budget."""
    template, reply, fields, _ = _fitted(ctx)
    room = template.room_for("document", ctx.llm.context_window, reply.max_tokens, **fields)
    return fields, reply, max(1, min(ctx.settings.context_budget, room))


async def answer_rag(ctx: AskContext) -> Answer:
    """Answer from the sentences most relevant to the question, packed to `settings.context_budget` tokens."""
    index = await ctx.aindex()
    question = ctx.question
    template = load_prompt("direct")
    fields, reply, budget = _fields(ctx)
    query = " ".join([question.text, *question.options])
    piece = await in_worker(compress, index, query, budget)  # ranking by meaning: tens of ms, off the loop
    # Whole, the labels make it longer than the document: "64 of 56 tokens" read as a mistake.
    whole = len(piece.sentence_ids) == index.sentence_count
    kept = f"the whole document, {piece.tokens:,} tokens with its labels" if whole else None
    kept = kept or f"{piece.tokens:,} of {piece.source_tokens:,} tokens"
    ctx.recorder.note("context", kept, sentences=piece.sentence_ids)
    messages = template.render(document=piece.text, **fields)
    completion = await ctx.recorder.acall("answer", template, messages, **reply.params)
    text = completion.text.strip()
    letter = await choose_letter(ctx, text) if question.options else None
    cited = cited_ids(text, piece.sentence_ids)
    cite = functools.partial(citations_for, own=len(cited))  # every label is the reply's own
    citations, notes = await in_worker(cite, index, cited, piece.sentence_ids, text, question)
    return Answer(
        question=question.text,
        options=question.options,
        **answer_fields(question, letter, text),
        method="rag",
        citations=citations,
        notes=notes,
    )
