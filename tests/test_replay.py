"""Replaying given plans: `pearl ask --plan`, `pearl eval --plans` and how the paper's qids are matched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DIR
from fakeserver import FakeOpenAIServer
from typer.testing import CliRunner

from pearl import Pearl, default_library, load_settings
from pearl.cli import app
from pearl.errors import ConfigError, DatasetError
from pearl.eval import load_dataset, match_plans, read_plans, run_eval
from pearl.llm import CompletionRequest, FakeLLM
from pearl.planning import builtin_demos

runner = CliRunner()
QUALITY = SAMPLE_DIR / "quality_sample.jsonl"
KEEPER = SAMPLE_DIR / "the_keeper_of_tren_light.txt"
QUESTION = "Why did Dorota put water in the lamp oil?"
# The paper's form: a New actions block, numbered steps with explanations, a result where the document goes.
PAPER_PLAN = (
    "New actions:\n- None\n\n"
    '1. oil = FIND_EVENT(CTX, "Dorota puts water in the lamp oil") : Find the scene with the oil\n'
    '2. why = FIND_REASON(oil, "") : Read that scene for her reason\n'
    "3. ans = CONCAT(oil, why) : Combine them"
)


def server_reply(body: dict[str, Any]) -> str:
    last = str(body["messages"][-1]["content"])
    if last.rstrip().endswith("Plan:"):
        return 'w = FIND_X(CTX, "WRITTEN BY THE PLANNER")'
    if "Reply with the letter" in last or "Reply with one letter" in last:
        return "B"
    return "Her grandmother's warning [S3]."


def server(fake: FakeOpenAIServer) -> list[str]:
    return ["--base-url", fake.base_url, "--model", "fake-model", "--no-cache"]


# ---------------------------------------------------------------------------------------------- pearl ask --plan


@pytest.mark.parametrize("method", ["pearl", "pearl-fulldoc"])
def test_ask_runs_a_given_plan_instead_of_planning(method: str, tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(server_reply)
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text(PAPER_PLAN, encoding="utf-8")
    for given in (PAPER_PLAN, str(plan_file)):
        fake_server.reset()
        fake_server.set_default(server_reply)
        args = ["ask", str(KEEPER), QUESTION, "--plan", given, "-m", method, "--json", *server(fake_server)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["method"] == method and not data["fallback"]
        assert data["plan"].startswith('oil = FIND_EVENT(CTX, "Dorota puts water in the lamp oil")')
        assert 'why = FIND_REASON(oil, "") : Read that scene for her reason' in data["plan"]
        prompts = [r.prompt for r in fake_server.chat_requests]
        assert not any(p.rstrip().endswith("Plan:") for p in prompts)  # no planning call
        # the given plan's two model steps ran (CONCAT runs locally)
        assert any("Dorota puts water in the lamp oil" in p for p in prompts)
        assert any("FIND_REASON" in p for p in prompts) and data["usage"]["calls"] >= 2


def test_ask_plan_errors_are_one_line(tmp_path: Path) -> None:
    cases = [
        (["--plan", 'a = NO_SUCH(CTX, "x")'], "--plan does not parse: line 1, column 5: unknown action NO_SUCH"),
        (["--plan", 'a = ANSWER(CTX, "q")'], "a plan of ANSWER alone is not a plan"),
        (["--plan", str(tmp_path / "missing.txt")], "no such file; pass a plan's text or a file holding one"),
        # An empty value and a folder were "no such file" too.
        (["--plan", ""], "--plan is empty: pass a plan's text or a file holding one"),
        (["--plan", str(tmp_path)], f"--plan {tmp_path} is a folder: pass a plan's text"),
        (["--plan", 'a = FIND_X(CTX, "x")', "-m", "direct"], "--plan runs a plan, which method direct does not"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["ask", str(KEEPER), QUESTION, *extra])
        assert result.exit_code == 2, result.output
        assert message in result.stderr and "Traceback" not in result.output
    # A plan calling actions of another list (the paper's FIND_ENDING) is told of --actions, as eval --plans tells
    # it (helper-180); with --actions given, not.
    result = runner.invoke(app, ["ask", str(KEEPER), QUESTION, "--plan", 'a = FIND_ENDING(CTX, "x")'])
    assert "give it with --actions FILE (for the paper's plans, its actions_simplified.txt)" in result.stderr
    listed = tmp_path / "list.txt"
    listed.write_text("FIND_X(CTX, X) # find X\n", encoding="utf-8")
    result = runner.invoke(
        app, ["ask", str(KEEPER), QUESTION, "--actions", str(listed), "--plan", 'a = FIND_ENDING(CTX, "x")']
    )
    assert (
        result.exit_code == 2
        and "unknown action FIND_ENDING" in result.stderr
        and "--actions FILE" not in result.stderr
    )


# ---------------------------------------------------------------------------------------------- matching qids


def write_plans(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_paper_qids_match_positions_in_a_quality_file(tmp_path: Path) -> None:
    dataset = load_dataset(QUALITY)
    ids = [q.id for q in dataset.questions]
    rows = [
        {"run": "pearl_out", "qid": "0", "plan": "first", "gold": "B"},
        {"qid": ids[3], "plan": "by id"},
        {"qid": 5, "plan": "an integer qid"},
        {"run": "pearl_out_1", "qid": "0", "plan": "second run"},
        {"qid": "999", "plan": "no such question"},
        {"qid": "nope", "plan": "no such id"},
    ]
    given = match_plans(dataset, write_plans(tmp_path / "plans.jsonl", rows))
    assert given.plans == {ids[0]: "first", ids[3]: "by id", ids[5]: "an integer qid"}
    assert (given.rows, given.by_position, given.duplicates, given.unmatched) == (6, 2, 1, 2)
    assert given.unmatched_ids == ["999", "nope"]
    assert given.summary() == (
        "3 of 6 given plans match a question (2 by position in the QuALITY file); 1 names a question an earlier row "
        "names (the first is used); 2 match no question (qid 999, nope)"
    )
    # One question named by id and then by position is a repeat too: it was counted as a match and dropped.
    twice = [{"qid": ids[3], "plan": "a"}, {"qid": 3, "plan": "b"}]
    both = match_plans(dataset, write_plans(tmp_path / "both.jsonl", twice))
    assert both.plans == {ids[3]: "a"} and (both.by_position, both.duplicates) == (0, 1)
    # positions are the paper's numbering of QuALITY files only; other layouts match by id
    custom = load_dataset(SAMPLE_DIR / "custom.jsonl")
    assert match_plans(custom, tmp_path / "plans.jsonl").plans == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no plans"),
        ("not json\n", ":1: not valid JSON"),
        ('{"plan": "x"}\n', ":1: qid: missing"),
        ('{"qid": true, "plan": "x"}\n', ":1: qid: missing"),
        ('{"qid": "1"}\n{"qid": "2", "plan": "x"}\n', ":1: plan: missing"),
        ('{"qid": "1", "plan": 3}\n', ":1: plan: expected a string, got int 3"),
        ('{"qid": "1", "plan": "x"}\n[1]\n', ":2: expected a JSON object, got list"),
    ],
)
def test_bad_plans_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "plans.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
        read_plans(path)


# ---------------------------------------------------------------------------------------------- eval --plans


def replay_fake() -> FakeLLM:
    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        if kind in ("plan", "plan_fix"):
            return 'w = FIND_X(CTX, "WRITTEN BY THE PLANNER")'
        return "Her grandmother's warning [S3]." if kind in ("step", "step_nodoc") else "B"

    return FakeLLM(default=reply)


def test_eval_runs_given_plans_and_records_bad_ones(tmp_path: Path) -> None:
    dataset = load_dataset(QUALITY)
    plans = write_plans(
        tmp_path / "plans.jsonl",
        [{"qid": "0", "plan": PAPER_PLAN}, {"qid": "1", "plan": "1. x = FIND_NOTHING(CTX)"}],
    )
    given = match_plans(dataset, plans)
    llm = replay_fake()
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    out = tmp_path / "run"
    run_eval(pearl, dataset, ["pearl", "direct"], out, limit=3, plans=given)
    rows = {(r["id"], r["method"]): r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    ids = [q.id for q in dataset.questions]
    replayed = rows[(ids[0], "pearl")]
    assert replayed["plan_given"] and replayed["error"] is None and 'FIND_REASON(oil, "")' in replayed["plan"]
    bad = rows[(ids[1], "pearl")]
    assert bad["plan_given"] and bad["error"].startswith("the given plan does not parse: line 1, column 8: unknown")
    # Its trace is kept, as every failed question's is: the plan given and why it does not parse, on its page.
    trace = json.loads((out / bad["trace"]).read_text())
    (event,) = trace["events"]
    assert event["stage"] == "plan given" and event["output"] == "1. x = FIND_NOTHING(CTX)"
    assert event["data"]["error"].startswith("line 1, column 8: unknown") and trace["document"]["name"]
    assert (out / bad["trace"]).with_suffix(".html").is_file()
    planned = rows[(ids[2], "pearl")]
    assert not planned["plan_given"] and "WRITTEN BY THE PLANNER" in planned["plan"]  # no plan given: planned
    assert not rows[(ids[0], "direct")]["plan_given"]  # direct ignores plans
    planner_calls = [r for r in llm.history if (r.prompt or "").startswith("plan")]
    assert len(planner_calls) == 1  # only the question without a given plan was planned
    run = json.loads((out / "run.json").read_text())
    assert run["plans"] == str(plans.resolve()) and run["plans_sha256"]

    # the same run directory with other plans for a question it answered is another run
    answered = rf"which differ for 1 question with results \({ids[0]}\)\)"
    other = match_plans(dataset, write_plans(tmp_path / "other.jsonl", [{"qid": "0", "plan": 'a = FIND_X(CTX, "y")'}]))
    with pytest.raises(
        ConfigError, match=rf"plans: --plans \S+plans.jsonl there, --plans \S+other.jsonl now, {answered}"
    ):
        run_eval(pearl, dataset, ["pearl"], out, limit=3, plans=other)
    with pytest.raises(ConfigError, match=rf"plans: --plans \S+plans.jsonl there, no --plans now, {answered}"):
        run_eval(pearl, dataset, ["pearl"], out, limit=3)
    edited = match_plans(dataset, write_plans(plans, [{"qid": "0", "plan": 'a = FIND_X(CTX, "z")'}]))
    with pytest.raises(ConfigError, match=rf"plans: (--plans \S+plans.jsonl) there, \1 now, {answered}"):
        run_eval(pearl, dataset, ["pearl"], out, limit=3, plans=edited)
    # ...but the plan that did not parse, mended, runs on the next run, --retry-errors or not (the run folder
    # refused it: only deleting the run went on; then the run kept its error row while run.json named the new file)
    mended = match_plans(
        dataset, write_plans(plans, [{"qid": "0", "plan": PAPER_PLAN}, {"qid": "1", "plan": PAPER_PLAN}])
    )
    run_eval(pearl, dataset, ["pearl", "direct"], out, limit=3, plans=mended)
    rows = {(r["id"], r["method"]): r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert rows[(ids[1], "pearl")]["error"] is None and rows[(ids[1], "pearl")]["plan_given"]
    assert len((out / "results.jsonl").read_text().splitlines()) == 7  # that row alone ran again


def test_a_run_folder_refuses_another_action_library_or_other_demonstrations(tmp_path: Path) -> None:
    # Rows planned with one library and rows planned with another were mixed in one run, without a word.
    dataset = load_dataset(QUALITY)
    out = tmp_path / "run"
    run_eval(Pearl(llm=replay_fake(), settings=load_settings(cache=False)), dataset, ["pearl"], out, limit=2)
    kept = json.loads((out / "run.json").read_text())
    assert kept["actions"] == "'default' v1 (42 actions)" and kept["actions_sha256"] and kept["demos_sha256"]
    library = default_library()
    fewer = library.model_copy(update={"name": "fewer", "actions": library.actions[:-1]})
    with pytest.raises(ConfigError, match=r"actions: 'default' v1 \(42 actions\) there, 'fewer' v1 \(41 actions\) now"):
        run_eval(Pearl(llm=replay_fake(), library=fewer), dataset, ["pearl"], out, limit=2)
    # Edited under the same name and version, it read "'default' v1 (42 actions) there, 'default' v1 (42 actions)".
    edited = library.model_copy(
        update={
            "actions": [*library.actions[:-1], library.actions[-1].model_copy(update={"definition": "Other words."})]
        }
    )
    with pytest.raises(
        ConfigError,
        match=r"actions: 'default' v1 \(42 actions\) there, 'default' v1 \(42 actions\) now, whose actions differ",
    ):
        run_eval(Pearl(llm=replay_fake(), library=edited), dataset, ["pearl"], out, limit=2)
    demos = builtin_demos()
    one = demos.model_copy(update={"demos": demos.demos[:1]})
    with pytest.raises(ConfigError, match=r"demos: .* there, .*\(1 demonstration\) now"):
        run_eval(Pearl(llm=replay_fake(), demos=one), dataset, ["pearl"], out, limit=2)
    # A method that plans nothing may be added with any library: the folder keeps the library its plans were made with.
    run_eval(Pearl(llm=replay_fake(), library=fewer), dataset, ["direct"], out, limit=2)
    assert json.loads((out / "run.json").read_text())["actions_sha256"] == kept["actions_sha256"]
    run_eval(Pearl(llm=replay_fake()), dataset, ["pearl", "direct"], out, limit=3)


def test_eval_plans_only(tmp_path: Path) -> None:
    dataset = load_dataset(QUALITY)
    given = match_plans(dataset, write_plans(tmp_path / "p.jsonl", [{"qid": "4", "plan": PAPER_PLAN}]))
    pearl = Pearl(llm=replay_fake(), settings=load_settings(cache=False))
    summary = run_eval(pearl, dataset, ["pearl"], tmp_path / "run", plans=given, plans_only=True)
    assert summary.rows == 1 and summary.questions == 1
    with pytest.raises(ConfigError, match="no question of the 'short' split has a plan"):
        run_eval(pearl, dataset, ["pearl"], tmp_path / "run2", split="short", plans=given, plans_only=True)
    with pytest.raises(ConfigError, match=r"plans_only=True needs plans= \(--plans-only needs --plans FILE\)"):
        run_eval(pearl, dataset, ["pearl"], tmp_path / "run3", plans_only=True)


def test_cli_eval_plans_against_the_fake_server(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(server_reply)
    plans = write_plans(
        tmp_path / "plans.jsonl",
        [{"qid": "0", "plan": PAPER_PLAN}, {"qid": "0", "plan": "again"}, {"qid": "77", "plan": PAPER_PLAN}],
    )
    out = tmp_path / "run"
    args = ["eval", str(QUALITY), "--plans", str(plans), "--plans-only", "-m", "pearl,pearl-fulldoc", "--out", str(out)]
    result = runner.invoke(app, [*args, *server(fake_server)])
    assert result.exit_code == 0, result.output
    assert (
        "plans: 1 of 3 given plans match a question (1 by position in the QuALITY file); 1 names a question an "
        "earlier row names (the first is used); 1 match no question (qid 77)" in result.stderr
    )
    # Of the plans matched, how many the run's questions have, when it selects fewer than the file holds.
    assert "; 1 of them for the 1 question this run selects" in result.stderr
    limited = runner.invoke(
        app, [*args[:4], "-m", "pearl", "--limit", "1", "--out", str(tmp_path / "r2"), *server(fake_server)]
    )
    assert "(qid 77); 1 of them for the 1 question this run selects" in limited.stderr, limited.output
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["method"] for r in rows) == ["pearl", "pearl-fulldoc"]
    assert all(r["plan_given"] and r["error"] is None and r["plan"].startswith("oil = FIND_EVENT") for r in rows)
    assert not any(r.prompt.rstrip().endswith("Plan:") for r in fake_server.chat_requests)


def test_cli_eval_plans_only_with_no_match_is_refused_before_naming_a_run_directory(tmp_path: Path) -> None:
    # It printed "run directory: ..." first, read as a run begun, though nothing would run.
    plans = write_plans(tmp_path / "plans.jsonl", [{"qid": "77", "plan": PAPER_PLAN}])
    args = ["eval", str(QUALITY), "--plans", str(plans), "--plans-only", "--out", str(tmp_path / "run")]
    args += ["--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "no question of the 'all' split has a plan in" in result.stderr
    assert "run directory" not in result.stderr and not (tmp_path / "run").exists()
    custom = Path(__file__).resolve().parents[1] / "datasets" / "sample" / "custom.jsonl"  # none tagged "long"
    split = runner.invoke(app, ["eval", str(custom), "--split", "long", "--out", str(tmp_path / "run"), *args[-4:]])
    assert split.exit_code == 2 and "is in the 'long' split" in split.stderr and "run directory" not in split.stderr


@pytest.mark.parametrize(("action", "noted"), [("FIND_ENDING", True), ("FIND_EVENT", False)])
def test_cli_eval_notes_plans_whose_actions_the_library_lacks(
    action: str, noted: bool, tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    """The paper's plans against the bundled library fail on their actions, question by question: say so first."""
    fake_server.set_default(server_reply)
    plan = PAPER_PLAN.replace("FIND_EVENT", action)
    plans = write_plans(tmp_path / "plans.jsonl", [{"qid": "0", "plan": plan}])
    args = ["eval", str(QUALITY), "--plans", str(plans), "--plans-only", "-m", "pearl", "--out", str(tmp_path / "run")]
    result = runner.invoke(app, [*args, *server(fake_server)])
    assert result.exit_code == (1 if noted else 0), result.output  # the one question failed: the run did nothing
    note = f"note: 1 of 1 given plans call actions the library default lacks ({action}), and will fail"
    assert (note in result.stderr) is noted, result.stderr
    assert ("--actions FILE" in result.stderr) is noted
    # Run again, it fails the same way: mending the plan is what helps, not --retry-errors.
    mend = f"1 given plan does not parse: mend it in {plans}, and the next run runs it again"
    assert (mend in result.stderr) is noted and "--retry-errors" not in result.stderr
    if noted:  # one plan, however many methods ran it, and only this run's rows
        both = ["eval", str(QUALITY), "--plans", str(plans), "--limit", "1", "-m", "pearl,pearl-fulldoc"]
        result = runner.invoke(app, [*both, "--out", str(tmp_path / "both"), *server(fake_server)])
        assert "all 2 results failed" in result.stderr and mend in result.stderr, result.stderr
