"""Run methods over an evaluation set: bounded concurrency, one durable row per (question, method), resumable.

A run directory holds `run.json` (what the run is), `results.jsonl` (the rows, appended as
they finish), `traces/<id>.<method>.json` (what each question did, written with its row), and
at the end `summary.json`, `report.md`, `report.html` and a page per trace beside it. Running again with the same
directory skips the pairs already done, so an interrupted run, even one killed with
SIGKILL, resumes where it stopped; a pair answered with prompt templates that have changed since runs again
(`_ran_other_prompts`). A question that fails is recorded with its error and
the run goes on; `retry_errors=True` re-runs those. But a run whose model server has stopped
answering stops too (`UnansweredError`): once as many results in a row as run at once (at
least `UNANSWERED_STOP`; a question has one per method) have got no answer after all their retries
(timeouts, refused or dropped connections, 5xx, 429), every other question would wait out the same
retries, four minutes each with a hung server and the default settings. Failures of one document alone that the
server answered with an error status are that document's, not a dead server's: the run goes on (`Silence`).

One process at a time owns a run directory: a run holds a lock on `run.lock` in it from
before it reads what is done until the summary is written. A second run into the same
directory refuses (`RunBusyError`), or with `wait=True` waits and then resumes, so no pair
is ever run, paid for or written twice. The kernel drops the lock when its holder exits or
is killed, so a dead run never blocks the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import datetime as dt
import functools
import hashlib
import json
import logging
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pearl._files import FolderLock, atomic_write_text, read_json
from pearl._pearl import Pearl, checked_question, run_blocking
from pearl._text import counted, visible
from pearl._version import __version__
from pearl.config import DEFAULT_CONTEXT_WINDOW, DEFAULT_TOKEN_MARGIN, Settings, for_caller
from pearl.context import AUTO_CHARS, PIPELINE_VERSION, DocumentIndex, dense_wanted, shown_document
from pearl.errors import (
    ConfigError,
    DatasetError,
    PearlError,
    PlanParseError,
    QuestionError,
    RunBusyError,
    RunWriteError,
    UnansweredError,
    stops_a_run,
)
from pearl.eval._loaders import file_sha256
from pearl.eval._metrics import evidence_shown, score_answer
from pearl.eval._models import SPLITS, Dataset, EvalQuestion, EvalSummary, ResultRow, RunConfig
from pearl.eval._plans import PlanSet
from pearl.eval._results import RESULTS_FILE, ResultsLog, latest_rows, load_results
from pearl.eval._silence import Silence
from pearl.eval._summary import NO_TEXT, render_report, some_of, summarize
from pearl.html import index_for_page, render_report_page, render_trace_page
from pearl.llm import LLM
from pearl.llm._wrap import Capped, check_ready
from pearl.methods import METHODS
from pearl.models import Document, Trace, TraceEvent
from pearl.prompts import load_prompt
from pearl.protocols import Progress
from pearl.questions import Question

__all__ = [
    "REPORT_FILE",
    "REPORT_HTML_FILE",
    "RUN_FILE",
    "SUMMARY_FILE",
    "TRACES_DIR",
    "arun_eval",
    "run_eval",
    "select_questions",
    "write_summary",
]

log = logging.getLogger("pearl.eval")

RUN_FILE = "run.json"
LOCK_FILE = "run.lock"
SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.md"
REPORT_HTML_FILE = "report.html"
TRACES_DIR = "traces"

# Methods that never read the index; for a run of only these, indexing would be wasted time.
_NO_INDEX = frozenset({"direct"})


# Seconds between two tries for a run directory's lock while waiting for another run.
_LOCK_POLL = 0.5

_SILENT_RESULTS = "results in a row (one per question and method)"
"""What a run's `Silence` counts: a question's result for each method, not questions (with three methods, four
results in a row can be two questions)."""


def _interrupted(settings: Settings) -> str:
    """What the reports of an interrupted run say at the top (`EvalSummary.stopped`), after how many results were
    saved: how to resume, in the caller's terms (`pearl eval` is run again, `run_eval` called again)."""
    again = for_caller(settings, "run the same command again", "call run_eval again with the same arguments")
    return f"the run was interrupted; {again} to resume"


def _retry_silent(settings: Settings) -> str:
    """What a run stopped by its silent server tells the caller to do (`Silence.check`), in its terms."""
    again = for_caller(
        settings, "run the same command with --retry-errors", "call run_eval again with retry_errors=True"
    )
    return f"once it answers, {again} to ask them again"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def select_questions(
    dataset: Dataset, split: str = "all", limit: int | None = None, *, plans: PlanSet | None = None
) -> list[EvalQuestion]:
    """The questions of `split` ("all", "long", "short", "hard"), the first `limit` of them if given; with
    `plans`, only those it has a plan for (`--plans-only`), then the first `limit`.

    Raises:
        ConfigError: an unknown split, or one no question of this dataset is tagged with, or that `plans`
            has no plan for.
    """
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit (limit=) must be 1 or more, got {limit}")
    chosen = dataset.questions if split == "all" else [q for q in dataset.questions if split in q.tags]
    if not chosen:
        raise ConfigError(
            f"no question of {dataset.path} is in the {split!r} split; split tags come from the QuALITY release "
            "(long/short from untimed_eval2_context, hard from difficult) or from 'tags' in pearl's JSONL; "
            "use --split all (split='all')"
        )
    if plans is not None:
        chosen = [q for q in chosen if q.id in plans.plans]
        if not chosen:
            where = f"no question of the {split!r} split has a plan in {plans.path}"
            raise ConfigError(f"{where}: {plans.summary()}")
    return chosen[:limit] if limit is not None else chosen


def _trace_file(question_id: str, method: str, attempt: int = 1) -> str:
    """`traces/<id>.<method>.json` (`<id>.<method>.attempt2.json` for a pair's second attempt, by `--retry-errors`:
    the first attempt's row keeps its own trace), relative to the run directory; a name unsafe as a file name is
    cleaned and given a hash of the original, so two ids never share a file."""
    name = f"{question_id}.{method}" + (f".attempt{attempt}" if attempt > 1 else "")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".")[:120]
    if safe != name:
        safe += "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return f"{TRACES_DIR}/{safe}.json"


def _base_row(question: EvalQuestion, method: str) -> dict[str, object]:
    return {
        "id": question.id,
        "method": method,
        "prompts_sha256": _prompts_hash(method),
        "document_id": question.document_id,
        "kind": question.kind,
        "qtype": question.qtype,
        "tags": question.tags,
        "gold": question.golds if question.kind == "free" and len(question.golds) > 1 else question.gold,
    }


def check_methods(methods: Sequence[str]) -> list[str]:
    """The methods named, each once, in order; `ConfigError` for none or a name `METHODS` does not hold, `TypeError`
    for one name not in a list ("direct" was read as the methods d, i, r, e, c, t)."""
    if isinstance(methods, str):
        raise TypeError(f"methods must be a list of names, as in [{methods!r}], not a str")
    chosen = list(dict.fromkeys(m.strip() for m in methods if m.strip()))
    if not chosen:
        raise ConfigError(f"no method given; choose from {', '.join(METHODS)}")
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise ConfigError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    return chosen


async def _preflight(llm: LLM) -> None:
    """Let a backend that can check itself (the embedded model: installed? loadable?) fail before the run starts.

    After this, an `EmbeddedModelError` is about one request (e.g. a prompt over the window) and
    is recorded on its row like any other failure.

    The check blocks (a server's `GET /models`, up to its `timeout`; the embedded model loading), so it runs in a
    thread of its own, which a cancelled run does not wait for. Run by `asyncio.to_thread`, Ctrl-C at the start of a
    run did nothing until a silent server's timeout (two minutes by default): `asyncio.run` waits for its worker
    threads before it returns.
    """
    loop = asyncio.get_running_loop()
    checked: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if checked.done():  # cancelled: the run is stopping, and nothing reads how the check went
            return
        if error is None:
            checked.set_result(None)
        else:
            checked.set_exception(error)

    def check() -> None:
        error: BaseException | None = None
        try:
            check_ready(llm)
        except BaseException as exc:  # noqa: BLE001 - raised in the run, which awaits it
            error = exc
        with contextlib.suppress(RuntimeError):  # the event loop is closed: the run was cancelled and has ended
            loop.call_soon_threadsafe(settle, error)

    # With the run's context variables, as `asyncio.to_thread` would have; a daemon, so that no exit waits for it.
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(check,), name="pearl-check", daemon=True).start()
    await checked


RUN_SETTINGS = (
    "context_window",
    "token_margin",
    "step_budget",
    "step_share",
    "context_budget",
    "dense",
    "max_steps",
    "plan_attempts",
)
"""Settings a run's rows depend on besides the model: a run resumed with others would mix two runs' rows."""
PLANNED_SETTINGS = ("step_budget", "step_share", "max_steps", "plan_attempts")
"""Of `RUN_SETTINGS`, those only the methods that plan depend on."""


_DENSE_AGAIN = {
    "False": "; PEARL_DENSE=0 goes on with it",
    "True": "; PEARL_DENSE=1 goes on with it (the MiniLM wheel installed)",
    "auto": "; PEARL_DENSE=auto goes on with it (the MiniLM wheel installed)",
}
"""For a run begun with dense similarity otherwise (before auto, or on another machine): how to go on with it."""


def _dense_effect(value: str, longest: int) -> str:
    """What a `dense` setting (`str(Settings.dense)`) comes to for documents of at most `longest` characters, on
    this machine: "True" every document embedded, "False" none, "auto" only those up to auto's limit. Two values
    with one effect rank alike, so a run goes on under either (auto, where the wheel is installed and no document
    is too long for it, is 1)."""
    if value != "auto":
        return value
    if not dense_wanted("auto", 0):
        return "False"  # auto without the model ranks by words alone, as off does (and as runs before auto)
    return "True" if dense_wanted("auto", longest) else "auto"


def _run_settings(settings: Settings, longest: int) -> dict[str, str]:
    """The settings a run's rows depend on, as what they come to (`RUN_SETTINGS`): the window the model is given,
    dense similarity's effect on documents of at most `longest` characters."""
    kept = {name: str(getattr(settings, name)) for name in RUN_SETTINGS}
    kept["context_window"] = str(settings.window)
    kept["dense"] = _dense_effect(kept["dense"], longest)
    return kept


def _kept_effect(name: str, value: str, longest: int) -> str:
    """What a setting a run file kept comes to, as `_run_settings` words it now (older files kept the value set)."""
    if name == "context_window" and value == "None":
        return str(DEFAULT_CONTEXT_WINDOW)  # unset: the default window, then as now
    if name == "dense" and value == "auto":
        # Kept only where the wheel was installed (without it, auto was kept as False): what it did there, whatever
        # this machine has; a run that ranked by meaning must not go on by words alone.
        return "True" if longest <= AUTO_CHARS else "auto"
    return value


def _difference(name: str, there: RunConfig, now: RunConfig, answered: Sequence[str] = ()) -> str:
    """How a run folder's run differs from this one in `name`, as the user would change it (not a hash);
    `answered`: for plans, the questions whose given plan changed that have results."""
    if name == "data_sha256":
        return f"data: {there.data} there, {now.data} now, whose text differs"
    if name == "plans_sha256":
        before, after = (f"--plans {run.plans}" if run.plans else "no --plans" for run in (there, now))
        edited = there.plans is not None and there.plans == now.plans  # the same file, changed since
        if answered:  # the questions whose results ran another plan than they would now
            differ = f"which differ for {counted(len(answered), 'question')} with results ({some_of(answered)})"
            return f"plans: {before} there, {after} now, {differ}"
        return f"plans: {before} there, {after} now" + (", whose plans differ" if edited else "")
    if name in ("actions_sha256", "demos_sha256"):
        field = name.removesuffix("_sha256")
        before, after = getattr(there, field), getattr(now, field)
        same = f", whose {field} differ" if before == after else ""  # edited under the same name and version
        return f"{field}: {before} there, {after} now{same}"
    return f"{name} {getattr(there, name)!r} there, {getattr(now, name)!r} now"


def _plans_answered(there: RunConfig, now: RunConfig, rows: Sequence[ResultRow]) -> list[str] | None:
    """Of the questions whose given plan changed (given, edited, or taken away), those a planned method answered:
    their rows ran the old plan. None where the run file cannot tell which changed (written before it kept them).
    A question whose rows are all errors (a plan that did not parse, now mended) is free to run its new plan. A row of
    a method this pearl does not know (renamed since) is left out, as `_prepare_run` leaves it out: it raised KeyError
    here."""
    if there.plan_hashes is None or now.plan_hashes is None:
        return None
    old, new = there.plan_hashes, now.plan_hashes
    changed = {qid for qid in old.keys() | new.keys() if old.get(qid) != new.get(qid)}
    latest = latest_rows(rows) if changed else {}
    return sorted(
        {
            qid
            for (qid, method), row in latest.items()
            if qid in changed and method in METHODS and METHODS[method].planned and not row.error
        },
        key=lambda qid: (len(qid), qid),
    )


def _with_planning(run: RunConfig, source: RunConfig) -> RunConfig:
    """`run` with how `source` writes plans: its library, demonstrations, given plans and `PLANNED_SETTINGS`."""
    settings = {k: v for k, v in (run.settings or {}).items() if k not in PLANNED_SETTINGS}
    settings |= {k: v for k, v in (source.settings or {}).items() if k in PLANNED_SETTINGS}
    fields = (*_PLANNING, "plans", "plans_sha256", "plan_hashes")
    return run.model_copy(update={**{name: getattr(source, name) for name in fields}, "settings": settings})


def _prepare_run(out_dir: Path, config: RunConfig, longest: int) -> RunConfig:
    """Write `run.json`, or check the existing one describes the same run (same data, format, model, settings,
    plans, actions and demonstrations); `longest`: characters of the data's longest document (see `_dense_effect`)."""
    path = out_dir / RUN_FILE
    results = out_dir / RESULTS_FILE
    # A run that saved nothing (a mistyped model, a server down) holds nothing to mix with: this one replaces it.
    rows = load_results(results) if path.exists() and results.is_file() else []
    if rows:
        data = read_json(path, "run file")
        try:
            old = RunConfig.model_validate(data)
        except ValueError as exc:
            raise ConfigError(
                f"{path} is not a run file ({str(exc).splitlines()[0]}); delete it or choose another --out (out_dir=)"
            ) from None
        if config.actions_sha256 is None:
            # No planned method this time: the planned rows' library, demonstrations and settings stand, kept for the
            # run that adds to them.
            config = _with_planning(config, old)
        elif not any(METHODS[row.method].planned for row in rows if row.method in METHODS):
            old = _with_planning(old, config)  # no planned row there: how plans are written mixes nothing
        differences = [
            _difference(name, old, config)
            for name in ("data_sha256", "format", "model", "backend")
            if getattr(old, name) != getattr(config, name)
        ]
        if old.plans_sha256 != config.plans_sha256:
            answered = _plans_answered(old, config, rows)  # the folder's rows, read once
            if answered is None or answered:
                differences.append(_difference("plans_sha256", old, config, answered or ()))
        # A library or demonstrations kept (none in older files, nor before a planned method ran) must stay.
        differences += [
            _difference(name, old, config)
            for name in ("actions_sha256", "demos_sha256")
            if getattr(old, name) is not None and getattr(old, name) != getattr(config, name)
        ]
        # Settings a run file kept (none before they were kept; one added since is not in older files).
        kept, now = old.settings or {}, config.settings or {}
        kept = {name: _kept_effect(name, value, longest) for name, value in kept.items()}
        if kept and "token_margin" not in kept:  # kept before the margin could be set: a fifth, as then
            kept["token_margin"] = str(DEFAULT_TOKEN_MARGIN)
        config, now, carried = _window_carried(old, config, kept, now)
        differences += [
            f"{name} {kept[name]} there, {now[name]} now"
            + (_DENSE_AGAIN.get(kept[name], "") if name == "dense" else "")
            + (_window_again(kept[name], old.window_set) if name == "context_window" else "")
            for name in RUN_SETTINGS
            if name in kept and name in now and kept[name] != now[name]
        ]
        if differences:
            raise ConfigError(
                f"{out_dir} holds another run ({'; '.join(differences)}); "
                f"pass another --out, or delete {out_dir} to start over"
            )
        if carried:
            log.warning(
                "%s: going on at the %s-token window the model's server lowered this run to (from %s, the window set)",
                out_dir,
                _tokens(now["context_window"]),
                _tokens(str(old.window_set)),
            )
        config = config.model_copy(update={"created": old.created or config.created})
    try:
        atomic_write_text(path, config.model_dump_json(indent=2) + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot write {path} ({exc.strerror or exc}); choose another --out (out_dir=)") from None
    return config


def _window_carried(
    old: RunConfig, config: RunConfig, kept: Mapping[str, str], now: dict[str, str]
) -> tuple[RunConfig, dict[str, str], bool]:
    """`config` and its settings `now`, going on at the window the model's server lowered the run to (`kept`, of
    `old`) where the window set is the one the run began with: the same command resumes the run; and whether it does.
    The window lowered is the run's own (its rows from then on ran at it), not another run's: resumed with the same
    command, the run was refused as "another run (context_window 4000 there, 8192 now)", a finished one's report could
    not be rebuilt, and "run the same command again to resume" (Ctrl-C) and "--retry-errors" (a silent server) said
    what was refused."""
    began, lowered = old.window_set, kept.get("context_window")
    if began is None or lowered is None:
        return config, now, False
    carried = now.get("context_window") == began and lowered != began
    if carried:
        now = {**now, "context_window": lowered}
    if now.get("context_window") == lowered:  # the window set, or the lowered one passed (as the run said to)
        config = config.model_copy(update={"settings": now, "window_set": began})
    return config, now, carried


def _window_again(kept: str, began: str | None) -> str:
    """How to go on with a run whose window differs: the window it kept (a server's lowered window: helper-183), or
    the one it began with, where the server lowered it."""
    if began is None or began == kept:
        return f"; --context-window {kept} goes on with it"
    return (
        f"; --context-window {began} (the window the run began with; its server lowered it) or {kept} goes on with it"
    )


def _tokens(window: str) -> str:
    """A window kept as digits, as messages write numbers (8,192)."""
    return f"{int(window):,}" if window.isdigit() else window


async def _lock_run(out_dir: Path, wait: bool) -> FolderLock:
    """The lock of `out_dir`, once no other process holds it (see the module docstring)."""
    lock = FolderLock(out_dir / LOCK_FILE)
    try:
        if lock.acquire():
            return lock
        if not wait:
            raise RunBusyError(
                f"{out_dir} is in use: another pearl eval ({lock.holder()}) is writing to it; wait for it to "
                "finish, add --wait (wait=True) to run after it (what it did is not run again), or pass another --out"
            )
        log.warning("%s is in use by another run (%s); waiting for it to finish", out_dir, lock.holder())
        while not lock.acquire():
            await asyncio.sleep(_LOCK_POLL)
        return lock
    except OSError as exc:
        problem = exc.strerror or exc
        raise ConfigError(
            f"cannot lock the run folder {out_dir} ({problem}); choose another --out (out_dir=)"
        ) from None


class _Tally:
    """Running totals of a run's rows, as the status line of its progress display."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.progress = progress
        self.rows = 0
        self.score = 0.0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.errors = 0

    def add(self, row: ResultRow) -> None:
        self.rows += 1
        self.score += row.score
        self.prompt_tokens += row.prompt_tokens
        self.completion_tokens += row.completion_tokens
        self.errors += row.error is not None

    def status(self) -> str:
        score = 100 * self.score / self.rows if self.rows else 0.0
        text = f"score {score:5.1f}  tokens {self.prompt_tokens:,} + {self.completion_tokens:,}"
        return text + (f"  errors {self.errors}" if self.errors else "")

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.rows, self.total, self.status())


class _Runner:
    """The state of one run: the model, the documents' indexes, the results log, progress."""

    def __init__(
        self,
        pearl: Pearl,
        documents: Mapping[str, Document],
        log_: ResultsLog,
        tally: _Tally,
        plans: Mapping[str, str] | None = None,
        attempts: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        self.pearl = pearl
        self.log = log_
        self.attempts = attempts or {}  # rows the results file holds already, by (question id, method)
        self.tally = tally
        self.documents = documents
        self.out_dir = log_.path.parent
        self.plans = plans or {}
        self._indexing: dict[str, asyncio.Task[None]] = {}
        self._saving: set[asyncio.Future[None]] = set()  # results being written, which a stop waits for
        self.silence = Silence(counts=_SILENT_RESULTS)  # results in a row that got no answer from the server
        self.ranks = True  # whether a method of the run ranks sentences (`run` says)

    async def _index(self, document: Document) -> None:
        # In a worker thread, one document at a time; with sentence vectors only if a method of the run ranks
        # sentences (a run of direct or pearl-fulldoc alone embeds nothing; a fallback embeds when it comes to it).
        await self.pearl._aindex(document, ranks=self.ranks)

    async def ensure_indexed(self, document_id: str) -> None:
        """Index a document once, however many questions wait for it."""
        task = self._indexing.get(document_id)
        if task is None:
            task = self._indexing[document_id] = asyncio.ensure_future(self._index(self.documents[document_id]))
        await asyncio.shield(task)

    async def run_one(self, question: EvalQuestion, method: str) -> tuple[ResultRow, BaseException | None]:
        """A question's result row, and the error it failed with (None: answered)."""
        base = _base_row(question, method)
        given = self.plans.get(question.id) if METHODS[method].planned else None
        if given is not None:  # before anything can fail: a row that failed on indexing ran this plan too
            base["plan_given"], base["plan_sha256"] = True, _plan_hash(given)
        started = time.perf_counter()
        try:
            if method not in _NO_INDEX:
                await self.ensure_indexed(question.document_id)
                # A document is indexed once for all its questions; the wait is not this question's time.
                started = time.perf_counter()
            document = self.documents[question.document_id]
            asked = Question(text=question.question, options=question.options)
            if given is None:
                answer = await self.pearl.aask(document, asked, method=method)
            else:  # parsed by `arun_plan`: one that does not parse keeps its trace
                answer = await self.pearl.arun_plan(document, asked, given, method=method)
        except PlanParseError as exc:
            return await self._failed(base, exc, started, f"the given plan does not parse: {exc}", question)
        except PearlError as exc:
            if stops_a_run(exc):
                raise
            return await self._failed(base, exc, started, question=question)
        except Exception as exc:  # noqa: BLE001
            # A bug met by one question must not throw away a long run: it is recorded on the
            # row (with its type, for the bug report) and --retry-errors runs it again.
            log.warning("%s [%s]: unexpected %s: %s", question.id, method, type(exc).__name__, exc)
            return await self._failed(base, exc, started, question=question)
        row = ResultRow.model_validate(
            {
                **base,
                **score_answer(question, answer),
                "answer": answer.answer,
                "explanation": answer.explanation,
                **await self._spent(answer.trace, question.id, method),
                "seconds": round(time.perf_counter() - started, 4),
                "plan": answer.plan,
                "evidence_shown": self._shown(question, answer.trace.events),
                "fallback": answer.fallback,
                "finished": _now(),
            }
        )
        return row, None

    def _shown(self, question: EvalQuestion, events: Sequence[TraceEvent]) -> bool | None:
        """Whether the requests of `events` showed the model a gold answer (`evidence_shown`). A request the server
        refused (a retry with less followed it) showed the model nothing."""
        prompts = ("\n".join(m.content for m in e.messages) for e in events if e.error is None)
        return evidence_shown(question, self.documents[question.document_id].text, prompts)

    async def _spent(self, trace: Trace, question_id: str, method: str) -> dict[str, object]:
        """A row's cost, from the question's trace, and the trace's file, written beside the results."""
        trace_file = _trace_file(question_id, method, self.attempts.get((question_id, method), 0) + 1)
        # The file and the row's counts from one reading of the trace, before anything else can run.
        text, usage = trace.model_dump_json() + "\n", trace.usage()
        kept: str | None = trace_file
        try:
            await asyncio.to_thread(atomic_write_text, self.out_dir / trace_file, text, sync=False)
        except OSError as exc:  # the row is kept all the same (a full disk fails its own write next, and says so)
            log.warning("%s: trace not written (%s); the row is kept without it", trace_file, exc.strerror or exc)
            kept = None
        return {
            "prompt_tokens": usage.prompt_tokens,
            "uncached_prompt_tokens": usage.uncached_prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "calls": usage.calls,
            "cached_calls": usage.cached_calls,
            "estimated_calls": usage.estimated_calls,
            "llm_seconds": round(usage.seconds, 4),
            "trace": kept,
        }

    async def _failed(
        self,
        base: dict[str, object],
        error: BaseException,
        started: float,
        message: str | None = None,
        question: EvalQuestion | None = None,
    ) -> tuple[ResultRow, BaseException]:
        # What the question did before it failed (a `PearlError` carries its trace): the calls it paid for count
        # in the run's totals, and its page shows them.
        trace = getattr(error, "trace", None)
        spent: dict[str, object] = {}
        if isinstance(trace, Trace) and trace.events:
            spent = await self._spent(trace, str(base["id"]), str(base["method"]))
        if question is not None:  # counted as evidence too: left out, a method that failed its hard questions gained
            spent["evidence_shown"] = self._shown(question, trace.events if isinstance(trace, Trace) else [])
        row = ResultRow.model_validate(
            {
                **base,
                **spent,
                "error": message or str(error) or type(error).__name__,
                "error_type": type(error).__name__,
                "seconds": round(time.perf_counter() - started, 4),
                "finished": _now(),
            }
        )
        return row, error

    async def run(self, todo: Sequence[tuple[EvalQuestion, str]], concurrency: int) -> None:
        pending = deque(todo)
        asking: Counter[str] = Counter()  # the documents of the pairs being asked
        self.silence = Silence(concurrency, _SILENT_RESULTS)
        self.ranks = any(METHODS[method].ranks for _, method in todo)

        def take() -> tuple[EvalQuestion, str] | None:
            # In dataset order, so a document's questions run together and the next document is indexed only when
            # its first question comes up; but where failures of one document in a row are one short of stopping
            # the run, another document's question first, to tell a server that fails on that document from a dead
            # one (`Silence.probe`).
            if not pending:
                return None
            alone = self.silence.probe
            if alone is not None and pending[0][0].document_id == alone:
                other = next((i for i, (q, _) in enumerate(pending) if q.document_id != alone), None)
                if other is not None:
                    pair = pending[other]
                    del pending[other]
                    return pair
            return pending.popleft()

        def others() -> bool:
            """Whether a question of another document than the failing one is to come, or on its way."""
            alone = self.silence.probe
            return any(q.document_id != alone for q, _ in pending) or any(d != alone for d in +asking)

        async def worker() -> None:
            while (pair := take()) is not None:
                question, method = pair
                asking[question.document_id] += 1
                try:
                    row, error = await self.run_one(question, method)
                finally:
                    asking[question.document_id] -= 1
                # A result paid for is saved even when the run stops meanwhile: the stop cancels the questions in
                # flight, not a write (a worker thread's, which would go on and find the file closed).
                saving = asyncio.ensure_future(asyncio.to_thread(self.log.append, row))
                self._saving.add(saving)
                saving.add_done_callback(self._saving.discard)
                await asyncio.shield(saving)
                # Counted once saved: a run stopped by silence has saved every question of it (one still being
                # written when another stopped the run counted nowhere, and its paid-for row was lost).
                self.silence.heard(error, question.document_id)
                self.tally.add(row)
                self.tally.report()
                enough = self.silence.count >= self.silence.enough
                self.silence.check(_retry_silent(self.pearl.settings), others=enough and others())

        tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, min(concurrency, len(todo))))]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            saving = list(self._saving)  # a cancelled worker starts no write: these are all there will be
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # (Shielded: a second interrupt leaves them to finish, and a write that comes after the file is closed
            # opens it again: `ResultsLog.append`.)
            for problem in await asyncio.shield(asyncio.gather(*saving, return_exceptions=True)):
                if problem is not None:  # the error that stopped the run is the one to raise
                    log.warning("a result was not saved: %s", problem)
            raise
        finally:
            for task in self._indexing.values():
                task.cancel()


async def arun_eval(
    pearl: Pearl,
    dataset: Dataset,
    methods: Sequence[str],
    out_dir: str | Path,
    *,
    split: str = "all",
    limit: int | None = None,
    concurrency: int = 4,
    retry_errors: bool = False,
    progress: Progress | None = None,
    wait: bool = False,
    plans: PlanSet | None = None,
    plans_only: bool = False,
) -> EvalSummary:
    """Run `methods` over the questions of `dataset` (see `run_eval`)."""
    chosen_methods = check_methods(methods)
    questions, skipped = _runnable(dataset, _with_plans(dataset, split, limit, plans, plans_only))
    skipped = _with_left_out(dataset, skipped, split, limit, plans_only)
    if concurrency < 1:
        raise ConfigError(f"--concurrency (concurrency=) must be 1 or more, got {concurrency}")
    out = Path(out_dir)
    try:
        data_hash = file_sha256(Path(dataset.path))
    except OSError as exc:
        raise DatasetError(f"{dataset.path}: cannot read ({exc.strerror or exc})") from exc
    if out.exists() and not out.is_dir():
        raise ConfigError(
            f"the run directory {out} is a file: a run is a folder of files; choose another --out (out_dir=)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the run directory {out} ({exc.strerror or exc}); choose another --out (out_dir=)"
        ) from exc
    now = _now()
    longest = max((len(d.text) for d in dataset.documents), default=0)
    config = RunConfig(
        data=str(Path(dataset.path).resolve()),
        data_sha256=data_hash,
        format=dataset.format,
        split=split,  # type: ignore[arg-type]  # checked by select_questions
        methods=chosen_methods,
        limit=limit,
        model=pearl.llm.model,
        backend=pearl.llm.backend,
        plans=str(Path(plans.path).resolve()) if plans is not None else None,
        plans_sha256=_plans_hash(plans),
        plan_hashes=_plan_hashes(plans),
        **_planning(pearl, chosen_methods),
        settings=_run_settings(pearl.settings, longest),
        created=now,
        updated=now,
        pearl_version=__version__,
    )
    with await _lock_run(out, wait):
        await _preflight(pearl.llm)
        config = _prepare_run(out, config, longest)
        pearl = _at_run_window(pearl, config)
        start_window = pearl.llm.context_window
        documents = {d.id: Document.from_text(d.text, name=d.title or d.id) for d in dataset.documents}
        results = ResultsLog(out / RESULTS_FILE)
        earlier = results.open()
        latest = latest_rows(earlier)
        done: list[ResultRow] = []
        tally = _Tally(len(questions) * len(chosen_methods), progress)
        try:
            given = plans.plans if plans is not None else {}
            todo: list[tuple[EvalQuestion, str]] = []
            other_prompts: Counter[str] = Counter()
            for question in questions:
                for method in chosen_methods:
                    row = latest.get((question.id, method))
                    if row is not None and _ran_other_prompts(row):
                        other_prompts[method] += 1
                        todo.append((question, method))
                    elif row is None or (retry_errors and row.error is not None) or _ran_another_plan(row, given):
                        todo.append((question, method))
                    else:
                        done.append(row)
            if other_prompts:
                which = ", ".join(f"{n:,} of {m}" for m, n in other_prompts.items())
                log.warning(
                    "%s: %s were answered with prompts or an index that have changed since; they run again",
                    out,
                    f"{counted(other_prompts.total(), 'result')} ({which})",
                )
            for row in done:
                tally.add(row)
            tally.report()
            attempts = Counter((row.id, row.method) for row in earlier)
            await _Runner(pearl, documents, results, tally, given, attempts).run(todo, concurrency)
        except (PearlError, asyncio.CancelledError, KeyboardInterrupt) as exc:
            results.close()
            # A run stopped once it saved results writes their report, saying why it stopped: its server stopped
            # answering, or refused every request (with the trace pages), or it was interrupted (without: it should
            # end promptly, and the next run writes the pages it finds missing). Left as they were, the reports were
            # an earlier run's beside a results file that holds more. How many were saved is counted from the results
            # file the report reads, not the tally: a result being written at the stop is saved (`_Runner.run` waits
            # for it) but was not tallied.
            if not isinstance(exc, PearlError):
                stopped, pages = _interrupted(pearl.settings), None
            elif isinstance(exc, UnansweredError) or stops_a_run(exc):
                stopped, pages = str(exc), documents
            else:
                stopped = None
            config = _lowered_window(out, config, pearl.llm, start_window)
            if stopped is not None and tally.rows > len(done):
                try:  # off the event loop, which an async caller's cancel may leave running its other work
                    await asyncio.to_thread(
                        write_summary,
                        out,
                        questions,
                        chosen_methods,
                        config,
                        documents=pages,
                        skipped=skipped,
                        stopped=stopped,
                    )
                except RunWriteError as problem:  # the error that stopped the run is the one to say
                    log.warning("no report of the results saved: %s", problem)
            raise
        finally:
            results.close()
        config = _lowered_window(out, config, pearl.llm, start_window)
        return await asyncio.to_thread(
            write_summary, out, questions, chosen_methods, config, documents=documents, skipped=skipped
        )


def _lowered_window(out_dir: Path, config: RunConfig, llm: LLM, start: int) -> RunConfig:
    """`config`, its window the one the model's server left the run with: one that refused prompts as over the
    model's context lowered it (`ContextOverflowError`), and the rows from then on ran at that. `run.json` says so,
    so that the run goes on at it (`--context-window` as the warning says); it said the window set, and the run
    resumed at the window the server's error named was refused as "another run" (helper-177). `start`: the model's
    window when the run began (a model's own may be smaller than the one set, which the run keeps)."""
    kept = (config.settings or {}).get("context_window")
    if kept is None or not kept.isdigit() or llm.context_window >= min(start, int(kept)):
        return config
    window = llm.context_window
    config = config.model_copy(
        update={
            "settings": {**(config.settings or {}), "context_window": str(window)},
            # The window set, kept once (a run lowered twice began at the first): the same command goes on at this one.
            "window_set": config.window_set or kept,
        }
    )
    log.warning(
        "%s: the server refused prompts as over the model's context: the window was lowered from %s to %s tokens "
        "for the rest of the run, and run.json says so: the same settings go on with this run at %s",
        out_dir,
        f"{int(kept):,}",
        f"{window:,}",
        f"{window:,}",
    )
    try:
        atomic_write_text(out_dir / RUN_FILE, config.model_dump_json(indent=2) + "\n")
    except OSError as exc:
        log.warning("%s: not written (%s)", out_dir / RUN_FILE, exc.strerror or exc)
    return config


SERVER_WINDOW = (
    "the server's context length (it refused longer prompts in this run: vLLM --max-model-len, Ollama num_ctx)"
)


def _at_run_window(pearl: Pearl, config: RunConfig) -> Pearl:
    """`pearl`, or a copy of it asking its model at the window its server lowered the run to (`_window_carried`);
    the caller's own `Pearl` is left as it was."""
    kept = (config.settings or {}).get("context_window")
    if config.window_set is None or kept is None or not kept.isdigit() or int(kept) >= pearl.llm.context_window:
        return pearl
    lowered = copy.copy(pearl)  # the same settings, library, demonstrations and indexes in memory
    # A window too small is said to be the server's, which refused longer prompts: raising --context-window (what
    # the message said) would have it refuse them again.
    lowered.llm = Capped(pearl.llm, int(kept), set_by=SERVER_WINDOW)
    return lowered


def _write_trace_pages(out_dir: Path, rows: Sequence[ResultRow], documents: Mapping[str, Document]) -> None:
    """A page beside each trace that has none, or an older one (a resumed run re-renders only what changed)."""
    indexes: dict[str, DocumentIndex | None] = {}
    for row in rows:
        if row.trace is None:
            continue
        source, page = out_dir / row.trace, (out_dir / row.trace).with_suffix(".html")
        try:
            if page.is_file() and page.stat().st_mtime >= source.stat().st_mtime:
                continue
            trace = Trace.model_validate(read_json(source, "trace"))
        except (OSError, ValueError, PearlError) as exc:
            log.warning("%s: no trace page (%s)", source, exc)
            continue
        document = documents.get(row.document_id)
        if document is not None and row.document_id not in indexes:
            try:
                indexes[row.document_id] = index_for_page(document)
            except PearlError as exc:  # an empty document: the page goes without the document view
                log.warning("%s: %s", row.document_id, exc)
                indexes[row.document_id] = None
        index = indexes.get(row.document_id)
        notes = []
        if index is None:
            notes.append("the document is not shown: the run's dataset did not provide it")
        elif trace.document is not None and trace.document.content_hash != index.content_hash:
            notes.append("the document is not shown: the dataset's text changed since this question ran")
            index = None
        try:
            atomic_write_text(page, render_trace_page(trace, index, notes=notes), sync=False)
        except OSError as exc:  # a full disk fails every page after it: said once
            log.warning(
                "%s: trace pages not written from here on (%s); once they can be, the same command writes them",
                page,
                exc.strerror or exc,
            )
            return


def _with_plans(
    dataset: Dataset, split: str, limit: int | None, plans: PlanSet | None, plans_only: bool
) -> list[EvalQuestion]:
    """The questions to run; with `plans_only`, only those `plans` has a plan for (then the first `limit`)."""
    if not plans_only:
        return select_questions(dataset, split, limit)
    if plans is None:
        raise ConfigError("plans_only=True needs plans= (--plans-only needs --plans FILE)")
    return select_questions(dataset, split, limit, plans=plans)


def _runnable(dataset: Dataset, questions: Sequence[EvalQuestion]) -> tuple[list[EvalQuestion], dict[str, str]]:
    """The questions that can be run, and why each of the others is skipped: its document has no text (none at all,
    or markup that shows nothing), or it cannot be asked as given (an empty option, an option twice).

    Such a question is bad input, not a model's failure: run, it was an error that `--retry-errors`
    could never mend (or, for `direct`, a question asked about nothing).

    Raises:
        DatasetError: no question is left.
    """
    wanted = {q.document_id for q in questions}  # a page's markup is read for the questions run, not the whole file
    blank = {
        d.id
        for d in dataset.documents
        if d.id in wanted and (not visible(d.text) or not visible(shown_document(d.text)))
    }
    skipped: dict[str, str] = {}
    for question in questions:
        if question.document_id in blank:
            skipped[question.id] = NO_TEXT
            continue
        try:
            checked_question(Question(text=question.question, options=question.options))
        except QuestionError as exc:
            skipped[question.id] = str(exc)
    kept = [q for q in questions if q.id not in skipped]
    empty = sorted({q.document_id for q in questions if q.document_id in blank})
    unaskable = {qid: why for qid, why in skipped.items() if why != NO_TEXT}
    if not kept:
        said = []
        if empty:
            which = "some" if unaskable else "every one"
            said.append(f"the document of {which} selected has no text ({some_of(empty)})")
        if unaskable:
            said.append(f"{counted(len(unaskable), 'question')} cannot be asked as given ({_why(unaskable)})")
        raise DatasetError(f"{dataset.path}: no question to run: {'; '.join(said)}; mend the data file")
    if empty:
        no_text = [qid for qid, why in skipped.items() if why == NO_TEXT]
        log.warning(
            "%s: skipping %s whose document has no text (documents %s): %s; fill in the text to run them",
            dataset.path,
            counted(len(no_text), "question"),
            some_of(empty),
            some_of(no_text),
        )
    if unaskable:
        log.warning(
            "%s: skipping %s that cannot be asked as given: %s; mend them in the file to run them",
            dataset.path,
            counted(len(unaskable), "question"),
            _why(unaskable),
        )
    return kept, skipped


def _with_left_out(
    dataset: Dataset, skipped: Mapping[str, str], split: str, limit: int | None, plans_only: bool
) -> dict[str, str]:
    """`skipped`, with the questions the loader left out (`Dataset.left_out`) that this selection would have run, in
    the file's order: they were said on stderr alone, and the report named every other question skipped but these.
    Such a question has no tags (L-Eval's) and no given plan: only the whole set takes it, the first `limit` up to
    where it stands."""
    if split != "all" or plans_only or not dataset.left_out:
        return dict(skipped)
    place = {question.id: 2 * at for at, question in enumerate(dataset.questions)}
    chosen = {qid: (2 * at - 1, why) for qid, (at, why) in dataset.left_out.items() if limit is None or at < limit}
    merged = {qid: (place.get(qid, 0), why) for qid, why in skipped.items()} | chosen
    return {qid: why for qid, (_, why) in sorted(merged.items(), key=lambda item: item[1][0])}


def _why(skipped: Mapping[str, str]) -> str:
    """`q7 (options A and B are the same ...)`, for the first few."""
    return some_of([f"{qid} ({why})" for qid, why in skipped.items()])


def _plans_hash(plans: PlanSet | None) -> str | None:
    """What the given plans are, so a resumed run can tell they changed."""
    if plans is None:
        return None
    blob = json.dumps(sorted(plans.plans.items()), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _plan_hashes(plans: PlanSet | None) -> dict[str, str]:
    """Each given plan's hash by question id, so a resumed run can tell which changed."""
    given = plans.plans if plans is not None else {}
    return {qid: _plan_hash(plan) for qid, plan in given.items()}


def _plan_hash(plan: str) -> str:
    return hashlib.sha256(plan.encode("utf-8")).hexdigest()[:16]


@functools.cache
def _prompts_hash(method: str) -> str:
    """What the prompt templates `method` may send are (their ids, which change with their text), and for a method
    that reads the document's index, which version of the index pipeline chose what they show."""
    ids = sorted(load_prompt(name).id for name in METHODS[method].sends)
    if method not in _NO_INDEX:
        ids.append(f"index v{PIPELINE_VERSION}")
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:16]


def _ran_other_prompts(row: ResultRow) -> bool:
    """Whether `row` was answered with prompt templates, or an index, other than this pearl's (edited, or a newer
    version since the run began): it runs again on a resumed run, so that no method's results mix two. Rows of runs
    before rows kept it cannot tell, and stand. (Other changes to the code that fills the prompts go unseen.)"""
    return row.prompts_sha256 is not None and row.prompts_sha256 != _prompts_hash(row.method)


def _ran_another_plan(row: ResultRow, given: Mapping[str, str]) -> bool:
    """Whether `row` failed on a plan other than the one given now (mended, given, or taken away): it runs again
    on a resumed run, --retry-errors or not. A row that did not fail and ran another plan is refused before
    (`_prepare_run`)."""
    if row.error is None or not METHODS[row.method].planned:
        return False
    now = given.get(row.id)
    return (row.plan_sha256 if row.plan_given else None) != (_plan_hash(now) if now is not None else None)


_PLANNING = ("actions", "actions_sha256", "demos", "demos_sha256")
"""What a run file keeps of how plans were written: the action library and the demonstrations."""


def _planning(pearl: Pearl, methods: Sequence[str]) -> dict[str, str | None]:
    """`_PLANNING` for a run of `methods`: what `pearl` plans with, where one of them plans; else all None."""
    if not any(METHODS[method].planned for method in methods):
        return dict.fromkeys(_PLANNING)
    library, demos = pearl.library, pearl.demos
    return {
        "actions": f"{library.name!r} v{library.version} ({counted(len(library.actions), 'action')})",
        "actions_sha256": library.fingerprint,
        "demos": f"{demos.name!r} v{demos.version} ({counted(len(demos.demos), 'demonstration')})",
        "demos_sha256": pearl.demos_fingerprint,  # the store as given: see `Pearl.demos_fingerprint`
    }


def write_summary(
    out_dir: Path,
    questions: Sequence[EvalQuestion],
    methods: Sequence[str],
    config: RunConfig | None,
    *,
    documents: Mapping[str, Document] | None = None,
    skipped: Sequence[str] | Mapping[str, str] = (),
    stopped: str | None = None,
) -> EvalSummary:
    """Summarise the rows of `out_dir` for these questions and methods; write `summary.json`, `report.md`
    and `report.html`, which links each question's trace page.

    Args:
        documents: the run's documents by id; given, a page is written for each trace that has
            none yet (or an older one), showing the document.
        skipped: questions left out as bad input, named in the report (as `summarize` takes them).
        stopped: why the run stopped before every question had a result, said at the top of the reports after how
            many results were saved.
    """
    wanted = {q.id for q in questions}
    # Every attempt goes to the summary (what the run spent); it keeps one row a question for everything else.
    attempts = [r for r in load_results(out_dir / RESULTS_FILE) if r.id in wanted and r.method in methods]
    order = {q.id: i for i, q in enumerate(questions)}
    attempts.sort(key=lambda r: order[r.id])  # stable: a question's attempts stay in the order they were made
    rows = list(latest_rows(attempts).values())
    if stopped is not None:
        stopped = f"{len(rows):,} of {counted(len(questions) * len(methods), 'result')} saved; {stopped}"
    title = f"pearl eval: {Path(config.data).name}" if config is not None else "pearl eval"
    summary = summarize(attempts, methods=methods, run=config, title=title, skipped=skipped, stopped=stopped)

    def write(name: str, render: Callable[[], str]) -> None:
        try:
            atomic_write_text(out_dir / name, render())
        except OSError as exc:  # a full disk, a folder in the way: the results are saved, the reports can follow
            # A run that stopped (a result not saved, a server that stopped answering) has questions left to ask.
            then = "resumes the run and writes them" if stopped else "writes the reports, asking nothing again"
            error = RunWriteError(
                f"cannot write {out_dir / name} ({exc.strerror or exc}); the results are saved in "
                f"{out_dir / RESULTS_FILE}: once it can be written, the same command {then}"
            )
            error.summary = summary
            raise error from None

    write(SUMMARY_FILE, lambda: summary.model_dump_json(indent=2) + "\n")
    write(REPORT_FILE, lambda: render_report(summary))
    if documents is not None:
        _write_trace_pages(out_dir, rows, documents)
    pages = {
        (r.id, r.method): page
        for r in rows
        if r.trace is not None and (out_dir / (page := r.trace.removesuffix(".json") + ".html")).is_file()
    }
    write(REPORT_HTML_FILE, lambda: render_report_page(summary, rows, pages=pages))
    return summary


def run_eval(
    pearl: Pearl,
    dataset: Dataset,
    methods: Sequence[str],
    out_dir: str | Path,
    *,
    split: str = "all",
    limit: int | None = None,
    concurrency: int = 4,
    retry_errors: bool = False,
    progress: Progress | None = None,
    wait: bool = False,
    plans: PlanSet | None = None,
    plans_only: bool = False,
) -> EvalSummary:
    """Run `methods` over the questions of `dataset`, appending one row per (question, method) to `out_dir`.

    Pairs already in `out_dir/results.jsonl` are skipped, so calling again resumes; a question
    whose model call fails is recorded with its error and the run goes on. A question whose
    document has no text, or that cannot be asked as given (an empty option, an option twice), is bad input: it is
    not run, with a warning, and the report names it (`EvalSummary.skipped`, `skipped_why`).

    Args:
        pearl: the `Pearl` to ask (its model, settings, actions and demonstrations).
        dataset: from `load_dataset`.
        methods: names from `pearl.methods.METHODS`.
        out_dir: the run directory (created if needed).
        split: "all", "long", "short" or "hard".
        limit: only the first `limit` questions of the split.
        concurrency: questions in flight at once.
        retry_errors: run again the pairs whose last row has an error.
        progress: told `(rows done, rows in the run, running score and tokens)` as each row is written.
        wait: when another process is running into `out_dir`, wait for it to finish, then resume.
        plans: given plans (`match_plans`): a planned method (pearl, pearl-fulldoc) runs a question's
            given plan instead of writing one (a plan that does not parse is recorded as the row's
            error); questions without one are planned as usual; direct and rag ignore them.
        plans_only: run only the questions `plans` has a plan for.

    Returns:
        The summary of the selected questions, also written as `summary.json` and `report.md`.

    Raises:
        ConfigError: bad arguments, or `out_dir` holds a run of other data or another model.
        DatasetError: the document of every selected question has no text.
        RunBusyError: another process is running into `out_dir` (and `wait` is off).
        LLMError: a failure no question can escape (bad key, unknown model); rows so far are kept.
        EmbeddedModelError: the embedded model is missing or cannot load (checked before any question runs).
    """
    return run_blocking(
        arun_eval(
            pearl,
            dataset,
            methods,
            out_dir,
            split=split,
            limit=limit,
            concurrency=concurrency,
            retry_errors=retry_errors,
            progress=progress,
            wait=wait,
            plans=plans,
            plans_only=plans_only,
        )
    )
