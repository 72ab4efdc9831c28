"""What servers of reasoning models, gateways and servers that cut prompts send, read against a fake server: a reply
holding the close of a thinking block its chat template opened, thinking alone in a reasoning field, a reply from a
prompt the server cut (kept out of the response cache), and a gateway's timeout."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import llm_clients as clients
import pytest
from fakeserver import FakeOpenAIServer, Reply

from pearl.errors import LLMRequestError, ServerError
from pearl.llm import CachedLLM, Completion, CompletionRequest, Message, OpenAICompatibleLLM, ResponseCache
from pearl.llm._reply import FILTERED_NOTE, SERVER_CUT_NOTE

REQUEST = CompletionRequest(messages=[Message(role="user", content="Who keeps the light?")], max_tokens=64)


def make(server: FakeOpenAIServer, **overrides: object) -> OpenAICompatibleLLM:
    return clients.make(server, **{"max_retries": 4, **overrides})  # a retry more than the others' tests


def call(llm: OpenAICompatibleLLM | CachedLLM, path: str, request: CompletionRequest = REQUEST) -> Completion:
    return llm.complete(request) if path == "sync" else asyncio.run(llm.acomplete(request))


def test_a_reply_that_closes_a_thinking_block_its_template_opened_is_read_after_the_close(
    fake_server: FakeOpenAIServer,
) -> None:
    # DeepSeek-R1's distills and QwQ have "<think>" opened in the prompt by their chat template: the reply is the
    # thinking, a lone "</think>", then the answer; it was taken whole as the answer, thinking and all.
    fake_server.enqueue(
        "Okay, the user asks who keeps the light. Let me look at the document... Varga.\n</think>\n\n"
        "Varga keeps the light."
    )
    reply = make(fake_server).complete(REQUEST)
    assert reply.text == "Varga keeps the light."
    assert any(note.startswith("the model's thinking (") for note in reply.notes)
    fake_server.enqueue("A first </think> quoted while thinking, then the real one.</think>\nVarga.")
    assert make(fake_server).complete(REQUEST).text == "Varga."  # after the last close
    fake_server.enqueue("Thinking, and thinking on, and no answer after it.\n</think>\n")
    with pytest.raises(LLMRequestError, match="wrote only its thinking .* turn its thinking off"):
        make(fake_server).complete(REQUEST)
    assert len(fake_server.requests) == 3  # not retried: the same thinking would come again


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
@pytest.mark.parametrize("content", [None, ""], ids=["null", "empty"])
@pytest.mark.parametrize("path", ["sync", "async"])
def test_thinking_alone_in_a_reasoning_field_fails_at_once_saying_what_to_do(
    fake_server: FakeOpenAIServer, field: str, content: str | None, path: str
) -> None:
    # Retried max_retries times (paying for the same thinking each time), then "answered with no message content".
    choice = {"index": 0, "message": {"role": "assistant", "content": content, field: "The answer is Korvin."}}
    body = {"choices": [{**choice, "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 20}}
    fake_server.set_default(Reply(body=json.dumps(body)))
    with pytest.raises(LLMRequestError) as raised:
        call(make(fake_server), path)
    said = str(raised.value)
    assert f"wrote only its thinking (21 characters, in {field}), no answer" in said
    assert said.endswith("turn its thinking off, or choose another --model")
    assert len(fake_server.requests) == 1
    assert (raised.value.prompt_tokens, raised.value.completion_tokens) == (10, 20)  # billed all the same


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_reply_from_a_prompt_the_server_cut_is_not_kept_in_the_cache(
    fake_server: FakeOpenAIServer, tmp_path: Path, path: str
) -> None:
    # Kept, the cut answer came back from the cache after the user raised the server's context, as its note advised.
    request = CompletionRequest(
        messages=[Message(role="user", content=" ".join(f"Korvin{i} kept the light." for i in range(1500)))],
        max_tokens=64,
    )
    fake_server.enqueue(Reply(content="A cut answer.", usage={"prompt_tokens": 2048, "completion_tokens": 4}))
    fake_server.set_default(Reply(content="A whole answer.", usage={"prompt_tokens": 9000, "completion_tokens": 4}))
    cache = ResponseCache(tmp_path / "responses.sqlite3")
    cut = call(CachedLLM(make(fake_server), cache), path, request)
    assert cut.text == "A cut answer." and any(note.startswith(SERVER_CUT_NOTE) for note in cut.notes)
    assert len(cache) == 0
    whole = call(CachedLLM(make(fake_server), cache), path, request)  # the server fixed: asked again
    assert whole.text == "A whole answer." and not whole.cached and len(fake_server.requests) == 2
    again = call(CachedLLM(make(fake_server), cache), path, request)
    assert again.text == "A whole answer." and again.cached and len(fake_server.requests) == 2


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_reply_a_content_filter_cut_short_is_not_kept_in_the_cache(
    fake_server: FakeOpenAIServer, tmp_path: Path, path: str
) -> None:
    # Kept, the part of an answer the filter let through came back on every re-run, after the filter was relaxed too.
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": "The oil [S0]"},
        "finish_reason": "content_filter",
    }
    fake_server.enqueue(Reply(body=json.dumps({"choices": [choice]})))
    fake_server.set_default("The oil lamp [S0].")
    cache = ResponseCache(tmp_path / "responses.sqlite3")
    cut = call(CachedLLM(make(fake_server), cache), path, REQUEST)
    assert cut.text == "The oil [S0]" and any(note.startswith(FILTERED_NOTE) for note in cut.notes)
    assert len(cache) == 0
    whole = call(CachedLLM(make(fake_server), cache), path, REQUEST)
    assert whole.text == "The oil lamp [S0]." and not whole.cached and len(fake_server.requests) == 2
    kept = Completion(text="The oil [S0]", notes=[f"{FILTERED_NOTE}: answer"])  # as a version before this one kept it
    cache.put(CachedLLM(make(fake_server), cache)._key(REQUEST), kept)
    again = call(CachedLLM(make(fake_server), cache), path, REQUEST)
    assert again.text == "The oil lamp [S0]." and len(fake_server.requests) == 3


def test_a_cut_reply_an_older_version_kept_is_not_served_from_the_cache(
    fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cache = ResponseCache(tmp_path / "responses.sqlite3")
    llm = CachedLLM(make(fake_server), cache)
    kept = Completion(text="A cut answer.", notes=[f"{SERVER_CUT_NOTE} (2,048 of the ~9,000 sent): raise num_ctx"])
    cache.put(llm._key(REQUEST), kept)
    fake_server.set_default("A whole answer.")
    assert llm.complete(REQUEST).text == "A whole answer." and len(fake_server.requests) == 1


GATEWAY_PAGE = (
    "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center>"
    "<hr><center>nginx</center></body></html>"
)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=504, body=GATEWAY_PAGE, headers={"Content-Type": "text/html"}),
        Reply(status=524, body="<html><title>example.com | 524: A timeout occurred</title></html>"),
    ],
    ids=["504", "cloudflare-524"],
)
@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_gateways_timeout_counts_as_an_unanswered_attempt(
    fake_server: FakeOpenAIServer, reply: Reply, path: str
) -> None:
    # Each costs the gateway's whole wait, yet was retried max_retries times where a timeout here is retried once.
    fake_server.set_default(reply)
    with pytest.raises(ServerError, match="gave up after 2 attempts, 2 of them unanswered: the server looks hung"):
        call(make(fake_server, max_retries=6), path)
    assert len(fake_server.requests) == 2


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_gateways_timeout_and_a_timeout_here_count_together(fake_server: FakeOpenAIServer, path: str) -> None:
    fake_server.enqueue(Reply(delay=1.0), Reply.error(504, "upstream timed out"), "too late")
    with pytest.raises(ServerError, match="gave up after 2 attempts, 2 of them unanswered"):
        call(make(fake_server, max_retries=6, timeout=0.3), path)
