"""The index of a document and the compressed context cut from it.

`DocumentIndex` is plain, columnar data (parallel lists of ints, one entry per sentence or
mention) so that a cached index of a 100,000-word document parses in a few tens of
milliseconds. It holds data only: lookups (entities by name, relations, the networkx graph,
BM25 postings) are free functions of the other context modules, which keep what they derive
in the index's memo (`DocumentIndex.memo`), never serialised.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, Field, PrivateAttr

from pearl.models import Citation, DocumentPart

_T = TypeVar("_T")

__all__ = [
    "NAMED_LABELS",
    "VALUE_LABELS",
    "CompressedContext",
    "DocumentIndex",
    "Entity",
    "Mention",
    "Relation",
    "Sentence",
    "SentenceFlag",
    "check_index",
]

# spaCy's OntoNotes labels that name something, and those that give a value (dates, amounts).
# "NAME" is a proper noun found by the capitalisation rules whose kind is unknown.
NAMED_LABELS = frozenset("PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE NAME".split())
VALUE_LABELS = frozenset("DATE TIME MONEY PERCENT QUANTITY".split())


class SentenceFlag:
    """Bits of `DocumentIndex.sent_flags`."""

    HEADING = 1  # a heading: a short title line, or the label opening a clause ("5.2 Revenue Sharing.")
    TOC = 2  # a table-of-contents line (dot leaders; or one of 3+ lines in a row naming later headings)
    BOILERPLATE = 4  # repeated text: page headers and footers
    CONTINUATION = 8  # not a sentence start: a piece cut from a longer sentence, or the item after "...:"
    REFERENCES = 16  # back matter under a "References", "External links"... heading: sources, not content
    MARKUP = 32  # markup left in the text: tags alone, or inside a `<script>`, `<style>`, `<svg>` or a comment
    NOT_CONTENT = TOC | BOILERPLATE | REFERENCES | MARKUP
    """What says nothing about the document's subject: compression discounts it, entity extraction
    and the document's opening skip it."""


class Entity(BaseModel):
    """One thing the document names, all its spellings merged."""

    id: int
    name: str
    label: str
    aliases: list[str] = Field(default_factory=list)
    mentions: int = 0
    sentences: int = 0
    first_sentence: int = 0

    @property
    def is_value(self) -> bool:
        """Whether this is a date, time or amount rather than a named thing."""
        return self.label in VALUE_LABELS


class Mention(BaseModel):
    """One occurrence of an entity: `text[start:end]` in sentence `sentence`."""

    entity: int
    sentence: int
    start: int
    end: int
    text: str


class Sentence(BaseModel):
    """A sentence unit: `index.text[start:end] == text`; `tokens` counts it as a prompt shows it (for text
    written in markup, without its tags: see `pearl.context.shown_document`)."""

    id: int
    start: int
    end: int
    text: str
    tokens: int
    paragraph: int


class Relation(BaseModel):
    """Two entities that occur together; `weight` counts shared sentences (1) and paragraphs (0.25)."""

    source: int
    target: int
    weight: float
    sentences: int


class DocumentIndex(BaseModel):
    """Sentences, paragraphs and entities of one document, with character offsets into `text`.

    Per-sentence data are parallel lists indexed by sentence id (`sent_*`), per-mention data
    parallel lists indexed by mention number (`mention_*`, sorted by position).
    `sent_heading[i]` is the heading opening sentence i's paragraph (in a table, the row of
    header cells above row i) and `sent_section[i]` the last stand-alone heading before it
    (both sentence ids, -1 for none). `sent_tokens` counts a sentence as it is rendered for a
    prompt, whitespace runs collapsed; `tokens` counts the whole text as it is shown (for text
    written in markup, without its tags: see `pearl.context.shown_document`).
    """

    version: int
    content_hash: str
    name: str = "text"
    parts: list[DocumentPart] = Field(default_factory=list)
    text: str
    ner: str = "rules"
    words: int = 0
    tokens: int = 0
    build_seconds: float = 0.0
    from_cache: bool = Field(default=False, exclude=True, description="read from the on-disk cache, not built")
    para_starts: list[int] = Field(default_factory=list)
    para_ends: list[int] = Field(default_factory=list)
    sent_starts: list[int] = Field(default_factory=list)
    sent_ends: list[int] = Field(default_factory=list)
    sent_tokens: list[int] = Field(default_factory=list)
    sent_para: list[int] = Field(default_factory=list)
    sent_heading: list[int] = Field(default_factory=list)
    sent_section: list[int] = Field(default_factory=list)
    sent_flags: list[int] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    mention_entity: list[int] = Field(default_factory=list)
    mention_sentence: list[int] = Field(default_factory=list)
    mention_start: list[int] = Field(default_factory=list)
    mention_end: list[int] = Field(default_factory=list)

    # Derived views, built on first use and never serialised (see `memo`).
    _memo: dict[str, Any] = PrivateAttr(default_factory=dict)

    def memo(self, key: str, build: Callable[[], _T]) -> _T:
        """The value derived under `key`, built by `build()` on first use and kept with this index object.

        Derived views (alias table, co-occurrence weights, BM25 postings, the graph) cost
        milliseconds to seconds to build and are needed by many questions about one document.
        A copy (`model_copy`) shares them: a copy with other sentences or text must not be used
        to build or read them.
        """
        if key not in self._memo:
            self._memo[key] = build()
        value: _T = self._memo[key]
        return value

    def derived(self) -> Mapping[str, Any]:
        """The views derived so far (see `memo`), by key; read-only."""
        return MappingProxyType(self._memo)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> DocumentIndex:
        """A deep copy without the derived views (rebuilt on first use), as a pickled one: some hold locks."""
        fields = {name: copy.deepcopy(value, memo) for name, value in self.__dict__.items()}
        return type(self).model_construct(_fields_set=set(self.model_fields_set), **fields)

    def __getstate__(self) -> dict[Any, Any]:
        """Pickled without its derived views, as it is saved without them: they are rebuilt on first use (sentence
        vectors too: `pearl.context.attach_embeddings`), and some hold locks, which cannot be pickled."""
        state = dict(super().__getstate__())
        state["__pydantic_private__"] = {**(state.get("__pydantic_private__") or {}), "_memo": {}}
        return state

    @property
    def sentence_count(self) -> int:
        return len(self.sent_starts)

    @property
    def paragraph_count(self) -> int:
        return len(self.para_starts)

    def _known(self, sid: int) -> None:
        """Raise IndexError for an id the index has no sentence of (S-1 was the last sentence, as a list's -1)."""
        if not 0 <= sid < len(self.sent_starts):
            count = len(self.sent_starts)
            raise IndexError(f"no sentence S{sid}: the index has " + (f"S0 to S{count - 1}" if count else "none"))

    def sentence(self, sid: int) -> Sentence:
        """Sentence `sid` as an object (raises IndexError for an unknown id)."""
        self._known(sid)
        start, end = self.sent_starts[sid], self.sent_ends[sid]
        return Sentence(
            id=sid,
            start=start,
            end=end,
            text=self.text[start:end],
            tokens=self.sent_tokens[sid],
            paragraph=self.sent_para[sid],
        )

    def sentence_text(self, sid: int) -> str:
        """The text of sentence `sid` (raises IndexError for an unknown id)."""
        self._known(sid)
        return self.text[self.sent_starts[sid] : self.sent_ends[sid]]

    def sentences(self) -> list[Sentence]:
        """Every sentence, in document order."""
        return [self.sentence(i) for i in range(len(self.sent_starts))]

    def citation(self, sid: int) -> Citation:
        """Sentence `sid` as a citation of the original text and the file it came from (raises IndexError for an unknown
        id)."""
        self._known(sid)
        return Citation.of(sid, self.text, self.sent_starts[sid], self.sent_ends[sid], self.parts, self.name)

    def mentions(self, entity: int | None = None) -> list[Mention]:
        """Mentions of one entity (by id), or all of them, in document order."""
        return [
            Mention(
                entity=self.mention_entity[i],
                sentence=self.mention_sentence[i],
                start=self.mention_start[i],
                end=self.mention_end[i],
                text=self.text[self.mention_start[i] : self.mention_end[i]],
            )
            for i in range(len(self.mention_entity))
            if entity is None or self.mention_entity[i] == entity
        ]


class CompressedContext(BaseModel):
    """Sentences chosen for a query, rendered with `[S12]` labels, within a token budget.

    `spans` are character spans of the original text, one per run of consecutive kept
    sentences (the whitespace between the sentences of a run is included). When no sentence
    fits whole, the best one is cut at a space and `truncated` is set.
    """

    text: str
    tokens: int
    budget_tokens: int
    source_tokens: int
    sentence_ids: list[int] = Field(default_factory=list)
    spans: list[tuple[int, int]] = Field(default_factory=list)
    focus_entities: list[str] = Field(default_factory=list)
    query_terms: list[str] = Field(default_factory=list)
    truncated: bool = False

    @property
    def ratio(self) -> float:
        """Document tokens per context token (how much smaller the context is)."""
        return self.source_tokens / self.tokens if self.tokens else float("inf")

    @property
    def kept_fraction(self) -> float:
        """Share of the document's tokens kept."""
        return self.tokens / self.source_tokens if self.source_tokens else 0.0


def check_index(index: object) -> None:
    """Refuse an index of the wrong kind (a file's path, a `Document`) with what to pass instead."""
    if not isinstance(index, DocumentIndex):
        raise TypeError(
            f"index must be a DocumentIndex (index_document(path), or Pearl().index(path)), not {type(index).__name__}"
        )
