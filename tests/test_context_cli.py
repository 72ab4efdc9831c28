"""`pearl index` and `pearl context` through typer's CliRunner, on an app built here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pearl.cli import app as pearl_app

STORY = (
    "Mr. Korvin came down the hill at dawn. Korvin's sword was drawn, and Tr'en watched him from the wall.\n\n"
    "Tr'en had known Korvin since the war. She feared that he wanted the crown of Avalon.\n\n"
    "Dennis Brooke arrived later with Marla Starland. Brooke brought a letter from the council."
)


@pytest.fixture(autouse=True)
def _pearl_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEARL_HOME", str(tmp_path))


@pytest.fixture
def app() -> typer.Typer:
    return pearl_app


@pytest.fixture
def story_file(tmp_path: Path) -> Path:
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


def test_index_prints_entity_sheet_and_statistics_then_uses_the_cache(app: typer.Typer, story_file: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["index", str(story_file)])
    assert first.exit_code == 0, first.output
    assert "Korvin (PERSON" in first.output
    assert "sentences" in first.output and "entities" in first.output and "words" in first.output
    assert "(built;" in first.output
    second = runner.invoke(app, ["index", str(story_file), "--json"])
    assert second.exit_code == 0, second.output
    data = json.loads(second.output)
    assert data["cached"] is True and data["sentences"] == 6 and data["words"] == len(STORY.split())
    assert {"paragraphs", "entities", "tokens", "seconds", "entity_sheet", "top_entities"} <= data.keys()
    rebuilt = json.loads(runner.invoke(app, ["index", str(story_file), "--json", "--no-cache"]).output)
    assert rebuilt["cached"] is False


def test_index_of_several_files_reads_them_as_one_document(app: typer.Typer, story_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "more.md"
    other.write_text("Korvin returned to Avalon in spring.", encoding="utf-8")
    result = CliRunner().invoke(app, ["index", str(story_file), str(other), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sentences"] == 7


def test_index_of_a_folder_says_which_files_it_left_out(app: typer.Typer, story_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "story.txt").write_text(story_file.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "empty.md").write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["index", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == f"{folder} (1 file)"
    assert "note: left out of the document: " in result.stderr and "empty.md: the file is empty" in result.stderr
    # In the JSON too, as `ask --json` and `plan --json` list them: a script reads stdout, not the notes on stderr.
    assert len(data["notes"]) == 1 and data["notes"][0].startswith("left out of the document: ")
    assert data["notes"][0].endswith("empty.md: the file is empty")
    context = CliRunner().invoke(app, ["context", str(folder), "Who brought the letter?", "--json"])
    assert context.exit_code == 0, context.output
    assert json.loads(context.stdout)["notes"] == data["notes"]
    alone = CliRunner().invoke(app, ["index", str(folder / "story.txt"), "--json"])
    assert json.loads(alone.stdout)["notes"] == []


def test_context_shows_compressed_text_and_what_it_kept(app: typer.Typer, story_file: Path) -> None:
    result = CliRunner().invoke(app, ["context", str(story_file), "Who brought the letter?", "--budget", "40"])
    assert result.exit_code == 0, result.output
    assert "[S5] Brooke brought a letter from the council." in result.output
    assert "kept" in result.output and "tokens" in result.output and "sentences" in result.output
    as_json = CliRunner().invoke(
        app, ["context", str(story_file), "Who brought the letter?", "-b", "40", "--json", "--focus", "Korvin"]
    )
    data = json.loads(as_json.output)
    assert data["tokens_kept"] <= 40 and data["sentences_total"] == 6
    assert data["context"]["focus_entities"] == ["Korvin"] and data["ratio"] > 1


def test_context_counts_what_it_kept_of_a_sentence_cut_to_fit(app: typer.Typer, story_file: Path) -> None:
    # The whole sentence's tokens were counted where one word of it was shown (helper-168).
    result = CliRunner().invoke(app, ["context", str(story_file), "letter council", "-b", "5", "--json"])
    data = json.loads(result.output)
    assert data["context"]["truncated"] and data["text_tokens_kept"] < data["tokens_kept"] <= 5
    # The cut sentence's place ends where it was cut: the whole sentence's was given (helper-175).
    [(start, end)] = data["context"]["spans"]
    [place] = data["sentences"]
    assert place["cut"] and (place["file_start"], place["file_end"]) == (start, end)
    said = CliRunner().invoke(app, ["context", str(story_file), "letter council", "-b", "5"]).output
    assert "kept 1 of 6 sentences, cut to fit: " in said


def test_context_cuts_the_best_sentence_rather_than_show_what_it_hardly_touches(
    app: typer.Typer, tmp_path: Path
) -> None:
    # With a budget under the best sentence, short sentences the query does not touch were shown instead (helper-168).
    clause = "The secret code is BLUEFISH, said the keeper, " + " ".join(
        f"and the lamp burned night {i}" for i in range(12)
    )
    filler = [f"Paragraph {i} talks about weather and tides near the harbour." for i in range(30)]
    doc = tmp_path / "code.txt"
    doc.write_text("\n\n".join([*filler, clause + "."]), encoding="utf-8")
    result = CliRunner().invoke(app, ["context", str(doc), "secret code", "-b", "60", "--no-ner", "--json"])
    data = json.loads(result.output)
    assert data["context"]["truncated"] and "BLUEFISH" in data["context"]["text"], data["context"]["text"]


def test_context_skim_shows_what_a_whole_document_step_sees(app: typer.Typer, tmp_path: Path) -> None:
    chronicle = tmp_path / "chronicle.txt"
    chronicle.write_text(
        "\n\n".join(
            f"Year {n}. The keeper logged the storm." if n < 3 else f"Year {n}. The harvest came in." for n in range(30)
        ),
        encoding="utf-8",
    )
    args = ["context", str(chronicle), "What did the keeper log?", "--budget", "60"]
    searched = CliRunner().invoke(app, args)
    skimmed = CliRunner().invoke(app, [*args, "--skim"])
    assert searched.exit_code == 0 and skimmed.exit_code == 0, skimmed.output
    late = [f"Year {n}." for n in range(24, 30)]  # the last fifth of the chronicle
    assert "storm" in searched.output and not any(year in searched.output for year in late)
    assert any(year in skimmed.output for year in late)
    both = CliRunner().invoke(app, [*args, "--skim", "--focus", "keeper"])
    assert both.exit_code == 2 and "--skim" in both.output
    # With --json, stdout is one object saying so (it was empty: click's usage error, helper-212).
    said = CliRunner().invoke(app, [*args, "--skim", "--focus", "keeper", "--json"])
    assert said.exit_code == 2 and "--skim reads the whole document" in json.loads(said.stdout)["error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "{missing}"], "no such file"),
        (["context", "{missing}", "question"], "no such file"),
        (["context", "{empty}", "question"], "empty"),
        (["context", "{story}", "question", "--budget", "0"], "--budget 0"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_code_2(
    app: typer.Typer, story_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    paths = {"missing": str(tmp_path / "missing.txt"), "empty": str(empty), "story": str(story_file)}
    result = CliRunner().invoke(app, [a.format(**paths) for a in args])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_context_refuses_an_empty_query_and_says_when_the_whole_document_is_kept(
    app: typer.Typer, story_file: Path
) -> None:
    result = CliRunner().invoke(app, ["context", str(story_file), "  "])
    assert result.exit_code == 2 and "the query is empty" in result.stderr
    result = CliRunner().invoke(app, ["context", str(story_file), "Who brought the letter?", "--budget", "99999"])
    assert result.exit_code == 0 and "kept the whole document: all " in result.stdout and "%" not in result.stdout


def test_context_counts_what_it_kept_on_the_same_footing_as_the_document(app: typer.Typer, tmp_path: Path) -> None:
    # Labels and file lines made "kept 12 of 18 tokens" of one short sentence out of three: text against text.
    (tmp_path / "a.txt").write_text("Alice met Bob in Paris.\n\nBob gave Alice a red book.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("Carol lives in Rome.\n", encoding="utf-8")
    args = ["context", str(tmp_path), "Who lives in Rome?", "--budget", "12"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and "[file b.md]\n[S2] Carol lives in Rome." in result.stdout
    line = result.stdout.rstrip().splitlines()[-1]
    assert line.startswith("kept 1 of 3 sentences: 12 tokens with their labels; their text is ")
    kept, total = (int(n) for n in line.split("their text is ")[1].split(" tokens")[0].split(" of the document's "))
    assert kept < 12 and kept < total
    data = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert data["text_tokens_kept"] == kept and data["tokens_total"] == total and data["tokens_kept"] == 12
    # Spans are offsets into the files joined; each sentence says which file holds it and where in that file.
    assert data["sentences"] == [
        {"sentence_id": 2, "source": str(tmp_path / "b.md"), "file_start": 0, "file_end": 20, "cut": False}
    ]


def test_context_shows_by_default_what_rag_shows_at_the_context_budget_setting(
    app: typer.Typer, story_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "The sentences pearl would show": with PEARL_CONTEXT_BUDGET=600 rag showed 600 tokens, context 1,500 (helper-191).
    monkeypatch.setenv("PEARL_CONTEXT_BUDGET", "60")
    data = json.loads(CliRunner().invoke(app, ["context", str(story_file), "lamp oil", "--json"]).stdout)
    assert 0 < data["tokens_kept"] <= 60
    data = json.loads(CliRunner().invoke(app, ["context", str(story_file), "lamp oil", "-b", "30", "--json"]).stdout)
    assert 0 < data["tokens_kept"] <= 30  # the option still rules


def test_context_with_a_budget_that_holds_no_sentence_says_so(app: typer.Typer, story_file: Path) -> None:
    result = CliRunner().invoke(app, ["context", str(story_file), "lamp oil", "--budget", "1"])
    assert result.exit_code == 0
    assert result.stdout.startswith("kept nothing: a budget of 1 token holds no sentence")  # no blank lines first
    assert "inf" not in result.output


@pytest.mark.parametrize("command", [["index"], ["context", "--", "lamp oil"]], ids=["index", "context"])
def test_index_and_context_json_say_a_failure_in_json_too(app: typer.Typer, tmp_path: Path, command: list[str]) -> None:
    # A script reading --json got an empty stdout; ask --json and plan --json print {"error": ...}.
    missing = str(tmp_path / "nothere.txt")
    args = [command[0], missing, *command[2:]] if command[0] == "context" else [command[0], missing]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {"error": f"{missing}: no such file or directory"}
    assert CliRunner().invoke(app, args).stdout == ""  # without --json, stdout stays empty


def test_index_and_context_refuse_a_file_over_the_size_limit(
    app: typer.Typer, story_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # They read every file whatever its size: PEARL_MAX_BYTES and the settings file were not read, and a document
    # over the default limit could not be indexed ahead of `ask` (no --max-bytes).
    runner = CliRunner()
    monkeypatch.setenv("PEARL_MAX_BYTES", "100")
    for args in (["index", str(story_file)], ["context", str(story_file), "Korvin"]):
        refused = runner.invoke(app, args)
        assert refused.exit_code == 2 and "is over the limit of 100" in refused.stderr, refused.output
        allowed = runner.invoke(app, [*args, "--max-bytes", "100000"])
        assert allowed.exit_code == 0, allowed.output
