"""Words to index terms for lexical retrieval: lower-case, stop words out, Porter stems.

spaCy's lemmatizer needs the tagger, which would double indexing time; a suffix stemmer gives
BM25 the same benefit ("terminates", "termination" and "terminated" meet) for free. The
stemmer is M. F. Porter's 1980 algorithm, written out here because no stemming package is a
dependency.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Container, Mapping

__all__ = ["joined_terms", "query_variants", "stem", "stopwords", "term_bases", "terms", "words"]


@functools.cache
def stopwords() -> frozenset[str]:
    """spaCy's English stop words, without the words that carry meaning in questions about documents.

    A question about "the first payment" or what happened "before the war" needs them. Number
    words stay stop words: "one" matches every "one (1)" and "one or more" of a contract.
    Loaded on first use: importing spaCy costs half a second, which `import pearl` must not pay.
    """
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) - frozenset(
        "first last before after during top bottom above below up down off over under again never".split()
    )


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_PREFIXES = ("sub", "non")
# "non-transferable" is one word, as "nontransferable" is: split at the hyphen, a bare "non"
# would match every "non-compete" and "non-exclusive" of a contract as a word of its own.
# ...but only before a word of its own: "non-U.S." keeps its "U.S.".
_HYPHENATED_PREFIX = re.compile(r"\b(" + "|".join(_PREFIXES) + r")[-‐‑](?=[^\W\d_]{4})")


_CJK_RUN = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]+")
"""Han characters and kana, written without spaces, so that a run of them is a phrase, not a word; and Hangul
syllables, whose words carry their particles and endings glued on ("서울은", "서울에서" are "서울" and a particle)."""


def words(text: str) -> list[str]:
    """Lower-cased word tokens, possessive "'s" removed, a hyphenated "non-"/"sub-" joined to its word.

    Chinese and Japanese are written without spaces: a run of Han characters or kana gives its overlapping
    pairs of characters ("备用钥匙" gives "备用", "用钥", "钥匙"), as search engines index such text, so that a
    question's words meet the document's; a lone character stays itself. Read whole, a run was one "word" as long
    as the clause, and no question ever matched it. Korean is indexed the same way: its words are spaced, but a
    noun comes with a particle that changes with its role ("서울은", "서울에서", "서울의"), so whole words met
    only where both wrote the same particle; in pairs, all three give "서울".
    """
    out = []
    # Once a text, not once a word, and only where it can find something: this runs for every unit indexed.
    plain = text.isascii()
    cjk = not plain and _CJK_RUN.search(text) is not None
    lowered = text.lower()
    if "-" in lowered or not plain:
        lowered = _HYPHENATED_PREFIX.sub(r"\1", lowered)
    for word in _WORD.findall(lowered):
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if cjk and _CJK_RUN.search(word):
            out.extend(_cjk_pieces(word))
        else:
            out.append(word)
    return out


def _cjk_pieces(word: str) -> list[str]:
    pieces: list[str] = []
    at = 0
    for run in _CJK_RUN.finditer(word):
        if run.start() > at:
            pieces.append(word[at : run.start()])  # "iphone" of "iphone手机"
        chars = run.group()
        pieces.extend([chars] if len(chars) == 1 else [chars[i : i + 2] for i in range(len(chars) - 1)])
        at = run.end()
    if at < len(word):
        pieces.append(word[at:])
    return pieces


# A symbol written alone, not a word's punctuation ("the exclamation mark (!)", "type '\\&'", "$!", but not "Wow!",
# "AT&T", "$HOME"), is also the word it is called: a question says "an exclamation mark" or "a literal &" where the
# document writes the other. Signs a page is full of (Markdown's # and *, a table's |, quotes) are left out.
_SYMBOL_NAMES = {
    "!": ("exclamation", "bang"),
    "&": ("ampersand",),
    "$": ("dollar",),
    "%": ("percent",),
    "~": ("tilde",),
    "^": ("caret",),
    "\\": ("backslash",),
}
_SYMBOL_RUN = re.compile(r"[!&$%~^\\]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_HAS_CAMEL = re.compile(r"[a-z][A-Z]")


def _in_word(text: str, at: int) -> bool:
    """Whether `text[at]` is a word character (False off either end)."""
    return 0 <= at < len(text) and (text[at].isalnum() or text[at] == "_")


def terms(text: str) -> list[str]:
    """Index terms of `text`: words minus stop words, stemmed; a name written in camel case
    ("transferList", "JSONDecodeError") also gives its words ("transfer", "list"; "json", "decode", "error"), and a
    symbol written alone its name ("(!)" gives "exclamation" and "bang": `_SYMBOL_NAMES`)."""
    stop = stopwords()
    found = [w for w in words(text) if w not in stop and (len(w) > 1 or w.isdigit())]
    for run in _SYMBOL_RUN.finditer(text):  # rare: the loop's Python runs for few units
        start, end = run.span()
        if _in_word(text, start - 1) or _in_word(text, end):
            continue  # a word's punctuation ("Wow!"), or a sign inside a name ("AT&T", "$HOME")
        found.extend(name for symbol in dict.fromkeys(run.group()) for name in _SYMBOL_NAMES[symbol])
    if _HAS_CAMEL.search(text):
        for word in _WORD.findall(text):
            parts = _CAMEL.split(word.removesuffix("'s").removesuffix("’s"))
            if len(parts) > 1:
                found.extend(p.lower() for p in parts if p.lower() not in stop and len(p) > 2)
    return [stem(w) for w in found]


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Porter stem of one lower-case word (words of two letters or fewer, and non-ASCII, unchanged).

    Nouns in "-sion" are first turned back into their verb, which Porter leaves apart:
    extension -> extend, provision -> provide, conversion -> convert, exclusion -> exclude.
    """
    if len(word) <= 2 or not word.isascii() or not word.isalpha():
        return word
    return _Porter(_verb_of_sion(word)).run()


def _verb_of_sion(word: str) -> str:
    base = word[:-1] if word.endswith("sions") else word
    if not base.endswith("sion") or base.endswith("ssion") or len(base) <= 6:
        return word
    root = base[:-4]
    if root[-1] == "r":
        return root + "t"
    if root[-1] == "n":
        return root + "d"
    if root[-1] in "aeiou":
        return root + "de"
    return word


_SHORTEST_BASE = 4
"""A base shorter than this is no word of its own ("subtle" is not "sub" + "tle")."""


def _unprefixed(term: str) -> str:
    """`term` without a "sub"/"non" prefix, when what is left can be a word of its own."""
    for prefix in _PREFIXES:
        if term.startswith(prefix) and len(term) - len(prefix) >= _SHORTEST_BASE:
            return term[len(prefix) :]
    return term


def term_bases(term: str, vocabulary: Container[str]) -> list[str]:
    """Shorter index terms `term` also counts as, among those the document uses on their own.

    A "sub"/"non" prefix comes off ("sublicens" -> "licens"), and so does the "-it" Porter leaves
    on a noun in "-ition", so that it meets its verb ("competit" -> "compet", "definit" ->
    "defin"); both at once for "noncompetit" -> "compet".
    """
    return _bases(term, _unprefixed(term), vocabulary)


def _bases(term: str, rest: str, vocabulary: Container[str]) -> list[str]:
    bases = [rest] if rest != term and rest in vocabulary else []
    if rest.endswith("it") and len(rest) - 2 >= _SHORTEST_BASE and rest[:-2] in vocabulary:
        bases.append(rest[:-2])
    return bases


def query_variants(term: str, vocabulary: Container[str], *, agents: bool = False) -> list[str]:
    """Index terms a question's `term` should also match: its bases (`term_bases`), the "-ition"
    nouns of a verb the document uses ("compet" -> "competit", "noncompet" -> "noncompetit"), and
    with `agents` (the question asks who did it: "who founded") its "-er"/"-or" nouns ("founder",
    "inventor"). Not otherwise: "licensed" would match every "Licensor" of a contract."""
    rest = _unprefixed(term)
    variants = _bases(term, rest, vocabulary)
    suffixes = ("it", "er", "or") if agents else ("it",)
    for form in dict.fromkeys((term, rest)):
        if len(form) >= _SHORTEST_BASE:
            variants.extend(form + suffix for suffix in suffixes if form + suffix in vocabulary)
    return [v for v in dict.fromkeys(variants) if v != term]


def joined_terms(sequence: list[str], weighted: Mapping[str, float], vocabulary: Container[str]) -> dict[str, float]:
    """Index terms for two words of `sequence` in a row that the document writes as one ("run time" ->
    "runtime", "thread pool" -> "threadpool", "data set" -> "dataset"), each weighted as the lighter of
    its two words in `weighted`: only where the document has the joined word, and both words are terms."""
    joined: dict[str, float] = {}
    for first, second in itertools.pairwise(sequence):
        term = stem(first + second)
        weight = min(weighted.get(stem(first), 0.0), weighted.get(stem(second), 0.0))
        if weight > 0 and term in vocabulary and term not in weighted:
            joined[term] = max(joined.get(term, 0.0), weight)
    return joined


_VOWELS = frozenset("aeiou")


class _Porter:
    """One run of the Porter algorithm over a word (steps 1a-5b, as in the 1980 paper)."""

    def __init__(self, word: str) -> None:
        self.b = word

    def _cons(self, i: int) -> bool:
        ch = self.b[i]
        if ch in _VOWELS:
            return False
        if ch == "y":
            return i == 0 or not self._cons(i - 1)
        return True

    def _m(self, stem: str) -> int:
        """Number of VC sequences in `stem` (a prefix of the word)."""
        n = 0
        i = 0
        length = len(stem)
        while i < length and self._cons(i):
            i += 1
        while i < length:
            while i < length and not self._cons(i):
                i += 1
            if i >= length:
                break
            while i < length and self._cons(i):
                i += 1
            n += 1
        return n

    def _has_vowel(self, stem: str) -> bool:
        return any(not self._cons(i) for i in range(len(stem)))

    def _double_cons(self, end: int) -> bool:
        return end >= 1 and self.b[end] == self.b[end - 1] and self._cons(end)

    def _cvc(self, end: int) -> bool:
        if end < 2 or not self._cons(end) or self._cons(end - 1) or not self._cons(end - 2):
            return False
        return self.b[end] not in "wxy"

    def _replace(self, suffix: str, repl: str, min_m: int) -> bool:
        """If the word ends with `suffix`: replace it when m(stem) > min_m; True if the suffix matched."""
        if not self.b.endswith(suffix):
            return False
        stem = self.b[: len(self.b) - len(suffix)]
        if self._m(stem) > min_m:
            self.b = stem + repl
        return True

    def run(self) -> str:
        self._step1a()
        self._step1b()
        self._step1c()
        self._step2()
        self._step3()
        self._step4()
        self._step5()
        return self.b

    def _step1a(self) -> None:
        b = self.b
        if b.endswith("sses") or b.endswith("ies"):
            self.b = b[:-2]
        elif b.endswith("ss"):
            pass
        elif b.endswith("s"):
            self.b = b[:-1]

    def _step1b(self) -> None:
        b = self.b
        if b.endswith("eed"):
            if self._m(b[:-3]) > 0:
                self.b = b[:-1]
            return
        for suffix in ("ed", "ing"):
            if b.endswith(suffix) and self._has_vowel(b[: -len(suffix)]):
                self.b = b[: -len(suffix)]
                self._step1b_fix()
                return

    def _step1b_fix(self) -> None:
        b = self.b
        if b.endswith(("at", "bl", "iz")):
            self.b = b + "e"
        elif self._double_cons(len(b) - 1) and b[-1] not in "lsz":
            self.b = b[:-1]
        elif self._m(b) == 1 and self._cvc(len(b) - 1):
            self.b = b + "e"

    def _step1c(self) -> None:
        b = self.b
        if b.endswith("y") and self._has_vowel(b[:-1]):
            self.b = b[:-1] + "i"

    _STEP2 = (
        ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
        ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"),
        ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"),
        ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
        ("logi", "log"),
    )  # fmt: skip
    _STEP3 = (
        ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", ""),
    )  # fmt: skip
    _STEP4 = (
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism",
        "ate", "iti", "ous", "ive", "ize",
    )  # fmt: skip

    def _step2(self) -> None:
        for suffix, repl in self._STEP2:
            if self._replace(suffix, repl, 0):
                return

    def _step3(self) -> None:
        for suffix, repl in self._STEP3:
            if self._replace(suffix, repl, 0):
                return

    def _step4(self) -> None:
        b = self.b
        for suffix in sorted(self._STEP4, key=len, reverse=True):
            if not b.endswith(suffix):
                continue
            stem = b[: -len(suffix)]
            if suffix == "ion" and not stem.endswith(("s", "t")):
                return
            if self._m(stem) > 1:
                self.b = stem
            return

    def _step5(self) -> None:
        b = self.b
        if b.endswith("e"):
            stem = b[:-1]
            m = self._m(stem)
            if m > 1 or (m == 1 and not self._cvc_on(stem)):
                self.b = stem
        b = self.b
        if self._m(b) > 1 and self._double_cons(len(b) - 1) and b.endswith("l"):
            self.b = b[:-1]

    def _cvc_on(self, stem: str) -> bool:
        saved = self.b
        self.b = stem
        try:
            return self._cvc(len(stem) - 1)
        finally:
            self.b = saved
