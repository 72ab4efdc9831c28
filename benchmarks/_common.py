"""Shared by the benchmark scripts: where the development data is, and how to read L-Eval files."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

from pearl.questions import Question, split_options

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def require(path: Path) -> Path:
    """`path`, or exit with a clear message when the development data is not beside the checkout."""
    if not path.exists():
        sys.exit(f"{path} not found: the benchmarks read ../shared/data beside the checkout (see its README)")
    return path


def leval_questions(path: Path, limit: int | None = None) -> Iterator[tuple[str, str, Question, list[str]]]:
    """(document id, document text, question, gold answers) for each question of an L-Eval JSONL file."""
    count = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if not line.strip():
                continue
            record = json.loads(line)
            for instruction, gold in zip(record["instructions"], record["outputs"], strict=False):
                if limit is not None and count >= limit:
                    return
                golds = gold if isinstance(gold, list) else [gold]
                yield f"{path.stem}:{number}", record["input"], split_options(instruction), [str(g) for g in golds]
                count += 1
