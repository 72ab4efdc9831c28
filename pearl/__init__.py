"""pearl: answer questions about long documents by planning and executing actions.

The public API is what `__all__` lists; everything else is private and may change.
"""

from pearl._pearl import DEFAULT_METHOD, Pearl
from pearl.config import Settings, load_settings
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
    PearlError,
    PlanError,
    PlanParseError,
    RateLimitError,
    RetryableError,
    ServerError,
)
from pearl.llm import LLM, Completion, CompletionRequest, EmbeddedLLM, FakeLLM, OpenAICompatibleLLM, make_llm
from pearl.models import Answer, Citation, Document, DocumentPart, Message, Trace, TraceEvent, Usage
from pearl.questions import Question

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_METHOD",
    "LLM",
    "Answer",
    "Citation",
    "Completion",
    "CompletionRequest",
    "ConfigError",
    "ContextError",
    "DatasetError",
    "Document",
    "DocumentError",
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
    "Message",
    "OpenAICompatibleLLM",
    "Pearl",
    "PearlError",
    "PlanError",
    "PlanParseError",
    "Question",
    "RateLimitError",
    "RetryableError",
    "ServerError",
    "Settings",
    "Trace",
    "TraceEvent",
    "Usage",
    "load_document",
    "load_settings",
    "make_llm",
]
