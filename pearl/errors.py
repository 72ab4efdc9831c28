"""One exception tree for everything pearl raises on purpose.

::

    PearlError                      root; `str(e)` is a message a user can act on
    ├── ConfigError                 bad or missing settings (URL, model, key, config file)
    │   ├── QuestionError           a question that cannot be asked (empty, one option, an option twice)
    │   └── RunBusyError            another process is writing to the same evaluation run folder
    ├── DocumentError               a file that cannot be read as a document
    │   └── DocumentTooLargeError   a file over the size limit (`max_bytes`)
    ├── ContextError                indexing or compression could not proceed
    ├── DatasetError                a malformed evaluation file (names line and field)
    ├── PlanError                   a plan (the model's or the user's) cannot be used
    │   └── PlanParseError          syntax or validation error with line and column
    ├── ReplyFormatError            a model's reply is off the format it was asked for
    │   ├── ProposalError           a mining reply (`USE:` / `NEW:` lines)
    │   └── MergeReplyError         a merge reply (`MERGE: A, B -> A`)
    ├── ExecutionError              a plan step failed while running
    ├── RunWriteError               an evaluation run's files cannot be written (a full disk); what was saved stays
    └── LLMError                    anything that went wrong talking to a model
        ├── LLMRequestError         the request itself is wrong: 400/401/403/404
        │   └── ContextOverflowError   the server refused the prompt as longer than the model's context
        ├── EmbeddedModelError      the embedded model is missing or failed to load
        ├── UnansweredError         an evaluation run stopped: question after question got no answer
        └── RetryableError          may succeed later
            ├── LLMResponseError    the server answered, but not with a usable completion
            │   └── BlankReplyError  its reply held no text, or white space alone
            ├── RateLimitError      429, carries `retry_after`
            ├── ServerError         5xx, 409
            ├── LLMTimeoutError     the request timed out (here, or 408 from the server)
            └── LLMConnectionError  refused or dropped connection

What is retried: only `RetryableError`, by the backend that raised it, with backoff, up to
the `max_retries` setting, then it is re-raised with the attempts counted in its message.
Every `RetryableError` carries `retry_after` (seconds or None) so a caller can honour the
server's wish without parsing headers again. Nothing else is retried where it is raised:
a `PlanParseError` or `ReplyFormatError` goes back to the model as feedback (self-correction)
or the reply is skipped, and every other error stops the operation with its message.
One exception: a `ContextOverflowError` makes `Pearl` run the question once more, with every
prompt fitted to the smaller window the backend now assumes (see `Pearl.aask`).

A model that raises an error of its own, not one of these (a user's `LLM` raising
`RuntimeError("quota")`), fails the call with an `LLMError` naming it, the original chained as its
`__cause__` (see `pearl.trace.Recorder`); it is not retried. Ctrl-C and cancellation pass as they are.

Every `PearlError` raised by `Pearl.ask` (and its siblings) once the question has started (its
document read; not a missing file or an unknown method) carries `trace`: the record of what the
question did up to the failure (the calls made, with their errors), so a caller can
keep it; `pearl ask --trace FILE` writes it.
"""

from __future__ import annotations

import copy
import types
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # for the annotation alone: this module sits below the models
    from pearl.models import Trace

__all__ = [
    "ERROR_NAMES",
    "BlankReplyError",
    "ConfigError",
    "ContextError",
    "ContextOverflowError",
    "DatasetError",
    "DocumentError",
    "DocumentTooLargeError",
    "EmbeddedModelError",
    "ExecutionError",
    "LLMConnectionError",
    "LLMError",
    "LLMRequestError",
    "LLMResponseError",
    "LLMTimeoutError",
    "MergeReplyError",
    "PearlError",
    "PlanError",
    "PlanParseError",
    "ProposalError",
    "QuestionError",
    "RateLimitError",
    "ReplyFormatError",
    "RetryableError",
    "RunBusyError",
    "RunWriteError",
    "ServerError",
    "UnansweredError",
    "own_copy",
    "stops_a_run",
    "unanswered",
    "unanswered_name",
]


class PearlError(Exception):
    """Root of every error pearl raises on purpose.

    Attributes:
        trace: when raised by `Pearl.ask`, `plan` or `run_plan`: the `pearl.models.Trace` of
            the question up to the failure.
    """

    trace: Trace | None = None


class ConfigError(PearlError):
    """Settings are missing, contradictory or malformed."""


class QuestionError(ConfigError):
    """A question cannot be asked as given (empty, an empty option, an option twice): that question's
    fault alone, so a run over a dataset records it and goes on."""


class RunBusyError(ConfigError):
    """Another process holds the lock of an evaluation run folder; wait for it or use another folder."""


class RunWriteError(PearlError):
    """An evaluation run cannot write its files (a full disk, a folder where a file goes); the results written before
    stay, and running the same command again resumes.

    Attributes:
        summary: the run's `pearl.eval.EvalSummary`, when every result was saved and only the reports could not be
            written; None otherwise.
    """

    summary: object | None = None


class DocumentError(PearlError):
    """A path cannot be read as a document (missing, empty, binary, too large...)."""


class DocumentTooLargeError(DocumentError):
    """A file over the size limit (`Settings.max_bytes`, `--max-bytes`): in a folder too, the user decides (raise the
    limit), not pearl (leave it out)."""


class ContextError(PearlError):
    """The document could not be indexed or compressed."""


class DatasetError(PearlError):
    """An evaluation file is malformed; the message names the line and the field."""


class ExecutionError(PearlError):
    """A plan step failed while running."""


class PlanError(PearlError):
    """A plan cannot be used."""


class PlanParseError(PlanError):
    """A plan failed to parse or validate.

    Attributes:
        line: 1-based line of the plan text where the problem is (0 if not tied to a line).
        column: 1-based column on that line (0 if not tied to a column).
        reason: the message without the position, phrased so an LLM can fix it.
    """

    def __init__(self, reason: str, line: int = 0, column: int = 0) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line and column else (f"line {line}: " if line else "")
        super().__init__(f"{where}{reason}")


class ReplyFormatError(PearlError):
    """A model's reply does not follow the format it was asked for; the caller re-prompts or skips it."""


class ProposalError(ReplyFormatError):
    """A mining reply that does not follow the proposal format; `line` is 1-based (0: the reply as a whole)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


class MergeReplyError(ReplyFormatError):
    """A merge reply that does not follow the `MERGE: A, B -> A` format."""


class LLMError(PearlError):
    """Something went wrong talking to a model.

    Attributes:
        prompt_tokens, completion_tokens: what the server billed for the failed call, its retried attempts
            included, when their replies said (a reply with no answer in it: refused, blocked, cut at `max_tokens`
            before any text, or retried for no choices or no text); else 0.
        cached_prompt_tokens: of `prompt_tokens`, those the server's usage said it read from its prefix cache.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0


class LLMRequestError(LLMError):
    """The request is wrong (bad URL, model, key or parameters); retrying will not help."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message)


class ContextOverflowError(LLMRequestError):
    """The server refused the prompt as longer than the model's context (vLLM, OpenAI, llama.cpp say so in a 400).

    Attributes:
        limit: the context in tokens the server stated, or None when it did not say.
        window: the window the backend assumes from now on (smaller than before), or None.
    """

    def __init__(
        self, message: str, status_code: int | None = None, *, limit: int | None = None, window: int | None = None
    ) -> None:
        self.limit = limit
        self.window = window
        super().__init__(message, status_code)


class EmbeddedModelError(LLMError):
    """The embedded demonstration model is not installed or failed to load."""


class UnansweredError(LLMError):
    """An evaluation run stopped: question after question got no answer from the model's server, even retried."""


class RetryableError(LLMError):
    """A failure that may go away if the same request is sent again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class LLMResponseError(RetryableError):
    """The server answered but the answer is not a usable completion (not JSON, no choices, no content)."""


class BlankReplyError(LLMResponseError):
    """The server's reply held no text, or white space alone (retried as a glitch; after every retry, the model's
    reply to that prompt: a planner's then counts as a plan refused, and the question falls back)."""


class RateLimitError(RetryableError):
    """HTTP 429."""


class ServerError(RetryableError):
    """HTTP 5xx, 409 (a conflict on the server's side, such as a lock), or a web page where a completion's JSON
    should be (a proxy's failure, or a chat UI at a base URL without /v1)."""


class LLMTimeoutError(RetryableError):
    """The request timed out, here or at the server (408)."""


class LLMConnectionError(RetryableError):
    """The connection was refused or dropped."""


_RUN_STOPPING_STATUS = frozenset({301, 302, 303, 307, 308, 401, 403, 404, 429})
"""Statuses of a refusal (`LLMRequestError`) every request would meet: a redirect, a refused key, an unknown URL or
model, a spent quota (a 429 that is a rate limit is a `RateLimitError`, retried)."""


def stops_a_run(error: PearlError) -> bool:
    """Whether every other item of a long run would meet `error` too (a refused key, an unknown
    model or URL, bad settings), so that the run should stop rather than record it per item."""
    if isinstance(error, LLMRequestError):
        return error.status_code in _RUN_STOPPING_STATUS
    if isinstance(error, RunWriteError):  # a full disk: the next result cannot be saved either
        return True
    return isinstance(error, ConfigError) and not isinstance(error, QuestionError)


def unanswered_name(name: str) -> bool:
    """`unanswered` of an error known by its class's name, as result rows keep it (`error_type`)."""
    kind = ERROR_NAMES.get(name)
    return kind is not None and _silent(kind)


def unanswered(error: BaseException) -> bool:
    """Whether `error` is a model server's silence after every retry: no reply, or none it could give (5xx, 429, a
    web page instead of a completion). A reply it cannot use (`LLMResponseError`) is an answer, the method's
    failure, which comparisons keep; a run stops on those too when they come question after question (`Silence`).
    Question after question failing so, a long run stops (`UnansweredError`) instead of waiting out every retry."""
    return _silent(type(error))


def _silent(kind: type[BaseException]) -> bool:
    return issubclass(kind, RetryableError) and not issubclass(kind, LLMResponseError)


def _subclasses(kind: type[PearlError]) -> list[type[PearlError]]:
    return [kind, *(sub for child in kind.__subclasses__() for sub in _subclasses(child))]


ERROR_NAMES: dict[str, type[PearlError]] = {kind.__name__: kind for kind in _subclasses(PearlError)}
"""pearl's errors by class name (every one defined in this module)."""


_E = TypeVar("_E", bound=BaseException)


def own_copy(error: _E) -> _E:
    """A copy of `error`, with no traceback, to raise where one object would be raised again (for another question,
    another waiter): each carries its own `trace` and traceback. An error whose class has a constructor of its own
    (which may take other arguments than the error's `args`: a code, by position or by keyword) is made without it,
    its `args`, attributes and slots copied; one with Python's constructor is copied as Python copies it (which keeps
    what a built-in error holds outside its attributes: a `UnicodeDecodeError`'s reason, a file error's name).
    `error` itself when it cannot be made so."""
    kind = type(error)
    try:
        if not isinstance(kind.__init__, types.FunctionType):
            return copy.copy(error).with_traceback(None)
        copied = kind.__new__(kind, *error.args)
        copied.args = error.args
        copied.__dict__.update(getattr(error, "__dict__", {}))
        for slot in (name for klass in kind.__mro__ for name in getattr(klass, "__slots__", ())):
            if slot not in ("__dict__", "__weakref__") and hasattr(error, slot):
                setattr(copied, slot, getattr(error, slot))
        return copied.with_traceback(None)
    except Exception:  # noqa: BLE001 - any failure to make it: the original serves
        return error
