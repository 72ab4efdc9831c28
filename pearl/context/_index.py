"""Build (or load from cache) the index of a document."""

from __future__ import annotations

import bisect
import re
import time

from pearl._text import visible
from pearl.context._cache import PIPELINE_VERSION, load_cached, save_cached
from pearl.context._entities import DEFAULT_MODEL, extract_entities, load_ner
from pearl.context._layout import analyse_layout
from pearl.context._markup import MarkupView, blanked, keep_shown
from pearl.context._models import DocumentIndex, SentenceFlag
from pearl.context._sentences import Segmentation, segment
from pearl.documents import DocumentSource, as_document
from pearl.errors import ContextError
from pearl.models import Document
from pearl.protocols import Progress
from pearl.tokens import count_tokens

__all__ = ["MAX_UNIT_TOKENS", "build_index", "count_words", "index_document", "units_of"]

MAX_UNIT_TOKENS = 200
"""No sentence unit is longer: dense text (pre-tokenized words, markup, numbers) would otherwise make
400-token units of 900 characters. Smaller caps cost clauses: at 120 tokens, 4 of 38 contract clauses
no longer survive compression to 1,500 tokens whole (`benchmarks/context_recall.py --unit-cap 120`)."""


# Han characters and kana, a script written without spaces; CJK punctuation, full-width included, is no word.
_IDEOGRAPHS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_MARKS = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_IDEOGRAPH = re.compile(f"[{_IDEOGRAPHS}]")
_WORD_RUN = re.compile(f"[{_IDEOGRAPHS}]|[^\\s{_CJK_MARKS}{_IDEOGRAPHS}]+")


def count_words(text: str) -> int:
    """Words of `text`: runs between spaces, and each Chinese or Japanese character, as word counts of
    those languages go (split at spaces, a page of Chinese would be one word)."""
    if _IDEOGRAPH.search(text) is None:
        return len(text.split())
    return len(_WORD_RUN.findall(text))


def index_document(
    source: DocumentSource, *, cache: bool = True, ner: bool = True, progress: Progress | None = None
) -> DocumentIndex:
    """Index a document: sentences, paragraphs, entities, all with offsets; cached on disk.

    Args:
        source: a path (str or Path), a list of paths, a `pearl.models.Document`, or the
            text itself: a str that names no existing file or folder and does not read as a path
            (`pearl.documents.as_document`; "notes/" or "contract.pdf" is refused as a path missing).
            Text from elsewhere (a user's, a page's) is best passed as `Document.from_text`, which
            never reads a file.
        cache: read and write the on-disk cache (keyed by content hash, NER mode and version).
        ner: use spaCy's NER; with False, or if the model is missing, capitalisation rules.
        progress: told `(characters read, characters in all, status)` while an index is built;
            not called when the index comes from the cache.

    Raises:
        ContextError: the document has no text.
        DocumentError: a path cannot be read.
    """
    document = as_document(source)
    if not visible(document.text):
        raise ContextError(f"{document.name}: the document has no text to index")
    mode = "ner" if ner else "rules"
    content_hash = document.content_hash
    if cache:
        cached = load_cached(content_hash, mode)
        # An index built by the fallback rules is replaced once the spaCy model is available.
        if cached is not None and not (ner and cached.ner == "rules" and load_ner() is not None):
            cached.name = document.name
            cached.parts = list(document.parts)
            return cached
    index = build_index(document, ner=ner, progress=progress)
    if cache:
        save_cached(index, mode)
    return index


def units_of(text: str, view: MarkupView, read: str | None = None) -> Segmentation:
    """`text` cut into sentence units as the index cuts it, read through `view` (quote marks and rules
    down the side read as spaces, offsets the text's; units capped at `MAX_UNIT_TOKENS` as shown).
    `read`: `view.read(text)`, when the caller has it already."""
    return segment(
        view.read(text) if read is None else read,
        max_tokens=MAX_UNIT_TOKENS,
        count=count_tokens,
        markup=view.markup,
        code=view.code,
        show=lambda start, end: view.shown(text, start, end),
        breaks=view.breaks,
    )


def build_index(document: Document, *, ner: bool = True, progress: Progress | None = None) -> DocumentIndex:
    """Index `document` from scratch (no cache); `progress` as in `index_document`."""
    started = time.perf_counter()
    text = document.text
    if progress is not None:
        progress(0, len(text), "sentences")
    parts = [(part.start, part.end, part.code, part.plain) for part in document.parts]
    view = MarkupView.of(text, document.code_spans, parts)
    read = view.read(text)
    segmentation = units_of(text, view, read)
    sentences = segmentation.sentences
    # Markup alone ("<div><span></span></div>") shows no text: nothing a call could be shown, or cite.
    if not any(visible(view.shown(text, start, end)) for start, end in sentences):
        raise ContextError(f"{document.name}: the document has no text to index")
    layout = analyse_layout(read, sentences, segmentation.sentence_paragraph, segmentation.continued, view)
    if progress is not None and ner:
        progress(0, len(text), "loading the entity model")  # spaCy takes seconds to load, once per process
    nlp = load_ner(DEFAULT_MODEL) if ner else None
    skip = {i for i, flags in enumerate(layout.flags) if flags & SentenceFlag.NOT_CONTENT}
    # Names in code are identifiers, which a model trained on prose labels at random ("False" a PERSON): in a
    # source file, and in a code block of any other (a Markdown fence, a page's `<pre>`, a literal block).
    code = sorted({*view.source, *view.code})
    code_starts = [a for a, _ in code]
    for i, (start, _) in enumerate(sentences):
        block = bisect.bisect_right(code_starts, start) - 1
        if block >= 0 and start < code[block][1]:
            skip.add(i)
    # A unit partly inside a script or a comment ("<!-- Highlight.js Stylesheets --> <link ...>") names
    # nothing there: that text is blanked, offsets kept, before names are looked for.
    unhidden = blanked(read, layout.view.hidden)
    entities = extract_entities(unhidden, sentences, nlp, skip, progress)
    if progress is not None:
        progress(len(text), len(text), "done")
    index = DocumentIndex(
        version=PIPELINE_VERSION,
        content_hash=document.content_hash,
        name=document.name,
        parts=list(document.parts),
        text=text,
        ner=f"spacy:{DEFAULT_MODEL}" if nlp is not None else "rules",
        words=count_words(text),
        tokens=count_tokens(layout.view.document(text)),  # as shown: a page without its markup
        para_starts=[s for s, _ in segmentation.paragraphs],
        para_ends=[e for _, e in segmentation.paragraphs],
        sent_starts=[s for s, _ in sentences],
        sent_ends=[e for _, e in sentences],
        # Tokens as rendered for a prompt (whitespace runs collapsed, markup's tags out), which is what budgets count.
        sent_tokens=[count_tokens(unit) for unit in layout.shown],
        sent_para=segmentation.sentence_paragraph,
        sent_heading=layout.heading,
        sent_section=layout.section,
        sent_flags=layout.flags,
        entities=entities.entities,
        mention_entity=entities.mention_entity,
        mention_sentence=entities.mention_sentence,
        mention_start=entities.mention_start,
        mention_end=entities.mention_end,
        build_seconds=round(time.perf_counter() - started, 4),
    )
    keep_shown(index, layout.view, layout.shown)  # rendering and BM25 need them again: not worked out twice
    return index
