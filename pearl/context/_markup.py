"""What a prompt shows of a sentence of a document written in markup: its words, not its tags.

A web page saved with its markup, or text that carries a page's elements (the NQ layout:
"<P> ... </P> <Table> <Tr> <Td> ... </Td>"), spends a fifth to two fifths of its tokens on tags
and attributes ("<a class="header" href="#storing-utf-8-encoded-text-with-strings">"). Shown
to a model they are budget that buys no evidence, and indexed they are words no question means
("class", "href", a link's file name). For such a text each sentence is shown, indexed and
counted as what a browser shows of it: tags out (an inline element's without a space,
"un<em>usual</em>" stays one word; a table cell's as a column bar, "| Juneau | 31,275"; the pieces
of a tag a sentence's boundary cuts too), character references decoded, comments out, and on a
page its scripts, style sheets and drawings. The whole document, for the methods that paste it,
keeps a line for each block. The document's text and offsets are unchanged: citations still
point at the original.

Text that only mentions tags ("put a <link> in the <head>") is left as it is: a text counts as
markup when it is a saved page (a doctype or `<html>` first, or a fragment that opens with an
element, is dense with them and has no Markdown of its own) or when HTML elements' tags are
dense throughout it (about one every `DENSE_CHARS` characters or closer) and elements are
closed, as markup closes them and prose that names tags does not. An XML document is none.
Markdown code blocks and code spans keep their tags: there they are an example to read.

Code keeps its lines. A closed Markdown code fence (in any text) and a `<pre>` element's content
(in markup) are shown line by line with their indentation, as a browser shows a `<pre>`: a
doctest's `>>> a.sort()` stays apart from the output under it, a Python block keeps the
indentation that is its syntax. Everything else is shown with its whitespace collapsed.
"""

from __future__ import annotations

import bisect
import codeop
import functools
import html
import itertools
import re
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from pearl._files import PAGE_PREAMBLE
from pearl.context._models import DocumentIndex, SentenceFlag
from pearl.context._sentences import LONG_TAG
from pearl.models import Citation

__all__ = [
    "SEPARATING_NAMES",
    "Fence",
    "MarkupView",
    "blanked",
    "cite",
    "code_sentences",
    "code_set",
    "fences",
    "flag_markup",
    "gutters",
    "hidden_spans",
    "is_markup",
    "keep_shown",
    "literal_blocks",
    "looks_restructured",
    "markup_view",
    "shown_document",
    "shown_text",
    "shown_texts",
    "source_blocks",
]

# Elements of HTML (and of the NQ layout, which capitalises them: "<Td>"). A tag of anything else
# ("<T>", "<your name>") is text.
_INLINE = (
    "a abbr b bdi bdo big cite code data del dfn em font i ins kbd mark q s samp small span strong sub sup time tt u "
    "var wbr"
)
_BLOCK = (
    "address area article aside audio base blockquote body br button canvas caption center col colgroup dd details "
    "dialog dir div dl dt embed fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header "
    "hgroup hr html iframe img input label legend li link main map menu meta meter nav noscript object ol optgroup "
    "option output p param picture pre progress rp rt ruby script section select source style summary svg table "
    "tbody td template textarea tfoot th thead title tr track ul video"
)
_INLINE_NAMES = frozenset(_INLINE.split())
_NAMES = _INLINE_NAMES | frozenset(_BLOCK.split())
# A tag (group 1 its element's name: HTML's, or on a page its own, "<mdbook-sidebar>"), a comment, a
# doctype or a processing instruction.
_ELEMENT = re.compile(
    r"<!--.{0,400}?-->|<[!?][A-Za-z][^<>]{0,400}>|</?([A-Za-z][\w:.-]{0,40})(?=[\s/>])[^<>]{0,400}>", re.DOTALL
)
# What a tag leaves in the text: an inline element's nothing ("un<em>usual</em>" is one word), a table
# cell's opening a column bar, a block's a line break (in the whole document; a sentence is one line).
_SEPARATOR = {**dict.fromkeys(_INLINE_NAMES, ""), "td": " | ", "th": " | "}
_SEPARATOR |= dict.fromkeys(
    "address article aside blockquote br caption dd div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 header "
    "hr li main nav ol p pre section table title tr ul".split(),
    "\n",
)
_CLOSER = {**dict.fromkeys(_INLINE_NAMES, ""), "td": " ", "th": " "}
SEPARATING_NAMES = frozenset(name for name, left in _SEPARATOR.items() if left)
"""Elements whose tags end a run of text (a cell, a row, a list item, a paragraph, a heading): no name runs
across them."""
_TAG_CHARS = 400  # the longest tag looked for; longer ones carry data (`LONG_TAG`), hidden on a page
_XML = re.compile(r"[\s\ufeff]*<\?xml\b", re.IGNORECASE)
# Markdown's own marks: a code fence or a heading line.
_MARKDOWN = re.compile(r"^(?:[ \t]{0,3}(?:```|~~~)|#{1,6}[ \t]+\S)", re.MULTILINE)
_CODE_SPAN = re.compile(r"`[^`\n]{1,400}`")
# A code fence's mark: three or more backticks or tildes opening a line, then what the line says.
_FENCE_MARK = re.compile(r"^[ \t]{0,8}(`{3,}|~{3,})(.*)$", re.MULTILINE)  # indented too: in a list item
# At a line's end: the next line is blank, or there is none (searched for: where the paragraph ends).
_BLANK_AHEAD = re.compile(r"\r?(?:\Z|\n[ \t]*\r?(?:\n|\Z))")
_PRE_CONTEXT = re.compile(r"<(/?)(pre|td|th|tr|table|h[1-6])(?=[\s/>])[^<>]{0,400}>", re.IGNORECASE)
_PRE_CLOSE = re.compile(r"</pre\s*>", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\r\n?|\n")
_FRAGMENT = re.compile(r"[\s\ufeff]*(?:<!--.{0,2000}?-->\s*)*<([A-Za-z][A-Za-z0-9]{0,9})[\s/>]", re.DOTALL)
_SPACES = re.compile(r"\s+")
# A word hyphenated at a line's end ("man-\nagement", "decom‐\n  pression"), as typeset text saved as plain text
# (`pdftotext`, `man`) breaks words: shown joined, or no search would find the word and it would read as two.
_BROKEN_WORD = re.compile(r"(?<=[^\W\d_])[-\u2010\u00ad][ \t]*\r?\n[ \t]*(?=[a-z])")
_WORD_END = re.compile(r"[^\W\d_]{1,40}$")
_WORD_START = re.compile(r"[^\W\d_]{1,40}")
# From a word's start only: tried at every letter of a run of 40,000 it took 39 s (helper-160).
_COMPOUND = re.compile(r"(?<![^\W\d_])[^\W\d_]+(?:[-\u2010][^\W\d_]+)+")
_SUSPENDED = frozenset(("and", "or", "nor", "to"))
"""Words after which a hyphen at a line's end is the text's own when a hyphenated word follows them:
"pre-\nand post-war" (but "gover-\nnor" is "governor")."""
_HYPHENATED_NEXT = re.compile(r"\s+[^\W\d_]+[-\u2010]")
_SOFT_HYPHEN = "\u00ad"


def _compounds(text: str) -> frozenset[str]:
    """Every pair of words `text` joins with a hyphen within a line, lower-cased, "-" for U+2010: "state-of",
    "of-the", "the-art" for "state-of-the-art"."""
    pairs: set[str] = set()
    for compound in _COMPOUND.findall(text.lower()):
        parts = re.split(r"[-\u2010]", compound)
        pairs.update(f"{left}-{right}" for left, right in itertools.pairwise(parts))
    return frozenset(pairs)


def _join_broken_words(text: str, compounds: frozenset[str]) -> str:
    """`text` with every word hyphenated across a line break joined: without the hyphen, unless the document
    writes the word with one within a line (`compounds`: "third-party"), or the hyphen is suspended ("pre-
    and post-war"), which keeps the line break too."""

    def join(match: re.Match[str]) -> str:
        after = _WORD_START.match(text, match.end())
        right = after.group().lower() if after else ""
        if right in _SUSPENDED and after is not None and _HYPHENATED_NEXT.match(text, after.end()):
            return match.group()
        before = _WORD_END.search(text, max(0, match.start() - 40), match.start())
        left = before.group().lower() if before else ""
        # A hyphen in a chain ("state-of-the-", "mother-" + "in-law") or after one letter ("X-ray") is the word's.
        chain_before = before is not None and before.start() > 0 and text[before.start() - 1] in "-\u2010"
        chain_after = after is not None and text[after.end() : after.end() + 1] in ("-", "\u2010")
        keep = chain_before or chain_after or len(left) == 1 or f"{left}-{right}" in compounds
        return "-" if keep else ""

    return _BROKEN_WORD.sub(join, text)


_BLANKS = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Text that opens as a saved page: a doctype or `<html>` first (after a byte-order mark, an XML
# declaration, comments). A page named in prose ("put a <link> in the <head>") is no page.
_PAGE = re.compile(rf"[\s\ufeff]*{PAGE_PREAMBLE}<(?:!doctype|html|head)\b", re.IGNORECASE)
# Elements whose content a browser does not show as text: a page saved with its markup carries
# its scripts, style sheets, drawings and comments, whose words match questions and read as names.
_HIDDEN_NAMES = ("script", "style", "svg", "noscript", "template")
_HIDDEN_OPEN = re.compile(rf"<({'|'.join(_HIDDEN_NAMES)})(?=[\s/>])|<!--", re.IGNORECASE)  # not <svg-icon>
_HIDDEN_CLOSE = {
    "!--": re.compile(r"-->"),
    **{name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _HIDDEN_NAMES},
}
_NOTHING_SHOWN = re.compile(r"^[\W_]*$")

_VIEW, _SHOWN, _CODE = "markup_view", "shown_texts", "code_sentences"  # `DocumentIndex.memo` keys

DENSE_CHARS = 200
"""A text with HTML elements' tags about this close together or closer, throughout, is markup."""
MIN_TAGS = 20
"""...and with at least this many of them: a short note with three tags is not."""
CLOSING_SHARE = 0.2
"""...and closing elements in at least this share of them: prose that names tags closes none."""


def is_page(text: str) -> bool:
    """Whether `text` is a web page saved with its markup (it opens with a doctype or `<html>`)."""
    return _PAGE.match(text) is not None


def hidden_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the `<script>`, `<style>`, `<svg>`... elements, HTML comments and tags long enough to
    carry data (`LONG_TAG`: an image inlined as base64) of a saved page, in order.

    Only for a page (`MarkupView.page`): prose or Markdown that names "the <script> tag" would hide
    everything up to a later example's closing tag. One forward search per element: one never
    closed hides nothing, and its closing tag is not looked for again (a lazy `.*?` pattern
    rescans the rest of the text at each one).
    """
    spans: list[tuple[int, int]] = []
    unclosed: set[str] = set()
    position = 0
    while (opening := _HIDDEN_OPEN.search(text, position)) is not None:
        name = (opening.group(1) or "!--").lower()
        position = opening.end()
        if name in unclosed:
            continue
        closing = _HIDDEN_CLOSE[name].search(text, position)
        if closing is None:
            unclosed.add(name)
            continue
        spans.append((opening.start(), closing.end()))
        position = closing.end()
    return _with_long_tags(text, spans)


# A page's navigation: a `<nav>` element, or any element with role="navigation" (Sphinx's "related" bars).
_NAVIGATION_OPEN = re.compile(
    r"<(nav)(?=[\s/>])[^<>]{0,400}>|<([A-Za-z][\w-]{0,20})\s[^<>]{0,400}?\brole\s*=\s*[\"']?navigation\b[^<>]{0,400}>",
    re.IGNORECASE,
)


def navigation_spans(text: str, hidden: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Character spans of a saved page's navigation (menus, breadcrumbs, a table of contents repeated for the
    sidebar), outermost only, in order: page furniture, which the page's opening is not (a news page's menu of 30
    links was all a small budget kept of it). Elements of the same name inside one are counted, so that its own
    closing tag is found; one never closed is no navigation. Outside `hidden` (a script's text)."""
    spans: list[tuple[int, int]] = []
    unclosed: set[str] = set()  # each looked for to the end once: a page of 10,000 unclosed ones stays linear
    position = 0
    while (opening := _NAVIGATION_OPEN.search(text, position)) is not None:
        position = opening.end()
        name = (opening.group(1) or opening.group(2)).lower()
        if name in unclosed or _within(tuple(hidden), opening.start(), opening.end()):
            continue
        tags = re.compile(rf"<(/?){re.escape(name)}(?=[\s/>])[^<>]{{0,400}}>", re.IGNORECASE)
        depth = 1
        for tag in tags.finditer(text, position):
            depth += -1 if tag.group(1) else 0 if tag.group(0).endswith("/>") else 1
            if depth == 0:
                spans.append((opening.start(), tag.end()))
                position = tag.end()
                break
        else:
            unclosed.add(name)
    return spans


def _with_long_tags(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`spans` (sorted, disjoint) with the `LONG_TAG`s outside them, in order."""
    merged: list[tuple[int, int]] = []
    position = 0
    for span in [*spans, (len(text), len(text))]:
        merged += [tag.span() for tag in LONG_TAG.finditer(text, position, span[0])]
        merged.append(span)
        position = span[1]
    return merged[:-1]


def flag_markup(
    text: str, view: MarkupView, sentences: list[tuple[int, int]], shown: list[str], flags: list[int]
) -> None:
    """Flag as `MARKUP` the units of a markup text a browser shows nothing of: tags alone, or all inside
    the `hidden` spans (`shown`: each unit as `view` shows it); as `BOILERPLATE` those all inside its navigation.

    A unit with a word outside them keeps its content: a heading beside its link icon's drawing.
    Only markup, and not in its code blocks (`MarkupView.shown` keeps their tags): in a tutorial,
    `<input type="email" required>` is an example to read.
    """
    if not view.markup:
        return
    for i, (start, end) in enumerate(sentences):
        marked = "<" in text[start:end] or ">" in text[start:end] or _within(view.hidden, start, end)
        if marked and _NOTHING_SHOWN.match(shown[i]):
            flags[i] |= SentenceFlag.MARKUP
        elif (inside := _within(view.navigation, start, end)) and _NOTHING_SHOWN.match(
            _ELEMENT.sub("", blanked(text, inside, start, end))
        ):
            flags[i] |= SentenceFlag.BOILERPLATE  # a menu, a breadcrumb: furniture, not the page's opening


def blanked(text: str, spans: Sequence[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """`text[start:end]` with what `spans` (sorted, disjoint) cover turned to spaces: same length, same offsets."""
    end = len(text) if end is None else end
    pieces: list[str] = []
    done = start
    for h_start, h_end in spans:
        h_start, h_end = max(done, h_start), min(end, h_end)
        if h_start < h_end:
            pieces += [text[done:h_start], " " * (h_end - h_start)]
            done = h_end
    pieces.append(text[done:end])
    return "".join(pieces)


def _element_tags(text: str) -> tuple[int, int]:
    """HTML elements' tags in `text`, and how many of them close an element."""
    tags = closing = 0
    for match in _ELEMENT.finditer(text):
        if match.group(1) and match.group(1).lower() in _NAMES:
            tags += 1
            closing += match.group(0)[1] == "/"
    return tags, closing


def _dense(text: str, literal: tuple[tuple[int, int], ...], blank: int = 0) -> bool:
    """Tags of HTML elements about every `DENSE_CHARS` characters or closer, elements closed as markup closes them.

    Prose that names tags ("each item is an <li>") opens elements it never closes, and a code
    example's tags (in `literal`) are no markup. `blank`: characters of `text` that are no part of it (source
    code blanked out of a document of several files).
    """
    tags, closing = _element_tags(blanked(text, literal))
    return tags >= MIN_TAGS and len(text) - blank <= DENSE_CHARS * tags and closing >= CLOSING_SHARE * tags


class Fence(NamedTuple):
    """A Markdown fenced code block."""

    start: int  # where its opening mark's line starts
    closing: int  # where its closing mark starts (the text's end when none closes it)
    end: int  # where its closing mark's line ends (the text's end when none closes it)

    @property
    def closed(self) -> bool:
        return self.end > self.closing


def fences(text: str) -> list[Fence]:
    """The fenced code blocks of Markdown in `text`, in order: from a line opening with three or more backticks
    (or tildes) to the next line of at least as many of the same and nothing else. A fence left open runs
    to the end of the text, as Markdown reads it.

    A bare line of tildes (naming no language) opens nothing where it underlines a title, as
    reStructuredText underlines them ("Usage" over "~~~~~", as long as it or longer), or stands between
    blank lines, a rule between sections of a story. Backticks always open a block.
    """
    if "```" not in text and "~~~" not in text:
        return []
    found: list[Fence] = []
    opened: re.Match[str] | None = None
    for mark in _FENCE_MARK.finditer(text):
        if opened is None:
            if not _rule_or_underline(text, mark):
                opened = mark
        elif mark[1][0] == opened[1][0] and len(mark[1]) >= len(opened[1]) and not mark[2].strip():
            found.append(Fence(opened.start(), mark.start(), mark.end()))
            opened = None
    if opened is not None:
        found.append(Fence(opened.start(), len(text), len(text)))
    return found


def _rule_or_underline(text: str, mark: re.Match[str]) -> bool:
    """Whether a bare line of tildes is a title's underline (right under a line of text no longer than it) or a
    rule (between blank lines), not a fence."""
    if mark[1][0] != "~" or mark[2].strip():
        return False
    line = mark.start()
    above = text[text.rfind("\n", 0, max(0, line - 1)) + 1 : max(0, line - 1)].strip() if line > 0 else ""
    if above:
        return len(mark[1]) >= len(above) and not _FENCE_MARK.match(above)
    return _BLANK_AHEAD.match(text, mark.end()) is not None


def _closed_fences(text: str) -> list[tuple[int, int]]:
    return [(fence.start, fence.end) for fence in fences(text) if fence.closed]


def _fence_blocks(text: str, fenced: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Closed fences as code blocks (start, end, margin): a fence indented in a list item takes as much
    indentation off its lines as its opening mark has, as Markdown does."""
    margins = [len(text[start:end]) - len(text[start:end].lstrip(" \t")) for start, end in fenced]
    return [(start, end, margin) for (start, end), margin in zip(fenced, margins, strict=True)]


# What opens a reStructuredText literal block: a line ending in "::" ("For example::", or "::" alone), or a
# code directive and its option lines; then a blank line.
_LITERAL_INTRO = re.compile(
    r"^(?P<indent>[ \t]*)(?:\S[^\n]*?::|::|\.\. (?:code-block|code|sourcecode|doctest|testcode|testoutput)::"
    r"[^\n]*(?:\r?\n[ \t]+:[\w-]+:[^\n]*)*)[ \t]*\r?\n[ \t]*\r?\n",
    re.MULTILINE,
)
# A doctest block: a paragraph whose first line opens with the interpreter's prompt.
_DOCTEST = re.compile(r"(?:\A|\n[ \t]*\r?\n)(?P<line>[ \t]*>>> )")
_LINE = re.compile(r"[^\n]*\n?")
_ITEM_MARK = re.compile(r"(?:[-*+\u2022]|\d{1,3}[.)]|[A-Za-z#][.)]|\(\w{1,4}\))[ \t]+")  # "* ", "1) ", "(a) "


# Signs that a text is reStructuredText: a directive, a role, an inline literal, or a title underlined.
_RST_SIGN = re.compile(
    r"^[ \t]*\.\. [\w-]+::|:[a-z][\w-]*:`[^`\n]+`|``[^`\n]+``"
    r"|^(?P<title>\S[^\n]*)\r?\n(?P<rule>([=\-~^\"'#*+])\3{2,})[ \t]*$",
    re.MULTILINE,
)


def _indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _shared_indentation(lines: list[str]) -> int:
    """How many characters of indentation `lines` all begin with (the same blanks, tab for tab)."""
    shared = min((_indentation(line) for line in lines), key=len, default="")
    for line in lines:
        while not line.startswith(shared):
            shared = shared[:-1]
    return len(shared)


def looks_restructured(text: str) -> bool:
    """Whether `text` is written in reStructuredText: a directive (`.. note::`), a role (:func:`len`), an inline
    literal (``x``), or a title underlined with a line of one mark at least as long as it."""
    for sign in _RST_SIGN.finditer(text):
        if sign["rule"] is None or len(sign["rule"]) >= len(sign["title"].rstrip()) >= 2:
            return True
    return False


def _python(line: str) -> bool:
    """Whether `line` (after the interpreter's prompt) is Python: a statement, or the start of one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            codeop.compile_command(line, "<doctest>", "single")
        except (SyntaxError, ValueError, OverflowError):
            return False
    return True


def literal_blocks(text: str) -> list[tuple[int, int, int]]:
    """reStructuredText's literal and doctest blocks, in order, as (start, end, margin).

    A literal block, in a text written in reStructuredText (`looks_restructured`): the lines indented
    deeper than the text of the line that opens it ("For example::", a `.. code-block::` directive; in a
    list item, its text after the mark) after a blank line, up to the next line that is not. A doctest
    block, in any text: a paragraph that opens with `>>> ` whose every prompt is followed by Python (an
    email quoted three times over is not). Each spans its first line's start to its last line's end;
    `margin` is how many characters of indentation its lines share, which is the document's layout, not
    the code's.
    """
    if "::" not in text and ">>> " not in text:
        return []
    blocks: list[tuple[int, int, int]] = []
    covered = 0  # where the last block ends: an intro inside it is its text
    for intro in _LITERAL_INTRO.finditer(text) if "::" in text and looks_restructured(text) else ():
        if intro.start() < covered:
            continue
        # Deeper than the text of the paragraph that opens it: in a list item, than the text after its mark.
        item = _ITEM_MARK.match(text, intro.end("indent"))
        depth = len(intro["indent"].expandtabs()) + (len(item.group().expandtabs()) if item else 0)
        start = end = intro.end()
        lines: list[str] = []
        for line in _LINE.finditer(text, intro.end()):
            content = line.group().rstrip()
            if not line.group():
                break
            if not content:
                continue
            if len(content.expandtabs()) - len(content.expandtabs().lstrip()) <= depth:
                break
            end = line.start() + len(content)
            lines.append(content)
        if end > start:
            blocks.append((start, end, _shared_indentation(lines)))
            covered = end
    for prompt in _DOCTEST.finditer(text) if ">>> " in text else ():
        start = prompt.start("line")
        blank = _BLANK_AHEAD.search(text, start)  # the paragraph's end
        end = blank.start() if blank is not None else len(text)
        lines = [line for line in text[start:end].split("\n") if line.strip()]
        prompts = [line.lstrip()[4:] for line in lines if line.lstrip().startswith(">>> ")]
        if all(map(_python, prompts)):
            blocks.append((start, end, _shared_indentation(lines)))
    return _disjoint(blocks)


def _disjoint(blocks: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """`blocks` in order, each one that overlaps one kept before it left out (of two that start together, the
    longer is kept: a literal block that opens with a doctest runs on past it)."""
    kept: list[tuple[int, int, int]] = []
    for block in sorted(blocks, key=lambda block: (block[0], -block[1])):
        if not kept or block[0] >= kept[-1][1]:
            kept.append(block)
    return kept


# A quote's marks at a line's start: "> ", "> > ", ">>" (an e-mail's, Markdown's). Not Python's prompt (">>> "), nor
# a comparison ("> 50 mg/dl", ">= 2").
_QUOTE_MARK = re.compile(r"[ \t]{0,3}(?!>>>(?:[ \t]|$))((?:>[ \t]?)+)(?![ \t]*[\d=])")
# A rule down a section's side ("     |  Methods defined here:", pydoc's classes; reStructuredText's line blocks).
_RULE_MARK = re.compile(r"[ \t]*\|(?=[ \t]|$)")
_RULE_LINES = 3
"""Lines in a row a rule runs down at least: one or two lines that open with "|" are a table's or a formula's."""


def gutters(text: str, code: Sequence[tuple[int, int]] = ()) -> tuple[list[tuple[int, int]], list[int]]:
    """Marks down the side of plain text that are its layout, not its words: quote marks ("> ", "> > ") and a
    rule ("|") down three lines or more, as sorted (start, end) spans; and the line starts where such marks
    begin, end or change (a quote is a passage of its own, not the end of the sentence before it).

    Not in `code` (its spans, sorted and disjoint), and a rule only where most of its lines hold no other "|": a
    table's rows ("| a | b |") are no rule.
    """
    if ">" not in text and "|" not in text:
        return [], []
    blocks = tuple(code)
    starts: list[int] = []
    kinds: list[str] = []  # per line: ">" as deep as the quote, "|" (a rule, if its run is long enough) or ""
    marks: list[tuple[int, int]] = []
    others: list[bool] = []  # whether a "|" line holds another "|" after its mark
    for line in _LINE.finditer(text):
        if not line.group():
            break
        start, end = line.span()
        in_code = _inside(blocks, start)
        quote = None if in_code else _QUOTE_MARK.match(text, start, end)
        rule = None if in_code or quote is not None else _RULE_MARK.match(text, start, end)
        mark = quote or rule
        starts.append(start)
        kinds.append(">" * quote.group(1).count(">") if quote else "|" if rule else "")
        marks.append(mark.span() if mark else (start, start))
        others.append(rule is not None and "|" in text[rule.end() : end])
    first = 0
    for kind, run in itertools.groupby(kinds):
        last = first + len(list(run))
        if kind == "|" and (last - first < _RULE_LINES or 3 * sum(others[first:last]) > last - first):
            kinds[first:last] = [""] * (last - first)
        first = last
    spans = [mark for mark, kind in zip(marks, kinds, strict=True) if kind]
    breaks = [starts[i] for i in range(1, len(kinds)) if kinds[i] != kinds[i - 1]]
    return spans, breaks


def _literal_spans(text: str, fenced: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Markdown code blocks (`fenced`: closed fences) and code spans, sorted and disjoint."""
    blocks = tuple(fenced)
    spans = [m.span() for m in _CODE_SPAN.finditer(text) if not _inside(blocks, m.start())]
    return tuple(sorted([*fenced, *spans]))


def _pre_spans(text: str, skip: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """Each `<pre>` element of markup that shows some text, outside `skip` (sorted, disjoint), a table cell and a
    heading (where a browser keeps it in the row or the title), its tags included, in order.

    One pass over the tags that open and close those (a cell ends at the next cell, row or table,
    as HTML lets it go unclosed; a table in a cell is rows of its own), and one forward search for
    each element's closing tag (one never closed ends the search).
    """
    spans: list[tuple[int, int]] = []
    cells = [False]  # per open table (the first: outside any), whether a cell of it is open
    heading = False
    position = 0
    while (tag := _PRE_CONTEXT.search(text, position)) is not None:
        position = tag.end()
        if skip and _inside(skip, tag.start()):
            continue
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if name == "pre":
            if closing or cells[-1] or heading:
                continue
            end = _PRE_CLOSE.search(text, position)
            if end is None:
                break
            if html.unescape(_ELEMENT.sub("", text[tag.end() : end.start()])).strip():
                spans.append((tag.start(), end.end()))
            position = end.end()
        elif name in ("td", "th"):
            cells[-1] = not closing
        elif name == "tr":
            cells[-1] = False
        elif name == "table":
            if not closing:
                cells.append(False)
            elif len(cells) > 1:
                cells.pop()
            else:
                cells[-1] = False
        else:
            heading = not closing
    return spans


def _laid_out(piece: str, whole_first_line: bool, margin: int = 0) -> str:
    """`piece` of a code block as a `<pre>` shows it: line by line with the indentation written, less `margin`
    blanks, each line's trailing blanks out, no blank line at either end nor two in a row. A first line that
    the piece takes from its middle (`whole_first_line` false) keeps no leading blanks."""
    lines = [line.rstrip() for line in _LINE_BREAK.split(piece)]
    if margin:
        lines = [line[min(margin, len(_indentation(line))) :] for line in lines]
    if not whole_first_line:
        lines[0] = lines[0].lstrip()
    return _BLANK_LINES.sub("\n\n", "\n".join(lines).strip("\n"))


def _opens_as_fragment(text: str) -> bool:
    """Whether dense markup is a page's content without its doctype (`<div class=...>`, `<p>`): it opens with
    an element. Markdown that opens with a centred logo (`<p align="center">`) is no page: its code
    blocks and headings say so.
    """
    opening = _FRAGMENT.match(text)
    return opening is not None and opening.group(1).lower() in _NAMES and not _MARKDOWN.search(text)


def is_markup(text: str) -> bool:
    """Whether `text` is written in HTML markup: a saved page or a fragment of one, or dense with elements.

    An XML document is not, though its elements may share HTML's names (`<data>`, `<time>`).
    """
    return MarkupView.of(text).markup


@dataclass(frozen=True)
class MarkupView:
    """How to show the sentences of one text: whether it is markup, and what of it a browser never shows."""

    markup: bool
    page: bool = False
    hidden: tuple[tuple[int, int], ...] = ()
    """What a browser never shows, sorted and disjoint: a page's scripts, style sheets, drawings and
    comments; elsewhere comments."""
    literal: tuple[tuple[int, int], ...] = ()
    """Markdown code blocks and code spans, whose tags are kept, sorted and disjoint."""
    code: tuple[tuple[int, int], ...] = ()
    """Code blocks, shown line by line with their indentation (see `_laid_out`): closed Markdown fences and, in
    markup, `<pre>` elements; in plain text, reStructuredText's literal and doctest blocks too (see
    `literal_blocks`); sorted and disjoint."""
    navigation: tuple[tuple[int, int], ...] = ()
    """A saved page's navigation (`navigation_spans`): page furniture, sorted and disjoint."""
    margins: tuple[int, ...] = ()
    """For each of `code`, the characters of indentation its lines lose, which are the document's layout, not the
    code's (a reStructuredText block's, a fence's in a list item); none when empty."""
    broken: bool = False
    """Plain text with words hyphenated across lines (see `_join_broken_words`), shown joined."""
    compounds: frozenset[str] = frozenset()
    """The pairs of words that text joins with a hyphen within a line (`_compounds`): joined across a line
    break, they keep it."""
    gutters: tuple[tuple[int, int], ...] = ()
    """In plain text, quote marks and rules down the side of its lines (see `gutters`), shown as spaces."""
    breaks: tuple[int, ...] = ()
    """In plain text, the line starts where a quote or a rule begins, ends or changes: a paragraph ends there."""
    source: tuple[tuple[int, int], ...] = ()
    """Where the text is source code read as such (`Document.code_spans`: a file `reads_as_code`), sorted and
    disjoint; its blocks are in `code` and `literal` too."""

    @classmethod
    def of(
        cls, text: str, source: Sequence[tuple[int, int]] = (), parts: Sequence[tuple[int, int, bool, bool]] = ()
    ) -> MarkupView:
        """How to show `text`; `source`: where it is source code (`Document.code_spans`), read as code blocks,
        a block between blank lines, whatever markup or Markdown it holds; `parts`: where each of its files is, and
        whether it is source code and whether it is text taken out of a page (`DocumentPart.plain`), for a text of
        several (`of_parts`) or one taken out of a page."""
        if len(parts) > 1:
            return cls.of_parts(text, parts)
        if parts and not source:
            start, end, code, plain = parts[0]
            if code:
                source = ((start, end),)
            elif plain:  # a page's text: "&lt;p&gt;" is "<p>" in it, no tag
                return cls._plain(text, _closed_fences(text))
        if source:
            return cls._with_source(text, tuple(source))
        return cls._read(text)

    @classmethod
    def of_parts(cls, text: str, parts: Sequence[tuple[int, int, bool, bool]]) -> MarkupView:
        """How to show `text` joined from several files, each `(start, end, code, plain)` read as it would be alone
        (`of`): a fence left open in one file was closed in the next, one code block across both and a sentence cited
        in the wrong file; a saved page first in a folder made every file read as markup, and a note's "<b>" deleted.

        Where some files are markup and some are not, the whole is read as markup and the files that are not are
        kept as written (`literal`: their tags and character references shown as they stand), so that a page's
        scripts stay hidden and a note's "<b>" stays.
        """
        views = [cls.of(text[start:end], (), [(0, end - start, code, plain)]) for start, end, code, plain in parts]
        joined = cls._joined(views, [start for start, *_ in parts])
        if not any(view.markup for view in views) or all(view.markup for view in views):
            return joined
        written = [(start, end) for view, (start, end, *_) in zip(views, parts, strict=True) if not view.markup]
        literal = tuple(sorted([*joined.literal, *written]))
        return replace(joined, markup=True, page=any(view.page for view in views), literal=literal)

    @classmethod
    def _joined(cls, views: Sequence[MarkupView], offsets: Sequence[int]) -> MarkupView:
        """One view of the files `views` read, each starting at its offset in the joined text."""
        placed = list(zip(views, offsets, strict=True))

        def spans(field: str) -> tuple[tuple[int, int], ...]:
            shifted = ((start + at, end + at) for view, at in placed for start, end in getattr(view, field))
            return tuple(shifted)

        def margins(view: MarkupView) -> tuple[int, ...]:
            return view.margins or (0,) * len(view.code)

        return cls(
            markup=bool(views) and all(view.markup for view in views),
            page=bool(views) and all(view.page for view in views),
            hidden=spans("hidden"),
            literal=spans("literal"),
            code=spans("code"),
            margins=tuple(margin for view in views for margin in margins(view)),
            broken=any(view.broken for view in views),
            compounds=frozenset().union(*(view.compounds for view in views)),
            gutters=spans("gutters"),
            breaks=tuple(b + at for view, at in placed for b in view.breaks),
            source=spans("source"),
        )

    @classmethod
    def _read(cls, text: str, blank: int = 0) -> MarkupView:
        """The view of `text`, `blank` characters of which are source code blanked out, which counts for nothing in
        how dense its tags are."""
        if is_page(text):
            return cls._page(text)
        fenced = _closed_fences(text)
        if _XML.match(text):
            return cls._plain(text, fenced)
        literal = _literal_spans(text, fenced)
        if not _dense(text, literal, blank):
            return cls._plain(text, fenced)
        if _opens_as_fragment(text):
            return cls._page(text)
        comments = _comments(text, literal)
        pre = _pre_spans(text, tuple(sorted([*literal, *comments])))  # a fence's `<pre>` is the fence's text
        blocks = _disjoint([*_fence_blocks(text, fenced), *((start, end, 0) for start, end in pre)])
        code, margins = tuple((start, end) for start, end, _ in blocks), tuple(margin for *_, margin in blocks)
        return cls(markup=True, hidden=comments, literal=literal, code=code, margins=margins)

    @classmethod
    def _with_source(cls, text: str, source: tuple[tuple[int, int], ...]) -> MarkupView:
        """The view of the text outside `source`, read as it would be alone (what else would it be read as?), with
        `source` as code: each block of it between blank lines a code block, indentation its own (no margin)."""
        # Offsets kept; a fence left open runs to the end, over the code.
        view = cls._read(blanked(text, source), sum(end - start for start, end in source))
        blocks = [(span, 0) for span in source_blocks(text, source)]
        for (start, end), margin in zip(view.code, view.margins or (0,) * len(view.code), strict=True):
            inside = _within(source, start, end)
            end = min([end, *(s_start for s_start, _ in inside)])
            if start < end:
                blocks.append(((start, end), margin))
        blocks.sort()
        return replace(
            view,
            literal=tuple(sorted([*view.literal, *source])),
            code=tuple(span for span, _ in blocks),
            margins=tuple(margin for _, margin in blocks),
            source=source,
        )

    @classmethod
    def _page(cls, text: str) -> MarkupView:
        hidden = tuple(hidden_spans(text))
        navigation = tuple(navigation_spans(text, hidden))
        return cls(markup=True, page=True, hidden=hidden, code=tuple(_pre_spans(text, hidden)), navigation=navigation)

    @classmethod
    def _plain(cls, text: str, fenced: list[tuple[int, int]]) -> MarkupView:
        blocks = _disjoint([*_fence_blocks(text, fenced), *literal_blocks(text)])
        code, margins = tuple((start, end) for start, end, _ in blocks), tuple(margin for *_, margin in blocks)
        spans, breaks = gutters(text, code)
        broken = _BROKEN_WORD.search(text) is not None
        return cls(
            markup=False,
            broken=broken,
            compounds=_compounds(text) if broken else frozenset(),
            code=code,
            margins=margins,
            gutters=tuple(spans),
            breaks=tuple(breaks),
        )

    def read(self, text: str) -> str:
        """`text` as segmentation and layout read it: with its gutters (quote marks, rules) as spaces."""
        return blanked(text, self.gutters) if self.gutters else text

    def shown(self, text: str, start: int, end: int) -> str:
        """What a browser shows of `text[start:end]`, whitespace collapsed but in code blocks, which keep their
        lines (for plain text, the text as it is, words hyphenated across lines joined)."""
        blocks = _overlapping(self.code, start, end) if self.code else []
        if not blocks:
            return self._collapsed(text, start, end)
        parts: list[str] = []
        for block in blocks:
            (b_start, b_end), margin = self.code[block], self.margins[block] if self.margins else 0
            whole = True  # whether the block's part of the span starts a line
            if b_start < start:  # the span opens inside the block: at its line's start if only indentation is before
                line = max(b_start, text.rfind("\n", b_start, start) + 1)
                whole = not self._as_written(text, line, start).strip()
                b_start = line if whole else start
            b_end = min(end, b_end)
            laid_out = _laid_out(self._as_written(text, b_start, b_end), whole, margin)
            parts += [self._collapsed(text, start, b_start), laid_out]
            start = max(start, b_end)
        parts.append(self._collapsed(text, start, end))
        return "\n".join(part for part in parts if part)

    def _as_written(self, text: str, start: int, end: int) -> str:
        if self.markup:
            return self._without_tags(text, start, end)
        return blanked(text, _within(self.gutters, start, end), start, end) if self.gutters else text[start:end]

    def _collapsed(self, text: str, start: int, end: int) -> str:
        """What a browser shows of `text[start:end]`, whitespace collapsed."""
        if start >= end:
            return ""
        piece = self._as_written(text, start, end)
        if self.broken and "\n" in piece:
            piece = _join_broken_words(piece, self.compounds)
        if _SOFT_HYPHEN in piece:  # invisible where the line does not break there
            piece = piece.replace(_SOFT_HYPHEN, "")
        return _SPACES.sub(" ", piece).strip()

    def document(self, text: str) -> str:
        """The whole of `text` as a browser shows it, a line for each block (for plain text, `text` itself, words
        hyphenated across lines joined)."""
        if not self.markup:
            text = self.read(text)
            if not self.broken:
                return text
            # Words broken across lines are joined in prose alone: in code, "(value-\n offset)" is a subtraction.
            pieces, position = [], 0
            for start, end in self.source:
                pieces += [_join_broken_words(text[position:start], self.compounds), text[start:end]]
                position = end
            return "".join([*pieces, _join_broken_words(text[position:], self.compounds)])
        parts: list[str] = []
        position = 0
        margins = self.margins or (0,) * len(self.code)
        for (b_start, b_end), margin in zip([*self.code, (len(text), len(text))], [*margins, 0], strict=True):
            flowing = self._without_tags(text, position, b_start).split("\n")
            parts.append("\n".join(_BLANKS.sub(" ", line).strip() for line in flowing))
            if b_start < b_end:
                parts.append(_laid_out(self._without_tags(text, b_start, b_end), True, margin))
            position = b_end
        return _BLANK_LINES.sub("\n\n", "\n".join(parts)).strip()

    def _without_tags(self, text: str, start: int, end: int) -> str:
        """`text[start:end]` without what is hidden, tags (and the pieces of those the span cuts) and entities."""
        # A unit cut from a long run of markup may begin inside a tag and end inside another.
        lead, trail = self._tag_end(text, start, end), self._tag_start(text, start, end)
        spans = _within(self.hidden, start, end)
        cut = [*([(start, lead)] if lead > start else []), *spans, *([(trail, end)] if trail < end else [])]
        piece = blanked(text, cut, start, end) if cut else text[start:end]
        pieces: list[str] = []
        done = 0
        for match in _ELEMENT.finditer(piece):
            if not self._strips(match) or (self.literal and _inside(self.literal, start + match.start())):
                continue
            name = (match.group(1) or "").lower()
            left = (_CLOSER if match.group(0)[1] == "/" else _SEPARATOR).get(name, " ")
            pieces += [self._decoded(piece, done, match.start(), start), left]
            done = match.end()
        pieces.append(self._decoded(piece, done, len(piece), start))
        return "".join(pieces)

    def _strips(self, tag: re.Match[str]) -> bool:
        """Whether a browser shows nothing of `tag`: a comment, a doctype, an HTML element's (on a page, any)."""
        return tag.group(1) is None or self.page or tag.group(1).lower() in _NAMES

    def _decoded(self, piece: str, begin: int, stop: int, offset: int) -> str:
        """`piece[begin:stop]` with its character references decoded, except in code (`literal`), shown as written."""
        spans = _within(self.literal, offset + begin, offset + stop) if self.literal else []
        out: list[str] = []
        for s_start, s_end in spans:
            s_start, s_end = max(begin, s_start - offset), min(stop, s_end - offset)
            out += [html.unescape(piece[begin:s_start]), piece[s_start:s_end]]
            begin = s_end
        out.append(html.unescape(piece[begin:stop]))
        return "".join(out)

    def _tag_end(self, text: str, start: int, end: int) -> int:
        """Where a tag that `start` falls inside ends (after its `>`, at most `end`), else `start`."""
        opening = text.rfind("<", max(0, start - _TAG_CHARS), start)
        if opening < 0 or (self.literal and _inside(self.literal, opening)):
            return start
        tag = _ELEMENT.match(text, opening)
        return min(end, tag.end()) if tag is not None and tag.end() > start and self._strips(tag) else start

    def _tag_start(self, text: str, start: int, end: int) -> int:
        """Where a tag that runs on past `end` begins (its `<`, at least `start`), else `end`."""
        opening = text.rfind("<", max(start, end - _TAG_CHARS), end)
        if opening < 0 or (self.literal and _inside(self.literal, opening)):
            return end
        tag = _ELEMENT.match(text, opening)
        return opening if tag is not None and tag.end() > end and self._strips(tag) else end


def _comments(text: str, literal: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """HTML comments outside `literal`, in order; one forward search each (an unclosed one ends the search)."""
    spans: list[tuple[int, int]] = []
    position = 0
    while (opening := text.find("<!--", position)) >= 0:
        if _inside(literal, opening):  # "`<!--`" in a code span opens nothing
            position = opening + 4
            continue
        closing = text.find("-->", opening + 4)
        if closing < 0:
            break
        spans.append((opening, closing + 3))
        position = closing + 3
    return tuple(spans)


def _within(spans: tuple[tuple[int, int], ...], start: int, end: int) -> list[tuple[int, int]]:
    """The spans of `spans` (sorted, disjoint) that overlap `start`..`end`."""
    return [spans[i] for i in _overlapping(spans, start, end)]


def _overlapping(spans: tuple[tuple[int, int], ...], start: int, end: int) -> list[int]:
    """The indices of the spans of `spans` (sorted, disjoint) that overlap `start`..`end`."""
    out: list[int] = []
    for i in range(max(0, bisect.bisect_right(spans, (start, -1)) - 1), len(spans)):
        if spans[i][0] >= end:
            break
        if spans[i][1] > start:
            out.append(i)
    return out


def _inside(spans: tuple[tuple[int, int], ...], position: int) -> bool:
    """Whether `position` is inside one of `spans` (sorted, disjoint)."""
    i = bisect.bisect_right(spans, (position, sys.maxsize)) - 1
    return i >= 0 and spans[i][0] <= position < spans[i][1]


_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


def source_blocks(text: str, source: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The blocks of source code in `source` (spans of `text`): runs of lines between blank lines, each from
    its first line's start (indentation included) to its last line's end."""
    blocks: list[tuple[int, int]] = []
    for start, end in source:
        position = start
        for gap in [*_BLANK_LINE.finditer(text, start, end), None]:
            stop = end if gap is None else gap.start()
            piece = text[position:stop]
            if piece.strip():
                first = len(piece) - len(piece.lstrip())
                lead = piece.rfind("\n", 0, first) + 1  # the first line's start: its indentation is the code's
                blocks.append((position + lead, position + len(piece.rstrip())))
            if gap is not None:
                position = gap.end()
    return blocks


def code_sentences(index: DocumentIndex) -> list[int]:
    """The sentences of `index` that are code (in a Markdown fence, a `<pre>`, a literal block or a source file),
    shown line by line with their indentation."""
    return sorted(code_set(index))


def _code_sentences(index: DocumentIndex) -> frozenset[int]:
    code = markup_view(index).code
    return frozenset(sid for sid, start in enumerate(index.sent_starts) if code and _inside(code, start))


def code_set(index: DocumentIndex) -> frozenset[int]:
    """`code_sentences` as a set, built once per index object."""
    return index.memo(_CODE, lambda: _code_sentences(index))


def markup_view(index: DocumentIndex) -> MarkupView:
    """`MarkupView` of the index's text (its source code read as such: `DocumentIndex.parts`), built once per
    index object."""
    source = tuple((part.start, part.end) for part in index.parts if part.code)
    parts = tuple((part.start, part.end, part.code, part.plain) for part in index.parts)
    return index.memo(_VIEW, lambda: MarkupView.of(index.text, source, parts))


@functools.lru_cache(maxsize=4)
def shown_document(text: str, source: tuple[tuple[int, int], ...] = (), plain: bool = False) -> str:
    """`text` as a browser shows it, when it is markup (see `is_markup`); else `text` itself, words hyphenated
    across lines joined. `source`: where it is source code (`Document.code_spans`), shown as written; `plain`: text
    taken out of a page (`DocumentPart.plain`), never markup.

    Kept for the last few texts: `direct` and `pearl-fulldoc` ask for it again for every question.
    """
    return MarkupView.of(text, source, [(0, len(text), bool(source), plain)]).document(text)


def shown_texts(index: DocumentIndex) -> list[str]:
    """Every sentence as a prompt shows it, built once per index object."""

    def build() -> list[str]:
        view = markup_view(index)
        return [view.shown(index.text, s, e) for s, e in zip(index.sent_starts, index.sent_ends, strict=True)]

    return index.memo(_SHOWN, build)


def keep_shown(index: DocumentIndex, view: MarkupView, shown: list[str]) -> None:
    """Hand a freshly built index the view and the sentences as shown that building it computed."""
    index.memo(_VIEW, lambda: view)
    index.memo(_SHOWN, lambda: shown)


def cite(index: DocumentIndex, sid: int) -> Citation:
    """Sentence `sid` as a citation (`DocumentIndex.citation`), its text as the model was shown it where that is more
    than the original's white space laid out anew: a page read as text shows its words, its tags and scripts hidden and
    its entities decoded, and a citation of its source ("<script>var note = ...") showed what the model never saw."""
    citation = index.citation(sid)
    if "<" not in citation.text and "&" not in citation.text:  # no tag, no entity: not markup (a word hyphenated
        return citation  # across lines is shown joined, and cited as written)
    shown = shown_text(index, sid)
    # The quote marks and rules down the side of plain text's lines ("> ", " |  ") are its layout too.
    written = list(citation.text)
    gutters = markup_view(index).gutters  # sorted and disjoint: those before the sentence are passed over
    for start, end in gutters[max(0, bisect.bisect_left(gutters, (citation.start, citation.start)) - 1) :]:
        if start >= citation.end:
            break
        for at in range(max(start, citation.start), min(end, citation.end)):
            written[at - citation.start] = " "
    if "".join(written).split() == shown.split():
        return citation
    return citation.model_copy(update={"text": shown})


def shown_text(index: DocumentIndex, sid: int, end: int | None = None) -> str:
    """Sentence `sid` as a prompt shows it (up to character `end`, for a sentence cut to fit)."""
    if end is None:
        return shown_texts(index)[sid]
    return markup_view(index).shown(index.text, index.sent_starts[sid], end)
