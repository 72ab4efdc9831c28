"""Self-refinement, demo stores (selection by similarity, versions, library checks) and `run_plan`."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DIR
from fakeserver import FakeOpenAIServer, Reply
from typer.testing import CliRunner

from pearl import Pearl, load_settings
from pearl.actions import Action, default_library, load_library, save_library
from pearl.cli import app
from pearl.errors import ConfigError, DocumentError, LLMRequestError, ServerError, UnansweredError
from pearl.eval import load_dataset
from pearl.llm import CompletionRequest, FakeLLM
from pearl.models import Document
from pearl.planning import (
    Demo,
    DemoStore,
    Plan,
    builtin_demos,
    check_demos,
    load_demos,
    parse_plan,
    runnable_demos,
    save_demos,
    select_demos,
)
from pearl.questions import Question
from pearl.training import compare_planning, gold_in_arguments, refine_demos
from pearl.training._refine import _limits, _run_about

runner = CliRunner()
QUALITY = SAMPLE_DIR / "quality_sample.jsonl"
SAMPLE_STORY = SAMPLE_DIR / "the_keeper_of_tren_light.txt"
QUESTION = "Why did Dorota put water in the lamp oil?"
FIRST = 's1 = FIND_X(CTX, "first look")\ns2 = ANSWER(CTX, "the question")'
FIRST_REASON = 's1 = FIND_REASON(CTX, "why Mara stayed")'
REVISED = 's1 = FIND_EVENT(CTX, "REVISED clue")\ns2 = ANSWER_FROM(s1, "the question")'

# ---------------------------------------------------------------------------------------------- demo stores


def store(*questions: str, library: str | None = None) -> DemoStore:
    demos = [Demo(question=q, plan=f'a = FIND_X(CTX, "{q[:20]}")') for q in questions]
    return DemoStore(name="test", version="1", library=library, demos=demos)


def test_select_demos_by_similarity() -> None:
    demos = store(
        "Why did the captain abandon the ship?",
        "How many crew members survived the storm?",
        "What is the relationship between Mara and Teodor?",
        "Where does the story take place?",
    )
    picked = select_demos(demos, "Why did the first mate abandon the sinking ship?", k=2, fallback=None)
    assert picked[0].question == "Why did the captain abandon the ship?"
    picked = select_demos(demos, "How is Teodor related to Mara?", k=1, fallback=None)
    assert picked[0].question == "What is the relationship between Mara and Teodor?"
    assert select_demos(demos, "anything", k=0) == []


def test_a_questions_own_demonstration_is_never_shown_for_it() -> None:
    # Refined on the questions being evaluated, a store showed the planner the very question's plan proven to reach
    # its gold answer: the paper's demonstrations come from held-out training questions.
    demos = store("Why did the captain abandon the ship?", "How many crew members survived the storm?")
    # Other case, spacing, quote marks or its "?" left off: the same question (only the first two were).
    for asked in (
        "Why did the  Captain abandon the ship?",
        "Why did the captain abandon the ship",
        "why DID the captain abandon the ship ?",
    ):
        picked = select_demos(demos, asked, k=2, fallback=None, asked=asked)
        assert [d.question for d in picked] == ["How many crew members survived the storm?"], asked
    sums = store("What is 2+2?", "What is 2-2?")  # symbols other than quote marks tell questions apart
    assert [d.question for d in select_demos(sums, "What is 2+2", k=2, fallback=None, asked="What is 2+2")] == [
        "What is 2-2?"
    ]
    curly = store("Why did the keeper's son leave Tr'en?", "How many crew members survived the storm?")
    picked = select_demos(
        curly,
        "Why did the keeper’s son leave Tr’en?",
        k=2,
        fallback=None,
        asked="Why did the keeper’s son leave Tr’en?",
    )
    assert [d.question for d in picked] == ["How many crew members survived the storm?"]
    assert select_demos(demos, asked, k=1, fallback=None)[0].question == "Why did the captain abandon the ship?"
    fake = FakeLLM(default=lambda request: 'a = FIND_X(CTX, "the captain")')
    Pearl(llm=fake, demos=demos, settings=load_settings(cache=False)).plan("Why did the captain abandon the ship?")
    (prompt,) = [r for r in fake.history if (r.prompt or "").startswith("plan")]
    shown = prompt.messages[-1].content
    assert "Question: How many crew members survived the storm?" in shown
    assert "Question: Why did the captain abandon the ship?\nPlan:" not in shown


def test_select_demos_falls_back_to_the_builtin_ones() -> None:
    small = store("Why did the captain abandon the ship?")
    picked = select_demos(small, "Why did the council reject the plan?", k=4)
    assert picked[0] == small.demos[0] and len(picked) == 4
    builtin_questions = {d.question for d in builtin_demos().demos}
    assert all(d.question in builtin_questions for d in picked[1:])
    assert "Which of the following is NOT a reason the council rejected the plan?" in [d.question for d in picked]
    assert select_demos(small, "Why?", k=4, fallback=None) == small.demos
    builtin = builtin_demos()
    assert len(select_demos(builtin, "Why?", k=len(builtin.demos) + 3)) == len(builtin.demos)  # no duplicates


def test_check_demos_drops_plans_the_library_cannot_run() -> None:
    library = default_library()
    mixed = DemoStore(
        name="mixed",
        version="2",
        library="0123456789abcdef",
        demos=[
            Demo(question="Why?", plan='a = FIND_REASON(CTX, "x")'),
            Demo(question="Clue?", plan='a = FIND_CLUE(CTX, "x")'),
            Demo(question="Arity?", plan='a = FIND_REASON(CTX, "x", "y")'),
        ],
    )
    kept, warnings = check_demos(mixed, library)
    assert [d.question for d in kept.demos] == ["Why?"]
    assert "made for library 0123456789ab" in warnings[0] and "dropped 2 of 3" in warnings[1]
    same, warnings = check_demos(kept.model_copy(update={"library": library.fingerprint}), library)
    assert same.demos == kept.demos and warnings == []
    assert check_demos(builtin_demos(), library)[1] == []  # the bundled store names its library "default"
    # A mined library keeps its version, the fingerprint it was mined with, when edited by hand (helper-176).
    mined = library.model_copy(update={"name": "mined", "version": library.fingerprint[:12]})
    edited = mined.model_copy(update={"actions": mined.actions[1:]})
    _, warnings = check_demos(kept.model_copy(update={"library": library.fingerprint}), edited)
    assert warnings == [
        f"demonstrations mixed v2 were made for library mined v{library.fingerprint[:12]} as it was mined, and it has "
        f"been changed since (its fingerprint is now {edited.fingerprint[:12]})"
    ]


@pytest.mark.parametrize(("max_steps", "shown"), [(12, True), (8, False)])
def test_a_demonstration_is_shown_when_its_plan_has_no_more_steps_than_plans_may(
    max_steps: int, shown: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # With max_steps 12, refinement keeps plans of 9 to 12 steps; the planning prompt read them against the default
    # of 8 and left them out unsaid (helper-164). One longer than plans may be would teach a plan the checker
    # refuses: it is left out before the demonstrations are chosen, so others take its place, and the user is told.
    ten = "\n".join(f's{k} = FIND_CHARACTER(CTX, "sailor {k}")' for k in range(1, 10)) + "\ns10 = ANSWER(CTX, s9)"
    sailors = [Demo(question=f"Who are the nine sailors of ship {n}?", plan=ten) for n in range(4)]
    demos = DemoStore(name="own", version="1", demos=sailors)
    fake = FakeLLM(default='s1 = FIND_X(CTX, "sailors")')
    with caplog.at_level(logging.WARNING):
        pearl = Pearl(llm=fake, settings=load_settings(cache=False, max_steps=max_steps), demos=demos)
    pearl.plan("Which sailors serve?")
    prompt = fake.history[0].messages[-1].content
    assert ('s9 = FIND_CHARACTER(CTX, "sailor 9")' in prompt) is shown
    assert prompt.count("\nQuestion: ") == 5  # four demonstrations, then the question: the bundled ones fill in
    said = "4 of the demonstrations of 'own' have more steps than max_steps (8) allows and are not shown"
    assert (said in caplog.text) is not shown
    one = runnable_demos(DemoStore(name="one", version="1", demos=sailors[:1]), default_library(), 8)[1]
    assert one == (
        "1 of the demonstrations of 'one' has more steps than max_steps (8) allows and is not shown "
        "(a larger max_steps, PEARL_MAX_STEPS, shows it)"
    )


def test_a_short_max_steps_leaves_out_the_longer_bundled_demonstrations_without_a_word(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Asking for short plans, the user is not told on every run that our longer examples are not shown (helper-166).
    fake = FakeLLM(default='s1 = FIND_X(CTX, "sailors")')
    with caplog.at_level(logging.WARNING):
        pearl = Pearl(llm=fake, settings=load_settings(cache=False, max_steps=2))
    pearl.plan("Why did the keeper leave the light?")
    assert "demonstrations" not in caplog.text
    prompt = fake.history[0].messages[-1].content
    examples = prompt.split("Example plans:")[1].split("\nQuestion: ")[1:-1]
    assert len(examples) == 4 and all(example.count(" = ") <= 2 for example in examples)


def test_load_demos_with_a_library_warns_and_drops(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "demos.jsonl"
    lines = [
        json.dumps({"question": "Why?", "plan": 'a = FIND_REASON(CTX, "x")'}),
        json.dumps({"question": "Clue?", "plan": 'a = FIND_CLUE(CTX, "x")'}),
    ]
    path.write_text("\n".join(lines) + "\n")
    assert len(load_demos(path).demos) == 2  # no library, no check: the old behaviour
    with caplog.at_level(logging.WARNING, logger="pearl.planning"):
        loaded = load_demos(path, default_library())
    assert [d.question for d in loaded.demos] == ["Why?"]
    assert "dropped 1 of 2" in caplog.text and "FIND_CLUE" in caplog.text
    mined = default_library().extended([Action(name="FIND_CLUE", params=["CTX", "X"], definition="Clues about X.")])
    assert len(load_demos(path, mined).demos) == 2


def test_two_stores_joined_with_cat_are_read_as_one(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # --demos takes one file; `cat a.jsonl b.jsonl` was refused at b's header: "not a valid demonstration 5: field
    # question: Field required" (helper-181).
    first, second, both = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "both.jsonl"
    save_demos(store("Why did the captain leave?", "Who is Mara?"), first)
    save_demos(store("When does the lease end?"), second)
    both.write_text(first.read_text() + second.read_text())
    with caplog.at_level(logging.WARNING, logger="pearl.planning"):
        loaded = load_demos(both)
    assert [d.question for d in loaded.demos] == [
        "Why did the captain leave?",
        "Who is Mara?",
        "When does the lease end?",
    ]
    assert "the header of another store" in caplog.text


def test_a_library_the_bundled_demonstrations_do_not_fit_plans_with_those_it_runs_and_says_so(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A library that lacks what most bundled plans call (a mined one, the paper's list) was shown the four most similar
    # demonstrations less those it could not run: often none, silently, while reports counted all twelve.
    bundled = builtin_demos()
    runs = [d for d in bundled.demos if "FIND_REASON(" in d.plan]
    uses = {name for d in runs for name in re.findall(r"\b([A-Z][A-Z_]*)\(", d.plan)}
    narrow = default_library().model_copy(
        update={"name": "narrow", "actions": [a for a in default_library().actions if a.name in uses]}
    )
    assert 0 < len(runs) < len(bundled.demos)
    fake = FakeLLM(default=lambda request: 's1 = FIND_REASON(CTX, "the ship")')
    monkeypatch.setattr("pearl._pearl._WARNED", set())
    with caplog.at_level(logging.WARNING, logger="pearl"):
        pearl = Pearl(llm=fake, library=narrow, settings=load_settings(cache=False))
        pearl.ask(SAMPLE_STORY, "Who keeps the light?", method="rag")
        assert caplog.text == ""  # said when a question is planned: rag shows no demonstration (helper-169)
        pearl.plan("Why did the keeper stay?")
        Pearl(llm=fake, library=narrow, settings=load_settings(cache=False)).plan("Why?")  # said once, not per Pearl
    assert [d.question for d in pearl.demos.demos] == [d.question for d in runs]  # what eval's report counts
    dropped = len(bundled.demos) - len(runs)
    said = f"'narrow' cannot run {dropped} of the {len(bundled.demos)} bundled demonstrations"
    assert caplog.text.count(said) == 1 and f"the planner chooses among the {len(runs)} others;" in caplog.text
    assert "`pearl refine --train FILE --actions LIBRARY` makes demonstrations for it" in caplog.text
    # Runs are keyed on the store as given, as before demonstrations were filtered: older runs resume.
    assert pearl.demos_fingerprint == bundled.fingerprint != pearl.demos.fingerprint
    fake.history.clear()
    pearl.plan("Which question is most like none of them?")
    (prompt,) = [r for r in fake.history if (r.prompt or "").startswith("plan")]
    shown = prompt.messages[-1].content
    assert shown.count("\nPlan:\n") == min(4, len(runs))  # as many as it runs, not the four best less the rest
    # A store of fewer than four is topped up from the bundled demonstrations the library runs.
    own = DemoStore(name="own", version="1", demos=[Demo(question="Why did Mara stay?", plan=FIRST_REASON)])
    fake.history.clear()
    Pearl(llm=fake, library=narrow, demos=own, settings=load_settings(cache=False)).plan("Why did the crew stay?")
    (prompt,) = [r for r in fake.history if (r.prompt or "").startswith("plan")]
    assert prompt.messages[-1].content.count("\nPlan:\n") == min(4, 1 + len(runs))
    # None at all: said, and where demonstrations for it come from.
    lone = narrow.model_copy(update={"name": "lone", "actions": [narrow.get("FIND_REASON")]})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pearl"):
        alone = Pearl(llm=fake, library=lone, settings=load_settings(cache=False))
        assert alone.demos.demos == []
        alone.plan("Why did the crew stay?")
    assert "plans are written with no example; `pearl refine --train FILE --actions LIBRARY`" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pearl"):
        Pearl(llm=fake, settings=load_settings(cache=False)).plan("Why did the crew stay?")
    assert caplog.text == ""  # the bundled library runs them all


def test_store_versions_and_prompts_round_trip(tmp_path: Path) -> None:
    original = DemoStore(
        name="refined",
        version="abc123",
        library=default_library().fingerprint,
        note="kept by refinement",
        prompts={"plan": "plan.v2#12345678", "refine": "refine.v2#abcdef12"},
        demos=[Demo(question="Why?", plan='a = FIND_REASON(CTX, "x")', outcome="correct", library="fp")],
    )
    for name in ("demos.jsonl", "demos.json"):
        path = save_demos(original, tmp_path / name)
        assert load_demos(path) == original
    header = json.loads((tmp_path / "demos.jsonl").read_text().splitlines()[0])
    assert header["store"]["version"] == "abc123" and "demos" not in header["store"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Why?", "plan": "a = FIND_X(CTX)"}\n{"store": {"name": "late header"}}\n')
    with pytest.raises(ConfigError, match="bad.jsonl:2"):
        load_demos(bad)
    for header in ("5", "null", "[]"):  # a header that is no object: a TypeError escaped
        bad.write_text(f'{{"store": {header}}}\n{{"question": "Why?", "plan": "a = FIND_X(CTX)"}}\n')
        with pytest.raises(ConfigError, match='bad.jsonl:1: not a valid header: "store" must be an object'):
            load_demos(bad)


# ---------------------------------------------------------------------------------------------- refinement


def shown_label(prompt: str) -> str:
    """The label of the first sentence a step's prompt shows: a step cites what it was shown."""
    found = re.search(r"\[S\d+\]", prompt)
    return found.group() if found else "[S0]"


def refining_fake(right_at_once: str = "Varga suspect") -> FakeLLM:
    """First plans lead to (A) unless the question names `right_at_once`; a revised plan leads to the gold letter."""
    golds = {"Dorota put water": "B", "Varga suspect": "D", "relation to Dorota": "A"}

    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        text = request.messages[-1].content
        if kind in ("plan", "plan_fix"):
            return FIRST
        if kind == "refine":
            return REVISED
        if kind in ("step", "step_nodoc"):
            return (
                f"REVISED evidence {shown_label(text)}." if "REVISED" in text else f"Some evidence {shown_label(text)}."
            )
        gold = next((g for k, g in golds.items() if k in text), "C")
        if kind == "answer":
            return gold if "REVISED" in text or right_at_once in text else "A"
        return "A"

    return FakeLLM(default=reply)


@pytest.mark.parametrize(
    ("steps_say", "kept"),
    [
        ("Some evidence {shown}.", "correct"),
        ("The excerpts say nothing about this.", None),  # no step found anything: the final call answered alone
        ("The evidence points to (A) [S2].", None),  # the steps argued for another option than the gold one chosen
        ("Nothing found, like [S12].", None),  # the label of the instruction's example, no sentence it was shown
    ],
)
def test_a_plan_is_proven_right_only_where_its_steps_led_to_the_answer(steps_say: str, kept: str | None) -> None:
    # A plan of steps that found nothing was kept as a demonstration: the final call, shown the question's own
    # evidence, answered right without them (helper-210). The paper counts a plan right by its own outputs.
    fake = refining_fake()
    inner = fake.default

    def reply(request: CompletionRequest) -> str:
        if (request.prompt or "").startswith(("step.", "step_nodoc.")):
            return steps_say.replace("{shown}", shown_label(request.messages[-1].content))
        return str(inner(request))  # type: ignore[misc,operator]

    dataset = load_dataset(QUALITY)
    pearl = Pearl(llm=FakeLLM(default=reply), settings=load_settings(cache=False))
    result = asyncio.run(refine_demos(pearl, dataset, dataset.questions[1:2], rounds=0))  # right at once (D)
    assert [r.kept for r in result.records] == [kept]
    assert len(result.store.demos) == (1 if kept else 0)


def test_a_revision_is_shown_example_plans_as_the_planner_is() -> None:
    # The revision prompt showed no example plan: the paper's showed four, and pearl's planner is shown four
    # (helper-210). Never the question's own.
    llm = refining_fake()
    dataset = load_dataset(QUALITY)
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], rounds=1))
    planned = next(r.messages[-1].content for r in llm.history if (r.prompt or "").startswith("plan."))
    revision = next(r.messages[-1].content for r in llm.history if (r.prompt or "").startswith("refine."))
    shown = revision.split("Example plans:\n", 1)[1].split("\n\nQuestion: " + dataset.questions[0].question)[0]
    assert shown.count("Question: ") == 4 and shown.count("Plan:") == 4
    assert shown in planned  # the demonstrations the planner was shown for this question
    assert dataset.questions[0].question not in shown


def test_refine_keeps_right_plans_and_revised_ones() -> None:
    dataset = load_dataset(QUALITY)
    questions = dataset.questions[:2]  # Dorota (gold B, wrong at first), Varga's suspect (gold D, right at once)
    llm = refining_fake()
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    progress: list[tuple[int, int, str]] = []
    result = asyncio.run(
        refine_demos(pearl, dataset, questions, rounds=2, concurrency=1, on_progress=lambda *a: progress.append(a))
    )
    assert [r.kept for r in result.records] == ["correct after 1 revision", "correct"]
    assert result.kept == 2 and result.first_correct == 1 and result.revised == 1 and result.first_valid == 2
    store_ = result.store
    assert (
        store_.library == default_library().fingerprint
        and store_.version
        and store_.prompts["refine"].startswith("refine.v5#")
    )
    revised = next(d for d in store_.demos if d.outcome and "revision" in d.outcome)
    assert "REVISED clue" in revised.plan and revised.library == default_library().fingerprint
    # Labelled with their document's kind, as the planner chooses demonstrations by it (QuALITY's are stories).
    assert [d.kind for d in store_.demos] == ["story", "story"]
    parse_plan(revised.plan, default_library())
    refine_prompt = next(r for r in llm.history if (r.prompt or "").startswith("refine."))
    content = refine_prompt.messages[-1].content
    assert "This plan did not lead to the right answer:" in content and "first look" in content
    assert "right answer is" not in content and "led to this answer" not in content
    assert progress[-1] == (2, 2, "kept 2")


def test_refine_runs_plans_with_the_papers_executor_when_asked() -> None:
    dataset = load_dataset(QUALITY)
    llm = refining_fake()
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    result = asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], rounds=1, method="pearl-fulldoc"))
    kinds = {(r.prompt or "").split(".")[0] for r in llm.history}
    assert "step_paper" in kinds and not kinds & {"step", "step_nodoc"}  # the whole document, as the paper's steps
    assert result.records[0].revisions == 1 and "plans run by pearl-fulldoc" in (result.store.note or "")
    assert "step_paper" in result.store.prompts and "step" not in result.store.prompts
    assert _run_about(pearl, 1, "pearl-fulldoc")["--method"] == "pearl-fulldoc"
    assert "--method" not in _limits(pearl, 1, "pearl")  # the key: a run begun before --method existed resumes
    with pytest.raises(ConfigError, match="method 'rag' plans none; choose pearl, pearl-fulldoc"):
        asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], method="rag"))


def test_refine_without_rounds_keeps_only_right_plans() -> None:
    dataset = load_dataset(QUALITY)
    pearl = Pearl(llm=refining_fake(), settings=load_settings(cache=False))
    result = asyncio.run(refine_demos(pearl, dataset, dataset.questions[:2], rounds=0))
    assert result.kept == 1 and [r.revisions for r in result.records] == [0, 0]


def revising_fake(*revisions: str) -> FakeLLM:
    """`refining_fake`, whose revisions are `revisions` in turn (the last one again once they run out)."""
    queue = list(revisions)

    def reply(request: CompletionRequest) -> str:
        if (request.prompt or "").startswith("refine."):
            return queue.pop(0) if len(queue) > 1 else queue[0]
        return str(refining_fake().default(request))  # type: ignore[misc,operator]

    return FakeLLM(default=reply)


def test_every_prompt_of_a_refinement_is_fitted_with_its_token_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    # The revision prompt is fitted outside a question's run, and ignored the margin the plans it revises kept
    # (helper-172: {'plan': {0.0}, ..., 'refine': {0.2}}).
    from pearl import prompts

    margins: dict[str, set[float]] = {}
    fit = prompts.PromptTemplate.fit

    def recorded(self: prompts.PromptTemplate, *args: Any, **kwargs: Any) -> Any:
        margins.setdefault(self.name, set()).add(prompts._MARGIN.get())
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(prompts.PromptTemplate, "fit", recorded)
    dataset = load_dataset(QUALITY)
    pearl = Pearl(llm=refining_fake(), settings=load_settings(cache=False, token_margin=0))
    asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], rounds=1, concurrency=1))
    assert "refine" in margins and set().union(*margins.values()) == {0.0}, margins


def test_rejected_revision_is_fed_back() -> None:
    dataset = load_dataset(QUALITY)
    llm = revising_fake("s1 = NO_SUCH_ACTION(CTX)", REVISED)
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    result = asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], rounds=2))
    # As the paper's code: the checker's errors go back within the round (the correction loop), not using it up.
    assert result.records[0].kept == "correct after 1 revision" and result.records[0].revisions == 1
    second = [r for r in llm.history if (r.prompt or "").startswith("refine.")][1]
    shown = second.messages[-1].content
    assert "rejected by the checker" in shown and "NO_SUCH_ACTION" in shown


def test_the_newest_rejected_revision_comes_first_as_written() -> None:
    # Cut to fit the window, a prompt keeps the beginning of its errors: the newest rejection must be there.
    dataset = load_dataset(QUALITY)
    llm = revising_fake("s1 = ONE_BAD(CTX)", "s1 = TWO_BAD(CTX)\ns2 = ANSWER(s1, 'x')", REVISED)
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    result = asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], rounds=1))
    assert result.records[0].kept == "correct after 1 revision"
    third = [r for r in llm.history if (r.prompt or "").startswith("refine.")][2].messages[-1].content
    assert "It read:\ns1 = TWO_BAD(CTX)\ns2 = ANSWER(s1, 'x')" in third  # whole, its lines as they were
    assert third.index("TWO_BAD") < third.index("ONE_BAD")


def test_a_revision_the_checker_never_passes_uses_its_round() -> None:
    dataset = load_dataset(QUALITY)
    llm = revising_fake("s1 = NO_SUCH_ACTION(CTX)")
    pearl = Pearl(llm=llm, settings=load_settings(cache=False, plan_attempts=3))
    result = asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], rounds=2))
    assert result.kept == 0 and result.records[0].revisions == 2
    assert sum((r.prompt or "").startswith("refine.") for r in llm.history) == 6  # 3 attempts in each of 2 rounds


def _always_wrong(revision: str = REVISED) -> FakeLLM:
    """Every plan, first or revised, leads to (A), and free text to "Some evidence"."""

    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        if kind in ("plan", "plan_fix"):
            return FIRST
        if kind == "refine":
            return revision
        return "Some evidence [S2]." if kind in ("step", "step_nodoc") else "A"

    return FakeLLM(default=reply)


def test_refine_prompts_never_see_the_gold_answer(tmp_path: Path) -> None:
    dataset = load_dataset(QUALITY)
    prompts: list[list[str]] = []
    for gold in ("B", "C"):  # the same question with two different gold answers
        question = dataset.questions[0].model_copy(update={"gold": gold, "golds": [gold]})
        llm = _always_wrong()
        pearl = Pearl(llm=llm, settings=load_settings(cache=False))
        result = asyncio.run(refine_demos(pearl, dataset, [question], rounds=2))
        assert result.records[0].revisions == 2 and result.kept == 0
        prompts.append([r.messages[-1].content for r in llm.history if (r.prompt or "").startswith("refine.")])
    assert len(prompts[0]) == 2 and prompts[0] == prompts[1]  # nothing in them depends on which option is gold
    assert "REVISED clue" in prompts[0][1] and "first look" in prompts[0][1]  # the earlier wrong plans are shown

    free = tmp_path / "free.jsonl"
    story = (SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text()
    line = {"id": "keeper", "text": story, "questions": [{"question": QUESTION, "answer": "zebragold quartzanswer"}]}
    free.write_text(json.dumps(line) + "\n")
    llm = _always_wrong()
    free_data = load_dataset(free)
    asyncio.run(refine_demos(Pearl(llm=llm, settings=load_settings(cache=False)), free_data, free_data.questions))
    assert any((r.prompt or "").startswith("refine.") for r in llm.history)
    assert not any("zebragold" in m.content for r in llm.history for m in r.messages)


def test_gold_in_arguments_refuses_only_telling_golds() -> None:
    library = default_library()

    def plan(*strings: str) -> Plan:
        lines = [f"s{i} = FIND_X(CTX, {json.dumps(text)})" for i, text in enumerate(strings, start=1)]
        return parse_plan("\n".join(lines), library)

    relation = "What is Agnete Varga's relation to Dorota?"
    assert gold_in_arguments(plan("Varga", "whether she is HER GREAT-AUNT, or not"), ["Her great-aunt"], relation)
    assert gold_in_arguments(plan("Teodor Nylund  her assistant keeper"), ["Teodor Ny'lund, her assistant keeper"], "")
    assert gold_in_arguments(
        plan("x", "why the Lighthouse keeper retired."), ["nope", "the lighthouse keeper retired"], ""
    )
    assert gold_in_arguments(plan("the retired lighthouse keeper"), ["the lighthouse keeper retired"], "Why?") is None
    # a number the question does not hold is telling on its own (a plan writing "127 steps" knew it)
    assert gold_in_arguments(plan("127 steps"), ["127"], "How many steps lead up to the lamp?")
    assert gold_in_arguments(plan("steps in 1903"), ["127"], "How many steps?") is None  # another number
    assert gold_in_arguments(plan("the 1903 storm"), ["1903"], "What happened in 1903?") is None  # the question's
    # short or question-only golds never refuse: a plan may name what the question names
    assert gold_in_arguments(plan("yes or no"), ["Yes"], "Did she stay?") is None
    assert gold_in_arguments(plan("Teodor"), ["Teodor"], "Who lit the lamp?") is None
    assert gold_in_arguments(plan("the lamp oil"), ["The lamp oil"], "What did Dorota spoil, the lamp oil?") is None
    assert gold_in_arguments(plan("great aunts"), ["Her great-aunt"], relation) is None  # not the gold's words
    # an explanation steers the step's evidence and is in its prompt: the gold there gives it away too
    explained = parse_plan('s1 = FIND_X(CTX, "the fire") : shows the keeper drowned the signal fire', library)
    assert "explanation" in (gold_in_arguments(explained, ["the keeper drowned the signal fire"], "Why?") or "")
    # so does a declared action's definition, which the steps that call it are shown (helper-176)
    declared = parse_plan(
        "New actions:\n- CHECK_FIRE(CTX, X) : check that the keeper drowned the signal fire, about X\n\n"
        's1 = CHECK_FIRE(CTX, "the fire")',
        library,
    )
    said = gold_in_arguments(declared, ["the keeper drowned the signal fire"], "Why?") or ""
    assert "CHECK_FIRE" in said and "definition" in said


def test_refine_refuses_a_right_plan_that_writes_the_gold_answer() -> None:
    dataset = load_dataset(QUALITY)
    gold_text = dataset.questions[0].options[1]  # question 0's gold is (B)
    leaking = f's1 = FIND_EVENT(CTX, "REVISED {gold_text}")\ns2 = ANSWER_FROM(s1, "the question")'
    llm = refining_fake()

    def reply(request: CompletionRequest) -> str:
        return leaking if (request.prompt or "").startswith("refine.") else str(llm.default(request))  # type: ignore[misc,operator]

    pearl = Pearl(llm=FakeLLM(default=reply), settings=load_settings(cache=False))
    result = asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], rounds=1))
    record = result.records[0]
    assert record.kept is None and result.kept == 0 and result.refused == 1
    assert record.refused is not None and "writes the gold answer" in record.refused


def test_refine_resumes_from_its_progress_file(tmp_path: Path) -> None:
    dataset = load_dataset(QUALITY)
    questions = dataset.questions[:3]
    partial = tmp_path / "demos.jsonl.partial.jsonl"
    healthy = refining_fake()

    def dies_on_the_third(request: CompletionRequest) -> str:
        if "Each of the following happened" in request.messages[-1].content:
            raise KeyboardInterrupt  # killed: Ctrl-C, or SIGTERM, which pearl's commands read as one
        return str(healthy.default(request))  # type: ignore[misc,operator]

    pearl = Pearl(llm=FakeLLM(default=dies_on_the_third), settings=load_settings(cache=False))
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(refine_demos(pearl, dataset, questions, rounds=1, concurrency=1, progress_file=partial))
    lines = partial.read_text().splitlines()
    assert json.loads(lines[0])["pearl_refine"] == 1 and len(lines) == 3  # header and the two finished questions
    partial.write_text(partial.read_text() + '{"q": "cut sho')  # a line half-written when the run was killed

    again = refining_fake()
    pearl = Pearl(llm=again, settings=load_settings(cache=False))
    seen: list[tuple[int, int, str]] = []
    result = asyncio.run(
        refine_demos(
            pearl,
            dataset,
            questions,
            rounds=1,
            concurrency=1,
            progress_file=partial,
            on_progress=lambda *a: seen.append(a),
        )
    )
    assert result.resumed == 2 and [r.id for r in result.records] == [q.id for q in questions]
    assert [r.kept for r in result.records[:2]] == ["correct after 1 revision", "correct"] and result.kept == 3
    asked = " ".join(m.content for r in again.history for m in r.messages)
    assert "Each of the following" in asked and "Why did Dorota put water" not in asked  # only the third ran
    assert seen[0] == (2, 3, "kept 2") and seen[-1][0] == 3
    assert not partial.exists(), "a finished run removes its progress file"


def test_a_question_that_failed_is_tried_again_by_the_next_run(tmp_path: Path) -> None:
    # It was written to the progress file as done, which the run then removed: the next run repeated every question.
    dataset = load_dataset(QUALITY)
    questions = dataset.questions[:3]
    partial = tmp_path / "demos.jsonl.partial.jsonl"
    healthy = refining_fake()

    def fails_on_the_third(request: CompletionRequest) -> str | ServerError:
        if "Each of the following happened" in request.messages[-1].content:
            return ServerError("server error 500 (gave up after 5 attempts)")
        return str(healthy.default(request))  # type: ignore[misc,operator]

    pearl = Pearl(llm=FakeLLM(default=fails_on_the_third), settings=load_settings(cache=False))
    first = asyncio.run(refine_demos(pearl, dataset, questions, rounds=1, concurrency=1, progress_file=partial))
    assert [bool(r.error) for r in first.records] == [False, False, True] and first.kept == 2
    assert len(partial.read_text().splitlines()) == 3, "the header and the two questions that ran, kept for the next"

    again = refining_fake()
    second = asyncio.run(
        refine_demos(
            Pearl(llm=again, settings=load_settings(cache=False)),
            dataset,
            questions,
            rounds=1,
            concurrency=1,
            progress_file=partial,
        )
    )
    assert second.resumed == 2 and second.kept == 3 and not any(r.error for r in second.records)
    asked = " ".join(m.content for r in again.history for m in r.messages)
    assert "Each of the following" in asked and "Why did Dorota put water" not in asked  # only the failed one ran
    assert not partial.exists()


def test_a_question_that_fails_for_a_reason_of_its_own_is_not_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the model's failures pass: an error the question itself causes would recur at every run,
    # and the progress file was kept for it forever, the CLI saying "run the same command again".
    dataset = load_dataset(QUALITY)
    questions = dataset.questions[:2]
    partial = tmp_path / "demos.jsonl.partial.jsonl"
    pearl = Pearl(llm=refining_fake(), settings=load_settings(cache=False))
    asked = pearl.aask

    async def refuses_the_second(document: Any, question: Any, *args: Any, **kwargs: Any) -> Any:
        if question.text == questions[1].question:
            raise DocumentError("the document cannot be read")
        return await asked(document, question, *args, **kwargs)

    monkeypatch.setattr(pearl, "aask", refuses_the_second)
    result = asyncio.run(refine_demos(pearl, dataset, questions, rounds=1, concurrency=1, progress_file=partial))
    assert [r.error is not None for r in result.records] == [False, True]
    assert not any(r.model_failed for r in result.records) and not partial.exists()


def test_a_refinement_resumed_with_fewer_questions_keeps_the_rest_of_its_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Resumed with --limit 4 after --limit 6 stopped, the run deleted the file and question 5's paid-for result.
    from pearl.training._progress import ProgressFile

    dataset = load_dataset(QUALITY)
    partial = tmp_path / "p.jsonl"

    def refine(llm: FakeLLM, count: int) -> Any:
        pearl = Pearl(llm=llm, settings=load_settings(cache=False))
        return asyncio.run(refine_demos(pearl, dataset, dataset.questions[:count], rounds=1, progress_file=partial))

    with monkeypatch.context() as patch:  # a run of two questions that stopped before deleting its file
        patch.setattr(ProgressFile, "remove", lambda self: None)
        refine(refining_fake(), 2)
    held = partial.read_text(encoding="utf-8")
    llm = refining_fake()
    fewer = refine(llm, 1)
    assert fewer.resumed == 1 and fewer.store.demos and not llm.history
    assert partial.read_text(encoding="utf-8") == held  # the second question's row is still there
    both = refine(llm, 2)
    assert both.resumed == 2 and not llm.history and not partial.exists()  # all of it used: done with


def test_refine_progress_of_another_run_is_not_reused(tmp_path: Path) -> None:
    dataset = load_dataset(QUALITY)
    partial = tmp_path / "p.jsonl"
    pearl = Pearl(llm=refining_fake(), settings=load_settings(cache=False))
    asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], rounds=1, progress_file=partial))
    assert not partial.exists()
    partial.write_text('{"pearl_refine": 1, "key": "other"}\n')  # a header alone: nothing to lose
    llm = refining_fake()
    result = asyncio.run(
        refine_demos(
            Pearl(llm=llm, settings=load_settings(cache=False)), dataset, dataset.questions[:1], progress_file=partial
        )
    )
    assert result.resumed == 0 and llm.history


def test_refine_progress_of_a_run_with_other_options_is_refused_naming_what_differs(tmp_path: Path) -> None:
    # Started over with a warning that blamed the library, prompt or model: the rows paid for were dropped.
    dataset = load_dataset(QUALITY)
    partial = tmp_path / "p.jsonl"
    pearl = Pearl(llm=refining_fake(), settings=load_settings(cache=False))
    asyncio.run(refine_demos(pearl, dataset, dataset.questions[:2], rounds=2, progress_file=partial))
    header = {"pearl_refine": 1, "key": "k", "about": _run_about(pearl, 2)}  # as a run with --rounds 2 wrote it
    partial.write_text(json.dumps(header) + '\n{"q": "x"}\n')
    before = partial.read_text()
    llm = refining_fake()
    with pytest.raises(
        ConfigError, match=r"another refine run \(--rounds: 2 there, 1 now\): .*start over with --fresh"
    ):
        asyncio.run(
            refine_demos(
                Pearl(llm=llm, settings=load_settings(cache=False)),
                dataset,
                dataset.questions[:1],
                rounds=1,
                progress_file=partial,
            )
        )
    assert partial.read_text() == before and not llm.history
    # Another method is named as such, not by the ids of the prompts it sends.
    with pytest.raises(
        ConfigError, match=r"another refine run \(--method: pearl there, pearl-fulldoc now\): "
    ) as caught:
        asyncio.run(
            refine_demos(
                Pearl(llm=llm, settings=load_settings(cache=False)),
                dataset,
                dataset.questions[:1],
                rounds=2,
                progress_file=partial,
                method="pearl-fulldoc",
            )
        )
    assert "prompts" not in str(caught.value)


def test_compare_planning_with_and_without_a_store() -> None:
    dataset = load_dataset(QUALITY)
    llm = refining_fake()
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    kept = DemoStore(
        name="kept", version="1", demos=[Demo(question="How is Agnete Varga related to Dorota?", plan=REVISED)]
    )
    stats = asyncio.run(
        compare_planning(pearl, dataset, dataset.questions[4:6], {"without": pearl.demos, "with": kept})
    )
    assert [s.label for s in stats] == ["without", "with"]
    assert all(s.questions == 2 and s.valid == 2 and s.mean_steps == 2.0 for s in stats)
    plan_prompts = [r.messages[-1].content for r in llm.history if (r.prompt or "").startswith("plan.")]
    assert "How is Agnete Varga related to Dorota?" in plan_prompts[2] and "valid=2/2" in stats[1].line()


def test_run_plan_executes_a_given_plan() -> None:
    llm = refining_fake()
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    document = Document.from_text((SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(), name="keeper")
    question = Question(text="Why did Dorota put water in the lamp oil?", options=["a", "b", "c", "d"])
    answer = pearl.run_plan(document, question, parse_plan(REVISED, pearl.library))
    assert answer.letter == "B" and answer.plan is not None and "REVISED clue" in answer.plan
    assert [e.stage for e in answer.trace.events if e.prompt][-1] == "answer"
    assert not any((r.prompt or "").startswith("plan.") for r in llm.history)


# ---------------------------------------------------------------------------------------------- CLI end to end


def server_reply(body: dict[str, Any]) -> str:
    content = str(body["messages"][-1]["content"])
    if "This plan did not lead to the right answer:" in content:
        return REVISED
    if content.rstrip().endswith("Plan:"):
        return FIRST
    if "The library has" in content:
        return "NONE"
    if content.rstrip().endswith("Reply:"):
        return "USE: FIND_X\nNEW: FIND_CLUE(CTX, X) : The clues the document gives about X."
    if "Reply with the letter" in content or "Reply with one letter" in content:
        return "B" if "REVISED" in content else "A"
    return (
        f"REVISED evidence {shown_label(content)}."
        if "REVISED" in content
        else f"Some evidence {shown_label(content)}."
    )


def test_cli_mine_refine_then_ask_uses_both(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(server_reply)
    server = ["--base-url", fake_server.base_url, "--model", "fake-model"]
    base = save_library(default_library(), tmp_path / "default.json")
    mined = tmp_path / "mined.json"
    result = runner.invoke(
        app, ["mine", "--questions", str(QUALITY), "--actions", str(base), "-o", str(mined), "--limit", "2", *server]
    )
    assert result.exit_code == 0, result.output
    assert load_library(mined).get("FIND_CLUE") is not None

    demos = tmp_path / "demos.jsonl"
    args = ["refine", "--train", str(QUALITY), "--limit", "2", "--holdout", "1", "--rounds", "1"]
    result = runner.invoke(app, [*args, "-o", str(demos), "--actions", str(mined), *server])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # The first question (gold B) is right after one revision; the second (gold D) never.
    assert lines[0].startswith("refined 2 questions") and "1 more right after revision; kept 1 demo" in lines[0]
    assert lines[2].startswith("  without the store: questions=1 valid=1/1")
    assert lines[3].startswith("  with the store: questions=1 valid=1/1")
    # What it cost, as mine says it (helper-214: a refinement said nothing of its calls).
    cost = re.fullmatch(
        r"  (\d+) model calls \(0 cached\), ([\d,]+) prompt \([\d,]+ uncached\) \+ [\d,]+ completion tokens", lines[1]
    )
    assert cost is not None and int(cost[1]) > 2 and int(cost[2].replace(",", "")) > 0, lines[1]
    assert f"pearl ask --demos {demos} --actions {mined}" in result.stdout
    assert f"progress in {demos}.partial.jsonl" in result.stderr and not Path(f"{demos}.partial.jsonl").exists()
    store_ = load_demos(demos, load_library(mined))
    assert len(store_.demos) == 1 and store_.library == load_library(mined).fingerprint
    # A store already there is replaced with --force alone.
    demos.write_text("an earlier store", encoding="utf-8")
    result = runner.invoke(app, [*args, "-o", str(demos), "--actions", str(mined), *server])
    assert result.exit_code == 2 and f"--out {demos} exists: add --force" in result.stderr
    assert demos.read_text(encoding="utf-8") == "an earlier store"
    result = runner.invoke(app, [*args, "-o", str(demos), "--actions", str(mined), "--force", *server])
    assert result.exit_code == 0, result.output
    assert load_demos(demos, load_library(mined)).demos == store_.demos

    keeper = str(SAMPLE_DIR / "the_keeper_of_tren_light.txt")
    # Asked again, the question refined on is not shown its own demonstration; another question is.
    for question, shown in (("Why did Dorota put water in the lamp oil?", False), ("Why did Teodor sit up?", True)):
        fake_server.reset()
        fake_server.set_default(server_reply)
        ask = ["ask", keeper, question, "--actions", str(mined), "--demos", str(demos), "--no-cache"]
        result = runner.invoke(app, [*ask, *server])
        assert result.exit_code == 0, result.output
        plan_prompt = next(r for r in fake_server.chat_requests if r.prompt.rstrip().endswith("Plan:"))
        assert ("REVISED clue" in plan_prompt.prompt) is shown  # the demo from the refined store


def test_cli_refine_with_questions_the_model_failed_on_writes_the_store_and_exits_1(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    # It exited 0 with a note: a script or CI job took a store short of a question for a finished one.
    failing = load_dataset(QUALITY).questions[1].question

    def reply(body: dict[str, Any]) -> str | Reply:
        if failing in str(body["messages"]):
            return Reply.error(503, "unavailable")
        return server_reply(body)

    fake_server.set_default(reply)
    demos = tmp_path / "demos.jsonl"
    args = ["refine", "--train", str(QUALITY), "--limit", "2", "--rounds", "1", "-o", str(demos), "--no-cache"]
    server = ["--base-url", fake_server.base_url, "--model", "m"]
    result = runner.invoke(app, [*args, *server], env={"PEARL_MAX_RETRIES": "0"})
    assert result.exit_code == 1, result.output
    partial = Path(f"{demos}.partial.jsonl")
    assert len(load_demos(demos, default_library()).demos) == 1 and partial.is_file()
    assert (
        f"error: the store written to {demos} is incomplete: 1 question the model failed on was not refined; run the "
        f"same command again to try it again (the others resume from {partial})" in result.stderr
    )
    fake_server.set_default(server_reply)
    result = runner.invoke(app, [*args, "--force", *server])
    assert result.exit_code == 0 and "1 resumed from" in result.stdout, result.output
    assert not partial.exists()


@pytest.mark.parametrize("command", ["mine", "refine"])
def test_cli_training_stops_on_a_refused_key_with_one_line(
    command: str, tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    fake_server.set_default(Reply.error(401, "bad key"))
    data = "--questions" if command == "mine" else "--train"
    args = [command, data, str(QUALITY), "-o", str(tmp_path / "out"), "--limit", "1", "--no-cache"]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 2, result.output
    assert "PEARL_API_KEY" in result.stderr and "Traceback" not in result.stderr


def test_a_key_refused_while_running_a_revised_plan_stops_refinement() -> None:
    first = 's1 = FIND_X(CTX, "first look")\ns2 = ANSWER(CTX, "the question")'
    revised = 's1 = FIND_EVENT(CTX, "REVISED clue")\ns2 = ANSWER_FROM(s1, "the question")'

    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        if kind in ("plan", "plan_fix"):
            return first
        if kind == "refine":
            return revised
        if "REVISED" in request.messages[-1].content:
            raise LLMRequestError("the key was revoked (401)", status_code=401)
        return "Some evidence [S2]." if kind.startswith("step") else "A"

    dataset = load_dataset(QUALITY)
    pearl = Pearl(llm=FakeLLM(default=reply), settings=load_settings(cache=False))
    with pytest.raises(LLMRequestError, match="revoked"):
        asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], rounds=1))


def test_a_refinement_runs_key_holds_the_step_share_only_where_it_sizes_the_steps_and_is_not_the_default() -> None:
    from pearl.training._refine import _run_key, _run_parts

    def pearl(**settings: object) -> Pearl:
        return Pearl(llm=FakeLLM(), settings=load_settings(cache=False, **settings))

    # The budget's part is what it was before the share could be set ("auto", "600"), so earlier runs keep their key.
    def budget(pearl: Pearl) -> str:
        return _limits(pearl, 1, "pearl")["step_budget"]

    assert budget(pearl()) == budget(pearl(step_share=0.2)) == "auto" in _run_parts(pearl(), 1)
    assert budget(pearl(step_share=0.3)) == "auto@0.3"
    assert budget(pearl(step_budget=600, step_share=0.3)) == "600"  # a number of tokens: no share
    assert _run_key(pearl(), 1) != _run_key(pearl(step_share=0.3), 1) == _run_key(pearl(step_share=0.3), 1)


def test_a_refinement_resumed_at_another_window_budget_or_ranking_is_refused_naming_it(tmp_path: Path) -> None:
    # Resumed with --context-window 3000, a run took 11 rows made at 8,192 into the store beside 29 made at 3,000,
    # without a word; eval refuses the same (helper-214). The defaults stay out of the key: runs begun before keep it.
    dataset = load_dataset(QUALITY)
    partial = tmp_path / "p.jsonl"

    def run(llm: FakeLLM, **settings: object) -> None:
        pearl = Pearl(llm=llm, settings=load_settings(cache=False, dense=False, **settings))
        asyncio.run(refine_demos(pearl, dataset, dataset.questions[:1], rounds=1, progress_file=partial))

    begun = Pearl(llm=FakeLLM(), settings=load_settings(cache=False, dense=False))
    header = {"pearl_refine": 1, "key": "k", "about": _run_about(begun, 1)}  # as a run with the defaults wrote it
    partial.write_text(json.dumps(header) + '\n{"q": "x"}\n')
    for settings, said in (
        ({"context_window": 3000}, "another refine run (context_window: the default there, 3000 now)"),
        ({"context_budget": 900}, "another refine run (context_budget: the default there, 900 now)"),
    ):
        before = partial.read_text()
        llm = refining_fake()
        with pytest.raises(ConfigError, match=re.escape(said)):
            run(llm, **settings)
        assert partial.read_text() == before and not llm.history
    assert "context_window" not in _limits(Pearl(llm=FakeLLM(), settings=load_settings(cache=False)), 1, "pearl")
    # A model's own window, unset (the embedded model's is never 8,192), is no setting: the keys of its runs stay.
    own = Pearl(llm=FakeLLM(context_window=2048), settings=load_settings(cache=False))
    assert "context_window" not in _limits(own, 1, "pearl")
    dense = _limits(Pearl(llm=FakeLLM(), settings=load_settings(cache=False, dense=True)), 1, "pearl")
    assert dense["dense"] == "True"


def test_cli_refine_that_keeps_nothing_writes_nothing_and_says_why(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    """A store of no demonstration is refused when read: refine does not write one, nor advise using it."""
    fake_server.set_default("I would rather not plan.")
    demos = tmp_path / "demos.jsonl"
    args = ["refine", "--train", str(QUALITY), "--limit", "1", "--rounds", "0", "-o", str(demos), "--no-cache"]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 1, result.output
    assert not demos.exists() and "pearl ask --demos" not in result.output
    assert "kept no demonstration (1 question got no valid plan)" in result.stderr
    assert f"{demos} was not written" in result.stderr
    # Kept, and said: it was deleted, so a run with more questions paid for these again.
    partial = Path(f"{demos}.partial.jsonl")
    error = next(line for line in result.stderr.splitlines() if line.startswith("error: kept no demonstration"))
    assert partial.exists() and f"their results are kept in {partial}, which a run with a larger --limit" in error
    # The same command again reads the same plans back, no call made: it says what to add to ask afresh.
    asked = len(fake_server.requests)
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 1 and len(fake_server.requests) == asked, result.output
    assert f"replies were read back, 1 from {partial} (--fresh): add those to ask the model afresh" in result.stderr


@pytest.mark.parametrize("limit", [None, 3])
def test_a_refinement_that_kept_nothing_advises_only_what_the_next_run_takes(tmp_path: Path, limit: int | None) -> None:
    # It advised "more --rounds", which the next run refuses (its progress was made with --rounds 3), and "a run with
    # more questions (--limit)" when no --limit was given (helper-169).
    from pearl.cli._training import _nothing_kept
    from pearl.training import RefineRecord, RefineResult

    partial = tmp_path / "d.jsonl.partial.jsonl"
    partial.write_text("{}\n")
    wrong = RefineRecord(id="q1", question="Who?", first_plan='s1 = FIND_X(CTX, "who")', first_steps=1)
    said = _nothing_kept(RefineResult(store=store(), records=[wrong]), tmp_path / "d.jsonl", partial, limit, 3)
    assert "1 plan ran but did not reach the gold answer" in said
    assert (
        "or more --rounds (a run of its own: with --fresh, or another --out; these results were reached with " in said
    )
    more = "a larger --limit" if limit else "more questions"
    assert said.endswith(f"which a run with {more} and the same --rounds reads back")


def test_refinement_stops_once_question_after_question_gets_no_answer(tmp_path: Path) -> None:
    # With the server down, 20 questions took 42 s of retries, and the paper's 733 would take 25 minutes.
    dataset = load_dataset(QUALITY)
    llm = FakeLLM(default=lambda request: ServerError("503: unavailable"), delay=0.01)
    partial = tmp_path / "p.jsonl"
    with pytest.raises(UnansweredError, match="stopped: 4 questions in a row got no answer .*503: unavailable"):
        asyncio.run(
            refine_demos(
                Pearl(llm=llm, settings=load_settings(cache=False)),
                dataset,
                dataset.questions,
                concurrency=1,
                progress_file=partial,
            )
        )
    assert len(dataset.questions) > 4 and len({r.messages[-1].content for r in llm.history}) <= 4


def test_refine_refuses_a_method_that_plans_nothing_before_any_call(tmp_path: Path) -> None:
    demos = tmp_path / "demos.jsonl"
    args = ["refine", "--train", str(QUALITY), "--limit", "1", "-m", "direct", "-o", str(demos), "--no-cache"]
    result = runner.invoke(app, [*args, "--base-url", "http://127.0.0.1:9/v1", "--model", "m"])
    assert result.exit_code != 0 and "method 'direct' plans none; choose pearl, pearl-fulldoc" in result.stderr
    assert "Traceback" not in result.output and not demos.exists()


@pytest.mark.parametrize(
    ("reply", "right"),
    [
        ("The Gull's Tithe [S3].", True),
        ("It is certainly not the Gull's Tithe.", False),  # half its words are the gold's: F1 0.5, and kept
        ("It wasn't the Gull’s Tithe.", False),
        ("Not the Gull's Tithe but the Heron.", False),
    ],
)
def test_a_free_text_answer_that_denies_the_gold_is_not_right(reply: str, right: bool) -> None:
    from pearl.eval import EvalQuestion
    from pearl.models import Answer
    from pearl.training._refine import _is_right

    question = EvalQuestion(id="q", document_id="d", question="Which boat?", gold="the Gull's Tithe", kind="free")
    assert _is_right(question, Answer(question="Which boat?", answer=reply, method="pearl")) is right
    # A gold that denies too, in its own words: "didn't" read as "didnt" on one side failed an exact answer.
    for gold, reply in (
        ("not the keeper", "Not the keeper."),
        ("He didn't go to the lighthouse", "He didn't go to the lighthouse."),
        ("It can not be opened", "It cannot be opened."),
        ("never the keeper", "Not the keeper."),
    ):
        denied = EvalQuestion(id="q", document_id="d", question="Who?", gold=gold, kind="free")
        assert _is_right(denied, Answer(question="Who?", answer=reply, method="pearl")), gold


# ---------------------------------------------------------------------------------------------- helper-197


def test_a_revised_plan_the_server_failed_to_run_is_the_models_failure_not_a_wrong_plan(tmp_path: Path) -> None:
    # Its steps got a 503 after their retries, the revision call got through: the question was kept in the progress
    # file as "ran but did not reach the gold answer", never tried again, and the model was told the server's error
    # as feedback on its plan.
    dataset = load_dataset(QUALITY)
    partial = tmp_path / "demos.jsonl.partial.jsonl"

    def reply(request: CompletionRequest) -> str | ServerError:
        if "REVISED" in request.messages[-1].content and not (request.prompt or "").startswith("refine."):
            return ServerError("server error 503: unavailable (gave up after 5 attempts)")
        return str(refining_fake().default(request))  # type: ignore[misc,operator]

    llm = FakeLLM(default=reply)
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))
    result = asyncio.run(refine_demos(pearl, dataset, dataset.questions[:2], rounds=2, progress_file=partial))
    record = result.records[0]
    assert record.model_failed and record.error is not None and "503" in record.error and record.kept is None
    revisions = [r.messages[-1].content for r in llm.history if (r.prompt or "").startswith("refine.")]
    assert len(revisions) == 1 and "503" not in revisions[0]  # no second round told of the server's error
    held = partial.read_text(encoding="utf-8")
    assert dataset.questions[0].id not in held and dataset.questions[1].id in held  # asked again by the next run
    again = asyncio.run(
        refine_demos(
            Pearl(llm=refining_fake(), settings=load_settings(cache=False)),
            dataset,
            dataset.questions[:2],
            rounds=2,
            progress_file=partial,
        )
    )
    assert again.resumed == 1 and again.records[0].kept == "correct after 1 revision" and not partial.exists()


def test_a_revised_plan_that_fails_for_its_own_reasons_is_still_fed_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from pearl.errors import ExecutionError
    from pearl.training._refine import _Refiner

    dataset = load_dataset(QUALITY)
    run = _Refiner._run
    calls: list[int] = []

    async def fails_once(self: _Refiner, *args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ExecutionError("step s1: the plan's steps depend on each other in a cycle")
        return await run(self, *args)

    monkeypatch.setattr(_Refiner, "_run", fails_once)
    llm = refining_fake()
    result = asyncio.run(
        refine_demos(Pearl(llm=llm, settings=load_settings(cache=False)), dataset, dataset.questions[:1], rounds=2)
    )
    assert not result.records[0].model_failed and result.records[0].kept == "correct after 2 revisions"
    second = [r.messages[-1].content for r in llm.history if (r.prompt or "").startswith("refine.")][1]
    assert "revision 1 failed to run: step s1: the plan's steps depend on each other in a cycle" in second


def test_a_refinement_whose_store_cannot_be_written_keeps_its_progress(tmp_path: Path) -> None:
    # The progress file was deleted before the store was written: a folder in its place lost the whole run.
    dataset = load_dataset(QUALITY)
    partial = tmp_path / "demos.jsonl.partial.jsonl"

    def refused(result: Any) -> None:
        raise ConfigError("cannot write demonstrations to demos.jsonl: Is a directory")

    pearl = Pearl(llm=refining_fake(), settings=load_settings(cache=False))
    with pytest.raises(ConfigError, match="Is a directory"):
        asyncio.run(refine_demos(pearl, dataset, dataset.questions[:2], rounds=1, progress_file=partial, save=refused))
    assert len(partial.read_text(encoding="utf-8").splitlines()) == 3  # the header and both questions
    saved: list[int] = []
    llm = refining_fake()
    result = asyncio.run(
        refine_demos(
            Pearl(llm=llm, settings=load_settings(cache=False)),
            dataset,
            dataset.questions[:2],
            rounds=1,
            progress_file=partial,
            save=lambda result: saved.append(result.kept),
        )
    )
    assert result.resumed == 2 and saved == [2] and not llm.history and not partial.exists()


def test_compare_planning_reports_each_plan() -> None:
    dataset = load_dataset(QUALITY)
    pearl = Pearl(llm=refining_fake(), settings=load_settings(cache=False))
    seen: list[tuple[int, int, str]] = []
    asyncio.run(
        compare_planning(
            pearl,
            dataset,
            dataset.questions[4:6],
            {"without": pearl.demos, "with": pearl.demos},
            on_progress=lambda *a: seen.append(a),
        )
    )
    assert seen == [(0, 4, "without"), (1, 4, "without"), (2, 4, "without"), (3, 4, "with"), (4, 4, "with")]


def test_cli_refine_shows_the_holdout_comparisons_progress(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    # --holdout N planned 2 x N questions after the bar had reached its end, with nothing shown.
    fake_server.set_default(server_reply)
    demos = tmp_path / "demos.jsonl"
    args = ["refine", "--train", str(QUALITY), "--limit", "1", "--holdout", "2", "--rounds", "1", "-o", str(demos)]
    result = runner.invoke(app, [*args, "--no-cache", "--base-url", fake_server.base_url, "--model", "fake-model"])
    assert result.exit_code == 0, result.output
    assert "comparing [####################] 4/4 100%  with the store" in result.stderr
