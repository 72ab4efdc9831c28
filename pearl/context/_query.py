"""Turn a question into weighted retrieval terms.

Questions carry words that say how to answer, not what to look for ("Highlight the parts (if
any) of this contract related to ...", "Which of the following ...", option letters). Those
words match sentences at random, so they are removed before retrieval. Quoted phrases (a
clause category, a defined term) say what the question is about and weigh more.
"""

from __future__ import annotations

import re

from pearl.context._terms import terms

__all__ = ["clean_query", "cleaned_terms", "query_terms"]

_BOILERPLATE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"highlight the parts?\s*(?:\(if any\))?\s*of (?:this|the) (?:contract|agreement|document|text)\s*"
        r"(?:that (?:is|are) )?related to",
        r"that should be reviewed by a lawyer\.?",
        r"\bdetails\s*:",
        r"\bwhich of the following(?: statements?| options?| choices?| best describes?| is true| is not true)?",
        r"\b(?:according to|based on|in) the (?:passage|text|article|story|paper|document|author|contract|excerpt)\b",
        r"\b(?:answer|question|options?|choices?)\s*:",
        r"\b(?:please|briefly|explain|describe|summari[sz]e|list|identify|find|tell me)\b",
        r"\b(?:does|do|did|is|are|was|were) the (?:paper|authors?|article|story|passage)"
        r" (?:mention|say|state|describe)",
        r"\bthis includes?\b",
        r"\bthis category includes?\b",
    )
]
# Option labels "(A)" ... "(D)" and "A." at the start of an option line.
_OPTION_LABEL = re.compile(r"\(\s*[A-Ha-h]\s*\)|^\s*[A-H][.)]\s", re.MULTILINE)
_QUOTED = re.compile(r"[\"“”]([^\"“”]{2,80})[\"“”]")


def clean_query(query: str) -> str:
    """`query` without instruction boilerplate and option labels."""
    text = _OPTION_LABEL.sub(" ", query)
    for pattern in _BOILERPLATE:
        text = pattern.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def query_terms(query: str, quoted_weight: float = 2.0) -> dict[str, float]:
    """Weighted stemmed terms of a question, boilerplate removed.

    A term counts once however often it repeats (a repeated word in a question is usually
    the template repeating itself); terms inside quotes weigh `quoted_weight`.
    """
    return cleaned_terms(clean_query(query), quoted_weight)


def cleaned_terms(cleaned: str, quoted_weight: float = 2.0) -> dict[str, float]:
    """`query_terms` of a query already cleaned (`clean_query`), where the caller needs the cleaned text too."""
    weights: dict[str, float] = dict.fromkeys(terms(cleaned), 1.0)
    for phrase in _QUOTED.findall(cleaned):
        for term in terms(phrase):
            weights[term] = max(weights.get(term, 0.0), quoted_weight)
    return weights
