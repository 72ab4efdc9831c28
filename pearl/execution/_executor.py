"""Run a plan: a DAG of steps; independent steps run concurrently, pure ones locally.

Each step that reads the document is shown, in this order, the question, the evidence every call
about the question shares (`StepContext.shared`), its action's definition, the plan's
explanation of the step, its arguments (earlier results passed whole, up to a cap), and the
evidence chosen for this step (`StepContext.slice`). A step whose document slot holds an earlier
result runs over that text instead, as the paper's executor does. Document text is always
fenced as data in the prompt, and every prompt is fitted to the window in one place
(`PromptTemplate.fit`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from pearl._text import attribute_value, citations, neutralise_fence
from pearl._workers import in_worker
from pearl.actions import CTX, Action, ActionLibrary
from pearl.errors import BlankReplyError, ExecutionError
from pearl.execution._contexts import NOTE_TOKENS, FullDocumentContext
from pearl.llm._reply import cut_at_limit
from pearl.models import Completion, Message, StepRequest, StepSlice
from pearl.planning import Plan, Step
from pearl.prompts import CUT_MARK, PromptTemplate, fit_in_worker, load_prompt
from pearl.protocols import StepContext
from pearl.questions import Question
from pearl.tokens import count_tokens, truncate_to_tokens
from pearl.trace import Recorder

__all__ = ["INPUT_TOKENS", "IN_PLACE", "STEP_SHARES", "StepOutcome", "StepStyle", "cited_ids", "execute_plan"]

INPUT_TOKENS = 1500
"""An earlier result passed to a step is cut to this many tokens; whole results are rarely longer."""
IN_PLACE = "in place of the document"
"""How the note of an evidence block that holds an earlier result, not excerpts, ends: its labels are the model's, of
sentences some earlier call was shown (a page reads them as no excerpts)."""
_NOT_GIVEN = "(not given)"
STEP_SHARES = {"question": 0.25, "options_block": 0.3, "explanation": 0.2, "inputs": 0.6}
"""How much of a step prompt's room each variable part may take, in order (see `PromptTemplate.fit`)."""


@dataclass(frozen=True)
class StepStyle:
    """How steps are asked: reply length, and the instruction (a part of the step prompts) that goes with it."""

    reply_tokens: int = 256
    reply_part: str = "brief"


class StepOutcome(BaseModel):
    """One step's result."""

    var: str
    action: str
    output: str
    local: bool = False
    shown: list[int] = Field(default_factory=list, description="sentence ids the step was shown")
    cited: list[int] = Field(default_factory=list, description="shown sentence ids the output cites")


def cited_ids(text: str, shown: Sequence[int] | None = None) -> list[int]:
    """Sentence ids cited in `text` (`[S12]`, `[S12, S14]`, `[S3-S5]`: `pearl._text.citations`), in order, without
    repeats (only those in `shown`, if given)."""
    allowed = set(shown) if shown is not None else None
    found = [sid for _, _, ids in citations(text) for sid in ids]
    return [sid for sid in dict.fromkeys(found) if allowed is None or sid in allowed]


@dataclass
class _Call:
    """One step about to be asked: the action, its resolved arguments, and the text it runs over instead of CTX."""

    step: Step
    action: Action
    values: list[str]
    over: str | None = None  # an earlier result in the document slot: the action runs over it
    over_var: str | None = None  # the step whose result that is
    document: frozenset[int] = frozenset()
    """The positions of `values` that stand for the document (CTX, or the result put in its place), told apart by
    where they are, not by their text: a string or a result that reads "CTX" is a value like any other."""

    def given(self) -> list[tuple[int, str]]:
        """The arguments the step is given as values, with their positions: all but the document's."""
        return [(position, value) for position, value in enumerate(self.values) if position not in self.document]


def _resolve(step: Step, action: Action, results: dict[str, StepOutcome], cap: int | None = INPUT_TOKENS) -> _Call:
    """The step's arguments, each earlier result cut to `cap` tokens (None: whole, as the paper passes them)."""
    values: list[str] = []
    over: str | None = None
    over_var: str | None = None
    document: set[int] = set()
    for position, arg in enumerate(step.args):
        if arg.kind == "ctx":
            values.append(CTX)
            document.add(position)
        elif arg.kind == "string":
            values.append(arg.value)
        else:
            output = results[arg.value].output
            text = output if cap is None else truncate_to_tokens(output, cap)[0]
            if action.param_at(position) == CTX and over is None:
                over, over_var = text, arg.value  # the paper runs the action over a result put where the document goes
                values.append(CTX)
                document.add(position)
            else:
                values.append(text)
    return _Call(step=step, action=action, values=values, over=over, over_var=over_var, document=frozenset(document))


def _as_input(text: str) -> str:
    """An earlier result (or a plan's text argument) as a prompt shows it, an argument or in the document's place: a
    result that copies the document (EXTRACT does, word for word) can no more close a fence or write a chat
    template's token than the document can; its labels are the model's own, of sentences it was shown, and stay.
    The result itself, which the user may be shown as the answer, is kept as the model wrote it."""
    return neutralise_fence(text, labels=False) if text.strip() else ""


def _param_name(action: Action, position: int) -> str:
    """The name a prompt gives argument `position` (0-based): its parameter's, the last one's past the end."""
    params = action.params
    return params[min(position, len(params) - 1)] if params else f"ARG{position + 1}"


def _inputs_block(call: _Call) -> str:
    lines = []
    for position, (arg, value) in enumerate(zip(call.step.args, call.values, strict=True)):
        name = _param_name(call.action, position)
        if position in call.document:
            if arg.kind == "var":
                lines.append(f"{name}: the result of {arg.value} (in the excerpts below), {IN_PLACE}")
            continue
        source = f" (result of {arg.value})" if arg.kind == "var" else ""
        lines.append(f"{name}{source}: {_as_input(value) or _NOT_GIVEN}")
    return "\n".join(lines) or "(none)"


def _request(call: _Call, question: Question) -> StepRequest:
    step = call.step
    return StepRequest(
        var=step.var,
        action=call.action.name,
        definition=call.action.definition,
        strings=step.strings,
        inputs=[value for position, value in call.given() if step.args[position].kind == "var"],
        explanation=step.explanation,
        question=question,
    )


class _StepRunner:
    """What every step of one plan shares: the model, the question, the evidence provider, the prompts."""

    def __init__(
        self,
        recorder: Recorder,
        question: Question,
        provider: StepContext,
        document_name: str,
        style: StepStyle,
        places: dict[str, tuple[int, int]],
    ) -> None:
        self.recorder = recorder
        self.places = places  # step variable -> (its position in the plan, the plan's length), for progress
        self.question = question
        self.provider = provider
        self.name = attribute_value(document_name)
        self.style = style
        self.template = load_prompt("step")
        self.nodoc = load_prompt("step_nodoc")
        self.shared = provider.shared()
        self._slices: dict[str, StepSlice] = {}

    def _values(self, template: PromptTemplate, call: _Call) -> dict[str, str]:
        action = call.action
        explanation = call.step.explanation or ""
        return {
            "question": self.question.text,
            "options_block": self.question.options_block(),
            "signature": action.signature,
            "definition": action.definition,
            "explanation": template.part("explanation", explanation=explanation) + "\n" if explanation else "",
            "inputs": _inputs_block(call),
            "reply_instruction": template.part(self.style.reply_part),
            "action": action.name,
        }

    def _fitted(self, call: _Call) -> tuple[dict[str, str], int]:
        """The step prompt's values fitted to the window, and the room left for the step's own evidence."""
        window, reply = self.recorder.llm.context_window, self.style.reply_tokens
        values = self._values(self.template, call)
        frame = {"name": self.name, "shared_note": self.shared.note, "shared": self.shared.text}
        empty_evidence = self.template.part("evidence", name=self.name, note="", context="")
        # The paper's executor shows the whole document in every step: it is cut to what the step's own fields
        # leave, never they to make room for it. Evidence chosen for a budget is fixed text, as it always fits.
        shares = {**STEP_SHARES, "shared": 1.0} if isinstance(self.provider, FullDocumentContext) else STEP_SHARES
        fitted, _ = self.template.fit(window, reply, shares, evidence=empty_evidence, **frame, **values)
        del fitted["evidence"]
        room = self.template.room_for("evidence", window, reply, **fitted)
        return fitted, room - count_tokens(empty_evidence) - NOTE_TOKENS

    def prepare(self, call: _Call) -> None:
        """Choose the step's own evidence (steps that take no earlier result: in plan order, before any step runs)."""
        if call.action.needs_document and call.over is None and call.step.var not in self._slices:
            _, room = self._fitted(call)
            self._slices[call.step.var] = self.provider.slice(_request(call, self.question), room)

    async def run(self, call: _Call) -> StepOutcome:
        step, action = call.step, call.action
        if action.pure:  # CONCAT and friends: joined locally, no model call
            output = "\n".join(value for _, value in call.given())
            self.recorder.note(f"step {step.var} = {step.action} (local)", output)
            return StepOutcome(var=step.var, action=step.action, output=output, local=True)
        if not action.needs_document:
            template = self.nodoc
            values, _ = template.fit(
                self.recorder.llm.context_window, self.style.reply_tokens, STEP_SHARES, **self._values(template, call)
            )
            piece = StepSlice(text="")
        else:
            template = self.template
            values, room = self._fitted(call)
            if call.over is not None:
                text, _ = truncate_to_tokens(_as_input(call.over), max(0, room))
                piece = StepSlice(text=text, note=f"an earlier result, {IN_PLACE}")
            else:
                self.prepare(call)
                piece = self._slices[step.var]
            evidence = template.part("evidence", name=self.name, note=piece.note, context=piece.text)
            values["evidence"] = evidence if piece.text else ""
        shown = [*self.shared.sentence_ids, *piece.sentence_ids] if action.needs_document else []
        reply = await _step_call(self.recorder, step, template, template.render(**values), self.places, self.style)
        if reply is None:
            return _blank(self.recorder, step, shown)
        output = _marked(reply)
        return StepOutcome(var=step.var, action=step.action, output=output, shown=shown, cited=cited_ids(output, shown))


class _PaperRunner:
    """The paper's executor (`pearl-fulldoc`), step by step as the paper lays a step out: the text the action reads
    first (the whole document, or an earlier result where the plan puts one in the document's place; nothing when
    the action takes no CTX), then the action and its definition, its arguments with earlier results whole, and
    the plan's explanation of the step. No question and no sentence labels: the paper's step is shown neither.
    What a step's own fields leave of the window is the text's; past that it is cut, step by step, as the paper
    cuts the article (the text comes first, so the calls of a question still share a prefix a server can cache).
    """

    def __init__(self, recorder: Recorder, provider: FullDocumentContext, document_name: str, style: StepStyle,
                 places: dict[str, tuple[int, int]]) -> None:  # fmt: skip
        self.recorder = recorder
        self.provider = provider
        self.name = attribute_value(document_name)
        self.style = style
        self.places = places
        self.template = load_prompt("step_paper")

    def prepare(self, call: _Call) -> None:
        """Nothing to choose beforehand: every step that reads the document reads all of it."""

    def _fitted(self, call: _Call) -> dict[str, str]:
        template, action = self.template, call.action
        lines = [
            template.part("argument", name=_param_name(action, position), value=_as_input(value) or _NOT_GIVEN)
            for position, value in call.given()
        ]
        explanation = call.step.explanation or ""
        reads = action.needs_document
        if call.over is not None:
            body, note = _as_input(call.over), f"the result of {call.over_var}, {IN_PLACE}"
            whole = count_tokens(body)
        else:
            body, whole, note = self.provider.text, self.provider.tokens, "the whole document"
        empty = template.part("text", name=self.name, note=note, body="", cut="") + "\n\n" if reads else ""
        window, reply = self.recorder.llm.context_window, self.style.reply_tokens
        values, _ = template.fit(
            window,
            reply,
            # Earlier results whole, as the paper passes them, unless they alone would fill the window: the paper
            # cuts the document, not them (it has no room for both at all then).
            {"explanation": 0.2, "arguments": 0.9},
            text=empty,
            signature=action.signature,
            definition=action.definition,
            arguments="\n".join(lines) + "\n" if lines else "",
            explanation=template.part("explanation", explanation=explanation) + "\n" if explanation else "",
        )
        if reads:
            room = template.room_for("text", window, reply, **{k: v for k, v in values.items() if k != "text"})
            room -= count_tokens(empty) + count_tokens(template.part("cut", kept="9,999,999", whole="9,999,999"))
            shown = max(0, room - count_tokens(CUT_MARK))
            # Counted once already (the document's `tokens`): a text that fits is not tokenized again in each step.
            kept, cut = (body, False) if whole <= shown else truncate_to_tokens(body, shown)
            # Said after the text, not in its opening tag: every step's prompt then opens alike, however far it is cut.
            said = template.part("cut", kept=f"{shown:,}", whole=f"{whole:,}") + "\n" if cut else ""
            if cut:
                kept = kept.rstrip() + CUT_MARK
            if call.over is None:
                self.provider.read(shown if cut else whole)
            values["text"] = template.part("text", name=self.name, note=note, body=kept, cut=said) + "\n\n"
        return values

    async def run(self, call: _Call) -> StepOutcome:
        step, action = call.step, call.action
        if action.pure:  # CONCAT: joined locally, no model call
            output = "\n".join(value for _, value in call.given())
            self.recorder.note(f"step {step.var} = {step.action} (local)", output)
            return StepOutcome(var=step.var, action=step.action, output=output, local=True)
        # Cutting a long document to the window: off the event loop, what the fit cut kept for the call's trace.
        values = await fit_in_worker(self._fitted, call)
        reply = await _step_call(
            self.recorder, step, self.template, self.template.render(**values), self.places, self.style
        )
        if reply is None:
            return _blank(self.recorder, step, [])
        return StepOutcome(var=step.var, action=step.action, output=_marked(reply))


BLANK_STEP = "the model replied with no text, after every retry: the step's result is empty"
BLANK_SUFFIX = " (no reply)"
"""The trace stage of such a step ends so: "step why = FIND_REASON (no reply)"."""


async def _step_call(
    recorder: Recorder,
    step: Step,
    template: PromptTemplate,
    messages: list[Message],
    places: dict[str, tuple[int, int]],
    style: StepStyle,
) -> Completion | None:
    """A step's model call, as both executors make it; None where the reply held no text after every retry."""
    try:
        return await recorder.acall(
            f"step {step.var} = {step.action}",
            template,
            messages,
            place=places.get(step.var, (0, 0)),
            max_tokens=style.reply_tokens,
            temperature=0.0,
        )
    except BlankReplyError:
        return None


def _blank(recorder: Recorder, step: Step, shown: list[int]) -> StepOutcome:
    """A step whose reply held no text after every retry (`BlankReplyError`), as an empty result: the question goes on
    to its answer call, which shows the question's own evidence, where one such step had failed it whole
    (helper-220). The failed call is in the trace; this says what became of the step."""
    recorder.note(f"step {step.var} = {step.action}{BLANK_SUFFIX}", BLANK_STEP)
    return StepOutcome(var=step.var, action=step.action, output="", shown=shown)


def _marked(reply: Completion) -> str:
    """A step's reply as its result: its text, ended by `CUT_MARK` (as a field cut to fit the window is) where the
    reply stopped at its length limit, wherever it is passed on (a later step, the answer call, the paper's answer):
    passed on unmarked, a result cut mid-sentence read as whole (helper-184)."""
    output = reply.text.strip()
    # Not where only a repetition it ran into was cut (what came before it is whole), nor twice.
    cut = cut_at_limit(reply) and not output.endswith(CUT_MARK.strip())
    return output + CUT_MARK if output and cut else output


async def execute_plan(
    plan: Plan,
    library: ActionLibrary,
    *,
    recorder: Recorder,
    question: Question,
    provider: StepContext,
    document_name: str = "document",
    style: StepStyle | None = None,
    known: Mapping[str, StepOutcome] | None = None,
    numbering: Plan | None = None,
) -> dict[str, StepOutcome]:
    """Run every step of `plan`, each as soon as its inputs are ready.

    Args:
        plan: a valid plan.
        library: the actions it may use (besides those the plan declares).
        recorder: the model, recording into the question's trace.
        question: the question the plan answers.
        provider: what the steps are shown of the document.
        document_name: how prompts name the document.
        style: reply length and instruction (default: brief, 256 tokens).
        known: outcomes of steps run before, outside `plan`, that its steps may read (the rest of
            a plan once a step of it has been carried out elsewhere).
        numbering: the whole plan `plan` is a part of, which numbers the steps in progress ("step 1/2"
            when the answer call carries out the second); `plan` itself when not given.

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
    whole = (numbering or plan).steps
    places = {step.var: (number, len(whole)) for number, step in enumerate(whole, start=1)}
    runner: _StepRunner | _PaperRunner
    cap: int | None = INPUT_TOKENS
    if isinstance(provider, FullDocumentContext):
        runner, cap = _PaperRunner(recorder, provider, document_name, style or StepStyle(), places), None
    else:
        runner = _StepRunner(recorder, question, provider, document_name, style or StepStyle(), places)
    # Models often repeat a step word for word; the repeat reuses the first one's result.
    first_of: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    for step in plan.steps:
        first_of.setdefault(step.call, step.var)

    def prepare() -> None:  # evidence of steps that take no earlier result: chosen now, in plan order
        import networkx as nx  # loaded on first use: it costs 150 ms at import

        if not nx.is_directed_acyclic_graph(plan.to_graph()):
            raise ExecutionError("the plan's steps depend on each other in a cycle")
        for step in plan.steps:
            if not step.inputs and first_of[step.call] == step.var:
                runner.prepare(_resolve(step, actions[step.action], {}))

    # Off the event loop: networkx's first import, and ranking a long document for each step's words (tens of ms
    # a step).
    await in_worker(prepare)
    results: dict[str, StepOutcome] = dict(known or {})
    done: dict[str, asyncio.Event] = {step.var: asyncio.Event() for step in plan.steps}

    async def run(step: Step) -> None:
        original = first_of[step.call]
        if original != step.var:
            await done[original].wait()
            results[step.var] = results[original].model_copy(update={"var": step.var, "local": True})
            recorder.note(f"step {step.var} = {step.action} (same as {original})", results[step.var].output)
        else:
            for name in step.inputs:
                if name in done:  # else known beforehand
                    await done[name].wait()
            results[step.var] = await runner.run(_resolve(step, actions[step.action], results, cap))
        done[step.var].set()

    tasks = [asyncio.ensure_future(run(step)) for step in plan.steps]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        # Until each has stopped: a step whose call failed as another's did would record it in the trace after the
        # question had ended, and a row written from that trace would count one call its trace file does not hold.
        await asyncio.gather(*tasks, return_exceptions=True)
    return {step.var: results[step.var] for step in plan.steps}
