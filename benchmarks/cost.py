"""Prompt tokens and LLM calls per question: direct vs pearl-fulldoc (the paper's executor) vs pearl.

Two parts, both in one run:
1. A counting fake LLM (`pearl.eval.counting_fake_llm`) that answers instantly with valid plans
   and short outputs, on every question of the shared QuALITY and contract files. It counts real
   (cl100k) prompt tokens, so the figures are what a real model would be sent; only replies are fake.
2. The embedded model (SmolLM2-135M) on a few questions (`--embedded N`, 0 to skip), where
   plans and replies are its own.

Usage: python benchmarks/cost.py [--embedded 3] [--limit N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

from _common import SHARED_DATA, questions, require
from _shared import token_margin_for

from pearl import Pearl, load_settings
from pearl.eval import counting_fake_llm
from pearl.llm import LLM, EmbeddedLLM

METHODS = ("direct", "pearl-fulldoc", "pearl")
FILES = ("leval_quality.jsonl", "leval_legal_contract_qa.jsonl")


def measure(llm: LLM, path: Path, limit: int | None) -> dict[str, dict[str, float]]:
    pearl = Pearl(llm=llm, settings=load_settings(cache=False, token_margin=token_margin_for(llm)))
    totals: dict[str, list[tuple[int, int, float, bool]]] = defaultdict(list)
    for document, question in questions(path, limit):
        pearl.index(document)
        for method in METHODS:
            started = time.perf_counter()
            answer = pearl.ask(document, question, method=method)
            wall = time.perf_counter() - started
            totals[method].append((answer.usage.prompt_tokens, answer.usage.calls, wall, answer.fallback))
    return {
        method: {
            "questions": len(rows),
            "prompt_tokens": statistics.mean(r[0] for r in rows),
            "calls": statistics.mean(r[1] for r in rows),
            "seconds": statistics.mean(r[2] for r in rows),
            "fallback": sum(r[3] for r in rows) / len(rows),
        }
        for method, rows in totals.items()
    }


def report(label: str, figures: dict[str, dict[str, float]]) -> None:
    base = figures["pearl-fulldoc"]["prompt_tokens"]
    for method in METHODS:
        f = figures[method]
        print(
            f"{label:38} {method:14} questions={f['questions']:.0f} prompt_tokens={f['prompt_tokens']:8.0f} "
            f"calls={f['calls']:.2f} vs_fulldoc={f['prompt_tokens'] / base:.2f}x "
            f"seconds={f['seconds']:.2f} fallback={f['fallback']:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--limit", type=int, default=None, help="questions per file for the fake LLM (default all)")
    parser.add_argument("--embedded", type=int, default=3, help="questions per file for the embedded model (0: skip)")
    args = parser.parse_args()
    for name in FILES:
        path = require(args.data / name)
        report(f"{name} [counting fake LLM]", measure(counting_fake_llm(), path, args.limit))
    if args.embedded:
        try:
            embedded = EmbeddedLLM()
            embedded.check()
        except Exception as exc:  # noqa: BLE001 - any failure to load means: skip this part, say why
            print(f"embedded model skipped: {exc}")
            return
        for name in FILES:
            path = args.data / name
            report(f"{name} [embedded SmolLM2, {args.embedded} q]", measure(embedded, path, args.embedded))


if __name__ == "__main__":
    main()
