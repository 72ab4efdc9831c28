"""What the held-out set builders share: golds found in their pages, L-Eval rows written out."""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import cast


def not_run(argv: Sequence[str], usage: str, doc: str | None, counts: tuple[int, ...] = (1,)) -> int | None:
    """The exit code when `argv` does not name what `usage` asks for (OUT.jsonl...), having said so, else None: an
    option was taken as the file to write (`--help` became a 735 KB file named "--help"). `-h`/`--help` prints `doc`
    and exits 0."""
    if len(argv) in counts and not any(arg.startswith("-") for arg in argv):
        return None
    if "-h" in argv or "--help" in argv:
        print(doc or f"usage: {usage}")
        return 0
    print(f"usage: {usage}", file=sys.stderr)
    return 2


def read_page(docs: Path, page: str) -> tuple[str | None, str]:
    """Page `page` under `docs` as saved (its HTML, markup and all), or None and why not."""
    path = docs / page
    try:
        return path.read_text(encoding="utf-8"), ""
    except FileNotFoundError:
        return None, f"no {path}"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{path}: {exc}"


def read_installed(path: str) -> tuple[str | None, str]:
    """A document a Debian package installs: its text (decompressed where it is gzipped), or None and why not."""
    try:
        if path.endswith(".gz"):
            with gzip.open(path) as handle:
                return handle.read().decode("utf-8"), ""
        return Path(path).read_text(encoding="utf-8"), ""
    except FileNotFoundError:
        return None, f"no {path} (its Debian package is not installed)"
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        return None, f"{path}: {exc}"


def build_rows(
    data: Mapping[str, Sequence[tuple[str, str]]],
    read: Callable[[str], tuple[str | None, str]],
    source: str,
    unread: str,
) -> tuple[list[dict[str, object]], list[str]]:
    """One L-Eval row per page `read` returns, and what was left out (a page not read, a gold its page lacks).

    Args:
        data: (question, gold written with single spaces) per page name.
        read: a page's text, or None and why not.
        source: the rows' source, before the page's name.
        unread: what befell a page `read` could not give ("not rendered").
    """
    rows: list[dict[str, object]] = []
    left_out: list[str] = []
    for page, questions in data.items():
        text, why = read(page)
        if text is None:
            count = f"{len(questions)} question{'s' if len(questions) != 1 else ''}"
            left_out.append(f"{page}: {unread}, {count} left out: {why}")
            continue
        kept: list[tuple[str, str]] = []
        for number, (question, gold) in enumerate(questions, 1):
            # The page's own text is what is written out: its line breaks and spaces between the gold's words.
            found = re.search(r"\s+".join(re.escape(word) for word in gold.split()), text)
            if found is None:
                left_out.append(f"{page} question {number}: the page does not say {gold!r}")
            else:
                kept.append((question, found.group()))
        if kept:
            rows.append(
                {
                    "input": text,
                    "instructions": [q for q, _ in kept],
                    "outputs": [g for _, g in kept],
                    "source": f"{source} {page}",
                    "evaluation": "f1",
                }
            )
    return rows, left_out


def write_rows(out: str, rows: list[dict[str, object]], left_out: list[str], pages: str) -> int:
    """Say what was left out, write `rows` to `out` as JSONL and say how many; 2 if no row (exit code)."""
    for line in left_out:
        print(f"left out: {line}", file=sys.stderr)
    if not rows:
        print("no page of the set is here", file=sys.stderr)
        return 2
    Path(out).write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    count = sum(len(cast(list[str], row["instructions"])) for row in rows)
    print(f"wrote {out}: {len(rows)} {pages}, {count} questions")
    return 0
