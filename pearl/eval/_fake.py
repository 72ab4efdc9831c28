"""A fake model for measuring what a method costs (calls, prompt tokens) without a real model.

It answers instantly by prompt kind: a valid plan built from the question's words; for a
step, the first sentence it was shown, cited; a letter picked by a hash of the prompt (so
accuracy sits at chance); for free text, the first words of the first passage or result the
prompt shows (so free-text scores reflect only which context a method chose). Token counts
are real (tiktoken), so prompt sizes measured with it are the sizes a real model would get.
"""

from __future__ import annotations

import hashlib
import re

from pearl.context import FILE_LINE
from pearl.llm import CompletionRequest, FakeLLM
from pearl.questions import LETTERS

__all__ = ["counting_fake_llm", "fake_reply"]

_QUESTION = re.compile(r"^Question(?: being answered)?:[ \t]*(.*)$", re.MULTILINE)
_OPTION = re.compile(r"^\(([A-J])\) ", re.MULTILINE)
_LABEL = re.compile(r"\[S(\d+)\]")
_WORD = re.compile(r"[A-Za-z0-9']+")
_STOP = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been being do does did what which who "
    "whom whose why how when where that this these those it its as not any if there their they he she his her him "
    "them you your we our following best most likely story text article document according".split()
)


def _question(text: str) -> str:
    # A document can hold a line starting "Question:", and a planning prompt shows demonstrations'
    # questions first: in every prompt the question being answered is the last one.
    tail = text.rsplit("</document>", 1)[-1]
    found = _QUESTION.findall(tail)
    return found[-1].strip() if found else ""


def _key_phrase(question: str, words: int = 6) -> str:
    kept = [w for w in _WORD.findall(question) if w.lower() not in _STOP]
    return " ".join(kept[:words]) or "the main events"


def _quoted(text: str, limit: int = 200) -> str:
    # The plan language has no escapes we want to rely on; a straight quote becomes an apostrophe.
    return text.replace('"', "'").replace("\\", " ").replace("\n", " ")[:limit].strip() or "the question"


def _letter(text: str, count: int) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return LETTERS[digest[0] % count]


def _first_passage(text: str) -> str:
    """The start of the first thing the prompt shows: excerpts, the document, or the plan's first result."""
    for opening, closing in (("<excerpts", "</excerpts>"), ("<document", "</document>")):
        if opening in text:
            body = text.split(opening, 1)[1].split(">", 1)[-1]
            return body.split(closing, 1)[0].strip()
    if "Results of the plan:" in text:
        results = text.split("Results of the plan:", 1)[1]
        return results.split("-> ", 1)[-1].strip()
    return ""


def _first_sentence(passage: str, words: int = 30) -> tuple[str, str]:
    """Up to `words` words of the passage's first sentence, and its label ("[S12]") if it has one."""
    passage = FILE_LINE.sub("", passage).lstrip()  # a document of several files: "[file a.md]" opens its sentences
    label = _LABEL.search(passage)
    start = label.end() if label and label.start() < 5 else 0
    sentence = _LABEL.split(passage[start:], maxsplit=1)[0].split("\n\n", 1)[0]
    return " ".join(sentence.split()[:words]), f" [S{label.group(1)}]" if label and start else ""


def fake_reply(request: CompletionRequest) -> str:
    """The counting fake's reply to one request, chosen by the prompt's name (`request.prompt`)."""
    kind = (request.prompt or "").split(".", 1)[0].split("#", 1)[0]
    text = request.messages[-1].content if request.messages else ""
    question = _question(text)
    if kind in ("plan", "plan_fix"):
        return f's1 = FIND_X(CTX, "{_quoted(_key_phrase(question))}")\ns2 = ANSWER(CTX, "{_quoted(question)}")'
    letters = _OPTION.findall(text.rsplit("</document>", 1)[-1])
    steps = ("step", "step_nodoc", "step_paper")
    if kind not in steps and (letters or "Reply with the letter" in text or kind == "choose"):
        return _letter(text, max(2, len(letters)) if letters else 4)
    sentence, cite = _first_sentence(_first_passage(text))
    return (sentence or f"The document speaks of {_key_phrase(question, 4)}.") + cite


def counting_fake_llm(*, delay: float = 0.0, model: str = "counting-fake") -> FakeLLM:
    """A `FakeLLM` answering every prompt kind instantly (or after `delay` seconds) with `fake_reply`."""
    return FakeLLM(default=fake_reply, delay=delay, model=model)
