"""Pydantic models shared across stages. Each stage reads and returns these, so it can be
run, cached, shown and tested alone."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Citation", "Document", "DocumentPart", "Usage"]


class DocumentPart(BaseModel):
    """One source file inside a document: `text[start:end]` came from `name`."""

    model_config = ConfigDict(frozen=True)

    name: str
    start: int
    end: int


class Document(BaseModel):
    """Plain text of one or more files read as one document, file boundaries kept."""

    model_config = ConfigDict(frozen=True)

    text: str
    name: str = "text"
    parts: list[DocumentPart] = Field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """A stable hash of the text (sha256, hex): equal text, equal hash, whatever the source."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @classmethod
    def from_text(cls, text: str, name: str = "text") -> Document:
        """A document made of one string; spans refer to that string."""
        return cls(text=text, name=name, parts=[DocumentPart(name=name, start=0, end=len(text))])

    def part_at(self, offset: int) -> str:
        """Name of the file that holds character `offset`."""
        for part in self.parts:
            if part.start <= offset < part.end:
                return part.name
        return self.name


class Citation(BaseModel):
    """A sentence an answer rests on, mapped back to the original text."""

    sentence_id: int
    start: int
    end: int
    source: str
    text: str


class Usage(BaseModel):
    """What one or more LLM calls cost."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cached_calls: int = 0
    seconds: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            calls=self.calls + other.calls,
            cached_calls=self.cached_calls + other.cached_calls,
            seconds=self.seconds + other.seconds,
        )
