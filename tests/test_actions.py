"""The action library: models, bundled libraries, JSON persistence, the paper's action-list format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SHARED_DATA
from pydantic import ValidationError

import pearl.actions
from pearl.actions import (
    CTX,
    Action,
    ActionLibrary,
    default_library,
    load_library,
    parse_action_list,
    render_action_list,
    save_library,
    seed_library,
)
from pearl.errors import ConfigError, PearlError

SHARED_PAPER = SHARED_DATA / "pearl_paper"

SEED_NAMES = ["CONCAT", "EXTRACT", "FIND_X", "FIND_REASON", "FIND_MORAL", "SUMMARIZE", "SUMMARIZE_X"]


def _lib(*actions: Action, name: str = "t") -> ActionLibrary:
    return ActionLibrary(name=name, actions=list(actions))


def test_public_api_is_explicit() -> None:
    # what is public is pinned in test_public_api.py; here: every name resolves
    for name in pearl.actions.__all__:
        assert hasattr(pearl.actions, name)


# --- Action -------------------------------------------------------------------------------


def test_action_basics() -> None:
    a = Action(name="FIND_REASON", params=["CTX", "X"], definition="  why X happens  ")
    assert a.definition == "why X happens"
    assert a.needs_document
    assert a.signature == "FIND_REASON(CTX, X)"
    assert a.render() == "FIND_REASON(CTX, X) : why X happens"
    assert (a.min_args, a.max_args) == (2, 2)
    assert [a.param_at(i) for i in range(3)] == ["CTX", "X", None]
    assert a.count == 0 and a.examples == []


def test_variadic_action() -> None:
    concat = Action(name="CONCAT", params=["S1", "S2"], definition="join", variadic=True, pure=True)
    assert not concat.needs_document
    assert concat.signature == "CONCAT(S1, S2, ...)"
    assert (concat.min_args, concat.max_args) == (1, None)
    assert concat.param_at(7) == "S2"
    with_doc = Action(name="GATHER", params=["CTX", "X"], definition="collect", variadic=True)
    assert (with_doc.min_args, with_doc.max_args) == (2, None)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"name": "find_x"}, "pattern"),
        ({"name": "_FIND"}, "pattern"),
        ({"name": "FIND-X"}, "pattern"),
        ({"params": ["ctx"]}, "pattern"),
        ({"params": ["X", "X"]}, "distinct"),
        ({"definition": "two\nlines"}, "one line"),
        ({"definition": "   "}, "empty"),
        ({"pure": True}, "pure"),
        ({"variadic": True, "params": []}, "variadic"),
        ({"variadic": True, "params": ["X", "CTX"]}, "variadic"),
        ({"count": -1}, "greater than or equal"),
        ({"extra": 1}, "Extra inputs"),
    ],
)
def test_action_rejects(fields: dict[str, object], fragment: str) -> None:
    data: dict[str, object] = {"name": "FIND_X", "params": ["CTX", "X"], "definition": "d", **fields}
    with pytest.raises(ValidationError, match=fragment):
        Action.model_validate(data)


# --- ActionLibrary ------------------------------------------------------------------------


def test_library_lookup_and_render() -> None:
    lib = _lib(
        Action(name="FIND_X", params=["CTX", "X"], definition="find X"),
        Action(name="COMPARE", params=["X", "Y"], definition="compare X and Y"),
    )
    assert lib.get("FIND_X") is lib.actions[0]
    assert lib.get("find_x") is lib.actions[0]
    assert lib.get("NOPE") is None
    assert "COMPARE" in lib and "compare" in lib and "NOPE" not in lib and 3 not in lib
    assert len(lib) == 2
    assert lib.names == ["FIND_X", "COMPARE"]
    assert lib.render() == "FIND_X(CTX, X) : find X\nCOMPARE(X, Y) : compare X and Y"


def test_lookup_follows_a_copy_with_fewer_actions() -> None:
    lib = default_library()
    subset = lib.model_copy(update={"actions": lib.actions[:3]})
    assert subset.names == ["CONCAT", "EXTRACT", "FIND_X"]
    assert "ANSWER" not in subset and subset.get("ANSWER") is None
    assert subset.get("find_x") is lib.actions[2]


def test_library_rejects_duplicate_names() -> None:
    a = Action(name="FIND_X", params=["CTX", "X"], definition="find X")
    with pytest.raises(ValidationError, match="defined twice"):
        _lib(a, a)


def test_fingerprint_tracks_meaning_not_labels() -> None:
    a = Action(name="FIND_X", params=["CTX", "X"], definition="find X")
    base = _lib(a)
    assert re.fullmatch(r"[0-9a-f]{64}", base.fingerprint)
    assert base.fingerprint == _lib(a).fingerprint
    assert base.fingerprint == ActionLibrary(name="other", version="9", actions=[a]).fingerprint
    assert base.fingerprint == _lib(a.model_copy(update={"count": 5, "examples": ["q"]})).fingerprint
    assert base.fingerprint != _lib(a.model_copy(update={"definition": "find Y"})).fingerprint
    assert base.fingerprint != _lib(a.model_copy(update={"params": ["X"]})).fingerprint
    two = Action(name="COMPARE", params=["X", "Y"], definition="c")
    assert _lib(a, two).fingerprint != _lib(two, a).fingerprint


def test_extended() -> None:
    a = Action(name="FIND_X", params=["CTX", "X"], definition="find X")
    lib = _lib(a)
    new = Action(name="COUNT_X", params=["CTX", "X"], definition="count X")
    bigger = lib.extended([new])
    assert bigger.names == ["FIND_X", "COUNT_X"] and "COUNT_X" in bigger
    assert lib.names == ["FIND_X"]
    # the same signature again is a no-op; a different one is refused
    assert lib.extended([a.model_copy(update={"definition": "other words"})]) is lib
    with pytest.raises(ConfigError, match="already defined as FIND_X"):
        lib.extended([Action(name="FIND_X", params=["CTX", "X", "Y"], definition="d")])


# --- bundled libraries --------------------------------------------------------------------


def test_seed_library_is_the_papers_seven() -> None:
    seed = seed_library()
    assert seed.name == "seed" and seed.version == "1"
    assert seed.names == SEED_NAMES
    signatures = {a.name: a.signature for a in seed.actions}
    assert signatures == {
        "CONCAT": "CONCAT(S1, S2, ...)",
        "EXTRACT": "EXTRACT(CTX, X)",
        "FIND_X": "FIND_X(CTX, X)",
        "FIND_REASON": "FIND_REASON(CTX, X)",
        "FIND_MORAL": "FIND_MORAL(CTX)",
        "SUMMARIZE": "SUMMARIZE(CTX)",
        "SUMMARIZE_X": "SUMMARIZE_X(CTX, X)",
    }
    concat = seed.get("CONCAT")
    assert concat is not None and concat.pure and concat.variadic
    assert [a.name for a in seed.actions if a.pure] == ["CONCAT"]


def test_default_library_shape() -> None:
    lib = default_library()
    assert lib.name == "default"
    assert 30 <= len(lib) <= 45
    # it contains the seed set verbatim, so plans written against the seed stay valid
    seed = seed_library()
    for action in seed.actions:
        assert lib.get(action.name) == action
    for name in [
        "ANSWER",
        "COMPARE",
        "FIND_CHARACTER",
        "FIND_EVENT",
        "FIND_RELATION",
        "FIND_EMOTION",
        "DEFINE",
        "FIND_QUANTITY",
        "FIND_TIME",
        "FIND_PLACE",
        "FIND_CLAUSE",
        "FIND_OBLIGATION",
        "FIND_METHOD",
        "FIND_RESULT",
        "FIND_DATASET",
        "FIND_SETTING",
        "FIND_THEME",
        "FIND_NARRATOR",
        "FIND_MOTIVE",
    ]:
        assert name in lib, name
    no_document = [a for a in lib.actions if not a.needs_document]
    assert {"CONCAT", "COMPARE"} <= {a.name for a in no_document}
    for action in lib.actions:
        assert action.params.count(CTX) <= 1
        assert not action.needs_document or action.params[0] == CTX
        assert len(action.definition) <= 120, action.name
    # one line per action in a prompt
    assert len(lib.render().splitlines()) == len(lib)


def test_bundled_libraries_are_fresh_objects() -> None:
    assert default_library() == default_library()
    assert default_library() is not default_library()
    assert load_library() == default_library()


# --- load / save --------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path: Path) -> None:
    lib = default_library()
    path = save_library(lib, tmp_path / "sub" / "mine.json")
    assert path == tmp_path / "sub" / "mine.json"
    again = load_library(path)
    assert again == lib and again.fingerprint == lib.fingerprint
    assert load_library(str(path)) == lib
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data)[:2] == ["name", "version"]
    # defaults are left out, so the file reads like the bundled one
    extract = next(a for a in data["actions"] if a["name"] == "EXTRACT")
    assert set(extract) == {"name", "params", "definition"}
    assert [p.name for p in path.parent.iterdir()] == ["mine.json"]  # no temporary file left behind


def test_save_overwrites_and_keeps_provenance(tmp_path: Path) -> None:
    path = tmp_path / "lib.json"
    path.write_text("old", encoding="utf-8")
    mined = Action(
        name="FIND_BEHAVIOR_REASON",
        params=["CTX", "X"],
        definition="why X acts so",
        count=12,
        examples=["Why does Si retire?"],
    )
    save_library(_lib(mined, name="mined"), path)
    loaded = load_library(path)
    assert loaded.actions == [mined]
    assert loaded.actions[0].examples == ["Why does Si retire?"]


def test_save_empty_library(tmp_path: Path) -> None:
    path = save_library(ActionLibrary(name="empty"), tmp_path / "e.json")
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "empty", "version": "1", "actions": []}
    assert load_library(path) == ActionLibrary(name="empty")


def test_save_failure_is_a_config_error(tmp_path: Path) -> None:
    target = tmp_path / "dir.json"
    target.mkdir()
    with pytest.raises(ConfigError, match="cannot write action library"):
        save_library(default_library(), target)
    assert [p.name for p in tmp_path.iterdir()] == ["dir.json"]


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "lib.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ('{"name": "x", "actions": [', ["not valid JSON", "line 1, column"]),
        ("[]", ["must be a JSON object", "not a list"]),
        ('{"actions": []}', ["name: is missing"]),
        (
            '{"name": "x", "actions": [{"name": "A", "params": [], "definition": "a"},'
            ' {"name": "FIND_X", "params": ["CTX"]}]}',
            ["actions[1] (FIND_X).definition: is missing"],
        ),
        (
            '{"name": "x", "actions": [{"name": "find", "params": [], "definition": "a"}]}',
            ['actions[0] (find).name: "find" is not a name: write it in capitals, digits and _, a letter first'],
        ),
        (
            '{"name": "x", "actions": [{"name": "A", "params": [], "defintion": "a"}]}',
            ["defintion: is not a field pearl knows (check its spelling)"],
        ),
        (
            '{"name": "x", "actions": [{"name": "A", "definition": "a"}, {"name": "A", "definition": "b"}]}',
            ["defined twice"],
        ),
        (b'{"name": "\xff"}', ["not UTF-8"]),
        # pydantic's own words named its checks: "String should match pattern '^[A-Z][A-Z0-9_]*$'", "Input should be
        # a valid boolean, unable to interpret input" (session 66's list).
        (
            '{"name": "x", "actions": [{"name": "A", "params": ["CTX", "x y"], "definition": "", "pure": "maybe",'
            ' "count": "many", "examples": "s1 = A(CTX)"}]}',
            [
                'actions[0] (A).params[1]: "x y" is not a name',
                "actions[0] (A).definition: is empty",
                'actions[0] (A).pure: "maybe" is not true or false',
                'actions[0] (A).count: "many" is not a whole number',
                'actions[0] (A).examples: "s1 = A(CTX)" is not a list [...]',
            ],
        ),
        (
            '{"name": "x", "actions": [{"name": "A", "definition": "a", "count": -1}]}',
            ["actions[0] (A).count: -1 is out of range (greater than or equal to 0)"],
        ),
    ],
)
def test_malformed_library_files(tmp_path: Path, content: str | bytes, fragments: list[str]) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ConfigError) as info:
        load_library(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_missing_library_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_library(tmp_path / "nope.json")
    assert "nope.json" in str(info.value)
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        load_library(tmp_path)
    assert issubclass(ConfigError, PearlError)


# --- the paper's action-list format ---------------------------------------------------------

PAPER_LIST = """FIND_ELEMENT(CTX, X, Y) # Find the element X related to Y given the input CTX (e.g., a #1 hit).
CONCAT(S1, S2, ...) # Concatenate the given strings.
LEAST_DESCRIBING(CTX, X, adjectives)\t#Find the adjective that least describes X.
FIND_REACTION(CTX, X, Y) #
FIND_ELEMENT(CTX, X) # A second definition of the same name.
not an action line
SUMMARIZE(CTX) # Provides a general summary about the given CTX."""


def test_read_the_papers_action_list(tmp_path: Path) -> None:
    library, problems = parse_action_list(PAPER_LIST, name="paper", source="list.txt")
    assert library.names == ["FIND_ELEMENT", "CONCAT", "LEAST_DESCRIBING", "SUMMARIZE"]
    element, concat, least, summarize = library.actions
    assert element.params == ["CTX", "X", "Y"] and element.definition.endswith("(e.g., a #1 hit).")
    assert concat.variadic and concat.pure and concat.params == ["S1", "S2"]  # the paper runs CONCAT locally
    assert least.params == ["CTX", "X", "ADJECTIVES"] and least.definition.startswith("Find the adjective")
    assert summarize.params == ["CTX"] and not summarize.pure
    assert problems == [
        "list.txt:4: FIND_REACTION has an empty definition; say after '#' what it returns; line skipped",
        "list.txt:5: FIND_ELEMENT is already defined on line 1; kept the first definition",
        "list.txt:6: expected NAME(ARGS) # definition; line skipped",
    ]
    long = "A" * 900
    assert parse_action_list(f"LONG(CTX) # {long}")[0].actions[0].definition == long  # FIND_ELEMENT-length lists
    with pytest.raises(ConfigError, match=r"holds no action.*expected NAME\(ARGS\) # definition"):
        parse_action_list("hello\nworld", source="notes.txt")
    # A name over 100 characters was a pydantic traceback; a file's own long name is cut to 100.
    with pytest.raises(ConfigError, match="the library's name is 120 characters long; at most 100"):
        parse_action_list("OK(CTX) # fine", name="n" * 120, source="l.txt")
    (tmp_path / f"{'a' * 120}.txt").write_text("OK(CTX) # fine\n", encoding="utf-8")
    assert load_library(tmp_path / f"{'a' * 120}.txt").name == "a" * 100


def test_an_action_lines_problem_names_the_action_once() -> None:
    # It read "BAR: action: BAR: parameter names must be distinct".
    _, problems = parse_action_list("OK(CTX) # fine\nBAR(CTX, CTX) # twice\nBAZ(CTX, X) # " + "x" * 5000, source="l")
    assert problems[0] == "l:2: BAR: parameter names must be distinct, got CTX, CTX; line skipped", problems
    assert problems[1].startswith("l:3: BAZ: definition: "), problems  # a field's problem names the field


def test_action_list_round_trips(tmp_path: Path) -> None:
    library, _ = parse_action_list(PAPER_LIST, name="paper")
    text = render_action_list(library)
    assert text.splitlines()[1] == "CONCAT(S1, S2, ...) # Concatenate the given strings."
    assert "\n\n" not in text and text.endswith("\n")  # the paper's own loader reads it: no blank lines
    again, problems = parse_action_list(text, name="paper")
    assert again == library and problems == []
    # pearl's library through the paper's format: names, parameters, definitions and CONCAT's flags survive
    default = default_library()
    path = save_library(default, tmp_path / "default.txt", format="paper")
    back = load_library(path)
    assert back.name == "default" and back.fingerprint == default.fingerprint
    # and JSON -> paper list -> JSON
    json_path = save_library(back, tmp_path / "again.json")
    assert load_library(json_path) == back


def test_load_library_tells_the_formats_apart(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    listed = tmp_path / "actions.txt"
    listed.write_text("\ufeff\n# a comment\n" + PAPER_LIST, encoding="utf-8")
    with caplog.at_level("WARNING", logger="pearl.actions"):
        library = load_library(listed)
    assert library.name == "actions" and len(library) == 4
    assert "FIND_REACTION has an empty definition" in caplog.text
    as_json = save_library(library, tmp_path / "actions.json")
    assert load_library(as_json) == library
    with pytest.raises(ConfigError, match="unknown library format"):
        save_library(library, tmp_path / "x", format="yaml")  # type: ignore[arg-type]


@pytest.mark.skipif(not (SHARED_PAPER / "actions_simplified.txt").is_file(), reason="../shared/data is absent")
def test_the_papers_released_lists() -> None:
    simplified = load_library(SHARED_PAPER / "actions_simplified.txt")
    assert len(simplified) == 81  # the paper's count after simplification
    element = simplified.get("FIND_ELEMENT")
    assert element is not None and len(element.definition) > 500
    assert simplified.get("CONCAT") is not None and simplified.get("CONCAT").variadic  # type: ignore[union-attr]
    mined, problems = parse_action_list((SHARED_PAPER / "actions_mined.txt").read_text(encoding="utf-8"))
    assert len(mined) == 141 and len(problems) == 2


def test_cli_import_and_export(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pearl.cli import app

    source = tmp_path / "paper.txt"
    source.write_text(PAPER_LIST, encoding="utf-8")
    out = tmp_path / "lib.json"
    runner = CliRunner()
    result = runner.invoke(app, ["actions", "import", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("imported 4 actions") and "(1 variadic, 3 lines skipped)" in result.stdout
    assert "skipped: " in result.stderr and "FIND_REACTION" in result.stderr
    assert load_library(out).names == ["FIND_ELEMENT", "CONCAT", "LEAST_DESCRIBING", "SUMMARIZE"]
    result = runner.invoke(app, ["actions", "export", str(out)])
    assert result.exit_code == 0 and result.stdout == render_action_list(load_library(out))
    exported = tmp_path / "back.txt"
    result = runner.invoke(app, ["actions", "export", str(out), "-o", str(exported)])
    assert result.exit_code == 0 and load_library(exported).actions == load_library(out).actions
    # every command that takes --actions reads the paper's format directly
    result = runner.invoke(app, ["actions", "show", "least_describing", "--actions", str(source)])
    assert result.exit_code == 0 and result.stdout.startswith("LEAST_DESCRIBING(CTX, X, ADJECTIVES)")
    # A name the library lacks points at that library's list, not the bundled one's.
    result = runner.invoke(app, ["actions", "show", "NOPE_NOTHING", str(source)])
    assert result.exit_code == 2 and f"; see: pearl actions list {source}" in result.stderr
    result = runner.invoke(app, ["actions", "show", "NOPE_NOTHING"])
    assert result.exit_code == 2 and result.stderr.rstrip().endswith("; see: pearl actions list")
    bad = tmp_path / "bad.txt"
    bad.write_text("nothing here", encoding="utf-8")
    result = runner.invoke(app, ["actions", "import", str(bad), "-o", str(tmp_path / "none.json")])
    assert result.exit_code == 2 and "holds no action" in result.stderr and not (tmp_path / "none.json").exists()
    # An existing library is never replaced unasked: `mine` twice in one folder lost the first one.
    before = out.read_bytes()
    for command in (["import", str(source)], ["export", str(source)]):
        result = runner.invoke(app, ["actions", *command, "-o", str(out)])
        assert result.exit_code == 2 and f"--out {out} exists: add --force" in result.stderr
        assert out.read_bytes() == before
    result = runner.invoke(app, ["actions", "export", str(source), "-o", str(out), "--force"])
    assert result.exit_code == 0 and out.read_bytes() != before
    result = runner.invoke(app, ["actions", "import", str(source), "-o", str(out), "--force"])
    assert result.exit_code == 0 and load_library(out).actions == load_library(source).actions


def test_an_imported_list_calls_the_documents_parameter_ctx_and_writes_its_definitions_to_match() -> None:
    # FIND_LINK(doc, X, Y) was imported taking a DOC no plan could pass the document to; "find_reason(ctx, x) # why
    # x happens" kept its lower-case x beside the parameter X (helper-181).
    library, problems = parse_action_list(
        "FIND_LINK(doc, X, Y) # how X and Y are linked\n"
        "find_reason(ctx, x) # why x happens\n"
        "FIND_IN(DOCUMENT, X) # where X is said in DOCUMENT\n"
        "TELL(STORY, CTX) # what CTX says of the story\n"
    )
    assert not problems
    shown = [f"{action.signature} # {action.definition}" for action in library.actions]
    assert shown == [
        "FIND_LINK(CTX, X, Y) # how X and Y are linked",
        "FIND_REASON(CTX, X) # why X happens",
        "FIND_IN(CTX, X) # where X is said in CTX",
        "TELL(STORY, CTX) # what CTX says of the story",  # CTX given: STORY is a value
    ]
    assert library.actions[0].needs_document
    # A one-letter parameter is renamed as a word alone: not in "didn't", "character's", "e.g." (helper-185).
    (action,) = parse_action_list("FIND_AT(CTX, t) # what t says of the character's doubt, e.g. what didn't happen")[
        0
    ].actions
    assert action.definition == "what T says of the character's doubt, e.g. what didn't happen"


def test_cli_export_says_what_the_papers_format_has_no_place_for(tmp_path: Path) -> None:
    # A mined library's use counts and examples were dropped without a word (session 66's list).
    from typer.testing import CliRunner

    from pearl.cli import app

    library = default_library()
    kept = [
        action.model_copy(update={"count": 3, "examples": ['s1 = FIND_X(CTX, "y")']}) if n < 2 else action
        for n, action in enumerate(library.actions)
    ]
    mined = tmp_path / "mined.json"
    save_library(library.model_copy(update={"actions": kept, "prompts": {"mine": "mine.v1#abc"}}), mined)
    runner = CliRunner()
    for out in ([], ["-o", str(tmp_path / "list.txt")]):
        result = runner.invoke(app, ["actions", "export", str(mined), *out])
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines()[-1] == (
            "note: the paper's format has no place for the use counts of 2 actions, 2 examples or the prompts' "
            f"provenance; {mined} keeps them"
        )
    plain = runner.invoke(app, ["actions", "export", str(tmp_path / "list.txt")])
    assert plain.exit_code == 0 and plain.stderr == ""  # nothing to lose, nothing said
    assert runner.invoke(app, ["actions", "export"]).stderr == ""
