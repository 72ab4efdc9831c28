"""The progress displays of the command line, both on stderr.

- `ProgressBar`, for long runs (eval, mine, refine): a line redrawn in place on a terminal, a
  line per tenth elsewhere, so a CI log shows the run advancing.
- `StageLine`, for one question (ask, plan, index, context): what it is doing now, redrawn in
  place on a terminal and erased when done; nothing elsewhere, where the stderr of a command
  carries its notes and its one-line error, which scripts read.

`--quiet` turns either off. Both draw through `STDERR_LINE`, which anything else written to
stderr while a line is drawn (a note, a log record, a warning) steps around.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time
from typing import TextIO

from pearl.cli._common import STDERR_LINE, counted, safe

__all__ = ["ProgressBar", "StageLine", "describe_stage"]


class _Display:
    """What both displays share: where they draw, whether that is a terminal, `--quiet`, the start time."""

    def __init__(self, stream: TextIO | None, tty: bool | None, quiet: bool) -> None:
        self._stream = stream
        self._tty = tty
        self.quiet = quiet
        self.started = time.perf_counter()

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def tty(self) -> bool:
        if self._tty is None:
            isatty = getattr(self.stream, "isatty", None)
            self._tty = bool(isatty and isatty())
        return self._tty


class ProgressBar(_Display):
    """A `pearl.protocols.Progress` that draws `label [####------] done/total  status  12s` on stderr.

    On a terminal the line is redrawn in place; elsewhere (CI logs, files) a full line is
    printed about every tenth of the run, and at least every `interval` seconds while the
    run advances, so logs stay readable.

    Args:
        label: what is being done ("mining", "refining", "eval").
        stream: where to draw (default: stderr at the time of the first call).
        tty: redraw in place; default: whether `stream` is a terminal.
        interval: without a terminal, the longest wait between two lines while the run advances.
        quiet: draw no bar (`--quiet`); `message` still prints.
        later: count the seconds from the first report, not from when the bar was made: a bar for what follows a
            command's main one (mining's merge rounds, refinement's --holdout plans).
    """

    def __init__(
        self,
        label: str,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        interval: float = 60.0,
        quiet: bool = False,
        later: bool = False,
    ) -> None:
        super().__init__(stream, tty, quiet)
        self.label = label
        self.interval = interval
        self.later = later
        self._tenth = -1
        self._last_line = self.started
        self._drawn = False
        self._place: tuple[int, int, str] | None = None  # the last report: done, total, status
        self._aside = ""  # what `aside` shows beside it

    def line(self, done: int, total: int, status: str = "") -> str:
        """The progress line for `done` of `total`."""
        width = 20
        filled = round(width * done / total) if total else width
        share = done / total if total else 1.0
        elapsed = time.perf_counter() - self.started
        text = f"{self.label} [{'#' * filled}{'-' * (width - filled)}] {done}/{total} {share:4.0%}"
        return f"{text}  {status}  {elapsed:,.0f}s" if status else f"{text}  {elapsed:,.0f}s"

    def __call__(self, done: int, total: int, status: str = "") -> None:
        if self.quiet:
            return
        if self._tenth < 0 and self.later:
            self.started = self._last_line = time.perf_counter()
        if self._tenth < 0 and done > 0:
            # The first report is the starting point: work counted there was done by an earlier run.
            self.message(f"resuming: {done} of {total} already done")
        self._place, self._aside = (done, total, status), ""
        line = self.line(done, total, status)
        tenth = 10 * done // max(1, total)
        if self.tty:
            with STDERR_LINE.lock:
                STDERR_LINE.draw(self.stream, line)
                self._drawn = True
                if done >= total:
                    self.close()
        elif tenth != self._tenth or done >= total or time.perf_counter() - self._last_line >= self.interval:
            with STDERR_LINE.around():
                self.stream.write(line + "\n")
                self.stream.flush()
            self._last_line = time.perf_counter()
        self._tenth = tenth

    def aside(self, text: str) -> None:
        """Show `text` (what the run waits on: "indexing 100,012 words 45%") in the line beside its status until the
        next report, or until `text` is "" (what it told of is done): the line had stood still, its seconds too,
        while a long document was indexed. Off a terminal, a line at most every `interval` seconds."""
        if self.quiet or self._place is None or self._place[0] >= self._place[1] or text == self._aside:
            return  # before the first report, after the last (the bar is closed), or nothing new
        self._aside = text
        done, total, status = self._place
        line = self.line(done, total, f"{status}  {text}" if status else text)
        if self.tty:
            with STDERR_LINE.lock:
                STDERR_LINE.draw(self.stream, line)
                self._drawn = True
        elif text and time.perf_counter() - self._last_line >= self.interval:
            with STDERR_LINE.around():
                self.stream.write(line + "\n")
                self.stream.flush()
            self._last_line = time.perf_counter()

    def message(self, text: str) -> None:
        """A line of its own, not overwritten by the next redraw."""
        with STDERR_LINE.lock:
            self.close()
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End a line drawn in place, so what is printed next starts on a line of its own."""
        with STDERR_LINE.lock:
            if self._drawn:
                STDERR_LINE.keep()
                self._drawn = False


_STEP = re.compile(r"step \S+ = (?P<action>\S+)$")
_ATTEMPT = re.compile(r"plan \(attempt \d+\)$")


def describe_stage(stage: str, done: int = 0, total: int = 0, *, running: bool = True) -> str:
    """A stage as `StageLine` shows it: "planning (attempt 2 of at most 8)", "step 2/4 FIND_X"; not `running`, as a
    stage stopped is told (an embedding stopped keeps no vectors)."""
    if stage == "index":
        share = f" {done / total:4.0%}" if total and 0 < done < total else ""
        return f"indexing {total:,} words{share}" if total else "indexing"
    if stage == "embed":
        share = f" {done / total:4.0%}" if total and 0 < done < total else ""
        kept = " (once: the vectors are kept)" if running else ""
        return f"embedding {counted(total, 'sentence')}{kept}{share}"
    if _ATTEMPT.match(stage):
        return "planning" if done <= 1 else f"planning (attempt {done} of at most {total}; the last was rejected)"
    step = _STEP.match(stage)
    if step and total:
        return f"step {done}/{total} {step.group('action')}"
    if stage == "answer":  # with a place: the answer call carries out that step of the plan too
        return f"answering (step {done}/{total})" if total else "answering"
    if stage == "choose":
        return "matching the answer to an option"
    return stage


class StageLine(_Display):
    """A `pearl.protocols.StageProgress` showing what one question is doing: `pearl: step 2/4 FIND_X  12s`.

    Drawn on stderr, redrawn in place, only on a terminal; the seconds go on counting while a
    stage waits on the model (a plan from a small local model takes a minute), and `close`
    erases the line, so nothing of it stays above the answer. Off a terminal, and with `quiet`,
    it draws nothing.

    Args:
        stream: where to draw (default: stderr at the time of the first call).
        tty: draw; default: whether `stream` is a terminal.
        quiet: draw nothing (`--quiet`).
        tick: seconds between two redraws of the same stage.
    """

    def __init__(
        self, stream: TextIO | None = None, *, tty: bool | None = None, quiet: bool = False, tick: float = 1.0
    ) -> None:
        super().__init__(stream, tty, quiet)
        self.tick = tick
        self._text: str | None = None  # what is drawn now; None: nothing
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.last = ""
        """The stage the question is in, described as a stage stopped is ("step 2/4 FIND_X"), drawn or not; "" before
        the first."""

    @property
    def active(self) -> bool:
        """Whether anything is drawn: on a terminal, unless quiet."""
        return self.tty and not self.quiet

    def __call__(self, stage: str, done: int = 0, total: int = 0) -> None:
        self.last = describe_stage(stage, done, total, running=False)
        self.show(describe_stage(stage, done, total))

    def show(self, text: str) -> None:
        """Draw `text` (with the seconds since the start) in place of the line before."""
        if not self.active:
            return
        with STDERR_LINE.lock:
            self._text = safe(text)
            self._draw()
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._keep_counting, name="pearl-stage-line", daemon=True)
            self._ticker.start()

    def _draw(self) -> None:
        line = f"pearl: {self._text}  {time.perf_counter() - self.started:,.0f}s"
        # A line wider than the terminal would wrap, and the next redraw would only erase its last part.
        STDERR_LINE.draw(self.stream, line[: _columns(self.stream) - 1])

    def _keep_counting(self) -> None:
        while not self._stop.wait(self.tick):
            with STDERR_LINE.lock:
                if self._text is not None:
                    self._draw()

    def close(self) -> None:
        """Stop counting and erase the line, so what is printed next starts clean."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with STDERR_LINE.lock:
            if self._text is not None:
                STDERR_LINE.erase()
                self._text = None


def _columns(stream: TextIO) -> int:
    """The width of the terminal `stream` is drawn on; where it has none (not a terminal, or one that
    does not say), `shutil.get_terminal_size`'s: $COLUMNS, else stdout's terminal, else 80."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # no file descriptor (io.UnsupportedOperation), or not a terminal
        columns = 0
    return columns if columns > 0 else shutil.get_terminal_size().columns
