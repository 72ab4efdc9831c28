"""`Pearl`: the library's front door and the one place that runs the pipeline.

`index -> plan -> execute -> answer`: how a plan is made (demonstrations, entity sheet,
self-correction attempts), how it is run, and what happens when no plan is valid are decided
here and nowhere else; `pearl ask`, evaluation, refinement and the benchmarks all come
through these methods. Pass the model and the settings explicitly; no globals.

What every question gets here, whatever the method:

- A `PearlError` leaves with the question's trace so far attached (`error.trace`): the calls
  made and the one that failed, which is when a trace is needed most.
- When the server refuses a prompt as over the model's context (`ContextOverflowError`) and the
  backend has lowered the window it assumes, the question runs again once, every prompt fitted
  to the new window, and the answer says so in a note. A second refusal is raised.
- A document not indexed yet is indexed in a worker thread (`aindex`), so the event loop goes on
  with other questions meanwhile, and a question cancelled then (Ctrl-C) stops the indexing at
  its next progress report instead of waiting seconds for it. One index is built at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import functools
import inspect
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeoutError
from typing import Any, Generic, TypeVar

from pearl._text import visible
from pearl._workers import in_worker
from pearl.actions import ActionLibrary, default_library
from pearl.config import Settings, load_settings
from pearl.context import (
    DENSE_INSTALL,
    DocumentIndex,
    count_words,
    dense_available,
    dense_wanted,
    entity_sheet,
    index_document,
)
from pearl.context._dense import attach_or_why, auto_left_out
from pearl.documents import DocumentSource, as_document, left_out_notes, names_path, source_files
from pearl.errors import (
    ConfigError,
    ContextOverflowError,
    PearlError,
    PlanError,
    PlanParseError,
    QuestionError,
    own_copy,
)
from pearl.llm import LOOP_WAITING, make_llm
from pearl.llm._reply import FILTERED_NOTE, LOOP_NOTE, SERVER_CUT_NOTE
from pearl.llm._wrap import Capped
from pearl.methods import METHODS, AskContext, Method, answer_from_plan
from pearl.models import Answer, Document, Trace, TraceDocument, TraceEvent
from pearl.planning import (
    Demo,
    DemoStore,
    Plan,
    PlanResult,
    builtin_demos,
    generate_plan,
    parse_plan,
    plan_window_problem,
    runnable_demos,
    select_demos,
    validate_plan,
)
from pearl.planning._generate import no_plan
from pearl.planning._kinds import kind_asked_about
from pearl.prompts import CUT_MARK, token_margin
from pearl.protocols import LLM, StageProgress
from pearl.questions import LETTERS, Question, as_question
from pearl.tokens import get_encoding
from pearl.trace import PLAN_SKIPPED, PLAN_SKIPPED_NOTE

log = logging.getLogger("pearl")

__all__ = [
    "DEFAULT_METHOD",
    "MEMORY_INDEXES",
    "PLAN_DEMOS",
    "SHEET_TOKENS",
    "Pearl",
    "checked_question",
    "run_blocking",
]

DEFAULT_METHOD = "pearl"
_WARNED: set[tuple[str, str, str]] = set()
"""(library, demonstrations) fingerprints and what was said of the demonstrations they drop, said already in this
process."""
PLAN_DEMOS = 4
"""Demonstrations shown to the planner, the most similar to the question first."""
SHEET_TOKENS = 250
"""Tokens of the document's entity sheet shown to the planner."""
_REFIT = "context overflow"
"""The trace stage recording that a question ran again in a smaller window."""

T = TypeVar("T")


MEMORY_INDEXES = 16
"""Indexes a `Pearl` keeps in memory, the most recently used: a long-lived service asked about
document after document kept every one, with its derived views, for good. One let go comes back
from the index cache on disk (`index_document`) when it is asked about again."""


class _Memory:
    """The indexes in memory, by content hash, the least recently used let go beyond `MEMORY_INDEXES`;
    shared by a `Pearl` and its `with_demos` twins. Safe across threads."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, DocumentIndex] = OrderedDict()
        self._embedded: set[str] = set()  # of those kept, the ones given their sentence vectors (`dense`)
        self.dense_problem: str | None = None  # why dense auto is off since: the model did not load
        self._lock = threading.Lock()  # held for a lookup or an update, never for a build
        self.building = threading.Lock()  # one index built (or embedded) at a time, in whichever thread

    def get(self, key: str, *, embedded: bool = False) -> DocumentIndex | None:
        """The index of the text with content hash `key`, if kept (and given its vectors, if `embedded`)."""
        with self._lock:
            index = self._kept.get(key)
            if index is None or (embedded and key not in self._embedded):
                return None
            self._kept.move_to_end(key)
            return index

    def put(self, key: str, index: DocumentIndex, *, embedded: bool = False) -> None:
        with self._lock:
            self._kept[key] = index
            self._kept.move_to_end(key)
            if embedded:
                self._embedded.add(key)
            while len(self._kept) > MEMORY_INDEXES:
                gone, _ = self._kept.popitem(last=False)
                self._embedded.discard(gone)


class _Stopped(Exception):
    """Raised inside an index build (or a wait for one) whose `aindex` was cancelled: no one waits for it."""


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to its end and return its result, for the blocking twins of async methods.

    Where this thread already runs an event loop (a Jupyter notebook, an async web app),
    `asyncio.run` refuses to start another; the coroutine then runs in a thread of its own, and is cancelled (and
    waited for) when the wait is interrupted (a notebook's interrupt, Ctrl-C).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        running = False
    else:
        running = True
    if not running:  # run outside the `except`, or every error it raises would chain "no running event loop"
        return asyncio.run(coroutine)
    # With the caller's context variables (a tracing span, a request id), as `asyncio.run` here would have;
    # its requests do not wait for a slot the blocked loop's own requests may hold (`LOOP_WAITING`).
    context = contextvars.copy_context()
    context.run(LOOP_WAITING.set, True)
    job = _Cancellable(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pearl") as pool:
        future = pool.submit(context.run, asyncio.run, job.run())
        try:
            while True:  # in short waits: on Windows a wait without a timeout cannot be interrupted
                try:
                    return future.result(timeout=0.25)
                except FuturesTimeoutError:
                    if future.done():  # the question's own TimeoutError (the same class from Python 3.11)
                        raise
        except BaseException:
            # Interrupted while waiting (a notebook's interrupt, Ctrl-C): the question is cancelled, as `asyncio.run`
            # cancels its task, and the pool's exit waits for it to stop. Not cancelled, it ran on to its end, every
            # call paid for, before the interrupt was seen.
            if not future.done():
                job.cancel()
            raise


class _Cancellable(Generic[T]):
    """A coroutine run by `asyncio.run` in another thread, which this thread can cancel, before it starts too."""

    def __init__(self, coroutine: Coroutine[Any, Any, T]) -> None:
        self._coroutine = coroutine
        self._lock = threading.Lock()
        self._cancelled = False
        self._task: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None

    async def run(self) -> T:
        with self._lock:
            task = asyncio.current_task()
            if self._cancelled or task is None:
                self._coroutine.close()
                raise asyncio.CancelledError
            self._task = (asyncio.get_running_loop(), task)
        return await self._coroutine

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._task is not None:
                loop, task = self._task
                with contextlib.suppress(RuntimeError):  # its loop closed: it has ended already
                    loop.call_soon_threadsafe(task.cancel)


def _cut_notes(trace: Trace, question: Question, window: str) -> list[str]:
    """A note for the question (or its options) when a prompt had to cut it to its share of the window (`window`: what
    sets it, to raise).

    Read from what each call records of its prompt's fitting (`TraceEvent.cut`), so it says what
    the model saw: `PromptTemplate.fit` gives the question at most a quarter of a prompt's room.
    """
    notes = []
    for field, text in (("question", question.text), ("options_block", question.options_block())):
        kept = [event.cut[field] for event in trace.events if field in event.cut]
        if not kept:
            continue
        if field == "question":
            said = f"the question is {len(text):,} characters, more than a prompt has room for: the model saw only "
            said += f"the first {min(kept):,}"
        else:  # cut option by option (`EACH_ITEM_SHOWN`): every letter stays in sight
            said = f"the options are {len(text):,} characters, more than a prompt has room for: the model saw the "
            said += f"longest of them only in part ({min(kept):,} characters of them in all)"
        them = "it" if field == "question" else "them"
        notes.append(f"{said} in at least one call; shorten {them}, or raise {window} if the model takes more")
    return notes


def checked_question(question: Question) -> Question:
    """`question`, once it is one a model can be asked: its text and every option visible, no option twice.

    Raises:
        QuestionError: the question shows nothing, an option is empty, or two options are the same.
    """
    if not visible(question.text):
        raise QuestionError("the question is empty: give the question's text (options alone are not a question)")
    for letter, option in zip(question.letters, question.options, strict=True):
        if not visible(option):
            raise QuestionError(f"option {letter} is empty: give each option's text, or leave the option out")
    seen: dict[str, str] = {}
    for letter, option in zip(question.letters, question.options, strict=True):
        key = " ".join(option.casefold().split())
        if key in seen:
            raise QuestionError(
                f"options {seen[key]} and {letter} are the same ({option.strip()!r}): "
                "give each option once, so that the model's choice names one"
            )
        seen[key] = letter
    return question


def _check_window(ctx: AskContext, method: Method, advice: str) -> None:
    """Refuse, before any call, a question the one call of `method` cannot show in the model's window: sent anyway,
    a prompt with neither the question, its options nor any of the document was answered (every method refuses so).

    Raises:
        ConfigError: the window cannot hold `method`'s prompt showing the question (see `Method.window_problem`).
    """
    too_small = method.window_problem(ctx) if method.window_problem is not None else None
    if too_small is not None:
        raise ConfigError(f"{too_small}; {advice}")


async def _fall_back(ctx: AskContext, method: str, before: str, after: str) -> Answer:
    """`method`'s answer given by its fallback method instead, marked so, its note naming the fallback
    between `before` and `after` (why)."""
    fallback = METHODS[METHODS[method].fallback]
    assert fallback.answer is not None
    answer = await fallback.answer(ctx)
    note = f"{before}answered by {fallback.name} ({fallback.description}){after}"
    return answer.model_copy(update={"method": method, "fallback": True, "notes": [note, *answer.notes]})


def _unchosen_notes(answer: Answer) -> list[str]:
    """A note when a multiple-choice answer names none of the options, or several: its letter is None; and when a
    free-text answer is empty (a model of the user's own, or the embedded one, replied with no text)."""
    if not answer.options:
        return [] if answer.answer.strip() else ["the model answered with no text"]
    if answer.letter is not None:
        return []
    letters = LETTERS[: len(answer.options)]
    last = letters[-1]
    # Not "named none": "not A but C" names two, as bare letters, which are no choice to read.
    written = f'"{last}", "answer: {last}" or "({last})"'
    return [
        f"no letter chosen: the reply names none of {', '.join(letters)} as a choice is written ({written}), "
        f'or names several ("{letters[0]} or {last}")'
    ]


_MEMBERS = {
    "backend": 'backend = "mine"',
    "model": 'model = "its-name"',
    "context_window": "context_window = 8192",
    "supports_grammar": "supports_grammar = False",
    "supports_json_schema": "supports_json_schema = False",
    "is_demo": "is_demo = False",
}
"""What a model must have besides `complete` and `acomplete` (`pearl.protocols.LLM`), and how a class may give it
(`check` is called where there is one: a wrapper of a benchmark's had none)."""


def _has(llm: object, name: str) -> bool:
    """Whether `llm` has the attribute `name`, found without reading it (a property is not run); a wrapper that hands
    what it lacks to another (`__getattr__`) is taken at its word."""
    return _found(llm, name) or _found(type(llm), "__getattr__")


def _found(owner: object, name: str) -> bool:
    try:
        inspect.getattr_static(owner, name)
    except AttributeError:
        return False
    return True


def _check_types(llm: object, settings: object, library: object, demos: object) -> None:
    """Refuse arguments of the wrong kind now, with what to pass, rather than fail on them mid-question."""
    if isinstance(llm, Settings):
        raise TypeError("Pearl's first argument is the model: pass the settings by name, Pearl(settings=...)")
    # Its two methods only: a model's properties may be costly to read (`isinstance(llm, LLM)` reads them all).
    if llm is not None and not all(callable(getattr(llm, name, None)) for name in ("complete", "acomplete")):
        raise TypeError(
            f"llm must be a model (FakeLLM, OpenAICompatibleLLM, make_llm(settings)), not {type(llm).__name__}; "
            "to name a server's model, use Pearl(settings=load_settings(base_url=..., model=...))"
        )
    # Looked up without being read (a property may be costly): one missing failed mid-question, after a paid call.
    missing = [name for name in _MEMBERS if llm is not None and not _has(llm, name)]
    if missing:
        raise TypeError(
            f"llm ({type(llm).__name__}) lacks {', '.join(missing)} of pearl.protocols.LLM: add "
            f"{'it' if len(missing) == 1 else 'them'} to its class ({'; '.join(_MEMBERS[name] for name in missing)})"
        )
    for name, value, kind, wanted in (
        ("settings", settings, Settings, "a Settings (load_settings(...))"),
        ("library", library, ActionLibrary, "an ActionLibrary (load_library(path))"),
        ("demos", demos, DemoStore, "a DemoStore (load_demos(path))"),
    ):
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"{name} must be {wanted}, not {type(value).__name__}")


def _check_window_value(llm: LLM) -> None:
    """Refuse a model of the user's own whose `context_window` is no number of tokens, before a call is paid for: one
    of "8192" or None failed mid-question with "unsupported operand type(s) for -: 'str' and 'int'" (helper-219)."""
    window = llm.context_window
    if isinstance(window, bool) or not isinstance(window, int):
        raise TypeError(
            f"llm.context_window must be the model's window in tokens, a whole number, not {window!r} "
            f"({type(window).__name__}), in {type(llm).__name__}"
        )
    if window < 1:
        raise ValueError(f"llm.context_window must be at least 1 token, not {window}, in {type(llm).__name__}")


def _length_notes(trace: Trace, question: Question) -> list[str]:
    """A note when a free-text answer stopped at the answer call's reply limit: its end may be missing; and one when
    a step's reply did, passed on marked as cut (`CUT_MARK`): the paper's executor's answer is its steps' replies."""
    cut = [
        e.stage.split()[1]
        for e in trace.events
        if e.stage.startswith("step ")
        and e.data.get("finish_reason") == "length"
        and len(e.stage.split()) > 1
        and not any(str(note).startswith(LOOP_NOTE) for note in e.data.get("notes", []))  # whole up to its loop
    ]
    steps = []
    if cut:
        whose = (
            f"reply of step {cut[0]} reached its"
            if len(cut) == 1
            else f"replies of steps {', '.join(cut)} reached their"
        )
        steps.append(
            f"the {whose} length limit and {'was' if len(cut) == 1 else 'were'} passed on cut, marked "
            f"'{CUT_MARK.strip()}'"
        )
    ends = [e for e in trace.events if e.stage == "answer" and e.data.get("finish_reason") == "length"]
    if question.options or not ends:
        return steps
    return steps + _answer_length_note(ends)


def _answer_length_note(ends: list[TraceEvent]) -> list[str]:
    if any(str(note).startswith(LOOP_NOTE) for e in ends for note in e.data.get("notes", [])):
        return ["the model's answer repeated itself until its length limit; it is shown up to the repetition"]
    return ["the model's answer reached its length limit and may be cut off; a narrower question gets a whole one"]


def _server_cut_notes(trace: Trace) -> list[str]:
    """A note when the server read fewer prompt tokens than were sent, in any call (the first such call's, with how
    many more did): it cut the prompt on its own, so the model answered from less than pearl showed it. And one when
    its content filter cut a reply short (its stage named)."""
    cut = [
        str(note)
        for e in trace.events
        for note in e.data.get("notes", [])
        if isinstance(note, str) and note.startswith(SERVER_CUT_NOTE)
    ]
    filtered = [e.stage for e in trace.events if FILTERED_NOTE in e.data.get("notes", [])]
    said = [f"{FILTERED_NOTE}: {', '.join(filtered)}"] if filtered else []
    return said + ([cut[0]] if len(cut) == 1 else ([f"{cut[0]} (and in {len(cut) - 1} more calls)"] if cut else []))


def _method(name: str) -> Method:
    if not isinstance(name, str):
        raise TypeError(
            f"method must be a method's name, one of {', '.join(sorted(METHODS))}, not {type(name).__name__}"
        )
    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; choose one of {', '.join(sorted(METHODS))}")
    return METHODS[name]


class Pearl:
    """Answers questions about documents.

    Args:
        llm: the model; default: the one `settings` describe (the embedded model when none is configured).
        settings: resolved settings; default: `load_settings()` (environment, then config file).
        library: the actions plans may use; default: the bundled default library.
        demos: demonstrations for the planner; default: the bundled ones.
        on_stage: told as each stage of a question starts (indexing, each plan attempt, each
            step, the answer call) and how far indexing has got; see `StageProgress`.
        on_trace: given each question's trace as the question starts; the trace fills as the
            question runs, so a caller keeps what an interrupted question did (`pearl ask --trace`
            writes it on Ctrl-C; a failure's trace also comes with its `PearlError`).

    Raises:
        ConfigError: `library` holds no action; `settings.dense` is True and the optional
            dense package is not installed.
    """

    def __init__(
        self,
        llm: LLM | None = None,
        settings: Settings | None = None,
        *,
        library: ActionLibrary | None = None,
        demos: DemoStore | None = None,
        on_stage: StageProgress | None = None,
        on_trace: Callable[[Trace], None] | None = None,
    ) -> None:
        _check_types(llm, settings, library, demos)
        self.settings = settings or load_settings()
        if self.settings.dense is True and not dense_available():  # before any call is paid for
            raise ConfigError(f"dense=True (PEARL_DENSE) needs an optional package: {DENSE_INSTALL}; or turn it off")
        self.library = library if library is not None else default_library()
        if not self.library.actions:  # no plan can be written with no action (an empty library is not "none")
            raise ConfigError(
                f"action library {self.library.name!r} holds no action, so no plan could be written; "
                "give a library with actions, or none for the bundled default library"
            )
        self.llm = llm if llm is not None else make_llm(self.settings)
        # A model passed in has a window of its own, which `settings.context_window` lowers when set (the model
        # takes no more than its own): set smaller, it was ignored, and prompts were fitted to the model's.
        self._own_window = llm is not None
        cap = self.settings.context_window
        if llm is not None and cap is not None and cap < llm.context_window:
            self.llm = Capped(llm, cap)
        # The planner is shown only demonstrations the library can run: the rest are dropped here, said once, so that
        # a report counts what the planner sees (a mined library may run none of the bundled ones).
        given = demos or builtin_demos()
        self.demos, dropped = runnable_demos(given, self.library, self.settings.max_steps)
        # What runs and resumes are keyed on: the store as given, which with the library and max_steps (keyed on apart)
        # fixes what is shown. (The filtered store's would change the key of a run begun before they were filtered.)
        self.demos_fingerprint = given.fingerprint
        # Said when a question is first planned, not here: a run that plans nothing (`direct`, `rag`, given plans
        # alone) was warned of demonstrations it never shows.
        self._dropped = (self.library.fingerprint, given.fingerprint, dropped or "")
        # A store with fewer than PLAN_DEMOS is topped up from the bundled demonstrations this library runs.
        self._fallback = (
            self.demos if demos is None else runnable_demos(builtin_demos(), self.library, self.settings.max_steps)[0]
        )
        # A listener that raises is the caller's bug, not the question's: it is logged and the question goes on (one
        # raising for the indexing stage, told from a worker thread, was logged by asyncio, one for a later stage
        # failed the question).
        self.on_stage = on_stage
        self.on_trace = on_trace
        self._memory = _Memory()

    @property
    def on_stage(self) -> StageProgress | None:
        """Told as each stage of a question starts (see `Pearl`); one set later is called as one passed in."""
        return self._on_stage

    @on_stage.setter
    def on_stage(self, listener: StageProgress | None) -> None:
        # Wrapped here, not in `__init__` alone: one set on the attribute that raised failed the question.
        self._on_stage: StageProgress | None = _Listener.of(listener, "on_stage")

    @property
    def on_trace(self) -> Callable[[Trace], None] | None:
        """Given each question's trace as the question starts (see `Pearl`); one set later is called alike."""
        return self._on_trace

    @on_trace.setter
    def on_trace(self, listener: Callable[[Trace], None] | None) -> None:
        self._on_trace: Callable[[Trace], None] | None = _Listener.of(listener, "on_trace")

    def with_demos(self, demos: DemoStore) -> Pearl:
        """The same pipeline (model, settings, library, indexes in memory) planning with other demonstrations."""
        other = Pearl(
            self.llm, self.settings, library=self.library, demos=demos, on_stage=self.on_stage, on_trace=self.on_trace
        )
        other._memory = self._memory
        other._own_window = self._own_window  # its model made from the settings, or not
        return other

    @property
    def _window_setting(self) -> str:
        """What sets the window prompts are fitted to, as the thing to raise: `context_window`, or the model's own
        window when a model passed in has a smaller one than any `context_window` set (which only lowers it)."""
        if isinstance(self.llm, Capped):
            return self.llm.set_by
        if not self._own_window:
            return "context_window"
        name = type(self.llm).__name__
        return f"the window of the model passed as llm ({name}'s own; Settings.context_window can only lower it)"

    @property
    def _raise_window(self) -> str:
        """What to do about a window too small, for the end of a message."""
        setting = self._window_setting
        if setting == "context_window":
            setting += " (--context-window)"
        return f"raise {setting} if the model takes more"

    def index(self, document: DocumentSource) -> DocumentIndex:
        """The document's index, with its own name and parts: from memory, else the disk cache, else built now.
        With dense similarity on (`Settings.dense`; auto: the MiniLM wheel installed), given its sentence vectors
        too (from disk, else embedded now), as the first question of `pearl` or `rag` would.

        `document` is whatever `ask` takes: a `Document`, a path, several paths, or plain text.
        """
        return self._index(as_document(document, self.settings.max_bytes), None, self.on_stage)

    async def aindex(self, document: DocumentSource) -> DocumentIndex:
        """`index` in a worker thread, the event loop free meanwhile; cancelled, it stops building the index (or
        embedding its sentences).

        The stages are told (`on_stage`) on the event loop's thread, as every other stage of a question is.
        """
        return await self._aindex(document, ranks=True)

    async def _aindex(self, document: DocumentSource, *, ranks: bool) -> DocumentIndex:
        """`aindex`; with `ranks` False (for a method that does not rank sentences), without sentence vectors."""
        if not isinstance(document, Document):  # files are read in the worker thread too
            document = await in_worker(as_document, document, self.settings.max_bytes)
        if self._memory.get(document.content_hash, embedded=self._dense(document, ranks)) is not None:
            return self._index(document, None, None, ranks=ranks)  # no thread needed
        loop = asyncio.get_running_loop()
        on_stage = self.on_stage
        tell: StageProgress | None = None
        if on_stage is not None:

            def tell(stage: str, done: int = 0, total: int = 0) -> None:
                loop.call_soon_threadsafe(on_stage, stage, done, total)

        stop = threading.Event()
        try:
            return await asyncio.to_thread(functools.partial(self._index, document, stop, tell, ranks=ranks))
        except asyncio.CancelledError:
            stop.set()
            raise

    @contextlib.contextmanager
    def _turn(self, stop: threading.Event | None) -> Iterator[None]:
        """Hold the build lock; while another thread builds, a stopped question stops waiting (`_Stopped`)."""
        building = self._memory.building
        if stop is None:
            building.acquire()
        else:
            while not building.acquire(timeout=0.05):
                if stop.is_set():
                    raise _Stopped
        try:
            yield
        finally:
            building.release()

    def _index(
        self, document: Document, stop: threading.Event | None, tell: StageProgress | None, *, ranks: bool = True
    ) -> DocumentIndex:
        """`index`, given up (`_Stopped`) once `stop` is set: while waiting for another build, or at the next
        progress report of its own. With `ranks` False, not given sentence vectors (`_dense`)."""
        key = document.content_hash
        index = self._memory.get(key, embedded=self._dense(document, ranks))
        if index is None:
            with self._turn(stop):
                index = self._memory.get(key)  # another thread may have built it meanwhile
                if index is None:
                    index = self._build(document, stop, tell)
                    self._memory.put(key, index)
                # Decided again in turn: a model that failed to load for another thread is not tried again.
                if self._dense(document, ranks) and self._memory.get(key, embedded=True) is None:
                    self._embed(key, index, stop, tell)
        if index.name == document.name and index.parts == document.parts:
            return index
        # Kept by text alone, the index may be another file's with the same text, whose name and parts (which
        # file, where it writes "\r\n") would place citations in that file. A shallow copy takes this document's
        # own, as `index_document` does for an index from the disk cache, and shares the original's derived
        # views (`DocumentIndex.memo`: BM25 postings, the graph), which depend on the text alone.
        return index.model_copy(update={"name": document.name, "parts": list(document.parts)})

    def _dense(self, document: Document, ranks: bool = True) -> bool:
        """Whether `document`'s sentences are given vectors to rank by meaning too (`Settings.dense`; auto:
        `dense_wanted`, and off once the model failed to load): not for a method that does not rank (`ranks`)."""
        if not ranks or (self.settings.dense == "auto" and self._memory.dense_problem is not None):
            return False
        return dense_wanted(self.settings.dense, len(document.text))

    def _embed(self, key: str, index: DocumentIndex, stop: threading.Event | None, tell: StageProgress | None) -> None:
        """Give `index` its sentence vectors, told as stage "embed" and given up (`_Stopped`) once `stop` is set.

        With dense auto, a model that does not load turns dense off for this `Pearl` (the answers say
        why) rather than failing questions that words alone can answer.
        """
        total = index.sentence_count

        def embedded(done: int) -> None:
            if stop is not None and stop.is_set():
                raise _Stopped
            if tell is not None:
                tell("embed", done, total)

        told = None if tell is None else lambda count: tell("embed", 0, count)
        problem = attach_or_why(index, self.settings.dense, progress=told, embedded=embedded)
        if problem is not None:
            self._memory.dense_problem = problem
            return
        self._memory.put(key, index, embedded=True)

    @staticmethod
    def _build(document: Document, stop: threading.Event | None, tell: StageProgress | None) -> DocumentIndex:
        if stop is not None and stop.is_set():  # stopped while waiting for its turn
            raise _Stopped
        # Told in words, which a person knows a document's length by; the index counts characters.
        words = count_words(document.text) if tell is not None else 0
        if tell is not None:
            tell("index", 0, words)

        def progress(done: int, total: int, status: str = "") -> None:
            del status  # told in words of the document, not in stages
            if stop is not None and stop.is_set() and done < total:  # a finished index is kept
                raise _Stopped
            if tell is not None:
                tell("index", words * done // max(1, total), words)

        return index_document(document, progress=progress)

    async def _read(self, document: DocumentSource) -> DocumentSource:
        """`document` read, when it names files: in a worker thread, not on the event loop (a large page or PDF
        takes up to seconds to read and convert)."""
        if isinstance(document, Document):
            return document
        return await in_worker(as_document, document, self.settings.max_bytes)

    def _context(self, document: DocumentSource, question: Question, method: str) -> AskContext:
        question = checked_question(question)
        _check_window_value(self.llm)
        ranks = method in METHODS and METHODS[method].ranks
        doc = as_document(document, self.settings.max_bytes)
        trace = Trace(
            question=question.text,
            options=question.options,
            method=method,
            backend=self.llm.backend,
            model=self.llm.model,
            # What a trace page needs to find the document again and check it is the same text.
            document=TraceDocument(
                name=doc.name, content_hash=doc.content_hash, chars=len(doc.text), sources=source_files(doc)
            ),
        )
        if self.on_trace is not None:
            self.on_trace(trace)
        return AskContext(
            llm=self.llm,
            settings=self.settings,
            document=doc,
            question=question,
            library=self.library,
            # Sentence vectors only for a method that ranks sentences (not the whole document's, not a plan's).
            load_index=lambda doc: self._index(doc, None, self.on_stage, ranks=ranks),
            aload_index=functools.partial(self._aindex, ranks=ranks),
            trace=trace,
            on_stage=self.on_stage,
        )

    def _finish(self, ctx: AskContext, answer: Answer) -> Answer:
        trace = ctx.trace
        refits = [event.output for event in trace.events if event.stage == _REFIT and event.prompt is None]
        final = answer.model_copy(
            update={
                "trace": Trace(),
                "usage": trace.usage(),
                "demo_model": self.llm.is_demo,
                "notes": [
                    *left_out_notes(ctx.document),
                    *refits,
                    *_cut_notes(trace, ctx.question, self._window_setting),
                    *_length_notes(trace, ctx.question),
                    *_server_cut_notes(trace),
                    *_unchosen_notes(answer),
                    *self._dense_notes(ctx.document, answer),
                    *answer.notes,
                ],
            }
        )
        trace.answer = final  # a trace file alone shows what came out (`pearl trace html`)
        return final.model_copy(update={"trace": trace})

    def _ranking(self, ctx: AskContext, method: str) -> AskContext:
        """`ctx` for `method`'s fallback: where it ranks sentences (rag), with their vectors when dense similarity
        is on, whatever the method it answers for."""
        if METHODS[method].ranks or not METHODS[METHODS[method].fallback].ranks:
            return ctx
        return dataclasses.replace(
            ctx,
            load_index=lambda doc: self._index(doc, None, self.on_stage, ranks=True),
            aload_index=functools.partial(self._aindex, ranks=True),
            _index=None,
        )

    def _dense_notes(self, document: Document, answer: Answer) -> list[str]:
        """A note when dense auto left a method that ranks sentences (or the fallback, which does) with words alone,
        though the model is installed."""
        method = METHODS.get(answer.method)
        ranked = method is not None and (method.ranks or (answer.fallback and METHODS[method.fallback].ranks))
        if self.settings.dense != "auto" or not ranked:
            return []
        if self._memory.dense_problem is not None:
            return [f"evidence ranked by its words alone: dense similarity is off ({self._memory.dense_problem})"]
        too_long = auto_left_out(len(document.text))
        return [too_long] if too_long else []

    async def _guarded(self, ctx: AskContext, run: Callable[[], Awaitable[T]]) -> T:
        """`run()`, run again once after a context overflow that lowered the window; errors leave with the trace."""
        window = self.llm.context_window
        try:
            if not get_encoding.cache_info().currsize:  # its first load takes ~0.4 s: in a worker, not on the loop
                await in_worker(get_encoding)  # (inside: an error here leaves with the trace too)
            with token_margin(self.settings.token_margin):
                try:
                    return await run()
                except ContextOverflowError as exc:
                    if self.llm.context_window >= window:
                        raise  # nothing would be fitted differently
                    ctx.recorder.note(
                        _REFIT,
                        f"the server refused a prompt as longer than the model's context (limit: "
                        f"{f'{exc.limit:,} tokens' if exc.limit else 'not stated'}); ran again with every prompt "
                        f"fitted to {self.llm.context_window:,} tokens instead of {window:,}",
                    )
                    return await run()
        except PearlError as exc:
            if exc.trace is not None and exc.trace is not ctx.trace and (copied := own_copy(exc)) is not exc:
                # One object raised again (a model's error kept and raised for each call): another question's trace
                # is on it, and would be replaced by this one's under the first caller's feet. This question's copy.
                copied.trace = ctx.trace
                raise copied from exc.__cause__
            exc.trace = ctx.trace
            raise

    def _demos(self, question: Question, document: Document) -> list[Demo]:
        """The demonstrations to plan `question` with: like it, those of its document's kind (a contract's, a paper's)
        first, the kind told from the document's words (from the question's when the document's tell none, or there
        is no document)."""
        warned = self._dropped
        if warned[2] and warned not in _WARNED:  # once, not per `with_demos` nor per question
            _WARNED.add(warned)
            log.warning("%s", warned[2])
        asked = " ".join([question.text, *question.options])
        kind = kind_asked_about(document.text, asked)
        return select_demos(self.demos, asked, k=PLAN_DEMOS, fallback=self._fallback, asked=question.text, kind=kind)

    def _plan_window_problem(self, ctx: AskContext, demos: Sequence[Demo]) -> str | None:
        """Why the window cannot hold a planning prompt that shows the question (see `plan_window_problem`)."""
        return plan_window_problem(ctx.llm, ctx.question, self.library, demos=demos, max_steps=self.settings.max_steps)

    async def _plan(self, ctx: AskContext, demos: Sequence[Demo], sheet: str) -> PlanResult:
        return await generate_plan(
            ctx.recorder,
            ctx.question,
            self.library,
            demos=demos,
            entity_sheet=sheet,
            max_attempts=self.settings.plan_attempts,
            max_steps=self.settings.max_steps,
        )

    async def aask(
        self,
        document: DocumentSource,
        question: str | Question,
        options: Sequence[str] | None = None,
        *,
        method: str = DEFAULT_METHOD,
    ) -> Answer:
        """Answer `question` about `document` (see `ask`)."""
        chosen = _method(method)
        _check_ask_order(document, question)
        asked = checked_question(as_question(question, options))  # refused before the document is read
        ctx = self._context(await self._read(document), asked, method)
        return self._finish(ctx, await self._guarded(ctx, lambda: self._answer(ctx, chosen, method)))

    async def _answer(self, ctx: AskContext, chosen: Method, method: str) -> Answer:
        if chosen.answer is not None:
            _check_window(ctx, chosen, self._raise_window)
            return await chosen.answer(ctx)
        demos = self._demos(ctx.question, ctx.document)
        # Planning calls that cannot show the question cost eight calls for no plan: answer as the fallback would.
        problem = self._plan_window_problem(ctx, demos)
        if problem is not None:
            _check_window(ctx, METHODS[chosen.fallback], self._raise_window)
            ctx.recorder.note(PLAN_SKIPPED, problem)
            return await _fall_back(
                self._ranking(ctx, method), method, PLAN_SKIPPED_NOTE, f"; {problem}; {self._raise_window}"
            )
        planned = await self._plan(ctx, demos, entity_sheet(await ctx.aindex(), SHEET_TOKENS))
        if planned.plan is None:
            tried = f"{no_plan(planned)}; "
            return await _fall_back(self._ranking(ctx, method), method, tried, " instead")
        assert chosen.executor is not None
        return await answer_from_plan(ctx, planned.plan, method=method, executor=chosen.executor)

    async def aplan(
        self,
        question: str | Question,
        document: DocumentSource | None = None,
        options: Sequence[str] | None = None,
    ) -> tuple[PlanResult, Trace]:
        """Write a plan for `question` (see `plan`)."""
        _check_plan_order(question, document)
        q = checked_question(as_question(question, options))
        # Planning never reads the document; with none given there is no entity sheet either.
        ctx = self._context(await self._read(document) if document is not None else Document.from_text(""), q, "plan")
        demos = self._demos(q, ctx.document)

        async def run() -> PlanResult:
            problem = self._plan_window_problem(ctx, demos)
            if problem is not None:
                raise ConfigError(f"{problem}; {self._raise_window}")
            sheet = entity_sheet(await ctx.aindex(), SHEET_TOKENS) if document is not None else ""
            planned = await self._plan(ctx, demos, sheet)
            # A question cut to fit the planning prompt is said, as `ask` says it: the planner never saw its end.
            return planned.model_copy(update={"notes": _cut_notes(ctx.trace, q, self._window_setting)})

        return await self._guarded(ctx, run), ctx.trace

    async def arun_plan(
        self,
        document: DocumentSource,
        question: str | Question,
        plan: Plan | PlanResult | str,
        options: Sequence[str] | None = None,
        *,
        method: str = DEFAULT_METHOD,
    ) -> Answer:
        """Run a given plan over `document` and answer `question` from its results (see `run_plan`)."""
        chosen = _method(method)
        if chosen.executor is None:
            raise ConfigError(f"method {method!r} does not run plans; choose one of {', '.join(_planned_names())}")
        _check_ask_order(document, question, "run_plan(document, question, plan)")
        plan = _given_plan(plan)
        asked = checked_question(as_question(question, options))  # refused before the document is read
        ctx = self._context(await self._read(document), asked, method)
        executor = chosen.executor

        async def run() -> Answer:
            # Its answer call shows the question as the method's fallback would in its one call: a window too small
            # for that failed on a budget of 0 tokens (pearl) or answered a prompt without the question
            # (pearl-fulldoc).
            _check_window(ctx, METHODS[chosen.fallback], self._raise_window)
            # A `Plan` is checked as its text would be, against this Pearl's library and `max_steps`: built in
            # code, or parsed against another library, it could call an action wrongly or run past the limit.
            try:
                if isinstance(plan, Plan):
                    parsed = validate_plan(plan, self.library, max_steps=self.settings.max_steps)
                else:
                    parsed = parse_plan(plan, self.library, max_steps=self.settings.max_steps)
            except PlanParseError as exc:  # the trace, and a run's page, say which plan and why
                ctx.recorder.note("plan given", plan if isinstance(plan, str) else plan.render(), error=str(exc))
                raise
            return await answer_from_plan(ctx, parsed, method=method, executor=executor)

        return self._finish(ctx, await self._guarded(ctx, run))

    def ask(
        self,
        document: DocumentSource,
        question: str | Question,
        options: Sequence[str] | None = None,
        *,
        method: str = DEFAULT_METHOD,
    ) -> Answer:
        """Answer `question` about `document`.

        Args:
            document: a `Document`, a path, several paths (read as one document), or plain text.
            question: the question; inline options `(A) ... (B) ...` are recognised.
            options: the options of a multiple-choice question.
            method: one of `pearl.methods.METHODS`.

        Raises:
            QuestionError: the question cannot be asked (empty, one option, an option twice):
                nothing is read or sent.
            ConfigError: an unknown method.
            TypeError: an argument of the wrong kind (the question or its options not text), or the arguments
                look swapped: a question that names an existing file, after a document given as text.
            PearlError: bad input, configuration, or a model failure after retries; its `trace`
                holds what the question did up to the failure.
        """
        return run_blocking(self.aask(document, question, options, method=method))

    def plan(
        self,
        question: str | Question,
        document: DocumentSource | None = None,
        options: Sequence[str] | None = None,
    ) -> tuple[PlanResult, Trace]:
        """Write a plan for `question` with self-correction, without running it.

        Args:
            question: the question; inline options are recognised. It comes first here (the
                document is optional): a document or a file's path in its place is refused.
            document: if given, its entity sheet goes into the planning prompt.
            options: the options of a multiple-choice question.

        Raises:
            TypeError: the arguments look swapped (`plan(document, question)`), or one is of the wrong kind.
            QuestionError: the question cannot be asked (empty, one option, an option twice).
            DocumentError: the document cannot be read.
            PearlError: configuration, or a model failure after retries; its `trace` holds the
                planning calls up to the failure.

        Returns:
            The plan result (its `plan` is None when every attempt failed) and the trace.
        """
        return run_blocking(self.aplan(question, document, options))

    def run_plan(
        self,
        document: DocumentSource,
        question: str | Question,
        plan: Plan | PlanResult | str,
        options: Sequence[str] | None = None,
        *,
        method: str = DEFAULT_METHOD,
    ) -> Answer:
        """Run a given plan over `document` and answer `question` from its results.

        Args:
            plan: a valid plan (`parse_plan`, `plan_from_json`, or the `PlanResult` `plan` returns first), or a
                plan's text, parsed with this `Pearl`'s library; its actions come from that library or the plan's
                own declarations.
            method: a method that runs plans: "pearl" or "pearl-fulldoc".

        Raises:
            ConfigError: `method` does not run plans.
            PlanParseError: the plan's text does not parse, with its line and column; its `trace` records
                the plan given.
            QuestionError: the question cannot be asked (empty, one option, an option twice).
            TypeError: an argument of the wrong kind (the question not text, the plan neither a
                `Plan` nor text), or the document and the question look swapped (see `ask`).
            PearlError: bad input, or a model failure after retries.
        """
        return run_blocking(self.arun_plan(document, question, plan, options, method=method))


class _Listener:
    """A caller's `on_stage` or `on_trace`, called so that its exceptions are logged (once each kind) instead of
    failing the question."""

    def __init__(self, inner: Callable[..., object], name: str) -> None:
        self.inner = inner
        self.name = name
        self._told: set[str] = set()

    @classmethod
    def of(cls, inner: Callable[..., Any] | None, name: str) -> Any:
        return inner if inner is None or isinstance(inner, cls) else cls(inner, name)

    def __call__(self, *args: object, **kwargs: object) -> None:
        try:
            self.inner(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - see the class
            kind = type(exc).__name__
            if kind not in self._told:
                self._told.add(kind)
                log.warning("%s raised %s: %s (ignored; the question goes on)", self.name, kind, exc)


def _given_plan(plan: object) -> Plan | str:
    """The plan `run_plan` was given, as a `Plan` or its text: a `PlanResult` gives its plan (refused when planning
    failed); `plan`'s own (PlanResult, Trace) pair is named for what it is."""
    if isinstance(plan, PlanResult):
        if plan.plan is None:
            raise PlanError(f"the PlanResult holds no plan: each of its {len(plan.attempts)} attempts failed")
        return plan.plan
    if isinstance(plan, tuple) and plan and isinstance(plan[0], PlanResult):
        raise TypeError("plan() returns (PlanResult, Trace): pass its PlanResult, e.g. run_plan(doc, question, result)")
    if not isinstance(plan, (str, Plan)):
        raise TypeError(f"plan must be a Plan, a PlanResult or a plan's text, not {type(plan).__name__}")
    return plan


def _check_ask_order(document: object, question: object, call: str = "ask(document, question)") -> None:
    """Refuse `ask(question, document)`: with the question's text taken for the document, a file's name was sent to
    the model as the question, and a plausible answer came back. Swapped is a question that names an existing file
    or folder while the document given is text, not a path ("TCP/IP" or "package.json" naming none is a question).
    `call` is how the method called is written, for the message. A `Document` or a path where the question goes is
    swapped too: "the question must be a string or a Question, not Document" did not say the document goes first
    (helper-182)."""
    if isinstance(question, (Document, os.PathLike)) and isinstance(document, str):
        raise TypeError(f"the document comes first, then the question: {call}")
    if not (isinstance(question, str) and isinstance(document, str) and names_path(question, existing=True)):
        return
    if not names_path(document):
        raise TypeError(
            f"the document comes first, then the question: {call}; "
            "to ask a question that is a file's name about this text, pass Question(text=...)"
        )


def _check_plan_order(question: object, document: object) -> None:
    """Refuse `plan(document, question)`: `plan` takes the question first, unlike `ask`, and a swap planned
    for a file's name as the question, the question's text taken for the document. A question that names an
    existing file or folder is one, and so is one word that reads as a path (`contract.pdf`, `notes/`); words
    that end in a file's name ("Summarise README.md") are a question."""
    swapped = isinstance(question, (Document, os.PathLike, list, tuple)) or (
        isinstance(question, str) and names_path(question, one_word=True)
    )
    if swapped:
        raise TypeError(
            "plan takes the question first, then the document: plan(question, document); "
            "to plan for a question that is a file's name, pass it as Question(text=...)"
        )


def _planned_names() -> list[str]:
    return [name for name, m in METHODS.items() if m.planned]
