"""Indexing speed and memory for documents of about 10k, 100k and 1M words, first and cached run.

Usage:
    python benchmarks/index_speed.py [--data DIR] [--sizes 10000,100000,1000000] [--repeat 3] [--no-ner]

Documents are built by concatenating the real documents in the development data folder
(`../shared/data` beside the checkout, or --data) until the size is reached. Each size runs
in fresh subprocesses pinned to one CPU core, each with an empty PEARL_HOME: one that builds
the index (first run, which also writes the cache) and one that loads it from the cache
(cached run). Sizes up to 100k words run --repeat times and the fastest run is reported.

Reported: wall seconds, words per second of wall and of CPU time, and peak resident memory
of the process (ru_maxrss, which includes Python, spaCy and the model). The spaCy model and
tiktoken's tables are loaded before the clock starts: they cost ~0.7 s once per process,
whatever the document. Skips with a message, exit code 0, when the data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import default_data_dir, read_leval

_LOWER_WORD = re.compile(r"\b[a-z]+\b")
_FILES = ("leval_legal_contract_qa.jsonl", "leval_quality.jsonl", "leval_scientific_qa.jsonl")


def build_text(data: Path, words: int) -> str:
    """About `words` words of real text: whole paragraphs of the data files, cycled.

    Every pass after the first swaps each lower-case word for another (a fixed random
    permutation of the vocabulary per pass), so no sentence repeats: repeated sentences are
    page furniture to the indexer and would be skipped, which would flatter the speed. Names,
    numbers, punctuation and lengths stay, so the work per word is the same.
    """
    paragraphs: list[str] = []
    for name in _FILES:
        path = data / name
        if path.is_file():
            for document in read_leval(path):
                paragraphs.extend(p for p in document.text.split("\n\n") if p.strip())
    if not paragraphs:
        raise SystemExit(f"{data}: no L-Eval files ({', '.join(_FILES)})")
    vocabulary = sorted({w for p in paragraphs for w in _LOWER_WORD.findall(p)})
    out: list[str] = []
    count = 0
    i = 0
    swap: dict[str, str] = {}
    while count < words:
        cycle, position = divmod(i, len(paragraphs))
        if position == 0 and cycle > 0:
            shuffled = vocabulary[:]
            random.Random(cycle).shuffle(shuffled)
            swap = dict(zip(vocabulary, shuffled, strict=True))
        paragraph = paragraphs[position]
        if swap:
            paragraph = _LOWER_WORD.sub(lambda m, table=swap: table[m.group()], paragraph)
        out.append(paragraph)
        count += len(paragraph.split())
        i += 1
    return "\n\n".join(out)


def child(data: Path, words: int, mode: str, ner: bool) -> None:
    """Run in a subprocess: index (or load) one document and print a JSON line of measurements."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    from pearl.context import index_document
    from pearl.context._entities import load_ner
    from pearl.tokens import count_tokens

    text = build_text(data, words)
    count_tokens("warm up")  # tiktoken's tables load once per process, like the model
    if ner and mode == "first":
        load_ner()
    wall = time.perf_counter()
    cpu = time.process_time()
    index = index_document(text, cache=True, ner=ner)
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "words": index.words,
                "sentences": index.sentence_count,
                "entities": len(index.entities),
                "cached": index.from_cache,
                "seconds": wall,
                "cpu_seconds": cpu,
                "peak_mb": peak_mb,
                "ner": index.ner,
            }
        )
    )


def run_child(data: Path, words: int, mode: str, ner: bool, home: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--data", str(data), "--child", mode, "--words", str(words)]
    if not ner:
        command.append("--no-ner")
    env = {**os.environ, "PEARL_HOME": home}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child failed ({mode}, {words} words):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="folder with the L-Eval JSONL files")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated word counts")
    parser.add_argument("--no-ner", action="store_true", help="capitalisation rules instead of spaCy")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per size up to 100k words, best kept (default 3; 1M runs once)"
    )
    parser.add_argument("--child", choices=("first", "cached"), help=argparse.SUPPRESS)
    parser.add_argument("--words", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"skipped: no development data at {args.data} (pass --data DIR)")
        return 0
    if args.child:
        child(args.data, args.words, args.child, not args.no_ner)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"# one core, {'spaCy NER' if not args.no_ner else 'rules only'}; data {args.data}")
    for words in sizes:
        runs = []
        for _ in range(max(1, args.repeat) if words <= 100_000 else 1):
            with tempfile.TemporaryDirectory(prefix="pearl-speed-") as home:
                first = run_child(args.data, words, "first", not args.no_ner, home)
                cached = run_child(args.data, words, "cached", not args.no_ner, home)
            runs.append((first, cached))
        # Like timeit, the fastest run: the others measure what else the machine was doing.
        first = min((r[0] for r in runs), key=lambda r: float(r["seconds"]))
        cached = min((r[1] for r in runs), key=lambda r: float(r["seconds"]))
        n = int(first["words"])
        seconds = float(first["seconds"])
        cpu = float(first["cpu_seconds"])
        print(
            f"size={words // 1000}k words={n} sentences={first['sentences']} entities={first['entities']} "
            f"first={seconds:.2f}s ({n / seconds:,.0f} words/s wall, {n / cpu:,.0f} words/s cpu) "
            f"first_peak={float(first['peak_mb']):.0f}MB "
            f"cached={float(cached['seconds']):.3f}s cached_peak={float(cached['peak_mb']):.0f}MB "
            f"from_cache={cached['cached']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
