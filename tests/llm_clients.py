"""pearl's OpenAI-compatible client pointed at a fake server, set for tests: short retry waits and timeouts."""

from __future__ import annotations

from fakeserver import FakeOpenAIServer

from pearl.config import load_settings
from pearl.llm import OpenAICompatibleLLM


def make(server: FakeOpenAIServer, **overrides: object) -> OpenAICompatibleLLM:
    """A client of `server` that retries at most 3 times, 10 ms apart at first, within 2 s an attempt; `overrides`
    are other settings (`load_settings`'s keywords)."""
    values: dict[str, object] = {
        "base_url": server.base_url,
        "model": "fake-model",
        "retry_base_delay": 0.01,
        "max_retries": 3,
        "timeout": 2.0,
    }
    values.update(overrides)
    return OpenAICompatibleLLM(load_settings(**values))
