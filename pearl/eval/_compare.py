"""Two evaluation runs side by side: each method against itself, question by question.

`pearl eval` compares the methods of one run; a comparison of runs asks what changed between two: another model,
another library or store of demonstrations, another version of pearl. Both runs must be of the same data (the same
file, by its hash), and a method is compared on the questions both runs answered, paired, as the methods of one run
are (`Comparison`: a paired bootstrap interval, and McNemar's exact test where every question is multiple choice).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from pearl._files import decode_json, read_bytes
from pearl.errors import ConfigError
from pearl.eval._models import Comparison, ResultRow, RunConfig
from pearl.eval._results import RESULTS_FILE, latest_rows, load_results
from pearl.eval._summary import compare_rows, comparison_cells, table_lines

__all__ = ["RunComparison", "RunsCompared", "compare_runs", "render_comparison"]

_RUN_FILE = "run.json"


class RunComparison(BaseModel):
    """One method in run A against the same method in run B, with each run's mean tokens on the questions compared."""

    method: str
    comparison: Comparison
    prompt_tokens_a: float = Field(description="run A's mean prompt tokens per question compared")
    prompt_tokens_b: float = Field(description="run B's mean prompt tokens per question compared")
    only_a: int = Field(default=0, description="questions with a result in run A alone, left out")
    only_b: int = Field(default=0, description="questions with a result in run B alone, left out")


class RunsCompared(BaseModel):
    """What `compare_runs` found: the two runs (their folders, models and data) and each method's comparison."""

    a: str
    b: str
    model_a: str
    model_b: str
    data: str
    methods: list[RunComparison] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="what differs between the runs besides the model")


def _run(folder: Path) -> RunConfig:
    """The run folder's `run.json`, or a clear error for a folder that holds no run."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such run folder (give the --out folders of two pearl eval runs)")
    raw = read_bytes(folder / _RUN_FILE, "run file", missing_ok=True)
    if not raw:
        raise ConfigError(f"{folder} holds no {_RUN_FILE}: not the folder of a pearl eval run")
    try:
        return RunConfig.model_validate(decode_json(raw, str(folder / _RUN_FILE)))
    except ValueError as exc:  # pydantic's ValidationError included
        raise ConfigError(f"{folder / _RUN_FILE} is not a run file pearl reads: {str(exc).splitlines()[0]}") from None


def _differences(a: RunConfig, b: RunConfig) -> list[str]:
    """What differs between the runs besides the model, said, so that a difference in score is not put on the model
    alone."""
    notes = []
    for name in ("format", "split", "limit"):  # which questions each ran
        if getattr(a, name) != getattr(b, name):
            notes.append(f"--{name}: {getattr(a, name)} / {getattr(b, name)}")
    for name, said in (("actions_sha256", "action library"), ("demos_sha256", "demonstrations")):
        if getattr(a, name) and getattr(b, name) and getattr(a, name) != getattr(b, name):
            notes.append(f"the runs planned with other {said}: {getattr(a, name[:-7])} / {getattr(b, name[:-7])}")
    if a.plans_sha256 != b.plans_sha256:
        notes.append(f"the runs ran other given plans (--plans): {a.plans or 'none'} / {b.plans or 'none'}")
    settings_a, settings_b = a.settings or {}, b.settings or {}
    for name in sorted(settings_a.keys() & settings_b.keys()):
        if settings_a[name] != settings_b[name]:
            notes.append(f"{name}: {settings_a[name]} / {settings_b[name]}")
    return notes


def compare_runs(a: str | Path, b: str | Path, methods: Sequence[str] | None = None) -> RunsCompared:
    """Each method both runs ran (or those of `methods`), run A's against run B's, on the questions both answered.

    Args:
        a, b: the folders of two `pearl eval` runs (their `--out`) of the same data.
        methods: the methods to compare; default: every method both runs have results for.

    Raises:
        ConfigError: a folder holds no run, the runs are of different data, or a method named has no results in one.
    """
    folders = (Path(a), Path(b))
    runs = [_run(folder) for folder in folders]
    if runs[0].data_sha256 != runs[1].data_sha256:
        raise ConfigError(
            f"the runs are of different data ({runs[0].data} in {folders[0]}, {runs[1].data} in {folders[1]}, whose "
            "text differs): compare runs of one data file"
        )
    rows = [latest_rows(load_results(folder / RESULTS_FILE)) for folder in folders]
    ran = [{method for _, method in found} for found in rows]
    both = [m for m in dict.fromkeys(runs[0].methods + runs[1].methods) if m in ran[0] and m in ran[1]]
    if methods:
        missing = [m for m in methods if m not in both]
        if missing:
            raise ConfigError(
                f"no results for {', '.join(missing)} in both runs; both have results for: {', '.join(both) or 'none'}"
            )
        both = list(methods)
    if not both:
        raise ConfigError(
            f"the runs share no method with results ({folders[0]}: {_named(ran[0])}; {folders[1]}: {_named(ran[1])})"
        )
    labels = _labels(folders)
    compared = RunsCompared(
        a=str(folders[0]),
        b=str(folders[1]),
        model_a=runs[0].model,
        model_b=runs[1].model,
        data=runs[0].data,
        notes=_differences(*runs),
    )
    for method in both:
        rows_a = [r for (_, m), r in rows[0].items() if m == method]
        rows_b = [r for (_, m), r in rows[1].items() if m == method]
        ids_a, ids_b = {r.id for r in rows_a}, {r.id for r in rows_b}
        shared = ids_a & ids_b
        comparison = compare_rows(labels[0], labels[1], rows_a, rows_b)
        if comparison is None:  # no question both answered: said, with the counts, not dropped (helper-218)
            comparison = Comparison(a=labels[0], b=labels[1], n=0, score_a=0.0, score_b=0.0, diff=0.0)
        compared.methods.append(
            RunComparison(
                method=method,
                comparison=comparison,
                prompt_tokens_a=_mean_tokens(rows_a, shared),
                prompt_tokens_b=_mean_tokens(rows_b, shared),
                only_a=len(ids_a - ids_b),
                only_b=len(ids_b - ids_a),
            )
        )
    if not any(row.comparison.n for row in compared.methods):
        said = "; ".join(compared.notes)
        raise ConfigError(
            f"the runs share no question both answered{f' ({said})' if said else ''}: compare runs of the same "
            "questions (the same --split and --limit)"
        )
    return compared


def _named(methods: set[str]) -> str:
    return ", ".join(sorted(methods)) or "no results"


def _labels(folders: tuple[Path, Path]) -> tuple[str, str]:
    """What the report calls each run: its folder's name, or its path where the names are the same."""
    names = (folders[0].name or str(folders[0]), folders[1].name or str(folders[1]))
    return names if names[0] != names[1] else (str(folders[0]), str(folders[1]))


def _mean_tokens(rows: Sequence[ResultRow], ids: set[str]) -> float:
    kept = [r.prompt_tokens for r in rows if r.id in ids]
    return sum(kept) / len(kept) if kept else 0.0


def render_comparison(compared: RunsCompared) -> str:
    """The comparison as Markdown: a row per method, then what else differs between the runs."""
    out = [
        f"# pearl eval runs compared: {Path(compared.data).name}",
        "",
        f"A: {compared.a} ({compared.model_a}); B: {compared.b} ({compared.model_b}).",
        "Each method on the questions both runs answered; difference A − B in points with a 95% paired bootstrap "
        "interval (2,000 resamples); exact McNemar p-value where every question is multiple choice.",
        "",
    ]
    table = []
    for row in compared.methods:
        c = row.comparison
        if not c.n:
            table.append([row.method, "0", "–", "–", "–", "–", "–", "–", "–"])
            continue
        ci, p = comparison_cells(c)
        table.append(
            [
                row.method,
                str(c.n),
                f"{100 * c.score_a:.1f}",
                f"{100 * c.score_b:.1f}",
                f"{100 * c.diff:+.1f}",
                ci,
                p,
                f"{row.prompt_tokens_a:,.0f}",
                f"{row.prompt_tokens_b:,.0f}",
            ]
        )
    head = ["method", "n", "score A", "score B", "A − B", "95% CI", "McNemar p (A only/B only)"]
    out += table_lines([*head, "prompt tok/q A", "prompt tok/q B"], table)
    left = [
        f"{r.method}: {r.comparison.failed} the model server left unanswered in one run"
        for r in compared.methods
        if r.comparison.failed
    ] + [
        f"{r.method}: {r.only_a} with a result in A alone, {r.only_b} in B alone"
        for r in compared.methods
        if r.only_a or r.only_b
    ]
    if left:
        out += ["", f"Left out: {'; '.join(left)}."]
    if compared.notes:
        out += ["", "Besides the model, the runs differ in: " + "; ".join(compared.notes) + "."]
    return "\n".join(out) + "\n"
