"""`pearl eval` end to end against the fake OpenAI-compatible server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import SAMPLE_DIR, SHARED_DATA, requires_shared_data
from fakeserver import FakeOpenAIServer, Reply
from typer.testing import CliRunner

from pearl.cli import app as pearl_app
from pearl.cli._eval import default_out_dir

runner = CliRunner()
QUALITY = SAMPLE_DIR / "quality_sample.jsonl"
PLAN = 's1 = FIND_REASON(CTX, "the question")\ns2 = ANSWER(CTX, "the question")'


def eval_app() -> typer.Typer:
    return pearl_app


def reply(body: dict[str, Any]) -> str:
    last = str(body["messages"][-1]["content"])
    if last.rstrip().endswith("Plan:"):
        return PLAN
    if "Reply with the letter" in last or "Reply with one letter" in last:
        return "B"
    return "Because of her aunt [S3]."


def server_args(server: FakeOpenAIServer) -> list[str]:
    return ["--base-url", server.base_url, "--model", "fake-model"]


def test_eval_all_methods_report_files_and_resume(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(reply)
    out = tmp_path / "run"
    args = ["eval", str(QUALITY), "--limit", "2", "--out", str(out), *server_args(fake_server)]
    result = runner.invoke(eval_app(), args)
    assert result.exit_code == 0, result.output
    report = result.stdout
    assert report.startswith("# pearl eval: quality_sample.jsonl")
    for method in ("pearl", "direct", "rag", "pearl-fulldoc"):
        assert f"| {method} | 2 |" in report
    assert "## Score by split" in report and "## Paired comparisons" in report
    assert "8/8 100%" in result.stderr and "8/8" not in result.stdout  # progress goes to stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and all(r["error"] is None for r in rows)
    pearl_row = next(r for r in rows if r["method"] == "pearl")
    assert pearl_row["plan"] and "FIND_REASON" in pearl_row["plan"] and pearl_row["calls"] >= 3
    assert pearl_row["correct"] is (pearl_row["gold"] == "B")
    assert (out / "report.md").read_text() == report
    requests = len(fake_server.chat_requests)

    again = runner.invoke(eval_app(), args)
    assert again.exit_code == 0 and "resuming: 8 of 8" in again.stderr
    assert len(fake_server.chat_requests) == requests  # nothing asked twice
    assert again.stdout == report
    assert "note: the report covers" not in again.stderr
    # A narrower run into the finished folder rewrote its report for one method: say the rest is still there.
    narrower = runner.invoke(eval_app(), [*args[:3], "1", *args[4:], "-m", "rag"])
    assert narrower.exit_code == 0 and "| rag | 1 |" in narrower.stdout
    assert "note: the report covers this run's 1 result; " in narrower.stderr
    assert "also keeps 7 results of earlier runs" in narrower.stderr


def test_default_out_dir_is_deterministic(tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    fake_server.set_default(reply)
    result = runner.invoke(
        eval_app(), ["eval", str(QUALITY), "-m", "direct", "--split", "short", *server_args(fake_server)]
    )
    assert result.exit_code == 0, result.output
    assert "run directory: runs/quality_sample-fake-model" in result.stderr
    assert (tmp_path / "runs" / "quality_sample-fake-model" / "summary.json").is_file()
    assert "| direct | 2 |" in result.stdout  # the short split has two questions
    assert default_out_dir(Path("x/data.jsonl"), "org/Model 7B") == Path("runs/data-org-Model-7B")


def test_failed_question_then_retry_errors(tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: Any) -> None:
    monkeypatch.setenv("PEARL_MAX_RETRIES", "0")
    fake_server.enqueue(Reply.error(500, "boom"))
    fake_server.set_default(reply)
    args = [
        "eval",
        str(QUALITY),
        "-m",
        "direct",
        "--concurrency",
        "1",
        "--out",
        str(tmp_path / "r"),
        *server_args(fake_server),
    ]
    result = runner.invoke(eval_app(), args)
    assert result.exit_code == 0, result.output
    assert "1 of 6 results failed" in result.stderr
    # A 500 may pass on its own: retried as it is, the error named (it was "add --retry-errors" alone).
    assert "add --retry-errors to run those again (the first error: " in result.stderr and "boom" in result.stderr
    assert re.search(r"\| direct \| 6 \|.*\| 1 \| 0 \|$", result.stdout, re.MULTILINE)  # errors 1, fallbacks 0
    before = len(fake_server.chat_requests)
    again = runner.invoke(eval_app(), [*args, "--retry-errors"])
    assert again.exit_code == 0 and "failed (see" not in again.stderr
    assert len(fake_server.chat_requests) == before + 1


@pytest.mark.parametrize(("flag", "env", "most"), [(["--concurrency", "6"], None, 6), ([], "6", 6), ([], None, 4)])
def test_concurrency_sizes_the_models_calls_in_flight_too(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: Any, flag: list[str], env: str | None, most: int
) -> None:
    # --concurrency 16 sized the questions in flight alone: the model's client, sized by the setting, let 4 calls
    # through, and PEARL_CONCURRENCY=16 without the flag ran 4 questions (helper-214). Now either sizes both.
    import threading
    import time

    if env is not None:
        monkeypatch.setenv("PEARL_CONCURRENCY", env)
    lock, now, seen = threading.Lock(), [0], [0]

    def slow(body: dict[str, Any]) -> str:
        with lock:
            now[0] += 1
            seen[0] = max(seen[0], now[0])
        time.sleep(0.3)
        with lock:
            now[0] -= 1
        return reply(body)

    fake_server.set_default(slow)
    args = ["eval", str(QUALITY), "-m", "direct", "--no-cache", "--out", str(tmp_path / "r"), *flag]
    result = runner.invoke(eval_app(), [*args, *server_args(fake_server)])
    assert result.exit_code == 0, result.output
    assert seen[0] == most


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--methods", "direct,magic"], "unknown method(s) magic"),
        (["--split", "medium"], "unknown split 'medium'"),
        (["--format", "csv"], "unknown format 'csv'"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, extra: list[str], message: str) -> None:
    args = ["eval", str(QUALITY), "--out", str(tmp_path / "r"), "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    result = runner.invoke(eval_app(), [*args, *extra])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_malformed_data_file_names_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "x", "instructions": ["q"], "outputs": [7]}\n', encoding="utf-8")
    result = runner.invoke(eval_app(), ["eval", str(bad), "--base-url", "http://127.0.0.1:9/v1", "--model", "m"])
    assert result.exit_code == 2
    assert f"error: {bad}:1: outputs[0]: expected a non-empty string or list of strings" in result.stderr


def test_another_model_in_the_same_directory_is_refused(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(reply)
    out = ["--out", str(tmp_path / "r"), "-m", "direct", "--limit", "1", "--base-url", fake_server.base_url]
    assert runner.invoke(eval_app(), ["eval", str(QUALITY), *out, "--model", "a"]).exit_code == 0
    result = runner.invoke(eval_app(), ["eval", str(QUALITY), *out, "--model", "b"])
    assert result.exit_code == 2
    assert "model 'a' there, 'b' now" in result.stderr and "pass another --out" in result.stderr


def test_wrong_key_stops_with_a_clear_message(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(Reply.error(401, "bad key"))
    result = runner.invoke(
        eval_app(), ["eval", str(QUALITY), "-m", "direct", "--out", str(tmp_path / "r"), *server_args(fake_server)]
    )
    assert result.exit_code == 2
    # Nothing was saved: "results so far are kept ...; re-run to resume" sent the user back to the same refusal.
    assert "PEARL_API_KEY" in result.stderr and "results so far" not in result.stderr


@requires_shared_data
def test_eval_on_both_shared_files(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(reply)
    for name, limit in (("leval_quality.jsonl", "3"), ("leval_legal_contract_qa.jsonl", "2")):
        result = runner.invoke(
            eval_app(),
            [
                "eval",
                str(SHARED_DATA / name),
                "-m",
                "direct,rag",
                "--limit",
                limit,
                "--out",
                str(tmp_path / name),
                *server_args(fake_server),
            ],
        )
        assert result.exit_code == 0, result.output
        assert f"| rag | {limit} |" in result.stdout
    assert "ROUGE-L" in result.stdout  # the contract file is free text


def test_public_api_is_explicit() -> None:
    import pearl.eval

    assert len(set(pearl.eval.__all__)) == len(pearl.eval.__all__)
    assert all(hasattr(pearl.eval, name) for name in pearl.eval.__all__)
    assert {"load_dataset", "run_eval", "arun_eval", "summarize", "render_report", "token_f1"} <= set(
        pearl.eval.__all__
    )


def test_pearl_command_has_eval_once_wired() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "pearl", "eval", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--retry-errors" in result.stdout


def test_plans_only_with_no_plan_for_a_question_says_which_qids_the_plans_name(tmp_path: Path) -> None:
    # "see which qids match above", above which nothing was printed: the error came before the plans' summary.
    plans = tmp_path / "plans.jsonl"
    plans.write_text('{"qid": "nope", "plan": "s1 = FIND_X(CTX, \\"x\\")"}\n', encoding="utf-8")
    args = ["eval", str(QUALITY), "--plans", str(plans), "--plans-only", "--out", str(tmp_path / "run")]
    result = runner.invoke(pearl_app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"error: no question of the 'all' split has a plan in {plans}: 0 of 1 given plan match a question; "
        "1 match no question (qid nope)"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        # A wrong flag was said after notes on the plans and the run folder had been printed.
        (["-m", "bogus", "--plans", "PLANS"], "error: unknown method(s) bogus; choose from"),
        (["--plans-only"], "error: --plans-only needs --plans FILE"),
        # A file named as the run folder: "cannot create the run directory m1.json (File exists)". The command line
        # names its option alone, not the Python parameter too ("--out (out_dir=)").
        (
            ["--out", "M1"],
            "error: the run directory M1 is a file: a run is a folder of files; choose another --out\n",
        ),
    ],
    ids=["unknown-method", "plans-only", "out-is-a-file"],
)
def test_eval_refuses_flags_before_anything_else(tmp_path: Path, args: list[str], said: str) -> None:
    plans = tmp_path / "plans.jsonl"
    plans.write_text('{"qid": "0", "plan": "a = FIND_X(CTX, \\"x\\")"}\n', encoding="utf-8")
    file = tmp_path / "m1.json"
    file.write_text("{}", encoding="utf-8")
    args = [str(plans) if a == "PLANS" else str(file) if a == "M1" else a for a in args]
    out = ["--out", str(tmp_path / "run")] if "--out" not in args else []
    result = runner.invoke(pearl_app, ["eval", str(SAMPLE_DIR / "quality_sample.jsonl"), *args, *out])
    assert result.exit_code == 2, result.output
    errors = [line + "\n" for line in result.stderr.splitlines() if not line.startswith("run directory:")]
    assert len(errors) == 1 and errors[0].startswith(said.replace("M1", str(file))), result.stderr
    assert not (tmp_path / "run").exists() and file.read_text(encoding="utf-8") == "{}"
