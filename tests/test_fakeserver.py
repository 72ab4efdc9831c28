"""Tests of the fake OpenAI-compatible server itself, driven with plain httpx.

pearl's end-to-end tests trust this fake to behave like the real API; these tests pin
down that behaviour so a client bug is never mistaken for a fake-server bug.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fakeserver import FakeOpenAIServer, Reply, fake_server_fixture

server = pytest.fixture(fake_server_fixture)


@pytest.fixture
def client(server: FakeOpenAIServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5.0) as http:
        yield http


def chat(client: httpx.Client, content: str = "Hello?", **extra: Any) -> httpx.Response:
    payload = {"model": "fake-model", "messages": [{"role": "user", "content": content}], **extra}
    return client.post("/chat/completions", json=payload)


def answer(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


def test_normal_reply_is_an_openai_chat_completion(server: FakeOpenAIServer, client: httpx.Client) -> None:
    server.enqueue(Reply(content="Varga kept the light.", finish_reason="length"))
    response = client.post(
        "/chat/completions",
        json={
            "model": "my-model",
            "messages": [{"role": "system", "content": "x" * 40}, {"role": "user", "content": "y" * 40}],
        },
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["id"].startswith("chatcmpl-")
    assert isinstance(data["created"], int)
    assert data["model"] == "my-model"
    assert data["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Varga kept the light."},
            "logprobs": None,
            "finish_reason": "length",
        }
    ]
    # Defaults: about 4 characters per token, over all messages for the prompt.
    assert data["usage"] == {"prompt_tokens": 20, "completion_tokens": 6, "total_tokens": 26}


def test_default_default_is_ok_and_usage_can_be_scripted(server: FakeOpenAIServer, client: httpx.Client) -> None:
    assert answer(chat(client)) == "ok"
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    server.enqueue(Reply(usage=usage))
    assert chat(client).json()["usage"] == usage


def test_queue_is_consumed_in_order_then_default(server: FakeOpenAIServer, client: httpx.Client) -> None:
    server.enqueue("one", Reply(content="two"))
    server.enqueue("three")
    assert server.pending == 3

    assert [answer(chat(client)) for _ in range(4)] == ["one", "two", "three", "ok"]
    assert server.pending == 0


def test_default_can_be_a_callable_of_the_request(server: FakeOpenAIServer, client: httpx.Client) -> None:
    seen: list[dict[str, Any]] = []

    def reply(request: dict[str, Any]) -> Reply | str:
        seen.append(request)
        prompt = request["messages"][-1]["content"]
        return "(B) the storm" if "why" in prompt.lower() else Reply(content="no idea", finish_reason="length")

    server.set_default(reply)
    assert answer(chat(client, "Why did she stay?")) == "(B) the storm"
    response = chat(client, "Who?")
    assert answer(response) == "no idea"
    assert response.json()["choices"][0]["finish_reason"] == "length"
    assert [r["messages"][-1]["content"] for r in seen] == ["Why did she stay?", "Who?"]

    # The queue still wins over the default, and None restores the initial default.
    server.enqueue("queued")
    assert answer(chat(client)) == "queued"
    server.set_default("fixed")
    assert answer(chat(client)) == "fixed"
    server.set_default(None)
    assert answer(chat(client)) == "ok"


def test_error_with_retry_after(server: FakeOpenAIServer, client: httpx.Client) -> None:
    server.enqueue(Reply.error(503, "The engine is currently overloaded", retry_after=2))
    response = chat(client)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "2000"
    assert response.json() == {
        "error": {"message": "The engine is currently overloaded", "type": "server_error", "param": None, "code": None}
    }


def test_rate_limited_and_error_without_retry_after(server: FakeOpenAIServer, client: httpx.Client) -> None:
    server.enqueue(Reply.rate_limited(retry_after=0.25), Reply.error(400, "bad", code="context_length_exceeded"))

    limited = chat(client)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "0.25"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"

    bad = chat(client)
    assert bad.status_code == 400
    assert "retry-after" not in bad.headers
    assert bad.json()["error"] == {
        "message": "bad",
        "type": "invalid_request_error",
        "param": None,
        "code": "context_length_exceeded",
    }


def test_bare_status_gets_an_error_body(server: FakeOpenAIServer, client: httpx.Client) -> None:
    server.enqueue(Reply(status=502, headers={"x-request-id": "req_1"}))
    response = chat(client)
    assert response.status_code == 502
    assert response.headers["x-request-id"] == "req_1"
    assert response.json()["error"]["type"] == "server_error"


def test_drop_closes_the_connection_without_a_response(server: FakeOpenAIServer, client: httpx.Client) -> None:
    server.enqueue(Reply(drop=True), "after the drop")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        chat(client)
    # The server is still healthy, and the dropped request was logged.
    assert answer(chat(client)) == "after the drop"
    assert len(server.requests) == 2


def test_delay_beyond_the_client_timeout(server: FakeOpenAIServer, client: httpx.Client) -> None:
    server.enqueue(Reply(content="late", delay=1.0), Reply(content="quick", delay=0.1))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/chat/completions", json={"model": "m", "messages": []}, timeout=0.2)
    assert time.monotonic() - started < 0.9

    # A delay shorter than the timeout is simply a slow answer.
    assert answer(chat(client)) == "quick"


def test_api_key_is_required_when_set() -> None:
    with FakeOpenAIServer(api_key="sk-test") as server:
        server.enqueue("secret answer")
        payload = {"model": "m", "messages": []}
        url = f"{server.base_url}/chat/completions"

        missing = httpx.post(url, json=payload)
        wrong = httpx.post(url, json=payload, headers={"Authorization": "Bearer sk-wrong"})
        models = httpx.get(f"{server.base_url}/models")
        for response in (missing, wrong, models):
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "invalid_api_key"
        assert server.pending == 1, "a refused request must not consume a scripted reply"

        good = httpx.post(url, json=payload, headers={"Authorization": "Bearer sk-test"})
        assert answer(good) == "secret answer"
        assert len(server.requests) == 4


def test_request_log(server: FakeOpenAIServer, client: httpx.Client) -> None:
    payload = {
        "model": "fake-model",
        "temperature": 0,
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": [{"type": "text", "text": "Who is Tr'en?"}]},
        ],
    }
    client.post("/chat/completions?api-version=1", json=payload, headers={"Authorization": "Bearer k", "X-Trace": "7"})
    client.get("/models")

    first, second = server.requests
    assert first.method == "POST"
    assert first.path == "/v1/chat/completions"
    assert first.headers["authorization"] == "Bearer k"
    assert first.headers["x-trace"] == "7"
    assert first.headers["content-type"] == "application/json"
    assert first.json == payload
    assert json.loads(first.body) == payload
    assert first.messages == payload["messages"]
    assert first.prompt == "Answer briefly.\n\nWho is Tr'en?"
    assert (second.method, second.path, second.json, second.body) == ("GET", "/v1/models", None, b"")
    assert server.last_request is second
    assert server.chat_requests == [first]

    server.reset()
    assert server.requests == []


def test_raw_bodies_are_sent_verbatim(server: FakeOpenAIServer, client: httpx.Client) -> None:
    server.enqueue(
        Reply(body="not json"),
        Reply(body='{"choices": []}'),
        Reply(body=b"<html>bad gateway</html>", status=502, headers={"content-type": "text/html"}),
    )

    not_json = chat(client)
    assert not_json.status_code == 200
    assert not_json.text == "not json"
    with pytest.raises(json.JSONDecodeError):
        not_json.json()

    assert chat(client).json() == {"choices": []}

    html = chat(client)
    assert (html.status_code, html.text) == (502, "<html>bad gateway</html>")
    assert html.headers.get_list("content-type") == ["text/html"]


def test_malformed_requests_get_400_without_consuming_the_queue(server: FakeOpenAIServer, client: httpx.Client) -> None:
    server.enqueue("kept")
    broken = client.post("/chat/completions", content=b"{oops", headers={"Content-Type": "application/json"})
    no_model = client.post("/chat/completions", json={"messages": []})
    no_messages = client.post("/chat/completions", json={"model": "m"})
    for response in (broken, no_model, no_messages):
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert server.pending == 1
    assert server.requests[0].body == b"{oops"
    assert server.requests[0].json is None


def test_models_lists_fake_model_and_models_seen(client: httpx.Client) -> None:
    assert [m["id"] for m in client.get("/models").json()["data"]] == ["fake-model"]
    client.post("/chat/completions", json={"model": "llama-3-8b", "messages": []})
    listing = client.get("/models").json()
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["fake-model", "llama-3-8b"]
    assert all(m["object"] == "model" for m in listing["data"])


def test_unknown_paths_and_methods(client: httpx.Client) -> None:
    missing = client.post("/embeddings", json={"input": "x"})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Invalid URL (POST /v1/embeddings)"
    assert httpx.get(str(client.base_url).replace("/v1", "/")).status_code == 404
    assert client.get("/chat/completions").status_code == 405


def test_streaming_answers_with_server_sent_events(server: FakeOpenAIServer, client: httpx.Client) -> None:
    server.enqueue(Reply(content="The keeper lit the lamp at dusk."), "again")
    payload = {
        "model": "m",
        "messages": [{"role": "user", "content": "x" * 20}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with client.stream("POST", "/chat/completions", json=payload) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]

    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    deltas = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
    assert sum(1 for d in deltas if d) >= 2, "content should arrive in more than one chunk"
    assert "".join(deltas) == "The keeper lit the lamp at dusk."
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}

    # Without stream_options.include_usage there is no usage chunk, as with the real API.
    with client.stream("POST", "/chat/completions", json={**payload, "stream_options": None}) as response:
        plain = [json.loads(line[6:]) for line in response.iter_lines() if line and line != "data: [DONE]"]
    assert all(c["choices"] and "usage" not in c for c in plain)


def test_concurrent_requests_are_all_answered_and_logged(server: FakeOpenAIServer) -> None:
    contents = [f"answer {i}" for i in range(20)]
    server.enqueue(*(Reply(content=c, delay=0.3) for c in contents))

    started = time.monotonic()
    with (
        httpx.Client(base_url=server.base_url, timeout=5.0, limits=httpx.Limits(max_connections=20)) as http,
        ThreadPoolExecutor(max_workers=20) as pool,
    ):
        answers = list(pool.map(lambda i: answer(chat(http, f"question {i}")), range(20)))
    elapsed = time.monotonic() - started

    assert sorted(answers) == sorted(contents), "every scripted reply is used exactly once"
    assert elapsed < 2.0, f"20 requests delayed 0.3 s each took {elapsed:.2f} s: not served concurrently"
    assert len(server.requests) == 20
    assert sorted(r.messages[0]["content"] for r in server.requests) == sorted(f"question {i}" for i in range(20))


def test_stop_is_prompt_even_with_a_pending_delayed_reply() -> None:
    server = FakeOpenAIServer().start()
    server.enqueue(Reply(content="never", delay=30))
    outcome: list[BaseException | httpx.Response] = []

    def call() -> None:
        try:
            outcome.append(httpx.post(f"{server.base_url}/chat/completions", json={"model": "m", "messages": []}))
        except httpx.HTTPError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    deadline = time.monotonic() + 2
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.requests, "the delayed request never arrived"

    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0
    caller.join(timeout=2)
    assert not caller.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], httpx.TransportError), "the pending request is dropped, not answered"

    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url


def test_stop_cuts_idle_keep_alive_connections() -> None:
    with FakeOpenAIServer() as server, httpx.Client(base_url=server.base_url, timeout=2.0) as http:
        assert answer(chat(http)) == "ok"  # leaves a pooled keep-alive connection open
        server.stop()
        with pytest.raises(httpx.TransportError):
            chat(http)


def test_base_url_and_fixture() -> None:
    fixture = fake_server_fixture()
    server = next(fixture)
    base_url = server.base_url
    assert base_url == f"http://127.0.0.1:{server.port}/v1"
    assert server.port > 0
    assert httpx.get(f"{base_url}/models").status_code == 200
    with pytest.raises(StopIteration):
        next(fixture)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/models", timeout=1.0)


def test_runs_by_hand_from_the_command_line() -> None:
    """`python tests/fakeserver.py --port 0 --context-limit N --reply TEXT` serves until stopped."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("fakeserver.py")
    args = [sys.executable, str(script), "--port", "0", "--context-limit", "60", "--reply", "hand-made"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split(" at ", 1)[1].split()[0]
        with httpx.Client(base_url=base_url, timeout=5.0) as http:
            assert answer(chat(http, "short", max_tokens=10)) == "hand-made"
            refused = chat(http, "long " * 100, max_tokens=10)
            assert refused.status_code == 400
            assert "maximum context length is 60 tokens" in refused.json()["error"]["message"]
    finally:
        process.terminate()
        process.wait(timeout=10)
