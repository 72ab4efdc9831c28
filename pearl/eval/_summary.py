"""Summaries of result rows (per method, per question type, per split, paired comparisons) and the report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

from pearl._text import counted
from pearl.errors import unanswered_name
from pearl.eval._metrics import EVIDENCE_MIN_WORDS
from pearl.eval._models import (
    QUESTION_TYPES,
    SPLITS,
    Comparison,
    EvalSummary,
    GroupScore,
    MethodSummary,
    ResultRow,
    RunConfig,
)
from pearl.eval._results import latest_rows
from pearl.eval._stats import bootstrap_mean, mcnemar_exact, paired_bootstrap
from pearl.html import DEMO_SCORES, UNCACHED_NOTE

__all__ = ["compare_rows", "comparison_cells", "render_report", "some_of", "summarize", "table_lines"]


_NAMED = 10  # ids a report or message names, at most (summary.json lists them all)


def some_of(items: Sequence[str], most: int = _NAMED) -> str:
    """The first `most` of `items`, comma-separated, and how many more: "q1, q2 and 3 more"."""
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _groups(rows: Sequence[ResultRow], keys: Iterable[str], key_of: str) -> dict[str, GroupScore]:
    groups: dict[str, GroupScore] = {}
    for key in keys:
        if key_of == "qtype":
            members = [r.score for r in rows if r.qtype == key]
        else:
            members = [r.score for r in rows if key in r.tags]
        if members:
            groups[key] = GroupScore(n=len(members), score=_mean(members))
    return groups


def _method_summary(
    method: str, rows: Sequence[ResultRow], tags: Sequence[str], attempts: Sequence[ResultRow]
) -> MethodSummary:
    """`rows`: one a question; `attempts`: every row of the method given, earlier failed attempts too."""
    ok = [r for r in rows if r.error is None]
    choice = [r for r in rows if r.kind == "choice"]
    free = [r for r in rows if r.kind == "free"]
    told = [r for r in rows if r.evidence_shown is not None]  # a question that failed counts, as in `score`
    scores = [r.score for r in rows]
    _, low, high = bootstrap_mean(scores) if scores else (0.0, None, None)
    return MethodSummary(
        method=method,
        n=len(rows),
        errors=len(rows) - len(ok),
        score=_mean(scores),
        score_low=low,
        score_high=high,
        accuracy=_mean([float(bool(r.correct)) for r in choice]) if choice else None,
        choice_n=len(choice),
        unparseable=_mean([float(r.unparseable) for r in choice]) if choice else None,
        em=_mean([r.em or 0.0 for r in free]) if free else None,
        f1=_mean([r.f1 or 0.0 for r in free]) if free else None,
        rouge_l=_mean([r.rouge_l or 0.0 for r in free]) if free else None,
        free_n=len(free),
        fallbacks=sum(r.fallback for r in rows),
        evidence_shown=_mean([float(r.evidence_shown is True) for r in told]) if told else None,
        evidence_n=len(told),
        # What a question asked cost, a failed one's spend included (over the answered alone, a method that fails
        # more looked cheaper: one whose every question failed, free)
        mean_prompt_tokens=_mean([r.prompt_tokens for r in rows]),
        mean_uncached_prompt_tokens=_mean(
            [r.uncached_prompt_tokens if r.uncached_prompt_tokens is not None else r.prompt_tokens for r in rows]
        ),
        mean_completion_tokens=_mean([r.completion_tokens for r in rows]),
        mean_calls=_mean([r.calls for r in rows]),
        mean_seconds=_mean([r.seconds for r in rows]),
        mean_llm_seconds=_mean([r.llm_seconds for r in rows]),
        # Over every attempt: a question asked again (--retry-errors) paid for its failed attempts too. What the run
        # spent is what servers read afresh: a re-run from a warm cache costs nothing (helper-214).
        total_prompt_tokens=sum(r.prompt_tokens for r in attempts),
        total_uncached_prompt_tokens=sum(
            r.uncached_prompt_tokens if r.uncached_prompt_tokens is not None else r.prompt_tokens for r in attempts
        ),
        total_completion_tokens=sum(r.completion_tokens for r in attempts),
        cached_calls=sum(r.cached_calls for r in attempts),
        estimated_calls=sum(r.estimated_calls for r in attempts),
        by_type=_groups(rows, QUESTION_TYPES, "qtype"),
        by_tag=_groups(rows, tags, "tags"),
    )


def compare_rows(a: str, b: str, rows_a: Sequence[ResultRow], rows_b: Sequence[ResultRow]) -> Comparison | None:
    # A question the server failed to answer for one of the two (its row has such an error, scored 0) is no evidence
    # either way: its silence on one method read as a gap between the methods. It is left out, and counted. A
    # method's own failure (a given plan that does not parse, a reply it cannot read) is its score, and stays.
    failed = {r.id for r in (*rows_a, *rows_b) if r.error and unanswered_name(r.error_type or "")}
    scores_b = {r.id: r.score for r in rows_b}
    both = [r for r in rows_a if r.id in scores_b]
    pairs = [(r.score, scores_b[r.id]) for r in both if r.id not in failed]
    # Right or wrong is multiple choice's: a free-text F1 of exactly 0 or 1 is a score, not an outcome.
    outcomes = all(r.kind == "choice" for r in both)
    if not both:
        return None
    if not pairs:  # every question both were run on left out: said, not dropped
        return Comparison(a=a, b=b, n=0, failed=len(both), score_a=0.0, score_b=0.0, diff=0.0)
    xs = [x for x, _ in pairs]
    ys = [y for _, y in pairs]
    diff, low, high = paired_bootstrap(xs, ys)
    comparison = Comparison(
        a=a,
        b=b,
        n=len(pairs),
        failed=len(both) - len(pairs),
        score_a=_mean(xs),
        score_b=_mean(ys),
        diff=diff,
        ci_low=low,
        ci_high=high,
    )
    if outcomes and all(v in (0.0, 1.0) for v in (*xs, *ys)):
        a_only = sum(x > y for x, y in pairs)
        b_only = sum(y > x for x, y in pairs)
        comparison = comparison.model_copy(
            update={"a_only": a_only, "b_only": b_only, "mcnemar_p": mcnemar_exact(a_only, b_only)}
        )
    return comparison


def summarize(
    rows: Iterable[ResultRow],
    *,
    methods: Sequence[str] | None = None,
    run: RunConfig | None = None,
    title: str = "",
    skipped: Sequence[str] | Mapping[str, str] = (),
    stopped: str | None = None,
) -> EvalSummary:
    """Summarise result rows: per method score and cost, by question type and split, paired comparisons.

    Args:
        rows: result rows; repeats of a (question, method) pair are reduced as `latest_rows` does.
        methods: methods to report, in this order; default: those in `rows`, in order of appearance.
        run: the run's settings, kept in the summary.
        title: a heading for the report.
        skipped: ids of questions not run as bad input, named in the report: with why each was not (`NO_TEXT`, or
            why it cannot be asked as given), or ids alone, whose document has no text.
        stopped: why the run stopped before every question had a result, said at the top of the report.
    """
    why = dict(skipped) if isinstance(skipped, Mapping) else dict.fromkeys(skipped, NO_TEXT)
    given = list(rows)
    latest = list(latest_rows(given).values())
    order = list(methods) if methods is not None else list(dict.fromkeys(r.method for r in latest))
    by_method = {m: [r for r in latest if r.method == m] for m in order}
    present = {t for r in latest for t in r.tags}
    tags: list[str] = [t for t in SPLITS if t in present]
    summaries = [
        _method_summary(m, by_method[m], tags, [r for r in given if r.method == m]) for m in order if by_method[m]
    ]
    comparisons = [
        c
        for a, b in combinations([s.method for s in summaries], 2)
        if (c := compare_rows(a, b, by_method[a], by_method[b]))
    ]
    return EvalSummary(
        title=title,
        run=run,
        questions=len({r.id for r in latest if r.method in by_method}),
        rows=sum(len(v) for v in by_method.values()),
        methods=summaries,
        comparisons=comparisons,
        tags=tags,
        types=[t for t in QUESTION_TYPES if any(t in m.by_type for m in summaries)],
        skipped=list(why),
        skipped_why={qid: reason for qid, reason in why.items() if reason != NO_TEXT},
        stopped=stopped,
    )


NO_TEXT = "its document has no text"
"""Why a question was skipped, when its document has no text (as `summarize` takes `skipped`)."""


def skipped_kinds(summary: EvalSummary) -> tuple[list[str], dict[str, str]]:
    """The skipped questions whose document has no text, and those that cannot be asked as given, with why."""
    return [q for q in summary.skipped if q not in summary.skipped_why], dict(summary.skipped_why)


ESTIMATED_NOTE = (
    "~ marks token counts pearl counted itself (cl100k) for {calls} whose server reported none usable: "
    "an estimate, close for GPT models, rougher for others."
)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def table_lines(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(" --- " if i == 0 else " ---: " for i in range(len(head))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def comparison_cells(c: Comparison) -> tuple[str, str]:
    """A comparison's 95% interval of A − B, in points, and its McNemar p-value with the discordant pairs, as a report
    shows them ("–" for none)."""
    ci = f"[{100 * c.ci_low:+.1f}, {100 * c.ci_high:+.1f}]" if c.ci_low is not None and c.ci_high is not None else "–"
    p = "–" if c.mcnemar_p is None else f"{c.mcnemar_p:.3f} ({c.a_only}/{c.b_only})"
    return ci, p


def render_report(summary: EvalSummary) -> str:
    """The summary as Markdown: a table per method, score by question type and split, paired comparisons."""
    out: list[str] = [f"# {summary.title or 'pearl eval'}", ""]
    run = summary.run
    if run is not None:
        limit = f", limit {run.limit}" if run.limit is not None else ""
        out += [f"Data `{run.data}` ({run.format}), split {run.split}{limit}; model `{run.model}` ({run.backend}).", ""]
        if run.backend == "embedded":
            out += [f"**{DEMO_SCORES}**", ""]
        # What the planned methods planned with: two runs with other libraries or demonstrations read alike otherwise.
        planned = [f"actions {run.actions} (`{run.actions_sha256[:12]}`)" if run.actions and run.actions_sha256 else ""]
        planned += [f"demonstrations {run.demos}" if run.demos else ""]
        planned += [f"given plans `{run.plans}`" if run.plans else ""]
        if any(planned):
            out += ["Planned with " + "; ".join(p for p in planned if p) + ".", ""]
    out += [
        f"{counted(summary.questions, 'question')}, {counted(summary.rows, 'result')}. Scores in %: accuracy for "
        "multiple choice, token F1 for free text (best over the gold answers); a failed question scores 0.",
        "",
    ]
    if summary.stopped:
        out += [f"**The run stopped before it finished:** {summary.stopped}", ""]
    no_text, unaskable = skipped_kinds(summary)
    if no_text:
        out += [
            f"Skipped {counted(len(no_text), 'question')} whose document has no text (bad input: not run, not "
            f"counted above, not errors; fill in the text to run them): {some_of([f'`{q}`' for q in no_text])}.",
            "",
        ]
    if unaskable:
        shown = some_of([f"`{q}` ({why})" for q, why in unaskable.items()])
        out += [
            f"Skipped {counted(len(unaskable), 'question')} that cannot be asked as given (bad input: not run, not "
            f"counted above, not errors; mend them in the data file to run them): {shown}.",
            "",
        ]
    if any(m.evidence_n for m in summary.methods):
        out += [
            "Evidence shown: of the free-text questions whose gold answer is a span of the document "
            f"({EVIDENCE_MIN_WORDS}+ words), the % for which one prompt the method sent held it whole.",
            "",
        ]
    choice = any(m.choice_n for m in summary.methods)
    free = any(m.free_n for m in summary.methods)
    head = ["method", "n", "score"]
    head += ["accuracy", "unparseable"] if choice else []
    head += ["EM", "F1", "ROUGE-L"] if free else []
    evidence = any(m.evidence_n for m in summary.methods)
    head += ["evidence shown"] if evidence else []
    head += ["prompt tok/q", "uncached tok/q", "completion tok/q", "calls/q", "s/q", "model s/q", "errors", "fallbacks"]
    rows: list[list[str]] = []
    for m in summary.methods:
        about = "~" if m.estimated_calls else ""  # counted by pearl, where the server reported none usable
        row = [m.method, str(m.n), _pct(m.score)]
        row += [_pct(m.accuracy), _pct(m.unparseable)] if choice else []
        row += [_pct(m.em), _pct(m.f1), _pct(m.rouge_l)] if free else []
        row += [f"{_pct(m.evidence_shown)} of {m.evidence_n}" if m.evidence_n else "–"] if evidence else []
        row += [
            f"{about}{m.mean_prompt_tokens:,.0f}",
            f"{about}{m.mean_uncached_prompt_tokens:,.0f}",
            f"{about}{m.mean_completion_tokens:,.0f}",
            f"{m.mean_calls:.1f}",
            f"{m.mean_seconds:.2f}",
            f"{m.mean_llm_seconds:.2f}",
            str(m.errors),
            str(m.fallbacks),
        ]
        rows.append(row)
    out += table_lines(head, rows)
    out += ["", UNCACHED_NOTE]
    estimated = sum(m.estimated_calls for m in summary.methods)
    if estimated:
        out += ["", f"{ESTIMATED_NOTE.format(calls=counted(estimated, 'call'))}"]
    types = summary.types or [t for t in QUESTION_TYPES if any(t in m.by_type for m in summary.methods)]
    if types:
        counts = {t: max(m.by_type[t].n for m in summary.methods if t in m.by_type) for t in types}
        out += ["", "## Score by question type", ""]
        type_rows = [
            [m.method, *(_pct(m.by_type[t].score) if t in m.by_type else "–" for t in types)] for m in summary.methods
        ]
        out += table_lines(["method", *(f"{t} ({counts[t]})" for t in types)], type_rows)
    if summary.tags:
        counts = {t: max(m.by_tag[t].n for m in summary.methods if t in m.by_tag) for t in summary.tags}
        out += ["", "## Score by split", ""]
        tag_rows = [
            [m.method, *(_pct(m.by_tag[t].score) if t in m.by_tag else "–" for t in summary.tags)]
            for m in summary.methods
        ]
        out += table_lines(["method", *(f"{t} ({counts[t]})" for t in summary.tags)], tag_rows)
    if summary.comparisons:
        out += ["", "## Paired comparisons", ""]
        out += [
            "Same questions for both methods; difference A − B in points with a 95% paired bootstrap interval "
            "(2,000 resamples); exact McNemar p-value where every question is multiple choice.",
            "",
        ]
        comp_rows = []
        for c in summary.comparisons:
            ci, p = comparison_cells(c)
            if not c.n:
                comp_rows.append([c.a, c.b, "0", "–", "–", "–", "–", "–"])
                continue
            comp_rows.append([c.a, c.b, str(c.n), _pct(c.score_a), _pct(c.score_b), f"{100 * c.diff:+.1f}", ci, p])
        out += table_lines(
            ["A", "B", "n", "score A", "score B", "A − B", "95% CI", "McNemar p (A only/B only)"], comp_rows
        )
        failed = [f"{c.a}/{c.b} {c.failed}" for c in summary.comparisons if c.failed]
        if failed:
            out += [
                "",
                f"Left out of the comparisons: questions the model server left unanswered for one of the two methods "
                f"({', '.join(failed)}); the method tables score them 0 (add --retry-errors to ask them again).",
            ]
    return "\n".join(out) + "\n"
