"""Hostile servers, replies and state end cleanly and lose nothing (issue 13, items 1-5, 11 and part of 12).

Each test names the item it covers. Reply and HTTP cases run against the fake OpenAI-compatible
server (tests/fakeserver.py); the same server runs by hand (`python tests/fakeserver.py --help`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakeserver import FakeOpenAIServer, Reply
from test_llm_openai import REQUEST, make
from typer.testing import CliRunner

from pearl import Pearl, load_settings
from pearl._replies import MAX_INT_DIGITS, load_json_reply, strip_fence
from pearl.cli import app
from pearl.config import masked_url
from pearl.context._markup import is_page
from pearl.documents import load_document
from pearl.errors import (
    ConfigError,
    ContextOverflowError,
    LLMConnectionError,
    LLMRequestError,
    LLMResponseError,
    PearlError,
    PlanParseError,
    ProposalError,
    ServerError,
)
from pearl.llm import CachedLLM, CompletionRequest, FakeLLM, Message, OpenAICompatibleLLM, ResponseCache
from pearl.llm._embedded import _MODELS, REPEAT_PENALTY, EmbeddedLLM
from pearl.llm._reply import LOOP_NOTE, prompt_tokens, reply_chars
from pearl.models import Completion, Document, Trace
from pearl.planning import parse_plan, plan_from_json
from pearl.prompts import CUT_MARK
from pearl.questions import Question
from pearl.tokens import count_tokens

REPO = Path(__file__).resolve().parents[1]
STORY = "Captain Ilse Varga kept the light at Tr'en Point.\n\nShe stayed because her brother Korvin was lost at sea.\n"
runner = CliRunner()


def story(tmp_path: Path) -> Path:
    doc = tmp_path / "story.txt"
    doc.write_text(STORY, encoding="utf-8")
    return doc


def openai(server: FakeOpenAIServer, **overrides: Any) -> OpenAICompatibleLLM:
    return make(server, **{"max_retries": 1, "timeout": 5.0, **overrides})


def ask_args(server: FakeOpenAIServer, doc: Path, question: str = "Who kept the light?") -> list[str]:
    return ["ask", str(doc), question, "--base-url", server.base_url, "--model", "m", "-m", "direct"]


# --- item 1: a damaged response cache never stops a command -----------------------------


def _not_a_database(path: Path) -> None:
    path.write_text("this is not a database, only text where the cache should be\n" * 4, encoding="utf-8")


def _filled(path: Path) -> None:
    cache = ResponseCache(path)
    for i in range(200):
        cache.put(f"k{i}", Completion(text=f"answer {i} " * 40))
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything into the main file, which is then damaged
    db.close()
    for extra in path.parent.glob(path.name + "-*"):
        extra.unlink()


def _truncated(path: Path) -> None:
    _filled(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def _directory(path: Path) -> None:
    path.mkdir()


def _parent_is_a_file(path: Path) -> None:
    path.parent.rmdir()
    path.parent.write_text("a file where the cache folder should be", encoding="utf-8")


def _read_only(path: Path) -> None:
    _filled(path)
    path.chmod(0o444)
    path.parent.chmod(0o555)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "not-a-database": _not_a_database,
    "truncated": _truncated,
    "a-directory": _directory,
    "parent-is-a-file": _parent_is_a_file,
    "read-only": _read_only,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_cache_warns_once_and_answers(
    damage: str, fake_server: FakeOpenAIServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Item 1: one warning naming the file, once per process, then every call goes on without the cache."""
    if damage == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes through file permissions")
    path = Path(os.environ["PEARL_HOME"]) / "cache" / "responses.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    DAMAGE[damage](path)
    fake_server.set_default("Varga kept it.")
    settings = load_settings(base_url=fake_server.base_url, model="m")
    with caplog.at_level(logging.WARNING, logger="pearl.llm"):
        for question in ("Who kept the light?", "Who was lost at sea?", "Who kept the light?"):
            answer = Pearl(settings=settings).ask(story(tmp_path), question, method="direct")
            assert answer.answer == "Varga kept it."
    warnings = [r.getMessage() for r in caplog.records if "response cache" in r.getMessage()]
    assert len(warnings) <= 1, warnings
    if damage != "truncated" and damage != "read-only":  # those two may still answer reads without complaint
        assert len(warnings) == 1 and str(path) in warnings[0], warnings


def test_read_only_cache_answers_what_it_holds_and_warns_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Item 1, read-only (as root, file modes do not stop writes: the file is opened read-only instead)."""
    path = tmp_path / "c.sqlite3"
    _filled(path)
    monkeypatch.setattr(
        ResponseCache,
        "_connect",
        lambda self: sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=1.0, isolation_level=None),
    )
    cache = ResponseCache(path)
    with caplog.at_level(logging.WARNING, logger="pearl.llm"):
        for i in range(3):
            cache.put(f"new{i}", Completion(text="x"))
        assert cache.get("k7") is not None and cache.get("new0") is None
    warnings = [r.getMessage() for r in caplog.records if "response cache" in r.getMessage()]
    assert len(warnings) == 1 and str(path) in warnings[0], warnings


def test_a_cache_in_a_folder_sqlite_cannot_write_answers_what_it_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A WAL database in a read-only folder (a shared PEARL_HOME): SQLite cannot make the files it reads one
    with, so every plain connection fails there (as root it would not: simulated); opened immutable, it reads."""
    path = tmp_path / "c.sqlite3"
    _filled(path)
    real = sqlite3.connect

    def connect(database: Any, *args: Any, uri: bool = False, **kwargs: Any) -> sqlite3.Connection:
        if not (uri and "immutable=1" in str(database)):
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real(database, *args, uri=uri, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    real_access = os.access

    def access(path: Any, mode: int, *args: Any, **kwargs: Any) -> bool:  # this folder as a user would see it
        return not mode & os.W_OK if Path(path) == tmp_path else real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    pending = tmp_path / "pending.sqlite3"
    pending.write_bytes(path.read_bytes())
    pending.with_name(pending.name + "-wal").write_bytes(b"")  # a write-ahead log left: an immutable read ignores it
    assert ResponseCache(pending).get("k7") is None
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pearl.llm"):
        cache = ResponseCache(path)
        cache.put("new", Completion(text="x"))
        found = cache.get("k7")
    assert found is not None and found.text.startswith("answer 7 ")
    assert cache.get("new") is None and len(cache) == 200
    warnings = [r.getMessage() for r in caplog.records if "response cache" in r.getMessage()]
    assert len(warnings) == 1 and "answering what it holds" in warnings[0], warnings


def test_damaged_cache_does_not_stop_the_cli(fake_server: FakeOpenAIServer, tmp_path: Path) -> None:
    """Item 1, through `pearl ask`: exit 0 with the answer."""
    path = Path(os.environ["PEARL_HOME"]) / "cache" / "responses.sqlite3"
    path.parent.mkdir(parents=True)
    _not_a_database(path)
    fake_server.set_default("Varga kept it.")
    result = runner.invoke(app, ask_args(fake_server, story(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "Varga kept it." in result.stdout and "Traceback" not in result.output


# --- item 2: --trace never throws an answer away, and a failed ask leaves its trace ------


@pytest.mark.parametrize("option", ["--trace", "--html"])
def test_an_output_in_a_missing_folder_is_refused_before_any_call(
    option: str, fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    target = tmp_path / "no_such_dir" / "t.out"
    result = runner.invoke(app, [*ask_args(fake_server, story(tmp_path)), option, str(target)])
    assert result.exit_code == 2
    assert f"{option} {target}: there is no folder" in result.output and str(target.parent) in result.output
    assert fake_server.chat_requests == []  # nothing paid for
    assert not target.parent.exists()


@pytest.mark.parametrize("option", ["--trace", "--html"])
def test_an_output_named_dash_is_refused_not_written_as_a_file(
    option: str, fake_server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "-" is standard input for a document; as an output it made a file named "-" in the working folder, unsaid.
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*ask_args(fake_server, story(tmp_path)), option, "-"])
    assert result.exit_code == 2 and f"{option} -: give a name, e.g. {option} " in result.stderr
    assert fake_server.chat_requests == [] and not (tmp_path / "-").exists()


@pytest.mark.parametrize("option", ["--trace", "--html"])
def test_an_output_that_exists_is_refused_before_any_call_unless_forced(
    option: str, fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # An earlier question's trace or page was written over without a word (trace html and mine refuse so).
    fake_server.set_default("Varga kept it.")
    target = tmp_path / "kept.out"
    target.write_text("an earlier question's record", encoding="utf-8")
    args = [*ask_args(fake_server, story(tmp_path)), option, str(target)]
    said = f"error: {option} {target} exists: add --force to replace it, or choose another {option}"
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.stderr.splitlines() == [said] and result.stdout == ""
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"] == said.removeprefix("error: ")
    assert fake_server.chat_requests == [] and target.read_text(encoding="utf-8") == "an earlier question's record"
    result = runner.invoke(app, [*args, "--force"])
    assert result.exit_code == 0 and "Varga kept it." in result.stdout, result.output
    assert "Varga kept it." in target.read_text(encoding="utf-8")
    # --force replaces an output, never what the question reads.
    document = tmp_path / "story.txt"
    result = runner.invoke(app, [*ask_args(fake_server, document), option, str(document), "--force"])
    assert result.exit_code == 2 and "is the document file too" in result.stderr and document.read_text() == STORY


def test_other_outputs_named_dash_print_or_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `actions import -o -` wrote a file named "-", `eval --out -` a folder named "-", said nowhere.
    monkeypatch.chdir(tmp_path)
    listing = tmp_path / "list.txt"
    listing.write_text("FIND_X(CTX, X) # Find X.\n", encoding="utf-8")
    trace = tmp_path / "t.json"
    trace.write_text(Trace(question="Who?").model_dump_json(), encoding="utf-8")
    data = Path(__file__).resolve().parents[1] / "datasets" / "sample" / "questions.jsonl"
    for args in (
        ["actions", "import", str(listing), "-o", "-"],
        ["eval", str(data), "--out", "-", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"],
        ["trace", "html", str(trace), "-o", "-"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "-: give a name, e.g. " in result.stderr, args
    printed = runner.invoke(app, ["actions", "export", "-o", "-"])  # its default is to print: "-" says so too
    assert printed.exit_code == 0 and printed.stdout.startswith("CONCAT(S1, S2, ...) # ")
    assert not (tmp_path / "-").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_unwritable_trace_prints_the_answer_then_one_error(fake_server: FakeOpenAIServer, tmp_path: Path) -> None:
    # /dev/full passes every check made before the calls, then fails the write (ENOSPC).
    fake_server.set_default("Varga kept it.")
    result = runner.invoke(app, [*ask_args(fake_server, story(tmp_path)), "--trace", "/dev/full"])
    assert result.exit_code == 1
    assert "Varga kept it." in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "could not write the trace to /dev/full" in errors[0]
    assert "Traceback" not in result.output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_unwritable_page_prints_the_answer_and_writes_the_trace(fake_server: FakeOpenAIServer, tmp_path: Path) -> None:
    fake_server.set_default("Varga kept it.")
    target = tmp_path / "t.json"
    result = runner.invoke(
        app, [*ask_args(fake_server, story(tmp_path)), "--html", "/dev/full", "--trace", str(target)]
    )
    assert result.exit_code == 1
    assert "Varga kept it." in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "/dev/full: cannot write the page" in errors[0]
    assert Trace.model_validate_json(target.read_text(encoding="utf-8")).answer is not None
    # With --json, the one object on stdout says so too: a script reading it saw a success.
    result = runner.invoke(app, [*ask_args(fake_server, story(tmp_path)), "--html", "/dev/full", "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["answer"] == "Varga kept it."
    assert data["error"] == "/dev/full: cannot write the page (No space left on device); the answer is complete"


def test_interrupted_ask_writes_its_trace_and_page(
    fake_server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    answer = OpenAICompatibleLLM.acomplete

    async def interrupted(self: OpenAICompatibleLLM, request: CompletionRequest) -> Completion:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # Ctrl-C during the second call, once the plan is in the trace
        return await answer(self, request)

    monkeypatch.setattr(OpenAICompatibleLLM, "acomplete", interrupted)
    fake_server.set_default('s1 = FIND_X(CTX, "the light")\ns2 = ANSWER(CTX, "Who kept the light?")')
    target, page = tmp_path / "t.json", tmp_path / "t.html"
    args = [*ask_args(fake_server, story(tmp_path))[:-2], "--trace", str(target), "--html", str(page)]
    result = runner.invoke(app, args)
    assert result.exit_code == 130
    assert f"the trace up to the interruption is in {target}" in result.stderr
    kept = Trace.model_validate_json(target.read_text(encoding="utf-8"))
    assert kept.question == "Who kept the light?" and "plan accepted" in [event.stage for event in kept.events]
    assert f"the page up to the interruption is in {page}" in result.stderr
    assert "Who kept the light?" in page.read_text(encoding="utf-8")


def test_failed_ask_writes_its_trace(
    fake_server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEARL_MAX_RETRIES", "0")
    fake_server.set_default(Reply.error(500, "the GPU fell over"))
    target = tmp_path / "t.json"
    result = runner.invoke(app, [*ask_args(fake_server, story(tmp_path)), "--trace", str(target)])
    assert result.exit_code == 1
    assert "GPU fell over" in result.stderr
    trace = Trace.model_validate_json(target.read_text(encoding="utf-8"))
    assert any(event.error and "GPU fell over" in event.error for event in trace.events)


def test_errors_from_ask_carry_the_trace(fake_llm: FakeLLM) -> None:
    fake_llm.enqueue(ServerError("boom"))
    with pytest.raises(ServerError) as info:
        Pearl(llm=fake_llm, settings=load_settings(cache=False)).ask(STORY, "Who?", method="direct")
    trace = info.value.trace
    assert isinstance(trace, Trace) and trace.events[-1].error == "boom"


# --- item 3: every reply is checked at one boundary ----------------------------------------


def _body(usage: object = None, finish_reason: object = "stop", content: object = "A man.", **extra: Any) -> str:
    choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}
    body: dict[str, Any] = {"choices": [choice], **extra}
    if usage is not None:
        body["usage"] = usage
    return json.dumps(body)


MALFORMED_FIELDS: dict[str, str] = {
    "tokens-a-word": _body(usage={"prompt_tokens": "lots", "completion_tokens": 3}),
    "usage-a-list": _body(usage=[1, 2, 3]),
    "tokens-1e400": _body(usage={"prompt_tokens": 1, "completion_tokens": 2}).replace(
        '"prompt_tokens": 1', '"prompt_tokens": 1e400'
    ),
    "tokens-nan": _body(usage={"prompt_tokens": 1}).replace('"prompt_tokens": 1', '"prompt_tokens": NaN'),
    "tokens-negative": _body(usage={"prompt_tokens": -50, "completion_tokens": -1}),
    "tokens-a-bool": _body(usage={"prompt_tokens": True}),
    "finish-reason-an-object": _body(finish_reason={"why": ["x"]}),
    "model-a-list": _body(model=["m"]),
}


def test_ask_marks_token_counts_a_server_did_not_report(fake_server: FakeOpenAIServer, tmp_path: Path) -> None:
    # Counted here, they read as the server's own: "1 LLM call, 141 prompt ... tokens".
    fake_server.set_default(Reply(body=_body(content="Varga kept it [S0].")))
    result = runner.invoke(app, [*ask_args(fake_server, story(tmp_path)), "--no-cache", "--trace", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    line = result.stderr.splitlines()[-1]
    assert re.fullmatch(
        r"\[direct\] 1 LLM call, ~[\d,]+ prompt \([\d,]+ uncached\) \+ [\d,]+ completion tokens \(counted by "
        r"pearl: the server reported none usable\), [\d.]+s in the model",
        line,
    ), line
    shown = runner.invoke(app, ["trace", "show", str(tmp_path / "t")])
    assert "(counted by pearl: the server reported none usable)" in shown.stdout.splitlines()[-1]
    # A count past belief is none usable either: "the server reported none" read as untrue.
    absurd = {"prompt_tokens": 10, "completion_tokens": 10**15}
    fake_server.set_default(Reply(body=_body(content="Kept [S0].", usage=absurd)))
    result = runner.invoke(app, [*ask_args(fake_server, story(tmp_path)), "--no-cache"])
    assert "(counted by pearl: the server reported none usable)" in result.stderr.splitlines()[-1], result.stderr


@pytest.mark.parametrize("case", sorted(MALFORMED_FIELDS))
@pytest.mark.parametrize("path", ["sync", "async"])
def test_malformed_fields_become_safe_defaults(fake_server: FakeOpenAIServer, case: str, path: str) -> None:
    fake_server.set_default(Reply(body=MALFORMED_FIELDS[case]))
    llm = openai(fake_server)
    result = llm.complete(REQUEST) if path == "sync" else asyncio.run(llm.acomplete(REQUEST))
    assert result.text == "A man."
    assert result.prompt_tokens >= 0 and result.completion_tokens >= 0
    assert result.finish_reason in (None, "stop")
    assert result.model == "fake-model"
    assert result.notes, "a replaced field is noted"
    assert len(fake_server.chat_requests) == 1  # a safe default, not a retry


def test_text_that_cannot_be_encoded_is_repaired(fake_server: FakeOpenAIServer) -> None:
    body = b'{"choices": [{"message": {"content": "caf\\u00e9 \\ud800 ok"}}]}' + b""
    invalid = b'{"choices": [{"message": {"content": "bad \xff\xfe bytes"}}]}'
    fake_server.enqueue(Reply(body=body), Reply(body=invalid))
    llm = openai(fake_server)
    for expected in ("café \ufffd ok", "bad \ufffd\ufffd bytes"):
        result = llm.complete(REQUEST)
        assert result.text == expected
        result.text.encode("utf-8")
        result.model_dump_json()
        REQUEST.model_copy(update={"messages": [Message(role="user", content=result.text)]}).cache_key("b", "m")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("One two three four five. Six. " * 3, "One two three four five. Six."),
        (
            "Step one of five.\nStep two of five.\nAll in all: done here now.\nAll in all: done here now.\nAll",
            "Step one of five.\nStep two of five.\nAll in all: done here now.",
        ),
        ("Yes. Yes. Yes. Yes. Yes.", None),  # too short to be taken for a loop
        ("A reply without any repeated sentence, cut in the mid", None),
        # A sentence said again, then new ones: no loop, nothing is cut.
        (
            "Clause 3 says rent is due monthly. Clause 4 says the tenant pays. Clause 3 says rent is due monthly. "
            "But Clause 9 changes that for the first year. And",
            None,
        ),
        (
            "Clause 3 says rent is due monthly. Clause 4 says the tenant pays. Clause 3 says rent is due monthly. "
            "But Clause 9 changes that for the first year. Clause 4 says the tenant pays. And",
            None,
        ),
        # New headings between repeated sentences: each is new text, nothing is cut.
        (
            "Section 4.2. Each party shall bear its own costs. Section 9.1. Each party shall bear its own costs. "
            "Section 11.3. Each party shall bear its own costs. Section 14",
            None,
        ),
        # A numbered loop: cut before the number of the first repeat.
        (
            "1. Each party shall bear its own costs.\n2. Each party shall bear its own costs.\n"
            "3. Each party shall bear its own costs.\n4. Each",
            "1. Each party shall bear its own costs.",
        ),
        # One sentence said twice, then the cut: not yet a loop.
        ("One two three four five. Six seven eight nine ten. One two three four five. Eleven twelve", None),
        # A loop with no sentence end: cut after one copy of the stretch it repeats.
        (
            "The tenant must pay " + "the party shall pay the landlord " * 40,
            "The tenant must pay the party shall pay the",
        ),
        ("Totals so far\n" + "-" * 400, None),  # a rule of dashes repeats no words
    ],
)
def test_a_reply_looping_to_its_limit_is_cut_before_the_loop(
    fake_server: FakeOpenAIServer, text: str, kept: str | None
) -> None:
    fake_server.enqueue(Reply(body=_body(content=text, finish_reason="length")))
    result = openai(fake_server).complete(REQUEST)
    expected = text if kept is None else kept
    assert result.text == expected and result.finish_reason == "length"
    assert any(n.startswith(LOOP_NOTE) for n in result.notes) == (kept is not None)


def test_a_huge_reply_is_cut_to_what_was_asked(fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(Reply(body=_body(content="x" * 50_000_000)))
    result = openai(fake_server, timeout=60.0).complete(REQUEST)
    assert len(result.text) == reply_chars(REQUEST.max_tokens)
    assert result.finish_reason == "length" and "cut" in result.notes[0]


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '{"choices": [1]}',
        '{"choices": [{"message": {"content": 5}}]}',
        "[" * 100_000,
        '{"n": ' + "9" * 5000 + "}",
    ],
    ids=["a-list", "choice-a-number", "content-a-number", "deep", "huge-int"],
)
def test_unusable_replies_are_response_errors(fake_server: FakeOpenAIServer, body: str) -> None:
    fake_server.set_default(Reply(body=body))
    with pytest.raises(LLMResponseError, match="gave up after 2 attempts"):
        openai(fake_server).complete(REQUEST)


@pytest.mark.parametrize(
    ("content", "reasoning", "shown"),
    [
        (None, {"reasoning_content": "Hmm, the user"}, "thinking "),
        (None, {}, ""),
        ("", {"reasoning": "Hmm, the user"}, "thinking "),  # content "" was taken as the answer ""
        ("\n\n", {"reasoning_content": "Hmm, the user"}, "thinking "),  # retried as white space alone
    ],
)
def test_a_model_that_thinks_until_its_tokens_run_out_is_not_retried(
    fake_server: FakeOpenAIServer, content: str | None, reasoning: dict[str, str], shown: str
) -> None:
    # Retried like a garbled reply, each attempt paid for the same thinking again and ended the same way.
    message = {"role": "assistant", "content": content, **reasoning}
    fake_server.set_default(Reply(body=json.dumps({"choices": [{"message": message, "finish_reason": "length"}]})))
    with pytest.raises(LLMRequestError, match=f"used all 16 reply tokens {shown}before writing any answer"):
        openai(fake_server).complete(REQUEST)
    assert len(fake_server.chat_requests) == 1


@pytest.mark.parametrize(("content", "said"), [("", "an empty text"), (" \n\t", "white space alone, no text")])
def test_a_reply_with_no_text_says_which(fake_server: FakeOpenAIServer, content: str, said: str) -> None:
    # An empty content was reported as "answered with white space alone".
    message = {"role": "assistant", "content": content}
    fake_server.set_default(Reply(body=json.dumps({"choices": [{"message": message, "finish_reason": "stop"}]})))
    with pytest.raises(LLMResponseError, match=f"answered with {said}"):
        openai(fake_server).complete(REQUEST)


def test_an_error_body_built_to_hurt_the_decoder_is_still_an_error(fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(Reply(status=400, body="[" * 100_000))
    with pytest.raises(LLMRequestError, match="rejected the request"):
        openai(fake_server).complete(REQUEST)


@pytest.mark.parametrize("page", ["<html>" + "<script>" * 12_500, "<html>" + "<style" * 16_000, "<title>" * 14_000])
def test_an_error_page_built_to_hurt_the_one_line_summary_is_read_at_once(
    fake_server: FakeOpenAIServer, page: str
) -> None:
    # Each unclosed <script> sent a lazy pattern through the rest of the page: 16 s a reply, at every retry.
    fake_server.set_default(Reply(status=400, body=page))
    started = time.perf_counter()
    with pytest.raises(LLMRequestError, match="rejected the request"):
        openai(fake_server).complete(REQUEST)
    assert time.perf_counter() - started < 1.5


def test_a_run_of_comments_before_no_page_is_read_at_once(tmp_path: Path) -> None:
    # A lazy comment in the saved-page patterns could end at any later "-->": 24 comments opening a text that is
    # no page took ~5 s to be told so, each one more twice as long (to index it, and to read a file of no suffix).
    text = "<!--a-->" * 24 + "<p>Not a page: no doctype, no <html>.</p>"
    (tmp_path / "notes").write_text(text, encoding="utf-8")
    started = time.perf_counter()
    assert not is_page(text) and is_page("<!--a-->" * 24 + "<!DOCTYPE html><p>A page.</p>")
    assert load_document(tmp_path / "notes").text == text  # no page: read as text
    assert time.perf_counter() - started < 1.5


@pytest.mark.parametrize(
    "page",
    ["<ul>" * 30_000 + "</table>" * 30_000, "<table>" * 30_000 + "</p>" * 30_000],
    ids=["lists-then-table-ends", "tables-then-paragraph-ends"],
)
def test_an_html_page_built_to_hurt_the_end_tags_it_leaves_out_is_read_at_once(tmp_path: Path, page: str) -> None:
    # Each stray end tag searched every element left open: 30,000 of each took ~17 s (linear now, ~1 s).
    path = tmp_path / "deep.html"
    path.write_text(page + "<p>The text.", encoding="utf-8")
    started = time.perf_counter()
    assert load_document(path).text.strip() == "The text."
    assert time.perf_counter() - started < 6


class _Llama:
    """Stands in for llama_cpp.Llama: returns one scripted dict."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result

    def create_chat_completion(self, **_: Any) -> dict[str, Any]:
        return self.result


def test_embedded_replies_cross_the_same_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    hostile = {
        "choices": [{"message": {"content": "A\ud800"}, "finish_reason": ["x"]}],
        "usage": {"prompt_tokens": "lots", "completion_tokens": float("inf")},
    }
    monkeypatch.setitem(_MODELS, (str(gguf), 2048, 1), _Llama(hostile))
    result = EmbeddedLLM(model_path=gguf, context_window=2048, threads=1).complete(REQUEST)
    # Counts it cannot read are counted here, as estimates, noted: not 0, as if the call were free.
    assert (result.text, result.prompt_tokens, result.completion_tokens) == ("A\ufffd", prompt_tokens(REQUEST), 2)
    assert result.finish_reason is None and len(result.notes) == 4
    assert any("reported no usable prompt_tokens or completion_tokens: counted here" in n for n in result.notes)
    monkeypatch.setitem(_MODELS, (str(gguf), 2048, 1), _Llama({"choices": []}))
    with pytest.raises(LLMResponseError, match="without any choices"):
        EmbeddedLLM(model_path=gguf, context_window=2048, threads=1).complete(REQUEST)


class _RecordingLlama(_Llama):
    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result)
        self.calls: list[dict[str, Any]] = []

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.result


def test_the_embedded_model_is_kept_from_looping_in_free_text_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a repetition penalty SmolLM2 wrote one sentence until max_tokens; a grammar's own repeats must pass.
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    model = _RecordingLlama({"choices": [{"message": {"content": "x1"}}]})
    monkeypatch.setitem(_MODELS, (str(gguf), 2048, 1), model)
    llm = EmbeddedLLM(model_path=gguf, context_window=2048, threads=1)
    llm.complete(REQUEST)
    llm.complete(REQUEST.model_copy(update={"grammar": 'root ::= "x" [0-9]'}))
    llm.complete(REQUEST.model_copy(update={"json_schema": {"type": "object"}}))
    assert [call.get("repeat_penalty") for call in model.calls] == [REPEAT_PENALTY, None, None]
    assert REPEAT_PENALTY > 1.0
    # Replies cached before the penalty are not served after it: the key holds the backend's sampling.
    cached = CachedLLM(llm, ResponseCache(tmp_path / "cache.sqlite"))
    bare = CachedLLM(FakeLLM(["x1"]), ResponseCache(tmp_path / "cache.sqlite"))
    assert cached._key(REQUEST).endswith(f":repeat_penalty={REPEAT_PENALTY}") and ":repeat" not in bare._key(REQUEST)
    grammar = REQUEST.model_copy(update={"grammar": 'root ::= "x"'})
    assert ":repeat" not in cached._key(grammar)  # sampled as before: its cached replies still serve


class _SlowLlama(_Llama):
    def create_chat_completion(self, **_: Any) -> dict[str, Any]:
        time.sleep(0.2)
        return self.result


def test_the_embedded_models_time_leaves_out_the_wait_for_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Steps run concurrently, the model one at a time: counted, the wait made a step of 0.2 s read 0.6 s.
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setitem(_MODELS, (str(gguf), 2048, 1), _SlowLlama({"choices": [{"message": {"content": "A"}}]}))
    llm = EmbeddedLLM(model_path=gguf, context_window=2048, threads=1)

    async def three() -> list[Completion]:
        return list(await asyncio.gather(*(llm.acomplete(REQUEST) for _ in range(3))))

    latencies = [r.latency_s for r in asyncio.run(three())]
    assert max(latencies) < 0.38 and min(latencies) >= 0.2


# --- item 4: every JSON a model writes goes through the guarded decoder ---------------------


@pytest.mark.parametrize(
    "reply",
    [
        "[" * 100_000,
        "[" * 15_000,  # under the size limit: the depth is what is refused
        '{"steps": [{"var": "a", "action": "FIND_X", "args": [' + "9" * 5000 + "]}]}",
        '{"steps": [{"var": "a", "action": "FIND_X", "args": [' + "9" * (MAX_INT_DIGITS + 1) + "]}]}",
    ],
    ids=["100k-brackets", "15k-brackets", "5000-digits", "just-over-the-digit-limit"],
)
def test_hostile_json_plans_are_plan_errors(reply: str) -> None:
    with pytest.raises(PlanParseError, match="the plan is"):
        plan_from_json(reply)


def test_a_fence_and_a_long_run_of_spaces_is_refused_at_once() -> None:
    # The fence was stripped by a pattern that backtracked over the spaces: 13 s before the size was checked.
    started = time.perf_counter()
    with pytest.raises(PlanParseError, match="the plan is 100,008 characters long"):
        plan_from_json("```json\n" + " " * 100_000)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("reply", "inside"),
    [
        ('```json\n{"steps": []}\n```', '{"steps": []}'),
        ("  ```\n{}\n  ```  \n", "{}"),  # the closing fence indented, spaces and a line break after it
        ("```\n```", ""),
        ("```\nline one\n\n```", "line one\n"),  # one line break before the closing fence is the fence's
        ("```json {} ```", "```json {} ```"),  # no line of its own: no fence
        ("```json\r\n{}\n```", "```json\r\n{}\n```"),  # a carriage return after the info string: as before
        ("plain", "plain"),
    ],
)
def test_a_fence_around_a_reply_is_stripped(reply: str, inside: str) -> None:
    assert strip_fence(reply) == inside


def test_hostile_json_plans_go_back_to_the_model_then_fall_back() -> None:
    """Item 4 end to end: with JSON-schema planning, self-correction acts on the error and `rag` answers."""

    planned = itertools.count()

    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        # Another reply each time: one repeated word for word stops the planning at once.
        return "[" * (100_000 + next(planned)) if kind in ("plan", "plan_fix") else "Varga."

    fake = FakeLLM(default=reply, supports_json_schema=True)
    answer = Pearl(llm=fake, settings=load_settings(cache=False, plan_attempts=3)).ask(STORY, "Who kept the light?")
    assert answer.fallback and answer.answer == "Varga."
    fixes = [r for r in fake.history if (r.prompt or "").startswith("plan_fix")]
    assert len(fixes) == 2 and "characters long" in fixes[-1].messages[-1].content


def test_the_reply_decoder_refuses_huge_integers_whatever_the_process_limit() -> None:
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # no limit of Python's own: the decoder's still holds
    try:
        with pytest.raises(ProposalError, match="digits"):
            load_json_reply("[" + "7" * 20_000 + "]", 100_000, ProposalError)
    finally:
        sys.set_int_max_str_digits(old)


# --- item 5: every prompt fits the window, and a server's refusal is survived ---------------


def test_a_huge_invalid_plan_is_not_pasted_whole_into_the_retry() -> None:
    window = 8192

    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        return "s1 = " + "NOT_A_PLAN " * 100_000 if kind in ("plan", "plan_fix") else "Varga."

    fake = FakeLLM(default=reply, context_window=window)
    Pearl(llm=fake, settings=load_settings(cache=False)).ask(STORY, "Who kept the light?")
    fixes = [r for r in fake.history if (r.prompt or "").startswith("plan_fix")]
    assert fixes
    for request in fake.history:
        sent = sum(count_tokens(m.content) for m in request.messages)
        assert sent + request.max_tokens <= window, (request.prompt, sent)
    assert CUT_MARK.strip() in fixes[0].messages[-1].content


def test_a_100k_character_question_is_cut_and_direct_keeps_the_document() -> None:
    # ~3,000 tokens: with a short question the whole of it fits an 8,192-token window, and it must still fit here.
    document = "\n\n".join(f"Paragraph {i}: Varga counted {i} gulls on the rocks at dawn." for i in range(200))
    question = "Why? " + "Tell me more about the lamp. " * 3500  # ~100,000 characters
    fake = FakeLLM(default="Varga.")
    answer = Pearl(llm=fake, settings=load_settings(cache=False)).ask(document, question, method="direct")
    prompt = fake.history[0].messages[-1].content
    assert CUT_MARK in prompt
    assert "Paragraph 199" in prompt, "the document was crowded out by the question"
    assert not any("document truncated" in note for note in answer.notes), answer.notes
    assert sum(count_tokens(m.content) for m in fake.history[0].messages) < fake.context_window


def _refuse_over(limit: int, style: str) -> Callable[[dict[str, Any]], Reply | str]:
    """A server that refuses prompts over `limit` tokens (4 characters each) the way vLLM, OpenAI or llama.cpp do."""

    def reply(request: dict[str, Any]) -> Reply | str:
        prompt = sum(len(str(m.get("content", ""))) for m in request["messages"]) // 4
        wanted = prompt + int(request.get("max_tokens") or 0)
        if wanted <= limit:
            return "Varga kept it."
        if style == "vllm":
            message = (
                f"This model's maximum context length is {limit} tokens. However, you requested {wanted} tokens "
                f"({prompt} in the messages, {wanted - prompt} in the completion). Please reduce the length of the "
                "messages or completion."
            )
            return Reply.error(400, message, error_type="BadRequestError")
        if style == "openai":
            message = (
                f"This model's maximum context length is {limit} tokens. However, your messages resulted in "
                f"{prompt} tokens. Please reduce the length of the messages."
            )
            return Reply.error(400, message, code="context_length_exceeded")
        error = {
            "code": 400,
            "message": f"request ({prompt} tokens) exceeds the available context size ({limit} tokens), try "
            "increasing it",
            "type": "exceed_context_size_error",
            "n_prompt_tokens": prompt,
            "n_ctx": limit,
        }
        return Reply(status=400, body=json.dumps({"error": error}))

    return reply


LONG_STORY = "\n\n".join(
    f"On day {i} Captain Varga trimmed the wick, logged the weather and watched for Korvin's boat." for i in range(900)
)


@pytest.mark.parametrize("style", ["vllm", "openai", "llama.cpp"])
def test_a_prompt_the_server_refuses_as_too_long_is_refitted_once(fake_server: FakeOpenAIServer, style: str) -> None:
    fake_server.set_default(_refuse_over(4000, style))
    pearl = Pearl(settings=load_settings(base_url=fake_server.base_url, model="m", cache=False))
    answer = pearl.ask(LONG_STORY, "Who kept the light?", method="direct")
    assert answer.answer == "Varga kept it."
    assert len(fake_server.chat_requests) == 2
    assert pearl.llm.context_window == 4000  # the stated limit, for the rest of the process
    assert any("ran again" in note for note in answer.notes)
    answer = pearl.ask(LONG_STORY, "Who watched for the boat?", method="direct")
    assert len(fake_server.chat_requests) == 3  # fitted to the new window at once


def test_ask_answers_through_the_cli_when_the_server_refuses_a_long_prompt(
    fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    doc = tmp_path / "long.txt"
    doc.write_text(LONG_STORY, encoding="utf-8")
    fake_server.set_default(_refuse_over(4000, "vllm"))
    result = runner.invoke(app, ask_args(fake_server, doc))
    assert result.exit_code == 0, result.output
    assert "Varga kept it." in result.stdout and "PEARL_CONTEXT_WINDOW" not in result.output


def test_an_unstated_limit_lowers_the_window_by_a_quarter_and_a_second_refusal_is_raised(
    fake_server: FakeOpenAIServer,
) -> None:
    fake_server.set_default(Reply.error(400, "prompt is too long for this model"))
    llm = openai(fake_server)
    with pytest.raises(ContextOverflowError) as info:
        llm.complete(REQUEST)
    assert info.value.limit is None and llm.context_window == 6144 == info.value.window
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    # No number is offered as the fix: the window just refused was one ("set it to 4,608 or less").
    said = r"set context_window \(--context-window / PEARL_CONTEXT_WINDOW\) to the model's context length"
    with pytest.raises(ContextOverflowError, match=said) as info:
        pearl.ask(STORY, "Who kept the light?", method="direct")
    assert "or less" not in str(info.value)
    assert len(fake_server.chat_requests) == 3  # the call above, then the question and its one re-run


# --- item 11: secrets never leak through the server or the URL -------------------------------

SECRET = "sk-live-SECRET-0123456789abcdef"


@pytest.mark.parametrize("status", [400, 500])
def test_a_server_echoing_the_key_never_gets_it_shown(status: int) -> None:
    with FakeOpenAIServer() as server:
        server.set_default(Reply(status=status, echo_authorization=True))
        with pytest.raises(PearlError) as info:
            openai(server, api_key=SECRET, max_retries=0).complete(REQUEST)
        assert "Authorization" in str(info.value) and SECRET not in str(info.value)
        short = openai(server, api_key="x", max_retries=0)  # too short to search for: the pattern hides it
        with pytest.raises(PearlError) as info:
            short.complete(REQUEST)
        assert "Bearer ***" in str(info.value) and "Bearer x" not in str(info.value)


def test_server_text_cut_to_its_length_shows_the_cut() -> None:
    from pearl.llm._reply import Redactor

    # Cut mid-word with nothing to say so, "'finish_reason': 'st; retrying" read as the server's own words.
    assert Redactor()("x" * 500, 100) == "x" * 100 + "…"
    assert Redactor()("short", 100) == "short"


def test_an_echoed_key_stays_out_of_stderr_and_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEARL_API_KEY", SECRET)
    monkeypatch.setenv("PEARL_MAX_RETRIES", "0")
    with FakeOpenAIServer() as server:
        server.set_default(Reply(status=500, echo_authorization=True))
        result = runner.invoke(app, ask_args(server, story(tmp_path)))
        assert result.exit_code == 1 and "Authorization" in result.stderr
        assert SECRET not in result.output
        out = tmp_path / "run"
        dataset = REPO / "datasets" / "sample" / "custom.jsonl"
        args = ["eval", str(dataset), "--methods", "direct", "--limit", "1", "--out", str(out)]
        result = runner.invoke(app, [*args, "--base-url", server.base_url, "--model", "m"])
        assert SECRET not in result.output
    rows = (out / "results.jsonl").read_text(encoding="utf-8")
    assert '"error"' in rows and "Authorization" in rows and SECRET not in rows


# A key the server quotes that is not the one sent (OpenAI: "Incorrect API key provided: sk-..."): a key
# pasted for another account, or another server's, which must not reach a terminal, a log or a results file.
OTHER_KEY = "sk-proj-Other0123456789abcdefXYZ"
QUOTED = [
    f"Incorrect API key provided: {OTHER_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.",
    "Incorrect API key provided: sk-proj-abc*****************************xyz. You can find your API key at https://x",
    "invalid x-api-key: 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "{'error': 'unauthorized', 'api_key': 'Zq8hT2pLmN4vB6xC9kR1sW3y'}",
    "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U has expired",
    "API key not valid. Please pass a valid API key: AIzaSyA1234567890abcdefghijklmnopqrstu",
    "the password given was hunter22hunter22",
    "Invalid API key: gsk_4xQ9m2Lr8Tz6Wv1Yb3Nc5Pd7Hf0Jk",
    "Rejected csk-9fj3k2l1m0n8b7v6c5x4z3 for this endpoint",
    "Unauthorized: fw_3Zk8pQ2rT5vX9yB1nM4cL7hJ",
]
SECRET_PARTS = re.compile(r"Other0123|\*\*\*\*\*x|3f9a8b|Zq8hT2|eyJhbG|AIzaSy|hunter22|gsk_4x|csk-9f|fw_3Z")


@pytest.mark.parametrize("said", QUOTED)
def test_a_key_the_server_quotes_is_redacted_and_the_message_says_so(said: str) -> None:
    from pearl.llm._reply import Redactor

    shown = Redactor()(said, 300)
    assert not SECRET_PARTS.search(shown) and "[key redacted]" in shown
    assert shown.split()[0] == said.split()[0]  # what the server said of the key stays


@pytest.mark.parametrize(
    "said",
    [
        "hf_hub_download failed: invalid_api_key; find your key at https://example.com/account/api-keys.",
        "model meta-llama/Llama-3.1-8B-Instruct: maximum context length is 8192 tokens",
        "token expired; key rotated on 2024-05-01",
        "The key sk-learn is unknown",
        "The model pplx-70b-online does not exist",
        "model xai-grok-beta-2024 not found; try sk-llama-3.1-8b",
    ],
)
def test_words_that_are_no_key_stay_readable(said: str) -> None:
    from pearl.llm._reply import Redactor

    assert Redactor()(said, 300) == said


def test_a_key_cut_where_the_quote_is_cut_shows_no_part_of_it() -> None:
    from pearl.llm._reply import Redactor

    # The text is read to 4x the limit before the secrets in it are taken out: a key cut there no longer matched,
    # and the keys redacted before it made room for its first characters in the 100 shown.
    key = "Zq8hT2pLmN4vB6xC9kR1sW3y"
    said = ("sk-" + "a1" * 95 + " ") * 2 + f"user {key} is unknown"
    assert said.index(key) == 393  # cut at 400: 7 characters into the key
    shown = Redactor([key])(said, 100)
    assert shown.startswith("[key redacted] [key redacted] user") and "Zq8h" not in shown


def test_a_refusal_quoting_another_key_keeps_it_out_of_every_output(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        server.set_default(Reply.error(401, QUOTED[0]))
        with pytest.raises(LLMRequestError) as info:
            openai(server, api_key=SECRET).complete(REQUEST)
        assert OTHER_KEY not in str(info.value) and "provided: [key redacted]. You can find" in str(info.value)
        trace, out = tmp_path / "trace.json", tmp_path / "run"
        result = runner.invoke(app, [*ask_args(server, story(tmp_path)), "--json", "--trace", str(trace)])
        assert result.exit_code == 2 and "[key redacted]" in result.stderr and "[key redacted]" in result.stdout
        assert OTHER_KEY not in result.output and OTHER_KEY not in trace.read_text(encoding="utf-8")
        # A 401 stops an evaluation at once; a 400 lets it finish, its error in every result, trace and report.
        server.set_default(Reply.error(400, QUOTED[0]))
        dataset = REPO / "datasets" / "sample" / "custom.jsonl"
        args = ["eval", str(dataset), "--methods", "direct", "--limit", "2", "--out", str(out)]
        result = runner.invoke(app, [*args, "--base-url", server.base_url, "--model", "m"])
        assert result.exit_code == 1 and OTHER_KEY not in result.output
    written = {path.name: path.read_text(encoding="utf-8") for path in out.rglob("*") if path.is_file()}
    assert {"results.jsonl", "report.md", "report.html"} <= set(written) and len(written) > 6  # and the traces
    assert [name for name, text in written.items() if "[key redacted]" in text] != []
    assert [name for name, text in written.items() if OTHER_KEY in text] == []


def test_a_password_in_the_base_url_is_never_shown(tmp_path: Path) -> None:
    url = "http://user:hunter2-pass@127.0.0.1:9/v1"
    assert masked_url(url) == "http://user:***@127.0.0.1:9/v1"
    for args in (["config", "--base-url", url], ["config", "--base-url", url, "--json"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "hunter2" not in result.output and "user:***@127.0.0.1" in result.output
    settings = load_settings(base_url=url, model="m", max_retries=0)
    assert settings.base_url == url  # used as given; shown masked, as the key beside it (an app logging them with %r)
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings) and "user:***@" in repr(settings)
    llm = OpenAICompatibleLLM(settings)
    with pytest.raises(LLMConnectionError) as info:
        llm.complete(REQUEST)
    assert "hunter2" not in str(info.value) and "user:***@" in str(info.value) and "hunter2" not in repr(llm)
    result = runner.invoke(app, ["ask", str(story(tmp_path)), "q", "--base-url", url, "--model", "m", "-m", "direct"])
    assert "hunter2" not in result.output and "user:***@" in result.output


def test_a_server_quoting_the_url_password_does_not_leak_it() -> None:
    with FakeOpenAIServer() as server:
        url = server.base_url.replace("http://", "http://user:hunter2-pass@")
        server.set_default(
            Reply.error(400, f"cannot route http://user:hunter2-pass@{server.base_url[7:]} (hunter2-pass)")
        )
        with pytest.raises(LLMRequestError) as info:
            OpenAICompatibleLLM(load_settings(base_url=url, model="m")).complete(REQUEST)
    assert "hunter2" not in str(info.value)


# --- item 12 (part): an empty question, Ctrl-C while loading -------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "(A) yes (B) no"])
def test_an_empty_question_is_refused_before_any_call(question: str) -> None:
    fake = FakeLLM()
    pearl = Pearl(llm=fake, settings=load_settings(cache=False))
    plan = parse_plan('a = FIND_CHARACTER(CTX, "Varga")', pearl.library)
    for call in (
        lambda: pearl.ask(STORY, question),
        lambda: pearl.ask(STORY, question, method="direct"),
        lambda: pearl.plan(question),
        lambda: pearl.run_plan(STORY, question, plan),
    ):
        with pytest.raises(ConfigError, match="question is empty"):
            call()
    assert fake.history == []


def test_the_cli_refuses_an_empty_question(fake_server: FakeOpenAIServer, tmp_path: Path) -> None:
    result = runner.invoke(app, ask_args(fake_server, story(tmp_path), question="  "))
    assert result.exit_code == 2 and "question is empty" in result.output
    assert fake_server.chat_requests == []


_INTERRUPTED_LOAD = """
import importlib.abc, sys

class Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            raise KeyboardInterrupt  # Ctrl-C while this module loads
        return None

sys.meta_path.insert(0, Interrupt())
sys.argv = ["pearl", "--help"]
from {entry_module} import {entry_function}  # what the console script pip writes does
sys.exit({entry_function}())
"""


def _console_entry() -> tuple[str, str]:
    import tomllib

    with (REPO / "pyproject.toml").open("rb") as handle:
        target = tomllib.load(handle)["project"]["scripts"]["pearl"]
    module, function = target.split(":")
    return module, function


@pytest.mark.parametrize("module", ["pearl.context", "pearl.llm._openai", "typer", "pearl.cli._eval"])
def test_ctrl_c_while_pearl_loads_prints_interrupted(module: str) -> None:
    entry_module, entry_function = _console_entry()
    code = _INTERRUPTED_LOAD.format(module=module, entry_module=entry_module, entry_function=entry_function)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, cwd=REPO)
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip() == "interrupted" and out.returncode == 130


# --- bytes that are not UTF-8 in a question, an option or a file name --------------------


def test_bytes_that_are_not_utf8_in_the_question_options_and_file_name_are_replaced(
    fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # A shell passes them through; Python hands them over as lone surrogates ("surrogateescape"), which no
    # JSON body, file or hash can encode.
    doc = tmp_path / "story\udcff.txt"
    doc.write_text(STORY, encoding="utf-8")
    fake_server.set_default("Varga kept it.")
    target, page = tmp_path / "t.json", tmp_path / "p.html"
    args = ["ask", str(doc), "Who kept \udcff the light?", "-o", "Varga\ud800", "-o", "Dorota", "--html", str(page)]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m", "--trace", str(target)])
    assert result.exit_code == 0, result.output
    # The page shows the document asked about, though its file's name cannot be written down to read it again.
    assert "not shown" not in result.stderr and STORY.split(".")[0] in page.read_text(encoding="utf-8")
    sent = json.dumps(fake_server.chat_requests[-1].json, ensure_ascii=False)
    assert "Who kept \ufffd the light?" in sent and "Varga\ufffd" in sent
    trace = Trace.model_validate_json(target.read_text(encoding="utf-8"))
    assert trace.question == "Who kept \ufffd the light?"


def test_a_document_or_question_made_in_code_with_lone_surrogates_keeps_its_offsets() -> None:
    document = Document.from_text("Alice \ud800 went home.", name="notes\udcff.md")
    assert document.text == "Alice \ufffd went home." and document.name == "notes\ufffd.md"
    assert document.parts[0].name == "notes\ufffd.md" and document.parts[0].end == len(document.text)
    assert document.content_hash  # hashable: the text encodes
    assert Question(text="Why \udcff?", options=["a\ud800", "b"]).options[0] == "a\ufffd"


def test_bytes_that_are_not_utf8_in_a_given_plan_are_replaced(fake_server: FakeOpenAIServer, tmp_path: Path) -> None:
    fake_server.set_default("Varga kept it.")
    plan = 's1 = FIND_X(CTX, "the light \udcff keeper")\ns2 = ANSWER(CTX, "Who kept the light?")'
    args = ["ask", str(story(tmp_path)), "Who kept the light?", "--plan", plan]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 0, result.output
    assert any("the light \ufffd keeper" in json.dumps(r.json, ensure_ascii=False) for r in fake_server.chat_requests)


def test_html_and_trace_on_the_same_file_are_refused_before_any_call(
    fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    same = tmp_path / "out.txt"
    result = runner.invoke(app, [*ask_args(fake_server, story(tmp_path)), "--html", str(same), "--trace", str(same)])
    assert result.exit_code == 2 and "--html and --trace both name" in result.stderr
    assert fake_server.chat_requests == []
