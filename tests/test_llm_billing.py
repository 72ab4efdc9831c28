"""What a call cost when some of its attempts failed: every reply the server billed counts, retried or not."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fakeserver import FakeOpenAIServer, Reply
from llm_clients import make

from pearl.config import load_settings
from pearl.errors import LLMRequestError, LLMResponseError
from pearl.llm import CachedLLM, Completion, CompletionRequest, Message, OpenAICompatibleLLM, ResponseCache

REQUEST = CompletionRequest(messages=[Message(role="user", content="Who is Korvin?")], max_tokens=16)


def call(llm: OpenAICompatibleLLM | CachedLLM, path: str) -> Completion:
    return llm.complete(REQUEST) if path == "sync" else asyncio.run(llm.acomplete(REQUEST))


def reply(message: dict[str, Any] | None, prompt: int, written: int, cached: int = 0) -> Reply:
    """A reply as the server sends it, with its usage (`cached` prompt tokens from its prefix cache)."""
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": written}
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    choices = [] if message is None else [{"index": 0, "message": message, "finish_reason": "stop"}]
    return Reply(body=json.dumps({"choices": choices, "usage": usage}))


@pytest.mark.parametrize("path", ["sync", "async"])
def test_replies_retried_for_holding_no_answer_count_in_the_answers_usage(
    fake_server: FakeOpenAIServer, path: str
) -> None:
    # Billed 3,000 prompt + 1,003 completion tokens, the call said 1,000 + 3: `pearl ask`'s totals, its --json usage
    # and an evaluation's prompt tokens per question counted only the last attempt.
    fake_server.enqueue(
        reply({"content": None}, 1000, 500, cached=900),
        reply({"content": "  "}, 1000, 500, cached=900),
        reply({"content": "Korvin."}, 1000, 3, cached=1000),
    )
    result = call(make(fake_server), path)
    assert result.text == "Korvin." and result.attempts == 3
    assert (result.prompt_tokens, result.completion_tokens) == (3000, 1003)
    assert result.cached_prompt_tokens == 2800  # the failed attempts' prefix-cache hits too: the uncached 200 stay 200
    assert any("failed before it were billed 2,000 prompt tokens" in note for note in result.notes)


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_call_that_gives_up_carries_what_every_attempt_was_billed(fake_server: FakeOpenAIServer, path: str) -> None:
    # Four replies without choices, each billed 5 prompt tokens: the error said 0.
    fake_server.set_default(reply(None, 5, 0))
    with pytest.raises(LLMResponseError, match="gave up after 4 attempts") as raised:
        call(make(fake_server), path)
    assert (raised.value.prompt_tokens, raised.value.completion_tokens) == (20, 0)


def test_a_refusal_after_retried_replies_carries_theirs_too(fake_server: FakeOpenAIServer) -> None:
    fake_server.enqueue(reply({"content": ""}, 700, 40), reply({"content": None, "refusal": "No."}, 700, 2))
    with pytest.raises(LLMRequestError, match="refused to answer") as raised:
        call(make(fake_server), "async")
    assert (raised.value.prompt_tokens, raised.value.completion_tokens) == (1400, 42)


def test_a_reply_with_only_thinking_in_its_text_counts_what_it_was_billed(fake_server: FakeOpenAIServer) -> None:
    # The reasoning_content case was counted; thinking left in the content ("...</think>" and nothing after) was not.
    fake_server.enqueue(reply({"content": "<think>Let me think.</think>\n"}, 4000, 900))
    with pytest.raises(LLMRequestError, match="wrote only its thinking") as raised:
        call(make(fake_server), "sync")
    assert (raised.value.prompt_tokens, raised.value.completion_tokens) == (4000, 900)


def test_what_failed_attempts_cost_is_not_served_again_from_the_cache(
    fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # The cache keeps the reply, not this call's history: a request answered from it later paid for no retry.
    fake_server.enqueue(reply({"content": None}, 1000, 500, cached=900), reply({"content": "Korvin."}, 1000, 3))
    llm = CachedLLM(make(fake_server), ResponseCache(tmp_path / "cache.sqlite3"))
    first = call(llm, "async")
    assert (first.prompt_tokens, first.completion_tokens, first.cached_prompt_tokens) == (2000, 503, 900)
    again = call(llm, "sync")
    assert again.cached and (again.prompt_tokens, again.completion_tokens, again.cached_prompt_tokens) == (1000, 3, 0)
    assert not any("were billed" in note for note in again.notes)
    assert len(fake_server.chat_requests) == 2


def test_pearl_ask_counts_the_retried_replies_in_its_usage(fake_server: FakeOpenAIServer) -> None:
    from pearl import Pearl

    fake_server.enqueue(reply({"content": None}, 1000, 500), reply({"content": "Korvin."}, 1000, 3))
    pearl = Pearl(llm=make(fake_server), settings=load_settings(cache=False, dense=False))
    answer = pearl.ask("Korvin keeps the light on Tren.", "Who keeps the light?", method="direct")
    assert answer.answer == "Korvin."
    usage = answer.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.uncached_prompt_tokens) == (2000, 503, 2000)


def test_a_call_that_gives_up_keeps_its_attempts_prefix_cache_hits(fake_server: FakeOpenAIServer) -> None:
    # The error carried what was billed but not what of it came from the server's cache: a call that gave up after
    # four replies of 1,000 prompt tokens, 900 of them cached, was traced as 4,000 uncached (helper-190).
    from pearl import Pearl
    from pearl.errors import PearlError

    fake_server.set_default(reply({"content": ""}, 1000, 0, cached=900))
    pearl = Pearl(llm=make(fake_server), settings=load_settings(cache=False, dense=False))
    with pytest.raises(PearlError) as info:
        pearl.ask("Korvin keeps the light on Tren.", "Who keeps the light?", method="direct")
    assert info.value.trace is not None
    usage = info.value.trace.usage()
    assert (usage.prompt_tokens, usage.uncached_prompt_tokens) == (4000, 400)


def test_a_request_that_waited_on_a_failed_call_is_not_billed_for_it(
    fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # Two methods planning one question at once share the call; when it failed, each one's error carried its bill,
    # every retried attempt's tokens included: 8,000 prompt tokens counted for 4,000 billed (helper-190).
    fake_server.set_default(
        lambda request: Reply(body=json.dumps({"choices": [], "usage": {"prompt_tokens": 1000}}), delay=0.2)
    )
    llm = CachedLLM(make(fake_server), ResponseCache(tmp_path / "cache.sqlite3"))

    async def billed() -> int:
        try:
            await llm.acomplete(REQUEST)
        except LLMResponseError as exc:
            return exc.prompt_tokens
        raise AssertionError("the call should have failed")

    async def both() -> list[int]:
        return list(await asyncio.gather(billed(), billed()))

    assert sorted(asyncio.run(both())) == [0, 4000] and len(fake_server.chat_requests) == 4
