"""Evaluation: dataset loaders, a resumable runner, metrics, summaries and reports.

>>> dataset = load_dataset("leval_quality.jsonl")              # QuALITY, L-Eval or pearl JSONL
>>> summary = run_eval(pearl, dataset, ["pearl", "direct"], "runs/quality")
>>> given = match_plans(dataset, "plans.jsonl")                 # replay given plans (qid -> plan)
>>> summary = run_eval(pearl, dataset, ["pearl", "pearl-fulldoc"], "runs/replay", plans=given)
>>> print(render_report(summary))

A run directory holds `run.json`, `results.jsonl` (one row per question and method, written
as each finishes; calling again resumes), `traces/` (each row's trace and its page),
`summary.json`, `report.md` and `report.html`.
"""

from pearl.eval._compare import RunComparison, RunsCompared, compare_runs, render_comparison
from pearl.eval._fake import counting_fake_llm, fake_reply
from pearl.eval._loaders import detect_format, load_dataset, read_questions
from pearl.eval._metrics import (
    as_shown,
    best_over,
    evidence_blocks,
    evidence_shown,
    exact_match,
    normalize_answer,
    question_type,
    rouge_l,
    score_answer,
    strip_citations,
    token_f1,
)
from pearl.eval._models import (
    FORMATS,
    QUESTION_TYPES,
    SPLITS,
    Comparison,
    Dataset,
    EvalDocument,
    EvalQuestion,
    EvalSummary,
    GroupScore,
    MethodSummary,
    ResultRow,
    RunConfig,
)
from pearl.eval._plans import PlanSet, match_plans, read_plans
from pearl.eval._results import RESULTS_FILE, latest_rows, load_results
from pearl.eval._runner import (
    REPORT_FILE,
    REPORT_HTML_FILE,
    RUN_FILE,
    SUMMARY_FILE,
    TRACES_DIR,
    arun_eval,
    check_methods,
    run_eval,
    select_questions,
    write_summary,
)
from pearl.eval._silence import UNANSWERED_STOP, Silence
from pearl.eval._stats import bootstrap_mean, mcnemar_exact, paired_bootstrap
from pearl.eval._summary import render_report, summarize

__all__ = [
    "FORMATS",
    "QUESTION_TYPES",
    "REPORT_FILE",
    "REPORT_HTML_FILE",
    "RESULTS_FILE",
    "RUN_FILE",
    "SPLITS",
    "SUMMARY_FILE",
    "TRACES_DIR",
    "UNANSWERED_STOP",
    "Comparison",
    "Dataset",
    "EvalDocument",
    "EvalQuestion",
    "EvalSummary",
    "GroupScore",
    "MethodSummary",
    "PlanSet",
    "ResultRow",
    "RunComparison",
    "RunConfig",
    "RunsCompared",
    "Silence",
    "arun_eval",
    "as_shown",
    "best_over",
    "bootstrap_mean",
    "check_methods",
    "compare_runs",
    "counting_fake_llm",
    "detect_format",
    "evidence_blocks",
    "evidence_shown",
    "exact_match",
    "fake_reply",
    "latest_rows",
    "load_dataset",
    "load_results",
    "match_plans",
    "mcnemar_exact",
    "normalize_answer",
    "paired_bootstrap",
    "question_type",
    "read_plans",
    "read_questions",
    "render_comparison",
    "render_report",
    "rouge_l",
    "run_eval",
    "score_answer",
    "select_questions",
    "strip_citations",
    "summarize",
    "token_f1",
    "write_summary",
]
