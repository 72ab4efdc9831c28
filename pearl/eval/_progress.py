"""Progress of an evaluation run: done / total, running score, token spend, errors.

On a terminal one line is redrawn in place; elsewhere (CI logs, files) a full line is
printed about every tenth of the run (and at least every `interval` seconds while rows
keep coming), so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Protocol, TextIO

from pearl.eval._models import ResultRow

__all__ = ["Progress", "TextProgress"]


class Progress(Protocol):
    """Told about a run as it goes; `start` once, `update` per finished row, `finish` once."""

    def start(self, total: int, done: Sequence[ResultRow]) -> None:
        """`total` (question, method) pairs in the run, `done` those already finished by an earlier run."""
        ...

    def update(self, row: ResultRow) -> None:
        """A row was written."""
        ...

    def finish(self) -> None:
        """The run ended (completed, failed or interrupted)."""
        ...


class TextProgress:
    """A one-line progress display on a stream (default: stderr at the time of `start`).

    Args:
        stream: where to write.
        tty: redraw in place (True) or print a line every ~10% (False); default: `stream.isatty()`.
        interval: without a terminal, also print a line when this many seconds passed since the last.
    """

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None, interval: float = 60.0) -> None:
        self._stream = stream
        self._tty = tty
        self.interval = interval
        self._last_line = 0.0
        self.total = 0
        self.done = 0
        self.skipped = 0
        self.errors = 0
        self._score = 0.0
        self._prompt = 0
        self._completion = 0
        self._started = 0.0
        self._next_line = 0
        self._drawn = False

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def tty(self) -> bool:
        if self._tty is None:
            isatty = getattr(self.stream, "isatty", None)
            self._tty = bool(isatty and isatty())
        return self._tty

    def start(self, total: int, done: Sequence[ResultRow]) -> None:
        self.total = total
        self.skipped = len(done)
        self.done = 0
        for row in done:
            self._add(row)
        self._started = time.perf_counter()
        self._next_line = self._step()
        if self.skipped:
            self._write_line(f"resuming: {self.skipped} of {total} results already done")
        self._draw(force=True)

    def _step(self) -> int:
        remaining = self.total - self.skipped
        return max(1, -(-remaining // 10))

    def _add(self, row: ResultRow) -> None:
        self._score += row.score
        self._prompt += row.prompt_tokens
        self._completion += row.completion_tokens
        self.errors += row.error is not None

    def update(self, row: ResultRow) -> None:
        self.done += 1
        self._add(row)
        self._draw()

    def status(self) -> str:
        """The current state as one line."""
        finished = self.skipped + self.done
        share = finished / self.total if self.total else 1.0
        score = self._score / finished if finished else 0.0
        elapsed = time.perf_counter() - self._started
        width = 20
        bar = "#" * round(share * width) + "-" * (width - round(share * width))
        text = (
            f"[{bar}] {finished}/{self.total} {share:4.0%}  score {100 * score:5.1f}  "
            f"tokens {self._prompt:,} + {self._completion:,}  {elapsed:,.0f}s"
        )
        return text + (f"  errors {self.errors}" if self.errors else "")

    def _write_line(self, text: str) -> None:
        if self._drawn:
            self.stream.write("\n")
            self._drawn = False
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last_line = time.perf_counter()

    def _draw(self, force: bool = False) -> None:
        if self.tty:
            self.stream.write("\r" + self.status() + "\x1b[K")
            self.stream.flush()
            self._drawn = True
        elif (
            force
            or self.done >= self._next_line
            or self.skipped + self.done == self.total
            or time.perf_counter() - self._last_line >= self.interval
        ):
            while self._next_line <= self.done:
                self._next_line += self._step()
            self._write_line(self.status())

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
