"""numpy's BLAS held to one thread while a question's vector is made and compared.

OpenBLAS, which numpy's wheels carry, splits every product over all the cores, and its threads
wait on each other at each step. For a question (one short text) and its products with the
sentences' vectors the split gains nothing, and when the cores are busy (a model server on the same
machine answering another question, another pearl) the waits dominate. On the six contracts
(`benchmarks/dense_speed.py --busy 2`, two cores, two other processes busy) a question took 298 ms
on numpy's two threads and 31 ms on one; idle, 13 ms and 19 ms.
A document's sentences, embedded once in large batches, keep numpy's threads: idle they go about
1.4 times as fast on two cores, and busy about as fast either way.

The limit is the process's (OpenBLAS has no other), so it is taken while any thread is inside
`one_blas_thread` and the user's own setting is put back when the last one leaves. (OpenBLAS
0.3.31, measured: once the main thread has set a limit, one set from another thread is ignored.
pearl makes a question's vector on the thread that runs its event loop: the main thread, under
the `pearl` commands. Elsewhere the limit may not take, which costs nothing but its gain.)
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["one_blas_thread"]

_lock = threading.Lock()
_inside = 0
_limiter: Any = None


@functools.cache
def _controller() -> Any:
    """threadpoolctl's view of the BLAS libraries loaded (numpy's among them): looked up once."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the body with numpy's BLAS on one thread (nested and concurrent uses share one limit)."""
    global _inside, _limiter
    with _lock:
        if _inside == 0:
            _limiter = _controller().limit(limits=1, user_api="blas")
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                _limiter.restore_original_limits()
                _limiter = None
