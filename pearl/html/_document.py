"""The document a page shows: found again from a trace, indexed, and packed as data for the page's script."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pearl.context import DocumentIndex, SentenceFlag, code_sentences, index_document
from pearl.documents import DEFAULT_MAX_BYTES, load_document, reads_as_code
from pearl.errors import DocumentError
from pearl.models import Document, Trace

__all__ = ["document_data", "index_for_page", "index_for_trace"]


def index_for_page(document: Document) -> DocumentIndex:
    """The sentences of `document` as a page shows them, cached by content hash.

    A page needs sentences and paragraphs, not entities, so the index is built without
    spaCy's NER (about ten times faster); sentence ids are the same as in the pipeline's
    index, whose sentence splitting does not depend on NER.
    """
    return index_document(document, ner=False)


def index_for_trace(trace: Trace) -> DocumentIndex:
    """Read again the files `trace` was about, check they hold the same text, and index them for a page.

    Raises:
        DocumentError: the trace names no files, a file is gone or unreadable, or the text
            changed since the trace was written (the message says which; render the page
            without the document view).
    """
    ref = trace.document
    if ref is None:
        raise DocumentError("the trace does not say which document it was about (written by an older pearl)")
    if not ref.sources:
        raise DocumentError(
            f"{ref.name}: the trace names no file to read the document from (it was given as text, or a file's "
            "name is not valid text), so it cannot be read again "
            "(for a question of `pearl eval`, open the page the run wrote beside the trace)"
        )
    largest = _check_sources(ref.sources, ref.chars)
    try:
        # A text file the run read under a raised --max-bytes is read again whatever its size: `_check_sources` has
        # held it to the trace's text (the default limit said to raise a --max-bytes trace html has not).
        document = load_document(ref.sources, max_bytes=max(DEFAULT_MAX_BYTES, largest))
    except DocumentError as exc:
        raise DocumentError(f"{exc}; the trace's document cannot be read again") from None
    if document.content_hash != ref.content_hash and document.code_spans:
        # A trace of a pearl that read source files as prose: its sentence numbers are that reading's.
        prose = [part.model_copy(update={"code": False}) for part in document.parts]
        if (as_prose := document.model_copy(update={"parts": prose})).content_hash == ref.content_hash:
            document = as_prose
    if document.content_hash != ref.content_hash:
        raise DocumentError(
            f"{ref.name}: the file(s) changed since the trace was written (content hash differs); "
            "sentence numbers would not match, so the document is not shown"
        )
    return index_for_page(document)


_BYTES_PER_CHAR = 12
"""The most bytes a character of a text file's text may take: four in UTF-8, nine for a bold underlined one of a
manual page ("_\\b字\\b字"); a PDF or a page may take many more, and `_check_sources` leaves those to the content
hash."""


def _check_sources(sources: list[str], chars: int) -> int:
    """Refuse to read what a trace names unless it is files, and text files no larger than its text can be: a trace
    is a file anyone may pass on, and one naming "/usr" had it walked for 29 s (a pipe named there would block for
    ever) before its content hash refused it. Returns the size of the largest text file."""
    total = largest = 0
    for source in sources:
        path = Path(source)
        if not path.exists():  # one gone is said so by `load_document`
            continue
        if not path.is_file():
            raise DocumentError(f"{source}: the trace names what is not a file; its document cannot be read again")
        if path.suffix.lower() in _TEXT_SUFFIXES or reads_as_code(path):
            size = path.stat().st_size
            total, largest = total + size, max(largest, size)
    if total > _BYTES_PER_CHAR * chars + 16 * len(sources):
        raise DocumentError("the file(s) are larger than the trace's document was; its document is not read again")
    return largest


_TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".rst", ".text")


def document_data(index: DocumentIndex, cited: Iterable[int], used: Iterable[int] = ()) -> dict[str, Any]:
    """What a page's script needs to draw the document: sentences, the space after each, paragraphs, files.

    Sentences travel as strings rather than character offsets: the script's strings count
    UTF-16 units, Python's count code points, and the two differ on any emoji.

    Args:
        index: the document's index.
        cited: sentence ids the answer cites (highlighted).
        used: sentence ids a step cited (marked more lightly).
    """
    starts, ends, text = index.sent_starts, index.sent_ends, index.text
    count = len(starts)
    sentences = [text[starts[i] : ends[i]] for i in range(count)]
    # What separates a sentence from the next one in the same paragraph (most often one space).
    gaps = [
        text[ends[i] : starts[i + 1]] if i + 1 < count and index.sent_para[i + 1] == index.sent_para[i] else ""
        for i in range(count)
    ]
    # The first sentence of each file, for a document read from several.
    firsts = [(bisect_left(starts, p.start), p.name) for p in index.parts] if len(index.parts) > 1 else []
    part_starts = [(first, name) for first, name in firsts if first < count]
    headings = [i for i, flags in enumerate(index.sent_flags) if flags & SentenceFlag.HEADING]
    valid = range(count)
    return {
        "name": index.name,
        "words": index.words,
        "sentences": sentences,
        "gaps": gaps,
        "paragraphs": index.sent_para,
        "parts": part_starts,
        "headings": headings,
        "code": code_sentences(index),  # drawn in a monospace font, as the prompt shows them
        "cited": sorted({i for i in cited if i in valid}),
        "used": sorted({i for i in used if i in valid}),
    }
