"""`Gate`: a model's `concurrency` request slots, shared by every thread and event loop, first come first served.

A thread's semaphore cannot serve both: a coroutine must not block on it, and one that polls it
loses every time to a thread that releases a slot and takes it again at once (three threads
calling back to back kept an async call waiting 3 s, through 90 of their calls). Here a freed slot
goes to whoever has waited longest, thread or coroutine, handed over directly.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

__all__ = ["LOOP_WAITING", "Gate"]

LOOP_WAITING: contextvars.ContextVar[bool] = contextvars.ContextVar("pearl_loop_waiting", default=False)
"""True in code that a thread running an event loop waits for, blocked (`pearl.Pearl.ask` called inside a
running loop, as in a notebook, runs its question in a worker thread and waits so). Its requests take a free
slot or go without one: the slots may be held by the blocked loop's own requests, which cannot finish while
it waits, so waiting for one would never end. A blocking call made on a loop's own thread goes so too."""


class _Waiter:
    """One caller waiting for a slot: a thread (`event`) or a coroutine (`future` on `loop`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.event = threading.Event() if loop is None else None
        self.loop = loop
        self.future: asyncio.Future[None] | None = None if loop is None else loop.create_future()


class Gate:
    """`slots` request slots for calls from any thread or event loop, handed out in the order asked for."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiting: deque[_Waiter] = deque()
        self._lock = threading.Lock()

    def _take_free(self, waiter: _Waiter | None = None) -> bool:
        """Take a free slot if no one waits for one (True); else queue `waiter`, if given, for the next (False)."""
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            if waiter is not None:
                self._waiting.append(waiter)
            return False

    def _dequeue(self, waiter: _Waiter) -> bool:
        """Take `waiter` out of the queue (True), or find it handed a slot already (False)."""
        with self._lock:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
                return True
            return False

    def release(self) -> None:
        """Give a slot back: to the longest waiting caller, else to the free ones."""
        with self._lock:
            while self._waiting:
                waiter = self._waiting.popleft()
                if waiter.event is not None:
                    waiter.event.set()
                    return
                assert waiter.loop is not None and waiter.future is not None
                if waiter.future.done():  # cancelled meanwhile
                    continue
                try:
                    waiter.loop.call_soon_threadsafe(self._hand, waiter.future)
                except RuntimeError:  # its loop has closed
                    continue
                return
            self._free += 1

    def _hand(self, future: asyncio.Future[None]) -> None:
        """On the waiter's loop: give it the slot, or pass the slot on if it stopped waiting meanwhile."""
        if future.cancelled():
            self.release()
        else:
            future.set_result(None)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for a blocking call, waiting for one; no wait where a loop would wait for it (`LOOP_WAITING`)."""
        held = self._take_free() if _must_not_wait() else self._wait()
        try:
            yield
        finally:
            if held:
                self.release()

    def _wait(self) -> bool:
        waiter = _Waiter()
        if self._take_free(waiter):
            return True
        assert waiter.event is not None
        try:
            waiter.event.wait()
        except BaseException:  # Ctrl-C while waiting: a slot handed over meanwhile is given back
            if not self._dequeue(waiter):
                self.release()
            raise
        return True

    @asynccontextmanager
    async def aslot(self) -> AsyncIterator[None]:
        """Hold a slot for an async call, waiting for one (cancellable); no wait where `LOOP_WAITING`."""
        held = self._take_free() if LOOP_WAITING.get() else await self._await()
        try:
            yield
        finally:
            if held:
                self.release()

    async def _await(self) -> bool:
        waiter = _Waiter(asyncio.get_running_loop())
        if self._take_free(waiter):
            return True
        assert waiter.future is not None
        try:
            await waiter.future
        except asyncio.CancelledError:
            # Handed a slot, with the handing done (the future has its result) but the caller cancelled
            # before it resumed: give the slot back. Handed, the handing still to run: `_hand` gives it back.
            if not self._dequeue(waiter) and waiter.future.done() and not waiter.future.cancelled():
                self.release()
            raise
        return True


def _must_not_wait() -> bool:
    """Whether a blocking call must not wait for a slot: a blocked loop waits for it, or it runs on a loop's
    thread, whose own requests may hold the slots and cannot finish while it blocks them."""
    if LOOP_WAITING.get():
        return True
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
