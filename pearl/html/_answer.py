"""The answer page: question and answer, the plan as a graph of steps, what each step was shown, the document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pearl._text import citations
from pearl.context import FILE_LINE, DocumentIndex
from pearl.errors import PlanError
from pearl.execution import IN_PLACE
from pearl.html._document import document_data
from pearl.html._page import render_page
from pearl.models import Answer, Trace, TraceEvent
from pearl.planning import Plan, parse_plan
from pearl.questions import Question
from pearl.trace import INTERRUPTED, PLAN_SKIPPED, PLAN_SKIPPED_NOTE

__all__ = ["render_answer_page", "render_trace_page"]

_FENCE = re.compile(r"<(excerpts|document)\b([^>\n]*)>\n?")
_NOTE = re.compile(r'\bnote="([^"]*)"')
_LABEL = re.compile(r"\[S(\d+)\][ \t]*")

# The plan graph: node size and spacing in SVG pixels. A box holds a label of _LABEL_CHARS characters of 13px
# monospace (7.8px each in the widest common fonts) and a cached call's cost line ("123,456+1,234 tok, 12.34s,
# cached", 11px), with 10px either side.
_NODE_W, _NODE_H, _GAP_X, _GAP_Y, _PAD = 220, 52, 56, 16, 8
_LABEL_CHARS = 25

StepKind = Literal["llm", "local", "repeat", "missing"]


@dataclass(frozen=True)
class Excerpt:
    """A sentence a call was shown: its id (None if the text came unlabelled) and its text as the model saw it."""

    sid: int | None
    text: str
    code: bool = False
    """Code, shown line by line (its label was on a line of its own)."""


@dataclass(frozen=True)
class Stage:
    """One trace event as the page shows it."""

    number: int
    event: TraceEvent
    fence_note: str = ""
    excerpts: list[Excerpt] = field(default_factory=list)
    unlabelled_chars: int = 0


@dataclass(frozen=True)
class StepNode:
    """One plan step: its call, its trace record, and where the graph draws it."""

    var: str
    action: str
    call: str
    explanation: str | None
    inputs: list[str]
    kind: StepKind
    stage: Stage | None
    x: int
    y: int

    @property
    def label(self) -> str:
        text = f"{self.var} = {self.action}"
        return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"

    @property
    def detail(self) -> str:
        if self.stage is None:
            return "not run"
        event = self.stage.event
        if event.error == INTERRUPTED:  # the question was stopped waiting for its reply
            return "interrupted"
        if event.error:
            return "failed"
        if self.kind == "local":
            return "local, no model call"
        if self.kind == "repeat":
            return "same as an earlier step"
        cost = f"{event.prompt_tokens:,}+{event.completion_tokens:,} tok, {event.latency_s:.2f}s"
        return cost + (", cached" if event.cached else "")


@dataclass(frozen=True)
class Graph:
    """The plan drawn as boxes (steps) and curves (a step's result passed to a later step)."""

    nodes: list[StepNode]
    edges: list[str]
    width: int
    height: int
    node_w: int = _NODE_W
    node_h: int = _NODE_H


def _last_user_message(event: TraceEvent) -> str:
    return next((m.content for m in reversed(event.messages) if m.role == "user"), "")


def _stage(number: int, event: TraceEvent) -> Stage:
    """The event, with the excerpts its prompt fenced as document data (`[S12] ...` lines)."""
    text = _last_user_message(event)
    fence = _FENCE.search(text)
    if fence is None:
        return Stage(number, event)
    # The template's own fence opens first; its closing tag is the last one (a document may hold the words).
    closing = f"</{fence.group(1)}>"
    close = text.rfind(closing)
    # Every block's note, not the first one's alone: "5 of 193 sentences, chosen for the question" over a step's
    # 34 excerpts read as if 5 were shown. (The document's own text cannot open a fence: it is neutralised.)
    blocks = [fence, *_FENCE.finditer(text, fence.end(), close if close > fence.end() else len(text))]
    notes = [found.group(1) for block in blocks if (found := _NOTE.search(block.group(2)))]
    note = "; ".join(notes)
    # Each block's own text, up to its last closing tag before the next block opens: what the prompt says between
    # two blocks (the step's instructions) is no part of the first block's last sentence.
    excerpts: list[Excerpt] = []
    unlabelled = 0
    for at, block in enumerate(blocks):
        found = _NOTE.search(block.group(2))
        if found is not None and found.group(1).endswith(IN_PLACE):
            continue  # an earlier result shown where the document goes: its labels are the model's, no excerpts
        limit = blocks[at + 1].start() if at + 1 < len(blocks) else len(text)
        end = text.rfind(closing, block.end(), limit)
        pieces = _LABEL.split(text[block.end() : end if end >= 0 else limit])
        unlabelled += len(pieces[0].strip())
        excerpts += [
            Excerpt(int(sid), _excerpt_text(chunk), chunk.startswith("\n"))
            for sid, chunk in zip(pieces[1::2], pieces[2::2], strict=True)
        ]
    unlabelled = unlabelled if not excerpts else 0
    return Stage(number, event, fence_note=note, excerpts=excerpts, unlabelled_chars=unlabelled)


def _shown_labels(stages: Sequence[Stage]) -> set[int] | None:
    """The labels the question's calls were shown, which alone are links in what the model wrote; None when the
    trace does not say (its prompts kept no document). A call shown the document unlabelled (`direct`, the
    paper's executor) was shown none: a label it writes names nothing it saw."""
    if not any(stage.excerpts or stage.unlabelled_chars for stage in stages):
        return None
    return {excerpt.sid for stage in stages for excerpt in stage.excerpts if excerpt.sid is not None}


def _excerpt_text(chunk: str) -> str:
    """A labelled sentence's text as the prompt showed it: code (its label on a line of its own) keeps its
    lines and indentation, anything else is one line."""
    chunk = FILE_LINE.sub("", chunk)  # the line that opens the next file's sentences, in a document of several
    if chunk.startswith("\n") and chunk.strip():
        return chunk[1:].rstrip()
    return " ".join(chunk.split())


def _plan_text(answer: Answer, trace: Trace) -> str | None:
    if answer.plan:
        return answer.plan
    accepted = [e.output for e in trace.events if e.stage == "plan accepted" and e.output]
    return accepted[-1] if accepted else None


def _read_plan(text: str | None) -> Plan | None:
    if not text:
        return None
    try:
        # The plan ran already: no library check, only its shape is needed to draw it.
        return parse_plan(text, None, max_steps=1000, max_chars=1_000_000)
    except PlanError:
        return None


def _step_stage(var: str, stages: Sequence[Stage]) -> tuple[Stage | None, StepKind]:
    """The stage that ran step `var`: its own call, or the later call that carried it out (the final answer).

    The last attempt counts: after a context overflow the question is run again and the trace holds both.
    """
    prefix = f"step {var} = "
    for at in range(len(stages) - 1, -1, -1):
        stage = stages[at]
        name = stage.event.stage
        if name.startswith(prefix):
            if stage.event.prompt:
                return stage, "llm"
            by = stage.event.carried_out_by
            if by is not None:
                later = next((s for s in stages[at + 1 :] if s.event.stage == by and s.event.prompt), None)
                return (later, "llm") if later is not None else (None, "missing")  # the answer call never ran
            return stage, "repeat" if "(same as " in name else "local"
    return None, "missing"


def _graph(plan: Plan, stages: Sequence[Stage]) -> Graph:
    """Steps in columns by depth (a step sits right of every step it reads), in plan order within a column."""
    depth: dict[str, int] = {}
    for step in plan.steps:
        depth[step.var] = 1 + max((depth[name] for name in step.inputs if name in depth), default=-1)
    rows: dict[int, int] = {}
    nodes: list[StepNode] = []
    where: dict[str, tuple[int, int]] = {}
    for step in plan.steps:
        column = depth[step.var]
        row = rows.get(column, 0)
        rows[column] = row + 1
        x, y = _PAD + column * (_NODE_W + _GAP_X), _PAD + row * (_NODE_H + _GAP_Y)
        where[step.var] = (x, y)
        stage, kind = _step_stage(step.var, stages)
        nodes.append(
            StepNode(
                var=step.var,
                action=step.action,
                call=step.render(explanation=False),
                explanation=step.explanation,
                inputs=step.inputs,
                kind=kind,
                stage=stage,
                x=x,
                y=y,
            )
        )
    height = max(rows.values(), default=1)
    edges, lanes = [], [0] * (height + 1)
    for step in plan.steps:
        x2, y2 = where[step.var]
        for name in step.inputs:
            if name not in where:
                continue
            x1, y1 = where[name]
            (sx, sy), (ex, ey) = (x1 + _NODE_W, y1 + _NODE_H // 2), (x2, y2 + _NODE_H // 2)
            if ex - sx <= _GAP_X:  # the next column: a curve through the gap between the two
                mid = (sx + ex) // 2
                edges.append(f"M{sx},{sy} C{mid},{sy} {mid},{ey} {ex},{ey}")
                continue
            # Past a column: a straight line would run behind that column's boxes, so that `a -> c` beside
            # `a -> b -> c` drew as the chain alone. It runs between two rows instead, in the band nearest its
            # ends (one below the last row if need be), a few pixels apart from other lines in that band.
            band = min(
                range(1, height + 1), key=lambda r: abs(_PAD + r * (_NODE_H + _GAP_Y) - _GAP_Y // 2 - (sy + ey) / 2)
            )
            lane = _PAD + band * (_NODE_H + _GAP_Y) - _GAP_Y // 2 + (lanes[band] % 3 - 1) * 4
            lanes[band] += 1
            out, into = sx + _GAP_X // 2, ex - _GAP_X // 2
            edges.append(
                f"M{sx},{sy} C{out},{sy} {out},{lane} {sx + _GAP_X},{lane} L{ex - _GAP_X},{lane} "
                f"C{into},{lane} {into},{ey} {ex},{ey}"
            )
    columns = max(depth.values(), default=0) + 1
    below = _GAP_Y if lanes[height] else 0  # the band under the last row, when a line runs there
    return Graph(
        nodes=nodes,
        edges=edges,
        width=2 * _PAD + columns * _NODE_W + (columns - 1) * _GAP_X,
        height=2 * _PAD + height * _NODE_H + (height - 1) * _GAP_Y + below,
    )


def _was_shown(stage: Stage, sid: int) -> bool:
    """Whether `stage`'s call was shown sentence `sid`; true where its trace does not say (no document kept)."""
    if not (stage.excerpts or stage.unlabelled_chars):
        return True
    return any(excerpt.sid == sid for excerpt in stage.excerpts)


def _cited(text: str) -> list[int]:
    return [sid for _, _, ids in citations(text) for sid in ids]


def _sentence_count(trace: Trace, index: DocumentIndex | None) -> int | None:
    """How many sentences the document has: the index's, else what the trace recorded when it indexed
    the document (a trace of an older pearl recorded none: None, unknown)."""
    if index is not None:
        return index.sentence_count
    counts = [e.data.get("sentences") for e in trace.events if e.stage == "index" and e.prompt is None]
    known = [n for n in counts if isinstance(n, int) and not isinstance(n, bool)]
    return known[-1] if known else None


def render_answer_page(answer: Answer, index: DocumentIndex | None = None, *, notes: Sequence[str] = ()) -> str:
    """One self-contained HTML page for an answer: question, answer, plan graph, steps with excerpts, document.

    Args:
        answer: from `Pearl.ask`; its `trace` gives the steps, what each was shown and what it cost.
        index: the document's index (`index_for_trace`, `index_for_page`); without it the page
            shows the cited sentences but not the document.
        notes: said at the top of the page (e.g. why the document is not shown).

    Returns:
        The page, to write to a `.html` file; it loads nothing from anywhere.
    """
    trace = answer.trace
    stages = [_stage(number, event) for number, event in enumerate(trace.events, start=1)]
    plan = _read_plan(_plan_text(answer, trace))
    graph = _graph(plan, stages) if plan is not None and plan.steps else None
    step_stages = {id(node.stage) for node in graph.nodes} if graph else set()
    step_stages |= {id(stage) for stage in stages if stage.event.carried_out_by}  # drawn as the call that ran it
    # Only what the answer cites, and labels a call wrote of sentences it was shown: a label the model made up, or
    # wrote of a sentence it was not shown (`direct` is shown none), was drawn as cited, which the answer's notes
    # say it is not.
    used = [sid for stage in stages for sid in _cited(stage.event.output) if _was_shown(stage, sid)]
    # A sentence only the steps cited is drawn as used, not as the answer's own citation (helper-217).
    cited = [c.sentence_id for c in answer.citations if not c.by_step]
    document: dict[str, Any] | None = document_data(index, cited, used) if index is not None else None
    question = Question(text=answer.question, options=answer.options)
    return render_page(
        "answer.html.j2",
        "answer.js",
        answer=answer,
        trace=trace,
        options=list(zip(question.letters, answer.options, strict=False)),
        usage=answer.usage,
        plan_text=_plan_text(answer, trace),
        # Plan attempts on this page (their stages); none could be asked for (the window could not hold a planning
        # prompt), told by its stage or, for an answer rendered without its trace (`ask --json`'s), by its note: not
        # by the absence of plan calls, which such an answer also has (helpers 194 and 195).
        planned=any(stage.event.stage.startswith("plan") and stage.event.stage != PLAN_SKIPPED for stage in stages),
        plan_skipped=any(stage.event.stage == PLAN_SKIPPED for stage in stages)
        or any(note.startswith(PLAN_SKIPPED_NOTE) for note in answer.notes),
        graph=graph,
        other_stages=[s for s in stages if id(s) not in step_stages],
        document=document,
        code=set(document["code"]) if document is not None else set(),
        sentences=_sentence_count(trace, index),
        shown=_shown_labels(stages),
        # The name as the user gave it (the trace's), not the absolute path it was read again from.
        document_name=trace.document.name if trace.document else (index.name if index is not None else ""),
        notes=list(notes),
    )


def render_trace_page(trace: Trace, index: DocumentIndex | None = None, *, notes: Sequence[str] = ()) -> str:
    """The answer page of a trace file (`pearl ask --trace`, or an evaluation run's `traces/`).

    The trace holds the final answer (`Trace.answer`); a trace without one (a question that
    failed or was stopped, or an older pearl's) gives a page of its stages with a note at the top
    saying so: for a failure, the stage it failed at and its error.
    """
    said = list(notes)
    if trace.answer is None:
        # What the calls it made cost: the page of a stopped question said "0 model calls".
        answer = Answer(
            question=trace.question, options=trace.options, answer="", method=trace.method, usage=trace.usage()
        )
        failed = [event for event in trace.events if event.error]
        if failed and failed[-1].error == INTERRUPTED:  # a call stopped waiting, the library's trace ends on it
            said.insert(0, f"the question was interrupted during its {failed[-1].stage} stage")
        elif failed and failed[-1].stage == INTERRUPTED:
            said.insert(0, f"the question was {failed[-1].error}")
        elif failed:  # the question failed there: say so at the top, not only in the stage's card below
            said.insert(0, f"the question failed at its {failed[-1].stage} stage: {failed[-1].error}")
        else:
            said.insert(0, "the trace holds no final answer (the question was stopped, or an older pearl wrote it)")
    else:
        answer = trace.answer
    return render_answer_page(answer.model_copy(update={"trace": trace}), index, notes=said)
