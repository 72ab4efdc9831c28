"""Traces: every LLM call a question made, with its prompt's id, tokens, latency, output and error.

A `Recorder` is the one place pipeline code calls a model through, so nothing escapes the trace
and usage is always the sum of what the trace shows.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pearl._replies import after_thinking
from pearl._text import counted, shorten
from pearl.errors import LLMError, PearlError
from pearl.models import INTERRUPTED, Answer, Completion, CompletionRequest, Message, Trace, TraceEvent
from pearl.prompts import PromptTemplate, fitted_cuts
from pearl.protocols import LLM, StageProgress
from pearl.questions import LETTERS

__all__ = ["INTERRUPTED", "PLAN_SKIPPED", "PLAN_SKIPPED_NOTE", "Recorder", "interrupted", "render_trace"]

PLAN_SKIPPED = "plan skipped"
"""The stage of a question whose model's window could not hold a planning prompt: no plan was asked for."""
PLAN_SKIPPED_NOTE = "window too small to plan: "
"""How the answer's note opens on such a question: said with the answer, where its trace may not be."""


def interrupted(trace: Trace, during: str = "") -> Trace:
    """`trace` closed by a stage saying the question was interrupted, and `during` what ("step 2/4 FIND_X"): a trace
    kept so would otherwise read as one that went on no further."""
    said = f"interrupted during {during}" if during else "interrupted"
    return trace.model_copy(update={"events": [*trace.events, TraceEvent(stage=INTERRUPTED, error=said)]})


def _reply_data(result: Completion | None) -> dict[str, Any]:
    """What a trace keeps of a reply beyond its text: what the reply boundary replaced (a usage it
    could not read, a reply cut to size), and that the reply stopped at `max_tokens`."""
    data: dict[str, Any] = {}
    if result is not None and result.notes:
        data["notes"] = result.notes
    if result is not None and result.finish_reason == "length":
        data["finish_reason"] = "length"
    if result is not None and result.estimated:
        data["estimated"] = True
    return data


class Recorder:
    """Calls an LLM on behalf of one question and records each call in a `Trace`.

    Args:
        llm: the model.
        trace: the question's trace, appended to.
        on_stage: told each call's stage as the call starts (see `StageProgress`).
    """

    def __init__(self, llm: LLM, trace: Trace, on_stage: StageProgress | None = None) -> None:
        self.llm = llm
        self.trace = trace
        self.on_stage = on_stage

    def stage(self, stage: str, done: int = 0, total: int = 0) -> None:
        """Tell the listener, if any, that `stage` starts (`done` of `total`, when counted)."""
        if self.on_stage is not None:
            self.on_stage(stage, done, total)

    def _request(self, template: PromptTemplate, messages: list[Message], **params: Any) -> CompletionRequest:
        return CompletionRequest(messages=messages, prompt=template.id, **params)

    def _record(
        self,
        stage: str,
        template: PromptTemplate,
        request: CompletionRequest,
        result: Completion | None,
        error: LLMError | None,
        started: float,
        *,
        said: str | None = None,
    ) -> None:
        self.trace.events.append(
            TraceEvent(
                stage=stage,
                prompt=template.id,
                messages=request.messages,
                output=result.text if result else "",
                # A failed call the server billed (a reply with no answer in it) counts too.
                prompt_tokens=result.prompt_tokens if result else error.prompt_tokens if error else 0,
                completion_tokens=result.completion_tokens if result else error.completion_tokens if error else 0,
                # A model of the user's own may leave its reply's time at 0: the call's time is measured here. Not a
                # cached reply's (0 for one that waited on the same call in flight: that wait is the other call's).
                latency_s=result.latency_s
                if result and (result.latency_s or result.cached)
                else time.perf_counter() - started,
                cached=result.cached if result else False,
                cached_prompt_tokens=result.cached_prompt_tokens
                if result
                else error.cached_prompt_tokens
                if error
                else 0,
                attempts=result.attempts if result else 0,
                error=str(error) if error else said,
                cut=fitted_cuts(template),
                data=_reply_data(result),
            )
        )

    async def acall(
        self,
        stage: str,
        template: PromptTemplate,
        messages: list[Message],
        *,
        place: tuple[int, int] = (0, 0),
        **params: Any,
    ) -> Completion:
        """One non-blocking call, recorded; errors are recorded and re-raised.

        Args:
            stage: what the call is, as the trace names it.
            place: `(done, total)` told to `on_stage` with the stage (attempt 2 of 8, step 2 of 4).
            params: request parameters (`max_tokens`, `temperature`, constraints).
        """
        self.stage(stage, *place)
        request = self._request(template, messages, **params)
        started = time.perf_counter()
        before = len(self.trace.events)
        try:
            result = await self.llm.acomplete(request)
        except (asyncio.CancelledError, KeyboardInterrupt):
            # Stopped while the model was asked (Ctrl-C, SIGTERM): the call is kept, with what it was shown, so that a
            # page of the trace draws it interrupted, not as a step never run. No reply: no call counted. A call
            # cancelled because another failed meanwhile (the executor stops a failed plan's other steps) is not: the
            # trace is of that failure, which the page's headline would have said was an interruption (helper-201).
            # (Other calls stopped by the same Ctrl-C, and failures before this call began, do not count: helper-202.)
            failed = any(event.error not in (None, INTERRUPTED) for event in self.trace.events[before:])
            if not failed:
                self._record(stage, template, request, None, None, started, said=INTERRUPTED)
            raise
        except LLMError as exc:
            self._record(stage, template, request, None, exc, started)
            raise
        except PearlError:
            raise
        except Exception as exc:
            # A model of the user's own raises its own errors ("quota"): one of pearl's, so that a question, a run and
            # the command line treat it as any model's failure, recorded here and said in one line, the original
            # chained. Ctrl-C and cancellation are no `Exception`: they stop the question, unwrapped.
            error = _model_failure(self.llm, exc)
            self._record(stage, template, request, None, error, started)
            raise error from exc
        if not isinstance(result, Completion):  # a model of the user's own returning its text: "'str' object has no
            what = "None" if result is None else f"a {type(result).__name__}"  # attribute 'text'", from no call
            error = LLMError(  # pearl could name
                f"the model ({self.llm.backend}/{self.llm.model}) returned {what}, not a Completion: its acomplete "
                "must return pearl.Completion(text=...)"
            )
            self._record(stage, template, request, None, error, started)
            raise error
        # Thinking left in a reply is left out here too, for a model of the user's own: pearl's backends left it out
        # already (`read_completion`), and the answer of one that did not kept its "<think>" block.
        if (split := after_thinking(result.text)) is not None:
            answer, note = split
            if answer is None:  # its thinking alone: no answer
                note = f"the model wrote only its thinking ({len(result.text):,} characters), no answer; left out"
            result = result.model_copy(update={"text": answer or "", "notes": [*result.notes, note]})
        self._record(stage, template, request, result, None, started)
        return result

    def note(self, stage: str, output: str = "", *, carried_out_by: str | None = None, **data: Any) -> None:
        """Record a local step (no LLM call); `carried_out_by`: the later stage that ran it instead."""
        self.trace.events.append(TraceEvent(stage=stage, output=output, data=data, carried_out_by=carried_out_by))


def _model_failure(llm: LLM, exc: Exception) -> LLMError:
    """An `LLMError` naming `exc`, an error of `llm`'s own (not one of pearl's), raised by a call to it."""
    said = shorten(" ".join(str(exc).split()), 300)
    return LLMError(
        f"the model ({llm.backend}/{llm.model}) raised {type(exc).__name__}" + (f": {said}" if said else "")
    )


def _indent(text: str, prefix: str, width: int | None = 100, lines: int | None = 6) -> list[str]:
    """`text`'s lines after `prefix`, each cut at `width` characters and the first `lines` of them (None: all)."""
    out = []
    every = text.strip().splitlines()
    for line in every[:lines]:
        out.append(prefix + (line if width is None or len(line) <= width else line[: width - 1] + "…"))
    extra = len(every) - len(every[:lines])
    if extra > 0:
        out.append(f"{prefix}… ({extra} more lines)")
    return out


def render_trace(trace: Trace, *, show_prompts: bool = False) -> str:
    """A trace as a readable tree: one branch per stage, with prompt id, tokens, time, output and error."""
    usage = trace.usage()
    head = f"{trace.method or 'ask'}: {trace.question}"
    lines = [head, f"  model: {trace.backend}/{trace.model}" if trace.backend else "  model: (unknown)"]
    for i, event in enumerate(trace.events):
        last = i == len(trace.events) - 1
        branch, stem = ("└─ ", "   ") if last else ("├─ ", "│  ")
        if event.prompt:
            cost = f"{event.prompt_tokens:,}+{event.completion_tokens:,} tok, {event.latency_s:.2f}s"
            if event.cached:
                cost += ", cached"
            elif event.cached_prompt_tokens:
                cost += f", {event.cached_prompt_tokens:,} of the prompt from the server's cache"
            if event.attempts > 1:
                cost += f", {event.attempts} attempts"
            lines.append(f"{branch}{event.stage}  [{event.prompt}]  {cost}")
        else:
            lines.append(f"{branch}{event.stage}")
        if show_prompts:
            for message in event.messages:
                lines.append(f"{stem}  {message.role}:")
                # In full, as --prompts says: lines cut at 100 characters and 40 lines hid the evidence and the demos.
                lines.extend(_indent(message.content, stem + "    ", width=None, lines=None))
        if event.output:  # whole with --prompts, as the prompts are
            lines.extend(_indent(event.output, stem + "  ", *((None, None) if show_prompts else ())))
        if event.error:
            lines.append(f"{stem}  error: {event.error}")
        if event.cut:
            cut = ", ".join(f"{field} to {kept:,} characters" for field, kept in event.cut.items())
            lines.append(f"{stem}  cut to fit the window: {cut}")
        notes = event.data.get("notes") if event.prompt else None
        if isinstance(notes, list):  # a trace file is read back from disk: take nothing for granted
            lines.extend(f"{stem}  note: {note}" for note in notes)
    lines.extend(_outcome(trace.answer))
    lines.append(
        f"total: {counted(usage.calls, 'LLM call')} ({usage.cached_calls} cached), {usage.tokens_line()}, "
        f"{usage.seconds:.1f}s in the model"
    )
    return "\n".join(lines)


def _outcome(answer: Answer | None) -> list[str]:
    """How the question ended, as the trace keeps it: the answer (the option a letter chose, by its text), whether a
    fallback gave it, what it cites and its notes. Without it, a reply "B [S3] [S999]" was all `trace show` said: not
    what B was, that no plan was valid, nor that S999 is no sentence (helper-191)."""
    if answer is None:
        return []
    letters = LETTERS[: len(answer.options)]  # a letter outside them ("E" of two, "BC") is shown as the answer is
    chosen = (
        answer.options[letters.index(answer.letter)]
        if answer.letter and len(answer.letter) == 1 and answer.letter in letters
        else None
    )
    said = f"({answer.letter}) {chosen}" if chosen is not None else answer.answer
    lines = ["answer (fallback):" if answer.fallback else "answer:"]
    lines += _indent(said or "(none)", "  ")
    if answer.citations:
        lines.append("  cites: " + ", ".join(f"S{c.sentence_id}" for c in answer.citations))
    lines += [f"  note: {note}" for note in answer.notes]
    return lines
