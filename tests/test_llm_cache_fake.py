"""The response cache (keys, persistence, concurrent use) and the public fake model."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
from fakeserver import Reply

from pearl.errors import RateLimitError
from pearl.llm import CachedLLM, Completion, CompletionRequest, FakeLLM, Message, ResponseCache
from pearl.llm._reply import LOOP_NOTE


def request(text: str = "hi", **kw: object) -> CompletionRequest:
    return CompletionRequest(messages=[Message(role="user", content=text)], **kw)  # type: ignore[arg-type]


def test_fake_queue_default_history_and_errors() -> None:
    fake = FakeLLM(["one", RateLimitError("slow down")], default=lambda r: r.messages[-1].content.upper())
    assert fake.complete(request()).text == "one"
    with pytest.raises(RateLimitError):
        fake.complete(request())
    assert asyncio.run(fake.acomplete(request("echo"))).text == "ECHO"
    assert [r.messages[0].content for r in fake.history] == ["hi", "hi", "echo"]
    assert fake.complete(request("count these tokens")).prompt_tokens == 3


def test_cache_hits_skip_the_model(tmp_path: Path) -> None:
    fake = FakeLLM(default="answer")
    llm = CachedLLM(fake, ResponseCache(tmp_path / "c.sqlite3"))
    first = llm.complete(request())
    second = llm.complete(request())
    assert first.text == second.text == "answer"
    assert not first.cached and second.cached
    assert len(fake.history) == 1
    assert asyncio.run(llm.acomplete(request())).cached


def test_cache_key_covers_parameters_and_prompt_version(tmp_path: Path) -> None:
    fake = FakeLLM(default="x")
    llm = CachedLLM(fake, ResponseCache(tmp_path / "c.sqlite3"))
    for variant in (
        request(),
        request(max_tokens=5),
        request(temperature=0.5),
        request(prompt="plan.v2#aaaa"),
        request(prompt="plan.v2#bbbb"),
        request(grammar='root ::= "a"'),
        request("other"),
    ):
        llm.complete(variant)
    assert len(fake.history) == 7
    other_model = CachedLLM(FakeLLM(default="y", model="other"), ResponseCache(tmp_path / "c.sqlite3"))
    assert other_model.complete(request()).text == "y"


def test_cache_survives_a_new_process_view(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    ResponseCache(path).put("k", Completion(text="kept"))
    hit = ResponseCache(path).get("k")
    assert hit is not None and hit.text == "kept"


def test_cache_is_safe_under_concurrent_use(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite3")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(30):
                cache.put(f"{n}-{i}", Completion(text=str(i)))
                assert cache.get(f"{n}-{i}") is not None
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(cache) == 180


def test_the_same_request_made_while_it_is_in_flight_waits_for_its_reply(tmp_path: Path) -> None:
    # An evaluation's pearl and pearl-fulldoc plan one question with the same prompt, at once: both were sent.
    fake = FakeLLM(default="answer", delay=0.2)
    llm = CachedLLM(fake, ResponseCache(tmp_path / "c.sqlite3"))

    async def three() -> list[Completion]:
        same = [llm.acomplete(request()) for _ in range(3)]
        return list(await asyncio.gather(*same, llm.acomplete(request("other"))))

    first, *shared, other = asyncio.run(three())
    assert len(fake.history) == 2 and not first.cached and not other.cached
    assert [c.text for c in shared] == ["answer", "answer"] and all(c.cached for c in shared)


def test_a_request_waiting_on_a_failed_or_cancelled_call_gets_its_error_or_asks_again(tmp_path: Path) -> None:
    failing = FakeLLM([RateLimitError("slow down")], default="answer", delay=0.2)
    llm = CachedLLM(failing, ResponseCache(tmp_path / "c.sqlite3"))

    async def both() -> list[Completion | BaseException]:
        return list(await asyncio.gather(llm.acomplete(request()), llm.acomplete(request()), return_exceptions=True))

    # The same request, the same outcome: one call, its error for both, each its own (a question's error carries
    # that question's trace: one object would carry the last one's).
    first, second = asyncio.run(both())
    assert type(first).__name__ == type(second).__name__ == "RateLimitError" and first is not second
    assert str(first) == str(second) and len(failing.history) == 1

    slow = FakeLLM(default="answer", delay=0.3)
    llm = CachedLLM(slow, ResponseCache(tmp_path / "d.sqlite3"))

    async def leader_cancelled() -> Completion:
        leader = asyncio.ensure_future(llm.acomplete(request()))
        await asyncio.sleep(0.05)
        waiter = asyncio.ensure_future(llm.acomplete(request()))
        await asyncio.sleep(0.05)
        leader.cancel()
        return await waiter

    # Its question stopped, the call it led is gone: the one waiting asks for itself, and gets its answer (the
    # fake records a request once its delay is over: the cancelled one never was).
    answered = asyncio.run(leader_cancelled())
    assert answered.text == "answer" and not answered.cached and len(slow.history) == 1


def test_those_waiting_on_a_call_get_its_reply_whatever_happens_to_the_cache_after(tmp_path: Path) -> None:
    class Broken(ResponseCache):
        def put(self, key: str, completion: Completion) -> None:
            raise RuntimeError("disk on fire")

    llm = CachedLLM(FakeLLM(default="answer", delay=0.1), Broken(tmp_path / "c.sqlite3"))

    async def both() -> list[Completion | BaseException]:
        calls = [llm.acomplete(request()), llm.acomplete(request())]
        return list(await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), timeout=2))

    # The call's reply was given to those waiting only after the cache had kept it: they waited forever.
    first, second = asyncio.run(both())
    assert isinstance(first, RuntimeError) and isinstance(second, Completion) and second.text == "answer"


def test_unwritable_cache_does_not_fail_the_call(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite3")
    (tmp_path / "c.sqlite3").unlink()
    (tmp_path / "c.sqlite3").mkdir()  # now a directory: sqlite cannot open it
    llm = CachedLLM(FakeLLM(default="fine"), cache)
    assert llm.complete(request()).text == "fine"


def test_prefix_cache_hits_are_read_and_counted_as_uncached_only_once() -> None:
    llm = FakeLLM(default="ok", prefix_cache=True)
    shared = "The question and its evidence. " * 50
    first = llm.complete(CompletionRequest(messages=[Message(role="user", content=shared + "step one")]))
    second = llm.complete(CompletionRequest(messages=[Message(role="user", content=shared + "step two")]))
    assert first.cached_prompt_tokens == 0 and second.cached_prompt_tokens >= first.prompt_tokens - 5

    # Two requests at once (here, one asked while the other's reply is being made): neither came before the other's
    # start, so the first is no cache hit. It had been counted as matching itself, cached whole (helper-219).
    inner: list[int] = []

    def reply(request: CompletionRequest) -> str:
        if request.messages[0].content == "first " * 100:
            asked = CompletionRequest(messages=[Message(role="user", content="second")])
            inner.append(racing.complete(asked).cached_prompt_tokens)
        return "ok"

    racing = FakeLLM(default=reply, prefix_cache=True)
    outer = racing.complete(CompletionRequest(messages=[Message(role="user", content="first " * 100)]))
    assert outer.cached_prompt_tokens == 0 and inner == [0]


def test_server_reported_cached_tokens_reach_the_trace_and_usage(fake_server: object) -> None:
    from fakeserver import FakeOpenAIServer

    from pearl import Pearl, load_settings

    assert isinstance(fake_server, FakeOpenAIServer)
    body = {
        "choices": [{"message": {"content": "B"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 600}},
    }
    fake_server.set_default(Reply(body=json.dumps(body)))
    settings = load_settings(base_url=fake_server.base_url, model="m", cache=False)
    answer = Pearl(settings=settings).ask("Mira runs the ferry.", "Who runs it?", ["Mira", "Tom"], method="direct")
    assert answer.usage.prompt_tokens == 900 and answer.usage.uncached_prompt_tokens == 300
    assert [e.cached_prompt_tokens for e in answer.trace.events if e.prompt] == [600]


def test_a_looping_reply_kept_from_before_the_loop_cut_is_served_cut(tmp_path: Path) -> None:
    # An older pearl cached replies as they came: one that looped to its length limit is cut when served.
    cache = ResponseCache(tmp_path / "c.sqlite3")
    llm = CachedLLM(FakeLLM(default="unused"), cache)
    loop = "The lamp burned oil. " + "She trimmed the wick at dusk. " * 12 + "She"
    cache.put(llm._key(request()), Completion(text=loop, finish_reason="length"))
    served = llm.complete(request())
    assert served.cached and served.text == "The lamp burned oil. She trimmed the wick at dusk."
    assert any(note.startswith(LOOP_NOTE) for note in served.notes)
    # A reply that ended on its own is served as it is.
    cache.put(llm._key(request("other")), Completion(text=loop, finish_reason="stop"))
    assert llm.complete(request("other")).text == loop


def test_a_reasoning_models_reply_kept_with_its_thinking_is_served_without(tmp_path: Path) -> None:
    # Cached as they came before pearl left thinking out: its plans were refused at their "<" until the cache went.
    cache = ResponseCache(tmp_path / "c.sqlite3")
    llm = CachedLLM(FakeLLM(default="unused"), cache)
    cache.put(llm._key(request()), Completion(text='<think>\nThe user asks.\n</think>\n\ns1 = FIND_X(CTX, "oil")'))
    served = llm.complete(request())
    assert served.cached and served.text == 's1 = FIND_X(CTX, "oil")' and any("thinking" in n for n in served.notes)


def test_two_servers_serving_a_model_of_one_name_share_no_answer(tmp_path: Path) -> None:
    from pearl import load_settings
    from pearl.llm import OpenAICompatibleLLM

    cache = ResponseCache(tmp_path / "c.sqlite3")
    answers = []
    for url, text in (("http://127.0.0.1:9/v1", "from the first"), ("http://127.0.0.1:10/v1", "from the second")):
        server = OpenAICompatibleLLM(load_settings(base_url=url, model="default"))
        server.complete = lambda request, text=text: Completion(text=text)  # type: ignore[method-assign]
        answers.append(CachedLLM(server, cache).complete(request()).text)
    assert answers == ["from the first", "from the second"]
