"""Demonstrations: question -> plan pairs shown to the planner, chosen per question by similarity."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from pearl.errors import ConfigError

__all__ = ["Demo", "DemoStore", "builtin_demos", "load_demos", "select_demos"]

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been do does did what which who whom "
    "whose why how when where that this these those it its as not following story passage text article author".split()
)


class Demo(BaseModel):
    """One demonstration: a question and a plan that answers it."""

    question: str
    plan: str
    outcome: str | None = Field(default=None, description="how the plan did when it was recorded, e.g. 'correct'")
    library: str | None = Field(default=None, description="fingerprint of the action library it was written for")


class DemoStore(BaseModel):
    """A versioned set of demonstrations."""

    name: str
    version: str
    library: str | None = None
    note: str = ""
    demos: list[Demo]


def builtin_demos() -> DemoStore:
    """The hand-written demonstrations shipped with pearl, for the default action library."""
    raw = resources.files("pearl.planning").joinpath("data/demos.v1.json").read_text(encoding="utf-8")
    return DemoStore.model_validate_json(raw)


def load_demos(path: str | Path) -> DemoStore:
    """Load a demonstration store: a JSON `DemoStore`, or JSON Lines of `Demo` objects.

    Raises:
        ConfigError: the file is missing or malformed (the message names the line).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read demonstrations ({exc.strerror})") from exc
    try:
        return DemoStore.model_validate_json(text)
    except ValidationError:
        pass
    demos = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            demos.append(Demo.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ConfigError(f"{file}:{number}: not a demonstration ({str(exc).splitlines()[0]})") from exc
    if not demos:
        raise ConfigError(f"{file}: holds no demonstrations")
    return DemoStore(name=file.stem, version="1", demos=demos)


def _terms(text: str) -> Counter[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    # crude stemming: "leaves"/"leaving"/"left" should still meet "leave" sometimes
    return Counter(w[:5] for w in words)


def select_demos(store: DemoStore, question: str, k: int = 4) -> list[Demo]:
    """The `k` demonstrations whose questions are most like `question` (tf-idf cosine), best first."""
    if k <= 0 or not store.demos:
        return []
    docs = [_terms(d.question) for d in store.demos]
    df: Counter[str] = Counter(t for d in docs for t in d)
    n = len(docs)

    def vector(terms: Counter[str]) -> dict[str, float]:
        return {t: c * math.log(1 + n / (1 + df.get(t, 0))) for t, c in terms.items()}

    query = vector(_terms(question))
    qnorm = math.sqrt(sum(v * v for v in query.values())) or 1.0
    scored = []
    for index, terms in enumerate(docs):
        vec = vector(terms)
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        score = sum(query.get(t, 0.0) * v for t, v in vec.items()) / (qnorm * norm)
        scored.append((-score, index))
    return [store.demos[i] for _, i in sorted(scored)[:k]]
