"""The one progress display of the command line: a line redrawn in place on a terminal, a line per tenth elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """A `pearl.protocols.Progress` that draws `label [####------] done/total  status  12s` on stderr.

    On a terminal the line is redrawn in place; elsewhere (CI logs, files) a full line is
    printed about every tenth of the run, and at least every `interval` seconds while the
    run advances, so logs stay readable.

    Args:
        label: what is being done ("mining", "refining", "eval").
        stream: where to draw (default: stderr at the time of the first call).
        tty: redraw in place; default: whether `stream` is a terminal.
        interval: without a terminal, the longest wait between two lines while the run advances.
    """

    def __init__(
        self, label: str, stream: TextIO | None = None, *, tty: bool | None = None, interval: float = 60.0
    ) -> None:
        self.label = label
        self._stream = stream
        self._tty = tty
        self.interval = interval
        self.started = time.perf_counter()
        self._tenth = -1
        self._last_line = self.started
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

    def line(self, done: int, total: int, status: str = "") -> str:
        """The progress line for `done` of `total`."""
        width = 20
        filled = round(width * done / total) if total else width
        share = done / total if total else 1.0
        elapsed = time.perf_counter() - self.started
        text = f"{self.label} [{'#' * filled}{'-' * (width - filled)}] {done}/{total} {share:4.0%}"
        return f"{text}  {status}  {elapsed:,.0f}s" if status else f"{text}  {elapsed:,.0f}s"

    def __call__(self, done: int, total: int, status: str = "") -> None:
        if self._tenth < 0 and done > 0:
            # The first report is the starting point: work counted there was done by an earlier run.
            self.message(f"resuming: {done} of {total} already done")
        line = self.line(done, total, status)
        tenth = 10 * done // max(1, total)
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
            self._drawn = True
            if done >= total:
                self.close()
        elif tenth != self._tenth or done >= total or time.perf_counter() - self._last_line >= self.interval:
            self.stream.write(line + "\n")
            self._last_line = time.perf_counter()
        self._tenth = tenth
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line of its own, not overwritten by the next redraw."""
        self.close()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End a line drawn in place, so what is printed next starts on a line of its own."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
