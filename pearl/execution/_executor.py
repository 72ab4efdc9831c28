"""Run a plan: a DAG of steps; independent steps run concurrently, pure ones locally.

Each LLM step gets its action's definition, its resolved arguments and a context chosen for
that step by a `StepContext` provider: a compressed slice of the indexed document (pearl), or
the whole document cut to the window (pearl-fulldoc, the paper's executor). Document text is
always fenced as data in the prompt.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from pearl.actions import CTX, Action, ActionLibrary
from pearl.errors import ExecutionError
from pearl.models import StepRequest, StepSlice
from pearl.planning import Plan, Step
from pearl.prompts import load_prompt
from pearl.protocols import StepContext
from pearl.questions import Question
from pearl.tokens import truncate_to_tokens
from pearl.trace import Recorder

__all__ = ["StepOutcome", "cited_ids", "execute_plan"]

_CITE = re.compile(r"\[S(\d+)\]")
_INPUT_TOKENS = 300  # an earlier result is cut to this many tokens when passed on
_STEP_REPLY_TOKENS = 200


class StepOutcome(BaseModel):
    """One step's result."""

    var: str
    action: str
    output: str
    local: bool = False
    shown: list[int] = Field(default_factory=list, description="sentence ids the step was shown")
    cited: list[int] = Field(default_factory=list, description="shown sentence ids the output cites")


def cited_ids(text: str, shown: Sequence[int] | None = None) -> list[int]:
    """Sentence ids cited as `[S12]` in `text`, in order, without repeats (only those in `shown`, if given)."""
    allowed = set(shown) if shown is not None else None
    found = [int(m) for m in _CITE.findall(text)]
    return [sid for sid in dict.fromkeys(found) if allowed is None or sid in allowed]


def _resolve(step: Step, results: dict[str, StepOutcome]) -> list[str]:
    values = []
    for arg in step.args:
        if arg.kind == "ctx":
            values.append(CTX)
        elif arg.kind == "string":
            values.append(arg.value)
        else:
            values.append(truncate_to_tokens(results[arg.value].output, _INPUT_TOKENS)[0])
    return values


def _inputs_block(action: Action, step: Step, values: list[str]) -> str:
    params = list(action.params)
    lines = []
    for position, (arg, value) in enumerate(zip(step.args, values, strict=True)):
        name = params[min(position, len(params) - 1)] if params else f"ARG{position + 1}"
        if arg.kind == "ctx":
            continue
        source = f" (result of {arg.value})" if arg.kind == "var" else ""
        lines.append(f"{name}{source}: {value}")
    return "\n".join(lines) or "(none)"


async def _run_step(
    step: Step,
    action: Action,
    values: list[str],
    recorder: Recorder,
    question: Question,
    provider: StepContext,
    document_name: str,
) -> StepOutcome:
    if action.pure:  # CONCAT and friends: joined locally, no model call
        output = "\n".join(v for v in values if v != CTX)
        recorder.note(f"step {step.var} = {step.action} (local)", output)
        return StepOutcome(var=step.var, action=step.action, output=output, local=True)
    fields = {
        "question": question.text,
        "signature": action.signature,
        "definition": action.definition,
        "inputs": _inputs_block(action, step, values),
        "action": action.name,
    }
    if action.needs_document:
        template = load_prompt("step")
        room = template.room_for(
            "context", recorder.llm.context_window, _STEP_REPLY_TOKENS, name=document_name, context_note="", **fields
        )
        request = StepRequest(
            var=step.var,
            action=action.name,
            definition=action.definition,
            strings=[a.value for a in step.args if a.kind == "string"],
            inputs=[v for v, a in zip(values, step.args, strict=True) if a.kind == "var"],
            explanation=step.explanation,
            question=question,
        )
        piece = provider.slice(request, room)
        messages = template.render(context=piece.text, name=document_name, context_note=piece.note, **fields)
    else:
        template = load_prompt("step_nodoc")
        piece = StepSlice(text="")
        messages = template.render(**fields)
    reply = await recorder.acall(
        f"step {step.var} = {step.action}", template, messages, max_tokens=_STEP_REPLY_TOKENS, temperature=0.0
    )
    output = reply.text.strip()
    return StepOutcome(
        var=step.var,
        action=step.action,
        output=output,
        shown=piece.sentence_ids,
        cited=cited_ids(output, piece.sentence_ids),
    )


async def execute_plan(
    plan: Plan,
    library: ActionLibrary,
    *,
    recorder: Recorder,
    question: Question,
    provider: StepContext,
    document_name: str = "document",
) -> dict[str, StepOutcome]:
    """Run every step of `plan`, each as soon as its inputs are ready.

    Returns:
        Each step's outcome, keyed by its variable, in plan order.

    Raises:
        ExecutionError: the plan uses an action neither the library nor the plan declares, or is cyclic.
        LLMError: a step's model call failed after retries.
    """
    actions = {a.name: a for a in [*library.actions, *plan.new_actions]}
    for step in plan.steps:
        if step.action not in actions:
            raise ExecutionError(f"step {step.var}: unknown action {step.action}")
    graph = plan.to_graph()
    import networkx as nx  # loaded on first use: it costs 150 ms at import

    if not nx.is_directed_acyclic_graph(graph):
        raise ExecutionError("the plan's steps depend on each other in a cycle")
    results: dict[str, StepOutcome] = {}
    done: dict[str, asyncio.Event] = {step.var: asyncio.Event() for step in plan.steps}
    # Models often repeat a step word for word; the repeat reuses the first one's result.
    first_of: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    for step in plan.steps:
        first_of.setdefault((step.action, tuple((a.kind, a.value) for a in step.args)), step.var)

    async def run(step: Step) -> None:
        original = first_of[(step.action, tuple((a.kind, a.value) for a in step.args))]
        if original != step.var:
            await done[original].wait()
            results[step.var] = results[original].model_copy(update={"var": step.var, "local": True})
            recorder.note(f"step {step.var} = {step.action} (same as {original})", results[step.var].output)
        else:
            for name in step.inputs:
                await done[name].wait()
            values = _resolve(step, results)
            results[step.var] = await _run_step(
                step, actions[step.action], values, recorder, question, provider, document_name
            )
        done[step.var].set()

    tasks = [asyncio.ensure_future(run(step)) for step in plan.steps]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    return {step.var: results[step.var] for step in plan.steps}
