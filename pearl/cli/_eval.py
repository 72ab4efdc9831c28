"""The `pearl eval` command. Thin: read the dataset, build a `Pearl`, call `arun_eval`, print the report."""

from __future__ import annotations

import asyncio
import functools
import re
from pathlib import Path
from typing import Annotated

import typer

from pearl._text import shorten
from pearl.actions import ActionLibrary
from pearl.cli._app import app
from pearl.cli._common import (
    EXIT_FAILED,
    PLANS_OWN_ACTIONS,
    ActionsOpt,
    ApiKey,
    BaseUrl,
    DemosOpt,
    ModelOpt,
    NoCache,
    QuietRun,
    Timeout,
    Window,
    counted,
    echo,
    echo_json,
    example,
    exit_code,
    fail,
    given_path,
    handled,
    interrupted_exit,
    json_errors,
    make_pearl,
    refuse_dash,
    settings_from,
    with_concurrency,
)
from pearl.cli._progress import ProgressBar, describe_stage
from pearl.errors import (
    ERROR_NAMES,
    ConfigError,
    PearlError,
    RetryableError,
    RunBusyError,
    RunWriteError,
    UnansweredError,
    stops_a_run,
)
from pearl.eval import (
    FORMATS,
    REPORT_FILE,
    REPORT_HTML_FILE,
    RESULTS_FILE,
    SPLITS,
    SUMMARY_FILE,
    EvalSummary,
    PlanSet,
    arun_eval,
    check_methods,
    latest_rows,
    load_dataset,
    load_results,
    match_plans,
    render_report,
    select_questions,
)
from pearl.eval._compare import compare_runs, render_comparison
from pearl.llm import DEMO_NOTICE
from pearl.methods import METHODS

__all__ = ["compare_command", "default_out_dir", "eval_command"]

ALL_METHODS = ",".join(METHODS)


def default_out_dir(data: Path, model: str) -> Path:
    """`runs/<data stem>-<model>`: the same command always lands in the same place, so re-running resumes."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-") or "model"
    return Path("runs") / f"{data.stem}-{slug}"


@app.command("eval", epilog=example("pearl eval datasets/sample/quality_sample.jsonl -m pearl,rag --limit 5"))
def eval_command(
    data: Annotated[
        Path,
        typer.Argument(
            metavar="DATA", help="QuALITY, L-Eval or pearl JSONL file.", show_default=False, parser=given_path
        ),
    ],
    data_format: Annotated[
        str | None,
        typer.Option("--format", metavar="FORMAT", help=f"One of {', '.join(FORMATS)} (default: from the first line)."),
    ] = None,
    split: Annotated[str, typer.Option("--split", metavar="SPLIT", help=f"One of {', '.join(SPLITS)}.")] = "all",
    methods: Annotated[
        str, typer.Option("--methods", "-m", metavar="NAMES", help="Comma-separated methods to compare.")
    ] = (ALL_METHODS),
    limit: Annotated[
        int | None, typer.Option("--limit", metavar="N", help="Only the first N questions.", min=1)
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            metavar="N",
            help="Questions in flight at once, and the model's calls [default: the concurrency setting "
            "(PEARL_CONCURRENCY), 4].",
            min=1,
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Run directory (default: runs/<data stem>-<model>).", parser=given_path
        ),
    ] = None,
    retry_errors: Annotated[
        bool,
        typer.Option(
            "--retry-errors",
            help="Also run again the questions whose last result is an error (those not run yet are run anyway).",
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="If another run is writing to --out, wait for it to finish, then resume."),
    ] = False,
    actions: ActionsOpt = None,
    demos: DemosOpt = None,
    plans: Annotated[
        Path | None,
        typer.Option(
            "--plans",
            metavar="FILE",
            help='Run these plans instead of writing new ones: JSON Lines of {"qid": ..., "plan": "..."} '
            "(the paper's layout). A qid matches a question id, or, in a QuALITY file, the question at that "
            "position (from 0, the paper's numbering of the official release). Used by pearl and pearl-fulldoc; "
            "questions without a plan are planned as usual (see --plans-only); a plan that does not parse is "
            "recorded as its row's error; qids matching no question are counted and listed.",
            parser=given_path,
        ),
    ] = None,
    plans_only: Annotated[
        bool, typer.Option("--plans-only", help="With --plans: run only the questions that have a given plan.")
    ] = False,
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    api_key: ApiKey = None,
    no_cache: NoCache = False,
    timeout: Timeout = None,
    context_window: Window = None,
    quiet: QuietRun = False,
) -> None:
    """Compare answering methods on an evaluation set; resumable (re-run the same command to continue)."""
    started = False
    bar = ProgressBar("eval", quiet=quiet)
    try:
        # What needs no file read comes first: a wrong flag is said before notes on the plans and the run folder.
        chosen = check_methods(methods.split(","))
        refuse_dash(out, "--out", "runs/contracts")
        if plans_only and plans is None:
            raise fail("--plans-only needs --plans FILE")
        dataset = load_dataset(data, data_format)
        given = match_plans(dataset, plans) if plans is not None else None
        # A split, limit or plans that select no question are refused before the run directory is named.
        selected = select_questions(dataset, split, limit, plans=given if plans_only else None)
        if given is not None:
            run = {question.id for question in selected}
            among = sum(qid in run for qid in given.plans)
            narrowed = f"; {among} of them for the {counted(len(run), 'question')} this run selects"
            echo(f"plans: {given.summary()}{narrowed if len(run) < len(dataset.questions) else ''}", err=True)
        # The model's calls in flight too: the option sized the questions alone, and 16 questions shared the 4 calls
        # the setting let through (helper-214). Without it, the setting sizes both.
        settings = with_concurrency(
            settings_from(base_url, model, api_key, no_cache, timeout, context_window), concurrency
        )
        pearl = make_pearl(settings, actions, demos, on_stage=functools.partial(_waiting_on, bar))
        if given is not None:
            _note_missing_actions(given, pearl.library)
        run_dir = out if out is not None else default_out_dir(data, pearl.llm.model)
        echo(f"run directory: {run_dir}", err=True)
        before = _saved(run_dir / RESULTS_FILE)
        started = True
        summary = asyncio.run(
            arun_eval(
                pearl,
                dataset,
                chosen,
                run_dir,
                split=split,
                limit=limit,
                concurrency=settings.concurrency,
                retry_errors=retry_errors,
                progress=bar,
                wait=wait,
                plans=given,
                plans_only=plans_only,
            )
        )
    except KeyboardInterrupt:
        bar.close()
        if not started:
            echo("interrupted", err=True)
            raise typer.Exit(interrupted_exit()) from None
        saved = len(latest_rows(load_results(run_dir / RESULTS_FILE)))
        # A run interrupted once it saved results writes their report (`arun_eval`), after the last of them.
        written = _saved(run_dir / RESULTS_FILE) != before and _newer(run_dir / REPORT_FILE, run_dir / RESULTS_FILE)
        report = f" (their report in {run_dir / REPORT_FILE})" if written else ""
        echo(
            f"interrupted: {counted(saved, 'result')} saved in {run_dir / RESULTS_FILE}{report}; "
            "run the same command again to resume",
            err=True,
        )
        raise typer.Exit(interrupted_exit()) from None
    except PearlError as exc:
        bar.close()
        if isinstance(exc, RunWriteError) and isinstance(exc.summary, EvalSummary):
            # Every result saved, the reports not written: the report is printed all the same.
            echo(render_report(exc.summary), nl=False)
            raise fail(str(exc), exit_code(exc)) from None
        # A settings error is the same on a re-run: resuming is worth a word only once the run has saved a result
        # (another run's lock is no such error: that run writes the file).
        saved_now = started and _saved(run_dir / RESULTS_FILE) != before
        kept = (
            started  # the run directory is known: the failure came once the run began
            and (not isinstance(exc, ConfigError) or saved_now)
            and not isinstance(exc, RunBusyError)
            and _saved(run_dir / RESULTS_FILE) > 0  # a run that saved nothing holds nothing to resume
        )
        resume = "" if isinstance(exc, UnansweredError) else "; re-run to resume"  # its message says how
        # A run stopped once it had saved results writes their report (`arun_eval`, on the same condition).
        stopping = isinstance(exc, UnansweredError) or stops_a_run(exc)
        written = kept and saved_now and stopping and (run_dir / REPORT_FILE).is_file()
        report = f", and their report in {run_dir / REPORT_FILE}" if written else ""
        hint = f" (results so far are kept in {run_dir}{resume}{report})" if kept else ""
        raise fail(f"{exc}{hint}", exit_code(exc)) from None
    bar.close()
    echo(render_report(summary), nl=False)
    echo(f"wrote {run_dir / SUMMARY_FILE}, {run_dir / REPORT_FILE} and {run_dir / REPORT_HTML_FILE}", err=True)
    _note_rows_left_out(run_dir, summary.rows)
    errors = sum(m.errors for m in summary.methods)
    if pearl.llm.is_demo:
        echo(DEMO_NOTICE, err=True)
    if errors:
        results = sum(m.n for m in summary.methods)  # a question's result per method
        asked = {(q.id, method) for q in selected for method in chosen}
        where = f"(see 'error' in {run_dir / RESULTS_FILE}); " + _what_to_do(run_dir, errors, plans, asked)
        if errors < results:
            echo(f"{errors:,} of {counted(results, 'result')} failed {where}", err=True)
        else:  # nothing was answered: a script or CI job must not read the run as done
            raise fail(f"all {counted(results, 'result')} failed {where}", EXIT_FAILED)


def _what_to_do(run_dir: Path, errors: int, plans: Path | None, asked: set[tuple[str, str]]) -> str:
    """How to run the failed questions again: --retry-errors, except for a given plan that does not parse, which fails
    the same way until it is mended (a changed plan is run again by the next run). `asked`: this run's (question id,
    method) pairs, of the rows the folder holds."""
    try:
        rows = [row for key, row in latest_rows(load_results(run_dir / RESULTS_FILE)).items() if key in asked]
    except (OSError, PearlError):
        rows = []
    # The failed results of plans that do not parse: a question's, once per method.
    unparsed = [row.id for row in rows if plans is not None and row.plan_given and row.error_type == "PlanParseError"]
    if not unparsed:
        # Named: "add --retry-errors" alone was said of an error that says a retry fails the same way ("choose
        # another --model"), which the user then had to look up in the results file.
        failed = [row for row in rows if row.error]
        if not failed:
            return "add --retry-errors to run those again"
        same = ", each the same" if len(failed) > 1 and len({row.error for row in failed}) == 1 else ""
        # Each failure judged by its own kind: a timeout or a 5xx may pass on its own, a refused request fails alike.
        passing = [row for row in failed if _may_pass(row.error_type)]
        first = shorten(" ".join(((passing or failed)[0].error or "").split()), 300).rstrip(".")
        if not passing:
            return (
                f"the first error{same}: {first}; a retry fails the same way until that is mended, then --retry-errors"
            )
        alike = len(failed) - len(passing)
        rest = (
            ""
            if not alike
            else "; one of them fails alike until what it says is mended"
            if alike == 1
            else f"; {alike} of them fail alike until what they say is mended"
        )
        return f"add --retry-errors to run those again (the first error{same}: {first}){rest}"
    plans_bad = len(set(unparsed))
    one = plans_bad == 1
    bad = f"{counted(plans_bad, 'given plan')} {'does' if one else 'do'} not parse: mend {'it' if one else 'them'} in "
    bad += f"{plans}, and the next run runs {'it' if one else 'them'} again"
    return bad if len(unparsed) >= errors else f"add --retry-errors to run the others again; {bad}"


def _may_pass(error_type: str | None) -> bool:
    """Whether a failure of this kind (a row's `error_type`) may pass when asked again: pearl's retried errors."""
    kind = ERROR_NAMES.get(error_type or "")
    return kind is not None and issubclass(kind, RetryableError)


def _note_rows_left_out(run_dir: Path, reported: int) -> None:
    """Say so when the run folder holds results of earlier runs this report leaves out (other methods, more
    questions): a narrower run into a finished folder rewrote its report, and the rest looked lost."""
    try:
        held = len(latest_rows(load_results(run_dir / RESULTS_FILE)))
    except (OSError, PearlError):  # the report is written; a note is not worth an error
        return
    if held > reported:
        echo(
            f"note: the report covers this run's {counted(reported, 'result')}; {run_dir / RESULTS_FILE} also keeps "
            f"{counted(held - reported, 'result')} of earlier runs (other methods or questions): run with those "
            "to report them too, at no cost",
            err=True,
        )


@app.command("compare", epilog=example("pearl compare runs/quality-qwen runs/quality-llama -m pearl,direct"))
@json_errors
def compare_command(
    run_a: Annotated[
        Path, typer.Argument(metavar="RUN_A", help="An eval run's folder (its --out).", parser=given_path)
    ],
    run_b: Annotated[Path, typer.Argument(metavar="RUN_B", help="Another run's, of the same data.", parser=given_path)],
    methods: Annotated[
        str | None,
        typer.Option(
            "--methods",
            "-m",
            metavar="NAMES",
            help="Comma-separated methods to compare (default: every method both runs have results for).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare two eval runs of the same data (another model, library, demonstrations or pearl version): each
    method against itself, question by question, with a paired interval and McNemar's test."""
    chosen = [m.strip() for m in methods.split(",") if m.strip()] if methods is not None else None
    if chosen is not None and not chosen:
        raise fail("--methods names no method: give one or more, comma-separated (e.g. -m pearl,direct)")
    with handled():
        compared = compare_runs(run_a, run_b, chosen)
    if as_json:
        echo_json(compared.model_dump(mode="json"))
        return
    echo(render_comparison(compared), nl=False)


def _saved(results: Path) -> int:
    """The size of a run's results file (-1 when there is none): whether a run saved anything."""
    try:
        return results.stat().st_size
    except OSError:
        return -1


def _newer(path: Path, than: Path) -> bool:
    """Whether `path` was written no earlier than `than` (False when either is missing)."""
    try:
        return path.stat().st_mtime_ns >= than.stat().st_mtime_ns
    except OSError:
        return False


def _waiting_on(bar: ProgressBar, stage: str, done: int = 0, total: int = 0) -> None:
    """A question's stage as the run's bar shows it: a document being indexed or embedded, which all questions about
    it wait on (the bar stood still, its seconds too, for 13 s on a 100k-word document: helper-227)."""
    if stage in ("index", "embed"):
        bar.aside(describe_stage(stage, done, total) if done < total or not total else "")
    else:  # a question goes on: what was indexed is done
        bar.aside("")


def _note_missing_actions(given: PlanSet, library: ActionLibrary) -> None:
    """Say so when most given plans call actions the library lacks: run, each would be its question's error."""
    failing, names = given.missing_actions(library)
    if failing and 2 * failing >= len(given.plans):
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        echo(
            f"note: {failing} of {len(given.plans)} given plans call actions the library {library.name} lacks "
            f"({shown}), and will fail; give the plans' own action list with {PLANS_OWN_ACTIONS}",
            err=True,
        )
