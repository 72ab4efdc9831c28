"""What evaluation reads and writes: datasets, one result row per (question, method), run settings, summaries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FORMATS",
    "QUESTION_TYPES",
    "SPLITS",
    "Comparison",
    "Dataset",
    "EvalDocument",
    "EvalQuestion",
    "EvalSummary",
    "Format",
    "GroupScore",
    "MethodSummary",
    "QuestionKind",
    "ResultRow",
    "RunConfig",
    "Split",
]

Format = Literal["quality", "leval", "jsonl"]
FORMATS: tuple[Format, ...] = ("quality", "leval", "jsonl")
Split = Literal["all", "long", "short", "hard"]
SPLITS: tuple[Split, ...] = ("all", "long", "short", "hard")
QuestionKind = Literal["choice", "free"]
QUESTION_TYPES = ("why", "who", "not-except", "numeric", "other")


class EvalDocument(BaseModel):
    """One document of an evaluation set."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    text: str


class EvalQuestion(BaseModel):
    """One question with its gold answer.

    `gold` is the option letter for multiple choice, else the first gold answer; `golds`
    holds every acceptable free-text answer (a free-text score is the best over them).
    `tags` are split tags: "long" or "short" (QuALITY's context annotation), "hard".
    """

    model_config = ConfigDict(frozen=True)

    id: str
    document_id: str
    question: str
    options: list[str] = Field(default_factory=list)
    gold: str
    golds: list[str] = Field(default_factory=list)
    kind: QuestionKind
    tags: list[str] = Field(default_factory=list)
    qtype: str = "other"


class Dataset(BaseModel):
    """Documents and their questions, read from one file."""

    path: str
    format: Format
    documents: list[EvalDocument]
    questions: list[EvalQuestion]
    left_out: dict[str, tuple[int, str]] = Field(
        default_factory=dict,
        description="questions of the file not loaded, by id: how many loaded questions come before each, and why it "
        "was left out (an L-Eval gold answer naming several options); a run's report names those it would have run",
    )

    def document(self, document_id: str) -> EvalDocument:
        """The document with this id (KeyError if none)."""
        for document in self.documents:
            if document.id == document_id:
                return document
        raise KeyError(document_id)


class ResultRow(BaseModel):
    """One line of `results.jsonl`: how one method did on one question, and what it cost.

    `score` is 1/0 for multiple choice and token F1 (best over the golds) for free text; a
    row with an `error` scores 0. `seconds` is wall time for the question; `llm_seconds`
    the time spent inside the model.
    """

    model_config = ConfigDict(extra="ignore")

    id: str
    method: str
    document_id: str = ""
    kind: QuestionKind = "free"
    qtype: str = "other"
    tags: list[str] = Field(default_factory=list)
    prediction: str = ""
    answer: str = ""
    explanation: str | None = Field(
        default=None,
        description="for multiple choice, what the option was chosen from (`Answer.explanation`); None for free text "
        "and in rows of older runs",
    )
    gold: str | list[str] = ""
    correct: bool | None = None
    unparseable: bool = False
    score: float = 0.0
    em: float | None = None
    f1: float | None = None
    rouge_l: float | None = None
    prompt_tokens: int = 0
    uncached_prompt_tokens: int | None = Field(
        default=None, description="prompt tokens not served from a cache (None in rows of older runs)"
    )
    completion_tokens: int = 0
    calls: int = 0
    cached_calls: int = 0
    estimated_calls: int = Field(
        default=0, description="calls whose token counts pearl counted itself: their server reported none usable"
    )
    seconds: float = 0.0
    llm_seconds: float = 0.0
    plan: str | None = None
    plan_given: bool = Field(default=False, description="the plan came from --plans, not from the planner")
    plan_sha256: str | None = Field(
        default=None, description="the given plan's hash (--plans), so a resumed run can tell it changed since"
    )
    prompts_sha256: str | None = Field(
        default=None,
        description="the hash of the prompt templates the method may send (`Method.sends`) and, where it reads the "
        "index, the index pipeline's version, so a resumed run can tell they changed since; None in rows of older runs",
    )
    evidence_shown: bool | None = Field(
        default=None,
        description="a gold answer, a span of the document, stood in one prompt the run sent (`evidence_shown`); "
        "None where it cannot be told (multiple choice, golds not in the document, rows of older runs)",
    )
    fallback: bool = False
    error: str | None = None
    error_type: str | None = None
    finished: str = ""
    trace: str | None = Field(default=None, description="the question's trace file, relative to the run directory")


class RunConfig(BaseModel):
    """`run.json`: what a run directory holds, so a resumed run can be checked against it."""

    model_config = ConfigDict(extra="ignore")

    data: str
    data_sha256: str
    format: Format
    split: Split
    methods: list[str]
    limit: int | None
    model: str
    backend: str
    plans: str | None = Field(default=None, description="the --plans file, when given plans were run")
    plans_sha256: str | None = None
    plan_hashes: dict[str, str] | None = Field(
        default=None,
        description="each given plan's sha256 (its first 16 digits) by question id, so that a resumed run can tell "
        "which changed; None in run files written before they were kept",
    )
    actions: str | None = Field(
        default=None,
        description="the action library plans were written with (name, version, actions), once a planned method ran",
    )
    actions_sha256: str | None = Field(default=None, description="its fingerprint (`ActionLibrary.fingerprint`)")
    demos: str | None = Field(default=None, description="the planner's demonstrations (name, version, count)")
    demos_sha256: str | None = None
    settings: dict[str, str] | None = Field(
        default=None,
        description="the settings that change what a method shows the model or how it plans (`RUN_SETTINGS`); "
        "None in run files written before they were kept",
    )
    window_set: str | None = Field(
        default=None,
        description="the context window set when the run began, where the model's server lowered it since "
        "(`settings` holds the window the rows ran at): the same settings go on at the lowered one; None where no "
        "server lowered it, and in run files written before this was kept",
    )
    created: str = ""
    updated: str = ""
    pearl_version: str = ""


class GroupScore(BaseModel):
    """Mean score over a group of questions (a question type or a split tag)."""

    n: int
    score: float


class MethodSummary(BaseModel):
    """One method over the questions of a run. Scores are fractions in [0, 1]; None when not applicable."""

    method: str
    n: int
    errors: int
    score: float
    score_low: float | None = Field(default=None, description="95% bootstrap interval of `score`, over questions")
    score_high: float | None = None
    accuracy: float | None = None
    choice_n: int = 0
    unparseable: float | None = None
    em: float | None = None
    f1: float | None = None
    rouge_l: float | None = None
    free_n: int = 0
    fallbacks: int = 0
    evidence_shown: float | None = Field(
        default=None, description="share of the questions it can be told for whose gold answer the model was shown"
    )
    evidence_n: int = Field(default=0, description="questions `evidence_shown` is told for")
    mean_prompt_tokens: float = Field(
        default=0.0,
        description=(
            "prompt tokens per question, over its latest result (a failed one's spend included): what a question costs"
        ),
    )
    mean_uncached_prompt_tokens: float = 0.0
    mean_completion_tokens: float = 0.0
    mean_calls: float = 0.0
    mean_seconds: float = 0.0
    mean_llm_seconds: float = Field(
        default=0.0, description="seconds in the model per question, waits for a turn left out (see `llm_seconds`)"
    )
    total_prompt_tokens: int = Field(
        default=0,
        description=(
            "prompt tokens of every attempt's calls, those the response cache answered included: a question asked"
            " again (--retry-errors) adds the attempts it replaced, so this can exceed `mean_prompt_tokens` times `n`"
        ),
    )
    total_uncached_prompt_tokens: int = Field(
        default=0,
        description=(
            "what the run spent: prompt tokens of every attempt that servers read afresh (a call the response cache"
            " answered cost nothing, nor did a prefix a server's cache held)"
        ),
    )
    total_completion_tokens: int = Field(default=0, description="completion tokens the run spent, every attempt")
    cached_calls: int = 0
    estimated_calls: int = Field(
        default=0,
        description="calls of its rows whose token counts pearl counted itself: their server reported none usable",
    )
    by_type: dict[str, GroupScore] = Field(default_factory=dict)
    by_tag: dict[str, GroupScore] = Field(default_factory=dict)


class Comparison(BaseModel):
    """Method `a` against method `b` on the questions both answered (paired).

    `ci_low`/`ci_high` bound `diff` (mean of a minus b) with a paired bootstrap; `mcnemar_p`
    is the exact McNemar test, given when every paired score is 0 or 1. A question the model
    server left unanswered for either method (`pearl.errors.unanswered`) is left out, and counted
    in `failed`; with none left, `n` is 0 and the scores and difference are 0, meaning nothing.
    """

    a: str
    b: str
    n: int
    failed: int = Field(
        default=0, description="questions both methods were run on, left out: the server left one unanswered"
    )
    score_a: float
    score_b: float
    diff: float
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float = 0.95
    a_only: int | None = None
    b_only: int | None = None
    mcnemar_p: float | None = None


class EvalSummary(BaseModel):
    """Everything `report.md` shows, as data (`summary.json`)."""

    title: str = ""
    run: RunConfig | None = None
    questions: int
    rows: int
    methods: list[MethodSummary]
    comparisons: list[Comparison] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    types: list[str] = Field(
        default_factory=list, description="the question types the rows hold, in `QUESTION_TYPES`' order"
    )
    skipped: list[str] = Field(
        default_factory=list,
        description="ids of questions not run as bad input (their document has no text, or they cannot be asked as "
        "given: an empty option, an option twice, a gold answer naming several options): neither counted in "
        "`questions` nor errors (so --retry-errors does not try them)",
    )
    skipped_why: dict[str, str] = Field(
        default_factory=dict,
        description="why each question of `skipped` that cannot be asked as given was not run; the others' "
        "document has no text",
    )
    stopped: str | None = Field(
        default=None,
        description="why the run stopped before every question of it had a result (its server stopped answering, or "
        "it was interrupted); None for a run that went through",
    )
