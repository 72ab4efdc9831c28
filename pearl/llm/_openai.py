"""OpenAI-compatible chat completions over httpx: OpenAI, vLLM, Ollama, llama.cpp server, LM Studio.

Retries with exponential backoff and full jitter on 429, 5xx, 408 and 409 (as the official SDK
does), timeouts, dropped connections and garbled replies, honouring Retry-After; a bounded number
of attempts; 400/401/403/404 are not retried and say what to fix. A request the server left
unanswered for the whole `timeout`, or one a gateway before the server gave up on (504, Cloudflare's 524),
is asked again only `NO_ANSWER_RETRIES` times: a hung server fails after two timeouts, not
`max_retries + 1` (ten minutes with the defaults). The API key goes only into the Authorization
header: never into a log line, a trace or an error message; server text quoted in an error is
redacted first (a server may echo the header), and a password in the base URL is shown as `***`.

Every response body goes through the guarded JSON decoder and `read_completion`, the one
boundary where a reply's types, sizes and encodings are checked (see `pearl.llm._reply`).

A 400 saying the prompt is over the model's context (OpenAI and vLLM: "This model's maximum
context length is N tokens"; llama.cpp: "exceeds the available context size", with `n_ctx`)
is a `ContextOverflowError`. The backend then assumes a smaller window for the rest of the
process: the limit the server stated when it is below the window assumed so far, else a
quarter less. `Pearl` runs the question again once, with every prompt fitted to it.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import functools
import html
import logging
import math
import os
import random
import re
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any, cast

import httpx

from pearl._paths import config_file
from pearl._replies import JSONReplyError, read_json
from pearl._text import counted, shorten
from pearl.config import Settings, given_with, key_problem, masked_url, set_where, url_problem
from pearl.errors import (
    ConfigError,
    ContextOverflowError,
    LLMConnectionError,
    LLMError,
    LLMRequestError,
    LLMResponseError,
    LLMTimeoutError,
    RateLimitError,
    RetryableError,
    ServerError,
)
from pearl.llm._gate import Gate
from pearl.llm._reply import (
    MAX_BODY_CHARS,
    RETRIED_NOTE,
    Redactor,
    cached_tokens,
    failed_billed_note,
    prompt_tokens,
    read_completion,
)
from pearl.models import Completion, CompletionRequest

__all__ = ["OpenAICompatibleLLM"]

log = logging.getLogger("pearl.llm")


class _Adapted(LLMError):
    """The model refused a parameter that it takes in another form, which the next request uses (`_adapt`)."""


_UNSUPPORTED = re.compile(r"unsupported|not supported|does not support|only the default", re.IGNORECASE)


def _no_quota(response: httpx.Response) -> bool:
    """Whether a 429 says the account's quota is spent (OpenAI's `insufficient_quota`): no wait brings it back."""
    _, error = _error_body(response)
    said = f"{error.get('type', '')} {error.get('code', '')}"
    return "insufficient_quota" in said or "insufficient_quota" in response.text[:2000]


def _retry_after(headers: httpx.Headers) -> float | None:
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:  # an HTTP date; anything else ("soon", "30s") says nothing usable: the usual backoff then
        parsed = email.utils.parsedate_to_datetime(raw)
    except (ValueError, TypeError, IndexError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


# What servers say when the prompt is over the model's context, and where they state the limit.
# (llama.cpp: "Context size has been exceeded.", sent as a 500 too; LM Studio: "... when context the overflows.
# However, the model is loaded with context length of only 4096 tokens"; TGI: "`inputs` tokens + `max_new_tokens`
# must be <= 4096".)
_OVERFLOW = re.compile(
    r"maximum context length|context_length_exceeded|context length exceeded|exceeds? (?:the )?available context"
    r"|exceed_context_size|exceeds? (?:the )?context window|maximum model length|max_model_len|prompt is too long"
    r"|context size has been exceeded|context (?:the )?overflows|context length of only \d+"
    r"|tokens \+ `?max_new_tokens`? must be <=",
    re.IGNORECASE,
)
_STATED_LIMIT = re.compile(
    r"maximum context length is (\d+)|available context size \((\d+) tokens\)|context window of (\d+)"
    r"|maximum model length (?:of |is )?(\d+)|context length of only (\d+)|max_new_tokens`? must be <= (\d+)",
    re.IGNORECASE,
)


def _error_body(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """The error message a server sent (raw, not yet redacted) and its error object, if any."""
    try:
        body = read_json(response.text, MAX_BODY_CHARS)
    except JSONReplyError:
        return response.text, {}
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        return str(error.get("message") or error.get("detail") or error), error
    return str(error), {}


_BLOCK = re.compile(r"<(script|style|title)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")  # no "<" inside: each character is scanned once, whatever the page
_PAGE_CHARS = 100_000  # enough of an error page to find its title in
_DAY = 86_400.0  # seconds: a Retry-After longer than this is not offered as a retry_max_delay to set
_CONNECT_SECONDS = 10.0  # the most a connection may take to open (half of `timeout` at most)
NO_ANSWER_RETRIES = 1
"""Retries of a request that had no answer within `timeout`, or whose gateway gave up waiting for one
(`GATEWAY_TIMEOUTS`; a 408 is an answer, retried as a 5xx is): once, for a server that was busy; a
second silence is a hung or overloaded server, and each retry would cost the whole timeout again
(and give a busy server more of the same work)."""
_RETRY_SAID = 10.0
"""Seconds between two retries said on stderr (`_retries_unsaid`)."""
GATEWAY_TIMEOUTS = frozenset({504, 524})
"""Statuses of a gateway (a proxy; Cloudflare's 524) that gave up waiting for the server behind it: the attempt had
no answer, as one `timeout` ended here had none."""


def _unanswered(exc: BaseException) -> bool:
    """Whether `exc` is a request left unanswered for the whole timeout (not a connection refused in time)."""
    return isinstance(exc, (asyncio.TimeoutError, httpx.ReadTimeout, httpx.WriteTimeout))


class _Failed:
    """The attempts of one call that failed: why each did, and what the server billed for them.

    A reply with no answer in it (no choices, no content) is retried, but the server billed it when its usage says so:
    those tokens go into the usage of the reply that follows, or onto the error that ends the call
    (`LLMError.prompt_tokens`), so that `pearl ask`, its `--json` and an evaluation's tokens per question say what the
    call cost. Dropped, a server that answered blank twice then well was billed 3,000 prompt tokens and pearl said
    1,000, and five replies without choices cost nothing.
    """

    def __init__(self) -> None:
        self.why: list[str] = []
        self.prompt_tokens = self.completion_tokens = self.cached_prompt_tokens = 0

    def billed(self, error: LLMError, body: object) -> None:
        """Count what the reply `body`, refused with `error`, was billed: `error.prompt_tokens` and
        `completion_tokens` (`read_completion` sets them), and the part of its prompt its usage says came from the
        server's prefix cache, so that a retried call's uncached tokens are not overstated."""
        self.prompt_tokens += error.prompt_tokens
        self.completion_tokens += error.completion_tokens
        self.cached_prompt_tokens += cached_tokens(body, error.prompt_tokens)

    def charged(self, error: LLMError) -> LLMError:
        """`error` with what every failed attempt so far was billed, its own included: what the call cost, should
        `error` end it."""
        error.prompt_tokens, error.completion_tokens = self.prompt_tokens, self.completion_tokens
        error.cached_prompt_tokens = self.cached_prompt_tokens
        return error

    def before(self, completion: Completion) -> Completion:
        """`completion` with the attempts that failed before it: what they were billed added to its usage, and noted
        (`failed_billed_note`: a cached copy leaves it out), and why each failed (a trace said "3 attempts", never
        why)."""
        if not self.why:
            return completion
        why = "; ".join(f"{n}: {shorten(reason, 160)}" for n, reason in enumerate(self.why, start=1))
        notes = [*completion.notes, f"{RETRIED_NOTE}{why}"]
        if not (self.prompt_tokens or self.completion_tokens):
            return completion.model_copy(update={"notes": notes})
        notes.append(failed_billed_note(self.prompt_tokens, self.completion_tokens, self.cached_prompt_tokens))
        return completion.model_copy(
            update={
                "prompt_tokens": completion.prompt_tokens + self.prompt_tokens,
                "completion_tokens": completion.completion_tokens + self.completion_tokens,
                "cached_prompt_tokens": completion.cached_prompt_tokens + self.cached_prompt_tokens,
                "retried_prompt_tokens": self.prompt_tokens,
                "retried_completion_tokens": self.completion_tokens,
                "retried_cached_prompt_tokens": self.cached_prompt_tokens,
                "notes": notes,
            }
        )


def _page_line(page: str) -> str:
    """An HTML page's title, else its text without scripts and styles: found with `find`, in one
    pass (a lazy `<script.*?</script>` rescanned the rest of the page for each unclosed tag: 16 s
    for a hostile 100 KB page, at every retry)."""
    lower = page.lower()
    kept: list[str] = []
    at = 0
    for block in _BLOCK.finditer(lower):
        if block.start() < at:
            continue
        opened = lower.find(">", block.end())
        closed = lower.find(f"</{block.group(1).lower()}", opened) if opened >= 0 else -1
        if block.group(1).lower() == "title" and closed >= 0:
            return page[opened + 1 : closed]
        kept.append(page[at : block.start()])
        if closed < 0:  # unclosed: what follows is its content
            at = len(page)
            break
        end = lower.find(">", closed)
        at = len(page) if end < 0 else end + 1
    kept.append(page[at:])
    return _TAG.sub(" ", "".join(kept))


def _one_line(message: str) -> str:
    """A server's error message as one line: an HTML page (a proxy's 502, a gateway's timeout) by its
    title, else its text; a multi-line message (a validation error) with its lines joined."""
    if message.lstrip()[:1] == "<":
        message = html.unescape(_page_line(message[:_PAGE_CHARS]))
    return " ".join(message.split())


def _stated_limit(message: str, error: dict[str, Any]) -> int | None:
    n_ctx = error.get("n_ctx")  # llama.cpp's exceed_context_size_error
    if isinstance(n_ctx, int) and not isinstance(n_ctx, bool) and 0 < n_ctx < 10**8:
        return n_ctx
    match = _STATED_LIMIT.search(message)
    return int(next(g for g in match.groups() if g)) if match else None


@functools.lru_cache(maxsize=4)
def _tls(cert_file: str, cert_dir: str) -> ssl.SSLContext:
    """The TLS settings httpx makes for a client by default (certifi's certificates, or those `SSL_CERT_FILE` or
    `SSL_CERT_DIR` name), made once for each value of those two variables, which the arguments are (httpx reads
    them itself): loading the certificates takes tens of milliseconds, on the event loop when made for each call's
    client."""
    return httpx.create_ssl_context(trust_env=True)


def _bad_url(exc: BaseException) -> bool:
    """Whether `exc` is httpx or the socket refusing the base URL itself, which no retry mends.

    httpx refuses a port that is no number when the client is made (`InvalidURL`) and a scheme
    other than http(s) when it sends (`UnsupportedProtocol`); under asyncio, a port over 65535
    reaches the socket, whose `OverflowError` anyio raises inside an exception group.
    """
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return True
    if isinstance(exc, OverflowError):
        return "port" in str(exc)
    inner = getattr(exc, "exceptions", None)  # an exception group: the built-in one, or 3.10's backport
    return isinstance(inner, tuple) and bool(inner) and all(_bad_url(e) for e in inner)


class _Deadline(httpx.SyncByteStream):
    """A response body that must have arrived by `deadline` (`time.monotonic()`), or a `ReadTimeout`.

    httpx's read timeout starts again with every byte: a server that sends one byte a second never
    reaches it, and a request took as long as the server liked, whatever `timeout` said.
    """

    def __init__(self, inner: httpx.SyncByteStream, deadline: float, request: httpx.Request) -> None:
        self._inner = inner
        self._deadline = deadline
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if time.monotonic() > self._deadline:
                raise httpx.ReadTimeout("the response did not arrive in time", request=self._request)
            yield chunk

    def close(self) -> None:
        self._inner.close()


MAX_BODY_BYTES = MAX_BODY_CHARS
"""The most of a response body read (decoded), in bytes: past it the reply is refused as it arrives. Read whole and
checked after, a server's 2 GB body took 6 GB of memory, once per retry."""


class _Body:
    """A response body read chunk by chunk, refused (`too_long(response, announced)`) once it passes
    `MAX_BODY_BYTES`, or at once when its Content-Length says it will."""

    def __init__(self, too_long: Callable[[httpx.Response, int | None], Exception], response: httpx.Response) -> None:
        self._too_long = too_long
        self._response = response
        self._chunks: list[bytes] = []
        self._size = 0
        try:
            announced = int(response.headers.get("content-length", ""))
        except ValueError:
            return
        if announced > MAX_BODY_BYTES:  # what is sent: refused before a byte of it is read
            raise too_long(response, announced)

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > MAX_BODY_BYTES:
            raise self._too_long(self._response, None)
        self._chunks.append(chunk)

    def response(self) -> httpx.Response:
        """The response with the body read (decoded: its encoding headers dropped), as `client.post` returns one."""
        # As sent (bytes): a value outside ASCII ("X-Served-By: café-proxy") would not encode again as a str.
        drop = (b"content-encoding", b"content-length", b"transfer-encoding")
        headers = [(k, v) for k, v in self._response.headers.raw if k.lower() not in drop]
        return httpx.Response(
            self._response.status_code,
            headers=headers,
            content=b"".join(self._chunks),
            request=self._response.request,
            extensions=self._response.extensions,
        )


def _secrets(settings: Settings) -> list[str]:
    found = [settings.api_key.get_secret_value()] if settings.api_key is not None else []
    try:
        parts = urllib.parse.urlsplit(settings.base_url or "")
        user, password = parts.username or "", parts.password or ""
    except ValueError:  # httpx will refuse the URL with its own message
        return found
    if user or password:
        # The URL's credentials, as written, decoded, and as httpx sends them (a Basic header).
        plain = (urllib.parse.unquote(user), urllib.parse.unquote(password))
        found += [password or user, urllib.parse.unquote(password or user)]
        found.append(base64.b64encode(":".join(plain).encode()).decode())
    return [s for s in found if s]


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error under a failed connection (httpx wraps it twice), if that is what failed."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLError):
            return seen
        found = next((arg for arg in seen.args if isinstance(arg, ssl.SSLError)), None)
        if found is not None:
            return found
        seen = seen.__cause__ or seen.__context__
    return None


def _tls_advice(url: str, error: ssl.SSLError) -> str:
    """What a TLS failure connecting to `url` means, and what to do: it fails the same way however often tried."""
    reason = getattr(error, "reason", None) or type(error).__name__
    said = shorten(" ".join(str(error).split()), 160)
    if reason == "CERTIFICATE_VERIFY_FAILED" or isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"{url}: the server's certificate is not trusted ({said}); for a server of your own with a self-signed "
            "certificate, point SSL_CERT_FILE at its certificate (or its CA's), which must name the host"
        )
    if reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE"):
        return f"{url}: the server does not speak HTTPS ({said}); if it serves plain HTTP, use http:// in the base URL"
    return f"{url}: the TLS handshake failed ({said})"


class OpenAICompatibleLLM:
    """Chat completions from any OpenAI-compatible server.

    Args:
        settings: resolved settings; `base_url` and `model` are required.
        transport: an httpx transport to use instead of the network (for tests).
    """

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> None:
        if not settings.base_url:
            raise ConfigError(
                "no base URL: pass --base-url (base_url= in Python) or set PEARL_BASE_URL (e.g. http://localhost:8000/v1)"
            )
        if not settings.model:
            raise ConfigError(
                f"no model for {masked_url(settings.base_url)}: pass --model (model= in Python) or set PEARL_MODEL "
                "(`curl <base-url>/models` lists what the server offers)"
            )
        self._settings = settings
        self._base_url = settings.base_url.rstrip("/")
        self._shown_url = masked_url(self._base_url)  # what messages name: never a password
        # Settings check the URL; kept for settings made without that check (`model_copy`), whose
        # port over 65535 the blocking client meets only as "cannot connect".
        self._url_problem = url_problem(self._base_url)
        self._redact = Redactor(_secrets(settings))
        self._window = settings.window
        self._model = settings.model
        self._transport = transport
        # What a model that refuses the usual parameters takes instead, learnt from its first refusal (`_adapt`):
        # OpenAI's reasoning models (o1, o3, gpt-5) want max_completion_tokens, and only their default temperature.
        self._reply_field = "max_tokens"
        self._temperature = True
        # `concurrency` requests at most, from every thread and event loop together, first come first served.
        self._gate = Gate(settings.concurrency)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._retry_said = -math.inf  # when a retry was last said (`_retries_unsaid`)...
        self._retry_unsaid = 0  # ...and how many since went unsaid

    # -- the LLM protocol -------------------------------------------------------------
    @property
    def backend(self) -> str:
        return "openai"

    @property
    def model(self) -> str:
        return self._model

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def context_window(self) -> int:
        """The window prompts are fitted to: the setting, lowered when the server refused a prompt as too long."""
        return self._window

    @property
    def supports_grammar(self) -> bool:
        return self._settings.grammar

    @property
    def supports_json_schema(self) -> bool:
        return self._settings.json_schema

    @property
    def is_demo(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"OpenAICompatibleLLM(base_url={self._shown_url!r}, model={self._model!r})"

    def check(self) -> None:
        """One `GET /models`: fails on an unreachable server or a refused key, passes on anything else.

        Servers that do not list models (404) or answer it oddly are given the benefit of the doubt;
        the first real request will say what is wrong.
        """
        try:
            response = self._send("GET", "/models")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._transport_error(exc) from None
        except LLMResponseError:  # a body past the cap: the first real request will say so
            return
        if response.status_code in (401, 403):
            self._parse(response, time.perf_counter(), 1, 0, self._window)

    def complete(self, request: CompletionRequest) -> Completion:
        payload = self._payload(request)
        window = self._window
        attempt = silent = 0  # attempts made / of them, left without an answer for the whole timeout
        failed = _Failed()  # why each attempt before the last was retried, and what they were billed
        with self._gate.slot():
            started = time.perf_counter()  # a wait for the gate (`concurrency`) is not time in the model
            while True:
                attempt += 1
                status = 0  # this attempt's, once it has one
                try:
                    response = self._post(payload)
                    status = response.status_code
                    completion = self._parse(
                        response, started, attempt, request.max_tokens, window, request, payload, failed
                    )
                    return failed.before(completion)
                except _Adapted:
                    payload = self._payload(request)  # sent again at once, as the model takes it
                    continue
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    error: LLMError = self._transport_error(exc)
                    silent += _unanswered(exc)
                except LLMError as exc:
                    error = exc
                    silent += status in GATEWAY_TIMEOUTS
                delay = self._next_delay(failed.charged(error), attempt, silent)
                time.sleep(delay)
                started += delay  # a wait before a retry (a rate limit's Retry-After) is no time in the model either
                failed.why.append(str(error))

    async def acomplete(self, request: CompletionRequest) -> Completion:
        payload = self._payload(request)
        window = self._window
        attempt = silent = 0
        failed = _Failed()
        async with self._gate.aslot():
            try:
                client = self._async_client()
            except httpx.InvalidURL as exc:
                raise self._transport_error(exc) from None
            async with client:
                started = time.perf_counter()  # a wait for the gate (`concurrency`) is not time in the model
                while True:
                    attempt += 1
                    status = 0  # this attempt's, once it has one
                    try:
                        # The whole attempt, not each read: httpx's read timeout starts again with every
                        # byte, so a server sending one byte a second was never timed out.
                        response = await asyncio.wait_for(self._apost(client, payload), self._settings.timeout)
                        status = response.status_code
                        completion = self._parse(
                            response, started, attempt, request.max_tokens, window, request, payload, failed
                        )
                        return failed.before(completion)
                    except _Adapted:
                        payload = self._payload(request)  # sent again at once, as the model takes it
                        continue
                    except asyncio.TimeoutError:
                        error: LLMError = self._timed_out()
                        silent += 1
                    except httpx.HTTPError as exc:
                        error = self._transport_error(exc)
                        silent += _unanswered(exc)
                    except LLMError as exc:
                        error = exc
                        silent += status in GATEWAY_TIMEOUTS
                    except Exception as exc:
                        if not _bad_url(exc):
                            raise
                        error = self._transport_error(exc)
                    delay = self._next_delay(failed.charged(error), attempt, silent)
                    await asyncio.sleep(delay)
                    started += delay  # a wait before a retry (a rate limit's Retry-After) is no time in the model
                    failed.why.append(str(error))

    def close(self) -> None:
        """Close the pooled connection."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- helpers ----------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": "pearl-qa"}
        if self._settings.api_key is not None:
            key = self._settings.api_key.get_secret_value()
            problem = key_problem(key)  # Settings checks it; one built with model_construct is not checked
            if problem:
                source = self._where_set("api_key", "--api-key", "PEARL_API_KEY")
                raise ConfigError(f"the API key from {source} cannot be sent: {problem}; copy the key again")
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self._settings.timeout, connect=self._connect_seconds)

    @property
    def _connect_seconds(self) -> float:
        """The most a connection may take to open: well inside an attempt's deadline, which would otherwise
        fire first and count a server that never accepted the connection as one that never answered."""
        return min(_CONNECT_SECONDS, self._settings.timeout / 2)

    def _post(self, payload: dict[str, Any]) -> httpx.Response:
        """One blocking attempt, its body read by `timeout` seconds after it was sent.

        A blocking read cannot be cut short from here, so the deadline is checked as the body
        arrives: a body still coming is stopped at its first byte after the deadline, a server
        silent at the deadline by httpx's read timeout (at most twice `timeout` in all). The status
        line and headers are bounded by the read timeout alone; `acomplete`, which `Pearl` uses,
        bounds the whole attempt.
        """
        return self._send("POST", "/chat/completions", payload)

    def _send(self, method: str, path: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        """`_post`'s blocking attempt for any request (`check`'s GET /models too), its body read within the cap."""
        deadline = time.monotonic() + self._settings.timeout
        with self._sync_client().stream(method, path, json=payload) as response:
            response.stream = _Deadline(cast("httpx.SyncByteStream", response.stream), deadline, response.request)
            body = _Body(self._too_long, response)
            for chunk in response.iter_bytes():
                body.add(chunk)
        return body.response()

    async def _apost(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
        """One attempt, its body read as it comes and refused past `MAX_BODY_BYTES` (see `_Body`)."""
        async with client.stream("POST", "/chat/completions", json=payload) as response:
            body = _Body(self._too_long, response)
            async for chunk in response.aiter_bytes():
                body.add(chunk)
        return body.response()

    def _too_long(self, response: httpx.Response, announced: int | None) -> LLMResponseError:
        said = f" (its Content-Length says {announced:,})" if announced is not None else ""
        return LLMResponseError(
            f"{self._shown_url}/chat/completions answered {response.status_code} with a body over "
            f"{MAX_BODY_BYTES:,} bytes{said}, which no chat completion needs: is "
            f"{self._where_set('base_url', '--base-url', 'PEARL_BASE_URL')} an OpenAI-compatible API?"
        )

    def _sync_client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self._base_url, headers=self._headers(), timeout=self._timeout(), transport=self._transport
                )
            return self._client

    def _async_client(self) -> httpx.AsyncClient:
        # One client per call: an AsyncClient is bound to the event loop that first uses it. Its TLS settings
        # are made once (`_tls`): made for each client, they held the event loop some 70 ms a call.
        transport = self._transport if isinstance(self._transport, httpx.AsyncBaseTransport) else None
        return httpx.AsyncClient(
            base_url=self._base_url,
            headers=self._headers(),
            timeout=self._timeout(),
            transport=transport,
            verify=_tls(os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", "")),
        )

    def _payload(self, request: CompletionRequest) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self._model,
            "messages": [m.model_dump() for m in request.messages],
            self._reply_field: request.max_tokens,
        }
        if self._temperature:
            payload["temperature"] = request.temperature
        if request.stop:
            payload["stop"] = request.stop
        if request.grammar and self.supports_grammar:
            payload["grammar"] = request.grammar  # llama.cpp server's extension
        elif request.json_schema is not None and self.supports_json_schema:
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": request.json_schema, "strict": False},
            }
        return payload

    def _where_set(self, name: str, option: str, variable: str) -> str:
        """Where setting `name` came from, as the thing to change: `base_url=` (a keyword of `load_settings`),
        `--base-url` (a command's flag), `PEARL_BASE_URL`, the file."""
        kind, where = set_where(self._settings, name)
        if kind == "argument":
            return f"{name}="
        if kind in ("flag", "env"):
            return where
        if kind == "file":
            return f"{name} in {where}"
        return f"{name}= / {option} / {variable}"  # a `Settings` made in code: its source unknown

    def _refused_key(self, status: int, said: str) -> str:
        """What a 401/403 refused and what to do, by where the key came from: "pass --api-key" is wrong
        advice when the key refused came from --api-key, or from a variable (a key was given), and to a
        caller in Python, who passes api_key=."""
        refused = f"({status}: {said})" if said else f"({status})"
        given = set_where(self._settings, "api_key")[0] in ("argument", "flag")
        option = given_with(self._settings, "api_key")  # --api-key to a command, api_key= in Python
        if self._settings.api_key is None:
            if given:  # --api-key "" (or api_key="") sends none, whatever is set
                where = self._where_set("api_key", "--api-key", "PEARL_API_KEY")
                return f"the request without an API key {refused}: {where} was given empty, which sends none"
            named = [name for name in ("PEARL_API_KEY", "OPENAI_API_KEY") if os.environ.get(name)]
            if named and not self._settings.sources:  # `Settings(...)` made in code reads no environment
                return (
                    f"the request without an API key {refused}: {named[0]} is set, but these settings were made as "
                    "Settings(...), which reads neither the environment nor the config file; make them with "
                    "load_settings(...) to use it, or pass api_key="
                )
            return f"the request without an API key {refused}: set PEARL_API_KEY (or OPENAI_API_KEY) or pass {option}"
        source = self._where_set("api_key", "--api-key", "PEARL_API_KEY")
        if given:
            passed = "as" if source == "api_key=" else "with"
            fix = f"check the key passed {passed} {source} (it overrides PEARL_API_KEY and the config file)"
        elif source == "OPENAI_API_KEY":
            fix = (
                "it may be for another server; set PEARL_API_KEY to this server's key (it wins over OPENAI_API_KEY), "
                f"or pass that key with {option}"
            )
        elif source == "PEARL_API_KEY":
            fix = f"set PEARL_API_KEY to a key this server accepts, or pass one with {option}, which overrides it"
        elif source.startswith("api_key in "):
            fix = f"fix it there, or override it with PEARL_API_KEY or {option}"
        else:
            fix = "check the key"
        if status == 403:  # a key the server knows may still not be allowed this model
            fix += f"; or the key may not use model {self._model!r} (--model / PEARL_MODEL)"
        return f"the API key from {source} {refused}: {fix}"

    def _timed_out(self) -> LLMTimeoutError:
        return LLMTimeoutError(
            f"no answer from {self._shown_url} within {self._settings.timeout:g}s; "
            "raise timeout (--timeout / PEARL_TIMEOUT) if the model is slow"
        )

    def _transport_error(self, exc: Exception) -> LLMError:
        """The error a failed request is reported as: `exc` is an `httpx.HTTPError`, or `_bad_url`."""
        url = self._shown_url
        if _bad_url(exc) or (isinstance(exc, httpx.ConnectError) and self._url_problem):
            problem = self._url_problem or self._redact(str(exc) or type(exc).__name__, 120)
            return LLMRequestError(
                f"{url} is not a base URL pearl can call ({problem}); "
                "set --base-url / PEARL_BASE_URL like http://localhost:8080/v1"
            )
        if isinstance(exc, httpx.ConnectTimeout):  # no connection made: not the model's time, retried as such
            return LLMConnectionError(
                f"no connection to {url} within {self._connect_seconds:g}s: is the server running?"
            )
        if isinstance(exc, httpx.TimeoutException):
            return self._timed_out()
        if isinstance(exc, httpx.ConnectError) and (tls := _tls_failure(exc)) is not None:
            # Said as "is the server running?" and retried 5 times, though no retry can pass (helper-168).
            return LLMRequestError(_tls_advice(url, tls))
        if isinstance(exc, httpx.ConnectError):
            where = self._where_set("base_url", "--base-url", "PEARL_BASE_URL")
            return LLMConnectionError(f"cannot connect to {url}: is the server running, and is {where} right?")
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.NetworkError)):
            return LLMConnectionError(f"the connection to {url} was dropped ({type(exc).__name__})")
        return LLMConnectionError(f"request to {url} failed ({type(exc).__name__})")

    def _server_message(self, response: httpx.Response, limit: int = 300) -> tuple[str, dict[str, Any]]:
        """The server's error message, redacted and cut to `limit` characters (a cut marked): the one place an error
        quotes what a server said."""
        message, error = _error_body(response)
        return self._redact(_one_line(message), limit), error

    def _overflow(self, message: str, error: dict[str, Any], status: int, sent_window: int) -> ContextOverflowError:
        """Lower the window prompts are fitted to (once per window: concurrent refusals of one size count once)."""
        limit = _stated_limit(message, error)
        with self._lock:
            if self._window == sent_window:
                lowered = limit if limit is not None and limit < sent_window else int(sent_window * 0.75)
                self._window = max(1, lowered)
            window = self._window
        stated = f"{limit:,} tokens" if limit is not None else "no limit stated"
        setting = "context_window (--context-window / PEARL_CONTEXT_WINDOW)"
        fix = (
            f"set {setting} to {min(limit, window):,} or less"
            if limit is not None
            else f"set {setting} to the model's context length (its model card says it; the server did not)"
        )
        return ContextOverflowError(
            f"{self._shown_url}/chat/completions refused the prompt as longer than the model's context ({status}: "
            f"{message}; {stated}). The window is now taken as {window:,} tokens (it was {sent_window:,}); if this "
            f"persists, {fix}",
            status_code=status,
            limit=limit,
            window=window,
        )

    def _adapt(self, message: str, error: dict[str, Any], sent: dict[str, Any] | None) -> None:
        """Raise `_Adapted` when the model refused a parameter the request `sent` carried and takes otherwise; every
        request from then on is sent as it takes it. Judged by what this request sent, not by what the next would:
        requests in flight at the first refusal are refused too, and are sent again as well."""
        if sent is None:
            return
        param = str(error.get("param") or "")
        with self._lock:
            if (
                "max_tokens" in sent
                and "max_completion_tokens" in message
                and (param == "max_tokens" or "max_tokens" in message.replace("max_completion_tokens", ""))
            ):
                self._reply_field = "max_completion_tokens"
                raise _Adapted(message)
            refused = param == "temperature" or "'temperature'" in message
            if "temperature" in sent and refused and _UNSUPPORTED.search(message):
                self._temperature = False
                raise _Adapted(message)

    def _parse(
        self,
        response: httpx.Response,
        started: float,
        attempt: int,
        max_tokens: int,
        sent_window: int,
        request: CompletionRequest | None = None,
        sent: dict[str, Any] | None = None,
        failed: _Failed | None = None,
    ) -> Completion:
        """The completion in `response`, or the error it is; a reply refused for holding no answer is counted in
        `failed` with what it was billed."""
        status = response.status_code
        url = f"{self._shown_url}/chat/completions"
        if 300 <= status < 400:  # not followed: a POST redirected is not the same request, and the URL is to mend
            where = response.headers.get("location")
            raise LLMRequestError(
                f"{url} answered {status}, a redirect"
                + (f" to {self._redact(where, 200)}" if where else "")
                + f": give {self._where_set('base_url', '--base-url', 'PEARL_BASE_URL')} the address it redirects to"
                + (" (https, not http?)" if where and where.startswith("https:") and url.startswith("http:") else ""),
                status_code=status,
            )
        if status == 429 and _no_quota(response):
            raise LLMRequestError(
                f"{url} refused the request: the account has no quota left (429: "
                f"{self._server_message(response, 160)[0]}); add credit to it, or use another key "
                f"({self._where_set('api_key', '--api-key', 'PEARL_API_KEY')})",
                status_code=status,
            )
        if status == 429:
            raise RateLimitError(
                f"rate limited by {self._shown_url} (429): {self._server_message(response)[0]}",
                retry_after=_retry_after(response.headers),
            )
        if status >= 500:
            # A server that says the prompt is over the model's context (llama.cpp does so with a 500) means what a
            # 400 saying so means: retried as it is, it is refused the same way.
            message, error = self._server_message(response)
            if _OVERFLOW.search(f"{message} {error.get('type', '')} {error.get('code', '')}"):
                raise self._overflow(message, error, status, sent_window)
            raise ServerError(
                f"server error {status} from {url}: {message}",
                retry_after=_retry_after(response.headers),
            )
        if status == 408:  # the server (or a proxy before it) gave up waiting: as a timeout here, retried
            raise LLMTimeoutError(
                f"{url} timed out the request (408): {self._server_message(response)[0]}",
                retry_after=_retry_after(response.headers),
            )
        if status == 409:  # a conflict on the server's side (OpenAI: a lock), which a retry resolves
            raise ServerError(
                f"{url} answered 409 (conflict): {self._server_message(response)[0]}",
                retry_after=_retry_after(response.headers),
            )
        if status in (401, 403):
            raise LLMRequestError(
                f"{url} refused {self._refused_key(status, self._server_message(response, 120)[0])}",
                status_code=status,
            )
        if status == 404 and self._base_url.rstrip("/").endswith("/chat/completions"):
            where = self._where_set("base_url", "--base-url", "PEARL_BASE_URL")
            raise LLMRequestError(
                f"{url} answered 404: the base URL from {where} ends in /chat/completions, which pearl adds itself; "
                f"give it without (e.g. {self._shown_url.rstrip('/').removesuffix('/chat/completions')})",
                status_code=status,
            )
        if status == 404:
            raise LLMRequestError(
                f"{url} answered 404 ({self._server_message(response)[0]}): check "
                f"{self._where_set('base_url', '--base-url', 'PEARL_BASE_URL')} (it usually ends in /v1) and that "
                f"the server serves model {self._model!r} ({self._where_set('model', '--model', 'PEARL_MODEL')})",
                status_code=status,
            )
        if status >= 400:
            message, error = self._server_message(response)
            if _OVERFLOW.search(f"{message} {error.get('type', '')} {error.get('code', '')}"):
                raise self._overflow(message, error, status, sent_window)
            if status == 400:
                self._adapt(message, error, sent)
            raise LLMRequestError(
                f"{url} rejected the request ({status}): {message.rstrip('.')}. "
                "Check the model (--model / PEARL_MODEL) and the request parameters (where other requests pass, what "
                "this one holds: a server's content filter refuses some)",
                status_code=status,
            )
        try:
            body = read_json(response.text, MAX_BODY_CHARS)
        except JSONReplyError as exc:
            if response.text.lstrip()[:1] == "<":
                # A web page: a proxy's passing failure, retried; or a chat UI where the API should be, which a long
                # run meets question after question, and stops on as on a server that does not answer (`unanswered`).
                raise ServerError(
                    f"{url} answered {status} with a web page ({self._server_message(response, 80)[0]!r}), not the "
                    f"JSON of an OpenAI-compatible API: check "
                    f"{self._where_set('base_url', '--base-url', 'PEARL_BASE_URL')} (it usually ends in /v1)"
                ) from None
            raise LLMResponseError(
                f"{url} answered {status} with a body that is {exc.reason}: {self._redact(response.text, 80)!r}"
            ) from None
        try:
            completion = read_completion(
                body,
                source=url,
                max_tokens=max_tokens,
                model=self._model,
                backend=self.backend,
                latency_s=time.perf_counter() - started,
                attempts=attempt,
                quote=lambda value: self._redact(value, 120),
                prompt_tokens=(lambda: prompt_tokens(request)) if request is not None else None,
                sent_chars=sum(len(m.content) for m in request.messages) if request is not None else None,
            )
        except LLMError as exc:
            if failed is not None:
                failed.billed(exc, body)
            raise
        # A server that echoes the request's key in its reply (a proxy's debug output) had it kept in the answer, the
        # trace, the page and the response cache.
        text = self._redact.secrets_out(completion.text)
        if text == completion.text:
            return completion
        return completion.model_copy(
            update={"text": text, "notes": [*completion.notes, "the reply quoted the API key: taken out, shown as ***"]}
        )

    def _over_the_cap(self, hinted: float) -> str:
        """Which setting refused to wait `hinted` seconds, its value, and where to raise it (no variable sets it)."""
        cap = self._settings.retry_max_delay
        source = self._settings.sources.get("retry_max_delay", "default")
        if hinted > _DAY:  # a quota's reset date, say: no run waits that long
            return f"beyond the {cap:g}s limit of retry_max_delay ({source}); try again later"
        wanted = math.ceil(hinted)
        fix = (
            f"pass retry_max_delay={wanted}"
            if source == "argument"
            else f"set retry_max_delay = {wanted} in the [pearl] table of {config_file()}"
        )
        return f"over the {cap:g}s limit of retry_max_delay ({source}); to wait that long, {fix}"

    def _next_delay(self, error: LLMError, attempt: int, silent: int = 0) -> float:
        """Seconds to wait before the next attempt, or raise `error` when it must not be retried.

        `silent`: of the attempts so far, those the server left without an answer for the whole timeout.
        """
        retryable = isinstance(error, (RetryableError, LLMResponseError))
        hung = silent > NO_ANSWER_RETRIES
        if not retryable or hung or attempt > self._settings.max_retries:
            if retryable and attempt > 1:
                why = f", {silent} of them unanswered: the server looks hung or overloaded" if hung else ""
                error.args = (f"{error.args[0]} (gave up after {attempt} attempts{why})",)
            raise error
        cap = self._settings.retry_max_delay
        backoff = random.uniform(0, min(cap, self._settings.retry_base_delay * 2 ** (attempt - 1)))
        hinted = getattr(error, "retry_after", None)
        if hinted is not None:
            if hinted > cap:
                asked = "over a day" if hinted > _DAY else f"{hinted:.0f}s"  # not 1e308 written out in 309 digits
                error.args = (f"{error.args[0]} (server asked to wait {asked}, {self._over_the_cap(hinted)})",)
                raise error
            backoff = max(backoff, hinted)
        last = "; the last if it goes unanswered too" if silent == NO_ANSWER_RETRIES else ""
        unsaid = self._retries_unsaid()
        if unsaid is not None:
            since = f" ({counted(unsaid, 'other retry', 'other retries')} since the last said)" if unsaid else ""
            log.warning(
                "%s; retrying in %.1fs (attempt %d of at most %d%s)%s",
                error,
                backoff,
                attempt + 1,
                self._settings.max_retries + 1,
                last,
                since,
            )
        return backoff

    def _retries_unsaid(self) -> int | None:
        """None when this retry goes unsaid, else how many went unsaid before it: one is said every `_RETRY_SAID`
        seconds at most. A run against a server failing one request in three printed a warning for each, hundreds
        (helper-214); each is in its call's notes and trace all the same."""
        now = time.monotonic()
        with self._lock:
            if now - self._retry_said < _RETRY_SAID:
                self._retry_unsaid += 1
                return None
            unsaid, self._retry_said, self._retry_unsaid = self._retry_unsaid, now, 0
            return unsaid
