"""numpy's BLAS held to one thread while a question's vector is made and compared.

OpenBLAS, which numpy's wheels carry, splits every product over all the cores, and its threads
wait on each other at each step. For a question (one short text) and its products with the
sentences' vectors the split gains nothing, and when the cores are busy (a model server on the same
machine answering another question, another pearl) the waits dominate. On the six contracts
(`benchmarks/dense_speed.py --busy 2`, two cores, two other processes busy) a question took 87 ms
on numpy's two threads and 43 ms on one (298 and 31 in another run); idle, 16 ms and 19 ms.
A document's sentences, embedded once in large batches, keep numpy's threads: idle they go about
1.4 times as fast on two cores, and busy about as fast either way.

The limit is the process's (OpenBLAS has no other), so it is taken while any thread is inside
`one_blas_thread`, and the user's own setting is put back when the last one leaves: meanwhile
numpy's products in other threads run on one thread too. threadpoolctl (3.8 on) lets only one
thread set OpenBLAS's limit, the one that last did while it lives, and ignores the others; this
module's lock already orders its uses, so it clears that claim before it sets or restores, or a
limit taken on one thread and last left on another would stay for good.
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


def _unclaimed() -> None:
    """Let this thread set OpenBLAS's limit, whichever thread set it before (see above; a no-op before 3.8)."""
    import threadpoolctl

    clear = getattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the body with numpy's BLAS on one thread (nested and concurrent uses share one limit)."""
    global _inside, _limiter
    with _lock:
        if _inside == 0:
            _unclaimed()
            _limiter = _controller().limit(limits=1, user_api="blas")
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                _unclaimed()
                _limiter.restore_original_limits()
                _limiter = None
                _unclaimed()  # the user's own threads may set it again
