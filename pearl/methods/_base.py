"""What every answering method gets and gives: an `AskContext` in, an `Answer` out."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from pearl._text import attribute_value, counted, neutralise_fence
from pearl.actions import ActionLibrary
from pearl.config import Settings
from pearl.context import DocumentIndex, cite, rank_sentences
from pearl.execution import cited_ids
from pearl.llm import constrained
from pearl.models import Citation, Document, Trace
from pearl.prompts import Fitted, PromptTemplate, load_prompt
from pearl.protocols import LLM, StageProgress
from pearl.questions import Question, letter_alone, parse_choice
from pearl.trace import Recorder

__all__ = [
    "QUESTION_SHARES",
    "AskContext",
    "Chosen",
    "ReplyFormat",
    "answer_fields",
    "choose_letter",
    "citations_for",
    "labels_of",
    "letter_alone",
    "reply_format",
    "unshown_question",
]

_FREE_TEXT_TOKENS = 256
_CITED = 8
"""Citations an answer keeps at most, besides those its final reply wrote itself (see `_OWN_CITED`)."""
_OWN_CITED = 24
"""Citations of the final reply's own an answer keeps at most: every one, as a rule ("highlight the parts" of a
contract can take a dozen), the steps' then only where fewer than `_CITED` are kept."""
_LETTER_TOKENS = 8


@dataclass
class AskContext:
    """Everything a method may use to answer one question."""

    llm: LLM
    settings: Settings
    document: Document
    question: Question
    library: ActionLibrary
    load_index: Callable[[Document], DocumentIndex]
    trace: Trace = field(default_factory=Trace)
    on_stage: StageProgress | None = None
    aload_index: Callable[[Document], Awaitable[DocumentIndex]] | None = None
    """`load_index` off the event loop's thread (`Pearl.aindex`); without it, `load_index` runs in a worker thread."""
    _index: DocumentIndex | None = None

    @property
    def shown_name(self) -> str:
        """The document's name as prompts show it, in `name="..."` (`attribute_value`)."""
        return attribute_value(self.document.name)

    @property
    def recorder(self) -> Recorder:
        return Recorder(self.llm, self.trace, self.on_stage)

    def index(self) -> DocumentIndex:
        """The document's index, built (or loaded from the disk cache) on first use, in this thread."""
        if self._index is None:
            self._loaded(self.load_index(self.document))
        assert self._index is not None
        return self._index

    async def aindex(self) -> DocumentIndex:
        """`index()` off the event loop's thread, so that the loop runs other questions while a document is indexed."""
        if self._index is None:
            if self.aload_index is not None:
                index = await self.aload_index(self.document)
            else:
                index = await asyncio.to_thread(self.load_index, self.document)
            if self._index is None:  # steps started together each waited for it
                self._loaded(index)
        assert self._index is not None
        return self._index

    def _loaded(self, index: DocumentIndex) -> None:
        self._index = index
        self.recorder.note(
            "index",
            f"{index.sentence_count} sentences, {len(index.entities)} entities",
            tokens=index.tokens,
            sentences=index.sentence_count,  # for a page drawn without the document: which labels exist
        )


QUESTION_SHARES = {"question": 0.25, "options_block": 0.3}
"""The most of a prompt's room a question and its options may take; the evidence gets the rest."""


def unshown_question(ctx: AskContext, report: Mapping[str, Fitted]) -> str | None:
    """Why a one-call prompt cannot be sent, given what fitting it to the window kept (`report`): the question or its
    options lost (under `SHOWN_FLOOR` tokens left of them), so the model would answer without being asked; or None."""
    if any(report[field].lost for field in QUESTION_SHARES if field in report):
        return f"a {ctx.llm.context_window:,}-token window cannot hold even one call showing the question"
    return None


@dataclass(frozen=True)
class ReplyFormat:
    """How the final reply should look: the instruction (from the template's parts) and request parameters."""

    instruction: str
    params: dict[str, Any]

    @property
    def max_tokens(self) -> int:
        return int(self.params["max_tokens"])


def _letter_constraint(llm: LLM, question: Question) -> dict[str, Any]:
    _, constraint = constrained(llm, grammar=lambda: f"root ::= [{question.letters}]")
    return constraint


def reply_format(ctx: AskContext, template: PromptTemplate, *, cite: bool) -> ReplyFormat:
    """The reply instruction of `template` for this question (a letter, or free text citing `[S12]` labels)."""
    question = ctx.question
    if question.options:
        params = {"max_tokens": _LETTER_TOKENS, **_letter_constraint(ctx.llm, question)}
        return ReplyFormat(template.part("choice", letters=", ".join(question.letters)), params)
    return ReplyFormat(template.part("cite" if cite else "free"), {"max_tokens": _FREE_TEXT_TOKENS})


_CHOICE_TOKENS = 4
"""The reply of the call that maps an answer to a letter: the letter alone."""


# A short reply that declines to choose, as a whole: asked to map it to a letter, a compliant model picks one, and the
# refusal came out as a confident answer ("I'm sorry, I can't choose between these." gave A: helper-184). Only a reply
# that opens by declining: "the captain doesn't answer her letters, so ..." or "it does not say which, but most likely
# B" is an answer to map (helper-185).
_DECLINED = re.compile(
    r"\W*(?:(?:i'?m|i am)\s+sorry|sorry|i\s+(?:can(?:not|'t|\u2019t)|am\s+unable\s+to|won'?t|do\s+not|don'?t)\s+"
    r"(?:choose|determine|decide|pick|select|tell|say|answer|know)|none\s+of\s+(?:the|these|them)\b"
    r"|(?:it|this|the\s+answer)\s+cannot\s+be\s+(?:determined|answered)|(?:there\s+is\s+)?not\s+enough\s+information)",
    re.IGNORECASE,
)
_DECLINED_CHARS = 300
"""Replies longer than this are an answer's prose (the paper's executor's steps joined), mapped by the model."""
_REFUSING_OPTION = re.compile(r"\W*(?:none|neither|not enough|cannot)\b", re.IGNORECASE)  # "None of the above"


def declined(answer: str, options: Sequence[str] = ()) -> bool:
    """Whether `answer`, naming no option, is a short reply that opens by declining to choose one (see `_DECLINED`);
    not where an option is itself a refusal ("None of the above"), which the reply may be choosing."""
    if len(answer) > _DECLINED_CHARS or _DECLINED.match(answer) is None:
        return False
    return not any(_REFUSING_OPTION.match(option) for option in options)


async def choose_letter(ctx: AskContext, answer: str) -> str | None:
    """Map a free-form answer to an option letter: parse it, else ask the model (constrained where possible); None
    for a short reply that declines to choose, which no letter is asked for."""
    question = ctx.question
    letter = parse_choice(answer, len(question.options), question.options)
    if letter is not None or not question.options or declined(answer, question.options):
        return letter
    template = load_prompt("choose")
    letters = question.letters
    # A free-form answer can be long (the paper's executor joins every unused step output): cut to the window.
    values, _ = template.fit(
        ctx.llm.context_window,
        _CHOICE_TOKENS,
        QUESTION_SHARES | {"answer": 1.0},
        question=question.text,
        options_block=question.options_block(),
        # The paper's executor's answer is its steps' results, which may copy the document: no fence or chat token.
        answer=neutralise_fence(answer, labels=False),
        letters=", ".join(letters),
    )
    messages = template.render(**values)
    constraint = _letter_constraint(ctx.llm, question)
    reply = await ctx.recorder.acall("choose", template, messages, max_tokens=_CHOICE_TOKENS, **constraint)
    return parse_choice(reply.text, len(question.options), question.options)


class Chosen(TypedDict):
    """An `Answer`'s fields that say what it answers (`answer_fields`)."""

    answer: str
    letter: str | None
    explanation: str | None


def answer_fields(question: Question, letter: str | None, prose: str) -> Chosen:
    """An `Answer`'s `answer`, `letter` and `explanation`, made alike by every method.

    For multiple choice, `answer` is the chosen option's text, "" when `letter` is None (no option could be read),
    and `prose`, what the choice was read from, is the `explanation` unless it is the letter alone ("B", "(B)"):
    `answer` held the steps' prose for `pearl` and the model's reply for `direct`, "B" or a paragraph, so a script
    reading it got either. For free text, `answer` is `prose`.
    """
    prose = prose.strip()
    if not question.options:
        return Chosen(answer=prose, letter=None, explanation=None)
    explanation = None if letter_alone(prose, letter) else prose or None
    return Chosen(answer=question.option(letter or ""), letter=letter, explanation=explanation)


def citations_for(
    index: DocumentIndex,
    cited: Sequence[int],
    shown: Sequence[int],
    answer: str,
    question: Question,
    limit: int = 3,
    own: int = 0,
) -> tuple[list[Citation], list[str]]:
    """Citations for an answer: the sentences the model cited, else the shown ones closest to question and answer.

    `cited` holds the labels each call wrote of sentences it was shown, the final reply's own first (the first
    `own` of them): those are kept whole (up to `_OWN_CITED`), the steps' only up to `_CITED` in all. A label of
    `answer` that names no sentence of the document (`[S600]` in a shorter one), or one not in `cited` (written
    by a call that was not shown it; known when `shown` is given), is left out and noted.

    Returns:
        The citations, and notes: labels left out, or that the citations were inferred rather
        than cited by the model.
    """
    valid = [sid for sid in dict.fromkeys(cited) if 0 <= sid < index.sentence_count]
    if valid:
        notes = _left_out_labels(index, valid if shown else None, answer)
        mine = {sid for sid in cited[:own] if 0 <= sid < index.sentence_count}
        kept = max(_CITED, min(len(mine), _OWN_CITED))
        if len(valid) > kept:
            notes.append(_kept_note(len(valid), len(mine), kept))
        # Told apart: a sentence only a step cited was listed as the answer's own evidence (helper-217). A label the
        # answer's text shows is its own, whoever wrote it: a multiple-choice answer's explanation is the steps' prose,
        # its final reply a letter (helper-218: every citation was the steps', none the answer's). The answer's first.
        visible = set(cited_ids(answer))
        citations = [
            cite(index, sid).model_copy(update={"by_step": sid not in mine and sid not in visible})
            for sid in valid[:kept]
        ]
        return sorted(citations, key=lambda citation: citation.by_step), notes
    if not shown:
        return [], []
    allowed = set(shown)
    query = " ".join([question.text, answer])
    # Only sentences that share a word or a name with them: the document's opening scores a little for any query, and
    # "The document does not mention a warranty" was given its title and first sentences as evidence (helper-175).
    ranked = [sid for sid, _ in rank_sentences(index, query, matching=True) if sid in allowed][:limit]
    # None of the answer's labels is in `cited`: each was made up or written by a call not shown it
    # ("[S1]" copied from an instruction's example).
    notes = _left_out_labels(index, (), answer)
    inferred = (
        "evidence is the closest of the sentences the model was shown"
        if ranked
        else "no evidence: none of the sentences the model was shown shares a word with the question or the answer"
    )
    if notes:
        notes.append(inferred)
    elif loose := _LOOSE_LABEL.search(answer):  # it did name one, as pearl does not read a label: "sentence 4"
        notes.append(
            f"the model wrote {loose.group(0)!r}, which pearl does not read as a label ([S12] is one); {inferred}"
        )
    else:
        notes.append(f"the model cited no sentence; {inferred}")
    return [cite(index, sid).model_copy(update={"inferred": True}) for sid in sorted(ranked)], notes


# A sentence named otherwise than pearl's labels are read (`pearl._text.citations`): "(S4 above)", "sentence 4",
# "[7]", "{S7}", "【S7】", "as S7 says", "(see S7)", "S7, S8". Not a bare "S3": "Amazon S3", "stored as S3 objects",
# a step's "s2".
_LOOSE_LABEL = re.compile(
    r"\(\s*[Ss]\s*\d{1,7}\b[^()\n]{0,40}\)|\b(?i:sentences?)\s+\d{1,7}\b"
    r"|[\[{\u3010\uff3b]\s*S?\s*\d{1,7}\s*[\]}\u3011\uff3d]"
    r"|\b(?i:see|per)\s+S\d{1,7}\b|\b(?i:as)\s+S\d{1,7}\s+(?i:says|shows|states|notes|puts\s+it)\b"
    r"|\bS\d{1,7}(?:\s*,\s*S\d{1,7})+\b"
)


def _kept_note(cited: int, own: int, kept: int) -> str:
    """What `citations_for` says when it keeps `kept` of the `cited` sentences, `own` of them the final reply's: a
    count of the answer's and its steps' together read as the answer's own ("the model cited 14 sentences" of an
    answer that cited 6)."""
    if not own or own >= cited:
        return f"the model cited {cited} sentences; the evidence is the first {kept}"
    steps = cited - own
    said = f"the answer cited {counted(own, 'sentence')} and its steps {steps} more; the evidence is the answer's "
    if own > kept:
        return f"{said}first {kept}"
    return said + (f"{own} and the steps' first {kept - own}" if kept > own else f"{own}")


def unlabelled_notes(text: str, method: str) -> list[str]:
    """A note when a reply of a method that shows the document without labels (`direct`, `pearl-fulldoc`) writes
    some: each is the model's invention (or a guess), and the answer has no citations."""
    labels = cited_ids(text)
    if not labels:
        return []
    return [
        f"the model wrote {labels_of(labels)}, but {method} shows the document without sentence labels: "
        "they name no sentence it was shown, so the answer has no citations"
    ]


def labels_of(sids: Sequence[int], most: int = 5) -> str:
    """`[S3], [S600]`, the first `most` of `sids`, and how many more."""
    shown = ", ".join(f"[S{sid}]" for sid in sids[:most])
    return shown + (f" and {len(sids) - most} more" if len(sids) > most else "")


def _left_out_labels(index: DocumentIndex, backed: Sequence[int] | None, answer: str) -> list[str]:
    """Notes on the labels of `answer` its citations leave out: made up (no such sentence), or not in
    `backed` (the labels calls wrote of sentences they were shown).

    With `backed` None, what the model saw is unknown: only labels past the document's end are noted.
    """
    count = index.sentence_count
    allowed = set(backed or ())
    labels = cited_ids(answer)
    made_up = [sid for sid in labels if not 0 <= sid < count]
    unshown = [sid for sid in labels if 0 <= sid < count and backed is not None and sid not in allowed]
    notes = []
    if made_up:
        last = f"[S0] to [S{count - 1}]" if count else "none"
        notes.append(
            f"the model cited {labels_of(made_up)}, which the document does not have (its sentences are {last}); "
            "left out of the evidence"
        )
    if unshown:
        notes.append(f"the model cited {labels_of(unshown)}, which it was not shown; left out of the evidence")
    return notes
