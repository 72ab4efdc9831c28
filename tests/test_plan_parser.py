"""The plan language: parsing both forms, validation messages, hostile input, JSON and GBNF output."""

from __future__ import annotations

import ast
import builtins
import functools
import json
import random
import re
import string
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_DATA, requires_shared_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pearl.planning
from pearl.actions import CTX, Action, ActionLibrary, default_library, load_library
from pearl.errors import ConfigError, PlanError, PlanParseError
from pearl.planning import (
    Arg,
    Plan,
    Step,
    parse_plan,
    plan_from_json,
    plan_gbnf,
    plan_json_schema,
    plan_to_json,
    validate_plan,
)

PAPER_DATA = SHARED_DATA / "pearl_paper"


@functools.cache
def _lib() -> ActionLibrary:
    return default_library()


@functools.cache
def _tiny() -> ActionLibrary:
    keep = ("CONCAT", "FIND_X", "SUMMARIZE", "COMPARE")
    return ActionLibrary(name="tiny", actions=[a for a in _lib().actions if a.name in keep])


def _error(text: str, library: ActionLibrary | None = None, **limits: int) -> PlanParseError:
    with pytest.raises(PlanParseError) as info:
        parse_plan(text, _lib() if library is None else library, **limits)
    return info.value


def test_a_model_going_on_to_the_next_example_ends_the_plan_there() -> None:
    # Small models continue the demonstrations' pattern: the next made-up question's steps were merged into the plan
    # and run, their results in the answer (helper-186).
    plan = """who = FIND_CHARACTER(CTX, "Dorota") : who Dorota is
why = FIND_REASON(CTX, "Dorota put water in the lamp oil") : why she did it

Question: How does Mara feel when the ship does not return?
Plan:
news = FIND_EVENT(CTX, "Mara learns the ship will not return")
feeling = FIND_EMOTION(CTX, "Mara", "learning the ship will not return")"""
    for text in (plan, plan.replace("Question:", "**Question:**"), plan.replace("Question:", "### Example 2:")):
        assert [s.var for s in parse_plan(text, _lib()).steps] == ["who", "why"], text
    # Read as written before any step ("Question: ..." restated first) and where no step came before it.
    restated = "Question: Why did Dorota put water in the lamp oil?\nPlan:\n" + plan
    assert [s.var for s in parse_plan(restated, _lib()).steps] == ["who", "why"]
    # A question restated above each step opens no other plan: no "Plan:" follows it (helper-190: cut there, a plan
    # of one step was accepted and answered from).
    asked = """Question: Who is Dorota?
who = FIND_CHARACTER(CTX, "Dorota")
Question: Why did Dorota put water in the lamp oil?
why = FIND_REASON(CTX, "Dorota put water in the lamp oil")
Example: the answer joins both.
ans = CONCAT(who, why)"""
    assert [s.var for s in parse_plan(asked, _lib()).steps] == ["who", "why", "ans"]


def test_a_plan_none_of_whose_steps_reads_the_document_is_refused() -> None:
    # The planner never sees the document: its own words became pearl-fulldoc's answer, with no evidence (helper-186).
    for text in ('answer = CONCAT("Dorota wanted the keeper to leave")', 'a = CONCAT("x", "y")\nb = CONCAT(a, "z")'):
        error = _error(text)
        assert "no step reads the document; pass CTX" in error.reason and error.line == 1, text
    parse_plan('a = FIND_CHARACTER(CTX, "Dorota")\nb = CONCAT(a, "z")', _lib())  # one step that reads it is enough


def test_a_name_written_for_the_document_is_told_to_be_ctx() -> None:
    # Told to quote "document" as words, the model did, and was refused again: CTX goes there (helper-186).
    for name in ("document", "doc", "context", "Document"):
        error = _error(f's1 = FIND_CHARACTER({name}, "Dorota")')
        assert "the document is written CTX" in error.reason and "quote them" not in error.reason, name
    # Where the action takes words, "story" may be the words to look for (the paper's plans pass "story").
    error = _error("s1 = FIND_CHARACTER(CTX, story)")
    assert 'quote them: "story"' in error.reason and "written CTX" not in error.reason


def test_a_step_written_in_its_markdown_heading_is_read() -> None:
    # "## Step 2: why = ..." was left out as a heading: a plan of one step, unsaid (helper-186).
    plan = 'who = FIND_CHARACTER(CTX, "Dorota")\n## Step 2: why = FIND_REASON(CTX, "the water in the oil")'
    assert [s.var for s in parse_plan(plan, _lib()).steps] == ["who", "why"]
    headed = '### Step 1: who = FIND_CHARACTER(CTX, "Dorota")\n### **Step 2** - why = FIND_REASON(CTX, who)'
    assert [s.var for s in parse_plan(headed, _lib()).steps] == ["who", "why"]
    error = _error("### Step 1: who = FIND_CHARACTER(CTX, Dorota)")  # columns of the line as written
    assert (error.line, error.column) == (1, 39)
    # A comment or a heading that holds no step is still no step: a heading naming a call above its step, a step
    # commented out (helper-190: read, and run).
    assert len(parse_plan('# Step 1: find her\nwho = FIND_CHARACTER(CTX, "Dorota")\n### Step 2', _lib()).steps) == 1
    commented = (
        'who = FIND_CHARACTER(CTX, "Dorota")\n# 2. alt = FIND_CHARACTER(CTX, "the keeper")\n'
        "### Step 2: FIND_REASON(CTX, who)\nwhy = FIND_REASON(CTX, who)"
    )
    assert [s.var for s in parse_plan(commented, _lib()).steps] == ["who", "why"]


def test_explanations_on_lines_of_their_own_go_to_their_own_steps() -> None:
    # Written above each step, each was given to the step before it and the last step had none; written under
    # each step, the last step's was left out with the prose after the plan (helper-186).
    above = """**Step 1**
Purpose: identify who Dorota is
`who = FIND_CHARACTER(CTX, "Dorota")`

**Step 2**
Purpose: find why she did it
`why = FIND_REASON(CTX, "Dorota put water in the lamp oil")`"""
    under = """1. s1 = FIND_CHARACTER(CTX, "Dorota")
   Explanation: who Dorota is
2. s2 = FIND_REASON(CTX, "Dorota put water in the lamp oil")
   Explanation: why she did it"""
    assert [s.explanation for s in parse_plan(above, _lib()).steps] == ["identify who Dorota is", "find why she did it"]
    # Written above each step with no blank line between (helper-190: refused, "this line is not a step").
    compact = "\n".join(line for line in above.split("\n") if line and not line.startswith("**"))
    assert [s.explanation for s in parse_plan(compact, _lib()).steps] == [
        "identify who Dorota is",
        "find why she did it",
    ]
    # A line of prose above the steps, then explanations under each: the prose is no step's.
    intro = "Reason: the question turns on her motive.\n" + under
    assert [s.explanation for s in parse_plan(intro, _lib()).steps] == ["who Dorota is", "why she did it"]
    assert [s.explanation for s in parse_plan(under, _lib()).steps] == ["who Dorota is", "why she did it"]
    # The model's words about the whole plan after it are no step's.
    closing = (
        's1 = FIND_CHARACTER(CTX, "Dorota")\ns2 = FIND_REASON(CTX, s1)\nExplanation: the plan finds her, then why.'
    )
    assert [s.explanation for s in parse_plan(closing, _lib()).steps] == [None, None]


def test_prose_that_names_a_call_is_told_it_is_no_step_not_of_a_variable_named_for_its_first_word() -> None:
    # 'expected "=" after the variable name Next, found ','': the model was told it wrote a variable (helper-186).
    first = 's1 = FIND_CHARACTER(CTX, "Dorota")\n'
    for prose in (
        "Next, we use FIND_REASON (with CTX) to find why.",
        'Explanation: uses FIND_CHARACTER(CTX, "Dorota")',
    ):
        error = _error(first + prose + '\ns2 = FIND_REASON(CTX, "why")')
        assert error.reason.startswith("this line is not a step") and (error.line, error.column) == (2, 1), prose
    error = _error('let s1 = FIND_CHARACTER(CTX, "D")')
    assert error.reason.startswith("write nothing before the step's name")
    assert not _error('s1: str = FIND_CHARACTER(CTX, "D")').reason.startswith("write nothing before")  # name first


@pytest.mark.parametrize(
    ("line", "explanation"),
    [
        ('1. **Identify Dorota**: s1 = FIND_CHARACTER(CTX, "Dorota")', "Identify Dorota"),
        ('1. Identify Dorota: `s1 = FIND_CHARACTER(CTX, "Dorota")`', "Identify Dorota"),
        ('Step 1 (identify her): s1 = FIND_CHARACTER(CTX, "Dorota")', "identify her"),
        ('Step 1 \u2014 s1 = FIND_CHARACTER(CTX, "Dorota")', None),
        ('Final step: s1 = FIND_CHARACTER(CTX, "Dorota") : who she is', "who she is"),
        ('**Step 1 \u2014 identify**: s1 = FIND_CHARACTER(CTX, "Dorota")', "identify"),
    ],
)
def test_a_title_before_a_step_is_its_explanation(line: str, explanation: str | None) -> None:
    # "write nothing before the step's name" cost a retry for a Markdown habit whose intent is clear (helper-209).
    plan = parse_plan(line + '\ns2 = FIND_REASON(CTX, "why")', _lib())
    first = plan.steps[0]
    assert (first.var, first.action, first.explanation) == ("s1", "FIND_CHARACTER", explanation)


def test_a_new_actions_block_that_says_in_words_it_declares_none_declares_none() -> None:
    # "None needed." was read as a declaration of an action NONE: "expected '(' after ..." (helper-186).
    steps = '1. s1 = FIND_X(CTX, "a") : x\n2. s2 = FIND_REASON(CTX, "b") : y'
    for block in ("New actions: none needed", "New actions:\n- None needed.", "New actions: (none)", "New actions: []"):
        plan = parse_plan(f"{block}\n\n{steps}", _lib())
        assert len(plan.steps) == 2 and not plan.new_actions, block
    plan = parse_plan(f"New actions:\n- None (all actions are in the list)\n\n{steps}", _lib())
    assert not plan.new_actions


def test_public_api() -> None:
    # the plan-language part of the package's API (plan generation adds more names beside it)
    mine = {
        "DEFAULT_MAX_CHARS",
        "DEFAULT_MAX_LINE_CHARS",
        "DEFAULT_MAX_STEPS",
        "DEFAULT_MAX_STRING_CHARS",
        "Arg",
        "ArgKind",
        "Plan",
        "Step",
        "parse_plan",
        "plan_from_json",
        "plan_gbnf",
        "plan_json_schema",
        "plan_to_json",
        "validate_plan",
    }
    assert mine <= set(pearl.planning.__all__)
    for name in pearl.planning.__all__:
        assert hasattr(pearl.planning, name)
    assert issubclass(PlanParseError, PlanError)


# --- valid plans: our form ----------------------------------------------------------------


def test_our_form() -> None:
    text = (
        'chars = FIND_CHARACTER(CTX, "the narrator")\n'
        'motive = FIND_MOTIVE(CTX, chars, "leaving home") : why the narrator leaves\n'
        "answer = CONCAT(chars, motive)  # both parts\n"
    )
    plan = parse_plan(text, _lib())
    assert [s.var for s in plan.steps] == ["chars", "motive", "answer"]
    assert [s.action for s in plan.steps] == ["FIND_CHARACTER", "FIND_MOTIVE", "CONCAT"]
    assert plan.steps[1].args == [Arg.ctx(), Arg.var("chars"), Arg.string("leaving home")]
    assert plan.steps[1].explanation == "why the narrator leaves"
    assert plan.steps[2].explanation is None
    assert [s.line for s in plan.steps] == [1, 2, 3]
    assert plan.answer_vars == ["answer"]
    assert plan.new_actions == []
    assert plan.render() == (
        'chars = FIND_CHARACTER(CTX, "the narrator")\n'
        'motive = FIND_MOTIVE(CTX, chars, "leaving home") : why the narrator leaves\n'
        "answer = CONCAT(chars, motive)"
    )
    graph = plan.to_graph()
    assert set(graph.nodes) == {"chars", "motive", "answer"}
    assert set(graph.edges) == {("chars", "motive"), ("chars", "answer"), ("motive", "answer")}
    assert graph.nodes["motive"] == {"action": "FIND_MOTIVE", "line": 2, "index": 1}
    assert plan.step("MOTIVE") is plan.steps[1] and plan.step("nope") is None


def test_tolerated_decoration() -> None:
    text = (
        "Plan:\r\n"
        "```text\r\n"
        "\r\n"
        "1. a = FIND_X(CTX, 'it\\'s \"here\"')\r\n"
        "2) b = FIND_X(ctx, “curly”,)\r\n"
        "- C = SUMMARIZE_X( CTX ,\t‘single’ )\r\n"
        "* d = concat(A, b, c).\r\n"
        'Step 5: e\u00a0=\u00a0FIND_REASON(CTX, "x") :  spaced   out  \r\n'
        "```\r\n"
    )
    plan = parse_plan("\ufeff" + text, _lib())
    assert [s.var for s in plan.steps] == ["a", "b", "c", "d", "e"]
    assert plan.steps[0].args[1] == Arg.string('it\'s "here"')
    assert plan.steps[1].args == [Arg.ctx(), Arg.string("curly")]
    assert plan.steps[2].args[1] == Arg.string("single")
    assert plan.steps[3].action == "CONCAT" and plan.steps[3].inputs == ["a", "b", "c"]
    assert plan.steps[4].explanation == "spaced out"
    assert [s.line for s in plan.steps] == [4, 5, 6, 7, 8]
    assert plan.answer_vars == ["d", "e"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Here is the plan:\n", ""),
        ("**Plan:**\n\n", "\n\nThis plan finds the oil first, then answers from it."),
        ("Sure! Here's a plan.\n```plan\n", "\n```\nExplanation: the first step gathers what the second needs."),
        # Prose that names an action or holds a "=" or an "I (": it was read as a step, and refused ("expected '='
        # after the variable name Sure") as the model wrote it again, eight times (helper-161).
        ("Sure! Here's a plan using FIND_X (to gather facts) and ANSWER:\n", ""),
        ("", "\nNote: I (the planner) have not read the document."),
        ("", "\nThis plan uses FIND_X (CTX) to gather facts, so that s1 = the oil."),
    ],
)
def test_a_models_prose_around_its_plan_is_left_out(before: str, after: str) -> None:
    # Each plan was refused at its first or last line: a chatty model at temperature 0 wrote the same eight times.
    steps = 'a = FIND_X(CTX, "the oil") : the oil\nb = ANSWER(CTX, "Why?")'
    plan = parse_plan(before + steps + after, _lib())
    assert [s.var for s in plan.steps] == ["a", "b"] and plan.steps[0].line == before.count("\n") + 1


def test_strings_hold_any_unicode_and_escapes() -> None:
    inside = "Ünïcödé 中文 \u202eRTL\u202c zero\u200bwidth 😀 'x' \\path"
    text = 'a = FIND_X(CTX, "' + inside.replace("\\", "\\\\") + '")\nb = FIND_X(CTX, "tab\\there\\nnext C:\\dir")'
    plan = parse_plan(text, _lib())
    assert plan.steps[0].args[1].value == inside
    assert plan.steps[1].args[1].value == "tab\there\nnext C:\\dir"
    assert parse_plan(plan.render(), _lib()).steps == plan.steps


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ('"the "Governing Law" clause"', 'the "Governing Law" clause'),
        ("'Si's retirement'", "Si's retirement"),
        ("“the “quoted” word”", "the “quoted” word"),
        (
            '"Highlight the parts (if any) related to "Non-Compete" that should be reviewed. Details: Is there a '
            'restriction?"',
            'Highlight the parts (if any) related to "Non-Compete" that should be reviewed. Details: Is there a '
            "restriction?",
        ),
    ],
)
def test_a_quote_inside_a_string_followed_by_words_is_text(argument: str, value: str) -> None:
    # Models leave inner quotes unescaped, and a question pasted into a plan brings its own: each cost a
    # rejected plan and a new plan call, and a scripted planner that pasted the question never got through.
    plan = parse_plan(f'a = FIND_RELATION(CTX, {argument}, "x") : look "there"\nb = FIND_X(CTX, {argument})', _lib())
    assert [s.strings for s in plan.steps] == [[value, "x"], [value]]
    assert plan.steps[0].explanation == 'look "there"'
    assert parse_plan(plan.render(), _lib()).steps == plan.steps


def test_code_in_a_string_is_only_text() -> None:
    plan = parse_plan("a = FIND_X(CTX, \"__import__('os').system('rm -rf /')\")", _lib())
    assert plan.steps[0].args[1].value == "__import__('os').system('rm -rf /')"


def test_unused_outputs_are_part_of_the_answer() -> None:
    text = 'a = FIND_X(CTX, "x")\nb = FIND_X(CTX, "y")\nc = SUMMARIZE_X(CTX, a)'
    plan = parse_plan(text, _lib())
    assert plan.answer_vars == ["b", "c"]


def test_without_a_library_names_and_arity_are_free() -> None:
    plan = parse_plan('x = ANY_ACTION(CTX, "a", "b", "c")\ny = OTHER(x)')
    assert [s.action for s in plan.steps] == ["ANY_ACTION", "OTHER"]
    with pytest.raises(PlanParseError, match="not defined yet"):
        parse_plan("y = OTHER(x)")


# --- markdown and code habits of unconstrained models ------------------------------------
# Each was refused, costing a self-correction round (one more plan call) though its reading is not in doubt.

_DOROTA = Step(var="s1", action="FIND_CHARACTER", args=[Arg.ctx(), Arg.string("Dorota")], explanation="who she is")
_BARE = _DOROTA.model_copy(update={"explanation": None})


@pytest.mark.parametrize(
    ("text", "step"),
    [
        # markdown around the step's name, its call or its whole line
        ('**s1** = FIND_CHARACTER(CTX, "Dorota") : who she is', _DOROTA),
        ('`s1` = FIND_CHARACTER(CTX, "Dorota") : who she is', _DOROTA),
        ('`s1 = FIND_CHARACTER(CTX, "Dorota")` : who she is', _DOROTA),
        ('1. `s1 = FIND_CHARACTER(CTX, "Dorota")` — who she is', _DOROTA),
        ('`s1 = FIND_CHARACTER(CTX, "Dorota") : who she is`', _DOROTA),
        ('**s1 = FIND_CHARACTER(CTX, "Dorota")** : who she is', _DOROTA),
        ('* **s1** = `FIND_CHARACTER(CTX, "Dorota")` - who she is', _DOROTA),
        ('s1 = **FIND_CHARACTER**(CTX, "Dorota") : who she is', _DOROTA),
        ('`s1 = FIND_CHARACTER(CTX, "Dorota")`.', _BARE),
        # a `;` after the call, then nothing, a comment or an explanation
        ('s1 = FIND_CHARACTER(CTX, "Dorota");', _BARE),
        ('s1 = FIND_CHARACTER(CTX, "Dorota");  # who she is', _BARE),
        ('s1 = FIND_CHARACTER(CTX, "Dorota"); // who she is', _BARE),
        ('s1 = FIND_CHARACTER(CTX, "Dorota") // who she is', _BARE),
        ('s1 = FIND_CHARACTER(CTX, "Dorota"); : who she is', _DOROTA),
        ('s1 = FIND_CHARACTER(CTX, "Dorota"); - who she is', _DOROTA),
        ('`s1 = FIND_CHARACTER(CTX, "Dorota");` — who she is', _DOROTA),
        # a dash for ' : '
        ('s1 = FIND_CHARACTER(CTX, "Dorota") - who she is', _DOROTA),
        ('s1 = FIND_CHARACTER(CTX, "Dorota") -- who she is', _DOROTA),
        ('s1 = FIND_CHARACTER(CTX, "Dorota") — who she is', _DOROTA),
        ('s1 = FIND_CHARACTER(CTX, "Dorota") – who she is', _DOROTA),
        ('s1 = FIND_CHARACTER(CTX, "Dorota")—who she is', _DOROTA),
        # arguments named by the action's parameters, in any order and case
        ('s1 = FIND_CHARACTER(CTX=CTX, X="Dorota") : who she is', _DOROTA),
        ('s1 = FIND_CHARACTER(X="Dorota", CTX=CTX) : who she is', _DOROTA),
        ('s1 = FIND_CHARACTER(CTX, x = "Dorota") : who she is', _DOROTA),
        (
            's1 = FIND_RELATION(CTX, Y="b", X="a")',
            Step(var="s1", action="FIND_RELATION", args=[Arg.ctx(), Arg.string("a"), Arg.string("b")]),
        ),
        (
            '`s1 = FIND_RELATION(ctx=CTX, y="p = q; r", x="a - b, c")`; — why: x - y; z = `w` **v**',
            Step(
                var="s1",
                action="FIND_RELATION",
                args=[Arg.ctx(), Arg.string("a - b, c"), Arg.string("p = q; r")],
                explanation="why: x - y; z = `w` **v**",
            ),
        ),
    ],
)
def test_markdown_and_code_habits_are_read_as_written_without_them(text: str, step: Step) -> None:
    assert parse_plan(text, _lib()).steps == [step.model_copy(update={"line": 1})]


@pytest.mark.parametrize(
    "text",
    [
        # comments and headings between steps, and a step's explanation on a line of its own under it
        '```python\n# Step 1: gather facts\na = FIND_X(CTX, "the oil")\n# Step 2: explain\nb = ANSWER(CTX, "Why?")\n'
        "```",
        '### Step 1\na = FIND_X(CTX, "the oil")\n### Step 2\nb = ANSWER(CTX, "Why?")',
        '1. a = FIND_X(CTX, "the oil")\n   Explanation: find the oil\n2. b = ANSWER(CTX, "Why?")',
        # prose with brackets in it, which was read as a step and refused (helper-176)
        '1. a = FIND_X(CTX, "the oil")\n   This step finds the oil (e.g. its colour).\n2. b = ANSWER(CTX, "Why?")',
        'a = FIND_X(CTX, "the oil")\nThat is all (now).\nb = ANSWER(CTX, "Why?")',
        # numbering as models write it
        '**Step 1:** a = FIND_X(CTX, "the oil")\n**Step 2:** b = ANSWER(CTX, "Why?")',
        'Step 1 - a = FIND_X(CTX, "the oil")\nStep 2 - b = ANSWER(CTX, "Why?")',
        '(1) a = FIND_X(CTX, "the oil")\n(2) b = ANSWER(CTX, "Why?")',
        '[1] a = FIND_X(CTX, "the oil")\n[2] b = ANSWER(CTX, "Why?")',
        '1 - a = FIND_X(CTX, "the oil")\n2 - b = ANSWER(CTX, "Why?")',
        # nested, as a Markdown list of steps is written (helper-162)
        '- **Step 1:** a = FIND_X(CTX, "the oil")\n- **Step 2:** b = ANSWER(CTX, "Why?")',
        '1. Step 1: a = FIND_X(CTX, "the oil")\n2. Step 2: b = ANSWER(CTX, "Why?")',
    ],
)
def test_comments_headings_and_numbering_between_steps_cost_no_retry(text: str) -> None:
    # Each was refused, "expected a step like: ... (found '#')" or "(found '1')": a retry for a plan not in doubt.
    plan = parse_plan(text, _lib())
    assert [(s.var, s.action) for s in plan.steps] == [("a", "FIND_X"), ("b", "ANSWER")]


def test_an_explanation_on_the_line_under_its_step_is_the_steps() -> None:
    plan = parse_plan('1. a = FIND_X(CTX, "the oil")\n   Explanation: find the oil\n2. b = ANSWER(CTX, "Why?")', _lib())
    assert [s.explanation for s in plan.steps] == ["find the oil", None]
    plan = parse_plan(
        '1. a = FIND_X(CTX, "oil")\n   Explanation: the oil (the lamp\'s)\n2. b = ANSWER(CTX, "Why?")', _lib()
    )
    assert [s.explanation for s in plan.steps] == ["the oil (the lamp's)", None]


@pytest.mark.parametrize(
    "question",
    [
        'Why does the Skipper stop abruptly after he says "when you\'re running a blockade"?',
        'What is meant by the phrase "cause found and corrected" in the log?',
        'What does the "Governing Law" (s. 12) clause say?',
    ],
)
def test_a_question_pasted_whole_into_a_plan_keeps_its_own_quotes(question: str) -> None:
    # A quotation closing before "in", "(" or the question's "?" ended the string: refused eight times, then `rag`.
    plan = parse_plan(f'notes = FIND_X(CTX, "x")\nanswer = ANSWER(CTX, "{question}")', _lib())
    assert plan.steps[-1].args[-1] == Arg.string(question)


@pytest.mark.parametrize(
    "last",
    [
        "Finally, s3 = FIND_X(CTX, s1) : why",
        "let s3 = FIND_X(CTX, s1)",
        "s3 := FIND_X(CTX, s1)",
        "s3 \uff1d FIND_X\uff08CTX, s1\uff09",
    ],
)
def test_a_step_however_introduced_is_read_or_refused_never_left_out(last: str) -> None:
    # Taken for prose after the last step, it was left out, and the plan ran without it, nothing said.
    with pytest.raises(PlanParseError, match="line 3"):
        parse_plan(f's1 = FIND_X(CTX, "a")\ns2 = FIND_X(CTX, "b")\n{last}\n', _lib())
    with pytest.raises(PlanParseError, match="line 2"):  # and between steps
        parse_plan(f's1 = FIND_X(CTX, "a")\n{last}\ns4 = FIND_X(CTX, "b")\n', _lib())


def test_strings_and_explanations_keep_the_marks_dashes_and_semicolons_they_hold() -> None:
    text = (
        's1 = FIND_X(CTX, "a - b; c = d **e**")\n'
        '`s2 = FIND_X(CTX, "`x` -- y; z")` - why: a - b; `c` **d** -- e — f\n'
        '**s3** = FIND_RELATION(CTX, Y="it\'s `y` = **z**", X="x - w") — what **links** them`\n'
        "s4 = CONCAT(S2=s2, S1=s1); // the two"
    )
    plan = parse_plan(text, _lib())
    assert plan.steps == [
        Step(var="s1", action="FIND_X", args=[Arg.ctx(), Arg.string("a - b; c = d **e**")], line=1),
        Step(
            var="s2",
            action="FIND_X",
            args=[Arg.ctx(), Arg.string("`x` -- y; z")],
            explanation="why: a - b; `c` **d** -- e — f",
            line=2,
        ),
        Step(
            var="s3",
            action="FIND_RELATION",
            args=[Arg.ctx(), Arg.string("x - w"), Arg.string("it's `y` = **z**")],
            explanation="what **links** them`",
            line=3,
        ),
        Step(var="s4", action="CONCAT", args=[Arg.var("s1"), Arg.var("s2")], line=4),
    ]
    assert parse_plan(plan.render(), _lib()).steps == plan.steps


def test_markdown_steps_in_the_papers_form_are_steps_not_declarations() -> None:
    text = (
        "New actions:\n- WEIGH(CTX, A, B) : which of A and B matters more\n\n"
        '1. **s1** = FIND_CHARACTER(CTX, "Dorota") - who she is\n'
        '2. `s2 = WEIGH(CTX, B="the oil", A=s1);`'
    )
    for library in (_lib(), None):  # a declared action's parameters name arguments without a library too
        plan = parse_plan(text, library)
        assert plan.steps == [
            _DOROTA.model_copy(update={"line": 4}),
            Step(var="s2", action="WEIGH", args=[Arg.ctx(), Arg.var("s1"), Arg.string("the oil")], line=5),
        ]
        assert [a.name for a in plan.new_actions] == ["WEIGH"]


HABITS_STILL_REFUSED = [
    # (text, line, column, fragment): marks never closed
    ('`s1 = FIND_CHARACTER(CTX, "Dorota")', 1, 1, "the backtick in column 1 is never closed"),
    ('1. `s1 = FIND_CHARACTER(CTX, "Dorota") : who she is', 1, 4, "the backtick in column 4 is never closed"),
    ('**s1 = FIND_CHARACTER(CTX, "Dorota") : who she is', 1, 1, "'**' in column 1 is never closed"),
    ('s1 = **FIND_CHARACTER(CTX, "Dorota")', 1, 6, "'**' in column 6 is never closed"),
    # after `;`, a second statement
    ('s1 = FIND_CHARACTER(CTX, "Dorota"); s2 = FIND_X(CTX, "x")', 1, 35, "';' ends the step, but the line goes on"),
    # a dash or `//` before what reads as an operand is arithmetic, not an explanation
    ('s0 = FIND_X(CTX, "x")\ns1 = FIND_CHARACTER(CTX, "Dorota") - s0', 2, 36, "operator '-' after the closing"),
    ('s1 = FIND_CHARACTER(CTX, "Dorota") - CTX', 1, 36, "operator '-' after the closing parenthesis"),
    ('s1 = FIND_CHARACTER(CTX, "Dorota") - "b"', 1, 36, "to join results use CONCAT(a, b)"),
    ('s1 = COUNT(CTX, "Dorota") -- 1', 1, 27, "operator '--' after the closing parenthesis"),
    ('s1 = COUNT(CTX, "Dorota") // 2', 1, 27, "operator '//' after the closing parenthesis"),
    ('s1 = COUNT(CTX, "Dorota") - FIND_X(CTX, "y")', 1, 27, "write what the step finds as ' : explanation'"),
    # nor does a dash before a second step: its explanation would have swallowed the step
    ('s1 = FIND_CHARACTER(CTX, "Dorota") - s2 = FIND_X(CTX, "x")', 1, 36, "a second step after '-' on the same line"),
    ('s1 = FIND_CHARACTER(CTX, "Dorota") — **s2** = FIND_X(CTX, "x")', 1, 36, "a second step after '—'"),
    # named arguments that name no parameter, name one twice, leave a gap, or come before a positional one
    ('s1 = FIND_CHARACTER(CTX, Z="Dorota")', 1, 26, "FIND_CHARACTER has no parameter Z: FIND_CHARACTER(CTX, X)"),
    ("s1 = FIND_CHARACTER(CTX, CTX=CTX)", 1, 26, "CTX of FIND_CHARACTER(CTX, X) is given twice"),
    ('s1 = FIND_CHARACTER(X="a", x="b")', 1, 28, "X of FIND_CHARACTER(CTX, X) is given twice"),
    ('s0 = FIND_X(CTX, "x")\ns1 = CONCAT(s0, S1=s0)', 2, 17, "S1 of CONCAT(S1, S2, ...) is given twice"),
    ('s1 = FIND_CHARACTER(X="a", CTX)', 1, 28, "argument 2 is passed by position after X=..."),
    ('s1 = FIND_RELATION(CTX, Y="b")', 1, 30, "no argument for X of FIND_RELATION(CTX, X, Y)"),
    # "" where CTX goes is refused: the advice for CTX is CTX (helper-161)
    ('s1 = FIND_RELATION(X="a", Y="b")', 1, 32, "no argument for CTX of FIND_RELATION(CTX, X, Y); pass CTX, the"),
    # a result used as an action: "expected '(' after the action name S1" (helper-161)
    ('s1 = FIND_X(CTX, "a")\ns2 = FIND_X(CTX, "b")\ns3 = s1 + s2', 3, 6, "s1 is an earlier result, not an action"),
    ('s1 = FIND_CHARACTER(CTX, X=Y="a")', 1, 28, "X=Y=... is not an argument"),
    ("s1 = FIND_CHARACTER(CTX, X=)", 1, 28, "X= has no value"),
]


@pytest.mark.parametrize(("text", "line", "column", "fragment"), HABITS_STILL_REFUSED)
def test_habits_whose_reading_is_in_doubt_are_still_refused(text: str, line: int, column: int, fragment: str) -> None:
    _refused_at(text, line, column, fragment)


def test_named_arguments_need_an_action_whose_parameters_are_known() -> None:
    # Unlisted: the unknown action is the error, as for positional arguments (its fix comes first).
    err = _error('s1 = NO_SUCH(CTX, X="a")')
    assert (err.line, err.column) == (1, 6) and err.reason.startswith("unknown action NO_SUCH")
    # Without a library, only declared actions have parameters to name.
    with pytest.raises(PlanParseError) as info:
        parse_plan('s1 = FIND_CHARACTER(CTX, X="Dorota")')
    assert (info.value.line, info.value.column) == (1, 26)
    assert "keyword arguments (X=...) only name the parameters of a listed or declared action" in info.value.reason
    # A value is still CTX, a quoted string or an earlier result, and what follows the call is checked as before.
    assert "calls are not allowed inside arguments" in _error("s1 = FIND_X(CTX, X=SUMMARIZE(CTX))").reason
    assert "unexpected '-' after the closing parenthesis" in _error('s1 = FIND_X(X="a", CTX=CTX) -1').reason
    assert "unexpected '`' after the closing parenthesis" in _error('s1 = FIND_X(CTX, X="a")`').reason


# --- valid plans: the paper's form --------------------------------------------------------

PAPER_NONE = """New actions:
- None

1. retire_reason = FIND_REASON(CTX, "Si retirement") : Find the cause of Si's retirement
2. retire_outcome = FIND_X(CTX, "the impact of Si retirement") : Find what it led to
3. connect = FIND_RELATION(CTX, retire_reason, "Space Exploration Team") : Relate it to the team
4. ans = CONCAT(connect, retire_outcome) : Combine the previous steps to form the final answer
"""

PAPER_NEW = """New actions:
- COUNT_OCCURRENCES(CTX, X) : Count the number of times that X occurs in the input article

1. all_nilly = FIND_EVENT(CTX, "Critten been a Nilly") : Find all the events where Critten has been a Nilly.
2. num_nilly = COUNT_OCCURRENCES(CTX, all_nilly) : Count the number of times, given the events above.
"""


def test_paper_form_with_none() -> None:
    plan = parse_plan(PAPER_NONE, _lib())
    assert plan.new_actions == []
    assert [s.var for s in plan.steps] == ["retire_reason", "retire_outcome", "connect", "ans"]
    assert [s.line for s in plan.steps] == [4, 5, 6, 7]
    assert plan.steps[0].explanation == "Find the cause of Si's retirement"
    assert plan.answer_vars == ["ans"]
    assert plan.render(published=True) == PAPER_NONE.rstrip("\n")


def test_paper_form_declaring_an_action() -> None:
    plan = parse_plan(PAPER_NEW, _lib())
    assert plan.new_actions == [
        Action(
            name="COUNT_OCCURRENCES",
            params=["CTX", "X"],
            definition="Count the number of times that X occurs in the input article",
        )
    ]
    assert plan.steps[1].action == "COUNT_OCCURRENCES"
    assert plan.answer_vars == ["num_nilly"]
    assert plan.render(published=True) == PAPER_NEW.rstrip("\n")
    assert parse_plan(plan.render(), _lib()) == plan
    # the declaration is what makes the action valid
    undeclared = PAPER_NEW.split("\n\n", 1)[1]
    assert "unknown action COUNT_OCCURRENCES" in str(_error(undeclared))


@pytest.mark.parametrize(
    "block",
    [
        "New actions:\n-None\n",
        "New Actions:\n- none.\n",
        "New actions: None\n",
        "NEW ACTIONS:\n* None\n",
        "New actions:\n",
        "```\nNew actions:\n- None\n```\n```\n",
        "Answer:\nNew actions:\n- None\n\nPlan:\n",
    ],
)
def test_none_block_variants(block: str) -> None:
    plan = parse_plan(block + '\n1. a = FIND_X(CTX, "x")', _lib())
    assert plan.new_actions == [] and len(plan.steps) == 1


def test_paper_style_declarations() -> None:
    text = (
        "New actions:\n"
        "- SORT(CTX, X): Sort the elements in X in ascending order\n"
        "- predict_career(CTX, x, y) : Predict a career for X from Y\n"
        "- MERGE_ALL(S1, S2, ...) : Merge the texts\n"
        '1. assets = FIND_X(CTX, "assets")\n'
        "2. ranked = SORT(CTX, assets)\n"
        '3. career = PREDICT_CAREER(CTX, "Eddie", ranked)\n'
        "4. ans = MERGE_ALL(ranked, career, assets, career)\n"
    )
    plan = parse_plan(text, _lib())
    assert [a.signature for a in plan.new_actions] == [
        "SORT(CTX, X)",
        "PREDICT_CAREER(CTX, X, Y)",
        "MERGE_ALL(S1, S2, ...)",
    ]
    assert plan.new_actions[2].variadic and not plan.new_actions[2].pure
    again = parse_plan(plan.render(), _lib())
    assert _same_steps(again, plan) and again.new_actions == plan.new_actions


def test_redeclaring_a_library_action_identically_is_ignored() -> None:
    text = 'New actions:\n- FIND_X(CTX, X) : my own words\n\n1. a = FIND_X(CTX, "x")'
    plan = parse_plan(text, _lib())
    assert plan.new_actions == []


def test_declared_actions_are_checked_without_a_library() -> None:
    text = 'New actions:\n- ONLY_DOC(CTX) : read the document\n\na = ONLY_DOC(CTX, "extra")'
    err = _error(text, ActionLibrary(name="empty"))
    assert (err.line, err.column) == (4, 19)
    with pytest.raises(PlanParseError, match="ONLY_DOC takes 1 argument"):
        parse_plan(text)


# --- what the paper's plans do: results in the document slot, empty strings, 8 steps ------

PAPER_CTX_SLOT = """New actions:
- None

1. end_passage = SUMMARIZE_X(CTX, "the end of the story") : Find how the story ends
2. expression = FIND_X(end_passage, "Peter's expression") : Read Peter's expression in that passage
3. reason = FIND_REASON(CTX, "") : Find why, with nothing more to narrow it
4. ans = CONCAT(expression, reason) : Combine them
"""


def test_an_earlier_result_may_stand_where_the_document_goes() -> None:
    plan = parse_plan(PAPER_CTX_SLOT, _lib())
    step = plan.steps[1]
    assert step.args == [Arg.var("end_passage"), Arg.string("Peter's expression")]
    assert step.inputs == ["end_passage"] and ("end_passage", "expression") in plan.to_graph().edges
    assert step.explanation == "Read Peter's expression in that passage"
    assert plan.render(published=True) == PAPER_CTX_SLOT.rstrip("\n")
    assert _same_steps(parse_plan(plan.render(), _lib()), plan)
    assert plan_from_json(plan_to_json(plan), _lib()).steps[1].args == step.args
    # still only an earlier result: a string, a later or unknown name, or the step's own output is refused
    assert "must be CTX (the document) or an earlier result" in str(_error('a = FIND_X("text", "x")'))
    assert '"later" is not defined yet' in str(_error('a = FIND_X(later, "x")\nlater = FIND_X(CTX, "y")'))
    assert '"a" is used as its own input' in str(_error('a = FIND_X(a, "x")'))


def test_an_empty_string_is_an_absent_argument() -> None:
    plan = parse_plan(PAPER_CTX_SLOT, _lib())
    empty = plan.steps[2].args[1]
    assert empty == Arg(kind="string", value="") and empty.absent and not Arg.string("x").absent
    assert Arg.string("   ") == empty  # blank is stored as ""
    assert plan.steps[2].render() == 'reason = FIND_REASON(CTX, "") : Find why, with nothing more to narrow it'
    data = plan_to_json(plan)["steps"][2]["args"][1]
    assert data == {"kind": "string", "value": ""} and _same_steps(plan_from_json(plan_to_json(plan), _lib()), plan)


def test_eight_steps_with_explanations_round_trip() -> None:
    lines = [f'{k}. s{k} = FIND_X(CTX, "part {k}") : look at part {k}' for k in range(1, 9)]
    text = "New actions:\n- None\n\n" + "\n".join(lines)
    plan = parse_plan(text, _lib(), max_steps=8)
    assert len(plan.steps) == 8 and plan.steps[7].explanation == "look at part 8"
    assert plan.render(published=True) == text
    assert _same_steps(plan_from_json(plan_to_json(plan), _lib(), max_steps=8), plan)
    assert "more than 7 steps" in str(_error(text, max_steps=7))


def test_the_library_functions_hold_a_plan_to_the_steps_pearl_does() -> None:
    # parse_plan allowed 12 steps by default while Pearl's settings allow 8 (helper-161).
    from pearl.config import Settings

    assert Settings().max_steps == pearl.planning.DEFAULT_MAX_STEPS == 8
    nine = "\n".join(f's{k} = FIND_X(CTX, "part {k}")' for k in range(1, 10))
    assert "more than 8 steps" in str(_error(nine))
    step = {"action": "FIND_X", "args": [{"kind": "ctx"}, {"kind": "string", "value": "part"}]}
    with pytest.raises(PlanParseError, match="more than 8 steps|at most 8"):
        plan_from_json({"steps": [{"var": f"s{k}", **step} for k in range(1, 10)]}, _lib())


def test_answer_only_ends_a_plan() -> None:
    fine = parse_plan('a = FIND_X(CTX, "x")\nb = ANSWER(a, "the question")', _lib())
    assert [s.action for s in fine.steps] == ["FIND_X", "ANSWER"]
    alone = _error('1. ans = ANSWER(CTX, "the question") : just answer')
    assert (alone.line, alone.column) == (1, 10) and "a plan of ANSWER alone is not a plan" in alone.reason
    first = _error('a = ANSWER(CTX, "q")\nb = FIND_X(CTX, a)')
    assert "ANSWER can only be the last step, and this is step 1 of 2" in first.reason and "ANSWER_FROM" in first.reason
    json_alone = {
        "steps": [{"var": "a", "action": "ANSWER", "args": [{"kind": "ctx"}, {"kind": "string", "value": "q"}]}]
    }
    with pytest.raises(PlanParseError, match="ANSWER alone"):
        plan_from_json(json_alone, _lib())
    # a library without ANSWER reports the unknown action, not the rule
    no_answer = ActionLibrary(name="paper", actions=[a for a in _lib().actions if a.name != "ANSWER"])
    assert "unknown action ANSWER" in str(_error('a = ANSWER(CTX, "q")', no_answer))


def test_the_json_schema_and_the_grammar_cannot_write_answer_alone_or_first() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(plan_json_schema(_lib(), max_steps=3))
    find = {"var": "a", "action": "FIND_X", "args": [{"kind": "ctx"}, {"kind": "string", "value": "x"}]}
    answer = {"var": "b", "action": "ANSWER", "args": [{"kind": "ctx"}, {"kind": "string", "value": "q"}]}
    assert validator.is_valid({"steps": [find, answer]}) and validator.is_valid({"steps": [find]})
    assert not validator.is_valid({"steps": [answer]})
    assert not validator.is_valid({"steps": [answer, find]})
    assert not validator.is_valid({"steps": [find, answer, find]})
    assert not validator.is_valid({"steps": [find, find, find, answer]})  # still at most max_steps
    regex = _gbnf_regex(_gbnf_rules(plan_gbnf(_lib(), 3)))
    assert regex.fullmatch('s1 = FIND_X(CTX, "x")\ns2 = ANSWER(s1, "q")\n')
    assert regex.fullmatch('s1 = FIND_X(CTX, "x")\ns2 = FIND_X(s1, "y")\n')  # a result in the document slot
    assert not regex.fullmatch('s1 = ANSWER(CTX, "q")\n')
    assert not regex.fullmatch('s1 = FIND_X(CTX, "x")\ns2 = ANSWER(CTX, "q")\ns3 = FIND_X(CTX, "y")\n')
    with pytest.raises(ConfigError, match="only ANSWER"):
        plan_gbnf(ActionLibrary(name="a", actions=[_lib().get("ANSWER")]))  # type: ignore[list-item]


@requires_shared_data
def test_the_papers_plans_validate_against_its_action_list() -> None:
    library = load_library(PAPER_DATA / "actions_simplified.txt")
    rows = [json.loads(line) for line in (PAPER_DATA / "train_plans.jsonl").read_text().splitlines()]
    refused: list[str] = []
    for row in rows:
        try:
            parse_plan(row["plan"], library, max_steps=8)
        except PlanParseError as exc:
            refused.append(exc.reason)
    assert len(rows) - len(refused) >= 0.975 * len(rows), refused
    # every refusal is an action the plan neither takes from the list nor declares
    assert all(reason.startswith("unknown action") for reason in refused), refused


def test_one_plans_declarations_do_not_leak_into_the_next() -> None:
    declaring = parse_plan(PAPER_NEW, _lib())
    assert [a.name for a in declaring.new_actions] == ["COUNT_OCCURRENCES"]
    later = '1. n = COUNT_OCCURRENCES(CTX, "Nilly")'
    assert "unknown action COUNT_OCCURRENCES" in str(_error(later))
    assert _lib().get("COUNT_OCCURRENCES") is None


# --- invalid plans: positions and messages ------------------------------------------------

INVALID = [
    # (text, line, column, fragments)
    # Quotes that do not look like quotations inside text close their string, refused where they were
    # before inner quotes were read as text.
    ('a = FIND_X(CTX, "a" + "b")', 1, 21, ["operator '+'"]),
    ('a = FIND_RELATION(CTX, "governing law" "jurisdiction", "x")', 1, 40, ["expected ',' between argument 2"]),
    ('a = FIND_CHARACTER(CTX, "x" or "y")', 1, 29, ["expected ',' or ')' after argument 2"]),
    ('a = FIND_X(CTX, "x")\nb = FIND_RELATION(CTX, "a"b, a, "c")', 2, 27, ["expected ',' or ')' after argument 2"]),
    ('a = FIND_CHARACTER(CTX, "a"b) : he said "hi"', 1, 28, ["expected ',' or ')' after argument 2"]),
    ('a = FIND_CHARACTER(CTX, "a"b \\")', 1, 28, ["expected ',' or ')' after argument 2"]),
    ('a = FIND_X(CTX, "a" b)', 1, 21, ["expected ',' or ')' after argument 2"]),  # no quote can close it later
    # A closing-style quote with no quotation open: two arguments must not merge into one.
    ('a = FIND_X(CTX, "governing law" clause, "venue")', 1, 33, ["expected ',' or ')' after argument 2"]),
    # An unclosed string must not swallow the explanation and its quotations.
    (
        'a = FIND_X(CTX, "governing law) : the "Governing Law" clause (see "Section 12")',
        1,
        40,
        ["expected ',' or ')' after argument 2"],
    ),
    ('a = FIND_X(CTX, "x" y) : he said "hi", then left', 1, 21, ["expected ',' or ')' after argument 2"]),
    # The only later quotes are in the explanation, or escaped: neither can close a string.
    ('a = FIND_CHARACTER(CTX, "the "x) : he said "hi"', 1, 31, ["expected ',' or ')' after argument 2"]),
    ('a = FIND_RELATION(CTX, "the "x \\", y)', 1, 30, ["expected ',' or ')' after argument 2"]),
    ('a = FIND_X(CTX, "x")\nb = FIND_X(CTX, summary)', 2, 17, ['"summary" is not defined yet', "defined so far: a"]),
    (
        'chars = FIND_X(CTX, "x")\nmotive = FIND_X(CTX, "y")\nb = SUMMARIZE_X(CTX, summary)',
        3,
        22,
        ["use CTX, a quoted string, or a variable assigned on an earlier line (defined so far: chars, motive)"],
    ),
    ("b = FIND_X(CTX, a)", 1, 17, ["defined so far: none yet", 'quote them: "a"']),
    # Names are kept in lower case; the advice quoted the words so, and "Dorota Varga" became "dorota varga".
    (
        "b = FIND_X(CTX, Dorota_Varga)\nc = FIND_X(CTX, X=Tr_en)",
        1,
        17,
        ['"Dorota_Varga" is not defined yet', 'quote them: "Dorota Varga"'],
    ),
    ('b = FIND_X(CTX, "x")\nc = FIND_X(CTX, X=Tr_en)', 2, 17, ['"Tr_en" is not defined', 'quote them: "Tr en"']),
    ('b = FIND_X(CTX, a)\na = FIND_X(CTX, "y")', 1, 17, ["assigned later, on line 2", "move that step above"]),
    ('chars = FIND_X(CTX, "x")\nb = FIND_X(CTX, chrs)', 2, 17, ["did you mean chars?"]),
    ('s1 = FIND_X(CTX, "x")\ns2 = FIND_X(CTX, step1)', 2, 18, ["did you mean s1?"]),  # 'quote them: "step1"'
    ('a = FIND_X(CTX, "x")\nb = a', 2, 5, ["or delete the line (the final answer call is shown every step's result)"]),
    ("a = SUMMARIZE_X(CTX, summarize)", 1, 22, ["SUMMARIZE is an action: call it on its own line"]),
    ("a = FIND_X(CTX, a)", 1, 17, ['"a" is used as its own input']),
    ('a = FIND_X(CTX, "x")\nA = FIND_X(CTX, "y")', 2, 1, ['"a" is already assigned on line 1', "new name"]),
    ('ctx = FIND_X(CTX, "x")', 1, 1, ["CTX is the document and cannot be assigned"]),
    (
        'a = FIND_CHARACTERS(CTX, "x")',
        1,
        5,
        ["unknown action FIND_CHARACTERS", "did you mean FIND_CHARACTER", "use an action from the list"],
    ),
    # Spelling alone, past the shared "FIND_", suggested FIND_CLAUSE (the contract clause finder) for FIND_CAUSE, and
    # FIND_RELATION for FIND_LOCATION: a model that took the advice ran the wrong action (helper-209).
    ('a = FIND_CAUSE(CTX, "x")', 1, 5, ["unknown action FIND_CAUSE; did you mean FIND_REASON or "]),
    ('a = FIND_LOCATION(CTX, "x")', 1, 5, ["did you mean FIND_PLACE or "]),
    ('a = FIND_DATE(CTX, "x")', 1, 5, ["did you mean FIND_TIME or "]),
    ('a = FIND_MOTIVATION(CTX, "x")', 1, 5, ["did you mean FIND_MOTIVE or "]),
    # The count alone, where the model most likely meant something it could be told (helper-209).
    (
        'a = FIND_X(CTX, "x")\nb = FIND_X(CTX, "y")\nc = COMPARE(CTX, a, b)',
        3,
        13,
        ["COMPARE takes 2 arguments", "but 3 were given: COMPARE does not read the document; drop CTX"],
    ),
    (
        'a = FIND_X(CTX, "x")\nb = FIND_X(CTX, "y")\nc = ANSWER_FROM(a, b, "Why?")',
        3,
        23,
        ["ANSWER_FROM takes 2 arguments", "join them first: joined = CONCAT(s1, s2)"],
    ),
    # An earlier result named inside a string reached the step as the text "{ev}" or "s1", without a word (helper-209).
    (
        'ev = FIND_EVENT(CTX, "Dorota leaving")\nwhy = FIND_REASON(CTX, "the departure described in {ev}")',
        2,
        24,
        ["holds {ev}, which a string cannot fill in", "pass ev as an argument of its own"],
    ),
    # No declaration is offered: the prompts ask for listed actions, and a plan written as JSON cannot declare one.
    ('a = TOTALLY_NEW(CTX, "x")', 1, 5, ["unknown action TOTALLY_NEW; use an action from the list"]),
    ("a = FIND_WATER(CTX)", 1, 5, ["unknown action FIND_WATER; "]),
    ('a = FIND_X(CTX, "x")\nb = WEIGH(a, "y", CTX)', 2, 5, ["unknown action WEIGH; "]),
    ("a = FIND_X(CTX)", 1, 15, ["FIND_X takes 2 arguments: FIND_X(CTX, X), but 1 was given"]),
    # Each said what it found otherwise: "expected '=' ..., found '='", "expected '(' after the action name A".
    ('a == FIND_X(CTX, "x")', 1, 3, ['write one "=" after the variable name a, not "=="']),
    ('a = FIND_X(CTX, "x")\nb = a', 2, 5, ["b = a calls no action", "pass a as an argument"]),
    ("b = CTX", 1, 5, ["b = CTX calls no action"]),
    ('a = FIND_X(CTX, "x")\nb = a : a copy', 2, 5, ["b = a calls no action"]),
    # A result named in capitals is still a result: "expected '(' after the action name A" said it was an action.
    ('A = FIND_X(CTX, "x")\nb = A : a copy', 2, 5, ["b = A calls no action", "pass A as an argument"]),
    # ...but a result named as an action is the action, its "(" forgotten.
    ('find_x = FIND_X(CTX, "x")\nb = FIND_X', 2, 11, ["expected '(' after the action name FIND_X"]),
    ('a := FIND_X(CTX, "x")', 1, 3, ["expected \"=\" after the variable name a, found ':'"]),
    ('New actions:\n- CTX(X) : the text\n\na = CTX("x")', 2, 3, ["CTX names the document in a plan, not an action"]),
    ("a = FOO(CTX, CTX)", 1, 5, ["unknown action FOO; "]),
    ('a = FIND_X(CTX, "x", "y")', 1, 22, ["FIND_X takes 2 arguments", "but 3 were given"]),
    ('a = SUMMARIZE(CTX, "x")', 1, 20, ["SUMMARIZE takes 1 argument: SUMMARIZE(CTX), but 2 were given"]),
    ("a = CONCAT()", 1, 12, ["CONCAT takes at least 1 argument: CONCAT(S1, S2, ...), but 0 were given"]),
    ('a = COMPARE(CTX, "x")', 1, 13, ["COMPARE does not read the document, so CTX cannot be passed"]),
    ('a = CONCAT("x", CTX)', 1, 17, ["CONCAT does not read the document"]),
    (
        'a = FIND_X("x", CTX)',
        1,
        12,
        ["argument 1 of FIND_X must be CTX (the document) or an earlier result: FIND_X(CTX, X)"],
    ),
    ('a = FIND_MOTIVE(CTX, CTX, "y")', 1, 22, ["argument 2 of FIND_MOTIVE is X, not the document"]),
    ('a = FIND_X(CTX, "x")\nb = ANSWER(CTX, "q")\nc = CONCAT(a, b)', 2, 5, ["ANSWER can only be the last step"]),
    ('a = ANSWER(CTX, "q")', 1, 5, ["a plan of ANSWER alone is not a plan"]),
    ('a = FIND_X(CTX, "x', 1, 17, ["the string that starts at column 17 is not closed", "same line"]),
    ('a = FIND_X(CTX, "x\ny")', 1, 17, ["not closed"]),
    ("a = FIND_X(CTX, 'Si's retirement)", 1, 20, ["use double quotes", '"Si\'s retirement"']),
    ("a = FIND_X(CTX, the narrator)", 1, 21, ["expected ',' or ')' after argument 2", "one pair of double quotes"]),
    ('a = FIND_X(CTX "x")', 1, 16, ["expected ',' between argument 1 and the next"]),
    ('a = FIND_X(CTX, "x"', 1, 20, ["the line ends before the argument list is closed"]),
    ("a = FIND_X(CTX,", 1, 16, ["the line ends where argument 2 should be"]),
    ('a = FIND_X(CTX, , "x")', 1, 17, ["empty argument"]),
    ('a = FIND_X(CTX, "x") then more', 1, 22, ["after the closing parenthesis", "' : explanation'"]),
    ('a FIND_X(CTX, "x")', 1, 1, ["this line is not a step"]),
    ('Here is my plan, step by step:\n\nnote = the oil\na = FIND_X(CTX, "x")', 3, 12, ["expected '(' after"]),
    (
        'a = FIND_X(CTX, "x")\nThen FIND_X(CTX, "z").\nb = FIND_X(CTX, "y")',
        2,
        1,
        ["this line is not a step; write only"],
    ),
    ('FIND_X(CTX, "x")', 1, 1, ["FIND_X(...) has no output variable", "result = FIND_X(...)"]),
    ("a = ", 1, 5, ["expected an action name after '=', found the end of the line"]),
    ('a = "x"', 1, 5, ["expected an action name after '=', found a string"]),
    ('a = FIND_X CTX, "x")', 1, 12, ["expected '(' after the action name FIND_X"]),
    ('a = 1FIND(CTX, "x")', 1, 5, ["expected an action name"]),
    ('2a = FIND_X(CTX, "x")', 1, 1, ["expected a step like"]),
    ('"a" = FIND_X(CTX, "x")', 1, 1, ["expected a step like", "found a string"]),
    ("1.", 1, 3, ["expected a step after the numbering"]),
    ('a = FIND_X(CTX, """x""")', 1, 17, ["triple-quoted strings are not allowed"]),
    ('a = FIND_X(CTX, "x")\nNew actions:\n- None', 2, 1, ['"New actions:" block must come before the first step']),
    ("New actions:\n- None\nNew actions:\n- None", 3, 1, ['only one "New actions:" block']),
    ('New actions:\n- FOO(CTX, X)\n\na = FOO(CTX, "x")', 2, 14, ["add a one-line definition"]),
    ('New actions:\n- FOO(CTX, X) :   \n\na = FOO(CTX, "x")', 2, 15, ["the definition of FOO is empty"]),
    ('New actions:\n- FOO CTX, X : d\n\na = FOO(CTX, "x")', 2, 7, ["expected '(' after the new action's name FOO"]),
    ('New actions:\n- FOO(CTX, X, X) : d\n\na = FOO(CTX, "x")', 2, 15, ["parameter X appears twice"]),
    ('New actions:\n- FOO(CTX, ..., X) : d\n\na = FOO(CTX, "x")', 2, 15, ["'...' may only follow the last parameter"]),
    ('New actions:\n- FOO(X, CTX, ...) : d\n\na = FOO(CTX, "x")', 2, 3, ["invalid new action FOO", "variadic"]),
    ('New actions:\n- FOO("x") : d\n\na = FOO(CTX, "x")', 2, 7, ["parameters are names like CTX, X, Y"]),
    (
        'New actions:\n- find all the issues\n\na = FIND_X(CTX, "x")',
        2,
        8,
        ["expected '(' after the new action's name FIND"],
    ),
    ("New actions:\n- 'quoted'\n", 2, 3, ['expected a new action like: - NAME(CTX, X) : what it does (or "- None")']),
    ("New actions:\n- FOO(CTX) : a\n- FOO(CTX) : b\n\na = FOO(CTX)", 3, 0, ["FOO is declared twice"]),
    (
        'New actions:\n- FIND_X(CTX, X, Y) : d\n\na = FIND_X(CTX, "x")',
        2,
        0,
        ["FIND_X already exists as FIND_X(CTX, X)"],
    ),
    ("", 0, 0, ["the plan has no steps"]),
    ("```\n\nPlan:\n```", 0, 0, ["the plan has no steps"]),
    ("New actions:\n- None\n", 0, 0, ["the plan has no steps"]),
]


@pytest.mark.parametrize(("text", "line", "column", "fragments"), INVALID)
def test_invalid_plans(text: str, line: int, column: int, fragments: list[str]) -> None:
    err = _error(text)
    assert (err.line, err.column) == (line, column), str(err)
    for fragment in fragments:
        assert fragment in err.reason
    prefix = f"line {line}, column {column}: " if column else (f"line {line}: " if line else "")
    assert str(err) == prefix + err.reason


# --- hostile input ------------------------------------------------------------------------

HOSTILE = [
    ("x = __import__('os').system('x')", 1, 5, "action names are UPPER_SNAKE_CASE"),
    ("__import__('os').system('x')", 1, 1, "has no output variable"),
    ("a = FIND_X(CTX, __import__('os'))", 1, 17, "calls are not allowed inside arguments"),
    ("a = FIND_X(CTX, eval('1'))", 1, 17, "calls are not allowed inside arguments"),
    ("a = FIND_X(CTX, SUMMARIZE(CTX))", 1, 17, "assign SUMMARIZE(...) to a variable on an earlier line"),
    ("a = FIND_X(CTX.text, 'x')", 1, 12, "attribute access (CTX.…) is not allowed"),
    ('a = FIND_X(CTX, "x")\nb = FIND_X(CTX, a.upper)', 2, 17, "attribute access (a.…)"),
    ('a = FIND_X(CTX, "x").strip()', 1, 21, "after the closing parenthesis"),
    ('a = os.system("x")', 1, 7, "attribute access is not allowed"),
    ("a = FIND_X(CTX, a[0])", 1, 17, "indexing (a[...]) is not allowed"),
    ("a = FIND_X(CTX, 3)", 1, 17, 'numbers are not allowed as argument 2; quote them as text, e.g. "3 times"'),
    ("a = FIND_X(CTX, -1)", 1, 17, "numbers are not allowed"),
    ("a = FIND_X(CTX, 2.5)", 1, 17, "numbers are not allowed"),
    ("a = FIND_X(CTX, .5)", 1, 17, "numbers are not allowed"),
    ("a = FIND_X(CTX, 0x1F)", 1, 17, "numbers are not allowed"),
    ('a = FIND_X(CTX, "a" + "b")', 1, 21, "operator '+' is not allowed after argument 2"),
    ("a = FIND_X(CTX, ~x)", 1, 17, "operator '~' is not allowed as argument 2"),
    ('a = FIND_X(CTX, ["x"])', 1, 17, "brackets are not allowed"),
    ('a = FIND_X(CTX, {"k": 1})', 1, 17, "brackets are not allowed"),
    ('a = FIND_X(CTX, ("x"))', 1, 17, "brackets are not allowed"),
    ('a = FIND_X(CTX, f"{x}")', 1, 17, 'prefixed strings like f"..." are not allowed'),
    ("a = FIND_X(CTX, rb'x')", 1, 17, "prefixed strings"),
    ("a = FIND_X(CTX, `ls`)", 1, 17, "backticks are not allowed"),
    ("a = FIND_X(CTX, lambda: 1)", 1, 23, "unexpected character ':' after argument 2"),
    ('a = FIND_X(CTX, z="y")', 1, 17, "FIND_X has no parameter z: FIND_X(CTX, X); pass arguments by position"),
    ('a = FIND_X(CTX, "x"); import os', 1, 21, "';' ends the step, but the line goes on"),
    ("a = FIND_X(CTX, $HOME)", 1, 17, "operator '$' is not allowed"),
    ('a = FIND_X(CTX, "x")\x00', 1, 21, "NUL character (U+0000)"),
    ('a = FIND_X(CTX, "\x00")', 1, 18, "NUL character"),
    ('a = FIND_X(CTX, "x\x07")', 1, 19, "control character U+0007 inside a string"),
    ('a = FIND_X(CTX,\x1b "x")', 1, 16, "control character U+001B"),
    # homoglyphs and look-alikes: never read as the ASCII name they imitate
    (
        'a = FIND_X(\u0421TX, "x")',
        1,
        12,
        "non-ASCII character 'С' (U+0421 CYRILLIC CAPITAL LETTER ES) outside a string",
    ),
    ('a = FIND_X(C\u0422X, "x")', 1, 13, "U+0422 CYRILLIC CAPITAL LETTER TE"),
    ('a = FIND_X(\uff23\uff34\uff38, "x")', 1, 12, "U+FF23 FULLWIDTH LATIN CAPITAL LETTER C"),
    ('\u0430 = FIND_X(CTX, "x")', 1, 1, "U+0430 CYRILLIC SMALL LETTER A"),
    ('a = F\u0406ND_X(CTX, "x")', 1, 6, "U+0406"),
    ('a \uff1d FIND_X(CTX, "x")', 1, 3, 'expected "=" after the variable name a, found U+FF1D FULLWIDTH EQUALS SIGN'),
    ('a = FIND_X(CTX\uff0c "x")', 1, 15, "U+FF0C FULLWIDTH COMMA"),
    # invisible characters outside strings
    (
        'a = FIND_X(CTX,\u202e "x")',
        1,
        16,
        "invisible formatting character U+202E RIGHT-TO-LEFT OVERRIDE outside a string",
    ),
    ('a\u200b = FIND_X(CTX, "x")', 1, 2, "U+200B ZERO WIDTH SPACE"),
    ('\u2066a = FIND_X(CTX, "x")', 1, 1, "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ('a = FIND_X(C\u200dTX, "x")', 1, 13, "U+200D ZERO WIDTH JOINER"),
    ('a = FIND_X(CTX, "x") \u2067', 1, 22, "U+2067"),
]


@pytest.mark.parametrize(("text", "line", "column", "fragment"), HOSTILE)
def test_hostile_input(text: str, line: int, column: int, fragment: str) -> None:
    _refused_at(text, line, column, fragment)


def _refused_at(text: str, line: int, column: int, fragment: str) -> None:
    """`text` is refused at `line`, `column`, with a reason that says `fragment`."""
    err = _error(text)
    assert (err.line, err.column) == (line, column), str(err)
    assert fragment in err.reason


def test_smart_quotes_are_string_delimiters() -> None:
    plan = parse_plan('a = FIND_X(CTX, “the "quoted" word”)\nb = FIND_X(CTX, ‘it"s’)\nc = FIND_X(CTX, ”x”)', _lib())
    assert [s.args[1].value for s in plan.steps] == ['the "quoted" word', 'it"s', "x"]
    assert plan.render().splitlines()[0] == 'a = FIND_X(CTX, "the \\"quoted\\" word")'


def test_smart_quote_errors_point_at_the_string() -> None:
    err = _error("a = FIND_X(CTX, “the “quoted” word” more)\n", ActionLibrary(name="e"))
    assert (err.line, err.column) == (1, 31)
    err = _error('a = FIND_X(CTX, “unclosed")')
    assert (err.line, err.column) == (1, 17) and "end it with ” on the same line" in err.reason


def test_size_limits() -> None:
    long_line = 'a = FIND_X(CTX, "' + "x" * 2_000 + '")'
    err = _error(long_line)
    assert (err.line, err.column) == (1, 2_001)
    assert "line is 2,019 characters long; keep each line under 2,000 characters" in err.reason
    long_string = 'a = FIND_X(CTX, "' + "y" * 501 + '")'
    err = _error(long_string)
    assert (err.line, err.column) == (1, 17)
    assert "string of 501 characters; keep strings under 500" in err.reason
    assert parse_plan('a = FIND_X(CTX, "' + "y" * 500 + '")', _lib())
    err = _error("\n" * 20_001)
    assert (err.line, err.column) == (0, 0)
    assert "the plan is 20,001 characters long; the limit is 20,000" in str(err)
    err = _error('a = FIND_X(CTX, "x")', max_chars=5)
    assert "limit is 5" in err.reason


def test_too_many_steps() -> None:
    lines = [f's{i} = FIND_X(CTX, "x")' for i in range(1, 14)]
    assert len(parse_plan("\n".join(lines[:12]), _lib(), max_steps=12).steps) == 12
    err = _error("\n".join(lines), max_steps=12)
    assert (err.line, err.column) == (13, 0)
    assert "more than 12 steps; merge or drop steps so there are at most 12" in err.reason
    err = _error("\n".join(lines[:4]), max_steps=3)
    assert err.line == 4 and "at most 3" in err.reason


def test_ten_thousand_steps_fail_fast() -> None:
    text = "\n".join(f's{i} = FIND_X(CTX, "x")' for i in range(10_000))
    started = time.perf_counter()
    assert "characters long" in _error(text).reason
    assert "more than 8 steps" in _error(text, max_chars=10**7).reason
    assert time.perf_counter() - started < 1.0


def test_parser_never_evaluates(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser must not evaluate code")

    for name in ("eval", "exec", "compile", "__import__"):
        monkeypatch.setattr(builtins, name, refuse)
    for text, *_ in HOSTILE:
        with pytest.raises(PlanParseError):
            parse_plan(text, _lib())
    monkeypatch.undo()
    source_dir = Path(pearl.planning.__file__).parent
    for path in source_dir.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                assert not (isinstance(func, ast.Name) and func.id in {"eval", "exec", "compile", "__import__"})
                assert not (isinstance(func, ast.Attribute) and func.attr in {"literal_eval", "eval", "exec"})


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(
        st.sampled_from(list("abcsXCTX_=(),\"'“”:#.-*1 \n\t\\`[]{}+\x00\u202e\u0421é")) | st.characters(),
        max_size=120,
    )
)
def test_arbitrary_text_only_raises_plan_parse_errors(text: str) -> None:
    try:
        plan = parse_plan(text, _lib())
    except PlanParseError as err:
        assert err.reason
        assert err.line >= 0 and err.column >= 0
    else:
        assert plan.steps


# --- the validator on plans built in code -------------------------------------------------


def test_validate_plan() -> None:
    plan = Plan(
        steps=[
            Step(var="A", action="find_x", args=[Arg.ctx(), Arg.string("x")]),
            Step(var="b", action="CONCAT", args=[Arg.var("a"), Arg.string("y")], explanation=" two\nlines "),
        ]
    )
    assert plan.steps[0].var == "a" and plan.steps[0].action == "FIND_X"
    assert plan.steps[1].explanation == "two lines"
    assert validate_plan(plan, _lib()) == plan
    bad = Plan(steps=[plan.steps[0], Step(var="b", action="FIND_X", args=[Arg.ctx(), Arg.var("c")])])
    with pytest.raises(PlanParseError) as info:
        validate_plan(bad, _lib())
    assert (info.value.line, info.value.column) == (2, 0)
    assert '"c" is not defined yet' in info.value.reason
    with pytest.raises(PlanParseError, match="no steps"):
        validate_plan(Plan(steps=[]))


def test_arg_models() -> None:
    assert Arg(kind="ctx", value="anything") == Arg.ctx()
    assert Arg.ctx().value == CTX
    assert Arg.var("Chars").value == "chars"
    assert Arg.string('say "hi"\\').render() == '"say \\"hi\\"\\\\"'
    with pytest.raises(ValueError, match="not a variable name"):
        Arg.var("two words")
    with pytest.raises(ValueError, match="control character"):
        Arg.string("bell\x07")
    with pytest.raises(ValueError, match="not an action name"):
        Step(var="a", action="__import__")


# --- round trips (property tests) ---------------------------------------------------------

_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from(list("\t\n\"'\\“”‘’ ")), min_size=1, max_size=30
).filter(lambda s: s.strip() != "") | st.just("")
_VAR = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(lambda v: v != "ctx")
_EXPLANATION = st.none() | st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=40)
_DEFINITION = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda s: s.strip() != ""
)
_SHAPES = [(["CTX", "X"], False), (["X", "Y"], False), (["CTX"], False), (["S1", "S2"], True), (["CTX", "X"], True)]


@st.composite
def _plans(
    draw: st.DrawFn, library: ActionLibrary, names: list[str] | None = None, text: Any = _TEXT, declare: bool = True
) -> Plan:
    """Valid plans; with `names` given (s1, s2, ...) they take the shape plan_gbnf describes."""
    new_actions: list[Action] = []
    if declare:
        for index in range(draw(st.integers(0, 2))):
            params, variadic = draw(st.sampled_from(_SHAPES))
            definition = draw(_DEFINITION)
            new_actions.append(
                Action(name=f"NEW_ACTION_{index}", params=params, definition=definition, variadic=variadic)
            )
    actions = [*library.actions, *new_actions]
    count = len(names) if names is not None else draw(st.integers(1, 6))
    variables = names if names is not None else draw(st.lists(_VAR, min_size=count, max_size=count, unique=True))
    steps: list[Step] = []
    for index, var in enumerate(variables):
        # ANSWER only ends a plan of two or more steps (the validator's rule).
        last = index == len(variables) - 1 and index > 0
        # The first step reads the document: a plan none of whose steps does is refused (and plan_gbnf's first is one).
        action = draw(
            st.sampled_from([a for a in actions if (a.name != "ANSWER" or last) and (index or a.needs_document)])
        )
        fewest = len(action.params) if names is not None else action.min_args
        n_args = draw(st.integers(fewest, fewest + 3)) if action.variadic else len(action.params)
        args: list[Arg] = []
        for position in range(n_args):
            if action.param_at(position) == CTX:
                # An earlier result may stand where the document goes.
                earlier = index and draw(st.integers(0, 3)) == 0
                args.append(Arg.var(draw(st.sampled_from(variables[:index]))) if earlier else Arg.ctx())
            elif index and draw(st.booleans()):
                args.append(Arg.var(draw(st.sampled_from(variables[:index]))))
            else:
                args.append(Arg.string(draw(text)))
        explanation = draw(_EXPLANATION) if names is None else None
        steps.append(Step(var=var, action=action.name, args=args, explanation=explanation))
    return Plan(steps=steps, new_actions=new_actions)


def _same_steps(a: Plan, b: Plan) -> bool:
    return [s.model_dump(exclude={"line"}) for s in a.steps] == [s.model_dump(exclude={"line"}) for s in b.steps]


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_render_round_trips(data: st.DataObject) -> None:
    plan = data.draw(_plans(_lib()))
    assert validate_plan(plan, _lib()) == plan
    for published in (False, True):
        text = plan.render(published=published)
        again = parse_plan(text, _lib())
        assert _same_steps(again, plan)
        assert again.new_actions == plan.new_actions
        assert again.render(published=published) == text
    bare = parse_plan(plan.render(explanations=False), _lib())
    assert all(s.explanation is None for s in bare.steps)


@functools.cache
def _schema_validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = plan_json_schema(_lib())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_json_round_trips(data: st.DataObject) -> None:
    plan = data.draw(_plans(_lib(), declare=False))
    payload = plan_to_json(plan)
    _schema_validator().validate(payload)
    for form in (payload, json.dumps(payload), json.dumps(payload).encode()):
        again = plan_from_json(form, _lib())
        assert _same_steps(again, plan)
        assert [s.line for s in again.steps] == list(range(1, len(plan.steps) + 1))


# --- JSON ---------------------------------------------------------------------------------


def test_json_schema() -> None:
    schema = plan_json_schema(_tiny(), max_steps=3)
    assert schema["properties"]["steps"]["maxItems"] == 3
    assert schema["properties"]["steps"]["minItems"] == 1
    step = schema["$defs"]["StepJSON"]
    assert step["properties"]["action"]["enum"] == ["CONCAT", "FIND_X", "SUMMARIZE", "COMPARE"]
    assert set(step["required"]) == {"var", "action", "args"}
    assert step["additionalProperties"] is False
    assert schema["$defs"]["Arg"]["properties"]["kind"]["enum"] == ["ctx", "string", "var"]
    json.dumps(schema)  # plain JSON, ready for a response_format


def test_plan_from_json_forms_and_errors() -> None:
    good = {
        "steps": [
            {"var": "a", "action": "FIND_X", "args": [{"kind": "ctx"}, {"kind": "string", "value": "x"}]},
            {"var": "b", "action": "CONCAT", "args": [{"kind": "var", "value": "a"}], "explanation": "done"},
        ]
    }
    plan = plan_from_json("```json\n" + json.dumps(good) + "\n```", _lib())
    assert plan.render() == 'a = FIND_X(CTX, "x")\nb = CONCAT(a) : done'
    # Amid prose, as a server that ignores the schema lets a chat model write it: refused as "not valid JSON",
    # attempt after attempt, where text mode reads the same prose around its plan (helper-186).
    for chatty in ("Here is the plan:\n```json\n{}\n```\nIt finds a first.", "Here is the plan: {} Done."):
        assert plan_from_json(chatty.format(json.dumps(good)), _lib()).render() == plan.render()
    cases: list[tuple[Any, int, int, str]] = [
        ('{"steps": [', 1, 12, "the plan is not valid JSON"),
        ("[1, 2]", 0, 0, "must be a JSON object"),
        ({"steps": []}, 0, 0, "steps: List should have at least 1 item"),
        ({"steps": [{"var": "a", "args": []}]}, 1, 0, "step 1 (action): Field required"),
        ({"steps": [good["steps"][0], {"var": "b", "action": "X", "args": [{"kind": "number"}]}]}, 2, 0, "kind"),
        ({"steps": [{"var": "a", "action": "__x", "args": []}]}, 1, 0, "not an action name"),
        ({"steps": good["steps"], "notes": "hi"}, 0, 0, "notes: Extra inputs are not permitted"),
        ({"steps": [{"var": "a", "action": "NOPE", "args": []}]}, 1, 0, "unknown action NOPE"),
        ({"steps": [good["steps"][1]]}, 1, 0, '"a" is not defined yet'),
        # a bare value for an argument was told "a valid dictionary or instance of Arg"; CTX as a var, to quote it
        ({"steps": [{"var": "a", "action": "FIND_X", "args": ["CTX", "x"]}]}, 1, 0, "(args[0]): write each argument"),
        (
            {
                "steps": [
                    {
                        "var": "a",
                        "action": "FIND_X",
                        "args": [{"kind": "var", "value": "CTX"}, {"kind": "string", "value": "x"}],
                    }
                ]
            },
            1,
            0,
            '"ctx"}',
        ),
        (
            {"steps": [{"var": "a", "action": "SUMMARIZE", "args": [{"kind": "string", "value": "x"}]}]},
            1,
            0,
            "argument 1 of SUMMARIZE must be CTX",
        ),
    ]
    for data, line, column, fragment in cases:
        with pytest.raises(PlanParseError) as info:
            plan_from_json(data, _lib())
        assert (info.value.line, info.value.column) == (line, column), (data, str(info.value))
        assert fragment in info.value.reason, str(info.value)
    too_many = {"steps": [{"var": f"s{i}", "action": "SUMMARIZE", "args": [{"kind": "ctx"}]} for i in range(4)]}
    with pytest.raises(PlanParseError, match="more than 3 steps"):
        plan_from_json(too_many, _lib(), max_steps=3)
    # Said of the step, not of "line 2", which in the JSON the model wrote is '"steps": [' (helper-176).
    with pytest.raises(PlanParseError) as info:
        plan_from_json({"steps": [good["steps"][0], {"var": "b", "action": "NOPE", "args": []}]}, _lib())
    assert str(info.value).startswith("step 2: unknown action NOPE") and info.value.line == 2


# --- GBNF ---------------------------------------------------------------------------------
# A tiny reader for the GBNF subset plan_gbnf emits, so the tests can turn the grammar into a
# regular expression (membership) and sample sentences from it (generation) without llama.cpp.

_GBNF_TOKEN = re.compile(
    r'\s*(?:(?P<lit>"(?:\\.|[^"\\])*")|(?P<cls>\[(?:\\.|[^\]\\])*\])|(?P<rep>\{\d+,\d+\})|(?P<op>[()|?*+])'
    r"|(?P<ref>[a-z0-9-]+))"
)
Node = tuple[Any, ...]


def _gbnf_rules(grammar: str) -> dict[str, Node]:
    rules: dict[str, Node] = {}
    for line in grammar.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, body = line.split("::=", 1)
        assert name.strip() not in rules, f"rule {name.strip()} defined twice"
        rules[name.strip()] = _gbnf_parse(body)
    return rules


def _gbnf_parse(body: str) -> Node:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while body[pos:].strip():
        match = _GBNF_TOKEN.match(body, pos)
        assert match, f"cannot read GBNF at {body[pos:]!r}"
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    index = 0

    def alt() -> Node:
        nonlocal index
        options = [seq()]
        while index < len(tokens) and tokens[index] == ("op", "|"):
            index += 1
            options.append(seq())
        return ("alt", options)

    def seq() -> Node:
        nonlocal index
        items: list[Node] = []
        while index < len(tokens) and tokens[index] not in (("op", "|"), ("op", ")")):
            kind, text = tokens[index]
            index += 1
            if kind == "lit":
                item: Node = ("lit", re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text[1:-1]))
            elif kind == "cls":
                item = ("cls", text)
            elif kind == "ref":
                item = ("ref", text)
            else:
                assert text == "(", f"unexpected {text}"
                item = alt()
                assert tokens[index] == ("op", ")")
                index += 1
            while index < len(tokens) and (tokens[index][0] == "rep" or tokens[index][1] in ("?", "*", "+")):
                quant = tokens[index][1]
                index += 1
                low, high = {"?": (0, 1), "*": (0, None), "+": (1, None)}.get(quant) or tuple(
                    int(x) for x in quant[1:-1].split(",")
                )
                item = ("rep", item, low, high)
            items.append(item)
        return ("seq", items)

    node = alt()
    assert index == len(tokens)
    return node


def _gbnf_regex(rules: dict[str, Node]) -> re.Pattern[str]:
    def conv(node: Node) -> str:
        kind = node[0]
        if kind == "lit":
            return re.escape(node[1])
        if kind == "cls":
            return str(node[1])
        if kind == "ref":
            return "(?:" + conv(rules[node[1]]) + ")"
        if kind == "seq":
            return "".join(conv(n) for n in node[1])
        if kind == "alt":
            return "(?:" + "|".join(conv(n) for n in node[1]) + ")"
        inner, low, high = node[1], node[2], node[3]
        return f"(?:{conv(inner)}){{{low},{'' if high is None else high}}}"

    return re.compile(conv(rules["root"]))


_POOL = string.ascii_letters + string.digits + " '\"\\,.:;!?()-_" + "é’“”—中😀\u00a0\u202e\u200b\t\x7f"


def _gbnf_sample(rules: dict[str, Node], rng: random.Random) -> str:
    def gen(node: Node) -> str:
        kind = node[0]
        if kind == "lit":
            return str(node[1])
        if kind == "cls":
            return rng.choice([c for c in _POOL if re.fullmatch(node[1], c)])
        if kind == "ref":
            return gen(rules[node[1]])
        if kind == "seq":
            return "".join(gen(n) for n in node[1])
        if kind == "alt":
            return gen(rng.choice(node[1]))
        inner, low, high = node[1], node[2], node[3]
        return "".join(
            gen(inner) for _ in range(rng.randint(low, min(high if high is not None else low + 3, low + 12)))
        )

    return gen(rules["root"])


def test_gbnf_example_for_a_small_library() -> None:
    grammar = plan_gbnf(_tiny(), 3)
    lines = grammar.splitlines()
    assert lines[0].startswith("# pearl plan grammar: library tiny v1 (" + _tiny().fingerprint[:12])
    body = {line.split("::=")[0].strip(): line.split("::=", 1)[1].strip() for line in lines[1:]}
    assert body["root"] == "step-1 tail-2?"
    assert body["tail-2"] == "step-2 tail-3?"
    assert body["tail-3"] == "step-3"
    assert body["arg-2"] == 'str | "s1"'
    assert body["arg-3"] == 'str | "s1" | "s2"'
    assert body["act-vv-more"] == '"CONCAT"'
    assert body["act-cv"] == '"FIND_X"'
    assert body["act-c"] == '"SUMMARIZE"'
    assert body["act-vv"] == '"COMPARE"'
    assert body["doc-3"] == '"CTX" | "s1" | "s2"'
    assert body["step-1"] == '"s1 = " ( act-cv "(CTX, " str ")" | act-c "(CTX)" ) "\\n"'  # the first reads CTX
    assert body["step-3"] == (
        '"s3 = " ( act-vv-more "(" arg-3 ", " arg-3 (", " arg-3)* ")" | act-cv "(" doc-3 ", " arg-3 ")" '
        '| act-c "(" doc-3 ")" | act-vv "(" arg-3 ", " arg-3 ")" ) "\\n"'
    )
    assert not any(name.startswith("answer-") for name in body)  # tiny has no ANSWER
    assert "{0,79}" in body["str"]
    assert grammar == plan_gbnf(_tiny(), 3)  # deterministic, so it can be cached


def test_gbnf_structure_for_the_default_library() -> None:
    grammar = plan_gbnf(_lib(), 5)
    rules = _gbnf_rules(grammar)

    def refs(node: Node) -> set[str]:
        if node[0] == "ref":
            return {node[1]}
        children = node[1] if node[0] in ("seq", "alt") else [node[1]] if node[0] == "rep" else []
        return set().union(*(refs(child) for child in children)) if children else set()

    assert set().union(*(refs(node) for node in rules.values())) | {"root"} == set(rules)  # none missing or unused
    assert all(re.fullmatch(r"[a-z0-9-]+", name) for name in rules)
    assert sorted(n for n in rules if n.startswith("step-")) == [f"step-{k}" for k in range(1, 6)]
    # every action sits in exactly one shape rule, as a plain literal
    names = [seq[1][0][1] for name, node in rules.items() if name.startswith("act-") for seq in node[1]]
    assert sorted([*names, "ANSWER"]) == sorted(_lib().names)  # ANSWER has its own last-step rules
    assert sorted(n for n in rules if n.startswith("answer-")) == [f"answer-{k}" for k in range(2, 6)]
    assert len(grammar) < 6_000  # compact: shapes, not one rule per action per step
    one = _gbnf_rules(plan_gbnf(_lib(), 1))
    assert "tail-2" not in one and "arg-2" not in one


@pytest.mark.parametrize(("which", "max_steps"), [("tiny", 3), ("default", 5), ("seed", 1), ("default", 12)])
def test_gbnf_sentences_are_valid_canonical_plans(which: str, max_steps: int) -> None:
    library = {"tiny": _tiny(), "default": _lib(), "seed": ActionLibrary(name="seed", actions=_lib().actions[:7])}[
        which
    ]
    rules = _gbnf_rules(plan_gbnf(library, max_steps))
    rng = random.Random(1234)
    lengths = set()
    for _ in range(150):
        text = _gbnf_sample(rules, rng)
        plan = parse_plan(text, library, max_steps=max_steps)
        assert [s.var for s in plan.steps] == [f"s{k}" for k in range(1, len(plan.steps) + 1)]
        assert plan.render(explanations=False) + "\n" == text
        assert all(len(a.value) <= 80 for s in plan.steps for a in s.args)
        lengths.add(len(plan.steps))
    assert max(lengths) <= max_steps and (max_steps == 1 or len(lengths) > 1)


_GRAMMAR_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters='"\\'), min_size=1, max_size=80
).filter(lambda s: s.strip() != "" and not s[0].isspace())


@settings(max_examples=100, deadline=None, database=None)
@given(st.data())
def test_gbnf_accepts_every_valid_plan_in_its_shape(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 4))
    plan = data.draw(_plans(_lib(), names=[f"s{k}" for k in range(1, count + 1)], text=_GRAMMAR_TEXT, declare=False))
    assert _gbnf_regex(_gbnf_rules(plan_gbnf(_lib(), 4))).fullmatch(plan.render() + "\n")


@pytest.mark.parametrize(
    "text",
    [
        "",
        's1 = FIND_X(CTX, "x")',  # no final newline
        "s1 = FIND_X(CTX, s1)\n",  # own output
        's1 = FIND_X(CTX, "x")\ns2 = FIND_X(CTX, s2)\n',
        's1 = FIND_X(CTX, "x")\ns2 = FIND_X(CTX, s3)\n',  # a later variable
        's2 = FIND_X(CTX, "x")\n',  # wrong name for step 1
        'a = FIND_X(CTX, "x")\n',
        "s1 = FIND_X(CTX)\n",  # arity
        's1 = FIND_X(CTX, "x", "y")\n',
        's1 = FIND_X("x", CTX)\n',  # CTX in the wrong place
        's1 = COMPARE(CTX, "x")\n',
        's1 = CONCAT("x")\n',  # the grammar asks CONCAT for two or more
        's1 = find_x(CTX, "x")\n',
        's1 = FIND_Y(CTX, "x")\n',
        's1 = FIND_X(CTX, "")\n',
        's1 = FIND_X(CTX, " x")\n',
        's1 = FIND_X(CTX, "a\\"b")\n',
        's1 = FIND_X(CTX, "' + "x" * 81 + '")\n',
        "s1 = FIND_X(CTX, 'x')\n",
        's1 = FIND_X(CTX,"x")\n',
        "s1 = SUMMARIZE(CTX) : why\n",
        "".join(f"s{k} = SUMMARIZE(CTX)\n" for k in range(1, 5)),  # more than max_steps
    ],
)
def test_gbnf_rejects_invalid_plans(text: str) -> None:
    regex = _gbnf_regex(_gbnf_rules(plan_gbnf(_tiny(), 3)))
    assert not regex.fullmatch(text)


def test_gbnf_accepts_examples() -> None:
    regex = _gbnf_regex(_gbnf_rules(plan_gbnf(_tiny(), 3)))
    for text in [
        "s1 = SUMMARIZE(CTX)\n",
        's1 = FIND_X(CTX, "the narrator")\ns2 = FIND_X(CTX, s1)\ns3 = CONCAT(s1, s2, "x", s2)\n',
        's1 = FIND_X(CTX, "' + "x" * 80 + '")\n',
    ]:
        assert regex.fullmatch(text), text
        parse_plan(text, _tiny())
    # A plan that never reads the document: the parser refuses it, so the grammar must not write it.
    for text in ['s1 = COMPARE("a", "b")\n', 's1 = COMPARE("a", "b")\ns2 = CONCAT(s1, "c")\n']:
        assert not regex.fullmatch(text), text
        with pytest.raises(PlanParseError, match="no step reads the document"):
            parse_plan(text, _tiny())


def test_gbnf_limits() -> None:
    with pytest.raises(ConfigError, match="empty"):
        plan_gbnf(ActionLibrary(name="e"))
    with pytest.raises(ConfigError, match="max_steps"):
        plan_gbnf(_tiny(), 0)
    with pytest.raises(ConfigError, match="max_string_chars"):
        plan_gbnf(_tiny(), 2, max_string_chars=0)
    assert '"\\"" [' in plan_gbnf(_tiny(), 2, max_string_chars=1)
    assert "{0," not in plan_gbnf(_tiny(), 2, max_string_chars=1)


def test_gbnf_loads_in_llama_cpp() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    for library, steps in ((_tiny(), 3), (_lib(), 12)):
        grammar = llama_cpp.LlamaGrammar.from_string(plan_gbnf(library, steps), verbose=False)
        assert grammar is not None


@pytest.mark.parametrize("header", ["**New actions:**", "### New actions", "## New actions:", "**New Actions**:"])
def test_a_new_actions_header_in_bold_or_as_a_heading_is_one(header: str) -> None:
    # Its declarations were read as steps without a name: "FIND_GIFT(...) has no output variable" (helper-176).
    text = f'{header}\n- FIND_GIFT(CTX, X) : the gift X gave\n\n1. g = FIND_GIFT(CTX, "Dorota")\n2. ans = CONCAT(g)'
    plan = parse_plan(text, _lib())
    assert [action.name for action in plan.new_actions] == ["FIND_GIFT"]
    assert [step.action for step in plan.steps] == ["FIND_GIFT", "CONCAT"]


def test_an_unknown_action_is_not_answered_with_a_declaration_the_prompts_do_not_offer() -> None:
    # The prompts say "Use only the actions listed", and a plan written as JSON cannot declare one (helper-176).
    reason = _error('a = TOTALLY_NEW(CTX, "x")').reason
    assert reason == "unknown action TOTALLY_NEW; use an action from the list"


def test_prose_after_the_plan_that_names_an_action_before_a_bracket_is_left_out() -> None:
    # "- FIND_CHARACTER (step 1) tells us ..." was read as a step without its name, and the plan refused (helper-176).
    text = (
        '1. d = FIND_CHARACTER(CTX, "Dorota")\n2. ans = CONCAT(d)\n\n'
        "- FIND_CHARACTER (step 1) tells us who Dorota is.\n- CONCAT (step 2) joins them."
    )
    assert [step.var for step in parse_plan(text, _lib()).steps] == ["d", "ans"]
    with pytest.raises(PlanParseError, match="has no output variable"):  # a step without its name still is one
        parse_plan('1. d = FIND_CHARACTER(CTX, "Dorota")\nFIND_X(CTX, "a") : why', _lib())


@pytest.mark.parametrize(
    "last",
    ['ANSWER(CTX, "Why did Dorota come?").', "ANSWER(s1, s2) to give the answer.", 'ANSWER(s1, "Who?")?'],
)
def test_a_step_without_its_name_is_refused_whatever_follows_it(last: str) -> None:
    # Read as prose after the plan, it was left out, and the plan ran without its last step (helper-178).
    with pytest.raises(PlanParseError, match="ANSWER\\(...\\) has no output variable"):
        parse_plan(f's1 = FIND_X(CTX, "Dorota")\ns2 = FIND_X(CTX, "the letter")\n{last}', _lib())


@pytest.mark.parametrize(
    ("between", "prose"),
    [
        ("Explanation: what the NDA (non-disclosure agreement) forbids", True),
        ("That is all (now).", True),
        ('find_x(CTX, "b")', False),  # a call in lower case, without its name: refused, not left out
        ("SUMMARIZE (step 1) gives the gist", True),
        ("Note (s1) is used below", True),  # a word of prose, capitalised: no action's name
    ],
)
def test_a_line_between_steps_is_a_step_where_a_bracket_holds_arguments(between: str, prose: bool) -> None:
    text = f's1 = FIND_X(CTX, "a")\n{between}\ns2 = ANSWER(s1, "q")'
    if prose:
        assert [step.var for step in parse_plan(text, _lib()).steps] == ["s1", "s2"]
    else:
        with pytest.raises(PlanParseError, match="line 2"):
            parse_plan(text, _lib())


@pytest.mark.parametrize("body", ["No new actions are needed.", "None.", "(none)", "- None needed; all are listed"])
@pytest.mark.parametrize("header", ["### New actions", "**New actions:**"])
def test_a_new_actions_heading_with_prose_under_it_or_after_the_steps_costs_no_retry(header: str, body: str) -> None:
    # Read as prose before the heading was a header, then refused: "expected '(' after the new action's name NO", and
    # after the steps "the block must come before the first step" (helper-178).
    steps = 's1 = FIND_X(CTX, "a")\ns2 = ANSWER(s1, "q")'
    for text in (f"{header}\n{body}\n\n{steps}", f"{steps}\n\n{header}\n{body}"):
        assert [step.var for step in parse_plan(text, _lib()).steps] == ["s1", "s2"]


def test_a_plan_asked_for_as_json_and_written_as_steps_is_read_as_steps() -> None:
    # A server that ignores response_format lets the model write the form the prompt shows: a valid plan was refused
    # eight times as "not valid JSON", then answered by rag (helper-220). JSON written wrongly keeps JSON's error.
    from pearl.planning._generate import read_plan_reply

    library = default_library()
    text = 's1 = FIND_CHARACTER(CTX, "Dorota") : who she is\ns2 = FIND_REASON(CTX, "why she spoiled the oil") : why'
    assert read_plan_reply(text, "json", library, 8).render() == text
    with pytest.raises(PlanParseError, match="not valid JSON"):
        read_plan_reply('{"steps": [}', "json", library, 8)
    with pytest.raises(PlanParseError, match="not valid JSON"):
        read_plan_reply("I cannot plan this.", "json", library, 8)
    with pytest.raises(PlanParseError, match=r"^the reply was empty; write the plan as a JSON object"):
        read_plan_reply(" \n", "json", library, 8)


def test_what_a_refused_step_line_is_told_names_what_is_wrong_with_it() -> None:
    # helper-220: each was refused with a message about another fault.
    library = default_library()
    # The header the prompt ends with, written on the first step's line: read, not "a variable called Plan".
    for headed in ('Plan: s1 = FIND_CHARACTER(CTX, "Dorota")', '**Plan:** s1 = FIND_CHARACTER(CTX, "Dorota")'):
        assert parse_plan(headed, library).render() == 's1 = FIND_CHARACTER(CTX, "Dorota")'
    with pytest.raises(PlanParseError, match='expected "=" after the variable name answer'):
        parse_plan('answer: str = FIND_CHARACTER(CTX, "Dorota")', library)  # a type, not a header (helper-221)
    told = {
        # A colon where "=" goes: it was "this line is not a step".
        's1: FIND_CHARACTER(CTX, "Dorota")': 'write "=" after the step\'s name, not ":": s1 = ...',
        # A name with a hyphen: it was "write nothing before the step's name".
        'dorota-info = FIND_CHARACTER(CTX, "Dorota")': "write dorota_info, not dorota-info",
        # A step's name no step has: quoting it, as was advised, would search for the text "s3".
        's1 = FIND_X(CTX, "oil")\ns2 = FIND_X(CTX, S3)': "no step is named S3",
    }
    for text, message in told.items():
        with pytest.raises(PlanParseError) as caught:
            parse_plan(text, library)
        assert message in str(caught.value) and "quote them" not in str(caught.value), str(caught.value)
    # Prose before a step is still told so, and words meant as text are still told to be quoted.
    with pytest.raises(PlanParseError, match="write nothing before the step's name"):
        parse_plan('Finally s3 = FIND_X(CTX, "a")', library)
    with pytest.raises(PlanParseError, match='quote them: "the oil"'):
        parse_plan('s1 = FIND_X(CTX, "a")\ns2 = FIND_X(CTX, the_oil)', library)
