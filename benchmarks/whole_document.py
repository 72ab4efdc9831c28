"""What a plan step that reads the whole document (SUMMARIZE(CTX), FIND_MORAL(CTX)) is shown.

Usage:
    python benchmarks/whole_document.py [FILE.jsonl ...] [--action SUMMARIZE] [--window 8192]

Such a step has no argument to search for: it is asked about the document as a whole, as on
QuALITY's "what best summarizes this story?" or "why might one not want to live in this
universe?". Every question of each file (default: the shared QuALITY file) is asked through
pearl with a scripted plan `s1 = ACTION(CTX)` then `s2 = SELECT(s1, ...)` (multiple choice) or
`s2 = ANSWER_FROM(s1, ...)` (free text), and the step's prompt is recorded. One line per way of
choosing that step's own evidence, all in the same run, with the same budget:

    opening   the document's first sentences (what a window too small for the document shows);
    search    the sentences that best match the question and the step's explanation among those no
              call shows yet (`compress`, as a step with arguments is served; pearl did this for
              every step before `skim`);
    skim      `pearl.context.skim`: the document cut into stretches of equal length, each giving
              its sentence most relevant to the question (pearl's default for such a step).

Every way also shows the question's shared evidence, as every call does. Per question, then averaged,
over the sentences in the step prompt's excerpts (not the instruction's example label):

    tenths    share of the document's tenths (by tokens) from which the step sees a sentence;
    gap       the longest stretch of the document the step sees nothing of, as a share of it;
    end       1 if the step sees a sentence of the document's last tenth (how a story ends);
    gold      share of the correct option's content words (free text: the gold answer's) found in the
              document text the step is shown;
    margin    gold minus the best wrong option's share (words every option shares cancel out; n/a
              for free text);
    tokens    the step prompt's tokens (cl100k).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import default_data_dir, dense_from_environment, read_leval, token_margin_for

import pearl.execution._contexts as contexts
from pearl import Document, FakeLLM, Pearl, Settings
from pearl.context import CompressedContext, DocumentIndex, compress, index_document, skim
from pearl.context._terms import stopwords
from pearl.llm import CompletionRequest
from pearl.questions import Question, split_options
from pearl.tokens import count_tokens

_LABEL = re.compile(r"\[S(\d+)\]")
_WORD = re.compile(r"\w+")
_OPTION = re.compile(r"^\s*\(?[A-D]\)\s*")
_EXCERPTS = re.compile(r"<excerpts[^>]*>(.*?)</excerpts>", re.S)

Chooser = Callable[..., CompressedContext]


def _opening(index: DocumentIndex, query: str, budget: int, *, exclude: Collection[int] = ()) -> CompressedContext:
    return compress(index, "", budget, exclude=exclude)  # nothing matches: the document's first sentences


def _search(index: DocumentIndex, query: str, budget: int, *, exclude: Collection[int] = ()) -> CompressedContext:
    # As before `skim`: beyond every sentence a call shows, the answer call's included (`exclude` spares those).
    return compress(index, query, budget, exclude=_serving[-1]._claimed)


_serving: list[contexts.CompressedStepContext] = []
_choose = contexts.CompressedStepContext._choose


def _choosing(self: contexts.CompressedStepContext, *args: Any, **kwargs: Any) -> CompressedContext:
    """`_choose`, with the step context it serves where `_search` can see it."""
    _serving.append(self)
    try:
        return _choose(self, *args, **kwargs)
    finally:
        _serving.pop()


WAYS: dict[str, Chooser] = {"opening": _opening, "search": _search, "skim": skim}


@dataclass
class Row:
    tenths: float
    gap: float
    end: float
    gold: float
    margin: float | None
    tokens: int


def _content(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in stopwords() and len(w) > 2}


def _recall(option: str, prompt: set[str]) -> float:
    words = _content(option)
    return len(words & prompt) / len(words) if words else 0.0


def measure(index: DocumentIndex, prompt: str, question: Question, gold: int | str) -> Row:
    """Spread and gold-word figures of one step prompt; `gold` is the correct option's index, or a free-text answer."""
    excerpts = " ".join(_EXCERPTS.findall(prompt))  # the document's text only: not the options, nor "like [S12]"
    shown = sorted({int(m) for m in _LABEL.findall(excerpts) if int(m) < index.sentence_count})
    offsets = [0]
    for tokens in index.sent_tokens:
        offsets.append(offsets[-1] + tokens)
    total = max(1, offsets[-1])
    starts = [offsets[sid] for sid in shown]
    ends = [offsets[sid + 1] for sid in shown]
    tenths = {min(9, start * 10 // total) for start in starts}
    gaps = [b - a for a, b in zip([0, *ends], [*starts, total], strict=True)]
    words = _content(excerpts)
    if isinstance(gold, str):  # a free-text answer: no wrong options to compare with
        correct, margin = _recall(gold, words), None
    else:
        recalls = [_recall(option, words) for option in question.options]
        correct = recalls[gold]
        margin = correct - max((r for i, r in enumerate(recalls) if i != gold), default=0.0)
    return Row(
        tenths=len(tenths) / 10,
        gap=max(gaps) / total if gaps else 1.0,
        end=float(9 in tenths),
        gold=correct,
        margin=margin,
        tokens=count_tokens(prompt),
    )


async def run(path: Path, action: str, window: int) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = {way: [] for way in WAYS}
    for number, item in enumerate(read_leval(path)):
        index = index_document(item.text)
        document = Document.from_text(item.text, name=f"{path.stem}-{number}")
        for text, answer in zip(item.questions, item.answers, strict=False):
            question = split_options(text)
            answer_text = " ".join(answer) if isinstance(answer, list) else str(answer)
            label = _OPTION.match(answer_text + " ")
            letter = (label.group(0).strip(" ()") if label else "")[:1]
            gold: int | str
            if question.options:
                if not letter or letter not in question.letters:
                    continue
                gold = question.letters.index(letter)
                plan = f's1 = {action}(CTX)\ns2 = SELECT(s1, "the option that best answers the question")'
            else:  # free text: the gold answer's words stand in for the correct option's
                gold = answer_text
                plan = f's1 = {action}(CTX)\ns2 = ANSWER_FROM(s1, "the question")'
            for way, chooser in WAYS.items():

                def reply(request: CompletionRequest, plan: str = plan) -> str:
                    kind = (request.prompt or "").split(".")[0]
                    return plan if kind.startswith("plan") else "A"

                fake = FakeLLM(default=reply, context_window=window)
                contexts.skim = chooser  # the step context's chooser for a whole-document step
                contexts.CompressedStepContext._choose = _choosing  # type: ignore[method-assign]
                try:
                    settings = Settings(
                        cache=False, dense=dense_from_environment(), token_margin=token_margin_for(fake)
                    )
                    await Pearl(llm=fake, settings=settings).aask(document, question, method="pearl")
                finally:
                    contexts.skim = skim
                    contexts.CompressedStepContext._choose = _choose  # type: ignore[method-assign]
                steps = [r for r in fake.history if (r.prompt or "").startswith("step.")]
                prompt = "\n".join(m.content for m in steps[0].messages)
                rows[way].append(measure(index, prompt, question, gold))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", type=Path, nargs="*", help="L-Eval JSONL files (default: the shared QuALITY file)")
    parser.add_argument("--action", default="SUMMARIZE", help="the whole-document action (default SUMMARIZE)")
    parser.add_argument("--window", type=int, default=8192, help="the fake model's context window (default 8192)")
    args = parser.parse_args(argv)
    paths = args.paths or [default_data_dir() / "leval_quality.jsonl"]
    for path in paths:
        if not path.is_file():
            print(f"{path}: no such file (see ../shared/data/README.md)", file=sys.stderr)
            return 2
    for path in paths:
        rows = asyncio.run(run(path, args.action, args.window))
        count = len(next(iter(rows.values())))
        print(f"# {path.name}: {count} questions, {args.action}(CTX) step, window {args.window}")
        for way, found in rows.items():
            if not found:
                continue
            margins = [r.margin for r in found if r.margin is not None]
            print(
                f"{way:<8} tenths={mean(r.tenths for r in found):.2f} gap={mean(r.gap for r in found):.2f}"
                f" end={mean(r.end for r in found):.2f} gold={mean(r.gold for r in found):.3f}"
                f" margin={f'{mean(margins):+.3f}' if margins else 'n/a'} tokens={mean(r.tokens for r in found):,.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
