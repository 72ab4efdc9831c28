"""The report page of an evaluation run: score against cost per method, scores by question type, paired
comparisons, and every question's row linking to its trace page.

The evaluation layer sits above this one, so its models are described here by what the page
reads of them (protocols); `pearl.eval`'s `EvalSummary` and `ResultRow` fit them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import urlsplit

from pearl.html._page import render_page

__all__ = [
    "DEMO_SCORES",
    "UNCACHED_NOTE",
    "ComparisonLike",
    "GroupLike",
    "MethodLike",
    "RowLike",
    "RunLike",
    "SummaryLike",
    "render_report_page",
]

DEMO_SCORES = (
    "Answered by the embedded demonstration model, which answers at chance level: these scores measure the pipeline "
    "(cost, evidence shown), not answers; point pearl at a real model for those."
)
"""What a report of a run of the embedded model says under its model line (its note on stderr is gone with the run)."""
UNCACHED_NOTE = (
    "prompt tok/q counts every prompt token a method's questions sent. uncached tok/q leaves out what a server's "
    "prefix cache served and the calls pearl's response cache answered, which depends on what ran before: an "
    "earlier run, or another method's identical call (pearl and pearl-fulldoc send the same planning call, paid "
    "by whichever comes first). Compare methods' cost by prompt tok/q."
)
"""Under the table of methods, in the Markdown report too: what its two token columns count."""
_TEXT_CHARS = (
    600  # answers and golds are cut to this in the table (its hover and search too); their pages hold them whole
)
_LABEL_CHAR = 7.5  # px a character of a method's label takes at most, on average (12px bold)
_LABEL_LINE = 15  # px between two labels' baselines (a 12px label draws 14px high)
_PALETTE = ("#1f5fbf", "#c2410c", "#067647", "#7e22ce", "#a16207", "#0e7490", "#be185d", "#4d7c0f")


class GroupLike(Protocol):
    @property
    def n(self) -> int: ...
    @property
    def score(self) -> float: ...


class MethodLike(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def n(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def score_low(self) -> float | None: ...
    @property
    def score_high(self) -> float | None: ...
    @property
    def fallbacks(self) -> int: ...
    @property
    def evidence_shown(self) -> float | None: ...
    @property
    def evidence_n(self) -> int: ...
    @property
    def mean_prompt_tokens(self) -> float: ...
    @property
    def mean_uncached_prompt_tokens(self) -> float: ...
    @property
    def mean_completion_tokens(self) -> float: ...
    @property
    def mean_calls(self) -> float: ...
    @property
    def mean_seconds(self) -> float: ...
    @property
    def mean_llm_seconds(self) -> float: ...
    @property
    def cached_calls(self) -> int: ...
    @property
    def estimated_calls(self) -> int: ...
    @property
    def by_type(self) -> Mapping[str, GroupLike]: ...
    @property
    def by_tag(self) -> Mapping[str, GroupLike]: ...
    @property
    def choice_n(self) -> int: ...
    @property
    def accuracy(self) -> float | None: ...
    @property
    def unparseable(self) -> float | None: ...
    @property
    def free_n(self) -> int: ...
    @property
    def em(self) -> float | None: ...
    @property
    def f1(self) -> float | None: ...
    @property
    def rouge_l(self) -> float | None: ...


class ComparisonLike(Protocol):
    @property
    def a(self) -> str: ...
    @property
    def b(self) -> str: ...
    @property
    def n(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def score_a(self) -> float: ...
    @property
    def score_b(self) -> float: ...
    @property
    def diff(self) -> float: ...
    @property
    def ci_low(self) -> float | None: ...
    @property
    def ci_high(self) -> float | None: ...
    @property
    def a_only(self) -> int | None: ...
    @property
    def b_only(self) -> int | None: ...
    @property
    def mcnemar_p(self) -> float | None: ...


class RunLike(Protocol):
    @property
    def data(self) -> str: ...
    @property
    def split(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def backend(self) -> str: ...
    @property
    def limit(self) -> int | None: ...


class SummaryLike(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def run(self) -> RunLike | None: ...
    @property
    def questions(self) -> int: ...
    @property
    def rows(self) -> int: ...
    @property
    def methods(self) -> Sequence[MethodLike]: ...
    @property
    def comparisons(self) -> Sequence[ComparisonLike]: ...
    @property
    def skipped(self) -> Sequence[str]: ...
    @property
    def skipped_why(self) -> Mapping[str, str]: ...
    @property
    def stopped(self) -> str | None: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def types(self) -> Sequence[str]: ...


class RowLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def qtype(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def correct(self) -> bool | None: ...
    @property
    def fallback(self) -> bool: ...
    @property
    def error(self) -> str | None: ...
    @property
    def prompt_tokens(self) -> int: ...
    @property
    def calls(self) -> int: ...
    @property
    def seconds(self) -> float: ...
    @property
    def prediction(self) -> str: ...
    @property
    def answer(self) -> str: ...
    @property
    def gold(self) -> str | list[str]: ...


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Point:
    method: str
    color: str
    x: float
    y: float
    y_low: float
    y_high: float
    label_x: float
    label_y: float = 0.0
    label_anchor: str = "start"


@dataclass(frozen=True)
class Chart:
    """Score (with its interval) against prompt tokens per question, in SVG coordinates."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    points: list[Point]


def _nice_step(span: float, count: int = 5) -> float:
    raw = span / count
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _chart(methods: Sequence[MethodLike]) -> Chart:
    width, height, left, right, top, bottom = 720, 360, 64, 700, 16, 312
    most = max((m.mean_prompt_tokens for m in methods), default=0.0)
    step = _nice_step(most * 1.1) if most > 0 else 1000.0
    x_max = step * math.ceil(most * 1.1 / step) if most > 0 else 5 * step

    def x_of(tokens: float) -> float:
        return round(left + (right - left) * tokens / x_max, 1)

    def y_of(score: float) -> float:
        return round(bottom - (bottom - top) * score, 1)

    x_ticks = [Tick(x_of(step * i), f"{step * i:,.0f}") for i in range(round(x_max / step) + 1)]
    y_ticks = [Tick(y_of(i / 5), f"{20 * i}") for i in range(6)]
    points = [
        Point(
            method=m.method,
            color=_PALETTE[k % len(_PALETTE)],
            x=x_of(m.mean_prompt_tokens),
            y=y_of(m.score),
            y_low=y_of(m.score_low if m.score_low is not None else m.score),
            y_high=y_of(m.score_high if m.score_high is not None else m.score),
            label_x=x_of(m.mean_prompt_tokens) + 9,
        )
        for k, m in enumerate(methods)
    ]
    return Chart(width, height, left, right, top, bottom, x_ticks, y_ticks, _placed(points, width, top, bottom))


def _placed(points: list[Point], width: int, top: int, bottom: int) -> list[Point]:
    """`points` with their labels placed apart, so that no method's name hides another's.

    Methods of a score and cost alike (all at chance, as with the embedded model) would print their
    names over each other. A label goes just above its point, right of it (left where it would leave
    the chart), and moves a line down (or up, near the axis) until it overlaps no label placed before
    it and stays within the chart.
    """
    boxes: list[tuple[float, float, float]] = []  # left, right, baseline of each label placed
    placed = list(points)
    for k in sorted(range(len(points)), key=lambda k: (points[k].y, points[k].x)):
        p = points[k]
        size = _LABEL_CHAR * len(p.method)
        anchor = "end" if p.label_x + size > width else "start"
        x = p.x - 9 if anchor == "end" else p.label_x
        left, right = (x - size, x) if anchor == "end" else (x, x + size)
        lines = range((bottom - top) // _LABEL_LINE + 1)  # as many lines as the chart is high, either way
        below = [p.y - 6 + _LABEL_LINE * n for n in lines]
        above = [p.y - 6 - _LABEL_LINE * n for n in lines[1:]]
        inside = [y for y in below + above if _LABEL_LINE <= y <= bottom - 2] or [p.y - 6]  # drawn within the chart
        free = (
            y for y in inside if all(right <= a or b <= left or abs(y - base) >= _LABEL_LINE for a, b, base in boxes)
        )
        y = next(free, inside[0])
        boxes.append((left, right, y))
        placed[k] = replace(p, label_x=round(x, 1), label_y=round(y, 1), label_anchor=anchor)
    return placed


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TEXT_CHARS else text[: _TEXT_CHARS - 1] + "…"


def _shown_answer(row: RowLike) -> str:
    """The row's answer, led by the option it chose on a multiple-choice question (what is scored against the gold
    letter): the answer is the option's text, which names no letter (in rows of older runs, the steps' prose)."""
    letter = row.prediction.strip()
    # Multiple choice, no option read: what the model wrote instead (`explanation`, which rows of older runs, and
    # rows a caller makes, may not have).
    explanation = getattr(row, "explanation", None)
    if not row.answer and explanation:
        return f"(no option chosen) {explanation}"
    chose = len(letter) == 1 and letter.isalpha() and not row.answer.lstrip().startswith(f"({letter})")
    return f"({letter}) {row.answer}" if chose else row.answer


def _outcome(row: RowLike) -> str:
    if row.error is not None:
        return "error"
    right = row.correct if row.correct is not None else row.score >= 0.5
    return "right" if right else "wrong"


def render_report_page(
    summary: SummaryLike, rows: Sequence[RowLike], *, pages: Mapping[tuple[str, str], str] | None = None
) -> str:
    """One self-contained HTML page for an evaluation run.

    Args:
        summary: the run's summary (`pearl.eval.summarize`).
        rows: its result rows, one per (question, method); they go into the page as data and
            the table is drawn from it in chunks, so thousands of rows open quickly.
        pages: the trace page of a (question id, method), as a link relative to the report.

    Returns:
        The page, to write beside `report.md`.
    """
    # Only relative links: a page link is a file beside the report, never a scheme (javascript:, http:).
    links = {key: link for key, link in (pages or {}).items() if not urlsplit(link).scheme}
    types = list(summary.types) or list(dict.fromkeys(t for m in summary.methods for t in m.by_type))
    table = [
        [
            r.id,
            r.method,
            r.qtype,
            round(r.score, 4),
            _outcome(r),
            int(r.fallback),
            r.prompt_tokens,
            r.calls,
            round(r.seconds, 2),
            _cut(r.error or _shown_answer(r)),
            _cut(" | ".join(r.gold) if isinstance(r.gold, list) else r.gold),
            links.get((r.id, r.method), ""),
        ]
        for r in rows
    ]
    chart = _chart(summary.methods)
    return render_page(
        "report.html.j2",
        "report.js",
        summary=summary,
        run=summary.run,
        chart=chart,
        colors={p.method: p.color for p in chart.points},
        types=types,
        type_counts={t: max(m.by_type[t].n for m in summary.methods if t in m.by_type) for t in types},
        tag_counts={t: max(m.by_tag[t].n for m in summary.methods if t in m.by_tag) for t in summary.tags},
        rows={"methods": [m.method for m in summary.methods], "rows": table},
        uncached_note=UNCACHED_NOTE,
        demo_scores=DEMO_SCORES,
    )
