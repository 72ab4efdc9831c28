"""What the calls about one question see of the document: evidence chosen from the index (pearl), or the
whole document cut to the window (pearl-fulldoc, the paper's executor).

Every call a question makes (each step that reads the document, and the final answer) opens with
the same *shared* evidence: the sentences that best answer the question itself. The final answer
call, which decides, adds more evidence for the question: at least as much as a single `rag` call
shows, so pearl never shows the model less about the question than `rag` would. A step adds
evidence of its own, chosen for its arguments from the sentences no call shows yet, so that the
calls together cover more of the document than any one call could; a step that takes the
document alone (SUMMARIZE(CTX), FIND_MORAL(CTX)) has nothing to search for and is shown the whole
document skimmed (`skim`), the answer call's evidence not passed over. The shared part is identical
in every prompt and comes first, which lets a server reuse its prompt cache. The answer call also
shows the document's opening, where a document says what it is and who it concerns, whatever the
question's words. A plan's closing step, on a free-text question (ANSWER, or another step that reads
the document for words of its own: see `pearl.methods`), is carried out by the answer call, which is
given the step's budget too and spends it as the step would have: on the question when the step's
arguments ask nothing else, else on their words first (`EvidenceBudget.closing`).

How much each call may show (`evidence_budget`) follows the model's window and the document: a
document shorter than one call's budget, or than what one `rag` call shows, is shown whole; a
longer one gets a fixed share of what the window can hold, so the cost grows with the window
instead of staying at a constant. A document short enough that every sentence of it, shown once,
comes to at most `SHARE_OUT` of what the paper's executor shows (the whole document, cut to the
window, in each of the plan's steps that read it) is shared out: the steps that search take, besides their own budget,
their part of what no call shows yet, the best for their words first, so that every sentence
reaches some call. A plan with one searching step and the answer call never does: two calls
showing the document once between them would already be half of the paper's two; a plan of many
such steps may share out a document longer than the window (the paper's executor cuts it to the
window in every step). Only with `step_budget` auto.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Literal

from pearl._text import consecutive_runs, neutralise_fence
from pearl.config import DEFAULT_STEP_SHARE
from pearl.context import (
    DocumentIndex,
    SentenceFlag,
    compress,
    query_terms,
    rank_sentences,
    render_sentences,
    sentence_cost,
    skim,
)
from pearl.models import StepRequest, StepSlice
from pearl.planning import Step
from pearl.questions import Question
from pearl.tokens import count_tokens, truncate_to_tokens

__all__ = [
    "ANSWER_SHARE",
    "AUTO_SHARE",
    "MIN_CALL_TOKENS",
    "NOTE_TOKENS",
    "OPENING_SHARE",
    "SHARED_SHARE",
    "SHARE_OUT",
    "CompressedStepContext",
    "EvidenceBudget",
    "FullDocumentContext",
    "evidence_budget",
]

AUTO_SHARE = DEFAULT_STEP_SHARE
"""The share of the document an "auto" step is shown unless `Settings.step_share` says otherwise
(`pearl.config.DEFAULT_STEP_SHARE`)."""
MIN_CALL_TOKENS = 400
"""...but never less than this: below it a step sees too little to work with."""
SHARED_SHARE = 0.15
"""Of one step's evidence, the share that is the question's own (shown to every call, first)."""
ANSWER_SHARE = 1.5
"""The final answer call shows the question's own evidence at this multiple of a step's budget,
and at least `Settings.context_budget`, what `rag` shows, whatever the document's length: it is
the call that decides, and it never shows the model less about the question than `rag` does."""
SHARE_OUT = 0.4
"""What all the calls about a question show together, at most, when the steps share out the rest of a short
document (`EvidenceBudget.shares_out`): this share of what the paper's executor shows, the document (cut to the
window) in every step that reads it."""
NOTE_TOKENS = 16
"""Room kept for an evidence block's note ("12 more sentences, chosen for this step"), which is
written only once the sentences are chosen. The longest notes (a skimmed step's, with sentences for
the question and some repeated) run to about 25 tokens: the rest comes out of the 64 tokens every
prompt keeps free besides `Settings.token_margin` (`PromptTemplate.room_for`)."""
OPENING_SHARE = 0.15
"""The final answer call also shows the document's opening, in this share of a step's budget
(tables of contents and page furniture skipped; see `_opening`): a contract names its parties
and date there, a paper states its contribution, a web page says what it is about. It comes on
top of the question's evidence and repeats none of it. A share of a step's budget, not a fixed
number, so that it grows with the window as the rest does and weighs the same in the cost of a
question whatever the document's length."""


@dataclass(frozen=True)
class EvidenceBudget:
    """Tokens of evidence per call: `shared` in every call, `step` more for each step; `whole`: the document."""

    shared: int
    step: int
    whole: bool = False
    answer: int = 0
    """Tokens of evidence for the question in the final answer call, the shared part included."""
    opening: int = 0
    """Tokens of the document's opening the final answer call shows besides (see `OPENING_SHARE`)."""
    closing: bool = False
    """The final answer call carries out the plan's closing step, and `answer` includes that step's budget."""
    later: int = 0
    """Tokens more for the question the answer call may show once the steps have replied, where their
    results leave room: what `answer` would be if every result could not be at its longest. (Shared sentences
    repeated beside them, to show a passage whole, are not counted in it: see `more_for_question`.)"""
    shares_out: bool = False
    """The steps that search share out what no call shows yet, so that every sentence of the document reaches
    some call: it is short enough that the calls together then show at most `SHARE_OUT` of what the paper's
    executor would. (Never with a plan of one step that reads the document besides the answer call: that would
    take the whole document, where the paper's two calls show it twice.) Only with `step_budget` auto."""
    sharers: int = 0
    """The steps that share it out (`searching_steps`), when `shares_out`; else 0."""
    floor: int = 0
    """What a `rag` call shows: these tokens are chosen first, exactly as `rag` chooses them, and `answer`
    beyond them goes to the question's next best sentences. (Choosing all of `answer` at once could leave
    out a sentence `rag` shows: a larger budget packs differently.) Where `answer` is smaller (a small
    window), the answer call shows the most relevant of them and the steps the rest."""


def evidence_budget(
    index: DocumentIndex,
    room: int,
    setting: int | Literal["auto"],
    answer_floor: int = 0,
    *,
    closing_answer: bool = False,
    answer_room: int | None = None,
    closing_reply: int = 0,
    share: float = AUTO_SHARE,
    reading_steps: int = 0,
    searching_steps: int = 0,
) -> EvidenceBudget:
    """How much evidence each call about one question may show.

    Args:
        index: the document's index.
        room: tokens a step prompt has for evidence in the model's window.
        setting: `Settings.step_budget`: tokens per call, or "auto" (`share` of the
            document cut to the window, at least `MIN_CALL_TOKENS`).
        answer_floor: the question's own evidence the final answer call shows at least
            (`Settings.context_budget`, what `rag` shows), so that the answer call never sees
            less of the document about the question than a single `rag` call would, and a
            document no longer than `answer_floor` (which `rag` shows entire) whole, in every call.
        closing_answer: the plan ends with a step the final answer call can carry out (ANSWER, or
            one that reads the document for words of its own)
            itself (see `pearl.methods.answer_from_plan`): where the window holds it, that step's
            evidence budget goes to the answer call, which spends it on the question.
        answer_room: tokens of evidence the final answer call holds whatever the steps reply,
            when it carries out the closing step; `room` when not given. The answer call
            is given no more than it holds, so that no sentence is set aside for it and then
            shown to no call.
        closing_reply: tokens the closing step's reply takes from `answer_room` at
            most, when it runs as a step instead.
        share: `Settings.step_share`, the share of the document cut to the window an "auto" step is given.
        reading_steps: the plan's steps that read the document (each of which the paper's executor shows it whole,
            cut to the window), the one the answer call carries out included.
        searching_steps: those run as steps that look for words of their own before anything runs: they can share
            out what no call shows yet (`EvidenceBudget.shares_out`).
    """
    wanted = max(MIN_CALL_TOKENS, round(share * min(index.tokens, room))) if setting == "auto" else setting
    per_call = max(1, min(wanted, room))
    # Labels and line breaks make the rendered document a little longer than the text itself.
    rendered = sum(index.sent_tokens) + 4 * index.sentence_count
    # A document one call's budget holds, or one `rag` call would show entire, is shown whole to every call
    # (any part of the latter would show the model less of it than `rag` does, for a saving of a few hundred
    # tokens a call), where the answer call holds it too.
    holds = room if answer_room is None else answer_room
    if rendered <= min(max(per_call, answer_floor), room, holds):
        return EvidenceBudget(shared=max(per_call, rendered), step=0, whole=True, closing=closing_answer)
    shared = round(SHARED_SHARE * per_call)
    question = answer_floor
    answer = max(question, round(ANSWER_SHARE * per_call))
    # Only where the window holds that step's evidence too, the opening besides: otherwise the step runs
    # as a step, and nothing is lost.
    opening = round(OPENING_SHARE * per_call)
    closing = closing_answer and answer + per_call - shared + opening <= room
    wanted = min(answer + (per_call - shared if closing else 0), room)
    # Set aside now only what the answer call holds whatever the steps reply; the rest it chooses once
    # they have replied, in the room their results leave (`later`).
    held = room if answer_room is None else max(shared, min(room, answer_room - (0 if closing else closing_reply)))
    answer = min(wanted, held)
    # The opening only where the window holds it besides the question's evidence: it is claimed from
    # the steps before the answer call is fitted, and a window too small for it would show it to no call.
    opening = min(opening, max(0, held - answer))
    # Every sentence once, and the shared block again in each step: within `SHARE_OUT` of the paper's cost, on a
    # document short enough, the steps take all that no call shows.
    whole_once = rendered + shared * searching_steps
    # (The paper's executor cuts a longer document to the window: a plan of many steps may share out a document
    # longer than one call holds, every sentence of it shown, and still cost less.)
    shares_out = (
        setting == "auto"  # a number is what a step is given, as the user set it
        and searching_steps > 0
        and whole_once <= SHARE_OUT * reading_steps * min(rendered, room)
    )
    return EvidenceBudget(
        shared=shared,
        step=per_call - shared,
        answer=answer,
        opening=opening,
        closing=closing,
        later=wanted - answer,
        floor=question,
        shares_out=shares_out,
        sharers=searching_steps if shares_out else 0,
    )


def _question_query(question: Question) -> str:
    return " ".join([question.text, *question.options])


def _adds_words(step: Step, query: str) -> bool:
    """Whether `step`'s text arguments look for something `query` does not: a word of their own.

    A term found inside the query's text is none: an argument that copies the question and is cut
    ends in a piece of one of its words ("Non-Com").
    """
    own = query_terms(" ".join(step.strings)).keys() - query_terms(query).keys()
    text = query.lower()
    return any(term not in text for term in own)


def _reads_whole(strings: list[str], inputs: list[str]) -> bool:
    """Whether a step takes the document alone (SUMMARIZE(CTX)): no text to search for, no earlier result."""
    return not inputs and not any(s.strip() for s in strings)


def _bridged(index: DocumentIndex, ids: list[int], shared: list[int], room: int) -> list[int]:
    """`ids` with the shared sentences that adjoin them, as far as `room` allows.

    A passage whose start the shared evidence shows and whose rest this step's evidence shows
    would otherwise be read in two pieces, blocks apart; repeating the shared part here costs
    a few tokens and gives the step the passage whole.
    """
    have = set(ids)
    pool = set(shared)
    for sid in sorted(have):
        for step in (-1, 1):
            other = sid + step
            while other in pool and other not in have and sentence_cost(index, other) <= room:
                have.add(other)
                room -= sentence_cost(index, other)
                other += step
    return sorted(have)


def _repeated(count: int) -> str:
    """An evidence note's word on the shared sentences `_bridged` repeats, so its count is of every sentence shown."""
    return f" ({count} repeated from above)" if count else ""


def _opening(index: DocumentIndex, budget: int, shown: set[int]) -> list[int]:
    """The document's first sentences within `budget` tokens, less those in `shown`.

    Tables of contents, page furniture and lists of sources are skipped: they say nothing. The titles and the
    first sentence after them are taken whole even when they run past the budget, by up to the
    budget again: a contract's preamble, the one sentence that names its parties, is often long.
    """
    skip = SentenceFlag.NOT_CONTENT
    ids: list[int] = []
    used = 0
    body = first = False  # a sentence after the titles begun / still in the first such sentence
    for sid in range(index.sentence_count):
        flags = index.sent_flags[sid]
        if flags & skip:
            continue
        first = not body or (first and bool(flags & SentenceFlag.CONTINUATION))
        used += sentence_cost(index, sid)
        if used > (2 * budget if first else budget):
            break
        body = body or not flags & SentenceFlag.HEADING
        if sid not in shown:
            ids.append(sid)
    return ids


class CompressedStepContext:
    """Evidence from the index: the question's best sentences for every call, then each step's own.

    A step's own evidence is chosen for its text arguments, the results passed to it and its
    explanation, with the question's terms behind them, from the sentences no call has been
    given yet: steps that take no earlier result are served in plan order, each after the one
    before it, so what they see is decided before anything runs and does not depend on timing.
    On a short document, where what the answer call shows leaves less than a step's budget,
    a step may be shown again what the answer call shows: only its own search serves it there.
    A step with neither text arguments nor results is shown the whole document skimmed, which may
    repeat what the answer call shows. Where the answer call cannot hold what a `rag` call shows
    (a small window), those steps also carry the rest of it, passages whole, and the answer call
    shows it again as far as the room the steps' results leave allows.

    Args:
        index: the document's index.
        question: the question being answered.
        budget: from `evidence_budget`.
    """

    def __init__(
        self,
        index: DocumentIndex,
        question: Question,
        budget: EvidenceBudget,
        closing: Step | None = None,
        sharers: int = 0,
    ) -> None:
        self.index = index
        self.budget = budget
        # Steps still to be served that share out what no call shows (`EvidenceBudget.shares_out`).
        self._sharers = sharers if budget.shares_out else 0
        self._question = question
        self._query = _question_query(question)
        if budget.whole:
            ids = list(range(index.sentence_count))
            self._shared = StepSlice(text=render_sentences(index, ids), sentence_ids=ids, note="the whole document")
        else:
            piece = compress(index, self._query, budget.shared)
            note = f"{len(piece.sentence_ids)} of {index.sentence_count} sentences, chosen for the question"
            self._shared = StepSlice(text=piece.text, sentence_ids=piece.sentence_ids, note=note)
        self._claimed: set[int] = set(self._shared.sentence_ids)
        # The answer call's further evidence is chosen now, and steps that search look beyond it. The
        # closing step it carries out brings its budget: spent on the question when the step asks
        # what the question asks, else as the step would have spent it, so that ANSWER(CTX, "X") still looks for X.
        # (A document shown whole leaves no step budget to steer with.)
        steers = closing is not None and budget.closing and budget.step > 0 and _adds_words(closing, self._query)
        steered = closing if steers else None
        # What `rag` shows that the answer call may not hold (a small window): the steps show it, as
        # they are served, besides their own evidence; the answer call too, where its room allows.
        self._owed: list[int] = []
        self._ranks: dict[int, int] | None = None  # the question's ranking of the sentences, once needed
        self._shown: set[int] = set()  # what the steps have been shown besides the shared evidence
        # The step's budget, as far as the answer call holds it besides the shared evidence (a small window
        # holds less): what is set aside for it and not shown there would be shown to no call.
        steering = min(budget.step, budget.answer - count_tokens(self._shared.text)) if steered else 0
        self._more = self._more_ids(budget.answer - max(0, steering))
        self._rag_rest = list(self._owed)
        self._claimed.update(self._more, self._owed)
        self._closing: list[int] = []
        self._closing_action = closing.action if closing is not None else ""
        self._opening: list[int] = []  # chosen below; `_choose` reads it
        self._repeatable: set[int] = set()  # what a step may be shown again although the answer call shows it
        if steered is not None and steering > 0:
            self._closing = self._choose(steered.strings, [], steered.explanation, steering)
        self._opening = _opening(index, budget.opening, self._claimed)
        self._claimed.update(self._opening)
        # On a short document the answer call shows most of it, and a step that looked only beyond that would
        # be shown what is left, however little of it is about the step: there a step looks beyond the shared
        # evidence and the other steps' alone, and may repeat what the answer call shows.
        left = sum(cost for _, cost in self._unshown_costs(set()))
        if left < budget.step:
            self._repeatable = self._claimed - set(self._shared.sentence_ids)

    def _more_ids(self, total: int) -> list[int]:
        """The question's best sentences within `total` tokens, less those the shared evidence shows.

        First what `rag` shows (the same query and budget: `EvidenceBudget.floor`), then the
        question's next best sentences in what is left, so the answer call shows everything a
        `rag` call would. Where `total` cannot hold what `rag` shows, the most relevant of it, and
        the rest is owed to the steps (`_owed`).
        """
        if self.budget.whole:
            return []
        shared = set(self._shared.sentence_ids)
        floor = self.budget.floor
        base = set(compress(self.index, self._query, floor).sentence_ids) - shared if floor > 0 else set()

        room = total - count_tokens(self._shared.text)  # the answer call shows the shared block, then these
        if count_tokens(render_sentences(self.index, sorted(base))) > room:
            head = set(self._best_of(base, room))
            self._owed = sorted(base - head)
            return sorted(head)
        return self._added(sorted(base), room, lambda spare: self._next_best(spare, base | shared))

    def _best_of(self, pool: Collection[int], budget: int) -> list[int]:
        """The passages of `pool` most relevant to the question within `budget` tokens.

        A passage is a run of consecutive sentences, taken whole where it fits: a call that shows
        half of one and another call the rest shows it to no call whole. In the room left after
        the passages that fit, the best stretch of each that did not: from its best sentence,
        growing towards the better of its neighbours.
        """
        if not pool or budget < 1:
            return []
        if self._ranks is None:
            self._ranks = {sid: n for n, (sid, _) in enumerate(rank_sentences(self.index, self._query))}
        ranks = self._ranks
        runs = consecutive_runs(sorted(pool))

        def rank(sid: int) -> int:
            return ranks.get(sid, len(ranks))

        def fits(ids: set[int]) -> bool:
            return count_tokens(render_sentences(self.index, sorted(ids))) <= budget

        runs.sort(key=lambda run: min(map(rank, run)))
        chosen: set[int] = set()
        for run in runs:
            if fits(chosen | set(run)):
                chosen |= set(run)
        for run in runs:
            if chosen.issuperset(run):
                continue
            first = last = run.index(min(run, key=rank))
            if not fits(chosen | {run[first]}):
                continue
            while True:
                sides = [i for i in (first - 1, last + 1) if 0 <= i < len(run)]
                grown = [
                    i
                    for i in sorted(sides, key=lambda i: rank(run[i]))
                    if fits(chosen | set(run[min(first, i) : max(last, i) + 1]))
                ]
                if not grown:
                    break
                first, last = min(first, grown[0]), max(last, grown[0])
            chosen |= set(run[first : last + 1])
        return sorted(chosen)

    def _next_best(self, budget: int, shown: set[int]) -> list[int]:
        """The question's best sentences within `budget` tokens, less `shown`."""
        piece = compress(self.index, self._query, budget, exclude=shown) if budget > 0 else None
        return [] if piece is None or piece.truncated else piece.sentence_ids

    def _added(
        self, ids: list[int], room: int, pick: Callable[[int], list[int]], *, least: int = NOTE_TOKENS
    ) -> list[int]:
        """`ids` with what `pick(spare)` chooses, within `room` tokens; no search for `least` tokens or fewer.

        Two choices rendered as one are not the sum of their counts (lines join, labels merge): what
        is left is measured on the rendering, and the second choice shrunk by what it ran over.
        """
        spare = room - count_tokens(render_sentences(self.index, ids))
        while spare > least:
            more = pick(spare)
            if not set(more) - set(ids):
                break
            both = sorted({*ids, *more})
            over = count_tokens(render_sentences(self.index, both)) - room
            if over <= 0:
                return both
            spare -= over
        return ids

    def shared(self) -> StepSlice:
        return self._shared

    def more_for_question(self, room: int) -> StepSlice:
        ids = sorted([*self._more, *self._closing, *self._opening])
        if room < 1:
            return StepSlice(text="")
        # The room the steps' results left, up to `later` tokens more: first for what `rag` shows that the
        # steps were given, then for the question's next best sentences that no call has shown.
        limit = min(room, count_tokens(render_sentences(self.index, ids)) + self.budget.later)
        ids = self._added(ids, limit, lambda spare: self._best_of(self._rag_rest, spare))
        seen = {*self._shared.sentence_ids, *self._shown}
        ids = self._added(ids, limit, lambda spare: self._next_best(spare, seen | set(ids)))
        if not ids:
            return StepSlice(text="")
        text = render_sentences(self.index, ids)
        tokens = count_tokens(text)
        if tokens > room:  # a smaller window than the budget assumed: the most relevant that fit
            others = set(range(self.index.sentence_count)) - set(ids)
            piece = compress(self.index, self._query, room, exclude=others)
            if piece.truncated or not piece.sentence_ids:
                return StepSlice(text=piece.text, sentence_ids=piece.sentence_ids, note="cut to fit")
            ids, text, tokens = piece.sentence_ids, piece.text, piece.tokens
        chosen = set(ids)
        # The shared sentences beside these are repeated from the room, beyond `later`: a gold span that runs from
        # a shared sentence into one of these is in no prompt unless the two are rendered together. Paid from
        # `later` instead (new sentences first), contracts' reach fell from 0.895 to 0.789 for 173 tokens less a
        # question (`benchmarks/evidence_reach.py --dense off`, session 64).
        bridged = _bridged(self.index, ids, self._shared.sentence_ids, room - tokens)
        if len(bridged) > len(ids):
            ids, text = bridged, render_sentences(self.index, bridged)
        purposes = ["the question"]
        purposes += [f"the {self._closing_action} step"] if chosen & set(self._closing) else []
        purposes += ["the document's opening"] if chosen & set(self._opening) else []
        named = " and ".join([", ".join(purposes[:-1]), purposes[-1]] if len(purposes) > 1 else purposes)
        note = f"{len(chosen)} more sentences, chosen for {named}" + _repeated(len(ids) - len(chosen))
        return StepSlice(text=text, sentence_ids=ids, note=note)

    def slice(self, request: StepRequest, room: int) -> StepSlice:
        budget = min(self.budget.step, room)
        if self.budget.whole or budget < 1:
            return StepSlice(text="")
        last = False
        if self._sharers > 0 and not request.inputs and not _reads_whole(request.strings, request.inputs):
            # Its share of what no call shows yet, the best for it first: the last step takes the rest.
            left = sum(cost for _, cost in self._unshown_costs(set()))
            budget = min(room, max(budget, -(-left // self._sharers) + NOTE_TOKENS))
            self._sharers -= 1
            last = self._sharers == 0
        # What the answer call may not hold of the question's evidence comes first; the step's own
        # evidence keeps at least half its budget. Only steps served before anything runs carry it: one that
        # reads earlier results is served when they exist, and what it saw would depend on timing.
        owed = [] if request.inputs else self._best_of(self._owed, room - max(1, budget // 2))

        def own_for(spare: int) -> list[int]:
            return self._choose(request.strings, request.inputs, request.explanation, min(budget, spare), claim=False)

        ids = self._added(owed, room, own_for, least=0)
        if last:  # and what no ranking reached (a sentence of no score for any query), in document order
            ids = self._added(ids, room, lambda spare: self._unshown(spare, ids))
        own = [sid for sid in ids if sid not in owed]
        if not request.inputs:  # see `_choose`: a step that reads earlier results claims nothing
            self._claimed.update(own)
        self._owed = [sid for sid in self._owed if sid not in owed]
        text = render_sentences(self.index, ids)
        bridged = _bridged(self.index, ids, self._shared.sentence_ids, room - count_tokens(text))
        self._shown.update(bridged)
        skimmed = _reads_whole(request.strings, request.inputs)
        purpose = "from across the document, one from each part of it" if skimmed else "chosen for this step"
        note = f"{len(own)} more sentences, {purpose}" + (f", and {len(owed)} for the question" if owed else "")
        note += _repeated(len(bridged) - len(ids))
        return StepSlice(text=render_sentences(self.index, bridged), sentence_ids=bridged, note=note)

    def _unshown_costs(self, chosen: set[int]) -> Iterator[tuple[int, int]]:
        """The sentences no call shows yet, besides `chosen`, in document order, with their costs (as they are read:
        `_unshown` stops at the first that does not fit)."""
        for sid in range(self.index.sentence_count):
            if sid not in self._claimed and sid not in chosen:
                yield sid, sentence_cost(self.index, sid)

    def _unshown(self, budget: int, chosen: list[int]) -> list[int]:
        """The sentences no call shows yet, besides `chosen`, in document order, as many as `budget` tokens hold."""
        ids: list[int] = []
        for sid, cost in self._unshown_costs(set(chosen)):
            budget -= cost
            if budget < 0:
                break
            ids.append(sid)
        return ids

    def _choose(
        self, strings: list[str], inputs: list[str], explanation: str | None, budget: int, *, claim: bool = True
    ) -> list[int]:
        """A step's own evidence: sentences no call has been given yet, for its words and then the question's
        (on a short document, then the best of what the answer call shows too: `_repeatable`).

        With `claim`, later steps look beyond them (a step that reads earlier results is served
        when they exist, after the others have chosen, so it claims nothing). With neither words
        nor results, the whole document skimmed, the answer call's evidence included.
        """
        strings = [s for s in strings if s.strip()]
        question = self._question
        # The step's own words lead; the question's terms fill in what a terse argument leaves out.
        query = " ".join([*strings, *inputs, *([explanation] if explanation else []), question.text, *question.options])
        # A document shared out leaves nothing unshown: a step that reads earlier results, or skims, looks beyond
        # the shared evidence alone, or it would be shown nothing of its own.
        shared_out = self.budget.shares_out and (bool(inputs) or _reads_whole(strings, inputs))
        claimed = set(self._shared.sentence_ids) if shared_out else self._claimed
        if not _reads_whole(strings, inputs):
            ids = compress(self.index, query, budget, focus=strings, exclude=claimed).sentence_ids
            if self._repeatable:
                # What no call shows comes first, all of it that fits; then the best of what the answer call shows.
                def again(spare: int) -> list[int]:
                    shown = (self._claimed - self._repeatable) | set(ids)
                    return compress(self.index, query, spare, focus=strings, exclude=shown).sentence_ids

                ids = self._added(ids, budget, again)
        else:
            # The document alone (SUMMARIZE(CTX), FIND_MORAL(CTX)): nothing to search for, so the whole of it,
            # skimmed. The answer call's evidence is not passed over: a summary needs the opening too.
            answers = {*self._more, *self._closing, *self._opening}
            ids = skim(self.index, query, budget, exclude=claimed - answers).sentence_ids
        if claim:
            self._claimed.update(ids)
        return ids


class FullDocumentContext:
    """The paper's executor: the whole document in every step that reads it, each step cutting it to what its own
    fields leave of the window (`pearl.execution`'s paper runner), as the paper cuts the article step by step.

    `room`, when given, cuts it to that many tokens for every step besides.
    """

    def __init__(self, text: str, room: int | None = None) -> None:
        text = neutralise_fence(text)  # shown inside <excerpts>: it must not close them
        self.tokens = count_tokens(text)
        """The whole document's tokens, as shown."""
        self.text, cut = truncate_to_tokens(text, room) if room is not None else (text, False)
        self._kept: list[int] = [room] if cut and room is not None else []

    @property
    def kept(self) -> int:
        """Tokens of the document the step that kept least of it was shown (`tokens` when every step saw it whole)."""
        return min(self._kept, default=self.tokens)

    def read(self, tokens: int) -> None:
        """Record that a step was shown `tokens` of the document."""
        self._kept.append(tokens)

    def shared(self) -> StepSlice:
        return StepSlice(text="")

    def more_for_question(self, room: int) -> StepSlice:
        return StepSlice(text="")

    def slice(self, request: StepRequest, room: int) -> StepSlice:
        return StepSlice(text="")
