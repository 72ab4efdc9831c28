"""Which demonstrations the planner is shown: the bundled ones cover stories, legal texts, papers and manuals, and a
question about a contract or a paper is shown those of its document's kind even when it shares no word with them."""

from __future__ import annotations

import re

import pytest
from conftest import SAMPLE_DIR
from pydantic import ValidationError

from pearl import Pearl, load_settings
from pearl._text import word_stems
from pearl.actions import default_library, seed_library
from pearl.llm import FakeLLM
from pearl.models import Document
from pearl.planning import (
    Demo,
    DemoStore,
    builtin_demos,
    check_demos,
    document_kind,
    parse_plan,
    seed_demos,
    select_demos,
)
from pearl.planning._kinds import KINDS

CONTRACT = (
    'THIS SUPPLY AGREEMENT is made between Northwind Foods Ltd (the "Supplier") and Harbor Markets Inc (the "Buyer"), '
    "each a party and together the parties. 1. Term. This Agreement shall commence on the Effective Date and shall "
    "continue for three years unless terminated under Section 6. 2. Minimum Purchase. The Buyer shall order no fewer "
    "than 10,000 units in each calendar quarter. 3. Warranties. The Supplier warrants that the goods conform to the "
    "specifications; this warranty is the Buyer's sole remedy. 4. Liability. Neither party shall be liable for "
    "indirect damages arising hereunder. 5. Confidentiality. Each party shall keep confidential the terms hereof. "
    "6. Termination. Either party may terminate this Agreement on thirty days' notice if the other party commits a "
    "material breach of any provision hereof. 7. Governing Law. This Agreement is governed by the law of Delaware."
)
PAPER = (
    "Abstract. We propose a joint model for named entity recognition and relation extraction. Experiments on two "
    "benchmark datasets show that the proposed approach outperforms strong baselines in precision, recall and F1. "
    "1. Introduction. Earlier work treats the two tasks as a pipeline (Lee et al., 2019), so errors of the first "
    "task reach the second. Our approach shares one encoder between both tasks. 4. Experiments. Table 2 reports "
    "the results on each dataset; the annotated corpus has 12,000 sentences, and training takes two hours. "
    "Figure 3 shows the accuracy of each baseline as the training data grows."
)
MANUAL = (
    "Installation. Install the package with pip, then run the command `tool init` in the project directory. "
    "Configuration. Every option can be set in the configuration file or given as a flag on the command line; "
    "the default value of each setting is shown by `tool config --help`. Usage example: `tool run --port 8080`. "
    "Errors. If the server does not start, the error message names the file and the option to check. The API "
    "function load(path) returns the parsed settings and raises an error when the file is missing."
)
STORY = (SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(encoding="utf-8")
PLAN = 's1 = FIND_X(CTX, "what the question asks")\ns2 = ANSWER_FROM(s1, "the question")'


def bundled(kind: str) -> list[Demo]:
    return [d for d in builtin_demos().demos if d.kind == kind]


def shown_in_plan_prompt(question: str, document: Document | None, demos: DemoStore | None = None) -> list[Demo]:
    """The demonstrations `Pearl.plan` shows the planner for `question` about `document`, in order."""
    fake = FakeLLM(default=PLAN)
    Pearl(llm=fake, demos=demos, settings=load_settings(cache=False)).plan(question, document)
    (request,) = [r for r in fake.history if (r.prompt or "").startswith("plan")]
    prompt = request.messages[-1].content
    shown = re.findall(r"^Question: (.*)\nPlan:$", prompt, flags=re.MULTILINE)
    known = {d.question: d for d in [*builtin_demos().demos, *(demos.demos if demos else [])]}
    return [known[q] for q in shown]


def shares_no_word(question: str, demos: list[Demo]) -> bool:
    """Whether `question` shares no word (as similarity counts them) with the demos' questions and plans."""
    theirs = {w for d in demos for w in word_stems(f"{d.question} {d.plan}")}
    return not set(word_stems(question)) & theirs


def test_the_bundled_demonstrations_run_on_the_default_library_and_cover_every_kind() -> None:
    store = builtin_demos()
    kept, warnings = check_demos(store, default_library())
    assert warnings == [] and kept.demos == store.demos
    assert 16 <= len(store.demos) <= 20
    for demo in store.demos:
        assert 1 <= len(parse_plan(demo.plan, default_library()).steps) <= 4, demo.question
    assert {kind: len(bundled(kind)) >= 3 for kind in KINDS} == dict.fromkeys(KINDS, True)
    assert len({d.question for d in store.demos}) == len(store.demos)
    with pytest.raises(ValidationError):
        Demo(question="Why?", plan='a = FIND_X(CTX, "x")', kind="poem")  # type: ignore[arg-type]  # a typo is refused


def test_the_kind_of_a_document_is_told_from_its_words() -> None:
    assert [document_kind(text) for text in (CONTRACT, PAPER, MANUAL, STORY)] == ["legal", "paper", "manual", "story"]
    assert document_kind("") is None
    assert document_kind("The bridge opened in May and carries four lanes over the river.") is None
    assert document_kind("Which clause of the contract covers late payment?") == "legal"  # a question's own words


def test_a_contract_question_worded_unlike_the_contract_demonstrations_is_shown_them() -> None:
    question = "How many units are to be ordered per quarter at the least?"
    legal = bundled("legal")
    assert shares_no_word(question, legal)  # similarity alone cannot find them
    shown = shown_in_plan_prompt(question, Document.from_text(CONTRACT))
    assert len(shown) == 4 and all(d.kind == "legal" for d in shown[: len(legal)])


def test_a_paper_question_is_shown_the_paper_demonstrations() -> None:
    question = "Which two subtasks are handled at once?"
    paper = bundled("paper")
    assert shares_no_word(question, paper)
    shown = shown_in_plan_prompt(question, Document.from_text(PAPER))
    assert [d.kind for d in shown[: len(paper)]] == ["paper"] * len(paper)
    picked = select_demos(builtin_demos(), question, kind=document_kind(MANUAL))
    assert [d.kind for d in picked[:3]] == ["manual"] * 3  # the same question about a manual: the manual's


def test_a_story_question_is_still_shown_story_demonstrations() -> None:
    # Its "conditions" and "agree" are the termination demonstration's words: by similarity alone that one came first.
    question = "On what conditions does Dorota agree to keep the light?"
    assert select_demos(builtin_demos(), question)[0].kind == "legal"
    assert [d.kind for d in shown_in_plan_prompt(question, Document.from_text(STORY))] == ["story"] * 4


def test_a_refined_store_is_still_preferred_whatever_the_document() -> None:
    # A refined store's demonstrations have no kind; they come before any bundled one, which fill the rest.
    refined = [
        Demo(question=f"Why did crew member {n} leave the ship?", plan=f's1 = FIND_REASON(CTX, "{n}")') for n in "ABCD"
    ]
    one = DemoStore(name="refined", version="1", demos=refined[:1])
    shown = shown_in_plan_prompt(
        "How many units are to be ordered per quarter at the least?", Document.from_text(CONTRACT), one
    )
    assert shown[0] == refined[0] and [d.kind for d in shown[1:]] == ["legal"] * 3
    four = DemoStore(name="refined", version="1", demos=refined)
    shown = shown_in_plan_prompt(
        "How many units are to be ordered per quarter at the least?", Document.from_text(CONTRACT), four
    )
    assert shown == refined


def test_a_demonstrations_plan_arguments_count_towards_its_similarity() -> None:
    # Its question says "she" and "go"; its plan's arguments say what it asks in the words a user may use.
    other = Demo(question="Who came to visit in winter?", plan='s1 = FIND_X(CTX, "the winter visitors")')
    worded = Demo(question="Why did she go?", plan='s1 = FIND_REASON(CTX, "the keeper leaves the lighthouse")')
    store = DemoStore(name="own", version="1", demos=[other, worded])
    assert select_demos(store, "Why did the keeper leave the lighthouse?", k=1, fallback=None) == [worded]


def test_a_demonstration_refined_on_several_documents_fills_one_slot() -> None:
    # A contract question asked of three documents was refined into three copies of one demonstration, and filled
    # three of the four slots (helper-181).
    plan = 's1 = FIND_CLAUSE(CTX, "the expiration date")\ns2 = ANSWER(s1, "When does the agreement expire?")'
    copies = [Demo(question="When does the agreement expire?", plan=plan, kind="legal") for _ in range(3)]
    others = [
        Demo(question="What is the renewal term?", plan='s1 = FIND_CLAUSE(CTX, "the renewal term")', kind="legal"),
        Demo(question="Who may terminate?", plan='s1 = FIND_CLAUSE(CTX, "termination rights")', kind="legal"),
    ]
    store = DemoStore(name="refined", version="1", demos=[*copies, *others])
    chosen = select_demos(store, "When does the renewal term after expiry start?", 4, fallback=None, kind="legal")
    assert len(chosen) == 3 and chosen.count(copies[0]) == 1, chosen
    # A copy of another kind is another demonstration: the legal one is chosen for a legal question (helper-185).
    story, legal = copies[0].model_copy(update={"kind": "story"}), copies[0]
    both = DemoStore(name="refined", version="1", demos=[story, legal])
    assert select_demos(both, "When does the agreement expire?", 1, fallback=None, kind="legal") == [legal]


def test_a_library_of_the_seed_actions_plans_from_the_seed_demonstrations(caplog: pytest.LogCaptureFixture) -> None:
    # A library `pearl mine` grew from the seed actions runs none of the bundled demonstrations: it planned, and
    # `pearl refine` started, with "Example plans: (none)". The paper's refinement started from 4 seed examples.
    seeds = seed_demos()
    assert len(seeds.demos) == 4 and len({d.kind for d in seeds.demos}) > 1
    for demo in seeds.demos:  # each runs on the seed actions alone
        assert parse_plan(demo.plan, seed_library()).steps
    fake = FakeLLM(default=lambda request: 'x = FIND_X(CTX, "the crew") : who they are')
    with caplog.at_level("WARNING", logger="pearl"):
        pearl = Pearl(llm=fake, library=seed_library(), settings=load_settings(cache=False))
        pearl.plan("Why did the crew stay?")
    assert pearl.demos.demos == seeds.demos
    (prompt,) = [r for r in fake.history if (r.prompt or "").startswith("plan")]
    assert prompt.messages[-1].content.count("\nPlan:\n") == 4
    assert "the planner is shown the 4 seed demonstrations it runs instead" in caplog.text
    # As many as max_steps lets through are said (helper-201: "4" where none was shown).
    short = Pearl(llm=fake, library=seed_library(), settings=load_settings(cache=False, max_steps=2))
    assert short.demos.demos == [] and "plans are written with no example" in short._dropped[2]
    # The bundled library runs the bundled ones: the seed ones are not shown with them.
    shown = Pearl(llm=fake, settings=load_settings(cache=False)).demos.demos
    assert shown == builtin_demos().demos and not any(demo in shown for demo in seeds.demos)
