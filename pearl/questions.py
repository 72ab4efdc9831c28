"""Questions and their options: parsing `(A) ...` or `A. ...` options and mapping replies to letters."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Mapping, Sequence, Set

from pydantic import BaseModel, ConfigDict, Field

from pearl._text import WritableStr, after_thinking, shorten
from pearl.errors import QuestionError

__all__ = ["LETTERS", "Question", "as_question", "asks_then_lists", "letter_alone", "parse_choice", "split_options"]

LETTERS = "ABCDEFGHIJ"
# Marks are read past J, so that an eleventh option is counted and refused, not read as part of the tenth.
_MARKS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# An inline option mark "(B) ", not one glued to a word or number: a clause's "4(B)".
_INLINE = re.compile(r"(?<![\w(])\(([A-Z])\)\s*")
# What ends a question before options that follow it: a mark of its own, or a line break.
_ASKED = ("?", ":", "\n")
# An option on a line of its own: "A. text" or "A) text", the letter first on the line.
_LINE = re.compile(r"^[ \t]*([A-Z])[.)][ \t]*", re.MULTILINE)


_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n?|[\n\v\f\x1c-\x1e\x85\u2028\u2029])\s*")


class Question(BaseModel):
    """A question, with options when it is multiple choice."""

    model_config = ConfigDict(frozen=True)

    text: WritableStr
    options: list[WritableStr] = Field(default_factory=list)

    def __hash__(self) -> int:
        # Frozen, but its list of options left pydantic's hash raising "unhashable type: 'list'".
        return hash((self.text, tuple(self.options)))

    @property
    def letters(self) -> str:
        return LETTERS[: len(self.options)]

    def option(self, letter: str) -> str:
        """The text of the option labelled `letter`, or "" when there is none."""
        index = LETTERS.find(letter) if len(letter) == 1 else -1
        return self.options[index] if 0 <= index < len(self.options) else ""

    def options_block(self) -> str:
        """Options as `(A) text` lines, or "" for a free-text question. An option's line breaks are spaces: one
        holding "\n(C) ..." showed the model an option of its own under a letter another option has."""
        return "\n".join(
            f"({letter}) {_LINE_BREAKS.sub(' ', option)}"
            for letter, option in zip(self.letters, self.options, strict=False)
        )


def split_options(text: str) -> Question:
    """Split a question from its options: inline `(A) ... (B) ...`, or one option a line, `A. ...` or `A) ...`.

    L-Eval writes both: QuALITY's questions with inline `(A)` marks, TPO's and Coursera's with
    `A. ...` lines under the question. Options are recognised only as a run of consecutive
    letters from A (two at least), none glued to a word, none set off by commas, and not inside
    the question's own sentence (inline marks with no "?", ":" or line break before them and a
    "?" after them: `_runs_through`; nor after a word naming what they label, or with no option's text between
    them: `_referred_to`). Anything else stays text: "What do sections 4(A) and 4(B)
    require?", "Which clause, (A) or (B), governs?", "Does clause (A) contradict clause (B)?" and "Compare
    clause (A) and clause (B)." are questions.
    """
    for marks in (_INLINE, _LINE):
        run = _lists(text, marks)
        if run:
            options = [
                text[m.end() : (run[i + 1].start() if i + 1 < len(run) else len(text))].strip()
                for i, m in enumerate(run)
            ]
            return Question(text=text[: run[0].start()].strip(), options=options)
    return Question(text=text.strip())


def as_question(question: str | Question, options: Sequence[str] | None = None) -> Question:
    """A `Question` from one, from text and its `options`, or from text alone (inline options recognised).

    Raises:
        QuestionError: the question has no text (options alone are not a question), has one option
            (nothing to choose between) or more options than there are letters for, or lists options
            `(A) ... (B) ...` of its own besides `options`.
        TypeError: the question is not text, `options` is not a list of strings, or a `Question`
            comes with other `options` besides its own.
    """
    if not isinstance(question, (str, Question)):
        raise TypeError(f"the question must be a string or a Question, not {type(question).__name__}")
    # Read once: a generator checked, then read again, gave no options (a free-text question).
    # A mapping gave its keys ("A", "B") for the options' texts, and a set has no order for the letters to follow.
    unordered = isinstance(options, (Mapping, Set))
    given = None if isinstance(options, str) or unordered else list(options or ())
    if given is None or not all(isinstance(option, str) for option in given):
        hint = f", not a {type(options).__name__}: pass the options' texts in order" if unordered else ""
        raise TypeError(f"options must be a list of strings, one per option (or None for a free-text question){hint}")
    if isinstance(question, Question):
        if given and given != question.options:  # dropped silently, the question was asked without them
            raise TypeError(
                "a Question carries its own options: pass Question(text=..., options=[...]) alone, "
                "or the question's text with options=[...]"
            )
        asked = question
    elif given:
        inline = split_options(question).options if asks_then_lists(question) else []
        if inline:  # both reached the model, two (A) (B) lists, and the letter was mapped onto `options`
            raise QuestionError(
                f"the question lists {len(inline)} options of its own ((A) {shorten(inline[0], 30)} ...) and "
                f"{len(given)} more were given: give the options once, in the question or as options (-o, options=); "
                "from Python, a question whose text holds such marks is asked as Question(text=..., options=[...])"
            )
        asked = Question(text=question, options=given)
    else:
        asked = split_options(question)
    if not asked.text.strip():
        # Refused before anything is read or paid for: an empty question would still cost every call.
        raise QuestionError("the question is empty: give the question's text (options alone are not a question)")
    if len(asked.options) == 1:
        # A multiple-choice question with one choice has nothing to choose between: likely a lost option.
        raise QuestionError("one option: a multiple-choice question needs two or more (or none, for free text)")
    if len(asked.options) > len(LETTERS):
        # Labelled A to J: an eleventh option would never be shown to the model nor chosen.
        raise QuestionError(f"{len(asked.options)} options: at most {len(LETTERS)} are supported (A to J)")
    return asked


def _in_words(text: str, run: list[re.Match[str]]) -> bool:
    """Whether a run of inline marks names letters within the question's words, set off by commas ("Which clause,
    (A) or (B), governs termination?"), rather than listing options after it."""
    return any(text[m.end() : m.end() + 1] in (",", ";") for m in run)


def asks_then_lists(text: str) -> bool:
    """Whether `text` is a question and then its options, inline (`(A) ...`, after a "?", a ":" or a line break)
    or a line each: what `split_options` takes apart, told from letters a question's words name ("Does clause
    (A) contradict clause (B)?")."""
    return any(_lists(text, marks, asked=True) for marks in (_INLINE, _LINE))


def _lists(text: str, marks: re.Pattern[str], *, asked: bool = False) -> list[re.Match[str]]:
    """The run of `marks` that lists options after the question, or [] when there is none (see `split_options`);
    with `asked`, inline marks only after the question's own end ("?", ":" or a line break)."""
    run = _option_run(list(marks.finditer(text)))
    if not run or marks is not _INLINE:
        return run
    ended = _ended_before(text, run)
    if (asked and not ended) or _in_words(text, run) or (not ended and _runs_through(text, run)):
        return []
    if not ended and _referred_to(text, run):
        return []
    return run


# A word that names what a mark labels in the question's own words: "clause (A)", "section (B)", "Figure (C)".
_REFERENCE_WORDS = (
    r"(?:clauses?|sections?|subsections?|paragraphs?|articles?|parts?|steps?|figures?|fig\.|tables?|exhibits?|"
    r"schedules?|appendi(?:x|ces)|annex(?:es)?|rules?|footnotes?|sentences?|columns?|rows?|conditions?|provisions?)"
)
_REFERENCE = re.compile(rf"\b{_REFERENCE_WORDS}[ \t]*\Z", re.IGNORECASE)
# What an option cannot be: nothing, a sentence's punctuation, or a word that joins two marks ("(A) and (B)"); a
# symbol may be one ("(A) + (B) -").
_JOINS = r"(?:and|or|&|/|vs\.?|versus|with|to|from|nor|than)"
_NO_OPTION = re.compile(rf"[.,;:?!]*|[.,;:?!]*{_JOINS}[.,;:?!]*", re.IGNORECASE)


_JOINED_REFERENCE = re.compile(rf"\s*[,;]?\s*{_JOINS}\s+(?:the\s+)?{_REFERENCE_WORDS}\s*", re.IGNORECASE)
"""Between two marks, a join and the word naming what the next labels: "(A) and clause (B)"."""


def _referred_to(text: str, run: list[re.Match[str]]) -> bool:
    """Whether the marks of a run with no end of the question before it are letters the question's words refer to,
    not options: the first follows a word naming what it labels ("Compare clause (A) and clause (B)"), or what stands
    between two marks, or after the last, is no option ("What do clauses (A) and (B) say", "Summarise (A) and (B)")."""
    if _REFERENCE.search(text, max(0, run[0].start() - 30), run[0].start()):
        return True  # before the first mark: after it, a word may be an option's own ("(A) two lines (B) a circle")
    parts = [text[m.end() : (run[i + 1].start() if i + 1 < len(run) else len(text))] for i, m in enumerate(run)]
    if any(_JOINED_REFERENCE.fullmatch(part) for part in parts[:-1]):
        return True  # "Compare (A) and clause (B) of the lease"
    return any(_NO_OPTION.fullmatch(part.strip()) for part in parts)


def _ended_before(text: str, run: list[re.Match[str]]) -> bool:
    """Whether the question has ended before the run's first mark: a "?", ":" or line break."""
    return text[: run[0].start()].rstrip(" \t\u00a0").endswith(_ASKED)


def _runs_through(text: str, run: list[re.Match[str]]) -> bool:
    """Whether the question's own sentence, not ended before the marks, runs through them to its "?": "Does
    clause (A) contradict clause (B)?", with a quote or more words after it too ("...(B)? Explain."). A stem that
    the options complete ("According to the text, (A) ... (B) ...") ends with the last option instead."""
    after = text[run[-1].end() :].lstrip()
    return text.rstrip().rstrip("\"'”’»)").endswith(("?", "？")) or after.startswith(("?", "？"))


def _option_run(marks: list[re.Match[str]]) -> list[re.Match[str]]:
    """The marks of the longest run `A, B, C...` (two letters at least; of runs as long, the last), or [] when there
    is none. Marks between a run's letters are skipped: an option "Both (A) and (B)" stays in the run A to D."""
    best: list[re.Match[str]] = []
    for i, mark in enumerate(marks):
        if mark.group(1) != "A":
            continue
        run = [mark]
        for later in marks[i + 1 :]:
            if len(run) < len(_MARKS) and later.group(1) == _MARKS[len(run)]:
                run.append(later)
        if len(run) >= 2 and len(run) >= len(best):
            best = run
    return best


_EMPHASIS = re.compile(r"\*\*?|__|`+")
_ALONE = re.compile(r"\(?([A-J])\)?[.)]?", re.IGNORECASE)  # a letter and nothing more: "b", "(C)", "D."
_ARTICLE = re.compile(r"[ai](?<!\(.)\s+[a-z]")
# A line after the first that opens with an option's letter, as a list of the options does.
_LISTED = re.compile(r"\n[ \t]*(?:[-*+>][ \t]*)?\(?[A-J][.):]")
# A letter the reply writes as a label, opening a line or a clause and followed by a label's mark: "A) Fear - no",
# "- B: supported", "Option C (Money): not mentioned", "1. Option A (fear): ...", "(D) Ordered - no", "| A | No |".
_LABEL = re.compile(
    r"^[^\w\n(]{0,8}(?:\d+[.)][ \t]*)?(?:(?:option|choice)[ \t]+)?\(([A-J])\)(?=(?:[ \t]*[:\-\u2013\u2014|])?[ \t]+\S)"
    r"|(?:^|(?<=[.;:]\s))[^\w\n(]{0,8}(?:\d+[.)][ \t]*)?(?:(?:option|choice)[ \t]+)?"
    r"([A-J])\)?(?=[ \t]*(?:[.):|\-\u2013\u2014]|\([^()\n]*\)[ \t]*[:\-\u2013\u2014])(?:\s|$))",
    re.MULTILINE | re.IGNORECASE,
)


def _walk_items(text: str) -> set[int]:
    """Where the letters of a walk through the options stand: labels of two or more different letters, from the
    first "A" label on, each the head of what the reply says of that option ("Option A: no.\nOption B: yes."), none
    of them its answer. A label before the walk's "A" is the answer given first ("(B) Duty.\n\n(A) Fear: no ...")."""
    labels = [
        (m.start(1) if m.group(1) else m.start(2), (m.group(1) or m.group(2)).upper()) for m in _LABEL.finditer(text)
    ]
    first = next((i for i, (_, letter) in enumerate(labels) if letter == "A"), len(labels))
    walk = labels[first:]
    return {at for at, _ in walk} if len({letter for _, letter in walk}) >= 2 else set()


# "I" as the reply's own word, not the ninth option: "I think (B) fits", "I'd pick (C)" (but "I is right", "(I)",
# "I because the text says so", "I fits best").
_PRONOUN = re.compile(
    r"I(?:['\u2019][a-z]|\s+(?:am|think|believe|guess|suspect|feel|would|will|choose|chose|pick|picked|select|"
    r"selected|say|agree|need|must|have|had|do|don't|can|cannot|can't|could|should|might|may|see|saw|read|found|"
    r"lean|prefer|go|went|conclude|also|really|only)\b)"
)


def _pronoun(text: str, match: re.Match[str]) -> bool:
    """Whether the letter `match` found is the word "I" of a sentence going on, where a question has nine options
    or more."""
    start = match.start(1)
    return text[start - 1 : start] != "(" and _PRONOUN.match(text, start) is not None


# The word "A" opening a sentence ("A jealous rival wanted the keeper gone."), not the option: a lower-case word
# follows, none that a letter given as the answer is followed by ("A because ...", "A is right", "A fits best",
# "A based on [S7]", "A describes her motive best").
_OPENING_ARTICLE = re.compile(
    r"A[ \t]+(?!(?:is|was|seems|looks|appears|sounds|fits|matches|because|since|as|and|or|would|best|it|only|"
    r"then|so|but|again|too|here|now|for|of|with|based|according|given|due|per|in|which|considering|describes|"
    r"reflects|captures|explains|states|says|shows|supports|aligns|agrees|corresponds|correctly|accurately|"
    r"clearly|directly|most|also|remains|makes|gives|answers|covers|follows)\b)[a-z]"
)


def _opening_article(text: str, match: re.Match[str], options: Sequence[str]) -> bool:
    """Whether the "A" `match` found at a sentence's start is the article: a lower-case word follows that is neither
    one a letter given as the answer is followed by nor the start of option A's own text ("A to protect her
    grandmother" with option A "to protect her grandmother")."""
    start = match.start(1)
    if _OPENING_ARTICLE.match(text, start) is None:
        return False
    said = " ".join(text[start + 1 : start + 200].split()[:3]).casefold()
    own = " ".join(options[0].split()[:3]).casefold() if options else ""
    return not (own and said.startswith(own))


def _article(text: str, match: re.Match[str], options: Sequence[str] = ()) -> bool:
    """Whether the letter `match` found after "is", ":", a dash or the word "answer" is the word "a" (or "i") of a
    sentence going on: "the answer - a tricky one - is C", "Answer: a bridge", "To answer a question ..."; and after
    "Answer:" or an "Answer" heading, a capital "A" too ("**Answer:** A sense of duty ..."). "option a is right",
    "Answer: A because ..." and "The answer is A based on [S7]" name a letter."""
    said = text[match.start() : match.start(1)].rstrip()
    lowered = said.lower()
    if not lowered.endswith(("is", ":", "-", "\u2013", "\u2014", "answer", "be", *_ADVERBS)):
        return False
    if _ARTICLE.match(text, match.start(1)) is not None:
        return True
    return lowered.endswith((":", "answer")) and _opening_article(text, match, options)


# What a reply calls the option it chooses: "right", "correct", "the best answer", "my answer", "the one".
_CHOSEN = r"(?:answer|option|choice|one)\b"
# A letter called right, or righter than another ("A is more plausible", "C is the better answer"; not "A is more
# likely to be wrong").
_LIKELY = r"(?:likely|plausible|probable|convincing|accurate|consistent|reasonable|supported|appropriate)"
_RIGHT = (
    rf"(?:(?:the|my)\s+)?(?:(?:right|correct|best|most\s+likely|(?:more|most)\s+{_LIKELY}(?!\s+to\b)|better)\b"
    rf"(?:\s+{_CHOSEN})?|{_CHOSEN})"
)
# After a letter: the reply sets it aside ("A is tempting", "(B) seems plausible", "A is wrong", "A is not right").
_SPOKEN_OF = re.compile(
    r"\)?\s+(?:is|was|are|were|seems?|looks?|appears?|sounds?|(?:would|could|might|can|may|must)\s+(?:(?:all|both)\s+)?be)\s+"
    r"(?:(?:not|n['\u2019]t)\b|"
    r"(?:\w+\s+)?(?:tempting|plausible|attractive|appealing|wrong|incorrect|misleading|a\s+trap|"
    r"a\s+distractor|unlikely|false|untrue|unsupported|irrelevant|inaccurate|implausible|contradicted|partly|"
    r"partially|ruled\s+out|eliminated|excluded|less\s+"
    + _LIKELY
    + r")\b)|\)?\s+(?:isn|wasn|aren|weren|doesn|don|didn|can|couldn|wouldn)['\u2019]t\b"
    r"|\)?\s+(?:(?:does|do|did|could|would)\s+not|cannot)\b"
    # a concession: "A sounds reasonable, but ...", "A seems right at first, but ..."
    r"|\)?\s+(?:is|was|are|were|seems?|looks?|appears?|sounds?)\s+(?:\w+\s+){0,3}?\w+,?\s+but\b",
    re.IGNORECASE,
)
# Where a letter called right may stand: opening the reply or a clause ("..., but C is right"), not inside words
# ("Vitamin C is the correct treatment", "Plan B is the best option", "readers assume A is the right answer").
_CLAUSE_END = re.compile(r"(?:^|[.;:,!?\n]|\b(?:but|and|so|whereas|while|thus|hence|therefore|instead))\s*\(?\Z", re.I)
# "C is correct", "C seems to be the answer", and "..., but B is." after a letter set aside ("A isn't supported; B is.")
_CALLED_RIGHT = re.compile(
    rf"\)?\s+(?:(?:is|seems(?:\s+to\s+be)?|looks)\s+{_RIGHT}|is(?=\s*[.!;]?\s*$|\s*[.!;]\s))", re.IGNORECASE
)
_OR_BEFORE = re.compile(r"(?:\bor|/)\s*\(?\Z", re.IGNORECASE)


# Words that rule a letter out ("A is wrong", "A is tempting", "A is unlikely", "A sounds right, but"): with no other
# letter given, the reply names none. Any other way of setting a letter aside ("A seems plausible", "D is false", "D is
# not mentioned", "A is not wrong") keeps it the reply's letter: the answer to "which is NOT true?" is written so.
_RULED_OUT = re.compile(
    r"\b(?:tempting|wrong|incorrect|misleading|trap|distractor|unlikely|unsupported|irrelevant|inaccurate|implausible|"
    r"contradicted|ruled\s+out|eliminated|excluded|less\s+" + _LIKELY + r")\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"\b(?:not|cannot)\b|n['\u2019]t\b", re.IGNORECASE)
_CONCEDED = re.compile(r",?\s+but\b\Z", re.IGNORECASE)


# Between a letter and what the reply says of it: the other letters said with it ("A, C, and D are wrong") and what
# the option says, in brackets ("A (Money) is wrong").
_ALSO_SAID = re.compile(rf"(?:\)?\s*,\s*(?:and\s+|&\s*)?|\)?\s+(?:and|&)\s+)\(?[{LETTERS}]\)?(?![\w(])")
_GLOSS = re.compile(r"\)?\s*\([^()\n]{1,80}\)")
_RELATIVE = re.compile(r"\)?\s*,\s+(?:which|that|who)\s[^,;.!?\n]{1,80},")
"""A relative clause between a letter and what the reply says of it: "B, which says the lamp was full, is wrong"."""
_SPACED = re.compile(r"\)?[ \t]*")


# A plural verdict, perhaps after "all" or "both" ("A, C and D all seem wrong", "B and C can be ruled out").
_PLURAL = re.compile(
    r"\)?\s+(?:(?:all|both)\s+)?(?=(?:are|were|aren|weren|seem|look|appear|sound|do|don|did|didn|can|could|may|might|"
    r"must|would)\b)",
    re.IGNORECASE,
)


def _verdict_at(text: str, end: int, own: str, *, listed: bool = True) -> int:
    """Where what the reply says of a letter ending at `end` begins: after what its option says, in brackets or as
    written (`own`, its option's text): "(A) Money is wrong" says "is wrong" of A; and, with `listed`, after the letters
    said with it (each with its words in brackets), of which it says something in the plural ("A, C and D are wrong",
    "A (Money) and C (Fear) are wrong"; "B, and C is wrong" says it of C). A letter given as the answer is not
    `listed`: "The answer is D, A and B are wrong" says nothing of D."""
    glossed = gloss.end() if (gloss := _GLOSS.match(text, end)) is not None else end
    glossed = relative.end() if (relative := _RELATIVE.match(text, glossed)) is not None else glossed
    after = glossed
    joined = False  # an item joined by "and" closes a list: after a second, the first began another clause
    for _ in range(len(LETTERS) if listed else 0):  # no more letters than options: a long run is read once, not anew
        if (also := _ALSO_SAID.match(text, after)) is None:  # from each letter in it (it was quadratic)
            break
        if joined:  # "B, and A and C are wrong" says it of A and C, not of B
            after = glossed
            break
        joined = re.search(r"and|&", also.group(0), re.IGNORECASE) is not None
        after = gloss.end() if (gloss := _GLOSS.match(text, also.end())) is not None else also.end()
    if after > glossed and (plural := _PLURAL.match(text, after)) is not None:
        return plural.end() - 1  # before the space the verdict's pattern opens with
    if glossed > end:
        return glossed
    spaced = _SPACED.match(text, end)
    start = spaced.end() if spaced is not None else end
    if own and text[start : start + len(own)].casefold() == own.casefold():
        return start + len(own)
    return end


def _spoken_of(text: str, match: re.Match[str], options: Sequence[str] = (), *, given: bool = False) -> str | None:
    """How the reply speaks of the letter `match` found, when it sets it aside: "ruled out" ("A is tempting, but C is
    right", "Option A is wrong", "A is unlikely", "A (Money) is wrong", "A, C and D are wrong"), or "aside" where it
    does not rule it out ("(A) seems plausible; the answer is C"); None when it does not set it aside ("C is right",
    "B is supported by the text", "B. because")."""
    number = LETTERS.find(match.group(1).upper())
    own = " ".join(options[number].split()) if 0 <= number < len(options) else ""
    at = _verdict_at(text, match.end(1), own, listed=not given)
    aside = _SPOKEN_OF.match(text, at)
    if aside is None or _CALLED_RIGHT.match(text, at) is not None:
        return None
    said = aside.group(0)
    ruled_out = _CONCEDED.search(said) is not None or (_RULED_OUT.search(said) and not _NEGATED.search(said))
    if not ruled_out and at > match.end(1):
        # Past its words, only what rules a letter out is read: "D (The harbor master) is not mentioned" is a NOT
        # question's answer, and set aside it gave way to the next letter named ("Option A is in [S1]": helper-173).
        return None
    return "ruled out" if ruled_out else "aside"


# A letter called right to concede it: "A seems right, but ...", "A is the better option at first glance, but ...";
# not "A is right, but C is more plausible than D" (helper-201: read as C), which holds to A.
_CONCESSION = re.compile(
    r"\)?\s+(?:(?:seems?|looks?|appears?|sounds?)\s+(?:\w+\s+){0,5}?\w+|(?:is|was)\s+(?:\w+\s+){0,5}?(?:at\s+first"
    r"(?:\s+(?:glance|sight))?|in\s+part|partly|partially|in\s+some\s+(?:respects|ways)|to\s+(?:some|an)\s+extent|"
    r"as\s+far\s+as\s+it\s+goes)),?\s+but\b",
    re.I,
)
# A letter called right outright, then another called the answer after "but": "A is right, but C is the best answer".
_GRANTED = re.compile(r"\)?\s+(?:is|was)\s+(?:\w+\s+){0,2}?(?:right|correct|true|accurate),?\s+but\b", re.I)
_THE_ANSWER = re.compile(
    rf"\(?[{LETTERS}]\)?\s+(?:is|seems\s+to\s+be)\s+(?:the|my)\s+(?:(?:best|right|correct|most\s+likely)\s+)?{_CHOSEN}",
    re.I,
)


def _conceded(
    text: str, match: re.Match[str], right: Sequence[tuple[int, str]], later: Sequence[frozenset[str]]
) -> bool:
    """Whether the reply calls the letter `match` found right only to concede it, and calls another right after it
    (`right`: where, and which; `later`: the letters called right from each on): "A seems right, but C is correct",
    "A is right in part, but C is correct" (read as
    A); or calls it right, then another the answer: "A is right, but C is the best answer". Otherwise the letter
    stands: "A is correct, but B is also possible", "A is right, but C is more plausible than D" (helper-201)."""
    own = match.group(1).upper()
    first = bisect.bisect_left(right, (match.end(1), ""))
    if _CONCESSION.match(text, match.end(1)) is not None:
        return bool(later[first] - {own})
    return _GRANTED.match(text, match.end(1)) is not None and any(
        _THE_ANSWER.match(text, at) for at, letter in right[first:] if letter != own
    )


def _calls_right(text: str, match: re.Match[str]) -> bool:
    """Whether the reply calls the letter `match` found right, past what its option says and a relative clause: "C is
    correct", "C (Money) is correct", "C, which says ..., is correct"."""
    return _called_right_end(text, match) is not None


def _called_right_end(text: str, match: re.Match[str]) -> int | None:
    """Where the words calling the letter `match` found right end ("C is correct|"), or None where they do not."""
    glossed = gloss.end() if (gloss := _GLOSS.match(text, match.end(1))) is not None else match.end(1)
    glossed = relative.end() if (relative := _RELATIVE.match(text, glossed)) is not None else glossed
    called = _CALLED_RIGHT.match(text, glossed)
    return called.end() if called is not None else None


# After a letter called right: the end of what is said of it, without a limit ("C is correct.", "C is the answer,
# as [S3] shows"); not "A is correct in stating ...", "A is right about the storm, yet ...", "C is correct?".
_OUTRIGHT = re.compile(
    r"\s*(?:\[S\d+[^\]\n]{0,20}\]\s*)?(?:here\b\s*)?(?:[.!;\n]|$|,?\s*(?:because|since|according\s+to|based\s+on|"
    r"as\s+(?:shown|stated|seen|said|\[S)|for\s+(?:this|that)\s+reason)\b)",
    re.IGNORECASE,
)


def _outright(text: str, match: re.Match[str]) -> bool:
    """Whether the reply calls the letter `match` found right with no limit: "Therefore, B is the correct answer.",
    not "A is correct in part", "A is correct that there was a storm, but ..." or "So C is correct? No ..."."""
    end = _called_right_end(text, match)
    return end is not None and _OUTRIGHT.match(text, end) is not None


def _called_later(
    text: str, match: re.Match[str], right: Sequence[tuple[int, str]], later: Sequence[frozenset[str]]
) -> bool:
    """Whether the letter `match` found is only named ("Option A is unrelated", "(A) mentions fear"), and the reply
    calls another right after it (`right`: where, and which; `later`: the letters called right from each of them
    on): the named letter gives way to it."""
    letters = later[bisect.bisect_left(right, (match.end(1), ""))]
    if not letters - {match.group(1).upper()} or _calls_right(text, match):
        return False
    return _PREDICATE.search(text, max(0, match.start() - 12), match.start()) is None


_PREDICATE = re.compile(r"\b(?:is|was)\s+\Z", re.IGNORECASE)
_ASIDE = re.compile(
    r"^\W*\(|\b(?:if|when|unless|note|completeness)\b|\bfor\s+(?:(?:the|a|an|another|this|that)\s+)?(?:\w+\s+)?"
    r"(?:question|case|part|item)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(r"\b(?:NOT|EXCEPT|LEAST)\b|\bexception\b")


def _from_each(right: Sequence[tuple[int, str]]) -> list[frozenset[str]]:
    """The letters called right from each entry of `right` on (one more, empty, for none)."""
    later = [frozenset[str]()]
    for _, letter in reversed(right):
        later.append(later[-1] | {letter})
    return later[::-1]


def _opens_clause(text: str, match: re.Match[str]) -> bool:
    """Whether the letter `match` found opens the reply or a clause ("..., but C is right", "so option C is right"),
    not words ("Vitamin C")."""
    start = match.start()
    named = _NAMED.search(text, max(0, start - 20), start)
    if named is not None:
        start = named.start()
    return _CLAUSE_END.search(text, max(0, start - 40), start) is not None


_NAMED = re.compile(r"\b(?:option|choice|I\s+(?:think|believe))\s+\Z", re.IGNORECASE)


def _overruled(text: str, match: re.Match[str], options: Sequence[str], right: Sequence[tuple[int, str]]) -> bool:
    """Whether a letter given as the answer heads a list of letters the reply rules out, and the reply goes on to call
    another letter right (`right`: where, and which): "Answer: B, C and D are wrong; A is correct" (read as B).
    Without a letter called right after it, the letter given stands: "The answer is D, A and B are wrong." """
    own = match.group(1).upper()
    later = right[bisect.bisect_left(right, (match.end(1), "")) :]
    return any(letter != own for _, letter in later) and _spoken_of(text, match, options) == "ruled out"


def _given(text: str, match: re.Match[str], pattern: str, patterns: Sequence[str]) -> bool:
    """Whether the letter `match` found is given as the answer: "The answer is D", "So D.", "the right option is C"."""
    return pattern in patterns[:2] or re.search(r"\bis\b", text[match.start() : match.start(1)]) is not None


def _after_thinking(reply: str) -> str:
    """`reply` after its reasoning block, when the block is closed (a model's thoughts, not its reply; pearl's
    backends leave them out as they read a reply, a caller's own model may not): see `after_thinking`."""
    split = after_thinking(reply)
    return split[0] if split is not None and split[0] is not None else reply


def letter_alone(reply: str, letter: str | None) -> bool:
    """Whether `reply` is `letter` and nothing more, as `parse_choice` reads one ("B", "(b)", "**B**"): it explains
    nothing."""
    alone = _ALONE.fullmatch(_EMPHASIS.sub("", _after_thinking(reply)).strip())
    return letter is not None and alone is not None and alone.group(1).upper() == letter


# Words between "the answer is" and the letter it gives: "The answer is clearly B" (and the article: "is clearly a").
_ADVERBS = ("definitely", "clearly", "therefore", "thus", "then", "certainly", "indeed", "likely", "probably")
# Words that give a letter as the answer: "answer is", "Answer:", "the best fit is", "The answer must be",
# "The answer, therefore, is", "The answer to this question is", "the correct option is", "the best choice would be".
_GIVEN_AS = (
    r"(?:(?:answer[\"'\u201d]?|best\s+(?:fit|match)|(?:correct|right|best|final|most\s+"
    + _LIKELY
    + r")\s+(?:option|choice|one))(?:\s+(?:here|then|therefore|thus|now|to\s+(?:this|the)\s+question))?"
    r"(?:\s*,\s*(?:then|therefore|thus|I\s+think|I\s+believe)\s*,)?"
    r"(?:\s+(?:is|must\s+be|should\s+be|has\s+to\s+be|would\s+be|appears\s+to\s+be|seems\s+to\s+be)\b"
    rf"(?:\s+(?:{'|'.join(_ADVERBS)}))?"
    r"(?:\s*[:\uff1a\-\u2013\u2014])?|\s*[:\uff1a\-\u2013\u2014]))"
)
_GIVEN_AS_ELSEWHERE = (
    r"(?:(?:正确)?答案|r\u00e9ponse|respuesta|antwort|\u043e\u0442\u0432\u0435\u0442)(?:\s+correct[ae]?)?"
    r"(?:\s*[:\uff1a]|\s*[\u662f\u4e3a]|\s+(?:est|es|ist)\b(?:\s+la\b)?)|选"
)
# A letter alone that ends a reply's reasoning: "It's B.", "That leaves B.", "it has to be B", "I'd go with B".
_LEAVES = (
    r"it['\u2019]s|it\s+(?:is|has\s+to\s+be|must\s+be)|(?:that|this)\s+leaves|leaving|"
    r"I(?:['\u2019]d|['\u2019]ll|\s+would|\s+will)?\s+(?:go\s+with|say|pick|choose|select)|my\s+(?:pick|choice)\s+is"
)
# A sentence that draws the reply's conclusion: "Therefore, B is the correct answer.", "Based on this analysis,
# Option B is the correct choice." A letter called right in the last such sentence is the reply's answer, before
# the letters its reasoning went through ("Option A suggests ... Option B suggests ...", read as A).
_CONCLUDES = re.compile(
    r"[^\w\n]{0,8}(?:so(?!\s+far\b)|thus|hence|therefore|consequently|overall|ultimately|conclusion|"
    r"in\s+(?:conclusion|summary|short|sum)|to\s+(?:conclude|sum\s+up)|all\s+in\s+all|based\s+on|"
    r"given\s+(?:this|that|the)|this\s+means|that\s+means)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+|\n|\Z)")
# Words before a letter that set it aside: "Unlike option A, ...", "rather than (A)" (not "except (B)": "nothing
# except (B) explains it").
_SET_ASIDE_BEFORE = re.compile(
    r"\b(?:unlike|rather\s+than|instead\s+of)\s+"
    r"(?:(?:option|choice)\s+)?\(?\Z",
    re.IGNORECASE,
)
# A self-correction: a later answer given after it is the reply's ("Answer: A. Wait, re-reading [S4], the answer is
# B").
_REVISION = re.compile(
    r"\b(?:wait|hold\s+on|actually,?\s+no|on\s+(?:second|further)\s+thought|on\s+reflection|re-?reading|"
    r"reconsider(?:ing)?|correction|scratch\s+that|I\s+was\s+wrong)\b",
    re.IGNORECASE,
)


# What makes an answer given someone else's, or a supposition, in its clause before it: "whether the answer is D",
# "Some might say the answer is D", "Nobody would say ...", "The captain thinks the best answer is D", "A common
# mistake is to think the right choice is D", "I was wrong earlier when I said the answer is D". Not the reply's
# own "I think the answer is B", "I'd argue that the answer is B", "In some ways the answer is B".
_REPORTED = re.compile(
    r"\b(?:whether|if|unless)\s+(?:the\s+)?\Z"
    r"|\b(?:nobody|no\s+one)\s+(?:\w+\s+)?(?:say|says|said|think|thinks|argue|argues|claim|claims|believe|believes)\b"
    r"|\b(?:someone|somebody|many|others|people|readers?|(?<!\bno\s)one)\s+(?:\w+\s+){0,2}?"
    r"(?:say|says|said|think|thinks|thought|argue|argues|argued|claim|claims|claimed|assume|assumes|believe|believes|"
    r"might|may|could|would)\b"
    r"|\bsome\s+(?:might|may|could|would|say|argue|think|claim|believe)\b"
    r"|\b(?:the|a|an)\s+\w+\s+(?:thinks|believes|claims|argues|assumes|insists)\b"
    r"|\bnaive(?:ly)?\b|\bat\s+first\b"
    r"|\b(?:mistake|mistaken|mistakenly|wrong|wrongly)\b[^.;:!?]*\b(?:think|thinks|say|says|assume|assumes|read|pick|"
    r"choose)\b"
    r"|\b(?:earlier|previously|at\s+first)\b[^.;:!?]*\b(?:said|wrote|answered|thought|chose|picked)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[.;:!?,\n\u2014(]|\b(?:but|and)\b", re.IGNORECASE)
# After a letter given: what makes it a first thought ("The answer appears to be A at first, but ...").
_TENTATIVE = re.compile(r"\)?\s*,?\s*(?:at\s+first|only\s+(?:under|in|on)\s+a)\b", re.IGNORECASE)
# After "would be X" (or "must be X"...): a condition, which makes it no answer ("The answer would be A only if she
# feared the storm", "The answer must be D if we count the order"; "The answer is B if we take her at her word" is).
_CONDITION = re.compile(r"\)?\s+(?:only\s+)?(?:if|unless)\b", re.IGNORECASE)
# Before "would be X", in its sentence: "Had there been no promise, the best answer would be D", "Otherwise ...".
_INVERTED = r"(?:^|[,;(])\W*(?:had|were)\s+(?:there|she|he|it|they|we|i|you|the|a|an|this|that)\b"
"""A condition written by inversion: "Had there been no promise, ...", "Were the letter the reason, ..."."""
_SUPPOSING = r"if|unless|suppose|supposing|assuming"
_COUNTERFACTUAL = re.compile(rf"\b(?:{_SUPPOSING}|otherwise)\b|{_INVERTED}", re.IGNORECASE)
# A supposition before a letter: "If the question were about the first night, it's A.", "Had she been paid, it's C."
_SUPPOSED = re.compile(rf"\b(?:{_SUPPOSING}|whether)\b|{_INVERTED}", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?\n]")
_SUPPOSITION_END = re.compile(r"[.!?\n;]|\bbut\b", re.IGNORECASE)


def _before(text: str, at: int, ends: re.Pattern[str], reach: int = 200) -> str:
    """The text before `at` back to the last match of `ends` (within `reach` characters): its clause or sentence."""
    start = max(0, at - reach)
    stops = [stop.end() for stop in ends.finditer(text, start, at)]
    return text[stops[-1] if stops else start : at]


def _reported(text: str, match: re.Match[str]) -> bool:
    """Whether an answer the reply gives is said as another's, or supposed, in its own clause ("Some might say the
    answer is D"); or is what would be, in a sentence that supposes ("If the question asked about [S5], the answer
    would be D")."""
    if _REPORTED.search(_before(text, match.start(), _CLAUSE)) is not None or _TENTATIVE.match(text, match.end(1)):
        return True
    if re.search(r"\b(?:would|must|should|could|might)\b", match.group(0), re.IGNORECASE) is None:
        return False
    return (
        _CONDITION.match(text, match.end(1)) is not None
        or _COUNTERFACTUAL.search(_before(text, match.start(), _SENTENCE_END)) is not None
    )


def _taken_back(text: str, match: re.Match[str], letters: str) -> bool:
    """Whether the reply corrects itself right after the letter `match` found, before it names another ("so D. I was
    wrong.")."""
    after = _named(letters).search(text, match.end(), match.end() + 80)
    return _REVISION.search(text, match.end(), after.start() if after else match.end() + 80) is not None


def _revised(text: str, given: Sequence[re.Match[str]]) -> int:
    """Where the answer stands that the reply gives last, after correcting itself between it and the first
    (`given`: the answers given, found): "Answer: A ... Wait, ... The answer is B"; 0 when it does not."""
    found = [(m.start(1), m.group(1).upper()) for m in given if not _reported(text, m)]
    if len(found) < 2 or found[-1][1] == found[0][1]:
        return 0
    revision = _REVISION.search(text, found[0][0], found[-1][0])
    return found[-1][0] if revision is not None else 0


# What a reply going through the options says of each, after its label: "A: Incorrect. B: Correct.", "A. No\nB. Yes".
_VERDICT = re.compile(
    r"[ \t]*(?:[:.)|\-\u2013\u2014][ \t]*)?(?:(correct|right|true|yes|\u2713|\u2714|\u2705)|"
    r"(incorrect|wrong|false|no|\u2717|\u2718|\u274c))(?!\w)",
    re.IGNORECASE,
)


def _walk_verdict(text: str, letters: str) -> str | None:
    """The one option a walk through the options calls right by a verdict after its label, ruling another out
    ("A: Incorrect. B: Correct. C: Incorrect."); None when it calls none right, or several, or the reply names a
    letter after it ("... D: Incorrect.\n\nHowever, ... So B.")."""
    right: set[str] = set()
    wrong: set[str] = set()
    labels = list(_LABEL.finditer(text))
    if labels:
        after = text.find("\n", labels[-1].end())
        if after >= 0 and _named(letters).search(text, after) is not None:
            return None
    for label in labels:
        letter = (label.group(1) or label.group(2)).upper()
        verdict = _VERDICT.match(text, label.end(1) if label.group(1) else label.end(2))
        if letter not in letters:
            continue
        if verdict is None:
            return None  # an option gone through without a verdict: "B: the text says she owed him"
        if verdict.group(1) and _LIMITED.match(text, verdict.end()):
            return None  # "A: Correct that there was a storm, but not her reason"
        (right if verdict.group(1) else wrong).add(letter)
    return right.pop() if len(right) == 1 and wrong - right else None


# A verdict with a limit right after it: "True that ...", "Correct in part", "Yes, the storm is mentioned, but ...";
# not "Correct, as stated in [S3]".
_LIMITED = re.compile(
    r"[^\n]{0,80}?\b(?:that|but|only|partly|partially|in[ \t]+(?:part|some)|as[ \t]+far[ \t]+as|if|though|although|"
    r"about|yet|however|irrelevant)\b",
    re.IGNORECASE,
)


# A letter named in passing as a reply goes through the options: "Option A suggests ...", '"Money" (C): ...'.
_MENTION = re.compile(r"\b(?i:option|choice)\s+\(?([A-J])\)?(?!\w)|(?<![\w(])\(([A-J])\)")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


def _walk_end(text: str, letters: str, options: Sequence[str]) -> str | None:
    """After a walk that names three options or more in passing ("Option A suggests ... Option B suggests ..."), the
    one letter its last part names without setting it aside ("So it's C.", "Overall, D best captures her motive.",
    "### Conclusion\nB) Duty to the keeper"): the walk's first letter was read. The last part is the last paragraph,
    or in a reply of one, its last sentence."""
    walked = {(m.group(1) or m.group(2)) for m in _MENTION.finditer(text)}
    if len(walked & set(letters)) < 3 or _NEGATIVE.search(text):  # "which was NOT ...": each last one "is mentioned"
        return None
    paragraphs = [p for p in _PARAGRAPHS.split(text.rstrip()) if p.strip()]
    start = text.rstrip().rfind(paragraphs[-1]) if len(paragraphs) > 1 else 0
    if len(paragraphs) == 1:
        sentences = [m for m in _SENTENCE.finditer(text) if m.group().strip()]
        if len(sentences) < 2:
            return None
        start = sentences[-1].start()
    end = text[start:]
    if end.rstrip().endswith("?") or _SUPPOSED.search(end) or _REVISION.search(end):
        return None
    named = [m for m in _named(letters).finditer(text, start) if not _opening_article(text, m, options)]
    if len({m.group(1) for m in named}) != 1 or any(_spoken_of(text, m, options) for m in named):
        return None  # none, several, or one set aside ("So D is wrong.")
    if _VERDICT.match(text, named[-1].end()) is not None:
        return None  # the walk's own last item: "(D) No."
    return named[0].group(1)


@functools.cache
def _named(letters: str) -> re.Pattern[str]:
    """A letter of `letters` standing alone ("B", "(B)", "option B"), as a reply names an option."""
    return re.compile(rf"(?<![\w(])\(?([{letters}])\)?(?!\w)")


def _concluded(text: str, right: Sequence[tuple[int, str]], letters: str) -> str | None:
    """The letter the reply's last sentence that names a letter calls right outright, where that sentence draws a
    conclusion ("Therefore, B is the correct answer", "Thus (B) is correct") and calls one alone (`right`: where
    letters are so called, and which). Otherwise ("So, D.", "Therefore, A is correct in part", a conclusion the reply
    goes back on) it is left to the rest of the reader."""
    named = _named(letters)
    for sentence in reversed(list(_SENTENCE.finditer(text))):
        said = sentence.group()
        if named.search(said) is None:
            continue
        if said.rstrip().endswith("?") or _CONCLUDES.match(said) is None:
            return None  # the last sentence that names a letter is no conclusion ("So D is correct. ... option B
            # fits better.")
        first, end = bisect.bisect_left(right, (sentence.start(), "")), bisect.bisect_left(right, (sentence.end(), ""))
        called = {letter for _, letter in right[first:end]}
        if _REVISION.search(text, sentence.end()) is not None:
            return None  # "Therefore, A is correct. Wait, no: ..."
        return called.pop() if len(called) == 1 else None
    return None


def parse_choice(reply: str, n_options: int, options: Sequence[str] = ()) -> str | None:
    """The option letter a reply names, or None when it names none (or several equally).

    A letter the reply speaks of without calling it right ("A is tempting") gives way to one it calls right or
    gives as its answer ("but C is right", "the answer is C"); with none such, it is the reply's letter, as before.
    An answer given ("The answer must be B", "答案：B") comes first, the later one where the reply corrects itself
    ("Wait, ..."); then the letter the last sentence of conclusion calls right ("Therefore, B is the correct
    answer"), or that a walk's verdicts do ("A: Incorrect. B: Correct."); a letter only named ("Option A suggests
    ...") gives way to one called right after it.
    A reply that opens with the word "A" ("A jealous rival ...") names no letter by it; with `options` (their texts),
    one that goes on with option A's own text ("A to protect her grandmother") does.
    """
    letters = LETTERS[:n_options]
    # Markdown's emphasis and code marks say nothing of the choice: "**B**", "`(C)`", "**Answer:** D".
    text = _EMPHASIS.sub("", _after_thinking(reply)).strip()
    if not text:
        return None
    alone = _ALONE.fullmatch(text)
    if alone and alone.group(1).upper() in letters:  # the letter and nothing more, in either case: "b", "(c)"
        return alone.group(1).upper()
    patterns = (
        # The answer given as such comes first, wherever it stands: a reply that goes through the options before it
        # ("Option A (Money) is unlikely. ... The answer is C", "A) Money - no. ... Answer: C") was read as A.
        # "The answer is B", "Answer: (C)", "the answer is: D", "Final answer - A", "\boxed{C}", "the best fit is B"
        # Only where it is given as the answer: "answer is", "answer:", "answer -" (a bare "answer C" is read with
        # "option C" below: "B is right; answer D assumes ..." gives B).
        # "The answer must be B", "The answer, therefore, is B", "the correct option is B", "The answer is clearly B"
        # and in the reply's language: "答案：B", "La bonne réponse est B", "Die Antwort ist B", "Ответ: B"
        rf"(?:{_GIVEN_AS}|{_GIVEN_AS_ELSEWHERE}|\\boxed\{{(?:\\text\{{)?)"
        rf"\s*[\"'\u201c\u2018\[\u300c\u00ab]?[(\uff08]?([{letters}])[)\uff09]?\b",
        # "So B.", "Therefore, (B).", "Conclusion: B", "→ B", "It's B.", "That leaves B.", "I'd go with B.": a
        # conclusion that is a letter alone
        rf"(?:^|(?<=[.;:!?\n,]))[ \t]*(?:so|thus|hence|therefore|conclusion|overall|→|=>|(?:but\s+)?(?:{_LEAVES}))"
        r"(?:\s*[,:])?\s*"
        rf"\(?([{letters}])\)?(?=[.!]?\s*$|[.!]\s+(?-i:(?![a-z])))",
        # "A is unlikely. C.": a letter alone, the reply's last sentence
        rf"(?<=[.;!?\n])[ \t]*\(?([{letters}])\)?[.!]?\s*$",
        rf"^\(?([{letters}])\)?(?:[\s.:)\-,]|$)",  # "B", "(B)", "B. because..."
        # "option B", "my choice is C", "answer C (money) is never mentioned"
        rf"(?:option|choice|answer)(?:\s+is)?(?:\s*[:\-\u2013\u2014])?\s*\(?([{letters}])\)?\b",
        rf"(?<![\w])\(([{letters}])\)",
        # "..., but C is right", "(C) is the correct answer", "C seems right", "C is my answer"
        rf"(?<![\w(])\(?([{letters}])(?=\)?(?:,\s+(?:which|that|who)\s[^,;.!?\n]{{1,80}},)?\s+(?:\([^()\n]{{1,80}}\)\s+)?"
        r"(?:is|seems|looks)(?:\s|[.!;]))",
    )
    last, opening, named, paren, called_right = patterns[2], patterns[3], patterns[4], patterns[5], patterns[6]
    # "B or C", "(B) or (C)", "A, B, C or D", "B/C": a hedge names several, none of them the answer ("B, and C is
    # wrong" names one). A later pattern may still find the answer given after it ("B or C? ... Answer: C").
    # One place for each run of spaces (`\s*(?:,\s*)?`, not `\s*,?\s*`): a letter and 20,000 spaces took 2 s.
    # "B, or maybe D", "B (or possibly D)" too.
    more = re.compile(
        rf"\)?(?:\s*,\s*\(?[{letters}]\)?)*\s*(?:,\s*)?\(?(?:or|/)\s*(?:(?:maybe|perhaps|possibly)\s+)?"
        rf"\(?([{letters}])\)?(?!\w)"
    )
    items = _walk_items(text)
    first = text.find("(a)")
    enumerated = first >= 0 and text.find("(b)", first) >= 0  # "(a) ..., (b) ...": points made, in lower case
    # "B and D", "B, D", "(B) and (D) are defensible": two letters named together, at the end or as a plural subject.
    both = re.compile(
        rf"\)?\s*(?:,\s*(?:(?:and|&)\s*)?|(?:and|&)\s*)\(?([{letters}])\)?(?=[.!]?\s*$|\s*(?:are|were|both|seem|look)\b)",
        re.IGNORECASE,
    )
    # Where a letter is called right, opening a clause, and which: a letter given as the answer gives way to one
    # called right after it, where the reply rules it out (`_overruled`).
    found_right = [
        found
        for found in re.finditer(called_right, text, re.IGNORECASE)
        if _calls_right(text, found) and _opens_clause(text, found)
    ]
    right = [(found.start(), found.group(1).upper()) for found in found_right]
    later = _from_each(right)
    # Called right with no limit ("Therefore, B is the correct answer."): a conclusion's letter, and one a letter
    # only named gives way to.
    outright = [(found.start(), found.group(1).upper()) for found in found_right if _outright(text, found)]
    # Not one said aside, of another question or case: "(For the second question, D is correct.)"
    main = [(at, letter) for at, letter in outright if not _ASIDE.search(_before(text, at, _SENTENCE_END))]
    later_outright = _from_each(main)
    # "The option that is NOT a reason is option C. A is correct." says the other statements are true.
    negative = _NEGATIVE.search(text) is not None
    hedged = 0  # the end of the last hedge found: a letter within it is one of those it names
    spoken: str | None = None  # the first letter spoken of without being called right: the answer if none is
    for pattern in patterns:
        if pattern is patterns[1] and not hedged:
            # "Option A suggests ... Therefore, B is the correct answer" (read as A); "A: Incorrect. B: Correct."
            concluded = (
                _concluded(text, outright, letters) or _walk_verdict(text, letters) or _walk_end(text, letters, options)
            )
            if concluded is not None:
                return concluded
        flags = re.IGNORECASE if pattern not in (opening, last) else 0
        if pattern is opening and _LISTED.search(text, 1):
            continue  # "**A.** Paris: wrong\n**B.** Rome: right" goes through the options, A first of them
        # An answer given again after the reply corrects itself is its answer: "Answer: A. Wait, ... The answer is B."
        found = list(re.finditer(pattern, text, flags))
        revised = _revised(text, found) if pattern is patterns[0] else 0
        # A conclusion drawn later stands over one drawn before it: "That leaves B. But wait, ... So D.", "My first
        # instinct: it's A. ... So B."
        for match in reversed(found) if pattern is patterns[1] else found:
            if match.start(1) < max(hedged, revised) or _article(text, match, options):
                continue
            if pattern is patterns[0] and _reported(text, match):
                continue  # "A common mistake is to think the right choice is D"
            if pattern is patterns[1] and (
                _SUPPOSED.search(_before(text, match.start(), _SUPPOSITION_END))
                or _REPORTED.search(_before(text, match.start(), _SENTENCE_END))
                or _taken_back(text, match, letters)
            ):  # "If ..., it's A", "Earlier I thought: so D.", "so D. I was wrong."
                continue  # "If the question were about the first night, it's A."
            if pattern is not patterns[0] and _SET_ASIDE_BEFORE.search(text, max(0, match.start() - 30), match.start()):
                continue  # "Unlike option A, option B is supported by the text"
            if pattern is paren and match.group(1).islower() and enumerated:
                continue  # "two reasons: (a) her promise and (b) the storm" enumerates; it names no option
            if pattern not in (patterns[0], patterns[1], last, called_right) and match.start(1) in items:
                continue  # "Option A: no.\nOption B: yes.\n\nB is correct": the walk's labels are not its answer
            if pattern in (opening, called_right) and _pronoun(text, match):
                continue
            if pattern is opening and _opening_article(text, match, options):
                continue
            if pattern is called_right:  # "C is correct", "C (Money) is correct", "C, which says ..., is correct"
                if not _calls_right(text, match):
                    continue
                if _OR_BEFORE.search(text, max(0, match.start() - 20), match.start()):  # "C or D is right"
                    hedged = len(text)
                    continue
                if not _opens_clause(text, match):
                    continue
            letter = match.group(1).upper()
            hedge = more.match(text, match.end(1))
            if hedge is None:
                hedge = both.match(text, match.end(1))
            if hedge is not None and hedge.group(1) != letter:
                hedged = max(hedged, hedge.end())
            elif (given := _given(text, match, pattern, patterns)) and _overruled(text, match, options, right):
                continue  # "Answer: B, C and D are wrong; A is correct": B heads a list the reply rules out
            elif (aside := _spoken_of(text, match, options, given=given)) is not None:
                # A letter ruled out is no answer: with none other given, the reply names none, and the model is
                # asked for its letter ("A is tempting, so C." read as A, with nothing said).
                spoken = spoken or (letter if aside == "aside" else None)
            elif not given and _conceded(text, match, right, later):
                continue  # "A seems right, but C is correct"
            elif (
                pattern in (named, paren)
                and not (given or negative)
                and _called_later(text, match, main, later_outright)
            ):
                continue  # "Option A is unrelated to her motive. Option B is the best choice."
            else:
                return letter
    if not hedged and spoken is None:
        return _option_written(text, letters, options)
    return spoken if not hedged else None


_CITED_OR_MARKED = re.compile(r"\[S\d+(?:[^\]\n]{0,40})\]|[\s\"'\u201c\u201d\u2018\u2019.!,;:()]+")


def _option_written(text: str, letters: str, options: Sequence[str]) -> str | None:
    """The letter of the one option whose text the reply is, word for word (case, quotes, end marks and cited labels
    aside): "Her brother." for "Her brother". Without it a second call asked for the letter (helper-219)."""
    said = _CITED_OR_MARKED.sub(" ", text).strip().lower()
    if not said:
        return None
    written = [_CITED_OR_MARKED.sub(" ", option).strip().lower() for option in options[: len(letters)]]
    same = [letter for letter, option in zip(letters, written, strict=False) if option == said]
    return same[0] if len(same) == 1 else None
