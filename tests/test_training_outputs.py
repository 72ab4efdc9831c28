"""`pearl mine`, `refine`, `actions` and `ask`'s `--trace`/`--html`: an output that would destroy an input, or
cannot be written, is refused before any model call is paid for."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from fakeserver import FakeOpenAIServer
from typer.testing import CliRunner

from pearl.actions import load_library
from pearl.cli import app
from pearl.errors import ConfigError
from pearl.planning import load_demos

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "sample"
runner = CliRunner()


def _server(fake_server: FakeOpenAIServer) -> list[str]:
    return ["--base-url", fake_server.base_url, "--model", "m", "--no-cache"]


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (["mine", "--questions", "{q}", "-o", "{q}"], "the --questions file too"),
        (["refine", "--train", "{t}", "-o", "{t}"], "the --train file too"),
        (["refine", "--train", "{t}", "--demos", "{d}", "-o", "{d}"], "the --demos file too"),
        (["actions", "export", "{l}", "-o", "{l}"], "the library file too"),
    ],
)
def test_an_output_that_is_an_input_is_refused(
    tmp_path: Path, fake_server: FakeOpenAIServer, command: list[str], named: str
) -> None:
    # `mine --questions q.jsonl -o q.jsonl` replaced the training questions with a library, exit 0.
    files = {
        "q": shutil.copy(SAMPLE / "questions.jsonl", tmp_path / "q.jsonl"),
        "t": shutil.copy(SAMPLE / "quality_sample.jsonl", tmp_path / "t.jsonl"),
        "d": tmp_path / "d.jsonl",
        "l": tmp_path / "l.json",
    }
    runner.invoke(app, ["actions", "export", "-o", str(tmp_path / "list.txt")])
    runner.invoke(app, ["actions", "import", str(tmp_path / "list.txt"), "-o", str(files["l"])])
    files["d"].write_text('{"question": "Q?", "plan": "x = ANSWER(CTX, \\"Q?\\")"}\n', encoding="utf-8")
    before = {name: Path(path).read_bytes() for name, path in files.items()}
    args = [part.format(**{k: str(v) for k, v in files.items()}) for part in command]
    result = runner.invoke(app, [*args, *(_server(fake_server) if command[0] != "actions" else [])])
    assert result.exit_code == 2, result.output
    assert named in result.stderr and "writing it would replace what it holds" in result.stderr
    assert {name: Path(path).read_bytes() for name, path in files.items()} == before
    assert fake_server.requests == []


@pytest.mark.parametrize(
    "command",
    [
        ["mine", "--questions", "{q}", "-o", "{x}"],
        ["mine", "--document", "{s}", "-o", "{x}"],
        ["refine", "--train", "{t}", "-o", "{x}"],
    ],
)
def test_an_earlier_runs_output_is_never_replaced_unasked(
    tmp_path: Path, fake_server: FakeOpenAIServer, command: list[str]
) -> None:
    # `pearl mine` twice in one folder wrote its default actions.json over the first run's library, without a word.
    files = {
        "q": shutil.copy(SAMPLE / "questions.jsonl", tmp_path / "q.jsonl"),
        "t": shutil.copy(SAMPLE / "quality_sample.jsonl", tmp_path / "t.jsonl"),
        "s": SAMPLE / "the_keeper_of_tren_light.txt",
        "x": tmp_path / "earlier.json",
    }
    files["x"].write_text("an earlier run's output", encoding="utf-8")
    args = [part.format(**{k: str(v) for k, v in files.items()}) for part in command]
    result = runner.invoke(app, [*args, *_server(fake_server)])
    assert result.exit_code == 2, result.output
    assert f"--out {files['x']} exists: add --force to replace it, or choose another --out" in result.stderr
    assert files["x"].read_text(encoding="utf-8") == "an earlier run's output"
    assert fake_server.requests == []


def test_a_mining_run_that_said_to_run_it_again_is_run_again(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A question the server failed on: the library is written and the run says to run the same command again, for it.
    # That command was then refused, its --out existing.
    from fakeserver import Reply

    def reply(body: dict[str, object]) -> object:
        text = json.dumps(body["messages"])
        if "How many years passed" in text and not failed:
            failed.append(1)
            return Reply.error(500, "the server is unwell")
        return "USE: FIND_X\nNEW: FIND_SHIP_NAME(CTX, X) : The name of the ship in X."

    failed: list[int] = []
    fake_server.set_default(reply)
    monkeypatch.setenv("PEARL_MAX_RETRIES", "0")
    out = tmp_path / "mined.json"
    args = [
        "mine",
        "--questions",
        str(SAMPLE / "questions.jsonl"),
        "--limit",
        "6",
        "-o",
        str(out),
        *_server(fake_server),
    ]
    first = runner.invoke(app, args)
    # Written, but incomplete: exit 1, its last line saying so (a script took it for done at exit 0).
    assert first.exit_code == 1 and out.is_file(), first.output
    assert "is incomplete: 1 of 6 questions got no reply" in first.stderr.splitlines()[-1]
    assert "run the same command again to complete it" in first.stderr
    asked = len(fake_server.chat_requests)
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "exists" not in again.stderr and len(fake_server.chat_requests) - asked >= 1
    assert not (tmp_path / "mined.json.partial.jsonl").exists()  # all done now
    assert runner.invoke(app, args).exit_code == 2  # and a finished run's library is not replaced unasked


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["{s}", "Why?", "--trace", "{s}"], "the document file too"),
        (["{o}", "{s}", "Why?", "--html", "{s}"], "the document file too"),
        (["{f}", "Why?", "--trace", "{f}/story.txt"], "in the document folder"),
        (["{s}", "Why?", "--plan", "{p}", "--html", "{p}"], "the --plan file too"),
        (["{s}", "Why?", "--demos", "{d}", "--trace", "{d}"], "the --demos file too"),
        (["{s}", "Why?", "--trace", "{h}"], "the document file too"),
    ],
)
def test_ask_refuses_to_write_its_trace_or_page_over_what_it_reads(
    tmp_path: Path, fake_server: FakeOpenAIServer, options: list[str], named: str
) -> None:
    # `pearl ask story.txt "Why?" --trace story.txt` replaced the story with the trace, exit 0.
    (tmp_path / "folder").mkdir()
    files = {
        "s": shutil.copy(SAMPLE / "the_keeper_of_tren_light.txt", tmp_path / "story.txt"),
        "o": tmp_path / "other.txt",
        "f": tmp_path / "folder",
        "p": tmp_path / "plan.txt",
        "d": tmp_path / "demos.jsonl",
        "h": tmp_path / "hard link.txt",
    }
    (tmp_path / "other.txt").write_text("Another page of the story.", encoding="utf-8")
    os.link(files["s"], files["h"])  # another name for the story: writing it writes the story
    shutil.copy(SAMPLE / "the_keeper_of_tren_light.txt", tmp_path / "folder" / "story.txt")
    files["p"].write_text('a = ANSWER(CTX, "Why?")', encoding="utf-8")
    files["d"].write_text('{"question": "Q?", "plan": "x = ANSWER(CTX, \\"Q?\\")"}\n', encoding="utf-8")
    kept = [path for path in tmp_path.rglob("*") if path.is_file()]
    before = {path: path.read_bytes() for path in kept}
    args = [part.format(**{k: str(v) for k, v in files.items()}) for part in options]
    result = runner.invoke(app, ["ask", *args, *_server(fake_server)])
    assert result.exit_code == 2, result.output
    assert named in result.stderr and "writing it would replace what it holds" in result.stderr
    assert {path: path.read_bytes() for path in kept} == before
    assert fake_server.requests == []


def test_ask_writes_its_trace_beside_what_it_reads(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    # A file of a kind a folder's reading leaves out (.json, or hidden), even in the document's folder, and a file
    # the question does not read are no one's input: written, and again over the first (with --force, as any file).
    (tmp_path / "folder").mkdir()
    shutil.copy(SAMPLE / "the_keeper_of_tren_light.txt", tmp_path / "folder" / "story.txt")
    (tmp_path / "old.json").write_text("{}", encoding="utf-8")
    for out in [tmp_path / "folder" / "trace.json", tmp_path / "folder" / ".notes.txt", tmp_path / "old.json"] * 2:
        args = ["ask", str(tmp_path / "folder"), "Why?", "-m", "rag", "--trace", str(out), "--force"]
        result = runner.invoke(app, [*args, *_server(fake_server)])
        assert result.exit_code == 0, result.output
        assert json.loads(out.read_text(encoding="utf-8"))["question"] == "Why?"


def test_ask_refuses_a_page_the_document_folder_would_read_next_time(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    (tmp_path / "folder").mkdir()
    shutil.copy(SAMPLE / "the_keeper_of_tren_light.txt", tmp_path / "folder" / "story.txt")
    page = tmp_path / "folder" / "answer.html"
    result = runner.invoke(app, ["ask", str(tmp_path / "folder"), "Why?", "--html", str(page), *_server(fake_server)])
    assert result.exit_code == 2 and "it would be read as part of it" in result.stderr
    assert not page.exists() and fake_server.requests == []


@pytest.mark.parametrize("command", ["mine", "refine"])
@pytest.mark.parametrize("where", ["folder", "under a file"])
def test_an_output_that_cannot_be_written_is_refused_before_any_call(
    tmp_path: Path, fake_server: FakeOpenAIServer, command: str, where: str
) -> None:
    # A folder as --out was found only when the library was saved, after every call, the progress
    # file deleted; a path under a file failed with a FileExistsError traceback.
    (tmp_path / "outdir").mkdir()
    (tmp_path / "q.txt").write_text("not a folder", encoding="utf-8")
    out = tmp_path / "outdir" if where == "folder" else tmp_path / "q.txt" / "a.json"
    inputs = (
        ["--questions", str(SAMPLE / "questions.jsonl")]
        if command == "mine"
        else ["--train", str(SAMPLE / "quality_sample.jsonl")]
    )
    result = runner.invoke(app, [command, *inputs, "-o", str(out), *_server(fake_server)])
    assert result.exit_code == 2, result.output
    expected = "is a folder; give a file name" if where == "folder" else "is a file, not a folder"
    assert expected in result.stderr
    assert fake_server.requests == []


def test_a_file_given_in_the_wrong_place_says_where_it_belongs(tmp_path: Path) -> None:
    # Each said only "not valid JSON: Extra data" or "holds no action", about a well-formed file.
    runner.invoke(app, ["actions", "export", "-o", str(tmp_path / "list.txt")])
    library = tmp_path / "lib.json"
    runner.invoke(app, ["actions", "import", str(tmp_path / "list.txt"), "-o", str(library)])
    demos = tmp_path / "demos.jsonl"
    demos.write_text('{"question": "Q?", "plan": "x = ANSWER(CTX, \\"Q?\\")"}\n' * 2, encoding="utf-8")
    cases = [
        (["actions", "show", "FIND_X", str(demos)], "holds demonstrations, not an action library: give it as --demos"),
        (["actions", "import", str(library), "-o", str(tmp_path / "x.json")], "is JSON, not an action list"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and message in result.stderr, result.output


def test_a_library_written_by_hand_with_a_numeric_version_is_read(tmp_path: Path) -> None:
    runner.invoke(app, ["actions", "export", "-o", str(tmp_path / "list.txt")])
    library = tmp_path / "lib.json"
    runner.invoke(app, ["actions", "import", str(tmp_path / "list.txt"), "-o", str(library)])
    data = json.loads(library.read_text(encoding="utf-8"))
    library.write_text(json.dumps({**data, "version": 3}), encoding="utf-8")
    assert load_library(library).version == "3"
    with pytest.raises(ConfigError, match="is an action library, not demonstrations"):
        load_demos(library)


def test_demonstrations_given_to_actions_import_say_where_they_belong(tmp_path: Path) -> None:
    demos = tmp_path / "demos.jsonl"
    demos.write_text('{"question": "Q?", "plan": "x = ANSWER(CTX, \\"Q?\\")"}\n', encoding="utf-8")
    result = runner.invoke(app, ["actions", "import", str(demos), "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "holds demonstrations, not an action list: give it as --demos" in result.stderr


@pytest.mark.parametrize("command", ["mine", "refine"])
def test_concurrency_above_four_reaches_the_models_client(
    tmp_path: Path, fake_server: FakeOpenAIServer, command: str
) -> None:
    # --concurrency sized the command's own gate alone: the client, sized by the setting, let 4 calls through.
    import threading
    import time

    lock = threading.Lock()
    flight = {"now": 0, "most": 0}

    def reply(body: dict[str, object]) -> str:
        with lock:
            flight["now"] += 1
            flight["most"] = max(flight["most"], flight["now"])
        time.sleep(0.3)
        with lock:
            flight["now"] -= 1
        content = json.dumps(body["messages"])
        if "The library has" in content:
            return "NONE"
        return "USE: FIND_X\nNEW: FIND_SHIP_NAME(CTX, X) : The name of the ship in X." if command == "mine" else "A"

    fake_server.set_default(reply)
    data = (
        ["--questions", str(SAMPLE / "questions.jsonl")]
        if command == "mine"
        else ["--train", str(SAMPLE / "quality_sample.jsonl")]
    )
    args = [command, *data, "-o", str(tmp_path / "out.json"), "--concurrency", "6", *_server(fake_server)]
    runner.invoke(app, [*args, *(["--rounds", "0"] if command == "refine" else [])])
    assert flight["most"] > 4, flight


@pytest.mark.parametrize("command", ["mine", "refine"])
def test_an_output_that_cannot_be_written_at_the_end_keeps_the_runs_progress(
    tmp_path: Path, fake_server: FakeOpenAIServer, command: str
) -> None:
    # A folder made where the output goes while the run went on: "cannot write demonstrations to wr.jsonl: Is a
    # directory", and the progress file deleted before, the whole run lost.
    out = tmp_path / ("wr.json" if command == "mine" else "wr.jsonl")

    def reply(body: dict[str, object]) -> str:
        out.mkdir(exist_ok=True)
        messages = body["messages"]
        assert isinstance(messages, list)
        content = str(messages[-1]["content"])
        if "The library has" in content:
            return "NONE"
        if content.rstrip().endswith("Plan:"):
            return 's1 = FIND_X(CTX, "first look")\ns2 = ANSWER(CTX, "the question")'
        if "Reply with the letter" in content or "Reply with one letter" in content:
            return "B"
        if content.rstrip().endswith("Reply:"):
            return "USE: FIND_X\nNEW: FIND_SHIP_NAME(CTX, X) : The name of the ship in X."
        # A step that found some (a sentence it was shown): refinement keeps only plans whose steps led somewhere.
        shown = re.search(r"\[S\d+\]", content)
        return f"Some evidence {shown.group() if shown else '[S0]'}."

    fake_server.set_default(reply)
    data = (
        ["--questions", str(SAMPLE / "questions.jsonl")]
        if command == "mine"
        else ["--train", str(SAMPLE / "quality_sample.jsonl")]
    )
    args = [command, *data, "--limit", "2", "-o", str(out), *_server(fake_server)]
    result = runner.invoke(app, args)
    partial = Path(f"{out}.partial.jsonl")
    assert result.exit_code == 2 and "Is a directory" in result.stderr, result.output
    assert f"kept in {partial}; once {out} can be written, re-run to write it" in result.stderr
    assert partial.is_file()
    out.rmdir()
    fake_server.set_default(lambda body: "NONE")
    asked = len(fake_server.chat_requests)
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "2 of 2 already done" in again.stderr, again.output
    assert out.is_file() and not partial.exists()
    if command == "refine":  # every question read back: no call made
        assert len(fake_server.chat_requests) == asked
