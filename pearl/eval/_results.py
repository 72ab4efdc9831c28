"""`results.jsonl`: an append-only log of result rows that survives being killed at any moment.

Each row goes out as one `write()` of a whole line on a descriptor opened with O_APPEND,
then `fsync`. A process killed with SIGKILL cannot stop a write half way, so only a power
cut can leave a partial last line; it is cut away before the next run appends (and skipped
by readers). A pair (question id, method) may appear more than once, after `--retry-errors`;
readers keep its last row without an error.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from pearl._files import decode_json, read_bytes
from pearl.errors import ConfigError, RunWriteError
from pearl.eval._models import ResultRow

__all__ = ["RESULTS_FILE", "ResultsLog", "latest_rows", "load_results"]

log = logging.getLogger("pearl.eval")

RESULTS_FILE = "results.jsonl"


def _parse(data: bytes, path: Path) -> list[ResultRow]:
    rows: list[ResultRow] = []
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    if tail.strip():
        log.warning("%s: ignoring a partial last line (a run was cut off while writing it)", path)
    for number, raw in enumerate(complete, start=1):
        if not raw.strip():
            continue
        try:
            rows.append(ResultRow.model_validate(decode_json(raw, f"{path}:{number}", ValueError)))
        except ValueError:  # pydantic's ValidationError included
            log.warning("%s:%d: not a result row; skipped", path, number)
    return rows


def load_results(path: str | Path) -> list[ResultRow]:
    """Every complete row of a results file (or of `DIR/results.jsonl`), in file order; [] if there is none.

    Raises:
        ConfigError: the file is a directory or unreadable.
    """
    path = Path(path)
    if path.is_dir() and path.name != RESULTS_FILE:
        path = path / RESULTS_FILE
    return _parse(read_bytes(path, "results file", missing_ok=True), path)


def latest_rows(rows: Iterable[ResultRow]) -> dict[tuple[str, str], ResultRow]:
    """One row per (question id, method): the last one without an error, else the last one. A row answered with
    other prompts than the one before it (`ResultRow.prompts_sha256`: run again after they changed) replaces it
    even when it failed: a method's figures never mix two versions of its prompts."""
    chosen: dict[tuple[str, str], ResultRow] = {}
    for row in rows:
        key = (row.id, row.method)
        previous = chosen.get(key)
        if (
            previous is None
            or row.error is None
            or previous.error is not None
            or (
                None not in (row.prompts_sha256, previous.prompts_sha256)
                and row.prompts_sha256 != previous.prompts_sha256
            )
        ):
            chosen[key] = row
    return chosen


class ResultsLog:
    """Appends rows to a results file, durably, one line per row. Safe to call from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._opened = False
        self._lock = threading.Lock()

    def open(self) -> list[ResultRow]:
        """Open for appending, first cutting away a partial last line; returns the rows already there.

        Raises:
            ConfigError: the file is a directory, or cannot be read or written.
        """
        data = read_bytes(self.path, "results file", missing_ok=True)
        rows = _parse(data, self.path)
        end = data.rfind(b"\n") + 1
        if end < len(data):
            # Appending after a partial line would glue the next row onto it and corrupt both.
            with self.path.open("r+b") as handle:
                handle.truncate(end)
                handle.flush()
                os.fsync(handle.fileno())
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot write results file {self.path}: {exc.strerror or exc}") from None
        self._opened = True
        return rows

    def append(self, row: ResultRow) -> None:
        """Write one row as one line and make it durable before returning.

        Raises:
            RunWriteError: the line cannot be written (a full disk); the file is left as it was before it.
        """
        line = (json.dumps(row.model_dump(mode="json"), ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            if self._fd is None and not self._opened:
                raise RuntimeError("ResultsLog.append() before open()")
            # A result whose write was on its way when the run stopped and closed the file is saved all the same.
            fd = self._fd if self._fd is not None else self._reopen()
            end = os.fstat(fd).st_size
            try:
                view = memoryview(line)
                while view:  # a regular file takes it in one write; loop only for the pathological case
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):  # a part of the line would glue the next run's first row onto it
                    os.ftruncate(fd, end)
                raise RunWriteError(f"cannot save a result in {self.path} ({exc.strerror or exc})") from None
            finally:
                if fd != self._fd:
                    os.close(fd)

    def _reopen(self) -> int:
        try:
            return os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            raise RunWriteError(f"cannot save a result in {self.path} ({exc.strerror or exc})") from None

    def close(self) -> None:
        """Close the file (idempotent); waits for a write in progress."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
