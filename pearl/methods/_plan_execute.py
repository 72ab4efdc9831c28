"""`pearl` and `pearl-fulldoc`: plan with self-correction, execute the plan, answer from its results.

They differ only in what a step sees: `pearl` a compressed slice of the indexed document
chosen for that step, `pearl-fulldoc` the whole document cut to the window (the paper's
executor, kept as the baseline). When no valid plan comes out of self-correction, the
question is answered by `rag` and the answer is marked as a fallback.
"""

from __future__ import annotations

from pearl.context import entity_sheet
from pearl.execution import CompressedStepContext, FullDocumentContext, StepContext, cited_ids, execute_plan
from pearl.methods._base import AskContext, choose_letter, citations_for, reply_format
from pearl.methods._rag import answer_rag
from pearl.models import Answer
from pearl.planning import Plan, generate_plan, select_demos
from pearl.prompts import load_prompt
from pearl.tokens import truncate_to_tokens

__all__ = ["answer_pearl", "answer_pearl_fulldoc", "run_plan"]

_SHEET_TOKENS = 250
_DEMOS = 4


async def answer_pearl(ctx: AskContext) -> Answer:
    """PEARL over entity-compressed context."""
    return await _plan_and_execute(ctx, "pearl")


async def answer_pearl_fulldoc(ctx: AskContext) -> Answer:
    """PEARL as the paper ran it: the whole document (cut to the window) in every step that reads it."""
    return await _plan_and_execute(ctx, "pearl-fulldoc")


async def _plan_and_execute(ctx: AskContext, method: str) -> Answer:
    index = ctx.index()
    question = ctx.question
    recorder = ctx.recorder
    demos = select_demos(ctx.demos, " ".join([question.text, *question.options]), k=_DEMOS)
    planned = await generate_plan(
        recorder,
        question,
        ctx.library,
        demos=demos,
        entity_sheet=entity_sheet(index, _SHEET_TOKENS),
        max_attempts=ctx.settings.plan_attempts,
        max_steps=ctx.settings.max_steps,
    )
    if planned.plan is None:
        fallback = await answer_rag(ctx)
        note = f"no valid plan after {len(planned.attempts)} attempt(s); answered from the compressed context instead"
        return fallback.model_copy(update={"method": method, "fallback": True, "notes": [note, *fallback.notes]})
    return await run_plan(ctx, planned.plan, method=method)


async def run_plan(ctx: AskContext, plan: Plan, *, method: str = "pearl") -> Answer:
    """Execute a valid `plan` over the document and answer from its results (the second half of `pearl`).

    Args:
        ctx: the question, document and library; the plan's actions come from `ctx.library`
            or the plan's own declarations.
        plan: a plan from `generate_plan`, `parse_plan` or `plan_from_json`.
        method: "pearl" (compressed context per step) or "pearl-fulldoc" (the whole document).
    """
    index = ctx.index()
    question = ctx.question
    recorder = ctx.recorder
    provider: StepContext = (
        FullDocumentContext(ctx.document.text)
        if method == "pearl-fulldoc"
        else CompressedStepContext(index, ctx.settings.step_budget)
    )
    outcomes = await execute_plan(
        plan, ctx.library, recorder=recorder, question=question, provider=provider, document_name=ctx.document.name
    )
    results = "\n\n".join(
        f"{step.render(explanation=False)}\n-> {outcomes[step.var].output or '(empty)'}" for step in plan.steps
    )
    free_form = "\n".join(outcomes[var].output for var in plan.answer_vars).strip()
    template = load_prompt("answer")
    instruction, reply_tokens, grammar = reply_format(ctx, cite=True)
    fields = {"question": question.text, "options_block": question.options_block(), "answer_instruction": instruction}
    room = template.room_for("results", ctx.llm.context_window, reply_tokens, **fields)
    messages = template.render(results=truncate_to_tokens(results, room)[0], **fields)
    reply = await recorder.acall("answer", template, messages, max_tokens=reply_tokens, grammar=grammar)
    text = reply.text.strip()
    shown = sorted({sid for o in outcomes.values() for sid in o.shown})
    letter = await choose_letter(ctx, text) if question.options else None
    answer_text = (free_form or text) if question.options else (text or free_form)
    cited = [*cited_ids(text, shown), *(sid for o in outcomes.values() for sid in o.cited)]
    citations, evidence_note = citations_for(index, cited, shown, answer_text, question)
    return Answer(
        question=question.text,
        options=question.options,
        answer=answer_text,
        letter=letter,
        method=method,
        citations=citations,
        plan=plan.render(),
        notes=[evidence_note] if evidence_note else [],
    )
