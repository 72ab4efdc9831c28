"""Build the model a user's settings describe."""

from __future__ import annotations

from pearl._paths import data_dir
from pearl.config import Settings
from pearl.llm._cache import CachedLLM, ResponseCache
from pearl.llm._embedded import EmbeddedLLM
from pearl.llm._openai import OpenAICompatibleLLM
from pearl.protocols import LLM

__all__ = ["make_llm"]


def make_llm(settings: Settings) -> LLM:
    """The OpenAI-compatible backend when a base URL is set, else the embedded model; cached unless disabled."""
    llm: LLM
    if settings.backend == "openai":
        llm = OpenAICompatibleLLM(settings)
    else:
        llm = EmbeddedLLM(context_window=settings.window, threads=settings.threads)
    if settings.cache:
        cache = ResponseCache(data_dir() / "cache" / "responses.sqlite3")
        if cache.usable:  # a damaged cache has warned once already; the model answers without it
            llm = CachedLLM(llm, cache)
    return llm
