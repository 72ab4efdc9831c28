"""`pearl.llm._gate.Gate`: a model's request slots, shared by threads and event loops, first come first served."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fakeserver import FakeOpenAIServer, Reply

from pearl import Pearl, load_settings
from pearl.llm._gate import LOOP_WAITING, Gate


def _free(gate: Gate) -> int:
    return gate._free


def test_a_freed_slot_goes_to_whoever_waited_longest_thread_or_coroutine() -> None:
    # Polled, the slot went back to a thread that released and asked again at once: an async call
    # waited through 90 blocking calls.
    gate = Gate(1)
    order: list[str] = []
    queued = threading.Event()

    def thread(name: str) -> None:
        with gate.slot():
            order.append(name)

    async def coroutine() -> None:
        async with gate.aslot():
            order.append("coroutine")

    with gate.slot():
        first = threading.Thread(target=thread, args=("thread 1",))
        first.start()
        while len(gate._waiting) < 1:
            time.sleep(0.001)
        loop_thread = threading.Thread(target=lambda: (queued.set(), asyncio.run(coroutine())))
        loop_thread.start()
        while len(gate._waiting) < 2:
            time.sleep(0.001)
        second = threading.Thread(target=thread, args=("thread 2",))
        second.start()
        while len(gate._waiting) < 3:
            time.sleep(0.001)
        order.append("holder")
        # The holder asks again at once after it releases: it comes after the three already waiting.
    with gate.slot():
        order.append("holder again")
    for worker in (first, loop_thread, second):
        worker.join(timeout=5)
    assert order == ["holder", "thread 1", "coroutine", "thread 2", "holder again"]
    assert _free(gate) == 1


def test_a_slot_comes_back_from_a_call_cancelled_or_failed() -> None:
    gate = Gate(1)

    async def main() -> None:
        async with gate.aslot():
            waiting = [asyncio.ensure_future(_hold(gate, 0)) for _ in range(3)]
            await asyncio.sleep(0.01)
            waiting[1].cancel()  # cancelled while queued
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(_hold(gate, 0), 0.01)  # timed out while queued
        with pytest.raises(asyncio.CancelledError):
            await waiting[1]
        await asyncio.gather(waiting[0], waiting[2])
        with pytest.raises(RuntimeError, match="failed"):
            async with gate.aslot():
                raise RuntimeError("failed")
        with pytest.raises(RuntimeError, match="failed"), gate.slot():
            raise RuntimeError("failed")

    asyncio.run(main())
    assert _free(gate) == 1 and not gate._waiting


async def _hold(gate: Gate, seconds: float) -> None:
    async with gate.aslot():
        await asyncio.sleep(seconds)


def test_a_coroutine_cancelled_as_it_is_handed_a_slot_passes_it_on() -> None:
    gate = Gate(1)

    async def main() -> None:
        gate_held = gate.slot()
        gate_held.__enter__()
        task = asyncio.ensure_future(_hold(gate, 0))
        await asyncio.sleep(0.01)  # queued
        gate_held.__exit__(None, None, None)  # hands it the slot (its handing runs on the loop next)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _hold(gate, 0)  # the slot was passed on, not lost

    asyncio.run(asyncio.wait_for(main(), 5))
    assert _free(gate) == 1


def test_a_call_a_blocked_loop_waits_for_takes_a_free_slot_or_goes_without() -> None:
    gate = Gate(1)
    went: list[str] = []

    def blocked_loops_call() -> None:
        LOOP_WAITING.set(True)  # in this thread's context alone
        with gate.slot():  # waiting for the slot held below would never end
            went.append("blocking")

        async def call() -> None:
            async with gate.aslot():
                went.append("async")

        asyncio.run(call())

    with gate.slot():
        worker = threading.Thread(target=blocked_loops_call, daemon=True)
        worker.start()
        worker.join(timeout=5)
    assert went == ["blocking", "async"]
    assert _free(gate) == 1


def test_ask_inside_a_running_loop_whose_questions_hold_every_slot_answers(fake_server: FakeOpenAIServer) -> None:
    # As in a notebook or an async app: the blocking ask's question waited for a slot held by the
    # loop it blocked, for ever.
    fake_server.set_default(Reply(delay=0.3, content="Mira."))
    pearl = Pearl(settings=load_settings(base_url=fake_server.base_url, model="m", cache=False, concurrency=2))
    answers: list[str] = []

    async def main() -> None:
        asked = [
            asyncio.ensure_future(pearl.aask("Mira runs the ferry.", "Who runs the ferry?", method="direct"))
            for _ in range(2)
        ]
        await asyncio.sleep(0.1)  # both slots held now
        answers.append(pearl.ask("Mira runs the ferry.", "Who runs the ferry?", method="direct").answer)
        await asyncio.gather(*asked)

    worker = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert answers == ["Mira."]
