"""The command line as a person meets it: progress while a question runs, help at 80 columns, the
settings shown, a mining run with nothing usable, Ctrl-C, swapped arguments, an overlong question."""

from __future__ import annotations

import fcntl
import functools
import io
import json
import logging
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from pearl import Pearl, index_document, load_settings
from pearl._text import shorten
from pearl.cli import _ask, _context, app
from pearl.cli._common import StderrHandler, echo
from pearl.cli._progress import ProgressBar, StageLine, describe_stage
from pearl.config import default_threads
from pearl.context import count_words
from pearl.llm import CompletionRequest, FakeLLM
from pearl.prompts import CUT_MARK
from pearl.trace import render_trace

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "datasets" / "sample" / "the_keeper_of_tren_light.txt"
QUESTIONS = REPO / "datasets" / "sample" / "questions.jsonl"
QUESTION = "Why did Dorota put water in the lamp oil?"
# Two steps that read the document, then one that does not (the last step that reads the document would
# otherwise be carried out by the final answer call).
TWO_STEPS = (
    'reason = FIND_REASON(CTX, "Dorota put water in the lamp oil")\nwho = FIND_CHARACTER(CTX, "Dorota")\n'
    'end = ANSWER_FROM(who, "Why did Dorota put water in the lamp oil?")'
)

runner = CliRunner()


def _server(fake_server: Any) -> list[str]:
    """Point a command at the fake server, which plans two steps and answers everything else in one line."""
    fake_server.set_default(
        lambda body: TWO_STEPS if "Plan:" in body["messages"][-1]["content"] else "Because of her grandmother."
    )
    return ["--base-url", fake_server.base_url, "--model", "m"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# --- 1. progress -------------------------------------------------------------------------------------------


def test_pearl_tells_each_stage_as_it_starts() -> None:
    told: list[tuple[str, int, int]] = []
    seen_at_call: list[str] = []

    def reply(request: CompletionRequest) -> str:
        seen_at_call.append(told[-1][0])  # the stage told last is the call being made
        kind = (request.prompt or "").split(".")[0]
        return TWO_STEPS if kind == "plan" else "Because of her grandmother [S3]."

    pearl = Pearl(
        llm=FakeLLM(default=reply),
        settings=load_settings(cache=False),
        on_stage=lambda stage, done=0, total=0: told.append((stage, done, total)),
    )
    pearl.ask(SAMPLE, QUESTION)
    words = len(SAMPLE.read_text(encoding="utf-8").split())
    assert told[0] == ("index", 0, words)
    assert told[-1] == ("index", words, words) or ("index", words, words) in told
    calls = [t for t in told if t[0] != "index"]
    assert calls == [
        ("plan (attempt 1)", 1, 8),
        ("step reason = FIND_REASON", 1, 3),
        ("step who = FIND_CHARACTER", 2, 3),
        ("answer", 3, 3),  # it carries out end = ANSWER_FROM(who, ...), which reads a result and no document
    ]
    assert sorted(seen_at_call) == sorted(stage for stage, _, _ in calls)


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (
            'why = FIND_REASON(CTX, "lamp oil")\nend = ANSWER(CTX, "Why did Dorota put water in the lamp oil?")',
            [("step why = FIND_REASON", 1, 2), ("answer", 2, 2)],
        ),
        (
            'who = FIND_CHARACTER(CTX, "Dorota")\nwhy = FIND_REASON(CTX, "water in the lamp oil")\n'
            "both = CONCAT(who, why)",
            [("step who = FIND_CHARACTER", 1, 3), ("answer", 2, 3)],
        ),
    ],
)
def test_a_step_the_answer_call_carries_out_keeps_its_number_in_the_plan(
    plan: str, expected: list[tuple[str, int, int]]
) -> None:
    # Counted from the steps that ran before it, FIND + ANSWER showed "step 1/1" and then "answering".
    told: list[tuple[str, int, int]] = []
    pearl = Pearl(
        llm=FakeLLM(default=lambda r: plan if (r.prompt or "").startswith("plan") else "Because of her grandmother."),
        settings=load_settings(cache=False),
        on_stage=lambda stage, done=0, total=0: told.append((stage, done, total)),
    )
    pearl.ask(SAMPLE, QUESTION)
    assert [t for t in told if t[0] not in ("index", "plan (attempt 1)")] == expected
    assert describe_stage(*expected[-1]) == f"answering (step {expected[-1][1]}/{expected[-1][2]})"


def test_indexing_is_told_also_when_the_index_comes_from_the_cache() -> None:
    index_document(SAMPLE)  # now on disk: building it again tells no progress
    told: list[tuple[str, int, int]] = []
    pearl = Pearl(
        llm=FakeLLM(default="B"),
        settings=load_settings(cache=False),
        on_stage=lambda stage, done=0, total=0: told.append((stage, done, total)),
    )
    pearl.ask(SAMPLE, QUESTION, method="rag")
    assert told == [("index", 0, len(SAMPLE.read_text(encoding="utf-8").split())), ("answer", 0, 0)]


def test_stages_read_as_a_person_would_say_them() -> None:
    assert describe_stage("index", 0, 300_000) == "indexing 300,000 words"
    assert describe_stage("index", 120_000, 300_000) == "indexing 300,000 words  40%"
    assert describe_stage("plan (attempt 1)", 1, 8) == "planning"
    assert describe_stage("plan (attempt 2)", 2, 8).startswith("planning (attempt 2 of at most 8")
    assert describe_stage("step s2 = FIND_X", 2, 4) == "step 2/4 FIND_X"
    assert describe_stage("answer") == "answering"


def test_the_stage_line_is_drawn_only_on_a_terminal_and_erased() -> None:
    plain = io.StringIO()
    StageLine(plain)("plan (attempt 1)", 1, 8)
    assert plain.getvalue() == ""
    quiet = _Terminal()
    StageLine(quiet, quiet=True)("plan (attempt 1)", 1, 8)
    assert quiet.getvalue() == ""
    terminal = _Terminal()
    line = StageLine(terminal)
    line("step s2 = FIND_X", 2, 4)
    line.close()
    assert terminal.getvalue().startswith("\rpearl: step 2/4 FIND_X  0s\x1b[K")
    assert terminal.getvalue().endswith("\r\x1b[K")  # nothing of it stays above what comes next


def test_the_stage_line_keeps_counting_while_a_stage_waits() -> None:
    terminal = _Terminal()
    line = StageLine(terminal, tick=0.01)
    line("plan (attempt 1)", 1, 8)
    time.sleep(0.2)
    line.close()
    drawn = terminal.getvalue()
    assert drawn.count("pearl: planning") > 3
    time.sleep(0.05)
    assert terminal.getvalue() == drawn  # closed: no more redraws


def test_ask_on_a_terminal_shows_its_stages_on_stderr_and_keeps_json_clean(
    fake_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_ask, "StageLine", functools.partial(StageLine, tty=True))
    result = runner.invoke(app, ["ask", str(SAMPLE), QUESTION, "--json", *_server(fake_server)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answer"]  # stdout is the JSON alone
    drawn = [piece for piece in result.stderr.split("\r") if piece.startswith("pearl: ")]
    shown = [re.sub(r"  \d+s\x1b\[K$", "", piece) for piece in drawn]
    assert shown[0].startswith("pearl: indexing 3,") and "words" in shown[0]
    for stage in ("pearl: planning", "pearl: step 1/3 FIND_REASON", "pearl: step 2/3 FIND_CHARACTER"):
        assert stage in shown
    assert shown[-1] == "pearl: answering (step 3/3)"  # the answer call carries out the closing ANSWER_FROM
    assert "\r\x1b[K" in result.stderr  # erased before the answer


def test_ask_draws_nothing_off_a_terminal_or_with_quiet(fake_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = _server(fake_server)
    result = runner.invoke(app, ["ask", str(SAMPLE), QUESTION, *server])
    assert result.exit_code == 0 and "pearl: " not in result.stderr and "\r" not in result.stderr
    monkeypatch.setattr(_ask, "StageLine", functools.partial(StageLine, tty=True))
    result = runner.invoke(app, ["ask", str(SAMPLE), QUESTION, "--quiet", *server])
    assert result.exit_code == 0 and "pearl: " not in result.stderr


def test_index_on_a_terminal_shows_how_far_it_has_got(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_context, "StageLine", functools.partial(StageLine, tty=True))
    result = runner.invoke(app, ["index", str(SAMPLE), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "pearl: indexing" in result.stderr and "pearl: " not in result.stdout


def _stage_line_test_logger(stream: io.StringIO) -> logging.Logger:
    logger = logging.getLogger("pearl.tests.stage_line")
    logger.handlers = [StderrHandler(stream)]
    logger.propagate = False
    return logger


def test_a_log_record_written_while_the_line_is_up_erases_it_first_and_the_line_is_drawn_again() -> None:
    terminal = _Terminal()
    line = StageLine(terminal, tick=60)
    line("step s2 = FIND_CHARACTER", 2, 2)
    _stage_line_test_logger(terminal).warning("rate limited; retrying in 0.5s")
    line.close()
    drawn = "\rpearl: step 2/2 FIND_CHARACTER  0s\x1b[K"
    assert terminal.getvalue() == f"{drawn}\r\x1b[KWARNING: rate limited; retrying in 0.5s\n{drawn}\r\x1b[K"


def test_a_note_printed_while_the_line_is_up_erases_it_first(capsys: pytest.CaptureFixture[str]) -> None:
    line = StageLine(tty=True, tick=60)
    line("answer")
    echo("note: something to know", err=True)
    line.close()
    err = capsys.readouterr().err
    assert "\r\x1b[Knote: something to know\n\rpearl: answering" in err


def test_a_progress_bar_steps_around_a_log_record_too() -> None:
    terminal = _Terminal()
    bar = ProgressBar("eval", terminal)
    bar(1, 4)
    _stage_line_test_logger(terminal).warning("slow server")
    bar(4, 4)
    pieces = terminal.getvalue().split("\r")
    assert pieces[2] == "\x1b[KWARNING: slow server\n"  # erased, then the record on a line of its own
    assert pieces[3].startswith("eval [#####---------------] 1/4")  # drawn again
    assert pieces[4].startswith("eval [####################] 4/4")


def test_the_command_sends_log_records_and_warnings_around_the_line() -> None:
    # In a fresh process, as `pearl` sets up logging: a warning would otherwise be written straight to stderr.
    script = (
        "import logging, warnings\n"
        "from pearl.cli import _log_to_stderr\n"
        "from pearl.cli._progress import StageLine\n"
        "_log_to_stderr()\n"
        "line = StageLine(tty=True, tick=60)\n"
        "line.show('indexing')\n"
        "logging.getLogger('pearl.llm').warning('rate limited')\n"
        "warnings.warn('the entity model is missing', RuntimeWarning)\n"
        "line.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pieces = done.stderr.decode().split("\r")  # read as bytes: text mode would turn each \r into a newline
    assert pieces[2] == "\x1b[KWARNING: rate limited\n", pieces
    assert pieces[3].startswith("pearl: indexing")
    assert pieces[4].startswith("\x1b[KWARNING: ") and "RuntimeWarning: the entity model is missing" in pieces[4]
    assert pieces[5].startswith("pearl: indexing") and pieces[-1] == "\x1b[K"


def test_ask_in_a_terminal_writes_a_retry_warning_on_a_line_of_its_own(fake_server: Any) -> None:
    from fakeserver import Reply

    fake_server.enqueue(TWO_STEPS, Reply.rate_limited(retry_after=0.1))  # the plan, then a 429 on the first step
    args = [sys.executable, "-m", "pearl", "ask", str(SAMPLE), QUESTION, *_server(fake_server), "--no-cache"]
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    try:
        child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        child.stdout.read()  # type: ignore[union-attr]
        child.wait(timeout=120)
        err = b""
        while chunk := _read_pty(master):
            err += chunk
    finally:
        os.close(master)
    text = err.decode()
    assert child.returncode == 0, text
    warning = text.index("WARNING: rate limited")
    assert text[:warning].endswith("\r\x1b[K"), text  # the line was erased first, not written after
    assert text[warning:].split("\n", 1)[1].startswith("\rpearl: ")  # and drawn again after


def _read_pty(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed its end
        return b""


_NO_MODEL = "/nonexistent/model.gguf"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["ask", "{binary}", QUESTION], "looks like a binary file"),
        (["ask", "{missing}", QUESTION], "no such file"),
        (["ask", str(SAMPLE), "   "], "the question is empty"),
        (["ask", str(SAMPLE), "(A) yes (B) no"], "the question is empty"),
        (["plan", QUESTION, "--file", "{binary}"], "looks like a binary file"),
        (["plan", "  "], "the question is empty"),
    ],
    ids=["binary file", "missing file", "empty question", "options alone", "plan binary file", "plan empty question"],
)
def test_bad_input_is_reported_before_the_embedded_model_is_loaded(
    command: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"a\x00b")
    monkeypatch.setenv("PEARL_EMBEDDED_MODEL", _NO_MODEL)  # no base URL: the embedded model, which is missing
    args = [arg.format(binary=binary, missing=tmp_path / "missing.txt") for arg in command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and expected in result.stderr and _NO_MODEL not in result.stderr


def test_with_good_input_the_embedded_model_is_loaded_saying_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEARL_EMBEDDED_MODEL", _NO_MODEL)
    monkeypatch.setattr(_ask, "StageLine", functools.partial(StageLine, tty=True))
    result = runner.invoke(app, ["ask", str(SAMPLE), QUESTION])
    assert result.exit_code == 2
    assert "\rpearl: loading the embedded model  0s" in result.stderr and _NO_MODEL in result.stderr


# --- 2. help -----------------------------------------------------------------------------------------------

COMMANDS = [["ask"], ["plan"], ["index"], ["context"], ["eval"], ["mine"], ["refine"], ["config"], ["trace", "show"]]


def _help(command: list[str]) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_reads_cleanly_at_80_columns(command: list[str]) -> None:
    text = _help(command)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert not re.search(r"<(str|int|float|bool|path|list\[[^]]*\])>|list\[|\{\w+\}", text), text
    usage = text.splitlines()[0]
    assert usage.startswith(f"Usage: pearl {' '.join(command)} [OPTIONS]") and "_" not in usage
    # The description's paragraphs are re-wrapped: only a paragraph's last line may stop short.
    body = text.split("\n\n", 1)[1].split("\nArguments:")[0].split("\nOptions:")[0]
    for paragraph in body.split("\n\n"):
        lines = paragraph.splitlines()
        assert all(len(line) > 50 for line in lines[:-1]), paragraph


def test_ask_help_names_its_arguments_as_typed() -> None:
    text = _help(["ask"])
    assert text.startswith("Usage: pearl ask [OPTIONS] FILE... QUESTION\n")
    assert "-o, --option TEXT" in text and "--trace FILE" in text and "\n  --json  " in text
    assert "also when the question fails (up to the failure)" in " ".join(text.split())


EVERY_COMMAND = [
    *([name] for name in ("ask", "plan", "index", "context", "eval", "compare", "mine", "refine", "config")),
    *(["trace", name] for name in ("show", "html")),
    *(["actions", name] for name in ("list", "show", "diff", "import", "export")),
]


def test_every_command_is_listed() -> None:
    def leaves(command: Any, path: list[str]) -> list[list[str]]:  # typer's own click: its groups have commands
        subs = getattr(command, "commands", None)
        return [leaf for name, sub in subs.items() for leaf in leaves(sub, [*path, name])] if subs else [path]

    assert sorted(leaves(typer.main.get_command(app), [])) == sorted(EVERY_COMMAND)


@pytest.mark.parametrize("command", [*EVERY_COMMAND, [], ["trace"], ["actions"]], ids=lambda c: " ".join(c) or "pearl")
def test_help_ends_with_an_example(command: list[str]) -> None:
    # The README promises it of every command ("Every command at a glance"); `pearl --help`, `pearl trace --help`
    # and `pearl actions --help` ended with their lists of commands.
    text = _help(command)
    example = text.split("Example:\n", 1)[1].splitlines()[0]
    assert example.startswith(f"    {' '.join(['pearl', *command])} ") and len(example) <= 80
    assert text.rstrip().splitlines()[-1].startswith("    pearl ")


# --- 3. config ---------------------------------------------------------------------------------------------


def test_config_shows_the_window_and_threads_used(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = {line.split()[0]: line.split(None, 2)[1:] for line in runner.invoke(app, ["config"]).stdout.splitlines()}
    assert lines["context_window"] == ["8192", "default"]
    assert lines["threads"][0] == str(default_threads()) and lines["threads"][1].startswith("default (")
    shown = json.loads(runner.invoke(app, ["config", "--json"]).stdout)
    assert shown["context_window"] == 8192 and shown["threads"] == default_threads()
    monkeypatch.setenv("PEARL_CONTEXT_WINDOW", "4096")
    monkeypatch.setenv("PEARL_THREADS", "3")
    shown = json.loads(runner.invoke(app, ["config", "--json"]).stdout)
    assert shown["context_window"] == 4096 and shown["threads"] == 3


def test_config_says_what_is_not_set_and_names_a_variable_it_does_not_read(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # "model  None  default" read as a model named None; PEARL_MODLE=x was ignored in silence.
    for name in ("PEARL_BASE_URL", "PEARL_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PEARL_MODLE", "qwen")
    monkeypatch.setattr("pearl.config._UNKNOWN_SAID", set())  # said once a process
    with caplog.at_level(logging.WARNING):
        lines = {line.split()[0]: line for line in runner.invoke(app, ["config"]).stdout.splitlines()}
    assert lines["model"].split(None, 1)[1].startswith("(not set)")
    assert json.loads(runner.invoke(app, ["config", "--json"]).stdout)["model"] is None  # the value as it is
    said = [r.getMessage() for r in caplog.records if "PEARL_MODLE" in r.getMessage()]
    assert said == ["pearl reads no environment variable PEARL_MODLE (did you mean PEARL_MODEL?); it is ignored"]


@pytest.mark.usefixtures("embedded_model_untouched")
def test_a_model_named_without_a_base_url_is_refused_before_the_embedded_model_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = runner.invoke(app, ["ask", str(SAMPLE), QUESTION, "--model", "qwen"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: --model qwen names a model on a server, but no base URL is set, so the embedded demonstration "
        "model would answer instead; give --base-url URL (or set PEARL_BASE_URL) as well, or leave --model out "
        "to use the embedded model"
    ]
    monkeypatch.setenv("PEARL_MODEL", "qwen")
    result = runner.invoke(app, ["plan", QUESTION])
    assert result.exit_code == 2 and "error: model 'qwen' (env PEARL_MODEL) names a model on a server" in result.stderr
    assert "or unset PEARL_MODEL to use the embedded model" in result.stderr
    # `pearl config` shows the settings all the same, with the same words as a note.
    result = runner.invoke(app, ["config", "--model", "m"])
    assert result.exit_code == 0 and re.search(r"^model +m +flag --model$", result.stdout, re.M)
    assert result.stderr.startswith("note: --model m names a model on a server, but no base URL is set")


# --- 4. mining with nothing usable -------------------------------------------------------------------------


def test_mine_with_no_usable_reply_fails_and_leaves_the_library_alone(fake_server: Any, tmp_path: Path) -> None:
    fake_server.set_default("r = FIND_REASON(CTX, 'why')")  # a plan, not the mining format
    out = tmp_path / "mined.json"
    out.write_text("the library of an earlier run", encoding="utf-8")
    args = ["mine", "--questions", str(QUESTIONS), "--limit", "3", "-o", str(out)]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 2 and f"--out {out} exists: add --force to replace it" in result.stderr
    assert f"to add to the library it holds, give --actions {out}" in result.stderr
    assert not fake_server.requests  # refused before a call is paid for
    result = runner.invoke(app, [*args, "--force", "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "no usable reply for any of 3 questions (3 malformed, 0 failed" in errors[0]
    assert f"{out} was not written" in errors[0] and "check the model" in errors[0]
    assert out.read_text(encoding="utf-8") == "the library of an earlier run"
    assert "wrote" not in result.stdout


# --- 5. Ctrl-C ---------------------------------------------------------------------------------------------


def test_ctrl_c_during_a_command_says_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Pearl, "ask", interrupted)
    result = runner.invoke(app, ["ask", str(SAMPLE), QUESTION, "--base-url", "http://127.0.0.1:9/v1", "--model", "m"])
    assert result.exit_code == 130
    assert result.stderr == "interrupted\n"


def _stopped_while_waiting(fake_server: Any, command: list[str], stop: signal.Signals) -> tuple[int, str, str]:
    """Run `command` against a server that answers late, send `stop` once it has asked, and return its
    exit code, standard error and standard output."""
    from fakeserver import Reply

    fake_server.set_default(Reply(content="late", delay=30))
    # `python -m pearl`, with Ctrl-C's default handling as a terminal's foreground process has it: run as a
    # shell's background job (`pytest &`, as a script may start CI), the tests' children would start with SIGINT
    # ignored, as every background job's are, and never stop.
    foreground = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "runpy.run_module('pearl', run_name='__main__', alter_sys=True)"
    )
    command = [sys.executable, "-c", foreground, *command, "--base-url", fake_server.base_url, "--model", "m"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while not fake_server.requests and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert fake_server.requests, "the command never reached the model"
        child.send_signal(stop)
        stdout, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode, stderr, stdout


def test_sigint_while_waiting_for_the_model_says_interrupted(fake_server: Any) -> None:
    code, stderr, stdout = _stopped_while_waiting(fake_server, ["plan", QUESTION, "--json"], signal.SIGINT)
    assert code == 130
    assert stderr.strip().splitlines()[-1] == "interrupted"
    # With --json, stdout is JSON an interruption's too (it was empty).
    printed = json.loads(stdout)
    assert printed["error"] == "interrupted" and printed["plan"] is None and printed["question"] == QUESTION


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_sigterm_stops_ask_as_ctrl_c_does_and_writes_the_trace(
    fake_server: Any, tmp_path: Path, stop: signal.Signals, code: int
) -> None:
    # SIGTERM (kill, a container stopping) ended the process at once, with no trace written.
    trace = tmp_path / "t.json"
    command = ["ask", str(SAMPLE), QUESTION, "-m", "rag", "--trace", str(trace), "--json"]
    returncode, stderr, stdout = _stopped_while_waiting(fake_server, command, stop)
    assert returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted"
    kept = json.loads(trace.read_text(encoding="utf-8"))
    assert kept["question"] == QUESTION
    # It read as a trace that went no further: it says it was stopped, and while waiting for which call.
    assert kept["events"][-1]["stage"] == "interrupted", kept["events"]
    assert kept["events"][-1]["error"].startswith("interrupted during "), kept["events"][-1]
    # With --json, stdout is JSON an interrupted question's too (it was empty): what it cost so far.
    printed = json.loads(stdout)
    assert printed["error"] == "interrupted" and printed["question"] == QUESTION and printed["usage"]["calls"] == 0


# --- 6. swapped arguments ----------------------------------------------------------------------------------


def test_ask_with_the_question_first_says_it_goes_last() -> None:
    result = runner.invoke(app, ["ask", QUESTION, str(SAMPLE)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f'error: "{QUESTION}" is not a file, but the last argument is')
    assert 'the question goes last, as in pearl ask FILE... "QUESTION"' in result.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["ask", "Why", "did", "she", "go?"], '"Why" is no file or folder: if the words from it on are the question'),
        (["ask", "{sample}", "Why", "did", "she", "go?"], '"Why" is no file or folder: if the words from it on are'),
        (["context", "{sample}", "lamp", "oil"], '"lamp" is no file or folder: if the words from it on are the query'),
    ],
    ids=["ask", "ask-after-a-file", "context"],
)
def test_a_question_unquoted_is_told_to_be_quoted(args: list[str], said: str) -> None:
    # Its words were read as files: "error: Why: no such file or directory".
    result = runner.invoke(app, [arg.format(sample=SAMPLE) for arg in args])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert said in result.stderr and "put them in quotes, as in pearl " in result.stderr, result.stderr


def test_options_in_the_question_and_given_with_o_are_refused_in_the_commands_terms() -> None:
    # It ended "for a question whose text holds such marks, Question(text=..., options=[...])": Python only.
    result = runner.invoke(app, ["ask", str(SAMPLE), "Which? (A) x (B) y", "-o", "A", "-o", "B"])
    assert result.exit_code == 2, result.output
    assert result.stderr.endswith("give the options once, in the question or as options (-o)\n"), result.stderr


def test_a_quoted_question_after_a_mistyped_file_is_told_the_file_is_missing() -> None:
    result = runner.invoke(app, ["ask", "contrat", "Who signs the contract?"])
    assert result.exit_code == 2 and result.stderr == "error: contrat: no such file or directory\n", result.stderr


def test_ask_with_the_question_forgotten_refuses_the_last_file_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "notes.md"
    other.write_text("# Notes\n\nNothing here.\n", encoding="utf-8")
    result = runner.invoke(app, ["ask", str(SAMPLE), str(other)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f'error: the last argument, "{shorten(str(other), 60)}", is a file, not a question')
    spaced = tmp_path / "My Notes.md"
    spaced.write_text("# Notes\n", encoding="utf-8")
    assert "is a file, not a question" in runner.invoke(app, ["ask", str(SAMPLE), str(spaced)]).stderr
    # `pearl ask src/*.py`: a source file, which pearl reads as code, is a file too.
    tool = tmp_path / "tool.py"
    tool.write_text("def main():\n    return 0\n", encoding="utf-8")
    assert "is a file, not a question" in runner.invoke(app, ["ask", str(SAMPLE), str(tool)]).stderr
    # A file pearl does not read (`questions.jsonl`) was asked as the question, and every call paid for.
    data = tmp_path / "questions.jsonl"
    data.write_text('{"q": 1}\n', encoding="utf-8")
    result = runner.invoke(app, ["ask", str(SAMPLE), str(data)])
    assert result.exit_code == 2 and "is a file, not a question: give the question last" in result.stderr
    # `pearl ask docs docs2`: a folder last was asked as the question.
    folder = tmp_path / "My Docs"
    folder.mkdir()
    for last in (str(folder), f"{folder}/", str(tmp_path)):
        result = runner.invoke(app, ["ask", str(SAMPLE), last])
        assert result.exit_code == 2 and "is a folder, not a question: give the question last" in result.stderr, last
    monkeypatch.chdir(tmp_path)
    for query in ("My Docs", "tests", str(folder)):  # keywords that name a folder: a query still, and nothing is paid
        (tmp_path / "tests").mkdir(exist_ok=True)
        result = runner.invoke(app, ["context", str(SAMPLE), query])
        assert result.exit_code == 0 and "kept" in result.stdout, query


@pytest.mark.parametrize(
    ("args", "said"),
    [
        # The query first read as a missing file; forgotten, click named the files as missing.
        (["context", "Why water?", str(SAMPLE)], 'the query goes last, as in pearl context FILE... "QUERY"'),
        (["context", str(SAMPLE)], 'give a file and a query: pearl context FILE... "QUERY"'),
        (["context", str(SAMPLE), str(SAMPLE)], "is a file, not a query"),
        # An empty query is no file: "the last argument is [a file]" named the current folder.
        (["context", "missing.txt", ""], "the query is empty"),
        # An empty --focus centred on nothing, with a note calling it an unknown name.
        (["context", str(SAMPLE), "water", "-f", " "], "a --focus is empty: give the entity or phrase"),
        # The file given as the question was planned for (exit 0).
        (["plan", str(SAMPLE)], "is a file, not a question: give the question after it, in quotes, as in pearl plan"),
        # The library's file where the action's name goes read as a missing library.
        (["actions", "show", str(QUESTIONS), "FIND_X"], "the action's name goes first: pearl actions show NAME FILE"),
        # The name forgotten: "library default has no action /PATH/QUESTIONS.JSONL".
        (["actions", "show", str(QUESTIONS)], "is a file, not an action's name: pearl actions show NAME"),
    ],
    ids=[
        "context-query-first",
        "context-query-forgotten",
        "context-file-as-query",
        "context-missing-file-empty-query",
        "context-empty-focus",
        "plan-file",
        "actions-show",
        "actions-show-name-forgotten",
    ],
)
def test_other_commands_say_which_argument_goes_where(args: list[str], said: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and said in result.stderr, result.output
    assert result.stderr.count("\n") == 1, result.stderr


def test_context_takes_files_then_its_query() -> None:
    result = runner.invoke(app, ["context", str(SAMPLE), str(SAMPLE), "lamp oil", "--budget", "100", "--no-ner"])
    assert result.exit_code == 0 and "[S" in result.stdout, result.output


def test_ask_with_a_missing_file_still_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", str(tmp_path / "missing.txt"), QUESTION])
    assert result.exit_code == 2 and "no such file" in result.stderr and "goes last" not in result.stderr


# --- 7. an overlong question -------------------------------------------------------------------------------


def test_a_100k_character_question_is_answered_with_a_note_that_it_was_cut(fake_server: Any) -> None:
    question = "Why? " + "Tell me more about the lamp." * 3500
    result = runner.invoke(app, ["ask", str(SAMPLE), question, "--json", *_server(fake_server)])
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert [note for note in notes if note.startswith(f"the question is {len(question):,} characters")], notes


def test_plan_says_when_the_question_was_cut_and_gives_it_as_ask_does(fake_server: Any) -> None:
    # `pearl plan` cut a long question to fit the planning prompt and said nothing (the planner never saw its end), and
    # its --json gave the question with its options in it, where `ask --json` gives them apart (helper-168).
    question = "Who keeps the light? " + "Tell me more about the lamp. " * 3500 + "(A) Varga (B) Dorota"
    result = runner.invoke(app, ["plan", str(SAMPLE), question, *_server(fake_server)])
    assert result.exit_code == 0, result.output
    assert "note: the question is " in result.stderr and "saw only the first" in result.stderr
    shown = json.loads(runner.invoke(app, ["plan", str(SAMPLE), question, "--json", *_server(fake_server)]).stdout)
    assert shown["options"] == ["Varga", "Dorota"] and not shown["question"].endswith("(B) Dorota")
    assert [note for note in shown["notes"] if note.startswith("the question is ")], shown["notes"]
    short = json.loads(runner.invoke(app, ["plan", str(SAMPLE), QUESTION, "--json", *_server(fake_server)]).stdout)
    assert short["notes"] == []


def test_a_question_cut_to_fit_the_prompts_says_so() -> None:
    def reply(request: CompletionRequest) -> str:
        return TWO_STEPS if (request.prompt or "").startswith("plan.") else "Because of her grandmother [S3]."

    pearl = Pearl(llm=FakeLLM(default=reply), settings=load_settings(cache=False))
    long_question = QUESTION + " Consider" + " the lamp, the oil and the water" * 300
    answer = pearl.ask(SAMPLE, long_question)
    cut = [note for note in answer.notes if note.startswith("the question is")]
    assert len(cut) == 1, answer.notes
    kept = int(re.search(r"saw only the first ([\d,]+)", cut[0]).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert f"the question is {len(long_question):,} characters" in cut[0] and 0 < kept < len(long_question)
    short = pearl.ask(SAMPLE, QUESTION)
    assert not [note for note in short.notes if note.startswith("the question is")]


@pytest.mark.parametrize("method", ["rag", "direct", "pearl"])
def test_the_cut_note_counts_what_the_prompts_kept_also_when_the_question_quotes_the_document(method: str) -> None:
    quoted = "There was water in the paraffin: not much, a finger's depth lying under the oil, but why?"
    assert quoted[:40] in SAMPLE.read_text(encoding="utf-8")  # so a search for the question finds the document
    question = quoted + " Consider the lamp and the oil and the water." * 400

    def reply(request: CompletionRequest) -> str:
        return TWO_STEPS if (request.prompt or "").startswith("plan.") else "Because of the water [S3]."

    answer = Pearl(llm=FakeLLM(default=reply), settings=load_settings(cache=False)).ask(SAMPLE, question, method=method)
    notes = [note for note in answer.notes if note.startswith("the question is")]
    assert len(notes) == 1, answer.notes
    seen = int(re.search(r"saw only the first ([\d,]+)", notes[0]).group(1).replace(",", ""))  # type: ignore[union-attr]
    calls = [event for event in answer.trace.events if event.prompt]
    prompts = ["\n".join(m.content for m in event.messages) for event in calls]
    assert any(question[:seen] + CUT_MARK in prompt for prompt in prompts), seen
    # Each call records what its own prompt kept of the question: the steps' prompts too (the executor fits them).
    cut = [(event, prompt) for event, prompt in zip(calls, prompts, strict=True) if "question" in event.cut]
    assert min(event.cut["question"] for event, _ in cut) == seen
    for event, prompt in cut:
        assert question[: event.cut["question"]] + CUT_MARK in prompt and question not in prompt
    if method == "pearl":
        assert {event.stage.split(" ")[0] for event, _ in cut} >= {"plan", "step", "answer"}
    assert "cut to fit the window: question to" in render_trace(answer.trace)


# --- 8. small things ---------------------------------------------------------------------------------------


def test_index_on_a_terminal_tells_the_document_in_words_as_ask_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_context, "StageLine", functools.partial(StageLine, tty=True))
    result = runner.invoke(app, ["index", str(SAMPLE), "--no-cache", "--no-ner"])
    assert result.exit_code == 0, result.output
    drawn = [re.sub(r"  \d+s\x1b\[K$", "", piece) for piece in result.stderr.split("\r") if piece.startswith("pearl: ")]
    words = f"pearl: indexing {count_words(SAMPLE.read_text(encoding='utf-8')):,} words"
    assert drawn and all(piece.startswith(words) for piece in drawn), drawn
    assert "characters" not in result.stderr


def test_the_stage_line_fits_the_terminal_it_is_drawn_on_not_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # what stdout's width would be taken from: stdout is not a terminal here
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))  # stderr's terminal: 40 columns
    with os.fdopen(slave, "w", encoding="utf-8") as stream:
        line = StageLine(stream, tick=60)
        line.show("indexing " + "x" * 100)
        line.close()
    drawn = b""
    while chunk := _read_pty(master):
        drawn += chunk
    os.close(master)
    shown = drawn.decode().split("\r")[1].removesuffix("\x1b[K")
    assert shown.startswith("pearl: indexing x") and len(shown) == 39  # one short of the edge: no wrap


def test_shorten_keeps_a_short_text_and_cuts_a_long_one_to_the_width() -> None:
    assert shorten("a" * 60, 60) == "a" * 60
    assert shorten("a" * 61, 60) == "a" * 57 + "..."


def test_one_option_and_mine_without_input_are_refused_with_what_to_give() -> None:
    result = runner.invoke(app, ["ask", str(SAMPLE), QUESTION, "-o", "only one"])
    assert result.exit_code == 2 and "one option: a multiple-choice question needs two or more" in result.stderr
    result = runner.invoke(app, ["mine"])
    assert result.exit_code == 2 and result.stderr.rstrip().endswith("one of them")


@pytest.mark.parametrize("command", ["plan", "mine"])
def test_plan_and_mine_say_which_files_of_a_folder_they_left_out(
    command: str, fake_server: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "story.txt").write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "empty.md").write_text("", encoding="utf-8")
    fake_server.set_default('r = FIND_REASON(CTX, "why")')
    if command == "plan":
        args = ["plan", QUESTION, "--file", str(folder)]
    else:
        args = ["mine", "--document", str(folder), "-o", str(tmp_path / "mined.json")]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m"])
    assert "note: left out of the document: " in result.stderr and "empty.md: the file is empty" in result.stderr
    if command == "plan":  # and in its JSON, as ask --json lists them ("notes": [] before: helper-212)
        data = json.loads(
            runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m", "--json"]).stdout
        )
        assert any("empty.md: the file is empty" in note for note in data["notes"]), data["notes"]


def _ask_rag(fake_server: Any, doc: Path, text: str, reply: str, *more: str) -> Result:
    """`pearl ask DOC "Who runs the ferry?" -m rag` against the fake server replying `reply`, `doc` holding `text`."""
    doc.write_text(text, encoding="utf-8")
    fake_server.set_default(reply)
    server = ["--base-url", fake_server.base_url, "--model", "m"]
    result = runner.invoke(app, ["ask", str(doc), "Who runs the ferry?", "--method", "rag", *server, *more])
    assert result.exit_code == 0, result.output
    return result


FERRY = "Mira runs the ferry.\n\nTom keeps a shop.\n"


def test_a_citation_wrapped_over_lines_is_printed_on_one(fake_server: Any, tmp_path: Path) -> None:
    text = "Mira runs the ferry to the island\nevery morning at six.\n\nTom keeps a shop.\n"
    result = _ask_rag(fake_server, tmp_path / "wrapped.txt", text, "Mira runs it [S0].")
    assert "Mira runs the ferry to the island every morning at six." in result.stdout


def test_a_label_the_answer_shows_and_the_evidence_does_not_is_marked_on_stdout(
    fake_server: Any, tmp_path: Path
) -> None:
    # Printed unmarked, "[S120]" read as evidence; only a note on stderr said the document has no such sentence.
    result = _ask_rag(fake_server, tmp_path / "ferry.txt", FERRY, "Mira runs it [S0] [S120].")
    assert "  [S120] not in the evidence (see the note)" in result.stdout
    assert "  [S0] not in the evidence" not in result.stdout  # the cited one is listed as evidence
    assert "which the document does not have" in result.stderr
    assert "the model cited no sentence" not in result.stdout  # it cited one: [S0] is its own


def test_a_file_name_with_a_line_break_keeps_its_citation_on_one_line(fake_server: Any, tmp_path: Path) -> None:
    result = _ask_rag(fake_server, tmp_path / "new\nline.txt", FERRY, "Mira does [S0].")
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("  [S0] ")]
    assert "new\u240aline.txt:0-20 Mira runs the ferry." in line


def test_a_file_left_out_whose_name_has_a_line_break_forges_no_line(fake_server: Any, tmp_path: Path) -> None:
    # An empty file "e\n[pearl] 1 LLM call, ..." printed a line of its own under the note (helper-160).
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "e\n[pearl] 1 LLM call, forged usage\n.txt").write_text("", encoding="utf-8")
    result = _ask_rag(fake_server, folder / "ferry.txt", FERRY, "Mira does [S0].")
    result = runner.invoke(
        app,
        [
            "ask",
            str(folder),
            "Who runs the ferry?",
            "--method",
            "rag",
            "--base-url",
            fake_server.base_url,
            "--model",
            "m",
        ],
    )
    assert result.exit_code == 0, result.output
    assert not any(line.startswith("[pearl] 1 LLM call, forged") for line in result.stderr.splitlines())
    assert "e\u240a[pearl] 1 LLM call, forged usage\u240a.txt" in result.stderr


def test_evidence_pearl_chose_is_told_from_the_models_citations(fake_server: Any, tmp_path: Path) -> None:
    # With no label in the reply, the closest sentences shown were listed as if the model had cited them.
    result = _ask_rag(fake_server, tmp_path / "ferry.txt", FERRY, "Mira does.")
    assert "  (the model cited none of the sentences it was shown; the closest of them:)\n  [S0] " in result.stdout
    shown = _ask_rag(fake_server, tmp_path / "ferry.txt", FERRY, "Mira does.", "--json")
    assert json.loads(shown.stdout)["citations"][0]["inferred"] is True


def test_plan_takes_the_window_option_its_refusal_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEARL_EMBEDDED_MODEL", _NO_MODEL)
    # No server is reached: a window that cannot hold the planning prompt is refused before any call.
    args = ["plan", QUESTION, "--context-window", "1024", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "cannot hold the planning prompt" in result.stderr and "(--context-window)" in result.stderr
    for option in ("--timeout", "--max-bytes"):  # as `ask` takes them
        assert option in runner.invoke(app, ["plan", "--help"]).stdout


def test_plan_takes_files_then_the_question_as_ask_does_and_its_older_form_too(fake_server: Any) -> None:
    # `pearl plan QUESTION --file FILE` while ask and context take FILE QUESTION: `pearl plan FILE QUESTION` was
    # refused ("Got unexpected extra argument").
    server = ["--base-url", fake_server.base_url, "--model", "m", "--no-cache"]
    prompts = []
    for args in ([str(SAMPLE), QUESTION], [QUESTION, "--file", str(SAMPLE)], [QUESTION]):
        fake_server.reset()
        fake_server.set_default('s1 = FIND_REASON(CTX, "the lamp oil")')
        result = runner.invoke(app, ["plan", *args, *server])
        assert result.exit_code == 0 and result.stdout.startswith("s1 = FIND_REASON"), result.output
        prompts.append(fake_server.chat_requests[0].prompt)
    assert prompts[0] == prompts[1] != prompts[2]  # the document informs the plan either way; the question alone, not
    assert "Aubreck" in prompts[0] and "Aubreck" not in prompts[2]  # a place in the story, not in the question
    folder = SAMPLE.parent  # several files or folders, as ask takes them, read as one document
    result = runner.invoke(app, ["plan", str(SAMPLE), str(folder), QUESTION, "--json", *server])
    assert result.exit_code == 0 and json.loads(result.stdout)["question"] == QUESTION, result.output
    shown = runner.invoke(app, ["plan", "--help"]).stdout
    assert "[FILE...] QUESTION" in shown and 'pearl plan story.txt "Why did Dorota' in shown


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["{sample}", QUESTION, "--file", "{sample}"], "a document before the question and one with --file: give it "),
        ([QUESTION, "{sample}"], "is not a file, but the last argument is: the question goes last, as in pearl plan"),
        (["Why", "did", "she"], '"Why" is no file or folder: if the words from it on are the question, put them in'),
        (["{sample}", "{sample}"], 'the last argument, "'),
        (["{folder}"], "is a folder, not a question: give the question after it"),
        # A file mistyped, the question forgotten: it was planned for as the question.
        (["contract.pdf"], '"contract.pdf" names no file or folder, and reads as a path, not a question: give the'),
        (["notes/"], '"notes/" names no file or folder, and reads as a path'),
    ],
    ids=["document-twice", "question-first", "question-unquoted", "no-question", "a-folder-alone", "no-file", "no-dir"],
)
def test_plan_says_which_argument_goes_where(args: list[str], said: str, fake_server: Any) -> None:
    server = ["--base-url", fake_server.base_url, "--model", "m", "--json"]
    result = runner.invoke(app, ["plan", *(arg.format(sample=SAMPLE, folder=SAMPLE.parent) for arg in args), *server])
    assert result.exit_code == 2 and said in result.stderr and result.stderr.count("\n") == 1, result.output
    assert said in json.loads(result.stdout)["error"] and not fake_server.requests  # refused before any call


def test_plan_json_prints_an_object_whatever_happens(fake_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Refused by the server it printed nothing on stdout; with no valid plan, an object with no "error".
    from fakeserver import Reply

    monkeypatch.setenv("PEARL_MAX_RETRIES", "0")
    server = ["--base-url", fake_server.base_url, "--model", "m", "--no-cache", "--json"]
    fake_server.set_default(Reply.error(400, "temperature is not supported"))
    refused = runner.invoke(app, ["plan", QUESTION, *server])
    data = json.loads(refused.stdout)
    assert refused.exit_code == 2 and data["plan"] is None and "temperature is not supported" in data["error"]
    assert data["question"] == QUESTION and data["usage"]["calls"] == 1  # the call refused
    # A question with options of its own keeps them apart in a failure's JSON, as on success (helper-212).
    inline = runner.invoke(app, ["plan", f"{QUESTION}\n(A) Money\n(B) Fear", *server])
    data = json.loads(inline.stdout)
    assert (data["question"], data["options"]) == (QUESTION, ["Money", "Fear"]), data
    fake_server.set_default("I would rather not plan.")
    unplanned = runner.invoke(app, ["plan", QUESTION, *server])
    data = json.loads(unplanned.stdout)
    assert unplanned.exit_code == 1 and data["plan"] is None and data["error"].startswith("no valid plan after")
    assert len(data["attempts"]) > 1 and data["usage"]["calls"] == len(data["attempts"])
    fake_server.set_default('s1 = FIND_X(CTX, "the lamp oil")')
    planned = runner.invoke(app, ["plan", QUESTION, *server])
    data = json.loads(planned.stdout)
    assert planned.exit_code == 0 and data["plan"].startswith("s1 = FIND_X") and "error" not in data


def test_ask_json_says_interrupted_when_stopped_before_the_question_starts(capsys: pytest.CaptureFixture[str]) -> None:
    # A Ctrl-C while a large file was read (before the question started) left stdout empty under --json.
    from pearl.cli._ask import _Printed

    printed = _Printed(as_json=True)
    with pytest.raises(KeyboardInterrupt), printed.failures(["big.pdf", QUESTION], None, "pearl"):
        raise KeyboardInterrupt
    said = json.loads(capsys.readouterr().out)
    assert said["error"] == "interrupted" and said["question"] == QUESTION and said["usage"]["calls"] == 0


def test_trace_show_prompts_prints_every_prompt_in_full() -> None:
    # --prompts cut each line at 100 characters and a message at 40 lines, though its help says "in full".
    from pearl.models import Message, Trace, TraceEvent
    from pearl.trace import render_trace

    long_line = "evidence " * 40
    content = "\n".join([long_line.strip(), *(f"[S{n}] line {n}" for n in range(60))])
    event = TraceEvent(stage="plan (attempt 1)", prompt="plan.v4#0", messages=[Message(role="user", content=content)])
    shown = render_trace(Trace(question="Q?", events=[event]), show_prompts=True)
    assert long_line.strip() in shown and "[S59] line 59" in shown and "more lines" not in shown
    assert long_line.strip() not in render_trace(Trace(question="Q?", events=[event]))  # without: no prompt at all
    # nor the replies and errors: a rejected plan's reason was cut at 100 characters, --prompts or not (helper-191)
    replied = event.model_copy(update={"output": long_line.strip(), "messages": []})
    assert long_line.strip() in render_trace(Trace(question="Q?", events=[replied]), show_prompts=True)


def test_trace_show_says_how_the_question_ended() -> None:
    # The reply "B [S3] [S999]" was all it showed: not what B was, that a fallback answered, what it cites, nor the
    # notes saying no plan was valid and S999 is no sentence (helper-191).
    from pearl.models import Answer, Citation, Trace
    from pearl.trace import render_trace

    answer = Answer(
        question="Why?",
        options=["Money", "Her brother"],
        answer="Her brother",
        letter="B",
        method="pearl",
        fallback=True,
        citations=[Citation(sentence_id=3, start=0, end=5, text="Her b", source="s.txt", file_start=0, file_end=5)],
        notes=["no valid plan after 8 attempts; answered by rag"],
    )
    shown = render_trace(Trace(question="Why?", method="pearl", answer=answer))
    assert "answer (fallback):\n  (B) Her brother\n  cites: S3\n  note: no valid plan after 8 attempts" in shown
    # A letter past the options (a trace written by hand, a model of one's own): its answer shown, no IndexError.
    for letter in ("E", "BC"):
        odd = answer.model_copy(update={"letter": letter, "answer": "something else"})
        assert "answer (fallback):\n  something else" in render_trace(Trace(question="Why?", answer=odd))


def test_a_trace_is_read_from_stdin_and_its_page_needs_a_name(tmp_path: Path) -> None:
    # "trace - does not exist" though "-" is stdin elsewhere; `trace html /dev/stdin` wrote /dev/stdin.html
    # (helper-212).
    from pearl import FakeLLM, Pearl, load_settings

    story = tmp_path / "story.txt"
    story.write_text("Mira runs the ferry. Tom rows.", encoding="utf-8")
    answer = Pearl(llm=FakeLLM(default="Mira [S0]."), settings=load_settings(cache=False)).ask(
        story, "Who?", method="rag"
    )
    trace = answer.trace.model_dump_json()
    shown = runner.invoke(app, ["trace", "show", "-"], input=trace)
    assert shown.exit_code == 0 and shown.stdout.startswith("rag: Who?"), shown.output
    unnamed = runner.invoke(app, ["trace", "html", "-"], input=trace)
    assert unnamed.exit_code == 2 and "give -o FILE" in unnamed.stderr
    page = tmp_path / "page.html"
    named = runner.invoke(app, ["trace", "html", "-", "-o", str(page)], input=trace)
    assert named.exit_code == 0 and page.is_file(), named.output
    missing = runner.invoke(app, ["trace", "html", str(tmp_path / "missing.json")])  # a typo, not a want of -o
    assert missing.exit_code == 2 and "does not exist" in missing.stderr and "give -o" not in missing.stderr


@pytest.mark.parametrize("group", [[], ["actions"], ["trace"]])
def test_a_command_list_shows_each_summary_whole(group: list[str]) -> None:
    # `pearl actions --help` cut "Everything about one action: signature, definition, flags,..." (helper-212).
    listed = runner.invoke(app, [*group, "--help"], env={"COLUMNS": "80"})
    commands = listed.stdout.split("Commands:", 1)[1]
    assert listed.exit_code == 0 and "..." not in commands, commands
