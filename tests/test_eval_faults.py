"""Faults: an eval process killed with SIGKILL or stopped with Ctrl-C resumes cleanly; 429s and 500s are survived."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DIR
from fakeserver import FakeOpenAIServer, Reply

from pearl import Pearl, load_settings
from pearl._text import counted
from pearl.config import Settings
from pearl.errors import ConfigError, LLMRequestError, UnansweredError
from pearl.eval import ResultRow, latest_rows, load_dataset, load_results, run_eval

QUESTIONS = SAMPLE_DIR / "questions.jsonl"
EXPECTED = {(f"doc1:{i}", m) for i in range(1, 7) for m in ("direct", "rag")} | {
    (f"doc2:{i}", m) for i in range(1, 5) for m in ("direct", "rag")
}

# `pearl eval` as the lead wires it into `pearl.cli`, built the same way here so the test does
# not depend on that wiring: a real process running the real command.
DRIVER = """
import signal
import sys

# A shell without job control starts background commands with SIGINT ignored, and children
# inherit that: restore what a terminal's Ctrl-C meets, so the test does not depend on how it was run.
signal.signal(signal.SIGINT, signal.default_int_handler)
from pearl.cli import app

app(sys.argv[1:], prog_name="pearl")
"""


def answer_for(body: dict[str, Any]) -> str:
    last = str(body["messages"][-1]["content"])
    return "B" if "Reply with the letter" in last else "the Ostrava Belle"


def start_eval(tmp_path: Path, server: FakeOpenAIServer, out: Path, *extra: str) -> subprocess.Popen[str]:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    command = [
        sys.executable,
        str(driver),
        "eval",
        str(QUESTIONS),
        "--methods",
        "direct,rag",
        "--out",
        str(out),
        "--concurrency",
        "2",
        "--no-cache",
        "--base-url",
        server.base_url,
        "--model",
        "fake-model",
        *extra,
    ]
    return subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_rows(results: Path, count: int, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if results.is_file() and results.read_bytes().count(b"\n") >= count:
            return
        if process.poll() is not None:
            raise AssertionError(
                f"eval exited early ({process.returncode}): {process.stderr.read() if process.stderr else ''}"
            )
        time.sleep(0.01)
    raise AssertionError(f"no {count} rows after {timeout}s")


def check_rows(results: Path) -> list[dict[str, Any]]:
    """Every line parses as a result row, and ends with a newline."""
    data = results.read_text(encoding="utf-8")
    assert data.endswith("\n")
    rows = [json.loads(line) for line in data.splitlines()]
    for row in rows:
        ResultRow.model_validate(row)
    return rows


def test_sigkill_mid_run_then_resume_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    fake_server.set_default(lambda body: Reply(content=answer_for(body), delay=0.1))
    out = tmp_path / "run"
    results = out / "results.jsonl"
    process = start_eval(tmp_path, fake_server, out)
    try:
        wait_for_rows(results, 4, process)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    before = check_rows(results)
    assert 4 <= len(before) < len(EXPECTED), "the run must have been killed mid-way"
    assert len({(r["id"], r["method"]) for r in before}) == len(before)

    resumed = start_eval(tmp_path, fake_server, out)
    stdout, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert f"resuming: {len(before)} of 20" in stderr
    rows = check_rows(results)
    assert rows[: len(before)] == before  # earlier rows untouched
    assert Counter((r["id"], r["method"]) for r in rows) == Counter(EXPECTED)  # each pair exactly once
    assert all(r["error"] is None for r in rows)
    assert "| direct | 10 |" in stdout and "| rag | 10 |" in stdout
    # only what was in flight at the kill is asked twice
    assert len(fake_server.chat_requests) <= len(EXPECTED) + 2


def interrupt_after_rows(process: subprocess.Popen[str], results: Path, count: int) -> str:
    """Ctrl-C to `process` once `results` holds `count` rows; its stderr, once it has exited as interrupted (130)."""
    try:
        wait_for_rows(results, count, process)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    return stderr


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    served = itertools.count()

    def reply(body: dict[str, Any]) -> Reply:
        # The first requests answer at once, later ones hang: the run cannot finish before Ctrl-C,
        # however slowly this machine notices the first rows.
        return Reply(content=answer_for(body), delay=0.1 if next(served) < 8 else 60.0)

    fake_server.set_default(reply)
    out = tmp_path / "run"
    process = start_eval(tmp_path, fake_server, out)
    stderr = interrupt_after_rows(process, out / "results.jsonl", 3)
    assert "interrupted:" in stderr and "run the same command again to resume" in stderr
    assert "Traceback" not in stderr
    saved = check_rows(out / "results.jsonl")
    assert 3 <= len(saved) < len(EXPECTED)
    assert counted(len(saved), "result") + " saved" in stderr


def test_ctrl_c_writes_the_report_of_the_results_saved(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    """An interrupted run's reports are of what its folder now holds, not an earlier run's left beside more rows."""
    out = tmp_path / "run"
    fake_server.set_default(lambda body: answer_for(body))
    first = start_eval(tmp_path, fake_server, out, "--limit", "1")  # a finished run's report: 1 question
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    served = itertools.count()
    fake_server.set_default(
        lambda body: Reply(content=answer_for(body), delay=0.1 if next(served) < 8 else 60.0)  # then hangs
    )
    stderr = interrupt_after_rows(start_eval(tmp_path, fake_server, out), out / "results.jsonl", 5)
    saved = check_rows(out / "results.jsonl")
    assert 5 <= len(saved) < len(EXPECTED)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["rows"] == len(saved)  # not the first run's 2
    stopped = f"{len(saved)} of 20 results saved; the run was interrupted; run the same command again to resume"
    assert summary["stopped"] == stopped
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "**The run stopped before it finished:**" in report and "interrupted" in report
    assert "The run stopped before it finished" in (out / "report.html").read_text(encoding="utf-8")
    assert f"(their report in {out / 'report.md'})" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("made", "resume"),
    [
        ("load_settings", "call run_eval again with the same arguments to resume"),
        # Made in code: who called is not known, so both are said.
        ("in code", "run the same command again (from Python, call run_eval again with the same arguments) to resume"),
    ],
)
def test_an_interrupted_run_called_from_python_says_how_to_resume_from_python(
    tmp_path: Path, made: str, resume: str
) -> None:
    # Its report said "run the same command again", a command the caller never ran.
    from pearl.llm import FakeLLM

    def interrupt(done: int, total: int, status: str = "") -> None:
        if done >= 3:
            raise KeyboardInterrupt

    out = tmp_path / "run"
    settings = load_settings(cache=False) if made == "load_settings" else Settings(cache=False)
    pearl = Pearl(llm=FakeLLM(default="B"), settings=settings)
    with pytest.raises(KeyboardInterrupt):
        run_eval(pearl, load_dataset(QUESTIONS), ["direct"], out, concurrency=1, progress=interrupt)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["stopped"] == f"3 of 10 results saved; the run was interrupted; {resume}"
    assert resume in (out / "report.md").read_text(encoding="utf-8")


def flaky_server(server: FakeOpenAIServer, always_failing: str) -> Counter[str]:
    """Each distinct request gets a 429, then a 500, then its answer; a prompt naming `always_failing` gets 500s."""
    seen: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def reply(body: dict[str, Any]) -> Reply | str:
        key = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()
        with lock:
            seen[key] += 1
            attempt = seen[key]
        question = str(body["messages"][-1]["content"]).split("</document>")[-1]
        if always_failing in question or attempt <= 2:
            status = 429 if attempt == 1 and always_failing not in question else 500
            with lock:
                statuses[str(status)] += 1
            if status == 429:
                return Reply.rate_limited(retry_after=0.01)
            return Reply.error(500, "The server had an error while processing your request.")
        with lock:
            statuses["200"] += 1
        return answer_for(body)

    server.set_default(reply)
    return statuses


def test_429s_and_500s_the_run_completes_and_every_row_is_accounted_for(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    statuses = flaky_server(fake_server, always_failing="Agnete")
    settings = load_settings(
        base_url=fake_server.base_url,
        model="fake-model",
        api_key="sk-test",
        cache=False,
        retry_base_delay=0.01,
        retry_max_delay=0.2,
        max_retries=4,
        concurrency=4,
    )
    out = tmp_path / "run"
    summary = run_eval(Pearl(settings=settings), load_dataset(QUESTIONS), ["direct", "rag"], out, concurrency=4)
    rows = check_rows(out / "results.jsonl")
    assert Counter((r["id"], r["method"]) for r in rows) == Counter(EXPECTED)
    failed = sorted((r["id"], r["method"]) for r in rows if r["error"])
    assert failed == [("doc1:5", "direct"), ("doc1:5", "rag")]  # the question the server always fails
    assert all("500" in r["error"] and r["error_type"] == "ServerError" for r in rows if r["error"])
    assert statuses["429"] >= 18 and statuses["500"] >= 18 + 2 * 5  # every request was refused twice first
    assert sum(m.errors for m in summary.methods) == 2

    fake_server.set_default(answer_for)  # the server recovers
    before = len(fake_server.chat_requests)
    summary = run_eval(Pearl(settings=settings), load_dataset(QUESTIONS), ["direct", "rag"], out, retry_errors=True)
    assert len(fake_server.chat_requests) - before == 2  # only the two failed pairs ran again
    assert sum(m.errors for m in summary.methods) == 0
    assert set(latest_rows(load_results(out))) == EXPECTED
    # Each attempt keeps its own trace: the failed row's pointed at the file the retry then wrote over.
    attempts = [r for r in load_results(out) if r.id == "doc1:5" and r.method == "direct"]
    assert [r.error is not None for r in attempts] == [True, False]
    assert attempts[0].trace == "traces/doc1_5.direct-" + attempts[0].trace.split("-")[-1]  # the first, as before
    assert attempts[1].trace is not None and ".direct.attempt2" in attempts[1].trace
    first = json.loads((out / attempts[0].trace).read_text(encoding="utf-8"))
    assert any(event["error"] for event in first["events"])  # still the failure's trace
    assert (out / attempts[1].trace).with_suffix(".html").is_file()


def test_a_result_written_after_its_log_is_closed_is_saved(tmp_path: Path) -> None:
    # A write on its way when a second interrupt cut the run's wait short met the closed file, and was lost.
    from pearl.eval._results import ResultsLog

    log = ResultsLog(tmp_path / "results.jsonl")
    with pytest.raises(RuntimeError, match="before open"):
        log.append(ResultRow(id="q0", method="m"))
    log.open()
    log.append(ResultRow(id="q1", method="m"))
    log.close()
    log.append(ResultRow(id="q2", method="m"))
    assert [r.id for r in load_results(tmp_path)] == ["q1", "q2"]


def test_results_log_appends_whole_lines_from_many_threads(tmp_path: Path) -> None:
    from pearl.eval._results import ResultsLog

    log = ResultsLog(tmp_path / "results.jsonl")
    log.open()
    rows = [ResultRow(id=f"q{i}", method="m", answer="x" * (i * 97 % 5000)) for i in range(200)]

    def write(chunk: list[ResultRow]) -> None:
        for row in chunk:
            log.append(row)

    threads = [threading.Thread(target=write, args=(rows[k::8],)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    assert sorted(r.id for r in load_results(tmp_path)) == sorted(r.id for r in rows)


def test_a_reply_of_white_space_alone_is_an_error_row_that_retry_errors_runs_again(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    # Scored as a wrong answer with no error, it was never asked again: it is a reply with no text.
    fake_server.set_default(Reply(content="   \n\t  \n"))
    settings = load_settings(
        base_url=fake_server.base_url, model="fake-model", cache=False, retry_base_delay=0.01, max_retries=1
    )
    out = tmp_path / "run"
    dataset = load_dataset(QUESTIONS)
    # Every reply so: the run stops once as many results in a row as run at once (at least 4) got none it could
    # use (it asked every question of the run, each as many times as retries allow).
    with pytest.raises(UnansweredError, match=r"stopped: 4 results in a row .* got no answer .*white space alone"):
        run_eval(Pearl(settings=settings), dataset, ["direct"], out, concurrency=1)
    rows = check_rows(out / "results.jsonl")
    assert len(rows) == 4 < len(dataset.questions)
    assert all(r["error_type"] == "BlankReplyError" and "white space" in r["error"] for r in rows)
    fake_server.set_default(answer_for)
    summary = run_eval(Pearl(settings=settings), dataset, ["direct"], out, retry_errors=True)
    assert sum(m.errors for m in summary.methods) == 0


def test_a_spent_quota_stops_the_run_at_its_first_question(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    # Refused at once (no wait brings a quota back), it was then written as every question's error row.
    from pearl.errors import LLMRequestError

    fake_server.set_default(Reply.error(429, "You exceeded your current quota.", code="insufficient_quota"))
    settings = load_settings(base_url=fake_server.base_url, model="fake-model", cache=False, retry_base_delay=0.01)
    with pytest.raises(LLMRequestError, match="no quota left"):
        run_eval(Pearl(settings=settings), load_dataset(QUESTIONS), ["direct"], tmp_path / "run", concurrency=1)
    assert len(fake_server.requests) <= 2  # the preflight's /models is not a completion


def test_a_question_that_cannot_be_asked_is_skipped_and_the_run_goes_on(tmp_path: Path) -> None:
    # Refused options (an option twice) raised a settings error, which stops a run: no row was written. Then it was an
    # error row, which --retry-errors failed the same way: it is bad input, named in the report.
    from pearl.llm import FakeLLM

    story = tmp_path / "story.txt"  # a data set's documents are in its folder
    story.write_text((SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(encoding="utf-8"), encoding="utf-8")
    questions = [
        {"id": "twice", "question": "Who?", "options": ["None", "The keeper", "None", "A boatman"], "answer": "B"},
        {"id": "fine", "question": "Who?", "options": ["The boatman", "The assistant keeper"], "answer": "B"},
    ]
    data = tmp_path / "custom.jsonl"
    data.write_text(json.dumps({"id": "k", "path": story.name, "questions": questions}) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    pearl = Pearl(llm=FakeLLM(default="B"), settings=load_settings(cache=False))
    summary = run_eval(pearl, load_dataset(data), ["direct"], out)
    rows = check_rows(out / "results.jsonl")
    assert [(row["id"], row["error"]) for row in rows] == [("fine", None)]
    assert summary.skipped == ["twice"] and "options A and C are the same ('None')" in summary.skipped_why["twice"]


def _eval_settings(server: FakeOpenAIServer, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "base_url": server.base_url,
        "model": "fake-model",
        "cache": False,
        "retry_base_delay": 0.01,
        "max_retries": 1,
    }
    return load_settings(**{**values, **overrides})


def test_a_run_whose_server_stops_answering_stops_and_says_how_to_go_on(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    # It went on: every question waited out its retries (with a hung server, two timeouts, four minutes each).
    fake_server.set_default(Reply(delay=3.0))
    # (A second, not less: the run's first request, a listing of the models, is answered at once, but on a machine
    # busy enough it took over 0.2 s, and the run stopped there, before asking anything.)
    settings = _eval_settings(fake_server, timeout=1.0)
    out = tmp_path / "run"
    with pytest.raises(
        UnansweredError,
        match=r"stopped: \d results in a row .* got no answer .*call run_eval again with retry_errors=True",
    ):
        run_eval(Pearl(settings=settings), load_dataset(QUESTIONS), ["direct", "rag"], out, concurrency=2)
    rows = check_rows(out / "results.jsonl")
    # Timed out; on a loaded machine a connection can take longer than its share of the second (half) too.
    silent = {"LLMTimeoutError", "LLMConnectionError"}
    assert 4 <= len(rows) <= 5 and all(r["error_type"] in silent for r in rows), rows
    # It wrote no report: the rows it saved were summarised nowhere. The report says the run stopped, and why.
    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"**The run stopped before it finished:** {len(rows)} of 20 results saved; stopped: " in report, report
    assert f"| direct | {sum(r['method'] == 'direct' for r in rows)} |" in report
    assert 'id="stopped"' in (out / "report.html").read_text(encoding="utf-8")
    fake_server.set_default(answer_for)  # the server answers again: the run goes on where it stopped
    settings = _eval_settings(fake_server)  # answers in time however busy the machine
    summary = run_eval(Pearl(settings=settings), load_dataset(QUESTIONS), ["direct", "rag"], out, retry_errors=True)
    assert sum(m.errors for m in summary.methods) == 0 and set(latest_rows(load_results(out))) == EXPECTED
    assert summary.stopped is None and "stopped" not in (out / "report.md").read_text(encoding="utf-8")


def test_a_result_being_written_when_the_run_stops_is_saved(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first question is answered and its result written slowly; the second is refused (a key the server
    # rejects stops the run) while that write is on its way. The stop cancelled the writer, whose thread then met
    # the closed file: a result paid for was lost, and the report counted one row fewer than the run had.
    from pearl.eval._results import ResultsLog

    count = itertools.count()
    refused = dataclasses.replace(Reply.error(401, "bad key"), delay=0.2)  # once the first result is being written
    fake_server.set_default(lambda body: answer_for(body) if next(count) == 0 else refused)
    append = ResultsLog.append

    def slow_append(self: ResultsLog, row: ResultRow) -> None:
        time.sleep(0.5)
        append(self, row)

    monkeypatch.setattr(ResultsLog, "append", slow_append)
    out = tmp_path / "run"
    with pytest.raises(LLMRequestError):
        run_eval(Pearl(settings=_eval_settings(fake_server)), load_dataset(QUESTIONS), ["direct"], out, concurrency=2)
    rows = check_rows(out / "results.jsonl")
    assert [(r["prediction"], r["error"]) for r in rows] == [("B", None)], rows


def test_a_run_with_failures_between_answers_goes_on(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    count = itertools.count()

    def every_other_question_fails(body: dict[str, Any]) -> Reply | str:
        # two questions fail (each asked twice), two are answered, and so on: six failures, never three in a row
        return Reply.error(503, "busy") if next(count) % 6 < 4 else answer_for(body)

    fake_server.set_default(every_other_question_fails)
    out = tmp_path / "run"
    summary = run_eval(
        Pearl(settings=_eval_settings(fake_server)), load_dataset(QUESTIONS), ["direct"], out, concurrency=1
    )
    rows = check_rows(out / "results.jsonl")
    assert len(rows) == 10 and sum(m.errors for m in summary.methods) == 6


def _eval_command(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, reply: Reply, *options: str
) -> tuple[Any, Path]:
    """`pearl eval` on the questions file against `fake_server` answering `reply`, never retried: its result, and its
    run folder."""
    from typer.testing import CliRunner

    from pearl.cli import app

    fake_server.set_default(reply)
    monkeypatch.setenv("PEARL_MAX_RETRIES", "0")
    out = tmp_path / "run"
    server = ["--base-url", fake_server.base_url, "--model", "m"]
    return CliRunner().invoke(app, ["eval", str(QUESTIONS), *options, "--out", str(out), "--no-cache", *server]), out


def test_pearl_eval_says_once_how_to_go_on_after_the_server_stops_answering(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second, not 0.2: on a busy machine the run's first request (the model list, answered at once) took longer.
    result, out = _eval_command(tmp_path, fake_server, monkeypatch, Reply(delay=3.0), "-m", "direct", "--timeout", "1")
    assert result.exit_code == 1, result.output
    error = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and "results in a row (one per question and method) got no answer" in error[0], result.stderr
    assert f"results so far are kept in {out}, and their report in {out / 'report.md'})" in error[0]
    assert "once it answers, run the same command with --retry-errors to ask them again" in error[0]
    assert "re-run to resume" not in error[0] and (out / "report.md").is_file()


def test_pearl_eval_stopped_by_silence_counts_results_not_questions(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It said "4 questions in a row": with three methods those four results were two questions' (q1 by each method,
    # q2 by one). The command, the reports and summary.json all say what was counted.
    unavailable = Reply.error(503, "unavailable")
    result, out = _eval_command(
        tmp_path, fake_server, monkeypatch, unavailable, "-m", "direct,rag,pearl", "--concurrency", "1"
    )
    assert result.exit_code == 1, result.output
    rows = check_rows(out / "results.jsonl")
    assert len(rows) == 4 and len({row["id"] for row in rows}) == 2, rows
    said = "stopped: 4 results in a row (one per question and method) got no answer from the model's server"
    assert said in result.stderr, result.stderr
    assert said in json.loads((out / "summary.json").read_text(encoding="utf-8"))["stopped"]
    for report in ("report.md", "report.html"):
        text = (out / report).read_text(encoding="utf-8")
        assert said.replace("'", "&#39;" if report.endswith("html") else "'") in text
        assert "questions in a row" not in text


def test_a_question_failing_before_reaching_the_server_does_not_hide_its_silence(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A question that cannot be asked (an option twice) says nothing of the server: it reset the count, and a
    # run against a dead server with such questions here and there never stopped. (A run now skips such a question
    # before it starts; its check is let through here, to stand for any question failing before the server.)
    monkeypatch.setattr("pearl.eval._runner.checked_question", lambda question: question)
    story = tmp_path / "story.txt"  # a data set's documents are in its folder
    story.write_text((SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(encoding="utf-8"), encoding="utf-8")
    fine = {"question": "Who?", "options": ["The boatman", "The keeper"], "answer": "B"}
    twice = {"question": "Who?", "options": ["None", "None"], "answer": "B"}
    questions = [{**q, "id": f"q{i}"} for i, q in enumerate([fine, twice, fine, fine, fine, fine])]
    data = tmp_path / "custom.jsonl"
    data.write_text(json.dumps({"id": "k", "path": story.name, "questions": questions}) + "\n", encoding="utf-8")
    fake_server.set_default(Reply(delay=3.0))
    out = tmp_path / "run"
    settings = _eval_settings(fake_server, timeout=1.0, max_retries=0)  # (0.2 s could time out the model list too)
    with pytest.raises(UnansweredError, match="stopped: 4 results in a row"):
        run_eval(Pearl(settings=settings), load_dataset(data), ["direct"], out, concurrency=1)
    assert [r["error_type"] for r in check_rows(out / "results.jsonl")] == [
        "LLMTimeoutError",
        "QuestionError",
        "LLMTimeoutError",
        "LLMTimeoutError",
        "LLMTimeoutError",
    ]


def test_a_run_whose_server_answers_with_a_web_page_stops(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    # A base URL that reaches a chat UI answers every request 200 with its page: each question waited out its
    # retries, read as a server that answers, and the run never stopped.
    page = "<!doctype html><html><head><title>Open WebUI</title></head><body>app</body></html>"
    fake_server.set_default(Reply(body=page, headers={"Content-Type": "text/html"}))
    out = tmp_path / "run"
    with pytest.raises(UnansweredError, match=r"stopped: 4 results in a row .*web page \('Open WebUI'\).*/v1"):
        run_eval(Pearl(settings=_eval_settings(fake_server)), load_dataset(QUESTIONS), ["direct"], out, concurrency=1)
    assert len(check_rows(out / "results.jsonl")) == 4


@pytest.mark.parametrize(
    ("kinds", "said"),
    [
        (["LLMRequestError", "ServerError", "ServerError"], "add --retry-errors to run those again (the first error: "),
        (
            ["LLMRequestError", "LLMRequestError"],
            "a retry fails the same way until that is mended, then --retry-errors",
        ),
    ],
)
def test_the_closing_advice_judges_each_failure_by_its_kind(tmp_path: Path, kinds: list[str], said: str) -> None:
    # Judged by the first failure alone: a run whose first question was blocked and whose others got 503s was told
    # a retry fails the same way, though --retry-errors would pass the 503s (helper-172).
    from pearl.cli._eval import _what_to_do
    from pearl.eval import ResultRow

    rows = [
        ResultRow(id=f"q{n}", method="direct", error=f"{kind} {n}", error_type=kind) for n, kind in enumerate(kinds)
    ]
    (tmp_path / "results.jsonl").write_text("".join(row.model_dump_json() + "\n" for row in rows))
    advice = _what_to_do(tmp_path, len(rows), None, {(row.id, "direct") for row in rows})
    assert said in advice, advice
    if "ServerError" in kinds:
        assert "(the first error: ServerError 1); one of them fails alike until what it says is mended" in advice


def test_pearl_eval_fails_when_every_question_failed(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from pearl.cli import app

    # Three questions, each refused with a 400 that does not stop a run: the run ends, nothing answered.
    fake_server.set_default(Reply.error(400, "temperature is not supported by this model"))
    monkeypatch.setenv("PEARL_MAX_RETRIES", "0")
    out = tmp_path / "run"
    args = ["eval", str(QUESTIONS), "-m", "direct", "--limit", "3", "--out", str(out), "--no-cache"]
    server = ["--base-url", fake_server.base_url, "--model", "m"]
    result = CliRunner().invoke(app, [*args, *server])
    assert result.exit_code == 1, result.output  # a script or CI job must not read it as done
    assert "error: all 3 results failed" in result.stderr
    # The error named, and that a retry fails alike until it is mended: "add --retry-errors" alone was said of it.
    assert "the first error, each the same: " in result.stderr and "temperature is not supported" in result.stderr
    assert "a retry fails the same way until that is mended, then --retry-errors" in result.stderr
    assert ".;" not in result.stderr and "content filter" in result.stderr  # (helper-183)
    fake_server.set_default(answer_for)  # one answered: the run is done, its failures a note
    again = CliRunner().invoke(app, [*args, *server, "--limit", "4"])
    assert again.exit_code == 0 and "3 of 4 results failed" in again.stderr and "error:" not in again.stderr
    # A setting refused before the run directory is known is one error line, exit 2 (it was a traceback).
    bad = CliRunner().invoke(app, [*args, *server, "--timeout", "-1"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: invalid settings: timeout"), bad.output
    assert "Traceback" not in bad.output and (bad.exception is None or isinstance(bad.exception, SystemExit))
    # A settings error ends the same way on a re-run, before any question: no "results kept, re-run to resume".
    wrong = CliRunner().invoke(app, ["eval", str(QUESTIONS), "-m", "direct,bogus", "--out", str(out), *server])
    assert wrong.exit_code == 2 and "unknown method" in wrong.stderr and "re-run" not in wrong.stderr


def test_a_full_disk_stops_the_run_with_one_error_and_keeps_what_was_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk ended `pearl eval` in a traceback from the results file, and a half-written row could be left.
    import errno
    import os

    from pearl.errors import RunWriteError
    from pearl.llm import FakeLLM

    real_write, rows_written = os.write, []

    def write(fd: int, data: Any) -> int:
        if not os.readlink(f"/proc/self/fd/{fd}").endswith("results.jsonl"):
            return real_write(fd, data)
        if len(rows_written) == 2:  # the second row: half of it fits, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        rows_written.append(1)
        return real_write(fd, data if len(rows_written) == 1 else bytes(data)[: len(data) // 2])

    out = tmp_path / "run"
    pearl = Pearl(llm=FakeLLM(default="B"), settings=load_settings(cache=False))
    monkeypatch.setattr(os, "write", write)
    with pytest.raises(RunWriteError, match=r"cannot save a result in .*results.jsonl \(No space left on device\)"):
        run_eval(pearl, load_dataset(QUESTIONS), ["direct"], out, limit=3, concurrency=1)
    monkeypatch.setattr(os, "write", real_write)
    assert len(check_rows(out / "results.jsonl")) == 1  # the half row taken back: no partial line
    assert "1 of 3 results saved; cannot save a result" in (out / "report.md").read_text(encoding="utf-8")
    summary = run_eval(pearl, load_dataset(QUESTIONS), ["direct"], out, limit=3, concurrency=1)
    assert summary.methods[0].n == 3 and len(check_rows(out / "results.jsonl")) == 3


def test_reports_that_cannot_be_written_are_printed_and_named(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    # A folder where report.html goes (or a full disk at the end) ended the run in a traceback, with no report.
    from typer.testing import CliRunner

    from pearl.cli import app

    fake_server.set_default("B")
    out = tmp_path / "run"
    (out / "report.html").mkdir(parents=True)
    args = ["eval", str(QUESTIONS), "-m", "direct", "--limit", "2", "--out", str(out), "--no-cache"]
    result = CliRunner().invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 1 and result.stdout.startswith("# pearl eval: questions.jsonl"), result.output
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error == [
        f"error: cannot write {out / 'report.html'} (Is a directory); the results are saved in "
        f"{out / 'results.jsonl'}: once it can be written, the same command writes the reports, asking nothing again"
    ]
    assert (out / "summary.json").is_file() and len(check_rows(out / "results.jsonl")) == 2
    (out / "report.html").rmdir()
    asked = len(fake_server.chat_requests)
    result = CliRunner().invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 0 and (out / "report.html").is_file() and len(fake_server.chat_requests) == asked


def test_a_window_the_server_lowered_is_the_runs_and_the_run_goes_on_at_it(
    tmp_path: Path, fake_server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    # run.json kept the window set while the rows ran at the one the server's refusal named, and the run resumed at
    # that window, as the error said to set it, was refused as "another run" (helper-177).
    def limited(body: dict[str, Any]) -> Reply | str:
        prompt = sum(len(str(m["content"])) for m in body["messages"]) // 4 + int(body.get("max_tokens") or 0)
        return answer_for(body) if prompt <= 3000 else Reply.error(400, "maximum context length is 3000 tokens")

    fake_server.set_default(limited)
    settings = load_settings(base_url=fake_server.base_url, model="fake-model", api_key="sk-test", cache=False)
    out = tmp_path / "run"
    with caplog.at_level("WARNING"):
        run_eval(Pearl(settings=settings), load_dataset(QUESTIONS), ["direct"], out, limit=2)
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["settings"]["context_window"] == "3000"
    assert "the same settings go on with this run at 3,000" in caplog.text
    again = settings.model_copy(update={"context_window": 3000})
    summary = run_eval(Pearl(settings=again), load_dataset(QUESTIONS), ["direct"], out, limit=3)
    assert sum(m.errors for m in summary.methods) == 0
    # Passed as the run said, the window set is still the run's: the same settings go on with it (below).
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["window_set"] == "8192"


def _refusing_over(limit: int, refused: list[int]) -> Any:
    """A server's reply that refuses, as vLLM does, a prompt over `limit` tokens (4 characters each), counting the
    refusals in `refused`."""

    def reply(body: dict[str, Any]) -> Reply | str:
        prompt = sum(len(str(m["content"])) for m in body["messages"]) // 4 + int(body.get("max_tokens") or 0)
        if prompt <= limit:
            return answer_for(body)
        refused.append(prompt)
        return Reply.error(400, f"This model's maximum context length is {limit} tokens.")

    return reply


def test_the_same_settings_go_on_with_a_run_whose_server_lowered_its_window(
    tmp_path: Path, fake_server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The window the server lowered was kept in run.json, and the same settings again were refused as "another run
    # (context_window 3000 there, 8192 now)": a finished run could not rebuild its report, an interrupted one could not
    # go on as "run the same command again" said.
    refused: list[int] = []
    fake_server.set_default(_refusing_over(3000, refused))
    settings = load_settings(base_url=fake_server.base_url, model="fake-model", api_key="sk-test", cache=False)
    out = tmp_path / "run"
    run_eval(Pearl(settings=settings), load_dataset(QUESTIONS), ["direct"], out, limit=2)
    assert refused, "the server must have lowered the window"
    refused.clear()
    asked = len(fake_server.chat_requests)
    with caplog.at_level("WARNING"):
        summary = run_eval(Pearl(settings=settings), load_dataset(QUESTIONS), ["direct"], out, limit=2)  # the report
    assert len(fake_server.chat_requests) == asked and summary.methods[0].n == 2
    said = "going on at the 3,000-token window the model's server lowered this run to (from 8,192, the window set)"
    assert [r.getMessage() for r in caplog.records if said in r.getMessage()] == [f"{out}: {said}"]
    pearl = Pearl(settings=settings)
    summary = run_eval(pearl, load_dataset(QUESTIONS), ["direct"], out, limit=4)
    # Fitted to the run's window from its first prompt: none refused again, and the caller's model is left as it was.
    assert sum(m.errors for m in summary.methods) == 0 and summary.methods[0].n == 4 and not refused
    assert pearl.llm.context_window == 8192
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert (run["settings"]["context_window"], run["window_set"]) == ("3000", "8192")
    # A window too small at the run's window is said to be the server's: "raise context_window" would have the server
    # refuse the longer prompts again.
    from pearl.eval._models import RunConfig
    from pearl.eval._runner import _at_run_window

    going_on = _at_run_window(pearl, RunConfig.model_validate(run))
    assert going_on._raise_window == (
        "raise the server's context length (it refused longer prompts in this run: vLLM --max-model-len, Ollama "
        "num_ctx) if the model takes more"
    )
    assert pearl._raise_window == "raise context_window (--context-window) if the model takes more"
    # Another window again is another run, and the message names both windows that go on with it.
    with pytest.raises(
        ConfigError,
        match=r"context_window 3000 there, 2000 now; --context-window 8192 \(the window the run began with; its "
        r"server lowered it\) or 3000 goes on with it",
    ):
        run_eval(
            Pearl(settings=settings.model_copy(update={"context_window": 2000})),
            load_dataset(QUESTIONS),
            ["direct"],
            out,
            limit=4,
        )


def test_pearl_eval_interrupted_after_its_server_lowered_the_window_resumes_with_the_same_command(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    # Ctrl-C said "run the same command again to resume", and the same command was refused: "runs/ctx2 holds another
    # run (context_window 4000 there, 8192 now; --context-window 4000 goes on with it)".
    refused: list[int] = []
    within = _refusing_over(3000, refused)
    served = itertools.count()

    def then_hangs(body: dict[str, Any]) -> Reply | str:
        # Answered at once at first, then hanging: the run cannot finish before Ctrl-C.
        reply = within(body)
        return reply if isinstance(reply, Reply) or next(served) < 4 else Reply(content=reply, delay=60.0)

    fake_server.set_default(then_hangs)
    out = tmp_path / "run"
    stderr = interrupt_after_rows(
        start_eval(tmp_path, fake_server, out, "--methods", "direct"), out / "results.jsonl", 2
    )
    assert "run the same command again to resume" in stderr and refused
    refused.clear()
    fake_server.set_default(within)
    resumed = start_eval(tmp_path, fake_server, out, "--methods", "direct")
    stdout, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert "going on at the 3,000-token window the model's server lowered this run to (from 8,192" in stderr
    assert "holds another run" not in stderr and not refused
    assert "| direct | 10 |" in stdout


def _three_documents(tmp_path: Path) -> Path:
    """A pearl JSONL file of three documents of their own text, five questions each (doc-a first)."""
    lines = []
    for name, what in (("a", "lighthouse"), ("b", "ferry"), ("c", "harbour")):
        text = f"The {what} log of {name.upper()}. " + " ".join(f"The {what} keeper wrote line {n}." for n in range(9))
        questions = [
            {"question": f"What did the {what} keeper write {n}?", "options": ["Lines", "Songs"], "answer": "A"}
            for n in range(5)
        ]
        lines.append(json.dumps({"id": f"doc-{name}", "text": text, "questions": questions}) + "\n")
    data = tmp_path / "three.jsonl"
    data.write_text("".join(lines), encoding="utf-8")
    return data


def _failing_on(text: str, reply: Reply) -> Any:
    """A server's reply: `reply` to any prompt showing `text`, the letter A to every other."""

    def answer(body: dict[str, Any]) -> Reply | str:
        return reply if any(text in str(m["content"]) for m in body["messages"]) else "A"

    return answer


@pytest.mark.parametrize("document", ["ferry", "lighthouse"])  # in the middle, and first (nothing answered yet)
@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_document_the_server_always_fails_on_does_not_stop_the_run(
    tmp_path: Path,
    fake_server: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
    document: str,
    concurrency: int,
) -> None:
    # A server answering 500 to any prompt showing one document's text stopped the run after four of them ("got no
    # answer from the model's server"), though it answered every other document; each run again added four errors.
    fake_server.set_default(_failing_on(f"The {document} log", Reply.error(500, "the worker crashed")))
    out = tmp_path / "run"
    data = load_dataset(_three_documents(tmp_path))
    settings = _eval_settings(fake_server, max_retries=0)
    with caplog.at_level("WARNING"):
        summary = run_eval(Pearl(settings=settings), data, ["direct"], out, concurrency=concurrency)
    rows = latest_rows(load_results(out))
    failed = sorted(qid for (qid, _), row in rows.items() if row.error)
    bad = {"ferry": "doc-b", "lighthouse": "doc-a"}[document]
    assert len(rows) == 15 and failed == [f"{bad}:{n}" for n in range(1, 6)], rows
    assert summary.stopped is None and summary.methods[0].errors == 5
    if concurrency == 1:  # one at a time, its failures come in a row and the run says why it goes on; four at once
        # may answer others between them (which way is the machine's timing), and the report says which failed
        assert f"{bad}: " in caplog.text and "failed while the server answers others" in caplog.text
    fake_server.set_default("A")  # mended: --retry-errors asks them again
    summary = run_eval(Pearl(settings=settings), data, ["direct"], out, retry_errors=True)
    assert summary.methods[0].errors == 0


def test_errors_across_documents_in_a_row_still_stop_the_run(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    # The server fails on every document: three results of the first in a row, then another document's question is
    # asked first, and fails too: a dead server, stopped as soon as before.
    fake_server.set_default(Reply.error(500, "down"))
    out = tmp_path / "run"
    data = load_dataset(_three_documents(tmp_path))
    with pytest.raises(UnansweredError, match=r"stopped: 4 results in a row .*500 from .*: down"):
        run_eval(Pearl(settings=_eval_settings(fake_server, max_retries=0)), data, ["direct"], out, concurrency=1)
    assert [row["id"] for row in check_rows(out / "results.jsonl")] == ["doc-a:1", "doc-a:2", "doc-a:3", "doc-b:1"]


def test_silence_counts_one_documents_failures_only_where_the_server_says_nothing_else() -> None:
    from pearl.errors import LLMTimeoutError, ServerError
    from pearl.eval import Silence

    def failed(silence: Silence, kind: type[Exception], *documents: str, others: bool = False) -> None:
        for document in documents:
            silence.heard(kind("no"), document)
            silence.check("go on", others=others)

    # Failures with an error status, one document's: the next question asked is another document's (`probe`).
    silence = Silence()
    failed(silence, ServerError, "d1", "d1", "d1", "d1", "d1", others=True)
    assert silence.probe == "d1"
    silence.heard(None, "d2")  # answered: the failures were d1's
    assert silence.count == 0 and silence.probe is None
    # With no other document left to ask: the run goes on where the server answered another before...
    failed(silence, ServerError, "d3", "d3", "d3", "d3", "d3")
    # ...and stops where it answered none, as a server down behind its proxy does.
    with pytest.raises(UnansweredError, match="stopped: 4 questions in a row"):
        failed(Silence(), ServerError, "d1", "d1", "d1", "d1")
    # Failures across documents, or with no reply at all (a timeout), stop the run whatever is left.
    with pytest.raises(UnansweredError):
        failed(Silence(), ServerError, "d1", "d1", "d1", "d2", others=True)
    with pytest.raises(UnansweredError):
        failed(Silence(), LLMTimeoutError, "d1", "d1", "d1", "d1", others=True)
    # Mining and refinement say no document: every failure counts, as before.
    with pytest.raises(UnansweredError):
        silence = Silence()
        for _ in range(4):
            silence.heard(ServerError("no"))
            silence.check("go on", others=True)
