"""The second half of `pearl` and `pearl-fulldoc`: execute a valid plan and answer from its results.

The two differ only in what a step sees: `pearl` a compressed slice of the indexed document
chosen for that step, `pearl-fulldoc` the whole document cut to the window (the paper's
executor, kept as the baseline). Making the plan is `Pearl`'s job; this module only runs one.
"""

from __future__ import annotations

from typing import Literal

from pearl.execution import CompressedStepContext, FullDocumentContext, cited_ids, execute_plan
from pearl.methods._base import QUESTION_SHARES, AskContext, choose_letter, citations_for, reply_format
from pearl.models import Answer
from pearl.planning import Plan
from pearl.prompts import load_prompt
from pearl.protocols import StepContext

__all__ = ["Executor", "answer_from_plan"]

Executor = Literal["compressed", "fulldoc"]
"""What each step is shown: evidence chosen for it from the index, or the whole document cut to the window."""


def _provider(ctx: AskContext, executor: Executor) -> StepContext:
    if executor == "fulldoc":
        return FullDocumentContext(ctx.document.text)
    return CompressedStepContext(ctx.index(), ctx.settings.step_budget)


async def answer_from_plan(ctx: AskContext, plan: Plan, *, method: str, executor: Executor) -> Answer:
    """Execute a valid `plan` over the document and answer from its results.

    Args:
        ctx: the question, document and library; the plan's actions come from `ctx.library`
            or the plan's own declarations.
        plan: from `generate_plan`, `parse_plan` or `plan_from_json`.
        method: the method name the answer carries.
        executor: what each step is shown (see `Executor`).
    """
    index = ctx.index()
    question = ctx.question
    recorder = ctx.recorder
    outcomes = await execute_plan(
        plan,
        ctx.library,
        recorder=recorder,
        question=question,
        provider=_provider(ctx, executor),
        document_name=ctx.document.name,
    )
    results = "\n\n".join(
        f"{step.render(explanation=False)}\n-> {outcomes[step.var].output or '(empty)'}" for step in plan.steps
    )
    free_form = "\n".join(outcomes[var].output for var in plan.answer_vars).strip()
    template = load_prompt("answer")
    reply = reply_format(ctx, template, cite=True)
    values, _ = template.fit(
        ctx.llm.context_window,
        reply.max_tokens,
        QUESTION_SHARES | {"results": 1.0},
        question=question.text,
        options_block=question.options_block(),
        answer_instruction=reply.instruction,
        results=results,
    )
    messages = template.render(**values)
    completion = await recorder.acall("answer", template, messages, **reply.params)
    text = completion.text.strip()
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
