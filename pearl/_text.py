"""Word overlap, the one crude similarity pearl uses where a model or an index would be overkill.

Demonstrations are chosen by it (tf-idf over these stems), the planner's slice of the action
library, and the deterministic fallback when merging mined actions.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["STOP_WORDS", "word_stems"]

_WORD = re.compile(r"[a-z0-9]+")

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
