"""Pydantic models shared across stages. Each stage reads and returns these, so it can be
run, cached, shown and tested alone."""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pearl._text import WritableStr, as_text
from pearl.questions import Question

__all__ = [
    "Answer",
    "Citation",
    "Completion",
    "CompletionRequest",
    "Document",
    "DocumentPart",
    "Message",
    "StepRequest",
    "StepSlice",
    "Trace",
    "TraceDocument",
    "TraceEvent",
    "Usage",
]


class Message(BaseModel):
    """One chat message."""

    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


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
    cached_prompt_tokens: int = Field(
        default=0, ge=0, description="prompt tokens the server read from its prefix cache (it says so in its usage)"
    )
    attempts: int = Field(default=1, description="HTTP attempts it took (retries + 1)")
    notes: list[str] = Field(default_factory=list, description="what was wrong with the reply and replaced")
    estimated: bool = Field(
        default=False, description="its token counts were counted by pearl (cl100k): the reply reported none usable"
    )
    retried_prompt_tokens: int = Field(
        default=0, ge=0, description="of `prompt_tokens`, those billed for attempts that failed before this reply"
    )
    retried_completion_tokens: int = Field(
        default=0, ge=0, description="of `completion_tokens`, those billed for attempts that failed before this reply"
    )
    retried_cached_prompt_tokens: int = Field(
        default=0, ge=0, description="of `cached_prompt_tokens`, those of attempts that failed before this reply"
    )


class DocumentPart(BaseModel):
    """One source file inside a document: `text[start:end]` came from `name`.

    The document writes every line end as "\\n"; `crlf` lists where (offsets from `start`) the
    file writes one as "\\r\\n", a character longer, so that offsets into the file can be given.
    `dropped` does so for the other characters of the file the text leaves out: an overstrike of
    a manual page saved by `man ls | cat` ("N\\bN", bold) is one character of the text.
    """

    model_config = ConfigDict(frozen=True)

    name: WritableStr
    start: int
    end: int
    crlf: list[int] = Field(default_factory=list)
    dropped: list[int] = Field(
        default_factory=list,
        description="where the file has a character the text leaves out: its offset from `start` in the text, once "
        "for each such character before the text's character there (sorted)",
    )
    code: bool = Field(
        default=False,
        description="the file is source code (`reads_as_code`): read line by line, its indentation kept",
    )
    plain: bool = Field(
        default=False,
        description="the file's text was taken out of a page, a PDF or an e-mail: text, never read as markup (its "
        "'<p>' was written '&lt;p&gt;', and read as a tag it was deleted)",
    )

    def file_offset(self, offset: int) -> int:
        """Where character `offset` of this part (counted from `start`) is in the file's decoded text."""
        return offset + bisect_left(self.crlf, offset) + bisect_left(self.dropped, offset)


class Document(BaseModel):
    """Plain text of one or more files read as one document, file boundaries kept."""

    model_config = ConfigDict(frozen=True)

    text: WritableStr
    name: WritableStr = "text"
    parts: list[DocumentPart] = Field(default_factory=list)
    left_out: list[WritableStr] = Field(
        default_factory=list,
        description="files of a folder given that could not be read, files given twice, and a PDF's pages that "
        "show no text, each with why",
    )

    def __hash__(self) -> int:
        # Frozen, but its lists left pydantic's hash raising "unhashable type: 'list'": as a dict key, in a set or
        # an lru_cache. Equal documents have the same name and text (whose hash Python keeps: `content_hash` is a
        # sha256 of it, 16 ms a call on 20 MB).
        return hash((self.name, self.text))

    @property
    def content_hash(self) -> str:
        """A stable hash of the text and how it is read (sha256, hex): equal text, equal hash, whatever the
        source, unless part of it is source code (`DocumentPart.code`), which is read line by line, or text taken
        out of a page (`DocumentPart.plain`), never read as markup, or it is several files, each read as it would be
        alone: then where those are counts too (a page's text and the same text saved as a .txt share no index)."""
        digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        code = [f"{part.start}:{part.end}" for part in self.parts if part.code]
        plain = [f"{part.start}:{part.end}" for part in self.parts if part.plain]
        files = [f"{part.start}:{part.end}" for part in self.parts] if len(self.parts) > 1 else []
        if not code and not plain and not files:
            return digest
        # Of another form than a text's alone (a suffix), so that no text can hash as a text read with code.
        if not plain and not files:
            return hashlib.sha256(f"{digest} code {' '.join(code)}".encode("ascii")).hexdigest() + "-code"
        how = f"{digest} code {' '.join(code)} plain {' '.join(plain)} files {' '.join(files)}"
        return hashlib.sha256(how.encode("ascii")).hexdigest() + "-read"

    @property
    def code_spans(self) -> list[tuple[int, int]]:
        """Where the text is source code (`DocumentPart.code`), in order."""
        return [(part.start, part.end) for part in self.parts if part.code]

    @classmethod
    def from_text(cls, text: str, name: str = "text", *, code: bool = False) -> Document:
        """A document made of one string; a citation's `file_start`/`file_end` refer to that string. `code`: the
        string is source code, read line by line with its indentation (as a file `reads_as_code` is).

        Its line ends are read as a file's are: "\\r\\n" and "\\r" as "\\n" in `text` (read as given, a text with
        Windows line ends had no paragraphs and no headings), where `start`/`end` count; `file_start`/`file_end`
        count in the string as given."""
        if not isinstance(text, str):  # `len` of a number failed with "object of type 'int' has no len()"
            raise TypeError(f"text must be a str, not {type(text).__name__} (a file: load_document(path))")
        read, crlf, _ = as_text(text, overstrikes=False)
        part = DocumentPart(name=name, start=0, end=len(read), code=code, crlf=crlf)
        return cls(text=read, name=name, parts=[part])

    def part_at(self, offset: int) -> str:
        """Name of the file that holds character `offset`."""
        part = _part_holding(self.parts, offset)
        return part.name if part is not None else self.name


def _part_holding(parts: list[DocumentPart], offset: int) -> DocumentPart | None:
    """The part (file) whose text holds character `offset` of the document, or None (a separator, or no parts)."""
    return next((part for part in parts if part.start <= offset < part.end), None)


class Citation(BaseModel):
    """A sentence an answer rests on, mapped back to the original text.

    `start`/`end` are offsets into the document's text, where several files are joined into
    one (what spans and views of the whole document use); `file_start`/`file_end` are offsets
    into the text of the one file `source` names, which is what a reader opening that file
    needs: characters of the file as decoded, its byte-order mark left out, a Windows line
    end ("\\r\\n") two of them and a manual page's overstrike ("N\\bN") as many as it has (for a UTF-8
    file, `open(source, encoding="utf-8-sig", newline="").read()[file_start:file_end]`); an
    HTML or PDF file's in its extracted text. `text` is the sentence as written, except where the document is
    markup read as text (a page given as a `.txt` file or a string): there it is what the model was shown, the
    page's words with its tags and scripts hidden and its entities decoded (`pearl.context.cite`).
    """

    sentence_id: int
    start: int
    end: int
    source: str
    text: str
    file_start: int
    file_end: int
    inferred: bool = False
    """True when the model cited no sentence it was shown and pearl chose this one, the closest of those it was
    shown to the question and the answer: evidence the answer may rest on, not the model's own citation."""
    by_step: bool = False
    """True when a step of the plan cited this sentence and the final answer did not: evidence the steps found, which
    the answer rests on through their results, not a sentence the answer itself cites."""

    @classmethod
    def of(cls, sentence_id: int, text: str, start: int, end: int, parts: list[DocumentPart], name: str) -> Citation:
        """The citation of `text[start:end]`, sentence `sentence_id` of a document made of `parts` (named `name`)."""
        part = _part_holding(parts, start) or DocumentPart(name=name, start=0, end=len(text))
        return cls(
            sentence_id=sentence_id,
            start=start,
            end=end,
            source=part.name,
            text=text[start:end],
            file_start=part.file_offset(start - part.start),
            file_end=part.file_offset(min(end, part.end) - part.start),
        )


class Usage(BaseModel):
    """What one or more LLM calls cost.

    `uncached_prompt_tokens` is what a server had to read afresh: a call answered from pearl's
    response cache costs nothing, and a server that reports prefix-cache hits
    (`usage.prompt_tokens_details.cached_tokens`) had those tokens already.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cached_calls: int = 0
    uncached_prompt_tokens: int = 0
    seconds: float = 0.0
    estimated_calls: int = 0
    """Calls whose token counts pearl counted itself: their server reported none usable (see `Completion.estimated`)."""

    def __radd__(self, other: int) -> Usage:
        """`sum(answer.usage for answer in answers)`: the sum starts from 0 (a TypeError, int + Usage, before)."""
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented  # Python's TypeError, "unsupported operand", not an AttributeError of a field
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            calls=self.calls + other.calls,
            cached_calls=self.cached_calls + other.cached_calls,
            uncached_prompt_tokens=self.uncached_prompt_tokens + other.uncached_prompt_tokens,
            seconds=self.seconds + other.seconds,
            estimated_calls=self.estimated_calls + other.estimated_calls,
        )

    def tokens_line(self) -> str:
        """`N prompt (M uncached) + K completion tokens`, marked as estimates when a server reported none."""
        line = (
            f"{self.prompt_tokens:,} prompt ({self.uncached_prompt_tokens:,} uncached) + "
            f"{self.completion_tokens:,} completion tokens"
        )
        if not self.estimated_calls:
            return line
        which = "" if self.estimated_calls == self.calls else f" for {self.estimated_calls} of the calls"
        return f"~{line} (counted by pearl{which}: the server reported none usable)"


class StepRequest(BaseModel):
    """What a step-context provider is told about one plan step."""

    model_config = ConfigDict(frozen=True)

    var: str
    action: str
    definition: str = ""
    strings: list[str] = Field(default_factory=list, description="the step's literal text arguments")
    inputs: list[str] = Field(default_factory=list, description="earlier results passed to the step")
    explanation: str | None = None
    question: Question


class StepSlice(BaseModel):
    """What a step is shown of the document."""

    text: str
    sentence_ids: list[int] = Field(default_factory=list)
    note: str = ""


INTERRUPTED = "interrupted"
"""A trace's word for a question stopped by Ctrl-C or SIGTERM: the stage that closes its trace
(`pearl.trace.interrupted`), and the error of the call it was waiting for."""


class TraceEvent(BaseModel):
    """One stage's record: an LLM call, or a local step (no prompt, no tokens)."""

    stage: str
    prompt: str | None = None
    messages: list[Message] = Field(default_factory=list)
    output: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    cached: bool = False
    cached_prompt_tokens: int = 0
    attempts: int = 0
    error: str | None = None
    cut: dict[str, int] = Field(default_factory=dict)
    """The prompt's fields cut to fit the model's window ("question", "document"...), each with the characters
    of it the model saw (`PromptTemplate.fit`); empty when nothing was cut."""
    data: dict[str, Any] = Field(default_factory=dict)
    carried_out_by: str | None = None
    """For a plan step that no call of its own ran: the stage that carried it out ("answer")."""

    @property
    def uncached_prompt_tokens(self) -> int:
        """Prompt tokens the model had to read afresh (none for an answer from pearl's response cache)."""
        return 0 if self.cached else max(0, self.prompt_tokens - self.cached_prompt_tokens)


class TraceDocument(BaseModel):
    """The document a trace is about: enough to read it again and to check it is still the same text."""

    name: str
    content_hash: str = Field(description="sha256 of the text and of where it is code (`Document.content_hash`)")
    chars: int = 0
    sources: list[str] = Field(
        default_factory=list, description="absolute paths of the files it was read from; empty for text given as such"
    )


class _Shown(str):
    """Text a model's repr shows as it is, not quoted."""

    def __repr__(self) -> str:
        return str(self)


def _events_said(events: list[TraceEvent]) -> str:
    """`events` in a line: "<4 events: plan, step s1 = FIND_X, step s2 = ANSWER, answer>"."""
    stages = ", ".join(event.stage for event in events[:12]) + (", ..." if len(events) > 12 else "")
    return f"<{len(events)} event{'' if len(events) == 1 else 's'}{': ' if events else ''}{stages}>"


class Trace(BaseModel):
    """Everything one question did, in order; `document` and `answer` say what it was about and what came out."""

    question: str = ""
    options: list[str] = Field(
        default_factory=list, description="the question's options: a failed question's page lists them too"
    )
    method: str = ""
    backend: str = ""
    model: str = ""
    events: list[TraceEvent] = Field(default_factory=list)
    document: TraceDocument | None = None
    answer: Answer | None = Field(default=None, description="the final answer, its own `trace` left empty")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Its events hold every prompt whole: printed so, an answer (which carries its trace) was tens of thousands
        # of characters of prompts, the answer lost in them. The events are named by their stages instead.
        for name, value in super().__repr_args__():
            yield name, _Shown(_events_said(self.events)) if name == "events" else value

    def usage(self) -> Usage:
        """Total cost of the LLM calls in the trace."""
        total = Usage()
        for event in self.events:
            if event.prompt is None or event.error == INTERRUPTED:  # stopped waiting for it: no reply, cost unknown
                continue
            total = total + Usage(
                prompt_tokens=event.prompt_tokens,
                completion_tokens=event.completion_tokens,
                calls=1,
                cached_calls=int(event.cached),
                uncached_prompt_tokens=event.uncached_prompt_tokens,
                seconds=event.latency_s,
                estimated_calls=int(event.data.get("estimated") is True),
            )
        return total


class Answer(BaseModel):
    """What `ask` returns: the answer, the letter for multiple choice, its evidence and its cost.

    For a multiple-choice question, `answer` is the chosen option's text and `letter` its letter; when no option can
    be read from what the model wrote (it names none, or hedges between several), `letter` is None and `answer` is
    "" (a note says so). What the choice was read from is `explanation`: the steps' results for `pearl` and
    `pearl-fulldoc`, the model's reply for `direct` and `rag` when it is more than the letter. For a free-text
    question, `answer` is the model's answer and `explanation` None.
    """

    question: str = Field(description="the question as asked, without its options")
    options: list[str] = Field(
        default_factory=list, description="the options' texts, in letter order; [] for free text"
    )
    answer: str = Field(description="the answer; for multiple choice, the chosen option's text")
    letter: str | None = Field(default=None, description="the chosen option's letter (multiple choice only)")
    explanation: str | None = Field(default=None, description="what the choice was read from, when more than a letter")
    method: str = Field(description="the method asked for: pearl, pearl-fulldoc, rag or direct")
    citations: list[Citation] = Field(
        default_factory=list,
        description="the evidence: sentences the model cited, or (marked `inferred`) the closest it was shown",
    )
    plan: str | None = Field(default=None, description="the plan that ran, as text (planned methods only)")
    fallback: bool = Field(
        default=False, description="True when the method's fallback answered instead (a note says which and why)"
    )
    usage: Usage = Field(default_factory=Usage, description="tokens, calls and seconds the question cost")
    trace: Trace = Field(default_factory=Trace, description="every stage and call, with prompts and replies")
    notes: list[str] = Field(default_factory=list, description="what the user should know: cuts, fallbacks, labels")
    demo_model: bool = Field(
        default=False, description="True when the embedded demonstration model answered: not meant to be right"
    )


Trace.model_rebuild()  # `Trace.answer` refers to `Answer`, defined after it
