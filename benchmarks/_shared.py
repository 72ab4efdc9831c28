"""Helpers shared by the benchmark scripts: where the development data is, and reading it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["LEvalDocument", "default_data_dir", "dense_from_environment", "read_leval", "token_margin_for"]


def default_data_dir() -> Path:
    """`../shared/data` beside the checkout (absent in a fresh clone)."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def dense_from_environment() -> bool | Literal["auto"]:
    """`Settings.dense` for a script that makes its settings explicitly (no user's settings file read): `PEARL_DENSE`
    if set (auto, 1 or 0), else auto, the default."""
    from pearl import Settings

    return Settings(dense=os.environ.get("PEARL_DENSE", "").strip() or "auto").dense


def token_margin_for(llm: object) -> float:
    """`Settings.token_margin` for a script's model: 0 for pearl's fakes, which count tokens with cl100k as pearl does
    (and as GPT-4, the paper's model, does), so that `direct` and the paper's executor are shown as much of a
    document as the paper's runs were; the default for a real model (the embedded SmolLM2 counts 4-6% more)."""
    from pearl.config import DEFAULT_TOKEN_MARGIN
    from pearl.llm import FakeLLM

    return 0.0 if isinstance(llm, FakeLLM) else DEFAULT_TOKEN_MARGIN


@dataclass
class LEvalDocument:
    """One line of an L-Eval JSONL file: a document and its questions with gold answers."""

    text: str
    questions: list[str]
    answers: list[str | list[str]]


def read_leval(path: Path, limit: int | None = None) -> list[LEvalDocument]:
    """Documents of an L-Eval file (`input`, `instructions`, `outputs`), the first `limit` only if given."""
    documents: list[LEvalDocument] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if limit is not None and len(documents) >= limit:
                break
            try:
                row = json.loads(line)
                documents.append(LEvalDocument(row["input"], list(row["instructions"]), list(row["outputs"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise SystemExit(f"{path}:{number}: not an L-Eval line ({exc.__class__.__name__}: {exc})") from exc
    return documents
