"""pearl's worker threads: where a question's CPU work (choosing evidence, reading a file, fitting a long document)
runs off the event loop.

They are pearl's own and outlive any one event loop. A blocking `Pearl.ask` runs each question in an event loop of
its own, whose default executor (what `asyncio.to_thread` uses) started threads for the question and joined them
when it closed: about 10 ms a question (QuALITY, 43 questions: 121-125 ms a question before the work moved off the
loop, 132-135 ms on the default executor).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["in_worker"]

_T = TypeVar("_T")
_POOL = ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 1) + 4), thread_name_prefix="pearl-worker")


async def in_worker(function: Callable[..., _T], *args: Any, context: contextvars.Context | None = None) -> _T:
    """`function(*args)` in one of pearl's worker threads, in a copy of the caller's context variables (as
    `asyncio.to_thread` runs it), or in `context` when given: what it sets there can then be read back."""
    run = context if context is not None else contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_POOL, functools.partial(run.run, function, *args))
