"""Self-refinement: run the pipeline on training questions and keep the plans that led to the gold answer.

For each question the whole `pearl` method runs. A plan whose answer maps to the gold one
becomes a demonstration. A wrong one goes back to the model with feedback (the plan, the
answer it led to, the right answer) for up to `rounds` revisions; each revised plan is
parsed, run through the same executor and answer step (`run_plan`), and kept when it
succeeds. `compare_planning` measures what a store does for planning: plan validity and
length on questions it was not made from, with one store against another.
"""

from __future__ import annotations

import asyncio
import hashlib
import statistics
import time
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from pearl._pearl import Pearl
from pearl.actions import ActionLibrary
from pearl.errors import LLMError, PearlError, PlanParseError
from pearl.eval import Dataset, EvalQuestion, score_answer
from pearl.models import Answer, Document, Trace, Usage
from pearl.planning import Demo, DemoStore, Plan, choose_actions, parse_plan, plan_constraints, read_plan_reply
from pearl.prompts import load_prompt
from pearl.protocols import Progress
from pearl.questions import Question
from pearl.trace import Recorder

__all__ = ["PlanningStats", "RefineRecord", "RefineResult", "compare_planning", "refine_demos", "split_holdout"]

_FREE_TEXT_PASS = 0.5  # token F1 at which a free-text answer counts as right
_ANSWER_CHARS = 300


class RefineRecord(BaseModel):
    """What happened to one training question."""

    id: str
    question: str
    first_plan: str | None = Field(default=None, description="the pipeline's plan; None when none was valid")
    first_steps: int | None = None
    first_correct: bool = False
    revisions: int = Field(default=0, description="revision rounds tried")
    kept: str | None = Field(default=None, description="outcome of the kept demo, None if none was kept")
    error: str | None = None


class PlanningStats(BaseModel):
    """Plan generation over some questions with one demo store."""

    label: str
    questions: int
    valid: int = Field(description="questions with a valid plan within the allowed attempts")
    valid_first: int = Field(description="questions whose first attempt was valid")
    mean_steps: float | None = Field(default=None, description="mean steps of the valid plans")
    usage: Usage = Field(default_factory=Usage)

    def line(self) -> str:
        """One line for a report."""
        steps = f"{self.mean_steps:.2f}" if self.mean_steps is not None else "-"
        n = max(1, self.questions)
        return (
            f"{self.label}: questions={self.questions} valid={self.valid}/{self.questions} ({self.valid / n:.0%}) "
            f"valid_first={self.valid_first}/{self.questions} mean_steps={steps} "
            f"prompt_tokens={self.usage.prompt_tokens}"
        )


class RefineResult(BaseModel):
    """The store of kept demonstrations and a record per training question."""

    store: DemoStore
    records: list[RefineRecord]
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0

    @property
    def kept(self) -> int:
        return len(self.store.demos)

    @property
    def first_valid(self) -> int:
        return sum(r.first_plan is not None for r in self.records)

    @property
    def first_correct(self) -> int:
        return sum(r.first_correct for r in self.records)

    @property
    def revised(self) -> int:
        """Demos kept after at least one revision."""
        return sum(r.kept is not None and not r.first_correct for r in self.records)


def _is_right(question: EvalQuestion, answer: Answer) -> bool:
    scored = score_answer(question, answer)
    if question.kind == "choice":
        return bool(scored.get("correct"))
    score = scored.get("score", 0.0)
    return isinstance(score, float) and score >= _FREE_TEXT_PASS


def _option(question: Question, letter: str) -> str:
    return f"({letter}) {question.option(letter)}".strip()


def _led_to(question: Question, answer: Answer) -> str:
    if question.options and answer.letter:
        return _option(question, answer.letter)
    return " ".join(answer.answer.split())[:_ANSWER_CHARS] or "(empty)"


def _gold(question: Question, eval_question: EvalQuestion) -> str:
    if question.options:
        return _option(question, eval_question.gold)
    return eval_question.gold


def _documents(dataset: Dataset) -> dict[str, Document]:
    return {d.id: Document.from_text(d.text, name=d.title or d.id) for d in dataset.documents}


class _Refiner:
    """One refinement run: the pipeline, the prompts, the grammar mode, usage so far."""

    def __init__(self, pearl: Pearl, rounds: int) -> None:
        self.pearl = pearl
        self.rounds = rounds
        self.library: ActionLibrary = pearl.library
        self.template = load_prompt("refine")
        self.usage = Usage()

    def _trace(self, question: Question) -> Trace:
        llm = self.pearl.llm
        return Trace(question=question.text, method="refine", backend=llm.backend, model=llm.model)

    async def _run(self, document: Document, question: Question, plan: Plan) -> Answer:
        answer = await self.pearl.arun_plan(document, question, plan)
        self.usage = self.usage + answer.usage
        return answer

    async def _revise(self, question: Question, plan_text: str, led_to: str, gold: str, errors: list[str]) -> Plan:
        max_steps = self.pearl.settings.max_steps
        # The actions the plan used stay in view (choose_actions keeps what a demo uses), so it can be edited.
        shown = choose_actions(self.library, question.text, [Demo(question=question.text, plan=plan_text)])
        mode, params = plan_constraints(self.pearl.llm, shown, max_steps)
        messages = self.template.render(
            actions=shown.render(),
            question=question.text,
            options_block=question.options_block(),
            plan=plan_text,
            answer=led_to,
            gold=gold,
            errors="; ".join(errors) or "(none)",
            format_note=self.template.part(f"format_{mode}"),
        )
        trace = self._trace(question)
        try:
            reply = await Recorder(self.pearl.llm, trace).acall(
                f"refine (round {len(errors) + 1})", self.template, messages, **params
            )
        finally:
            self.usage = self.usage + trace.usage()
        return read_plan_reply(reply.text, mode, self.library, max_steps)

    async def one(self, document: Document, eval_question: EvalQuestion) -> tuple[RefineRecord, Demo | None]:
        question = Question(text=eval_question.question, options=list(eval_question.options))
        record = RefineRecord(id=eval_question.id, question=eval_question.question)
        fingerprint = self.library.fingerprint
        try:
            answer = await self.pearl.aask(document, question)
        except PearlError as exc:
            return record.model_copy(update={"error": str(exc)}), None
        self.usage = self.usage + answer.usage
        if answer.fallback or answer.plan is None:
            return record, None
        plan_text = answer.plan
        record.first_plan = plan_text
        record.first_steps = len(parse_plan(plan_text, self.library, max_steps=50).steps)
        if _is_right(eval_question, answer):
            record.first_correct = True
            record.kept = "correct"
            return record, Demo(question=question.text, plan=plan_text, outcome="correct", library=fingerprint)
        led_to = _led_to(question, answer)
        gold = _gold(question, eval_question)
        errors: list[str] = []
        for round_number in range(1, self.rounds + 1):
            record.revisions = round_number
            try:
                plan = await self._revise(question, plan_text, led_to, gold, errors)
            except PlanParseError as exc:
                errors.append(f"revision {round_number} was rejected: {exc}")
                continue
            except LLMError as exc:
                record.error = str(exc)
                break
            try:
                revised = await self._run(document, question, plan)
            except PearlError as exc:
                errors.append(f"revision {round_number} failed to run: {exc}")
                continue
            if _is_right(eval_question, revised):
                outcome = f"correct after {round_number} revision(s)"
                record.kept = outcome
                return record, Demo(question=question.text, plan=plan.render(), outcome=outcome, library=fingerprint)
            plan_text = plan.render()
            led_to = _led_to(question, revised)
        return record, None


async def refine_demos(
    pearl: Pearl,
    dataset: Dataset,
    questions: Sequence[EvalQuestion],
    *,
    rounds: int = 2,
    concurrency: int | None = None,
    name: str = "refined",
    on_progress: Progress | None = None,
) -> RefineResult:
    """Run `pearl` on training questions with gold answers and keep the plans that led to the gold answer.

    Args:
        pearl: the pipeline (its model, settings, library, and the demos it starts from).
        dataset: where the questions' documents are.
        questions: training questions (see `pearl.eval.select_questions`).
        rounds: feedback rounds at most for a plan that led to a wrong answer (0: none).
        concurrency: questions in flight at once (default: the settings' concurrency).
        name: the new store's name.

    Returns:
        The kept demonstrations as a store (tagged with the library's fingerprint and the
        prompts that made them), and what happened to each question.
    """
    started = time.perf_counter()
    refiner = _Refiner(pearl, max(0, rounds))
    documents = _documents(dataset)
    gate = asyncio.Semaphore(max(1, concurrency or pearl.settings.concurrency))
    done = 0
    kept_count = 0

    async def one(q: EvalQuestion) -> tuple[RefineRecord, Demo | None]:
        nonlocal done, kept_count
        async with gate:
            result = await refiner.one(documents[q.document_id], q)
        done += 1
        kept_count += result[1] is not None
        if on_progress is not None:
            on_progress(done, len(questions), f"kept {kept_count}")
        return result

    if on_progress is not None:
        on_progress(0, len(questions), "kept 0")
    results = await asyncio.gather(*(one(q) for q in questions))
    demos = [demo for _, demo in results if demo is not None]
    digest = hashlib.sha256("\n".join(f"{d.question}\0{d.plan}" for d in demos).encode("utf-8")).hexdigest()
    prompts = {n: load_prompt(n).id for n in ("plan", "plan_fix", "refine", "step", "step_nodoc", "answer", "choose")}
    store = DemoStore(
        name=name,
        version=digest[:12],
        library=pearl.library.fingerprint,
        note=(
            f"Kept by self-refinement on {len(questions)} question(s) of {dataset.path} with {pearl.llm.model}, "
            f"library {pearl.library.name} v{pearl.library.version}, up to {rounds} revision round(s)."
        ),
        prompts=prompts,
        demos=demos,
    )
    return RefineResult(
        store=store, records=[r for r, _ in results], usage=refiner.usage, seconds=time.perf_counter() - started
    )


async def compare_planning(
    pearl: Pearl, dataset: Dataset, questions: Sequence[EvalQuestion], stores: Mapping[str, DemoStore]
) -> list[PlanningStats]:
    """Plan each question once per store (demos picked from it by similarity) and report validity and length.

    Plans are made by `Pearl.aplan` with each store in turn (entity sheet, self-correction,
    the settings' attempts and step limit) but not executed.
    """
    documents = _documents(dataset)
    stats: list[PlanningStats] = []
    for label, store in stores.items():
        planner = pearl.with_demos(store)
        usage = Usage()
        valid = valid_first = 0
        steps: list[int] = []
        for q in questions:
            question = Question(text=q.question, options=list(q.options))
            result, trace = await planner.aplan(question, documents[q.document_id])
            usage = usage + trace.usage()
            if result.plan is not None:
                valid += 1
                valid_first += result.attempts[0].error is None
                steps.append(len(result.plan.steps))
        stats.append(
            PlanningStats(
                label=label,
                questions=len(questions),
                valid=valid,
                valid_first=valid_first,
                mean_steps=statistics.mean(steps) if steps else None,
                usage=usage,
            )
        )
    return stats


def split_holdout(
    questions: Sequence[EvalQuestion], limit: int | None, holdout: int
) -> tuple[list[EvalQuestion], list[EvalQuestion]]:
    """The first `limit` questions (all if None) to refine on, and the next `holdout` to compare stores on."""
    training = list(questions[:limit]) if limit is not None else list(questions)
    return training, list(questions[len(training) : len(training) + holdout])
