"""Do prompts read quoted and ruled text as text? Marks down the side of a passage, read with and without them.

Usage:
    python benchmarks/quoted_lines.py [SET.jsonl ...]

Two kinds of plain text put marks down the side of their lines, which are layout, not words:

- quotes: Markdown's block quotes and e-mail replies ("> "), here the block quotes of the
  Markdown READMEs of the Python packages installed beside pearl, found by markdown-it-py
  (CommonMark), not by pearl;
- rules: pydoc's text pages put " |  " down the side of each class's section; here the pages
  `pydoc.render_doc` writes for 20 standard modules. Each page is also written without the rule
  (the same renderer with its indentation helper made to indent with spaces alone), which is
  what a reader reads.

For every two lines in a row inside one paragraph of a quote or a class section (both holding
words), the *joint*: the last word of the first line and the first word of the second. Measured:

    read across  the joint, "word word", stands in the prompt that shows every sentence of the
                 document (labels out, whitespace collapsed), i.e. no mark between the two words;
    one unit     the two lines' words are in one sentence unit (a sentence cut at a line break is
                 shown and cited in two halves).

Baseline in the same run: the same documents segmented and shown with the marks read as text
(`MarkupView` without its gutters), which is how pearl read them before. For the pydoc pages,
also the same page written without the rule, segmented by pearl: what the marks cost at most.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.metadata
import pydoc
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import default_data_dir, read_leval

from pearl.context._index import units_of
from pearl.context._markup import MarkupView

MODULES = (
    "json",
    "textwrap",
    "argparse",
    "collections",
    "pathlib",
    "logging",
    "subprocess",
    "dataclasses",
    "enum",
    "fractions",
    "decimal",
    "shlex",
    "string",
    "difflib",
    "csv",
    "configparser",
    "zipfile",
    "tarfile",
    "queue",
    "threading",
)
_WORD = re.compile(r"[^\W_][\w'’-]*")
_RULE = re.compile(r"^( *)\|(?:  |$)")
_LABEL = re.compile(r"\[S\d+\] ?")


@dataclasses.dataclass
class Units:
    spans: list[tuple[int, int]]
    prompt: str


def units(text: str, marks: bool) -> Units:
    """The sentence units of `text` and the prompt showing them all, as pearl segments and shows them (`marks`:
    with the quote marks and rules down the side read as text, as before)."""
    view = MarkupView.of(text)
    if marks:
        view = dataclasses.replace(view, gutters=(), breaks=())
    seg = units_of(text, view)
    prompt = " ".join(view.shown(text, s, e) for s, e in seg.sentences)
    return Units(seg.sentences, " ".join(prompt.split()))


# (end of the first line's last word, start of the second's first word, "word word", whether the first ends a sentence)
Joint = tuple[int, int, str, bool]
_ENDS = re.compile(r"[.!?:;][\"'”’)\]*]*$")


def joints(text: str, paragraphs: list[tuple[int, int]], strip: Callable[[str], str]) -> list[Joint]:
    """The joints of each paragraph (a range of line numbers) of `text`, lines cleared of their marks by `strip`."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    out: list[Joint] = []
    for first, last in paragraphs:
        for i in range(first, last - 1):
            a, b = strip(lines[i]), strip(lines[i + 1])
            left, right = a.split(), b.split()
            if not _WORD.search(a) or not _WORD.search(b):
                continue
            end = starts[i] + lines[i].rstrip().rfind(left[-1]) + len(left[-1])
            begin = starts[i + 1] + len(lines[i + 1]) - len(b) + b.find(right[0])
            out.append((end, begin, f"{left[-1]} {right[0]}".lower(), bool(_ENDS.search(left[-1]))))
    return out


def score(text: str, found: list[Joint], marks: bool) -> tuple[int, int]:
    """How many joints the prompt reads across, and how many of those inside a sentence lie inside one unit."""
    shown = units(text, marks)
    prompt = _LABEL.sub("", shown.prompt).lower()
    across = sum(phrase in prompt for _, _, phrase, _ in found)
    inside = sum(any(s <= end and begin <= e for s, e in shown.spans) for end, begin, _, ends in found if not ends)
    return across, inside


class _Unruled(pydoc.TextDoc):
    """pydoc's text renderer, indenting with spaces alone where it draws " |  " down a class's side."""

    def indent(self, text: str, prefix: str = "    ") -> str:
        return super().indent(text, " " * len(prefix))


def _pydoc_pages() -> list[tuple[str, str, str]]:
    """(name, page with the rule, page without it) for each module of `MODULES`."""
    pages = []
    for name in MODULES:
        module = importlib.import_module(name)
        ruled = pydoc.render_doc(module, renderer=pydoc.plaintext)
        plain = pydoc.render_doc(module, renderer=_Unruled())
        pages.append((name, pydoc.plain(ruled), pydoc.plain(plain)))
    return pages


def _rule_paragraphs(text: str) -> list[tuple[int, int]]:
    """Runs of lines down a class section's rule with words after it: a blank "|" line ends a paragraph."""
    found: list[tuple[int, int]] = []
    start = None
    lines = text.split("\n")
    for i, line in enumerate([*lines, ""]):
        inside = bool(_RULE.match(line)) and bool(line.split("|", 1)[1].strip())
        if inside and start is None:
            start = i
        elif not inside and start is not None:
            found.append((start, i))
            start = None
    return found


def _unruled(line: str) -> str:
    return line.split("|", 1)[1] if _RULE.match(line) else line


def _readme_quotes() -> list[tuple[str, str, list[tuple[int, int]]]]:
    """(name, README, the line ranges of the paragraphs inside its block quotes) for Markdown READMEs with quotes."""
    import markdown_it

    parser = markdown_it.MarkdownIt("commonmark")
    out = []
    for distribution in sorted(importlib.metadata.distributions(), key=lambda d: d.metadata["Name"] or ""):
        metadata = distribution.metadata
        body = metadata.get_payload() if hasattr(metadata, "get_payload") else None  # type: ignore[attr-defined]
        kind = (metadata.get("Description-Content-Type") or "").lower()
        if not isinstance(body, str) or "markdown" not in kind:
            continue
        depth = 0
        paragraphs = []
        for token in parser.parse(body):
            depth += {"blockquote_open": 1, "blockquote_close": -1}.get(token.type, 0)
            if depth and token.type == "paragraph_open" and token.map:
                paragraphs.append((token.map[0], token.map[1]))
        if paragraphs:
            out.append((f"{metadata['Name']} {metadata['Version']}", body, paragraphs))
    return out


def _within_sentences(found: list[Joint]) -> int:
    return sum(not ends for *_, ends in found)


def _unquoted(line: str) -> str:
    return re.sub(r"^ {0,3}(?:> ?)+", "", line)


@dataclasses.dataclass
class Tally:
    joints: int = 0
    in_sentences: int = 0  # joints whose first line does not end a sentence
    across: int = 0
    inside: int = 0
    before_across: int = 0
    before_inside: int = 0
    bare_across: int = 0
    bare_inside: int = 0

    def add(self, text: str, found: list[Joint], bare: str | None = None) -> None:
        """Score `found` on `text` with and without its marks read, and on `bare`, the text written without them."""
        self.joints += len(found)
        self.in_sentences += sum(not ends for *_, ends in found)
        across, inside = score(text, found, False)
        before_across, before_inside = score(text, found, True)
        self.across, self.inside = self.across + across, self.inside + inside
        self.before_across, self.before_inside = self.before_across + before_across, self.before_inside + before_inside
        if bare is not None:  # the page written without the rule: the rule's characters are spaces, offsets kept
            bare_across, bare_inside = score(bare, found, False)
            self.bare_across, self.bare_inside = self.bare_across + bare_across, self.bare_inside + bare_inside

    def line(self, name: str, bare: bool) -> str:
        n, m = self.joints or 1, self.in_sentences or 1
        without = f"{self.bare_across / n:.3f} / {self.bare_inside / m:.3f}" if bare else "n/a"
        return (
            f"| {name} | {self.joints:,} | {self.across / n:.3f} / {self.inside / m:.3f} | "
            f"{self.before_across / n:.3f} / {self.before_inside / m:.3f} | {without} |"
        )


def _marked(paths: list[Path]) -> tuple[int, int]:
    """How many documents of the L-Eval files `paths` have marks down the side, of how many: a document
    without them is read exactly as before (no gutter: nothing is blanked and no paragraph is cut)."""
    documents = [row.text for path in paths for row in read_leval(path)]
    return sum(1 for text in documents if MarkupView.of(text).gutters), len(documents)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "sets",
        nargs="*",
        type=Path,
        help="L-Eval JSONL files whose documents are checked for marks (default: the dev files in ../shared/data)",
    )
    args = parser.parse_args(argv)
    sets = args.sets or sorted(default_data_dir().glob("leval_*.jsonl"))
    readmes = _readme_quotes()
    quotes = Tally()
    for _, body, paragraphs in readmes:
        quotes.add(body, joints(body, paragraphs, _unquoted))
    pages = _pydoc_pages()
    rules = Tally()
    for name, ruled, plain in pages:
        if len(plain) != len(ruled):  # the joints' offsets are the ruled page's
            raise SystemExit(f"pydoc wrote the page of {name} without the rule at another length: cannot compare")
        rules.add(ruled, joints(ruled, _rule_paragraphs(ruled), _unruled), plain)
    print("read across / one unit (of the joints inside a sentence)")
    print("| text | joints | pearl | before (marks read as text) | page written without the rule |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(quotes.line(f"block quotes of {len(readmes)} installed packages' Markdown READMEs", False))
    print(rules.line(f"class sections of the pydoc pages of {len(pages)} standard modules", True))
    if sets:
        marked, total = _marked(sets)
        names = ", ".join(path.name for path in sets)
        print(f"\ndocuments with marks down the side: {marked} of {total} ({names}); the others are read as before")
    return 0


if __name__ == "__main__":
    sys.exit(main())
