"""What every `pearl` command shares: option declarations, settings from options, the one error handler,
and the one way to print (`echo`, `echo_json`), which keeps terminal control sequences a model or a
document wrote from reaching the terminal, and steps around a progress line drawn on stderr
(`STDERR_LINE`; log records and warnings go the same way, through `StderrHandler`).

Exit codes (also in the README):

- 0: done;
- 1: a failure along the way (the model failed after retries, no valid plan, a step failed), or
  `ask` printed its answer but could not write the `--trace` file;
- 2: bad input or settings: the user must change something (file, option, URL, key, model);
- 130: interrupted (Ctrl-C); work already saved (eval rows, mining progress) is kept;
- 143: stopped by SIGTERM (`kill`, a container stopping), handled as a Ctrl-C is, the same kept.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, TextIO

import typer

from pearl._pearl import Pearl
from pearl._text import CONTROL_PICTURES, counted, shorten
from pearl.actions import default_library, load_library
from pearl.config import Settings, load_flag_settings, set_where
from pearl.documents import SUPPORTED_SUFFIXES, left_out_notes, reads_as_code
from pearl.errors import (
    ConfigError,
    ContextError,
    DatasetError,
    DocumentError,
    EmbeddedModelError,
    LLMRequestError,
    PearlError,
)
from pearl.models import Document, Trace
from pearl.planning import load_demos
from pearl.protocols import StageProgress

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "PLANS_OWN_ACTIONS",
    "STDERR_LINE",
    "ActionsOpt",
    "ApiKey",
    "BaseUrl",
    "DemosOpt",
    "Failure",
    "MaxBytes",
    "ModelOpt",
    "NoCache",
    "OptionOpt",
    "Quiet",
    "QuietRun",
    "SafeFormatter",
    "StderrHandler",
    "Timeout",
    "Window",
    "check_output_path",
    "counted",
    "echo",
    "echo_json",
    "example",
    "exit_code",
    "fail",
    "given_path",
    "handled",
    "interrupted_exit",
    "make_pearl",
    "refuse_overwriting",
    "safe",
    "settings_from",
    "stop_on_sigterm",
    "unused_model",
    "with_concurrency",
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
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="Seconds one attempt at a request may take in all; each retry has as long again (env PEARL_TIMEOUT).",
    ),
]
Window = Annotated[
    int | None,
    typer.Option("--context-window", metavar="TOKENS", help="Model context in tokens (env PEARL_CONTEXT_WINDOW)."),
]
MaxBytes = Annotated[
    int | None, typer.Option("--max-bytes", metavar="BYTES", help="Largest input file (env PEARL_MAX_BYTES).")
]


PLANS_OWN_ACTIONS = "--actions FILE (for the paper's plans, its actions_simplified.txt)"
"""How `ask --plan` and `eval --plans` say to give a plan the action list it was written for."""


def given_path(text: str | Path) -> Path:
    """A file or folder named on the command line (typer's `parser=`): refuses an empty name, which a path reads as
    the current folder (`--out "$DIR"` with `DIR` unset wrote a run into it), as `refuse_empty` refuses a file named
    so. A default (`Path("actions.json")`) is passed through as it is."""
    if isinstance(text, Path):
        return text
    refuse_empty([text])
    return Path(text)


ActionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--actions",
        metavar="FILE",
        help="Action library: pearl's JSON or the paper's action list, NAME(ARGS) # definition lines "
        "(default: the bundled library).",
        parser=given_path,
    ),
]
DemosOpt = Annotated[
    Path | None,
    typer.Option(
        "--demos",
        metavar="FILE",
        help="Demonstrations for the planner, JSON or JSONL (default: bundled).",
        parser=given_path,
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Show no progress on stderr (it is only drawn on a terminal anyway).")
]
QuietRun = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Show no progress on stderr (on a terminal a bar redrawn in place; off one, a line about every tenth "
        "of the run).",
    ),
]
Force = Annotated[bool, typer.Option("--force", help="Replace --out if it exists (it is never replaced unasked).")]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", metavar="TEXT", help="An answer option (repeat for multiple choice)."),
]


EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, what a shell reports for a process SIGTERM ended

_TERMINATED = threading.Event()


def stop_on_sigterm() -> None:
    """Make SIGTERM stop the command as Ctrl-C does (its trace written, work saved), ending in exit 143.

    Left at its default, SIGTERM ended the process at once: no `--trace` written, nothing said. The
    signal is passed to whatever handles Ctrl-C at that moment: `asyncio.run`'s handler cancels the
    running question, which then ends in KeyboardInterrupt; elsewhere KeyboardInterrupt is raised.
    """

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        _TERMINATED.set()
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler) and handler is not signal.default_int_handler:
            handler(signal.SIGINT, frame)
            return
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)


def interrupted_exit() -> int:
    """The exit code of a command stopped by KeyboardInterrupt: 143 when SIGTERM stopped it, else 130.

    Called as the command gives up: asyncio's own report of a task the interrupt ended ("Task exception
    was never retrieved", with its traceback) would follow the command's one line, and is silenced.
    """
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    return EXIT_TERMINATED if _TERMINATED.is_set() else EXIT_INTERRUPTED


# What a terminal acts on instead of showing: C0 controls but tab and newline (ESC starts
# title changes, cursor moves and clear-screen; BEL rings), DEL, C1 controls (0x9b is a
# one-byte CSI), and the bidirectional embeddings, overrides and isolates that reorder a line.
_UNSAFE = (
    [c for c in range(0x20) if c not in (0x09, 0x0A)]
    + [0x7F, *range(0x80, 0xA0)]
    + [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
# Shown instead: the control's own picture (ESC as ␛, BEL as ␇), else the replacement character.
_SHOWN = {c: CONTROL_PICTURES.get(c, 0xFFFD) for c in _UNSAFE}
# In JSON, C0 controls are escaped by json.dumps; the others become \uXXXX escapes, so the data stays exact.
_JSON_ESCAPED = {c: f"\\u{c:04x}" for c in _UNSAFE if c >= 0x20}


def safe(text: str) -> str:
    """`text` as it may be printed on a terminal: control characters shown as symbols, never acted on.

    Newlines and tabs are kept (a Windows line end becomes a newline); everything in `_UNSAFE` is
    replaced by a visible stand-in, so a model or document cannot retitle the window, ring the bell,
    clear the screen, move the cursor or reverse the line.
    """
    return text.replace("\r\n", "\n").translate(_SHOWN)


def safe_name(name: str) -> str:
    """A file's name as one line may print it: `safe`, and its line breaks and tabs shown as symbols too (a name
    "new\nline.md" printed raw broke a line of the output in two)."""
    return safe(name.translate({0x0D: 0x240D, 0x0A: 0x240A, 0x09: 0x2409}))


class _StderrLine:
    """The one line a progress display draws in place on stderr, which whatever else is written there steps around.

    A process has one stderr, so it has one of these (`STDERR_LINE`): a display draws and erases
    its line here, under `lock`, and a note, a log record or a warning written while the line is
    up goes through `around`, which erases the line first and draws it again after. Without it
    the text would start where the drawn line ends (`pearl: step 2/2 FIND_X  4s WARNING: ...`).
    """

    def __init__(self) -> None:
        # Reentrant: a display's own writes, and a log record emitted while the lock is held, take it again.
        self.lock = threading.RLock()
        self._stream: TextIO | None = None
        self._text = ""

    def draw(self, stream: TextIO, text: str) -> None:
        """Draw `text` on `stream` in place of the line drawn before."""
        with self.lock:
            stream.write("\r" + text + "\x1b[K")
            stream.flush()
            self._stream, self._text = stream, text

    def erase(self) -> None:
        """Erase the drawn line, if any, so what is written next starts clean."""
        self._end("\r\x1b[K")

    def keep(self) -> None:
        """End the drawn line where it is, so it stays above what is written next (a finished progress bar)."""
        self._end("\n")

    def _end(self, ending: str) -> None:
        with self.lock:
            if self._stream is not None:
                self._stream.write(ending)
                self._stream.flush()
            self._stream, self._text = None, ""

    @contextmanager
    def around(self) -> Iterator[None]:
        """Write to stderr inside this: the drawn line is erased first and drawn again after."""
        with self.lock:
            stream, text = self._stream, self._text
            self.erase()
            try:
                yield
            finally:
                if stream is not None and self._stream is None:  # not drawn anew or kept meanwhile
                    self.draw(stream, text)


STDERR_LINE = _StderrLine()
"""The progress line on stderr; everything the CLI writes there goes through `STDERR_LINE.around()`."""


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print `message` through `safe` (to stderr with `err`, around the progress line): the one way the CLI prints."""
    if not err:
        _to_stdout(safe(message), nl=nl)
        return
    with STDERR_LINE.around(), contextlib.suppress(OSError):
        # A stderr that cannot be written (`2>/dev/full`, closed) loses its notes, not the command: an answer written
        # to stdout exited 1 (helper-204).
        typer.echo(safe(message), err=True, nl=nl)


def echo_left_out(document: Document) -> None:
    """Say on stderr what `document` leaves out (`Document.left_out`): files it could not read, pages without text."""
    for note in left_out_notes(document):
        # A note is one line; a line break in it is a file's name's, which printed raw forged a line of its own.
        echo(f"note: {safe_name(note)}", err=True)


def echo_json(data: Any) -> None:
    """Print `data` as indented JSON; the decoded data is exact, and no raw control character reaches the terminal."""
    _to_stdout(json.dumps(data, indent=2, ensure_ascii=False).translate(_JSON_ESCAPED))


_UNWRITABLE: list[OSError] = []
"""The error stdout gave, once it could not be written in this command: nothing more is tried there (a failure's JSON
after it). Cleared as each command starts (`fresh_stdout`): a process that runs several must not go silent."""


def fresh_stdout() -> None:
    """Forget that stdout could not be written (`_UNWRITABLE`): a command starts."""
    _UNWRITABLE.clear()


def _to_stdout(text: str, *, nl: bool = True) -> None:
    """Write `text` to stdout; a stdout that cannot be written (a full disk, `> /dev/full`) is one error line, not a
    traceback (helper-191), and is not written again. A closed pipe (`| head -1`) is left to its own handling."""
    if _UNWRITABLE:
        return
    if sys.stdout is None:  # started with stdout closed (`>&-`): echo wrote nothing, and the answer was lost, exit 0
        _UNWRITABLE.append(OSError("stdout is closed"))
        raise fail("cannot write the output: stdout is closed", EXIT_FAILED)
    try:
        typer.echo(text, nl=nl)
    except BrokenPipeError:
        raise
    except OSError as exc:
        _UNWRITABLE.append(exc)
        raise fail(f"cannot write the output: {exc.strerror or exc}", EXIT_FAILED) from None


class SafeFormatter(logging.Formatter):
    """Log records passed through `safe`: a warning may quote a document, a reply or a file name."""

    def format(self, record: logging.LogRecord) -> str:
        return safe(super().format(record))


class StderrHandler(logging.StreamHandler[TextIO]):
    """How log records (and warnings, once captured by logging) reach stderr: `LEVEL: message`, through
    `safe`, and around the progress line, so a warning never lands in the middle of it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self.setFormatter(SafeFormatter("%(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        with STDERR_LINE.around():
            super().emit(record)


class Failure(typer.Exit):
    """The exit `fail` returns: its line is on stderr already, and kept here (`ask --json` prints it as JSON too)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code)
        self.message = message


# The library's messages name a setting by its option and its Python parameter both ("--out (out_dir=)", "(--out,
# progress_file=)", "--fresh (`fresh=True` from Python)"), and may end with what only Python can do ("; from Python,
# ..."): on the command line, the option alone.
_PYTHON_NAMES = re.compile(r" \(`?[a-z_]+=[^()`\s]*`?(?: (?:in|from) Python)?\)|, [a-z_]+=(?=\))|; from Python, [^;]*$")


def fail(message: str, code: int = EXIT_USAGE) -> Failure:
    """Print one clear line on stderr and return the exit to raise."""
    message = _PYTHON_NAMES.sub("", message)
    echo(f"error: {message}", err=True)
    return Failure(code, message)


def json_errors(command: Callable[..., None]) -> Callable[..., None]:
    """A command whose `--json` (`as_json`) output is one JSON object, a failure's too: `{"error": "..."}` on stdout
    besides the error line on stderr, as `ask --json` prints, so that a script reading stdout sees it failed."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except (Failure, KeyboardInterrupt) as exc:
            if kwargs.get("as_json"):
                echo_json({"error": exc.message if isinstance(exc, Failure) else "interrupted"})
            raise

    return run


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


def refuse_dash(path: Path | None, option: str, example_name: str) -> None:
    """Refuse "-" as an output that is a file or folder: it reads as standard output, and made a file named "-"."""
    if path is not None and str(path) == "-":
        raise fail(f"{option} -: give a name, e.g. {option} {example_name}; '-' is not standard output here")


def check_output_path(path: Path, option: str, example_name: str, *, make_folder: bool = False) -> None:
    """Refuse an output path that cannot be written, before any call is paid for; the file is not created.

    Args:
        make_folder: the command creates missing folders (`mine`, `refine`): a missing folder is
            fine, so long as no file stands where one of them would go.
    """
    refuse_dash(path, option, example_name)
    if path.is_dir():
        raise fail(f"{option} {path} is a folder; give a file name, e.g. {path / example_name}")
    folder = path.parent
    if make_folder:
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if folder.exists() and not folder.is_dir():
            raise fail(f"{option} {path}: {folder} is a file, not a folder; choose another path")
    elif not folder.is_dir():
        raise fail(f"{option} {path}: there is no folder {folder}; create it or choose another path")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise fail(f"{option} {path}: not writable; choose another path")


def refuse_overwriting(
    out: Path, option: str, inputs: Mapping[str, Path | None] | Iterable[tuple[str, Path | None]]
) -> None:
    """Refuse an output that is one of the command's input files (`--questions q.jsonl -o q.jsonl`, a hard link
    to one too), or that a folder given as input would read (`pearl ask docs/ "..." --trace docs/notes.txt`): what
    the file holds would be replaced by the output and lost, or the output read as part of the document next time.
    A file the command does not read is no one's input (`docs/trace.json`: a folder's files of other kinds are not
    read)."""
    if out.is_dir():
        return
    for name, given in inputs.items() if isinstance(inputs, Mapping) else inputs:
        if given is None or not given.exists():
            continue
        if given.is_dir():
            if _read_from(given, out):
                where = f"{option} {out} is in the {name} folder {given}"
                why = "writing it would replace what it holds" if out.exists() else "it would be read as part of it"
                raise fail(f"{where}: {why}; choose another")
        elif out.exists() and os.path.samefile(out, given):
            raise fail(f"{option} {out} is the {name} file too: writing it would replace what it holds; choose another")


def refuse_replacing(
    out: Path, option: str, force: bool, *, grows: Path | None = None, progress: Path | None = None, hint: str = ""
) -> None:
    """Refuse to write over a file that exists, unless `force`: an earlier run's library or demonstrations would be
    lost for good (`pearl mine` twice in one folder wrote its default actions.json over the first library). A file
    the command reads and adds to (`grows`: `mine --actions lib.json -o lib.json`) is written as asked, and so is
    one whose run left a `progress` file to resume (a run that wrote it and said to run again for what failed).

    Args:
        hint: what else the user may want, after the way out by `--force` ("to add to it, give --actions ...").
    """
    if force or not out.is_file() or (progress is not None and progress.is_file()):
        return
    if grows is not None and grows.is_file() and os.path.samefile(out, grows):
        return
    raise fail(f"{option} {out} exists: add --force to replace it, or choose another {option}{hint}")


def _read_from(folder: Path, path: Path) -> bool:
    """Whether reading `folder` as a document reads `path` (`pearl.documents`: files of the kinds pearl reads, none
    hidden or in a hidden folder)."""
    try:
        inside = path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return path.suffix.lower() in SUPPORTED_SUFFIXES and not any(part.startswith(".") for part in inside.parts)


def _exists(name: str) -> bool:
    if not name.strip():  # Path("") is the current folder, which exists
        return False
    try:
        return Path(name).exists()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte: not a file
        return False


def _a_word(name: str) -> bool:
    """Whether `name` reads as a word rather than a path: letters alone, perhaps with an apostrophe, a hyphen or a
    question's closing mark ("Why", "didn't", "go?")."""
    return bool(re.fullmatch(r"[^\W\d_]+(?:['’-][^\W\d_]+)*[?!,]?", name))


def is_document_file(name: str) -> bool:
    """Whether `name` is a file of a kind pearl reads (`notes.md`, `tool.py`), not words that happen to name a
    folder."""
    try:
        path = Path(name)
        return (path.suffix.lower() in SUPPORTED_SUFFIXES or reads_as_code(path)) and path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte: not a file
        return False


def files_then_text(words: list[str], command: str, what: str) -> tuple[list[str], str]:
    """The files and the text after them of `pearl ask FILE... "QUESTION"` (`what`: "question") or `pearl context`
    ("query"), refusing the text given first, or forgotten, which would otherwise read as a missing file or be
    looked for as words."""
    usage = f'pearl {command} FILE... "{what.upper()}"'
    if len(words) < 2:
        raise fail(f"give a file and a {what}: {usage}")
    *files, text = words
    refuse_empty(files)
    if not _exists(files[0]) and _exists(text):
        raise fail(
            f'"{shorten(files[0], 60)}" is not a file, but the last argument is: the {what} goes last, as in {usage}'
        )
    unquoted = next((name for name in files if _a_word(name) and not _exists(name)), None)
    if unquoted is not None and len(text.split()) == 1:
        # `pearl ask story.txt Why did she go`: the question's words, unquoted, were read as files, and the user was
        # told "Why: no such file or directory". (A question quoted after a mistyped file name, `pearl ask contrat
        # "Who signs?"`, is told that the file is missing.)
        raise fail(
            f'"{shorten(unquoted, 60)}" is no file or folder: if the words from it on are the {what}, put them in '
            f"quotes, as in {usage}"
        )
    # `pearl ask notes/*.md`, `pearl ask docs docs2` with the question forgotten: the last file would be asked as
    # the question, and every call of it paid for. (`context`'s keywords may name a file of another kind.)
    kind = "file" if is_document_file(text) else forgotten_question(text) if what == "question" else ""
    if kind:
        raise fail(
            f'the last argument, "{shorten(text, 60)}", is a {kind}, not a {what}: give the {what} last, '
            f"in quotes, as in {usage}"
        )
    return files, text


def refuse_empty(names: list[str]) -> None:
    """Refuse a file named by an empty string: it would read as the current folder, every file under it."""
    if any(not name.strip() for name in names):
        raise fail('a file\'s name is empty: give a file or folder (an unset variable, as in "$DOC"?)')


def forgotten_question(text: str) -> str:
    """`"file"` or `"folder"` when `text`, given as a question, is one word or a path naming one (`story.txt`,
    `notes/`): the question was forgotten. Words that name one ("My Docs") are a question."""
    return path_kind(text) if len(text.split()) == 1 or "/" in text else ""


def path_kind(name: str) -> str:
    """`"folder"` or `"file"` when `name` names one, else `""` (a plan or question written inline names neither)."""
    try:
        path = Path(name).expanduser()
        return "folder" if path.is_dir() else "file" if path.is_file() else ""
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte: neither
        return ""


def settings_from(
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    no_cache: bool = False,
    timeout: float | None = None,
    context_window: int | None = None,
    max_bytes: int | None = None,
    *,
    check: bool = True,
) -> Settings:
    """Resolve settings, command-line options first.

    Args:
        check: refuse a model named, or --api-key given, without a base URL (`unused_model`); `pearl config`
            shows them instead.

    Raises:
        ConfigError: a value is malformed, or (with `check`) a model is named, or --api-key given, without a base
            URL.
    """
    settings = load_flag_settings(
        base_url=base_url,
        model=model,
        api_key=api_key,
        cache=False if no_cache else None,
        timeout=timeout,
        context_window=context_window,
        max_bytes=max_bytes,
    )
    problem = unused_model(settings) if check else None
    if problem:
        raise ConfigError(problem)
    return settings


def with_concurrency(settings: Settings, concurrency: int | None) -> Settings:
    """`settings` with `--concurrency` as their `concurrency`: the option sized only the command's own gate, and the
    model's client, sized by the setting, let 4 calls through whatever it said (helper-197; `eval`'s, helper-214).
    (Not one of the flags every command takes, `pearl.config._FLAGS`: `ask` has none.)"""
    if concurrency is None:
        return settings
    sources = {**settings.sources, "concurrency": "flag --concurrency"}
    return settings.model_copy(update={"concurrency": concurrency, "sources": sources})


def unused_model(settings: Settings) -> str | None:
    """What to say of a model named, or an API key passed with --api-key, without a base URL, or None.

    The model names one on a server, and the key is a server's; without a server the embedded model
    answers (it takes neither), so what was given would be ignored and a slow demonstration model run in
    its place. A key from the environment is let be: `OPENAI_API_KEY` is set for other tools too.
    """
    if settings.base_url:
        return None
    given: list[str] = []  # what was given, each with what to do instead
    instead: list[str] = []
    if settings.model:
        kind, where = set_where(settings, "model")
        named = f"model {settings.model!r}" + (f" ({kind} {where})" if kind else "")
        if kind == "flag":
            named = f"--model {settings.model}"
        given.append(f"{named} names a model on a server")
        fixes = {"flag": "leave --model out", "env": f"unset {where}", "file": f"remove model from {where}"}
        instead.append(fixes.get(kind, "name no model"))
    if settings.api_key is not None and set_where(settings, "api_key")[0] == "flag":
        given.append("--api-key gives a key for a server")
        instead.append("leave --api-key out")
    if not given:
        return None
    return (
        f"{' and '.join(given)}, but no base URL is set, so the embedded demonstration model "
        f"would answer instead; give --base-url URL (or set PEARL_BASE_URL) as well, or {' and '.join(instead)} "
        "to use the embedded model"
    )


def make_pearl(
    settings: Settings,
    actions: Path | None = None,
    demos: Path | None = None,
    on_stage: StageProgress | None = None,
    on_trace: Callable[[Trace], None] | None = None,
) -> Pearl:
    """A `Pearl` with the given settings and, when named, an action library, demonstrations from files,
    a display of each question's stages and a keeper of its trace."""
    library = load_library(actions) if actions is not None else None
    # Demos written for another library are dropped, with a warning, rather than shown to the planner.
    store = load_demos(demos, library if library is not None else default_library()) if demos is not None else None
    return Pearl(settings=settings, library=library, demos=store, on_stage=on_stage, on_trace=on_trace)


def example(*commands: str) -> str:
    """A help epilog showing `commands` as typed, kept out of click's re-wrapping (its `\\b` marker)."""
    return "\b\nExample:\n" + "\n".join(f"  {command}" for command in commands)
