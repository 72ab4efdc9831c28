"""pearl: answer questions about long documents by planning and executing actions.

The public API is what `__all__` lists; everything else is private and may change.
"""

from pearl._pearl import DEFAULT_METHOD, Pearl
from pearl.actions import Action, ActionLibrary, default_library, load_library, save_library
from pearl.config import Settings, load_settings
from pearl.context import CompressedContext, DocumentIndex, compress, entity_sheet, index_document
from pearl.documents import load_document
from pearl.errors import (
    ConfigError,
    ContextError,
    DatasetError,
    DocumentError,
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
    RateLimitError,
    ReplyFormatError,
    RetryableError,
    RunBusyError,
    ServerError,
)
from pearl.execution import execute_plan
from pearl.llm import LLM, Completion, CompletionRequest, EmbeddedLLM, FakeLLM, OpenAICompatibleLLM, make_llm
from pearl.models import Answer, Citation, Document, DocumentPart, Message, Trace, TraceEvent, Usage
from pearl.planning import DemoStore, Plan, Step, generate_plan, load_demos, parse_plan
from pearl.protocols import Progress, StepContext
from pearl.questions import Question
from pearl.trace import render_trace

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_METHOD",
    "LLM",
    "Action",
    "ActionLibrary",
    "Answer",
    "Citation",
    "Completion",
    "CompletionRequest",
    "CompressedContext",
    "ConfigError",
    "ContextError",
    "DatasetError",
    "DemoStore",
    "Document",
    "DocumentError",
    "DocumentIndex",
    "DocumentPart",
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
    "Progress",
    "ProposalError",
    "Question",
    "RateLimitError",
    "ReplyFormatError",
    "RetryableError",
    "RunBusyError",
    "ServerError",
    "Settings",
    "Step",
    "StepContext",
    "Trace",
    "TraceEvent",
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
