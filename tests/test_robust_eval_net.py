"""Found by a robustness review: an empty question in a dataset, private output files, a malformed
base URL, and a server that drips its answer one byte at a time past `--timeout`."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import SAMPLE_DIR

from pearl import Pearl, load_settings
from pearl._files import atomic_write_text
from pearl.errors import ConfigError, LLMRequestError, LLMResponseError, LLMTimeoutError
from pearl.eval import counting_fake_llm, load_dataset, run_eval
from pearl.llm import CompletionRequest, Message, OpenAICompatibleLLM

if TYPE_CHECKING:
    from typing_extensions import Self

REQUEST = CompletionRequest(messages=[Message(role="user", content="Who is Korvin?")], max_tokens=16)
# A good first line of each layout, so the bad line is the second and the format is recognised from the first.
FIRST_LINES: dict[str, dict[str, Any]] = {
    "jsonl": {"id": "d1", "text": "Korvin keeps the light.", "questions": [{"question": "Who?", "answer": "Korvin"}]},
    "quality": {
        "article_id": "1",
        "article": "t",
        "questions": [{"question": "Q?", "options": ["a", "b"], "gold_label": 1}],
    },
    "leval": {"input": "t", "instructions": ["Who?"], "outputs": ["Korvin"]},
}


# -- 1. an empty question is skipped by the run, named -------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"id": "d2", "text": "t", "questions": [{"question": "   ", "answer": "a"}]}, r"questions\[0\]\.question"),
        (
            {"id": "d2", "text": "t", "questions": [{"question": "", "options": ["x", "y"], "answer": "A"}]},
            r"questions\[0\]\.question",
        ),
        (
            {
                "article_id": "2",
                "article": "t",
                "questions": [{"question": " \n", "options": ["a", "b"], "gold_label": 1}],
            },
            r"questions\[0\]\.question",
        ),
        ({"input": "t", "instructions": ["(A) yes (B) no"], "outputs": ["A"]}, r"instructions\[0\]"),
        ({"input": "t", "instructions": ["Question 3. (A) yes (B) no"], "outputs": ["A"]}, r"instructions\[0\]"),
    ],
    ids=["jsonl-free", "jsonl-choice", "quality", "leval-options-only", "leval-number-only"],
)
def test_an_empty_question_is_skipped_as_an_empty_option_is_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, line: dict[str, Any], field: str
) -> None:
    # It loaded, and the run stopped at it with "the question is empty" naming neither line nor id, on every resume;
    # then the whole run was refused for it, where an empty option is skipped, named, and the rest run (helper-227).
    first = FIRST_LINES["jsonl" if "text" in line else "quality" if "article" in line else "leval"]
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(first) + "\n" + json.dumps(line) + "\n", encoding="utf-8")
    dataset = load_dataset(path)
    bad = dataset.questions[-1].id
    with caplog.at_level("WARNING"):
        summary = run_eval(Pearl(counting_fake_llm(), load_settings(cache=False)), dataset, ["direct"], tmp_path / "r")
    assert summary.skipped == [bad] and "the question is empty" in summary.skipped_why[bad]
    assert summary.methods[0].n == 1 and f"{bad} (the question is empty" in caplog.text


# -- 2. files pearl writes get the permissions a plain open() gives ---------------------------------


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_follow_the_umask_or_keep_their_mode(tmp_path: Path) -> None:
    with umask(0o022):
        atomic_write_text(tmp_path / "a.md", "a")
    with umask(0o077):
        atomic_write_text(tmp_path / "b.md", "b")
    assert (mode(tmp_path / "a.md"), mode(tmp_path / "b.md")) == (0o644, 0o600)
    (tmp_path / "c.md").write_text("old", encoding="utf-8")
    (tmp_path / "c.md").chmod(0o640)
    with umask(0o022):
        atomic_write_text(tmp_path / "c.md", "new")
    assert mode(tmp_path / "c.md") == 0o640 and (tmp_path / "c.md").read_text(encoding="utf-8") == "new"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_an_eval_runs_reports_are_readable_like_any_file(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with umask(0o022):
        run_eval(
            Pearl(llm=counting_fake_llm(), settings=load_settings(cache=False)),
            load_dataset(SAMPLE_DIR / "questions.jsonl"),
            ["direct"],
            out,
        )
    files = ["run.json", "summary.json", "report.md", "report.html"]
    assert {name: mode(out / name) for name in files} == dict.fromkeys(files, 0o644)


# -- 3. a malformed base URL is one clear error ------------------------------------------------------

BAD_URLS = ["http://localhost:abc/v1", "http://[::1", "http://localhost:99999/v1", "http://", "http:///v1"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_malformed_base_url_is_a_config_error(url: str) -> None:
    said = r"base_url \(base_url=\): .*e\.g\. http://localhost:8080/v1$"
    with pytest.raises(ConfigError, match=said) as info:
        load_settings(base_url=url, model="m")
    assert "\n" not in str(info.value) and "Value error" not in str(info.value)


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("path", ["sync", "async"])
def test_the_backend_reports_a_url_httpx_refuses_without_a_traceback(url: str, path: str) -> None:
    # Settings made without the check (pydantic's own model_copy; pearl's checks): httpx's InvalidURL, and under
    # asyncio an ExceptionGroup holding the socket's OverflowError, were tracebacks; no host was "cannot connect",
    # retried.
    from pydantic import BaseModel

    settings = load_settings(base_url="http://localhost:8080/v1", model="m", max_retries=3, retry_base_delay=0.01)
    llm = OpenAICompatibleLLM(BaseModel.model_copy(settings, update={"base_url": url}))
    started = time.monotonic()
    with pytest.raises(LLMRequestError, match="is not a base URL pearl can call .*PEARL_BASE_URL"):
        llm.complete(REQUEST) if path == "sync" else asyncio.run(llm.acomplete(REQUEST))
    assert time.monotonic() - started < 2  # refused at once, not retried


BAD_ASK = ["--base-url", "http://localhost:abc/v1", "--model", "m"]


def test_pearl_ask_with_a_malformed_base_url_prints_one_error_line(tmp_path: Path) -> None:
    document = tmp_path / "doc.txt"
    document.write_text("Korvin keeps the light on the island.\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pearl", "ask", str(document), "Who keeps the light?", *BAD_ASK],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "base_url" in lines[0], done.stderr
    assert "http://localhost:8080/v1" in lines[0]


# -- 4. --timeout bounds a whole request, not each read ------------------------------------------------

COMPLETION = json.dumps(
    {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
).encode()


class RawServer:
    """An HTTP server on 127.0.0.1 written on a socket, for replies no well-behaved server sends: each connection is
    answered by `_answer` in a thread of its own, once `_request` has read the request."""

    def __init__(self) -> None:
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting in `_serve`
        self._listener.close()
        self._thread.join(timeout=2)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.requests += 1
            threading.Thread(target=self._answered, args=(connection, self.requests), daemon=True).start()

    def _answered(self, connection: socket.socket, number: int) -> None:
        with connection, contextlib.suppress(OSError):
            _read_request(connection)
            self._answer(connection, number)

    def _answer(self, connection: socket.socket, number: int) -> None:
        """Answer the `number`-th request (from 1)."""
        raise NotImplementedError


def _read_request(connection: socket.socket) -> None:
    """Read a request's head, and as much of its body as its Content-Length says."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    lengths = [int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")]
    while lengths and len(body) < lengths[0]:
        body += connection.recv(65536)


class DrippingServer(RawServer):
    """Sends its answer one byte every `interval` seconds, for `limit` seconds.

    `headers=True` drips the status line and headers too; else they come at once and the body drips.
    """

    def __init__(self, *, interval: float = 0.2, limit: float = 8.0, headers: bool = False) -> None:
        super().__init__()
        self.interval, self.limit, self.drip_headers = interval, limit, headers

    def _answer(self, connection: socket.socket, number: int) -> None:
        header = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(COMPLETION)}\r\n\r\n"
        start = time.monotonic()
        if not self.drip_headers:
            connection.sendall(header.encode())
        for byte in (header.encode() if self.drip_headers else b"") + COMPLETION:
            if self._stop.wait(self.interval) or time.monotonic() - start > self.limit:
                return
            connection.sendall(bytes([byte]))


class FloodingServer(RawServer):
    """Answers every request with a body that does not end (`status`), sending up to `most` bytes of it; with
    `announce`, a Content-Length saying so first. Counts what it managed to send."""

    def __init__(self, status: int = 200, announce: bool = False, most: int = 64 * 2**20) -> None:
        super().__init__()
        self.status, self.announce, self.most = status, announce, most
        self.sent = 0

    def _answer(self, connection: socket.socket, number: int) -> None:
        length = f"Content-Length: {self.most}\r\n" if self.announce else "Connection: close\r\n"
        head = f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n{length}\r\n"
        connection.sendall(head.encode() + b'{"choices": [{"message": {"content": "')
        chunk = b"A" * 65536
        while self.sent < self.most:
            connection.sendall(chunk)
            self.sent += len(chunk)


@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize(
    ("status", "announce"), [(200, False), (200, True), (500, False)], ids=["ok", "announced", "error"]
)
def test_a_reply_too_long_for_any_completion_is_refused_as_it_arrives(
    monkeypatch: pytest.MonkeyPatch, path: str, status: int, announce: bool
) -> None:
    # The body was read whole before its length was checked: a server's 2 GB reply took 6 GB of memory, once per retry.
    monkeypatch.setattr("pearl.llm._openai.MAX_BODY_BYTES", 2**20)
    with FloodingServer(status, announce) as server:
        llm = OpenAICompatibleLLM(
            load_settings(base_url=server.base_url, model="m", timeout=20.0, max_retries=0, retry_base_delay=0.01)
        )
        with pytest.raises(LLMResponseError, match=r"answered \d+ with a body over 1,048,576 bytes") as caught:
            llm.complete(REQUEST) if path == "sync" else asyncio.run(llm.acomplete(REQUEST))
        llm.close()
        assert ("Content-Length says 67,108,864" in str(caught.value)) == announce
    assert server.sent < 16 * 2**20  # stopped reading: what is sent past that sits in the sockets' buffers


class ScriptedServer(RawServer):
    """Answers the i-th request with the i-th of `replies` (raw bytes: status line, headers, body), the last again."""

    def __init__(self, *replies: bytes) -> None:
        super().__init__()
        self.replies = list(replies)

    def _answer(self, connection: socket.socket, number: int) -> None:
        connection.sendall(self.replies[min(number, len(self.replies)) - 1])


def _reply(status: str, body: bytes, *headers: bytes) -> bytes:
    head = [f"HTTP/1.1 {status}".encode(), b"Content-Type: application/json", b"Connection: close", *headers]
    return b"\r\n".join([*head, b"Content-Length: %d" % len(body), b"", body])


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_reply_read_within_the_cap_keeps_what_its_headers_say(path: str) -> None:
    # The reply rebuilt from its chunks re-encoded its headers as ASCII: a proxy's "X-Served-By: café-proxy" made every
    # call a UnicodeEncodeError traceback. Its Retry-After must still be honoured, its gzip body decoded once.
    gzipped = gzip.compress(COMPLETION)
    busy = _reply("429 Too Many Requests", b'{"error": {"message": "slow down"}}', b"Retry-After: 1")
    ok = _reply("200 OK", gzipped, b"Content-Encoding: gzip", "X-Served-By: café-proxy".encode())
    with ScriptedServer(busy, ok) as server:
        llm = OpenAICompatibleLLM(
            load_settings(base_url=server.base_url, model="m", timeout=5.0, max_retries=2, retry_base_delay=0.01)
        )
        started = time.monotonic()
        completion = llm.complete(REQUEST) if path == "sync" else asyncio.run(llm.acomplete(REQUEST))
        elapsed = time.monotonic() - started
        llm.close()
    assert completion.text == "ok" and server.requests == 2
    assert elapsed >= 0.9  # the server's Retry-After, not the 0.01 s backoff


@pytest.mark.parametrize(
    ("path", "headers"), [("sync", False), ("async", False), ("async", True)], ids=["sync", "async", "async-headers"]
)
def test_a_server_dripping_bytes_is_timed_out_like_a_silent_one(path: str, headers: bool) -> None:
    # httpx's read timeout starts again with every byte: one byte every 0.2 s never reached a 1 s timeout.
    with DrippingServer(headers=headers) as server:
        llm = OpenAICompatibleLLM(
            load_settings(base_url=server.base_url, model="m", timeout=1.0, max_retries=1, retry_base_delay=0.01)
        )
        started = time.monotonic()
        timed_out = r"no answer from .* within 1s; raise timeout \(--timeout.*gave up after 2"
        with pytest.raises(LLMTimeoutError, match=timed_out):
            llm.complete(REQUEST) if path == "sync" else asyncio.run(llm.acomplete(REQUEST))
        elapsed = time.monotonic() - started
        llm.close()
    assert server.requests == 2  # retried as a read timeout is
    assert 2.0 <= elapsed < 4.0, elapsed
