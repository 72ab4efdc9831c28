"""A multiple-choice answer reads alike whatever the method: `answer` the chosen option's text, `letter` its letter,
`explanation` the prose it was chosen from; with no option readable, `letter` None and `answer` "" (the prose kept)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR
from fakeserver import FakeOpenAIServer
from typer.testing import CliRunner

from pearl import Pearl, load_settings
from pearl.cli import app
from pearl.eval import load_dataset, run_eval
from pearl.html import render_answer_page
from pearl.llm import CompletionRequest, FakeLLM
from pearl.models import Answer
from pearl.questions import parse_choice

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "sample" / "the_keeper_of_tren_light.txt"
QUESTION = "Why did Dorota put water in the lamp oil?"
OPTIONS = ["She was paid to.", "Her grandmother asked her to.", "By mistake.", "To clean it."]
PLAN = 'reason = FIND_REASON(CTX, "Dorota put water in the lamp oil")\nwho = FIND_CHARACTER(CTX, "Dorota")'
STEP = "Her grandmother asked her to spoil it [S3]."
METHODS = ["pearl", "pearl-fulldoc", "rag", "direct"]

LETTER = "B"
NAMED = "The answer is (B): her grandmother asked her to [S3]."
UNNAMED = "She did it because her grandmother asked her to [S3]."
HEDGED = "Either (B) or (C); the text does not say which."


def _fake(final: str, choose: str) -> FakeLLM:
    """Plans, steps, the final reply (`final`) and the call that maps prose to a letter (`choose`), by prompt."""

    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        if kind in ("plan", "plan_fix"):
            return PLAN
        if kind.startswith("step"):
            return STEP
        return choose if kind == "choose" else final

    return FakeLLM(default=reply)


def _ask(method: str, final: str, choose: str, options: list[str] | None = OPTIONS) -> Answer:
    pearl = Pearl(llm=_fake(final, choose), settings=load_settings(cache=False))
    return pearl.ask(SAMPLE, QUESTION, options, method=method)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("final", "choose"),
    [(LETTER, LETTER), (NAMED, LETTER), (UNNAMED, LETTER)],
    ids=["the letter", "prose naming it", "prose naming none, mapped"],
)
def test_a_chosen_option_is_the_answer_and_the_prose_its_explanation(method: str, final: str, choose: str) -> None:
    # pearl and pearl-fulldoc put their steps' prose in `answer`, direct and rag the model's reply ("B", or a
    # paragraph when the model wrote one): a script reading `answer` got a letter, an option or a paragraph.
    answer = _ask(method, final, choose)
    assert (answer.letter, answer.answer) == ("B", OPTIONS[1]), answer
    prose = answer.explanation or ""
    if method in ("pearl", "pearl-fulldoc"):  # the steps wrote it
        assert prose.startswith(STEP), prose
    if method != "pearl-fulldoc":  # its final reply, when it says more than the letter (fulldoc has none)
        assert (final in prose) == (final != LETTER), prose
    if method in ("rag", "direct") and final == LETTER:
        assert answer.explanation is None
    assert not [note for note in answer.notes if note.startswith("no letter chosen")]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("final", [UNNAMED, HEDGED], ids=["prose naming none", "prose naming two"])
def test_with_no_option_readable_the_answer_says_none_was_chosen_and_keeps_the_prose(method: str, final: str) -> None:
    answer = _ask(method, final, choose="I cannot tell from this.")
    assert answer.letter is None and answer.answer == "", answer
    prose = answer.explanation or ""
    assert (STEP in prose) == (method in ("pearl", "pearl-fulldoc")) and (final in prose) != (method == "pearl-fulldoc")
    assert [note for note in answer.notes if note.startswith("no letter chosen")], answer.notes


@pytest.mark.parametrize("method", ["rag", "direct", "pearl"])
@pytest.mark.parametrize(
    "final", ["I'm sorry, I can't choose between these.", "None of the options fits what the notes say."]
)
def test_a_reply_that_declines_to_choose_is_not_made_a_letter(method: str, final: str) -> None:
    # Asked to map a refusal to an option, a compliant model picks one: "I can't choose" came out as A, unsaid
    # (helper-184). No letter is asked for; the answer says none was chosen.
    fake = _fake(final, choose="A")
    answer = Pearl(llm=fake, settings=load_settings(cache=False)).ask(SAMPLE, QUESTION, OPTIONS, method=method)
    assert answer.letter is None and answer.answer == "", answer
    assert not [r for r in fake.history if (r.prompt or "").startswith("choose")]
    assert [note for note in answer.notes if note.startswith("no letter chosen")], answer.notes


@pytest.mark.parametrize(
    ("final", "options"),
    [
        ("Her grandmother won't tell anyone about the smugglers, so she asked Dorota to spoil the light.", OPTIONS),
        ("The passage does not say which, but most likely her grandmother asked her to.", OPTIONS),
        ("None of the above.", [*OPTIONS[:3], "None of the above"]),  # an option that is itself a refusal
    ],
)
def test_an_answer_that_only_mentions_declining_is_mapped_to_a_letter(final: str, options: list[str]) -> None:
    # Only a reply that opens by declining is one: these are answers, asked for their letter (helper-185).
    fake = _fake(final, choose="B" if options == OPTIONS else "D")
    answer = Pearl(llm=fake, settings=load_settings(cache=False)).ask(SAMPLE, QUESTION, options, method="rag")
    assert answer.letter == ("B" if options == OPTIONS else "D"), answer
    # An option's own text is its letter, with no call to ask which (`parse_choice`); other answers are asked.
    asked = [r for r in fake.history if (r.prompt or "").startswith("choose")]
    assert bool(asked) == (final.rstrip(".") not in options)


@pytest.mark.parametrize("method", ["rag", "direct", "pearl"])
@pytest.mark.parametrize("final", ["**B**", "b", "`(B)`"])
def test_a_letter_in_markdown_or_lower_case_explains_nothing(method: str, final: str) -> None:
    # parse_choice read "**B**" as B, but the reply was kept as the answer's explanation: it is the letter alone.
    answer = _ask(method, final, choose="A")
    assert answer.letter == "B"
    assert final not in (answer.explanation or ""), answer.explanation


@pytest.mark.parametrize(("steps_say", "noted"), [("The notes point to (C) [S3].", True), (STEP, False)])
def test_an_explanation_arguing_for_another_option_than_the_one_chosen_is_noted(steps_say: str, noted: bool) -> None:
    # The final call is shown evidence no step was, and may choose otherwise than the steps' prose: the explanation
    # argued for (C) beside the letter B, unsaid.
    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        return PLAN if kind in ("plan", "plan_fix") else steps_say if kind.startswith("step") else LETTER

    answer = Pearl(llm=FakeLLM(default=reply), settings=load_settings(cache=False)).ask(SAMPLE, QUESTION, OPTIONS)
    assert answer.letter == "B" and steps_say in (answer.explanation or "")
    said = (
        "the explanation (the steps' results) points to option C; the final call, shown more of the document, chose B"
    )
    assert (said in answer.notes) == noted, answer.notes


@pytest.mark.parametrize("method", METHODS)
def test_a_free_text_answer_is_the_prose_with_no_explanation(method: str) -> None:
    answer = _ask(method, UNNAMED, choose=LETTER, options=None)
    assert answer.letter is None and answer.explanation is None
    assert answer.answer == (STEP + "\n" + STEP if method == "pearl-fulldoc" else UNNAMED)


runner = CliRunner()


def test_ask_json_and_its_printed_answer_give_the_option_and_the_prose_apart(
    fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    story = tmp_path / "story.txt"
    story.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    args = ["ask", str(story), QUESTION, *(a for o in OPTIONS for a in ("-o", o)), "-m", "direct"]
    server = ["--base-url", fake_server.base_url, "--model", "m"]
    fake_server.enqueue(NAMED)
    result = runner.invoke(app, [*args, *server, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["answer"], data["letter"], data["explanation"]) == (OPTIONS[1], "B", NAMED)
    fake_server.enqueue(NAMED)
    result = runner.invoke(app, [*args, *server, "--no-cache"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"(B) {OPTIONS[1]}\n\n{NAMED}\n"), result.stdout
    # No option readable: the reply names none, and neither does the call that maps it to one.
    fake_server.enqueue(UNNAMED, "none of them")
    result = runner.invoke(app, [*args, *server, "--json", "--no-cache"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["answer"], data["letter"], data["explanation"]) == ("", None, UNNAMED)
    fake_server.enqueue(UNNAMED, "none of them")
    result = runner.invoke(app, [*args, *server, "--no-cache"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"(no option chosen)\n\n{UNNAMED}\n"), result.stdout
    assert "note: no letter chosen" in result.stderr


def test_the_answer_page_shows_the_option_and_the_prose_or_that_none_was_chosen() -> None:
    chosen = Answer(question=QUESTION, options=OPTIONS, answer=OPTIONS[1], letter="B", explanation=NAMED, method="rag")
    page = render_answer_page(chosen)
    answer = page[page.index('<div class="answer" id="answer">') :]
    assert '<div dir="auto" class="answer-text"><span class="t">Her grandmother asked her to.</span></div>' in answer
    assert (
        '<div dir="auto" class="answer-explanation" id="explanation"><span class="t">The answer is (B): her grandmother'
        in answer
    )
    assert 'data-sid="3">[S3]</a>' in answer[: answer.index("</div>\n</div>")]  # its labels link to the sentences
    none = chosen.model_copy(update={"answer": "", "letter": None, "explanation": UNNAMED})
    page = render_answer_page(none)
    assert '<span class="muted">(no option chosen)</span>' in page and "She did it because her grandmother" in page


def test_an_evaluation_row_keeps_the_option_and_the_prose_apart(tmp_path: Path) -> None:
    data = load_dataset(SAMPLE_DIR / "quality_sample.jsonl")
    pearl = Pearl(llm=_fake(NAMED, LETTER), settings=load_settings(cache=False))
    run_eval(pearl, data, ["direct"], tmp_path / "run", limit=1)
    (row,) = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert (row["prediction"], row["explanation"]) == ("B", NAMED) and row["answer"] == data.questions[0].options[1]


def test_an_evaluation_report_shows_what_the_model_wrote_when_it_chose_no_option(tmp_path: Path) -> None:
    # The answer cell was empty: with no option read, `answer` is "", and the prose is the row's explanation.
    data = load_dataset(SAMPLE_DIR / "quality_sample.jsonl")
    pearl = Pearl(llm=_fake(UNNAMED, "I cannot tell from this."), settings=load_settings(cache=False))
    run_eval(pearl, data, ["direct"], tmp_path / "run", limit=1)
    page = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "(no option chosen) She did it because her grandmother" in page


def test_a_reply_closing_a_thinking_block_its_template_opened_is_read_after_the_close() -> None:
    # DeepSeek-R1's distills and QwQ reply with their thinking, then a lone "</think>" (the template opened the block
    # in the prompt): a caller's own model's reply read with its thinking chose the letter it thought of first.
    assert parse_choice("The answer is A, I think. Hmm, no.\n</think>\n\nThe answer is C.", 4) == "C"
    assert parse_choice("<think>The answer is A?</think>The answer is C.", 4) == "C"


def test_a_reply_that_is_one_options_text_word_for_word_names_that_option() -> None:
    # "Her brother." for option B "Her brother" named no letter: a second call asked for one (helper-219).
    options = ["Her father", "Her brother", "A friend", "Nobody"]
    for reply in ("Her brother", "her brother.", '"Her brother" [S3].'):
        assert parse_choice(reply, 4, options) == "B", reply
    assert parse_choice("A friend", 4, options) == "C"
    # Only the option's text, whole, and only one option's: more words, or two options alike, name none.
    assert parse_choice("It was her brother.", 4, options) is None
    assert parse_choice("Nobody knows", 4, options) is None
    assert parse_choice("Yes", 2, ["Yes", "yes."]) is None
