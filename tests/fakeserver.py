"""A scriptable fake of the OpenAI chat-completions API, for tests.

Standard library only, so end-to-end tests exercise pearl's real HTTP client (retries,
timeouts, error mapping) without an API key, a network, or a model::

    with FakeOpenAIServer(api_key="sk-test") as server:
        server.enqueue("first answer", Reply.rate_limited(retry_after=0.1), Reply(drop=True))
        server.set_default(lambda request: "yes" if "Varga" in str(request["messages"]) else "no")
        ...  # point the client at server.base_url
        assert server.requests[0].json["model"] == "fake-model"

Served routes (anything else gets a 404 with an OpenAI-style error body):

- ``POST /v1/chat/completions``: answers with the next scripted :class:`Reply` (FIFO), or
  the default when the queue is empty; ``"stream": true`` is answered as server-sent events.
- ``GET /v1/models``: ``fake-model`` plus every model name a request has used.

The server speaks HTTP/1.1 with keep-alive, like the real API, so a client's connection
pool is exercised too; :meth:`FakeOpenAIServer.stop` cuts open connections so it returns
promptly even while a delayed reply is pending.

It also runs on its own, for trying pearl by hand against a hostile server
(``python tests/fakeserver.py --help``)::

    python tests/fakeserver.py --port 8765 --reply B              # every completion says "B"
    python tests/fakeserver.py --port 8765 --body-file reply.json # this raw body, whatever is asked
    python tests/fakeserver.py --port 8765 --echo-auth            # 400 quoting the Authorization header
    python tests/fakeserver.py --port 8765 --context-limit 2000   # vLLM's 400 for prompts over 2,000 tokens
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import logging
import socket
import socketserver
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, cast

__all__ = [
    "DEFAULT_MODEL",
    "DefaultReply",
    "FakeOpenAIServer",
    "RecordedRequest",
    "Reply",
    "fake_server_fixture",
]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "fake-model"

# OpenAI's `error.type` / `error.code` for the statuses tests usually inject, so a client's
# error mapping is checked against realistic bodies rather than against our own guesses.
_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "unknown_url"),
    405: ("invalid_request_error", None),
    408: ("timeout", None),
    409: ("invalid_request_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


def _error_body(status: int, message: str, error_type: str | None = None, code: str | None = None) -> str:
    default_type, default_code = _ERROR_KINDS.get(status, ("server_error" if status >= 500 else "api_error", None))
    error = {
        "message": message,
        "type": error_type or default_type,
        "param": None,
        "code": code if code is not None else default_code,
    }
    return json.dumps({"error": error})


@dataclass
class Reply:
    """One scripted response of the fake server.

    Attributes:
        content: the assistant message of a normal completion.
        status: HTTP status; a non-2xx status without ``body`` gets a generic OpenAI-style error body.
        headers: extra response headers (they override the server's own, e.g. ``Content-Type``).
        body: raw body sent instead of a completion, e.g. ``"not json"`` or ``'{"choices": []}'``.
        delay: seconds to wait before answering, to make a client time out.
        drop: close the connection without sending anything, as a reset connection would.
        usage: the ``usage`` object; by default counts roughly 4 characters per token.
        finish_reason: ``choices[0].finish_reason``, e.g. ``"length"`` for a truncated answer.
        echo_authorization: answer ``status`` (400 unless set) with an error message that quotes
            the request's ``Authorization`` header, as a careless proxy might.
    """

    content: str = "ok"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | bytes | None = None
    delay: float = 0.0
    drop: bool = False
    usage: dict[str, int] | None = None
    finish_reason: str = "stop"
    echo_authorization: bool = False

    @classmethod
    def error(
        cls,
        status: int,
        message: str,
        retry_after: float | None = None,
        *,
        error_type: str | None = None,
        code: str | None = None,
    ) -> Reply:
        """An OpenAI-style error: ``{"error": {"message", "type", "param", "code"}}``.

        Args:
            status: HTTP status, e.g. 400, 401, 429, 500, 503.
            message: ``error.message``.
            retry_after: seconds, sent as ``Retry-After`` (and ``retry-after-ms``, which the
                official SDK prefers) when given.
            error_type: ``error.type``; by default what OpenAI uses for that status.
            code: ``error.code``; by default what OpenAI uses for that status.
        """
        headers = {"Content-Type": "application/json"}
        if retry_after is not None:
            # `:g` keeps whole seconds integral ("2"), as RFC 9110 expects, while still
            # allowing the sub-second waits that keep retry tests fast ("0.05").
            headers["Retry-After"] = f"{retry_after:g}"
            headers["retry-after-ms"] = str(round(retry_after * 1000))
        return cls(status=status, headers=headers, body=_error_body(status, message, error_type, code))

    @classmethod
    def rate_limited(cls, retry_after: float | None = 1.0, message: str | None = None) -> Reply:
        """A 429 as OpenAI sends it when a rate limit is hit."""
        text = message or "Rate limit reached for fake-model on requests per min (RPM): Limit 3, Used 3, Requested 1."
        return cls.error(429, text, retry_after)


DefaultReply = Reply | str | Callable[[dict[str, Any]], Reply | str]
"""What :meth:`FakeOpenAIServer.set_default` accepts (besides ``None``)."""


@dataclass
class RecordedRequest:
    """One request as the fake server received it.

    Attributes:
        method: ``"GET"``, ``"POST"``...
        path: the path without the query string, e.g. ``"/v1/chat/completions"``.
        headers: header names lower-cased; repeated headers joined with ``", "``.
        json: the parsed JSON body, or None when the body is empty or not JSON.
        body: the raw body.
    """

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    body: bytes

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat ``messages`` of the request (empty when there are none)."""
        if isinstance(self.json, dict) and isinstance(self.json.get("messages"), list):
            return cast("list[dict[str, Any]]", self.json["messages"])
        return []

    @property
    def prompt(self) -> str:
        """All message text joined with blank lines, handy for ``assert "..." in request.prompt``."""
        return "\n\n".join(_message_text(message) for message in self.messages)


def _message_text(message: Any) -> str:
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multi-part content: [{"type": "text", "text": ...}, ...]
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _default_usage(request: dict[str, Any], content: str) -> dict[str, int]:
    messages = request.get("messages")
    prompt_chars = sum(len(_message_text(m)) for m in messages) if isinstance(messages, list) else 0
    prompt_tokens = prompt_chars // 4
    completion_tokens = len(content) // 4 + 1
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _phrase(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _merge_headers(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    # Header names are case-insensitive: a test's "content-type" must replace our
    # "Content-Type" rather than produce two conflicting headers.
    overridden = {name.lower() for name in extra}
    return {**{k: v for k, v in base.items() if k.lower() not in overridden}, **extra}


class _HTTPServer(ThreadingHTTPServer):
    # Daemon threads: a handler stuck in a delayed reply or an idle keep-alive read must
    # never keep the test process alive or make stop() wait.
    daemon_threads = True
    fake: FakeOpenAIServer

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can
        # take seconds on a machine without network; the name is never needed here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or hang up are routine in these tests; stay quiet about them.
        logger.debug("fake server: error while serving %s", client_address, exc_info=True)


class _Dropped(Exception):
    """Raised inside a handler to abandon the connection without answering."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    # -- connection bookkeeping, so stop() can cut connections that are open -----------

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's
        # algorithm meets the client's delayed ACK and every keep-alive reply costs ~40 ms.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes every request to stderr, which drowns pytest output.
        logger.debug("fake server: " + format, *args)

    # -- dispatch -----------------------------------------------------------------------

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.server.fake
        try:
            request = self._record()
            self._route(fake, request)
        except _Dropped:
            self._drop()
        except OSError:
            # The client went away (timeout, reset) or stop() cut the socket.
            self.close_connection = True
        except Exception:
            # A bug in the fake: answer 500 so the test sees it instead of a mystery hang.
            logger.exception("fake server: unexpected error")
            with contextlib.suppress(OSError):
                self._send_json(500, _error_body(500, "fake server crashed; see the test log"))

    def _record(self) -> RecordedRequest:
        raw = self._read_body()
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        parsed: Any = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        request = RecordedRequest(
            method=self.command, path=self.path.split("?", 1)[0], headers=headers, json=parsed, body=raw
        )
        self.server.fake._log(request)
        return request

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # Skip optional trailers up to the blank line that ends the body.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _route(self, fake: FakeOpenAIServer, request: RecordedRequest) -> None:
        routes = {"/v1/chat/completions": "POST", "/v1/models": "GET"}
        path = request.path.rstrip("/")
        if path not in routes:
            self._send_json(404, _error_body(404, f"Invalid URL ({request.method} {request.path})"))
            return
        if request.method != routes[path]:
            self._send_json(405, _error_body(405, f"Method {request.method} not allowed for {request.path}"))
            return
        if not fake._authorized(request):
            message = "You didn't provide a valid API key. Pass it as 'Authorization: Bearer <key>'."
            self._send_json(401, _error_body(401, message))
            return
        if path == "/v1/models":
            self._send_json(200, json.dumps(fake._models_payload()))
        else:
            self._chat_completion(fake, request)

    # -- chat completions ---------------------------------------------------------------

    def _chat_completion(self, fake: FakeOpenAIServer, request: RecordedRequest) -> None:
        body = request.json
        if not isinstance(body, dict):
            problem = "the body is not JSON" if body is None else "the body must be a JSON object"
            self._send_json(400, _error_body(400, f"We could not parse the JSON body of your request: {problem}."))
            return
        # Validate before consuming a scripted reply, so a malformed request from the
        # client under test fails loudly instead of silently eating the next reply.
        if not isinstance(body.get("model"), str) or not body["model"]:
            self._send_json(400, _error_body(400, "you must provide a model parameter"))
            return
        if not isinstance(body.get("messages"), list):
            self._send_json(400, _error_body(400, "'messages' is a required property"))
            return
        fake._seen_model(body["model"])

        reply = fake._next_reply(body)
        if reply.delay > 0 and fake._stopping.wait(reply.delay):
            raise _Dropped  # stop() was called while waiting: do not answer any more
        if reply.drop:
            raise _Dropped
        if reply.echo_authorization:
            status = reply.status if reply.status >= 400 else 400
            message = f"invalid request; headers were Authorization: {request.headers.get('authorization', '')}"
            self._send(status, _error_body(status, message), reply.headers)
        elif reply.body is not None:
            self._send(reply.status, reply.body, reply.headers)
        elif not 200 <= reply.status < 300:
            self._send(reply.status, _error_body(reply.status, f"fake {_phrase(reply.status)}"), reply.headers)
        elif body.get("stream") is True:
            self._stream(fake, body, reply)
        else:
            self._send(reply.status, json.dumps(fake._completion(body, reply)), reply.headers)

    def _stream(self, fake: FakeOpenAIServer, request: dict[str, Any], reply: Reply) -> None:
        completion_id, created, model = fake._new_id(), int(time.time()), str(request["model"])

        def chunk(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [choice],
            }

        content = reply.content
        # A couple of pieces, so a client that keeps only the last delta is caught out.
        cuts = sorted({0, len(content) // 3, 2 * len(content) // 3, len(content)})
        pieces = [content[a:b] for a, b in itertools.pairwise(cuts) if b > a]
        events = [chunk({"role": "assistant", "content": ""}, None)]
        events += [chunk({"content": piece}, None) for piece in pieces]
        events.append(chunk({}, reply.finish_reason))
        # As the real API does, usage comes as a final chunk with no choices, and only when
        # the request asked for it with stream_options.include_usage.
        options = request.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            usage = reply.usage or _default_usage(request, content)
            events.append({**chunk({}, None), "choices": [], "usage": usage})

        self.send_response(reply.status)
        base = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        for name, value in _merge_headers(base, reply.headers).items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            self._write_chunk(f"data: {json.dumps(event)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- low-level output ---------------------------------------------------------------

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send_json(self, status: int, body: str) -> None:
        self._send(status, body, {})

    def _send(self, status: int, body: str | bytes, extra_headers: dict[str, str]) -> None:
        payload = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        for name, value in _merge_headers({"Content-Type": "application/json"}, extra_headers).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _drop(self) -> None:
        # Shut the socket down without writing a byte: the client sees the connection
        # close before any status line, exactly like a reset or a crashed upstream.
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.connection.close()


class FakeOpenAIServer:
    """A fake OpenAI-compatible server on ``127.0.0.1`` (free port) in a background thread.

    Args:
        api_key: when set, every request to a known route must carry
            ``Authorization: Bearer <api_key>``, or it gets a 401 with an OpenAI-style body.
        port: the port on 127.0.0.1; 0 (the default) takes a free one.

    Thread-safe: requests are served concurrently, and ``enqueue``/``set_default`` may be
    called while requests are in flight.
    """

    def __init__(self, *, api_key: str | None = None, port: int = 0) -> None:
        self.api_key = api_key
        self._port = port
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._default: DefaultReply = Reply()
        self._models: list[str] = [DEFAULT_MODEL]
        self._ids = itertools.count(1)
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("FakeOpenAIServer.start() called twice; use a new server instead")
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        httpd.fake = self
        self._httpd = httpd
        # A short poll interval keeps shutdown() (and so stop()) well under a second.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut every open connection; returns promptly, and is idempotent."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()  # wakes handlers sleeping on a delayed reply
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            # Idle keep-alive connections would otherwise keep being served after stop().
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=1.0)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._httpd is None:
            raise RuntimeError("the fake server is not running: call start() or use it as a context manager")
        return self._httpd.server_port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, what an OpenAI client takes as its base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ----------------------------------------------------------------------

    def enqueue(self, *items: Reply | str) -> None:
        """Queue replies for the next chat completions, first in first out; a str is a normal completion."""
        replies = [Reply(content=item) if isinstance(item, str) else item for item in items]
        with self._lock:
            self._queue.extend(replies)

    def set_default(self, reply: DefaultReply | None) -> None:
        """Set the reply used when the queue is empty.

        Args:
            reply: a Reply, a str (a normal completion), a callable that gets the request
                JSON and returns either, or None for the initial default (content ``"ok"``).
        """
        with self._lock:
            self._default = Reply() if reply is None else reply

    @property
    def pending(self) -> int:
        """How many enqueued replies have not been used yet."""
        with self._lock:
            return len(self._queue)

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request; raises LookupError when there was none."""
        with self._lock:
            if not self.requests:
                raise LookupError("the fake server has received no request yet")
            return self.requests[-1]

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The requests made to ``POST /v1/chat/completions``, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path.rstrip("/") == "/v1/chat/completions"]

    def reset(self) -> None:
        """Forget queued replies, the request log and the default, keeping the server running."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self._default = Reply()

    # -- used by the handler threads ----------------------------------------------------

    def _track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _log(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _authorized(self, request: RecordedRequest) -> bool:
        if self.api_key is None:
            return True
        return request.headers.get("authorization", "") == f"Bearer {self.api_key}"

    def _seen_model(self, model: str) -> None:
        with self._lock:
            if model not in self._models:
                self._models.append(model)

    def _models_payload(self) -> dict[str, Any]:
        with self._lock:
            names = list(self._models)
        data = [{"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "pearl-tests"} for name in names]
        return {"object": "list", "data": data}

    def _new_id(self) -> str:
        with self._lock:
            return f"chatcmpl-fake{next(self._ids):06d}"

    def _next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            default = self._default
        # Called outside the lock: a test's callable may be slow or inspect the server.
        chosen = default(request) if callable(default) else default
        return Reply(content=chosen) if isinstance(chosen, str) else chosen

    def _completion(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        return {
            "id": self._new_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request["model"],
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": reply.usage or _default_usage(request, reply.content),
        }


def fake_server_fixture() -> Iterator[FakeOpenAIServer]:
    """Start a fake server for one test and stop it afterwards.

    Wire it up in ``conftest.py`` with ``fake_server = pytest.fixture(fake_server_fixture)``.
    """
    with FakeOpenAIServer() as server:
        yield server


def _context_limited(limit: int, content: str) -> Callable[[dict[str, Any]], Reply | str]:
    """A reply that refuses, as vLLM does, a prompt whose tokens (4 characters each) and max_tokens pass `limit`."""

    def reply(request: dict[str, Any]) -> Reply | str:
        messages = request.get("messages")
        prompt = sum(len(_message_text(m)) for m in messages) // 4 if isinstance(messages, list) else 0
        wanted = prompt + int(request.get("max_tokens") or 0)
        if wanted <= limit:
            return content
        message = (
            f"This model's maximum context length is {limit} tokens. However, you requested {wanted} tokens "
            f"({prompt} in the messages, {wanted - prompt} in the completion). Please reduce the length of the "
            "messages or completion."
        )
        return Reply.error(400, message, error_type="BadRequestError")

    return reply


def main(argv: list[str] | None = None) -> None:
    """Serve until Ctrl-C: ``python tests/fakeserver.py --port 8765 [--reply TEXT | --body-file FILE ...]``."""
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible server on 127.0.0.1, for trying pearl.")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    parser.add_argument("--reply", default="ok", help="the content of every completion (default: ok)")
    parser.add_argument("--reply-file", type=Path, help="the content of every completion, read from this file")
    parser.add_argument("--body-file", type=Path, help="send this file's bytes as the whole response body instead")
    parser.add_argument("--status", type=int, default=200, help="HTTP status sent with --body-file (default 200)")
    parser.add_argument("--echo-auth", action="store_true", help="answer 400 quoting the Authorization header")
    parser.add_argument("--context-limit", type=int, help="answer vLLM's 400 to prompts over this many tokens")
    parser.add_argument("--api-key", help="require this bearer token")
    args = parser.parse_args(argv)
    content = args.reply_file.read_text(encoding="utf-8", errors="surrogateescape") if args.reply_file else args.reply
    default: DefaultReply = content
    if args.body_file is not None:
        default = Reply(status=args.status, body=args.body_file.read_bytes())
    elif args.echo_auth:
        default = Reply(echo_authorization=True)
    elif args.context_limit is not None:
        default = _context_limited(args.context_limit, content)
    with FakeOpenAIServer(api_key=args.api_key, port=args.port) as server:
        server.set_default(default)
        print(f"serving a fake OpenAI-compatible API at {server.base_url} (Ctrl-C stops it)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
