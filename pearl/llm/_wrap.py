"""A model standing in front of another: what the `LLM` protocol asks of a model, taken from the one it wraps."""

from __future__ import annotations

from typing import Any

from pearl.models import Completion, CompletionRequest
from pearl.protocols import LLM

__all__ = ["Capped", "Wrapped", "check_ready"]


def check_ready(llm: object) -> None:
    """`llm.check()`, where the model has one: a model of one's own may have none, and nothing is checked then."""
    check = getattr(llm, "check", None)
    if callable(check):
        check()


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
        check_ready(self.inner)


class Capped(Wrapped):
    """A model with its window lowered to `window`: every prompt is fitted to it. A model passed to `Pearl`, under
    `Settings.context_window`; an evaluation's, at the window its server lowered the run to before
    (`RunConfig.window_set`: going on at the window set, the first request of every question in flight was refused
    again).

    The rest of the model is the model's own, its attributes (`history`, `base_url`) too. A window the backend
    lowers itself (a server that refused a prompt as too long) is taken when it is the smaller.
    """

    def __init__(self, inner: LLM, window: int, *, set_by: str = "context_window") -> None:
        super().__init__(inner)
        self.window = window
        self.set_by = set_by
        """What set the window, as the thing to raise: `Settings.context_window`, or the server's context length."""

    @property
    def context_window(self) -> int:
        return min(self.window, self.inner.context_window)

    def complete(self, request: CompletionRequest) -> Completion:
        return self.inner.complete(request)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        return await self.inner.acomplete(request)

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (a copy being made): no recursion through `self.inner`
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"{self.inner!r} (window {self.context_window:,})"
