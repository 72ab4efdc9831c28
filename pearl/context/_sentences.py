"""Split a document into paragraphs and sentence units, keeping character offsets.

A *sentence unit* is what compression keeps or drops and what `[S12]` labels cite. It is a
real sentence for prose, but the splitter also has to cope with contracts (numbered clauses,
list items on their own lines, sentences of 300 words chained with ";"), with pre-tokenized
text ("word , word ." as NLP datasets store it), with markup left in the text (`<P> ... </P>
<Tr> <Td> ... </Td>` of web pages flattened to one line: a block tag ends a unit, and a
paragraph, table, list or heading opening at the top level starts a paragraph), and with
text that has no punctuation at all (one 200,000-character line): units longer than
`max_chars` are cut at clause boundaries, then at whitespace, then anywhere. Long units spend
a budget in one piece, short ones lose the context a clause needs; `max_chars` is that trade-off.

Everything here is regex and plain loops over candidate boundaries, linear in the length.
"""

from __future__ import annotations

import bisect
import functools
import html
import itertools
import re
import statistics
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from typing import NamedTuple

__all__ = ["DEFAULT_MAX_CHARS", "LONG_TAG", "Segmentation", "segment"]

DEFAULT_MAX_CHARS = 900

# Paragraphs: a blank line always separates them, and so does a form feed, a page break (`pdftotext` ends each page
# with one, which opens the next page's first line: "- 1 -\n\fREPORT 2023" was one unit, no page number nor header);
# a single newline does too unless the text is hard-wrapped (see `_hard_wrapped`).
_BLANK_LINE = re.compile(r"\n[ \t\f\v]*\n|\f")
_NEWLINE = re.compile(r"\n")
_LINE_BREAK_MARKUP = re.compile(r"\n|<br\s*/?>", re.IGNORECASE)
_CONTINUED_LINE = re.compile(r"[ \t]{0,40}[a-z]")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]{0,4}[ \t\r]*$")
_WRAPPED_LINE = 50  # characters a line has at least when it was wrapped (prose wraps at 60-80)

# A sentence ends at terminal punctuation (plus closing quotes/brackets) followed by space and
# something that can start a sentence: a capital, a digit, or a letter of a script without case
# (Hebrew, Arabic, Devanagari, whose own stops "؟", "۔" and "।" end sentences too; Korean, whose
# Hangul syllables and jamo follow ". " as Latin letters do). A lower-case continuation ("e.g. the")
# is not a break. Quantifiers are bounded and the word before the mark is read by `_word_before`:
# an unbounded `\S*` or `[.!?]+` here makes a 200,000-character line of one character quadratic.
_CASELESS = "\u05d0-\u05ea\u0620-\u064a\u0671-\u06d3\u0904-\u0939\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3"
_END = re.compile(
    # A closing quote may stand apart, as pre-tokenized text writes it ("over . '' The"; "''" and the curly ones only
    # close: a straight quote may open the next sentence).
    r"(?P<punct>[.!?\u061F\u06D4\u0964]{1,4}|…)(?P<close>[\"'”’»)\]]{0,4}(?:[ \t]+(?:''|”|’)(?=\s))?)"
    rf"(?=\s+[\"'“‘«(\[]*[A-Z0-9\u00C0-\u00DE\u0391-\u03A9\u0410-\u042F{_CASELESS}])"
)
# CJK full stops need no following space.
_CJK_END = re.compile(r"[。！？]+[」』）]*")
# A line that starts a list item or a numbered clause starts a new unit even without a full stop
# before it ("...the following:\n(a) ...").
_ITEM_START = re.compile(
    r"\n[ \t]*(?=(?:[-*+•▪●◦–]|\(?(?:\d{1,3}(?:\.\d{1,3})+\.?|\d{1,3}[.)]|[a-zA-Z][.)]|[ivxlcdmIVXLCDM]{1,6}[.)])"
    r"|\((?:[a-zA-Z]{1,2}|[ivxlcdm]{1,6}|\d{1,3})\))\s)"
)
# A division's label in capitals alone on its line, over text indented under it, as a manual page lays out its
# sections ("DESCRIPTION\n       Bash is ..."): the label is a unit of its own, the text's heading.
_LABEL_OVER_INDENTED = re.compile(r"(?:^|(?<=\n))[A-Z][A-Z0-9]*(?:[ \t][A-Z0-9&/\-]+){0,4}[ \t]*\n(?=[ \t]{3,}\S)")


@functools.lru_cache(maxsize=2)
def _labels_once(text: str) -> frozenset[str]:
    """The division labels (`_LABEL_OVER_INDENTED`) that stand once in `text`, as a manual page's sections do; a
    play's speakers, over their lines, come again and again, and are no headings (helper-185). Read once a text: its
    paragraphs are cut one by one, and counting each label's lines anew for each scanned the whole text again."""
    counts = Counter(label.group(0).strip() for label in _LABEL_OVER_INDENTED.finditer(text))
    return frozenset(name for name, count in counts.items() if count == 1)


# A Markdown heading line ("## Install") with no blank line between it and the lines around it: a paragraph of its
# own, and so a heading of the section under it (`is_heading` takes a `#` line alone), also where single newlines are
# line wrapping. "# Guide\n## Install\nRun setup.exe." was one unit, and every section of a handbook so written lost
# its heading (helper-215). A line of at most 120 characters, as `is_heading` reads one; not a `#` glued to its word
# ("#hashtag", "#include"); code blocks are not read for them.
_HEADING_LINE = re.compile(r"(?:^|(?<=\n)) {0,3}#{1,6}[ \t]+[^\s#][^\n]{0,118}(?=\n|$)")
# A line that is a row of a Markdown or text table ("| Name | City |") is a unit of its own, also where single
# newlines are line wrapping.
_TABLE_ROW_START = re.compile(r"\n(?=[ \t]*\|)")
# Such a row, bars at both ends: one unit, its cells' full stops no sentence ends ("| Basic | For individuals. No
# support. |" was cut after "individuals.", and its second part stood without the row's key; helper-215).
_TABLE_ROW = re.compile(r"(?:^|(?<=\n))[ \t]*\|[^\n]*\|[ \t]*(?=\n|$)")
# The row under a Markdown table's header that says it is one ("|---|:--:|", "---|---"): no words, so no unit, not
# shown to a model (between two units it was one of its own). Each cell a run of hyphens, colons at its ends.
_DELIMITER_CELLS = r"[ \t]*(?:\|[ \t]*)?:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*(?:\|[ \t]*)?"
_DELIMITER_ROW = re.compile(_DELIMITER_CELLS)
_DELIMITER_LINE = re.compile(rf"^(?=[^\n|]*\|){_DELIMITER_CELLS}$", re.MULTILINE)
# Block-level markup left in plain text: a unit ends before an opening tag and after a closing one.
# Table cells stay with their row: "<Tr> <Th> Born </Th> <Td> 12 February 1809 </Td> </Tr>" is one unit.
_BLOCK_TAG = re.compile(
    r"</?(?:p|li|ul|ol|dl|dt|dd|tr|table|tbody|thead|caption|h[1-6]|div|section|article|blockquote|br|hr)"
    r"(?=[\s/>])[^<>]{0,200}>",  # not "\b": an address, "<li.wei@example.com>", is no <li> tag
    re.IGNORECASE,
)
# A table row: kept whole when it is short, whatever block markup or stops its cells hold
# ("<Tr> <Th> <P> • Prime Minister </P> </Th> <Td> Jacinda Ardern </Td> </Tr>").
_ROW_TAG = re.compile(r"<(/?)tr(?=[\s/>])[^<>]{0,200}>", re.IGNORECASE)
_LONG_MARKUP = 400  # characters of markup alone that make a piece of their own
# A tag that long carries data, not markup: an image or icon inlined as `src="data:image/png;base64,..."`,
# a long `style` attribute. It is cut from the text around it, where it stands alone (`_markup_cuts`
# reads no tag that long as markup to join to the text). An attribute is required: "x<y ... y>z" in
# prose and an autolink `<https://...>` are no tag.
LONG_TAG = re.compile(rf"<[A-Za-z][\w:.-]*\s+[\w:.-]+\s*=[^<>]{{{_LONG_MARKUP},}}>")
_ONLY_MARKUP = re.compile(r"(?:\s*<[^<>]{0,200}>)*\s*")
_ONLY_CLOSING = re.compile(r"(?:\s*</[^<>]{0,200}>)*\s*")
# Markup that starts a paragraph when it opens outside any table or list (and a heading that ends
# one when it closes): a page flattened to one line still has its paragraphs, lists, tables and
# section titles. Tables and lists nest (a list inside a cell), so their depth is tracked.
_CONTAINER_TAG = re.compile(r"<(/?)(p|table|ul|ol|dl|blockquote|h[1-6])(?=[\s/>])[^<>]{0,200}>", re.IGNORECASE)
_NESTING = frozenset({"table", "ul", "ol", "dl"})
# Where an over-long unit may be cut: after ";" or ":", then after "," (weaker), then at spaces.
_CLAUSE_CUT = re.compile(r"[;:](?=\s)")
_COMMA_CUT = re.compile(r",(?=\s)")
_SPACE = re.compile(r"\s+")
_CODE_CUT = re.compile(r"[;,{}()\[\]](?=\S)")
# A tag, which a reader never sees: in markup, lengths are measured without tags, and no cut falls inside
# one (a `title="operator: Functions corresponding to..."` attribute is no clause of the sentence around it).
_TAG = re.compile(r"</?[A-Za-z][\w:.-]{0,30}(?:\s[^<>]{0,1000})?/?>")
RAW_FACTOR = 8
"""A unit of markup spans at most this many times the characters a unit may show, tags included."""

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms messrs mme mlle dr prof st jr sr rev hon gen col capt lt sgt cpl adm cmdr gov sen rep pres
    inc co corp ltd llc plc bros no nos vs v etc al cf approx ext tel dept est fig figs eq eqs sec secs art arts
    para paras ch chap vol vols pp p ed eds mt ft ave blvd jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun e.g i.e viz ca op cit ibid
    nr bzw ggf vgl usw inkl zzgl evtl sog bspw hrsg z.b d.h u.a""".split()
)
_CASED_ABBREVIATIONS = frozenset({"Abs", "Bd", "Abschn"})
"""Abbreviations only as written ("Abs. 2" of a German statute), which lower-cased are words ("abs", ".env")."""
# A day's number before its month is an ordinal in German, Dutch and Scandinavian dates ("vom 3. bis 17. August",
# "am 31. Dezember"), not the end of a sentence.
_MONTH_AFTER = re.compile(
    r"\s{1,3}(?:(?P<own>januar|janvier|januari|februar|februari|février|m(?:ä|ae)rz|maart|mars|avril|mai|mei|maj"
    r"|juni|juin|juli|juillet|août|okt(?:ober)?|octobre|novembre|dezember|décembre)"
    r"|april|august|september|november|december)\b",
    re.IGNORECASE,
)
_DATE_WORD_BEFORE = re.compile(r"(?:^|\s)(?:am|vom|bis|zum|ab|seit|den|dem|le|du|au|op|tot|van)\s{1,3}$", re.IGNORECASE)
"""The word before a day's number in a German, French or Dutch date ("am 31. August"), where the month's name is
English too ("He scored 13. August came." ends its sentence)."""
# An enumerator at the very start of a unit ("1.", "IV.", "a.") is a label, not a sentence.
# A clause's label: "1", "2.3.1", "iv", "A", or a letter or Roman numeral with numbered levels ("A.1", "II.3").
# (A unit opening with a dotted number such as "3.14." or "192.168.1.1." is read as one too.)
_ENUMERATOR = re.compile(
    r"^(?:\d{1,3}(?:\.\d{1,3})*|[ivxlcdm]{1,6}|[IVXLCDM]{1,6}|[A-Za-z]|(?:[A-Z]|[IVXLCDM]{1,6})(?:\.\d{1,3})+)$"
)


# What may come before a heading's number in the same unit: its tags, Markdown's marks, and one word naming a
# part of a document ("## 13. Governing Law", "Section 3. Termination", "<h2>Step 4. Finish</h2>"). A number after
# other words ends a sentence ("He scored 13. Then ...").
_PARTS = (
    r"section|sec\.|article|art\.|part|chapter|ch\.|clause|schedule|exhibit|appendix|annex|item|step|rule|title|book"
    r"|lesson|unit|stage|phase|volume|paragraph|para\.|§"
)
"""Words that name a part of a document before its number ("Section 3.", "Step 2.")."""
_LABEL_PREFIX = re.compile(
    r"(?:<[^<>]{0,200}>\s{0,8}){0,4}(?:#{1,6}[ \t\u00a0]{1,8}|[-*•][ \t]{1,8})?"
    rf"(?:(?:{_PARTS})[ \t\u00a0]{{0,8}})?",
    re.IGNORECASE,
)
_PREFIX_CHARS = 900
_NAMED_LINE = re.compile(
    rf"^[ \t]*({_PARTS})[ \t\u00a0]{{1,8}}(?:\d{{1,3}}(?:\.\d{{1,3}})*|[IVXLCDM]{{1,6}}|[A-Za-z])\.[ \t]",
    re.IGNORECASE | re.MULTILINE,
)
_LINE_GOES_ON = re.compile(
    r"(?:\b(?:a|an|the|of|in|on|at|to|by|for|from|with|under|per|see|and|or|nor|as|than|this|that|these|those|its|"
    r"their|our|your|his|her|is|are|was|were|be|pursuant|including|into|upon|within|between)|[,(\-\u2013\u2014])"
    r"[ \t]*\n[ \t]*\Z",
    re.IGNORECASE,
)
"""The line before a line, where its sentence goes on into it: "as provided in", "subject to the terms of,"."""


def _named_lines(text: str, start: int, end: int) -> list[int]:
    """Where lines open on a named label, next to another of the same name ("Step 1. Download\nStep 2. Unpack"), the
    line before neither going on into it: a list, each line a unit, read from its start for its label. One alone is
    not, nor two a wrapped paragraph opens lines with ("as set out in\nSection 3. The Company ...")."""
    found = [(m.start(), m.start(1), m.group(1).lower()) for m in _NAMED_LINE.finditer(text, start, end)]
    kept: set[int] = set()
    for (at, name_at, name), (then, then_name_at, other) in itertools.pairwise(found):
        between = text[name_at:then_name_at]
        if name != other or between.count("\n") > 3 or "\n\n" in between.replace(" ", "").replace("\t", ""):
            continue
        # Neither line of a run goes on from the line before it ("Setup is short.\nStep 1. ...", "Installation\nStep 1.
        # ..."): two cross-references that a wrapped paragraph happens to open lines with ("as provided in\nSection 4.
        # The Licensor ... in\nSection 5. Either party") are no run, and their sentences were joined (helper-201).
        if not any(_LINE_GOES_ON.search(text, max(start, line - 200), line) for line in (at, then)):
            kept |= {at, then}
    return sorted(kept)


"""The longest stretch before a heading's number `_LABEL_PREFIX` is tried on: bounded, so that a line of
200,000 spaces and stops stays linear (every stop of a unit tries it)."""
# After a word naming a part, the number is a number, a capital Roman numeral or a letter: "Unit mix." is no label.
_NAMED_LABEL = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3})*|[IVXLCDM]{1,6}|[A-Za-z])$")


class Segmentation:
    """Paragraph and sentence spans of one text (half-open, whitespace trimmed)."""

    __slots__ = ("continued", "paragraphs", "sentence_paragraph", "sentences")

    def __init__(self) -> None:
        self.paragraphs: list[tuple[int, int]] = []
        self.sentences: list[tuple[int, int]] = []
        self.sentence_paragraph: list[int] = []
        # True where a unit is a later piece of a sentence cut for length.
        self.continued: list[bool] = []


def segment(
    text: str,
    max_chars: int = DEFAULT_MAX_CHARS,
    *,
    max_tokens: int | None = None,
    count: Callable[[str], int] | None = None,
    markup: bool = False,
    code: Sequence[tuple[int, int]] = (),
    show: Callable[[int, int], str] | None = None,
    breaks: Sequence[int] = (),
) -> Segmentation:
    """Paragraphs and sentence units of `text`, in order, none empty, none crossing a paragraph.

    Args:
        max_chars: a unit longer than this is cut (clause marks first, then spaces).
        max_tokens: with `count`, a unit over this many tokens is cut too: dense text
            (numbers, markup, pre-tokenized words) has far more tokens per character than prose.
        count: the token counter `max_tokens` is measured with.
        markup: `text` is HTML (`pearl.context.is_markup`): a unit is measured as a browser shows it,
            its tags counting for nothing (up to a raw length of `RAW_FACTOR` times the cap), and
            it is never cut inside a tag but as a last resort. Elsewhere "a<b and c>d" is text.
        code: spans of code blocks (sorted, disjoint; see `MarkupView.code`): each is one paragraph, cut
            only between its lines while they fit the caps, as code is read line by line.
        show: what a prompt shows of a span of code (`MarkupView.shown`: its lines and their indentation),
            which `max_tokens` counts there; else code is counted as prose is, tags out and spaces collapsed.
        breaks: positions (sorted) where a paragraph ends whatever the text says (`MarkupView.breaks`: where a
            quote begins or ends).
    """
    result = Segmentation()
    soft_newlines = _hard_wrapped(text)
    edges = [*(edge for span in code for edge in span), len(text)]
    position = 0
    for stop, is_code in zip(edges, itertools.cycle((False, True))):
        if is_code:
            start, end = _trim(text, position, stop)
            start = _indented(text, start, position)
            if start < end:
                units = _code_units(text, start, end, max_chars, max_tokens, count, markup, show)
                _add_paragraph(result, start, end, units)
        else:
            for block_start, block_end in _cut(_blocks(text, position, stop), breaks):
                pieces = [(block_start, block_end)] if soft_newlines else _split_lines(text, block_start, block_end)
                pieces = _cut(pieces, _heading_edges(text, block_start, block_end))
                for start, end in (part for piece in pieces for part in _markup_paragraphs(text, *piece)):
                    start, end = _trim(text, start, end)
                    if start >= end:
                        continue
                    units = _sentences(text, start, end, max_chars, markup)
                    if max_tokens is not None and count is not None:
                        units = _cap_tokens(text, units, max_tokens, count, markup)
                    if units:  # none: a table's delimiter row alone
                        _add_paragraph(result, start, end, units)
        position = stop
    return result


def _add_paragraph(result: Segmentation, start: int, end: int, units: list[tuple[int, int, bool]]) -> None:
    paragraph = len(result.paragraphs)
    result.paragraphs.append((start, end))
    for s_start, s_end, continued in units:
        result.sentences.append((s_start, s_end))
        result.sentence_paragraph.append(paragraph)
        result.continued.append(continued)


def _code_units(
    text: str,
    start: int,
    end: int,
    max_chars: int,
    max_tokens: int | None,
    count: Callable[[str], int] | None,
    markup: bool,
    show: Callable[[int, int], str] | None = None,
) -> list[tuple[int, int, bool]]:
    """The units of a code block: runs of whole lines, each as long as the caps allow (tokens estimated line by
    line, as `show` shows them); a line over them alone is cut as any unit is. Each unit after the first goes
    on with the block.

    A unit the next line would take over a cap ends where the code breaks most: after its last blank line,
    else before its last line of the least indentation (a statement of the enclosing block), as long as that
    leaves it at least half of what it could hold; else before the line that does not fit. Never right after a
    comment line: a comment belongs to the code under it.
    """
    shown = _Shown(text, start, end, markup)
    token_cap = max_tokens if max_tokens is not None and count is not None else None
    units: list[tuple[int, int, bool]] = []

    def close(unit_start: int, unit_end: int) -> None:
        unit_start, unit_end = _trim(text, unit_start, unit_end)  # its indentation is given back once cut (below)
        if unit_start < unit_end:
            units.append((unit_start, unit_end, bool(units)))

    # A line ends at a line break, and in markup at a `<br>` too (taken with its line).
    breaks = _LINE_BREAK_MARKUP if markup else _NEWLINE
    ends = [(m.start() if m.group() == "\n" else m.end(), m.end()) for m in breaks.finditer(text, start, end)]
    lines: list[_CodeLine] = []  # the unit's lines so far
    line_start = start
    blank_above = False
    for line_end, next_start in [*ends, (end, end)]:
        written = text[line_start:line_end]
        if not written.strip():
            blank_above = bool(lines)
            line_start = next_start
            continue
        line_tokens = 0
        if token_cap is not None and count is not None:
            line = show(line_start, line_end) if show is not None else _as_read(text, line_start, line_end, shown)
            line_tokens = count(line) + 1 if line.strip() else 0  # and its line break; a closing tag, nothing
        depth = -1 if blank_above else len(written.expandtabs()) - len(written.expandtabs().lstrip())
        blank_above = False
        code_line = _CodeLine(line_start, line_end, line_tokens, depth, _COMMENT.match(written) is not None)
        if lines:
            tokens = sum(line.tokens for line in lines) + line_tokens
            over = shown.length(lines[0].start, line_end) > max_chars or tokens > (token_cap or sys.maxsize)
            if over:
                cut = _code_cut(lines, code_line, max_chars, token_cap, shown)
                close(lines[0].start, lines[cut - 1].end)
                lines = lines[cut:]
        lines.append(code_line)
        line_start = next_start
    if lines:
        close(lines[0].start, lines[-1].end)
    out: list[tuple[int, int, bool]] = []
    for s_start, s_end, continued in units:
        pieces = [(s_start, s_end)]
        if shown.length(s_start, s_end) > max_chars:
            pieces = _split_long(text, s_start, s_end, max_chars, markup)
        out.extend((p_start, p_end, continued or i > 0) for i, (p_start, p_end) in enumerate(pieces))
    if token_cap is not None and count is not None:
        out = _cap_tokens(text, out, token_cap, count, markup, show)
    # A line too long for a unit alone is cut as any unit is, which trims: a piece opening a line keeps its indentation.
    return [(_indented(text, s_start, start), s_end, continued) for s_start, s_end, continued in out]


class _CodeLine(NamedTuple):
    start: int
    end: int
    tokens: int
    depth: int
    """Its indentation, in columns; -1 after a blank line."""
    comment: bool


# A line that is a comment: "#", "//", "/*", "*" (inside a block comment), "--" (SQL, Lua, Haskell), ";" (Lisp, ini).
_COMMENT = re.compile(
    r"[ \t]*(?:#(?![!]|[ \t]*(?:include|define|undef|if|ifdef|ifndef|elif|else|endif|pragma|error|warning|line|import)"
    r"\b)|//|/\*|\*(?:[ \t]|$)|--(?:[ \t]|$)|;)"
)
"""A comment line (a preprocessor's `#include`, `#endif` is none)."""


def _code_cut(lines: list[_CodeLine], new: _CodeLine, max_chars: int, token_cap: int | None, shown: _Shown) -> int:
    """Where a unit of code `lines` ends, the `new` line not fitting: before the line of least depth, the last of
    them, that leaves the unit half its caps or more, does not follow a comment, and leaves the lines after it room
    for the new one; else all of them (the new line starts the next unit)."""
    best = len(lines)
    total = sum(line.tokens for line in lines) + new.tokens
    tokens = lines[0].tokens
    for at in range(1, len(lines)):
        half = shown.length(lines[0].start, lines[at - 1].end) * 2 >= max_chars or (
            token_cap is not None and tokens * 2 >= token_cap
        )
        rest = shown.length(lines[at].start, new.end) <= max_chars and (
            token_cap is None or total - tokens <= token_cap
        )
        tokens += lines[at].tokens
        better = best == len(lines) or lines[at].depth <= lines[best].depth
        if half and rest and not lines[at - 1].comment and better:
            best = at
    return best


def _as_read(text: str, start: int, end: int, shown: _Shown) -> str:
    """`text[start:end]` as a reader sees it, to count its tokens: no tags, "&#39;" one character, a run of
    spaces one (markup; elsewhere the text as it is)."""
    return " ".join(html.unescape(_TAG.sub("", text[start:end])).split()) if shown.tags else text[start:end]


_FIELDS = re.compile(r"(?:[,;\t|][^,;\t|\n]*){2,}")
"""A line of fields: two separators (commas, semicolons, tabs or bars) or more."""


_CUE_LINE = re.compile(r"\d+|(?:\d{1,2}:)?\d{2}:\d{2}[.,]\d{3}\s*-->\s*(?:\d{1,2}:)?\d{2}:\d{2}[.,]\d{3}.*")
"""A subtitle's cue number, or its timing line ("00:00:28,080 --> 00:00:30,649", .srt or .vtt)."""
_RECORD_START = re.compile(r"[\[(]?\d|<[^<>\s]{1,32}>\s")
"""How a record's line opens: a date, time or number (a log's, bracketed or not: "[2024-04-04 12:20]"), or a chat's
nick ("<dmitri> ..."). Lines most of which open so are records, each a unit, not wrapped prose."""


def _hard_wrapped(text: str) -> bool:
    """Whether single newlines are line wrapping (short lines inside paragraphs) rather than breaks.

    Wrapped text (Gutenberg, QuALITY) has lines of 60-80 characters inside blank-line
    paragraphs; text with one paragraph per line (papers, exports) has much longer lines. Short lines that are
    records (a log's, whose lines begin with a date or a number; a table's, each with its fields' separators)
    are not wrapping either: joined, a log's lines made units of a dozen records, cut inside one.
    """
    lines: list[str] = []
    for block_start, block_end in _blocks(text):
        block = text[block_start:block_end].strip()
        if "\n" in block:
            lines.extend(block.split("\n"))
        if len(lines) > 2000:  # a sample is enough
            break
    if not lines or statistics.median(len(line) for line in lines) > 100:
        return False
    # A subtitle's cue number alone on its line, and its timing line, say nothing of the lines after them: left out.
    starts = [line.strip() for line in lines if line.strip() and not _CUE_LINE.fullmatch(line.strip())]
    numbered = sum(_RECORD_START.match(start) is not None for start in starts) >= 0.5 * len(starts)
    fielded = sum(_FIELDS.search(line) is not None for line in lines) >= 0.8 * len(lines)
    return not (numbered or fielded)


def _blocks(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """`text[start:end]` cut at its blank lines and form feeds."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for match in _BLANK_LINE.finditer(text, start, end):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, end))
    return spans


def _table_rows(text: str, start: int, end: int) -> list[int]:
    """Where the rows of tables (`_TABLE_ROW`) inside `text[start:end]` begin and end, sorted: a line with bars at its
    ends next to another such line (a table has a header and a delimiter row at least). A line of prose alone that
    opens and ends with a bar ("|x| is small. So is |y|") is none (helper-218)."""
    kept: list[int] = []
    for row in _TABLE_ROW.finditer(text, start, end):
        # The lines next to it in the whole text (a paragraph may have been cut at each line), over one blank line (a
        # page's table is read with its header row apart).
        if any(_TABLE_ROW.fullmatch(line) for line in _next_lines(text, row.start(), row.end())):
            kept += [row.start(), row.end()]
    return kept


def _next_lines(text: str, start: int, end: int) -> tuple[str, str]:
    """The lines before and after the line `text[start:end]` that are not blank, over one blank line at most (each
    found by searching out from the line: bounded, so that a table of 30,000 rows stays linear)."""
    lines = []
    for step in (-1, 1):
        at, found = (start, "") if step < 0 else (end, "")
        for _ in range(2):  # the next line, then, if it is blank, the one after it
            if step < 0:
                if at <= 0:
                    break
                head = text.rfind("\n", 0, at - 1) + 1
                found, at = text[head : at - 1], head
            else:
                if at >= len(text):
                    break
                tail = text.find("\n", at + 1)
                tail = len(text) if tail < 0 else tail
                found, at = text[at + 1 : tail], tail
            if found.strip():
                break
        lines.append(found if found.strip() else "")
    return lines[0], lines[1]


def _heading_edges(text: str, start: int, end: int) -> list[int]:
    """Where the Markdown heading lines (`_HEADING_LINE`) inside `text[start:end]` begin and end, sorted."""
    if "#" not in text[start:end] or "\n" not in text[start:end]:
        return []
    edges: list[int] = []
    for line in _HEADING_LINE.finditer(text, start, end):
        # It follows a finished sentence or another heading on the line before it; else it is a comment in a snippet
        # ("like this:\n  # port to listen on\n  port = 8080"), or a line of prose opening with "# 42" (helper-218).
        before = text[text.rfind("\n", start, line.start() - 1) + 1 : line.start() - 1] if line.start() > start else ""
        if not before.strip() or _SENTENCE_END.search(before) or _HEADING_LINE.fullmatch(before):
            edges.extend(line.span())
    return edges


def _cut(spans: list[tuple[int, int]], breaks: Sequence[int]) -> list[tuple[int, int]]:
    """`spans` (in order) cut at the `breaks` (sorted) inside them."""
    if not breaks:
        return spans
    out: list[tuple[int, int]] = []
    for start, end in spans:
        first = bisect.bisect_right(breaks, start)
        for cut in breaks[first : bisect.bisect_left(breaks, end)]:
            out.append((start, cut))
            start = cut
        out.append((start, end))
    return out


def _split_lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """`text[start:end]` cut at its newlines, except where the next line goes on with the sentence.

    A line that starts in lower case after a long one that does not end a sentence continues it
    (a page whose long lines are table rows or code can still wrap its prose: "...the string to
    inform\nthe compiler what..."), unless it opens a list item ("a) ...").
    """
    spans: list[tuple[int, int]] = []
    line_start = start
    for match in _NEWLINE.finditer(text, start, end):
        line, line_start = line_start, match.end()
        if (
            match.start() - line >= _WRAPPED_LINE  # a wrapped line fills its column; a title, code or CSV line may not
            and _CONTINUED_LINE.match(text, match.end(), end)
            and not _ITEM_START.match(text, match.start(), end)
            and not _SENTENCE_END.search(text, max(start, match.start() - 8), match.start())
        ):
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, end))
    return spans


def _markup_paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """`text[start:end]` cut where a paragraph, table, list or heading opens at the top level, and after a heading.

    Only text that closes a block somewhere reads as markup: prose that mentions "the <p> tag"
    stays one paragraph. A heading ends whatever table or list is open before it, so one that
    is never closed (a page cut short) does not hide the structure after it.
    """
    if "</" not in text[start:end]:
        return [(start, end)]
    tags = list(_CONTAINER_TAG.finditer(text, start, end))
    if not any(tag.group(1) for tag in tags):
        return [(start, end)]
    cuts: list[int] = []
    depth = 0
    heading = False
    for tag in tags:
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if name[0] == "h":
            if closing and heading:
                cuts.append(tag.end())
            elif not closing:
                cuts.append(tag.start())
                depth = 0
            heading = not closing
            continue
        if closing:
            if name in _NESTING:
                depth = max(0, depth - 1)
            continue
        if depth == 0:
            cuts.append(tag.start())
        if name in _NESTING:
            depth += 1
    edges = [start, *_markup_cuts(text, start, end, cuts), end]
    return list(itertools.pairwise(edges))


def _indented(text: str, start: int, floor: int) -> int:
    """`start`, or the start of its line where only blanks (its indentation) come before it there, down to `floor`:
    a unit of code begins with its first line's indentation, as the file writes it."""
    line = max(floor, text.rfind("\n", 0, start) + 1)
    return line if text[line:start].strip(" \t") == "" else start


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _sentences(text: str, start: int, end: int, max_chars: int, markup: bool) -> list[tuple[int, int, bool]]:
    cuts = _boundaries(text, start, end, markup)
    units: list[tuple[int, int, bool]] = []
    previous = start
    for cut in [*cuts, end]:
        s, e = _trim(text, previous, cut)
        previous = cut
        if s >= e or (text.find("|", s, e) >= 0 and _DELIMITER_ROW.fullmatch(text, s, e)):
            continue
        if _Shown(text, s, e, markup).length(s, e) > max_chars:
            pieces = _split_long(text, s, e, max_chars, markup)
            units.extend((ps, pe, i > 0) for i, (ps, pe) in enumerate(pieces))
        else:
            units.append((s, e, False))
    return units


def _cap_tokens(
    text: str,
    units: list[tuple[int, int, bool]],
    max_tokens: int,
    count: Callable[[str], int],
    markup: bool,
    show: Callable[[int, int], str] | None = None,
) -> list[tuple[int, int, bool]]:
    """`units` with each one over `max_tokens` (as `show` shows it, else as read) cut, and its pieces again."""
    out: list[tuple[int, int, bool]] = []
    for start, end, continued in units:
        # A token is at least one byte, and a character at most four in UTF-8: only units that long can be over
        # the cap (ASCII text: longer than the cap in characters).
        shown = _Shown(text, start, end, markup)
        length = shown.length(start, end)
        unit = show(start, end) if show is not None else _as_read(text, start, end, shown)
        # As shown, a line break that a tag stands for (`<br>` in code) is a character too.
        could = max(length, len(unit)) > max_tokens or (4 * len(unit) > max_tokens and not unit.isascii())
        tokens = count(unit) if could else 0
        if tokens <= max_tokens:
            out.append((start, end, continued))
            continue
        chars = max(16, int(length * max_tokens / tokens * 0.9))
        pieces = _split_long(text, start, end, chars, markup)
        if len(pieces) > 1:  # a piece denser than the unit's average may still be over: cut again
            again = _cap_tokens(text, [(s, e, False) for s, e in pieces], max_tokens, count, markup, show)
            pieces = [(s, e) for s, e, _ in again]
        out.extend((s, e, continued or i > 0) for i, (s, e) in enumerate(pieces))
    return out


def _boundaries(text: str, start: int, end: int, markup: bool = False) -> list[int]:
    """Cut positions inside `text[start:end]` (each the end of a sentence), sorted."""
    cuts: list[int] = []
    unit_start = start
    lines = "\n" in text[start:end]
    # Where list items start: each opens a unit, so that its own label is read as one ("2. Reports are due" on a line
    # of its own in a wrapped paragraph: "2." was cut off as a sentence).
    items = [m.start() for m in _ITEM_START.finditer(text, start, end)] if lines else []
    named = _named_lines(text, start, end) if lines else []
    opens = sorted({*items, *named})
    rows = _table_rows(text, start, end) if "|" in text[start:end] else []
    for match in _END.finditer(text, start, end):
        if rows and bisect.bisect_right(rows, match.end()) % 2:  # inside a row (its end is the line's)
            continue
        item = bisect.bisect_right(opens, match.start()) - 1
        if item >= 0 and opens[item] > unit_start:
            unit_start = opens[item]
        word = _word_before(text, match.start(), start)
        if not word:
            # A stop standing alone: pre-tokenized text ("the end . Then") ends the sentence at it,
            # but a dot leader ("INSURANCE . . . 12") or a stray mark does not.
            word = _detached_word(text, match.start(), start)
            if not word:
                continue
        punct = match.group("punct")
        if punct == "." and not _ends_sentence(
            word,
            _opening_label(text, match.start(), start, unit_start, end),
            _previous_word(text, match.start() - len(word), start),
            _NEXT_WORD.match(text, match.end(), end)[1],  # type: ignore[index]
            initialism=_INITIALISM.search(text, max(start, match.start() - 16), match.start()) is not None,
        ):
            continue
        day = len(word) <= 2 and word.isdecimal() and int(word) <= 31  # "2⁵³" is digits, no numeral int() reads
        if punct == "." and day and _dated(text, match.start() - len(word), match, end):
            continue
        cut = match.end()
        cuts.append(cut)
        unit_start = cut
    cuts.extend(rows[1::2])  # a row ends its unit: the line after it is no part of it
    if lines:
        cuts.extend(items)
        cuts.extend(named)  # a run of them is a list: each starts a unit, as an item does
        cuts.extend(m.start() for m in _TABLE_ROW_START.finditer(text, start, end))
        cuts.extend(
            m.end() - 1
            for m in _LABEL_OVER_INDENTED.finditer(text, start, end)
            if m.group(0).strip() in _labels_once(text)
        )
        cuts.extend(edge for m in _DELIMITER_LINE.finditer(text, start, end) for edge in m.span())
    cuts.extend(m.end() for m in _CJK_END.finditer(text, start, end))  # anywhere: after a line of English too
    if "<" in text[start:end]:
        tags = [
            tag.end() if text[tag.start() + 1] == "/" else tag.start() for tag in _BLOCK_TAG.finditer(text, start, end)
        ]
        tags += [edge for tag in LONG_TAG.finditer(text, start, end) for edge in tag.span()]
        cuts = _markup_cuts(text, start, end, _outside_rows(text, start, end, sorted({*cuts, *tags})))
        shown = _Shown(text, start, end, markup)
        cuts = [cut for cut in cuts if not shown.inside(cut)]
    return sorted(set(cuts))


def _outside_rows(text: str, start: int, end: int, cuts: list[int], longest: int = 600) -> list[int]:
    """`cuts` (sorted) less those inside a table row of at most `longest` characters: a row's label
    and its value are one unit, though a cell may hold a paragraph or a list."""
    rows: list[tuple[int, int]] = []
    opened = -1
    for tag in _ROW_TAG.finditer(text, start, end):
        if tag.group(1):
            if opened >= 0 and tag.end() - opened <= longest:
                rows.append((opened, tag.end()))
            opened = -1
        else:
            opened = tag.start()
    if not rows:
        return cuts
    kept: list[int] = []
    row = 0
    for cut in cuts:
        while row < len(rows) and rows[row][1] <= cut:
            row += 1
        if row < len(rows) and rows[row][0] < cut < rows[row][1]:
            continue
        kept.append(cut)
    return kept


def _markup_cuts(text: str, start: int, end: int, cuts: list[int]) -> list[int]:
    """`cuts` (sorted) moved so that no piece between them is markup alone: closing tags ("</Li> </Ul>")
    stay with the piece they close, other markup ("<Table>", "<Tr>") joins the piece after it,
    unless it is long (a page's `<head>`, its menus): that stands alone, as no content, rather
    than glue itself to the first sentence of the page.

    Each stretch between cuts is read once: rescanning from the last kept cut would make a line
    of 100,000 tags quadratic.
    """
    kept: list[int] = []
    last = start
    markup = closing = True  # whether the text since the last kept cut is markup alone / closing tags alone
    for cut in cuts:
        if cut <= last or cut >= end:
            continue
        markup = markup and _ONLY_MARKUP.fullmatch(text, last, cut) is not None
        closing = closing and markup and _ONLY_CLOSING.fullmatch(text, last, cut) is not None
        last = cut
        if not markup or cut - (kept[-1] if kept else start) > _LONG_MARKUP:
            kept.append(cut)
        elif closing and kept:
            kept[-1] = cut  # the closing tags join the piece before them
        else:
            continue  # the markup joins the piece after it
        markup = closing = True
    if kept and markup and _ONLY_MARKUP.fullmatch(text, last, end):
        kept.pop()  # trailing markup ("</P>") stays with the last piece
    return kept


def _word_before(text: str, position: int, floor: int, stops: str = ".!?") -> str:
    """The run of non-space characters ending at `position`, none of them in `stops` (at most 40 of them)."""
    start = position
    while start > floor and position - start < 40 and not text[start - 1].isspace() and text[start - 1] not in stops:
        start -= 1
    return text[start:position]


_NEXT_WORD = re.compile(r"\s*(\w*)")  # the word after a stop, none where a quote or a bracket opens first


def _previous_word(text: str, position: int, floor: int) -> str:
    """The word before the spaces before `position` ("Schedule" of "Schedule A."), its marks left out."""
    before = position
    while before > floor and text[before - 1] in " \t":
        before -= 1
    return _word_before(text, before, floor).strip("\"'“‘([,;:")


def _detached_word(text: str, position: int, floor: int) -> str:
    """The word before a stop that stands alone ("word ."), or "" when it is a leader dot or a stray mark."""
    before = position
    while before > floor and text[before - 1] in " \t":
        before -= 1
    word = _word_before(text, before, floor)
    # A leader is a run of dots; "(1809) ." or '" .' close a phrase, so they end a sentence too.
    return word if word and word[-1] not in ".-–" and position - before <= 2 else ""


def _skip_space(text: str, position: int, end: int) -> int:
    while position < end and text[position] in " \t\n\"'“‘(":
        position += 1
    return position


def _opening_label(text: str, position: int, floor: int, unit_start: int, end: int) -> str:
    """The characters before the stop at `position` back to the last space ("1.1" of "1.1."), if they open
    the unit, after a heading's marks, its tags or a word that names a part of a document at most
    ("## 13.", "<h2>1.", "Section 3.", "Article IV."); else ""."""
    label = _word_before(text, position, floor, stops="")
    label = label[max(label.rfind(">"), label.rfind("§")) + 1 :]  # a tag or "§" glued to it ("<h2>1.", "§12.")
    opened = _skip_space(text, unit_start, end)
    before = position - len(label)
    if before <= opened:
        return label
    if before - opened > _PREFIX_CHARS:  # measured before the slice: a unit of 200,000 characters is not copied
        return ""
    prefix = text[opened:before]
    if not _LABEL_PREFIX.fullmatch(prefix):
        return ""
    named = _TAG.sub("", prefix).strip(" \t\u00a0#")  # the word naming a part, if any ("Section")
    return label if not named or _NAMED_LABEL.match(label) else ""


def _dated(text: str, number_start: int, stop: re.Match[str], end: int) -> bool:
    """Whether the day's number before `stop` opens a date: a month's name after it, one no English sentence opens
    with, or one after a date's word ("am 31. August", "vom 3. bis 17. August")."""
    month = _MONTH_AFTER.match(text, stop.end(), end)
    if month is None:
        return False
    return (
        month.group("own") is not None
        or _DATE_WORD_BEFORE.search(text, max(0, number_start - 12), number_start) is not None
    )


_LETTERED = frozenset(
    """schedule exhibit appendix annex attachment addendum rider section article part plan option class type grade
    form item group phase tier level vitamin table figure chapter category series unit block lot zone division
    title stage step model""".split()
)
"""Words a letter names a thing after ("Schedule A", "Exhibit G", "Plan B"): a stop after that letter is no
initial's, and ends its sentence before a capital ("... described in Schedule A. Either party may ...")."""
_INITIALISM = re.compile(r"(?<![^\W\d_])(?:(?:[A-Z]\.)+[A-Z]|[ap]\.m)\Z")
"""Capitals with stops and no space, up to the last letter before a stop ("U.S", "D.C", "U.S.A"), and a time's "a.m"
or "p.m"."""
_CLOSING_ABBREVIATIONS = frozenset(
    "etc inc ltd corp co llc plc jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri "
    "sat sun".split()
)
"""Abbreviations that close a phrase ("apples, pears, etc.", "Apple Inc.", "in Feb."): one ends its sentence too when a
word that opens sentences follows (`_OPENERS`)."""
_PLAIN_WORDS = frozenset("sat sun".split())
"""Abbreviations (of Saturday, Sunday) that in lower case are words ending a sentence ("He sat.", "in the sun."): one
before any capital ends its sentence ("He sat. Birds sang."). Others that are words too ("no", "art") end one before a
word that opens sentences, as a closing abbreviation does ("He said no. The door shut."), and go on before a name or a
label ("rep. Jones", "2nd ed. Oxford", "no. A123")."""
_WORDS_TOO = frozenset("no art arts chap".split())
_OPENERS = frozenset(
    """the this these those that it its he she they we you his her their our my your in on at for if when while
    after before upon each either neither no any all such there here however""".split()
)


def _ends_sentence(word: str, label: str, previous: str = "", following: str = "", *, initialism: bool = False) -> bool:
    """Whether the stop after `word` ends a sentence; `label`: what opens the unit up to the stop, if it does;
    `previous` and `following`: the words before `word` and after the stop; `initialism`: `word` is the last letter
    of capitals written with stops and no space ("U.S.", "D.C.")."""
    bare = word.lstrip("\"'“‘([").lower()
    abbreviation = bare.rsplit("'", 1)[-1].rsplit("’", 1)[-1]
    # What follows opens a sentence: a word that opens sentences, in its own case ("The", not "THE" of a clause in
    # capitals, nor '("The Company")', which `following` is not given: helper-185).
    opens = following.lower() in _OPENERS and following[:1].isupper() and not following[1:2].isupper()
    if abbreviation in _ABBREVIATIONS or word in _CASED_ABBREVIATIONS:  # "l'art. 12"
        capital = following[:1].isupper() and not following[1:2].isupper()
        if bare in _PLAIN_WORDS and (opens or (capital and word.lstrip("\"'“‘([").islower())):
            return True  # "He sat. Birds sang.", "Sun. The"; not "Sun. 9 June"
        if bare in _WORDS_TOO and opens:
            return True  # "He said no. The door shut.", "No. This needs a schema"; not "Gen. Patton", "no. A123"
        return abbreviation in _CLOSING_ABBREVIATIONS and opens
    # An initial: "J. R. Smith", "U.S.". A Hangul syllable is a word ("안 돼. 집에 가."), never one. A letter that
    # names a schedule or a plan is none before a sentence's opening word ("Schedule A. Either party ...", not
    # "Section A. Smith"), and nor is an initialism's ("moved to the U.S. He", not "the U.S. Army").
    if len(bare) == 1 and bare.isalpha() and not "\uac00" <= bare <= "\ud7a3":
        return opens and (initialism or (previous.lower() in _LETTERED and word == bare.upper()))
    # "1.", "1.1." or "IV." opening a unit labels it; the label and its text stay one unit.
    return _ENUMERATOR.match(label.lstrip("\"'“‘([")) is None


def _split_long(text: str, start: int, end: int, max_chars: int, markup: bool = False) -> list[tuple[int, int]]:
    """Cut an over-long unit at clause marks, then commas, then spaces, then after the punctuation of code with no
    spaces (minified JavaScript, JSON on one line), then before tags, then anywhere (`max_chars` as shown: tags
    count nothing, and only the last resort cuts inside one)."""
    shown = _Shown(text, start, end, markup)
    for pattern in (_CLAUSE_CUT, _COMMA_CUT, _SPACE, _CODE_CUT, None):
        if pattern is None:  # before a tag, where a reader sees no edge: cells written with no space between
            cuts = [edge for edge in shown.starts if start < edge < end]
        else:
            cuts = [m.end() for m in pattern.finditer(text, start, end) if not shown.inside(m.end())]
        if cuts:
            units = _pack(text, start, end, cuts, max_chars, shown)
            if all(shown.length(s, e) <= max_chars for s, e in units):
                return units
            # Some piece is still too long: cut those pieces with the next, weaker, pattern.
            refined: list[tuple[int, int]] = []
            for s, e in units:
                too_long = shown.length(s, e) > max_chars
                refined.extend(_split_long(text, s, e, max_chars, markup) if too_long else [(s, e)])
            return refined
    edges = [start]
    while edges[-1] + max_chars < end:
        edges.append(_grapheme_edge(text, edges[-1] + max_chars, edges[-1] + 1))
    return [(s, e) for s, e in itertools.pairwise([*edges, end])]


_ZWJ = "\u200d"
_VIRAMA = 9  # the combining class of a virama, which joins the consonants either side of it into one ("क्ष")


def _joins_previous(ch: str) -> bool:
    """Whether `ch` belongs to the character before it: a mark (an accent, a keycap, a vowel sign), a
    variation selector, an emoji skin tone or tag, a zero-width joiner."""
    code = ord(ch)
    return (
        unicodedata.category(ch).startswith("M")
        or ch == _ZWJ
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF  # half of a flag: flags are pairs of these


def _grapheme_edge(text: str, position: int, floor: int) -> int:
    """`position` moved back to where one visible character ends and the next begins (a cut inside "👩‍💻", "é"
    written as e and its accent, a flag or a conjunct would leave half of it in each unit); `position`
    itself when that character reaches back to `floor` (a letter under hundreds of marks: a cut inside it
    beats a unit over the cap)."""

    def inside(at: int) -> bool:
        if _joins_previous(text[at]) or text[at - 1] == _ZWJ or unicodedata.combining(text[at - 1]) == _VIRAMA:
            return True
        if _regional(text[at]) and _regional(text[at - 1]):
            run = at  # the edge before `floor` is between two characters: count the pairs from there
            while run > floor - 1 and _regional(text[run - 1]):
                run -= 1
            return (at - run) % 2 == 1
        return False

    back = position
    while back > floor and inside(back):
        back -= 1
    return position if inside(back) else back


def _pack(text: str, start: int, end: int, cuts: list[int], max_chars: int, shown: _Shown) -> list[tuple[int, int]]:
    """Join consecutive pieces greedily up to `max_chars` as shown, so cuts make as few units as needed."""
    units: list[tuple[int, int]] = []
    unit_start = start
    last_cut = start
    for cut in [*cuts, end]:
        if shown.length(unit_start, cut) > max_chars and last_cut > unit_start:
            units.append(_trim(text, unit_start, last_cut))
            unit_start = last_cut
        last_cut = cut
    units.append(_trim(text, unit_start, end))
    return [(s, e) for s, e in units if s < e]


class _Shown:
    """The tags of `text[start:end]` where `markup` (none elsewhere), to measure a stretch of it as a reader
    sees it (tags count nothing, up to `RAW_FACTOR`) and to keep cuts out of them."""

    __slots__ = ("_before", "_ends", "_starts")

    def __init__(self, text: str, start: int, end: int, markup: bool) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._before = [0]  # tag characters before each tag, then in all
        if not markup or text.find("<", start, end) < 0:
            return
        for tag in _TAG.finditer(text, start, end):
            self._starts.append(tag.start())
            self._ends.append(tag.end())
            self._before.append(self._before[-1] + tag.end() - tag.start())

    @property
    def tags(self) -> bool:
        return bool(self._starts)

    @property
    def starts(self) -> list[int]:
        return self._starts

    def _offset(self, position: int) -> int:
        """`position` less the tag characters before it."""
        i = bisect.bisect_right(self._starts, position) - 1
        if i < 0:
            return position
        return position - self._before[i] - (min(position, self._ends[i]) - self._starts[i])

    def length(self, start: int, end: int) -> int:
        """Characters of `text[start:end]` outside tags, or a `RAW_FACTOR`th of all of them if that is more:
        a run of tags alone is cut too, and a unit's span (which a citation quotes) stays bounded."""
        if not self._starts:
            return end - start
        return max(self._offset(end) - self._offset(start), (end - start) // RAW_FACTOR)

    def inside(self, position: int) -> bool:
        """Whether a cut at `position` would fall inside a tag."""
        i = bisect.bisect_right(self._starts, position) - 1
        return i >= 0 and self._starts[i] < position < self._ends[i]
