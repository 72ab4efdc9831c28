"""Question parsing, choice mapping and prompt templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pearl.prompts as prompts_module
from pearl.errors import ConfigError, QuestionError
from pearl.prompts import load_prompt
from pearl.questions import as_question, parse_choice, split_options


def test_split_inline_options() -> None:
    q = split_options("Why did Varga stay? (A) Fear (B) Duty to the keeper (C) Money (D) She was ordered to")
    assert q.text == "Why did Varga stay?"
    assert q.options == ["Fear", "Duty to the keeper", "Money", "She was ordered to"]
    assert q.letters == "ABCD"


def test_an_eleventh_option_is_counted_and_refused_not_read_into_the_tenth() -> None:
    # Marks stopped at J: "(J) q (K) p" was one option, "q (K) p", and ten options were asked without a word.
    inline = "Which? (A) x (B) y (C) z (D) w (E) v (F) u (G) t (H) s (I) r (J) q (K) p"
    lines = "Which?\n" + "\n".join(f"{letter}. option {letter}" for letter in "ABCDEFGHIJK")
    for question in (inline, lines):
        assert len(split_options(question).options) == 11
        with pytest.raises(QuestionError, match="11 options: at most 10 are supported"):
            as_question(question)
    assert as_question("Which? (A) x (B) y (K) z").options == ["x", "y (K) z"]  # no run: a mark in an option's words


def test_split_leaves_plain_questions_alone() -> None:
    assert split_options("What is (A) about?").options == []
    assert split_options("Who came?").text == "Who came?"


@pytest.mark.parametrize(
    "question",
    [
        "What do sections 4(A) and 4(B) require?",  # clause numbers, common in contracts
        "Which clause, (A) or (B), governs termination?",  # letters named in the question's words
        "Does ((A)) or ((B)) apply?",
        "Does clause (A) contradict clause (B)?",  # the question's sentence runs through the letters to its "?"
        "Does clause (A) contradict clause (B)? Explain briefly.",
        'Does clause (A) contradict clause (B)?"',
        # No "?": the letters were split off as options ("and", "say"), or refused ("option B is empty") (helper-205)
        "What do clauses (A) and (B) say",
        "Compare clause (A) and clause (B).",
        "Describe the difference between clause (A) and clause (B) of the lease.",
        "Explain how clause (A) differs from clause (B)",
        "Summarise (A) and (B)",
    ],
)
def test_letters_in_a_questions_words_are_no_options(question: str) -> None:
    # They were split off as options ("and 4", "require?"): a free-text question asked as multiple choice.
    assert split_options(question).options == []
    assert as_question(question, ["notice", "payment"]).options == ["notice", "payment"]  # and may be given some


@pytest.mark.parametrize(
    ("question", "options"),
    [
        ("Each happened EXCEPT: (A) x (B) y", ["x", "y"]),
        ("Who rows?\n\n (A) Mira\n (B) Tom", ["Mira", "Tom"]),
        ("Which is true?(A) red (B) blue", ["red", "blue"]),  # a mark right after the question's end
        ("According to the text, (A) Tom is rich (B) Tom is poor", ["Tom is rich", "Tom is poor"]),
        ("The keeper is (A) Tom (B) Ann", ["Tom", "Ann"]),  # a stem the options complete
        ("Pick one of these options (A) Paris (B) Rome", ["Paris", "Rome"]),
        ("Who? (A) Tom (B) Ann (C) Both (A) and (B) (D) Neither", ["Tom", "Ann", "Both (A) and (B)", "Neither"]),
    ],
)
def test_options_after_the_question_are_split_off(question: str, options: list[str]) -> None:
    assert split_options(question).options == options


def test_a_question_naming_letters_may_be_given_options_but_not_a_second_list() -> None:
    # Its own "(A) and (B)" are words, not a list: refusing them with options given left no way to ask it.
    questions = ("Which statement about clauses (A) and (B) is true?", "Does (A) contradict (B)?")
    for question in (*questions, "Explain why clause (A) overrides clause (B)"):
        assert as_question(question, ["x", "y"]).options == ["x", "y"]
    with pytest.raises(QuestionError, match="lists 2 options of its own"):
        as_question("Who runs it? (A) Mira (B) Tom", ["x", "y"])
    assert split_options("Which? (A) x (B)").options == ["x", ""]  # a last mark with nothing after it still marks


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("B", "B"),
        ("(C)", "C"),
        ("D. Because", "D"),
        ("The answer is A", "A"),
        ("I think (B) fits", "B"),
        ("none", None),
        ("", None),
        ("E", None),
        # A hedge names several: it was read as the first, and a model that hedged scored more.
        ("B or C", None),
        ("(B) or (C)", None),
        ("A, B, C or D", None),
        ("B/C", None),
        ("The answer is B or D", None),
        ("B, because A is wrong", "B"),
        ("It is (B), not (C)", "B"),
        ("B or B", "B"),
        ("either (B) or (C)", None),
        # Not hedges: one letter named as the answer, another as wrong; a hedge the answer follows.
        ("Answer: B, and C is wrong", "B"),
        ("The answer is (D), and (A) is a distractor", "D"),
        ("B or C? The text settles it. Answer: C", "C"),
        # As capable models write it: in Markdown, after "is:", or the letter alone in lower case.
        ("**B**", "B"),
        ("`(C)`", "C"),
        ("**Answer:** D", "D"),
        ("The answer is: B", "B"),
        ("Final answer - A", "A"),
        ("b", "B"),
        ("(c).", "C"),
        ("The answer is **B** or **C**", None),
        ("a lamp", None),
        # The word "a" after "answer -" or "answer:" is no letter: the dash read it as one, over the answer given after.
        ("It's a tough choice - a case could be made for B, but the answer is C.", "C"),
        ("The answer - a tricky one - is C", None),
        ("Answer: a bridge", None),
        ("option a is correct", "A"),
        ("Answer: a", "A"),
        # A reply going through the options, in Markdown as plain: not the first of them.
        ("**A.** Paris: wrong\n**B.** Rome: right", None),
        ("A. Paris: wrong\nB. Rome: right\n\nAnswer: B", "B"),
        # An option set aside for another: the first letter was read, the one the reply chose was not.
        ("A is tempting, but C is right", "C"),
        ("**A** is tempting, but **C** is right", "C"),
        ("(A) seems plausible; (C) is the correct answer.", "C"),
        ("A is tempting, but the answer is C", "C"),
        ("Option A is wrong. Option C is correct.", "C"),
        ("A is tempting, but C or D is right", None),
        ("B. D is correct in the text, so it is not the exception.", "B"),  # given first, then others spoken of
        ("B is true.", "B"),  # spoken of, and no other letter called right
        # The reply's letter is not set aside by a later one called right in passing, nor by an option's words.
        ("B is supported by the text. A seems correct at first, but the passage contradicts it.", "B"),
        ("B is the strongest reading. C looks right but ignores the second paragraph.", "B"),
        ("(B) is consistent with the account, whereas (D) seems correct only on a superficial reading.", "B"),
        ("B is what the passage says; many readers assume A is the right answer, but it is not.", "B"),
        ("Vitamin C is the correct treatment, so (B).", "B"),
        ("Plan B is the best option, as the text says. (A)", "A"),
        ("A is tempting.\nC is right.", "C"),
        # One letter called righter than another, or called right to concede it: the first was read.
        ("B is plausible, but A is more plausible.", "A"),
        ("A is less likely; C is more consistent with the text.", "C"),
        ("A seems right, but C is correct.", "C"),
        ("A is the better option at first glance, but B is correct.", "B"),
        ("A is less likely than C.", None),  # the model is asked for its letter
        ("B is more plausible than A.", "B"),
        ("A is correct, but B is also possible.", "A"),  # no other called right
        ("A is right, but C is more plausible than D.", "A"),  # a firm answer is no concession (helper-201: C)
        ("A is correct, but B is correct too.", "A"),
        ("A is right, but C is the best answer.", "C"),  # another called the answer after it
        ("A is right in part, but C is correct.", "C"),  # conceded
        ("C is the better answer.", "C"),
        # A reply going through the options before it gives its answer: read as the first option it went through.
        ("Option A (Money) is unlikely. Option B is unlikely. The answer is C.", "C"),
        ("A: wrong. B: wrong. C: right. D: wrong. Final answer: C", "C"),
        ("Let me consider each option:\nA) Money - not supported.\nB) Her brother - no.\n\nAnswer: C", "C"),
        ("A) Money B) Her brother C) Orders D) Fear\nAnswer: C", "C"),
        ("So the result is \\boxed{C}.", "C"),
        ("B. The answer key is elsewhere.", "B"),
    ],
)
def test_parse_choice(reply: str, letter: str | None) -> None:
    assert parse_choice(reply, 4) == letter


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        # An option ruled out by name, or with others, before the one chosen: read as the first (helper-168).
        ("Option A (Money) is wrong; option B is right.", "B"),
        ("(A) Money is incorrect. (B) To stop the light is correct.", "B"),
        ("A (money) is wrong; B is right.", "B"),
        ("A, C, and D are wrong; B is correct.", "B"),
        ("A, C and D are incorrect. B is correct.", "B"),
        ("A, C, and D are wrong.", None),  # none chosen: the model is asked for its letter
        # Its words or a gloss after a letter chosen do not set it aside.
        ("A (Money) is the answer.", "A"),
        ("(A) Money is the reason.", "A"),
        ("A is false; C is true.", "A"),  # as before: the answer to "which is NOT true?"
        # A letter given as the answer, then others ruled out: the answer (helper-172: read as none).
        ("The answer is D, A and B are wrong.", "D"),
        ("Answer: B, C and D are wrong", "B"),
        ("The correct option is C, A and D are incorrect.", "C"),
        # Lists with the options' words in brackets, or "all": each ruled out (helper-172: read as A).
        ("A (Money) and C (Orders) are wrong; B is right.", "B"),
        ("A (Money), C, and D are wrong; B is correct.", "B"),
        ("A, C and D all seem wrong; B is correct.", "B"),
        ("B, and A and C are wrong.", "B"),  # the second "and" says it of A and C alone
        # helper-173: past an option's words only what rules a letter out is read, so a NOT question's answer set aside
        # there ("is not mentioned") does not give way to the next letter named (it was read as A); a letter called
        # right past its words; a list ruled out with a modal verb. (helper-174: "(A) is not correct. (B) is supported"
        # still gives B, the next letter named, as before.)
        ("D (Fear) is not mentioned. Option A is mentioned in [S1].", "D"),
        ("(D) Fear is not mentioned. (A) Money is mentioned in [S1].", "D"),
        ("Option A is not mentioned anywhere. Option C is not either. Option B is the right one.", "B"),
        ("A (Money) is wrong. B (Light) is wrong. C (Orders) is correct.", "C"),
        ("B, C, and D can all be ruled out. A is right.", "A"),
        ("(A) is not correct. (B) is supported by [S4]. (C) is not mentioned.", "B"),
        ("A is not supported by the text. I'll go with option B.", "B"),
    ],
)
def test_parse_choice_reads_past_an_options_words_and_letters_said_with_it(reply: str, letter: str | None) -> None:
    assert parse_choice(reply, 4, ["Money", "To stop the light", "Orders", "Fear"]) == letter


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("I think (B) fits best.", "B"),  # read as the ninth option, I
        ("I'd pick (C).", "C"),
        ("I believe the answer is J.", "J"),
        ("I", "I"),
        ("I is right.", "I"),
        ("(I) fits best.", "I"),
        ("The answer is I.", "I"),
        ("The answer is I because the narrator says so.", "I"),  # "I" then a word that is no pronoun's verb
        ("Option I best fits the passage.", "I"),
        ("I fits best.", "I"),
    ],
)
def test_the_word_i_is_no_option_among_ten(reply: str, letter: str | None) -> None:
    assert parse_choice(reply, 10) == letter


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        # A step's prose opening with the word "A" named option A: pearl-fulldoc answered A without asking the model.
        ("A jealous rival: she wanted the keeper gone.", None),
        ("A storm put the lamp out, so the answer is C.", "C"),
        ("A to protect her grandmother", "A"),  # option A's own words after its letter
        ("A because she loved her grandmother.", "A"),
        ("A fits best.", "A"),
        ("A is right.", "A"),
        ("A, since the text says so.", "A"),
        ("A", "A"),
    ],
)
def test_a_reply_opening_with_the_word_a_names_no_option_by_it(reply: str, letter: str | None) -> None:
    options = ["to protect her grandmother", "to get money", "to make the keeper leave", "by accident"]
    assert parse_choice(reply, 4, options) == letter


def test_a_reply_with_a_long_run_of_spaces_is_read_at_once() -> None:
    # The hedge reader split a run of spaces two ways before failing: a letter and 20,000 spaces took 2 s, 50,000
    # took 15 (a step's prose is read too, for the option it argues for).
    import time

    started = time.perf_counter()
    assert parse_choice("A" + " " * 50_000 + "is right", 4) == "A"
    assert time.perf_counter() - started < 1.0


# Replies as capable models write them (helper-151 wrote 194), each read as a wrong letter before: a walk through the
# options read as its first label, a letter set aside in other words ("unlikely", "ruled out"), a reasoning model's
# <think> block, "Answer: A sense of duty ..." (the article), "(a) ... (b) ..." points, two letters named together.
CAPABLE_REPLIES = json.loads((Path(__file__).parent / "data" / "choice_replies.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CAPABLE_REPLIES["replies"], ids=lambda case: case["style"])
def test_replies_as_capable_models_write_them_are_read_for_the_letter_they_give(case: dict[str, str]) -> None:
    options = ["Fear of the storm", "Duty to the keeper", "Money", "She was ordered to"]
    assert parse_choice(case["reply"], 4, options) == case["letter"], case["reply"]


def test_a_reply_of_many_short_clauses_is_read_at_once() -> None:
    # A label's lead-in ("- ", "* ", "| ") was any run of marks, its mark optional before spaces; a clause's end was
    # looked for from the reply's start at every letter; the article's words were split to the reply's end.
    import time

    many = (". " * 50_000 + "B", "(A)" + " " * 40_000 + "\nx", "x A is right " * 8_000, "Answer: A bit " * 7_000)
    # A letter named, then another called right, sentence after sentence: 10 s for 100 KB (the reply searched whole for
    # each name); one long conclusion of letters called right: 4 s for 50 KB.
    for reply in (*many, "Option A x. B is right. " * 4_000, "Thus, " + "A is correct, " * 4_000):
        started = time.perf_counter()
        parse_choice(reply, 4)  # 331 s, 8.9 s, 46 s and 1.7 s before
        assert time.perf_counter() - started < 1.0, reply[:20]


def test_prompts_load_by_name_and_version() -> None:
    newest = load_prompt("direct")
    assert load_prompt("direct.v2") == newest
    assert newest.id.startswith("direct.v2#")
    assert {"document", "question"} <= newest.fields()


def test_prompt_errors_are_loud() -> None:
    with pytest.raises(ConfigError, match="unknown prompt"):
        load_prompt("nonexistent")
    with pytest.raises(ConfigError, match="no version 99"):
        load_prompt("direct.v99")
    with pytest.raises(ConfigError, match="missing values"):
        load_prompt("direct").render(question="q")


def test_rendered_document_keeps_braces() -> None:
    template = load_prompt("direct")
    messages = template.render(
        name="d", truncated_note="", document="{not a field}", question="q", options_block="", answer_instruction=""
    )
    assert "{not a field}" in messages[-1].content


def test_newest_version_wins_and_a_checkout_overrides_the_bundled_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout, bundled = tmp_path / "checkout", tmp_path / "bundled"
    for folder, versions in ((checkout, (1, 2)), (bundled, (2, 3))):
        folder.mkdir()
        for v in versions:
            (folder / f"probe.v{v}.md").write_text(f"## user\n{folder.name} v{v}\n", encoding="utf-8")
    monkeypatch.setattr(prompts_module, "prompt_dirs", lambda: [checkout, bundled])
    load_prompt.cache_clear()
    try:
        assert load_prompt("probe").user == "bundled v3"  # the newest version, wherever it is
        assert load_prompt("probe.v2").user == "checkout v2"  # same version in both: the checkout's
        assert load_prompt("probe.v1").user == "checkout v1"
    finally:
        load_prompt.cache_clear()


def test_named_parts_are_part_of_the_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "probe.v1.md").write_text("## user\nq\n\n## part choice\nPick {letters}.\n", encoding="utf-8")
    monkeypatch.setattr(prompts_module, "prompt_dirs", lambda: [tmp_path])
    load_prompt.cache_clear()
    try:
        before = load_prompt("probe")
        assert before.part("choice", letters="A, B") == "Pick A, B." and before.user == "q"
        with pytest.raises(ConfigError, match="no part 'free'"):
            before.part("free")
        (tmp_path / "probe.v1.md").write_text("## user\nq\n\n## part choice\nChoose {letters}.\n", encoding="utf-8")
        load_prompt.cache_clear()
        assert load_prompt("probe").id != before.id  # editing only a part invalidates cached answers too
    finally:
        load_prompt.cache_clear()


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        # a letter given as the answer heads a list ruled out, and another is called right after it
        ("Answer: B, C and D are wrong; A is correct.", "A"),
        ("The answer is D, A and B are wrong.", "D"),  # none called right after: the letter given stands
        # a relative clause between a letter and what the reply says of it
        ('B, which says "Duty to the keeper", is wrong. A, which says "Fear of the storm", is correct.', "A"),
        ("B, which the text contradicts, is wrong; A is correct.", "A"),
    ],
)
def test_a_letter_ruled_out_gives_way_to_one_called_right_after_it(reply: str, letter: str) -> None:
    # Each read as B, the first named (helper-173's corpus: 70 readings of 6,912 right that were wrong, none worse).
    options = ["Fear of the storm", "Duty to the keeper", "Money", "She was ordered to"]
    for given in (options, []):
        assert parse_choice(reply, 4, given) == letter


def test_a_reply_repeating_an_answer_it_rules_out_is_read_at_once() -> None:
    import time

    for reply in ("Answer: B is wrong; " * 2000, "Answer: B is not supported. " * 5000, "B, which " * 20_000):
        started = time.perf_counter()
        parse_choice(reply, 4)
        assert time.perf_counter() - started < 1.0, reply[:20]


def test_an_options_line_breaks_are_spaces_in_the_prompt() -> None:
    # "Orders\n(C) The oil ran low" showed the model a line "(C) The oil ran low" above "(C) Fear"; it answered C and
    # was given Fear (helper-204).
    question = as_question("Why?", ["Money", "Orders\n(C) The oil ran low", "Fear"])
    assert question.options_block().splitlines() == ["(A) Money", "(B) Orders (C) The oil ran low", "(C) Fear"]
    assert question.options[1] == "Orders\n(C) The oil ran low"  # the option itself as given


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("So B. The storm explains it.", "B"),  # a conclusion followed by a sentence was read as none
        ("It's B. The storm is loud.", "B"),
        ("(A) fear: no.\n(B) duty: yes.\n(C) money: no.\n\nA sense of duty is what kept her there.", None),  # article
        ("Option A suggests fear. Option B suggests duty. Option C suggests money.\n\nOverall, D fits best.", "D"),
        ("A: Incorrect. B: Correct, as stated in [S3]. C: Incorrect. D: Incorrect.", "B"),
        ("The keepers were loyal to the light, so the answer must be B.", "B"),
        ("Option A is unrelated to her motive. For these reasons, B is the correct answer.", "B"),
        ("That leaves B. But wait, the harbour master's letter is an order. So D.", "D"),  # the later conclusion
        ("B. Had she been paid, it's C. She wasn't.", "B"),
        # helper-213: a limit after a comma, a later conclusion reported or taken back
        (
            "A: Yes, mentioned in [S2], but irrelevant to her motive.\nB: No.\nC: No, though it is closest.\nD: No.",
            None,
        ),
        ("So, B. Earlier I thought: so D. I was wrong.", "B"),
        ("Therefore B. A careless reader would think: so D. That misses the letter.", "B"),
    ],
)
def test_the_readers_second_read_mends(reply: str, letter: str | None) -> None:
    # helper-211's read of the reader as first written this session: each read otherwise.
    assert parse_choice(reply, 4, ["Fear of the storm", "Duty to the keeper", "Money", "She was ordered to"]) == letter


@pytest.mark.parametrize(
    ("question", "options"),
    [
        ("What did she bring (A) notes (B) maps (C) tables (D) chairs", ["notes", "maps", "tables", "chairs"]),
        ("Which symbol did he use (A) + (B) -", ["+", "-"]),
        ("According to the notes (A) pay (B) stay", ["pay", "stay"]),
        ("Explain (A) & (B) in the contract.", []),  # a join, not an option (helper-213)
        ("Compare (A) and clause (B) of the lease", []),
    ],
)
def test_options_that_name_things_are_options(question: str, options: list[str]) -> None:
    # Read as free text: "tables" after an option's mark, and "+", were taken for a clause's name and no option.
    assert split_options(question).options == options
