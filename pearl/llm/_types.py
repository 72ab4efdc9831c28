"""The one small protocol every model backend speaks: messages in; text, usage and latency out."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from pearl.models import Message

__all__ = ["LLM", "Completion", "CompletionRequest", "Message"]


class CompletionRequest(BaseModel):
    """What to ask a model.

    `json_schema` and `grammar` (GBNF) constrain the output where the backend supports them;
    a backend that cannot honour one ignores it and the caller's validator does the rest.
    `prompt` names the template and version the messages came from, so editing a prompt
    file invalidates cached answers made with the old one.
    """

    model_config = ConfigDict(frozen=True)

    messages: list[Message]
    max_tokens: int = 512
    temperature: float = 0.0
    stop: list[str] | None = None
    json_schema: dict[str, Any] | None = None
    grammar: str | None = None
    prompt: str | None = None

    def cache_key(self, backend: str, model: str) -> str:
        """A hash of everything that decides the answer."""
        payload = {"backend": backend, "model": model, **self.model_dump(mode="json")}
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Completion(BaseModel):
    """A model's answer and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    model: str = ""
    backend: str = ""
    finish_reason: str | None = None
    cached: bool = False
    attempts: int = Field(default=1, description="HTTP attempts it took (retries + 1)")


@runtime_checkable
class LLM(Protocol):
    """A chat-completion backend. `complete` and `acomplete` must give the same answer."""

    @property
    def backend(self) -> str:
        """Short backend id: "openai", "embedded", "fake"."""
        ...

    @property
    def model(self) -> str:
        """The model name as the backend knows it."""
        ...

    @property
    def context_window(self) -> int:
        """Tokens the model accepts, prompt and reply together."""
        ...

    @property
    def supports_grammar(self) -> bool:
        """Whether `CompletionRequest.grammar` (GBNF) is enforced."""
        ...

    @property
    def supports_json_schema(self) -> bool:
        """Whether `CompletionRequest.json_schema` is enforced."""
        ...

    @property
    def is_demo(self) -> bool:
        """True for the embedded demonstration model, whose answers are not meant to be right."""
        ...

    def complete(self, request: CompletionRequest) -> Completion:
        """Answer one request, blocking."""
        ...

    async def acomplete(self, request: CompletionRequest) -> Completion:
        """Answer one request without blocking the event loop."""
        ...
