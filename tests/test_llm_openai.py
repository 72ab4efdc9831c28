"""The OpenAI-compatible backend against a fake server: success, every retry path, every error path."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import ssl
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakeserver import FakeOpenAIServer, Reply
from llm_clients import make
from pydantic import SecretStr

from pearl.config import load_settings
from pearl.errors import (
    ConfigError,
    ContextOverflowError,
    LLMConnectionError,
    LLMRequestError,
    LLMResponseError,
    LLMTimeoutError,
    RateLimitError,
    ServerError,
    stops_a_run,
)
from pearl.llm import Completion, CompletionRequest, Message, OpenAICompatibleLLM
from pearl.llm._reply import prompt_tokens

REQUEST = CompletionRequest(messages=[Message(role="user", content="Who is Korvin?")], max_tokens=16)


def call(llm: OpenAICompatibleLLM, path: str) -> Completion:
    """One request through the blocking or the asynchronous path: both must retry and fail alike."""
    return llm.complete(REQUEST) if path == "sync" else asyncio.run(llm.acomplete(REQUEST))


def test_success_reports_text_usage_latency(fake_server: FakeOpenAIServer) -> None:
    fake_server.enqueue(Reply(content="A man.", usage={"prompt_tokens": 11, "completion_tokens": 3}))
    result = make(fake_server).complete(REQUEST)
    assert result.text == "A man."
    assert (result.prompt_tokens, result.completion_tokens) == (11, 3)
    assert result.latency_s > 0
    assert result.attempts == 1
    body = fake_server.requests[-1].json
    assert body is not None
    assert body["model"] == "fake-model" and body["messages"][0]["content"] == "Who is Korvin?"


def test_async_matches_sync(fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default("same")
    llm = make(fake_server)
    assert asyncio.run(llm.acomplete(REQUEST)).text == llm.complete(REQUEST).text == "same"


def test_the_tls_settings_are_made_once_not_for_each_calls_client(
    fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # httpx makes them (certifi's certificates loaded) for each client it is not given them: some 70 ms a call on
    # the event loop, every call's client being new (one per event loop's call).
    made: list[object] = []
    default = httpx._transports.default.create_ssl_context

    def counted(verify: object = True, *args: Any, **kwargs: Any) -> Any:
        if verify is True:
            made.append(verify)
        return default(verify, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx._transports.default, "create_ssl_context", counted)
    fake_server.set_default("ok")
    llm = make(fake_server)

    async def three() -> list[Completion]:
        return [await llm.acomplete(REQUEST) for _ in range(3)]

    assert [c.text for c in asyncio.run(three())] == ["ok"] * 3
    assert made == []


@pytest.mark.parametrize(
    "fault",
    [
        Reply.rate_limited(retry_after=0.05),
        Reply.error(500, "boom"),
        Reply.error(503, "overloaded"),
        Reply(drop=True),
        Reply(body="<html>bad gateway</html>"),
        Reply(body='{"choices": []}'),
        Reply.error(408, "Request timed out"),
        Reply.error(409, "could not acquire the lock"),
        Reply(content="   \n\t  \n"),
    ],
    ids=["429", "500", "503", "reset", "not-json", "no-choices", "408", "409", "white-space-alone"],
)
@pytest.mark.parametrize("path", ["sync", "async"])
def test_transient_faults_are_retried(fake_server: FakeOpenAIServer, fault: Reply, path: str) -> None:
    fake_server.enqueue(fault, fault, "recovered")
    result = call(make(fake_server), path)
    assert result.text == "recovered"
    assert result.attempts == 3
    assert len(fake_server.requests) == 3


def test_a_reply_without_usage_is_counted_here_and_noted(fake_server: FakeOpenAIServer) -> None:
    # Counted as 0, a server that sends no usage made every call look free: `ask` said "0 prompt tokens".
    fake_server.set_default(Reply(body='{"choices": [{"message": {"content": "The ferry, at dawn."}}]}'))
    result = make(fake_server).complete(REQUEST)
    assert result.prompt_tokens == prompt_tokens(REQUEST) > 0 and result.completion_tokens == 6
    assert result.notes == [
        "the reply reported no usable prompt_tokens or completion_tokens: counted here (cl100k), an estimate"
    ]
    # One the server stopped at `max_tokens` is counted at its whole length, whatever pearl cuts of it (a loop).
    looping = "Dorota poured the water. " * 40
    body = {"choices": [{"message": {"content": looping}, "finish_reason": "length"}]}
    fake_server.set_default(Reply(body=json.dumps(body)))
    cut = make(fake_server).complete(REQUEST)
    assert cut.text == "Dorota poured the water." and cut.completion_tokens == REQUEST.max_tokens


def test_a_reply_whose_usage_is_zeros_is_counted_here_and_noted(fake_server: FakeOpenAIServer) -> None:
    # Believed, a server that fills usage with zeros made every call free: an evaluation's tokens per question were 0,
    # with no mark of an estimate (helper-214).
    zeros = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    body = {"choices": [{"message": {"content": "The ferry, at dawn."}}], "usage": zeros}
    fake_server.set_default(Reply(body=json.dumps(body)))
    result = make(fake_server).complete(REQUEST)
    assert result.prompt_tokens == prompt_tokens(REQUEST) > 0 and result.completion_tokens == 6
    assert result.notes == [
        "usage.prompt_tokens is 0 for text of some length, which is no count",
        "usage.completion_tokens is 0 for text of some length, which is no count",
        "the reply reported no usable prompt_tokens or completion_tokens: counted here (cl100k), an estimate",
    ]
    body["usage"] = {"prompt_tokens": 31, "completion_tokens": 0}  # a count of 0 for a reply of text alone
    fake_server.set_default(Reply(body=json.dumps(body)))
    result = make(fake_server).complete(REQUEST)
    assert (result.prompt_tokens, result.completion_tokens) == (31, 6) and len(result.notes) == 2


def test_a_completion_labelled_as_html_is_read(fake_server: FakeOpenAIServer) -> None:
    # Its JSON is read first: the label alone does not make it a web page.
    fake_server.set_default(Reply(content="read", headers={"Content-Type": "text/html"}))
    assert make(fake_server).complete(REQUEST).text == "read"


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_retried_call_says_why_and_its_cached_copy_does_not(
    fake_server: FakeOpenAIServer, path: str, tmp_path: Path
) -> None:
    # A trace said "3 attempts" and never why; the reason is this call's, not the reply's to replay.
    from pearl.llm import CachedLLM, ResponseCache

    fake_server.enqueue(Reply.rate_limited(retry_after=0.01), Reply.error(503, "overloaded"), "recovered")
    cached = CachedLLM(make(fake_server), ResponseCache(tmp_path / "cache.sqlite"))
    result = asyncio.run(cached.acomplete(REQUEST)) if path == "async" else cached.complete(REQUEST)
    assert result.attempts == 3 and len(result.notes) == 1
    assert result.notes[0].startswith("retried after attempt 1: ") and "Rate limit reached" in result.notes[0]
    assert "; 2: " in result.notes[0] and "overloaded" in result.notes[0]
    again = cached.complete(REQUEST)
    assert again.cached and again.text == "recovered" and again.notes == [] and again.attempts == 1


@pytest.mark.parametrize("path", ["sync", "async"])
def test_timeout_is_retried_then_succeeds(fake_server: FakeOpenAIServer, path: str) -> None:
    fake_server.enqueue(Reply(delay=1.0, content="late"), "in time")
    result = call(make(fake_server, timeout=0.3), path)
    assert result.text == "in time"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Reply.rate_limited(retry_after=0.01), RateLimitError),
        (Reply.error(500, "boom"), ServerError),
        (Reply(drop=True), LLMConnectionError),
        (Reply(body="not json"), LLMResponseError),
        (Reply(body="<html><title>Open WebUI</title></html>"), ServerError),  # counted as silence: a run stops
        (Reply(body='{"choices": []}'), LLMResponseError),
        (Reply.error(408, "Request timed out"), LLMTimeoutError),
        (Reply(content=" \n "), LLMResponseError),
    ],
    ids=["429", "500", "reset", "not-json", "web-page", "no-choices", "408", "white-space-alone"],
)
@pytest.mark.parametrize("path", ["sync", "async"])
def test_persistent_faults_fail_within_the_bound(
    fake_server: FakeOpenAIServer, fault: Reply, error: type[Exception], path: str
) -> None:
    fake_server.set_default(fault)
    started = time.monotonic()
    with pytest.raises(error, match="gave up after 3 attempts"):
        call(make(fake_server, max_retries=2, timeout=0.3), path)
    assert len(fake_server.requests) == 3
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_silent_server_is_asked_twice_not_max_retries_times(
    fake_server: FakeOpenAIServer, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Each attempt costs the whole timeout: with the defaults, five of them kept `pearl ask` waiting ten minutes.
    fake_server.set_default(Reply(delay=1.0))
    with pytest.raises(LLMTimeoutError, match="gave up after 2 attempts, 2 of them unanswered: the server looks hung"):
        call(make(fake_server, max_retries=6, timeout=0.3), path)
    assert len(fake_server.requests) == 2
    said = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(said) == 1 and said[0].endswith("(attempt 2 of at most 7; the last if it goes unanswered too)")


def test_retries_are_said_at_most_once_in_ten_seconds_with_how_many_went_unsaid(
    fake_server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each retry was a WARNING line: a 400-question evaluation against a server failing one request in three printed
    # hundreds (helper-214). Each stays in its call's notes.
    import pearl.llm._openai as openai_module

    monkeypatch.setattr(openai_module, "_RETRY_SAID", 1.0)  # ten seconds, as a test waits them
    llm = make(fake_server, retry_base_delay=0.001, retry_max_delay=0.001)
    for _ in range(3):
        fake_server.enqueue(Reply.error(503, "busy"), "fine")
        assert "retried after attempt 1" in llm.complete(REQUEST).notes[-1]
    time.sleep(1.1)
    fake_server.enqueue(Reply.error(503, "busy"), "fine")
    llm.complete(REQUEST)
    said = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(said) == 2 and "other" not in said[0] and said[1].endswith("(2 other retries since the last said)")


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_connection_that_cannot_be_opened_in_time_keeps_its_retries_and_says_so(path: str) -> None:
    # Was "no answer within 1s ... the server looks hung" after two attempts: no connection was ever made. On the
    # async path the attempt's deadline fired first while the connect timeout equalled it.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        waiting = []
        for _ in range(4):  # fill the backlog: further connections are never accepted
            pending = socket.socket()
            pending.setblocking(False)
            pending.connect_ex(address)
            waiting.append(pending)
        settings = load_settings(
            base_url=f"http://{address[0]}:{address[1]}/v1", model="m", timeout=1.0, retry_base_delay=0.0, max_retries=2
        )
        try:
            with pytest.raises(LLMConnectionError, match=r"no connection to .* within 0.5s.*gave up after 3 attempts"):
                call(OpenAICompatibleLLM(settings), path)
        finally:
            for pending in waiting:
                pending.close()


@pytest.mark.parametrize("path", ["sync", "async"])
def test_other_faults_between_silences_keep_their_retries(fake_server: FakeOpenAIServer, path: str) -> None:
    fake_server.enqueue(Reply(delay=1.0), Reply.error(503, "busy"), Reply.error(503, "busy"), "answered")
    assert call(make(fake_server, max_retries=6, timeout=0.3), path).text == "answered"


def test_retry_after_is_honoured(fake_server: FakeOpenAIServer) -> None:
    fake_server.enqueue(Reply.rate_limited(retry_after=0.5), "ok")
    started = time.monotonic()
    make(fake_server, retry_base_delay=0.0).complete(REQUEST)
    assert time.monotonic() - started >= 0.5


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_model_that_takes_max_completion_tokens_and_its_default_temperature_is_asked_so(
    fake_server: FakeOpenAIServer, path: str
) -> None:
    # OpenAI's reasoning models (o1, o3, gpt-5) refuse max_tokens and any temperature but 1: every call failed (400).
    fake_server.enqueue(
        Reply.error(
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
        ),
        Reply.error(
            400,
            "Unsupported value: 'temperature' does not support 0.0 with this model. "
            "Only the default (1) value is supported.",
        ),
        "answered",
        "again",
    )
    llm = make(fake_server)
    assert call(llm, path).text == "answered"
    first, second, third = (r.json for r in fake_server.requests)
    assert "max_tokens" in first and "temperature" in first
    assert second["max_completion_tokens"] == 16 and "max_tokens" not in second and "temperature" in second
    assert "temperature" not in third and third["max_completion_tokens"] == 16
    assert call(llm, path).text == "again" and len(fake_server.requests) == 4  # learnt: no refusal again
    assert fake_server.requests[3].json.keys() == third.keys()


def test_content_sent_as_parts_is_read(fake_server: FakeOpenAIServer) -> None:
    # It was "no message content", retried five times a call.
    parts = [
        {"type": "text", "text": "Korvin is "},
        {"type": "image_url", "image_url": {}},
        {"type": "text", "text": "the keeper."},
    ]
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": parts}, "finish_reason": "stop"}]}
    fake_server.enqueue(Reply(body=json.dumps(body)))
    assert make(fake_server).complete(REQUEST).text == "Korvin is the keeper."


def test_a_reply_a_content_filter_cut_short_is_noted_in_the_answer(
    fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # Azure sends the text written before its filter stopped the reply: it was shown as a whole answer, no note
    # (helper-204).
    from pearl import Pearl

    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": "The oil [S0]"},
        "finish_reason": "content_filter",
    }
    fake_server.set_default(Reply(body=json.dumps({"choices": [choice]})))
    completion = make(fake_server).complete(REQUEST)
    assert completion.text == "The oil [S0]" and completion.finish_reason == "content_filter"
    assert any("the server's content filter cut the reply short" in note for note in completion.notes)
    settings = load_settings(base_url=fake_server.base_url, model="m", cache=False, max_retries=0)
    answer = Pearl(settings=settings).ask("Mira filled the oil. Tom rowed.", "What did Mira fill?", method="direct")
    assert answer.notes[0] == (
        "the server's content filter cut the reply short (finish_reason content_filter); what came before is kept: "
        "answer"
    )


@pytest.mark.parametrize(
    ("choice", "said"),
    [
        (
            {"message": {"role": "assistant", "content": None, "refusal": "I can't help with that."}},
            "refused to answer: I can't help with that.",
        ),
        (
            {"message": {"role": "assistant", "content": ""}, "finish_reason": "content_filter"},
            "its content filter blocked the reply (finish_reason content_filter)",
        ),
    ],
    ids=["refusal", "content-filter"],
)
def test_a_refusal_or_a_blocked_reply_is_said_once_and_not_retried(
    fake_server: FakeOpenAIServer, choice: dict[str, Any], said: str
) -> None:
    # Each was "answered with no message content" (or "an empty text"), retried up to max_retries times.
    fake_server.enqueue(Reply(body=json.dumps({"choices": [{"index": 0, **choice}]})))
    with pytest.raises(LLMRequestError) as raised:
        make(fake_server).complete(REQUEST)
    assert said in str(raised.value) and len(fake_server.requests) == 1
    assert not stops_a_run(raised.value)  # another question may be answered: an evaluation goes on


@pytest.mark.parametrize(
    ("choice", "usage", "billed"),
    [
        (
            {"message": {"content": ""}, "finish_reason": "length"},
            {"prompt_tokens": 4000, "completion_tokens": 16},
            4000,
        ),
        ({"message": {"content": None, "refusal": "No."}}, {"prompt_tokens": 900, "completion_tokens": 2}, 900),
        ({"message": {"content": ""}, "finish_reason": "content_filter"}, None, None),  # counted here
    ],
    ids=["length", "refusal", "no-usage"],
)
def test_a_reply_with_no_answer_counts_the_tokens_it_was_billed(
    fake_server: FakeOpenAIServer, choice: dict[str, Any], usage: dict[str, int] | None, billed: int | None
) -> None:
    # Raised before its usage was read, it counted as 0 tokens: a method that failed so looked free in `pearl eval`
    # (helper-169: 24,000 prompt tokens reported by the server, "prompt tok/q 0").
    from pearl import Pearl

    body: dict[str, Any] = {"choices": [{"index": 0, **choice}], **({"usage": usage} if usage else {})}
    fake_server.set_default(Reply(body=json.dumps(body)))
    pearl = Pearl(llm=make(fake_server), settings=load_settings(cache=False, dense=False))
    with pytest.raises(LLMRequestError) as raised:
        pearl.ask("Korvin keeps the light on Tren.", "Who keeps the light?", method="direct")
    trace = raised.value.trace
    assert trace is not None
    sent = prompt_tokens(CompletionRequest(messages=trace.events[-1].messages))  # counted here, with cl100k
    assert raised.value.prompt_tokens == (billed if billed is not None else sent) > 0
    assert trace.usage().prompt_tokens == raised.value.prompt_tokens


def test_https_to_a_plain_http_server_says_so_and_is_not_retried(fake_server: FakeOpenAIServer) -> None:
    # Said "cannot connect ...: is the server running?" and retried 5 times, though no retry can pass (helper-168).
    url = fake_server.base_url.replace("http://", "https://")
    llm = OpenAICompatibleLLM(load_settings(base_url=url, model="m", max_retries=4, retry_base_delay=5))
    started = time.perf_counter()
    with pytest.raises(LLMRequestError, match=r"the server does not speak HTTPS \(.*WRONG_VERSION_NUMBER.*use http://"):
        llm.complete(REQUEST)
    assert time.perf_counter() - started < 4  # no retry waited for


def test_an_untrusted_certificate_is_said_with_how_to_trust_it() -> None:
    from pearl.llm._openai import _tls_advice, _tls_failure

    refused = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    wrapped = httpx.ConnectError("certificate verify failed")
    wrapped.__cause__ = httpcore_error = Exception(refused)
    assert _tls_failure(wrapped) is refused and httpcore_error.args == (refused,)
    said = _tls_advice("https://llm.local/v1", refused)
    assert said.startswith("https://llm.local/v1: the server's certificate is not trusted (")
    assert "point SSL_CERT_FILE at its certificate" in said
    assert _tls_failure(httpx.ConnectError("[Errno 111] Connection refused")) is None


def test_requests_in_flight_when_the_model_first_refuses_max_tokens_are_sent_again_too() -> None:
    # The first refusal switched the parameter; a second request, sent before it, then met its own refusal, saw the
    # switch made and failed for good: an eval at the default concurrency lost its first rows.
    import asyncio

    import httpx

    sent: list[list[str]] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent.append(sorted(body))
        if "max_tokens" in body:
            if sum("max_tokens" in b for b in sent) < 2:
                await both_sent.wait()
            both_sent.set()
            message = "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead."
            return httpx.Response(400, json={"error": {"message": message, "param": "max_tokens"}})
        return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]})

    async def ask_twice() -> list[str]:
        settings = load_settings(base_url="http://x.test/v1", model="o3", cache=False, retry_base_delay=0.01)
        llm = OpenAICompatibleLLM(settings, transport=httpx.MockTransport(handler))
        replies = await asyncio.gather(llm.acomplete(REQUEST), llm.acomplete(REQUEST))
        return [reply.text for reply in replies]

    both_sent = asyncio.Event()
    assert asyncio.run(ask_twice()) == ["ok", "ok"]
    assert sum("max_tokens" in body for body in sent) == 2 and sum("max_completion_tokens" in b for b in sent) == 2


def test_a_redirect_is_refused_at_once_and_named(fake_server: FakeOpenAIServer) -> None:
    # Retried five times as "a body that is not valid JSON", the address it pointed to never said.
    fake_server.enqueue(Reply(status=301, headers={"Location": "https://api.example.com/v1/chat/completions"}, body=""))
    with pytest.raises(LLMRequestError, match=r"answered 301, a redirect to https://api\.example\.com/v1/chat/compl"):
        make(fake_server).complete(REQUEST)
    assert len(fake_server.requests) == 1


def test_a_spent_quota_is_not_retried_as_a_rate_limit(fake_server: FakeOpenAIServer) -> None:
    fake_server.enqueue(
        Reply.error(429, "You exceeded your current quota, please check your plan.", code="insufficient_quota")
    )
    with pytest.raises(LLMRequestError, match="the account has no quota left"):
        make(fake_server).complete(REQUEST)
    assert len(fake_server.requests) == 1


def test_a_reasoning_models_thinking_is_left_out_of_its_reply(fake_server: FakeOpenAIServer) -> None:
    # Servers of DeepSeek-R1, Qwen3 and QwQ leave the thinking in the content: every plan was refused at its "<",
    # and no letter was read (eval scored them unparseable), the replies cached as they came.
    fake_server.enqueue("<think>\nOkay, the user asks who Korvin is.\n</think>\n\nKorvin is the keeper.")
    reply = make(fake_server).complete(REQUEST)
    assert reply.text == "Korvin is the keeper." and any("thinking" in note for note in reply.notes)
    fake_server.enqueue("<think>\nStill thinking about Korvin")  # its thinking alone: no answer to read
    with pytest.raises(LLMRequestError, match="wrote only its thinking .* turn its thinking off"):
        make(fake_server).complete(REQUEST)
    fake_server.enqueue("Keep the <think> tag in mind.")  # a tag inside the answer is the answer's
    assert make(fake_server).complete(REQUEST).text == "Keep the <think> tag in mind."


@pytest.mark.parametrize(("value", "wait"), [("2", 2.0), ("soon", None), ("30s", None), ("", None), ("Mon, 99", None)])
def test_a_retry_after_header_that_is_no_number_nor_date_is_ignored(value: str, wait: float | None) -> None:
    # "soon" or "30s" raised ValueError out of the client: `ask` died with a traceback, eval rows failed.
    import httpx

    from pearl.llm._openai import _retry_after

    assert _retry_after(httpx.Headers({"Retry-After": value})) == wait


def test_retry_after_over_the_limit_fails_at_once(fake_server: FakeOpenAIServer) -> None:
    fake_server.enqueue(Reply.rate_limited(retry_after=600))
    with pytest.raises(RateLimitError, match="over the 60s limit"):
        make(fake_server).complete(REQUEST)
    assert len(fake_server.requests) == 1


@pytest.mark.parametrize(
    ("status", "hint"),
    [(400, "rejected the request"), (401, "PEARL_API_KEY"), (403, "PEARL_API_KEY"), (404, "check base_url=")],
)
def test_client_errors_are_not_retried_and_say_what_to_fix(
    fake_server: FakeOpenAIServer, status: int, hint: str
) -> None:
    fake_server.set_default(Reply.error(status, "nope"))
    with pytest.raises(LLMRequestError, match=hint) as info:
        make(fake_server).complete(REQUEST)
    assert info.value.status_code == status
    assert len(fake_server.requests) == 1


NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    "</center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
)
VALIDATION_400 = "1 validation error for ChatCompletionRequest\nmax_tokens\n  Input should be greater than 0"


@pytest.mark.parametrize(
    ("reply", "error", "shown"),
    [
        (Reply(status=502, body=NGINX_502, headers={"Content-Type": "text/html"}), ServerError, ": 502 Bad Gateway ("),
        (
            Reply(status=504, body="<!DOCTYPE html><style>p{}</style><p>Gateway &amp; time-out</p>"),
            ServerError,
            ": Gateway & time-out (",
        ),
        (Reply.error(400, VALIDATION_400), LLMRequestError, "ChatCompletionRequest max_tokens Input should be"),
    ],
    ids=["nginx-page", "page-without-title", "multi-line"],
)
def test_a_servers_error_text_is_quoted_as_one_readable_line(
    fake_server: FakeOpenAIServer, reply: Reply, error: type[Exception], shown: str
) -> None:
    # A proxy's error page was quoted as its markup, over several lines of the one error line.
    fake_server.set_default(reply)
    with pytest.raises(error) as info:
        make(fake_server, max_retries=1).complete(REQUEST)
    message = str(info.value)
    assert shown in message and "\n" not in message and "<" not in message


def test_context_overflow_message_names_the_setting(fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(Reply.error(400, "This model's maximum context length is 4096 tokens"))
    with pytest.raises(LLMRequestError, match="PEARL_CONTEXT_WINDOW"):
        make(fake_server).complete(REQUEST)


@pytest.mark.parametrize(
    ("status", "message", "window"),
    [
        (500, "Context size has been exceeded.", 3072),  # llama.cpp, as a 500 too: no limit stated, a quarter off
        (
            400,
            "Trying to keep the first 5210 tokens when context the overflows. However, the model is loaded with "
            "context length of only 4096 tokens, which is not enough.",
            4096,
        ),  # LM Studio
        (422, "`inputs` tokens + `max_new_tokens` must be <= 2048. Given: 3000 `inputs` tokens", 2048),  # TGI
    ],
)
def test_a_context_overflow_as_other_servers_word_it_lowers_the_window_at_once(
    fake_server: FakeOpenAIServer, status: int, message: str, window: int
) -> None:
    # llama.cpp's 500 was retried five times as a server error, LM Studio's 400 was "check the model" (helper-177).
    fake_server.set_default(Reply.error(status, message))
    llm = make(fake_server, context_window=4096 if window == 3072 else 8192)
    with pytest.raises(ContextOverflowError, match="PEARL_CONTEXT_WINDOW"):
        llm.complete(REQUEST)
    assert len(fake_server.requests) == 1 and llm.context_window == window


def test_api_key_is_sent_but_never_shown() -> None:
    secret = "sk-test-SECRET-123456"
    with FakeOpenAIServer(api_key=secret) as server:
        llm = make(server, api_key=secret)
        assert llm.complete(REQUEST).text == "ok"
        assert server.requests[-1].headers["authorization"] == f"Bearer {secret}"
        wrong = make(server, api_key="sk-wrong-key-000000")
        with pytest.raises(LLMRequestError) as info:
            wrong.complete(REQUEST)
    assert "sk-wrong" not in str(info.value)
    assert "refused the API key from api_key= (" in str(
        info.value
    )  # load_settings(api_key=): the keyword, not the flag
    # A `Settings` made in code: where the key came from is unknown, and the setting is named beside the flag.
    from pearl.config import Settings

    coded = Settings(base_url="http://127.0.0.1:9/v1", model="m", api_key="sk-wrong-key-000000", max_retries=0)
    with FakeOpenAIServer(api_key=secret) as again, pytest.raises(LLMRequestError) as info:
        OpenAICompatibleLLM(coded.model_copy(update={"base_url": again.base_url})).complete(REQUEST)
    assert "refused the API key from api_key= / --api-key / PEARL_API_KEY (" in str(info.value)
    settings = load_settings(api_key=secret)
    assert secret not in repr(settings) and secret not in str(settings.shown())
    assert secret not in repr(llm)


def test_an_unsendable_key_is_a_config_error_not_a_unicode_error(fake_server: FakeOpenAIServer) -> None:
    # Settings refuses such a key (its model_copy too); one that skipped validation must still fail as pearl, not as
    # httpx.
    from pydantic import BaseModel

    settings = load_settings(base_url=fake_server.base_url, model="m")
    unchecked = BaseModel.model_copy(settings, update={"api_key": SecretStr("sk-\u00e9123")})
    llm = OpenAICompatibleLLM(unchecked)
    for path in ("sync", "async"):
        with pytest.raises(ConfigError, match="PEARL_API_KEY"):
            call(llm, path)
    assert not fake_server.requests


def test_connection_refused_is_clear() -> None:
    llm = OpenAICompatibleLLM(
        load_settings(base_url="http://127.0.0.1:9/v1", model="m", max_retries=1, retry_base_delay=0.01)
    )
    with pytest.raises(LLMConnectionError, match="cannot connect to http://127.0.0.1:9/v1"):
        llm.complete(REQUEST)


def test_missing_model_is_a_config_error(fake_server: FakeOpenAIServer) -> None:
    with pytest.raises(ConfigError, match="PEARL_MODEL"):
        OpenAICompatibleLLM(load_settings(base_url=fake_server.base_url))


def test_concurrency_is_limited(fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(Reply(delay=0.2, content="x"))
    llm = make(fake_server, concurrency=2)

    async def run() -> float:
        started = time.monotonic()
        await asyncio.gather(*(llm.acomplete(REQUEST) for _ in range(4)))
        return time.monotonic() - started

    elapsed = asyncio.run(run())
    assert elapsed >= 0.4  # 4 requests, 2 at a time, 0.2 s each


def test_one_model_serves_one_event_loop_after_another(fake_server: FakeOpenAIServer) -> None:
    # A script that calls `Pearl.ask` again and again runs each question in a new event loop. The
    # limit's semaphore is kept per loop, and bound to it once waited on: every old loop stayed alive.
    fake_server.set_default(Reply(delay=0.01, content="x"))
    llm = make(fake_server, concurrency=1)

    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def busy() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        await asyncio.gather(*(llm.acomplete(REQUEST) for _ in range(3)))  # the semaphore is waited on

    for _ in range(3):
        asyncio.run(busy())
    gc.collect()
    # The last loop's gate stays until the model next serves a new loop.
    assert all(loop() is None for loop in loops[:-1]), "a finished event loop is not kept alive by the model"


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_wait_for_a_free_slot_is_not_time_in_the_model(fake_server: FakeOpenAIServer, path: str) -> None:
    # Counted, three calls of 0.2 s one at a time reported 0.2, 0.4 and 0.6 s "in the model".
    fake_server.set_default(Reply(delay=0.2, content="x"))
    llm = make(fake_server, concurrency=1)

    async def run() -> list[Completion]:
        if path == "sync":
            return list(await asyncio.gather(*(asyncio.to_thread(llm.complete, REQUEST) for _ in range(3))))
        return list(await asyncio.gather(*(llm.acomplete(REQUEST) for _ in range(3))))

    began = time.perf_counter()
    latencies = [r.latency_s for r in asyncio.run(run())]
    wall = time.perf_counter() - began
    # One at a time, the calls' own seconds add up to the wall time; counting the waits doubles it
    # (0.2 + 0.4 + 0.6 over 0.6 s). A pause of the machine lands in both sides, so the ratio holds on a busy CI.
    assert min(latencies) >= 0.2
    assert sum(latencies) < 1.3 * wall, (latencies, wall)


def test_json_schema_and_grammar_are_sent(fake_server: FakeOpenAIServer) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    request = REQUEST.model_copy(update={"json_schema": schema, "grammar": 'root ::= "x"'})
    make(fake_server).complete(request)
    body = fake_server.requests[-1].json
    assert body is not None and "response_format" not in body and "grammar" not in body  # neither switched on
    make(fake_server, json_schema=True).complete(request)
    body = fake_server.requests[-1].json
    assert body is not None and body["response_format"]["json_schema"]["schema"] == schema
    assert "grammar" not in body
    make(fake_server, grammar=True).complete(request)
    body = fake_server.requests[-1].json
    assert body is not None and body["grammar"] == 'root ::= "x"' and "response_format" not in body


def test_health_check_passes_a_live_server_and_names_what_is_wrong(fake_server: FakeOpenAIServer) -> None:
    make(fake_server).check()
    with pytest.raises(LLMConnectionError, match="cannot connect"):
        OpenAICompatibleLLM(load_settings(base_url="http://127.0.0.1:9/v1", model="m", max_retries=0)).check()


def test_concurrency_bounds_every_thread_and_event_loop_together(fake_server: FakeOpenAIServer) -> None:
    # Kept per event loop, the limit let each thread running `Pearl.ask` in a loop of its own have all
    # of it: 6 threads, concurrency 2, 6 requests in flight.
    fake_server.set_default(Reply(delay=0.15, content="x"))
    llm = make(fake_server, concurrency=2)
    in_flight = most = 0
    lock = threading.Lock()

    def count(step: int) -> None:
        nonlocal in_flight, most
        with lock:
            in_flight += step
            most = max(most, in_flight)

    real_post, real_apost = OpenAICompatibleLLM._post, OpenAICompatibleLLM._apost

    def post(self: OpenAICompatibleLLM, *args: Any, **kwargs: Any) -> httpx.Response:
        count(1)
        try:
            return real_post(self, *args, **kwargs)
        finally:
            count(-1)

    async def apost(self: OpenAICompatibleLLM, *args: Any, **kwargs: Any) -> httpx.Response:
        count(1)
        try:
            return await real_apost(self, *args, **kwargs)
        finally:
            count(-1)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(OpenAICompatibleLLM, "_post", post)
        patch.setattr(OpenAICompatibleLLM, "_apost", apost)
        threads = [threading.Thread(target=asyncio.run, args=(llm.acomplete(REQUEST),)) for _ in range(6)]
        for thread in threads:
            thread.start()
        llm.complete(REQUEST)  # the blocking path shares the same slots
        for thread in threads:
            thread.join(timeout=10)
    assert len(fake_server.requests) == 7
    assert most == 2, most


def test_a_blocking_call_on_a_loops_thread_does_not_wait_for_that_loops_own_requests(
    fake_server: FakeOpenAIServer,
) -> None:
    # The slot was held by a request of the loop the blocking call froze: the wait never ended.
    fake_server.set_default(Reply(delay=0.2, content="x"))
    llm = make(fake_server, concurrency=1)

    async def main() -> list[str]:
        waiting = asyncio.ensure_future(llm.acomplete(REQUEST))
        await asyncio.sleep(0.05)  # it holds the one slot now
        blocking = llm.complete(REQUEST)
        return [blocking.text, (await waiting).text]

    finished: list[list[str]] = []
    thread = threading.Thread(target=lambda: finished.append(asyncio.run(main())), daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert finished == [["x", "x"]]


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_wait_a_rate_limit_asks_for_is_no_time_in_the_model(fake_server: FakeOpenAIServer, path: str) -> None:
    # Two 429s asking for a wait were "8.0s in the model" for a model that answered at once (helper-177).
    fake_server.enqueue(Reply.rate_limited(retry_after=0.5), Reply.rate_limited(retry_after=0.5), "recovered")
    result = call(make(fake_server), path)
    assert result.text == "recovered" and result.latency_s < 0.5
