"""Model backends behind one protocol: OpenAI-compatible over httpx, embedded llama.cpp, and a fake."""

from pearl.llm._cache import CachedLLM, ResponseCache
from pearl.llm._embedded import DEMO_NOTICE, EmbeddedLLM, find_embedded_model
from pearl.llm._factory import make_llm
from pearl.llm._fake import FakeLLM, FakeReply
from pearl.llm._openai import OpenAICompatibleLLM
from pearl.llm._types import LLM, Completion, CompletionRequest, Message

__all__ = [
    "DEMO_NOTICE",
    "LLM",
    "CachedLLM",
    "Completion",
    "CompletionRequest",
    "EmbeddedLLM",
    "FakeLLM",
    "FakeReply",
    "Message",
    "OpenAICompatibleLLM",
    "ResponseCache",
    "find_embedded_model",
    "make_llm",
]
