"""Plan generation with self-correction.

The planner sees the question (and options), a relevant slice of the action library, a few
demonstrations chosen by the document's kind and similarity (`select_demos`) and the document's entity sheet,
never the document.
Where the backend enforces a GBNF grammar the plan is constrained so that every sentence the
model can write is valid; a JSON schema is used where the server takes one. Whatever comes
back goes through the one validator; a rejected plan goes back to the model with every error
so far, the earlier rejected plans (cut to fit the window first), the demonstrations and the
entity sheet, up to `max_attempts` times (the paper's budget, 8, by default). The caller runs
a fallback when every attempt failed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from pearl._text import counted, word_stems
from pearl.actions import ActionLibrary
from pearl.errors import BlankReplyError, PlanParseError
from pearl.llm import OutputMode, constrained, cut_at_limit
from pearl.planning._demos import ACTION_CALL, Demo
from pearl.planning._grammar import plan_from_json, plan_gbnf, plan_json_schema, plan_to_json
from pearl.planning._models import Arg, Plan, Step
from pearl.planning._parser import parse_plan, plan_ends_before, plan_ends_with_step
from pearl.planning._validate import ANSWER, DEFAULT_MAX_STEPS
from pearl.prompts import PromptTemplate, load_prompt
from pearl.protocols import LLM
from pearl.questions import Question
from pearl.trace import Recorder

__all__ = [
    "PlanAttempt",
    "PlanResult",
    "choose_actions",
    "generate_plan",
    "plan_constraints",
    "plan_rules",
    "plan_window_problem",
    "read_plan_reply",
    "rejected_text",
    "renumber",
]

# Actions every planner should see: general readers and the combinators that finish a plan.
# ANSWER is not among them: always on show, it invites the one-step plan that is no plan.
_CORE = (
    "CONCAT",
    "FIND_X",
    "FIND_REASON",
    "FIND_CHARACTER",
    "FIND_EVENT",
    "FIND_RELATION",
    "ANSWER_FROM",
    "SELECT",
)
DEFAULT_PLAN_ATTEMPTS = 8
"""Plan generations at most: the paper re-prompts a rejected plan up to 8 times."""


BLANK_PLAN = "the planner replied with no text"
"""A planning attempt's error when the server's reply held no text after every retry (`BlankReplyError`)."""


class PlanAttempt(BaseModel):
    """One reply of the planner and, when it failed validation, why."""

    text: str
    error: str | None = None


REPEATED_PLAN = "the planner repeated its rejected reply word for word"
"""Why planning stopped before its attempts ran out: a correction that changed nothing of the reply it corrects."""


class PlanResult(BaseModel):
    """The plan (None when every attempt failed) and every attempt made."""

    plan: Plan | None = None
    attempts: list[PlanAttempt] = Field(default_factory=list)
    library: ActionLibrary
    notes: list[str] = Field(
        default_factory=list, description="what the planner was not shown: a question cut to fit its prompt"
    )
    stopped: str = Field(default="", description="why planning stopped before its attempts ran out, if it did")


def no_plan(result: PlanResult) -> str:
    """What a planning that gave no plan says: "no valid plan after 3 attempts", and why the last gave none where the
    planner replied with no text (`BLANK_PLAN`) or repeated a rejected reply (`REPEATED_PLAN`)."""
    last = (result.attempts[-1].error or "") if result.attempts else ""
    why = BLANK_PLAN if last.startswith(BLANK_PLAN) else result.stopped
    return f"no valid plan after {counted(len(result.attempts), 'attempt')}{f' ({why})' if why else ''}"


def choose_actions(library: ActionLibrary, question: str, demos: Sequence[Demo], limit: int = 16) -> ActionLibrary:
    """The part of `library` worth showing for `question`: core actions, those the demos use, the closest others.

    Showing 16 of 40+ actions keeps the planning prompt small without hiding what the
    question needs; closeness is word overlap between the question and an action's name
    and definition.
    """
    if len(library.actions) <= limit:
        return library
    wanted = set(word_stems(question))
    used = {m for d in demos for m in ACTION_CALL.findall(d.plan)}
    chosen: list[str] = [n for n in _CORE if n in library]
    chosen += [n for n in sorted(used) if n in library and n not in chosen]

    def closeness(name: str) -> int:
        action = library.get(name)
        definition = action.definition if action else ""
        return len(wanted & set(word_stems(f"{name.replace('_', ' ')} {definition}")))

    rest = sorted((n for n in library.names if n not in chosen), key=lambda n: (-closeness(n), library.names.index(n)))
    chosen += rest[: max(0, limit - len(chosen))]
    keep = set(chosen[: max(limit, len(_CORE))])
    return library.model_copy(update={"actions": [a for a in library.actions if a.name in keep]})


def renumber(plan: Plan) -> Plan:
    """The same plan with step k's output named `sk`, the form the grammar enforces."""
    names = {step.var: f"s{i}" for i, step in enumerate(plan.steps, start=1)}
    steps = [
        Step(
            var=names[step.var],
            action=step.action,
            args=[Arg.var(names[a.value]) if a.kind == "var" else a for a in step.args],
            explanation=step.explanation,
            line=step.line,
        )
        for step in plan.steps
    ]
    return Plan(steps=steps, new_actions=plan.new_actions)


def render_demos(demos: Sequence[Demo], library: ActionLibrary, mode: str, max_steps: int) -> str:
    """Demonstrations as a planning prompt shows them, in the plan form `mode` asks for; those `library` cannot run
    are left out."""
    blocks = []
    for demo in demos:
        try:
            plan = parse_plan(demo.plan, library, max_steps=max_steps)
        except PlanParseError:
            # A demo written for another library, or longer than the plan asked for: skip it rather than teach a
            # wrong action or a plan the checker refuses.
            continue
        if mode == "grammar":
            text = renumber(plan).render(explanations=False)
        elif mode == "json":
            text = json.dumps(plan_to_json(plan), ensure_ascii=False)
        else:
            text = plan.render()
        blocks.append(f"Question: {demo.question}\nPlan:\n{text}")
    return "\n\n".join(blocks) or "(none)"


# How much of the window each variable part of a planning prompt may take (see PromptTemplate.fit).
# A correction keeps every error and the last plan before the sheet and the demos; the earlier
# rejected plans take what is left, newest first, so a cut drops the oldest.
_PLAN_SHARES = {"question": 0.25, "options_block": 0.3, "entity_sheet": 0.5, "demos": 1.0}
_FIX_SHARES = {
    "question": 0.25,
    "options_block": 0.3,
    "errors": 0.5,
    "plan": 0.5,
    "entity_sheet": 0.3,
    "demos": 0.7,
    "earlier": 1.0,
}


# A planning prompt too small for the question was sent with the question cut to nothing, eight times:
# the model cannot plan for a question it does not see, nor correct a plan from errors it is not shown.
_FIX_FLOOR = 64  # tokens a correction must have besides the question, for the errors and the rejected plan


def plan_window_problem(
    llm: LLM,
    question: Question,
    library: ActionLibrary,
    *,
    demos: Sequence[Demo] = (),
    max_steps: int = DEFAULT_MAX_STEPS,
) -> str | None:
    """Why the model's window cannot hold a planning prompt worth sending, or None when it can.

    A planning prompt must hold the action list whole and the question and its options (whole, or
    when long, `SHOWN_FLOOR` tokens of it or more), and a correction must have room for errors and a plan
    besides. Demonstrations and the entity sheet are cut first and may be left out.
    """
    shown = choose_actions(library, question.text, demos)
    mode, params = plan_constraints(llm, shown, max_steps)
    window, reply_tokens = llm.context_window, int(params["max_tokens"])
    first, fix = load_prompt("plan"), load_prompt("plan_fix")
    values = {
        "actions": shown.render(),
        "question": question.text,
        "options_block": question.options_block(),
        "entity_sheet": "",
        "demos": "",
    }
    _, report = first.fit(window, reply_tokens, _PLAN_SHARES, **values, **plan_rules(first, shown, max_steps, mode))
    for field in ("question", "options_block"):
        if report[field].lost:
            what = f"the {report[field].total:,}-token {field.removesuffix('_block')}"
            return f"a {window:,}-token window cannot hold the planning prompt (the action list, {what} and a reply)"
    kept = report["question"].kept + report["options_block"].kept
    rules = plan_rules(fix, shown, max_steps, mode)
    bare = {**values, "question": "", "options_block": ""}
    room = fix.room_for("errors", window, reply_tokens, **bare, plan="", earlier="", **rules) - kept
    if room < _FIX_FLOOR:
        return f"a {window:,}-token window leaves a correction of the plan no room for its errors"
    return None


def _json_or_text(text: str, library: ActionLibrary, max_steps: int) -> Plan:
    """A plan asked for as JSON: read as JSON, or, where the reply holds no JSON at all, as the plan language. A server
    that ignores `response_format` lets the model write the steps' own form, which the prompt shows it: a valid plan
    had been refused eight times ("not valid JSON"), then answered by rag (helper-220)."""
    if not text.strip():  # not "line 1, column 1: the plan is not valid JSON: Expecting value"
        raise PlanParseError('the reply was empty; write the plan as a JSON object like {"steps": [...]}')
    try:
        return plan_from_json(text, library, max_steps=max_steps)
    except PlanParseError as json_error:
        if "{" in text:  # JSON was written: what is wrong with it is the error to fix
            raise
        try:
            return parse_plan(text, library, max_steps=max_steps)
        except PlanParseError:
            raise json_error from None


def plan_constraints(llm: LLM, shown: ActionLibrary, max_steps: int) -> tuple[OutputMode, dict[str, Any]]:
    """The output mode and request parameters of a planning call (grammar, JSON schema or text)."""
    mode, constraint = constrained(
        llm,
        grammar=lambda: plan_gbnf(shown, max_steps=max_steps),
        json_schema=lambda: plan_json_schema(shown, max_steps=max_steps),
    )
    return mode, {"max_tokens": 60 * max_steps + 40, "temperature": 0.0, **constraint}


def plan_rules(
    template: PromptTemplate, shown: ActionLibrary, max_steps: int, mode: OutputMode = "text"
) -> dict[str, str]:
    """The values every planning prompt fills from the plan language's rules: the step limit, when ANSWER is
    shown that it only ends a plan, the form of a step and the note on writing the plan in `mode`.

    A step is written with what it is for (`name = ACTION(args) : explanation`, the paper's form; the
    explanation steers the evidence the step is shown) except under a grammar, which spares a small
    model the prose.
    """
    note = f" {template.part('answer_last')}" if ANSWER in shown else ""
    return {
        "max_steps": str(max_steps),
        "answer_note": note,
        "step_form": template.part({"grammar": "form_plain", "json": "form_json"}.get(mode, "form_text")),
        "format_note": template.part(f"format_{mode}"),
    }


def read_plan_reply(
    text: str, mode: OutputMode, library: ActionLibrary, max_steps: int, *, cut_at: int | None = None
) -> Plan:
    """Parse a planner's reply written in `mode` (JSON or the plan language); `cut_at`: the reply's token limit,
    where the server cut the reply there (`finish_reason` "length").

    Raises:
        PlanParseError: the reply is not a valid plan; the message says what to fix (of a cut reply: that it was
            cut, not only where, which is all the parser sees). A cut reply is refused even where what is left of it
            parses: a cut after a whole step, or in an explanation, reads as a plan without its last steps. Not
            where the reply shows its plan ended before the cut (`plan_ends_before`: a fence closed after the
            last step, the next example begun): what was cut is prose after a whole plan.
    """
    try:
        if mode == "json":
            plan = _json_or_text(text, library, max_steps)
        else:
            plan = parse_plan(text, library, max_steps=max_steps)
    except PlanParseError as exc:
        if cut_at is None:
            raise
        raise PlanParseError(
            f"the reply was cut off at its limit of {cut_at} tokens ({exc}); write fewer steps, "
            "with shorter arguments and explanations"
        ) from None
    if cut_at is not None and not (mode != "json" and plan_ends_before(text)):
        fix = "write fewer steps, with shorter arguments and explanations"
        if mode != "json" and not plan_ends_with_step(text):
            fix = "write only the plan's steps, nothing after them"  # the cut was in prose after the steps
        raise PlanParseError(
            f"the reply was cut off at its limit of {cut_at} tokens, after {counted(len(plan.steps), 'step')}: the "
            f"plan's last steps may be missing; {fix}"
        )
    return plan


async def generate_plan(
    recorder: Recorder,
    question: Question,
    library: ActionLibrary,
    *,
    demos: Sequence[Demo] = (),
    entity_sheet: str = "",
    max_attempts: int = DEFAULT_PLAN_ATTEMPTS,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> PlanResult:
    """Ask the model for a plan, validate it, and send errors back until it is valid or attempts run out.

    Args:
        recorder: the model, recording into the question's trace.
        question: the question and its options.
        library: actions the plan may use (the prompt shows the relevant part).
        demos: demonstrations to show, best first.
        entity_sheet: the document's main entities, from its index.
        max_attempts: model calls at most (the first plus corrections).
        max_steps: the longest plan accepted.
    """
    shown = choose_actions(library, question.text, demos)
    mode, params = plan_constraints(recorder.llm, shown, max_steps)
    first = load_prompt("plan")
    fix = load_prompt("plan_fix")
    common = {
        "actions": shown.render(),
        "question": question.text,
        "options_block": question.options_block(),
        "entity_sheet": entity_sheet or "(not available)",
        "demos": render_demos(demos, shown, mode, max_steps),
    }
    # The prompt (and grammar) show a relevant part of the library; any action of the whole library is accepted.
    result = PlanResult(library=library)
    window, reply_tokens = recorder.llm.context_window, int(params["max_tokens"])
    for attempt in range(1, max_attempts + 1):
        template = first if attempt == 1 else fix
        values = {**common, **plan_rules(template, shown, max_steps, mode)}
        if attempt == 1:
            fitted, _ = template.fit(window, reply_tokens, _PLAN_SHARES, **values)
        else:
            failed = result.attempts
            fitted, _ = template.fit(
                window,
                reply_tokens,
                _FIX_SHARES,
                plan=_plan_text(failed[-1]),
                errors="\n".join(f"- attempt {i}: {a.error}" for i, a in enumerate(failed, start=1)),
                earlier="\n\n".join(
                    f"Attempt {i}:\n{_plan_text(a)}" for i, a in reversed(list(enumerate(failed[:-1], start=1)))
                )
                or "(none)",
                **values,
            )
        messages = template.render(**fitted)
        try:
            reply = await recorder.acall(
                f"plan (attempt {attempt})", template, messages, place=(attempt, max_attempts), **params
            )
        except BlankReplyError as exc:
            # No text, after every retry the backend makes: the model's reply to this prompt, not a glitch. Asked
            # again, it costs those retries again; the question falls back instead (it had failed whole, with the
            # server's reply quoted: helper-220).
            result.attempts.append(PlanAttempt(text="", error=f"{BLANK_PLAN} ({exc})"))
            recorder.note("plan rejected", BLANK_PLAN, attempt=attempt)
            break
        try:
            cut_at = reply_tokens if cut_at_limit(reply) else None
            plan = read_plan_reply(reply.text, mode, library, max_steps, cut_at=cut_at)
        except PlanParseError as exc:
            error = str(exc)
            result.attempts.append(PlanAttempt(text=reply.text, error=error))
            recorder.note("plan rejected", error, attempt=attempt)
            if attempt > 1 and reply.text.strip() == result.attempts[-2].text.strip():
                # Told what was wrong, the model wrote the same again: a model that does so at once repeats it to
                # the last attempt (a small model's "B" eight times, 10k tokens for a 143-token note: helper-227).
                result.stopped = REPEATED_PLAN
                recorder.note("planning stopped", REPEATED_PLAN, attempt=attempt)
                break
            continue
        result.attempts.append(PlanAttempt(text=reply.text))
        result.plan = plan
        recorder.note("plan accepted", plan.render(), attempt=attempt)
        break
    return result


def _plan_text(attempt: PlanAttempt) -> str:
    return rejected_text(attempt.text)


def rejected_text(reply: str) -> str:
    """A rejected reply as a correction prompt shows it: as written, so that the line and column its error names
    are the ones shown (stripped, its leading blank lines made "line 3" the first line shown); "(empty)" for none."""
    return reply.rstrip() if reply.strip() else "(empty)"
