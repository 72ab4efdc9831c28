"""`Pearl`: the library's front door. Pass the model and the settings explicitly; no globals."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from pearl.config import Settings, load_settings
from pearl.documents import load_document
from pearl.errors import ConfigError
from pearl.llm._factory import make_llm
from pearl.llm._types import LLM
from pearl.methods import METHODS, AskContext
from pearl.models import Answer, Document, Trace
from pearl.questions import Question, split_options

__all__ = ["DEFAULT_METHOD", "Pearl", "as_document"]

DEFAULT_METHOD = "direct"


def _is_path(text: str) -> bool:
    if "\n" in text or len(text) > 4096:
        return False
    try:
        return Path(text).expanduser().exists()
    except OSError:  # a name too long for the file system is text, not a path
        return False


def as_document(source: Document | str | Path | Sequence[str | Path], max_bytes: int | None = None) -> Document:
    """A `Document` from a document, a path, a list of paths, or (a str that is no existing path) plain text."""
    if isinstance(source, Document):
        return source
    if isinstance(source, str) and not _is_path(source):
        return Document.from_text(source)
    if max_bytes is None:
        return load_document(source)
    return load_document(source, max_bytes=max_bytes)


class Pearl:
    """Answers questions about documents.

    Args:
        llm: the model; default: the one `settings` describe (the embedded model when none is configured).
        settings: resolved settings; default: `load_settings()` (environment, then config file).
    """

    def __init__(self, llm: LLM | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self.llm = llm if llm is not None else make_llm(self.settings)

    async def aask(
        self,
        document: Document | str | Path | Sequence[str | Path],
        question: str | Question,
        options: Sequence[str] | None = None,
        *,
        method: str = DEFAULT_METHOD,
    ) -> Answer:
        """Answer `question` about `document` (see `ask`)."""
        if method not in METHODS:
            raise ConfigError(f"unknown method {method!r}; choose one of {', '.join(sorted(METHODS))}")
        doc = as_document(document, self.settings.max_bytes)
        if isinstance(question, Question):
            q = question
        elif options:
            q = Question(text=question, options=list(options))
        else:
            q = split_options(question)
        trace = Trace(question=q.text, method=method, backend=self.llm.backend, model=self.llm.model)
        ctx = AskContext(llm=self.llm, settings=self.settings, document=doc, question=q, trace=trace)
        answer = await METHODS[method](ctx)
        return answer.model_copy(update={"trace": trace, "usage": trace.usage(), "demo_model": self.llm.is_demo})

    def ask(
        self,
        document: Document | str | Path | Sequence[str | Path],
        question: str | Question,
        options: Sequence[str] | None = None,
        *,
        method: str = DEFAULT_METHOD,
    ) -> Answer:
        """Answer `question` about `document`.

        Args:
            document: a `Document`, a path, several paths (read as one document), or plain text.
            question: the question; inline options `(A) ... (B) ...` are recognised.
            options: the options of a multiple-choice question.
            method: one of `pearl.methods.METHODS`.

        Raises:
            PearlError: bad input, configuration, or a model failure after retries.
        """
        return asyncio.run(self.aask(document, question, options, method=method))
