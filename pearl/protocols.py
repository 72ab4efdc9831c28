"""Every interface pearl is built on, in one place.

- `LLM`: a chat-completion backend (OpenAI-compatible, embedded llama.cpp, fake), with a
  health check a long run calls before it starts.
- `StepContext`: what a plan step is shown of the document (compressed evidence, or the
  whole document as the paper did).
- `Progress`: told how far a long operation (mining, refinement, evaluation) has got.
- `StageProgress`: told as each stage of answering one question starts (`pearl ask`'s status line).

Implementations live with their layer; a user's own backend or context provider only has to
match these shapes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pearl.models import Completion, CompletionRequest, StepRequest, StepSlice

__all__ = ["LLM", "Progress", "StageProgress", "StepContext"]


@runtime_checkable
class LLM(Protocol):
    """A chat-completion backend. `complete` and `acomplete` must give the same answer."""

    @property
    def backend(self) -> str:
        """Short backend id: "openai", "embedded", "fake"."""
        ...

    @property
    def model(self) -> str:
        """The model name as the backend knows it."""
        ...

    @property
    def context_window(self) -> int:
        """Tokens the model accepts, prompt and reply together."""
        ...

    @property
    def supports_grammar(self) -> bool:
        """Whether `CompletionRequest.grammar` (GBNF) is enforced."""
        ...

    @property
    def supports_json_schema(self) -> bool:
        """Whether `CompletionRequest.json_schema` is enforced."""
        ...

    @property
    def is_demo(self) -> bool:
        """True for the embedded demonstration model, whose answers are not meant to be right."""
        ...

    def check(self) -> None:
        """Fail early, with a message saying what to fix, when the backend cannot answer at all.

        Raises:
            LLMError: the model is missing, the server unreachable, or the key refused.
        """
        ...

    def complete(self, request: CompletionRequest) -> Completion:
        """Answer one request, blocking.

        Raises:
            LLMError: the call failed (`RetryableError` for what may succeed later; the backend retries it). An
                error of another kind reaches pearl's caller as an `LLMError` naming it.
        """
        ...

    async def acomplete(self, request: CompletionRequest) -> Completion:
        """Answer one request without blocking the event loop."""
        ...


class StepContext(Protocol):
    """Chooses what of the document the calls about one question see.

    `execute_plan` calls `slice` for the steps that read no earlier result in a worker thread, in plan order,
    before any step runs (their evidence takes tens of milliseconds each to choose, off the event loop), and for
    the others on the event loop, once their inputs exist; never two calls at once.
    """

    def shared(self) -> StepSlice:
        """Evidence every call about the question opens with: the same text each time, so a server can cache it."""
        ...

    def more_for_question(self, room: int) -> StepSlice:
        """Further evidence for the final answer call, within `room` tokens: more for the question, and
        whatever else that call alone is shown (the document's opening)."""
        ...

    def slice(self, request: StepRequest, room: int) -> StepSlice:
        """What the step `request` describes sees besides the shared evidence, within `room` tokens."""
        ...


class Progress(Protocol):
    """Told `(done, total, status)` as a long operation advances; `status` is a short summary line.

    The first call reports the starting point before any new work: `done` > 0 there means an
    earlier, interrupted run already did that much (a resumed evaluation or mining run).
    """

    def __call__(self, done: int, total: int, status: str) -> None: ...


class StageProgress(Protocol):
    """Told `(stage, done, total)` as each stage of answering one question starts, and as a long one advances.

    `stage` names it as the trace does: "index", "plan (attempt 2)", "step s2 = FIND_X",
    "answer". `done` of `total` places it: attempt 2 of 8 at most, the second of a plan's 4
    steps, 120,000 of 300,000 words indexed; 0 of 0 when the stage is not counted. It is
    called from the thread that runs the question, so it must return quickly.
    """

    def __call__(self, stage: str, done: int, total: int) -> None: ...
