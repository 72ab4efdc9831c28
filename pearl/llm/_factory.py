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
        # A timeout holds the local model only when one was given: its default is sized for a server's network
        # round trip, and the demonstration model on a busy machine may take longer to answer, but it answers.
        timeout = settings.timeout if "timeout" in settings.model_fields_set else None
        llm = EmbeddedLLM(context_window=settings.window, threads=settings.threads, timeout=timeout)
    if settings.cache:
        cache = ResponseCache(data_dir() / "cache" / "responses.sqlite3")
        if cache.usable:  # a damaged cache has warned once already; the model answers without it
            llm = CachedLLM(llm, cache)
    return llm
