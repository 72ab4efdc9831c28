"""Progress files: what a long training run has finished, so a killed run resumes where it stopped.

One JSON line per finished item (a mined question's reply, a refined question's outcome),
appended as it finishes, under a header line naming the run: `{"pearl_<kind>": 1, "key": ...,
"about": {...}}`. The key says what the rows answer (library, prompts, model...), and `about` the
same in words. A file from another run is refused, naming what differs (`rounds: 2 there, 1 now`):
its rows were paid for, and a changed option is more often a slip than a wish to start over,
which `fresh` does. A line cut short by a kill is simply not done.

The file is also the run's lock (where `flock` exists, not on Windows): a second run writing the
same output while the first goes on is refused (`RunBusyError`) instead of asking every question
again and mixing its rows into the first's file. The kernel drops the lock when its holder ends,
however it ends.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from pearl._files import decode_json, try_lock
from pearl.errors import ConfigError, RunBusyError

__all__ = ["SILENT_NOTHING", "SILENT_THEN", "ProgressFile", "json_line", "progress_path"]

_FORMAT = 1
SILENT_THEN = "what is done is kept: the same run, started again once the server answers, resumes from there"
"""What a run whose server stopped answering tells the user (see `pearl.eval.Silence`), in words that fit a command
and a Python call alike: mining and refinement are both, and neither knows which it is."""
SILENT_NOTHING = (
    "no question was answered, so nothing is kept: the same run, started again once the server answers, starts over"
)
"""What `SILENT_THEN` says instead when the run stopped before any question was done (helper-181: it said what is done
is kept, of a run that kept nothing)."""


def progress_path(out: str | os.PathLike[str]) -> Path:
    """Where a run writing `out` keeps its progress: `actions.json` -> `actions.json.partial.jsonl`."""
    file = Path(out)
    return file.with_name(file.name + ".partial.jsonl")


def json_line(line: str) -> dict[str, Any] | None:
    """`line` as a JSON object, or None when it is not one (cut short, garbled, too deeply nested)."""
    try:
        value = decode_json(line, "progress", ValueError)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


_DEFAULT = "the default"
"""How a setting a run's words leave out is said: runs say a setting only where it is not its default."""


class ProgressFile:
    """The items finished so far (`done`: item key -> its row), read back from and appended to `path`.

    Args:
        path: the file; None keeps nothing (a run that cannot resume).
        kind: what the run is ("mine", "refine"); part of the header.
        key: what the rows answer; a file under another key is not reused.
        about: what the key stands for, in words (setting -> value), to say what differs.
    """

    def __init__(self, path: Path | None, kind: str, key: str, about: dict[str, str] | None = None) -> None:
        self.path = path
        self.kind = kind
        self.key = key
        self.about = about or {}
        self.done: dict[str, dict[str, Any]] = {}
        self._fd: int | None = None
        self._rows = 0  # rows the file holds: read back, or added by this run
        self._added = 0  # items this run finished
        self._ended = False  # whether the file's last line was checked for a line end, before the first row added
        self._ours = False  # the file is this run's (its header read back or written): never another run's rows

    def open(self, *, fresh: bool = False) -> None:
        """Lock the file, then read the rows of an earlier run of the same key, or start the file afresh.

        Args:
            fresh: start afresh whatever the file holds.

        Raises:
            RunBusyError: another process is writing the file (its run goes on).
            ConfigError: the file holds the progress of another run (other options, library,
                prompts or model); its message names what differs.
        """
        if self.path is None or self._fd is not None:  # nothing kept, or open already
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._unusable(exc) from None
        self._lock()
        try:
            self._read(fresh)
        except BaseException:  # a full disk, a refusal: the lock is not kept by a run that does not go on
            self.close()
            raise

    def _read(self, fresh: bool) -> None:
        """`open` once the lock is held."""
        assert self.path is not None
        self.done = {}
        self._rows, self._ours = 0, False
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines() if not fresh else []
            header = json_line(lines[0]) if lines else None
            if header is not None and header.get(f"pearl_{self.kind}") == _FORMAT and header.get("key") == self.key:
                for line in lines[1:]:
                    row = json_line(line)
                    if row is not None and isinstance(row.get("q"), str):
                        self.done[row["q"]] = row
                self._rows, self._ours = len(self.done), True
                return
            if lines and any(line.strip() for line in lines[1:]):  # rows were paid for: never dropped unasked
                raise ConfigError(f"{self.path} holds {self._difference(header)}")
            header_line = json.dumps({f"pearl_{self.kind}": _FORMAT, "key": self.key, "about": self.about})
            self.path.write_text(header_line + "\n", encoding="utf-8")  # the same file: the lock holds
            self._ours = True
        except OSError as exc:
            raise self._unusable(exc) from None

    def _lock(self) -> None:
        """Hold the file's lock, creating the file if need be; `RunBusyError` when another process holds it.

        A finished run deletes its file: a lock taken on it just before is on a file no longer there,
        which another run could create afresh and lock too, so the lock is taken again on the new one.
        """
        assert self.path is not None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise self._unusable(exc) from None
            if not try_lock(fd):
                os.close(fd)
                raise RunBusyError(
                    f"another run is writing {self.path} (a {self.kind} run into the same output): "
                    "wait for it to end, or write elsewhere (--out, progress_file=)"
                )
            if self._holds(fd):
                self._fd = fd
                return
            os.close(fd)

    def _unusable(self, exc: OSError) -> ConfigError:
        return ConfigError(f"cannot read or write the progress file {self.path}: {exc.strerror or exc}")

    def close(self) -> None:
        """Let go of the lock: the file stays, to resume from, if it holds a row (a run refused or stopped before
        any item finished leaves nothing behind). Idempotent."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        empty, self._ours = self._ours and self._rows == 0, False
        try:
            if empty and sys.platform != "win32":
                self._unlink(fd)  # under the lock, as `remove` deletes
        finally:
            os.close(fd)
        if empty and sys.platform == "win32":  # pragma: no cover - no lock there: the file is deleted once closed
            self._unlink(None)

    def _holds(self, fd: int) -> bool:
        """Whether the file at `path` is the one `fd` holds open (not deleted, nor made anew by another run since)."""
        assert self.path is not None
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def _unlink(self, fd: int | None) -> None:
        """Delete the file if it is still the one `fd` holds (`_holds`); a file that cannot be deleted stays, its
        header alone, which the next run reads as nothing done."""
        assert self.path is not None
        try:
            if fd is None or self._holds(fd):
                self.path.unlink()
        except OSError:
            pass

    def _difference(self, header: dict[str, Any] | None) -> str:
        """What the file holds instead of this run's progress, and what to do, in words."""
        other = next((key[6:] for key in header or {} if key.startswith("pearl_") and key != f"pearl_{self.kind}"), "")
        if other:  # `mine -o x.json` over what `refine -o x.json` left: --fresh would drop the refinement's rows
            ours = f"not a {self.kind} run: write this one elsewhere (--out, progress_file=)"
            return f"the progress of a {other} run, {ours}"
        there = header.get("about") if header is not None else None
        if header is None or header.get(f"pearl_{self.kind}") != _FORMAT:
            why = "written by another version of pearl, or not a progress file"
        elif not isinstance(there, dict):
            why = "written by an earlier version of pearl"
        else:
            # A setting said only where it is not its default (`_limits`) is the default where it is not said.
            names = [*self.about, *(name for name in there if name not in self.about)]
            differs = [name for name in names if str(there.get(name, _DEFAULT)) != str(self.about.get(name, _DEFAULT))]
            # Another method sends other prompts: its name says so, their ids would only bury it.
            if "--method" in differs and "prompts" in differs:
                differs.remove("prompts")
            changed = [
                f"{name}: {there.get(name, _DEFAULT)} there, {self.about.get(name, _DEFAULT)} now" for name in differs
            ]
            why = "; ".join(changed) or "a library or demonstrations edited since, under the same name and version"
        return (
            f"the progress of another {self.kind} run ({why}): run with the same options to resume it, "
            "or start over with --fresh (`fresh=True` from Python), which drops its rows"
        )

    @property
    def kept(self) -> bool:
        """Whether any item is finished: read back, or added by this run (kept in the file, where there is one)."""
        return self._added > 0 or bool(self.done)

    def silent_then(self) -> str:
        """What a run stopped by a silent server can do: resume what is kept (`SILENT_THEN`), or start again."""
        return SILENT_THEN if self.kept else SILENT_NOTHING

    def add(self, item_key: str, **fields: Any) -> None:
        """Append one finished item (its fields must be JSON-serialisable)."""
        self._added += 1
        if self.path is None:
            return
        row = json.dumps({"q": item_key, **fields}, ensure_ascii=False) + "\n"
        if not self._ended:  # a run stopped mid-write left a line cut short: the next row starts a line of its own
            self._ended = True
            if self._cut_short():
                row = "\n" + row
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(row)
            handle.flush()
        self._rows += 1

    def _cut_short(self) -> bool:
        """Whether the file's last line has no line end (a row written onto it was lost with it)."""
        if self.path is None:
            return False
        try:
            with self.path.open("rb") as handle:
                if handle.seek(0, 2) == 0:
                    return False
                handle.seek(-1, 2)
                return handle.read(1) != b"\n"
        except OSError:
            return False

    def remove(self) -> None:
        """Delete the file: the run is complete. The lock goes with it, after the file (a run that locks the
        file meanwhile finds it gone: see `_lock`); before it on Windows, which deletes no open file."""
        self._ours = False  # deleted here, not again by `close`
        if sys.platform == "win32":  # pragma: no cover - no flock there either: the file is not a lock
            self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        self.close()
