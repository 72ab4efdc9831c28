"""`pearl mine` and `pearl refine`. Thin: read inputs, call one library function, print."""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from pearl._pearl import DEFAULT_METHOD
from pearl._text import shorten
from pearl.actions import ActionLibrary, load_library, parse_action_list, save_library, seed_library
from pearl.cli._app import app
from pearl.cli._common import (
    EXIT_FAILED,
    ActionsOpt,
    ApiKey,
    BaseUrl,
    DemosOpt,
    Force,
    ModelOpt,
    NoCache,
    QuietRun,
    Timeout,
    Window,
    check_output_path,
    counted,
    echo,
    echo_left_out,
    example,
    exit_code,
    fail,
    given_path,
    interrupted_exit,
    make_pearl,
    refuse_overwriting,
    refuse_replacing,
    settings_from,
    with_concurrency,
)
from pearl.cli._progress import ProgressBar
from pearl.config import Settings
from pearl.documents import load_document
from pearl.errors import ConfigError, PearlError
from pearl.eval import load_dataset, read_questions, select_questions
from pearl.llm import DEMO_NOTICE, make_llm
from pearl.planning import save_demos
from pearl.prompts import token_margin
from pearl.training import (
    DEFAULT_MAX_ACTIONS,
    MiningResult,
    RefineResult,
    compare_planning,
    mine_actions,
    mine_document,
    progress_path,
    refine_demos,
    split_holdout,
)

__all__ = ["mine_command", "refine_command"]

Limit = Annotated[int | None, typer.Option("--limit", metavar="N", help="Only the first N questions.", min=1)]
Concurrency = Annotated[
    int | None,
    typer.Option(
        "--concurrency", metavar="N", help="Model calls in flight at once (default: settings).", min=1, max=256
    ),
]
DEFAULT_IMAGINED = 5
"""Questions `pearl mine --document` imagines unless told otherwise."""
DataFormat = Annotated[
    str | None,
    typer.Option("--format", metavar="FORMAT", help="quality, leval or jsonl (default: from the first line)."),
]


def _report_mining(result: MiningResult, out: Path, base: set[str]) -> None:
    library = result.library
    resumed = f", {result.resumed} resumed from the progress file" if result.resumed else ""
    echo(
        f"mined {counted(result.questions, 'question')} in {result.seconds:.1f}s: "
        f"{counted(result.proposals, 'proposal')}, "
        f"{result.malformed} malformed, {result.failed} failed{resumed}"
    )
    if result.imagined:
        echo(
            f"imagined {counted(len(result.imagined), 'question')} "
            f"({counted(result.imagine_malformed, 'line')} malformed):"
        )
        for question in result.imagined:
            echo(f"  {question}")
    echo(
        f"proposed {counted(result.proposed_new, 'new action')}, {result.distinct_new} distinct after normalisation; "
        f"{counted(result.uses, 'use')} of existing actions"
    )
    for r in result.merge.rounds:
        # A batch of the starting library's actions alone, or of one action, is not sent: nothing in it can merge.
        idle = r.batches - r.llm_batches - r.fallback_batches
        echo(
            f"merge round {r.round}: {r.before} -> {counted(r.after, 'action')} "
            f"({counted(r.batches, 'batch', 'batches')}: "
            f"{r.llm_batches} answered by the model, {r.fallback_batches} merged by definition overlap"
            + (f" ({r.failed_batches} for want of an answer from the server)" if r.failed_batches else "")
            + (f", {idle} with nothing to merge" if idle > 0 else "")
            + "; "
            f"{counted(r.rewritten, 'group')} rewritten into a broader action, {r.kept} merged into a member)"
        )
    merged_into: dict[str, list[str]] = {}
    for name, into in result.merge.renamed.items():
        merged_into.setdefault(into, []).append(name)
    for into, names in sorted(merged_into.items()):
        # What vanished, and where to: a merge the user disagrees with is seen, not found missing later.
        echo(f"  merged into {into}: {', '.join(names)}")
    if result.merge.cut:
        echo(f"cut {counted(len(result.merge.cut), 'least-used action')}: {', '.join(result.merge.cut)}")
    new = sum(a.name not in base for a in library.actions)
    echo(
        f"library {library.name} v{library.version}: {counted(len(library), 'action')}, {new} new; "
        f"{counted(result.usage.calls, 'model call')} ({result.usage.cached_calls} cached), "
        f"{result.usage.prompt_tokens:,} prompt tokens; wrote {out}"
    )
    for problem in [*result.problems, *result.merge.errors]:
        echo(f"note: {problem}", err=True)


def _nothing_usable(result: MiningResult, out: Path) -> str:
    """The error when no reply could be read: a library from nothing would only copy the one mining started from."""
    first = result.problems[0] if result.problems else "no reply"
    first = shorten(first, 400)  # its own advice (raise --timeout, the window) included
    if result.failed == result.questions:
        hint = "check the server and the model (--base-url, --model)"
    else:
        hint = "check the model: it must follow the reply format (an instruction-tuned model, named by --model)"
    # Replies read back are the same replies again: a model mended since is not asked unless told to.
    kept = [
        f"{result.resumed} from the progress file (--fresh)" if result.resumed else "",
        f"{result.usage.cached_calls} from the response cache (--no-cache)" if result.usage.cached_calls else "",
    ]
    read = " and ".join(k for k in kept if k)
    again = f"; replies were read back, {read}: add those to ask the model afresh" if read else ""
    return (
        f"no usable reply for any of {counted(result.questions, 'question')} ({result.malformed} malformed, "
        f"{result.failed} failed; first: {first}), so {out} was not written; {hint}{again}"
    )


def _nothing_new(result: MiningResult, out: Path, started: bool = False) -> str:
    """The error when mining found no new action and the result holds none (a document's actions saved alone,
    or an empty starting library), or only the library it `started` from (--document --actions FILE)."""
    imagined = bool(result.imagined)
    asked = f"the {counted(len(result.imagined), 'question')} it imagined" if imagined else "any question"
    shown = "the seed library's" if imagined and not started else "the starting library's"
    if result.failed and result.problems:
        first = shorten(result.problems[0], 200)
        then = f"{counted(result.failed, 'question')} got no reply (first: {first}): run the same command again"
    else:
        then = ("imagine more questions (--imagine N)" if imagined else "give more questions") + " to find some"
    return (
        f"the model proposed no new action for {asked} ({counted(result.uses, 'use')} of {shown} actions), "
        f"so {out} was not written; {then}"
    )


def _nothing_kept(result: RefineResult, out: Path, partial: Path, limit: int | None, rounds: int) -> str:
    """The error when refinement kept no demonstration: why, from its records, and what to check."""
    records = result.records
    failed = [r for r in records if r.error]
    no_plan = [r for r in records if not r.error and r.first_plan is None]
    wrong = [r for r in records if not r.error and r.first_plan is not None and r.kept is None and r.refused is None]
    why = [
        f"{counted(len(no_plan), 'question')} got no valid plan" if no_plan else "",
        f"{counted(len(wrong), 'plan')} ran but did not reach the gold answer" if wrong else "",
        f"{counted(result.refused, 'right plan')} wrote the gold answer into an argument" if result.refused else "",
        f"{counted(len(failed), 'question')} failed (first: {shorten(failed[0].error or '', 100)})" if failed else "",
    ]
    # More --rounds is a run of its own (the progress file's rows were made with --rounds as given): said so, as the
    # next run refuses to mix them.
    hint = (
        "check that the model writes plans with the library's actions (--actions) and can answer (--model)"
        if no_plan or failed
        else f"more or easier training questions may keep some, or more --rounds (a run of its own: with --fresh, or "
        f"another --out; these results were reached with --rounds {rounds})"
    )
    # The progress file outlives a run that kept nothing: the next run retries what the model failed on, and a run
    # with more questions reads the others back.
    more = "a larger --limit" if limit is not None else "more questions"
    again = (
        f"; run the same command again to retry those that failed (the rest resume from {partial})"
        if failed
        else f"; their results are kept in {partial}, which a run with {more} and the same --rounds reads back"
    )
    # Plans read back are the same plans again: a model mended since is not asked unless told to (the same command
    # said the same error, with no call made: helper-181).
    kept = [
        f"{result.resumed} from {partial} (--fresh)" if result.resumed and no_plan else "",
        f"{result.usage.cached_calls} from the response cache (--no-cache)" if result.usage.cached_calls else "",
    ]
    read = " and ".join(k for k in kept if k)
    afresh = f"; replies were read back, {read}: add those to ask the model afresh" if read and no_plan else ""
    return (
        f"kept no demonstration ({'; '.join(w for w in why if w)}), so {out} was not written; {hint}"
        + (again if partial.is_file() else "")
        + afresh
    )


def _stopped(
    exc: KeyboardInterrupt | PearlError,
    bars: Sequence[ProgressBar],
    partial: Path,
    kept: str,
    unwritten: Path | None = None,
) -> NoReturn:
    """End a resumable command that was interrupted or failed, naming the progress file it can resume from;
    `unwritten`: the output that could not be written, once the run was done."""
    for bar in bars:
        bar.close()
    if isinstance(exc, KeyboardInterrupt):
        hint = f"; run the same command again to resume from {partial}" if partial.is_file() else ""
        echo(f"interrupted{hint}", err=True)
        raise typer.Exit(interrupted_exit()) from None
    if unwritten is not None and partial.is_file():
        # The run's work is kept, for the same command to write once it can (the progress file went before the
        # output was written, and a folder in its place lost the whole run: helper-197).
        raise fail(f"{exc} ({kept} in {partial}; once {unwritten} can be written, re-run to write it)", exit_code(exc))
    # A settings error is the same on a re-run (a progress file of another run among them).
    resumable = partial.is_file() and not isinstance(exc, ConfigError)
    hint = f" ({kept} in {partial}; re-run to resume)" if resumable else ""
    raise fail(f"{exc}{hint}", exit_code(exc)) from None  # exc is a PearlError here


def _incomplete(result: MiningResult, out: Path, partial: Path | None, cache: bool) -> str:
    """The last line of a mining run whose library lacks what the model's server did not answer, and how the same
    command completes it (`partial`: the progress file it reads back; None for --document, which keeps none)."""
    missing = []
    if result.failed:
        first = next((p.removeprefix("failed: ") for p in result.problems if p.startswith("failed: ")), "")
        missing.append(
            f"{result.failed} of {counted(result.questions, 'question')} got no reply"
            + (f" (first: {shorten(first, 200)})" if first else "")
        )
    if result.merge.failed_batches:
        batches = result.merge.failed_batches
        missing.append(
            f"{counted(batches, 'merge batch', 'merge batches')} got no answer from the model's server and "
            f"{'was' if batches == 1 else 'were'} merged by definition overlap"
        )
    if partial is not None:
        again = f"run the same command again to complete it (the replies so far are read back from {partial})"
    else:
        cached = " (the replies so far are read back from the response cache)" if cache else ""
        again = f"run the same command again with --force to complete it{cached}"
    return f"the library written to {out} is incomplete: {'; '.join(missing)}; {again}"


@app.command("mine", epilog=example("pearl mine --questions train.jsonl -o mined.json"))
def mine_command(
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions",
            metavar="FILE",
            help="Training questions: QuALITY, L-Eval, JSONL or text, one a line.",
            parser=given_path,
        ),
    ] = None,
    document: Annotated[
        Path | None,
        typer.Option(
            "--document", metavar="FILE", help="Mine actions suited to this document instead.", parser=given_path
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="FILE", help="Where to write the library (JSON).", parser=given_path)
    ] = Path("actions.json"),
    limit: Limit = None,
    max_actions: Annotated[
        int,
        typer.Option(
            "--max-actions",
            metavar="N",
            help="Cap on the merged library's size (above the starting library's, which is kept whole).",
            min=1,
        ),
    ] = DEFAULT_MAX_ACTIONS,
    actions: Annotated[
        Path | None,
        typer.Option(
            "--actions",
            metavar="FILE",
            help="Library to start from and keep whole (default: the seed library; with --document: "
            "the new actions are saved alone).",
            parser=given_path,
        ),
    ] = None,
    data_format: DataFormat = None,
    imagine: Annotated[
        int | None,
        typer.Option(
            "--imagine", metavar="N", help="--document: questions to imagine (at most 20; default 5).", min=1, max=20
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", metavar="N", help="Most actions one merge call sees.", min=2)
    ] = 80,
    fresh: Annotated[bool, typer.Option("--fresh", help="Ignore the progress file of an earlier run.")] = False,
    concurrency: Concurrency = None,
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    api_key: ApiKey = None,
    no_cache: NoCache = False,
    timeout: Timeout = None,
    context_window: Window = None,
    quiet: QuietRun = False,
    force: Force = False,
) -> None:
    """Mine actions from training questions (or for one document) and merge them into a library."""
    if (questions is None) == (document is None):
        which = "not both" if questions is not None else "one of them"
        raise fail(f"give --questions FILE (training questions) or --document FILE (one document), {which}")
    if document is not None and limit is not None:  # it was ignored: --imagine says how many questions
        raise fail("--limit counts the questions of --questions FILE; with --document, --imagine N says how many")
    if questions is not None and imagine is not None:  # each was ignored without a word
        raise fail(
            "--imagine N says how many questions to imagine for --document FILE; --questions are read, not imagined"
        )
    if document is not None and data_format is not None:
        raise fail("--format says how --questions FILE is laid out; --document FILE is read as its kind says")
    check_output_path(out, "--out", "actions.json", make_folder=True)  # before a call is paid for
    _refuse_action_list(out)
    refuse_overwriting(out, "--out", {"--questions": questions, "--document": document})
    partial = progress_path(out)
    grow = f"; to add to the library it holds, give --actions {shlex.quote(str(out))}"
    refuse_replacing(out, "--out", force, grows=actions, progress=partial, hint=grow)
    bar = ProgressBar("mining", quiet=quiet)
    merging = ProgressBar("merging", quiet=quiet, later=True)
    unwritten: list[Path] = []  # the output while it is written: a failure there keeps the run's progress

    def refused(result: MiningResult) -> str | None:
        """Why the result is not written, or None."""
        if result.proposals == 0:
            return _nothing_usable(result, out)
        # The model asked only for actions it was shown: none is kept, or (--document --actions FILE) the library
        # would be written unchanged.
        if not result.library.actions or (document is not None and set(result.library.names) <= set(base.names)):
            return _nothing_new(result, out, given is not None)
        if questions is not None and result.progress_kept and actions is not None and _grows(out, actions):
            # Written over the library it grows, the run could not be resumed: its progress is that library's.
            return _left_as_it_was(result, out, partial)
        return None

    def write(result: MiningResult) -> None:
        """Write the library, unless it is `refused`: before the progress file is removed (`mine_actions`)."""
        if refused(result) is None:
            unwritten.append(out)
            save_library(result.library, out)
            unwritten.clear()

    try:
        settings = with_concurrency(
            settings_from(base_url, model, api_key, no_cache, timeout, context_window), concurrency
        )
        given = load_library(actions) if actions is not None else None
        llm = make_llm(settings)
        if questions is not None:
            base = given if given is not None else seed_library()
            texts = read_questions(questions, limit, data_format)
            echo(f"mining {counted(len(texts), 'question')} from {questions}; progress in {partial}", err=True)
            result = _mined(
                settings,
                mine_actions(
                    llm,
                    texts,
                    library=base,
                    max_actions=max_actions,
                    concurrency=settings.concurrency,
                    batch_size=batch_size,
                    progress_file=partial,
                    on_progress=bar,
                    fresh=fresh,
                    keep_unasked=limit is not None,
                    on_merge=merging,
                    save=write,
                ),
            )
        elif document is not None:
            # Without --actions the new actions are saved alone: none of the result's actions is "old".
            base = given if given is not None else ActionLibrary(name="none")
            doc = load_document(document, max_bytes=settings.max_bytes)
            echo_left_out(doc)
            result = _mined(
                settings,
                mine_document(
                    llm,
                    doc,
                    library=given,
                    questions=imagine or DEFAULT_IMAGINED,
                    max_actions=max_actions,
                    concurrency=settings.concurrency,
                ),
            )
            write(result)  # no progress file to keep
        problem = refused(result)
        if problem is not None:
            bar.close()
            merging.close()
            raise fail(problem, EXIT_FAILED)
    except (KeyboardInterrupt, PearlError) as exc:
        _stopped(exc, [bar, merging], partial, "replies so far are kept", unwritten[0] if unwritten else None)
    bar.close()
    merging.close()
    _report_mining(result, out, set(base.names))
    if llm.is_demo:
        echo(DEMO_NOTICE, err=True)
    if not result.complete:
        # Said to be done (exit 0, a note), a library short of what the server did not answer passed for finished with
        # a script or CI job (helper-197). The progress file keeps the replies for the same command to complete it.
        where = partial if questions is not None and partial.is_file() else None
        raise fail(_incomplete(result, out, where, settings.cache), EXIT_FAILED)


def _left_as_it_was(result: MiningResult, out: Path, partial: Path) -> str:
    """The error when a run that keeps its progress file would write over the library it grows (`--actions FILE -o
    FILE`): the next run's progress would be another library's."""
    them = "it" if result.failed == 1 else "them"
    if result.failed:
        why = f"{counted(result.failed, 'question')} got no reply"
        then = f"run the command again to ask {them} again"
    elif result.merge.failed_batches:
        batches = result.merge.failed_batches
        why = f"{counted(batches, 'merge batch', 'merge batches')} got no answer from the model's server"
        then = "run the command again to merge with the model"
    else:
        why, then = f"{partial} keeps the replies to questions --limit left out", "run without --limit"
    return (
        f"{why}, so {out}, the library this run grows, is left as it was: {then} (the replies so far are read "
        f"back from {partial}), or give another --out"
    )


def _mined(settings: Settings, mining: Coroutine[Any, Any, MiningResult]) -> MiningResult:
    """`mining` run to its end with every prompt fitted leaving `Settings.token_margin` of the window free: mining
    runs outside any question (`Pearl` sets it for a question's calls), and ignored the setting (helper-172)."""
    with token_margin(settings.token_margin):
        return asyncio.run(mining)


def _refuse_action_list(out: Path) -> None:
    """Refuse to write the mined library, pearl's JSON, over an action list in the paper's format or to a `.txt` file:
    growing `actions_simplified.txt` in place replaced its `NAME(ARGS) # definition` lines with JSON (helper-181)."""
    listed = out.suffix.lower() == ".txt"
    if not listed and out.is_file() and out.stat().st_size < 5_000_000:
        text = out.read_text(encoding="utf-8", errors="replace").removeprefix("\ufeff").lstrip()
        if text and text[0] not in "{[":
            try:
                listed = bool(parse_action_list(text)[0].actions)
            except ConfigError:  # text of another kind: replaced only with --force, as any file
                listed = False
    if listed:
        json_out = out.with_suffix(".json")
        raise fail(
            f"--out {out} {'holds' if out.is_file() else 'is a .txt file:'} an action list in the paper's format, but "
            f"mine writes pearl's JSON library (counts, examples): give --out {shlex.quote(str(json_out))}, then "
            f"`pearl actions export {shlex.quote(str(json_out))} -o FILE.txt` for the paper's format"
        )


def _grows(out: Path, actions: Path) -> bool:
    """Whether `out` is the library file `actions` names: the run grows it in place."""
    return out.is_file() and actions.is_file() and os.path.samefile(out, actions)


@app.command("refine", epilog=example("pearl refine --train train.jsonl --actions mined.json -o demos.jsonl"))
def refine_command(
    train: Annotated[
        Path,
        typer.Option("--train", metavar="FILE", help="Training questions with gold answers (QuALITY, L-Eval, JSONL)."),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="FILE", help="Where to write the demos (.jsonl, or .json).", parser=given_path
        ),
    ] = Path("demos.jsonl"),
    limit: Limit = None,
    rounds: Annotated[
        int,
        typer.Option("--rounds", metavar="N", help="Feedback rounds for a wrong plan (the paper's code: 3).", min=0),
    ] = 3,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            "-m",
            metavar="NAME",
            help="What runs each plan: pearl, or pearl-fulldoc (the paper's executor, as the paper refined).",
        ),
    ] = DEFAULT_METHOD,
    holdout: Annotated[
        int,
        typer.Option(
            "--holdout",
            metavar="N",
            help="Then plan the next N questions with and without the new store, and compare.",
            min=0,
        ),
    ] = 0,
    split: Annotated[str, typer.Option("--split", metavar="SPLIT", help="all, long, short or hard.")] = "all",
    data_format: DataFormat = None,
    actions: ActionsOpt = None,
    demos: DemosOpt = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Ignore the progress file of an earlier run.")] = False,
    concurrency: Concurrency = None,
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    api_key: ApiKey = None,
    no_cache: NoCache = False,
    timeout: Timeout = None,
    context_window: Window = None,
    quiet: QuietRun = False,
    force: Force = False,
) -> None:
    """Self-refinement: keep the plans that lead to the gold answer (after feedback if need be) as demos.

    A wrong plan is revised knowing only that it was wrong, never the gold answer; a right plan
    that writes the gold answer into its arguments is not kept. Progress is kept in
    OUT.partial.jsonl: re-run the same command to resume an interrupted run.
    """
    check_output_path(out, "--out", "demos.jsonl", make_folder=True)  # before a call is paid for
    # The new store holds the demonstrations kept this run alone: written over --demos, it would lose the rest.
    refuse_overwriting(out, "--out", {"--train": train, "--demos": demos, "--actions": actions})
    partial = progress_path(out)
    refuse_replacing(out, "--out", force, progress=partial)
    bar = ProgressBar("refining", quiet=quiet)
    comparing = ProgressBar("comparing", quiet=quiet, later=True)
    unwritten: list[Path] = []  # the output while it is written: a failure there keeps the run's progress

    def write(result: RefineResult) -> None:
        """Write the store: before the progress file is removed (`refine_demos`)."""
        if result.kept:  # a store of none would only be refused when read (`pearl ask --demos`)
            unwritten.append(out)
            save_demos(result.store, out)
            unwritten.clear()

    try:
        settings = with_concurrency(
            settings_from(base_url, model, api_key, no_cache, timeout, context_window), concurrency
        )
        pearl = make_pearl(settings, actions, demos)
        dataset = load_dataset(train, data_format)
        training, held = split_holdout(select_questions(dataset, split), limit, holdout)
        if holdout and not held:
            echo("note: no question is left for --holdout after the training ones", err=True)
        echo(f"refining on {counted(len(training), 'question')} of {train}; progress in {partial}", err=True)
        result = asyncio.run(
            refine_demos(
                pearl,
                dataset,
                training,
                rounds=rounds,
                method=method,
                concurrency=concurrency,
                name=out.stem,
                on_progress=bar,
                progress_file=partial,
                fresh=fresh,
                save=write,
            )
        )
    except (KeyboardInterrupt, PearlError) as exc:
        _stopped(exc, [bar], partial, "finished questions are kept", unwritten[0] if unwritten else None)
    stats = []
    if held and result.kept:
        bar.close()
        stores = {"without the store": pearl.demos, "with the store": result.store}
        try:
            stats = asyncio.run(compare_planning(pearl, dataset, held, stores, on_progress=comparing))
        except (KeyboardInterrupt, PearlError) as exc:
            # The store is written: say so, or a re-run would pay for the whole refinement again.
            comparing.close()
            echo(f"wrote {out} ({counted(result.kept, 'demo')}); the --holdout comparison did not finish", err=True)
            _stopped(exc, [bar], partial, "finished questions are kept")
    bar.close()
    comparing.close()
    errors = [r for r in result.records if r.error]
    echo(
        f"refined {counted(len(result.records), 'question')} in {result.seconds:.0f}s: "
        f"{counted(result.first_valid, 'first plan')} valid, {result.first_correct} right at once, "
        f"{result.revised} more right after revision; kept {counted(result.kept, 'demo')}"
        + (f"; refused {result.refused} that wrote the gold answer into an argument" if result.refused else "")
        + (f"; {len(errors)} failed" if errors else "")
        + (f"; {result.resumed} resumed from {partial}" if result.resumed else "")
    )
    # What it cost, as mine says it: a refinement of hundreds of questions said nothing of its calls (helper-214).
    # Under its line, before the --holdout comparison's, which are not in it.
    usage = result.usage
    echo(f"  {counted(usage.calls, 'model call')} ({usage.cached_calls} cached), {usage.tokens_line()}")
    for line in stats:
        echo(f"  {line.line()}")
    if not result.kept:
        raise fail(_nothing_kept(result, out, partial, limit, rounds), EXIT_FAILED)
    echo(
        f"wrote {out} (store {result.store.name} v{result.store.version}, library {pearl.library.name} "
        f"{pearl.library.fingerprint[:12]}); use it with: pearl ask --demos {out}"
        + (f" --actions {actions}" if actions else "")
    )
    for record in errors[:3]:
        echo(f"note: {record.id}: {record.error}", err=True)
    if pearl.llm.is_demo:
        echo(DEMO_NOTICE, err=True)
    retried = sum(r.model_failed for r in errors)
    if retried and partial.is_file():
        # Said to be done (exit 0, a note), a store short of the questions the model failed on passed for finished
        # with a script or CI job, as mining's incomplete library did.
        raise fail(
            f"the store written to {out} is incomplete: {counted(retried, 'question')} the model failed on "
            f"{'was' if retried == 1 else 'were'} not refined; run the same command again to try "
            f"{'it' if retried == 1 else 'them'} again (the others resume from {partial})",
            EXIT_FAILED,
        )
