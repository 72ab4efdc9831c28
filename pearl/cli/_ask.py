"""`pearl ask`, `pearl plan`, `pearl trace show` and `pearl config`. Thin: parse, call the library, render."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from pearl._pearl import DEFAULT_METHOD
from pearl.cli._app import app, trace_app
from pearl.cli._common import (
    EXIT_FAILED,
    ActionsOpt,
    ApiKey,
    BaseUrl,
    DemosOpt,
    MaxBytes,
    ModelOpt,
    NoCache,
    OptionOpt,
    Timeout,
    Window,
    fail,
    handled,
    make_pearl,
    settings_from,
)
from pearl.config import Settings
from pearl.errors import PlanParseError
from pearl.llm import DEMO_NOTICE
from pearl.methods import METHODS
from pearl.models import Answer, Trace
from pearl.planning import parse_plan
from pearl.questions import Question
from pearl.trace import render_trace

__all__ = ["ask", "plan", "show_config", "trace_show"]


def _render_answer(answer: Answer) -> None:
    if answer.letter:
        option = Question(text=answer.question, options=answer.options).option(answer.letter)
        typer.echo(f"({answer.letter}) {option}".rstrip())
        if answer.answer and answer.answer.strip().strip("().") != answer.letter:
            typer.echo(f"\n{answer.answer}")
    else:
        typer.echo(answer.answer or "(no answer)")
    for citation in answer.citations:
        snippet = citation.text if len(citation.text) <= 160 else citation.text[:157] + "..."
        where = f"{Path(citation.source).name}:{citation.start}-{citation.end}"
        typer.echo(f"  [S{citation.sentence_id}] {where} {snippet}")
    usage = answer.usage
    for note in answer.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(
        f"[{answer.method}{' (fallback)' if answer.fallback else ''}] {usage.calls} LLM call(s), "
        f"{usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion tokens, "
        f"{usage.seconds:.1f}s in the model",
        err=True,
    )


@app.command()
def ask(
    files_and_question: Annotated[
        list[str], typer.Argument(help="One or more files or folders (read as one document), then the question.")
    ],
    option: OptionOpt = None,
    method: Annotated[str, typer.Option("--method", "-m", help=f"One of: {', '.join(METHODS)}.")] = DEFAULT_METHOD,
    actions: ActionsOpt = None,
    demos: DemosOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable result with usage.")] = False,
    trace: Annotated[Path | None, typer.Option("--trace", help="Write every stage's record to this file.")] = None,
    given_plan: Annotated[
        str | None,
        typer.Option(
            "--plan",
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
) -> None:
    """Answer a question about a document."""
    if len(files_and_question) < 2:
        raise fail('give a file and a question: pearl ask FILE [FILE ...] "question"')
    *files, question = files_and_question
    if method not in METHODS:
        raise fail(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if given_plan is not None and not METHODS[method].planned:
        planned = ", ".join(name for name, m in METHODS.items() if m.planned)
        raise fail(f"--plan runs a plan, which method {method} does not; choose one of {planned}")
    plan_text = _plan_text(given_plan) if given_plan is not None else None
    with handled():
        settings = settings_from(base_url, model, api_key, no_cache, timeout, context_window, max_bytes)
        pearl = make_pearl(settings, actions, demos)
        if plan_text is None:
            answer = pearl.ask(files, question, option or None, method=method)
        else:
            try:
                plan_ = parse_plan(plan_text, pearl.library, max_steps=settings.max_steps)
            except PlanParseError as exc:
                raise fail(f"--plan does not parse: {exc}") from None
            answer = pearl.run_plan(files, question, plan_, option or None, method=method)
    if trace is not None:
        trace.write_text(answer.trace.model_dump_json(indent=2), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(answer.model_dump(mode="json", exclude={"trace"}), indent=2, ensure_ascii=False))
    else:
        _render_answer(answer)
    if answer.demo_model:
        typer.echo(DEMO_NOTICE, err=True)


def _plan_text(value: str) -> str:
    """`--plan`'s value: a file's text when it names one, else the value itself (a plan written inline)."""
    path = Path(value)
    try:
        is_file = len(value) <= 4096 and path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte: not a file
        is_file = False
    if not is_file:
        if "(" in value or "=" in value:
            return value
        raise fail(f"--plan {value[:80]}: no such file; pass a plan's text or a file holding one")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"--plan {value}: cannot read ({exc})") from None


@app.command()
def plan(
    question: Annotated[str, typer.Argument(help="The question to plan for.")],
    file: Annotated[
        list[Path] | None, typer.Option("--file", "-f", help="A document whose entity sheet informs the plan.")
    ] = None,
    option: OptionOpt = None,
    actions: ActionsOpt = None,
    demos: DemosOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan and every attempt as JSON.")] = False,
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    api_key: ApiKey = None,
    no_cache: NoCache = False,
) -> None:
    """Write a plan for a question (with self-correction) and print it, without running it."""
    with handled():
        settings = settings_from(base_url, model, api_key, no_cache)
        pearl = make_pearl(settings, actions, demos)
        result, trace = pearl.plan(question, list(file) if file else None, option or None)
    if as_json:
        data = {
            "plan": result.plan.render() if result.plan else None,
            "attempts": [a.model_dump() for a in result.attempts],
            "usage": trace.usage().model_dump(),
        }
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif result.plan is not None:
        typer.echo(result.plan.render())
    for number, attempt in enumerate(result.attempts, start=1):
        if attempt.error:
            typer.echo(f"attempt {number} rejected: {attempt.error}", err=True)
    if pearl.llm.is_demo:
        typer.echo(DEMO_NOTICE, err=True)
    if result.plan is None:
        raise fail(f"no valid plan after {len(result.attempts)} attempt(s)", EXIT_FAILED)


@trace_app.command("show")
def trace_show(
    path: Annotated[Path, typer.Argument(help="A trace file written by `pearl ask --trace`.")],
    prompts: Annotated[bool, typer.Option("--prompts", help="Also print every prompt in full.")] = False,
) -> None:
    """Print a trace as a readable tree."""
    try:
        trace = Trace.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"{path}: {exc.strerror}") from None
    except ValueError as exc:
        raise fail(f"{path}: not a pearl trace ({str(exc).splitlines()[0]})") from None
    typer.echo(render_trace(trace, show_prompts=prompts))


@app.command("config")
def show_config(
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    api_key: ApiKey = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the resolved settings (API key masked) and where each came from."""
    with handled():
        settings = settings_from(base_url, model, api_key)
    shown: dict[str, Any] = settings.shown()
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    for key, value in shown.items():
        source = settings.sources.get(key, "default" if key in Settings.model_fields else "")
        typer.echo(f"{key:16} {value!s:50} {source}".rstrip())
