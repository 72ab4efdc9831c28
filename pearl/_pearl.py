"""`Pearl`: the library's front door. Pass the model and the settings explicitly; no globals."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from pearl.actions import ActionLibrary, default_library
from pearl.config import Settings, load_settings
from pearl.context import DocumentIndex, entity_sheet, index_document
from pearl.documents import load_document
from pearl.errors import ConfigError
from pearl.llm._factory import make_llm
from pearl.llm._types import LLM
from pearl.methods import METHODS, AskContext
from pearl.models import Answer, Document, Trace
from pearl.planning import DemoStore, PlanResult, builtin_demos, generate_plan, select_demos
from pearl.questions import Question, split_options
from pearl.trace import Recorder

__all__ = ["DEFAULT_METHOD", "Pearl", "as_document"]

DEFAULT_METHOD = "pearl"


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


def _question(question: str | Question, options: Sequence[str] | None) -> Question:
    if isinstance(question, Question):
        return question
    if options:
        return Question(text=question, options=list(options))
    return split_options(question)


class Pearl:
    """Answers questions about documents.

    Args:
        llm: the model; default: the one `settings` describe (the embedded model when none is configured).
        settings: resolved settings; default: `load_settings()` (environment, then config file).
        library: the actions plans may use; default: the bundled default library.
        demos: demonstrations for the planner; default: the bundled ones.
    """

    def __init__(
        self,
        llm: LLM | None = None,
        settings: Settings | None = None,
        *,
        library: ActionLibrary | None = None,
        demos: DemoStore | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.llm = llm if llm is not None else make_llm(self.settings)
        self.library = library or default_library()
        self.demos = demos or builtin_demos()
        self._indexes: dict[str, DocumentIndex] = {}

    def index(self, document: Document) -> DocumentIndex:
        """The document's index: from memory, else the disk cache, else built now."""
        key = document.content_hash
        if key not in self._indexes:
            self._indexes[key] = index_document(document)
        return self._indexes[key]

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
        q = _question(question, options)
        trace = Trace(question=q.text, method=method, backend=self.llm.backend, model=self.llm.model)
        ctx = AskContext(
            llm=self.llm,
            settings=self.settings,
            document=doc,
            question=q,
            library=self.library,
            demos=self.demos,
            load_index=self.index,
            trace=trace,
        )
        answer = await METHODS[method](ctx)
        return answer.model_copy(update={"trace": trace, "usage": trace.usage(), "demo_model": self.llm.is_demo})

    async def aplan(
        self,
        question: str | Question,
        document: Document | str | Path | Sequence[str | Path] | None = None,
        options: Sequence[str] | None = None,
    ) -> tuple[PlanResult, Trace]:
        """Write a plan for `question` (see `plan`)."""
        q = _question(question, options)
        trace = Trace(question=q.text, method="plan", backend=self.llm.backend, model=self.llm.model)
        sheet = ""
        if document is not None:
            sheet = entity_sheet(self.index(as_document(document, self.settings.max_bytes)), 250)
        result = await generate_plan(
            Recorder(self.llm, trace),
            q,
            self.library,
            demos=select_demos(self.demos, " ".join([q.text, *q.options]), k=4),
            entity_sheet=sheet,
            max_attempts=self.settings.plan_attempts,
            max_steps=self.settings.max_steps,
        )
        return result, trace

    def plan(
        self,
        question: str | Question,
        document: Document | str | Path | Sequence[str | Path] | None = None,
        options: Sequence[str] | None = None,
    ) -> tuple[PlanResult, Trace]:
        """Write a plan for `question` with self-correction, without running it.

        Args:
            question: the question; inline options are recognised.
            document: if given, its entity sheet goes into the planning prompt.
            options: the options of a multiple-choice question.

        Returns:
            The plan result (its `plan` is None when every attempt failed) and the trace.
        """
        return asyncio.run(self.aplan(question, document, options))

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
