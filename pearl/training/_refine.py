"""Self-refinement: run the pipeline on training questions and keep the plans that led to the gold answer.

For each question the whole `pearl` method runs. A plan whose answer maps to the gold one, and
to which its steps led (`_steps_led`: a step cited evidence, none argued for another option),
becomes a demonstration. A wrong one goes back to the model, as the paper did it, with only
the news that it did not lead to the right answer and the earlier wrong plans (never the gold
answer, nor the wrong answer it led to, which for a multiple-choice question would rule an
option out), for up to `rounds` revisions (3, as the paper's code); each revised plan is parsed
(one the checker rejects goes back with its errors, up to `Settings.plan_attempts` calls, as in
the planner's correction loop), run through the same executor and answer step (`run_plan`), and
kept when it succeeds. A right plan whose string
arguments spell out the gold answer is refused (`gold_in_arguments`): as a demonstration it
would teach the planner to write answers into plans. Each finished question is appended to a
progress file, so an interrupted run resumes where it stopped.

`compare_planning` measures what a store does for planning: plan validity and length on
questions it was not made from, with one store against another.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import statistics
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from pearl._pearl import DEFAULT_METHOD, Pearl
from pearl._text import STOP_WORDS, counted
from pearl.actions import ActionLibrary
from pearl.config import DEFAULT_TOKEN_MARGIN, Settings
from pearl.errors import ConfigError, LLMError, PearlError, PlanParseError, stops_a_run, unanswered
from pearl.eval import Dataset, EvalQuestion, Silence, score_answer
from pearl.execution import AUTO_SHARE, cited_ids
from pearl.llm import cut_at_limit, output_mode
from pearl.methods import ARGUED_NOTE, METHODS
from pearl.models import Answer, Document, Trace, TraceEvent, Usage
from pearl.planning import (
    Demo,
    DemoStore,
    Plan,
    choose_actions,
    demos_fingerprint,
    parse_plan,
    plan_constraints,
    plan_rules,
    read_plan_reply,
    rejected_text,
    render_demos,
)
from pearl.planning._kinds import kind_asked_about
from pearl.prompts import load_prompt, token_margin
from pearl.protocols import Progress
from pearl.questions import Question
from pearl.trace import Recorder
from pearl.training._progress import ProgressFile

__all__ = [
    "PlanningStats",
    "RefineRecord",
    "RefineResult",
    "compare_planning",
    "gold_in_arguments",
    "refine_demos",
    "split_holdout",
]

_FREE_TEXT_PASS = 0.5  # token F1 at which a free-text answer counts as right
# How much of the window each part of a revision prompt may take (see PromptTemplate.fit):
# the plan to revise first, then the errors, then the earlier wrong plans, newest first, then the example plans
# (fitted before them, the examples took the room of the wrong plans the model is to avoid: helper-211).
_REFINE_SHARES = {"question": 0.25, "options_block": 0.3, "plan": 0.5, "errors": 0.5, "earlier": 1.0, "demos": 1.0}
_MIN_TELLING_WORDS = 2
_PROMPTS = ("plan", "plan_fix", "refine", "step", "step_nodoc", "answer", "choose")
"""The prompts of a refinement with the `pearl` method, in the order its run key joins them (kept as they were: a run
begun before another method could be chosen resumes); with another method, `refine` and what that method sends."""


class RefineRecord(BaseModel):
    """What happened to one training question."""

    id: str
    question: str
    first_plan: str | None = Field(default=None, description="the pipeline's plan; None when none was valid")
    first_steps: int | None = None
    first_correct: bool = False
    revisions: int = Field(default=0, description="revision rounds tried")
    kept: str | None = Field(default=None, description="outcome of the kept demo, None if none was kept")
    refused: str | None = Field(
        default=None, description="why a plan that led to the gold answer was not kept (see gold_in_arguments)"
    )
    error: str | None = None
    model_failed: bool = Field(
        default=False, description="the error is the model's, after retries: the next run asks this question again"
    )
    unanswered: bool = Field(
        default=False,
        exclude=True,
        description="the model's server gave no answer, after retries (`pearl.errors.unanswered`); not kept",
    )


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
    resumed: int = Field(default=0, description="questions read back from the progress file")

    @property
    def refused(self) -> int:
        """Right plans not kept because their arguments hold the gold answer."""
        return sum(r.refused is not None for r in self.records)

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


_NEGATIONS = frozenset({"not", "no", "never", "none", "neither", "nor", "nothing", "nobody", "cannot", "without"})
"""Words that deny: a free-text answer that writes one where no gold answer does may be denying the gold."""


def _denies(text: str) -> bool:
    """Whether `text` writes a word that denies (`_NEGATIONS`; "didn't" is "did not")."""
    return bool(set(_words(re.sub(r"n['\u2019]t\b", " not", text, flags=re.IGNORECASE))) & _NEGATIONS)


def _is_right(question: EvalQuestion, answer: Answer) -> bool:
    scored = score_answer(question, answer)
    if question.kind == "choice":
        return bool(scored.get("correct"))
    score = scored.get("score", 0.0)
    if not (isinstance(score, float) and score >= _FREE_TEXT_PASS):
        return False
    # "It is certainly not the Gull's Tithe" shares half its words with the gold, the Gull's Tithe: a plan is kept
    # only when proven right, so an answer that denies where no gold does is not counted (a demonstration lost at
    # worst, where a wrong one would be shown for every question like it).
    return not _denies(answer.answer) or any(_denies(gold) for gold in question.golds or [question.gold])


def _words(text: str) -> list[str]:
    """Casefolded words, apostrophes dropped ("Si's" -> "sis"), any other punctuation a break."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("\u2019", "")
    return re.findall(r"\w+", folded)


def _golds(question: Question, eval_question: EvalQuestion) -> list[str]:
    """The gold answer as text: the gold option's text, or every acceptable free-text answer."""
    if question.options:
        return [question.option(eval_question.gold)]
    return list(eval_question.golds or [eval_question.gold])


def gold_in_arguments(plan: Plan, golds: Sequence[str], question: str) -> str | None:
    """The first string argument or explanation of `plan` that spells out a gold answer, or None.

    The rule: an argument gives a gold answer away when it contains the whole gold text, word
    for word, after both are normalised (Unicode NFKC, casefolded, apostrophes dropped, other
    punctuation a word break), and the gold is telling: it has at least two words of three or
    more letters that are neither function words nor words of the question, or a number the question does not
    hold ("127": a plan that writes "127 steps" for "How many steps?" knows the answer). Other short golds
    ("Yes", "No", "Teodor", "the lamp oil") are never grounds for refusal: a plan has every reason to
    write a name or a word of the question, and refusing on those would refuse plans that
    merely look in the right place.
    """
    asked = set(_words(question))
    for gold in golds:
        wanted = _words(gold)
        telling = {w for w in wanted if len(w) >= 3 and w not in STOP_WORDS and w not in asked}
        number = any(any(c.isdigit() for c in w) and w not in asked for w in wanted)
        if len(telling) < _MIN_TELLING_WORDS and not number:
            continue
        needle = " " + " ".join(wanted) + " "
        # A declared action's definition goes into the prompts of the steps that call it.
        for action in plan.new_actions:
            if needle in " " + " ".join(_words(action.definition)) + " ":
                return f"the new action {action.name} writes the gold answer {gold[:60]!r} into its definition"
        for step in plan.steps:
            for arg in step.args:
                if arg.kind == "string" and needle in " " + " ".join(_words(arg.value)) + " ":
                    return (
                        f"{step.var} = {step.action}(...) writes the gold answer {gold[:60]!r} into a string argument"
                    )
            # An explanation steers the step's evidence and is in its prompt: it gives the answer away as well.
            if step.explanation and needle in " " + " ".join(_words(step.explanation)) + " ":
                return f"{step.var} = {step.action}(...) writes the gold answer {gold[:60]!r} into its explanation"
    return None


def _documents(dataset: Dataset) -> dict[str, Document]:
    return {d.id: Document.from_text(d.text, name=d.title or d.id) for d in dataset.documents}


class _Refiner:
    """One refinement run: the pipeline, the prompts, the grammar mode, usage so far."""

    def __init__(self, pearl: Pearl, rounds: int, method: str) -> None:
        self.pearl = pearl
        self.rounds = rounds
        self.method = method
        self.library: ActionLibrary = pearl.library
        self.template = load_prompt("refine")
        self.usage = Usage()

    def _trace(self, question: Question) -> Trace:
        llm = self.pearl.llm
        return Trace(question=question.text, method="refine", backend=llm.backend, model=llm.model)

    async def _run(self, document: Document, question: Question, plan: Plan) -> Answer:
        answer = await self.pearl.arun_plan(document, question, plan, method=self.method)
        self.usage = self.usage + answer.usage
        return answer

    async def _revise(self, document: Document, question: Question, wrong: list[str], errors: list[str]) -> Plan:
        """A revision of the last wrong plan; the model is told only that it and the earlier ones were wrong, and
        shown the demonstrations the planner is shown for the question (the paper's revision prompt showed four).

        As the paper did it, a revision the checker rejects goes back with its errors, up to
        `Settings.plan_attempts` calls in all (a loop like the planner's); PlanParseError when none passed."""
        settings = self.pearl.settings
        max_steps = settings.max_steps
        # The actions the plan used stay in view (choose_actions keeps what a demo uses), so it can be edited.
        demos = self.pearl._demos(question, document)
        shown = choose_actions(self.library, question.text, [Demo(question=question.text, plan=wrong[-1]), *demos])
        mode, params = plan_constraints(self.pearl.llm, shown, max_steps)
        template = self.template
        rejected: list[str] = []  # the checker's errors, newest first (what a prompt cut to fit keeps)
        last = ""  # the newest rejected revision, as written
        error = ""
        trace = self._trace(question)
        recorder = Recorder(self.pearl.llm, trace)
        try:
            for attempt in range(1, settings.plan_attempts + 1):
                # Outside a question's run (`Pearl._guarded`), so the margin is set here: the revision prompt ignored
                # it while the plans it revises kept it (helper-172).
                with token_margin(settings.token_margin):
                    values, _ = template.fit(
                        self.pearl.llm.context_window,
                        int(params["max_tokens"]),
                        _REFINE_SHARES,
                        actions=shown.render(),
                        demos=render_demos(demos, shown, mode, max_steps),
                        question=question.text,
                        options_block=question.options_block(),
                        plan=wrong[-1],
                        earlier="\n\n".join(reversed(wrong[:-1])) or "(none)",
                        errors=_feedback(last, rejected, errors),
                        **plan_rules(template, shown, max_steps, mode),
                    )
                reply = await recorder.acall(
                    f"refine (round {len(wrong)}, attempt {attempt})",
                    template,
                    template.render(**values),
                    place=(attempt, settings.plan_attempts),
                    **params,
                )
                cut_at = int(params["max_tokens"]) if cut_at_limit(reply) else None
                try:
                    return read_plan_reply(reply.text, mode, self.library, max_steps, cut_at=cut_at)
                except PlanParseError as exc:
                    error = str(exc)
                    last = rejected_text(reply.text)
                    rejected.insert(0, error)
        finally:
            self.usage = self.usage + trace.usage()
        raise PlanParseError(
            f"{error} (no revision passed the checker in {counted(settings.plan_attempts, 'attempt')})"
        )

    def _keep(
        self, record: RefineRecord, question: Question, golds: list[str], plan: Plan, outcome: str, document: Document
    ) -> tuple[RefineRecord, Demo | None]:
        leak = gold_in_arguments(plan, golds, question.text)
        if leak is not None:
            record.refused = leak
            return record, None
        record.kept = outcome
        # Labelled with the kind its question is about, as the planner chooses by it: a store refined on contracts and
        # stories shows a contract question the contract plans first.
        kind = kind_asked_about(document.text, " ".join([question.text, *question.options]))
        return record, Demo(
            question=question.text, plan=plan.render(), outcome=outcome, library=self.library.fingerprint, kind=kind
        )

    async def one(self, document: Document, eval_question: EvalQuestion) -> tuple[RefineRecord, Demo | None]:
        question = Question(text=eval_question.question, options=list(eval_question.options))
        record = RefineRecord(id=eval_question.id, question=eval_question.question)
        golds = _golds(question, eval_question)
        try:
            answer = await self.pearl.aask(document, question, method=self.method)
        except PearlError as exc:
            if stops_a_run(exc):
                raise
            failed = {"error": str(exc), "model_failed": isinstance(exc, LLMError), "unanswered": unanswered(exc)}
            return record.model_copy(update=failed), None
        self.usage = self.usage + answer.usage
        if answer.fallback or answer.plan is None:
            return record, None
        try:
            first = parse_plan(answer.plan, self.library, max_steps=50)
        except PlanParseError as exc:  # the pipeline's own plan, rendered: only a bug gets here
            return record.model_copy(update={"error": f"the pipeline's plan does not read back: {exc}"}), None
        record.first_plan = answer.plan
        record.first_steps = len(first.steps)
        if _is_right(eval_question, answer) and _steps_led(answer, self.method):
            record.first_correct = True
            return self._keep(record, question, golds, first, "correct", document)
        wrong = [answer.plan]
        errors: list[str] = []
        for round_number in range(1, self.rounds + 1):
            record.revisions = round_number
            try:
                plan = await self._revise(document, question, wrong, errors)
            except PlanParseError as exc:
                errors.append(f"revision {round_number} was rejected: {exc}")
                continue
            except LLMError as exc:
                if stops_a_run(exc):
                    raise
                return _model_failed(record, exc), None
            try:
                revised = await self._run(document, question, plan)
            except LLMError as exc:
                # The model's server failed a step or the answer (after retries), not the plan: the question is
                # the model's failure, as when its first plan's calls fail, and tried again by the next run. Taken as
                # the plan's, it was kept as "did not reach the gold answer" for good, and the server's error went
                # to the model as feedback on the plan (helper-197).
                if stops_a_run(exc):
                    raise
                return _model_failed(record, exc), None
            except PearlError as exc:
                if stops_a_run(exc):
                    raise
                errors.append(f"revision {round_number} failed to run: {exc}")
                continue
            if _is_right(eval_question, revised) and _steps_led(revised, self.method):
                outcome = f"correct after {counted(round_number, 'revision')}"
                return self._keep(record, question, golds, plan, outcome, document)
            wrong.append(plan.render())
        return record, None


def _steps_led(answer: Answer, method: str) -> bool:
    """Whether the plan's steps led to `answer`, not the final call alone: with `pearl`, whose final call is shown the
    question's own evidence besides the steps' results, a step cited a sentence it was shown and no step's result
    points to another option than the one chosen. A plan of steps that found nothing ("The excerpts say nothing
    about the weather") was kept as proven right, the final call having answered from its own evidence (helper-210);
    the paper counts a plan right by its own outputs. `pearl-fulldoc`'s answer is its steps' replies."""
    if method != DEFAULT_METHOD:
        return True
    if any(note.startswith(ARGUED_NOTE) for note in answer.notes):
        return False
    return any(
        cited_ids(event.output, _labels_shown(event))
        for event in answer.trace.events
        if event.stage.startswith("step ") and not event.error
    )


def _labels_shown(event: TraceEvent) -> list[int]:
    """The sentence labels a step's call was shown, in its prompt's user turns (the system turn's "like [S12]" is an
    instruction's example, which a step copying it does not cite)."""
    return [int(sid) for m in event.messages if m.role != "system" for sid in re.findall(r"\[S(\d+)\]", m.content)]


def _model_failed(record: RefineRecord, error: LLMError) -> RefineRecord:
    """`record` of a question the model failed on (after retries): not kept in the progress file, so asked again."""
    return record.model_copy(update={"error": str(error), "model_failed": True, "unanswered": unanswered(error)})


def _feedback(last: str, rejected: Sequence[str], rounds: Sequence[str]) -> str:
    """The `errors` of a revision prompt: the newest revision the checker rejected, as written, and why; why the
    ones before it were, newest first; then the problems of earlier rounds. Newest first, because a prompt cut to fit
    the window keeps a field's beginning (`rounds` are oldest first)."""
    parts = []
    if rejected:
        parts.append(f"your last revision was rejected by the checker: {rejected[0]}. It read:\n{last}\n")
        parts += [f"a revision before it was rejected: {error}" for error in rejected[1:]]
    parts += reversed(rounds)
    return "; ".join(parts) or "(none)"


def _run_key(pearl: Pearl, rounds: int, method: str = DEFAULT_METHOD) -> str:
    """What a refinement run's rows depend on: library, starting demos, prompts, model, limits."""
    return hashlib.sha256("|".join(_run_parts(pearl, rounds, method)).encode()).hexdigest()[:24]


def _run_parts(pearl: Pearl, rounds: int, method: str = DEFAULT_METHOD) -> list[str]:
    return [
        pearl.library.fingerprint,
        pearl.demos_fingerprint,
        *_prompt_ids(method),
        pearl.llm.backend,
        pearl.llm.model,
        output_mode(pearl.llm),
        *_limits(pearl, rounds, method).values(),
    ]


def _run_about(pearl: Pearl, rounds: int, method: str = DEFAULT_METHOD) -> dict[str, str]:
    """`_run_parts` in words, to say what differs from the run that wrote a progress file."""
    return {
        "library": f"{pearl.library.name} v{pearl.library.version}",
        "demonstrations": f"{counted(len(pearl.demos.demos), 'demo')} ({pearl.demos_fingerprint[:8]})",
        "prompts": ", ".join(_prompt_ids(method)),
        "model": f"{pearl.llm.model} ({pearl.llm.backend})",
        "replies": output_mode(pearl.llm),
        # The method always (the key leaves the default out), so that a resume with another says so by its name.
        "--method": method,
        **_limits(pearl, rounds, method),
    }


def _prompt_names(method: str) -> tuple[str, ...]:
    """The prompts a refinement with `method` sends (see `_PROMPTS`)."""
    return _PROMPTS if method == DEFAULT_METHOD else tuple(dict.fromkeys(("refine", *METHODS[method].sends)))


def _prompt_ids(method: str) -> list[str]:
    return [load_prompt(name).id for name in _prompt_names(method)]


def _limits(pearl: Pearl, rounds: int, method: str) -> dict[str, str]:
    """The run's limits, by the option or setting that sets each, in the order its key joins them."""
    settings = pearl.settings
    budget = str(settings.step_budget)
    # The share only where it sizes the steps and is not the default: runs begun before it could be set keep their key.
    if settings.step_budget == "auto" and settings.step_share != AUTO_SHARE:
        budget += f"@{settings.step_share}"
    # The window's margin likewise only where it is not the default.
    margin = {"token_margin": str(settings.token_margin)} if settings.token_margin != DEFAULT_TOKEN_MARGIN else {}
    # What the steps and the answer call are shown, likewise where not the default: resumed at another window, budget
    # or ranking, a run mixed two runs' rows without a word (helper-214); eval's run key holds them too.
    shown = {
        # The window set (the embedded model's own is never 8,192: the key of every run of it would have changed).
        **({"context_window": str(settings.context_window)} if settings.context_window is not None else {}),
        **(
            {"context_budget": str(settings.context_budget)}
            if settings.context_budget != _DEFAULTS.context_budget
            else {}
        ),
        **({"dense": str(settings.dense)} if settings.dense != _DEFAULTS.dense else {}),
    }
    return {
        # The method only where it is not the default: runs begun before it could be chosen keep their key.
        **({"--method": method} if method != DEFAULT_METHOD else {}),
        "--rounds": str(rounds),
        "max_steps": str(settings.max_steps),
        "plan_attempts": str(settings.plan_attempts),
        "step_budget": budget,
        **margin,
        **shown,
    }


_DEFAULTS = Settings()
"""The settings' defaults, which a run's key leaves out (see `_limits`)."""


def _question_key(question: EvalQuestion, document: Document) -> str:
    blob = "\0".join([question.id, question.question, *question.options, *question.golds, document.content_hash])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


def _resumed(row: dict[str, object]) -> tuple[RefineRecord, Demo | None] | None:
    try:
        record = RefineRecord.model_validate(row.get("record"))
        demo = Demo.model_validate(row["demo"]) if row.get("demo") is not None else None
    except (ValidationError, KeyError):
        return None  # a row another version wrote: run the question again
    return record, demo


async def refine_demos(
    pearl: Pearl,
    dataset: Dataset,
    questions: Sequence[EvalQuestion],
    *,
    rounds: int = 3,
    method: str = DEFAULT_METHOD,
    concurrency: int | None = None,
    name: str = "refined",
    on_progress: Progress | None = None,
    progress_file: str | os.PathLike[str] | None = None,
    fresh: bool = False,
    save: Callable[[RefineResult], object] | None = None,
) -> RefineResult:
    """Run a planned method on training questions with gold answers and keep the plans that led to the gold answer.

    Args:
        pearl: the pipeline (its model, settings, library, and the demos it starts from).
        dataset: where the questions' documents are.
        questions: training questions (see `pearl.eval.select_questions`).
        rounds: feedback rounds at most for a plan that led to a wrong answer (0: none; 3, the paper's code's).
        method: the planned method that runs each plan: `pearl`, whose planner the demonstrations serve, or
            `pearl-fulldoc`, the paper's executor, as the paper refined.
        concurrency: questions in flight at once (default: the settings' concurrency).
        name: the new store's name.
        on_progress: told `(done, total, status)` after each question (resumed ones included).
        progress_file: where each finished question is appended (see `progress_path`); a run
            that finds the file of a killed run of the same refinement (same library, demos,
            prompts, model and limits) resumes from it, and removes it when done. A question
            that failed (the model, after retries) is not appended, and the file is then kept:
            the next run resumes the others and tries the failed ones again. It is locked while the
            run goes on.
        fresh: start over, whatever the progress file holds.
        save: called with the result before the progress file is removed: a store that cannot be written (a full
            disk, a folder in its place) leaves every finished question for the run again (the file was removed
            first, and the whole run lost). What it raises ends the run, the file kept.

    Raises:
        RunBusyError: another process is writing the same progress file.
        ConfigError: the progress file is another run's (see `ProgressFile.open`), or `method` plans no plan.
        Whatever `save` raises.

    Returns:
        The kept demonstrations as a store (tagged with the library's fingerprint and the
        prompts that made them), and what happened to each question.
    """
    started = time.perf_counter()
    if method not in METHODS or not METHODS[method].planned:
        planned = ", ".join(name for name, m in METHODS.items() if m.planned)
        raise ConfigError(f"refinement runs plans: method {method!r} plans none; choose {planned}")
    refiner = _Refiner(pearl, max(0, rounds), method)
    documents = _documents(dataset)
    progress = ProgressFile(
        Path(progress_file) if progress_file is not None else None,
        "refine",
        _run_key(pearl, rounds, method),
        _run_about(pearl, rounds, method),
    )
    progress.open(fresh=fresh)
    try:
        gate = asyncio.Semaphore(max(1, concurrency or pearl.settings.concurrency))
        silence = Silence(concurrency or pearl.settings.concurrency)
        results: list[tuple[RefineRecord, Demo | None] | None] = [None] * len(questions)
        keys = [_question_key(q, documents[q.document_id]) for q in questions]
        for index, key in enumerate(keys):
            results[index] = _resumed(progress.done[key]) if key in progress.done else None
        resumed = sum(r is not None for r in results)
        counts = {"done": resumed, "kept": sum(r is not None and r[1] is not None for r in results)}

        def report() -> None:
            if on_progress is not None:
                on_progress(counts["done"], len(questions), f"kept {counts['kept']}")

        async def one(index: int) -> None:
            q = questions[index]
            async with gate:
                record, demo = await refiner.one(documents[q.document_id], q)
            results[index] = (record, demo)
            if not record.model_failed:  # left out, so that the next run tries it again (other errors would recur)
                progress.add(
                    keys[index],
                    record=record.model_dump(mode="json"),
                    demo=demo.model_dump(mode="json") if demo else None,
                )
            counts["done"] += 1
            counts["kept"] += demo is not None
            report()
            if record.unanswered:
                silence.silent(record.error or "")
            else:
                silence.heard()
            silence.check(progress.silent_then())

        report()
        tasks = [asyncio.ensure_future(one(i)) for i, r in enumerate(results) if r is None]
        try:
            await asyncio.gather(*tasks)
        finally:  # stopped (the server silent, a refused key): the others end too, before the lock is let go
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finished = [r for r in results if r is not None]
        demos = [demo for _, demo in finished if demo is not None]
        digest = demos_fingerprint(demos)
        store = DemoStore(
            name=name,
            version=digest[:12],
            library=pearl.library.fingerprint,
            note=(
                f"Kept by self-refinement on {len(questions)} question(s) of {dataset.path} with {pearl.llm.model}, "
                f"library {pearl.library.name} v{pearl.library.version}, up to {rounds} revision round(s)"
                + (f", plans run by {method}." if method != DEFAULT_METHOD else ".")
            ),
            prompts={n: load_prompt(n).id for n in _prompt_names(method)},
            demos=demos,
        )
        result = RefineResult(
            store=store,
            records=[r for r, _ in finished],
            usage=refiner.usage,
            seconds=time.perf_counter() - started,
            resumed=resumed,
        )
        if save is not None:
            save(result)
        # Done with the file only when nothing in it is still worth keeping: a run that kept no demonstration (a rerun
        # with more questions reads its rows back), or one resumed with fewer questions than it holds, leaves it.
        others = set(progress.done) - set(keys)
        if demos and not others and not any(record.model_failed for record, _ in finished):
            progress.remove()
        return result
    finally:
        progress.close()


async def compare_planning(
    pearl: Pearl,
    dataset: Dataset,
    questions: Sequence[EvalQuestion],
    stores: Mapping[str, DemoStore],
    *,
    on_progress: Progress | None = None,
) -> list[PlanningStats]:
    """Plan each question once per store (demos picked from it by similarity) and report validity and length.

    Plans are made by `Pearl.aplan` with each store in turn (entity sheet, self-correction,
    the settings' attempts and step limit) but not executed.

    Args:
        on_progress: told `(done, total, status)` as each plan is made, over every store (`status`: the store's
            label).
    """
    documents = _documents(dataset)
    stats: list[PlanningStats] = []
    total, done = len(questions) * len(stores), 0
    if on_progress is not None:
        on_progress(0, total, next(iter(stores), ""))
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
            done += 1
            if on_progress is not None:
                on_progress(done, total, label)
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
