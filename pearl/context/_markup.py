"""What a prompt shows of a sentence of a document written in markup: its words, not its tags.

A web page saved with its markup, or text that carries a page's elements (the NQ layout:
"<P> ... </P> <Table> <Tr> <Td> ... </Td>"), spends a fifth to two fifths of its tokens on tags
and attributes ("<a class="header" href="#storing-utf-8-encoded-text-with-strings">"). Shown
to a model they are budget that buys no evidence, and indexed they are words no question means
("class", "href", a link's file name). For such a text each sentence is shown, indexed and
counted as what a browser shows of it: HTML elements' tags out (an inline element's without
a space: "un<em>usual</em>" stays one word), scripts, style sheets and comments out. The
document's text and offsets are unchanged: citations still point at the original.

Text that only mentions tags ("put a <link> in the <head>") is left as it is: a text counts as
markup when it is a saved page (a doctype or `<html>` first, or a fragment that opens with an
element and is dense with them) or when HTML elements' tags are dense throughout it (about one
every `DENSE_CHARS` characters or closer). Markdown code blocks keep their tags: there they are
an example to read.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pearl.context._models import DocumentIndex, SentenceFlag
from pearl.context._sentences import LONG_TAG

__all__ = [
    "DENSE_CHARS",
    "MarkupView",
    "blanked",
    "flag_markup",
    "hidden_spans",
    "is_markup",
    "is_page",
    "markup_view",
    "shown_document",
    "shown_text",
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
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~).*?^[ \t]{0,3}\1", re.MULTILINE | re.DOTALL)
_FRAGMENT = re.compile(r"[\s\ufeff]*(?:<!--.{0,2000}?-->\s*)*<([A-Za-z][A-Za-z0-9]{0,9})[\s/>]", re.DOTALL)
_SPACES = re.compile(r"\s+")
_BLANKS = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Text that opens as a saved page: a doctype or `<html>` first (after a byte-order mark, an XML
# declaration, comments). A page named in prose ("put a <link> in the <head>") is no page.
_PAGE = re.compile(
    r"[\s\ufeff]*(?:<\?xml[^<>]{0,200}>\s*)?(?:<!--.{0,2000}?-->\s*)*<(?:!doctype|html|head)\b",
    re.IGNORECASE | re.DOTALL,
)
# Elements whose content a browser does not show as text: a page saved with its markup carries
# its scripts, style sheets, drawings and comments, whose words match questions and read as names.
_HIDDEN_NAMES = ("script", "style", "svg", "noscript", "template")
_HIDDEN_OPEN = re.compile(rf"<({'|'.join(_HIDDEN_NAMES)})(?=[\s/>])|<!--", re.IGNORECASE)  # not <svg-icon>
_HIDDEN_CLOSE = {
    "!--": re.compile(r"-->"),
    **{name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _HIDDEN_NAMES},
}
# Any tag, a doctype or a comment: a unit that is nothing else ("<link rel=...>", "</div>") shows nothing.
_ANY_TAG = re.compile(r"<(?:[!/?]?[A-Za-z][^<>]{0,400}|!--[^<>]{0,400}--)>")
_NOTHING_SHOWN = re.compile(r"^[\W_]*$")
# A unit cut from a long run of markup may begin inside a tag and end inside another.
_TAG_TAIL = re.compile(r"^[^<>]{0,400}>")
_TAG_HEAD = re.compile(r"<[^<>]{0,400}$")

DENSE_CHARS = 200
"""A text with HTML elements' tags about this close together or closer, throughout, is markup."""
MIN_TAGS = 20
"""...and with at least this many of them: a short note with three tags is not."""


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


def _with_long_tags(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`spans` (sorted, disjoint) with the `LONG_TAG`s outside them, in order."""
    merged: list[tuple[int, int]] = []
    position = 0
    for span in [*spans, (len(text), len(text))]:
        merged += [tag.span() for tag in LONG_TAG.finditer(text, position, span[0])]
        merged.append(span)
        position = span[1]
    return merged[:-1]


def flag_markup(text: str, view: MarkupView, sentences: list[tuple[int, int]], flags: list[int]) -> None:
    """Flag as `MARKUP` the units of a markup text a browser shows nothing of: tags alone, or all inside
    the `hidden` spans.

    A unit with a word outside them keeps its content: a heading beside its link icon's drawing.
    Only markup, and not in its code blocks: in a tutorial, `<input type="email" required>` is an
    example to read.
    """
    if not view.markup:
        return
    hidden = view.hidden
    first = 0
    for i, (start, end) in enumerate(sentences):
        if _within(view.literal, start, end):
            continue
        while first < len(hidden) and hidden[first][1] <= start:
            first += 1
        last = first
        while last < len(hidden) and hidden[last][0] < end:
            last += 1
        unit = blanked(text, hidden[first:last], start, end)
        if ("<" in unit or ">" in unit or last > first) and _NOTHING_SHOWN.match(_shown(unit)):
            flags[i] |= SentenceFlag.MARKUP


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


def _shown(unit: str) -> str:
    """What a browser would show of `unit`: its text without tags, comments, or the pieces of a tag it was cut in."""
    return _TAG_HEAD.sub("", _TAG_TAIL.sub("", _ANY_TAG.sub("", unit)))


def _element_tags(text: str) -> int:
    return sum(1 for m in _ELEMENT.finditer(text) if m.group(1) and m.group(1).lower() in _NAMES)


def _dense(text: str) -> bool:
    tags = _element_tags(text)
    return tags >= MIN_TAGS and len(text) <= DENSE_CHARS * tags


def _is_fragment(text: str) -> bool:
    """A page's content without its doctype (`<div class=...>`, `<p>`): opens with an element, dense with them."""
    opening = _FRAGMENT.match(text)
    return opening is not None and opening.group(1).lower() in _NAMES and _dense(text)


def is_markup(text: str) -> bool:
    """Whether `text` is written in HTML markup: a saved page or a fragment of one, or dense with elements."""
    return is_page(text) or _is_fragment(text) or _dense(text)


@dataclass(frozen=True)
class MarkupView:
    """How to show the sentences of one text: whether it is markup, and what of it a browser never shows."""

    markup: bool
    page: bool = False
    hidden: tuple[tuple[int, int], ...] = ()
    """Scripts, style sheets, drawings, comments (pages only), sorted and disjoint."""
    literal: tuple[tuple[int, int], ...] = ()
    """Markdown code blocks, whose tags are kept."""

    @classmethod
    def of(cls, text: str) -> MarkupView:
        if not is_markup(text):
            return cls(markup=False)
        page = is_page(text) or _is_fragment(text)
        hidden = tuple(hidden_spans(text)) if page else ()
        literal = () if page else tuple(m.span() for m in _FENCE.finditer(text))
        return cls(markup=True, page=page, hidden=hidden, literal=literal)

    def shown(self, text: str, start: int, end: int) -> str:
        """What a browser shows of `text[start:end]`, whitespace collapsed (the text as it is, for plain text)."""
        if not self.markup:
            return _SPACES.sub(" ", text[start:end]).strip()
        out = self._without_tags(text, start, end)
        if self.page:  # a unit cut from a long run of markup
            out = _TAG_HEAD.sub("", _TAG_TAIL.sub("", out))
        return _SPACES.sub(" ", out).strip()

    def document(self, text: str) -> str:
        """The whole of `text` as a browser shows it, its line breaks kept (`text` itself, for plain text)."""
        if not self.markup:
            return text
        lines = (_BLANKS.sub(" ", line).strip() for line in self._without_tags(text, 0, len(text)).split("\n"))
        return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()

    def _without_tags(self, text: str, start: int, end: int) -> str:
        piece = blanked(text, _within(self.hidden, start, end), start, end) if self.hidden else text[start:end]
        kept = _within(self.literal, start, end)
        pieces: list[str] = []
        done = 0
        for match in _ELEMENT.finditer(piece):
            name = (match.group(1) or "").lower()
            if match.group(1) and name not in _NAMES and not self.page:  # a page's own elements too
                continue
            if kept and _inside(kept, start + match.start()):
                continue
            pieces += [piece[done : match.start()], "" if name in _INLINE_NAMES else " "]
            done = match.end()
        pieces.append(piece[done:])
        return "".join(pieces)


def _within(spans: tuple[tuple[int, int], ...], start: int, end: int) -> list[tuple[int, int]]:
    first = bisect.bisect_right(spans, (start, -1)) - 1
    return [s for s in spans[max(0, first) :] if s[0] < end and s[1] > start]


def _inside(spans: list[tuple[int, int]], position: int) -> bool:
    return any(s <= position < e for s, e in spans)


def markup_view(index: DocumentIndex) -> MarkupView:
    """`MarkupView` of the index's text, built once per index object."""
    return index.memo("markup_view", lambda: MarkupView.of(index.text))


def shown_document(text: str) -> str:
    """`text` as a browser shows it, when it is markup (see `is_markup`); else `text` itself."""
    return MarkupView.of(text).document(text)


def shown_text(index: DocumentIndex, sid: int, end: int | None = None) -> str:
    """Sentence `sid` as a prompt shows it (up to character `end`, for a sentence cut to fit)."""
    stop = index.sent_ends[sid] if end is None else end
    return markup_view(index).shown(index.text, index.sent_starts[sid], stop)
