"""Progress files: what a long training run has finished, so a killed run resumes where it stopped.

One JSON line per finished item (a mined question's reply, a refined question's outcome),
appended as it finishes, under a header line naming the run: `{"pearl_<kind>": 1, "key": ...}`.
The key says what the rows answer (library, prompts, model...); a file from another run is
set aside and the run starts over. A line cut short by a kill is simply not done.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from pearl._files import decode_json

__all__ = ["ProgressFile", "json_line", "progress_path"]

log = logging.getLogger("pearl.training")

_FORMAT = 1


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


class ProgressFile:
    """The items finished so far (`done`: item key -> its row), read back from and appended to `path`.

    Args:
        path: the file; None keeps nothing (a run that cannot resume).
        kind: what the run is ("mine", "refine"); part of the header.
        key: what the rows answer; a file under another key is not reused.
    """

    def __init__(self, path: Path | None, kind: str, key: str) -> None:
        self.path = path
        self.kind = kind
        self.key = key
        self.done: dict[str, dict[str, Any]] = {}

    def open(self) -> None:
        """Read the rows of an earlier run of the same key, or start the file afresh."""
        if self.path is None:
            return
        if self.path.is_file():
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
            header = json_line(lines[0]) if lines else None
            if header is not None and header.get(f"pearl_{self.kind}") == _FORMAT and header.get("key") == self.key:
                for line in lines[1:]:
                    row = json_line(line)
                    if row is not None and isinstance(row.get("q"), str):
                        self.done[row["q"]] = row
                return
            log.warning(
                "%s is from another %s run (other library, prompt or model); starting over", self.path, self.kind
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        header_line = json.dumps({f"pearl_{self.kind}": _FORMAT, "key": self.key})
        self.path.write_text(header_line + "\n", encoding="utf-8")

    def add(self, item_key: str, **fields: Any) -> None:
        """Append one finished item (its fields must be JSON-serialisable)."""
        if self.path is None:
            return
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"q": item_key, **fields}, ensure_ascii=False) + "\n")
            handle.flush()

    def remove(self) -> None:
        """Delete the file: the run is complete."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)
