"""Shared by the benchmark scripts: the development data, read through pearl's own loaders."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from _shared import default_data_dir

from pearl.eval import load_dataset
from pearl.models import Document
from pearl.questions import Question

SHARED_DATA = default_data_dir()


def require(path: Path) -> Path:
    """`path`, or exit with a clear message when the development data is not beside the checkout."""
    if not path.exists():
        sys.exit(f"{path} not found: the benchmarks read ../shared/data beside the checkout (see its README)")
    return path


def questions(path: Path, limit: int | None = None) -> Iterator[tuple[Document, Question]]:
    """(document, question) for the first `limit` questions of an evaluation file, documents shared."""
    dataset = load_dataset(path)
    documents = {d.id: Document.from_text(d.text, name=d.title or d.id) for d in dataset.documents}
    for item in dataset.questions[:limit]:
        yield documents[item.document_id], Question(text=item.question, options=item.options)
