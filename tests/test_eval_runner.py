"""The runner: rows, resume and skip, partial-line recovery, dedupe, --retry-errors, run.json checks, summaries."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DIR

from pearl import Pearl, load_settings
from pearl.cli._eval import _waiting_on
from pearl.cli._progress import ProgressBar
from pearl.errors import ConfigError, EmbeddedModelError, LLMRequestError, ServerError
from pearl.eval import (
    EvalQuestion,
    ResultRow,
    counting_fake_llm,
    fake_reply,
    latest_rows,
    load_dataset,
    load_results,
    render_report,
    run_eval,
    score_answer,
    select_questions,
    summarize,
)
from pearl.eval import _runner as runner_module
from pearl.html import DEMO_SCORES, render_report_page
from pearl.llm import Completion, CompletionRequest, FakeLLM
from pearl.models import Answer
from pearl.questions import Question

QUESTIONS = SAMPLE_DIR / "questions.jsonl"
QUALITY = SAMPLE_DIR / "quality_sample.jsonl"
STORY_TEXT = (SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(encoding="utf-8")


def pearl_with(llm: Any) -> Pearl:
    return Pearl(llm=llm, settings=load_settings(cache=False))


def lines_of(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


def pairs(out: Path) -> list[tuple[str, str]]:
    return sorted((row["id"], row["method"]) for row in lines_of(out))


def test_run_writes_rows_summary_and_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    fake = counting_fake_llm()
    data = load_dataset(QUESTIONS)
    summary = run_eval(pearl_with(fake), data, ["direct", "rag"], out)
    rows = lines_of(out)
    assert len(rows) == 20 and len(set(pairs(out))) == 20
    choice = next(r for r in rows if r["id"] == "doc1:1" and r["method"] == "direct")
    assert choice["kind"] == "choice" and choice["gold"] == "B" and choice["prediction"] in "ABCD"
    assert choice["score"] == float(choice["correct"]) and choice["calls"] == 1 and choice["prompt_tokens"] > 1000
    free = next(r for r in rows if r["id"] == "doc2:1" and r["method"] == "rag")
    assert free["kind"] == "free" and free["f1"] is not None and free["rouge_l"] is not None and free["correct"] is None
    assert {p.name for p in out.iterdir()} == {
        *("run.json", "results.jsonl", "summary.json", "report.md", "report.html", "traces", "run.lock"),
    }
    assert len(list((out / "traces").glob("*.json"))) == len(list((out / "traces").glob("*.html"))) == 20
    run = json.loads((out / "run.json").read_text())
    assert run["format"] == "leval" and run["methods"] == ["direct", "rag"] and run["model"] == "counting-fake"
    assert [m.method for m in summary.methods] == ["direct", "rag"]
    assert summary.questions == 10 and summary.methods[0].choice_n == 6 and summary.methods[0].free_n == 4
    assert (out / "report.md").read_text() == render_report(summary)
    assert json.loads((out / "summary.json").read_text())["rows"] == 20
    # No planned method ran: nothing was planned with; and both token columns are explained, in both reports.
    assert "Planned with" not in render_report(summary)
    for report in ((out / "report.md").read_text(), (out / "report.html").read_text()):
        assert "cost by prompt tok/q." in report and DEMO_SCORES not in report
    # A run of the embedded model says, in both reports, that it answers at chance (said only on stderr before).
    assert summary.run is not None
    demo = summary.model_copy(update={"run": summary.run.model_copy(update={"backend": "embedded"})})
    assert DEMO_SCORES in render_report(demo) and DEMO_SCORES in render_report_page(demo, [])
    planned = run_eval(pearl_with(fake), data, ["pearl"], tmp_path / "planned", limit=1)
    said = "Planned with actions 'default' v1 (42 actions) (`"
    assert said in render_report(planned) and "demonstrations 'builtin' v" in render_report(planned)
    assert "Planned with actions" in (tmp_path / "planned" / "report.html").read_text()


def test_rerun_skips_finished_pairs_and_resumes_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "run"
    data = load_dataset(QUESTIONS)
    fake = counting_fake_llm()
    run_eval(pearl_with(fake), data, ["direct"], out, limit=3)
    assert len(fake.history) == 3
    run_eval(pearl_with(fake), data, ["direct"], out)  # same run, all questions: only the 7 missing run
    assert len(fake.history) == 10
    summary = run_eval(pearl_with(fake), data, ["direct"], out)
    assert len(fake.history) == 10  # nothing left to do
    assert summary.methods[0].n == 10 and len(lines_of(out)) == 10


def test_results_of_changed_prompts_run_again_on_resume(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    data = load_dataset(QUESTIONS)
    fake = counting_fake_llm()
    run_eval(pearl_with(fake), data, ["direct", "rag"], out, limit=3)
    assert len(fake.history) == 6 and all(row["prompts_sha256"] for row in lines_of(out))
    # As an older pearl wrote them: two of direct's rows answered with another version of its prompt, one row
    # from before rows kept the hash.
    rows = lines_of(out)
    direct = [row for row in rows if row["method"] == "direct"]
    now = direct[0]["prompts_sha256"]
    direct[0]["prompts_sha256"] = direct[1]["prompts_sha256"] = "0123456789abcdef"
    direct[2]["prompts_sha256"] = None
    (out / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    with caplog.at_level("WARNING", logger="pearl"):
        summary = run_eval(pearl_with(fake), data, ["direct", "rag"], out, limit=3)
    assert len(fake.history) == 8  # the two rows of the old prompt ran again; nothing else did
    assert "2 results (2 of direct) were answered with prompts or an index that have changed since" in caplog.text
    latest = latest_rows(load_results(out))
    assert sorted(str(row.prompts_sha256) for (_, method), row in latest.items() if method == "direct") == sorted(
        [now, now, "None"]
    )
    assert summary.methods[0].n == 3 and len(lines_of(out)) == 8
    # A new index pipeline chooses other evidence: rag's rows run again, direct's (which reads no index) stand.
    monkeypatch.setattr(runner_module, "PIPELINE_VERSION", runner_module.PIPELINE_VERSION + 1)
    runner_module._prompts_hash.cache_clear()
    try:
        run_eval(pearl_with(fake), data, ["direct", "rag"], out, limit=3)
    finally:
        runner_module._prompts_hash.cache_clear()  # the hashes of this pipeline, for the other tests
    assert len(fake.history) == 11 and "3 results (3 of rag)" in caplog.text


def test_partial_last_line_is_cut_away_and_never_glued(tmp_path: Path) -> None:
    out = tmp_path / "run"
    data = load_dataset(QUESTIONS)
    run_eval(pearl_with(counting_fake_llm()), data, ["direct"], out, limit=4)
    results = out / "results.jsonl"
    whole = results.read_bytes()
    with results.open("ab") as handle:  # what a power cut mid-write could leave
        handle.write(b'{"id": "doc1:5", "method": "dir')
    assert len(load_results(out)) == 4  # readers skip it
    run_eval(pearl_with(counting_fake_llm()), data, ["direct"], out)
    text = results.read_bytes()
    assert text.startswith(whole) and text.endswith(b"\n")
    assert len(lines_of(out)) == 10 and len(set(pairs(out))) == 10  # every line parses, no pair twice


def test_latest_rows_keeps_the_last_row_without_error() -> None:
    def row(method: str, error: str | None, score: float) -> ResultRow:
        return ResultRow(id="q", method=method, error=error, score=score)

    chosen = latest_rows([row("a", "boom", 0), row("a", None, 1), row("a", "late boom", 0)])
    assert chosen[("q", "a")].score == 1
    assert latest_rows([row("b", "one", 0), row("b", "two", 0)])[("q", "b")].error == "two"
    assert latest_rows([row("c", None, 0), row("c", None, 1)])[("q", "c")].score == 1
    # Run again after its prompts changed, a failure replaces the answer of the old prompts.
    old, new = row("d", None, 1), row("d", "boom", 0)
    old.prompts_sha256, new.prompts_sha256 = "old", "new"
    assert latest_rows([old, new])[("q", "d")].error == "boom"
    new.prompts_sha256 = None  # a row that cannot tell does not
    assert latest_rows([old, new])[("q", "d")].score == 1


def failing_for(word: str, error: Exception) -> FakeLLM:
    def reply(request: CompletionRequest) -> str:
        if word in request.messages[-1].content.split("</document>")[-1]:
            raise error
        return fake_reply(request)

    return FakeLLM(default=reply, model="counting-fake")


def test_failures_are_recorded_and_retry_errors_reruns_only_them(tmp_path: Path) -> None:
    out = tmp_path / "run"
    data = load_dataset(QUESTIONS)
    summary = run_eval(
        pearl_with(failing_for("Agnete", ServerError("HTTP 500 after 5 attempts"))), data, ["direct"], out
    )
    errors = [r for r in lines_of(out) if r["error"]]
    assert [r["id"] for r in errors] == ["doc1:5"] and errors[0]["error_type"] == "ServerError"
    assert "HTTP 500" in errors[0]["error"] and summary.methods[0].errors == 1 and summary.methods[0].n == 10
    healthy = counting_fake_llm()
    run_eval(pearl_with(healthy), data, ["direct"], out)
    assert healthy.history == []  # a failed pair counts as done unless asked
    summary = run_eval(pearl_with(healthy), data, ["direct"], out, retry_errors=True)
    assert len(healthy.history) == 1 and summary.methods[0].errors == 0
    assert len(lines_of(out)) == 11  # the error row stays in the log; readers prefer the later success
    assert all(r.error is None for r in latest_rows(load_results(out)).values())


def test_unexpected_exception_is_recorded_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug in pearl's own code, met by one question (a model's own errors are model failures: the next test).
    asks = Pearl.aask

    async def buggy(self: Pearl, document: Any, question: Any, *args: Any, **kwargs: Any) -> Any:
        if "Agnete" in question.text:
            raise RuntimeError("bug")
        return await asks(self, document, question, *args, **kwargs)

    monkeypatch.setattr(Pearl, "aask", buggy)
    out = tmp_path / "run"
    summary = run_eval(pearl_with(counting_fake_llm()), load_dataset(QUESTIONS), ["direct"], out, limit=6)
    assert summary.methods[0].errors == 1
    assert [r["error_type"] for r in lines_of(out) if r["error"]] == ["RuntimeError"]


def test_a_models_own_error_is_recorded_as_the_models_failure(tmp_path: Path) -> None:
    # A model of the user's own that raised RuntimeError("quota") was recorded as a bug in pearl, with no trace of
    # the calls the question had made.
    out = tmp_path / "run"
    summary = run_eval(
        pearl_with(failing_for("Agnete", RuntimeError("quota"))), load_dataset(QUESTIONS), ["direct"], out, limit=6
    )
    assert summary.methods[0].errors == 1
    failed = [r for r in lines_of(out) if r["error"]]
    assert [(r["error_type"], r["error"]) for r in failed] == [
        ("LLMError", "the model (fake/counting-fake) raised RuntimeError: quota")
    ]
    assert failed[0]["trace"] is not None  # the failed call, recorded


def test_a_failed_question_keeps_its_trace_and_what_it_spent(tmp_path: Path) -> None:
    # A question that failed after its plan and steps were paid for kept no trace (`"trace": null`) and counted
    # no tokens: the run's totals left out what it spent, and its page could not show where it failed.
    refused = LLMRequestError("HTTP 400: the request was refused", status_code=400)

    def reply(request: CompletionRequest) -> str:
        if (request.prompt or "").startswith("answer") and "Question: Why did Dorota" in request.messages[-1].content:
            raise refused
        return fake_reply(request)

    out = tmp_path / "run"
    summary = run_eval(
        pearl_with(FakeLLM(default=reply, model="counting-fake")), load_dataset(QUESTIONS), ["pearl"], out, limit=6
    )
    failed = [r for r in lines_of(out) if r["error"]]
    assert len(failed) == 1 and failed[0]["error_type"] == "LLMRequestError", failed
    row = failed[0]
    assert row["trace"] is not None and (out / row["trace"]).is_file()
    trace = json.loads((out / row["trace"]).read_text(encoding="utf-8"))
    assert [e["error"] for e in trace["events"] if e["prompt"]][-1] == str(refused)
    # The plan and the steps before the refused answer call were paid for, and count in the run's totals.
    assert row["calls"] >= 3 and row["prompt_tokens"] > 0 and row["completion_tokens"] > 0
    method = summary.methods[0]
    assert method.total_prompt_tokens == sum(r["prompt_tokens"] for r in lines_of(out))
    # Its page is written, and the report links it.
    page = out / row["trace"].replace(".json", ".html")
    assert page.is_file() and "refused" in page.read_text(encoding="utf-8")
    assert row["trace"].replace(".json", ".html") in (out / "report.html").read_text(encoding="utf-8")
    # Asked again, it is answered: what the run spent still holds the failed attempt (it dropped out).
    summary = run_eval(
        pearl_with(counting_fake_llm()), load_dataset(QUESTIONS), ["pearl"], out, limit=6, retry_errors=True
    )
    every = lines_of(out)
    assert len(every) == 7 and summary.methods[0].errors == 0
    assert summary.methods[0].total_prompt_tokens == sum(r["prompt_tokens"] for r in every)
    # What the run spent is what servers read afresh: a re-run answered from the response cache costs nothing, where
    # `total_prompt_tokens`, said to be what was spent, counted every cached call again (helper-214).
    assert summary.methods[0].total_uncached_prompt_tokens == sum(r["uncached_prompt_tokens"] for r in every)


def test_the_report_marks_token_counts_pearl_counted_itself(tmp_path: Path) -> None:
    # A server that reports no usage: pearl counts the tokens (see `Usage.tokens_line`), and the report said so nowhere.
    class Unreported(FakeLLM):
        async def acomplete(self, request: CompletionRequest) -> Completion:
            done = await super().acomplete(request)
            return done.model_copy(update={"estimated": True, "prompt_tokens": 100, "completion_tokens": 5})

    out = tmp_path / "run"
    fake = Unreported(default=fake_reply, model="m")
    summary = run_eval(pearl_with(fake), load_dataset(QUESTIONS), ["direct"], out, limit=2)
    assert summary.methods[0].estimated_calls == 2
    assert all(r["estimated_calls"] == 1 for r in lines_of(out))
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| ~100 | ~100 | ~5 |" in report and "for 2 calls whose server reported none usable" in report, report
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<td>~100</td>" in html and 'id="estimated"' in html
    # A run whose server reports its usage is marked nowhere.
    plain = run_eval(pearl_with(counting_fake_llm()), load_dataset(QUESTIONS), ["direct"], tmp_path / "plain", limit=2)
    assert plain.methods[0].estimated_calls == 0
    assert "~" not in (tmp_path / "plain" / "report.md").read_text(encoding="utf-8")
    assert 'id="estimated"' not in (tmp_path / "plain" / "report.html").read_text(encoding="utf-8")


def test_bad_credentials_stop_the_run_and_keep_rows(tmp_path: Path) -> None:
    out = tmp_path / "run"
    data = load_dataset(QUESTIONS)
    run_eval(pearl_with(counting_fake_llm()), data, ["direct"], out, limit=2)
    fake = FakeLLM(default=LLMRequestError("HTTP 401: invalid API key", status_code=401), model="counting-fake")
    with pytest.raises(LLMRequestError, match="401"):
        run_eval(pearl_with(fake), data, ["direct"], out)
    assert len(lines_of(out)) == 2


class CheckedFake(FakeLLM):
    """A fake with the embedded model's `check()`."""

    def __init__(self, problem: EmbeddedModelError | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problem = problem

    def check(self) -> None:
        if self.problem is not None:
            raise self.problem


def test_missing_embedded_model_fails_before_any_question(tmp_path: Path) -> None:
    fake = CheckedFake(EmbeddedModelError("the embedded model is not installed; install it with ..."))
    with pytest.raises(EmbeddedModelError, match="not installed"):
        run_eval(pearl_with(fake), load_dataset(QUESTIONS), ["direct"], tmp_path / "run")
    assert fake.history == [] and not (tmp_path / "run" / "results.jsonl").exists()


class SilentServerFake(FakeLLM):
    """A fake whose `check()` blocks as `GET /models` does on a server that does not answer, until `answer` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.checking = threading.Event()
        self.answer = threading.Event()

    def check(self) -> None:
        self.checking.set()
        self.answer.wait(20)


def test_cancelling_a_run_during_its_check_does_not_wait_for_the_server(tmp_path: Path) -> None:
    # Ctrl-C at the start of `pearl eval` did nothing until the server answered `GET /models` or its timeout ran out
    # (two minutes): `asyncio.run` waited for the thread the check ran in.
    from pearl.eval import arun_eval

    fake = SilentServerFake()

    async def main() -> None:
        run = asyncio.ensure_future(arun_eval(pearl_with(fake), load_dataset(QUESTIONS), ["direct"], tmp_path / "r"))
        while not fake.checking.is_set():
            await asyncio.sleep(0.01)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    started = time.perf_counter()
    try:
        asyncio.run(main())
        assert time.perf_counter() - started < 5
    finally:
        fake.answer.set()
    assert fake.history == [] and not (tmp_path / "r" / "results.jsonl").exists()


def test_a_request_the_embedded_model_rejects_is_one_failed_row(tmp_path: Path) -> None:
    too_long = EmbeddedModelError("the embedded model rejected the request: Requested tokens (2094) exceed context")
    fake = CheckedFake(
        None, default=lambda r: too_long if "Agnete" in r.messages[-1].content.split("</document>")[-1] else "B"
    )
    summary = run_eval(pearl_with(fake), load_dataset(QUESTIONS), ["direct"], tmp_path / "run", limit=6)
    assert summary.methods[0].errors == 1 and summary.methods[0].n == 6


def test_a_run_directory_of_another_model_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    data = load_dataset(QUESTIONS)
    run_eval(pearl_with(counting_fake_llm()), data, ["direct"], out, limit=1)
    with pytest.raises(ConfigError, match=r"model 'counting-fake' there, 'other' now.*pass another --out"):
        run_eval(pearl_with(counting_fake_llm(model="other")), data, ["direct"], out, limit=1)
    with pytest.raises(ConfigError, match=r"data: .* there, .*quality.* now, whose text differs"):
        run_eval(pearl_with(counting_fake_llm()), load_dataset(QUALITY), ["direct"], out, limit=1)
    # more methods or questions in the same directory is fine: the run grows
    run_eval(pearl_with(counting_fake_llm()), data, ["direct", "rag"], out, limit=2)
    assert len(lines_of(out)) == 4


def test_a_run_that_saved_nothing_or_planned_nothing_takes_this_runs_settings(tmp_path: Path) -> None:
    # A mistyped model (a 404 on the first call) left a folder of no results, which refused the model mended.
    out = tmp_path / "run"
    data = load_dataset(QUESTIONS)
    (out).mkdir()
    (out / "results.jsonl").write_text("", encoding="utf-8")
    run_eval(pearl_with(counting_fake_llm(model="fake-modle")), data, ["direct"], out, limit=1)
    (out / "results.jsonl").write_text("", encoding="utf-8")  # as the 404 left it
    run_eval(pearl_with(counting_fake_llm()), data, ["direct"], out, limit=1)
    assert json.loads((out / "run.json").read_text())["model"] == "counting-fake"
    # A folder with no planned rows takes a planned method's settings and plans as this run's.
    shared = {"llm": counting_fake_llm()}
    run_eval(Pearl(**shared, settings=load_settings(cache=False, max_steps=3)), data, ["pearl"], out, limit=1)
    kept = json.loads((out / "run.json").read_text())
    assert kept["settings"]["max_steps"] == "3" and kept["actions_sha256"] is not None
    assert {row["method"] for row in lines_of(out)} == {"direct", "pearl"}


def test_a_run_resumed_with_other_settings_is_refused_and_an_older_run_file_is_not(tmp_path: Path) -> None:
    out = tmp_path / "run"
    data = load_dataset(QUESTIONS)

    def pearl(**settings: object) -> Pearl:
        return Pearl(llm=counting_fake_llm(), settings=load_settings(cache=False, **settings))

    run_eval(pearl(), data, ["rag"], out, limit=1)
    assert json.loads((out / "run.json").read_text())["settings"]["step_share"] == "0.2"
    # rag writes no plan: how plans are written is no difference for its rows (it was refused), and stays as kept.
    run_eval(pearl(step_share=0.3, max_steps=3), data, ["rag"], out, limit=1)
    assert json.loads((out / "run.json").read_text())["settings"]["step_share"] == "0.2"
    run_eval(pearl(), data, ["pearl"], out, limit=1)
    with pytest.raises(ConfigError, match=r"step_share 0.2 there, 0.3 now; max_steps 8 there, 3 now.*pass another"):
        run_eval(pearl(step_share=0.3, max_steps=3), data, ["pearl"], out, limit=1)
    with pytest.raises(ConfigError, match=r"context_budget 1500 there, 900 now; dense False there, True now"):
        run_eval(pearl(context_budget=900, dense=True), data, ["rag"], out, limit=1)
    with pytest.raises(ConfigError, match=r"token_margin 0.2 there, 0.0 now"):  # what every method shows differs
        run_eval(pearl(token_margin=0), data, ["rag"], out, limit=1)
    # A run file kept before the margin could be set ran at a fifth: resumed at another, it was not refused.
    kept = json.loads((out / "run.json").read_text())
    del kept["settings"]["token_margin"]
    (out / "run.json").write_text(json.dumps(kept))
    with pytest.raises(ConfigError, match=r"token_margin 0.2 there, 0.0 now"):
        run_eval(pearl(token_margin=0), data, ["rag"], out, limit=1)
    run_eval(pearl(), data, ["rag"], out, limit=1)  # and resumed at a fifth, it goes on
    # Dense auto without the model is words alone, as a run before auto (dense False) was: it resumes.
    assert json.loads((out / "run.json").read_text())["settings"]["dense"] == "False"
    # With the model, auto embeds these short documents, as 1 does: not what that run did; the refusal says how
    # to go on with it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pearl.context._dense._auto_installed", lambda: True)
        patch.delenv("PEARL_DENSE")  # the tests' own 0 (conftest): the default, auto
        with pytest.raises(ConfigError, match=r"dense False there, True now; PEARL_DENSE=0 goes on with it"):
            run_eval(pearl(), data, ["rag"], out, limit=1)
    # A run file written before settings were kept resumes with whatever settings, as it always did.
    run_file = json.loads((out / "run.json").read_text())
    del run_file["settings"]
    (out / "run.json").write_text(json.dumps(run_file))
    run_eval(pearl(step_share=0.3), data, ["rag"], out, limit=2)
    assert len([row for row in lines_of(out) if row["method"] == "rag"]) == 2


def test_a_run_resumes_under_settings_that_come_to_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `PEARL_DENSE=1` on a run begun with auto, and `PEARL_CONTEXT_WINDOW=8192` on one begun without it, were refused:
    # "dense auto there, True now", "context_window None there, 8192 now", though each ranks and fits as that run did.
    out = tmp_path / "run"
    data = load_dataset(QUESTIONS)
    monkeypatch.setattr("pearl.context._dense._auto_installed", lambda: True)
    monkeypatch.delenv("PEARL_DENSE")

    def pearl(**settings: object) -> Pearl:  # `direct` ranks nothing: no model is loaded
        return Pearl(llm=counting_fake_llm(), settings=load_settings(cache=False, **settings))

    run_eval(pearl(), data, ["direct"], out, limit=1)
    assert {
        k: v
        for k, v in json.loads((out / "run.json").read_text())["settings"].items()
        if k in ("dense", "context_window")
    } == {"dense": "True", "context_window": "8192"}
    # As a run file of the session before kept them: the values set, not what they came to.
    run_file = json.loads((out / "run.json").read_text())
    run_file["settings"] |= {"dense": "auto", "context_window": "None"}
    (out / "run.json").write_text(json.dumps(run_file))
    run_eval(pearl(dense=True, context_window=8192), data, ["direct"], out, limit=2)
    run_eval(pearl(), data, ["direct"], out, limit=3)
    assert len(lines_of(out)) == 3
    with pytest.raises(
        # The window kept is the one to pass to go on (a server's lowered window: helper-183).
        ConfigError,
        match=r"context_window 8192 there, 4096 now; --context-window 8192 goes on with it; dense True there, False "
        r"now; PEARL_DENSE=1 goes on",
    ):
        run_eval(pearl(dense=False, context_window=4096), data, ["direct"], out, limit=3)
    # A run begun with auto where the wheel was installed ranked by meaning: on a machine without it, auto is
    # words alone, and the run does not go on that way.
    run_file = json.loads((out / "run.json").read_text())
    run_file["settings"]["dense"] = "auto"
    (out / "run.json").write_text(json.dumps(run_file))
    with monkeypatch.context() as patch:
        patch.setattr("pearl.context._dense._auto_installed", lambda: False)
        with pytest.raises(ConfigError, match=r"dense True there, False now; PEARL_DENSE=1 goes on"):
            run_eval(pearl(), data, ["direct"], out, limit=3)
    # A document longer than auto embeds: auto is no longer 1, there or here.
    monkeypatch.setattr("pearl.context._dense.AUTO_CHARS", 10)
    monkeypatch.setattr("pearl.eval._runner.AUTO_CHARS", 10)
    run_eval(pearl(), data, ["direct"], out, limit=3)
    with pytest.raises(ConfigError, match=r"dense auto there, True now; PEARL_DENSE=auto goes on"):
        run_eval(pearl(dense=True), data, ["direct"], out, limit=3)


def test_bad_arguments(tmp_path: Path) -> None:
    data = load_dataset(QUESTIONS)
    pearl = pearl_with(counting_fake_llm())
    with pytest.raises(ConfigError, match="unknown method"):
        run_eval(pearl, data, ["direct", "magic"], tmp_path / "a")
    with pytest.raises(ConfigError, match="use --split all"):
        run_eval(pearl, data, ["direct"], tmp_path / "b", split="long")
    with pytest.raises(ConfigError, match="unknown split"):
        select_questions(data, "medium")


def test_splits_and_limit() -> None:
    data = load_dataset(QUALITY)
    assert [q.id[-1] for q in select_questions(data, "long")] == ["1", "3", "4", "5"]
    assert [q.id[-1] for q in select_questions(data, "short")] == ["2", "6"]
    assert [q.id[-1] for q in select_questions(data, "hard", limit=2)] == ["1", "4"]


class Gauge:
    """An LLM wrapper that records how many requests were in flight at once."""

    def __init__(self, inner: FakeLLM) -> None:
        self.inner = inner
        self.now = 0
        self.peak = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            return await self.inner.acomplete(request)
        finally:
            self.now -= 1


def test_concurrency_is_bounded_and_each_document_indexed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pearl._pearl

    built: list[tuple[str, str]] = []
    original = getattr(pearl._pearl, "index_document")  # noqa: B009 - not re-exported; patched where it is used

    def counting_index(document: Any, **options: Any) -> Any:
        built.append((document.name, threading.current_thread().name))
        return original(document, **options)

    monkeypatch.setattr(pearl._pearl, "index_document", counting_index)
    gauge = Gauge(counting_fake_llm(delay=0.02))
    run_eval(pearl_with(gauge), load_dataset(QUALITY), ["direct", "rag"], tmp_path / "run", concurrency=3)
    assert 1 < gauge.peak <= 3
    # one document, six questions, two methods: indexed once, off the event loop's thread
    assert len(built) == 1 and built[0][0] == "The Keeper of Tr'en Light"
    assert built[0][1] != threading.main_thread().name


def test_score_answer_for_both_kinds() -> None:
    choice = EvalQuestion(
        id="q", document_id="d", question="?", options=["a", "b"], gold="B", golds=["B"], kind="choice"
    )
    assert score_answer(choice, Answer(question="?", answer="b", letter="B", method="direct"))["score"] == 1.0
    unparsed = score_answer(choice, Answer(question="?", answer="hmm", letter=None, method="direct"))
    assert unparsed["unparseable"] is True and unparsed["score"] == 0.0
    free = EvalQuestion(id="f", document_id="d", question="?", gold="96", golds=["96", "ninety-six"], kind="free")
    scored = score_answer(free, Answer(question="?", answer="Ninety-six [S4].", method="rag"))
    assert scored["prediction"] == "Ninety-six." and scored["em"] == 1.0 and scored["f1"] == 1.0


def row(qid: str, method: str, score: float, **extra: Any) -> ResultRow:
    kind = extra.pop("kind", "choice")
    return ResultRow(
        id=qid, method=method, kind=kind, score=score, correct=bool(score) if kind == "choice" else None, **extra
    )


def test_summary_and_report_from_rows() -> None:
    rows = [
        # Two methods sharing one model: a row's wall time holds its waits for the other's calls.
        row(
            "1",
            "pearl",
            1,
            qtype="why",
            tags=["long"],
            prompt_tokens=100,
            completion_tokens=10,
            calls=4,
            seconds=9.0,
            llm_seconds=2.0,
        ),
        row(
            "2",
            "pearl",
            1,
            qtype="who",
            tags=["short"],
            prompt_tokens=300,
            completion_tokens=30,
            calls=4,
            seconds=7.0,
            llm_seconds=4.0,
        ),
        row("3", "pearl", 0, qtype="why", tags=["long", "hard"], unparseable=True, prompt_tokens=200, calls=4),
        row("4", "pearl", 0.5, kind="free", f1=0.5, em=0.0, rouge_l=0.25, prompt_tokens=400, calls=4),
        row("1", "direct", 0, qtype="why", tags=["long"], prompt_tokens=1000, calls=1),
        row("2", "direct", 1, qtype="who", tags=["short"], prompt_tokens=1000, calls=1),
        row("3", "direct", 0, qtype="why", tags=["long", "hard"], error="HTTP 500", error_type="ServerError"),
        row("4", "direct", 0.0, kind="free", f1=0.0, em=0.0, rouge_l=0.0, prompt_tokens=1000, calls=1),
    ]
    summary = summarize(rows, methods=["pearl", "direct"], title="t")
    pearl, direct = summary.methods
    assert summary.questions == 4 and summary.rows == 8 and summary.tags == ["long", "short", "hard"]
    assert pearl.score == pytest.approx(2.5 / 4) and pearl.accuracy == pytest.approx(2 / 3)
    assert pearl.unparseable == pytest.approx(1 / 3) and pearl.f1 == 0.5 and pearl.rouge_l == 0.25
    assert pearl.mean_prompt_tokens == 250 and pearl.mean_calls == 4
    # A failed question's spend counts (it left failures out: a method that failed more looked cheaper)
    assert direct.errors == 1 and direct.mean_prompt_tokens == 750
    assert pearl.by_type["why"].n == 2 and pearl.by_type["why"].score == 0.5
    assert pearl.by_tag["long"].score == 0.5 and direct.by_tag["short"].score == 1.0
    (comparison,) = summary.comparisons
    # Question 3 failed on direct: a server's failure, not a score; it read as 0, a gap between the methods.
    assert (comparison.a, comparison.b, comparison.n, comparison.failed) == ("pearl", "direct", 3, 1)
    assert comparison.diff == pytest.approx(2.5 / 3 - 1 / 3)
    assert comparison.mcnemar_p is None  # a free-text score of 0.5 is not right/wrong
    report = render_report(summary)
    assert report.startswith("# t\n")
    assert "| pearl | 4 | 62.5 | 66.7 | 33.3 | 0.0 | 50.0 | 25.0 | 250 | 250 | 10 | 4.0 | 4.00 | 1.50 |" in report
    assert "| s/q | model s/q |" in report
    assert "## Score by question type" in report and "why (2)" in report
    assert "## Score by split" in report and "long (2)" in report
    assert "## Paired comparisons" in report and "| pearl | direct | 3 |" in report
    assert "questions the model server left unanswered for one of the two methods (pearl/direct 1)" in report


def test_paired_comparisons_keep_a_methods_own_failures_and_say_when_nothing_is_left() -> None:
    # A given plan that does not parse is the method's failure, its 0 a score; a server's silence is no evidence.
    rows = [row(str(i), "a", 1) for i in range(3)] + [row(str(i), "b", 1) for i in range(3)]
    rows[3] = row("0", "b", 0, error="line 1: unknown action", error_type="PlanParseError")
    rows[4] = row("1", "b", 0, error="timed out", error_type="LLMTimeoutError")
    (comparison,) = summarize(rows).comparisons
    assert (comparison.n, comparison.failed, comparison.score_b) == (2, 1, 0.5)
    silent = [row(str(i), m, 0, error="HTTP 503", error_type="ServerError") for i in range(2) for m in "ab"]
    (comparison,) = summarize(silent).comparisons  # every pair left out: shown with n 0, not dropped unsaid
    assert (comparison.n, comparison.failed) == (0, 2)
    assert "| a | b | 0 | – | – | – | – | – |" in render_report(summarize(silent))


def test_mcnemar_in_summary_for_right_wrong_scores() -> None:
    rows = [row(str(i), "a", 1) for i in range(6)] + [row(str(i), "b", 0) for i in range(6)]
    (comparison,) = summarize(rows).comparisons
    assert comparison.a_only == 6 and comparison.b_only == 0
    assert comparison.mcnemar_p == pytest.approx(2 / 64)
    # Free-text F1s of exactly 0 and 1 are scores, not right and wrong: no McNemar test of them.
    free = [row(str(i), m, s, kind="free", f1=s) for i in range(6) for m, s in (("a", 1.0), ("b", 0.0))]
    (comparison,) = summarize(free).comparisons
    assert comparison.mcnemar_p is None and comparison.a_only is None


def test_progress_prints_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar("eval", stream, tty=False)
    for i in range(40):
        bar(i + 1, 40, f"score {i}")
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert 10 <= len(lines) <= 12 and lines[-1].startswith("eval [####################] 40/40 100%  score 39")


def test_progress_also_prints_after_an_interval() -> None:
    stream = io.StringIO()
    bar = ProgressBar("eval", stream, tty=False, interval=0.0)  # a slow model: every row is "long enough" apart
    for i in range(3):
        bar(i, 100)
    assert len(stream.getvalue().splitlines()) == 3


def test_progress_redraws_one_line_on_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar("eval", stream, tty=True)
    bar(1, 3)
    bar(2, 3)
    bar.close()
    text = stream.getvalue()
    assert text.count("\r") == 2 and "2/3" in text and text.endswith("\n")


def test_the_bar_shows_a_document_being_indexed_while_its_questions_wait(tmp_path: Path) -> None:
    # `pearl eval` drew "0/3 0%  0s" and nothing else for the 13 s a 100k-word document took to index (helper-227).
    stream = io.StringIO()
    bar = ProgressBar("eval", stream, tty=True)
    pearl = Pearl(
        llm=counting_fake_llm(), settings=load_settings(cache=False), on_stage=functools.partial(_waiting_on, bar)
    )
    run_eval(pearl, load_dataset(QUESTIONS), ["rag"], tmp_path / "r", limit=2, concurrency=1, progress=bar)
    drawn = stream.getvalue().split("\r")
    assert any(line.startswith("eval [") and " 0/2 " in line and "indexing " in line for line in drawn), drawn
    assert not any("planning" in line for line in drawn)  # a question's own stages are its own
    # Indexed, the line says so no more: it had read "indexing 100,000 words" through planning (helper-229).
    stream = io.StringIO()
    bar = ProgressBar("eval", stream, tty=True)
    bar(0, 10, "score 0")
    _waiting_on(bar, "index", 500, 100_000)
    _waiting_on(bar, "plan (attempt 1)", 1, 8)
    assert "indexing" in stream.getvalue().split("\r")[-2] and "indexing" not in stream.getvalue().split("\r")[-1]
    bar(10, 10, "score 1")
    closed = stream.getvalue()
    _waiting_on(bar, "index", 5, 10)
    assert stream.getvalue() == closed  # a bar closed is not drawn again


def test_run_reports_progress_with_running_totals(tmp_path: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    run_eval(
        pearl_with(counting_fake_llm()),
        load_dataset(QUESTIONS),
        ["direct"],
        tmp_path / "r",
        limit=3,
        concurrency=1,
        progress=lambda done, total, status="": calls.append((done, total, status)),
    )
    assert [c[:2] for c in calls] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert "score" in calls[-1][2] and "tokens" in calls[-1][2]
    resumed: list[tuple[int, int, str]] = []
    run_eval(
        pearl_with(counting_fake_llm()),
        load_dataset(QUESTIONS),
        ["direct"],
        tmp_path / "r",
        limit=3,
        progress=lambda done, total, status="": resumed.append((done, total, status)),
    )
    assert resumed == [(3, 3, calls[-1][2])]  # everything was done: reported once, as it stands


def test_arun_eval_inside_a_running_loop(tmp_path: Path) -> None:
    from pearl.eval import arun_eval

    async def main() -> int:
        summary = await arun_eval(
            pearl_with(counting_fake_llm()), load_dataset(QUESTIONS), ["direct"], tmp_path / "r", limit=2
        )
        return summary.rows

    assert asyncio.run(main()) == 2


def test_counting_fake_plans_for_the_question_asked_not_a_demonstration() -> None:
    llm = counting_fake_llm()
    question = "Why did Agnete Varga leave the lighthouse?"
    Pearl(llm=llm, settings=load_settings(cache=False)).ask(STORY_TEXT, question, method="pearl")
    plan_prompt = next(r for r in llm.history if (r.prompt or "").startswith("plan."))
    assert "Example plans" in plan_prompt.messages[-1].content  # demonstrations with their own questions come first
    plan = fake_reply(plan_prompt)
    assert "Agnete Varga leave lighthouse" in plan and question.replace('"', "'") in plan


def test_rows_and_reports_say_whether_the_model_was_shown_the_gold_answer(tmp_path: Path) -> None:
    data_file = tmp_path / "story.jsonl"
    questions = [
        ("How far is the rock from Port Aubreck?", "seven miles from the harbour wall of Port Aubreck"),  # the opening
        ("Where did Agnete Varga live that winter?", "in the narrow house on Caddow Street"),  # the last page
        ("Which street was the house on?", "Caddow Street"),  # in the story, but too short to be looked for
        ("Who kept the light in the end?", "somebody the story never names"),  # not a span of the story
        # two golds: the one the story holds is looked for
        ("What did the doctor say?", ["that the old woman would recover", "the doctor went on saying she would"]),
    ]
    row = {"input": STORY_TEXT, "instructions": [q for q, _ in questions], "outputs": [g for _, g in questions]}
    data_file.write_text(json.dumps(row) + "\n", encoding="utf-8")
    # A window that holds the story's first third: `direct` cuts the story, `rag` shows the best matches.
    fake = FakeLLM(default=fake_reply, context_window=1536, model="counting-fake")
    summary = run_eval(pearl_with(fake), load_dataset(data_file), ["direct", "rag", "pearl"], tmp_path / "run")
    shown = {(r["method"], r["id"].rsplit(":", 1)[-1]): r["evidence_shown"] for r in lines_of(tmp_path / "run")}
    assert [shown["direct", q] for q in "12345"] == [True, False, None, None, False]
    assert [shown["rag", q] for q in "12345"] == [True, True, None, None, True]
    assert [shown["pearl", q] for q in "12345"][2:4] == [None, None]
    direct, rag, _ = summary.methods
    assert (direct.evidence_n, rag.evidence_shown, rag.evidence_n) == (3, 1.0, 3) and direct.evidence_shown == 1 / 3
    report = render_report(summary)
    assert "| evidence shown |" in report and "| 33.3 of 3 |" in report and "| 100.0 of 3 |" in report
    page = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "<th>evidence shown</th>" in page and "<td>33.3 of 3</td>" in page
    # Multiple choice alone: nothing to tell, no column.
    choice = run_eval(pearl_with(counting_fake_llm()), load_dataset(QUALITY), ["direct"], tmp_path / "choice", limit=1)
    assert "evidence shown" not in render_report(choice)
    assert "evidence shown" not in (tmp_path / "choice" / "report.html").read_text(encoding="utf-8")


def test_a_prompt_the_server_refused_showed_the_model_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pearl.models import Message, Trace, TraceEvent

    gold = "in the narrow house on Caddow Street"
    data_file = tmp_path / "story.jsonl"
    row = {"input": STORY_TEXT, "instructions": ["Where did Agnete Varga live?"], "outputs": [gold]}
    data_file.write_text(json.dumps(row) + "\n", encoding="utf-8")
    pearl = pearl_with(counting_fake_llm())

    def sent(text: str, error: str | None = None) -> TraceEvent:
        block = f'<document name="story">\n{text}\n</document>'
        message = Message(role="user", content=block)
        return TraceEvent(stage="direct", prompt="direct.v2#x", messages=[message], error=error)

    async def answered(document: object, question: Question, method: str = "direct") -> Answer:
        # The first prompt held the story whole and was refused as too long; the one run instead held its opening.
        events = [sent(STORY_TEXT, error="ContextOverflowError: too long"), sent(STORY_TEXT[:2000])]
        return Answer(question=question.text, answer="On Caddow Street.", method=method, trace=Trace(events=events))

    monkeypatch.setattr(pearl, "aask", answered)
    run_eval(pearl, load_dataset(data_file), ["direct"], tmp_path / "run")
    assert [r["evidence_shown"] for r in lines_of(tmp_path / "run")] == [False]


def test_a_question_that_failed_counts_in_evidence_shown_as_what_it_showed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A failed question was left out of the figure: "100.0 of 1" where the same table scored 2 questions.
    from pearl.errors import ServerError

    data_file = tmp_path / "story.jsonl"
    questions = ["Where did Agnete Varga live that winter?", "How far is the rock from Port Aubreck?"]
    golds = ["in the narrow house on Caddow Street", "seven miles from the harbour wall of Port Aubreck"]
    data_file.write_text(json.dumps({"input": STORY_TEXT, "instructions": questions, "outputs": golds}) + "\n")
    pearl = pearl_with(counting_fake_llm())
    real = pearl.aask

    async def failing(document: object, question: Question, method: str = "direct") -> Answer:
        if question.text.startswith("How far"):
            raise ServerError("500 from the server")
        return await real(document, question, method=method)

    monkeypatch.setattr(pearl, "aask", failing)
    summary = run_eval(pearl, load_dataset(data_file), ["direct"], tmp_path / "run")
    shown = {r["id"].rsplit(":", 1)[-1]: (r["evidence_shown"], r["error"] is None) for r in lines_of(tmp_path / "run")}
    assert shown == {"1": (True, True), "2": (False, False)}
    (direct,) = summary.methods
    assert (direct.evidence_shown, direct.evidence_n, direct.errors) == (0.5, 2, 1)


def test_evidence_shown_ignores_labels_case_spacing_and_soft_hyphens_and_never_pieces_a_gold_together() -> None:
    from pearl.eval import evidence_shown

    question = EvalQuestion(
        id="q", document_id="d", question="Where?", gold="the narrow house", golds=["the narrow house"], kind="free"
    )
    document = "She lived in the nar\u00adrow\n  house on Caddow Street."

    def excerpts(*texts: str) -> str:
        return "".join(f'<excerpts name="d" note="">\n{text}\n</excerpts>\n' for text in texts)

    assert evidence_shown(question, document, [excerpts("[S4] She lived in THE narrow [S5] house.")]) is True
    assert evidence_shown(question, document, [excerpts("She lived in the narrow", "house on Caddow Street.")]) is False
    assert evidence_shown(question, document, [excerpts("She lived in the narrow"), excerpts("house.")]) is False
    # Words outside the document's blocks (the question, a plan, a step's result) are not the document shown.
    result = "Result of FIND_X: the narrow house"
    assert evidence_shown(question, document, [result + excerpts("Caddow Street")]) is False
    assert evidence_shown(question, "A story without it.", [excerpts("the narrow house")]) is None
    choice = question.model_copy(update={"kind": "choice", "gold": "A"})
    assert evidence_shown(choice, document, [excerpts("the narrow house")]) is None


def test_a_trace_that_cannot_be_written_loses_no_row(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "traces").write_text("a file where the folder goes", encoding="utf-8")
    summary = run_eval(pearl_with(counting_fake_llm()), load_dataset(QUESTIONS), ["direct"], out, limit=2)
    rows = lines_of(out)
    assert len(rows) == 2 and all(r["trace"] is None and r["error"] is None for r in rows) and summary.methods[0].n == 2
    assert "trace not written" in caplog.text


def test_a_row_of_a_method_this_pearl_does_not_know_is_left_out_when_the_plans_change(tmp_path: Path) -> None:
    # A results file holding a row of "pearl-v0" (a method since renamed) and a changed --plans: KeyError: 'pearl-v0'.
    from pearl.eval import PlanSet

    data = load_dataset(QUALITY)
    first = data.questions[0].id
    out = tmp_path / "run"
    unparsed = PlanSet(path="plans.jsonl", rows=1, plans={first: "1. x = FIND_NOTHING(CTX)"})
    run_eval(pearl_with(counting_fake_llm()), data, ["pearl"], out, limit=1, plans=unparsed)
    (row,) = lines_of(out)
    assert row["error"] and row["plan_given"]
    older = ResultRow(id=first, method="pearl-v0", answer="B", prediction="B")  # answered, by a method now unknown
    with (out / "results.jsonl").open("a", encoding="utf-8") as results:
        results.write(older.model_dump_json() + "\n")
    mended = PlanSet(path="plans.jsonl", rows=1, plans={first: 'a = FIND_EVENT(CTX, "the keeper")'})
    summary = run_eval(pearl_with(counting_fake_llm()), data, ["pearl"], out, limit=1, plans=mended)
    assert summary.methods[0].n == 1 and [r["method"] for r in lines_of(out)] == ["pearl", "pearl-v0", "pearl"]


def test_questions_the_loader_left_out_are_named_in_the_reports(tmp_path: Path) -> None:
    # An L-Eval question whose gold names several options ("AC") was said on stderr at load, then in no report, unlike
    # every other question a run skips.
    options = "\nA. Trim the wick\nB. Fly\nC. Log the weather\nD. Sink"
    line = {
        "input": STORY_TEXT,
        "instructions": [f"Question {n}. Which can a keeper do?{options}" for n in range(1, 5)],
        "outputs": ["A", "AC", "C", "BD"],
        "evaluation": "exam",
    }
    data = tmp_path / "coursera.jsonl"
    data.write_text(json.dumps(line) + "\n", encoding="utf-8")
    dataset = load_dataset(data)
    assert [q.id for q in dataset.questions] == ["doc1:1", "doc1:3"]
    out = tmp_path / "run"
    summary = run_eval(pearl_with(counting_fake_llm()), dataset, ["direct"], out, limit=1)
    assert summary.skipped == []  # doc1:2 stands after the first question: not in this run
    summary = run_eval(pearl_with(counting_fake_llm()), dataset, ["direct"], out)
    assert summary.skipped == ["doc1:2", "doc1:4"]
    why = "its gold answer names several options, and pearl answers multiple choice with one ('AC')"
    assert summary.skipped_why["doc1:2"] == why
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["skipped_why"]["doc1:2"] == why
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Skipped 2 questions that cannot be asked as given" in report and f"`doc1:2` ({why})" in report
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="unaskable"' in page and "<code>doc1:4</code>" in page


class _Unchecked:
    """A model of one's own with every member pearl reads but `check` (as benchmarks/plan_validity.py's wrapper)."""

    def __init__(self, inner: FakeLLM) -> None:
        self.inner = inner
        self.backend, self.model, self.context_window = inner.backend, inner.model, inner.context_window
        self.supports_grammar = self.supports_json_schema = self.is_demo = False

    def complete(self, request: CompletionRequest) -> Completion:
        return self.inner.complete(request)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        return await self.inner.acomplete(request)


def test_a_model_without_check_is_asked_and_evaluated(tmp_path: Path) -> None:
    # Made strict about a model's members, Pearl refused plan_validity.py's wrapper for want of `check`, which only
    # an evaluation's start calls: it is called where a model has one.
    llm = _Unchecked(FakeLLM(default="B"))
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    assert pearl.ask("Mira runs the ferry.", "Who runs it?", ["Mira", "Tom"], method="direct").letter == "B"
    summary = run_eval(pearl, load_dataset(QUALITY), ["direct"], tmp_path / "run", limit=1)
    assert summary.methods[0].n == 1 and summary.methods[0].errors == 0
