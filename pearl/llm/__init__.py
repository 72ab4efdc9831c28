"""Model backends behind one protocol: OpenAI-compatible over httpx, embedded llama.cpp, and a fake."""

from pearl.llm._cache import CachedLLM, ResponseCache
from pearl.llm._constrain import OutputMode, constrained, output_mode
from pearl.llm._embedded import DEMO_NOTICE, EmbeddedLLM, find_embedded_model
from pearl.llm._factory import make_llm
from pearl.llm._fake import FakeLLM, FakeReply
from pearl.llm._gate import LOOP_WAITING
from pearl.llm._openai import OpenAICompatibleLLM
from pearl.llm._reply import cut_at_limit
from pearl.models import Completion, CompletionRequest, Message
from pearl.protocols import LLM

__all__ = [
    "DEMO_NOTICE",
    "LLM",
    "LOOP_WAITING",
    "CachedLLM",
    "Completion",
    "CompletionRequest",
    "EmbeddedLLM",
    "FakeLLM",
    "FakeReply",
    "Message",
    "OpenAICompatibleLLM",
    "OutputMode",
    "ResponseCache",
    "constrained",
    "cut_at_limit",
    "find_embedded_model",
    "make_llm",
    "output_mode",
]
