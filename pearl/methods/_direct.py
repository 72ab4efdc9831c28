"""`direct`: the question, its options and as much of the document as fits, in one call."""

from __future__ import annotations

from pearl.methods._base import AskContext, choose_letter, fit_document
from pearl.models import Answer
from pearl.prompts import load_prompt
from pearl.tokens import count_tokens

__all__ = ["answer_direct"]

_REPLY_TOKENS = 256


async def answer_direct(ctx: AskContext) -> Answer:
    """Answer with the whole (truncated to the window) document in one prompt."""
    template = load_prompt("direct")
    question = ctx.question
    if question.options:
        instruction = f"Reply with the letter of the best option ({', '.join(question.letters)}) and nothing else."
        reply_tokens = 8
    else:
        instruction = "Answer in one or two sentences."
        reply_tokens = _REPLY_TOKENS
    fields = {
        "name": ctx.document.name,
        "question": question.text,
        "options_block": question.options_block(),
        "answer_instruction": instruction,
    }
    total = count_tokens(ctx.document.text)
    text, kept = fit_document(
        ctx.document.text, template, ctx.llm.context_window, reply_tokens, truncated_note=' truncated="yes"', **fields
    )
    notes = []
    truncated = kept < total
    if truncated:
        notes.append(f"document truncated to fit the model's window: kept {kept:,} of {total:,} tokens")
    messages = template.render(document=text, truncated_note=' truncated="yes"' if truncated else "", **fields)
    grammar = f"root ::= [{question.letters}]" if question.options and ctx.llm.supports_grammar else None
    reply = await ctx.recorder.acall("answer", template, messages, max_tokens=reply_tokens, grammar=grammar)
    letter = await choose_letter(ctx, reply.text) if question.options else None
    ctx.recorder.note("document", data={"tokens_total": total, "tokens_kept": kept})
    return Answer(
        question=question.text,
        options=question.options,
        answer=reply.text.strip(),
        letter=letter,
        method="direct",
        notes=notes,
    )
