"""Demonstrations: question -> plan pairs shown to the planner, chosen per question by document kind and similarity."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from pearl._files import atomic_write_text, decode_json, read_text
from pearl._text import counted, folded, shorten, word_stems
from pearl.actions import ActionLibrary
from pearl.errors import ConfigError, PlanParseError
from pearl.planning._kinds import DocumentKind
from pearl.planning._parser import parse_plan

__all__ = [
    "Demo",
    "DemoStore",
    "builtin_demos",
    "check_demos",
    "demos_fingerprint",
    "load_demos",
    "runnable_demos",
    "save_demos",
    "select_demos",
]

log = logging.getLogger("pearl.planning")

_HEADER_KEY = "store"
_MAX_DEMO_STEPS = 50

# Words every reading question has: they would make every demonstration look alike.
_QUESTION_WORDS = frozenset("following story passage text article author".split())


class Demo(BaseModel):
    """One demonstration: a question and a plan that answers it."""

    question: str
    plan: str
    outcome: str | None = Field(default=None, description="how the plan did when it was recorded, e.g. 'correct'")
    library: str | None = Field(default=None, description="fingerprint of the action library it was written for")
    kind: DocumentKind | None = Field(
        default=None, description="the kind of document its question is about (see `document_kind`), if known"
    )


class DemoStore(BaseModel):
    """A versioned set of demonstrations.

    `library` names the action library the demos were written for: its fingerprint (or, for
    the bundled store, its name). `prompts` records the prompts (`name.vN#hash`) that made them.
    """

    name: str
    version: str
    library: str | None = None
    note: str = ""
    prompts: dict[str, str] = Field(default_factory=dict)
    demos: list[Demo]

    @property
    def fingerprint(self) -> str:
        """sha256 (hex) of its demonstrations, questions and plans (`demos_fingerprint`); name and note left out."""
        return demos_fingerprint(self.demos)


def demos_fingerprint(demos: Iterable[Demo]) -> str:
    """sha256 (hex) of what demonstrations show the planner: each one's question and plan, in order."""
    return hashlib.sha256("\n".join(f"{d.question}\0{d.plan}" for d in demos).encode("utf-8")).hexdigest()


@functools.cache
def _builtin_text() -> str:
    return resources.files("pearl.planning").joinpath("data/demos.v3.json").read_text(encoding="utf-8")


def builtin_demos() -> DemoStore:
    """The hand-written demonstrations shipped with pearl, for the default action library."""
    return DemoStore.model_validate_json(_builtin_text())


@functools.cache
def seed_demos() -> DemoStore:
    """Four hand-written demonstrations in the seven seed actions alone: what a library that runs none of the
    bundled ones (one `pearl mine` grew from the seed actions) plans and refines from, as the paper's refinement
    started from 4 seed examples. (It planned with none: "Example plans: (none)".)"""
    text = resources.files("pearl.planning").joinpath("data/seed_demos.v1.json").read_text(encoding="utf-8")
    return DemoStore.model_validate_json(text)


def load_demos(path: str | Path, library: ActionLibrary | None = None) -> DemoStore:
    """Load a demonstration store: a JSON `DemoStore`, or JSON Lines of `Demo` objects.

    JSON Lines may start with a header line `{"store": {"name", "version", "library", "note", "prompts"}}`
    (what `save_demos` writes).

    Args:
        library: when given, demos that use actions it lacks are dropped, with a warning
            (see `check_demos`).

    Raises:
        ConfigError: the file is missing or malformed (the message names the line).
    """
    file = Path(path)
    text = read_text(file, "demonstrations")
    try:
        whole: Any = decode_json(text, f"demonstrations {file}")
    except ConfigError:
        whole = None  # not one JSON document: JSON Lines, whose lines are checked one by one
    if isinstance(whole, dict) and "actions" in whole and "demos" not in whole:
        raise ConfigError(f"{file} is an action library, not demonstrations: give it as --actions (library=)")
    if isinstance(whole, dict) and "demos" in whole:
        try:
            store = DemoStore.model_validate(whole)
        except ValidationError as exc:
            raise ConfigError(f"{file}: not a demonstration store: {_problems(exc)}") from None
    else:
        store = _read_jsonl(file, text)
    if library is not None:
        store, warnings = check_demos(store, library)
        for warning in warnings:
            log.warning("%s: %s", file, warning)
    return store


def _read_jsonl(file: Path, text: str) -> DemoStore:
    header: dict[str, Any] = {}
    demos: list[Demo] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        data = decode_json(line, f"{file}:{number}")
        if isinstance(data, dict) and set(data) == {_HEADER_KEY} and header:
            # Stores joined with `cat` (--demos takes one file): the next store's header was "not a valid
            # demonstration ... field question: Field required" (helper-181). Its demonstrations join the first's.
            log.warning(
                "%s:%d: the header of another store; its demonstrations are read with the first's", file, number
            )
            continue
        is_header = isinstance(data, dict) and set(data) == {_HEADER_KEY} and not demos and not header
        if is_header and not isinstance(data[_HEADER_KEY], dict):
            found = type(data[_HEADER_KEY]).__name__
            raise ConfigError(f'{file}:{number}: not a valid header: "{_HEADER_KEY}" must be an object, not {found}')
        try:
            if is_header:
                header = DemoStore.model_validate({**data[_HEADER_KEY], "demos": []}).model_dump(exclude={"demos"})
                continue
            demos.append(Demo.model_validate(data))
        except ValidationError as exc:
            what, within = ("header", f"{_HEADER_KEY}.") if is_header else (f"demonstration {len(demos) + 1}", "")
            raise ConfigError(f"{file}:{number}: not a valid {what}: {_problems(exc, within)}") from None
    if not demos:
        raise ConfigError(f"{file}: holds no demonstrations")
    return DemoStore.model_validate({"name": file.stem, "version": "1", **header, "demos": demos})


_SHOWN_PROBLEMS = 3


def _problems(exc: ValidationError, within: str = "") -> str:
    """Where a file's entries fail validation and why, one clause each: `demonstration 2 (demos[1]) field plan:
    Field required`; pydantic's own message takes three lines per problem and names no entry.

    Args:
        within: the path of the validated object in the file (`store.`), put before each field.
    """
    found = []
    for err in exc.errors()[:_SHOWN_PROBLEMS]:
        loc = list(err.get("loc", ()))
        where = ""
        if len(loc) >= 2 and loc[0] == "demos" and isinstance(loc[1], int):
            where = f"demonstration {loc[1] + 1} (demos[{loc[1]}])"
            loc = loc[2:]
        if loc:
            field = within + ".".join(str(part) for part in loc)
            where = f"{where} field {field}" if where else f"field {field}"
        got = "" if err.get("type") == "missing" else f" (got {shorten(repr(err.get('input')), 40)})"
        problem = f"{err.get('msg', 'invalid')}{got}"
        found.append(f"{where}: {problem}" if where else problem)
    more = exc.error_count() - _SHOWN_PROBLEMS
    return "; ".join(found) + (f"; and {more} more" if more > 0 else "")


def save_demos(store: DemoStore, path: str | os.PathLike[str]) -> Path:
    """Write `store` atomically: JSON for a `.json` path, else JSON Lines (a header line, then one demo a line).

    Raises:
        ConfigError: the file cannot be written.
    """
    file = Path(path)
    if file.suffix == ".json":
        text = store.model_dump_json(indent=1) + "\n"
    else:
        header = {_HEADER_KEY: store.model_dump(mode="json", exclude={"demos"})}
        lines = [json.dumps(header, ensure_ascii=False)]
        lines += [json.dumps(d.model_dump(mode="json"), ensure_ascii=False) for d in store.demos]
        text = "\n".join(lines) + "\n"
    try:
        atomic_write_text(file, text)
    except OSError as exc:
        raise ConfigError(f"cannot write demonstrations to {file}: {exc.strerror or exc}") from None
    return file


def check_demos(store: DemoStore, library: ActionLibrary) -> tuple[DemoStore, list[str]]:
    """`store` without the demos whose plans `library` cannot run, and warnings saying what happened.

    A store made for another library (its `library` is neither this library's fingerprint
    nor its name) is worth a warning even when every demo survives: its plans were chosen
    with other actions in view.
    """
    warnings: list[str] = []
    if store.library is not None and store.library not in (library.fingerprint, library.name):
        # A mined library's version is its fingerprint as mined: one edited since keeps it ("made for aa241c231619,
        # not mined vaa241c231619" read as a contradiction: helper-176).
        edited = len(library.version) >= 8 and store.library.startswith(library.version)
        warnings.append(
            f"demonstrations {store.name} v{store.version} were made for library {library.name} "
            f"v{library.version} as it was mined, and it has been changed since (its fingerprint is now "
            f"{library.fingerprint[:12]})"
            if edited
            else f"demonstrations {store.name} v{store.version} were made for library {store.library[:12]}, "
            f"not {library.name} v{library.version} ({library.fingerprint[:12]})"
        )
    kept: list[Demo] = []
    dropped: list[str] = []
    for demo in store.demos:
        try:
            parse_plan(demo.plan, library, max_steps=_MAX_DEMO_STEPS)
        except PlanParseError as exc:
            dropped.append(f"{demo.question[:60]!r} ({exc})")
            continue
        kept.append(demo)
    if dropped:
        warnings.append(
            f"dropped {len(dropped)} of {counted(len(store.demos), 'demonstration')} whose plans library "
            f"{library.name} cannot run, e.g. {dropped[0]}"
        )
    return store.model_copy(update={"demos": kept}), warnings


def runnable_demos(
    store: DemoStore, library: ActionLibrary, max_steps: int | None = None
) -> tuple[DemoStore, str | None]:
    """`store` without the demos whose plans `library` cannot run, or that have more than `max_steps` steps, and,
    when it dropped any, what to tell the user.

    The planner shows only demonstrations it can run (a plan calling an action the library lacks would
    teach a wrong action; one longer than plans may be, a plan the checker refuses), so a library made by
    `pearl mine` from the paper's seed actions, which lack those the bundled demonstrations call, plans with none
    of them unless told otherwise.
    """
    runnable, _ = check_demos(store, library)
    bundled = store.fingerprint == _bundled_fingerprint()
    # A library that runs none of the bundled demonstrations is shown the seed ones it runs (`seed_demos`).
    seeds = check_demos(seed_demos(), library)[0].demos if bundled and not runnable.demos else []
    shown = runnable.model_copy(update={"demos": seeds}) if seeds else runnable
    kept, too_long = shown, None
    if max_steps is not None:
        short = [d for d in shown.demos if _steps(d, library) <= max_steps]
        if len(short) < len(shown.demos):
            kept = shown.model_copy(update={"demos": short})
            # Said of the user's own demonstrations only: the bundled ones longer than a short max_steps asked for are
            # simply not the examples it wants.
            if not bundled:
                n = len(runnable.demos) - len(short)
                have, are, them = ("has", "is", "it") if n == 1 else ("have", "are", "them")
                too_long = (
                    f"{n} of the demonstrations of {store.name!r} {have} more steps than max_steps ({max_steps}) "
                    f"allows and {are} not shown (a larger max_steps, PEARL_MAX_STEPS, shows {them})"
                )
    dropped = len(store.demos) - len(runnable.demos)
    if not dropped:
        return kept, too_long
    lacking = sorted({name for d in store.demos if d not in runnable.demos for name in ACTION_CALL.findall(d.plan)})
    lacking = [name for name in lacking if name not in library]
    which = f"the {len(store.demos)} bundled demonstrations" if bundled else f"the {len(store.demos)} of {store.name!r}"
    calls = f" (they call {', '.join(lacking[:4])}{', ...' if len(lacking) > 4 else ''})" if lacking else ""
    if seeds and kept.demos:  # as many as max_steps lets through
        instead = f"the planner is shown the {counted(len(kept.demos), 'seed demonstration')} it runs instead"
    elif runnable.demos:
        also = "" if bundled else ", and the bundled ones it runs"
        instead = f"the planner chooses among the {counted(len(runnable.demos), 'other')}{also}"
    else:  # (seed ones, where max_steps lets none through, are none)
        instead = "plans are written with no example" if bundled else "the planner is shown the bundled ones it runs"
    said = (
        f"action library {library.name!r} cannot run {dropped} of {which}{calls}: {instead}; "
        "`pearl refine --train FILE --actions LIBRARY` makes demonstrations for it"
    )
    return kept, said if too_long is None else f"{said}; {too_long}"


def _steps(demo: Demo, library: ActionLibrary) -> int:
    """How many steps the plan of `demo`, one `check_demos` kept, has."""
    return len(parse_plan(demo.plan, library, max_steps=_MAX_DEMO_STEPS).steps)


ACTION_CALL = re.compile(r"\b([A-Z][A-Z0-9_]+)\(")
"""An action called in a plan's text: its name."""


@functools.cache
def _bundled_fingerprint() -> str:
    return builtin_demos().fingerprint


def _terms(text: str) -> Counter[str]:
    return word_stems(text, _QUESTION_WORDS)


def select_demos(
    store: DemoStore,
    question: str,
    k: int = 4,
    *,
    fallback: DemoStore | Literal["builtin"] | None = "builtin",
    asked: str | None = None,
    kind: DocumentKind | None = None,
) -> list[Demo]:
    """The `k` demonstrations most like `question`, best first: of the document's `kind` first, then by similarity.

    With `kind` (the document's, from `document_kind`), demonstrations of that kind come first, then those of no
    kind (a store refined before `refine_demos` labelled what it keeps), then the others: a contract question worded
    unlike every contract demonstration ("... related to Volume Restriction ...") would otherwise be shown four story
    plans. Within each group, the
    order is the tf-idf cosine between `question` and the demonstration's question with the quoted arguments of
    its plan, which say what it asks in other words ("termination of the agreement"), then the store's order.

    When `store` has fewer than `k`, the rest come from `fallback` (by default the bundled
    demonstrations), chosen alike, so a small refined store still gets a full set: its own come first, whatever
    their kind. With `asked` (the text of the question being planned for), a demonstration of that very question
    is left out: a store refined on the questions being evaluated would show the model the plan
    already proven to reach the answer, which the paper's held-out questions never saw.
    """
    if k <= 0:
        return []
    same = _same_question(asked) if asked is not None else None
    store = _distinct(_without(store, same))
    chosen = _rank_demos(store, question, k, kind)
    if len(chosen) < k and fallback is not None:
        extra = _without(builtin_demos() if fallback == "builtin" else fallback, same)
        have = {(d.question, d.plan) for d in store.demos}
        spare = extra.model_copy(update={"demos": [d for d in extra.demos if (d.question, d.plan) not in have]})
        chosen += _rank_demos(spare, question, k - len(chosen), kind)
    return chosen


def _same_question(text: str) -> str:
    """`text` as a key: the question asked with other quote marks ("Tr’en"), case, spacing or its closing "?" left
    off is the same question, whose own demonstration would show the model its answer."""
    return folded(text).rstrip(" ?.!")  # "2+2" and "2-2" stay two questions


def _without(store: DemoStore, same: str | None) -> DemoStore:
    """`store` less its demonstrations of the question `same` (`_same_question`), if any."""
    if same is None or not any(_same_question(d.question) == same for d in store.demos):
        return store
    return store.model_copy(update={"demos": [d for d in store.demos if _same_question(d.question) != same]})


def _distinct(store: DemoStore) -> DemoStore:
    """`store` with each demonstration once: a question asked of several documents (a contract's "Expiration Date")
    is refined into one demonstration a document, the same plan each time, and filled three of four slots
    (helper-181). The first of each is kept."""
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for demo in store.demos:
        key = (_same_question(demo.question), " ".join(demo.plan.split()), demo.kind or "")  # a legal copy stays
        if key not in seen:
            seen.add(key)
            kept.append(demo)
    return store if len(kept) == len(store.demos) else store.model_copy(update={"demos": kept})


_QUOTED = re.compile(r'"([^"]*)"')
_PLAN_WEIGHT = 0.5
"""What a word of a demonstration's plan arguments counts for beside one of its question: they paraphrase it."""


def _demo_terms(demo: Demo) -> dict[str, float]:
    terms: dict[str, float] = dict(_terms(demo.question))
    for word, count in _terms(" ".join(_QUOTED.findall(demo.plan))).items():
        terms[word] = terms.get(word, 0.0) + _PLAN_WEIGHT * count
    return terms


def _rank_demos(store: DemoStore, question: str, k: int, kind: DocumentKind | None = None) -> list[Demo]:
    """The `k` best of `store` for `question` (see `select_demos`)."""
    if k <= 0 or not store.demos:
        return []
    docs = [_demo_terms(d) for d in store.demos]
    df: Counter[str] = Counter(t for d in docs for t in d)
    n = len(docs)

    def vector(terms: Mapping[str, float]) -> dict[str, float]:
        return {t: c * math.log(1 + n / (1 + df.get(t, 0))) for t, c in terms.items()}

    def group(demo: Demo) -> int:
        if kind is None or demo.kind == kind:
            return 0
        return 1 if demo.kind is None else 2

    query = vector(_terms(question))
    qnorm = math.sqrt(sum(v * v for v in query.values())) or 1.0
    scored = []
    for index, (demo, terms) in enumerate(zip(store.demos, docs, strict=True)):
        vec = vector(terms)
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        score = sum(query.get(t, 0.0) * v for t, v in vec.items()) / (qnorm * norm)
        scored.append((group(demo), -score, index))
    return [store.demos[i] for _, _, i in sorted(scored)[:k]]
