"""Load files into a `Document`: .txt, .md, .rst, .html and .pdf, several files or a folder as one.

A file named on its own may be of any kind that is text. Source code and configuration files (`reads_as_code`:
`tool.py`, `main.c`, `config.yaml`, a `Makefile`) are read as code, line by line with their indentation, not
as prose whose lines wrap. A folder gives only the kinds above: a project's code is named file by file."""

from __future__ import annotations

import codecs
import email.errors
import email.header
import errno
import io
import logging
import os
import re
import stat
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from pearl._files import PAGE_PREAMBLE, is_pdf, looks_binary
from pearl._text import as_text, consecutive_runs, counted, shorten, visible
from pearl.errors import ConfigError, DocumentError, DocumentTooLargeError
from pearl.models import Document, DocumentPart

_log = logging.getLogger(__name__)

__all__ = [
    "CODE_SUFFIXES",
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "DocumentSource",
    "as_document",
    "left_out_notes",
    "load_document",
    "names_path",
    "reads_as_code",
    "source_files",
]

DocumentSource = Document | str | Path | Sequence[str | Path]
"""What pearl accepts as a document: a `Document`, a path, several paths, or the text itself."""

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".rst", ".text", ".html", ".htm", ".xhtml", ".pdf", ".eml")
CODE_SUFFIXES = frozenset(
    """.py .pyi .pyw .js .mjs .cjs .jsx .ts .tsx .mts .cts .java .kt .kts .scala .groovy .gradle .go .rs .c .h .cc
    .cpp .cxx .hpp .hh .hxx .cs .fs .m .mm .swift .rb .php .pl .pm .lua .r .jl .dart .hs .ml .mli .ex .exs .erl .clj
    .el .lisp .scm .sh .bash .zsh .fish .ps1 .psm1 .bat .cmd .sql .proto .tf .nix .vim .css .scss .sass .less .vue
    .svelte .yaml .yml .toml .ini .cfg .conf .properties .json .jsonc .json5 .mk .cmake .dockerfile .diff .patch
    .pyx .pxd .cu .cuh .bzl .bazel .hcl .am""".split()
)
"""Suffixes of source code and configuration files, read as code (`reads_as_code`)."""
_OFFICE_SUFFIXES = (".docx", ".doc", ".odt", ".rtf", ".epub", ".xlsx", ".xls", ".ods", ".pptx", ".ppt", ".odp")
"""Suffixes of documents pearl does not read (a Word file, a spreadsheet): a string of one line that ends in one names
a file (`_reads_as_path`), not the text to ask about, as one ending in a suffix pearl reads does."""
_DATA_SUFFIXES = (".csv", ".tsv", ".tex", ".xml", ".log")
"""...and of files read as plain text, which only a string of one word ending in one names: a sentence may end in one
("See the notes in debug.log")."""
_CODE_NAMES = frozenset(
    """makefile gnumakefile dockerfile containerfile jenkinsfile vagrantfile rakefile gemfile cmakelists.txt .bashrc
    .bash_profile .zshrc .profile .vimrc .gitconfig .editorconfig""".split()
)
_SEPARATOR = "\n\n"


_OWN_NUMBER = re.compile(r"\(?(\d{1,3}(?:\.\d{1,3})*)[.)](?:\s|$)")  # "3.", "3.1.", "(3)": not "A. Smith wrote"


def _own_number(data: str, mark: str) -> bool:
    """Whether an item's text opens on its own number (`mark`, "- 3. ", is the one the list gives it): the same
    number, or one of several levels ("3.1."), as a book's contents numbers its chapters; not another number that
    is the item's words ("5. Mai 2020" as the first item)."""
    own = _OWN_NUMBER.match(data)
    if own is None:
        return False
    levels = own.group(1).split(".")
    return len(levels) > 1 or mark == f"- {levels[0]}. "


def _html_number(value: str | None, default: int) -> int:
    """An ordered list's `start` or an item's `value`, as a browser reads it (an integer, else `default`)."""
    try:
        return int((value or "").strip()) if value is not None else default
    except ValueError:
        return default


def _numbered(number: int, kind: str) -> str:
    """`number` as an ordered list of `kind` (its `type`: "1", "a", "A", "i", "I") shows it."""
    if kind in ("a", "A") and number > 0:
        letters = ""
        while number > 0:
            number, rest = divmod(number - 1, 26)
            letters = chr(ord("a") + rest) + letters
        return letters if kind == "a" else letters.upper()
    if kind in ("i", "I") and 0 < number < 4000:
        roman = ""
        for value, mark in (
            (1000, "m"),
            (900, "cm"),
            (500, "d"),
            (400, "cd"),
            (100, "c"),
            (90, "xc"),
            (50, "l"),
            (40, "xl"),
            (10, "x"),
            (9, "ix"),
            (5, "v"),
            (4, "iv"),
            (1, "i"),
        ):
            count, number = divmod(number, value)
            roman += mark * count
        return roman if kind == "i" else roman.upper()
    return str(number)


class _TextExtractor(HTMLParser):
    """Visible text of an HTML page as a browser lays it out: block elements become line breaks,
    headings `## Title` lines and list items `- item` lines, so the index still knows which is which.

    White space in the markup is one space, as a browser renders it (except inside `<pre>`): a
    page indented for reading ("<h2>\\n  History\\n</h2>") gives the lines of one written without
    a break, so a heading's mark and its words, or an item's dash and its text, share a line.
    A `<pre>` is a Markdown code fence around its text as written, so the index knows it for code
    and shows its lines and their indentation as they are.

    A block boundary is a blank line (a paragraph to the segmenter, which may read single
    newlines of short lines as wrapping), and so are two `<br>` in a row, the paragraph break of
    older pages; one `<br>` is a line break. Inside a heading or a table cell, blocks and `<br>`
    are a space: a heading is one line, and a table row one Markdown row.

    End tags HTML lets a page leave out are read where a browser reads them (`_implied`): a
    paragraph ends at the next block ("<p>One<p>Two", "<p>Text<h2>Next"), a list item at the
    next item or the list's end, a term or definition at the next one. The head ends where the
    body's content starts, whether or not `</head>` is written: only what a browser shows
    nowhere on the page (its title, scripts, styles) is left out.
    """

    _BLOCKS = frozenset(
        {
            *("p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "hr"),
            *("tr", "table", "caption", "section", "article", "header", "footer", "nav", "aside", "main"),
            *("blockquote", "pre", "figure", "figcaption", "address", "details", "summary", "form", "fieldset"),
        }
    )
    # An iframe's text is what a browser without frames shows instead. Text a page hides until clicked (the `hidden`
    # attribute, `display: none`: a collapsed answer, a tab) is read: it is part of what the page says.
    _SKIP = frozenset(("script", "style", "title", "noscript", "template", "iframe"))
    # Elements whose end tag a page may leave out, and the elements that bound where an open one is looked for
    # ("<ul><li>A<ul><li>B</ul><li>C" ends A at C, not at B). Cells are kept track of too: the next cell or row ends
    # the one a page left open, and what is open in it.
    _IMPLIED = frozenset(("p", "li", "dt", "dd"))
    _SCOPES = frozenset(("ul", "ol", "dl", "table", "td", "th", "caption", "button"))
    # The blocks whose start ends an open paragraph (list items, terms and definitions too).
    _ENDS_P = (_BLOCKS - {"tr", "caption"}) | {"menu", "center", "dialog"}
    _DEPTH = 512  # open elements kept track of at most, the outermost forgotten, so that each search is bounded
    _HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
    _CELLS = frozenset(("td", "th"))
    _WHITE = re.compile(r"[ \t\n\r\f]+")  # HTML's white space: a no-break space is text
    # A superscript of digits and signs, written as a browser raises it: "10<sup>8</sup>" read "108", a wrong number,
    # and "mc<sup>2</sup>" "mc2" (helper-215). Others ("<sup>[1]</sup>", "<sup>th</sup>") stay as written.
    _RAISABLE = re.compile(r"[0-9+\-\u2212=()]{1,12}")
    _RAISED = str.maketrans("0123456789+-\u2212=()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skipping = 0
        self._pre = 0
        self._heading = 0
        self._breaks = 0  # line breaks owed before the next text: 1, or 2 for a blank line
        self._mark = ""  # "## " or "- ", owed at the start of the next text
        self._space = False  # a space owed before the next text on the same line
        self._cells = 0  # table cells opened since the last text: each owes a "| " (the first " | " after text)
        self._row = False  # a table row's text is on the current line, which " |" is to close
        # Per open table (the first entry: outside any), whether a cell of its current row is open.
        # A table in a cell is rows of its own, so only the innermost table's cell counts.
        self._in_cell = [False]
        self._code: int | None = None  # where the chunks of the `<pre>` being read start
        self._open: list[str] = []  # the open elements of `_IMPLIED` and `_SCOPES`, innermost last
        self._svg = 0  # open <svg> elements
        self._svg_titles = 0  # titles open in them, which the SVG's end ends
        # Per open list, innermost last: its tag and, for an ordered one, its next item's number and its type ("1",
        # "a", "A", "i", "I"): an item is written "3. ", as a browser numbers it ("- " for every item lost the
        # numbers "step 2" means).
        self._lists: list[tuple[str, int, str]] = []
        # A page's navigation (`<nav>`, role="navigation": menus, breadcrumbs, a sidebar's contents) is read after
        # its text, not before: it was the page's opening (30 menu links were all a small budget kept of a news
        # page). `navigation` holds its text, `page_text` the rest; `_nav` the element being read, by name, and its
        # depth.
        self.navigation: list[str] = []
        self._links = 0  # open <a> elements
        self._sup = 0  # open <sup> elements
        self._nav: tuple[str, int] | None = None
        self.page_text: list[str] = self.chunks

    # A comment, a declaration or a processing instruction a page leaves unclosed at its end (`<!-- old policy:` ...
    # to the end): a browser shows none of it; Python's parser gave it as text, tags and all. (A tag left open is
    # kept as text, as before: an unbalanced quote in one would otherwise drop the rest of the page without a word.)
    _UNFINISHED = re.compile(r"<[!?]")

    def close(self) -> None:
        if self.cdata_elem is None and self._UNFINISHED.match(self.rawdata):
            self.rawdata = ""
        super().close()

    def _open_code(self) -> None:
        """A `<pre>` opens: a blank line before it, and its text to be fenced when it closes."""
        if self._pre == 1 and not (self._heading or self._in_cell[-1]):
            self._code = len(self.chunks)
            self._breaks = 2 if self.chunks else 0
            self._mark = ""  # a list item's dash would open the code: the block is the item's

    def _close_code(self) -> None:
        """A `<pre>` closes: fence its text, with more backticks than any run of them in it."""
        start, self._code = self._code, None
        if start is None or start >= len(self.chunks):
            return
        at = start + (not self.chunks[start].strip("\n"))  # after the blank line owed before it
        code = "".join(self.chunks[at:])
        if not code.strip():
            return
        fence = "`" * max(3, 1 + max(map(len, re.findall("`+", code)), default=0))
        if at < len(self.chunks) and self.chunks[at].startswith("\n"):  # a browser shows no line break there
            self.chunks[at] = self.chunks[at][1:]
        self.chunks.insert(at, fence + "\n")
        self.chunks.append(("" if code.endswith("\n") else "\n") + fence)

    def _block(self) -> None:
        """A block boundary or `<br>`: one more line break owed (two at most: a blank line)."""
        if self._heading or self._in_cell[-1]:  # a heading or a table row is one line
            self._space = True
        else:
            self._breaks = min(2, self._breaks + 1)

    def _close_line(self) -> None:
        """Close a row's line, if its text is on it, with its trailing empty cells and " |"."""
        if self._row and not self._breaks:
            self.chunks.append(" |" * (self._cells + 1))
        self._cells = 0

    def _end_row(self) -> None:
        """End a table row. Called at `</tr>`, and at `<tr>` and `</table>` for the `</tr>` that
        HTML lets a page leave out."""
        self._close_line()
        self._in_cell[-1] = False
        self._block()

    def _implied(self, start: str) -> None:
        """End what `start` (a start tag) ends of the elements whose end tag a page may leave out, as if written: an
        open paragraph at a block, an item at the next item, a term or definition at the next one, a cell at the next
        cell or row (with whatever is left open in it)."""
        if start in self._ENDS_P:
            self._close_open(("p",))
        if start == "li":
            self._close_open(("li",))
        elif start in ("dt", "dd"):
            self._close_open(("dt", "dd"))
        elif start in ("td", "th", "tr") and "table" in self._open:
            # The current table's open cell: everything above the table ends. (A row is not kept track of.)
            self._end_above(len(self._open) - 1 - self._open[::-1].index("table"))

    def _in_scope(self, tags: tuple[str, ...]) -> int:
        """Where the innermost open element of `tags` is, looked for in scope (not beyond a list, a table, a cell, a
        caption or a button); -1 if none is."""
        for at in range(len(self._open) - 1, -1, -1):
            tag = self._open[at]
            if tag in tags:
                return at
            if tag in self._SCOPES:
                return -1
        return -1

    def _close_open(self, tags: tuple[str, ...]) -> None:
        """End the innermost open element of `tags` in scope, and the implied ones inside it."""
        at = self._in_scope(tags)
        if at >= 0:
            self._end_above(at - 1)

    def _end_above(self, at: int) -> None:
        """The open elements above `self._open[at]` end. Each of `_IMPLIED` is a block boundary, as its end tag would
        be, and an item's dash not yet written goes with it (an empty item); a paragraph leaves the dash of the item
        it opened in ("<li><p><div>Text")."""
        for inner in self._open[at + 1 :]:
            if inner in self._IMPLIED:
                if inner != "p":
                    self._mark = ""
                self._block()
        del self._open[at + 1 :]

    def _pop(self, tag: str) -> None:
        """An end tag of `_IMPLIED` or `_SCOPES`: the element is no longer open, nor any inside it. A paragraph's or
        an item's is looked for in scope, as a start tag looks for one; a stray end tag ends nothing."""
        if tag in self._IMPLIED:
            at = self._in_scope((tag,))
            if at < 0:
                return
        elif tag in self._open:
            at = len(self._open) - 1 - self._open[::-1].index(tag)
        else:
            return
        self._end_above(at)
        del self._open[at]

    def _item_mark(self, attrs: list[tuple[str, str | None]]) -> str:
        """How a list item opens: "- ", and in an ordered list its number after it ("- 3. ", "- c. ", "- iv. "; `value`
        sets it). The dash says it is an item, never a heading ("1. Install Python" over a code block headed the
        section after it)."""
        if not self._lists or self._lists[-1][0] != "ol":
            return "- "
        tag, number, kind = self._lists[-1]
        if kind == "reversed":  # counted down from a number not known before its items are: a browser's is not guessed
            return "- "
        number = _html_number(dict(attrs).get("value"), number)
        self._lists[-1] = (tag, number + 1, kind)
        return f"- {_numbered(number, kind)}. "

    def _list_starts(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ol", "ul", "menu"):
            given = dict(attrs)
            kind = "reversed" if "reversed" in given else (given.get("type") or "1").strip()
            self._lists.append((tag, _html_number(given.get("start"), 1), kind))
            del self._lists[: -self._DEPTH]

    def _list_ends(self, tag: str) -> None:
        if tag in ("ol", "ul", "menu") and any(open_tag == tag for open_tag, _, _ in self._lists):
            while self._lists and self._lists.pop()[0] != tag:  # lists left open inside it end with it
                pass

    def _navigation_starts(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._nav is not None:
            if tag == self._nav[0]:
                self._nav = (tag, self._nav[1] + 1)
            return
        navigation = tag == "nav" or (dict(attrs).get("role") or "").strip().lower() == "navigation"
        if navigation and not self._pre and not self._in_cell[-1]:  # not where a line or a row is being written
            self._block()
            self._nav = (tag, 1)
            self.chunks, self._breaks = self.navigation, 2 if self.navigation else 0

    def _navigation_ends(self, tag: str) -> None:
        if self._nav is None or tag != self._nav[0]:
            return
        if self._nav[1] > 1:
            self._nav = (tag, self._nav[1] - 1)
            return
        self._nav = None
        self.chunks, self._breaks = self.page_text, 2 if self.page_text else 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._links += tag == "a"
        self._sup += tag == "sup"
        if tag == "option":  # a list's choices, one word apart ("Option oneOption two")
            self._space = True
        if tag == "svg":
            self._svg += 1
        if self._skipping and tag not in self._SKIP:
            return  # what a skipped part holds is never shown: it opens, ends and breaks nothing
        self._implied(tag)
        self._navigation_starts(tag, attrs)
        self._list_starts(tag, attrs)
        if tag in self._IMPLIED or tag in self._SCOPES:
            self._open.append(tag)
            if len(self._open) > self._DEPTH:
                del self._open[0]
        if tag in self._SKIP:
            self._skipping += 1
            # An SVG's title (its tooltip) ends with the SVG if not before: an HTML title left open runs to the end.
            if tag == "title" and self._svg:
                self._svg_titles += 1
        elif tag == "br":
            # Counted as a block boundary: "<br><br>" owes a blank line, a page's paragraph break.
            self._block()
        elif tag in self._BLOCKS:
            if tag == "table":
                if self._in_cell[-1]:
                    self._close_line()  # a table in a cell: its rows are lines between two parts of the row
                self._in_cell.append(False)
            elif tag == "tr":
                self._end_row()
            self._block()
            if tag in self._HEADINGS:
                self._heading += 1
                if not self._in_cell[-1]:
                    # Written as a Markdown heading, so the index knows it for one whatever its words.
                    self._mark = "#" * int(tag[1]) + " "
            elif tag == "li" and not self._in_cell[-1]:
                self._mark = self._item_mark(attrs)  # a list item, which is never a heading however short
            if tag == "pre":
                self._pre += 1
                self._open_code()
        elif tag in self._CELLS:
            self._cells += 1  # a row is a Markdown table row, "| cell | | cell |", on one line
            self._in_cell[-1] = True

    def handle_endtag(self, tag: str) -> None:
        self._links = max(0, self._links - (tag == "a"))
        self._sup = max(0, self._sup - (tag == "sup"))
        if tag == "svg" and self._svg:
            self._svg -= 1
            self._skipping = max(0, self._skipping - self._svg_titles)
            self._svg_titles = 0
            return
        if self._skipping and tag not in self._SKIP:
            return
        if tag in self._IMPLIED or tag in self._SCOPES:
            self._pop(tag)
        self._list_ends(tag)
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
            if tag == "title" and self._svg_titles:
                self._svg_titles -= 1
        elif tag in self._BLOCKS:
            self._heading = max(0, self._heading - (tag in self._HEADINGS))
            if tag == "pre" and self._pre:
                self._pre -= 1
                if not self._pre:
                    self._close_code()
            self._mark = ""  # an empty heading or item leaves no mark
            if tag in ("tr", "table"):
                self._end_row()
            self._block()
            if tag == "table" and len(self._in_cell) > 1:
                self._in_cell.pop()  # after the break: the table's last row ends its line
                self._cells = int(self._in_cell[-1])  # the rest of the cell starts a line of the row
        elif tag in self._CELLS:
            self._in_cell[-1] = False
        self._navigation_ends(tag)

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        # A soft hyphen (&shy;) is shown only where a line breaks there: kept, "Bundes\u00adgericht" was two words to
        # a search (a PDF's are taken out too).
        data = data.replace("\u00ad", "")
        trailing = False
        if not self._pre:
            data = self._WHITE.sub(" ", data)
            self._space = self._space or data.startswith(" ")
            trailing = data.endswith(" ")
            data = data.strip(" ")
        if self._sup and self._RAISABLE.fullmatch(data):
            data = data.translate(self._RAISED)
        if not data or (data == "\u00b6" and self._links):  # a heading's permalink link: "Installation Guide¶"
            return
        if self.chunks and self._breaks:
            self.chunks.append("\n" * self._breaks)
            self._row = False
        if self._cells:
            self.chunks.append((" | " if self._row else "| ") + "| " * (self._cells - 1))
            self._row = True
        elif self.chunks and not self._breaks and (self._space or self._mark):
            self.chunks.append(" ")
        if self._mark.startswith("- ") and len(self._mark) > 2 and _own_number(data, self._mark):
            self._mark = "- "  # an item that writes its own number ("<strong>3.1.</strong> Settings"): one, not two
        self.chunks.append(self._mark + data)
        self._breaks, self._mark, self._space, self._cells = 0, "", trailing, 0


def _html_to_text(raw: str) -> str:
    parser = _TextExtractor()
    # Line ends made "\n" first, as a browser's input stream does: the line break a browser drops after <pre> was
    # a "\r\n" of which the "\r" stayed, a blank first line of code in a page saved with Windows line ends.
    parser.feed(raw.replace("\r\n", "\n").replace("\r", "\n"))
    parser.close()
    text = "".join(parser.page_text)
    navigation = "".join(parser.navigation).strip("\n")
    return f"{text}\n\n{navigation}" if text and navigation else text or navigation


_MAIL_HEADERS = ("From", "To", "Cc", "Date", "Subject")


def _email_to_text(data: bytes, path: Path) -> str:
    """An e-mail message (.eml) as its reader sees it: its From, To, Cc, Date and Subject as written (encoded words
    decoded), then the text of its body: every plain-text part not attached (else the HTML ones, as a browser shows
    them), each decoded (quoted-printable, base64, its charset; eight-bit text in no charset said, or in one Python
    does not know, read as UTF-8, else Windows-1252, as a text file is; headers too), a
    forwarded message in full, and a line naming each other attachment. Read raw, "room B-204" stood as
    "room B-=\n204" and the HTML copy repeated every word among its tags."""
    import email
    import email.policy
    from email.message import EmailMessage

    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not any(message.get(name) for name in (*_MAIL_HEADERS, "MIME-Version")):
        return _decode(data, path)  # no message headers: text that happens to be named .eml
    return _message_text(message)


def _message_text(message: Any) -> str:
    raw: dict[str, list[str]] = {}
    for key, value in message.raw_items():  # as written: not re-parsed as addresses (",,, <<>>" stays itself)
        raw.setdefault(key.lower(), []).append(value)
    lines = []
    for name in _MAIL_HEADERS:
        for value in raw.get(name.lower(), []):
            value = _undeclared(value.encode("utf-8", "surrogateescape"))  # raw UTF-8 in a header (RFC 6532)
            try:  # encoded words decoded ("=?utf-8?q?Caf=C3=A9?=")
                shown = str(email.header.make_header(email.header.decode_header(value)))
            except (ValueError, LookupError, email.errors.HeaderParseError):
                shown = value
            lines.append(f"{name}: {' '.join(shown.split())}")
    leaves = list(_leaves(message))
    kinds = ("text/plain", "text/html")
    texts: list[str] = []
    for kind in kinds:
        texts = [_part_text(part) for part in leaves if part.get_content_type() == kind and not part.is_attachment()]
        if texts:
            break
    for part in leaves:
        if part.get_content_type() == "message/rfc822":
            texts.extend("[forwarded message]\n" + _message_text(inner) for inner in part.iter_parts())
        elif part.is_attachment() or part.get_content_type() not in kinds:
            texts.append(f"[attachment: {part.get_filename() or part.get_content_type()}]")
    return "\n".join(lines) + "\n\n" + "\n\n".join(t.strip() for t in texts if t.strip())


def _leaves(part: Any) -> Iterator[Any]:
    """The parts of a message that hold content, in order: a forwarded message is one (not its parts)."""
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        for inner in part.iter_parts():
            yield from _leaves(inner)
    else:
        yield part


def _part_text(part: Any) -> str:
    raw = part.get_payload(decode=True)
    if isinstance(raw, bytes) and part.get_content_charset() in (None, "us-ascii", "ascii") and not raw.isascii():
        # Eight-bit text with no charset said (or ASCII said): read as a text file is, UTF-8 else Windows-1252, where
        # the parser's ASCII put "�" for every accented letter, without a word (helper-215).
        content: object = _undeclared(raw)
    else:
        try:
            content = part.get_content()
        except (LookupError, ValueError):  # an unknown charset ("unknown-8bit"), a broken encoding: as if unsaid
            content = _undeclared(raw) if isinstance(raw, bytes) else str(part.get_payload())
    text = str(content)
    return _html_to_text(text) if part.get_content_type() == "text/html" else text


def _undeclared(data: bytes) -> str:
    """Bytes of a message whose encoding is not said: UTF-8, else Windows-1252 (Latin-1 where it leaves a byte
    undefined), as a text file is read."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _unix_lines(text: str) -> str:
    """`text` with Windows and old Mac line ends as "\\n"."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Byte-order marks, UTF-32's before UTF-16's (whose little-endian mark begins UTF-32's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
)


_PACKED = (
    (b"PK\x03\x04", "a ZIP archive (as Word, OpenDocument and EPUB files are)", "; save it as PDF or text"),
    (b"\x1f\x8b", "a gzip-compressed file", "; decompress it first (gunzip)"),
    (b"\xd0\xcf\x11\xe0", "an Office 97-2003 file (.doc, .xls)", "; save it as PDF or text"),
)
"""Binary files a user may well give as a document, by their first bytes: what to do with them instead."""


def _decode(data: bytes, path: Path) -> str:
    """The text of a file's bytes: UTF-8, or UTF-16/32 (or UTF-8) by its byte-order mark, which is dropped; UTF-16
    without one (`_unmarked_utf16`), or a one-byte encoding (`_declared`)."""
    encoding, name = next(((enc, name) for bom, enc, name in _BOMS if data.startswith(bom)), ("utf-8", ""))
    kind, advice = next(((what, do) for magic, what, do in _PACKED if data.startswith(magic)), ("a binary file", ""))
    binary = DocumentError(
        f"{path}: looks like {kind}, not text (pearl reads text, HTML and PDF files, and source code){advice}"
    )
    if data.lstrip()[:5] == b"{\\rtf":  # text, but its words amid control words: "\\f0\\fs24 Dear Mr. Thompson,\\"
        raise DocumentError(f"{path}: is an RTF document, which pearl does not read; save it as PDF or text")
    if not name and (unmarked := _unmarked_utf16(data)) is not None:
        encoding = unmarked
        data = data[: len(data) // 2 * 2]  # a byte after the last character ("\n" added by a tool) is none of its
    # UTF-16 and UTF-32 text is full of NUL bytes; the NUL characters of a binary file survive decoding.
    elif not name and looks_binary(data):
        raise binary
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if name:
            raise DocumentError(
                f"{path}: starts with a {name} byte-order mark but is not {name} text; "
                "convert it to UTF-8 first (e.g. with iconv)"
            ) from None
        if encoding != "utf-8":
            raise binary from None
        text = _declared(data, path)
    if "\x00" in text[:8192]:
        raise binary
    return text


def _unmarked_utf16(data: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" for text in UTF-16 without a byte-order mark (as some Windows tools save it), told
    by its NUL bytes: the high byte of nearly every character of Latin text, on one side of each pair alone; else
    None (a binary file has NULs on both sides)."""
    head = data[:8192]
    if len(head) < 8 or b"\x00" not in head:
        return None
    pairs = len(head) // 2
    even, odd = head[0 : pairs * 2 : 2].count(0), head[1 : pairs * 2 : 2].count(0)
    encoding = (
        "utf-16-le"
        if odd >= 0.3 * pairs and even <= 0.01 * pairs
        else "utf-16-be"
        if even >= 0.3 * pairs and odd <= 0.01 * pairs
        else None
    )
    if encoding is None:
        return None
    try:
        text = head[: pairs * 2].decode(encoding)
    except UnicodeDecodeError:  # a character cut at the end of the head is not written so
        text = head[: pairs * 2 - 2].decode(encoding, "replace")
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f")
    return encoding if controls <= 0.01 * len(text) else None  # "\x00\x01" pairs are no text


# A page's own charset, as a browser finds it in its first bytes: <meta charset="...">, or
# <meta http-equiv="Content-Type" content="text/html; charset=...">.
_META_CHARSET = re.compile(rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
# Else the encoding of the XML declaration an XHTML page (an XML file) opens with: <?xml version="1.0"
# encoding="ISO-8859-1"?>, which a browser follows where no meta names one.
_XML_ENCODING = re.compile(rb"""\s*<\?xml\s[^<>]{0,200}?\bencoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)""")
# The legacy encodings web pages are saved in (the WHATWG Encoding Standard's, by Python's names); a label naming
# another codec (utf-16, which a browser reads as UTF-8 in a page's own meta, or a Python-only one such as
# unicode_escape) is not followed. Latin-1 and ASCII are read as windows-1252, which only adds characters.
_WEB_ENCODINGS = frozenset(
    [f"cp125{n}" for n in range(9)]
    + [f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)]
    + ["koi8-r", "koi8-u", "mac-roman", "mac-cyrillic", "cp866", "cp874", "shift_jis", "cp932", "euc_jp"]
    + ["iso2022_jp", "euc_kr", "cp949", "gbk", "gb2312", "gb18030", "big5", "big5hkscs"]
)
_AS_WINDOWS_1252 = frozenset(["iso8859-1", "ascii"])
_LABELS = {"windows-874": "cp874", "x-sjis": "shift_jis", "iso88591": "iso8859-1", "x-mac-roman": "mac-roman"}


_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
"""The opening of a character written in UTF-8 past ASCII."""
_WESTERN_SHARE = 0.15


def _western(data: bytes) -> bool:
    """Whether text that is not UTF-8 is Western text in a one-byte encoding (saved in Windows-1252 or Latin-1): its
    bytes past ASCII mostly not UTF-8 characters (else it is UTF-8 with stray bytes of another encoding, each of
    whose UTF-8 characters Windows-1252 would garble), and few (accents: about 1 in 50 bytes of French or German;
    Russian in Windows-1251 or Japanese in Shift JIS is most of its bytes, which Windows-1252 would read as accented
    garbage)."""
    high = len(data) - len(data.translate(None, bytes(range(128, 256))))
    if high > _WESTERN_SHARE * len(data):
        return False
    # A pair of Windows-1252 characters may spell a UTF-8 one ("ß“" is bytes DF 93): a Western file has few of those
    # and many bytes UTF-8 cannot read; UTF-8 with a stray byte, the other way round (helper-201: a German contract
    # with one „groß“ was refused).
    spelled = [len(match.group()) for match in _UTF8_SEQUENCE.finditer(data)]
    return high - sum(spelled) > 2 * len(spelled)


def _declared(data: bytes, path: Path) -> str:
    """Text that is not UTF-8, decoded as the charset a web page saved in a legacy encoding declares in its
    first bytes (a meta's, else its XML declaration's), as a browser would; without one, Western text (`_western`)
    as Windows-1252, as browsers read an undeclared page (Latin-1 is the same but for a few punctuation marks);
    else the error to convert it."""
    found = _META_CHARSET.search(data[:4096]) or _XML_ENCODING.match(data)
    label = found.group(1).decode("ascii").lower() if found else ""
    if not label and _western(data):
        # Said: Central European text in Windows-1250 reads so too, a few of its letters wrong ("ř" as "ø").
        _log.warning(
            "%s: not UTF-8, read as Windows-1252 (Western European); if it is in another encoding, convert it to UTF-8 "
            "(iconv)",
            path,
        )
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:  # one of the five bytes Windows-1252 leaves undefined: control characters in Latin-1
            return data.decode("latin-1")
    try:
        name = codecs.lookup(_LABELS.get(label, label)).name if label else ""
    except LookupError:
        name = ""
    encodings = ("cp1252", "latin-1") if name in _AS_WINDOWS_1252 else (name,) if name in _WEB_ENCODINGS else ()
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    said = f", nor as the {label} it declares" if label else ""
    raise DocumentError(
        f"{path}: cannot be decoded as UTF-8 text{said} ({_first_bad_byte(data)}); convert it to UTF-8 first "
        "(e.g. with iconv)"
    )


def _first_bad_byte(data: bytes) -> str:
    """Where the first byte that is not UTF-8 is: "byte 0xe9 at line 3, column 12, offset 5,000". One stray byte of
    another encoding in a UTF-8 file is mended there; the whole file converted from Latin-1 garbles its UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        return f"byte 0x{data[exc.start]:02x} at line {line:,}, column {column:,}, offset {exc.start:,}"
    return "as a whole"


def _head(path: Path, data: bytes | None, size: int = 1024) -> bytes:
    """The first `size` bytes of a file (of `data`, where it was read already); none when it cannot be read."""
    if data is not None:
        return data[:size]
    try:
        with path.open("rb") as file:
            return file.read(size)
    except OSError:
        return b""


def _pdf_to_text(
    path: Path, data: bytes | None = None, notes: list[str] | None = None, *, max_chars: int = DEFAULT_MAX_BYTES
) -> str:
    """The text of a PDF, as paragraphs (`_pdf_paragraphs`); where some of its pages show no text (scanned, or
    pictures alone), which they are is added to `notes`, for the reader (`Document.left_out`).

    Its text is read page by page up to `max_chars` (the file size limit): a PDF of 18 KB whose hundred pages draw
    one compressed stream gave 54 million characters in 81 s, and more pages would have filled the memory."""
    try:
        import pypdf
        from pypdf.errors import DependencyError, PyPdfError
    except ImportError as exc:  # pragma: no cover - pypdf is a dependency
        raise DocumentError("reading PDF needs pypdf: pip install pypdf") from exc
    try:
        reader = pypdf.PdfReader(io.BytesIO(data) if data is not None else str(path))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # many PDFs are encrypted with an empty password
            except DependencyError:
                raise
            except Exception as exc:  # pypdf raises several unrelated types here
                raise DocumentError(f"{path}: the PDF is encrypted; decrypt it first (e.g. qpdf --decrypt)") from exc
            if not opened:
                raise DocumentError(
                    f"{path}: the PDF needs a password; save a decrypted copy first "
                    "(e.g. qpdf --password=PASSWORD --decrypt in.pdf out.pdf)"
                )
        pages = []
        read = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            read += len(pages[-1])
            if read > max_chars:
                raise DocumentTooLargeError(
                    f"{path}: its text is over {max_chars:,} characters by page {len(pages)} of {len(reader.pages)}, "
                    "over the limit; raise it with --max-bytes (max_bytes=) or PEARL_MAX_BYTES"
                )
    except DocumentError:
        raise
    except DependencyError:
        # pypdf decrypts AES (even with an empty password) only through the `cryptography` package;
        # it may fail on the password check or only later, on the first page's text.
        raise DocumentError(
            f"{path}: the PDF is AES-encrypted and pypdf needs the cryptography package to read it: "
            "pip install cryptography (or save a decrypted copy first, e.g. qpdf --decrypt in.pdf out.pdf)"
        ) from None
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        if b"%PDF-" not in _head(path, data):  # "Stream has ended unexpectedly" said nothing of a text file named .pdf
            raise DocumentError(
                f"{path}: not a PDF (it does not open with %PDF-): another kind of file named .pdf?"
            ) from exc
        raise DocumentError(f"{path}: not a readable PDF ({exc})") from exc
    # Line breaks as for any text file; a soft hyphen inside a line is invisible; a ligature is its letters
    # ("ﬁnancial" is "financial" to a search); a line drawn twice, a little apart, to look bold is one line.
    pages = [_undoubled(re.sub("\u00ad(?!\n)", "", _unix_lines(p)).translate(_LIGATURES)) for p in pages]
    text = _pdf_paragraphs([p.strip() for p in pages if p.strip()])
    if not visible(text):
        raise DocumentError(
            f"{path}: the PDF has no text layer (a scanned image?); run OCR on it first (e.g. ocrmypdf)"
        )
    blank = [n for n, page in enumerate(pages, 1) if not visible(page)]
    if blank and notes is not None:
        notes.append(
            f"{path}: {_numbers('page', blank)} of {len(pages)} {'shows' if len(blank) == 1 else 'show'} no text "
            "(scanned, or pictures alone?); "
            "to read scanned pages, run OCR on the PDF first (e.g. ocrmypdf)"
        )
    return text


_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})


def _undoubled(page: str) -> str:
    """`page` with each line that is one text twice over, with nothing between, written once: a PDF draws a heading
    twice, a little apart, to make it look bold ("Fake Bold HeadingFake Bold Heading", "SUMMARYSUMMARY"). A word
    under six letters, twice ("murmur", "couscous"), is a word."""

    def once(line: str) -> str:
        half = len(line) // 2
        doubled = len(line) % 2 == 0 and line[:half] == line[half:] and (" " in line[:half].strip() or half >= 6)
        return line[:half] if doubled else line

    return "\n".join(once(line) for line in page.split("\n"))


def _numbers(noun: str, numbers: list[int]) -> str:
    """`numbers` (sorted) in runs: "page 3", "pages 2-4 and 9"."""
    said = [str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in consecutive_runs(numbers)]
    listed = said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"
    return f"{noun}{'' if len(numbers) == 1 else 's'} {listed}"


_HYPHENATED_END = re.compile(r"([^\W\d_]+)[-\u00ad]$")
_FIRST_WORD = re.compile(r"[^\W\d_]+")
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_SENTENCE_END = (".", ":", ";", "!", "?", ")", '"', "\u201d", "\u3002", "\uff01", "\uff1f", "\u300d")
_SHORT_LINE = 0.8
"""A PDF line shorter than this share of a full line ends its paragraph, or is a heading."""
_DIGITS = re.compile(r"\d+")
_SURE_PAGES = 3
"""A line at a page's edge on this many pages is furniture beyond doubt, which a paragraph may run on over."""
# "12", "- 12 -", "Page 3 of 9", "xiv": a roman numeral in form, so that "civil" is no page number.
_PAGE_NUMBER = re.compile(
    r"[-\u2013]?\s*(?:page\s*)?(?:\d{1,4}|(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3}))"
    r"(?:\s*(?:of|/)\s*\d+)?\s*[-\u2013]?",
    re.IGNORECASE,
)


def _pdf_paragraphs(pages: list[str]) -> str:
    """PDF text, one line per printed line, as paragraphs separated by blank lines.

    A PDF's text layer has no paragraphs, only lines, so headings ran into the sentence after
    them and the index saw one paragraph a page. A line well short of a full line (the 80th
    percentile of line lengths) ends its paragraph when the next line can start one, and so
    does a finished sentence before a short line standing alone (a heading). A page's first or
    last lines (two at most at each end) that repeat on other pages, or are page numbers, stand
    alone, so the index knows them for page furniture. A word hyphenated across lines is joined
    again ("evi-" + "dence"), or no search would find it; the hyphen stays where the document
    writes the word with one elsewhere ("third-" + "party" when it says "third-party").
    """
    printed = [[line.rstrip() for line in page.split("\n")] for page in pages]
    widths = sorted(len(line.strip()) for page in printed for line in page if line.strip())
    if len(widths) < 5:  # too few lines to tell a full one
        return _SEPARATOR.join("\n".join(page) for page in printed)
    full = widths[len(widths) * 4 // 5]
    known = set(_WORDS.findall("\n".join(pages).lower()))
    # A page's furniture is its first or last two lines at most ("ACME Corp. Confidential" over "Page 1 of 3"),
    # told by the pages whose edges it is on, whatever its page number, and found at the edges more often than
    # anywhere else on the pages: a statement's rows, or a report's run of alike sentences, look alike once
    # their digits are set aside, at the edges of every page and all the more between them.
    edges = Counter(line for page in printed for line in {_edge_key(page[i]) for i in _edge(len(page))} if line)
    inside: Counter[str] = Counter()
    for page in printed:
        edge = set(_edge(len(page)))
        inside.update(_edge_key(line) for i, line in enumerate(page) if line.strip() and i not in edge)

    def furniture(line: str, pages: int = 2) -> bool:
        key = _edge_key(line)
        return (edges[key] >= pages and inside[key] < edges[key]) or bool(_PAGE_NUMBER.fullmatch(line.strip()))

    out: list[str] = []
    for page in printed:
        lines = [line.strip() for line in page]
        short = [len(line) < _SHORT_LINE * full for line in lines]
        opens = [bool(line) and not line[:1].islower() for line in lines]
        alone = [False] * len(lines)
        for side in (range(min(2, len(lines))), range(len(lines) - 1, max(len(lines) - 3, -1), -1)):
            for i in side:  # from the page's edge inwards, while the lines are furniture
                if not (lines[i] and furniture(lines[i])):
                    break
                alone[i] = True
        parts: list[str] = []
        for i, line in enumerate(lines[:-1]):
            following = lines[i + 1]
            joined = None if alone[i + 1] else _unhyphenated(line, following, known)
            if joined is not None:
                parts.append(joined)
                continue
            parts.append(line)
            heading_next = short[i + 1] and opens[i + 1] and (i + 2 == len(lines) or opens[i + 2])
            ends = (
                short[i] and opens[i + 1] and not line.endswith("-") and _ends_paragraph(lines, short, alone, i, full)
            ) or (line.endswith(_SENTENCE_END) and heading_next)
            parts.append("\n\n" if ends or not line or alone[i] or alone[i + 1] else "\n")
        parts.append(lines[-1])
        out.append(re.sub(r"\n{3,}", "\n\n", "".join(parts)).strip())
    kept = [page for page in out if page]
    return _SEPARATOR.join(_across_pages(kept, furniture, _SHORT_LINE * full, known))


def _ends_paragraph(lines: list[str], short: list[bool], alone: list[bool], i: int, full: int) -> bool:
    """Whether the short line `i`, before one that may start a paragraph, ends its paragraph: it ends a sentence; or
    it or the next line is a list item or a numbered heading ("• One charger", "(a) ...", "4.2 Limitation of
    liability"); or it starts a paragraph itself (a heading: the first line, or after a blank, furniture or a finished
    sentence); or it is one of a run of lines far short of a line (an address block, a list). A line of ragged-right
    text is short wherever the next word did not fit: "...Institute of Technology\nand Lawrence Berkeley National\n
    Laboratory." had ended a paragraph, and its sentence, in the middle of the name (helper-215)."""
    line, following = lines[i], lines[i + 1]
    if line.endswith(_SENTENCE_END):
        return True
    last = line.rsplit(None, 1)[-1].lower()
    if line.endswith((",", "-", "\u2013", "\u2014")) or last in _GOES_ON:
        return False  # "...from Stanford University,", "...signed with the": the sentence goes on
    if _LABELLED.match(following) or _LABELLED.match(line):
        return True  # a list's item, or a numbered heading (helper-218: "4.2 Limitation of ..." ran into its text)
    before = lines[i - 1] if i else ""
    if not before or alone[i - 1] or before.endswith(_SENTENCE_END):
        # A heading, or a paragraph's first line cut short by a long word after it ("Funding came from the European"
        # over "Commission, the Bill and ..."): a heading is far short of a line, or in title case.
        words = _WORDS.findall(line)
        titled = all(word[:1].isupper() for word in words if len(word) > 3)
        return len(line) < 0.5 * full or titled or not before or bool(_DIVISION.match(line))
    # A run of lines far short of a line, looking both ways (the last line of an address block, "Director of
    # Operations", is followed by a full one); ragged-right lines fall short by a word, not by half.
    far = 0.6 * full
    return len(line) < far and ((len(following) < far and not following.endswith(_SENTENCE_END)) or len(before) < far)


_LABELLED = re.compile(r"(?:[-*+•▪●◦–]\s|\(?(?:[a-zA-Z]|[ivxlc]{1,5}|\d{1,3})\)\s|\d{1,3}(?:\.\d{1,3})*\.?\s+[A-Z])")
"""A line opening as a list's item or a numbered heading: a bullet, "(a) ", "iv) ", "4.2 Limitation", "7. Term"."""
_DIVISION = re.compile(r"(?:Section|Article|Clause|Part|Chapter|Schedule|Exhibit|Appendix|Annex)\s+[0-9IVXA-Z]")
"""A division's label opening a heading ("Section 5 Payment terms and invoicing schedule")."""


_GOES_ON = frozenset("a an the and or but nor of to in on at by for with from as than that which who whose".split())
"""Words a line that ends a paragraph does not end on: the sentence goes on."""


def _edge_key(line: str) -> str:
    return _DIGITS.sub("#", line.strip().lower())


def _edge(lines: int) -> list[int]:
    """Where a page of `lines` lines may carry furniture: its first two lines and its last two."""
    return sorted({*range(min(2, lines)), *range(max(0, lines - 2), lines)})


def _unhyphenated(line: str, following: str, known: set[str]) -> str | None:
    """`line` to be followed directly by `following` when a word is hyphenated across the two (the
    hyphen dropped, unless the document writes the word with one elsewhere); None if not."""
    hyphen = _HYPHENATED_END.search(line)
    if not hyphen or not following[:1].islower():
        return None
    left, right = hyphen.group(1).lower(), _FIRST_WORD.match(following)
    rest = right.group(0).lower() if right else ""
    keep = line.endswith("-") and f"{left}-{rest}" in known and f"{left}{rest}" not in known
    return line if keep else line[:-1]


def _across_pages(pages: list[str], furniture: Callable[[str, int], bool], full: float, known: set[str]) -> list[str]:
    """The paragraphs of `pages` in order, a paragraph that runs on over a page break joined again
    and the page's furniture (header, footer, number) set after it. A paragraph runs on when its
    page's last line is full and unfinished (or ends in a hyphen before a lower-case word) and
    the next page's first line goes on in lower case or is full itself, and only over furniture
    beyond doubt (`furniture(line, pages)`: a page number, or a line at the edge of `_SURE_PAGES`
    pages or more; "Agreement." ending two pages may be text): no text is moved on a guess.

    A paragraph is kept as pieces until it ends, so that one running over every page of a long
    PDF is joined once, not copied again at each page.
    """

    def content(part: str) -> bool:
        return "\n" in part or not furniture(part, 2)

    out: list[str] = []
    current: list[str] = []  # the last paragraph that is not furniture, in pieces, still open
    held: list[str] = []  # furniture met since it began, to follow it
    for page in pages:
        parts = page.split(_SEPARATOR)
        first = next((i for i, part in enumerate(parts) if content(part)), len(parts))
        if current and first < len(parts):
            before, after = current[-1].rsplit("\n", 1)[-1], parts[first].split("\n", 1)[0]
            joined = _unhyphenated(before, after, known)
            runs_on = (
                joined is not None
                or (
                    len(before) >= full
                    and not before.endswith(_SENTENCE_END)
                    and (after[:1].islower() or len(after) >= full)
                )
            ) and all(furniture(part, _SURE_PAGES) for part in [*held, *parts[:first]])
            if runs_on:
                current[-1] = current[-1][: len(current[-1]) - len(before)] + (
                    before + "\n" if joined is None else joined
                )
                current.append(parts[first])
                held.extend(parts[:first])
                parts = parts[first + 1 :]
        for part in parts:
            if content(part):
                if current:
                    out.append("".join(current))
                    out.extend(held)
                    held = []
                current = [part]
            else:
                (held if current else out).append(part)
    if current:
        out.append("".join(current))
    out.extend(held)
    return out


_STDIN = "-"
"""The name that reads the document from standard input, as a path in a list of them (`cat f | pearl ask - "q"`)."""
_STDIN_NAME = "<stdin>"


def _too_large(path: Path, size: int | None, max_bytes: int) -> DocumentTooLargeError:
    """A file over `max_bytes`: its size, or None for a stream stopped at the limit."""
    what = f"{size:,} bytes is" if size is not None else "it is"
    return DocumentTooLargeError(
        f"{path}: {what} over the limit of {max_bytes:,}; raise it with --max-bytes (max_bytes=) or PEARL_MAX_BYTES"
    )


def reads_as_code(path: str | Path) -> bool:
    """Whether a file of this name is source code or configuration (`CODE_SUFFIXES`, a `Makefile`, a `Dockerfile`
    or `Dockerfile.dev`, `CMakeLists.txt`, a `.bashrc`), read line by line with its indentation
    (`DocumentPart.code`) rather than as prose. (A file of another name that opens with `#!`, a script, is read
    so too: `load_document`.)"""
    name = Path(path).name.lower()
    if name in _CODE_NAMES or Path(name).suffix in CODE_SUFFIXES:
        return True
    kind = name.split(".", 1)[0]  # `Dockerfile.dev`, `Makefile.am`; not `Makefile.md`, a document about one
    return kind in _CODE_NAMES and Path(name).suffix not in SUPPORTED_SUFFIXES


def _read_stream(path: Path, max_bytes: int) -> bytes:
    """The bytes of standard input or a pipe (`/dev/stdin`, `<(command)`), which has no size to check first."""
    if str(path) == _STDIN_NAME:
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        with path.open("rb") as stream:
            data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(path, None, max_bytes)
    if not data:
        raise DocumentError(f"{path}: the file is empty")
    return data


_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
# A page, whatever its name: a doctype or `<html>` first, after an XHTML page's XML declaration and comments.
_HTML_PAGE = re.compile(rf"\s*{PAGE_PREAMBLE}<(?:!doctype html|html)\b", re.I)


def _read_one(path: Path, max_bytes: int, notes: list[str]) -> tuple[str, list[int], list[int], bool]:
    """The text of one file, line ends as "\\n", where a "\\n" is "\\r\\n" in the file (`DocumentPart.crlf`),
    where the file has characters the text leaves out (`DocumentPart.dropped`: overstrikes), and whether the text was
    taken out of a page, a PDF or an e-mail (`DocumentPart.plain`); what a reader should know of what it leaves out of
    the file (a PDF's pages without text) goes to `notes`."""
    suffix = path.suffix.lower()
    if str(path) == _STDIN_NAME or not path.is_file():
        data = _read_stream(path, max_bytes)
    else:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_large(path, size, max_bytes)
        if size == 0:
            raise DocumentError(f"{path}: the file is empty")
        if suffix == ".pdf":
            return _pdf_to_text(path, notes=notes, max_chars=max_bytes), [], [], True
        data = path.read_bytes()
    if is_pdf(data) or suffix == ".pdf":
        return _pdf_to_text(path, data, notes, max_chars=max_bytes), [], [], True
    crlf: list[int] = []  # offsets count in the text read, not in a message's or a page's raw bytes
    dropped: list[int] = []
    extracted = True
    if suffix == ".eml":
        text = _unix_lines(_email_to_text(data, path))
    else:
        text = _decode(data, path)
        looks_html = not (suffix in (".txt", ".md") or reads_as_code(path)) and _HTML_PAGE.match(text)
        if suffix in _HTML_SUFFIXES or looks_html:
            text = _unix_lines(_html_to_text(text))
        else:  # line ends read by `as_text`, which says where they were "\r\n"; source code keeps its backspaces
            text, crlf, dropped = as_text(text, overstrikes=not _is_code(path, text))
            extracted = False
    if not visible(text):  # white space, or zero-width characters alone
        raise DocumentError(f"{path}: has no text")
    return text, crlf, dropped, extracted


def _is_code(path: Path, text: str) -> bool:
    """Whether the file at `path`, which reads as `text`, is source code (`DocumentPart.code`): by its name, or a
    script of another name that opens with `#!`."""
    return reads_as_code(path) or (text.startswith("#!") and path.suffix.lower() not in SUPPORTED_SUFFIXES)


def _expand(paths: Sequence[str | Path], other_kinds: list[str]) -> list[tuple[Path, bool]]:
    """Every file to read, and whether it was found in a folder (rather than named).

    A folder gives its files of the kinds pearl reads, sorted, except hidden ones and those in
    hidden folders (`.git`, `.venv`): nobody means those as part of the document. Its files of
    other kinds are left out, and `other_kinds` is told so, one line a folder. A file given
    twice (`a.txt a.txt`, or a folder and a file in it) is read once, where first given, and
    `other_kinds` is told so, one line a file.
    """
    files: list[tuple[Path, bool]] = []
    for raw in paths:
        if str(raw) == _STDIN:
            files.append((Path(_STDIN_NAME), False))
            continue
        if isinstance(raw, str) and not raw.strip():
            # `Path("")` is the current folder: an unset shell variable ("$DOC") read every file under it.
            raise DocumentError(f"{raw!r} names no file: give a file or folder (an unset variable?)")
        path = Path(raw).expanduser()
        if not path.exists():
            url = _URL.match(str(raw))  # a `Path` keeps one slash of "https://": said as typed
            if url:
                raise DocumentError(f"{url.group(1)}://{str(raw)[url.end() :]}: {_NOT_URLS}")
            raise DocumentError(f"{path}: {_missing(path)}")
        if path.is_dir():
            others: list[Path] = []
            outside: list[Path] = []
            found = sorted(_folder_files(path, others, outside))
            if outside:
                links = ", ".join(str(p) for p in sorted(outside)[:3]) + (", ..." if len(outside) > 3 else "")
                other_kinds.append(
                    f"{path}: {counted(len(outside), 'symbolic link')} to files outside it ({links}): "
                    "name a file to read it"
                )
            if others:
                kinds = sorted({p.suffix.lower() or "no extension" for p in others})
                # Each is read when named: source code line by line, the rest as text (a CSV, subtitles). "Name the
                # source file to read it as code" was said of a folder's CSV and subtitles too (helper-215).
                code = sorted(p.name for p in others if reads_as_code(p))
                shown = ", ".join(code[:3]) + (", ..." if len(code) > 3 else "")
                named = f" ({shown}: source code, read line by line)" if code else ""
                other_kinds.append(
                    f"{path}: {counted(len(others), 'file')} of kinds pearl does not read from a folder "
                    f"({', '.join(kinds)}); name a file to read it{named}"
                )
            if not found:
                held = f"; it holds files of other kinds ({', '.join(kinds)}): name them to read them" if others else ""
                if outside:
                    leads = "leads" if len(outside) == 1 else "lead"
                    links = counted(len(outside), "symbolic link")
                    held += f"; {links} in it {leads} outside it: name a file to read it"
                raise DocumentError(
                    f"{path}: is a directory with no files of the kinds read from a folder "
                    f"({', '.join(SUPPORTED_SUFFIXES)}){held}"
                )
            files.extend((p, True) for p in found)
        elif path.is_file() or _is_pipe(path):
            files.append((path, False))
        else:
            raise DocumentError(f"{path}: not a regular file; to read standard input, give - as the file")
    if not files:
        raise DocumentError("no document given")
    return _once(files, other_kinds)


def _same_file(path: Path) -> str:
    """What two names of one file have in common: the path with symbolic links and `..` resolved."""
    if str(path) == _STDIN_NAME:
        return _STDIN_NAME
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13): its name alone
        return str(path.absolute())


def _once(files: list[tuple[Path, bool]], notes: list[str]) -> list[tuple[Path, bool]]:
    """`files` with each file kept where it first comes; `notes` gets a line for each file given more than once."""
    kept: dict[str, tuple[Path, bool]] = {}
    again: dict[str, list[Path]] = {}
    for path, in_folder in files:
        key = _same_file(path)
        if key in kept:
            again.setdefault(key, []).append(path)
            first, found = kept[key]
            kept[key] = (first, found and in_folder)  # named once is named: its problems are errors, not notes
        else:
            kept[key] = (path, in_folder)
    for key, (first, _) in kept.items():
        repeats = again.get(key)
        if not repeats:
            continue
        which = "the repeat" if len(repeats) == 1 else f"the {len(repeats)} repeats"
        others = list(dict.fromkeys(str(p) for p in repeats if p != first))
        also = f" (named {', '.join(others)})" if others else ""
        notes.append(f"{which} of {first}{also}: it is read once, where first given")
    return list(kept.values())


_URL = re.compile(r"(?i)(https?|ftp):/+(?=[^/])")
_NOT_URLS = "pearl reads local files, not URLs: download it first (`curl -O URL`)"


def _missing(path: Path) -> str:
    """Why `path`, which does not exist, does not: a symbolic link to nothing, a loop of them, or nothing there."""
    if not path.is_symlink():
        return "no such file or directory"
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python before 3.13 reports a loop so
        return "a loop of symbolic links"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a loop of symbolic links"
    return f"a symbolic link to {os.readlink(path)}, which does not exist"


def _is_pipe(path: Path) -> bool:
    """Whether `path` is a pipe (or `/dev/stdin` given one), read to its end as a file's bytes are."""
    try:
        return stat.S_ISFIFO(path.stat().st_mode)
    except OSError:
        return False


def _walk(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """Each folder under `folder` (itself first) and the names of what it holds that is no folder, as `os.walk` gives
    them, hidden folders (a `.venv`, a `.git`) and links to folders not walked, a folder that cannot be read passed
    over; without recursion, which `os.walk` uses before Python 3.12: 1,400 folders one in another raised
    RecursionError."""
    pending = [str(folder)]
    while pending:
        root = pending.pop()
        try:
            with os.scandir(root) as listing:
                entries = list(listing)
        except OSError:
            continue
        names = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if not is_folder:
                names.append(entry.name)
            elif not entry.name.startswith(".") and not entry.is_symlink():
                pending.append(entry.path)
        yield root, names


def _folder_files(folder: Path, others: list[Path], outside: list[Path]) -> Iterator[Path]:
    """The files of kinds pearl reads under `folder`, hidden files and folders left out, unvisited; the
    files of other kinds go to `others`, and symbolic links to files outside the folder to `outside`: a link to
    `/etc/passwd` in a folder of notes would send that file to the model's server, which naming the folder never
    asked for. (Links to folders are not walked.)"""
    within = folder.resolve()
    for root, names in _walk(folder):
        for name in names:
            path = Path(root, name)
            if name.startswith(".") or not path.is_file():
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(within):
                outside.append(path)
                continue
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path
            else:
                others.append(path)


def _name(items: Sequence[str | Path], files: list[Path]) -> str:
    """A document's name: the one file or folder given, or where its files are, with how many files."""
    named: dict[str, Path] = {}  # `a.txt a.txt` names one file
    for item in items:
        path = Path(_STDIN_NAME if str(item) == _STDIN else item).expanduser()
        named.setdefault(_same_file(path), path)
    given = list(named.values())
    if len(given) == 1 and not given[0].is_dir():
        return str(given[0])
    count = f"{len(files)} file{'s' if len(files) != 1 else ''}"
    if len(given) == 1:
        return f"{given[0]} ({count})"
    if not any(path.is_absolute() or path.drive for path in given):
        # Named as typed, as a folder or one file is: `a.txt notes/b.md` are "here (2 files)", not the absolute path
        # of the working folder, which prompts would carry to a server. The folder they share, or this one's name.
        shared = os.path.commonpath([os.path.normpath(f.parent) for f in files])
        if shared in ("", ".") or os.pardir in Path(shared).parts:  # here, or `../a.txt b.txt`: by its own name
            shared = _folder_name(files)
        return f"{shared} ({count})"
    try:
        where = os.path.commonpath([f.parent.absolute() for f in files])
    except ValueError:  # on different drives (Windows): no common folder
        where = str(files[0].parent)
    return f"{where} ({count})"


def _folder_name(files: list[Path]) -> str:
    """The name, not the path, of the folder that holds `files` ("." where it has none, or cannot be found)."""
    try:
        return Path(os.path.commonpath([f.parent.resolve() for f in files])).name or "."
    except (OSError, ValueError):  # the working folder gone; on different drives
        return "."


def _whole(value: object) -> bool:
    """Whether `value` is a whole number (an int, numpy's too, or a float such as 5e6)."""
    try:
        return int(value) == value  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError, OverflowError):
        return False


def _many(paths: object) -> bool:
    """Whether `paths` is a collection of paths to read, not one (bytes are no list of paths)."""
    return isinstance(paths, Iterable) and not isinstance(paths, (bytes, bytearray, Mapping))


def load_document(paths: str | Path | Sequence[str | Path], max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Read one or more files (or folders) as one document, keeping file boundaries.

    Args:
        paths: a file, a folder (its supported files, sorted) or a list of them.
        max_bytes: the largest file accepted.

    Raises:
        DocumentError: a path is missing, empty, binary, undecodable, too large, or a PDF without text.
        ConfigError: `max_bytes` is under 1 (no file could be read).
        TypeError: `paths` is neither a path nor a list of paths.
    """
    if isinstance(max_bytes, bool) or not _whole(max_bytes) or max_bytes < 1:
        # As `Settings.max_bytes` is refused: 0 read every file as "over the limit of 0".
        raise ConfigError(f"max_bytes must be a whole number of bytes, 1 or more, got {max_bytes!r}")
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths) if _many(paths) else None
    if items is None or not all(isinstance(item, (str, os.PathLike)) for item in items):
        # "'int' object is not iterable", or a str of bytes read as a path
        wrong = paths if items is None else next(i for i in items if not isinstance(i, (str, os.PathLike)))
        raise TypeError(
            f"paths must be a path (str or Path) or a list of them, not {type(wrong).__name__}"
            + (": text to read is Document.from_text(text)" if isinstance(wrong, bytes) else "")
        )
    parts: list[DocumentPart] = []
    chunks: list[str] = []
    offset = 0
    read: list[Path] = []
    skipped: list[str] = []
    for path, in_folder in _expand(items, skipped):
        try:
            try:
                text, crlf, dropped, extracted = _read_one(path, max_bytes, skipped)
            except PermissionError as exc:
                raise DocumentError(f"{path}: permission denied") from exc
        except DocumentError as exc:
            if not in_folder or isinstance(exc, DocumentTooLargeError):
                raise
            # One empty or unreadable file in a folder does not stop the rest from being read: it is left out, and
            # the document says so (`Document.left_out`: an answer's notes, the command line).
            skipped.append(str(exc))
            _log.info("left out of the document: %s", exc)
            continue
        read.append(path)
        if chunks:
            chunks.append(_SEPARATOR)
            offset += len(_SEPARATOR)
        chunks.append(text)
        code = _is_code(path, text)
        end = offset + len(text)
        parts.append(
            DocumentPart(name=str(path), start=offset, end=end, crlf=crlf, dropped=dropped, code=code, plain=extracted)
        )
        offset += len(text)
    if not read:
        raise DocumentError(f"no file could be read: {'; '.join(skipped)}")
    return Document(text="".join(chunks), name=_name(items, read), parts=parts, left_out=skipped)


def left_out_notes(document: Document) -> list[str]:
    """What to tell a reader about what `document` leaves out (`Document.left_out`): the files of a folder it could
    not read, files given twice, a PDF's pages that show no text."""
    return [f"left out of the document: {why}" for why in document.left_out]


def _is_existing_path(text: str) -> bool:
    if not text or len(text) > 4096 or "\n" in text or "\x00" in text:
        return False
    try:
        return Path(text).expanduser().exists()
    except (OSError, ValueError):  # a name too long for the file system is text, not a path
        return False


def _passage(text: str) -> bool:
    """Whether `text`, given in a list of files, is a passage of text instead: a sentence ("Alice went home.") or six
    words or more, naming no file or folder, not reading as a path and with no folder in it ("My Documents/story" and
    "Meeting notes" are files mistyped, which the command line names too)."""
    said = text.strip()
    words = len(said.split())
    if words < 2 or _reads_as_path(said) or "/" in said or "\\" in said:
        return False
    if words < 6 and not said.endswith((".", "!", "?", '"', "\u201d")):
        return False
    try:
        return not os.path.lexists(os.path.expanduser(text))
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL in it
        return True


def _reads_as_path(text: str) -> bool:
    """One line naming a file of a kind pearl reads (`contract.pdf`) or a document it does not (`report.docx`:
    `_OFFICE_SUFFIXES`), or a path without spaces (`notes/`, `data.csv`)."""
    line = text.strip()
    if not line or "\n" in line or len(line) > 4096:
        return False
    if line.lower().endswith(SUPPORTED_SUFFIXES + _OFFICE_SUFFIXES):
        return True
    one_word = not any(c.isspace() for c in line)
    return one_word and ("/" in line or "\\" in line or reads_as_code(line) or line.lower().endswith(_DATA_SUFFIXES))


def names_path(text: str, *, one_word: bool = False, existing: bool = False) -> bool:
    """Whether `as_document` reads `text` as a path: a file or folder that exists, or a string that reads as
    one (`contract.pdf`, `notes/`), which it refuses as missing rather than take for the text itself. With
    `one_word`, a string that names no file must be one word to read as one ("Summarise README.md" does not);
    with `existing`, only a file or folder that exists is one ("TCP/IP", "Node.js" and "and/or" are not)."""
    if _is_existing_path(text):
        return True
    return not existing and _reads_as_path(text) and (not one_word or len(text.split()) == 1)


def _missing_path(source: str) -> str:
    """Why `source`, a string that reads as a path but names nothing, is refused, and what to pass instead."""
    name = source.strip()
    text = "to ask about this text itself, pass Document.from_text(text)"
    if _URL.match(name):
        return f"{name}: {_NOT_URLS}; {text}"
    if _is_existing_path(name):  # a line read from a file list keeps its line break
        return f"{source!r} has white space around a file's name: strip it to read the file; {text}"
    path = Path(name).expanduser()
    where = "" if path.is_absolute() else f" (looked in {Path.cwd()})"
    return f"{path}: no such file or directory{where}; {text}"


def as_document(source: DocumentSource, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """A `Document` from a document, a path, a list of paths, or a string.

    A string is a path if a file or folder of that name exists; otherwise it is the text itself
    (`Document.from_text`: a citation's `file_start`/`file_end` count in it as given), unless it reads as a path
    (`contract.pdf`, `notes/`): that is a path mistyped, or relative to another folder (or a URL, which pearl does
    not fetch), and is refused rather than read as a one-line document (`Document.from_text` takes any text).

    Raises:
        DocumentError: a path is missing or cannot be read.
        TypeError: `source` is of a kind that holds no document (a number, bytes, None).
    """
    if isinstance(source, Document):
        return source
    if isinstance(source, str) and not _is_existing_path(source):
        if _reads_as_path(source):
            raise DocumentError(_missing_path(source))
        return Document.from_text(source)
    if isinstance(source, (str, Path)):
        return load_document(source, max_bytes=max_bytes)
    if isinstance(source, Sequence) and all(isinstance(item, (str, Path)) for item in source):
        # A list is of files: a passage in it (words that name no file and do not read as a path) was refused as a
        # missing file, with nothing said of how to ask about passages. One word is a file's name mistyped.
        passages = [item for item in source if isinstance(item, str) and _passage(item)]
        if passages:
            raise DocumentError(
                f"{shorten(passages[0], 60)!r} is not a file: a list is of files or folders; to ask about passages "
                'of text, join them into one: Document.from_text("\\n\\n".join(passages))'
            )
        return load_document(list(source), max_bytes=max_bytes)
    if isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray)):
        # "cannot read a list": a list of paths is read, so the message said nothing of what was wrong with this one.
        kinds = sorted({type(item).__name__ for item in source if not isinstance(item, (str, Path))})
        join = (
            "; to ask about several Documents, join their texts: "
            'Document.from_text("\\n\\n".join(d.text for d in docs))'
            if any(isinstance(item, Document) for item in source)
            else ""
        )
        raise TypeError(
            f"cannot read a {type(source).__name__} holding {' and '.join(kinds)} as a document: "
            f"a list is of files or folders{join}"
        )
    raise TypeError(f"cannot read a {type(source).__name__} as a document: pass a path, a Document or a string")


def source_files(document: Document) -> list[str]:
    """Absolute paths of the files `document` was read from, so it can be read again; [] for text given as such.

    A document counts as read from files only if every part names an existing file.
    """
    paths = [Path(part.name).expanduser() for part in document.parts]
    try:
        if not paths or not all(path.is_file() for path in paths):
            return []
    except OSError:  # a "name" that is text too long for the file system
        return []
    return [str(path.resolve()) for path in paths]
