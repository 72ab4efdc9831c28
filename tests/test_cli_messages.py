"""The command line as a person meets it, continued: `--version`, a JSON file that is not a trace, the
option a refusal names, a `--focus` that names nothing, `actions export` on its own, counts of one, and
what `ask --html`/`--json` leave when the question fails, the file a citation names."""

from __future__ import annotations

import importlib.metadata
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import pearl
from pearl.actions import default_library, render_action_list
from pearl.cli import app
from pearl.cli._common import counted
from pearl.cli._progress import StageLine, describe_stage
from pearl.models import Trace, TraceEvent

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "datasets" / "sample" / "the_keeper_of_tren_light.txt"
QUESTION = "Why did Dorota put water in the lamp oil?"

runner = CliRunner()


def _one_error_line(stderr: str) -> str:
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    return stderr


# --- 1. --version ------------------------------------------------------------------------------------------


def test_version_prints_the_one_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"pearl {pearl.__version__}\n"
    assert "--version" in runner.invoke(app, ["--help"]).stdout


def test_the_installed_distribution_has_the_packages_version() -> None:
    """pyproject.toml reads the version from pearl/_version.py: an install (pip install -e .) carries it."""
    assert importlib.metadata.version("pearl-qa") == pearl.__version__


# --- 2. a JSON file that is not a trace --------------------------------------------------------------------


@pytest.mark.parametrize("content", ['{"a": 1}', "[1, 2]", '"a string"'], ids=["object", "list", "string"])
@pytest.mark.parametrize("command", ["show", "html"])
def test_trace_commands_refuse_json_that_is_not_a_trace(command: str, content: str, tmp_path: Path) -> None:
    # `{"a": 1}` validated as an empty trace: `show` printed "model: (unknown)" and zeros, `html` an empty page.
    path = tmp_path / "other.json"
    path.write_text(content, encoding="utf-8")
    page = tmp_path / "page.html"
    args = ["trace", "show", str(path)] if command == "show" else ["trace", "html", str(path), "-o", str(page)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert _one_error_line(result.stderr).startswith(f"error: {path}: not a pearl trace (")
    assert "pearl ask --trace FILE" in result.stderr
    assert result.stdout == "" and not page.exists()


def test_a_damaged_trace_names_the_field(tmp_path: Path) -> None:
    # One bad value was "not a pearl trace (1 validation error for Trace)", whatever and wherever it was.
    trace = Trace(question="Who?", events=[TraceEvent(stage="answer", prompt_tokens=12)])
    data = json.loads(trace.model_dump_json())
    data["events"][0]["prompt_tokens"] = "many"
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["trace", "show", str(path)])
    assert result.exit_code == 2, result.output
    assert _one_error_line(result.stderr).startswith(f"error: {path}: a damaged pearl trace (events[0].prompt_tokens: ")
    assert 'events[0].prompt_tokens: "many" is not a whole number' in result.stderr  # in words, as a library's are
    # Numbers no call can have had were shown ("-5+29 tok", "nans in the model"): refused the same way (helper-191).
    for field, value in (("prompt_tokens", -5), ("latency_s", float("nan")), ("cached_prompt_tokens", -1)):
        bad = json.loads(trace.model_dump_json())
        bad["events"][0][field] = value
        path.write_text(json.dumps(bad), encoding="utf-8")
        result = runner.invoke(app, ["trace", "show", str(path)])
        assert result.exit_code == 2, (field, result.output)
        assert f"a damaged pearl trace (events[0].{field}: " in result.stderr
        assert "no count or time a call can have had" in result.stderr


@pytest.mark.parametrize("command", ["show", "html"])
def test_trace_commands_still_read_a_trace_with_nothing_in_it(command: str, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(Trace(question="Who?").model_dump_json(), encoding="utf-8")
    args = ["trace", command, str(path)] + (["-o", str(tmp_path / "t.html")] if command == "html" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


# --- 3. the option a refusal names -------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [[], ["--skim"]], ids=["compress", "skim"])
@pytest.mark.parametrize("budget", ["0", "-5"])
def test_context_refuses_a_budget_under_one_naming_the_option(budget: str, extra: list[str]) -> None:
    result = runner.invoke(app, ["context", str(SAMPLE), "lamp oil", "--budget", budget, *extra])
    assert result.exit_code == 2, result.output
    assert _one_error_line(result.stderr).startswith(f"error: --budget {budget}: ")
    assert "budget_tokens" not in result.stderr and result.stdout == ""


# --- 4. a --focus that names no entity ---------------------------------------------------------------------


def test_context_says_when_a_focus_names_no_entity_and_which_are_closest() -> None:
    base = ["context", str(SAMPLE), "lamp oil", "--budget", "200", "--no-ner"]
    plain = runner.invoke(app, base)
    assert plain.exit_code == 0 and plain.stderr == ""
    result = runner.invoke(app, [*base, "-f", "Vargo", "-f", "Dorota", "-f", "Zzyzx"])
    assert result.exit_code == 0, result.output
    notes = result.stderr.splitlines()
    assert len(notes) == 2, notes  # Dorota is an entity: nothing to say of it
    assert notes[0].startswith('note: --focus "Vargo" names no entity of the document, so its words are looked for')
    assert notes[0].endswith("closest entities: Varga")
    assert notes[1].startswith('note: --focus "Zzyzx" names no entity')
    assert notes[1].endswith(f"see its entities with: pearl index {SAMPLE}")
    assert result.stdout.rstrip().splitlines()[-1].startswith("kept ")  # the output is what it was
    as_json = runner.invoke(app, [*base, "-f", "Zzyzx", "--json"])
    assert json.loads(as_json.stdout)["context"]["focus_entities"] == [] and "Zzyzx" in as_json.stderr


# --- 5. actions export on its own --------------------------------------------------------------------------


def test_actions_export_without_a_library_exports_the_bundled_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["actions", "export"])
    assert result.exit_code == 0, result.output
    assert result.stdout == render_action_list(default_library())
    out = tmp_path / "actions.txt"
    result = runner.invoke(app, ["actions", "export", "-o", str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8") == render_action_list(default_library())
    assert "[LIBRARY]" in runner.invoke(app, ["actions", "export", "--help"]).stdout


# --- 6. counts of one --------------------------------------------------------------------------------------


def test_counted_says_one_in_the_singular() -> None:
    assert counted(1, "sentence") == "1 sentence"
    assert counted(0, "entity", "entities") == "0 entities"
    assert counted(2_000, "sentence") == "2,000 sentences"
    assert counted(1, "batch", "batches") == "1 batch"
    assert describe_stage("embed", 0, 1) == "embedding 1 sentence (once: the vectors are kept)"


def test_a_stage_stopped_is_told_without_what_only_a_finished_one_does() -> None:
    # "interrupted during embedding 400 sentences (once: the vectors are kept)": vectors stopped half-way are not.
    line = StageLine(io.StringIO(), tty=False)
    line("embed", 40, 400)
    assert line.last == "embedding 400 sentences  10%"
    assert describe_stage("embed", 40, 400) == "embedding 400 sentences (once: the vectors are kept)  10%"


SERVER = ["--base-url", "http://127.0.0.1:9/v1", "--model", "m"]


@pytest.mark.parametrize(
    "args",
    [["index", ""], ["context", "", "code"], ["ask", "", "What is the code?", *SERVER], ["plan", "", "Who?", *SERVER]],
)
def test_an_empty_file_name_is_refused_not_read_as_the_current_folder(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `pearl ask "$UNSET" "..."` read every file under the current folder and sent it to the model (helper-170).
    monkeypatch.chdir(tmp_path)
    (tmp_path / "private.txt").write_text("The safe's code is 4711.", encoding="utf-8")
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    message = 'error: a file\'s name is empty: give a file or folder (an unset variable, as in "$DOC"?)\n'
    assert _one_error_line(result.stderr) == message
    assert "4711" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "{data}", "--out", "", *SERVER],
        ["eval", "", *SERVER],
        ["eval", "{data}", "--plans", "", *SERVER],
        ["ask", "{data}", "Who?", "--trace", "", *SERVER],
        ["ask", "{data}", "Who?", "--actions", "", *SERVER],
        ["trace", "html", "{data}", "-o", ""],
        ["actions", "list", ""],
        ["actions", "import", "{data}", "-o", ""],
        ["mine", "{data}", "--out", "", *SERVER],
        ["refine", "{data}", "--out", "", *SERVER],
    ],
)
def test_an_empty_path_option_is_refused_not_read_as_the_current_folder(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `pearl eval DATA --out "$OUT"` with OUT unset wrote the run into the current folder: typer reads "" as ".".
    data = tmp_path / "data" / "q.jsonl"
    data.parent.mkdir()
    data.write_text('{"question": "Who?", "document": "Tom.", "answer": "Tom"}\n', encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = runner.invoke(app, [arg.format(data=data) for arg in args])
    assert result.exit_code == 2, result.output
    assert "a file's name is empty: give a file or folder" in result.stderr  # as `refuse_empty` says it
    assert not any(work.iterdir())


def test_index_and_context_of_a_one_sentence_document_count_it_right(tmp_path: Path) -> None:
    doc = tmp_path / "one.txt"
    doc.write_text("Hello world.\n", encoding="utf-8")
    result = runner.invoke(app, ["index", str(doc), "--no-ner"])
    assert result.exit_code == 0, result.output
    assert f"{doc}: 1 sentence, 1 paragraph, 0 entities, " in result.stdout
    result = runner.invoke(app, ["context", str(doc), "hello", "--no-ner"])
    assert result.exit_code == 0, result.output
    assert "kept the whole document: its one sentence, " in result.stdout


def test_actions_commands_count_a_library_of_one_action(tmp_path: Path) -> None:
    action = {"name": "FIND_X", "params": ["CTX", "X"], "definition": "d"}
    library = {"name": "one", "version": "1", "actions": [action]}
    path = tmp_path / "one.json"
    path.write_text(json.dumps(library), encoding="utf-8")
    listed = runner.invoke(app, ["actions", "list", str(path)])
    assert listed.exit_code == 0 and listed.stderr.startswith("# one v1: 1 action, fingerprint ")
    diff = runner.invoke(app, ["actions", "diff", str(path), str(path)])
    assert diff.exit_code == 0 and diff.stdout.startswith(f"--- {path} (one v1, 1 action)\n")
    out = tmp_path / "one.txt"
    exported = runner.invoke(app, ["actions", "export", str(path), "-o", str(out)])
    assert exported.exit_code == 0 and exported.stderr == f"wrote 1 action of one v1 to {out}\n"


def test_actions_diff_tells_edited_libraries_and_imported_lists_apart(tmp_path: Path) -> None:
    # A library edited by hand kept its version, and diff's headers read the same; a change of `pure` alone printed
    # a "changed" definition whose two sides were the same text; every imported list was "v1".
    def library(path: Path, definition: str, pure: bool) -> Path:
        action = {"name": "JOIN", "params": ["X", "Y"], "definition": definition, "pure": pure}
        path.write_text(json.dumps({"name": "lib", "version": "1", "actions": [action]}), encoding="utf-8")
        return path

    a = library(tmp_path / "a.json", "Join X and Y.", True)
    b = library(tmp_path / "b.json", "Join X and Y.", False)
    diff = runner.invoke(app, ["actions", "diff", str(a), str(b)])
    assert diff.exit_code == 0, diff.output
    lines = diff.stdout.splitlines()
    assert lines[0].startswith(f"--- {a} (lib v1, content ") and lines[1].startswith(f"+++ {b} (lib v1, content ")
    assert lines[0][-22:] != lines[1][-22:]
    assert lines[2:] == [
        "~ JOIN: run by pearl, no model call -> run by the model",
        "0 added, 0 removed, 1 changed, 0 unchanged",
    ]
    same = runner.invoke(app, ["actions", "diff", str(a), str(a)])
    assert same.stdout.startswith(f"--- {a} (lib v1, 1 action)\n")
    versions = []
    for text in ("FIND_X(CTX, X) # one\n", "FIND_X(CTX, X) # two\n"):
        (tmp_path / "list.txt").write_text(text, encoding="utf-8")
        out = tmp_path / f"{len(versions)}.json"
        assert runner.invoke(app, ["actions", "import", str(tmp_path / "list.txt"), "-o", str(out)]).exit_code == 0
        versions.append(json.loads(out.read_text(encoding="utf-8"))["version"])
    assert versions[0] != versions[1] and len(versions[0]) == 12


def test_ask_says_one_llm_call_in_the_singular(fake_server: Any) -> None:
    fake_server.set_default("Because of her grandmother.")
    args = ["ask", str(SAMPLE), QUESTION, "-m", "direct", "--base-url", fake_server.base_url, "--model", "m"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "[direct] 1 LLM call, " in result.stderr


def test_ask_says_when_its_replies_came_from_pearls_cache(fake_server: Any, tmp_path: Path) -> None:
    # A question asked again read `[rag] 1 LLM call, 1,552 prompt (0 uncached) ...`, as if the model had run.
    fake_server.set_default("Because of her grandmother.")
    args = ["ask", str(SAMPLE), QUESTION, "--base-url", fake_server.base_url, "--model", "m"]
    first = runner.invoke(app, [*args, "-m", "rag"])
    again = runner.invoke(app, [*args, "-m", "rag"])
    assert first.exit_code == again.exit_code == 0, again.output
    assert "[rag] 1 LLM call, " in first.stderr and "[rag] 1 LLM call (from pearl's cache), " in again.stderr
    assert len(fake_server.requests) == 1


def test_the_summary_counts_the_replies_from_pearls_cache_when_some_are(capsys: pytest.CaptureFixture[str]) -> None:
    from pearl.cli._ask import _render_answer
    from pearl.models import Answer, Usage

    usage = Usage(prompt_tokens=900, completion_tokens=40, calls=5, cached_calls=2, uncached_prompt_tokens=500)
    _render_answer(Answer(question="Why?", answer="Because.", method="pearl", usage=usage))
    assert "[pearl] 5 LLM calls (2 from pearl's cache), 900 prompt (500 uncached)" in capsys.readouterr().err


# --- an API key given without a server ------------------------------------------------------------------------


@pytest.mark.usefixtures("embedded_model_untouched")
def test_an_api_key_flag_without_a_base_url_is_refused_as_a_model_named_so_is(monkeypatch: pytest.MonkeyPatch) -> None:
    # The key was dropped in silence and the embedded demonstration model answered, where --model was refused.
    from pearl.cli._common import settings_from

    result = runner.invoke(app, ["ask", str(SAMPLE), QUESTION, "--api-key", "sk-flag-1234567890"])
    assert result.exit_code == 2 and result.stdout == ""
    assert _one_error_line(result.stderr) == (
        "error: --api-key gives a key for a server, but no base URL is set, so the embedded demonstration model "
        "would answer instead; give --base-url URL (or set PEARL_BASE_URL) as well, or leave --api-key out to use "
        "the embedded model\n"
    )
    both = runner.invoke(app, ["plan", QUESTION, "--model", "qwen", "--api-key", "sk-flag-1234567890"])
    assert both.exit_code == 2
    assert "--model qwen names a model on a server and --api-key gives a key for a server, but" in both.stderr
    assert "or leave --model out and leave --api-key out to use the embedded model" in both.stderr
    assert "sk-flag" not in result.stderr + both.stderr
    # A key from the environment is another tool's as often as pearl's (OPENAI_API_KEY): it is let be.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-1234567890")
    monkeypatch.setenv("PEARL_API_KEY", "sk-env-1234567890")
    assert settings_from().api_key is not None


# --- 7. what a failed ask leaves -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["pearl", "direct"])
def test_a_failed_ask_still_writes_its_page_and_prints_json_with_the_error(
    method: str, fake_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakeserver import Reply

    monkeypatch.setenv("PEARL_MAX_RETRIES", "0")
    fake_server.set_default(Reply.error(500, "the GPU fell over"))
    page, trace = tmp_path / "page.html", tmp_path / "t.json"
    args = ["ask", str(SAMPLE), QUESTION, "-m", method, "--html", str(page), "--trace", str(trace), "--json"]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m", "--no-cache"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)  # stdout is the JSON alone
    assert data["question"] == QUESTION and data["method"] == method and data["options"] == []
    assert "GPU fell over" in data["error"] and data["usage"]["calls"] == 1
    shown = page.read_text(encoding="utf-8")
    assert 'class="stage failed"' in shown and "GPU fell over" in shown  # the failed stage, drawn as such
    lines = result.stderr.splitlines()
    assert f"note: the page up to the failure is in {page}" in lines
    assert f"note: the trace up to the failure is in {trace}" in lines
    assert lines[-1].startswith("error: ") and "GPU fell over" in lines[-1]
    # Without --json, stdout stays empty, as before (--force: the first run's page and trace are there).
    plain = runner.invoke(
        app, [*args[:-1], "--base-url", fake_server.base_url, "--model", "m", "--no-cache", "--force"]
    )
    assert plain.exit_code == 1 and plain.stdout == ""


def test_a_models_own_error_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A model of pearl's own or the user's that raised an error of its own (not one of pearl's) ended `pearl ask`
    # in a traceback, and kept no trace of the question.
    from pearl.llm import CompletionRequest, FakeLLM

    def quota(request: CompletionRequest) -> str:
        raise RuntimeError("quota")

    monkeypatch.setattr("pearl._pearl.make_llm", lambda settings: FakeLLM(default=quota, model="mine"))
    trace = tmp_path / "t.json"
    args = ["ask", str(SAMPLE), QUESTION, "-m", "direct", "--trace", str(trace), "--base-url", "http://127.0.0.1:9/v1"]
    result = runner.invoke(app, [*args, "--model", "m", "--no-cache"])
    assert result.exit_code == 1 and not isinstance(result.exception, RuntimeError), result.output
    said = result.stderr.splitlines()
    assert said[-1] == "error: the model (fake/mine) raised RuntimeError: quota"
    assert f"note: the trace up to the failure is in {trace}" in said


def test_a_question_that_fails_on_bad_settings_keeps_its_exit_code_with_json(fake_server: Any) -> None:
    from fakeserver import Reply

    fake_server.set_default(Reply.error(401, "bad key"))
    args = ["ask", str(SAMPLE), QUESTION, "-m", "direct", "--json", "--base-url", fake_server.base_url, "--model", "m"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "bad key" in json.loads(result.stdout)["error"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["{missing}", QUESTION], "no such file or directory"),
        (["{sample}", "   "], "the question is empty"),
        (["{sample}", QUESTION, "-m", "nope"], "unknown method"),
        (["{sample}", QUESTION, "--trace", "{sample}"], "writing it would replace what it holds"),
    ],
)
def test_ask_with_json_prints_a_json_error_for_a_failure_before_any_call(
    args: list[str], error: str, fake_server: Any, tmp_path: Path
) -> None:
    # `ask --help` promises a JSON object with an "error" key on failure; a missing file printed nothing on stdout.
    sample = tmp_path / "story.txt"
    sample.write_bytes(SAMPLE.read_bytes())
    given = [part.format(missing=tmp_path / "missing.txt", sample=sample) for part in args]
    server = ["--base-url", fake_server.base_url, "--model", "m"]
    result = runner.invoke(app, ["ask", *given, "--json", *server])
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)  # one JSON object, alone on stdout
    assert error in data["error"] and data["question"] == given[1] and data["options"] == []
    assert data["usage"]["calls"] == 0
    assert result.stderr.splitlines()[-1] == f"error: {data['error']}"
    assert fake_server.requests == []


def test_ask_with_json_prints_one_object_when_the_trace_fails_after_the_answer(
    fake_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pearl.cli._ask as ask_module

    monkeypatch.setattr(
        ask_module, "_write_trace", lambda path, trace: f"could not write the trace to {path} (disk full)"
    )
    args = ["ask", str(SAMPLE), QUESTION, "-m", "direct", "--json", "--trace", str(tmp_path / "t.json")]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 1, result.output
    assert "answer" in json.loads(result.stdout)  # the answer's object alone: no error object after it
    assert "disk full" in result.stderr


# --- where a citation is --------------------------------------------------------------------------------------


def test_citations_name_the_file_as_given_so_two_of_one_name_stay_apart(fake_server: Any, tmp_path: Path) -> None:
    for folder, text in (("a", "Alice kept the light at Tr'en Point."), ("b", "Bob kept the light at Skerry.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "README.md").write_text(text + "\n", encoding="utf-8")
    fake_server.set_default("Alice [S0] and Bob [S1].")
    args = ["ask", str(tmp_path), "Who kept lights?", "-m", "rag", "--base-url", fake_server.base_url, "--model", "m"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"[S0] {tmp_path / 'a' / 'README.md'}:0-" in result.stdout
    assert f"[S1] {tmp_path / 'b' / 'README.md'}:0-" in result.stdout


def test_index_refuses_an_entity_sheet_of_no_tokens_naming_the_option() -> None:
    result = runner.invoke(app, ["index", str(SAMPLE), "--sheet-budget", "0"])
    assert result.exit_code == 2 and "--sheet-budget" in result.stderr


def test_index_says_the_entity_sheet_was_cut_to_its_budget() -> None:
    # "Entities (53 in 5111 sentences):" over 8 lines, with no word that the budget had cut the other 45 (helper-227).
    cut = runner.invoke(app, ["index", str(SAMPLE), "--no-ner", "--sheet-budget", "60"])
    assert cut.exit_code == 0, cut.output
    shown = cut.stdout.count("\n- ")
    assert (
        shown > 0
        and f"({shown} of " in cut.stdout
        and " entities shown in the 60 tokens of --sheet-budget)" in cut.stdout
    )
    whole = runner.invoke(app, ["index", str(SAMPLE), "--no-ner", "--sheet-budget", "5000"])
    assert whole.exit_code == 0 and "entities shown in" not in whole.stdout
    header = runner.invoke(app, ["index", str(SAMPLE), "--no-ner", "--sheet-budget", "12"])  # room for the header
    assert "(0 of " in header.stdout and " entities shown in the 12 tokens of --sheet-budget)" in header.stdout


def test_a_missing_library_argument_is_not_called_an_option(tmp_path: Path) -> None:
    result = runner.invoke(app, ["actions", "export", str(tmp_path / "none.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "option" not in result.stderr


def test_actions_show_takes_its_library_as_list_does(tmp_path: Path) -> None:
    one = tmp_path / "one.txt"
    one.write_text("FIND_LIGHT(CTX, X) # Find where the light X is kept.\n", encoding="utf-8")
    shown = runner.invoke(app, ["actions", "show", "FIND_LIGHT", str(one)])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("FIND_LIGHT(CTX, X)") and "library: one" in shown.stdout
    assert runner.invoke(app, ["actions", "show", "FIND_LIGHT", "--actions", str(one)]).stdout == shown.stdout
    both = runner.invoke(app, ["actions", "show", "FIND_LIGHT", str(one), "--actions", str(tmp_path / "b.json")])
    assert both.exit_code == 2 and "two libraries given" in both.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_a_stdout_that_cannot_be_written_is_one_error_line(tmp_path: Path, json_flag: list[str]) -> None:
    # `pearl ... > /dev/full` (a full disk) ended in a 60-line OSError traceback (helper-191).
    import os
    import subprocess
    import sys

    story = tmp_path / "story.txt"
    story.write_text("Dorota put water in the lamp oil. The keeper did not know.", encoding="utf-8")
    env = {**os.environ, "PEARL_HOME": str(tmp_path / "home"), "PEARL_DENSE": "0"}
    with open("/dev/full", "w") as full:  # a device, written by the child process
        done = subprocess.run(
            [sys.executable, "-m", "pearl", "context", str(story), "lamp oil", "--no-ner", *json_flag],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "error: cannot write the output: No space left on device"
    assert done.stderr.count("error:") == 1
    # Started with stdout closed (`>&-`), the output was lost in silence, exit 0 (helper-204).
    closed = subprocess.run(
        [sys.executable, "-m", "pearl", "context", str(story), "lamp oil", "--no-ner", *json_flag],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=120,
        preexec_fn=lambda: os.close(1),  # the child starts with its stdout closed
    )
    assert closed.returncode == 1 and closed.stderr.strip() == "error: cannot write the output: stdout is closed"


@pytest.mark.parametrize(
    "args",
    [["ask", "x.txt", "Why?", "--timeout", "abc"], ["ask"], ["context", "x.txt", "lamp", "-b", "abc"]],
    ids=["bad-value", "missing-argument", "context"],
)
def test_a_usage_error_with_json_is_json_too(args: list[str]) -> None:
    # click's usage errors left stdout empty under --json, where every other failure prints {"error": ...} (helper-191).
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 2
    said = json.loads(result.stdout)
    assert list(said) == ["error"] and said["error"]
    assert runner.invoke(app, args).stdout == ""  # without --json, nothing on stdout


@pytest.mark.parametrize(
    "args",
    [["trace", "show", "--json", "t.json"], ["ask", "x.txt", "Why?", "-o", "--json", "-o", "b", "--timeout", "abc"]],
    ids=["no-json-option", "json-as-a-value"],
)
def test_a_usage_error_is_json_only_where_the_command_was_given_its_json_flag(args: list[str]) -> None:
    # A command with no --json, or "--json" as an option's text, got {"error": ...} on stdout (helper-192).
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.stdout == ""


def test_a_stdout_that_could_not_be_written_does_not_silence_the_next_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Remembered for the process, it left every later command in it (a test suite, a program calling the app) silent.
    import typer

    from pearl.cli._common import Failure, echo_json

    written = typer.echo

    def full(message: object = None, *, err: bool = False, **kwargs: Any) -> None:  # stdout on a full disk
        if not err:
            raise OSError(28, "No space left on device")
        written(message, err=True, **kwargs)

    story = tmp_path / "story.txt"
    story.write_text("Dorota put water in the lamp oil. The keeper did not know.", encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(typer, "echo", full)
        with pytest.raises(Failure):
            echo_json({"a": 1})
    result = runner.invoke(app, ["context", str(story), "lamp oil", "--no-ner", "--json"])
    assert json.loads(result.stdout)["sentences_kept"] >= 1


def test_a_question_that_fails_before_it_starts_gives_its_options_apart_in_json(tmp_path: Path) -> None:
    # Failed early (a missing file), the JSON said question "Why? (A) Money (B) Her brother", options []; failed later,
    # question "Why?" and the options listed (helper-191).
    result = runner.invoke(app, ["ask", str(tmp_path / "none.txt"), "Why? (A) Money (B) Her brother", "--json"])
    said = json.loads(result.stdout)
    assert (said["question"], said["options"]) == ("Why?", ["Money", "Her brother"]) and said["error"]


def test_a_model_of_ones_own_that_reports_impossible_counts_is_still_answered() -> None:
    # The trace's limits, once on every event, refused a call already paid for: ask() raised pydantic's error. They
    # are a trace file's, checked as it is read (helper-192).
    from pearl import Completion, FakeLLM, Pearl

    class Mine(FakeLLM):
        async def acomplete(self, request: Any) -> Completion:
            await super().acomplete(request)
            return Completion(text="B", prompt_tokens=-1)

    answer = Pearl(llm=Mine()).ask("The sky was blue. " * 5, "What colour?", ["red", "blue"], method="direct")
    assert answer.letter == "B"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_stderr_that_cannot_be_written_loses_its_notes_not_the_answer(tmp_path: Path, fake_server: Any) -> None:
    # The answer was printed, then the usage line to stderr failed: exit 1 (helper-204).
    import os
    import subprocess
    import sys

    fake_server.set_default("Dorota put water in the oil.")
    story = tmp_path / "story.txt"
    story.write_text("Dorota put water in the lamp oil. The keeper did not know.", encoding="utf-8")
    env = {**os.environ, "PEARL_HOME": str(tmp_path / "home"), "PEARL_DENSE": "0"}
    server = ["--base-url", fake_server.base_url, "--model", "m", "--no-cache"]
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "pearl", "ask", str(story), "Who put water in the oil?", "-m", "direct", *server],
            stdout=subprocess.PIPE,
            stderr=full,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 0 and done.stdout.startswith("Dorota put water in the oil."), done.stdout
