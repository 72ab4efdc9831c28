"""An on-disk response cache in SQLite, so re-running an evaluation costs nothing.

Keys hash backend (and its server's URL), model, messages, parameters and the prompt template's name and version
(`CompletionRequest.cache_key`). Each operation opens its own connection in WAL mode, which
makes the cache safe from many threads and processes at once.

A cache failure never fails the call it was meant to speed up. A damaged cache (a file that
is not a database, truncated or malformed, read-only, a directory in its place, a folder
that cannot be created) gets one warning naming the file, once per process, and the calls
go on without it: reads stop after a failed read, writes after a failed write (a read-only
cache still answers what it holds, in a read-only folder too: opened as immutable there, since
SQLite cannot make the files a WAL database is read with, unless a write-ahead log is left, which
that would not read). Delete the file to start a fresh cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from pearl._paths import in_read_only_home
from pearl._replies import without_thinking
from pearl.errors import LLMError, own_copy
from pearl.llm._reply import FILTERED_NOTE, RETRIED_NOTE, SERVER_CUT_NOTE, cut_loop, without_failed_attempts
from pearl.llm._wrap import Wrapped
from pearl.models import Completion, CompletionRequest
from pearl.protocols import LLM

__all__ = ["CachedLLM", "ResponseCache"]

log = logging.getLogger("pearl.llm")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    completion TEXT NOT NULL,
    created REAL NOT NULL
)
"""

# Files already warned about in this process: one warning per file, however many caches and calls use it.
_WARNED: set[str] = set()
_WARNED_LOCK = threading.Lock()


def _warn_once(path: Path, problem: str, *, reads: bool = False) -> None:
    """Say once what is wrong with the cache at `path`; `reads`: it still answers what it holds."""
    if in_read_only_home(path) and (reads or not path.exists()):
        return  # the data folder's warning said it: what is there is used, nothing new kept
    key = str(path.absolute())
    with _WARNED_LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    then = "answering what it holds, keeping nothing new" if reads else "going on without it"
    log.warning("response cache %s: %s; %s (remove it to start a fresh cache)", path, problem, then)


def _only_readable(path: Path) -> bool:
    """Whether the database at `path` may be read as immutable: its folder cannot be written (so SQLite cannot
    make the side files it reads a WAL database with), and it has no write-ahead log, which such a read ignores."""
    return not os.access(path.parent, os.W_OK) and not path.with_name(f"{path.name}-wal").exists()


class ResponseCache:
    """A key -> `Completion` store in one SQLite file; unusable, it warns once and stores nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._readable = self._writable = True
        self._frozen = False  # read as an immutable file: the folder cannot be written
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._opened() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            self._writable = False
            self._readable = self._answers_reads()
            _warn_once(
                path, f"cannot be written ({exc})" if self._readable else f"unusable ({exc})", reads=self._readable
            )

    @contextlib.contextmanager
    def _opened(self) -> Iterator[sqlite3.Connection]:
        """A connection for one operation, closed after it: `with sqlite3.connect(...)` leaves it open until
        garbage collection, and its write-ahead log and shared-memory files with it."""
        db = self._connect()
        try:
            yield db
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        if self._frozen:
            uri = f"{self.path.absolute().as_uri()}?mode=ro&immutable=1"
            return sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None)
        return sqlite3.connect(self.path, timeout=30.0, isolation_level=None)

    def _answers_reads(self) -> bool:
        """Whether the cache that cannot be written can be read, as it is or, in a read-only folder, as immutable."""
        if not self.path.is_file():
            return False
        for frozen in (False, True):
            if frozen and not _only_readable(self.path):
                break
            self._frozen = frozen
            try:
                with self._opened() as db:
                    db.execute("SELECT completion FROM responses LIMIT 1").fetchall()
            except sqlite3.Error:
                continue
            return True
        self._frozen = False
        return False

    @property
    def usable(self) -> bool:
        """Whether the cache still answers reads or takes writes."""
        return self._readable or self._writable

    def get(self, key: str) -> Completion | None:
        """The cached completion for `key`, or None."""
        if not self._readable:
            return None
        try:
            with self._opened() as db:
                row = db.execute("SELECT completion FROM responses WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            self._readable = False
            _warn_once(self.path, f"unreadable ({exc})")
            return None
        if row is None:
            return None
        try:
            return Completion.model_validate_json(row[0])
        except ValueError:
            return None

    def put(self, key: str, completion: Completion) -> None:
        """Store `completion` under `key` (last writer wins)."""
        if not self._writable:
            return
        try:
            with self._opened() as db:
                db.execute(
                    "INSERT OR REPLACE INTO responses (key, completion, created) VALUES (?, ?, ?)",
                    (key, completion.model_dump_json(), time.time()),
                )
        except sqlite3.Error as exc:
            self._writable = False
            _warn_once(self.path, f"not writable ({exc})", reads=self._readable)

    def __len__(self) -> int:
        if not self._readable:
            return 0
        try:
            with self._opened() as db:
                return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
        except sqlite3.Error:
            return 0


class _LeaderGone(Exception):
    """The call a request waited on was cancelled before it had a reply: the request is made afresh."""


class CachedLLM(Wrapped):
    """Wraps any `LLM`; answers repeated requests from a `ResponseCache`.

    A request made while the same request is in flight on the same event loop (an evaluation's `pearl` and
    `pearl-fulldoc` plan one question with the same prompt, at once) waits for that call's reply instead
    of paying for its own, and is answered as from the cache: with its reply, or its error. Should that
    call be cancelled, the request is made afresh. A reply the server gave from a prompt it cut on its own
    (`SERVER_CUT_NOTE`) is not kept: once the server is fixed, as its note advises, the request is asked again.
    Nor is a reply its content filter cut short (`FILTERED_NOTE`): part of an answer, kept, it was all a re-run
    ever got, from a filter since relaxed, or one that would let a sampled reply through the next time.
    """

    def __init__(self, inner: LLM, cache: ResponseCache) -> None:
        super().__init__(inner)
        self.cache = cache
        self._flights: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Future[Completion]] = {}

    def _key(self, request: CompletionRequest) -> str:
        # Whether the backend enforces a grammar changes the answer, so it is part of the key; so does a
        # backend's own sampling of this request (`EmbeddedLLM.sampling`), which the request does not carry.
        # Optional, so that a model written for the `LLM` protocol before it need not have it.
        # The server too: two servers may serve different models under one name ("default", "local").
        server = getattr(self.inner, "base_url", "")
        base = request.cache_key(f"{self.inner.backend}@{server}" if server else self.inner.backend, self.inner.model)
        sampling = getattr(self.inner, "sampling", None)
        tag = sampling(request) if callable(sampling) else ""
        return f"{base}:{int(self.inner.supports_grammar)}{int(self.inner.supports_json_schema)}" + (
            f":{tag}" if tag else ""
        )

    def complete(self, request: CompletionRequest) -> Completion:
        key = self._key(request)
        hit = self._hit(key)
        if hit is not None:
            return _as_cached(hit)
        completion = self.inner.complete(request)
        self._put(key, completion)
        return completion

    async def acomplete(self, request: CompletionRequest) -> Completion:
        key = self._key(request)
        flight = (asyncio.get_running_loop(), key)
        while True:
            hit = self._hit(key)
            if hit is not None:
                return _as_cached(hit)
            leader = self._flights.get(flight)
            if leader is None:
                break
            try:
                # Shielded: a waiter cancelled (its question stopped) must not cancel the call others wait on.
                return _as_cached(_kept(await asyncio.shield(leader)))
            except _LeaderGone:
                continue
            except Exception as exc:  # noqa: BLE001 - re-raised, as its own copy
                # Its own copy: a question's error carries that question's trace (`PearlError.trace`), and one
                # object raised in several tasks would carry the last one's, its traceback growing with each. It
                # carries no tokens: the call that failed billed them once, to the request that made it.
                raise _unbilled(own_copy(exc)) from None
        future: asyncio.Future[Completion] = flight[0].create_future()
        self._flights[flight] = future
        try:
            completion = await self.inner.acomplete(request)
        except Exception as exc:
            future.set_exception(exc)
            raise
        except BaseException:  # cancelled: those waiting make the request themselves
            future.set_exception(_LeaderGone())
            raise
        else:
            future.set_result(completion)  # before anything else can fail: those waiting must not wait forever
        finally:
            del self._flights[flight]
            if future.done():
                future.exception()  # read: a failure no one waited for is not logged as never retrieved
        self._put(key, completion)
        return completion

    def _hit(self, key: str) -> Completion | None:
        """The cached reply for `key`, or None; one the server answered from a cut prompt, or cut short, is none (see
        `_put`): kept by a version before this one, it came back after the server was fixed."""
        hit = self.cache.get(key)
        return None if hit is None or _partial(hit) else hit

    def _put(self, key: str, completion: Completion) -> None:
        """Keep `completion`, unless the server answered it from a prompt it cut (`SERVER_CUT_NOTE`) or its content
        filter cut it short (`FILTERED_NOTE`): the notes tell the user what to fix, and the same request asked again
        must reach the fixed server, not the partial answer kept here."""
        if not _partial(completion):
            self.cache.put(key, _kept(completion))


def _as_cached(completion: Completion) -> Completion:
    """A reply given to a request without a call of its own: from the cache, or shared with the same request."""
    return without_thinking(cut_loop(completion)).model_copy(update={"cached": True, "latency_s": 0.0})


def _unbilled(error: Exception) -> Exception:
    """`error`, shared with a request that waited on the call that raised it, without what that call was billed (see
    `_kept`): counted for each waiter too, two methods planning one question at once paid it twice, with every
    retried attempt's tokens (helper-190)."""
    if isinstance(error, LLMError):
        error.prompt_tokens = error.completion_tokens = error.cached_prompt_tokens = 0
    return error


def _partial(completion: Completion) -> bool:
    """Whether the server read fewer prompt tokens than were sent for `completion` (it answered a prompt it cut), or
    its content filter cut the reply short."""
    return any(note.startswith((SERVER_CUT_NOTE, FILTERED_NOTE)) for note in completion.notes)


def _kept(completion: Completion) -> Completion:
    """What the cache keeps of `completion`: the reply, without this call's history (its attempts, the note on why
    those before the last failed, and the tokens they were billed, which a request answered with this reply later
    does not pay)."""
    completion = without_failed_attempts(completion)
    notes = [note for note in completion.notes if not note.startswith(RETRIED_NOTE)]
    return completion.model_copy(update={"notes": notes, "attempts": 1})
