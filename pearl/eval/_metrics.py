"""Answer metrics (SQuAD-style exact match and token F1, ROUGE-L) and question types.

Free-text metrics take one gold answer; `best_over` takes the best over several, as SQuAD
does when a question has more than one acceptable answer.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from pearl._text import citations
from pearl.eval._models import EvalQuestion
from pearl.models import Answer

__all__ = [
    "EVIDENCE_MIN_WORDS",
    "as_shown",
    "best_over",
    "evidence_blocks",
    "evidence_shown",
    "exact_match",
    "normalize_answer",
    "question_type",
    "rouge_l",
    "score_answer",
    "strip_citations",
    "token_f1",
]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+")
_LABEL = re.compile(r"\[S\d+\]")
# The fences prompts show the document in (`prompts/*.md`); `neutralise_fence` keeps document text from closing one.
_EVIDENCE_BLOCK = re.compile(r"<(?P<tag>document|excerpts)\b[^>]*>(?P<body>.*?)</(?P=tag)>", re.DOTALL)

EVIDENCE_MIN_WORDS = 3
"""A gold answer shorter than this is not looked for in the prompts: one or two words stand somewhere in a
long prompt by chance."""


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles (a, an, the), single spaces. Punctuation is
    Unicode's as well as ASCII's: "Tr’en" is "Tr'en", "2010–2012" is "2010-2012" (helper-183)."""
    text = text.lower().translate(_PUNCTUATION)
    if not text.isascii():
        text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def strip_citations(text: str) -> str:
    """The answer without sentence labels like `[S12]` or `[S12, S14]` (`pearl._text.citations`), which would count
    as words that are not in the gold, each with the spaces before it."""
    kept: list[str] = []
    last = 0
    for start, end, _ in citations(text):
        kept.append(text[last:start].rstrip())
        last = end
    kept.append(text[last:])
    return "".join(kept).strip()


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the normalised answers are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token F1 between the normalised answers (1.0 when both are empty, 0.0 when one is)."""
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred)
    recall = same / len(ref)
    return 2 * precision * recall / (precision + recall)


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, gold: str) -> float:
    """ROUGE-L F1 (beta = 1): longest common subsequence of lower-cased alphanumeric tokens, no stemming."""
    pred = _ROUGE_TOKEN.findall(prediction.lower())
    ref = _ROUGE_TOKEN.findall(gold.lower())
    if not pred or not ref:  # as rouge-score does: two answers of no letter or digit ("Я не знаю", "北京") share none
        return 0.0
    lcs = _lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision = lcs / len(pred)
    recall = lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_over(metric: Callable[[str, str], float], prediction: str, golds: Sequence[str]) -> float:
    """The best score of `prediction` against any of `golds` (0.0 when there are none)."""
    return max((metric(prediction, gold) for gold in golds), default=0.0)


# Checked in this order: a "Why ... EXCEPT" question is a not/except question, which is what
# makes it hard; PEARL reports these groups (why, person, not/except, numeric) separately.
_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "not-except",
        re.compile(
            # capitals mark the negation in QuALITY ("NOT", "EXCEPT"); a lower-case "not" only in "which ... not"
            r"\bNOT\b|(?i:\bexcept\b|\bleast (?:likely|accurate|true)\b"
            r"|\bwhich (?:of the following )?(?:\w+ ){0,3}(?:is|was|are|were|does|did|do|would|could) not\b)",
        ),
    ),
    (
        "numeric",
        re.compile(
            r"\bhow (?:many|much|long|old|far|often|tall|big|large|fast)\b|\bwhat (?:year|percentage|percent|number)\b"
            r"|\bnumber of\b",
            re.IGNORECASE,
        ),
    ),
    (
        "why",
        re.compile(
            # "What is the most likely reason ...", "What was the main reason ...": a reason asked for, as "why" asks
            r"\bwhy\b|\bwhat (?:is|was|are|were) (?:the |a )?(?:\w+ ){0,3}reasons?\b|\bfor what reason\b"
            r"|\bwhat (?:motivat|caus)",
            re.IGNORECASE,
        ),
    ),
    ("who", re.compile(r"\bwho(?:m|se)?\b|\bwhich (?:character|person|people)\b", re.IGNORECASE)),
)


def question_type(text: str) -> str:
    """The question's type: "why", "who", "not-except", "numeric" or "other" (options are not looked at)."""
    for name, pattern in _TYPES:
        if pattern.search(text):
            return name
    return "other"


def as_shown(text: str) -> str:
    """`text` as gold spans are looked for in it: sentence labels and soft hyphens out, lower case, single spaces.

    (pearl's renderer drops soft hyphens, `direct` keeps them: a gold must not depend on which method showed it.)
    """
    return " ".join(_LABEL.sub(" ", text.replace("\u00ad", "")).lower().split())


@functools.lru_cache(maxsize=8)
def _document_as_shown(document: str) -> str:
    """`as_shown(document)`, once per document for all its questions and methods."""
    return as_shown(document)


def evidence_blocks(prompt: str) -> list[str]:
    """The document's text in `prompt`: what stands inside its `<document>` and `<excerpts>` blocks.

    Only there: the question, the plan and the steps' results are in the prompt too, and a model's own
    words, or the question's, may hold a gold answer that the document was never shown for.
    """
    return [match["body"] for match in _EVIDENCE_BLOCK.finditer(prompt)]


def evidence_shown(question: EvalQuestion, document: str, prompts: Iterable[str]) -> bool | None:
    """Whether one of `prompts` (what the run sent the model, each request's messages joined) showed a gold
    answer as the document writes it, in one of its evidence blocks (`evidence_blocks`): the measure
    `benchmarks/evidence_reach.py` takes, for a real model's run.

    None where it cannot be told: a multiple-choice question, or a free-text one none of whose gold answers
    (`EVIDENCE_MIN_WORDS` words or more) is a span of the document. Case, white space, soft hyphens and
    sentence labels (`[S12]`) are ignored; the gold must stand whole in one block, not pieced together
    across blocks or prompts.
    """
    if question.kind != "free":
        return None
    text = _document_as_shown(document)
    golds = {as_shown(gold) for gold in (question.golds or [question.gold])}
    spans = [gold for gold in golds if len(gold.split()) >= EVIDENCE_MIN_WORDS and gold in text]
    if not spans:
        return None
    blocks = (as_shown(block) for prompt in prompts for block in evidence_blocks(prompt))
    return any(span in block for block in blocks for span in spans)


def score_answer(question: EvalQuestion, answer: Answer) -> dict[str, object]:
    """The scoring fields of a result row for `answer` (see `ResultRow`)."""
    if question.kind == "choice":
        correct = answer.letter is not None and answer.letter == question.gold
        return {
            "prediction": answer.letter or "",
            "correct": correct,
            "unparseable": answer.letter is None,
            "score": float(correct),
        }
    prediction = strip_citations(answer.answer)
    golds = question.golds or [question.gold]
    f1 = best_over(token_f1, prediction, golds)
    return {
        "prediction": prediction,
        "score": f1,
        "em": best_over(exact_match, prediction, golds),
        "f1": f1,
        "rouge_l": best_over(rouge_l, prediction, golds),
    }
