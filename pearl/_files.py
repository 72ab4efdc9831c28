"""Files pearl reads and writes: one guarded reader, atomic writes, and a lock for a folder one process owns.

Every file pearl reads from disk (action libraries, demonstrations, traces, result rows,
`run.json`, the settings file) goes through `read_text`, and every JSON among them through
`decode_json`, so a file that is missing, a directory, unreadable, not UTF-8, not JSON, or
nested too deeply always ends as one error that names the file and says what to do, never
as a `UnicodeDecodeError` or `RecursionError` traceback.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from pearl._replies import JSONReplyError
from pearl._replies import read_json as read_json_text
from pearl._text import shorten
from pearl.errors import ConfigError

__all__ = [
    "PAGE_PREAMBLE",
    "FolderLock",
    "atomic_write_bytes",
    "atomic_write_text",
    "decode_json",
    "is_pdf",
    "looks_binary",
    "read_bytes",
    "read_json",
    "read_text",
    "try_lock",
]


def read_bytes(path: Path, what: str, error: type[Exception] = ConfigError, *, missing_ok: bool = False) -> bytes:
    """The bytes of a file pearl reads.

    Args:
        what: what the file is, for messages ("action library", "trace").
        error: the exception to raise.
        missing_ok: return b"" for a file that does not exist.

    Raises:
        error: the file is missing, a directory, or unreadable; the message names it.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return b""
        raise error(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a folder, not a file; name a file in it") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None


PAGE_PREAMBLE = r"(?:<\?xml[^<>]{0,200}>\s*)*(?:<!--(?:[^-]|-(?!->)){0,2000}-->\s*)*"
"""A pattern for what may open a saved web page before its doctype or `<html>`: an XHTML page's XML declaration
(and processing instructions), then comments, each to its first "-->". (Read lazily, a comment could end at any
later "-->": "<!--a--><!--b-->" was one comment or two, and a run of 30 before text that is no page 2**29 ways.)"""


def is_pdf(data: bytes) -> bool:
    """Whether `data` (a file's first bytes are enough) is a PDF, by its signature, whatever the file is named."""
    return data.startswith(b"%PDF-")


def looks_binary(data: bytes) -> bool:
    """Whether `data` holds NUL bytes in its first 8 KiB: a binary file (or UTF-16/32 text, told by its byte-order
    mark before this is asked)."""
    return b"\x00" in data[:8192]


def read_text(path: Path, what: str, error: type[Exception] = ConfigError, *, missing_ok: bool = False) -> str:
    """The UTF-8 text of a file pearl reads (a UTF-8 byte-order mark is dropped); see `read_bytes`.

    Raises:
        error: as `read_bytes`, or the file is not UTF-8 text (a PDF, a binary file).
    """
    data = read_bytes(path, what, error, missing_ok=missing_ok)
    if is_pdf(data):  # one written as text only would decode, and be read line by line
        raise error(f"{what} {path} is a PDF, not a text file; give its text as a UTF-8 file")
    if looks_binary(data):
        raise error(f"{what} {path}: not text (it holds NUL bytes: a binary file, or UTF-16); give a UTF-8 text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"{what} {path}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "convert it to UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from None


def decode_json(text: str | bytes, where: str, error: type[Exception] = ConfigError) -> Any:
    """Decode JSON read from a file, raising `error` (prefixed with `where`) instead of a traceback.

    The same guarded decoder as a model's replies (`pearl._replies.read_json`): one decoder for
    every JSON pearl reads.

    Raises:
        error: not JSON, a number too long to convert, or nested too deeply for the decoder.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return read_json_text(text, max_chars=len(text))
    except JSONReplyError as exc:
        raise error(f"{where}: {exc}") from None


def read_json(path: Path, what: str, error: type[Exception] = ConfigError) -> Any:
    """`decode_json` of `read_text(path, what, error)`: the one way pearl reads a JSON file."""
    return decode_json(read_text(path, what, error), f"{what} {path}", error)


def atomic_write_bytes(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write `data` to `path` through a temporary file in the same folder, then rename it over `path`.

    The file ends with the permissions a plain `open(path, "w")` gives (0666 less the umask), or
    keeps those of the file it replaces.

    Args:
        sync: fsync the file before the rename (skip for caches, which are rebuilt if lost).

    Raises:
        OSError: the folder or file cannot be written (the temporary file is removed).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        kept: int | None = path.stat().st_mode & 0o777
    except OSError:
        kept = None
    tmp_name: str | None = None
    try:
        # Made as `open(path, "w")` makes a file, 0666 less the umask (the kernel applies it), not 0600
        # as `tempfile` would: renamed as it is, a report or export would be unreadable to everyone else.
        for _ in range(100):
            name = str(path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp"))
            try:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            except FileExistsError:
                continue
            tmp_name = name
            break
        else:
            raise FileExistsError(f"no free temporary name beside {path}")
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            if kept is not None:  # a file replaced keeps its permissions
                os.chmod(tmp_name, kept)
            if sync:
                os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str, *, sync: bool = True) -> None:
    """`atomic_write_bytes` of `text` encoded as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"), sync=sync)


class FolderLock:
    """An exclusive lock on a folder, held through an open lock file in it (`flock`).

    The kernel drops the lock when its holder closes the file or dies, SIGKILL included, so
    a lock is never stale: a dead run never blocks the next one. The lock file stays behind
    (removing it would let two processes lock two different files); it holds the holder's pid.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if it is free; False when another process holds it.

        Raises:
            OSError: the lock file cannot be created.
        """
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not try_lock(fd):
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """Who holds the lock, as the file says ("process 1234"), or "another process"."""
        try:
            pid = self.path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            pid = ""
        return f"process {pid}" if pid.isdigit() else "another process"

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


def try_lock(fd: int) -> bool:
    """Take an exclusive `flock` on the open file `fd` if no other process holds one (True)."""
    if sys.platform == "win32":  # pragma: no cover - no flock; a run folder is not guarded there
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """A validation error's location as a reader writes it: `events[1].prompt_tokens`, `actions[3].definition`."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "top level"


def field_problem(err: Any, form: str = "not of the form it takes") -> str:
    """What is wrong with a field, from one of pydantic's `exc.errors()`, said for a person editing the file, where
    pydantic's words name its own checks ("String should match pattern '^[A-Z][A-Z0-9_]*$'", "Input should be a valid
    boolean, unable to interpret input"); the value given is quoted, shortened. `form`: what a value that does not
    match the field's pattern is not ("a name: ...")."""
    kind, given = err.get("type"), err.get("input")
    shown = shorten(json.dumps(given, ensure_ascii=False, default=repr), 60)
    if kind == "string_pattern_mismatch":
        return f"{shown} is {form if form.startswith('not ') else 'not ' + form}"
    if kind == "string_too_short":
        return "is empty"
    if kind == "string_too_long" and isinstance(given, str):
        return f"is too long ({len(given)} characters; at most {err.get('ctx', {}).get('max_length', '?')})"
    if kind in ("bool_parsing", "bool_type"):
        return f"{shown} is not true or false"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{shown} is not a whole number"
    if kind in ("string_type", "list_type", "dict_type", "model_type"):
        wanted = {"string_type": "text in quotes", "list_type": "a list [...]"}.get(kind, "an object {...}")
        return f"{shown} is not {wanted}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return f"{shown} is out of range ({str(err.get('msg', '')).removeprefix('Input should be ')})"
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        return "is not a field pearl knows (check its spelling)"
    return str(err.get("msg", "invalid")).removeprefix("Value error, ")


def invalid_fields(errors: list[Any], count: int, shown: int = 3) -> str:
    """Where a file fails validation and why, one clause each (`events[1].prompt_tokens: "many" is not a whole
    number`: `field_problem`), from pydantic's `exc.errors()` and `exc.error_count()`: its own message names no
    entry."""
    found = [f"{field_path(tuple(err.get('loc', ())))}: {field_problem(err)}" for err in errors[:shown]]
    return "; ".join(found) + (f"; and {count - shown} more" if count > shown else "")
