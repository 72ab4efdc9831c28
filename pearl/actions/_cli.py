"""`pearl mine`, `pearl refine` and `pearl actions ...`. Thin: read inputs, call one library function, print."""

from __future__ import annotations

import asyncio
import difflib
import sys
import time
from pathlib import Path
from typing import Annotated, TextIO

import typer

from pearl._cli_common import (
    ActionsOpt,
    ApiKey,
    BaseUrl,
    DemosOpt,
    ModelOpt,
    NoCache,
    Timeout,
    Window,
    exit_code,
    fail,
    make_pearl,
    settings_from,
)
from pearl.actions._library import load_library, save_library, seed_library
from pearl.actions._mine import (
    DEFAULT_MAX_ACTIONS,
    MiningResult,
    mine_actions,
    mine_document,
    progress_path,
    read_questions,
)
from pearl.actions._models import Action, ActionLibrary
from pearl.documents import load_document
from pearl.errors import PearlError
from pearl.llm import DEMO_NOTICE, make_llm

__all__ = ["register"]

Limit = Annotated[int | None, typer.Option("--limit", help="Only the first N questions.", min=1)]
Concurrency = Annotated[
    int | None, typer.Option("--concurrency", help="Model calls in flight at once (default: settings).", min=1)
]
DataFormat = Annotated[
    str | None, typer.Option("--format", help="quality, leval or jsonl (default: from the first line).")
]


class _Bar:
    """A one-line progress display on stderr: redrawn in place on a terminal, a line per tenth elsewhere."""

    def __init__(self, label: str, extra_label: str = "malformed", stream: TextIO | None = None) -> None:
        self.label = label
        self.extra_label = extra_label
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.perf_counter()
        self.shown = -1

    def __call__(self, done: int, total: int, extra: int) -> None:
        width = 20
        filled = round(width * done / total) if total else width
        line = (
            f"{self.label} [{'#' * filled}{'-' * (width - filled)}] {done}/{total}  "
            f"{self.extra_label} {extra}  {time.perf_counter() - self.started:,.0f}s"
        )
        tenth = 10 * done // max(1, total)
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        elif tenth != self.shown or done == total:
            self.stream.write(line + "\n")
        self.shown = tenth
        self.stream.flush()


def _report_mining(result: MiningResult, out: Path, base: set[str]) -> None:
    library = result.library
    resumed = f", {result.resumed} resumed from the progress file" if result.resumed else ""
    typer.echo(
        f"mined {result.questions} question(s) in {result.seconds:.1f}s: {result.proposals} proposal(s), "
        f"{result.malformed} malformed, {result.failed} failed{resumed}"
    )
    if result.imagined:
        typer.echo(f"imagined {len(result.imagined)} question(s) ({result.imagine_malformed} line(s) malformed):")
        for question in result.imagined:
            typer.echo(f"  {question}")
    typer.echo(
        f"proposed {result.proposed_new} new action(s), {result.distinct_new} distinct after normalisation; "
        f"{result.uses} use(s) of existing actions"
    )
    for r in result.merge.rounds:
        typer.echo(
            f"merge round {r.round}: {r.before} -> {r.after} actions ({r.batches} batch(es): "
            f"{r.llm_batches} merged by the model, {r.fallback_batches} by definition overlap)"
        )
    if result.merge.cut:
        typer.echo(f"cut {len(result.merge.cut)} least-used action(s): {', '.join(result.merge.cut)}")
    new = sum(a.name not in base for a in library.actions)
    typer.echo(
        f"library {library.name} v{library.version}: {len(library)} action(s), {new} new; "
        f"{result.usage.calls} model call(s) ({result.usage.cached_calls} cached), "
        f"{result.usage.prompt_tokens:,} prompt tokens; wrote {out}"
    )
    for problem in [*result.problems, *result.merge.errors]:
        typer.echo(f"note: {problem}", err=True)


def _mine_command(
    questions: Annotated[
        Path | None, typer.Option("--questions", help="Training questions: QuALITY, L-Eval, JSONL or text, one a line.")
    ] = None,
    document: Annotated[
        Path | None, typer.Option("--document", help="Mine actions suited to this document instead.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the library (JSON).")] = Path("actions.json"),
    limit: Limit = None,
    max_actions: Annotated[
        int, typer.Option("--max-actions", help="Cap on the merged library's size.", min=1)
    ] = DEFAULT_MAX_ACTIONS,
    actions: Annotated[
        Path | None,
        typer.Option(
            "--actions",
            help="Library to start from and keep whole (default: the seed library; with --document: "
            "the new actions are saved alone).",
        ),
    ] = None,
    data_format: DataFormat = None,
    imagine: Annotated[int, typer.Option("--imagine", help="--document: questions to imagine.", min=1)] = 5,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Most actions one merge call sees.", min=2)] = 80,
    fresh: Annotated[bool, typer.Option("--fresh", help="Ignore the progress file of an earlier run.")] = False,
    concurrency: Concurrency = None,
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    api_key: ApiKey = None,
    no_cache: NoCache = False,
    timeout: Timeout = None,
    context_window: Window = None,
) -> None:
    """Mine actions from training questions (or for one document) and merge them into a library."""
    if (questions is None) == (document is None):
        raise fail("give --questions FILE (training questions) or --document FILE (one document), not both")
    partial = progress_path(out)
    try:
        settings = settings_from(base_url, model, api_key, no_cache, timeout, context_window)
        given = load_library(actions) if actions is not None else None
        llm = make_llm(settings)
        if questions is not None:
            base = given if given is not None else seed_library()
            texts = read_questions(questions, limit, data_format)
            if fresh:
                partial.unlink(missing_ok=True)
            typer.echo(f"mining {len(texts)} question(s) from {questions}; progress in {partial}", err=True)
            result = asyncio.run(
                mine_actions(
                    llm,
                    texts,
                    library=base,
                    max_actions=max_actions,
                    concurrency=concurrency or settings.concurrency,
                    batch_size=batch_size,
                    progress_file=partial,
                    on_progress=_Bar("mining"),
                )
            )
        elif document is not None:
            # Without --actions the new actions are saved alone: none of the result's actions is "old".
            base = given if given is not None else ActionLibrary(name="none")
            doc = load_document(document, max_bytes=settings.max_bytes)
            result = asyncio.run(
                mine_document(
                    llm,
                    doc,
                    library=given,
                    questions=imagine,
                    max_actions=max_actions,
                    concurrency=concurrency or settings.concurrency,
                )
            )
        save_library(result.library, out)
    except KeyboardInterrupt:
        hint = f"; run the same command again to resume from {partial}" if partial.is_file() else ""
        typer.echo(f"\ninterrupted{hint}", err=True)
        raise typer.Exit(130) from None
    except PearlError as exc:
        hint = f" (replies so far are kept in {partial}; re-run to resume)" if partial.is_file() else ""
        raise fail(f"{exc}{hint}", exit_code(exc)) from None
    _report_mining(result, out, set(base.names))
    if llm.is_demo:
        typer.echo(DEMO_NOTICE, err=True)


def _refine_command(
    train: Annotated[
        Path, typer.Option("--train", help="Training questions with gold answers (QuALITY, L-Eval, JSONL).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the demos (.jsonl, or .json).")] = Path(
        "demos.jsonl"
    ),
    limit: Limit = None,
    rounds: Annotated[int, typer.Option("--rounds", help="Feedback rounds for a wrong plan.", min=0)] = 2,
    holdout: Annotated[
        int,
        typer.Option(
            "--holdout", help="Then plan the next N questions with and without the new store, and compare.", min=0
        ),
    ] = 0,
    split: Annotated[str, typer.Option("--split", help="all, long, short or hard.")] = "all",
    data_format: DataFormat = None,
    actions: ActionsOpt = None,
    demos: DemosOpt = None,
    concurrency: Concurrency = None,
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    api_key: ApiKey = None,
    no_cache: NoCache = False,
    timeout: Timeout = None,
    context_window: Window = None,
) -> None:
    """Self-refinement: keep the plans that lead to the gold answer (after feedback if need be) as demos."""
    from pearl.eval import load_dataset, select_questions
    from pearl.planning import compare_planning, refine_demos, save_demos

    try:
        settings = settings_from(base_url, model, api_key, no_cache, timeout, context_window)
        pearl = make_pearl(settings, actions, demos)
        dataset = load_dataset(train, data_format)
        chosen = select_questions(dataset, split)
        training = chosen[:limit] if limit is not None else chosen
        held = chosen[len(training) : len(training) + holdout]
        if holdout and not held:
            typer.echo("note: no question is left for --holdout after the training ones", err=True)
        bar = _Bar("refining", "kept")
        typer.echo(f"refining on {len(training)} question(s) of {train}", err=True)
        result = asyncio.run(
            refine_demos(
                pearl, dataset, training, rounds=rounds, concurrency=concurrency, name=out.stem, on_progress=bar
            )
        )
        save_demos(result.store, out)
        stats = (
            asyncio.run(
                compare_planning(
                    pearl, dataset, held, {"without the store": pearl.demos, "with the store": result.store}
                )
            )
            if held
            else []
        )
    except KeyboardInterrupt:
        typer.echo("\ninterrupted; the response cache keeps finished calls, so a re-run is quick", err=True)
        raise typer.Exit(130) from None
    except PearlError as exc:
        raise fail(str(exc), exit_code(exc)) from None
    errors = [r for r in result.records if r.error]
    typer.echo(
        f"refined {len(result.records)} question(s) in {result.seconds:.0f}s: "
        f"{result.first_valid} first plan(s) valid, {result.first_correct} right at once, "
        f"{result.revised} more right after revision; kept {result.kept} demo(s)"
        + (f"; {len(errors)} failed" if errors else "")
    )
    for line in stats:
        typer.echo(f"  {line.line()}")
    typer.echo(
        f"wrote {out} (store {result.store.name} v{result.store.version}, library {pearl.library.name} "
        f"{pearl.library.fingerprint[:12]}); use it with: pearl ask --demos {out}"
        + (f" --actions {actions}" if actions else "")
    )
    for record in errors[:3]:
        typer.echo(f"note: {record.id}: {record.error}", err=True)
    if pearl.llm.is_demo:
        typer.echo(DEMO_NOTICE, err=True)


actions_app = typer.Typer(help="Inspect and compare action libraries.", no_args_is_help=True)


def _load(path: Path | None) -> ActionLibrary:
    try:
        return load_library(path)
    except PearlError as exc:
        raise fail(str(exc), exit_code(exc)) from None


def _line(action: Action) -> str:
    return f"{action.signature}  {action.definition}"


def _about(library: ActionLibrary) -> str:
    prompts = ", ".join(f"{stage}={pid}" for stage, pid in sorted(library.prompts.items()))
    return f"# {library.name} v{library.version}: {len(library)} action(s), fingerprint {library.fingerprint[:12]}" + (
        f"; prompts {prompts}" if prompts else ""
    )


@actions_app.command("list")
def _list_command(
    file: Annotated[Path | None, typer.Argument(help="A library JSON file (default: the bundled library).")] = None,
    counts: Annotated[bool, typer.Option("--counts", help="Append how many mined questions asked for each.")] = False,
) -> None:
    """One action per line: `NAME(PARAMS)  definition`."""
    library = _load(file)
    typer.echo(_about(library), err=True)
    for action in library.actions:
        typer.echo(_line(action) + (f"  [{action.count}]" if counts else ""))


@actions_app.command("show")
def _show_command(
    name: Annotated[str, typer.Argument(help="The action's name.")],
    actions: ActionsOpt = None,
) -> None:
    """Everything about one action: signature, definition, flags, provenance."""
    library = _load(actions)
    action = library.get(name)
    if action is None:
        close = difflib.get_close_matches(name.upper(), library.names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see: pearl actions list"
        raise fail(f"library {library.name} has no action {name.upper()}{hint}")
    typer.echo(action.signature)
    typer.echo(f"  {action.definition}")
    flags = [f for f, on in (("reads the document", action.needs_document), ("variadic", action.variadic)) if on]
    if action.pure:
        flags.append("runs locally, without the model")
    typer.echo(f"  library: {library.name} v{library.version}" + (f"; {', '.join(flags)}" if flags else ""))
    if action.count or action.examples:
        typer.echo(f"  asked for by {action.count} mined question(s)")
        for example in action.examples:
            typer.echo(f"    e.g. {example}")


@actions_app.command("diff")
def _diff_command(
    old: Annotated[Path, typer.Argument(help="The first library.")],
    new: Annotated[Path, typer.Argument(help="The second library.")],
) -> None:
    """What changed between two libraries: `-` removed, `+` added, `~` changed signature or definition."""
    a, b = _load(old), _load(new)
    typer.echo(f"--- {old} ({a.name} v{a.version}, {len(a)} actions)")
    typer.echo(f"+++ {new} ({b.name} v{b.version}, {len(b)} actions)")
    removed = [x for x in a.actions if x.name not in b]
    added = [x for x in b.actions if x.name not in a]
    changed = 0
    for action in removed:
        typer.echo(f"- {_line(action)}")
    for action in added:
        typer.echo(f"+ {_line(action)}")
    for before in a.actions:
        after = b.get(before.name)
        if after is None:
            continue
        if before.signature != after.signature:
            changed += 1
            typer.echo(f"~ {before.signature} -> {after.signature}")
        if before.definition != after.definition or before.pure != after.pure:
            changed += before.signature == after.signature
            typer.echo(f"~ {after.name}: {before.definition!r} -> {after.definition!r}")
    same = len(a) - len(removed) - changed
    typer.echo(f"{len(added)} added, {len(removed)} removed, {changed} changed, {same} unchanged")


def register(app: typer.Typer) -> None:
    """Add `mine`, `refine` and `actions` to `app` (the `pearl` CLI calls this)."""
    app.command("mine")(_mine_command)
    app.command("refine")(_refine_command)
    app.add_typer(actions_app, name="actions")
