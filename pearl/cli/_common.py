"""What every `pearl` command shares: option declarations, settings from options, the one error handler,
and the one way to print (`echo`, `echo_json`), which keeps terminal control sequences a model or a
document wrote from reaching the terminal.

Exit codes (also in the README):

- 0: done;
- 1: a failure along the way (the model failed after retries, no valid plan, a step failed), or
  `ask` printed its answer but could not write the `--trace` file;
- 2: bad input or settings: the user must change something (file, option, URL, key, model);
- 130: interrupted (Ctrl-C); work already saved (eval rows, mining progress) is kept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

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
from pearl.protocols import StageProgress

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
    "Quiet",
    "SafeFormatter",
    "Timeout",
    "Window",
    "echo",
    "echo_json",
    "example",
    "exit_code",
    "fail",
    "handled",
    "make_pearl",
    "safe",
    "settings_from",
]

BaseUrl = Annotated[
    str | None, typer.Option("--base-url", metavar="URL", help="OpenAI-compatible endpoint (env PEARL_BASE_URL).")
]
ModelOpt = Annotated[
    str | None, typer.Option("--model", metavar="NAME", help="Model name on that server (env PEARL_MODEL).")
]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", metavar="KEY", help="API key (env PEARL_API_KEY or OPENAI_API_KEY).", show_default=False),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the response cache.")]
Timeout = Annotated[
    float | None, typer.Option("--timeout", metavar="SECONDS", help="Seconds per HTTP request (env PEARL_TIMEOUT).")
]
Window = Annotated[
    int | None,
    typer.Option("--context-window", metavar="TOKENS", help="Model context in tokens (env PEARL_CONTEXT_WINDOW)."),
]
MaxBytes = Annotated[
    int | None, typer.Option("--max-bytes", metavar="BYTES", help="Largest input file (env PEARL_MAX_BYTES).")
]
ActionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--actions",
        metavar="FILE",
        help="Action library: pearl's JSON or the paper's action list, NAME(ARGS) # definition lines "
        "(default: the bundled library).",
    ),
]
DemosOpt = Annotated[
    Path | None,
    typer.Option("--demos", metavar="FILE", help="Demonstrations for the planner, JSON or JSONL (default: bundled)."),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Show no progress on stderr (it is only drawn on a terminal anyway).")
]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", metavar="TEXT", help="An answer option (repeat for multiple choice)."),
]


EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


# What a terminal acts on instead of showing: C0 controls but tab and newline (ESC starts
# title changes, cursor moves and clear-screen; BEL rings), DEL, C1 controls (0x9b is a
# one-byte CSI), and the bidirectional embeddings, overrides and isolates that reorder a line.
_UNSAFE = (
    [c for c in range(0x20) if c not in (0x09, 0x0A)]
    + [0x7F, *range(0x80, 0xA0)]
    + [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
# Shown instead: the control's own picture (ESC as ␛, BEL as ␇), else the replacement character.
_SHOWN = {c: (0x2400 + c if c < 0x20 else 0x2421 if c == 0x7F else 0xFFFD) for c in _UNSAFE}
# In JSON, C0 controls are escaped by json.dumps; the others become \uXXXX escapes, so the data stays exact.
_JSON_ESCAPED = {c: f"\\u{c:04x}" for c in _UNSAFE if c >= 0x20}


def safe(text: str) -> str:
    """`text` as it may be printed on a terminal: control characters shown as symbols, never acted on.

    Newlines and tabs are kept (a Windows line end becomes a newline); everything in `_UNSAFE` is
    replaced by a visible stand-in, so a model or document cannot retitle the window, ring the bell,
    clear the screen, move the cursor or reverse the line.
    """
    return text.replace("\r\n", "\n").translate(_SHOWN)


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print `message` (to stderr with `err`) through `safe`: the one way the CLI prints text."""
    typer.echo(safe(message), err=err, nl=nl)


def echo_json(data: Any) -> None:
    """Print `data` as indented JSON; the decoded data is exact, and no raw control character reaches the terminal."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False).translate(_JSON_ESCAPED))


class SafeFormatter(logging.Formatter):
    """Log records passed through `safe`: a warning may quote a document, a reply or a file name."""

    def format(self, record: logging.LogRecord) -> str:
        return safe(super().format(record))


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print one clear line on stderr and return the exit to raise."""
    echo(f"error: {message}", err=True)
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


def make_pearl(
    settings: Settings,
    actions: Path | None = None,
    demos: Path | None = None,
    on_stage: StageProgress | None = None,
) -> Pearl:
    """A `Pearl` with the given settings and, when named, an action library, demonstrations from files and
    a display of each question's stages."""
    library = load_library(actions) if actions is not None else None
    # Demos written for another library are dropped, with a warning, rather than shown to the planner.
    store = load_demos(demos, library or default_library()) if demos is not None else None
    return Pearl(settings=settings, library=library, demos=store, on_stage=on_stage)


def example(*commands: str) -> str:
    """A help epilog showing `commands` as typed, kept out of click's re-wrapping (its `\\b` marker)."""
    return "\b\nExample:\n" + "\n".join(f"  {command}" for command in commands)
