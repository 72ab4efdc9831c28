"""Helpers shared by the benchmark scripts: where the development data is, and reading it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["LEvalDocument", "default_data_dir", "dense_from_environment", "read_leval"]


def default_data_dir() -> Path:
    """`../shared/data` beside the checkout (absent in a fresh clone)."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def dense_from_environment() -> bool | Literal["auto"]:
    """`Settings.dense` for a script that makes its settings explicitly (no user's settings file read): `PEARL_DENSE`
    if set (auto, 1 or 0), else auto, the default."""
    from pearl import Settings

    return Settings(dense=os.environ.get("PEARL_DENSE", "").strip() or "auto").dense


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
