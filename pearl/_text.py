"""Text helpers: whether text shows anything, word overlap (the one crude similarity pearl uses where
a model or an index would be overkill: demonstrations, the planner's slice of the action library, the
fallback merge of mined actions), the one rule that keeps document text inside the fence a prompt puts
it in, and the one way a long value is cut short for a message.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Annotated

from pydantic import BeforeValidator, ValidationError

__all__ = [
    "CONTROL_PICTURES",
    "FENCE_TAGS",
    "RANGE_LIMIT",
    "STOP_WORDS",
    "THINKING",
    "WritableStr",
    "after_thinking",
    "as_text",
    "attribute_value",
    "citations",
    "consecutive_runs",
    "counted",
    "folded",
    "neutralise_fence",
    "neutralise_file_lines",
    "one_line",
    "shorten",
    "visible",
    "word_stems",
    "writable",
]

_WORD = re.compile(r"[a-z0-9]+")


def visible(text: str) -> bool:
    """Whether `text` shows anything: a character that is neither white space nor a format character
    (a zero-width space, a joiner, a direction mark). A question, or a document, made of those alone says nothing."""
    return any(not char.isspace() and unicodedata.category(char) != "Cf" for char in text)


def consecutive_runs(numbers: Iterable[int]) -> list[list[int]]:
    """`numbers` (sorted) in runs of consecutive ones: [2, 3, 5, 7, 8] gives [[2, 3], [5], [7, 8]]."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


_SURROGATE = re.compile("[\ud800-\udfff]")


def writable(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, each by one, so offsets hold.

    A byte that is not UTF-8 in a command-line argument or a file name reaches Python as one
    (its "surrogateescape"), and so does a broken string from a caller; no file, JSON body or
    hash can encode it, so it would fail the question at its first model call.
    """
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def _writable_input(value: object) -> object:
    return writable(value) if isinstance(value, str) else value


WritableStr = Annotated[str, BeforeValidator(_writable_input)]
"""A model field's text, made `writable` before it is validated (a string field with limits refuses a surrogate)."""

STOP_WORDS = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been being do does did what which who "
    "whom whose why how when where that this these those it its as not any if there their they he she his her him "
    "them you your we our".split()
)
"""Function words and question words: they say nothing about what a question or an action is about."""


def word_stems(text: str, ignore: frozenset[str] = frozenset()) -> Counter[str]:
    """Lower-cased words of three or more letters, minus `STOP_WORDS` and `ignore`, cut to five letters.

    Cutting to five letters is a crude stemmer: "reasons"/"reasoning" meet "reason", and
    "leaves"/"leaving" meet "leave".
    """
    return Counter(w[:5] for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOP_WORDS and w not in ignore)


FENCE_TAGS = ("document", "excerpts")
"""The tags prompts fence document text with (`<document ...>` ... `</document>`, see prompts/*.md)."""

# Characters that show nothing (zero-width spaces and joiners, soft hyphens, direction marks, variation selectors):
# a document can hide them inside a tag or a label ("</exc\u200berpts>", "[\u200bS2]"), which a model reads past.
_HIDDEN = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001d173-\U0001d17a\U000e0100-\U000e01ef"
)
_GAP = rf"[\s{_HIDDEN}]*"
# Letters a document can write in a look-alike (Cyrillic, Greek; the full-width forms are added in `_spelled`), to
# spell one of our tags or labels that a model reads as such and a plain pattern does not: "</еxcerpts>", "[Ѕ3]".
# Matched without case, so a lower-case form stands for its capital too: Greek "\u03b5" for "\u0395", "\u03c4" and
# Cyrillic "\u0442" for the capital T's.
_LOOK_ALIKES = {
    "c": "\u0441\u03f2", "d": "\u0501", "e": "\u0435\u04bd\u03b5", "f": "", "i": "\u0456\u0131\u03b9",
    "l": "\u04cf", "m": "\u043c\u03bc", "n": "\u03bd\u0578", "o": "\u043e\u03bf\u0585", "p": "\u0440\u03c1",
    "r": "", "s": "\u0455\u13da\ua731", "t": "\u0442\u03c4", "u": "\u057d", "x": "\u0445\u03c7",
}  # fmt: skip


def _spelled(word: str) -> str:
    """A pattern for `word` (lower case) written in look-alike letters too, hidden characters between them."""
    return f"[{_HIDDEN}]*".join(f"[{ch}{chr(ord(ch) - 0x61 + 0xFF41)}{_LOOK_ALIKES[ch]}]" for ch in word)


_SLASH = "[/\u2044\u2215\uff0f]"
_OPEN, _CLOSE = "<\u02c2\u2039\u2329\u27e8\u3008\ufe64", ">\u02c3\u203a\u232a\u27e9\u3009\ufe65"  # and look-alikes


# A tag of one of our fences, opening or closing, however spaced, cased or spelled, its angle brackets too:
# "</excerpts>", "< / Document >", "</exc\u200berpts>", "\u2039/excerpts\u203a". (A run of spaces before a slash and
# one after each, never two in a row: "<" and a long run of spaces took seconds, split every way between two runs,
# before failing.)
def _fence_tag(opening: str, closing: str) -> re.Pattern[str]:
    tags = "|".join(_spelled(tag) for tag in FENCE_TAGS)
    return re.compile(
        rf"[{opening}]({_GAP}(?:{_SLASH}{_GAP})*(?:{tags})\b[^{opening}{closing}\n]{{0,200}})([{closing}]?)",
        re.IGNORECASE,
    )


_FENCE_TAG = _fence_tag(_OPEN, _CLOSE)
_PLAIN_FENCE_TAG = _fence_tag("<", ">")
"""For text with no look-alike bracket: an opener of one character is found ten times faster."""
# A sentence label, as pearl writes them and models cite them: "[S12]", "[ s 3 ]", "[S1, S2]", "[S4-S6]", "[\u200bS2]".
_LABEL = re.compile(rf"\[({_GAP}{_spelled('s')}{_GAP}\d[^\[\]\n]{{0,40}})(\]?)", re.IGNORECASE)
# Characters that show nothing and can carry text a model may read: Unicode's tag characters, which shadow ASCII
# ("ASCII smuggling"), except in the three flags written with them (England's, Scotland's, Wales's: a black flag, the
# tags "gbeng", "gbsct" or "gbwls", a cancel tag); and a variation selector after another, after a space or after a
# character that shows nothing, where one may follow a character to choose its form but a run encodes bytes. Each
# becomes U+FFFD, one character for one. (One selector after each letter of ordinary text still passes: that needs
# Unicode's table of which characters take one.)
_VARIATION = "\ufe00-\ufe0f\U000e0100-\U000e01ef"


def _tags(text: str) -> str:
    """`text` (ASCII) written in Unicode's tag characters."""
    return "".join(chr(0xE0000 + ord(c)) for c in text)


_TAGGED_FLAG = f"\U0001f3f4{_tags('gb')}(?:{_tags('eng')}|{_tags('sct')}|{_tags('wls')}){_tags(chr(0x7F))}"
_SMUGGLING = re.compile(f"[\U000e0000-\U000e007f{_VARIATION}]")
_SMUGGLED = re.compile(
    f"({_TAGGED_FLAG})|[\U000e0000-\U000e007f]|[{_VARIATION}](?<=[\\s{_HIDDEN}\U000e0000-\U000e007f][{_VARIATION}])"
)


# A citation as models write one, of one label or several: "[S12]", "[s12]", "[S12, S14]", "[S12; 14]", "[S3 and S5]",
# "[S3, S5, and S7]", "[S3 S5]", "[S3/S5]", "[S12-S14]" (a range); in round brackets as well as square ("(S12)",
# "(S120, S171)": models that cite in the style of references write them so); with a page or a line after the labels
# ("[S3, p. 4]", "(S3; lines 2-3)"), which names no sentence. Labels past the first may drop their "S" (not after
# spaces alone: "[S3 2021]" is no list). Nothing else may stand inside the brackets ("(S3 Table)" is no citation).
# Each run of spaces has one place in the pattern (`[ \t]*(?:S[ \t]*)?`, not `[ \t]*S?[ \t]*`): with two, an
# unclosed "[S1,   1,   1, ..." was split every way before failing, seconds for a dozen labels.
_JOINER = r"(?:,(?:[ \t]*(?:and|&))?|;|&|/|and|[-\u2013\u2014]|to)"
_LABELS = rf"[ \t]*S[ \t]*(\d{{1,7}})((?:(?:[ \t]*{_JOINER}[ \t]*(?:S[ \t]*)?|[ \t]+S[ \t]*)\d{{1,7}}){{0,40}})"
_PLACE = r"[,;][ \t]*(?:pp?|pages?|para|paragraphs?|ll?|lines?)\.?[ \t]*\d{1,6}(?:[ \t]*[-\u2013][ \t]*\d{1,6})?"
PLACE = re.compile(_PLACE, re.IGNORECASE)
"""A page or a line written after a citation's labels ("[S3, p. 4]"), which names no sentence."""
_CITATION = re.compile(rf"\[{_LABELS}(?:[ \t]*{_PLACE})?[ \t]*\]|\({_LABELS}(?:[ \t]*{_PLACE})?[ \t]*\)", re.IGNORECASE)
_CITED_PART = re.compile(rf"(?:({_JOINER})[ \t]*(S[ \t]*)?|[ \t]+(S[ \t]*))(\d{{1,7}})", re.IGNORECASE)
RANGE_LIMIT = 23
"""A cited range ("[S12-S14]") names every sentence in it up to this many after its first (24 in all, as many as an
answer keeps of its own citations: a contract's clause runs to a dozen sentences); a longer one ("[S1-S400]", the
whole document) names its two ends alone. (At 10, "[S2-S13]" named S2 and S13 alone, unsaid: helper-168.)"""
_NEAR = 10
"""A year written without an "S" after a shorter label names a sentence only this near it ("[S998, 1000]"):
further, it is a year ("[S3, 2021]")."""


def citations(text: str) -> list[tuple[int, int, list[int]]]:
    """Every citation of `text`: where it starts and ends, and the sentence ids it names, in its order.

    The one reader of the labels models cite, which every part of pearl that reads a reply's citations uses:
    "[S12, S14]" names 12 and 14, "[S12-S14]" 12, 13 and 14, "[S12, 14]" 12 and 14, but "[S3, 2021]" 3 alone (a
    year or a page after a label is no sentence: `_NEAR`). (Document text never holds one: see
    `neutralise_fence`.)
    """
    found: list[tuple[int, int, list[int]]] = []
    code = _code_spans(text)
    starts = [start for start, _ in code]
    for match in _CITATION.finditer(text):
        after_one = bool(found) and found[-1][1] == match.start()  # "[S1][S2]", "(S1)(S2)"
        if _code_like(text, match, after_one) or (code and _inside(starts, code, match.start())):
            continue
        first, rest = match.group(1, 2) if match.group(1) is not None else match.group(3, 4)
        ids = [int(first)]
        for part in _CITED_PART.finditer(rest):
            sid = int(part.group(4))
            if part.group(2) is None and part.group(3) is None and _not_a_label(sid, ids[-1]):
                continue
            joiner = (part.group(1) or "").lower()
            if joiner in ("-", "\u2013", "\u2014", "to") and 0 < sid - ids[-1] <= RANGE_LIMIT:
                ids.extend(range(ids[-1] + 1, sid + 1))
            else:
                ids.append(sid)
        found.append((match.start(), match.end(), list(dict.fromkeys(ids))))
    return found


# Markdown code: a fenced block closed by its fence (in a quote or a list item too), or a span in backticks on one
# line, opened after no letter ("don`t" is an apostrophe typed so) and not LaTeX's ``quote''.
_CODE_SPAN = re.compile(
    r"^[ \t>*+\-\d.]*```.*?^[ \t>*+\-\d.]*```|(?<![`\w])(`{1,2})(?!`)([^\n]+?)(?<!`)\1(?!`)", re.DOTALL | re.MULTILINE
)


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` writes code in Markdown (a fenced block, a span in backticks): labels there are code's. LaTeX's
    ``quote'' and a backtick typed for an apostrophe ("don`t go [S3] and `x`") open none."""
    if "`" not in text:
        return []
    return [(m.start(), m.end()) for m in _CODE_SPAN.finditer(text) if m.group(2) is None or "''" not in m.group(2)]


def _inside(starts: list[int], spans: list[tuple[int, int]], at: int) -> bool:
    """Whether `at` falls in one of `spans` (in order, apart; `starts` their starts)."""
    i = bisect.bisect_right(starts, at) - 1
    return i >= 0 and at < spans[i][1]


def _code_like(text: str, match: re.Match[str], after_one: bool) -> bool:
    """Whether a bracketed label is code's, not a citation: a call's arguments ("merge(s1, s2)", "f(S1)"), an index
    written in lower case after a name ("counts[s1]", "a[0][s1]"), or round brackets around a lower-case "s" ("(s1,
    s2)"). One right after a citation (`after_one`: "[S1][S2]") is a citation."""
    before = text[match.start() - 1] if match.start() > 0 else ""
    glued = not after_one and (before.isalnum() or before in ("_", ")", "]"))
    lower = text[match.start() + 1 : match.end()].lstrip(" \t")[:1] == "s"
    if text[match.start()] == "(":
        return glued or lower
    return glued and lower


def _not_a_label(number: int, before: int) -> bool:
    """Whether `number`, written without its "S" after the label of sentence `before`, is no sentence id: a year
    ("[S3, 2021]", "[S40; 1999]"), longer than `before` and far from it. A model that drops the "S" of labels writes
    numbers of any length ("[S12, 45]", "[S5, 16]", "[S9, 100]"); "[S998, 1000]" is one too, being near."""
    return 1000 <= number <= 2999 and len(str(number)) > len(str(before)) and abs(number - before) > _NEAR


def neutralise_fence(text: str, *, labels: bool = True) -> str:
    """Document text that can neither close the fence it is shown in nor pass for one of pearl's sentence labels (nor
    for a chat template's special token, `_SPECIAL_TOKENS`).

    The brackets of our fence tags and of `[S12]`-like labels are swapped for their full-width
    look-alikes (`＜/excerpts＞`, `［S12］`): a model still reads the words, but no longer sees
    the end of the document or a label it could cite, and pearl's own label parsers (`[S12]`)
    never match them. A tag or label spelled with characters that show nothing between its letters or with
    Cyrillic, Greek or full-width look-alike letters ("</exc\u200berpts>", "[Ѕ3]") is one too; Unicode's invisible
    tag characters and runs of variation selectors, which can carry text a model reads, become U+FFFD (`_SMUGGLED`).
    One character is replaced by
    one, so offsets into the text stay valid; everything else is left as it is, and applying it twice changes
    nothing more. `labels=False` leaves labels as they are: for a step's result, whose labels the model wrote of
    sentences it was shown, and which later prompts show outside the document's fence or in place of the document.
    """
    plain = text.isascii()
    if not plain and _SMUGGLING.search(text):  # one scan for a class first: the replacing pattern is slower
        text = _SMUGGLED.sub(lambda m: m.group() if m.group(1) else "\ufffd", text)
    look_alike = not plain and any(bracket in text for bracket in _OPEN[1:])
    if "<" not in text and "[" not in text and not look_alike:
        return text  # most sentences: no bracket a tag, a token or a label opens with, so no scan
    fence_tag = _FENCE_TAG if look_alike else _PLAIN_FENCE_TAG
    text = fence_tag.sub(lambda m: "＜" + m.group(1) + ("＞" if m.group(2) else ""), text)
    for token in _SPECIAL_TOKENS:
        text = token.sub(lambda m: _FULL_WIDTH[m.group()[0]] + m.group()[1:-1] + _FULL_WIDTH[m.group()[-1]], text)
    if not labels:
        return text
    return _LABEL.sub(lambda m: "［" + m.group(1) + ("］" if m.group(2) else ""), text)


# A chat template's special token written as text: llama.cpp (the embedded model, its server) and vLLM read it in
# a message as the token itself, so a document holding "<|im_end|>\n<|im_start|>system" opened a system turn of its
# own. Its brackets become full-width look-alikes. ChatML, Llama 3, Phi and most others write "<|...|>", DeepSeek
# "<｜...｜>", Gemma "<start_of_turn>", Mistral's newer tokenizers "[INST]". (Not Llama 2's "<s>" and "</s>", which
# open no turn without "[INST]" and are a strike-through in HTML and a placeholder in manuals: "--strategy <s>".)
_SPECIAL_TOKENS = (  # two patterns, each opening with one character: one pattern of both took seven times as long
    # (not across a full-width bracket: what an earlier pass made of a token inside, "<|a<eos>b|>", stays apart)
    re.compile(
        r"<(?:[|\uff5c][^\s<>|\uff5c\uff1c\uff1e]{1,40}[|\uff5c]"
        r"|bos|eos|start_of_turn|end_of_turn|start_of_image|end_of_image)>"
    ),
    re.compile(r"\[/?(?:INST|SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS|TOOL_CONTENT|THINK)\]"),
)
_FULL_WIDTH = {"<": "＜", ">": "＞", "[": "［", "]": "］"}


# A line of a document that reads as the `[file NAME]` line pearl opens a file's sentences with.
_LINE_GAP = rf"(?:[^\S\n]|[{_HIDDEN}])"  # a space of any kind but a line break, or a character that shows nothing
_FILE_LINE = re.compile(
    rf"^({_LINE_GAP}*)\[([{_HIDDEN}]*{_spelled('file')}{_LINE_GAP}[^\n]*)\]({_LINE_GAP}*)$",
    re.MULTILINE | re.IGNORECASE,
)


def neutralise_file_lines(text: str) -> str:
    """Document text in which no line passes for the `[file NAME]` line that opens a file's sentences in evidence
    (`pearl.context.FILE_LINE`): its brackets become full-width look-alikes, one character for one."""
    if "[" not in text:  # most sentences: no scan
        return text
    return _FILE_LINE.sub(lambda m: f"{m.group(1)}［{m.group(2)}］{m.group(3)}", text)


def first_problem(exc: ValidationError) -> tuple[tuple[str | int, ...], str]:
    """Where a model's first validation error is and what it says, without pydantic's "Value error, " prefix."""
    error = exc.errors()[0]
    return tuple(error.get("loc", ())), str(error.get("msg", "invalid")).removeprefix("Value error, ")


def one_line(text: str) -> str:
    """`text` (a name) as a prompt may show it: its whitespace runs one space, with no fence tag or label
    (`neutralise_fence`)."""
    return neutralise_fence(" ".join(text.split()))


def attribute_value(text: str, width: int = 100) -> str:
    """`text` (a document's name) as a prompt shows it in a tag's `name="..."`: `one_line`, at most `width`
    characters, with no double quote to close the attribute."""
    return shorten(one_line(text).replace('"', "'"), width)


CONTROL_PICTURES = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421}
"""Each C0 control character and DEL to its picture (ESC to ␛), for `str.translate`: how the terminal and the pages
show a control a model or a document wrote, each leaving out what it keeps (a line break, a tab)."""


def shorten(text: str, width: int) -> str:
    """`text` as a message quotes it: whole up to `width` characters, else cut to `width` ending in "..."."""
    return text if len(text) <= width else text[: width - 3] + "..."


def counted(count: int, noun: str, plural: str = "") -> str:
    """`count` and `noun`, the noun plural unless the count is one: "1 sentence", "2,000 sentences", "0 entities".

    Args:
        plural: the plural when it is not `noun` + "s" ("entities", "batches").
    """
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


# A line end, and nroff's overstrikes as `man ls | cat` saves a manual page: a character struck over itself is bold
# ("N\bN", "N\bN\bN"), over "_" underlined ("_\bf"), each one character of the page (two backspaces go back over a
# character two columns wide).
_LINE_END_OR_OVERSTRIKE = re.compile(r"\r\n?|[^\x08\r\n](?:\x08{1,2}[^\x08\r\n])+")


def _struck(run: str) -> str:
    """The one character an overstrike shows: the last struck but an underline's "_", as `less` reads it (`col -b`
    keeps the last, which leaves "_" of "f\\b_", an underline written after its letter)."""
    struck = run.replace("\x08", "")
    return next((char for char in reversed(struck) if char != "_"), "_")


def as_text(text: str, overstrikes: bool = True) -> tuple[str, list[int], list[int]]:
    """`text` with line ends as "\\n" and (with `overstrikes`) each overstrike as the character it shows; where a
    "\\n" of it is "\\r\\n" in `text` (`DocumentPart.crlf`), and where `text` has characters it leaves out
    (`DocumentPart.dropped`), as offsets into the text returned."""
    if "\r" not in text and not (overstrikes and "\x08" in text):
        return text, [], []
    pieces: list[str] = []
    crlf: list[int] = []
    dropped: list[int] = []
    done = length = 0
    for match in _LINE_END_OR_OVERSTRIKE.finditer(text):
        run = match.group()
        if run[0] != "\r" and not overstrikes:
            continue
        pieces.append(text[done : match.start()])
        length += match.start() - done
        if run[0] == "\r":  # "\r\n", or "\r" alone (an old Mac's line end)
            if run == "\r\n":
                crlf.append(length)
            pieces.append("\n")
        else:
            dropped += [length] * (len(run) - 1)  # all before the one character shown: a span takes the whole run
            pieces.append(_struck(run))
        length += 1
        done = match.end()
    pieces.append(text[done:])
    return "".join(pieces), crlf, dropped


THINKING = re.compile(r"\s*<(think|thinking|reasoning)>.*?(</\1>\s*|\Z)", re.DOTALL | re.IGNORECASE)
"""A reasoning block opening a reply, closed (group 2) or running to its end."""

_OPENED = re.compile(r"<think>", re.IGNORECASE)
_LAST_CLOSED = re.compile(r".*(</think>)\s*", re.DOTALL | re.IGNORECASE)  # up to the last close: one backward pass


def _thinking_end(text: str) -> int | None:
    """Where the answer starts in a reply whose chat template opened its reasoning block in the prompt (DeepSeek-R1's
    distills, QwQ): its thinking, then a "</think>" with no "<think>" before it, then the answer. After the last such
    close, as the thinking may quote one; None for a reply without one."""
    closed = _LAST_CLOSED.match(text)
    if closed is None or _OPENED.search(text, 0, closed.start(1)) is not None:
        return None
    return closed.end()


def after_thinking(text: str) -> tuple[str | None, str] | None:
    """For a reply that opens with a reasoning block, or holds the close of one its chat template opened: the answer
    after it (None when there is none) and the note saying it was left out; None for any other reply."""
    thinking = THINKING.match(text)
    if thinking is None:
        end = _thinking_end(text)
        if end is None:
            return None
    elif thinking.group(2) is None:
        return None, ""
    else:
        end = thinking.end()
    answer = text[end:]
    if not answer.strip():
        return None, ""
    return answer, f"the model's thinking ({end:,} characters before its answer) was left out"


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2032": "'"})


def folded(text: str) -> str:
    """`text` as a key that other quote marks ("Tr’en"), case, spacing and Unicode forms do not change."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES).split())
