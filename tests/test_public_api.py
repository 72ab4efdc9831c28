"""The public API: every package's `__all__` pinned exactly, the command tree, and no I/O at import."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pearl
from pearl.cli import app

# A change here is a change to what users may rely on: make it on purpose, and say so in the changelog.
EXPECTED_ALL: dict[str, list[str]] = {
    "pearl": [
        "DEFAULT_METHOD",
        "LLM",
        "Action",
        "ActionLibrary",
        "Answer",
        "BlankReplyError",
        "Citation",
        "Completion",
        "CompletionRequest",
        "CompressedContext",
        "ConfigError",
        "ContextError",
        "ContextOverflowError",
        "DatasetError",
        "Demo",
        "DemoStore",
        "Document",
        "DocumentError",
        "DocumentIndex",
        "DocumentPart",
        "DocumentTooLargeError",
        "EmbeddedLLM",
        "EmbeddedModelError",
        "ExecutionError",
        "FakeLLM",
        "LLMConnectionError",
        "LLMError",
        "LLMRequestError",
        "LLMResponseError",
        "LLMTimeoutError",
        "MergeReplyError",
        "Message",
        "OpenAICompatibleLLM",
        "Pearl",
        "PearlError",
        "Plan",
        "PlanError",
        "PlanParseError",
        "PlanResult",
        "Progress",
        "ProposalError",
        "Question",
        "QuestionError",
        "RateLimitError",
        "Recorder",
        "ReplyFormatError",
        "RetryableError",
        "RunBusyError",
        "RunWriteError",
        "ServerError",
        "Settings",
        "StageProgress",
        "Step",
        "StepContext",
        "StepOutcome",
        "Trace",
        "TraceEvent",
        "UnansweredError",
        "Usage",
        "compress",
        "default_library",
        "entity_sheet",
        "execute_plan",
        "generate_plan",
        "index_document",
        "load_demos",
        "load_document",
        "load_library",
        "load_settings",
        "make_llm",
        "parse_plan",
        "render_trace",
        "save_library",
    ],
    "pearl.errors": [
        "ERROR_NAMES",
        "BlankReplyError",
        "ConfigError",
        "ContextError",
        "ContextOverflowError",
        "DatasetError",
        "DocumentError",
        "DocumentTooLargeError",
        "EmbeddedModelError",
        "ExecutionError",
        "LLMConnectionError",
        "LLMError",
        "LLMRequestError",
        "LLMResponseError",
        "LLMTimeoutError",
        "MergeReplyError",
        "PearlError",
        "PlanError",
        "PlanParseError",
        "ProposalError",
        "QuestionError",
        "RateLimitError",
        "ReplyFormatError",
        "RetryableError",
        "RunBusyError",
        "RunWriteError",
        "ServerError",
        "UnansweredError",
        "own_copy",
        "stops_a_run",
        "unanswered",
        "unanswered_name",
    ],
    "pearl.models": [
        "Answer",
        "Citation",
        "Completion",
        "CompletionRequest",
        "Document",
        "DocumentPart",
        "Message",
        "StepRequest",
        "StepSlice",
        "Trace",
        "TraceDocument",
        "TraceEvent",
        "Usage",
    ],
    "pearl.protocols": ["LLM", "Progress", "StageProgress", "StepContext"],
    "pearl.config": [
        "DEFAULT_CONTEXT_WINDOW",
        "ENVIRONMENT",
        "PATH_VARIABLES",
        "Settings",
        "SettingsArgs",
        "default_threads",
        "for_caller",
        "given_with",
        "key_problem",
        "load_flag_settings",
        "load_settings",
        "masked_url",
        "set_where",
        "url_problem",
    ],
    "pearl.llm": [
        "DEMO_NOTICE",
        "LLM",
        "LOOP_WAITING",
        "CachedLLM",
        "Completion",
        "CompletionRequest",
        "EmbeddedLLM",
        "FakeLLM",
        "FakeReply",
        "Message",
        "OpenAICompatibleLLM",
        "OutputMode",
        "ResponseCache",
        "constrained",
        "cut_at_limit",
        "find_embedded_model",
        "make_llm",
        "output_mode",
    ],
    "pearl.context": [
        "AUTO_CHARS",
        "DENSE_INSTALL",
        "FILE_LINE",
        "PIPELINE_VERSION",
        "CompressedContext",
        "DocumentIndex",
        "Embedder",
        "Entity",
        "Mention",
        "MiniLM",
        "Relation",
        "Sentence",
        "SentenceFlag",
        "Weights",
        "attach_embeddings",
        "build_index",
        "cite",
        "code_sentences",
        "compress",
        "count_words",
        "dense_available",
        "dense_wanted",
        "entity_graph",
        "entity_named",
        "entity_sentences",
        "entity_sheet",
        "find_entities",
        "has_vectors",
        "index_document",
        "query_terms",
        "rank_entities",
        "rank_sentences",
        "relations",
        "render_sentences",
        "sentence_cost",
        "sentence_span",
        "shown_document",
        "skim",
        "whole_document",
    ],
    "pearl.actions": [
        "CTX",
        "LOCAL_ACTIONS",
        "Action",
        "ActionLibrary",
        "LibraryFormat",
        "default_library",
        "holds_demos",
        "load_library",
        "parse_action_list",
        "render_action_list",
        "save_library",
        "seed_library",
    ],
    "pearl.planning": [
        "ANSWER",
        "DEFAULT_MAX_CHARS",
        "DEFAULT_MAX_LINE_CHARS",
        "DEFAULT_MAX_STEPS",
        "DEFAULT_MAX_STRING_CHARS",
        "Arg",
        "ArgKind",
        "Demo",
        "DemoStore",
        "DocumentKind",
        "Plan",
        "PlanAttempt",
        "PlanResult",
        "Step",
        "builtin_demos",
        "check_demos",
        "choose_actions",
        "demos_fingerprint",
        "document_kind",
        "generate_plan",
        "load_demos",
        "parse_plan",
        "plan_constraints",
        "plan_from_json",
        "plan_gbnf",
        "plan_json_schema",
        "plan_rules",
        "plan_to_json",
        "plan_window_problem",
        "read_plan_reply",
        "rejected_text",
        "render_demos",
        "renumber",
        "runnable_demos",
        "save_demos",
        "seed_demos",
        "select_demos",
        "validate_plan",
    ],
    "pearl.execution": [
        "ANSWER_SHARE",
        "AUTO_SHARE",
        "INPUT_TOKENS",
        "IN_PLACE",
        "MIN_CALL_TOKENS",
        "NOTE_TOKENS",
        "OPENING_SHARE",
        "SHARED_SHARE",
        "STEP_SHARES",
        "CompressedStepContext",
        "EvidenceBudget",
        "FullDocumentContext",
        "StepOutcome",
        "StepStyle",
        "cited_ids",
        "evidence_budget",
        "execute_plan",
    ],
    "pearl.methods": [
        "ARGUED_NOTE",
        "FALLBACK",
        "METHODS",
        "QUESTION_SHARES",
        "AskContext",
        "Executor",
        "Method",
        "ReplyFormat",
        "answer_direct",
        "answer_from_plan",
        "answer_rag",
        "choose_letter",
        "citations_for",
        "direct_window_problem",
        "rag_window_problem",
        "reply_format",
    ],
    "pearl.eval": [
        "FORMATS",
        "QUESTION_TYPES",
        "REPORT_FILE",
        "REPORT_HTML_FILE",
        "RESULTS_FILE",
        "RUN_FILE",
        "SPLITS",
        "SUMMARY_FILE",
        "TRACES_DIR",
        "UNANSWERED_STOP",
        "Comparison",
        "Dataset",
        "EvalDocument",
        "EvalQuestion",
        "EvalSummary",
        "GroupScore",
        "MethodSummary",
        "PlanSet",
        "ResultRow",
        "RunComparison",
        "RunConfig",
        "RunsCompared",
        "Silence",
        "arun_eval",
        "as_shown",
        "best_over",
        "bootstrap_mean",
        "check_methods",
        "compare_runs",
        "counting_fake_llm",
        "detect_format",
        "evidence_blocks",
        "evidence_shown",
        "exact_match",
        "fake_reply",
        "latest_rows",
        "load_dataset",
        "load_results",
        "match_plans",
        "mcnemar_exact",
        "normalize_answer",
        "paired_bootstrap",
        "question_type",
        "read_plans",
        "read_questions",
        "render_comparison",
        "render_report",
        "rouge_l",
        "run_eval",
        "score_answer",
        "select_questions",
        "strip_citations",
        "summarize",
        "token_f1",
        "write_summary",
    ],
    "pearl.training": [
        "DEFAULT_MAX_ACTIONS",
        "MergeGroup",
        "MergeReport",
        "MergeRound",
        "MiningResult",
        "PlanningStats",
        "Proposal",
        "ProposedAction",
        "RefineRecord",
        "RefineResult",
        "compare_planning",
        "gold_in_arguments",
        "merge_gbnf",
        "merge_json_schema",
        "mine_actions",
        "mine_document",
        "mining_fake_llm",
        "mining_fake_reply",
        "normalize_name",
        "parse_merge_reply",
        "parse_proposal",
        "parse_proposal_json",
        "progress_path",
        "proposal_gbnf",
        "proposal_json_schema",
        "refine_demos",
        "split_holdout",
    ],
    "pearl.html": [
        "DEMO_SCORES",
        "UNCACHED_NOTE",
        "index_for_page",
        "index_for_trace",
        "render_answer_page",
        "render_report_page",
        "render_trace_page",
    ],
    "pearl.cli": ["COMMANDS", "app", "main"],
}


@pytest.mark.parametrize("module", sorted(EXPECTED_ALL))
def test_all_is_pinned_and_importable(module: str) -> None:
    mod = importlib.import_module(module)
    assert mod.__all__ == EXPECTED_ALL[module]
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name}"


def test_lazy_top_level_names_are_what_type_checkers_see() -> None:
    """`pearl` loads its names on first use; each must be the object its `if TYPE_CHECKING:` import names."""
    import ast

    tree = ast.parse(Path(pearl.__file__).read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    seen = set()
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names:
            assert getattr(pearl, alias.name) is getattr(importlib.import_module(node.module), alias.name)
            seen.add(alias.name)
    assert seen == set(pearl.__all__)


def test_top_level_all_is_sorted() -> None:
    assert pearl.__all__ == sorted(pearl.__all__, key=lambda n: (not n.isupper(), n))


def test_every_command_is_registered() -> None:
    commands = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    groups = {g.name for g in app.registered_groups}
    assert commands == {"ask", "plan", "config", "index", "context", "eval", "compare", "mine", "refine"}
    assert groups == {"trace", "actions"}
    result = subprocess.run(
        [sys.executable, "-m", "pearl", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    for name in commands | groups:
        assert f" {name} " in result.stdout, name


# Audit events that touch files, databases, sockets or processes (see the `sys.addaudithook` docs).
_PROBE = """
import json, os, sys
seen = []
def hook(event, args):
    if event in ("open", "os.listdir", "os.scandir", "sqlite3.connect", "socket.connect", "subprocess.Popen",
                 "os.mkdir", "os.rename", "os.remove", "shutil.copyfile"):
        flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT
        write = event == "open" and (any(c in str(args[1] or "") for c in "wax+") or bool((args[2] or 0) & flags))
        seen.append([event, str(args[0]) if args else "", write])
sys.addaudithook(hook)
import pearl
for name in pearl.__all__:  # the public names load on first use: load them all
    getattr(pearl, name)
print(json.dumps(seen))
"""


def import_events(home: Path) -> list[list[str | bool]]:
    env = {"PATH": "/usr/bin:/bin", "PEARL_HOME": str(home), "HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, env=env)
    events: list[list[str | bool]] = json.loads(out.stdout)
    return events


def test_import_does_no_io(tmp_path: Path) -> None:
    """Importing pearl reads modules and nothing else of pearl's: no prompt, data file, cache, database or socket."""
    package = Path(pearl.__file__).resolve().parent
    ours = (str(tmp_path), str(package.parent / "prompts"), str(package))
    # Python itself may write bytecode caches while importing; that is the interpreter's I/O, not pearl's.
    # A bare number is a file descriptor the interpreter or a library wraps (a pipe), not a file it opens.
    events = [e for e in import_events(tmp_path) if "__pycache__" not in str(e[1]) and not str(e[1]).isdigit()]
    assert events, "the audit hook saw nothing: the probe is broken"
    bad = [
        e
        for e in events
        if e[0] in ("sqlite3.connect", "socket.connect", "subprocess.Popen", "os.mkdir", "os.rename", "os.remove")
        or (e[0] == "open" and e[2])
        or (str(e[1]).startswith(ours) and not str(e[1]).endswith((".py", ".pyc")) and e[0] != "os.listdir")
        or (e[0] == "os.listdir" and str(e[1]).startswith(ours[:2]))
    ]
    assert not bad, bad


def test_import_does_not_load_spacy_or_the_models() -> None:
    code = (
        "import sys, pearl; [getattr(pearl, name) for name in pearl.__all__]; "
        "print(sorted(m for m in ('spacy', 'llama_cpp', 'torch', 'typer') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_code_built_on_pearl_is_type_checked_against_its_types(tmp_path: Path) -> None:
    # Without the py.typed marker, mypy treated the installed package as untyped: every name was Any.
    script = tmp_path / "user.py"
    script.write_text(
        "from pearl import FakeLLM, Pearl, load_settings\n"
        "pearl = Pearl(llm=FakeLLM(['B']), settings=load_settings(cache=False))\n"
        "answer = pearl.ask('Mira runs the ferry.', 'Who runs the ferry?', method='rag')\n"
        "text: str = answer.answer\n"
        "count: int = answer.answer\n"
        # A listener for each stage, as a user writes one: the protocol's defaults refused it.
        "def told(stage: str, done: int, total: int) -> None: ...\n"
        "Pearl(llm=FakeLLM(['B']), on_stage=told)\n"
        # And for a long operation's progress, as a function or a lambda: status's default refused both (helper-205).
        "from pearl import index_document\n"
        "def advanced(done: int, total: int, status: str) -> None: ...\n"
        "index_document('Mira runs the ferry.', progress=advanced)\n"
        "index_document('Mira runs the ferry.', progress=lambda done, total, status: None)\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", os.devnull, "--no-error-summary", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    errors = run.stdout.strip().splitlines()
    assert len(errors) == 1 and "user.py:5: error: Incompatible types in assignment" in errors[0], run.stdout


def test_public_docstrings_say_escapes_as_escapes() -> None:
    # `help(pearl.Citation)` printed a real line break where its docstring meant the characters "\r\n".
    for name in pearl.__all__:
        value = getattr(pearl, name)
        members = [value, *vars(value).values()] if inspect.isclass(value) else [value]
        for member in members:
            doc = member.__doc__ if inspect.isclass(member) or inspect.isroutine(member) else None
            if isinstance(doc, str):
                assert not re.search(r'[\r\x08]|"\n"', doc), f"{name}: {member!r}"


def test_an_answer_prints_its_traces_events_by_their_stages_not_every_prompt() -> None:
    # An answer carries its trace, whose events hold every prompt whole: printed, it was 65,000 characters for a
    # 16,000-character story, the answer lost in them.
    story = " ".join(f"Mira ferried {n} passengers across the strait on day {n}." for n in range(400))
    llm = pearl.FakeLLM(default="She ferried them [S1].")
    answer = pearl.Pearl(llm=llm, settings=pearl.Settings(cache=False)).ask(
        story, "Who ran the ferry?", method="direct"
    )
    shown = repr(answer)
    assert "events=<2 events: document, answer>" in shown and story[:200] not in shown, shown[:2000]
    assert len(shown) < 3000 and str(answer).count("She ferried them [S1].") >= 1


def test_a_sentence_id_the_index_lacks_is_an_index_error_and_usages_sum() -> None:
    # S-1 was the last sentence, as a list's -1, and its citation said sentence_id -1; sum() of usages raised
    # TypeError (int + Usage) (helper-205).
    from pearl import FakeLLM, Pearl, index_document, load_settings
    from pearl.models import Document

    index = index_document(Document.from_text("Mira runs the ferry. Tom rows."))
    for read in (index.citation, index.sentence_text, index.sentence):
        for sid in (-1, index.sentence_count):
            with pytest.raises(IndexError, match=f"no sentence S{sid}: the index has S0 to S1"):
                read(sid)
    pearl_ = Pearl(llm=FakeLLM(default="Mira [S0]."), settings=load_settings(cache=False))
    answers = [pearl_.ask("Mira runs the ferry.", question, method="rag") for question in ("Who?", "Who rows?")]
    total = sum(answer.usage for answer in answers)
    assert total == answers[0].usage + answers[1].usage and total.calls == 2
    with pytest.raises(TypeError, match="unsupported operand"):  # an AttributeError of a field, before
        answers[0].usage + 1  # type: ignore[operator]


def test_documents_and_questions_are_keys_as_frozen_values_are() -> None:
    # Frozen, yet `{document: ...}` and an lru_cache over questions raised "unhashable type: 'list'".
    first, again = (
        pearl.Document.from_text("The keeper lit the lamp.", name="log"),
        pearl.Document.from_text("The keeper lit the lamp.", name="log"),
    )
    other = pearl.Document.from_text("The keeper lit the lamp.", name="diary")
    assert first == again and len({first, again, other}) == 2 and {first: 1}[again] == 1
    asked = pearl.Question(text="Who lit it?", options=["The keeper", "Her son"])
    assert {asked: 1}[pearl.Question(text="Who lit it?", options=["The keeper", "Her son"])] == 1
    assert (
        len({asked, pearl.Question(text="Who lit it?"), pearl.Question(text="Who lit it?", options=["Her son"])}) == 3
    )
