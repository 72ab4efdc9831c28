"""Loaders: QuALITY release, L-Eval and pearl JSONL; format detection; errors that name line and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DIR, SHARED_DATA, requires_shared_data

from pearl.errors import DatasetError
from pearl.eval import detect_format, load_dataset

STORY = (SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(encoding="utf-8")


def write_lines(path: Path, *objects: Any) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")
    return path


def quality_line(**question: Any) -> dict[str, Any]:
    q = {
        "question": "Why?",
        "options": ["a", "b", "c", "d"],
        "gold_label": 2,
        "validation": [{"untimed_eval2_context": 3}, {"untimed_eval2_context": 3}, {"untimed_eval2_context": 1}],
        "difficult": 0,
    }
    q.update(question)
    return {"article_id": "1", "set_unique_id": "1_A", "title": "T", "article": "Some text.", "questions": [q]}


def test_quality_sample_gold_tags_and_types() -> None:
    data = load_dataset(SAMPLE_DIR / "quality_sample.jsonl")
    assert data.format == "quality"
    assert [d.id for d in data.documents] == ["90001_PRLSMP01"]
    assert data.documents[0].text == STORY  # the article is the story, byte for byte
    questions = data.questions
    assert [q.gold for q in questions] == ["B", "D", "C", "B", "A", "D"]
    assert all(q.kind == "choice" and len(q.options) == 4 for q in questions)
    assert questions[0].id == "90001_PRLSMP01_1"
    # long = most annotators said >= 3 (eval2_context 3,3,2 / 2,3,2 / 3,4,3 / 4,3,3 / 3,2,3 / 2,2,1)
    long = [q for q in questions if "long" in q.tags]
    assert [q.id[-1] for q in long] == ["1", "3", "4", "5"]
    assert all(("short" in q.tags) != ("long" in q.tags) for q in questions)
    assert [q.id[-1] for q in questions if "hard" in q.tags] == ["1", "4", "5"]
    assert [q.qtype for q in questions] == ["why", "who", "not-except", "numeric", "other", "other"]


def test_leval_sample_choice_and_free() -> None:
    data = load_dataset(SAMPLE_DIR / "questions.jsonl")
    assert data.format == "leval"
    assert len(data.documents) == 2 and len(data.questions) == 10
    first = data.questions[0]
    assert first.id == "doc1:1" and first.kind == "choice" and first.gold == "B"
    assert first.question == "Why did Dorota put water in the lamp oil?"
    assert first.options[1].startswith("She hoped a bad record")
    free = [q for q in data.questions if q.kind == "free"]
    assert len(free) == 4 and free[0].id == "doc2:1" and free[0].options == []
    assert free[0].gold == "the Ostrava Belle" and free[0].golds == ["the Ostrava Belle"]


def test_custom_sample_layout() -> None:
    data = load_dataset(SAMPLE_DIR / "custom.jsonl")
    assert data.format == "jsonl"
    assert data.documents[0].text == STORY  # read through "path", relative to the JSONL file
    steps, teodor, boat, clock = data.questions
    assert steps.id == "keeper-steps" and steps.gold == "B" and steps.qtype == "numeric"
    assert teodor.id == "keeper:2" and teodor.gold == "B"  # given as the option's text
    assert boat.kind == "free" and boat.golds == ["the Gull's Tithe", "Gull's Tithe"]
    assert clock.tags == ["short", "hard"]


def test_format_is_detected_and_can_be_forced(tmp_path: Path) -> None:
    assert detect_format(SAMPLE_DIR / "quality_sample.jsonl") == "quality"
    assert detect_format(SAMPLE_DIR / "questions.jsonl") == "leval"
    assert detect_format(SAMPLE_DIR / "custom.jsonl") == "jsonl"
    with pytest.raises(DatasetError, match=r"questions\.jsonl:1: article: missing"):
        load_dataset(SAMPLE_DIR / "questions.jsonl", "quality")
    with pytest.raises(DatasetError, match="unknown format 'csv'"):
        load_dataset(SAMPLE_DIR / "questions.jsonl", "csv")


def test_files_opening_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    # As Notepad saves UTF-8: "not valid JSON: Unexpected UTF-8 BOM (decode using utf-8-sig)", for the data file; a
    # document read through "path" kept the mark as its first character.
    data = tmp_path / "bom.jsonl"
    data.write_bytes(b"\xef\xbb\xbf" + (SAMPLE_DIR / "questions.jsonl").read_bytes())
    assert len(load_dataset(data).questions) == len(load_dataset(SAMPLE_DIR / "questions.jsonl").questions)
    (tmp_path / "story.txt").write_bytes(b"\xef\xbb\xbf" + STORY.encode("utf-8"))
    custom = tmp_path / "custom.jsonl"
    custom.write_text(
        json.dumps({"id": "k", "path": "story.txt", "questions": [{"question": "Who?", "answer": "x"}]}) + "\n",
        encoding="utf-8",
    )
    assert load_dataset(custom).documents[0].text == STORY
    # A UTF-16 file, or a PDF, is read as `pearl ask` reads it: a codec's error was quoted before (helper-183).
    (tmp_path / "story16.txt").write_bytes(STORY.encode("utf-16"))
    custom.write_text(
        json.dumps({"id": "k", "path": "story16.txt", "questions": [{"question": "Who?", "answer": "x"}]}) + "\n",
        encoding="utf-8",
    )
    assert load_dataset(custom).documents[0].text == STORY
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4 garbage")
    custom.write_text(
        json.dumps({"id": "k", "path": "scan.pdf", "questions": [{"question": "Who?", "answer": "x"}]}) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(DatasetError, match=r"custom\.jsonl:1: path: .*scan\.pdf: not a readable PDF"):
        load_dataset(custom)


def test_leval_gold_lists_and_option_text(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "l.jsonl",
        {
            "input": "doc",
            "instructions": ["Which party?", "Pick one\n\n (A) A person who waits\n (B) Nobody"],
            "outputs": [["span one", "span two"], "A person who waits"],
            "evaluation": None,
        },
    )
    first, second = load_dataset(path).questions
    assert first.kind == "free" and first.golds == ["span one", "span two"]
    assert second.kind == "choice" and second.gold == "A"


# Synthetic lines in the shape of L-Eval's Exam files (OpenLMLab/LEval, LEval-data/Exam): the
# options are lines under the question, TPO's bare, Coursera's after a numbered question, and
# Coursera's gold may name several options.
TPO_LINE = {
    "instructions": [
        "why did the keeper light the lamp early\nA. a storm was coming\nB. a boat was late\n"
        "C. the clock was fast\nD. her brother asked her to",
        "what is the talk mainly about\nA. lamps\nB. boats\nC. storms\nD. clocks",
    ],
    "outputs": ["B", "A"],
    "input": "ok , today we talk about lighthouse keepers and the boats they watch for",
    "source": "tpo",
    "evaluation": "exam",
}
COURSERA_LINE = {
    "instructions": [
        "Question 1. What is the keeper's main duty?\nA. Painting boats\nB. Keeping the light\n"
        "C. Fishing\nD. Teaching\n",
        "Question 2. Which of these can a keeper do?\nA. Trim the wick\nB. Fly\nC. Log the weather\nD. Sink",
        "Question 3. Which is a lamp fuel?\nA. Sand\nB. Oil\nC. Salt\nD. Stone",
    ],
    "outputs": ["B", "AC", "B"],
    "input": "Welcome to the course on lighthouses. A keeper keeps the light burning all night.",
    "source": "coursera",
    "evaluation": "exam",
}


def test_leval_tpo_and_coursera_options_are_lines(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tpo = load_dataset(write_lines(tmp_path / "tpo.jsonl", TPO_LINE))
    assert tpo.format == "leval"
    first, second = tpo.questions
    assert first.kind == "choice" and first.question == "why did the keeper light the lamp early"
    assert first.options == ["a storm was coming", "a boat was late", "the clock was fast", "her brother asked her to"]
    assert (first.gold, second.gold) == ("B", "A") and second.options == ["lamps", "boats", "storms", "clocks"]

    coursera = load_dataset(write_lines(tmp_path / "coursera.jsonl", COURSERA_LINE))
    duty, fuel = coursera.questions  # question 2's gold "AC" names two options: left out, with a warning
    assert duty.question == "What is the keeper's main duty?" and duty.options[-1] == "Teaching"
    assert (duty.gold, fuel.gold, fuel.id) == ("B", "B", "doc1:3")
    assert "left out 1 question whose gold answer names several options (doc1:2 'AC')" in caplog.text


def test_leval_exam_without_options_is_exact_match_free_text(tmp_path: Path) -> None:
    # gsm100 and topic retrieval are "exam" too: exact match of a short answer, no options
    line = {"input": "x", "instructions": ["How many lamps?"], "outputs": ["12"], "evaluation": "exam"}
    (question,) = load_dataset(write_lines(tmp_path / "gsm.jsonl", line)).questions
    assert question.kind == "free" and question.gold == "12"
    # A gold opening with the word "A" is no option letter: the file failed to load ("... has no options").
    line = {"input": "x", "instructions": ["What sings?"], "outputs": ["A bird that sings"], "evaluation": "exam"}
    (question,) = load_dataset(write_lines(tmp_path / "topic.jsonl", line)).questions
    assert question.kind == "free" and question.gold == "A bird that sings"


def test_a_gold_given_as_an_options_text_is_that_option_whatever_its_quote_marks(tmp_path: Path) -> None:
    # "A lighthouse keeper’s assistant" (a curly apostrophe) matched no option exactly and was read as the letter A.
    options = ["The keeper", "A lighthouse keeper's assistant", "A fisherman", "Nobody"]
    questions = [
        {"question": "Who was she?", "options": options, "answer": "A lighthouse keeper\u2019s assistant"},
        {"question": "Who else?", "options": options, "answer": "a  fisherman"},  # case and spacing aside
        {"question": "And then?", "options": options, "answer": "(D) Nobody"},  # a label before the text
        {"question": "Who first?", "options": options, "answer": "A"},
        {"question": "Who then?", "options": options, "answer": "B - A lighthouse keeper's assistant"},
        {"question": "Who last?", "options": options, "answer": "D Nobody"},
    ]
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"id": "d", "text": "t", "questions": questions}) + "\n", encoding="utf-8")
    assert [q.gold for q in load_dataset(path).questions] == ["B", "C", "D", "A", "B", "D"]


def test_eval_runs_a_tpo_file(tmp_path: Path, fake_server: Any) -> None:
    from typer.testing import CliRunner

    from pearl.cli import app

    fake_server.set_default("B")
    data = write_lines(tmp_path / "tpo.jsonl", TPO_LINE)
    args = ["eval", str(data), "--methods", "direct", "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "fake-model"])
    assert result.exit_code == 0, result.output
    assert "| direct | 2 |" in result.stdout and "50.0" in result.stdout  # one right (B), one wrong (A)
    prompts = [r.prompt for r in fake_server.chat_requests]  # questions run concurrently: any order
    assert any("(A) a storm was coming" in p and "(D) her brother asked her to" in p for p in prompts)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["{not json"], r"bad\.jsonl:1: not valid JSON"),
        (["[1, 2]"], r"bad\.jsonl:1: expected a JSON object"),
        ([{"foo": 1}], r"bad\.jsonl:1: unknown layout"),
        (
            [quality_line(), quality_line(gold_label=7)],
            r"bad\.jsonl:2: questions\[0\]\.gold_label: expected 1-4, got 7",
        ),
        ([quality_line(gold_label="2")], r"bad\.jsonl:1: questions\[0\]\.gold_label: expected an integer"),
        ([quality_line(gold_label=True)], r"questions\[0\]\.gold_label: expected an integer, got bool"),
        ([quality_line(options="abcd")], r"questions\[0\]\.options: expected a list"),
        ([quality_line(difficult=2)], r"questions\[0\]\.difficult: expected 0 or 1"),
        (
            [quality_line(validation=[{"untimed_eval2_context": 9}])],
            r"questions\[0\]\.validation\[0\]\.untimed_eval2_context: expected 1-4, got 9",
        ),
        (
            [{"input": "x", "instructions": ["a", "b"], "outputs": ["a"]}],
            r"bad\.jsonl:1: outputs: 1 answers for 2 instructions",
        ),
        (
            [{"input": "x", "instructions": ["Why?"], "outputs": ["(A) yes"], "evaluation": "exam"}],
            r"instructions\[0\]: evaluation is 'exam' but the question has no options",
        ),
        (
            [{"input": "x", "instructions": ["Q (A) a (B) b"], "outputs": ["(E) c"], "evaluation": "exam"}],
            r"outputs\[0\]: no option letter in the gold answer",
        ),
        (
            [{"input": "x", "instructions": ["Q"], "outputs": [[]]}],
            r"outputs\[0\]: expected a non-empty string or list",
        ),
        (
            [quality_line(options=[f"option {i}" for i in range(11)], gold_label=11)],
            r"questions\[0\]\.options: expected 2 to 10 strings",
        ),
        (
            [{"id": "d", "text": "t", "questions": [{"question": "q", "options": list("ABCDEFGHIJK"), "answer": "K"}]}],
            r"questions\[0\]\.options: expected 2 to 10 strings",
        ),
        ([{"id": "d", "text": "t", "questions": [{"question": "q"}]}], r"questions\[0\]\.answer: missing"),
        (
            [{"id": "d", "text": "t", "questions": [{"question": "q", "options": ["x", "y"], "answer": "z"}]}],
            r"questions\[0\]\.answer: expected an option letter or an option's text",
        ),
        (
            [{"id": "d", "text": "t", "questions": [{"question": "q", "answer": "a", "tags": ["easy"]}]}],
            r"questions\[0\]\.tags: unknown tag",
        ),
        ([{"id": "d", "path": "missing.txt", "questions": []}], r"bad\.jsonl:1: path: .*missing\.txt does not exist"),
        # A data set could name any file: its text went to the model and into the run's traces (helper-160).
        ([{"id": "d", "path": "../secret.txt", "questions": []}], r"path: \.\./secret\.txt is outside the data set's"),
        ([{"id": "d", "path": "/etc/hostname", "questions": []}], r"path: /etc/hostname is outside the data set's"),
        ([{"id": "d", "path": "/dev/zero", "questions": []}], r"path: /dev/zero is outside the data set's folder"),
        (  # an eleventh option was read into the tenth
            [
                {
                    "instructions": ["q\n" + "\n".join(f"{x}. o{x}" for x in "ABCDEFGHIJK")],
                    "outputs": ["B"],
                    "input": "t",
                }
            ],
            r"bad\.jsonl:1: instructions\[0\]: 11 options: at most 10 are supported",
        ),
        (
            [{"id": "d", "text": "t", "questions": [{"question": "q", "answer": "a"}]}] * 2,
            r"bad\.jsonl:2: id: document id 'd' appears on an earlier line",
        ),
    ],
)
def test_malformed_files_name_line_and_field(tmp_path: Path, lines: list[Any], message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        load_dataset(path)


def test_quality_test_set_without_answers_says_so(tmp_path: Path) -> None:
    line = quality_line()
    del line["questions"][0]["gold_label"]
    with pytest.raises(DatasetError, match="test set has no answers"):
        load_dataset(write_lines(tmp_path / "test.jsonl", line))


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="empty"):
        load_dataset(tmp_path / "empty.jsonl")
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "nope.jsonl")


@requires_shared_data
def test_shared_quality_file() -> None:
    data = load_dataset(SHARED_DATA / "leval_quality.jsonl")
    assert data.format == "leval" and len(data.documents) == 4 and len(data.questions) == 43
    assert all(q.kind == "choice" and len(q.options) == 4 and q.gold in "ABCD" for q in data.questions)
    assert data.questions[0].gold == "B" and data.questions[1].gold == "D"
    assert len({q.id for q in data.questions}) == 43


@requires_shared_data
def test_shared_contract_file() -> None:
    data = load_dataset(SHARED_DATA / "leval_legal_contract_qa.jsonl")
    assert len(data.documents) == 6 and len(data.questions) == 38
    assert all(q.kind == "free" and q.golds for q in data.questions)
    # the question text stays whole: "Highlight the parts (if any) ..." has no (A)/(B) options
    assert data.questions[0].question.startswith("Highlight the parts (if any) of this contract")


@requires_shared_data
def test_shared_scientific_file() -> None:
    data = load_dataset(SHARED_DATA / "leval_scientific_qa.jsonl")
    assert len(data.documents) == 6 and all(q.kind == "free" for q in data.questions)


def test_a_long_given_plan_calling_an_unknown_action_counts_as_missing_it() -> None:
    # A plan of 9 to 12 steps (as max_steps 12 allows) was refused for its length before its unknown action was
    # seen, so `eval --plans` did not say the library lacked it (helper-164).
    from pearl.actions import default_library
    from pearl.eval._plans import PlanSet

    ten = "\n".join(f's{k} = FIND_X(CTX, "part {k}")' for k in range(1, 10)) + '\ns10 = FIND_CLUE(CTX, "the end")'
    given = PlanSet(path="plans.jsonl", rows=1, plans={"q1": ten})
    assert given.missing_actions(default_library()) == (1, ["FIND_CLUE"])


def test_a_byte_that_is_not_utf8_is_placed_by_line_and_offset_in_the_file(tmp_path: Path) -> None:
    # One L-Eval line, then bytes 0xff 0xfe: "not UTF-8 text (invalid start byte at byte 3813)", the decoder's place in
    # the block it was reading; the byte stood at 36,581 of the file, on line 2.
    first = json.dumps({"input": STORY * 2, "instructions": ["Who?"], "outputs": ["Varga"]}).encode("utf-8") + b"\n"
    path = tmp_path / "bad.jsonl"
    path.write_bytes(first + b'{"input": "x\xff\xfe"}\n')
    at = len(first) + len(b'{"input": "x')
    with pytest.raises(DatasetError) as error:
        load_dataset(path, "leval")
    assert str(error.value) == (
        f"{path}:2: not UTF-8 text (byte 0xff, invalid start byte, at column 13, offset {at:,} of the file); "
        "save it as UTF-8"
    )


def test_leval_exam_options_labelled_in_lower_case_are_options(tmp_path: Path) -> None:
    # "(a) ... (b) ...", gold "(b)": split_options reads capitals alone, and the question was scored as free text,
    # by F1 against "(b)".
    line = {
        "input": "doc",
        "instructions": [
            "Who kept the light?\n (a) Varga, as (c) says (b) Dorota (c) Teodor",
            "What burned?\na. Oil\nb. Gas",
            "Which clause (a) applies?",
        ],
        "outputs": ["(b)", "a", "(a)"],
        "evaluation": "exam",
    }
    with pytest.raises(DatasetError, match=r"instructions\[2\]: evaluation is 'exam' but the question has no options"):
        load_dataset(write_lines(tmp_path / "exam.jsonl", line))  # "(a)" names an option, and there is none
    line["instructions"], line["outputs"] = line["instructions"][:2], line["outputs"][:2]
    inline, lines = load_dataset(write_lines(tmp_path / "exam.jsonl", line)).questions
    assert (inline.kind, inline.question, inline.gold) == ("choice", "Who kept the light?", "B")
    assert inline.options == ["Varga, as (c) says", "Dorota", "Teodor"]  # the words as written
    assert (lines.kind, lines.options, lines.gold) == ("choice", ["Oil", "Gas"], "A")
    # A letter alone with no options is what it was: free text (an exam's exact-match answer).
    line = {"input": "doc", "instructions": ["Which variable?"], "outputs": ["b"], "evaluation": "exam"}
    (free,) = load_dataset(write_lines(tmp_path / "free.jsonl", line)).questions
    assert (free.kind, free.gold) == ("free", "b")
