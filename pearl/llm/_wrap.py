"""A model standing in front of another: what the `LLM` protocol asks of a model, taken from the one it wraps."""

from __future__ import annotations

from pearl.protocols import LLM

__all__ = ["Wrapped"]


class Wrapped:
    """A model in front of `inner` (a cache, a lower window): its name, window and abilities are `inner`'s, unless a
    wrapper says otherwise; it answers as it chooses (`complete`, `acomplete`)."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner

    @property
    def backend(self) -> str:
        return self.inner.backend

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    @property
    def supports_grammar(self) -> bool:
        return self.inner.supports_grammar

    @property
    def supports_json_schema(self) -> bool:
        return self.inner.supports_json_schema

    @property
    def is_demo(self) -> bool:
        return self.inner.is_demo

    def check(self) -> None:
        self.inner.check()
