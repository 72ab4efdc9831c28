"""`pearl compare`: two eval runs of one data file, each method against itself, question by question."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR
from typer.testing import CliRunner

from pearl import Pearl, load_settings
from pearl.cli import app
from pearl.errors import ConfigError
from pearl.eval import load_dataset, run_eval
from pearl.eval._compare import compare_runs, render_comparison
from pearl.llm import FakeLLM

QUALITY = SAMPLE_DIR / "quality_sample.jsonl"
runner = CliRunner()


def _run(out: Path, letter: str, methods: list[str], **settings: object) -> None:
    """A run whose model answers `letter` to every question."""
    pearl = Pearl(
        llm=FakeLLM(default=f"The answer is ({letter}).", model=f"says-{letter}"),
        settings=load_settings(cache=False, **settings),
    )
    run_eval(pearl, load_dataset(QUALITY), methods, out)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("runs")
    _run(folder / "a", "A", ["direct", "rag"])
    _run(folder / "b", "B", ["direct", "rag"], context_budget=900)
    return folder / "a", folder / "b"


def test_two_runs_are_compared_method_by_method_on_the_questions_both_answered(runs: tuple[Path, Path]) -> None:
    # Two models, or two versions of a library, were compared by reading two reports side by side: no pairing, no
    # interval (session 66's list).
    golds = [q.gold for q in load_dataset(QUALITY).questions]
    right_a, right_b = golds.count("A"), golds.count("B")
    compared = compare_runs(*runs)
    assert [m.method for m in compared.methods] == ["direct", "rag"]
    assert (compared.model_a, compared.model_b) == ("says-A", "says-B")
    direct = compared.methods[0].comparison
    assert direct.n == len(golds) and (direct.a, direct.b) == ("a", "b")
    assert (direct.a_only, direct.b_only) == (right_a, right_b)
    assert direct.diff == pytest.approx((right_a - right_b) / len(golds)) and direct.mcnemar_p is not None
    # What differs besides the model is said, so that a gap is not put on the model alone.
    assert compared.notes == ["context_budget: 1500 / 900"]
    report = render_comparison(compared)
    assert f"| direct | {len(golds)} | " in report and "Besides the model, the runs differ in: context_budget" in report
    assert compare_runs(*runs, methods=["rag"]).methods[0].method == "rag"


def test_the_command_prints_the_table_or_json_and_refuses_what_it_cannot_compare(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["compare", str(runs[0]), str(runs[1])])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# pearl eval runs compared: quality_sample.jsonl")
    data = json.loads(runner.invoke(app, ["compare", str(runs[0]), str(runs[1]), "--json", "-m", "direct"]).stdout)
    assert [m["method"] for m in data["methods"]] == ["direct"] and data["model_b"] == "says-B"
    for args, said in (
        (["-m", "pearl"], "no results for pearl in both runs; both have results for: direct, rag"),
        (["-m", " , "], "--methods names no method"),
    ):
        result = runner.invoke(app, ["compare", str(runs[0]), str(runs[1]), *args])
        assert result.exit_code == 2 and said in result.stderr, result.output
    missing = runner.invoke(app, ["compare", str(runs[0]), str(tmp_path / "none"), "--json"])
    assert missing.exit_code == 2 and "no such run folder" in json.loads(missing.stdout)["error"]
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["compare", str(runs[0]), str(empty)])
    assert result.exit_code == 2 and "holds no run.json: not the folder of a pearl eval run" in result.stderr
    # Runs of the same data that share no question say so, naming why, where they listed an empty table, exit 0
    # (helper-218).
    split = tmp_path / "split"
    _run(split, "B", ["direct"])
    config = json.loads((split / "run.json").read_text(encoding="utf-8"))
    (split / "results.jsonl").write_text(
        "".join(
            json.dumps({**row, "id": f"other-{row['id']}"}) + "\n"
            for row in map(json.loads, (split / "results.jsonl").read_text(encoding="utf-8").splitlines())
        ),
        encoding="utf-8",
    )
    (split / "run.json").write_text(json.dumps({**config, "split": "short"}), encoding="utf-8")
    result = runner.invoke(app, ["compare", str(runs[0]), str(split)])
    assert result.exit_code == 2 and "the runs share no question both answered (--split: all / short" in result.stderr
    # Runs of other data are not paired by question ids that happen to match.
    other = tmp_path / "other"
    shutil.copytree(runs[1], other)
    config = json.loads((other / "run.json").read_text(encoding="utf-8"))
    (other / "run.json").write_text(json.dumps({**config, "data_sha256": "0" * 64}), encoding="utf-8")
    with pytest.raises(ConfigError, match="the runs are of different data"):
        compare_runs(runs[0], other)
