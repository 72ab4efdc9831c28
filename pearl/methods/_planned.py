"""The second half of `pearl` and `pearl-fulldoc`: execute a valid plan and answer from its results.

- `pearl`: every call opens with the evidence for the question; each step adds evidence chosen
  for it (on a short document, the steps that search also share out what no call shows yet, so
  that every sentence reaches some call: `pearl.execution`); the final answer call sees the
  question's evidence, every step's result (whole, up to a cap) and the sentences the steps
  cited, all labelled `[S12]`, and cites what it rests on.
  On a free-text question, the plan's last step that reads the document, followed at most by
  joins (CONCAT), when it is ANSWER or reads the document for words of its own
  (`EXTRACT(CTX, "X")`), is carried out by the final answer call, with the step's evidence
  budget added to the call's: nothing else reads its result, and run as a step as well it would
  cost a call and, for ANSWER, ask the same question twice, once on less evidence. (For
  multiple choice the final call only picks a letter, so that step runs as a step and writes
  the answer's explanation.) On a free-text question the final answer call also carries out a last step that
  reads earlier results and no document (`ANSWER_FROM(notes, "...")`), with no budget added: it lists every
  result that step could read and answers from them.
- `pearl-fulldoc`: the paper's executor: a step whose action takes CTX is shown the whole
  document first (or the earlier result the plan puts in its place), cut step by step to what
  the window leaves, then its action and definition, its arguments (earlier results whole) and
  the plan's explanation of the step, never the question, and has up to 512 tokens to answer;
  the free-form answer is every output no later step uses, and for multiple choice one short
  call maps it to a letter.

Making the plan is `Pearl`'s job; this module only runs one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

from pearl._text import neutralise_fence
from pearl._workers import in_worker
from pearl.actions import CTX, Action
from pearl.context import render_sentences, whole_document
from pearl.execution import (
    NOTE_TOKENS,
    CompressedStepContext,
    EvidenceBudget,
    FullDocumentContext,
    StepOutcome,
    StepStyle,
    cited_ids,
    evidence_budget,
    execute_plan,
)
from pearl.execution._executor import BLANK_STEP, BLANK_SUFFIX
from pearl.methods._base import (
    QUESTION_SHARES,
    AskContext,
    answer_fields,
    choose_letter,
    citations_for,
    letter_alone,
    reply_format,
    unlabelled_notes,
)
from pearl.methods._rag import rag_budget
from pearl.models import Answer, StepSlice
from pearl.planning import ANSWER, Plan, Step
from pearl.prompts import load_prompt
from pearl.protocols import StepContext
from pearl.questions import parse_choice
from pearl.tokens import count_tokens, truncate_to_tokens

__all__ = ["Executor", "answer_from_plan"]

Executor = Literal["compressed", "fulldoc"]
"""What each step is shown: evidence chosen for it from the index, or the whole document cut to the window."""

_BRIEF = StepStyle(reply_tokens=256, reply_part="brief")
_PAPER = StepStyle(reply_tokens=512, reply_part="thorough")  # the paper's executor: 512-token replies
_RESULT_TOKENS = 1000  # a step's result as the final answer call sees it, at most
_MARGIN_TOKENS = 16  # kept back where a prompt's parts are counted apart: tokens at their joins differ


def _room(ctx: AskContext, style: StepStyle) -> int:
    """Tokens a step prompt has for document text in the model's window."""
    question = ctx.question
    template = load_prompt("step")
    values, _ = template.fit(
        ctx.llm.context_window,
        style.reply_tokens,
        QUESTION_SHARES,
        question=question.text,
        options_block=question.options_block(),
        name=ctx.shown_name,
        shared_note="",
        shared="",
        signature="",
        definition="",
        explanation="",
        inputs="",
        evidence="",
        reply_instruction=template.part(style.reply_part),
        action="",
    )
    del values["shared"]
    return template.room_for("shared", ctx.llm.context_window, style.reply_tokens, **values)


def _action(ctx: AskContext, plan: Plan, step: Step) -> Action | None:
    # As the executor resolves it: the plan's own declaration first.
    return next((a for a in plan.new_actions if a.name == step.action), None) or ctx.library.get(step.action)


def _joins(ctx: AskContext, plan: Plan, step: Step) -> bool:
    """Whether `step` only joins earlier results (CONCAT(a, b)): its result is theirs, listed already."""
    action = _action(ctx, plan, step)
    return action is not None and action.pure and bool(step.args) and all(a.kind == "var" for a in step.args)


def _results(ctx: AskContext, plan: Plan, closing: Step | None, result: Callable[[Step], str]) -> str:
    """The plan's steps and their results, as the final answer call lists them (a join by the results it joins)."""
    template = load_prompt("answer")

    def shown(step: Step) -> str:
        if step is closing:  # what a step other than ANSWER does is said: the answer call does it
            action = _action(ctx, plan, step)
            if step.action == ANSWER or action is None:
                return template.part("closing")
            return template.part("closing_step", definition=action.definition)
        return template.part("joined", names=", ".join(step.inputs)) if _joins(ctx, plan, step) else result(step)

    listed = "\n\n".join(f"{step.render(explanation=False)}\n-> {shown(step)}" for step in plan.steps)
    # Shown outside the document's fence: a result that copies the document, or a text argument that quotes it, can no
    # more close a fence or write a chat template's token than the document can (labels, the model's own, stay).
    return neutralise_fence(listed, labels=False)


def _answer_values(ctx: AskContext, shared: StepSlice, results: str) -> tuple[dict[str, str], int]:
    """The final answer call's values fitted to the window, but for its further evidence; and that evidence's room."""
    question = ctx.question
    template = load_prompt("answer")
    reply = reply_format(ctx, template, cite=True)
    window = ctx.llm.context_window
    values, _ = template.fit(
        window,
        reply.max_tokens,
        QUESTION_SHARES | {"results": 0.8},
        question=question.text,
        options_block=question.options_block(),
        name=ctx.shown_name,
        shared_note=shared.note,
        shared=shared.text,
        results=results,
        more="",
        cited="",
        answer_instruction=reply.instruction,
    )
    del values["more"], values["cited"]
    frame = template.part("more", name=ctx.shown_name, note="", sentences="")
    room = template.room_for("more", window, reply.max_tokens, cited="", **values) - count_tokens(frame) - NOTE_TOKENS
    return values, room


def _answer_room(ctx: AskContext, plan: Plan, closing: Step | None, style: StepStyle) -> int:
    """Tokens of evidence the final answer call holds whatever the steps reply: the shared evidence and the rest.

    Every result is taken at its longest (a step's reply at `style.reply_tokens`, a local join at
    what it joins, each at most `_RESULT_TOKENS`), so evidence set aside for that call is shown
    there, or it is given to a step instead (see `CompressedStepContext`). With `closing`, as if
    the final call carries that step out (it has no result then).
    """
    longest: dict[str, int] = {}
    for step in plan.steps:
        action = _action(ctx, plan, step)
        if action is not None and action.pure:
            joined = sum(longest.get(var, 0) for var in step.inputs) + count_tokens(" ".join(step.strings))
            longest[step.var] = min(_RESULT_TOKENS, joined)
        else:
            longest[step.var] = min(_RESULT_TOKENS, style.reply_tokens)
    listed = [s.var for s in plan.steps if s is not closing and not _joins(ctx, plan, s)]
    _, room = _answer_values(ctx, StepSlice(text=""), _results(ctx, plan, closing, lambda step: ""))
    room -= NOTE_TOKENS  # the shared evidence's note, not written yet
    return room - sum(longest[var] for var in listed)


def _last_before_joins(ctx: AskContext, plan: Plan) -> Step | None:
    """The plan's last step but the joins (CONCAT) after it, which the final answer call may carry out: none for
    multiple choice (there the final call replies with a letter alone, and the step's reply is the answer's
    explanation), for a plan of that step alone, or for a step that repeats an earlier one (it reuses the first one's
    result, at no cost)."""
    if ctx.question.options:
        return None
    position = len(plan.steps) - 1
    while position > 0 and _joins(ctx, plan, plan.steps[position]):
        position -= 1
    last = plan.steps[position] if position > 0 else None
    if last is None or any(s.call == last.call for s in plan.steps[:position]):
        return None
    return last


def _closing_step(ctx: AskContext, plan: Plan) -> Step | None:
    """The plan's last step that reads the document, when the final answer call can carry it out.

    That is ANSWER, or a step that reads the document for text of its own (`EXTRACT(CTX, "X")`),
    after other steps and followed at most by joins (CONCAT): nothing but the final answer call
    reads its result then, and the paper's answer is that result (joined with the others). The
    call that writes the answer can do the step itself, on the step's evidence, and save a call.
    Not a step that reads earlier results (what it is shown is chosen before they exist), one
    that reads the whole document with no words to look for (SUMMARIZE(CTX) is shown it skimmed)
    or one that repeats an earlier step, and not for multiple choice: there the final call
    replies with a letter alone, and the step's reply is the answer's explanation.
    """
    last = _last_before_joins(ctx, plan)
    if last is None:
        return None
    if last.action == ANSWER:
        return last
    action = _action(ctx, plan, last)
    reads = action is not None and action.needs_document  # a pure action never does
    return last if reads and last.strings and not last.inputs else None


def _closing_on_results(ctx: AskContext, plan: Plan) -> Step | None:
    """The plan's last step, followed at most by joins, when it reads earlier results and no document
    (`ANSWER_FROM(notes, "...")`, `COMPARE(a, b)`, `CALCULATE(dates, "...")`) and the final answer call can carry
    it out: that call lists every result it could read and answers from them, so run as a step as well it costs a
    call to say what the final answer then says again, on less evidence. Not for multiple choice (as
    `_closing_step`), nor a step with no earlier result to read (`ANSWER_FROM("the storm", "Why?")`: its text is
    all it has), nor a repeat."""
    last = _last_before_joins(ctx, plan)
    if last is None or not last.inputs:
        return None
    action = _action(ctx, plan, last)
    return last if action is not None and not action.pure and not action.needs_document else None


def _reading(ctx: AskContext, plan: Plan) -> list[Step]:
    """The plan's steps that read the document (an earlier result in the document's place is not it), each once:
    a step repeated word for word reuses the first one's result."""
    steps: list[Step] = []
    for step in plan.steps:
        action = _action(ctx, plan, step)
        if action is None or not action.needs_document or any(s.call == step.call for s in steps):
            continue
        over = any(arg.kind == "var" and action.param_at(n) == CTX for n, arg in enumerate(step.args))
        if not over:
            steps.append(step)
    return steps


def _provider(
    ctx: AskContext, plan: Plan, executor: Executor, style: StepStyle, closing: Step | None
) -> tuple[StepContext, bool, tuple[str, dict[str, Any]] | None]:
    """What the steps are shown, whether the final answer call carries out the plan's closing step, and the evidence
    budget's note for the trace (text and data), which the caller records."""
    if executor == "fulldoc":
        return FullDocumentContext(whole_document(ctx.document)), False, None
    room = _room(ctx, style)
    index = ctx.index()
    reading = _reading(ctx, plan)

    def searching(closing: Step | None) -> int:
        """The steps run as steps that look for words of their own before anything runs (`slice` serves them)."""
        return sum(1 for s in reading if s is not closing and not s.inputs and s.strings)  # `strings`: none blank

    def budget_for(closing: Step | None) -> EvidenceBudget:
        return evidence_budget(
            index,
            room,
            ctx.settings.step_budget,
            answer_floor=rag_budget(ctx),
            closing_answer=closing is not None,
            answer_room=_answer_room(ctx, plan, closing, style),
            share=ctx.settings.step_share,
            reading_steps=len(reading),
            searching_steps=searching(closing),
        )

    budget = budget_for(closing)
    if closing is not None and not budget.closing:  # the window cannot hold it: the step runs, its result listed
        closing = None
        budget = budget_for(None)
    said = (
        "the whole document in every call"
        if budget.whole
        else f"{budget.shared} shared + {budget.step} per step; {budget.answer} on the question"
        + (f" (up to {budget.later} more once the steps have replied)" if budget.later else "")
        + f" and {budget.opening} of the opening in the answer call"
        + ("; the steps share out the rest of the document" if budget.shares_out else "")
    )
    data = {name: getattr(budget, name) for name in ("shared", "step", "answer", "later", "opening", "whole")}
    data |= {"closing": budget.closing, "shares_out": budget.shares_out}
    context = CompressedStepContext(index, ctx.question, budget, closing, sharers=budget.sharers)
    return context, budget.closing, (said, data)


async def answer_from_plan(ctx: AskContext, plan: Plan, *, method: str, executor: Executor) -> Answer:
    """Execute a valid `plan` over the document and answer from its results.

    Args:
        ctx: the question, document and library; the plan's actions come from `ctx.library`
            or the plan's own declarations.
        plan: from `generate_plan`, `parse_plan` or `plan_from_json`.
        method: the method name the answer carries.
        executor: what each step is shown (see `Executor`).
    """
    style = _PAPER if executor == "fulldoc" else _BRIEF
    candidate = _closing_step(ctx, plan)  # pearl-fulldoc runs it as the paper does, as a step
    if executor != "fulldoc":
        await ctx.aindex()  # built in a worker thread; `_provider` and the answer call then find it loaded
    # Off the event loop: ranking the sentences, or cutting a long document to the window, takes up to ~100 ms. The
    # budget is noted here, on the loop: a question cancelled meanwhile records nothing after it has ended.
    provider, folded, budget = await in_worker(_provider, ctx, plan, executor, style, candidate)
    if budget is not None:
        ctx.recorder.note("evidence budget", budget[0], **budget[1])
    closing = candidate if folded else None
    if closing is None and executor != "fulldoc":
        # A closing step on earlier results alone takes no evidence budget: the answer call carries it out as it is.
        closing = _closing_on_results(ctx, plan)
    before = plan.steps if closing is None else plan.steps[: plan.steps.index(closing)]
    outcomes = await execute_plan(
        plan.model_copy(update={"steps": before}),
        ctx.library,
        recorder=ctx.recorder,
        question=ctx.question,
        provider=provider,
        document_name=ctx.document.name,
        style=style,
        numbering=plan,
    )
    if executor == "fulldoc":
        free_form = _free_form(plan, outcomes)
        answer = await _paper_answer(ctx, plan, free_form, method)
        # The paper's executor shows the document unlabelled, as `direct` does, and says so as it does.
        answer = answer.model_copy(update={"notes": [*answer.notes, *unlabelled_notes(free_form, method)]})
        assert isinstance(provider, FullDocumentContext)
        if provider.kept < provider.tokens and _reading(ctx, plan):
            # As `direct` says it: what is past the cut was never read, by that step.
            cut = f"a step that read it was shown as little as {provider.kept:,} of its {provider.tokens:,} tokens"
            note = f"document truncated to fit the model's window: {cut}"
            answer = answer.model_copy(update={"notes": [*answer.notes, note]})
        return _with_blank_steps(ctx, answer)
    return _with_blank_steps(ctx, await _final_answer(ctx, plan, outcomes, provider, method, closing))


def _with_blank_steps(ctx: AskContext, answer: Answer) -> Answer:
    """`answer`, noting each step whose model replied with no text after every retry: its result was empty."""
    blank = [event.stage.removesuffix(BLANK_SUFFIX) for event in ctx.trace.events if event.stage.endswith(BLANK_SUFFIX)]
    notes = [f"{stage}: {BLANK_STEP}" for stage in blank]
    return answer.model_copy(update={"notes": [*answer.notes, *notes]}) if notes else answer


def _free_form(plan: Plan, outcomes: dict[str, StepOutcome]) -> str:
    """The outputs no later step reads, a step that repeats another's call once: it is run once, and its output, given
    again, made the answer say it twice (helper-186)."""
    steps = {step.var: step for step in plan.steps}
    once = set({steps[var].call: var for var in reversed(plan.answer_vars)}.values())  # the first of each call
    return "\n".join(outcomes[var].output for var in plan.answer_vars if var in once).strip()


async def _paper_answer(ctx: AskContext, plan: Plan, free_form: str, method: str) -> Answer:
    """The paper's ending: the free-form answer is the outputs no later step uses; a short call maps it to a letter."""
    question = ctx.question
    letter = await choose_letter(ctx, free_form) if question.options else None
    return Answer(
        question=question.text,
        options=question.options,
        **answer_fields(question, letter, free_form),
        method=method,
        plan=plan.render(),
    )


def _result(outcome: StepOutcome) -> str:
    return truncate_to_tokens(outcome.output, _RESULT_TOKENS)[0] or "(empty)"


ARGUED_NOTE = "the explanation (the steps' results) points to option "
"""Opens an answer's note when the steps' results argue for another option than the final call chose."""


async def _final_answer(
    ctx: AskContext,
    plan: Plan,
    outcomes: dict[str, StepOutcome],
    provider: StepContext,
    method: str,
    closing: Step | None,
) -> Answer:
    """The final answer call; with `closing`, it is also that step (see `_closing_step`), and its reply the
    step's output, which the joins after it then join locally."""
    index = ctx.index()
    question = ctx.question
    shared = provider.shared()
    template = load_prompt("answer")
    results = _results(ctx, plan, closing, lambda step: _result(outcomes[step.var]))
    in_shared = set(shared.sentence_ids)
    cited = sorted({sid for o in outcomes.values() for sid in o.cited if sid not in in_shared})
    reply = reply_format(ctx, template, cite=True)
    window = ctx.llm.context_window
    values, room = _answer_values(ctx, shared, results)
    more = await in_worker(provider.more_for_question, room)  # ranks the sentences: off the loop too
    values["more"] = (
        template.part("more", name=ctx.shown_name, note=more.note, sentences=more.text) if more.text else ""
    )
    in_more = set(more.sentence_ids)
    cited = [sid for sid in cited if sid not in in_more]
    room = template.room_for("cited", window, reply.max_tokens, **values)
    values["cited"] = ""
    while cited:  # whole sentences or none: drop the last ones until the rest fits
        block = template.part("cited", name=ctx.shown_name, sentences=render_sentences(index, cited))
        if count_tokens(block) <= room:
            values["cited"] = block
            break
        cited = cited[: len(cited) * 3 // 4]
    place = (0, 0)
    if closing is not None:
        ctx.recorder.note(f"step {closing.var} = {closing.action} (by the final answer call)", carried_out_by="answer")
        place = (plan.steps.index(closing) + 1, len(plan.steps))
    completion = await ctx.recorder.acall("answer", template, template.render(**values), place=place, **reply.params)
    text = completion.text.strip()
    # What this call was shown (a label of another step's sentence it repeats is backed by that step's own).
    seen = sorted({*in_shared, *in_more, *(cited if values["cited"] else [])})
    answer_cited = cited_ids(text, seen)
    shown = sorted({*seen, *(sid for o in outcomes.values() for sid in o.shown)})  # by the run, to infer from
    if closing is not None:
        outcome = StepOutcome(var=closing.var, action=closing.action, output=text, shown=seen, cited=answer_cited)
        outcomes = {**outcomes, closing.var: outcome}
        joins = plan.model_copy(update={"steps": plan.steps[plan.steps.index(closing) + 1 :]})
        if joins.steps:
            outcomes |= await execute_plan(
                joins,
                ctx.library,
                recorder=ctx.recorder,
                question=ctx.question,
                provider=provider,
                known=outcomes,
            )
    free_form = _free_form(plan, outcomes)
    letter = await choose_letter(ctx, text) if question.options else None
    if question.options:
        # The steps wrote the answer's prose; a final reply that says more than a letter is what the letter was read
        # from (or why none was), kept with it.
        answer_text = "\n\n".join(part for part in (free_form, "" if letter_alone(text, letter) else text) if part)
    else:
        answer_text = text or free_form
    cited_all = [*answer_cited, *(sid for o in outcomes.values() for sid in o.cited)]
    # Off the loop: with no valid label, the closest sentences are ranked.
    cite = functools.partial(citations_for, own=len(answer_cited))
    citations, evidence_notes = await in_worker(cite, index, cited_all, shown, answer_text, question)
    # The final call sees evidence no step did and may choose otherwise than the steps' prose, which is the
    # explanation: said, so that an explanation arguing for another option is not read as the answer's reasons.
    argued = parse_choice(free_form, len(question.options), question.options) if question.options and letter else None
    if argued is not None and argued != letter:
        evidence_notes.append(f"{ARGUED_NOTE}{argued}; the final call, shown more of the document, chose {letter}")
    return Answer(
        question=question.text,
        options=question.options,
        **answer_fields(question, letter, answer_text),
        method=method,
        citations=citations,
        plan=plan.render(),
        notes=evidence_notes,
    )
