"""Compress a document to the sentences that matter for one question, within a token budget.

Each sentence gets a score from four signals, then the best are packed into the budget and
rendered in document order with `[S12]` labels:

1. lexical relevance: BM25 over stemmed sentence terms, the question's boilerplate removed, and,
   when the index carries sentence vectors (opt-in, see `pearl.context._dense`), the sentence's
   similarity in meaning to the query;
2. structure: a sentence inherits part of the score of its paragraph's heading and of its
   section's heading, because clauses and paper sections state their topic once, in the title;
3. entities: sentences that mention the focus entities (a step's arguments) or entities
   named in the question, and, less, the entities they co-occur with most;
4. coherence: a piece of a sentence cut for length, or the item after a "...:" line, shares
   its neighbour's score, the few best sentences bring the rest of their paragraph when it is
   short, and budget left once every relevant sentence is in goes to the sentences around the
   kept ones.

Tables of contents and repeated page furniture are discounted: they repeat every heading word.
"""

from __future__ import annotations

import bisect
import functools
import math
import os
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath

import numpy as np
import numpy.typing as npt

from pearl._text import neutralise_fence, neutralise_file_lines, one_line
from pearl.context._bm25 import BM25
from pearl.context._dense import dense_scores
from pearl.context._entities import entity_sentences, lookup_entities
from pearl.context._graph import cooccurrence
from pearl.context._markup import code_set, shown_document, shown_text, shown_texts
from pearl.context._models import CompressedContext, DocumentIndex, SentenceFlag, check_index
from pearl.context._query import clean_query, cleaned_terms
from pearl.context._terms import joined_terms, query_variants, stem, term_bases, terms, words
from pearl.errors import ContextError
from pearl.models import Document, DocumentPart
from pearl.tokens import count_tokens

__all__ = [
    "FILE_LINE",
    "Weights",
    "compress",
    "file_names",
    "rank_sentences",
    "render_sentences",
    "sentence_cost",
    "sentence_span",
    "skim",
    "whole_document",
]

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Weights:
    """How much each signal counts; the defaults were set on contracts and papers (see benchmarks/)."""

    heading: float = 0.5  # share of the paragraph heading's lexical score a sentence inherits
    section: float = 0.7  # share of the section heading's lexical score
    query_entity: float = 0.3  # per entity named in the question, times its rarity
    focus_entity: float = 1.0  # per focus entity mentioned
    neighbour_entity: float = 0.3  # per strong co-occurrence partner of a focus entity
    neighbour_entities: int = 5  # partners considered per entity
    first_mention: float = 0.2  # extra for the sentence that introduces a focus/question entity
    continuation: float = 0.9  # share passed between the pieces of one sentence / a list and its intro
    discount: float = 0.3  # factor for table-of-contents lines and page furniture
    focus_term: float = 2.0  # weight of the words of a focus string that names no entity
    lead: float = 0.15  # extra for the document's opening (what it is, who the parties are), fading with distance
    lead_tokens: float = 3000.0  # tokens into the document at which the opening bonus has fallen to 1/e
    dense: float = 0.2  # weight of dense similarity (1 for the most similar sentence), when the index has vectors
    bridge: float = 0.8  # share a sentence gets of the weaker of its two relevant neighbours in its paragraph
    reference: float = 0.5  # share a sentence opening on "They", "This can"... gets of the one before
    paragraphs: int = 3  # the best sentences whose whole paragraph is taken right after them...
    paragraph_tokens: int = 300  # ...when the paragraph has at most this many tokens


DEFAULT_WEIGHTS = Weights()
QUESTION_WORDS = 8
"""A focus string of this many words or more that asks or instructs (`reads_as_question`) is read as a question: its
instruction words removed, its names looked up where capitalised and weighed as a question's (by rarity, none made a
centre)."""
# A question's or an instruction's first word (helper-185: "Determine ...", "In what year ..."). Not "Will" or "May" in
# capitals: names that open a phrase ("Will Turner's ..."); "State" and "Name" only before what they ask for.
_ASKS = re.compile(
    r"\W*(?:(?i:who|whom|whose|what|which|when|where|why|how|highlight|describe|explain|identify|summari[sz]e|list|find"
    r"|tell|give|please|briefly|determine|compare|extract|provide|outline|discuss"
    r"|(?:state|name)\s+(?:the|all|every|each|what|which|whether|how|why)"
    r"|(?:in|at|for|to|on|by|from|of|with|during|after|before|under)\s+(?:what|which|whose|whom))"
    r"|is|are|was|were|do|does|did|has|have|had|could|should|would|shall|must|can|will"
    r"|Is|Are|Was|Were|Do|Does|Did|Has|Have|Had|Could|Should|Would|Shall|Must|Can)\b"
)


def reads_as_question(focus: str) -> bool:
    """Whether a focus string is a question passed whole (a plan's `ANSWER(CTX, <question>)`), not a phrase to centre
    on: `QUESTION_WORDS` words or more that ask (a question mark, a question's first word) or instruct ("Highlight
    the parts ... that should be reviewed by a lawyer", "Describe ...")."""
    return len(focus.split()) >= QUESTION_WORDS and (focus.rstrip().endswith("?") or bool(_ASKS.match(focus)))


def sentence_span(index: DocumentIndex, sid: int) -> tuple[int, int]:
    """Character span of sentence `sid` in `index.text`."""
    if not 0 <= sid < index.sentence_count:
        raise ContextError(f"no sentence S{sid}: the index has {index.sentence_count}")
    return index.sent_starts[sid], index.sent_ends[sid]


def _check_kinds(index: object, query: object, budget_tokens: object) -> None:
    """Refuse arguments of the wrong kind with what to pass (a file's path for the index, a budget as text)."""
    check_index(index)
    if not isinstance(query, str):
        raise TypeError(f"query must be a str, not {type(query).__name__}")
    if isinstance(budget_tokens, bool) or not hasattr(type(budget_tokens), "__index__"):  # numpy's ints are ints
        raise TypeError(f"budget_tokens must be an int, not {type(budget_tokens).__name__}")


def render_sentences(index: DocumentIndex, ids: Sequence[int]) -> str:
    """Sentences `ids` in document order, each labelled `[S12]`, whitespace collapsed but in code blocks (markup
    as a browser shows it: see `pearl.context.shown_document`).

    Consecutive sentences of one paragraph share a line; anything else starts a new line, and a sentence
    of code lines has its label on a line of its own, over them. In a document of several files, a line
    `[file NAME]` opens each file's sentences (`FILE_LINE`), so that the model knows which file says what.
    """
    return _render(index, sorted(set(ids)), {})


def _render(index: DocumentIndex, ids: list[int], cut: dict[int, int]) -> str:
    lines: list[str] = []
    line: list[str] = []
    previous, block = -2, False
    # Read once: each `DocumentIndex.memo` lookup goes through pydantic's attribute hook, microseconds a sentence.
    texts, code, para = shown_texts(index), code_set(index), index.sent_para
    files, part = file_names(index), -1
    for sid in ids:
        if files and (now := bisect.bisect_right(files[0], index.sent_starts[sid]) - 1) != part:
            if line:
                lines.append(" ".join(line))
                line = []
            part, previous = now, -2
            lines.append(f"[file {files[1][part]}]")
        # The document's own text must not close the fence it is shown in nor fake a label.
        shown = neutralise_fence(texts[sid] if sid not in cut else shown_text(index, sid, cut[sid]))
        shown = neutralise_file_lines(shown)  # nor pass for another file's opening line
        run_on = sid == previous + 1 and para[sid] == para[previous]
        if line and (block or "\n" in shown or not run_on):
            lines.append(" ".join(line))
            line = []
        # Code, laid out line by line: its label on a line of its own, and the next unit on a line of its own too.
        block = "\n" in shown or sid in code
        line.append(f"[S{sid}]\n{shown}" if block else f"[S{sid}] {shown}")
        previous = sid
    if line:
        lines.append(" ".join(line))
    return "\n".join(lines)


FILE_LINE = re.compile(r"^\[file [^\n\[\]]*\][ \t]*$", re.MULTILINE)
"""The line that opens a file's sentences in rendered evidence (`render_sentences`)."""


def file_names(index: DocumentIndex) -> tuple[list[int], list[str]] | None:
    """Where each file of a document of several starts, and its name as evidence gives it (`_short_names`); None
    for one file."""
    return index.memo("file_names", lambda: _file_names(index.parts))


def whole_document(document: Document) -> str:
    """The whole of `document` as `direct` and the paper's executor paste it (`shown_document`: markup as a
    browser shows it, source code as written); in a document of several files, each file's text opened by its
    `[file NAME]` line, as `render_sentences` opens its sentences."""
    if len(document.parts) < 2:  # a line of its own that reads as a file line is no less a forgery here
        plain = bool(document.parts) and document.parts[0].plain
        return neutralise_file_lines(shown_document(document.text, tuple(document.code_spans), plain))
    parts = tuple((part.name, part.start, part.end, part.code, part.plain) for part in document.parts)
    return _whole_of_files(document.text, parts)


@functools.lru_cache(maxsize=4)
def _whole_of_files(text: str, parts: tuple[tuple[str, int, int, bool, bool], ...]) -> str:
    """`whole_document` of several files (name, start, end, code, plain), kept for the last few: `direct` and the
    paper's executor ask for it again for every question."""
    names = _short_names([name for name, *_ in parts])
    pieces = []
    for (_, start, end, code, plain), name in zip(parts, names, strict=True):
        piece = text[start:end]
        shown = shown_document(piece, ((0, len(piece)),) if code else (), plain)
        pieces.append(f"[file {name}]\n" + neutralise_file_lines(shown))
    return "\n\n".join(pieces)


def _file_names(parts: Sequence[DocumentPart]) -> tuple[list[int], list[str]] | None:
    if len(parts) < 2:
        return None
    return [part.start for part in parts], _short_names([part.name for part in parts])


_NAME_CHARS = 60
"""A `[file NAME]` line's name is cut in the middle to this many characters: its line is paid for in every call."""


def _short_names(names: list[str]) -> list[str]:
    """`names` (paths) as `[file NAME]` lines give them: relative to the folder they share (relative paths that
    share none as given); where they share none but the root (or mix absolute and relative paths), the fewest
    last parts that tell them apart. Either way no more of the user's folders than needed reaches a prompt.

    A name cannot break its line, close the document's fence or pass for a label: whitespace is one space,
    brackets are full-width, and it is cut in the middle to `_NAME_CHARS`."""
    try:
        shared: str | None = os.path.commonpath([os.path.dirname(name) for name in names])
    except ValueError:  # absolute and relative paths mixed, or on different drives
        shared = None
    if shared == "":  # relative paths, as the user gave them
        short = names
    elif shared is not None and shared != os.path.dirname(shared):  # a folder, not the root
        short = [os.path.relpath(name, shared) for name in names]
    else:
        short = _fewest_parts(names)
    out = []
    for name in short:
        name = one_line(name).replace("[", "［").replace("]", "］")
        if len(name) > _NAME_CHARS:
            name = name[: _NAME_CHARS // 3] + "…" + name[-(_NAME_CHARS - _NAME_CHARS // 3 - 1) :]
        out.append(name)
    return out


def _fewest_parts(names: list[str]) -> list[str]:
    """Each of `names` (paths) by its last parts, as few as tell it from the others (`b/notes.md`, `a/notes.md`)."""
    parts = [PurePath(name).parts or (name,) for name in names]
    depth = [1] * len(names)
    while True:
        shown = ["/".join(p[-d:]) for p, d in zip(parts, depth, strict=True)]
        again = {name for name in shown if shown.count(name) > 1}
        grown = False
        for i, name in enumerate(shown):
            if name in again and depth[i] < len(parts[i]):
                depth[i] += 1
                grown = True
        if not grown:
            return shown


def _spans(index: DocumentIndex, ids: list[int], cut: dict[int, int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    previous = -2
    for sid in ids:
        start = index.sent_starts[sid]
        end = cut.get(sid, index.sent_ends[sid])
        if spans and sid == previous + 1 and previous not in cut:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        previous = sid
    return spans


def _bm25(index: DocumentIndex) -> BM25:
    return index.memo("bm25", lambda: _build_bm25(index))


def _build_bm25(index: DocumentIndex) -> BM25:
    documents = [terms(text) for text in shown_texts(index)]
    vocabulary = {term for document in documents for term in document}
    # "sublicense" also counts as "license", "competition" as "compete", when the document uses those: worked out
    # once a term, not once a use of it.
    bases = {term: found for term in vocabulary if (found := term_bases(term, vocabulary))}
    for document in documents:
        if extra := [base for term in document if term in bases for base in bases[term]]:
            document.extend(extra)
    return BM25(documents)


def _offsets(index: DocumentIndex) -> npt.NDArray[np.float64]:
    """Tokens of content before each sentence: where it stands in what the document says.

    What is no content (a page's markup, a table of contents, page furniture) does not count: a
    page saved with 5k tokens of scripts and menus before its first paragraph still opens there.
    """

    def build() -> npt.NDArray[np.float64]:
        tokens = np.asarray(index.sent_tokens, dtype=np.float64)
        tokens[(_flag_array(index) & SentenceFlag.NOT_CONTENT) != 0] = 0.0
        return np.concatenate([[0.0], np.cumsum(tokens)[:-1]])

    return index.memo("offsets", build)


def _markup(index: DocumentIndex) -> frozenset[int]:
    """Sentences that are markup a browser shows nothing of (a saved page's scripts, inlined data)."""
    return index.memo("markup", lambda: frozenset(np.flatnonzero(_flag_array(index) & SentenceFlag.MARKUP).tolist()))


# Words that, opening a sentence, point back to the one before: its subject is there ("They cannot be
# listed in transferList." after "If value contains SharedArrayBuffer instances, ..."). "This", "Such",
# "Each" and the like only before a lower-case word: "This can be disabled", "Such notice", not "This
# Agreement" or "Each Party", defined terms.
_POINTS_BACK = re.compile(
    r"(?i:it|its|they|them|their|theirs|he|she|his|her)\b"
    r"|(?i:this|that|these|those|such|both|each|either|neither)\s+[a-z]"
)


def _refers_back(index: DocumentIndex) -> npt.NDArray[np.int64]:
    """Sentences that open on a word pointing back to the sentence before them, in the same paragraph."""

    def build() -> npt.NDArray[np.int64]:
        found = []
        for sid in range(1, index.sentence_count):
            if index.sent_para[sid] != index.sent_para[sid - 1]:
                continue
            opening = index.text[index.sent_starts[sid] : index.sent_starts[sid] + 40].lstrip("\"'“‘(")
            if _POINTS_BACK.match(opening):
                found.append(sid)
        return np.asarray(found, dtype=np.int64)

    return index.memo("refers_back", build)


def _flag_array(index: DocumentIndex) -> npt.NDArray[np.int64]:
    return index.memo("flags", lambda: np.asarray(index.sent_flags, dtype=np.int64))


@dataclass
class _Ranking:
    scores: npt.NDArray[np.float64]
    terms: list[str]
    focus: list[int]
    matched: npt.NDArray[np.bool_]
    """The sentences that hold a word or a name of the query (or of the focus), not scored by their place alone."""


def _score(index: DocumentIndex, query: str, focus: Sequence[str], weights: Weights) -> _Ranking:
    size = index.sentence_count
    asked_for = clean_query(query)  # what the question looks for, its instructions left out
    weighted = cleaned_terms(asked_for)
    # A focus that asks is a question passed whole ("ANSWER(CTX, <question>)"): its instructions go as the
    # question's do. Any other is a phrase taken word for word ("price list", "Captain Ramos's quarrel with ...").
    asking = [reads_as_question(item) for item in focus]
    phrases = [clean_query(item) if asks else item for item, asks in zip(focus, asking, strict=True)]
    focus_ids: list[int] = []
    asked_ids = lookup_entities(index, asked_for, capitalised=True)
    for item, phrase, asks in zip(focus, phrases, asking, strict=True):
        if asks:
            # Its names are looked up as a question's are, and weigh as they do: "one party's use" in a question is no
            # name, and a name found is not a centre (every sentence of a contract near "Party" would outrank the
            # clause asked for).
            asked_ids += lookup_entities(index, phrase, capitalised=True)
            found = []
        else:
            found = lookup_entities(index, item)
        if found:
            focus_ids.extend(e for e in found if e not in focus_ids)
        else:
            for term in terms(phrase):
                weighted[term] = max(weighted.get(term, 0.0), weights.focus_term)
    question_ids = [e for e in dict.fromkeys(asked_ids) if e not in focus_ids]

    bm25 = _bm25(index)
    asked = words(query)
    # "who founded ...": the answer is the founder. Not "which products are licensed": not the Licensor.
    past = {stem(word) for word in asked if len(word) > 4 and word.endswith("ed")} if "who" in asked else set()
    for term, weight in list(weighted.items()):
        for variant in query_variants(term, bm25, agents=term in past):
            weighted.setdefault(variant, weight)
    for sequence in [asked, *(words(item) for item in focus)]:
        weighted.update(joined_terms(sequence, weighted, bm25))
    lexical = bm25.scores(weighted) if weighted else np.zeros(size)
    worded = lexical > 0
    top = float(lexical.max()) if size else 0.0
    if top > 0:
        lexical = lexical / top
    # Meaning is matched on what the words are searched for: the instructions ("Highlight the parts ... that should be
    # reviewed by a lawyer", option labels) are left out of both.
    similar = dense_scores(index, " ".join([*phrases, asked_for])) if weights.dense > 0 else None
    if similar is not None:
        lexical = lexical + weights.dense * similar
    total = lexical.copy()
    for links, share in ((index.sent_heading, weights.heading), (index.sent_section, weights.section)):
        linked = np.asarray(links, dtype=np.int64)
        has = linked >= 0
        total[has] += share * lexical[linked[has]]

    entity_scores = np.zeros(size)
    log_size = math.log(size + 1)
    for eid in focus_ids:
        sentences = entity_sentences(index, eid)
        entity_scores[sentences] += weights.focus_entity
        if sentences:
            entity_scores[sentences[0]] += weights.first_mention
        # The focus entity's strongest partners: where the plot or the clause around it happens.
        for other, strength in _partners(index, eid, weights.neighbour_entities):
            entity_scores[entity_sentences(index, other)] += weights.neighbour_entity * strength
    for eid in question_ids:
        sentences = entity_sentences(index, eid)
        if not sentences:
            continue
        # Rare entities say more: "Korvin" in 10 sentences beats "Agreement" in 900. Partners are
        # not followed from a question: in a contract every entity co-occurs with "Party".
        rarity = math.log((size + 1) / len(sentences)) / log_size
        entity_scores[sentences] += weights.query_entity * rarity
        entity_scores[sentences[0]] += weights.first_mention * rarity
    total += entity_scores
    matched = worded | (entity_scores > 0)

    flags = _flag_array(index)
    content = (flags & SentenceFlag.NOT_CONTENT) == 0
    if weights.lead > 0:  # the opening of what the document says; its markup and contents lists are not it
        total[content] += weights.lead * np.exp(-_offsets(index)[content] / weights.lead_tokens)
    total[~content] *= weights.discount
    continued = np.flatnonzero(flags & SentenceFlag.CONTINUATION)
    for i in continued:  # forward: a piece inherits from the piece before it
        if i > 0:
            total[i] = max(total[i], weights.continuation * total[i - 1])
    for i in continued[::-1]:  # backward: and the intro from what it introduces
        if i > 0:
            total[i - 1] = max(total[i - 1], weights.continuation * total[i])
    if weights.reference > 0:
        for i in _refers_back(index):  # forward only, in order: a run of them inherits down the run
            total[i] = max(total[i], weights.reference * total[i - 1])
    if weights.bridge > 0 and size > 2:
        # A sentence between two relevant ones of its paragraph belongs to the same passage.
        para = np.asarray(index.sent_para)
        inner = np.minimum(total[:-2], total[2:]) * weights.bridge
        same = (para[:-2] == para[1:-1]) & (para[2:] == para[1:-1])
        total[1:-1] = np.where(same, np.maximum(total[1:-1], inner), total[1:-1])
    # Markup a browser shows nothing of (a script, an image inlined as data, in pieces) is worth nothing,
    # whatever it inherited from the sentences around it.
    total[(flags & SentenceFlag.MARKUP) != 0] = 0.0
    return _Ranking(scores=total, terms=sorted(weighted), focus=focus_ids, matched=matched)


def _partners(index: DocumentIndex, entity: int, limit: int) -> list[tuple[int, float]]:
    """Up to `limit` named co-occurrence partners of `entity`, with strength relative to the strongest."""
    ranked = sorted(cooccurrence(index).get(entity, {}).items(), key=lambda item: (-item[1][0], item[0]))
    named = [(other, weight) for other, (weight, _) in ranked if not index.entities[other].is_value][:limit]
    if not named:
        return []
    heaviest = named[0][1]
    return [(other, weight / heaviest) for other, weight in named]


def rank_sentences(
    index: DocumentIndex,
    query: str,
    focus: Sequence[str] | None = None,
    limit: int | None = None,
    *,
    matching: bool = False,
) -> list[tuple[int, float]]:
    """Sentence ids with a positive score for `query`, best first, with their scores.

    A score may come from a sentence's place alone (the opening of a document scores a little for any query), or from
    its neighbours'; with `matching`, only the sentences that hold a word or a name of the query or the focus.
    """
    ranking = _score(index, query, focus or [], DEFAULT_WEIGHTS)
    order = np.argsort(-ranking.scores, kind="stable")
    out = [
        (int(i), float(ranking.scores[i]))
        for i in order
        if ranking.scores[i] > 0 and (ranking.matched[i] or not matching)
    ]
    return out[:limit] if limit is not None else out


def compress(
    index: DocumentIndex,
    query: str,
    budget_tokens: int,
    focus: Sequence[str] | None = None,
    *,
    exclude: Collection[int] = (),
    weights: Weights = DEFAULT_WEIGHTS,
    cut_best: bool = False,
) -> CompressedContext:
    """The sentences of `index` most useful for `query`, rendered within `budget_tokens`.

    Args:
        index: the document's index (see `index_document`).
        query: the question or step; instruction boilerplate and option letters are ignored.
        budget_tokens: hard limit on the tokens of the rendered text, labels included.
        focus: entity names or phrases to centre on (e.g. a plan step's arguments); a question passed whole
            (`reads_as_question`) is read as one, its instructions left out and its names weighed as a question's,
            none a centre.
        exclude: sentence ids not to choose (e.g. evidence the prompt already shows elsewhere).
        weights: how the signals combine.
        cut_best: when the best sentence cannot fit whole and nothing kept scores half what it does, the best cut
            to fit instead of what does fit (what a reader asking for that budget wants: `pearl context`). Off, what
            fits is kept: pearl's own calls, whose prompts show the best sentence whole further on.

    Returns:
        The rendered context, its exact token count, the kept sentence ids and their
        character spans in `index.text`. With no relevant sentence at all, the opening of
        the document.

    Raises:
        ContextError: `budget_tokens` is not positive.
        TypeError: an argument of the wrong kind (a file's path for `index`, a str for `focus`).
    """
    _check_kinds(index, query, budget_tokens)
    if isinstance(focus, str):  # a str is a sequence of letters: "Dorota" was six one-letter names, no focus at all
        raise TypeError(f"focus must be a list of names or phrases (focus=[{focus!r}]), not a str")
    if budget_tokens < 1:
        raise ContextError(f"budget_tokens must be at least 1, got {budget_tokens}")
    ranking = _score(index, query, list(focus or []), weights)
    scores = ranking.scores
    # Markup a browser shows nothing of is never chosen: not as a neighbour, not as the opening when nothing matches.
    blocked = frozenset(exclude) | _markup(index)
    ranked = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
    order = [sid for sid in ranked if sid not in blocked]
    relevant = bool(order)
    if relevant:
        order = _copies_later(
            index, _with_paragraphs(index, ranked, scores, weights, blocked), blocked, ranking.matched
        )
    else:  # nothing matches: fall back on the opening of the document
        order = [i for i in range(index.sentence_count) if i not in blocked]
    kept = _pack(index, order, budget_tokens, prefix=not relevant)
    if relevant:
        kept = _add_neighbours(index, kept, scores, budget_tokens, blocked, ranking.matched)
    best = order[0] if relevant else -1
    if cut_best and relevant and sentence_cost(index, best) > budget_tokens and not _near_best(scores, kept, best):
        # A budget smaller than the best sentence was filled with whatever fits, sentences the query hardly touches
        # (a faint opening bonus): the best is cut to fit instead, as when no sentence fits at all (helper-168).
        return _fitted(index, [], [best], budget_tokens, ranking, lambda ids: ids[-1], top_up=False)

    def weakest(ids: list[int]) -> int:
        return min(ids, key=lambda sid: (scores[sid], -sid)) if relevant else ids[-1]

    return _fitted(index, sorted(kept), order, budget_tokens, ranking, weakest, top_up=relevant)


def _near_best(scores: npt.NDArray[np.float64], kept: Collection[int], best: int) -> bool:
    """Whether a sentence of `kept` scores at least half what sentence `best` does: the query is about it too (an
    opening bonus alone, up to `Weights.lead`, is not)."""
    return any(scores[sid] >= 0.5 * scores[best] for sid in kept)


def _fitted(
    index: DocumentIndex,
    ids: list[int],
    order: list[int],
    budget: int,
    ranking: _Ranking,
    weakest: Callable[[list[int]], int],
    *,
    top_up: bool,
) -> CompressedContext:
    """Sentences `ids` (chosen from `order`, best first) rendered within `budget`, exactly counted.

    The packing estimate can be off by a token per sentence boundary: the `weakest` are dropped
    until the rendering fits, then (with `top_up`) what is left is filled from `order`. With no
    sentence fitting whole, the first of `order` is cut to fit.
    """
    text = _render(index, ids, {})
    tokens = count_tokens(text)
    while tokens > budget and ids:
        ids.remove(weakest(ids))
        text = _render(index, ids, {})
        tokens = count_tokens(text)
    if top_up and tokens < budget - 8:
        ids, text, tokens = _top_up(index, ids, text, tokens, order, budget)
    cut: dict[int, int] = {}
    if not ids and order:
        ids, cut, text, tokens = _truncated(index, order[0], budget)
    return CompressedContext(
        text=text,
        tokens=tokens,
        budget_tokens=budget,
        source_tokens=index.tokens,
        sentence_ids=ids,
        spans=_spans(index, ids, cut),
        focus_entities=[index.entities[e].name for e in ranking.focus],
        query_terms=ranking.terms,
        truncated=bool(cut),
    )


def skim(
    index: DocumentIndex,
    query: str,
    budget_tokens: int,
    *,
    exclude: Collection[int] = (),
    weights: Weights = DEFAULT_WEIGHTS,
) -> CompressedContext:
    """Sentences spread over the whole document within `budget_tokens`, for a reading that has
    nothing to search for: a summary, the moral, the list of characters.

    `compress` would show the one passage that matches `query` best (or, with nothing matching,
    the opening), and a summary of a story's first third reads as a summary of the story. Here
    the document is cut into stretches of equal length, about one per sentence the budget holds,
    and each stretch gives its sentence most relevant to `query` (the first of a paragraph when
    nothing in the stretch matches), so the model reads the beginning, the middle and the end.
    A stretch whose first choice does not fit gives its next. Tables of contents, page furniture
    and references are passed over (unless nothing else is left), as are the sentences in
    `exclude`. When no sentence fits whole, the best is cut, as `compress` cuts it.
    `weights.lead` is not used: the first stretch is the opening.

    Raises:
        ContextError: `budget_tokens` is not positive.
        TypeError: an argument of the wrong kind (a file's path for `index`).
    """
    _check_kinds(index, query, budget_tokens)
    if budget_tokens < 1:
        raise ContextError(f"budget_tokens must be at least 1, got {budget_tokens}")
    # The opening's bonus falls with every token, so it would break every tie within a stretch for
    # the stretch's first sentence, wherever it stands, rather than for a paragraph's first.
    ranking = _score(index, query, [], replace(weights, lead=0.0))
    scores = ranking.scores
    blocked = frozenset(exclude) | _markup(index)  # markup a browser shows nothing of: never chosen
    pool = [sid for sid in range(index.sentence_count) if sid not in blocked]
    content = [sid for sid in pool if not index.sent_flags[sid] & SentenceFlag.NOT_CONTENT]
    pool = content or pool  # a document that is all references or contents lines still shows something

    def preference(sid: int) -> tuple[float, bool, int]:
        opens = sid == 0 or index.sent_para[sid] != index.sent_para[sid - 1]
        return (-float(scores[sid]), not opens, sid)

    # About one stretch per sentence the budget holds; fewer when the sentences chosen are longer
    # than most, so that every stretch gives one.
    count = _fits(index, pool, budget_tokens)
    for _ in range(3):
        stretches = _stretches(index, pool, count)
        firsts = sum(_pack_cost(index, min(stretch, key=preference)) for stretch in stretches)
        if firsts <= budget_tokens or count == 1:
            break
        count = max(1, count * budget_tokens // firsts)
    # Each stretch's best first, then each one's second..., the stretches taken in an order whose every
    # prefix is spread over the document, so that a budget running out early does not cut off the end.
    ranked = [sorted(stretches[i], key=preference) for i in _spread(len(stretches))]
    depths = range(max(map(len, ranked), default=0))
    order = [stretch[depth] for depth in depths for stretch in ranked if depth < len(stretch)]
    ids = sorted(_pack(index, order, budget_tokens))
    place = {sid: n for n, sid in enumerate(order)}
    return _fitted(index, ids, order, budget_tokens, ranking, lambda ids: max(ids, key=place.__getitem__), top_up=True)


def _spread(count: int) -> list[int]:
    """0..count-1 in bit-reversed order (0, 4, 2, 6, 1, 5, 3, 7 for 8): every prefix is spread out."""
    bits = max(1, (count - 1).bit_length())
    reversed_ = (int(f"{i:0{bits}b}"[::-1], 2) for i in range(1 << bits))
    return [i for i in reversed_ if i < count]


def _fits(index: DocumentIndex, pool: list[int], budget: int) -> int:
    """How many sentences of `pool`'s mean cost `budget` holds (at least 1)."""
    total = sum(_pack_cost(index, sid) for sid in pool)
    return max(1, min(len(pool), budget * len(pool) // max(1, total)))


def _stretches(index: DocumentIndex, pool: list[int], count: int) -> list[list[int]]:
    """`pool` (in document order) cut into `count` runs of about equal tokens."""
    if not pool:
        return []
    costs = [_pack_cost(index, sid) for sid in pool]
    size = sum(costs) / count
    stretches: list[list[int]] = [[] for _ in range(count)]
    used = 0.0
    for sid, cost in zip(pool, costs, strict=True):
        stretches[min(count - 1, int((used + cost / 2) // size))].append(sid)
        used += cost
    return [stretch for stretch in stretches if stretch]


def sentence_cost(index: DocumentIndex, sid: int) -> int:
    """Tokens sentence `sid` adds to rendered evidence, an estimate from above: its own, its label
    ("[S12] " is 4-5 tokens) and one more for the separator and boundary merges."""
    return index.sent_tokens[sid] + len(str(sid)) // 3 + 5


def _paragraphs(index: DocumentIndex) -> dict[int, list[int]]:
    """Sentence ids of each paragraph, in document order."""
    return index.memo("paragraphs", lambda: _group_paragraphs(index))


def _group_paragraphs(index: DocumentIndex) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for sid, para in enumerate(index.sent_para):
        groups.setdefault(para, []).append(sid)
    return groups


def _with_paragraphs(
    index: DocumentIndex,
    ranked: list[int],
    scores: npt.NDArray[np.float64],
    weights: Weights,
    blocked: Collection[int],
) -> list[int]:
    """The order to pack: `ranked` less `blocked`, the rest of the paragraphs of its first
    `weights.paragraphs` sentences right after those.

    A clause is a paragraph, and the sentence that matches the question best is often not the
    one that answers it: the definition before it ("... (the "Maximum Capacity")."), the parties
    named just before "... collectively, the "Parties"". Only short paragraphs come whole, so
    the rest of the ranking still gets in. A best sentence shown elsewhere (`blocked`) still
    brings its paragraph: the prompt then has it whole.
    """
    best = ranked[: max(weights.paragraphs, 0)]
    taken = set(best) | set(blocked)
    paragraphs = _paragraphs(index)
    mates: list[int] = []
    for sid in best:
        # A paragraph's markup shows nothing (an inlined image's data): it is neither brought nor counted.
        paragraph = [
            other for other in paragraphs[index.sent_para[sid]] if not index.sent_flags[other] & SentenceFlag.MARKUP
        ]
        if sum(index.sent_tokens[other] for other in paragraph) > weights.paragraph_tokens:
            continue
        members = [other for other in paragraph if other not in taken]
        mates.extend(sorted(members, key=lambda other: -scores[other]))  # best first, should the budget run out
        taken.update(members)
    return [sid for sid in best if sid not in blocked] + mates + [sid for sid in ranked if sid not in taken]


COPY_WORDS = 6
"""A sentence of at least this many words whose text another sentence repeats is a copy: once one of them is chosen
(or shown elsewhere, `exclude`), the rest say nothing more. Shorter ones ("Yes.", "See below.") stand for what is
around them, and each stays where it ranks."""


def _first_copies(index: DocumentIndex) -> dict[int, int]:
    """For each sentence whose text (as shown, case and spacing aside) an earlier one of `COPY_WORDS` words or more
    has, that earlier sentence's id; the first of each text maps to itself. Empty when no text repeats."""

    def build() -> dict[int, int]:
        first: dict[str, int] = {}
        found: dict[int, int] = {}
        for sid, text in enumerate(shown_texts(index)):
            key = " ".join(text.lower().split())
            if key.count(" ") + 1 < COPY_WORDS:
                continue
            found[sid] = first.setdefault(key, sid)
        # Only the texts that repeat: the first of a repeated text is one whose id some other sentence maps to.
        repeated = {root for sid, root in found.items() if root != sid}
        return {sid: root for sid, root in found.items() if root in repeated}

    return index.memo("first_copies", build)


def _copies_later(
    index: DocumentIndex, order: list[int], shown: Collection[int], matched: npt.NDArray[np.bool_]
) -> list[int]:
    """`order` with each sentence that repeats one before it (or one `shown` elsewhere) moved after the last sentence
    that holds a word or a name of the query (`matched`), before those ranked by their place alone.

    A boilerplate sentence repeated under every clause or option ("This option is enabled by default.") matches a
    query wherever it stands: its copies took a budget's room from the next relevant sentences (12 of a 300-token
    budget's 15 were one sentence twelve times). The first copy in the order is the one its section's heading and
    neighbours rank best; the others come once the rest of what the query matches is in, and still before sentences
    it does not match at all (a table of contents' lines, which say less than a copy placed in its passage).
    A copy beside what the query asks about (`_anchored`) keeps its place: there it says something of its own ("the
    --level-9 flag ... This option is enabled by default", asked about --level-9 and --level-13: helper-221).
    """
    copies = _first_copies(index)
    if not copies:
        return order
    seen = {copies[sid] for sid in shown if sid in copies}
    front: list[int] = []
    later: list[int] = []
    for sid in order:
        root = copies.get(sid)
        if root is not None and root in seen and not _anchored(index, sid, copies, matched):
            later.append(sid)
            continue
        if root is not None:
            seen.add(root)
        front.append(sid)
    if not later:
        return order
    last = max((n for n, sid in enumerate(front) if matched[sid]), default=-1)
    return front[: last + 1] + later + front[last + 1 :]


def _anchored(index: DocumentIndex, sid: int, copies: dict[int, int], matched: npt.NDArray[np.bool_]) -> bool:
    """Whether copy `sid` stands beside what the query matches: the sentence before or after it in its paragraph, or
    its paragraph's heading, holds a word or a name of the query (`matched`) and is no copy itself."""
    para = index.sent_para[sid]
    near = [
        other for other in (sid - 1, sid + 1) if 0 <= other < index.sentence_count and index.sent_para[other] == para
    ]
    heading = index.sent_heading[sid]
    return any(other not in copies and matched[other] for other in [*near, *([heading] if heading >= 0 else [])])


def _pack_cost(index: DocumentIndex, sid: int) -> int:
    """Tokens sentence `sid` adds to rendered evidence, a close estimate: "[S12] " merges with the
    next word into 3 tokens (4 from S1000 on), plus one for a line break. Packing by the
    cautious `sentence_cost` left a token or two per sentence unspent, which went to neighbours
    rather than to the next relevant sentence; an overshoot is corrected by exact counting."""
    return index.sent_tokens[sid] + len(str(sid)) // 4 + 4


def _pack(index: DocumentIndex, order: list[int], budget: int, prefix: bool = False) -> set[int]:
    """Greedily take sentences in `order` while they fit; with `prefix`, stop at the first that does not."""
    kept: set[int] = set()
    used = 0
    for sid in order:
        cost = _pack_cost(index, sid)
        if used + cost <= budget:
            kept.add(sid)
            used += cost
        elif prefix:
            break
        if budget - used < 8:
            break
    return kept


def _add_neighbours(
    index: DocumentIndex,
    kept: set[int],
    scores: npt.NDArray[np.float64],
    budget: int,
    blocked: Collection[int],
    matched: npt.NDArray[np.bool_],
) -> set[int]:
    """Spend budget that relevant sentences left unused on the sentences around them (costed as packing costs them),
    but a copy of a sentence kept or `blocked` (`_first_copies`), which says nothing more where it stands
    (`_anchored`)."""
    used = sum(_pack_cost(index, sid) for sid in kept)
    copies = _first_copies(index)
    said = {copies[sid] for sid in (*kept, *blocked) if sid in copies} if copies else set()
    for distance in (1, 2):
        for sid in sorted(kept, key=lambda s: -scores[s]):
            for other in (sid - distance, sid + distance):
                if (
                    0 <= other < index.sentence_count
                    and other not in kept
                    and other not in blocked
                    and (copies.get(other, -1) not in said or _anchored(index, other, copies, matched))
                ):
                    cost = _pack_cost(index, other)
                    if used + cost <= budget:
                        kept.add(other)
                        used += cost
    return kept


def _top_up(
    index: DocumentIndex, ids: list[int], text: str, tokens: int, order: list[int], budget: int, attempts: int = 12
) -> tuple[list[int], str, int]:
    """Fill what the cautious estimate left over: try the next-best sentences, counting exactly."""
    kept = set(ids)
    for sid in order:
        if attempts <= 0 or budget - tokens < 8:
            break
        if sid in kept or _pack_cost(index, sid) > budget - tokens:
            continue
        attempts -= 1
        trial = sorted(kept | {sid})
        trial_text = _render(index, trial, {})
        trial_tokens = count_tokens(trial_text)
        if trial_tokens <= budget:
            kept.add(sid)
            ids, text, tokens = trial, trial_text, trial_tokens
    return ids, text, tokens


def _truncated(index: DocumentIndex, sid: int, budget: int) -> tuple[list[int], dict[int, int], str, int]:
    """The longest prefix of sentence `sid` (cut at a space) that fits, for when no sentence fits whole; cut between
    characters only where no prefix ending at a space fits ("Wick changed, lamp reli" was cut so, though "Wick
    changed," fits: helper-182)."""
    start, end = index.sent_starts[sid], index.sent_ends[sid]
    spaces = [m.start() for m in _SPACES.finditer(index.text, start, end)]
    best = _longest_fitting(index, sid, [*spaces, end], budget)
    if best[1].get(sid) == end:  # whole after all (the packing's estimate of its cost was over): not cut
        text = _render(index, [sid], {})
        tokens = count_tokens(text)
        if tokens <= budget:
            return [sid], {}, text, tokens
    if best[0] or len(spaces) >= 32:
        return best
    # Hardly any spaces, or none before the budget runs out (a run of symbols, CJK): cut between characters.
    cuts = sorted(set(spaces) | set(range(start + 1, end, max(1, (end - start) // 64))))
    return _longest_fitting(index, sid, [*cuts, end], budget)


def _longest_fitting(
    index: DocumentIndex, sid: int, cuts: list[int], budget: int
) -> tuple[list[int], dict[int, int], str, int]:
    """Sentence `sid` cut at the last of `cuts` (ascending) whose prefix fits `budget`, by bisection."""
    lo, hi = 0, len(cuts) - 1
    best: tuple[list[int], dict[int, int], str, int] = ([], {}, "", 0)
    while lo <= hi:
        mid = (lo + hi) // 2
        cut = {sid: cuts[mid]}
        text = _render(index, [sid], cut)
        tokens = count_tokens(text)
        if tokens <= budget:
            best = ([sid], cut, text, tokens)
            lo = mid + 1
        else:
            hi = mid - 1
    return best
