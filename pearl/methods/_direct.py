"""`direct`: the question, its options and as much of the document as fits, in one call."""

from __future__ import annotations

from pearl._text import neutralise_fence, visible
from pearl.context import whole_document
from pearl.errors import ContextError
from pearl.methods._base import (
    QUESTION_SHARES,
    AskContext,
    ReplyFormat,
    answer_fields,
    choose_letter,
    reply_format,
    unlabelled_notes,
    unshown_question,
)
from pearl.models import Answer
from pearl.prompts import Fitted, PromptTemplate, fit_in_worker, load_prompt

__all__ = ["answer_direct", "direct_window_problem"]

_TRUNCATED = ' truncated="yes"'


async def answer_direct(ctx: AskContext) -> Answer:
    """Answer with the whole (truncated to the window) document in one prompt."""
    template = load_prompt("direct")
    question = ctx.question
    reply = reply_format(ctx, template, cite=False)
    # Off the event loop: reading a long document as shown, and counting and cutting its tokens, takes up to seconds.
    values, fitted = await fit_in_worker(_fitted, ctx, template, reply)
    kept, total = fitted["document"]
    notes = []
    truncated = kept < total
    if truncated:
        notes.append(f"document truncated to fit the model's window: kept {kept:,} of {total:,} tokens")
    # Before the call, as `rag` notes its context, and said: `data=` nested it, and `trace show` showed a bare stage.
    shown = f"{kept:,} of {total:,} tokens" if truncated else f"the whole document, {total:,} tokens"
    ctx.recorder.note("document", shown, tokens_total=total, tokens_kept=kept)
    messages = template.render(**{**values, "truncated_note": _TRUNCATED if truncated else ""})
    completion = await ctx.recorder.acall("answer", template, messages, **reply.params)
    letter = await choose_letter(ctx, completion.text) if question.options else None
    notes += unlabelled_notes(completion.text, "direct")
    return Answer(
        question=question.text,
        options=question.options,
        **answer_fields(question, letter, completion.text),
        method="direct",
        notes=notes,
    )


def direct_window_problem(ctx: AskContext) -> str | None:
    """Why the window cannot hold a `direct` prompt that shows the question (whole, or `SHOWN_FLOOR` tokens of it)."""
    template = load_prompt("direct")
    return unshown_question(ctx, _fit(ctx, template, reply_format(ctx, template, cite=False), "")[1])


def _fitted(ctx: AskContext, template: PromptTemplate, reply: ReplyFormat) -> tuple[dict[str, str], dict[str, Fitted]]:
    """The prompt's values with the document cut to the window, and what each field kept of its tokens."""
    # As a browser shows it, when it is markup; the text must not close its <document> fence.
    document = neutralise_fence(whole_document(ctx.document))
    if not visible(document):  # refused as the other methods refuse it (`index_document`), before a call is paid for
        raise ContextError(f"{ctx.document.name}: the document has no text to answer from")
    return _fit(ctx, template, reply, document)


def _fit(
    ctx: AskContext, template: PromptTemplate, reply: ReplyFormat, document: str
) -> tuple[dict[str, str], dict[str, Fitted]]:
    """The prompt's values with `document` cut to the window (the question and options first, to their shares)."""
    question = ctx.question
    return template.fit(
        ctx.llm.context_window,
        reply.max_tokens,
        QUESTION_SHARES | {"document": 1.0},
        name=ctx.shown_name,
        question=question.text,
        options_block=question.options_block(),
        answer_instruction=reply.instruction,
        truncated_note=_TRUNCATED,
        document=document,
    )
