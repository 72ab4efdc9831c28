"""Do prompts show code as code? The share of code lines a prompt shows as a line of their own, as written.

Usage:
    python benchmarks/code_lines.py [FILE ...]

Each FILE is an L-Eval JSONL file (its documents, read as text: a page saved with its markup
stays markup) or a document pearl loads (.md, .txt, .html: an HTML file is converted as `pearl
ask` converts it). Without FILE: pearl's own README.md and, when Debian's python3.11-doc is
installed, the eight pages of Python's documentation `datasets/pydocs/build.py` reads, as HTML
files, as saved markup, and as the reStructuredText they were built from (`_sources/*.rst.txt`,
whose code lines are looked for as the built pages show them: without the source's indentation).

A document's code is found without pearl: the text inside each `<pre>` element of a page (by
Python's html.parser), or inside each closed Markdown code fence of any other text. Every sentence of the
document is rendered as prompts render evidence (`render_sentences`), and each non-blank code
line is looked for:

- `as written`: the line, its indentation included, is a line of the prompt (after the `[S12]`
  label that opens a prompt's line, if one does);
- `own line`: the same, indentation aside.

A line the code holds n times counts as found at most as many times as the prompt shows it.

The baseline in the same run is the same sentences with their whitespace collapsed (how pearl
showed every sentence before code kept its lines). Tokens: the code sentences' tokens (cl100k)
as shown, and collapsed.

`--sources`: source files named on their own (`pearl ask tool.py`), every non-blank line of which is a code
line: pearl's own modules, `pyproject.toml`, a few modules of Python's standard library and the C headers
of the running Python (`Python.h` and others). Each is read as `pearl ask` reads it (`load_document`: read as
code, `reads_as_code`), and, the baseline in the same run, as the same text given as prose
(`Document.from_text`, how pearl read every source file before). Printed per group: the share of code lines
shown as written and on a line of their own, the units' median and largest tokens, and tokens of all units as
shown (with the prose reading's alongside).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
import sysconfig
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import read_leval

from pearl.context import index_document, render_sentences
from pearl.context._markup import shown_texts
from pearl.documents import Document, load_document, reads_as_code
from pearl.tokens import count_tokens

ROOT = Path(__file__).resolve().parents[1]
PYDOCS = Path("/usr/share/doc/python3.11/html")
PAGES = (
    "howto/sorting.html",
    "tutorial/errors.html",
    "library/venv.html",
    "howto/unicode.html",
    "library/dataclasses.html",
    "tutorial/classes.html",
    "howto/logging.html",
    "faq/programming.html",
)
_FENCED = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1[ \t]*$", re.MULTILINE | re.DOTALL)
_LABEL = re.compile(r"^\[S\d+\] ?")


class _PreText(HTMLParser):
    """The text of each `<pre>` element of a page, as a browser shows it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self._depth += 1
            if self._depth == 1:
                self.blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.blocks[-1] += data


def code_lines(text: str) -> list[str]:
    """The non-blank lines of `text`'s code blocks, trailing blanks out: its `<pre>` elements' when it is a page
    (a doctype or `<html>` first), else its closed Markdown fences'."""
    blocks = [match.group(2) for match in _FENCED.finditer(text)]
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        blocks = []
        parser = _PreText()
        parser.feed(text)
        blocks += parser.blocks
    return _lines(blocks)


def _found(wanted: Counter[str], shown: Counter[str]) -> int:
    """How many of the `wanted` lines the prompt shows, each as often as it is wanted at most ("pass" ten times
    in the code is found ten times only if the prompt shows it ten times)."""
    return sum(min(count, shown[line]) for line, count in wanted.items())


def measure(name: str, document: Document, lines: list[str], quiet: bool = False) -> dict[str, float]:
    index = index_document(document, cache=False, ner=False)
    ids = range(index.sentence_count)
    shown = render_sentences(index, ids)
    collapsed = "\n".join(f"[S{i}] {' '.join(text.split())}" for i, text in enumerate(shown_texts(index)))
    row: dict[str, float] = {"lines": len(lines)}
    for label, prompt in (("pearl", shown), ("collapsed", collapsed)):
        as_written = Counter(_LABEL.sub("", line) for line in prompt.split("\n"))
        own = Counter(line.strip() for line in as_written.elements())
        row[f"{label} as written"] = _found(Counter(lines), as_written) / max(1, len(lines))
        row[f"{label} own line"] = _found(Counter(line.strip() for line in lines), own) / max(1, len(lines))
    code = [text for text in shown_texts(index) if "\n" in text]
    row["code tokens"] = sum(count_tokens(text) for text in code)
    row["collapsed tokens"] = sum(count_tokens(" ".join(text.split())) for text in code)
    if quiet:
        return row
    print(
        f"{name:34} code lines={len(lines):5} as written={row['pearl as written']:.3f} "
        f"(collapsed {row['collapsed as written']:.3f}) own line={row['pearl own line']:.3f} "
        f"(collapsed {row['collapsed own line']:.3f}) code tokens={row['code tokens']:.0f} "
        f"(collapsed {row['collapsed tokens']:.0f})",
        flush=True,
    )
    return row


Entry = tuple[str, Document, list[str]]
"""A document's name, the document, and its code lines."""


def _inputs(paths: list[str]) -> list[Entry]:
    """Each document of `paths`, its code found in its own text."""
    out: list[Entry] = []
    for given in paths:
        path = Path(given)
        if path.suffix == ".jsonl":
            for number, leval in enumerate(read_leval(path)):
                out.append((f"{path.name}#{number}", Document.from_text(leval.text), code_lines(leval.text)))
        else:
            out.append((path.name, load_document(path), code_lines(path.read_text(encoding="utf-8"))))
    return out


def _readmes() -> dict[str, list[Entry]]:
    """The long descriptions (READMEs) of the Python packages installed beside pearl, of 2,000 characters or more:
    the Markdown ones with their code as markdown-it-py (CommonMark; installed with pearl's CLI) finds it,
    the reStructuredText ones as docutils does, when it is installed."""
    import markdown_it

    try:
        from docutils import nodes
        from docutils.core import publish_doctree
    except ImportError:
        publish_doctree = None
        print("# docutils is not installed (pip install docutils): reStructuredText READMEs skipped")
    parser = markdown_it.MarkdownIt("commonmark")
    groups: dict[str, list[Entry]] = {"fenced": [], "indented": [], "rst": []}
    for distribution in sorted(importlib.metadata.distributions(), key=lambda d: d.metadata["Name"] or ""):
        metadata = distribution.metadata
        body = metadata.get_payload() if hasattr(metadata, "get_payload") else None  # type: ignore[attr-defined]
        kind = (metadata.get("Description-Content-Type") or "").lower()
        if not isinstance(body, str) or len(body) < 2000:
            continue
        name, document = f"{metadata['Name']} {metadata['Version']}", Document.from_text(body)
        if "markdown" in kind:
            tokens = parser.parse(body)
            for group, kind_of_block in (("fenced", "fence"), ("indented", "code_block")):
                blocks = [token.content for token in tokens if token.type == kind_of_block]
                groups[group].append((name, document, _lines(blocks)))
        elif "rst" in kind and publish_doctree is not None:
            tree = publish_doctree(body, settings_overrides={"report_level": 5, "halt_level": 5})
            blocks = [
                node.astext()
                for kind_of_block in (nodes.literal_block, nodes.doctest_block)
                for node in tree.findall(kind_of_block)
            ]
            groups["rst"].append((name, document, _lines(blocks)))
    return {
        "installed packages' Markdown READMEs, fenced code": groups["fenced"],
        "installed packages' Markdown READMEs, indented code (no fence)": groups["indented"],
        "installed packages' reStructuredText READMEs": groups["rst"],
    }


STDLIB = ("textwrap.py", "heapq.py", "argparse.py", "json/decoder.py", "asyncio/locks.py", "shlex.py")
HEADERS = ("Python.h", "object.h", "pyport.h", "unicodeobject.h", "listobject.h")


def _source_groups() -> dict[str, list[Path]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    include = Path(sysconfig.get_paths()["include"])
    return {
        "pearl's own modules (.py)": sorted((ROOT / "pearl").rglob("*.py")),
        "pyproject.toml": [ROOT / "pyproject.toml"],
        "Python's standard library (.py)": [stdlib / name for name in STDLIB if (stdlib / name).is_file()],
        "Python's C headers (.h)": [include / name for name in HEADERS if (include / name).is_file()],
    }


def _source_row(path: Path) -> dict[str, float]:
    """How a source file's lines are shown read as code (`load_document`) and as prose (`Document.from_text`)."""
    text = path.read_text(encoding="utf-8")
    lines = _lines([text])
    row: dict[str, float] = {"lines": len(lines)}
    for label, document in (("code", load_document(path)), ("prose", Document.from_text(text, name=path.name))):
        assert any(part.code for part in document.parts) == (label == "code"), path
        index = index_document(document, cache=False, ner=False)
        prompt = render_sentences(index, range(index.sentence_count))
        as_written = Counter(_LABEL.sub("", line) for line in prompt.split("\n"))
        own = Counter(line.strip() for line in as_written.elements())
        row[f"{label} as written"] = _found(Counter(lines), as_written)
        row[f"{label} own line"] = _found(Counter(line.strip() for line in lines), own)
        row[f"{label} units"] = index.sentence_count
        row[f"{label} tokens"] = count_tokens(prompt)
        row[f"{label} largest"] = max(index.sent_tokens)
        row[f"{label} sizes"] = sum(index.sent_tokens) / index.sentence_count
    return row


def _sources() -> int:
    for group, paths in _source_groups().items():
        if not paths:
            print(f"# {group}: none found")
            continue
        assert all(reads_as_code(path) for path in paths)
        rows = [_source_row(path) for path in paths]
        total = sum(row["lines"] for row in rows) or 1
        print(f"# {group} ({len(rows)} files, {total:.0f} non-blank lines)")
        for label in ("code", "prose"):
            units = sum(row[f"{label} units"] for row in rows)
            mean = sum(row[f"{label} sizes"] * row[f"{label} units"] for row in rows) / units
            print(
                f"read as {label:5}  as written={sum(row[f'{label} as written'] for row in rows) / total:.3f} "
                f"own line={sum(row[f'{label} own line'] for row in rows) / total:.3f} "
                f"units={units:.0f} mean unit={mean:.0f} "
                f"largest={max(row[f'{label} largest'] for row in rows):.0f} "
                f"tokens={sum(row[f'{label} tokens'] for row in rows):.0f}",
                flush=True,
            )
    return 0


def _lines(blocks: list[str]) -> list[str]:
    return [line.rstrip() for block in blocks for line in block.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", help="L-Eval JSONL files or documents")
    parser.add_argument("--readmes", action="store_true", help="the READMEs of the installed Python packages")
    parser.add_argument("--sources", action="store_true", help="source files read as code, against as prose")
    args = parser.parse_args(argv)
    if args.sources:
        return _sources()
    groups: dict[str, list[Entry]] = {}
    if args.paths:
        groups["given"] = _inputs(args.paths)
    elif args.readmes:
        groups = _readmes()
    else:
        groups["README.md (Markdown)"] = _inputs([str(ROOT / "README.md")])
        pages = [str(PYDOCS / page) for page in PAGES if (PYDOCS / page).exists()]
        if pages:
            groups["Python docs, .html files"] = _inputs(pages)
            texts = [(Path(page).name, Path(page).read_text(encoding="utf-8")) for page in pages]
            groups["Python docs, saved markup as text"] = [
                (f"{name} (text)", Document.from_text(text), code_lines(text)) for name, text in texts
            ]
            # The pages' reStructuredText sources, whose code is the code of the pages built from them.
            sources = [
                (PYDOCS / "_sources" / Path(page).with_suffix(".rst.txt"), text)
                for page, (_, text) in zip(PAGES, texts, strict=True)
            ]
            groups["Python docs, reStructuredText sources"] = [
                (source.name, load_document(source), code_lines(text)) for source, text in sources if source.exists()
            ]
        else:
            print(f"# {PYDOCS} is absent (apt-get install -y python3.11-doc): Python's pages skipped")
    for group, documents in groups.items():
        print(f"# {group} ({len(documents)} documents)")
        rows = [measure(name, document, lines, quiet=args.readmes) for name, document, lines in documents]
        total = sum(row["lines"] for row in rows) or 1

        def share(key: str, rows: list[dict[str, float]] = rows, total: float = total) -> float:
            return sum(row[key] * row["lines"] for row in rows) / total

        print(
            f"{'all':34} code lines={total:5.0f} as written={share('pearl as written'):.3f} "
            f"(collapsed {share('collapsed as written'):.3f}) own line={share('pearl own line'):.3f} "
            f"(collapsed {share('collapsed own line'):.3f}) code tokens={sum(r['code tokens'] for r in rows):.0f} "
            f"(collapsed {sum(r['collapsed tokens'] for r in rows):.0f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
