"""Action mining: proposal parsing (good, malformed, hostile), normalisation, merging, resume, the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DIR, SHARED_DATA, requires_shared_data
from fakeserver import FakeOpenAIServer
from typer.testing import CliRunner

from pearl.actions import Action, ActionLibrary, default_library, load_library, save_library, seed_library
from pearl.cli import app
from pearl.errors import (
    ConfigError,
    DatasetError,
    LLMError,
    LLMRequestError,
    MergeReplyError,
    ProposalError,
    RunBusyError,
    ServerError,
    UnansweredError,
)
from pearl.eval import read_questions
from pearl.llm import CompletionRequest, FakeLLM
from pearl.models import Document
from pearl.tokens import count_tokens
from pearl.training import (
    merge_gbnf,
    merge_json_schema,
    mine_actions,
    mine_document,
    mining_fake_llm,
    mining_fake_reply,
    normalize_name,
    parse_merge_reply,
    parse_proposal,
    parse_proposal_json,
    progress_path,
    proposal_gbnf,
    proposal_json_schema,
)
from pearl.training._merge import (
    MAX_GROUP,
    MergeGroup,
    MergeReport,
    Mined,
    _apply,
    _parse_any,
    merge_mined,
    normalize_proposed,
    parse_merge_json,
    similar_groups,
)
from pearl.training._mine import parse_imagined
from pearl.training._progress import ProgressFile
from pearl.training._proposals import ProposedAction

runner = CliRunner()
QUESTIONS = SAMPLE_DIR / "questions.jsonl"

# ---------------------------------------------------------------------------------------------- proposals


def test_parse_good_proposal() -> None:
    reply = (
        "USE: FIND_REASON, find_character\n"
        "NEW: FIND_BEHAVIOR_REASON(CTX, X, Y) : Explain why X behaves as Y.\n"
        "NEW: list_clues(ctx, X) : List the clues about X in order.\n"
    )
    proposal = parse_proposal(reply)
    assert proposal.use == ["FIND_REASON", "FIND_CHARACTER"]
    assert [a.name for a in proposal.new] == ["FIND_BEHAVIOR_REASON", "LIST_CLUES"]
    assert proposal.new[0].params == ["CTX", "X", "Y"] and proposal.new[1].params == ["CTX", "X"]
    assert proposal.new[0].definition == "Explain why X behaves as Y."
    assert parse_proposal(proposal.render()) == proposal
    # Names copied with their parameters, as the prompt lists the actions: the whole reply was refused.
    assert parse_proposal("USE: FIND_REASON(CTX, X), FIND_CHARACTER(CTX, X)\nNEW: NONE").use == [
        "FIND_REASON",
        "FIND_CHARACTER",
    ]


@pytest.mark.parametrize(
    "reply",
    [
        "USE: NONE\nNEW: NONE",
        "```\nUSE: NONE\nNEW: NONE\n```",
        "\n\n  USE: NONE  \n\n",
        "NEW: NONE",
    ],
)
def test_parse_empty_but_valid(reply: str) -> None:
    proposal = parse_proposal(reply)
    assert proposal.use == [] and proposal.new == []


@pytest.mark.parametrize(
    ("reply", "use", "new"),
    [
        ("Sure! Here are the actions you need:\nUSE: FIND_X", ["FIND_X"], []),
        ("use: FIND_X\nnew: none", ["FIND_X"], []),
        ("- USE: FIND_X\n- NEW: NONE.", ["FIND_X"], []),
        ("**USE:** FIND_REASON.\n**NEW:** FIND_Y(CTX, X) : find y", ["FIND_REASON"], ["FIND_Y"]),
        ("USE: FIND_REASON and FIND_CHARACTER", ["FIND_REASON", "FIND_CHARACTER"], []),
        ("USE: NONE\nNEW:\n1. FIND_Y(CTX, X) : find y\n2. FIND_Z(CTX) : find z", [], ["FIND_Y", "FIND_Z"]),
        ("USE: FIND_X\nNEW: FIND_Y(CTX) : find y\n\nThese cover the question.", ["FIND_X"], ["FIND_Y"]),
        ("USE: NONE\nNEW:\n- FIND_Y(CTX, X) : find y\nThat is all.", [], ["FIND_Y"]),
        ("USE: I would use FIND_REASON and FIND_CHARACTER.", ["FIND_REASON", "FIND_CHARACTER"], []),  # helper-185
        ("USE: FIND_X\nNEW: NONE\nNew actions are not needed: use these to answer.", ["FIND_X"], []),
    ],
)
def test_parse_reads_replies_as_chat_models_write_them(reply: str, use: list[str], new: list[str]) -> None:
    # A preamble, bold, bullets, "Use:", "NONE." or "and" between names made the whole reply malformed, and the
    # question's proposals were lost (helper-181).
    proposal = parse_proposal(reply)
    assert proposal.use == use and [action.name for action in proposal.new] == new


def test_a_fenced_json_proposal_is_read_as_json() -> None:
    from pearl.training._mine import _parse

    reply = '```json\n{"use": ["FIND_X"], "new": []}\n```'
    assert _parse(reply).use == ["FIND_X"]


@pytest.mark.parametrize(
    ("reply", "where"),
    [
        ("", "no USE or NEW line"),
        ("USE: FIND_X\nUSE: FIND_REASON", "second USE"),
        ("USE: FIND_X\nI think this one also helps:\nNEW: FIND_Y(CTX) : find y", "line 2"),  # prose between items
        ("Sure, here it is.", "line 1: expected a 'USE"),
        # Near the format is no prose to pass over; a bare NEW: lists something (helper-185).
        ("USE: FIND_X\nNEW FIND_Y(CTX, X): find y", "line 2: expected a 'USE"),
        ("NEW FIND_Y(CTX, X): find y\nUSE: FIND_X", "line 1: expected a 'USE"),
        ("USE: NONE\nNEW:", "NEW: lists no action under it"),
        ("USE:", "USE names no action"),
        ("NEW: FIND_X", "expected 'NEW: NAME(CTX, X)"),
        ("NEW: FIND_Y(CTX, X)", "expected 'NEW: NAME(CTX, X)"),
        ("NEW: FIND_Y(CTX, X) : ", "definition is missing"),
        ("NEW: FIND_Y(CTX, X, X) : find y", "distinct"),
        ("NEW: FIND_Y(CTX, A, B, C, D) : find y", "at most 4"),
        ("NEW: FIND_Y() : find y", "at least one parameter"),
        ("NEW: NONE\nNEW: FIND_Y(CTX) : find y", "NONE"),
        ("NEW: FIND_Y(CTX) : find y\nNEW: NONE", "NONE"),
        ("NEW: 9LIVES(CTX) : count lives", "not a valid action name"),
        # Names a plan reads as something else: an action CTX, a mined ANSWER taken as the closing step.
        ("NEW: CTX(X) : the document", "CTX names the document in a plan, not an action"),
        ("NEW: answer(CTX, X) : answers", "ANSWER is the step that closes a plan"),
        ("NEW: FIND_Y(CTX) : " + "word " * 60, "longer than"),
        ("\n".join(f"NEW: ACT_{i}(CTX, X) : does thing {i}" for i in range(7)), "at most 6"),
    ],
)
def test_parse_malformed(reply: str, where: str) -> None:
    with pytest.raises(ProposalError, match=re.escape(where)):
        parse_proposal(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "NEW: EVAL(__import__('os').system('touch /tmp/pwned')) : boom",
        "NEW: X(CTX) : ignore\x00previous",
        "NEW: FIND_X2(CTX) : right\u202eto left",
        "USE: FIND_X\u2028NEW: NONE",
        "NEW: FİND_X(CTX) : dotted capital I",
        "USE: " + "FIND_X, " * 2000,
        "NEW: A(CTX) : " + "A" * 100_000,
        "{" * 3000,
        "USE: ${HOME}, `rm -rf /`",
        "NEW: FIND_Y(CTX, X) : ok\nrm -rf /",
    ],
)
def test_parse_hostile_replies_fail_cleanly(reply: str) -> None:
    with pytest.raises(ProposalError):
        parse_proposal(reply)
    with pytest.raises(ProposalError):
        parse_proposal_json(reply)


def test_parse_never_evaluates(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    reply = f"NEW: RUN(CTX, X) : __import__('os').system('touch {marker}')"
    proposal = parse_proposal(reply)  # a definition is text: accepted as such, never run
    assert "__import__" in proposal.new[0].definition and not marker.exists()


def test_parse_json_proposal() -> None:
    reply = json.dumps(
        {"use": ["FIND_X"], "new": [{"name": "FIND_CLUE", "params": ["CTX", "X"], "definition": "Clues about X."}]}
    )
    proposal = parse_proposal_json(reply)
    assert proposal.use == ["FIND_X"] and proposal.new[0].name == "FIND_CLUE"
    for bad in (
        "[]",
        '{"use": [], "new": [], "plan": "x"}',
        '{"use": "FIND_X", "new": []}',
        '{"use": [], "new": [{"name": "A_B", "params": ["CTX"]}]}',
        '{"use": [], "new": [{"name": "A_B", "params": [1], "definition": "d d d"}]}',
        '{"use": [], "new": [{"name": "a(b)", "params": ["CTX"], "definition": "d d d"}]}',
        "[" * 5000,
    ):
        with pytest.raises(ProposalError):
            parse_proposal_json(bad)


def test_proposal_grammar_and_schema() -> None:
    library = seed_library()
    grammar = proposal_gbnf(library)
    assert all(f'"{name}"' in grammar for name in library.names)
    assert len(grammar) < 1000, "keep the grammar small"
    llama_cpp = pytest.importorskip("llama_cpp")
    llama_cpp.LlamaGrammar.from_string(grammar, verbose=False)
    llama_cpp.LlamaGrammar.from_string(merge_gbnf(library.names), verbose=False)
    jsonschema = pytest.importorskip("jsonschema")
    sample = {"use": ["FIND_X"], "new": [{"name": "FIND_CLUE", "params": ["CTX", "X"], "definition": "Clues about X."}]}
    jsonschema.validate(sample, proposal_json_schema(library))
    jsonschema.validate(
        {"merges": [{"actions": ["FIND_X", "EXTRACT"], "into": "FIND_X"}]}, merge_json_schema(["FIND_X", "EXTRACT"])
    )
    assert parse_proposal_json(json.dumps(sample)).new[0].params == ["CTX", "X"]


# ---------------------------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("raw", "known", "expected"),
    [
        ("FIND_THE_REASON", (), "FIND_REASON"),
        ("find the reasons", ("FIND_REASON",), "FIND_REASON"),
        ("findTheReason", (), "FIND_REASON"),
        ("FIND_A_CHARACTER'S_ROLE", (), "FIND_CHARACTERS_ROLE"),
        ("identify--stories", ("IDENTIFY_STORY",), "IDENTIFY_STORY"),
        ("FIND_EVENTS", (), "FIND_EVENTS"),
        ("ADDRESS", ("ADDRES",), "ADDRESS"),
        ("THE", (), "THE"),
    ],
)
def test_normalize_name(raw: str, known: tuple[str, ...], expected: str) -> None:
    assert normalize_name(raw, known) == expected


def test_normalize_signature_renames_params_in_the_definition() -> None:
    proposed = ProposedAction(
        name="find_event_cause", params=["EVENT", "DOCUMENT", "PERSON"], definition="Why EVENT happened to PERSON."
    )
    action = normalize_proposed(proposed)
    assert action is not None
    assert action.name == "FIND_EVENT_CAUSE" and action.params == ["CTX", "X", "Y"]
    assert action.definition == "Why X happened to Y."


@pytest.mark.parametrize(
    ("params", "definition", "expected"),
    [
        # The article was renamed with the parameter A: "X comparison of X and Y."
        (["CTX", "A", "B"], "A comparison of A and B.", "A comparison of X and Y."),
        (["CTX", "A", "B"], "A is compared with B. A summary follows.", "X is compared with Y. A summary follows."),
        # Upper-cased from the reply's words, the parameters were never found in the definition.
        (["DOCUMENT", "CHARACTER", "TRAIT"], "Find how the character shows the trait.", "Find how X shows Y."),
        (["CTX", "Y", "X"], "Relate Y to X.", "Relate X to Y."),
        # Named as written where the definition writes it so, never twice ("the name X X").
        (["CTX", "A", "B"], "A differs from B.", "X differs from Y."),
        (["CTX", "A", "B"], "A did not know B.", "X did not know Y."),
        (["CTX", "A", "B"], "A list of the gifts B gave.", "A list of the gifts Y gave."),
        (["CTX", "A", "B"], "A causes B when A is present.", "X causes Y when X is present."),
        (["CTX", "NAME"], "Find what the name NAME refers to.", "Find what the name X refers to."),
        (["CTX", "ENTITY"], "Find every entity that ENTITY meets.", "Find every entity that X meets."),
        (
            ["CTX", "X", "adjectives"],
            "The least describing of the adjectives for X.",
            "The least describing of the Y for X.",
        ),
    ],
)
def test_normalize_keeps_the_definitions_meaning(params: list[str], definition: str, expected: str) -> None:
    action = normalize_proposed(ProposedAction.model_construct(name="ACT", params=params, definition=definition))
    assert action is not None and action.definition == expected


def fake_miner(proposals: dict[str, str], merge: str | None = None) -> FakeLLM:
    """Replies to mining prompts from `proposals` (keyed by a word of the question), to merge prompts with `merge`."""

    def reply(request: CompletionRequest) -> str:
        text = request.messages[-1].content
        kind = (request.prompt or "").split(".")[0]
        if kind == "mine":
            question = text.rsplit("Question:", 1)[1]
            return next((v for k, v in proposals.items() if k in question), "USE: NONE\nNEW: NONE")
        return merge if merge is not None else "NONE"

    return FakeLLM(default=reply)


def test_tally_merges_counts_and_keeps_the_most_common_signature() -> None:
    proposals = {
        "one": "USE: FIND_REASON\nNEW: FIND_CLUE(CTX, X) : Clues about X.",
        "two": "USE: FIND_REASON\nNEW: find the clues(CTX, X) : The clues the document gives about X.",
        "three": "USE: NONE\nNEW: FIND_CLUE(CTX, X, Y) : Clues about X that point at Y.",
        "four": "USE: NONE\nNEW: FIND_REASONS(CTX, X) : Causes of X.",
    }
    llm = fake_miner(proposals)
    result = asyncio.run(mine_actions(llm, ["q one", "q two", "q three", "q four"]))
    library = result.library
    clue = library.get("FIND_CLUE")
    assert clue is not None and clue.params == ["CTX", "X"] and clue.definition == "Clues about X."
    assert clue.count == 3 and clue.examples == ["q one", "q two", "q three"]
    reason = library.get("FIND_REASON")
    assert reason is not None and reason.count == 3  # two USE lines and a NEW for a plural of it
    assert result.proposed_new == 4 and result.distinct_new == 1 and result.uses == 2
    assert library.names[: len(seed_library())] == seed_library().names
    assert set(library.prompts) == {"mine", "merge"} and library.prompts["mine"].startswith("mine.v1#")
    assert library.version == library.fingerprint[:12]


# ---------------------------------------------------------------------------------------------- merging


NAMES = ["FIND_CAUSE", "FIND_REASON", "FIND_MOTIVE", "LIST_CLUES"]


def test_a_merge_reply_of_runaway_spaces_is_refused_at_once() -> None:
    # "MERGE:" and 3,000 spaces then "-" took 10 s, 50 minutes at the reply's size cap (helper-160).
    started = time.perf_counter()
    with pytest.raises(MergeReplyError):
        parse_merge_reply("MERGE:" + " " * 4_000 + "-", NAMES)
    assert time.perf_counter() - started < 1


def test_parse_merge_reply_good() -> None:
    assert parse_merge_reply("NONE", NAMES) == []
    groups = parse_merge_reply(
        "MERGE: FIND_CAUSE, FIND_REASON -> FIND_REASON\n\nMERGE: find_motive, LIST_CLUES -> LIST_CLUES", NAMES
    )
    assert groups == [
        MergeGroup(members=["FIND_CAUSE", "FIND_REASON"], into="FIND_REASON"),
        MergeGroup(members=["FIND_MOTIVE", "LIST_CLUES"], into="LIST_CLUES"),
    ]
    # The member to keep named with the signature it was shown, no definition: it was read as a rewrite with none,
    # refused, and the group merged into another member.
    assert parse_merge_reply("MERGE: FIND_CAUSE, FIND_REASON -> FIND_CAUSE(CTX, X)", NAMES) == [
        MergeGroup(members=["FIND_CAUSE", "FIND_REASON"], into="FIND_CAUSE")
    ]
    # A rewrite's parameters are read as a proposal's: FIND_WHY(DOCUMENT, EVENT) read no document before.
    rewrite = "MERGE: FIND_CAUSE, FIND_REASON -> FIND_WHY(DOCUMENT, EVENT) : Why EVENT happens."
    (group,) = parse_merge_reply(rewrite, NAMES)
    assert group.action is not None and group.action.params == ["CTX", "X"] and group.action.needs_document
    assert group.action.name == "FIND_WHY" and group.action.definition == "Why X happens."


@pytest.mark.parametrize(
    ("reply", "merged"),
    [
        ("None.", []),
        ("none", []),
        ("No merges.", []),
        ("No merges needed.", []),
        ("None of these need merging.", []),
        ("Merge candidates below:\nMERGE: FIND_CAUSE, FIND_REASON -> FIND_REASON", [["FIND_CAUSE", "FIND_REASON"]]),
        ("Looking at these, none are duplicates.\n\nNONE", []),
        ("MERGE: FIND_CAUSE -> FIND_CAUSE", []),  # one action kept as it is
        ("MERGE: FIND_CAUSE, FIND_CAUSE -> FIND_CAUSE", []),
        ("**MERGE:** FIND_CAUSE, FIND_REASON -> FIND_REASON", [["FIND_CAUSE", "FIND_REASON"]]),
        ("1. MERGE: FIND_CAUSE, FIND_REASON \u2192 FIND_REASON", [["FIND_CAUSE", "FIND_REASON"]]),
        ("- merge: `FIND_CAUSE`, `FIND_REASON` => FIND_REASON", [["FIND_CAUSE", "FIND_REASON"]]),
        (
            "Here are the merges:\nMERGE: FIND_CAUSE, FIND_REASON -> FIND_REASON\nThese two say the same.",
            [["FIND_CAUSE", "FIND_REASON"]],
        ),
        ("NONE\nMERGE: FIND_CAUSE, FIND_REASON -> FIND_REASON", [["FIND_CAUSE", "FIND_REASON"]]),
    ],
)
def test_parse_merge_reply_reads_replies_as_chat_models_write_them(reply: str, merged: list[list[str]]) -> None:
    # A reply off the bare format was set aside whole and its batch merged by word overlap: "None." merged
    # FIND_LATEST_EVENT into FIND_EARLIEST_EVENT (helper-181).
    assert [group.members for group in parse_merge_reply(reply, NAMES)] == merged


def test_a_fenced_json_merge_reply_is_read_as_json() -> None:
    reply = '```json\n{"merges": [{"actions": ["FIND_CAUSE", "FIND_REASON"], "into": "FIND_REASON"}]}\n```'
    assert [group.members for group in _parse_any(reply, sorted(NAMES))] == [["FIND_CAUSE", "FIND_REASON"]]


def test_merging_by_word_overlap_keeps_apart_actions_named_for_a_word_their_definitions_differ_in() -> None:
    # FIND_BUYER and FIND_SELLER ("the buyer party ..." / "the seller party ...") are opposites, not one action;
    # FIND_CAUSE and FIND_WHY, whose definitions say the same, still merge.
    entries = [
        entry("FIND_BUYER", "Find the buyer party named in the contract X.", 2),
        entry("FIND_SELLER", "Find the seller party named in the contract X.", 1),
        entry("FIND_LATEST_EVENT", "Find the latest event in the life of X.", 1),
        entry("FIND_EARLIEST_EVENT", "Find the earliest event in the life of X.", 1),
        entry("FIND_CAUSE", "Explain why X happens, from the causes the document states.", 3),
        entry("FIND_WHY", "Explain why X happens from the causes stated in the document.", 1),
    ]
    assert [group.members for group in similar_groups(entries)] == [["FIND_CAUSE", "FIND_WHY"]]
    # A name that only adds a word sets nothing against the other: they merge, as before (helper-185).
    added = [
        entry("FIND_CHARACTER_TRAITS", "Find the personality traits of character X in the story.", 2),
        entry("FIND_TRAITS", "Find the personality traits of X in the story.", 1),
    ]
    assert [group.members for group in similar_groups(added)] == [["FIND_CHARACTER_TRAITS", "FIND_TRAITS"]]


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("", "empty"),
        ("Sure, these are duplicates: FIND_CAUSE and FIND_REASON", "expected 'MERGE"),
        ("USE: FIND_CAUSE\nNEW: FIND_BUYER(CTX, X) : the buyer", "line 1: expected 'MERGE"),
        ("1. MERGE FIND_CAUSE, FIND_REASON", "line 1: expected 'MERGE"),
        # A group that left out "MERGE:" is no prose to pass over (helper-185).
        ("MERGE: FIND_CAUSE, FIND_REASON -> FIND_REASON\nFIND_MOTIVE, LIST_CLUES -> FIND_MOTIVE", "line 2: expected"),
        ("MERGE: FIND_CAUSE, FIND_CAUSE, FIND_REASON -> FIND_CAUSE", "listed twice"),
        ("MERGE: FIND_CAUSE -> FIND_REASON", "at least two"),
        ("MERGE: FIND_CAUSE, FIND_WHY -> FIND_CAUSE", "not one of the actions shown"),
        ("MERGE: FIND_CAUSE, FIND_REASON -> FIND_MOTIVE", "must be one of the group"),
        (
            "MERGE: FIND_CAUSE, FIND_REASON -> FIND_REASON\nMERGE: FIND_REASON, FIND_MOTIVE -> FIND_MOTIVE",
            "another group",
        ),
        ("MERGE: FIND_CAUSE, FIND_REASON -> FIND_REASON; DROP TABLE", "expected an action of the group or NAME("),
        ("MERGE: FIND_CAUSE, FIND_WHY -> WHY(CTX, X) : Why X happens.", "not one of the actions shown"),
        ("MERGE: " + ", ".join(["FIND_CAUSE"] * 5000) + " -> FIND_CAUSE", "characters"),
    ],
)
def test_parse_merge_reply_rejects(reply: str, why: str) -> None:
    with pytest.raises(MergeReplyError, match=re.escape(why)):
        parse_merge_reply(reply, NAMES)


def entry(
    name: str, definition: str, askers: int, *, protected: bool = False, params: tuple[str, ...] = ("CTX", "X")
) -> Mined:
    action = Action(name=name, params=list(params), definition=definition)
    return Mined(action=action, askers=set(range(askers)), protected=protected, first_seen=askers)


def pool() -> list[Mined]:
    return [
        entry("FIND_REASON", "Explain why X happens, from the causes the document states.", 0, protected=True),
        entry("FIND_CAUSE", "Explain why X happens, with the causes the document states.", 3),
        entry("FIND_WHY", "Explain why X happens from the causes stated in the document.", 1),
        entry("LIST_CLUES", "List every clue the document gives about X.", 2),
        entry("GATHER_CLUES", "List each clue the document gives about X.", 4),
        entry("COUNT_SHIPS", "Count the ships named in the document.", 1, params=("CTX",)),
        entry("DESCRIBE_WEATHER", "Describe the weather during X.", 1),
    ]


def test_similar_groups_by_definition_overlap() -> None:
    groups = {tuple(sorted(g.members)): g.into for g in similar_groups(pool())}
    assert groups[("FIND_CAUSE", "FIND_REASON", "FIND_WHY")] == "FIND_REASON"  # the protected one is kept
    assert groups[("GATHER_CLUES", "LIST_CLUES")] == "GATHER_CLUES"  # else the most used
    assert not any("COUNT_SHIPS" in g or "DESCRIBE_WEATHER" in g for g in groups)


def test_merge_applies_model_groups_and_protects_library_actions() -> None:
    async def ask(batch: list[Action], total: int, cap: int) -> str:
        assert total == 7 and cap == 5
        # The model wants the library's FIND_REASON merged into FIND_CAUSE: the library action wins.
        return "MERGE: FIND_REASON, FIND_CAUSE, FIND_WHY -> FIND_CAUSE\nMERGE: LIST_CLUES, GATHER_CLUES -> LIST_CLUES"

    kept, report = asyncio.run(merge_mined(pool(), max_actions=5, ask=ask))
    names = [e.name for e in kept]
    assert names[0] == "FIND_REASON" and "FIND_CAUSE" not in names and "GATHER_CLUES" not in names
    reason = kept[0]
    assert reason.askers == {0, 1, 2}  # FIND_CAUSE's and FIND_WHY's questions now count for it
    assert report.rounds[0].llm_batches == 1 and report.rounds[0].merged == 3 and not report.cut
    assert len(names) == len(set(names)) == 4


def test_near_duplicates_are_merged_under_the_cap_too_in_one_round() -> None:
    # Under --max-actions no merge call was made: a mined library kept FIND_CAUSE and FIND_WHY beside FIND_REASON
    # (helper-169). The paper merged its mined list whatever its size.
    calls: list[int] = []

    async def ask(batch: list[Action], total: int, cap: int) -> str:
        calls.append(total)
        return "MERGE: FIND_REASON, FIND_CAUSE, FIND_WHY -> FIND_REASON" if len(calls) == 1 else "NONE"

    kept, report = asyncio.run(merge_mined(pool(), max_actions=80, ask=ask))
    assert calls == [7] and len(report.rounds) == 1  # one round: under the cap, no second
    names = [e.name for e in kept]
    assert names[0] == "FIND_REASON" and {"FIND_CAUSE", "FIND_WHY"}.isdisjoint(names)


def test_parse_merge_reply_rewrites_and_refused_rewrites() -> None:
    groups = parse_merge_reply(
        "MERGE: FIND_CAUSE, FIND_REASON -> find_why(ctx, X) : Explain why X happens, from what the document states.\n"
        "MERGE: FIND_MOTIVE, LIST_CLUES -> LIST_CLUES(CTX, X, Y) : List every clue about X that bears on Y.",
        NAMES,
    )
    assert groups[0].action == Action(
        name="FIND_WHY", params=["CTX", "X"], definition="Explain why X happens, from what the document states."
    )
    assert groups[0].into == "FIND_WHY" and groups[0].refused is None
    assert groups[1].action is not None and groups[1].action.signature == "LIST_CLUES(CTX, X, Y)"  # a member rewritten
    refused = {
        "MERGE: FIND_CAUSE, FIND_REASON -> FIND_WHY(CTX, X)": "the definition is missing",
        "MERGE: FIND_CAUSE, FIND_REASON -> FIND_WHY(CTX, X) : why": "the definition is missing",
        "MERGE: FIND_CAUSE, FIND_REASON -> FIND_WHY(CTX, X, ...) : Why X happens, in full.": "cannot be variadic",
        "MERGE: FIND_CAUSE, FIND_REASON -> FIND_WHY(CTX, X, Y, Z, W) : Why X happens, in full.": "1 to 4 parameter",
        'MERGE: FIND_CAUSE, FIND_REASON -> FIND_WHY(CTX, "X") : Why X happens, in full.': "parameter names",
        "MERGE: FIND_CAUSE, FIND_REASON -> FIND_WHY() : Why X happens, in full.": "parameter names",
        "MERGE: FIND_CAUSE, FIND_REASON -> LIST_CLUES(CTX, X) : Why X happens, in full.": "another action shown",
        "MERGE: FIND_CAUSE, FIND_REASON -> FIND_WHY(X, X) : Why X happens, in full.": "distinct",
    }
    for reply, why in refused.items():
        (group,) = parse_merge_reply(reply, NAMES)
        assert group.action is None and group.into is None and group.refused is not None, reply
        assert why in group.refused and group.members == ["FIND_CAUSE", "FIND_REASON"], group.refused
    as_json = {
        "merges": [
            {
                "actions": ["FIND_CAUSE", "FIND_REASON"],
                "into": "FIND_WHY",
                "params": ["CTX", "X"],
                "definition": "Why X.",
            },
            {"actions": ["FIND_MOTIVE", "LIST_CLUES"], "into": "LIST_CLUES"},
        ]
    }
    jsonschema = pytest.importorskip("jsonschema")
    with pytest.raises(jsonschema.ValidationError, match="too short"):
        jsonschema.validate(as_json, merge_json_schema(NAMES))
    longer = json.loads(json.dumps(as_json).replace("Why X.", "Why X happens, in full."))
    jsonschema.validate(longer, merge_json_schema(NAMES))
    assert parse_merge_json(json.dumps(longer), NAMES)[0].action is not None
    parsed = parse_merge_json(json.dumps(as_json), NAMES)  # a server that ignores the schema
    assert parsed[0].refused is not None and "definition is missing" in parsed[0].refused  # "Why X." is too short
    assert parsed[1] == MergeGroup(members=["FIND_MOTIVE", "LIST_CLUES"], into="LIST_CLUES")
    # A JSON definition is a string of its own: a line break in it is whitespace, not a broken reply.
    broken = json.loads(json.dumps(longer).replace("Why X happens", "Why X\\nhappens"))
    rewritten = parse_merge_json(json.dumps(broken), NAMES)[0].action
    assert rewritten is not None and rewritten == parse_merge_json(json.dumps(longer), NAMES)[0].action
    with pytest.raises(MergeReplyError, match="params must be a list"):
        parse_merge_json(
            '{"merges": [{"actions": ["FIND_CAUSE", "FIND_REASON"], "into": "X", "params": "CTX", "definition": "d"}]}',
            NAMES,
        )


def merged_by(reply: str) -> tuple[list[Mined], MergeReport]:
    """`pool()` merged to 5 actions by a model that always gives `reply`."""

    async def ask(batch: list[Action], total: int, cap: int) -> str:
        return reply

    return asyncio.run(merge_mined(pool(), max_actions=5, ask=ask))


def test_merge_rewrites_a_group_into_a_broader_action() -> None:
    kept, report = merged_by(
        "MERGE: LIST_CLUES, GATHER_CLUES, DESCRIBE_WEATHER -> FIND_CLUES(CTX, X) : "
        "Every clue and circumstance the document gives about X.\n"
        "MERGE: FIND_CAUSE, FIND_WHY -> FIND_CAUSE"
    )
    clues = next(e for e in kept if e.name == "FIND_CLUES")
    assert clues.action.definition == "Every clue and circumstance the document gives about X." and not clues.protected
    assert clues.askers == {0, 1, 2, 3}  # every member's questions count for the new action
    assert {"LIST_CLUES", "GATHER_CLUES", "DESCRIBE_WEATHER", "FIND_WHY"}.isdisjoint(e.name for e in kept)
    assert report.renamed == {
        "DESCRIBE_WEATHER": "FIND_CLUES",
        "FIND_WHY": "FIND_CAUSE",
        "GATHER_CLUES": "FIND_CLUES",
        "LIST_CLUES": "FIND_CLUES",
    }
    first = report.rounds[0]
    assert (first.rewritten, first.kept, first.merged) == (1, 1, 3) and report.rewritten == 1


def test_a_family_split_over_lines_into_one_broader_action_becomes_that_action() -> None:
    # A line holds at most MAX_GROUP actions: a model folding a bigger family into one broader action writes one
    # line per part, each naming the same action. Every part joins it (the later ones were merged into their most
    # used member instead, leaving the narrow actions the model had folded away).
    family = [entry(f"FIND_{w}_INFO", f"Find facts about the {w.lower()} X.", i + 1) for i, w in enumerate("ABCD")]
    other = [entry("FIND_ONE", "Find one thing about X.", 1), entry("FIND_TWO", "Find two things about X.", 2)]
    broader = "FIND_INFO(CTX, X, Y) : Find information of the kind Y about X."
    reply = (
        f"MERGE: FIND_A_INFO, FIND_B_INFO -> {broader}\n"
        f"MERGE: FIND_C_INFO, FIND_D_INFO -> {broader}\n"
        # The same name with other parameters is another action: refused, merged into the most used member.
        "MERGE: FIND_ONE, FIND_TWO -> FIND_INFO(CTX, X) : Find anything at all about X."
    )

    async def ask(batch: list[Action], total: int, cap: int) -> str:
        return reply

    kept, report = asyncio.run(merge_mined([*family, *other], max_actions=2, ask=ask))
    assert [e.name for e in kept] == ["FIND_INFO", "FIND_TWO"]
    assert kept[0].action.definition == "Find information of the kind Y about X." and kept[0].askers == set(range(4))
    assert report.renamed == {**{f"FIND_{w}_INFO": "FIND_INFO" for w in "ABCD"}, "FIND_ONE": "FIND_TWO"}
    first = report.rounds[0]
    assert (first.rewritten, first.kept, first.merged) == (2, 1, 4)
    assert report.errors == ["round 1: rewrite refused: FIND_INFO is already another action of the library"]


def _merged_family(broader: str, second: str) -> tuple[list[Mined], MergeReport]:
    """Four FIND_?_INFO actions merged with a reply whose first line rewrites two into `broader` and whose second
    line merges the other two into `second`."""
    family = [entry(f"FIND_{w}_INFO", f"Find facts about the {w.lower()} X.", i + 1) for i, w in enumerate("ABCD")]
    reply = f"MERGE: FIND_A_INFO, FIND_B_INFO -> {broader}\nMERGE: FIND_C_INFO, FIND_D_INFO -> {second}"

    async def ask(batch: list[Action], total: int, cap: int) -> str:
        return reply

    return asyncio.run(merge_mined(family, max_actions=1, ask=ask))


def test_a_split_familys_later_lines_may_name_the_broader_action_alone() -> None:
    # As the prompt asks ("each naming the same broader action"), a later line named it alone: "'FIND_INFO' is not one
    # of the actions shown", and the whole reply, every group in it, was thrown away for word overlap.
    kept, report = _merged_family("FIND_INFO(CTX, X, Y) : Find information of the kind Y about X.", "FIND_INFO")
    assert [e.name for e in kept] == ["FIND_INFO"] and kept[0].askers == set(range(4)) and not report.errors
    assert report.renamed == {f"FIND_{w}_INFO": "FIND_INFO" for w in "ABCD"}


def test_a_split_family_may_keep_a_members_name_and_never_joins_an_unrelated_action() -> None:
    # The first line keeps a member's name for the broader action: the second line naming it was refused as
    # "another action shown", and its part of the family stayed apart.
    broader = "FIND_A_INFO(CTX, X, Y) : Find information of the kind Y about X."
    kept, report = _merged_family(broader, broader)
    assert [e.name for e in kept] == ["FIND_A_INFO"] and kept[0].askers == set(range(4)) and not report.errors
    assert report.renamed == {f"FIND_{w}_INFO": "FIND_A_INFO" for w in "BCD"}
    # A rewrite into the name of a pool's action that no line of the reply made (one of another batch, not shown)
    # folded its group into that unrelated action, whose definition it kept, without a note.
    spy = entry("FIND_SPY", "Find who informed on X to the police.", 9)
    facts = [entry("FIND_E_FACTS", "Find facts E about X.", 1), entry("FIND_F_FACTS", "Find facts F about X.", 2)]
    pool = {e.name: e for e in (spy, *facts)}
    groups = parse_merge_reply(
        "MERGE: FIND_E_FACTS, FIND_F_FACTS -> FIND_SPY(CTX, X) : Any fact.", ["FIND_E_FACTS", "FIND_F_FACTS"]
    )
    notes: list[str] = []
    renamed: dict[str, str] = {}
    _apply(pool, groups, renamed, notes)
    assert pool["FIND_SPY"].action.definition == "Find who informed on X to the police." and pool[
        "FIND_SPY"
    ].askers == set(range(9))
    assert renamed == {"FIND_E_FACTS": "FIND_F_FACTS"} and notes == [
        "FIND_SPY is already another action of the library"
    ]


def test_the_merge_prompt_tells_the_model_how_many_actions_a_group_may_hold() -> None:
    # A line of more is refused, and with it the batch's whole reply: the model must be told, and how to do without.
    llm = mining_fake_llm()
    questions = [f"What did visitor number {i} notice about the lighthouse?" for i in range(40)]
    asyncio.run(mine_actions(llm, questions, max_actions=12))
    merges = [r for r in llm.history if (r.prompt or "").startswith("merge.")]
    assert merges and all(f"a group holds at most {MAX_GROUP} actions" in r.messages[0].content for r in merges)
    assert all("each naming the same broader action" in r.messages[0].content for r in merges)


def test_no_mined_action_takes_a_reserved_name_by_normalising_or_rewriting() -> None:
    # ANSWER closes a plan and is refused as a proposed name; THE_ANSWER normalised into it all the same.
    proposed = ProposedAction(name="THE_ANSWER", params=["CTX", "X"], definition="Answer the question X.")
    assert normalize_proposed(proposed) is None
    result = asyncio.run(
        mine_actions(FakeLLM(default="USE: FIND_X\nNEW: THE_ANSWER(CTX, X) : Answer the question X."), ["Why?"])
    )
    assert result.library.names == seed_library().names and result.proposals == 1
    kept, report = merged_by("MERGE: LIST_CLUES, GATHER_CLUES -> ANSWER(CTX, X) : Answer X from the clues found.")
    assert "ANSWER" not in [e.name for e in kept] and report.renamed["LIST_CLUES"] == "GATHER_CLUES"
    assert any("ANSWER is the step that closes a plan" in e for e in report.errors)


def test_a_rewrite_that_does_not_check_out_falls_back_to_the_deterministic_merge() -> None:
    kept, report = merged_by(
        "MERGE: LIST_CLUES, GATHER_CLUES -> FIND_CLUES(CTX, X, ...) : Every clue the document gives about X.\n"
        "MERGE: FIND_REASON, FIND_CAUSE -> WHY_ANYTHING(CTX, X) : Why anything at all happens in the document.\n"
        "MERGE: FIND_WHY, COUNT_SHIPS -> DESCRIBE_WEATHER(CTX, X) : Describe whatever X is about, weather included."
    )
    names = [e.name for e in kept]
    assert "GATHER_CLUES" in names and "LIST_CLUES" not in names  # merged into the most used member
    assert names[0] == "FIND_REASON" and kept[0].action == pool()[0].action  # the library action is never rewritten
    assert "WHY_ANYTHING" not in names and "FIND_CAUSE" not in names
    assert "COUNT_SHIPS" in names and "FIND_WHY" not in names  # a name taken by another action: merged instead
    first = report.rounds[0]
    assert (first.rewritten, first.kept) == (0, 3)
    assert report.renamed == {"FIND_CAUSE": "FIND_REASON", "FIND_WHY": "COUNT_SHIPS", "LIST_CLUES": "GATHER_CLUES"}
    refusals = " | ".join(report.errors)
    assert "cannot be variadic" in refusals and "FIND_REASON, an action mining started from" in refusals
    assert "DESCRIBE_WEATHER is another action shown" in refusals


def test_the_scripted_miner_takes_every_merge_path() -> None:
    questions = [f"What did visitor number {i} notice about the lighthouse?" for i in range(40)]
    result = asyncio.run(mine_actions(mining_fake_llm(), questions, max_actions=12))
    merge = result.merge
    assert merge.rewritten >= 1 and merge.kept >= 1, merge
    assert any("rewrite refused" in e and "variadic" in e for e in merge.errors)
    rewritten = [a for a in result.library.actions if a.name.startswith("LOOK_FOR_")]
    assert rewritten and all(a.definition.startswith("Find whatever the document says") for a in rewritten)
    assert all(target in result.library or target in merge.cut for target in merge.renamed.values())


def test_merge_falls_back_to_word_overlap_when_the_reply_is_unusable() -> None:
    async def ask(batch: list[Action], total: int, cap: int) -> str:
        return "I would merge the clue ones."

    kept, report = asyncio.run(merge_mined(pool(), max_actions=5, ask=ask))
    assert report.rounds[0].fallback_batches == 1 and report.rounds[0].llm_batches == 0
    assert {e.name for e in kept} == {"FIND_REASON", "GATHER_CLUES", "COUNT_SHIPS", "DESCRIBE_WEATHER"}
    assert report.errors and "expected 'MERGE" in report.errors[0]


def test_merge_failing_model_also_falls_back() -> None:
    async def ask(batch: list[Action], total: int, cap: int) -> str:
        raise LLMError("timed out")

    kept, report = asyncio.run(merge_mined(pool(), max_actions=5, ask=ask))
    assert report.rounds[0].fallback_batches == 1 and len(kept) == 4


def test_merge_stalls_then_cuts_least_used_but_never_library_actions() -> None:
    async def ask(batch: list[Action], total: int, cap: int) -> str:
        return "NONE"

    kept, report = asyncio.run(merge_mined(pool(), max_actions=3, ask=ask))
    assert [r.merged for r in report.rounds] == [0]  # a round merging nothing ends the loop
    assert [e.name for e in kept] == ["FIND_REASON", "GATHER_CLUES", "FIND_CAUSE"]
    assert set(report.cut) == {"LIST_CLUES", "FIND_WHY", "COUNT_SHIPS", "DESCRIBE_WEATHER"}
    only_protected = [entry(f"SEED_{i}", f"seed action number {i}", 0, protected=True) for i in range(4)]
    kept, report = asyncio.run(merge_mined(only_protected, max_actions=2, ask=ask))
    assert len(kept) == 4 and not report.cut


def test_merge_in_batches_over_several_rounds() -> None:
    entries = [
        entry(f"ACT_{i:02d}", f"Report thing {i % 10} about X and topic {i % 10}.", i % 5 + 1) for i in range(40)
    ]
    calls: list[int] = []

    async def ask(batch: list[Action], total: int, cap: int) -> str:
        calls.append(len(batch))
        # Merge pairs: the model only ever sees its batch, so every name it uses comes from there.
        names = [a.name for a in batch]
        return "\n".join(f"MERGE: {a}, {b} -> {a}" for a, b in zip(names[::2], names[1::2], strict=False)) or "NONE"

    kept, report = asyncio.run(merge_mined(entries, max_actions=8, ask=ask, batch_size=12))
    assert len(kept) <= 8 and len({e.name for e in kept}) == len(kept)
    assert max(calls) <= 12 and len(report.rounds) >= 2
    assert all(e.askers <= set(range(5)) for e in kept)  # askers stay sets of question indexes


def test_a_round_that_merges_nothing_is_followed_by_rounds_in_other_orders() -> None:
    # Merging stopped after the first round that merged nothing: near-duplicates its batches kept
    # apart (by name, FIND_MOTIVE and SEEK_MOTIVE are far apart) were cut instead of merged.
    entries = [
        entry("FIND_MOTIVE", "Find the motive of X.", 2),
        entry("GET_A", "Get A of X.", 1),
        entry("GET_B", "Get B of X.", 1),
        entry("SEEK_MOTIVE", "Seek the motive of X.", 2),
    ]

    async def ask(batch: list[Action], total: int, cap: int) -> str:
        names = {a.name for a in batch}
        return "MERGE: FIND_MOTIVE, SEEK_MOTIVE -> FIND_MOTIVE" if {"FIND_MOTIVE", "SEEK_MOTIVE"} <= names else "NONE"

    kept, report = asyncio.run(merge_mined(entries, max_actions=3, ask=ask, batch_size=2))
    assert report.rounds[0].merged == 0 and any(r.merged for r in report.rounds[1:])
    assert "SEEK_MOTIVE" in report.renamed and not report.cut
    assert sorted(e.name for e in kept) == ["FIND_MOTIVE", "GET_A", "GET_B"]


# ---------------------------------------------------------------------------------------------- mining end to end


def test_mine_actions_on_sample_questions(tmp_path: Path) -> None:
    questions = read_questions(QUESTIONS)
    assert questions and all("(A)" not in q for q in questions)
    seen: list[tuple[int, int, int]] = []
    llm = FakeLLM(default=mining_fake_reply, supports_grammar=True)
    out = tmp_path / "actions.json"
    result = asyncio.run(
        mine_actions(
            llm, questions, max_actions=9, progress_file=progress_path(out), on_progress=lambda *a: seen.append(a)
        )
    )
    library = result.library
    assert len(library) <= 9 and len(set(library.names)) == len(library)
    assert set(seed_library().names) <= set(library.names)
    assert result.proposals + result.malformed == len(questions) and result.failed == 0
    assert seen[-1][:2] == (len(questions), len(questions))
    mine_requests = [r for r in llm.history if (r.prompt or "").startswith("mine.")]
    assert all(r.grammar and '"FIND_REASON"' in r.grammar for r in mine_requests)
    assert not progress_path(out).exists(), "a finished run removes its progress file"
    save_library(library, out)
    assert load_library(out) == library


def test_mine_resumes_from_the_progress_file(tmp_path: Path) -> None:
    questions = [f"Why does person {i} leave?" for i in range(6)]
    partial = tmp_path / "actions.json.partial.jsonl"

    def dies_on_four(request: CompletionRequest) -> str | LLMError:
        if "person 4" in request.messages[-1].content:
            return LLMRequestError("invalid api key", status_code=401)
        return mining_fake_reply(request)

    with pytest.raises(LLMRequestError):
        asyncio.run(mine_actions(FakeLLM(default=dies_on_four), questions, concurrency=1, progress_file=partial))
    lines = partial.read_text().splitlines()
    done = len(lines) - 1
    failed_key = hashlib.sha256(questions[4].encode()).hexdigest()[:20]
    assert 4 <= done <= 5 and json.loads(lines[0])["key"] and failed_key not in partial.read_text()
    partial.write_text(partial.read_text() + '{"q": "cut sho')  # a line half-written when the run was killed
    second = FakeLLM(default=mining_fake_reply)
    result = asyncio.run(mine_actions(second, questions, concurrency=1, progress_file=partial))
    assert result.resumed == done and result.proposals + result.malformed == 6
    assert len([r for r in second.history if (r.prompt or "").startswith("mine.")]) == 6 - done
    assert not partial.exists()


def _failing_on(person: int) -> Callable[[CompletionRequest], str | LLMError]:
    """`mining_fake_reply`, but the question about person `person` gets no reply."""

    def reply(request: CompletionRequest) -> str | LLMError:
        if f"person {person} " in request.messages[-1].content:
            return LLMError("server went away")
        return mining_fake_reply(request)

    return reply


def test_a_question_whose_call_failed_is_asked_again_by_the_next_run(tmp_path: Path) -> None:
    questions = [f"Why does person {i} leave?" for i in range(4)]
    partial = tmp_path / "actions.json.partial.jsonl"
    first = asyncio.run(mine_actions(FakeLLM(default=_failing_on(2)), questions, concurrency=1, progress_file=partial))
    assert first.failed == 1 and partial.exists(), "a run with a failed question keeps its progress file"
    second = FakeLLM(default=mining_fake_reply)
    result = asyncio.run(mine_actions(second, questions, concurrency=1, progress_file=partial))
    asked = [r.messages[-1].content for r in second.history if (r.prompt or "").startswith("mine.")]
    assert len(asked) == 1 and "person 2" in asked[0], "only the failed question is asked again"
    assert result.resumed == 3 and result.failed == 0 and not partial.exists()


def test_progress_of_another_run_is_refused_not_dropped(tmp_path: Path) -> None:
    # Started over with a warning: the replies paid for were lost.
    partial = tmp_path / "p.jsonl"
    partial.write_text('{"pearl_mine": 1, "key": "other"}\n{"q": "x", "reply": "USE: NONE"}\n')
    llm = FakeLLM(default=mining_fake_reply)
    with pytest.raises(ConfigError, match="holds the progress of another mine run .written by an earlier version"):
        asyncio.run(mine_actions(llm, ["Why now?"], progress_file=partial))
    assert not llm.history and "USE: NONE" in partial.read_text()
    about = {"library": "seed v1", "prompt": "mine.v1#0", "model": "other (fake)", "replies": "text"}
    partial.write_text(json.dumps({"pearl_mine": 1, "key": "k", "about": about}) + '\n{"q": "x", "reply": "x"}\n')
    with pytest.raises(ConfigError, match=r"model: other \(fake\) there, fake \(fake\) now"):
        asyncio.run(mine_actions(llm, ["Why now?"], progress_file=partial))
    partial.write_text('{"pearl_mine": 1, "key": "other"}\n')  # a header alone: nothing to lose
    result = asyncio.run(mine_actions(llm, ["Why now?"], progress_file=partial))
    assert result.resumed == 0 and [(r.prompt or "").split(".")[0] for r in llm.history] == ["mine", "merge"]


def test_model_failures_are_counted_not_fatal() -> None:
    def flaky(request: CompletionRequest) -> str | LLMError:
        if "second" in request.messages[-1].content:
            return LLMError("server went away")
        return "USE: FIND_X\nNEW: NONE"

    result = asyncio.run(mine_actions(FakeLLM(default=flaky), ["first question", "second question"]))
    assert result.failed == 1 and result.proposals == 1 and "server went away" in result.problems[0]


def test_cut_off_reply_is_malformed() -> None:
    class Cut(FakeLLM):
        async def acomplete(self, request: CompletionRequest):  # type: ignore[no-untyped-def]
            completion = await super().acomplete(request)
            return completion.model_copy(update={"finish_reason": "length"})

    result = asyncio.run(mine_actions(Cut(default="USE: FIND_X\nNEW: FIND_Y(CTX, X) : half a defi"), ["q?"]))
    assert result.malformed == 1 and "cut off" in result.problems[0]


@requires_shared_data
def test_mine_shared_quality_questions_with_overlapping_proposals() -> None:
    questions = read_questions(SHARED_DATA / "leval_quality.jsonl")
    assert len(questions) == 43
    result = asyncio.run(mine_actions(FakeLLM(default=mining_fake_reply), questions, max_actions=20))
    library = result.library
    assert result.malformed > 0 and result.proposals + result.malformed == 43
    assert result.distinct_new > 20, "the scripted proposals must overflow the cap"
    assert len(library) <= 20 and len(set(library.names)) == len(library)
    assert result.merge.rounds and result.merge.rounds[0].llm_batches >= 1


def test_read_questions_formats(tmp_path: Path) -> None:
    text = tmp_path / "q.txt"
    text.write_text("# training questions\nWhy did she leave?\n\nWho is Varga?\nWhy did she leave?\n")
    assert read_questions(text) == ["Why did she leave?", "Who is Varga?"]
    plain = tmp_path / "q.jsonl"
    plain.write_text('{"question": "Why?"}\n{"question": "Who?", "answer": "B"}\n')
    assert read_questions(plain, limit=1) == ["Why?"]
    assert len(read_questions(SAMPLE_DIR / "quality_sample.jsonl")) == 6
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Why?"}\n{"q": 1}\n')
    with pytest.raises(DatasetError, match="bad.jsonl:2"):
        read_questions(bad)
    # A .jsonl file whose first line is broken was read as text: that line one question, the rest too.
    bad.write_text('not json {\n{"question": "Why?"}\n')
    with pytest.raises(DatasetError, match="bad.jsonl:1"):
        read_questions(bad)


def test_read_questions_says_what_it_leaves_out_or_doubts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Repeats were dropped without a word ("mining 12 questions" of a file of 38), and a story given as questions
    # was mined line by line.
    text = tmp_path / "q.txt"
    text.write_text("Why did she leave?\nWho is Varga?\nWhy did she leave?\nWhy  did she leave?\n")
    assert read_questions(text) == ["Why did she leave?", "Who is Varga?"]
    assert "q.txt: 2 repeated questions left out (2 distinct of 4)" in caplog.text
    caplog.clear()
    story = SAMPLE_DIR / "the_keeper_of_tren_light.txt"
    assert len(read_questions(story)) > 10
    assert "none of its" in caplog.text and "ends with '?'" in caplog.text and "--document FILE" in caplog.text
    caplog.clear()
    read_questions(SAMPLE_DIR / "quality_sample.jsonl")
    assert not caplog.text


def test_read_questions_takes_a_question_in_other_letter_case_as_a_repeat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Spacing aside, a repeat was dropped; in other letter case it was mined again, paid for twice. As with a repeat
    # written the same, its options (which mining does not read) do not keep it apart.
    asked = [
        {"id": "a", "question": "Who is Dorota?", "options": ["A cook", "A keeper"], "answer": "B"},
        {"id": "b", "question": "who is dorota? ", "options": ["A boatman", "A child"], "answer": "A"},
        {"id": "c", "question": "Why does Varga stay?", "options": ["Duty", "Fear"], "answer": "A"},
    ]
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"id": "k", "text": "Dorota keeps the light. " * 5, "questions": asked}) + "\n")
    assert read_questions(data) == ["Who is Dorota?", "Why does Varga stay?"]
    said = "1 repeated question left out (2 distinct of 3, letter case aside: 'who is dorota?' is 'Who is Dorota?')"
    assert f"train.jsonl: {said}" in caplog.text, caplog.text


def test_parse_imagined() -> None:
    questions, bad = parse_imagined("Q: Why does Varga stay on the rock?\nnot a question\nQ: Who is Dorota?\nQ: x", 5)
    assert questions == ["Why does Varga stay on the rock?", "Who is Dorota?"] and bad == 2
    assert parse_imagined('{"questions": ["How does the storm end?"]}', 3) == (["How does the storm end?"], 0)
    assert parse_imagined("[" * 5000, 3)[0] == []
    # As chat models number and mark them: "1. Why ...?", "Q1: ...", "- Q: ...", "**Question 2:** ..." (each was a
    # line off the format, and `mine --document` imagined no question: helper-181).
    reply = (
        "Here are five questions:\n1. Why does Varga stay on the rock?\nQ2: Who is Dorota?\n- Q: What is in the oil?\n"
        "**Question 4:** How does the storm end?\n5. The lamp goes out."
    )
    assert parse_imagined(reply, 9) == (
        ["Why does Varga stay on the rock?", "Who is Dorota?", "What is in the oil?", "How does the storm end?"],
        2,
    )
    assert parse_imagined('```json\n{"questions": ["How does the storm end?"]}\n```', 3)[0] == [
        "How does the storm end?"
    ]


def test_mine_document_alone_and_merged() -> None:
    document = Document.from_text((SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(), name="keeper.txt")

    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        if kind == "imagine":
            assert "Entities" in request.messages[-1].content
            return "Q: Why does Varga keep the light?\nQ: How is Dorota related to Varga?"
        if kind == "mine_document":
            return "USE: FIND_REASON\nNEW: FIND_KEEPER_DUTY(CTX, X) : What the keeper must do about X."
        return "NONE"

    alone = asyncio.run(mine_document(FakeLLM(default=reply), document))
    assert alone.library.names == ["FIND_KEEPER_DUTY"] and alone.library.name == "keeper-actions"
    assert alone.imagined == ["Why does Varga keep the light?", "How is Dorota related to Varga?"]
    assert set(alone.library.prompts) >= {"imagine", "mine", "merge"}
    merged = asyncio.run(mine_document(FakeLLM(default=reply), document, library=default_library()))
    assert merged.library.names[: len(default_library())] == default_library().names
    assert merged.library.names[-1] == "FIND_KEEPER_DUTY" and merged.library.get("FIND_REASON").count == 2  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_mine_and_actions_commands(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    def reply(body: dict[str, object]) -> str:
        messages = body["messages"]
        assert isinstance(messages, list)
        content = str(messages[-1]["content"])
        if "The library has" in content:
            return "NONE"
        return "USE: FIND_X\nNEW: FIND_SHIP_NAME(CTX, X) : The name of the ship in X.\nNEW: oops"

    fake_server.set_default(reply)
    out = tmp_path / "mined.json"
    server = ["--base-url", fake_server.base_url, "--model", "fake-model"]
    result = runner.invoke(app, ["mine", "--questions", str(QUESTIONS), "--limit", "3", "-o", str(out), *server])
    assert result.exit_code == 1 and not out.exists(), result.output  # no reply could be read: no library
    assert "no usable reply for any of 3 questions (3 malformed, 0 failed" in result.stderr
    fake_server.set_default(lambda body: "USE: FIND_X\nNEW: FIND_SHIP_NAME(CTX, X) : The name of the ship in X.")
    # The model mended, the same command reads the same replies back from the cache: it says so, and what to add.
    result = runner.invoke(app, ["mine", "--questions", str(QUESTIONS), "--limit", "3", "-o", str(out), *server])
    assert result.exit_code == 1 and "replies were read back, 3 from the response cache (--no-cache)" in result.stderr
    again = ["mine", "--questions", str(QUESTIONS), "--limit", "3", "-o", str(out), "--no-cache", *server]
    result = runner.invoke(app, again)
    assert result.exit_code == 0, result.output
    assert "3 proposals, 0 malformed" in result.stdout and f"wrote {out}" in result.stdout
    library = load_library(out)
    assert library.get("FIND_SHIP_NAME") is not None and library.get("FIND_SHIP_NAME").count == 3  # type: ignore[union-attr]

    listed = runner.invoke(app, ["actions", "list", str(out)])
    assert listed.exit_code == 0
    assert "FIND_SHIP_NAME(CTX, X)  The name of the ship in X." in listed.stdout.splitlines()
    assert listed.stdout.count("\n") == len(library)
    default = runner.invoke(app, ["actions", "list"])
    assert len(default.stdout.splitlines()) == len(default_library())
    shown = runner.invoke(app, ["actions", "show", "find_ship_name", "--actions", str(out)])
    assert shown.exit_code == 0 and "asked for by 3 mined questions" in shown.stdout
    missing = runner.invoke(app, ["actions", "show", "FIND_SHIP_NAMES", "--actions", str(out)])
    assert missing.exit_code == 2 and "did you mean FIND_SHIP_NAME" in missing.stderr
    seed = tmp_path / "seed.json"
    save_library(seed_library(), seed)
    diff = runner.invoke(app, ["actions", "diff", str(seed), str(out)])
    assert diff.exit_code == 0
    assert "+ FIND_SHIP_NAME(CTX, X)  The name of the ship in X." in diff.stdout
    assert "1 added, 0 removed, 0 changed, 7 unchanged" in diff.stdout


def test_cli_mine_says_what_each_merged_action_became(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    # Merged actions vanished from the library unsaid: the user could not see a merge to disagree with (helper-181).
    def reply(body: dict[str, object]) -> str:
        messages = body["messages"]
        assert isinstance(messages, list)
        if "The library has" in str(messages[-1]["content"]):
            return "MERGE: FIND_SHIP_NAME, FIND_VESSEL_NAME -> FIND_SHIP_NAME"
        return (
            "USE: FIND_REASON, FIND_CHARACTER\nNEW: FIND_SHIP_NAME(CTX, X) : The name of the ship in X.\n"
            "NEW: FIND_VESSEL_NAME(CTX, X) : What the vessel in X is called."
        )

    fake_server.set_default(reply)
    out = tmp_path / "mined.json"
    server = ["--base-url", fake_server.base_url, "--model", "fake-model"]
    result = runner.invoke(app, ["mine", "--questions", str(QUESTIONS), "--limit", "2", "-o", str(out), *server])
    assert result.exit_code == 0, result.output
    assert "  merged into FIND_SHIP_NAME: FIND_VESSEL_NAME" in result.stdout.splitlines(), result.stdout
    assert load_library(out).get("FIND_VESSEL_NAME") is None
    # FIND_CHARACTER is no action of the seed library: its uses are said to be left out, not dropped unsaid.
    assert "note: 2 uses named no action of the library, not counted: FIND_CHARACTER (2)" in result.stderr


def test_cli_mine_writes_no_json_over_an_action_list_in_the_papers_format(tmp_path: Path) -> None:
    # Growing the paper's actions_simplified.txt in place replaced its lines with JSON (helper-181).
    listed = tmp_path / "actions_simplified.txt"
    listed.write_text("FIND_CHARACTER(CTX, X) # Find the character X in the story\n", encoding="utf-8")
    server = ["--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    for out in (listed, tmp_path / "grown.txt"):
        args = ["mine", "--questions", str(QUESTIONS), "--actions", str(listed), "-o", str(out), "--force", *server]
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "an action list in the paper's format, but mine writes pearl's JSON library" in result.stderr
        assert f"give --out {out.with_suffix('.json')}" in result.stderr
    assert listed.read_text(encoding="utf-8").startswith("FIND_CHARACTER(CTX, X) #")
    assert not (tmp_path / "grown.txt").exists()
    # Told by what it holds, whatever its name (helper-185: only .txt names were tried).
    other = tmp_path / "actions.list"
    other.write_text(listed.read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(app, ["mine", "--questions", str(QUESTIONS), "-o", str(other), "--force", *server])
    assert result.exit_code == 2 and "holds an action list in the paper's format" in result.stderr, result.output


def test_cli_mine_needs_one_source() -> None:
    result = runner.invoke(app, ["mine"])
    assert result.exit_code == 2 and "--questions FILE" in result.stderr


def test_cli_mine_fits_its_prompts_with_the_token_margin(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mining runs outside any question and ignored the setting: a window that holds its prompt at a margin of 0 was
    # refused as at a fifth (helper-172).
    fake_server.set_default(lambda body: "USE: FIND_X\nNEW: FIND_SHIP_NAME(CTX, X) : The name of the ship in X.")
    args = ["mine", "--questions", str(QUESTIONS), "--limit", "1", "--context-window", "900"]
    server = ["--base-url", fake_server.base_url, "--model", "fake-model", "--no-cache"]
    refused = runner.invoke(app, [*args, "-o", str(tmp_path / "a.json"), *server])
    assert refused.exit_code == 2 and "900-token window cannot hold the mining prompt" in refused.stderr
    monkeypatch.setenv("PEARL_TOKEN_MARGIN", "0")
    mined = runner.invoke(app, [*args, "-o", str(tmp_path / "b.json"), *server])
    assert mined.exit_code == 0, mined.output


@pytest.mark.parametrize("args", [["mine", "--document", ""], ["plan", "--file", "", "Who keeps the light?"]])
def test_an_empty_file_option_is_refused_not_read_as_the_current_folder(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # typer made "" the current folder: `pearl mine --document "$DOC"` with DOC unset sent every file under it to
    # the model (helper-172).
    monkeypatch.chdir(tmp_path)
    (tmp_path / "private.txt").write_text("The safe's code is 4711.", encoding="utf-8")
    result = runner.invoke(app, [*args, "--base-url", "http://127.0.0.1:9/v1", "--model", "m"])
    assert result.exit_code == 2 and "a file's name is empty" in result.stderr, result.output


def test_library_provenance_is_backwards_compatible(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(
        json.dumps(
            {"name": "old", "version": "3", "actions": [{"name": "FIND_X", "params": ["CTX", "X"], "definition": "x"}]}
        )
    )
    library = load_library(old)
    assert library.prompts == {}
    tagged = library.model_copy(update={"prompts": {"mine": "mine.v1#abcd"}})
    assert tagged.fingerprint == library.fingerprint
    save_library(library, tmp_path / "again.json")
    assert "prompts" not in json.loads((tmp_path / "again.json").read_text())
    save_library(tagged, tmp_path / "tagged.json")
    assert load_library(tmp_path / "tagged.json").prompts == {"mine": "mine.v1#abcd"}
    assert ActionLibrary(name="x").extended([]).prompts == {}


def _mine_document_cli(tmp_path: Path, fake_server: FakeOpenAIServer, proposal: str, *more: str) -> tuple[Any, Path]:
    """`pearl mine --document` on the sample story, two questions imagined, each answered with `proposal`; `more`:
    arguments besides."""

    def reply(body: dict[str, object]) -> str:
        messages = body["messages"]
        assert isinstance(messages, list)
        if "different questions" in str(messages[-1]["content"]):
            return "Q: Why does Varga keep the light?\nQ: Who is Dorota?"
        return proposal

    fake_server.set_default(reply)
    out = tmp_path / "keeper.json"
    document = SAMPLE_DIR / "the_keeper_of_tren_light.txt"
    args = ["mine", "--document", str(document), "--imagine", "2", "-o", str(out), *more]
    return runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "fake-model"]), out


def test_cli_mine_document(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    proposal = "USE: FIND_REASON\nNEW: FIND_KEEPER_DUTY(CTX, X) : What the keeper must do about X."
    result, out = _mine_document_cli(tmp_path, fake_server, proposal)
    assert result.exit_code == 0, result.output
    assert "imagined 2 questions" in result.stdout and "  Why does Varga keep the light?" in result.stdout
    assert load_library(out).names == ["FIND_KEEPER_DUTY"]


def test_mining_from_an_empty_library_keeps_it_empty_of_seed_actions() -> None:
    llm = FakeLLM(default="USE: NONE\nNEW: FIND_CLUE(CTX, X) : Clues about X.", supports_grammar=True)
    result = asyncio.run(mine_actions(llm, ["Why?"], library=ActionLibrary(name="empty")))
    assert result.library.names == ["FIND_CLUE"]
    assert 'use    ::= "USE: NONE\\n"' in (llm.history[0].grammar or "")


def test_mining_api_is_explicit() -> None:
    import pearl.training

    names = pearl.training.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n)) and len(set(names)) == len(names)
    assert all(hasattr(pearl.training, n) for n in names)


def test_a_second_run_into_the_same_output_is_refused_while_the_first_goes_on(tmp_path: Path) -> None:
    # Unlocked, a second run asked every question again, and its rows went into the first's file,
    # which the first then deleted: the second's progress was lost on the next resume.
    partial = tmp_path / "p.jsonl"
    first = ProgressFile(partial, "mine", "k")
    first.open()
    first.add("q", reply="USE: NONE")
    llm = FakeLLM(default=mining_fake_reply)
    with pytest.raises(RunBusyError, match=r"another run is writing .*p.jsonl.*\(--out, progress_file=\)"):
        asyncio.run(mine_actions(llm, ["Why now?"], progress_file=partial))
    assert not llm.history and '"q": "q"' in partial.read_text()
    first.close()  # the first run ends (killed: its file stays)
    result = asyncio.run(mine_actions(llm, ["Why now?"], progress_file=partial, fresh=True))
    assert result.proposals == 1 and not partial.exists()


def test_mining_stops_once_question_after_question_gets_no_answer(tmp_path: Path) -> None:
    # With the server down, every question waited out its retries: the paper's 733 would take 25 minutes.
    partial = tmp_path / "p.jsonl"
    asked: list[str] = []

    def down(request: CompletionRequest) -> str | LLMError:
        asked.append(request.messages[-1].content)
        return "USE: FIND_X\nNEW: NONE" if len(asked) == 1 else ServerError("503: unavailable")

    questions = [f"Why did person {i} leave?" for i in range(20)]
    with pytest.raises(UnansweredError, match="stopped: 4 questions in a row got no answer .*503: unavailable") as err:
        asyncio.run(mine_actions(FakeLLM(default=down, delay=0.01), questions, concurrency=1, progress_file=partial))
    # Told to a Python caller as to the command line: it said "run the same command again", a command never run.
    assert "command" not in str(err.value) and "started again once the server answers, resumes" in str(err.value)
    assert len(asked) == 5
    assert '"reply": "USE: FIND_X' in partial.read_text()  # the one answered is kept for the next run
    # With none answered, it does not say that what is done is kept (helper-181).
    asked.append("the first is answered no more")
    with pytest.raises(UnansweredError, match="no question was answered, so nothing is kept") as err:
        asyncio.run(mine_actions(FakeLLM(default=down, delay=0.01), questions, concurrency=1))
    assert "what is done is kept" not in str(err.value)


def test_a_window_that_cannot_hold_the_mining_prompt_is_refused_before_any_call() -> None:
    # The prompt was never fitted: question after question was sent whole and refused by the server.
    llm = FakeLLM(default=mining_fake_reply, context_window=600)
    with pytest.raises(ConfigError, match="600-token window cannot hold the mining prompt: library seed's"):
        asyncio.run(mine_actions(llm, ["Why now?"]))
    assert not llm.history
    roomy = FakeLLM(default=mining_fake_reply, context_window=1400)
    asyncio.run(mine_actions(roomy, ["Why now? " * 2000]))  # a question longer than the window is cut to fit
    sent = roomy.history[0].messages[-1].content
    assert count_tokens(sent) < 1400 and "Why now?" in sent


def test_a_progress_file_keeps_no_lock_once_its_run_cannot_go_on(tmp_path: Path) -> None:
    # Refused (another run's rows), the file stayed locked: the same process could not open it again.
    partial = tmp_path / "p.jsonl"
    partial.write_text('{"pearl_refine": 1, "key": "k"}\n{"q": "x"}\n', encoding="utf-8")
    other = r"the progress of a refine run, not a mine run: write this one elsewhere \(--out, progress_file=\)"
    with pytest.raises(ConfigError, match=other):
        ProgressFile(partial, "mine", "k").open()
    again = ProgressFile(partial, "mine", "k")
    again.open(fresh=True)  # not refused as busy: the refused one let the lock go
    again.open()  # open already: nothing happens
    again.remove()
    assert not partial.exists()


def test_merging_stops_asking_a_server_silent_two_rounds_in_a_row() -> None:
    # Each later round waited out every call's retries again: 70 s and 95 requests against 14 s and 20.
    words = "harbour lamp ferry storm letter debt oath winter garden sword river bell".split()
    entries = [entry(f"ACT_{i:02d}", f"The {word} of X.", 1) for i, word in enumerate(words)]  # no overlap
    calls: list[int] = []

    async def down(batch: list[Action], total: int, cap: int) -> str:
        calls.append(len(batch))
        raise ServerError("503: unavailable")

    _, report = asyncio.run(merge_mined(entries, max_actions=4, ask=down, batch_size=4))
    assert len(calls) == sum(r.batches for r in report.rounds[:2])
    assert any("answered no batch of 2 rounds in a row" in error for error in report.errors)

    # A server silent for one round only is asked again, and merges.
    first_round = len(words) // 4
    calls.clear()

    async def back(batch: list[Action], total: int, cap: int) -> str:
        calls.append(len(batch))
        if len(calls) <= first_round:
            raise ServerError("503: unavailable")
        return f"MERGE: {batch[0].name}, {batch[1].name} -> {batch[0].name}"

    _, report = asyncio.run(merge_mined(entries, max_actions=4, ask=back, batch_size=4))
    assert report.rounds[0].merged == 0 and report.rounds[1].llm_batches > 0 and report.rounds[1].merged > 0


def test_mining_for_a_document_refuses_a_window_too_small_before_imagining() -> None:
    # The questions were imagined (a paid call) before the window was found too small for the mining prompt.
    llm = FakeLLM(default="Q: Why did she stay?", context_window=600)
    story = Document.from_text("Captain Ilse Varga kept the light at Tren Point. She stayed for her brother.")
    with pytest.raises(ConfigError, match="600-token window cannot hold the mining prompt"):
        asyncio.run(mine_document(llm, story))
    assert not llm.history


def test_a_merge_reply_cut_off_falls_back_to_overlap_instead_of_ending_the_run() -> None:
    # The asker's MergeReplyError ("the reply was cut off") went past the fallback and ended mining.
    async def cut(batch: list[Action], total: int, cap: int) -> str:
        raise MergeReplyError("the reply was cut off at 602 tokens")

    kept, report = asyncio.run(merge_mined(pool(), max_actions=5, ask=cut))
    assert report.rounds[0].fallback_batches >= 1 and len(kept) <= 5
    assert any("cut off" in error for error in report.errors)


def test_a_progress_file_holding_no_row_is_not_left_behind(tmp_path: Path) -> None:
    # Refused before any question (a window too small), a run left a file holding its header alone.
    partial = tmp_path / "p.jsonl"
    llm = FakeLLM(default=mining_fake_reply, context_window=600)
    with pytest.raises(ConfigError, match="cannot hold the mining prompt"):
        asyncio.run(mine_actions(llm, ["Why now?"], progress_file=partial))
    assert not partial.exists()
    kept = ProgressFile(partial, "mine", "k")
    kept.open()
    kept.add("q", reply="USE: NONE")
    kept.close()  # a row: the next run resumes from it
    assert '"q": "q"' in partial.read_text()
    other = ProgressFile(partial, "mine", "another key")
    with pytest.raises(ConfigError, match="the progress of another mine run"):
        other.open()
    other.close()
    assert '"q": "q"' in partial.read_text()  # another run's rows are never dropped
    partial.unlink()
    first = ProgressFile(partial, "mine", "k")
    first.open()  # a run that has finished nothing yet...
    partial.unlink()  # ...whose file is gone (deleted by hand), and another run makes and fills a new one
    second = ProgressFile(partial, "mine", "k")
    second.open()
    second.add("q2", reply="USE: NONE")
    first.close()  # deletes its own file only
    assert '"q": "q2"' in partial.read_text()
    second.remove()
    assert not partial.exists()


def test_mining_refuses_a_cap_the_starting_library_fills(tmp_path: Path) -> None:
    # Its actions are kept whole: a cap of 3 on the 7 seed actions gave 7, the one mined action cut, said nowhere.
    llm = FakeLLM(default=mining_fake_reply)
    with pytest.raises(ConfigError, match="seed has 7 actions, which are kept whole, and the cap is 7"):
        asyncio.run(mine_actions(llm, ["Why now?"], max_actions=7))
    document = Document.from_text("Varga keeps the light. Dorota rows the boat.", name="keeper.txt")
    with pytest.raises(ConfigError, match="cap is 3 .*raise the cap above 42"):
        asyncio.run(mine_document(llm, document, library=default_library(), max_actions=3))
    for questions in (0, 21):  # 100 was cut to 20 unsaid; one call asks for them all
        with pytest.raises(ConfigError, match=f"questions={questions}: imagine 1 to 20 questions"):
            asyncio.run(mine_document(llm, document, questions=questions))
    assert not llm.history
    out = tmp_path / "m.json"
    result = runner.invoke(app, ["mine", "--questions", str(QUESTIONS), "--max-actions", "3", "-o", str(out)])
    assert result.exit_code == 2 and "--max-actions" in result.stderr and "raise the cap above 7" in result.stderr
    assert not out.exists() and not (tmp_path / "m.json.partial.jsonl").exists()


def test_cli_mine_document_writes_no_empty_library(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    # The model asked only for the seed library's actions: an empty library was written, which `ask --actions` then
    # swapped for the default one without a word.
    result, out = _mine_document_cli(tmp_path, fake_server, "USE: FIND_REASON\nNEW: NONE")
    assert result.exit_code == 1 and not out.exists(), result.output
    said = "the model proposed no new action for the 2 questions it imagined (2 uses of the seed library's actions)"
    assert said in result.stderr
    # From a library of one's own, the same: the library was written again unchanged, exit 0.
    start = tmp_path / "start.json"
    save_library(default_library(), start)
    result, out = _mine_document_cli(tmp_path, fake_server, "USE: FIND_REASON\nNEW: NONE", "--actions", str(start))
    assert result.exit_code == 1 and not out.exists(), result.output
    assert "(2 uses of the starting library's actions)" in result.stderr
    # --limit counts questions of a file: with --document it was ignored.
    result, _ = _mine_document_cli(tmp_path, fake_server, "NEW: NONE", "--limit", "1")
    assert result.exit_code == 2 and "with --document, --imagine N says how many" in result.stderr
    # So were --format with --document, and --imagine with --questions.
    result, _ = _mine_document_cli(tmp_path, fake_server, "NEW: NONE", "--format", "leval")
    assert result.exit_code == 2 and "--format says how --questions FILE is laid out" in result.stderr
    questions = SAMPLE_DIR / "questions.jsonl"
    args = ["mine", "--questions", str(questions), "--imagine", "3", "-o", str(tmp_path / "q.json")]
    result = CliRunner().invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 2 and "--imagine N says how many questions to imagine for --document" in result.stderr
    assert not (tmp_path / "q.json").exists()


def test_the_merge_summary_counts_every_batch(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # "5 batches: 3 answered by the model, 0 merged by definition overlap": the two batches not sent went unsaid.
    from pearl.cli._training import _report_mining
    from pearl.training import MergeReport, MergeRound, MiningResult

    rounds = [
        MergeRound(round=1, before=20, after=15, batches=5, llm_batches=3),
        MergeRound(round=2, before=15, after=15, batches=2, llm_batches=2),
    ]
    result = MiningResult(library=seed_library(), questions=4, merge=MergeReport(rounds=rounds))
    _report_mining(result, tmp_path / "out.json", set())
    said = capsys.readouterr().out
    assert "(5 batches: 3 answered by the model, 0 merged by definition overlap, 2 with nothing to merge;" in said
    assert "(2 batches: 2 answered by the model, 0 merged by definition overlap; " in said


def test_a_library_mined_for_a_document_is_named_after_it() -> None:
    # A folder's library was "sample (1 file)-actions"; a file name over 92 characters failed the library's own
    # name check at the end of the run, every call paid for.
    from pearl.training._mine import _library_name

    assert _library_name("contract.pdf") == "contract-actions"
    assert _library_name("sample (1 file)") == "sample-actions" == _library_name("sample (1,234 files)")
    assert _library_name("My Report v2.pdf") == "My-Report-v2-actions" and _library_name("??.txt") == "document-actions"
    assert _library_name("v1.2 notes (3 files)") == "v1.2-notes-actions"  # a folder's dot is no file's suffix
    long = "x" * 300 + ".txt"
    document = Document.from_text("Varga keeps the light. Dorota rows the boat.", name=long)

    def reply(request: CompletionRequest) -> str:
        if (request.prompt or "").startswith("imagine"):
            return "Q: Why does Varga keep the light?"
        return "USE: FIND_X\nNEW: FIND_KEEPER_DUTY(CTX, X) : What the keeper must do about X."

    result = asyncio.run(mine_document(FakeLLM(default=reply), document, questions=1))
    assert result.library.name == "x" * 80 + "-actions" and result.library.names == ["FIND_KEEPER_DUTY"]


def test_a_row_added_after_a_line_cut_short_is_read_back(tmp_path: Path) -> None:
    # A run killed mid-write left '{"q": "cut sho'; the next run's first row went onto that line, and was lost.
    from pearl.training._progress import ProgressFile

    path = tmp_path / "actions.json.partial.jsonl"
    first = ProgressFile(path, "mine", "key-1")
    first.open()
    first.add("a", reply="USE: NONE")
    first.close()
    path.write_text(path.read_text(encoding="utf-8") + '{"q": "cut sho', encoding="utf-8")
    second = ProgressFile(path, "mine", "key-1")
    second.open()
    second.add("b", reply="USE: FIND_X")
    second.close()
    third = ProgressFile(path, "mine", "key-1")
    third.open()
    assert set(third.done) == {"a", "b"}
    third.close()


def test_a_mine_that_grows_its_own_library_and_fails_a_question_leaves_it_to_resume(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    # `--actions lib.json -o lib.json` wrote the library over its start, and the same command then refused the
    # progress file as another run's (its key is the library it started from): only --fresh, and paid replies lost.
    from fakeserver import Reply

    questions = tmp_path / "q.txt"
    questions.write_text("\n".join(f"Why does person {i} leave the village?" for i in range(6)) + "\n")
    library = tmp_path / "lib.json"
    save_library(seed_library(), library)
    start = library.read_text(encoding="utf-8")
    failing = {"on": True}

    def reply(body: dict[str, Any]) -> Reply | str:
        content = str(body["messages"][-1]["content"])
        if "The library has" in content:
            return "NONE"
        if failing["on"] and "person 3 " in content:
            return Reply.error(500, "boom")
        return "USE: FIND_X\nNEW: FIND_SHIP_NAME(CTX, X) : The name of the ship in X."

    fake_server.set_default(reply)
    args = ["mine", "--questions", str(questions), "--actions", str(library), "-o", str(library), "--no-cache"]
    args += ["--base-url", fake_server.base_url, "--model", "fake-model"]
    result = runner.invoke(app, args, env={"PEARL_MAX_RETRIES": "0"})
    assert result.exit_code == 1 and "1 question got no reply, so" in result.stderr, result.output
    assert library.read_text(encoding="utf-8") == start  # left as it was
    failing["on"] = False
    # A run limited to the first few keeps the others' replies in the file: the library it grows is left too.
    result = runner.invoke(app, [*args, "--limit", "3"], env={"PEARL_MAX_RETRIES": "0"})
    assert result.exit_code == 1 and "keeps the replies to questions --limit left out" in result.stderr, result.output
    assert library.read_text(encoding="utf-8") == start
    result = runner.invoke(app, args, env={"PEARL_MAX_RETRIES": "0"})
    assert result.exit_code == 0 and "5 of 6 already done" in result.output, result.output
    assert load_library(library).get("FIND_SHIP_NAME") is not None


def test_a_run_limited_to_fewer_questions_keeps_the_others_replies_when_asked_to(tmp_path: Path) -> None:
    # Resumed with the first 3 of 10 questions (pearl mine --limit 3), the run deleted the other paid replies.
    questions = [f"Why does person {i} leave the village?" for i in range(10)]
    partial = tmp_path / "actions.json.partial.jsonl"
    fails_on_eight = _failing_on(8)
    first = asyncio.run(mine_actions(FakeLLM(default=fails_on_eight), questions, concurrency=1, progress_file=partial))
    assert first.failed == 1 and partial.exists()
    limited = asyncio.run(
        mine_actions(FakeLLM(default=mining_fake_reply), questions[:3], progress_file=partial, keep_unasked=True)
    )
    assert limited.resumed == 3 and partial.exists()
    second = FakeLLM(default=mining_fake_reply)
    result = asyncio.run(mine_actions(second, questions, concurrency=1, progress_file=partial))
    assert result.resumed == 9 and result.failed == 0 and not partial.exists()
    assert len([r for r in second.history if (r.prompt or "").startswith("mine.")]) == 1
    # Not asked to keep them, a run with nothing failed is done with the file (an edited question's row kept it
    # for ever).
    asyncio.run(mine_actions(FakeLLM(default=fails_on_eight), questions, concurrency=1, progress_file=partial))
    asyncio.run(mine_actions(FakeLLM(default=mining_fake_reply), questions[:3], progress_file=partial))
    assert not partial.exists()


# ---------------------------------------------------------------------------------------------- helper-197


def _merges_down(request: CompletionRequest) -> str | LLMError:
    """`mining_fake_reply`, but every merge call gets a 503 (after its retries)."""
    if (request.prompt or "").startswith("merge."):
        return ServerError("server error 503: unavailable")
    return mining_fake_reply(request)


def test_a_library_merged_without_the_server_is_incomplete_and_its_replies_kept(tmp_path: Path) -> None:
    # Merging fell back to word overlap, the run called itself done and deleted its progress file: the only sign was
    # a note, and a run again paid for every question.
    questions = [f"Why does person {i} leave the village?" for i in range(8)]
    partial = tmp_path / "actions.json.partial.jsonl"
    first = asyncio.run(mine_actions(FakeLLM(default=_merges_down), questions, max_actions=9, progress_file=partial))
    assert first.failed == 0 and first.merge.failed_batches >= 1 and not first.complete
    assert first.progress_kept and partial.exists()
    healthy = FakeLLM(default=mining_fake_reply)
    second = asyncio.run(mine_actions(healthy, questions, max_actions=9, progress_file=partial))
    assert second.complete and second.resumed == 8 and not second.progress_kept and not partial.exists()
    assert {(r.prompt or "").split(".")[0] for r in healthy.history} == {"merge"}  # no question asked again


def test_merge_rounds_report_their_progress() -> None:
    seen: list[tuple[int, int, str]] = []
    questions = [f"Why does person {i} leave the village?" for i in range(8)]
    result = asyncio.run(
        mine_actions(FakeLLM(default=mining_fake_reply), questions, max_actions=9, on_merge=lambda *a: seen.append(a))
    )
    rounds = [r for r in result.merge.rounds if r.llm_batches + r.fallback_batches]
    assert seen and seen[0][0] == 0 and seen[0][2] == "round 1"
    finished = [report for report in seen if report[0] == report[1]]
    assert len(finished) == len(rounds) and finished[-1][2] == f"round {rounds[-1].round}"


def _merge_down_server(body: dict[str, Any]) -> Any:
    from fakeserver import Reply

    if "The library has" in str(body["messages"][-1]["content"]):
        return Reply.error(500, "the server is unwell")
    return "USE: FIND_X\nNEW: FIND_SHIP_NAME(CTX, X) : The name of the ship in X."


def test_cli_mine_whose_merge_got_no_answer_exits_1_and_the_same_command_completes_it(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    # Exit 0, "note: round 1: server error 500 ...", and the progress file deleted: nothing said the library was
    # merged by word overlap alone, nor what to do.
    fake_server.set_default(_merge_down_server)
    out = tmp_path / "mined.json"
    args = ["mine", "--questions", str(QUESTIONS), "--limit", "3", "-o", str(out), "--no-cache"]
    args += ["--base-url", fake_server.base_url, "--model", "fake-model"]
    result = runner.invoke(app, args, env={"PEARL_MAX_RETRIES": "0"})
    assert result.exit_code == 1 and out.is_file(), result.output
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"error: the library written to {out} is incomplete: 1 merge batch got no answer from")
    assert f"run the same command again to complete it (the replies so far are read back from {out}." in last
    assert "merged by definition overlap (1 for want of an answer from the server)" in result.stdout
    fake_server.set_default(lambda body: "NONE" if "The library has" in str(body["messages"][-1]["content"]) else "")
    asked = len(fake_server.chat_requests)
    again = runner.invoke(app, args, env={"PEARL_MAX_RETRIES": "0"})  # no --force: its progress file says to
    assert again.exit_code == 0 and "3 of 3 already done" in again.stderr, again.output
    assert len(fake_server.chat_requests) - asked == 1  # the merge alone
    assert not Path(f"{out}.partial.jsonl").exists()


def test_cli_mine_shows_the_merge_rounds_progress(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    # The bar reached 100%, then up to 8 rounds of merge calls went by with nothing shown.
    fake_server.set_default(
        lambda body: (
            "NONE"
            if "The library has" in str(body["messages"][-1]["content"])
            else "USE: FIND_X\nNEW: FIND_SHIP_NAME(CTX, X) : The name of the ship in X."
        )
    )
    out = tmp_path / "mined.json"
    args = ["mine", "--questions", str(QUESTIONS), "--limit", "2", "-o", str(out), "--no-cache"]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "fake-model"])
    assert result.exit_code == 0, result.output
    assert "merging [####################] 1/1 100%  round 1" in result.stderr


def test_cli_mine_says_a_file_of_comments_holds_no_questions(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    # "no usable reply for any of 0 questions ... check the server": the server was blamed for an empty file.
    questions = tmp_path / "cq.txt"
    questions.write_text("# q\n\n# another comment\n", encoding="utf-8")
    args = ["mine", "--questions", str(questions), "-o", str(tmp_path / "o.json")]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "fake-model"])
    assert result.exit_code == 2, result.output
    assert f"{questions} holds no questions, only comments ('#' lines)" in result.stderr
    assert "server" not in result.stderr and fake_server.requests == []


@pytest.mark.parametrize("name", ["qs.json", "qs.jsonl"])
def test_cli_mine_says_a_json_array_of_questions_is_laid_out_otherwise(
    tmp_path: Path, fake_server: FakeOpenAIServer, name: str
) -> None:
    # "qs.json:1: not valid JSON: Expecting value (line 1, column 2)": its "[" quoted, the layout unsaid.
    questions = tmp_path / name
    asked = [{"question": "Who is Dorota?"}, {"question": "Why does Varga stay?"}]
    questions.write_text("\ufeff" + json.dumps(asked, indent=2) + "\n", encoding="utf-8")
    args = ["mine", "--questions", str(questions), "-o", str(tmp_path / "o.json")]
    result = runner.invoke(app, [*args, "--base-url", fake_server.base_url, "--model", "fake-model"])
    assert result.exit_code == 2, result.output
    assert f"{questions} is a JSON array; a questions file holds one JSON object a line" in result.stderr
    assert "Expecting value" not in result.stderr and fake_server.requests == []


def test_cli_mine_document_says_a_bad_imagined_reply_is_read_back_from_the_cache(
    tmp_path: Path, fake_server: FakeOpenAIServer
) -> None:
    # The same command failed the same way, no call made, and nothing said the reply came from the cache.
    fake_server.set_default("I cannot think of any questions.")
    document = SAMPLE_DIR / "the_keeper_of_tren_light.txt"
    args = ["mine", "--document", str(document), "--imagine", "2", "-o", str(tmp_path / "keeper.json")]
    args += ["--base-url", fake_server.base_url, "--model", "fake-model"]
    first = runner.invoke(app, args)
    assert first.exit_code == 1 and "imagined no usable question" in first.stderr, first.output
    assert "--no-cache" not in first.stderr  # asked the model: nothing read back
    asked = len(fake_server.chat_requests)
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and len(fake_server.chat_requests) == asked, again.output
    assert "the reply was read back from the response cache: add --no-cache to ask afresh" in again.stderr
    assert "cache=False" not in again.stderr
