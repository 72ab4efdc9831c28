"""pearl: answer questions about long documents by planning and executing actions.

The public API is what `__all__` lists; everything else is private and may change.

The names load on first use (PEP 562 `__getattr__`), so `import pearl` (and `import
pearl.errors`) does not load the whole pipeline, and the `pearl` command can catch a Ctrl-C
while the rest of it loads (see `pearl.__main__`). Type checkers read the imports below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pearl._pearl import DEFAULT_METHOD, Pearl
    from pearl.actions import Action, ActionLibrary, default_library, load_library, save_library
    from pearl.config import Settings, load_settings
    from pearl.context import CompressedContext, DocumentIndex, compress, entity_sheet, index_document
    from pearl.documents import load_document
    from pearl.errors import (
        BlankReplyError,
        ConfigError,
        ContextError,
        ContextOverflowError,
        DatasetError,
        DocumentError,
        DocumentTooLargeError,
        EmbeddedModelError,
        ExecutionError,
        LLMConnectionError,
        LLMError,
        LLMRequestError,
        LLMResponseError,
        LLMTimeoutError,
        MergeReplyError,
        PearlError,
        PlanError,
        PlanParseError,
        ProposalError,
        QuestionError,
        RateLimitError,
        ReplyFormatError,
        RetryableError,
        RunBusyError,
        RunWriteError,
        ServerError,
        UnansweredError,
    )
    from pearl.execution import StepOutcome, execute_plan
    from pearl.llm import LLM, Completion, CompletionRequest, EmbeddedLLM, FakeLLM, OpenAICompatibleLLM, make_llm
    from pearl.models import Answer, Citation, Document, DocumentPart, Message, Trace, TraceEvent, Usage
    from pearl.planning import Demo, DemoStore, Plan, PlanResult, Step, generate_plan, load_demos, parse_plan
    from pearl.protocols import Progress, StageProgress, StepContext
    from pearl.questions import Question
    from pearl.trace import Recorder, render_trace

from pearl._version import __version__ as __version__  # re-exported: pearl.__version__

__all__ = [
    "DEFAULT_METHOD",
    "LLM",
    "Action",
    "ActionLibrary",
    "Answer",
    "BlankReplyError",
    "Citation",
    "Completion",
    "CompletionRequest",
    "CompressedContext",
    "ConfigError",
    "ContextError",
    "ContextOverflowError",
    "DatasetError",
    "Demo",
    "DemoStore",
    "Document",
    "DocumentError",
    "DocumentIndex",
    "DocumentPart",
    "DocumentTooLargeError",
    "EmbeddedLLM",
    "EmbeddedModelError",
    "ExecutionError",
    "FakeLLM",
    "LLMConnectionError",
    "LLMError",
    "LLMRequestError",
    "LLMResponseError",
    "LLMTimeoutError",
    "MergeReplyError",
    "Message",
    "OpenAICompatibleLLM",
    "Pearl",
    "PearlError",
    "Plan",
    "PlanError",
    "PlanParseError",
    "PlanResult",
    "Progress",
    "ProposalError",
    "Question",
    "QuestionError",
    "RateLimitError",
    "Recorder",
    "ReplyFormatError",
    "RetryableError",
    "RunBusyError",
    "RunWriteError",
    "ServerError",
    "Settings",
    "StageProgress",
    "Step",
    "StepContext",
    "StepOutcome",
    "Trace",
    "TraceEvent",
    "UnansweredError",
    "Usage",
    "compress",
    "default_library",
    "entity_sheet",
    "execute_plan",
    "generate_plan",
    "index_document",
    "load_demos",
    "load_document",
    "load_library",
    "load_settings",
    "make_llm",
    "parse_plan",
    "render_trace",
    "save_library",
]

# Where the public names live, cheapest first: a name is taken from the first whose `__all__` has it.
_HOMES = (
    "pearl.errors",
    "pearl.models",
    "pearl.protocols",
    "pearl.questions",
    "pearl.config",
    "pearl.documents",
    "pearl.trace",
    "pearl.llm",
    "pearl.context",
    "pearl.actions",
    "pearl.planning",
    "pearl.execution",
    "pearl._pearl",
)


def __getattr__(name: str) -> Any:
    if name in __all__:
        for home in _HOMES:
            module = importlib.import_module(home)
            if name in getattr(module, "__all__", ()):
                globals()[name] = value = getattr(module, name)  # later uses skip this function
                return value
    raise AttributeError(f"module 'pearl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
