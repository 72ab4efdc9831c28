"""What every `pearl` command shares: option declarations, settings from options, the one error handler.

Exit codes (also in the README):

- 0: done;
- 1: a failure along the way (the model failed after retries, no valid plan, a step failed);
- 2: bad input or settings: the user must change something (file, option, URL, key, model);
- 130: interrupted (Ctrl-C); work already saved (eval rows, mining progress) is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from pearl._pearl import Pearl
from pearl.actions import default_library, load_library
from pearl.config import Settings, load_settings
from pearl.errors import (
    ConfigError,
    ContextError,
    DatasetError,
    DocumentError,
    EmbeddedModelError,
    LLMRequestError,
    PearlError,
)
from pearl.planning import load_demos

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "ActionsOpt",
    "ApiKey",
    "BaseUrl",
    "DemosOpt",
    "MaxBytes",
    "ModelOpt",
    "NoCache",
    "OptionOpt",
    "Timeout",
    "Window",
    "exit_code",
    "fail",
    "handled",
    "make_pearl",
    "settings_from",
]

BaseUrl = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint (env PEARL_BASE_URL).")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model name on that server (env PEARL_MODEL).")]
ApiKey = Annotated[
    str | None, typer.Option("--api-key", help="API key (env PEARL_API_KEY or OPENAI_API_KEY).", show_default=False)
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the response cache.")]
Timeout = Annotated[float | None, typer.Option("--timeout", help="Seconds per HTTP request (env PEARL_TIMEOUT).")]
Window = Annotated[
    int | None, typer.Option("--context-window", help="Model context in tokens (env PEARL_CONTEXT_WINDOW).")
]
MaxBytes = Annotated[int | None, typer.Option("--max-bytes", help="Largest input file (env PEARL_MAX_BYTES).")]
ActionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--actions",
        help="Action library: pearl's JSON or the paper's action list, NAME(ARGS) # definition lines "
        "(default: the bundled library).",
    ),
]
DemosOpt = Annotated[
    Path | None, typer.Option("--demos", help="Demonstrations for the planner, JSON or JSONL (default: bundled).")
]
OptionOpt = Annotated[
    list[str] | None, typer.Option("--option", "-o", help="An answer option (repeat for multiple choice).")
]


EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print one clear line on stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def exit_code(error: PearlError) -> int:
    """`EXIT_USAGE` for bad input or settings (the user must change something), `EXIT_FAILED` otherwise."""
    user_must_act = (ConfigError, ContextError, DocumentError, DatasetError, LLMRequestError, EmbeddedModelError)
    return EXIT_USAGE if isinstance(error, user_must_act) else EXIT_FAILED


@contextmanager
def handled(hint: str = "") -> Iterator[None]:
    """The one error handler: a `PearlError` becomes one line on stderr and its exit code, never a traceback.

    Args:
        hint: appended to the message (e.g. where the work done so far is kept).
    """
    try:
        yield
    except PearlError as exc:
        raise fail(f"{exc}{hint}", exit_code(exc)) from None


def settings_from(
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    no_cache: bool = False,
    timeout: float | None = None,
    context_window: int | None = None,
    max_bytes: int | None = None,
) -> Settings:
    """Resolve settings, command-line options first."""
    return load_settings(
        base_url=base_url,
        model=model,
        api_key=api_key,
        cache=False if no_cache else None,
        timeout=timeout,
        context_window=context_window,
        max_bytes=max_bytes,
    )


def make_pearl(settings: Settings, actions: Path | None = None, demos: Path | None = None) -> Pearl:
    """A `Pearl` with the given settings and, when named, an action library and demonstrations from files."""
    library = load_library(actions) if actions is not None else None
    # Demos written for another library are dropped, with a warning, rather than shown to the planner.
    store = load_demos(demos, library or default_library()) if demos is not None else None
    return Pearl(settings=settings, library=library, demos=store)
