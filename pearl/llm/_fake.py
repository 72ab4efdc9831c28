"""A scriptable fake model for users' tests and ours: queued replies, a history of requests."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from pearl.config import DEFAULT_CONTEXT_WINDOW
from pearl.errors import LLMError, own_copy
from pearl.llm._reply import prompt_tokens
from pearl.models import Completion, CompletionRequest
from pearl.tokens import count_tokens

__all__ = ["FakeLLM", "FakeReply"]

FakeReply = str | LLMError | Callable[[CompletionRequest], "str | LLMError"]


class FakeLLM:
    """Answers from a queue of scripted replies, then from `default`.

    A reply is a string, an `LLMError` to raise, or a function of the request returning either.
    Token usage is counted with tiktoken, so cost figures measured with it are real prompt sizes.
    With `prefix_cache`, it also reports, as a server with a prefix cache would, the prompt
    tokens it has seen before: the longest start of this prompt (messages in order) that an
    earlier prompt shares.

    Raises:
        TypeError: `replies` is one reply (a string, a function) instead of a list of them, or a reply (or
            `default`) is none of the three kinds.

    Example:
        >>> llm = FakeLLM(["first", "second"], default="ok")
        >>> llm.complete(CompletionRequest(messages=[Message(role="user", content="hi")])).text
        'first'
    """

    def __init__(
        self,
        replies: Iterable[FakeReply] = (),
        *,
        default: FakeReply | None = "ok",
        context_window: int = DEFAULT_CONTEXT_WINDOW,
        supports_grammar: bool = False,
        supports_json_schema: bool = False,
        model: str = "fake",
        delay: float = 0.0,
        prefix_cache: bool = False,
    ) -> None:
        if isinstance(replies, str) or callable(replies):  # a str is iterable too: it would be one reply a letter
            raise TypeError(
                f"FakeLLM's first argument is a list of replies, not one {type(replies).__name__}: "
                f"FakeLLM([reply]) queues one reply, FakeLLM(default=reply) gives it to every request"
            )
        self._queue: deque[FakeReply] = deque(_checked(list(replies)))
        if default is not None:
            _checked([default], "default")
        self.prefix_cache = prefix_cache
        self.default = default
        self.history: list[CompletionRequest] = []
        self._context_window = context_window
        self._supports_grammar = supports_grammar
        self._supports_json_schema = supports_json_schema
        self._model = model
        self.delay = delay
        self._lock = threading.Lock()

    def enqueue(self, *replies: FakeReply) -> None:
        """Add replies to the end of the queue."""
        with self._lock:
            self._queue.extend(_checked(list(replies)))

    @property
    def backend(self) -> str:
        return "fake"

    @property
    def model(self) -> str:
        return self._model

    @property
    def context_window(self) -> int:
        return self._context_window

    @property
    def supports_grammar(self) -> bool:
        return self._supports_grammar

    @property
    def supports_json_schema(self) -> bool:
        return self._supports_json_schema

    @property
    def is_demo(self) -> bool:
        return False

    def check(self) -> None:
        """Always ready."""

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens of every request so far."""
        return sum(count_tokens(m.content) for r in self.history for m in r.messages)

    def _answer(self, request: CompletionRequest) -> Completion:
        with self._lock:
            # What came before this request, taken with it: another thread's request appended after it is no
            # earlier prompt (the first of two at once was reported cached whole, as matching itself: helper-219).
            earlier = list(self.history) if self.prefix_cache else []
            self.history.append(request)
            reply = self._queue.popleft() if self._queue else self.default
        if reply is None:
            raise LLMError("FakeLLM has no reply queued and no default")
        if callable(reply) and not isinstance(reply, LLMError):
            reply = reply(request)
        if isinstance(reply, LLMError):
            # A copy each time, as a server's error is new each time: one object raised for two questions carried
            # the second's trace in both (`PearlError.trace`), its traceback growing with every call.
            raise own_copy(reply)
        return Completion(
            text=reply,
            prompt_tokens=prompt_tokens(request),
            cached_prompt_tokens=self._seen_prefix(request, earlier) if self.prefix_cache else 0,
            completion_tokens=count_tokens(reply),
            model=self._model,
            backend=self.backend,
            finish_reason="stop",
        )

    @staticmethod
    def _seen_prefix(request: CompletionRequest, earlier: list[CompletionRequest]) -> int:
        """Tokens of the longest start this prompt shares with one of `earlier`."""
        text = "\x00".join(m.content for m in request.messages)
        best = 0
        for before in earlier:
            other = "\x00".join(m.content for m in before.messages)
            shared = len(os.path.commonprefix([text, other]))  # noqa: RUF071 - characters are what is meant
            best = max(best, shared)
        return count_tokens(text[:best])

    def complete(self, request: CompletionRequest) -> Completion:
        if self.delay:
            time.sleep(self.delay)
        return self._answer(request)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        if self.delay:
            await asyncio.sleep(self.delay)
        return self._answer(request)


def _checked(replies: list[FakeReply], name: str = "reply") -> list[FakeReply]:
    """`replies`, each a string, an `LLMError` or a function; else a TypeError saying what a reply may be (a None
    queued was said as "no reply queued and no default"; a RuntimeError as "object of type 'RuntimeError' has no
    len()", mid-question)."""
    for reply in replies:
        if not isinstance(reply, (str, LLMError)) and not callable(reply):
            raise TypeError(
                f"a FakeLLM {name} is a string, an LLMError to raise (e.g. ServerError('503')) or a function of the "
                f"request returning either, not {type(reply).__name__}"
                + (f" ({reply!r})" if isinstance(reply, BaseException) else "")
            )
    return replies
