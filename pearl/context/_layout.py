"""Document structure from plain text: headings, sections, tables of contents, page furniture.

Contracts and papers say what a passage is about in its heading ("XIV. INSURANCE",
"5.2 Revenue Sharing.", "Results") while the passage itself may never repeat the word; a
sentence therefore inherits relevance from the heading of its paragraph and of its section
at compression time. In markup (a web page flattened to text) the `<H1>`..`<H6>` elements are
the headings, and a list item or a table row never is one, however title-like, except that a
row of header cells alone heads the rows under it ("Population", then "2018 census |
4,699,755"); in Markdown (and HTML files, read as Markdown headings) a `## ...` line is one.
An entry of a two-column list, as manual pages set them ("28     Operation timeout. The specified
time-out period was reached..."), is headed by its label and title: the sentences after them say
what the label means, in words a question about the label never uses; so is a term on a line of its own, over
the paragraphs indented under it, and a FAQ's question on a line of its own, over its answer. A section numbered on two
levels or more is a heading whatever its case ("2.1 Data collection", a FAQ's "4.11. How do I...?").
Tables of contents repeat every heading word and page headers repeat on every page: both are
marked so compression can discount them (a table of contents by its dot leaders, or as three
or more lines in a row that each name a heading further on). So is a list of sources, under a
"References" or "External links" heading: on a web page it is often most of the text.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter
from collections.abc import Sequence

from pearl.context._markup import MarkupView, blanked, fences, flag_markup
from pearl.context._models import SentenceFlag

__all__ = ["Layout", "analyse_layout", "is_heading"]

_ENUMERATOR = re.compile(
    r"^\s*(?:(?P<division>article|section|part|chapter|schedule|exhibit|appendix|annex)\s+)?"
    r"(?P<number>\(?(?:\d{1,3}(?:\.\d{1,3})*|[ivxlcdmIVXLCDM]{1,6}|[A-Za-z])[.)]?(?=\s|$)\s*)?",
    re.IGNORECASE,
)
_HEADING_WORD = re.compile(r"[^\W\d_][\w'’\-/&]*")
# A section numbered on two levels or more, then a title in any case, asked or named: "2.1 Data collection",
# "4.11. How do I match only the first occurrence?" (not "2.5 million people...", "1.1 The term is five years.").
_NUMBERED_TITLE = re.compile(r"[ \t]*\d{1,3}(?:\.\d{1,3})+\.?[ \t]+[A-Z][^\n]{0,100}(?<![.,;:!])$")
_SMALL_WORDS = frozenset("of and the to in for or a an on with by upon as at from its their our your his her".split())
# Dot leaders then a page number, or the letter that ends a list of exhibits ("SUBLEASE . . . M",
# "SCHEDULE . . . B-2"). Bounded repeats keep a line of 200,000 dots linear.
_TOC = re.compile(r"\.(?: ?\.){2}[ .]{0,40}(?:\d|[A-Z](?:-?\d{1,3})?\s*$)")
_NO_LETTERS = re.compile(r"^[\W\d_]*$")
# A field of a line of fields: "Next: Regular Expressions" ("Label: value").
_FIELD = re.compile(r"[ \t]*([A-Za-z]+):[ \t]+\S")
_NAVIGATION_LABELS = frozenset({"next", "prev", "previous", "up"})
_DIGITS = re.compile(r"\d+")
# A page's number in a header or a footer: "Confidential - Page 3", "Page 3 of 7", "p. 12".
_PAGE_NUMBER = re.compile(r"((?i:\bpage|\bp\.)\s*)\d+")
_SPACES = re.compile(r"\s+")
# A Markdown heading line ("## Using the API"): a heading by declaration, whatever its case.
_MARKDOWN_HEADING = re.compile(r"#{1,6}[ \t]+\S")
# A title over a line of one repeated mark, and optionally under one: "Usage\n-----", "=====\nTitle\n=====".
_UNDERLINED = re.compile(
    r"^(?:([=\-~^\"'+*#:._])\1{2,}[ \t]*\n)?(?P<title>[^\n]{1,120})\n"
    r"[ \t]*(?P<rule>([=\-~^\"'+*#:._])\4{2,})[ \t]*$"
)
_SUBSTITUTIONS = re.compile(r"^(?:\|[^|\n]{1,80}\|[ \t_]*)+$")
_BULLET = re.compile(r"[-*+•▪●◦–|][ \t]")  # a list item, or a Markdown table row ("| Auckland | 1,628,900 |")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]{0,9}\b[^<>]{0,200}>")
# An entry of a two-column list, as manual pages set them: a short label, a gap of three spaces or more (or a tab),
# then its text ("28     Operation timeout. The specified...", "-k, --insecure   Allow..."). (A help text's entries,
# not apart by blank lines, make one paragraph: no entry is found there.)
_HANGING = re.compile(r"[ \t]*(?![-+–][ \t])[^\s<>|#*•]\S{0,24}(?:, \S{1,25})?(?:[ ]{3,}|[ ]*\t[ \t]*)(?=\S)")
_ENTRY_TITLE = 120
"""Characters at most of an entry's first unit after its label, for the label and it to head the entry: a title
("Operation timeout."), not the first sentence of a clause that states a term of its own."""
_HEADING_OPEN = re.compile(r"<h[1-6]\b[^<>]{0,200}>", re.IGNORECASE)
# Sections that list the document's sources rather than say anything: a web page's references
# run to most of its length, and their titles match every query. "Notes" is not among them:
# explanatory notes state facts; nor is "Sources": a river's sources, a paper's data sources.
_BACK_MATTER = frozenset(
    "references|citations|bibliography|works cited|literature cited|reference list|further reading"
    "|external links|see also|notes and references|references and notes".split("|")
)
_EDIT_LINK = re.compile(r"\[\s*edit\s*\]", re.IGNORECASE)
_ROW = re.compile(r"<tr\b", re.IGNORECASE)
_TABLE_END = re.compile(r"</table\s*>", re.IGNORECASE)
_HEADER_CELL = re.compile(r"<th\b", re.IGNORECASE)
_DATA_CELL = re.compile(r"<td\b", re.IGNORECASE)


class Layout:
    """Per-sentence structure: flags, paragraph heading and section heading (sentence ids or -1), and how a
    text in markup is shown (`view`; `shown`, each unit as it shows it)."""

    __slots__ = ("flags", "heading", "section", "shown", "view")

    def __init__(self, size: int) -> None:
        self.flags = [0] * size
        self.heading = [-1] * size
        self.section = [-1] * size
        self.view = MarkupView(markup=False)  # how a text in markup is shown (its scripts, comments, tags out)
        self.shown: list[str] = []  # each unit as `view` shows it


def _is_markup_heading(text: str) -> bool:
    """A unit whose text opens with an `<H1>`..`<H6>` element and is short: "<Div> <H2> Plot </H2>"."""
    opening = _HEADING_OPEN.search(text)
    if opening is None or _TAG.sub("", text[: opening.start()]).strip():
        return False
    words = _TAG.sub(" ", text[opening.end() :]).strip()
    return 0 < len(words) <= 120


def _declared_heading(text: str) -> bool | None:
    """Whether a unit marked as a title by markup (an `<H2>` element, a `## ` line, a line underlined as
    reStructuredText and Markdown underline titles) is one; None where no markup marks it."""
    if _is_markup_heading(text) or (len(text) <= 120 and _MARKDOWN_HEADING.match(text) and "\n" not in text):
        return True
    underlined = _UNDERLINED.match(text) if 0 < text.count("\n") <= 2 else None
    if underlined and len(underlined["rule"]) >= 0.6 * len(underlined["title"].strip()):
        return 0 < len(_HEADING_WORD.findall(underlined["title"])) <= 15
    return None


def is_heading(text: str) -> bool:
    """Whether a unit reads as a title: marked as one (an `<H2>` element, a `## ` line, a line underlined
    as reStructuredText and Markdown underline titles), or short, mostly capitalised words, no sentence
    punctuation. A `#` line that runs on into more lines is no Markdown title (a comment in code), nor is
    a line of reStructuredText substitutions alone (badges, logos: "|Build-Status| |Coverage|")."""
    declared = _declared_heading(text)
    if declared is not None:
        return declared
    if _TAG.search(text) or _BULLET.match(text) or _SUBSTITUTIONS.match(text) or _FENCE.match(text):
        return False  # markup says which units are headings: a list item is not one, nor a block of code
    if _NUMBERED_TITLE.match(text) and "\n" not in text.strip() and len(_HEADING_WORD.findall(text)) <= 12:
        return True
    if len(text) > 120 or text.endswith((",", ";", "?", "!", '"', "”")) or text.startswith(('"', "“", "'")):
        return False
    label = _ENUMERATOR.match(text)
    body = text[label.end() :] if label else text
    words = _HEADING_WORD.findall(body)
    if not words and label and label["division"] and label["number"] and not body.strip(" .:-–—"):
        return label["division"][0].isupper()  # a division's label alone: "Appendix A", "PART II", "Article 5."
    if not words or len(words) > 10:
        return False
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    if not content:
        return False
    capitalised = sum(1 for w in content if w[0].isupper())
    return capitalised >= 0.8 * len(content)


COPIED_RUN = 10
"""Different units in a row, each found three times or more, that may be a passage copied rather than page
furniture: a page's header and footer are a line or a few. (Three copies of a story in a folder, a draft and its
revisions, read as furniture all through: the entity sheet kept 12 of 71 names.)"""
COPIED_SHARE = 0.5
"""...when units found three times or more are at least this share of the document's text: a navigation menu of a
dozen items on every page is a run as long, and a small part of what the pages say."""


def _navigation(units: list[str], titles: set[int]) -> list[int]:
    """A plain text's navigation lines, as a page's menu is in markup: one line of three fields or more and nothing
    else, two of them links on (`_NAVIGATION_LABELS`), one naming the next title below it, or part of it ("File:
    grep.info,  Node: Invoking,  Next: Regular Expressions,  Prev: Introduction,  Up: Top", over each node of an
    info manual and its title "2 Invoking ‘grep’"). Each is unique, so no count of repeats finds it, and its labels
    had been the manual's names ("Node" with 31 mentions, "Prev" 25). A record of fields ("Current: Alice Moreno,
    Next: Bob Tanaka, Previous: Carol Jensen") names no title under it: it is what the text says."""
    ordered = sorted(titles)
    found = []
    for i, unit in enumerate(units):
        line = unit.strip()
        if "\n" in line or len(line) > 500 or line.count(":") < 3:
            continue
        parts = line.split(",")
        fields = [(field[1].lower(), part[field.end() - 1 :]) for part in parts if (field := _FIELD.match(part))]
        links = sum(1 for label, _ in fields if label in _NAVIGATION_LABELS)
        if len(parts) < 3 or len(fields) < len(parts) or links < 2:
            continue
        below = bisect.bisect_right(ordered, i)
        title = _words_of(units[ordered[below]]) if below < len(ordered) else set()
        if title and any((words := _words_of(value)) and (words <= title or title <= words) for _, value in fields):
            found.append(i)
    return found


def _words_of(text: str) -> set[str]:
    """The words of a title or a link to one, as `_contents_key` reads them, quotes off ("‘grep’" is "grep")."""
    return {word.strip("'’") for word in _contents_key(text)}


def _copied(normalised: list[str], repeats: Counter[str]) -> set[int]:
    """The units of a document that repeats itself (`COPIED_SHARE`) in runs of units each repeated three times or
    more, at least `COPIED_RUN` of them different."""
    repeated = sum(len(unit) for unit in normalised if repeats[unit] >= 3)
    if repeated < COPIED_SHARE * sum(len(unit) for unit in normalised):
        return set()
    copied: set[int] = set()
    run: list[int] = []
    for i, unit in enumerate([*normalised, None]):
        if unit is not None and repeats[unit] >= 3:
            run.append(i)
            continue
        if len({normalised[j] for j in run}) >= COPIED_RUN:  # not one item over and over (a sidebar's "- Shl<i32>")
            copied.update(run)
        run = []
    return copied


def analyse_layout(
    text: str,
    sentences: list[tuple[int, int]],
    paragraphs: list[int],
    continued: list[bool],
    view: MarkupView | None = None,
) -> Layout:
    """Flags and heading links for `sentences` (spans) grouped by `paragraphs` (paragraph id per sentence);
    `view` is `MarkupView.of(text)`, where the caller has it already."""
    size = len(sentences)
    layout = Layout(size)
    units = [text[s:e] for s, e in sentences]
    normalised = [_SPACES.sub(" ", u) for u in units]
    repeats = Counter(normalised)
    copied = _copied(normalised, repeats)
    # A footer that numbers its page ("Confidential - Page 1", "... - Page 2") repeats but for the number.
    # Only the page's number is set aside: "Route 1 departs at 9:15 (see page 3)" and "Route 2 ..." are two rows.
    paged = [_PAGE_NUMBER.subn(r"\1#", u) if len(u) < 100 else ("", 0) for u in normalised]
    page_repeats = Counter(p for p, numbered in paged if numbered)
    flags = layout.flags
    for i, unit in enumerate(units):
        if _TOC.search(unit):
            flags[i] |= SentenceFlag.TOC
        page, numbered = paged[i]
        repeated = repeats[normalised[i]] >= 3 or (numbered > 0 and page_repeats[page] >= 3)
        furniture = repeated and len(unit) < 200 and i not in copied
        if furniture or _NO_LETTERS.match(unit):
            flags[i] |= SentenceFlag.BOILERPLATE
        if continued[i] or (i and units[i - 1].endswith(":")):
            flags[i] |= SentenceFlag.CONTINUATION
    starts = [i for i in range(size) if i == 0 or paragraphs[i] != paragraphs[i - 1]]
    plain = SentenceFlag.TOC | SentenceFlag.BOILERPLATE
    layout.view = MarkupView.of(text) if view is None else view
    # (A fence's mark in a source file, in a docstring, opens nothing: the files after it keep their titles.)
    source = layout.view.source
    fenced = [(fence.start, fence.closing) for fence in fences(blanked(text, source) if source else text)]
    # In a fenced code block (one never closed runs to the end) a "# comment", or lines over a closing
    # fence, are code, not titles; other titles there are left as read. A source file has none.
    titles = {
        i
        for i in starts
        if not flags[i] & plain
        and is_heading(units[i])
        and not ((units[i].lstrip().startswith("#") or "\n" in units[i]) and _inside(fenced, sentences[i][0]))
        and not any(start <= sentences[i][0] < end for start, end in layout.view.source)
    }
    # A table of contents without dot leaders: its lines are no headings either.
    for i in _contents_lines(units, titles):
        flags[i] |= SentenceFlag.TOC
        titles.discard(i)
    titles -= _numbered_list(units, starts, titles)
    titles -= _run_in_answers(text, sentences, units, starts, titles)
    turns = _speaker_turns(units, starts)
    titles -= turns.keys()  # "Tom: Sure." is what Tom said, not a title over what follows
    _under_headings(units, normalised, titles, flags)
    for i in _navigation(units, titles):
        flags[i] |= SentenceFlag.BOILERPLATE
        titles.discard(i)
    bounds = list(zip(starts, [*starts[1:], size], strict=True))  # paragraph first..stop-1
    entries = [_entry(text, sentences[first][0], sentences[first][1], sentences[stop - 1][1]) for first, stop in bounds]
    section = -1
    for n, (first, stop) in enumerate(bounds):
        if first in titles:
            flags[first] |= SentenceFlag.HEADING
            if stop - first == 1:
                section = first
            else:
                layout.heading[first + 1 : stop] = [first] * (stop - first - 1)
        for k in range(first, stop):
            if k != section:
                layout.section[k] = section
        if first in turns and stop - first > 1:
            # A speaker's turn: who says it heads what is said ("Sarah Lindqvist: So, a few things. Circulation is
            # up eight percent." answers who said circulation is up).
            layout.heading[first + 1 : stop] = [first] * (stop - first - 1)
        if first not in titles and stop - first > 1 and _listed_entry(entries, n):
            # An entry of a two-column list: its label heads what it says ("28  Operation timeout. The time-out...").
            layout.heading[first + 1 : stop] = [first] * (stop - first - 1)
        header = -1
        for k in range(first, stop):  # in a table, a row of header cells alone heads the rows under it
            if _is_header_row(units[k]):
                header = k
            elif header >= 0 and _ROW.search(units[k]):
                layout.heading[k] = header
            else:
                header = -1
            if _TABLE_END.search(units[k]):
                header = -1
    _lead_lines(text, sentences, units, bounds, titles, flags, layout.heading)
    layout.shown = [layout.view.shown(text, s, e) for s, e in sentences]
    flag_markup(text, layout.view, sentences, layout.shown, flags)
    sources = False
    for k in range(size):  # a list of sources, its title included, runs to the next title of any kind
        if k in titles:
            sources = _is_back_matter(units[k])
        if sources:
            flags[k] |= SentenceFlag.REFERENCES
    return layout


LEAD_SPAN = 8
"""Paragraphs a question or a term on a line of its own heads at most (see `_lead_lines`): a FAQ's answer runs to
a few paragraphs of prose and examples, and a definition to a few paragraphs under its term."""
# A FAQ's question is numbered or marked ("2. How do I ...?", "Q: Why ...?"), and may wrap onto a second line. An
# unmarked one is not followed: in an e-mail, "What is the rollback plan ...?" on a line of its own had led the
# paragraphs after it (a fire drill, a new hire) to the top of a search for the plan, and a quoted question or a
# line of dialogue in a story asks nothing the text goes on to answer.
_QUESTION_LINE = re.compile(
    r"[ \t]*(?:\(?\d{1,3}(?:\.\d{1,3})*[.)]|\(?[a-z][.)]|(?:Q|Question)[ \t]*\d{0,3}[ \t]*[:.)])"  # its mark
    r"[ \t]+[^\s\"“”'][\s\S]{2,300}\?[)\]*_]*",
    re.IGNORECASE,
)
_TERM_END = (".", "!", "?", ";", ",", ":")  # a line ending in a colon leads into what follows: see CONTINUATION


def _run_in_answers(
    text: str, sentences: list[tuple[int, int]], units: list[str], starts: list[int], titles: set[int]
) -> set[int]:
    """Titles that open the paragraph right under a FAQ's question (`_QUESTION_LINE`, the whole paragraph, on a line
    or two) and run on in their line: "Yes. Registered charities get 20 percent off." under "2. Is there a discount
    for charities?" opens the answer, and read as a title it took the answer from its question."""
    return {
        i
        for before, i in itertools.pairwise(starts)
        if i in titles
        and not _ends_line(text, sentences[i][1])
        and _QUESTION_LINE.fullmatch(question := text[sentences[before][0] : sentences[i - 1][1]].strip())
        and question.count("\n") <= 1
    }


def _first_word(unit: str) -> str:
    """The first word of `unit`, in lower case ("" if it has none)."""
    word = _HEADING_WORD.search(unit)
    return word.group().lower() if word else ""


_INDENT_SPAN = 200
"""Characters looked back from a paragraph's start for its line's start: deeper is no indentation, and a page of
markup on one line (2 MB, 40,000 paragraphs) had every paragraph search it back to its opening, 1.4 s in all."""


def _indent(text: str, start: int) -> int | None:
    """The column where `start` stands on its line, tabs as a terminal shows them; None unless only spaces or tabs
    come before it on that line (`_INDENT_SPAN` of them at most)."""
    line_start = text.rfind("\n", max(0, start - _INDENT_SPAN), start) + 1
    if line_start == 0 and start > _INDENT_SPAN:
        return None
    before = text[line_start:start]
    return len(before.expandtabs()) if not before.strip() else None


def _ends_line(text: str, end: int) -> bool:
    """Whether nothing but spaces follows `end` on its line."""
    line_end = text.find("\n", end)
    return not text[end : len(text) if line_end < 0 else line_end].strip()


def _lead_lines(
    text: str,
    sentences: list[tuple[int, int]],
    units: list[str],
    bounds: list[tuple[int, int]],
    titles: set[int],
    flags: list[int],
    heading: list[int],
) -> None:
    """Link to a heading (`heading`, where a sentence has none) the paragraphs a line of its own leads, in plain
    text, though it reads as no title:

    - a term on a line of its own, what a reference defines, leads the paragraphs indented deeper under it
      ("--unlink", then "    Force Wget to unlink file instead of clobbering ...");
    - a question on a line of its own, numbered or marked as a FAQ asks it (`_QUESTION_LINE`), leads the rest of
      its paragraph and the paragraphs after it, up to the next question or title ("2. How do I search
      directories recursively?", then its answer): the answer rarely repeats the question's words. An answer
      indented under its question ends where a paragraph comes back to the question's column; one at the
      question's column, where a paragraph is set further left.

    Each leads `LEAD_SPAN` paragraphs at most, and a question as many sentences of its own paragraph. Terms are
    linked first: under a question, a term nearer a sentence heads it."""
    plain = SentenceFlag.TOC | SentenceFlag.BOILERPLATE
    indents = [_indent(text, sentences[first][0]) for first, _ in bounds]

    def alone(n: int) -> bool:  # paragraph n opens with a unit of a line or two of its own, not a title
        first = bounds[n][0]
        return (
            indents[n] is not None
            and first not in titles
            and not flags[first] & plain
            and units[first].count("\n") <= 1
            and not _TAG.search(units[first])
            and _ends_line(text, sentences[first][1])
        )

    lines = [n for n in range(len(bounds)) if alone(n)]
    questions = {bounds[n][0] for n in lines if _QUESTION_LINE.fullmatch(units[bounds[n][0]].strip())}

    def mark(lead: int, first: int, stop: int) -> None:
        for k in range(first, stop):
            if heading[k] < 0 and not flags[k] & plain:
                heading[k] = lead

    def lead_on(n: int, column: int, deeper: bool) -> None:  # the paragraphs after paragraph n that it leads
        for m in range(n + 1, min(n + 1 + LEAD_SPAN, len(bounds))):
            first, stop = bounds[m]
            at = indents[m]
            if first in titles or first in questions or at is None or (at <= column if deeper else at < column):
                return
            mark(bounds[n][0], first, stop)

    terms = []
    for n in lines:
        first, stop = bounds[n]
        unit = units[first].strip()
        one_line = len(unit) <= 80 and "\n" not in unit
        if stop - first == 1 and first not in questions and one_line and not unit.endswith(_TERM_END):
            terms.append((n, _first_word(unit)))
    # A word that opens three terms or more names no one thing they define: a changelog's package on each of its
    # releases ("make (3.79.1-4) unstable; ..."), which a question about the package names, lifting every entry.
    openers = Counter(word for _, word in terms)
    for n, word in terms:  # terms first
        if openers[word] < 3:
            lead_on(n, indents[n] or 0, deeper=True)
    for n in lines:
        first, stop = bounds[n]
        if first in questions:
            mark(first, first + 1, min(stop, first + 1 + LEAD_SPAN))
            # An answer set deeper than its question ends where a paragraph comes back to the question's column
            # (the next item of a numbered list); one set at the question's column runs to the next question.
            column = indents[n] or 0
            following = indents[n + 1] if n + 1 < len(bounds) else None
            lead_on(n, column, deeper=following is not None and following > column)


_SPEAKER = re.compile(
    r"[ \t]*(?:[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])]?[ \t]+)?"  # a time it was said at, if given
    r"(?P<name>[A-Z][\w'’.-]{0,30}(?:[ \t]+[A-Z][\w'’.-]{0,30}){0,3})[ \t]*:[ \t]+\S"
)
"""A paragraph opening with who speaks: "Sarah Lindqvist: So, ...", "[00:01:02] TOM: ...", "Q: ..."."""
TURN_SHARE = 0.3
"""Paragraphs that must open with a speaker's name for a text to be read as a dialogue (a transcript, an interview):
a manual's notes ("Note: ...", "Example: ...") are a few of its paragraphs."""


_NO_SPEAKERS = frozenset(
    "q a question answer note notes warning tip example caution important see source subject from to cc bcc date "
    "sent re".split()
)
"""Labels of what follows, not of who says it: a FAQ's question heads its answer ("Q: ...?" over "A: ..."), and a
header's fields are no turns."""
_SAID = (".", "!", "?", "…", '"', "”", "'", "’", ")")
"""How what someone says ends: "Part One: Early Years", which ends with none, is a title between the turns."""


def _speaker_turns(units: list[str], starts: list[int]) -> dict[int, str]:
    """The paragraphs (their first units) that open with a speaker's name, by name, in a text read as a dialogue: two
    speakers or more who each open two paragraphs or more, and `TURN_SHARE` of the paragraphs at least opening with a
    name (then one who speaks once has a turn too, where what opens the paragraph ends as a sentence does)."""
    named = {
        first: found["name"]
        for first in starts
        if (found := _SPEAKER.match(units[first])) and found["name"].lower() not in _NO_SPEAKERS
    }
    counts = Counter(named.values())
    speakers = [name for name, count in counts.items() if count >= 2]
    if len(speakers) < 2 or len(named) < TURN_SHARE * len(starts):
        return {}
    return {first: name for first, name in named.items() if counts[name] >= 2 or units[first].rstrip().endswith(_SAID)}


def _entry(text: str, start: int, first_end: int, end: int) -> tuple[int, bool] | None:
    """Where the text of the paragraph `text[start:end]` (its first unit ending at `first_end`) begins, and whether
    it runs on to more lines, if the paragraph may be an entry of a two-column list: it opens its line with a short
    label, a gap and the entry's text, and every line after the first is indented to where that text begins (the
    label hangs out to the left; columns as a terminal shows tabs). Justified prose has wide gaps too, but its
    lines start at one margin. None where it is no such entry."""
    line_start = text.rfind("\n", max(0, start - _ENTRY_TITLE), start) + 1
    if (line_start == 0 and start > _ENTRY_TITLE) or text[line_start:start].strip():
        return None  # the paragraph does not open its line
    match = _HANGING.match(text, line_start, min(end, line_start + 2 * _ENTRY_TITLE))
    if match is None or first_end - match.end() > _ENTRY_TITLE:
        return None
    column = len(text[line_start : match.end()].expandtabs())
    lines = [line.expandtabs() for line in text[match.end() : end].split("\n")[1:] if line.strip()]
    if any(len(line) - len(line.lstrip(" ")) != column for line in lines):
        return None
    return column, bool(lines)


def _listed_entry(entries: list[tuple[int, bool] | None], n: int) -> bool:
    """Whether paragraph `n` is an entry of a two-column list (see `_entry`): its text runs on to lines indented
    under it, or a paragraph next to it is an entry whose text begins in the same column (a line of prose
    alone, with a wide gap after its first word, is none)."""
    entry = entries[n]
    if entry is None:
        return False
    column, runs_on = entry
    neighbours = (entries[k] for k in (n - 1, n + 1) if 0 <= k < len(entries))
    return runs_on or any(other is not None and other[0] == column for other in neighbours)


_FENCE = re.compile(r"[ ]{0,3}(?:`{3,}|~{3,})")  # a unit that opens with a code fence's mark


def _inside(spans: list[tuple[int, int]], position: int) -> bool:
    """Whether `position` lies inside one of `spans` (in order, apart)."""
    at = bisect.bisect_left(spans, (position,)) - 1  # the last span that starts before `position`
    return at >= 0 and position < spans[at][1]


def _under_headings(units: list[str], normalised: list[str], titles: set[int], flags: list[int]) -> None:
    """Clear `BOILERPLATE` from a repeated sentence that each time opens the section of a different heading.

    "This option is deprecated and does nothing." under each old option of a reference is what
    those sections say. A running header is not: it reads as a title, or it follows the same
    footer each time ("Page 2 of 3" and "Page 3 of 3" are one footer), or it follows no title.
    """
    groups: dict[str, list[int]] = {}
    for i, unit in enumerate(normalised):
        if i and flags[i] & SentenceFlag.BOILERPLATE and not _NO_LETTERS.match(unit):
            groups.setdefault(unit, []).append(i)
    for ids in groups.values():
        headings = {_DIGITS.sub("#", normalised[i - 1]) for i in ids}
        if all(i - 1 in titles for i in ids) and len(headings) == len(ids) and not is_heading(units[ids[0]]):
            for i in ids:
                flags[i] &= ~SentenceFlag.BOILERPLATE


def _is_back_matter(heading: str) -> bool:
    """Whether a heading titles a list of sources: "<H2> References [ edit ] </H2>", "7. Bibliography"."""
    words = _HEADING_WORD.findall(_ENUMERATOR.sub("", _EDIT_LINK.sub("", _TAG.sub(" ", heading)), count=1))
    return " ".join(words).lower() in _BACK_MATTER


def _is_header_row(unit: str) -> bool:
    """A table row of header cells only ("<Tr> <Th> Population </Th> </Tr>"): what the rows below it give."""
    if len(unit) > 300 or not _ROW.search(unit):
        return False
    return bool(_HEADER_CELL.search(unit)) and not _DATA_CELL.search(unit)


_CONTENTS_WORD = re.compile(r"[^\W\d_][\w'’]*")
_CONTENTS_IGNORED = frozenset("article section chapter part edit the and of".split())


# Where a Markdown link points: "- [File format](#file-format)", a contents line, names its heading once.
_LINK_TARGET = re.compile(r"\]\([^()\s]{0,300}\)")


def _contents_key(unit: str) -> tuple[str, ...]:
    words = _CONTENTS_WORD.findall(_LINK_TARGET.sub("]", _TAG.sub(" ", unit)).lower())
    return tuple(w for w in words if w not in _CONTENTS_IGNORED)


_ITEM_NUMBER = re.compile(r"\s*(\d{1,3})[.)][ \t]")


def _numbered_list(units: list[str], starts: Sequence[int], titles: set[int]) -> set[int]:
    """Units read as titles that are items of a numbered list: paragraphs of one unit, two or more in a row, numbered
    one after the other ("1. Install Python", "2. Clone the repository"), and the numbered entries of a list of sources
    ("1. Smith, J. (2001). A Book."). A contract's numbered headings open paragraphs of their own clauses ("2. Term.
    The term is ..."): un-titled, a step's search lost their sections."""
    numbers = {}
    for i in titles:
        if (number := _ITEM_NUMBER.match(units[i])) is not None:
            numbers[i] = int(number.group(1))
    alone = {first for first, stop in itertools.pairwise([*starts, len(units)]) if stop - first == 1}
    items: set[int] = set()
    for first, then in itertools.pairwise(starts):
        if {first, then} <= alone and then in numbers and numbers.get(first) == numbers[then] - 1:
            items |= {first, then}
    sources, expected = False, 1  # under a list of sources's title, entries numbered from 1 ("2. Payment." is none)
    for i in sorted(titles):
        if sources and numbers.get(i) == expected:
            items.add(i)
            expected += 1
        else:
            sources, expected = _is_back_matter(units[i]), 1
    return items


def _contents_lines(units: list[str], titles: set[int]) -> list[int]:
    """Lines of a table of contents that has no dot leaders: runs of at least three short
    consecutive units, each naming a heading that comes later ("ARTICLE 2 Licenses 13",
    "<Li> 4.1 Box office </Li>")."""
    later: dict[tuple[str, ...], int] = {}
    for i in sorted(titles):
        if key := _contents_key(units[i]):
            later[key] = i  # the last heading with these words
    if not later:
        return []
    found: list[int] = []
    run: list[int] = []
    for i, unit in enumerate(units):
        key = _contents_key(unit) if len(unit) < 150 else ()
        # A title by markup is no contents line, though it names a later title but for its number ("## Release 3.0").
        if key and later.get(key, -1) > i and not _declared_heading(unit):
            run.append(i)
            continue
        if len(run) >= 3:
            found.extend(run)
        run = []
    if len(run) >= 3:
        found.extend(run)
    return found
