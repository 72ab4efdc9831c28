"""The one validator every plan goes through, whether it was written as text or as JSON.

Messages are addressed to the model that wrote the plan: each names the problem and the fix,
because the self-correction loop sends them back verbatim.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pearl.actions import CTX, Action, ActionLibrary
from pearl.errors import PlanParseError
from pearl.planning._models import Arg, Plan, Step

__all__ = [
    "ANSWER",
    "DEFAULT_MAX_STEPS",
    "DEFAULT_MAX_STRING_CHARS",
    "Spot",
    "check_plan",
    "validate_plan",
]

DEFAULT_MAX_STEPS = 8
"""Steps a plan may have unless the caller says otherwise: the paper's 733 released plans have 2 to 7, and
`Settings.max_steps` defaults to this too (a setting may allow up to 12), so a plan read with the library's
functions is held to what `Pearl` holds it to."""
DEFAULT_MAX_STRING_CHARS = 500
ANSWER = "ANSWER"
"""The action that answers the question from the document: only a plan's last step, after others gathered evidence.

A plan of ANSWER alone is the whole question asked in one call, which is not a plan (the
paper's single-action ablation scored 64 against 70.9); ANSWER before other steps would
answer before the evidence is in.
"""


@dataclass(frozen=True)
class Spot:
    """Where a step's parts sit in the text it was read from (columns 1-based, 0 = unknown)."""

    line: int
    var_col: int = 0
    action_col: int = 0
    arg_cols: tuple[int, ...] = ()
    close_col: int = 0
    text: str = ""  # the line as written

    def arg(self, index: int) -> int:
        return self.arg_cols[index] if index < len(self.arg_cols) else 0

    def written(self, name: str, column: int) -> str:
        """`name` as the line wrote it, from `column` on (a step's names are kept in lower case), else `name`."""
        found = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE).search(self.text, max(column - 1, 0))
        return found.group() if found else name


_STEP_NAME = re.compile(r"(?:s|step|r|res|result)_?\d{1,2}", re.IGNORECASE)
"""A name as plans number their steps ("s3", "step_2"): a reference to a step, never words meant as text."""


def validate_plan(
    plan: Plan,
    library: ActionLibrary | None = None,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_string_chars: int = DEFAULT_MAX_STRING_CHARS,
) -> Plan:
    """Check a plan built in code (or from JSON) by the same rules `parse_plan` applies to text.

    Errors point at `step.line` when set, else at the step's 1-based position, which is
    the line it occupies in `plan.render()` when no action is declared.

    Returns:
        The plan, with declarations identical to library actions dropped from `new_actions`.

    Raises:
        PlanParseError: the first problem found, phrased so a model can fix it.
    """
    spots = [Spot(line=step.line or index + 1) for index, step in enumerate(plan.steps)]
    return check_plan(
        plan.steps,
        plan.new_actions,
        library,
        max_steps=max_steps,
        max_string_chars=max_string_chars,
        spots=spots,
        decl_lines=[0] * len(plan.new_actions),
    )


def check_plan(
    steps: Sequence[Step],
    new_actions: Sequence[Action],
    library: ActionLibrary | None,
    *,
    max_steps: int,
    max_string_chars: int,
    spots: Sequence[Spot],
    decl_lines: Sequence[int],
) -> Plan:
    """Validate steps and declarations; `spots`/`decl_lines` give positions for the messages."""
    declared = _check_declarations(new_actions, library, decl_lines)
    if not steps:
        raise PlanParseError(
            'the plan has no steps; write at least one line like: answer = SUMMARIZE_X(CTX, "what the question asks")'
        )
    if len(steps) > max_steps:
        raise PlanParseError(
            f"the plan has more than {max_steps} steps; merge or drop steps so there are at most {max_steps}",
            spots[max_steps].line,
        )
    assigned: dict[str, int] = {}
    for index, (step, spot) in enumerate(zip(steps, spots, strict=True)):
        _check_step(step, spot, steps[index + 1 :], spots[index + 1 :], assigned, declared, library, max_string_chars)
        if step.action == ANSWER:
            _check_answer_step(index, len(steps), spot)
        assigned[step.var] = spot.line
    if not any(arg.kind == "ctx" for step in steps for arg in step.args):
        # The planner never sees the document: a plan none of whose steps reads it answers from the planner's
        # own words ('answer = CONCAT("Dorota wanted ...")'), with no evidence (helper-186).
        raise PlanParseError(
            "no step reads the document; pass CTX to the steps that look for what the question depends on",
            spots[0].line,
        )
    kept = [a for a in new_actions if declared.get(a.name) is a]
    return Plan(steps=list(steps), new_actions=kept)


def _check_answer_step(index: int, count: int, spot: Spot) -> None:
    """ANSWER may only be the last step of a plan with other steps (see `ANSWER`)."""
    if count == 1:
        raise PlanParseError(
            "a plan of ANSWER alone is not a plan; first gather what the question depends on with other "
            "actions (FIND_..., SUMMARIZE_X, ...), then end with ANSWER or leave it out",
            spot.line,
            spot.action_col,
        )
    if index < count - 1:
        raise PlanParseError(
            f"ANSWER can only be the last step, and this is step {index + 1} of {count}; move it to the end, "
            'or use ANSWER_FROM(earlier_name, "question") to answer from an earlier result',
            spot.line,
            spot.action_col,
        )


def _check_declarations(
    new_actions: Sequence[Action], library: ActionLibrary | None, lines: Sequence[int]
) -> dict[str, Action]:
    """Map name -> action for what the plan declares; identical re-declarations of library actions are dropped."""
    declared: dict[str, Action] = {}
    for action, line in zip(new_actions, lines, strict=True):
        if action.name in declared:
            raise PlanParseError(f"the new action {action.name} is declared twice; declare it once", line)
        known = library.get(action.name) if library is not None else None
        if known is not None:
            if known.params != action.params or known.variadic != action.variadic:
                raise PlanParseError(
                    f"{action.name} already exists as {known.signature}; use it as it is, "
                    f"or declare the new action under a different name",
                    line,
                )
            continue
        declared[action.name] = action
    return declared


def _check_step(
    step: Step,
    spot: Spot,
    later: Sequence[Step],
    later_spots: Sequence[Spot],
    assigned: dict[str, int],
    declared: dict[str, Action],
    library: ActionLibrary | None,
    max_string_chars: int,
) -> None:
    line = spot.line
    if step.var == CTX.lower():
        raise PlanParseError(
            "CTX is the document and cannot be assigned; give this step's output another name", line, spot.var_col
        )
    if step.var in assigned:
        raise PlanParseError(
            f'"{step.var}" is already assigned on line {assigned[step.var]}; give this step\'s output a new name',
            line,
            spot.var_col,
        )
    action = declared.get(step.action)
    if action is None and library is not None:
        action = library.get(step.action)
        if action is None:
            raise PlanParseError(_unknown_action(step, library, declared), line, spot.action_col)
    if action is not None:
        _check_arity(step, action, spot)
    for index, arg in enumerate(step.args):
        column = spot.arg(index)
        if arg.kind == "var":
            at_document = action is not None and action.param_at(index) == CTX
            written = spot.written(arg.value, column)
            _check_reference(
                arg, written, step, index, column, line, later, later_spots, assigned, library, at_document
            )
        # An empty string is allowed: the paper's plans write "" for an argument they leave out.
        elif arg.kind == "string" and len(arg.value) > max_string_chars:
            raise PlanParseError(
                f"argument {index + 1} is a string of {len(arg.value)} characters; keep strings under "
                f"{max_string_chars} characters (name what to look for, do not paste passages)",
                line,
                column,
            )
        elif arg.kind == "string" and (named := _result_in_string(arg.value, assigned)) is not None:
            raise PlanParseError(named, line, column)
        if action is not None:
            _check_ctx_position(arg, index, action, line, column)


def _unknown_action(step: Step, library: ActionLibrary, declared: dict[str, Action]) -> str:
    name = step.action
    close = _closest_actions(name, [*library.actions, *declared.values()])
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    # Not "or declare it under New actions:", as the paper's planner may: pearl's prompts ask for the listed actions
    # alone, and a plan written as JSON has no place for a declaration (helper-176).
    return f"unknown action {name}; {hint}use an action from the list"


_VERB_WORDS = frozenset({"find", "get", "identify", "determine", "the", "of", "a", "an", "x", "y"})


def _closest_actions(name: str, actions: Sequence[Action], n: int = 3) -> list[str]:
    """The actions an unknown `name` most likely means: by what its words name, in an action's name or definition
    (FIND_CAUSE: FIND_REASON, which explains "the causes"; FIND_LOCATION: FIND_PLACE, where X "is located"), or
    by spelling past the verb they share (FIND_CHARACTR: FIND_CHARACTER). Spelling alone, the shared "FIND_" chose
    FIND_CLAUSE, the contract clause finder, for FIND_CAUSE (helper-209)."""
    words = [w for w in name.lower().split("_") if w and w not in _VERB_WORDS]
    scored: list[tuple[float, float, str]] = []
    for action in actions:
        own = [w for w in action.name.lower().split("_") if w and w not in _VERB_WORDS]
        spelled = difflib.SequenceMatcher(None, "_".join(words), "_".join(own)).ratio() if words and own else 0.0
        said = re.findall(r"[a-z]+", action.definition.lower())
        found = [_names_it(word, said, own) for word in words]
        meant = sum(found) / len(found) if found else 0.0
        if meant >= 0.5 or spelled >= 0.6:
            scored.append((meant, spelled, action.name))
    scored.sort(key=lambda item: (-item[0], -item[1]))  # what it names first, then spelling; ties in library order
    return [found for _, _, found in scored[:n]]


def _names_it(word: str, said: Sequence[str], own: Sequence[str]) -> bool:
    """Whether `word` of an unknown action's name is a word of an action's definition (`said`: "causes" for
    "cause", "located" for "location") or shares its stem with a word of its name ("motive" for "motivation")."""
    stem = word[: max(4, len(word) - 3)]
    return any(w.startswith(stem) for w in said) or any(w[:5] == word[:5] and len(word) >= 5 for w in own)


_PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


def _result_in_string(value: str, assigned: dict[str, int]) -> str | None:
    """Why a string argument that means an earlier step's result cannot: a placeholder ("the departure described in
    {ev}") is the text itself, and the result never reached the step (helper-209)."""
    known = {name.lower(): name for name in assigned}
    for found in _PLACEHOLDER.finditer(value):
        if found.group(1).lower() in known:
            name = known[found.group(1).lower()]
            return (
                f'"{value}" holds {{{found.group(1)}}}, which a string cannot fill in: the step would get the text '
                f"{found.group()}, not {name}'s result; pass {name} as an argument of its own (or join it first: "
                f'joined = CONCAT({name}, "..."))'
            )
    return None  # a step's name in quotes is text: the paper's plans name a step after a person ("peggy", "Peggy")


def _check_arity(step: Step, action: Action, spot: Spot) -> None:
    count = len(step.args)
    low, high = action.min_args, action.max_args
    if low <= count and (high is None or count <= high):
        return
    if high is None:
        values = low - action.params.count(CTX)
        noun = "argument" if values == 1 else "arguments"
        wanted = f"CTX and at least {values} {noun} after it" if action.needs_document else f"at least {values} {noun}"
        expected = f"{action.name} takes {wanted}: {action.signature}"
    else:
        plural = "argument" if high == 1 else "arguments"
        expected = f"{action.name} takes {high} {plural}: {action.signature}"
    column = spot.arg(high) if high is not None and count > high else (spot.close_col or spot.action_col)
    said = f"{expected}, but {count} {'was' if count == 1 else 'were'} given"
    if high is not None and count > high:
        # What the model most likely meant, not the count alone (helper-209): "COMPARE(CTX, s1, s2)" passes the
        # document to an action that does not read it; "ANSWER_FROM(s1, s2, "q")" passes two results for one.
        if step.args[0].kind == "ctx" and not action.needs_document and count - 1 == high:
            said += f": {action.name} does not read the document; drop CTX"
            column = spot.arg(0)
        elif sum(arg.kind == "var" for arg in step.args) > 1 and any(p != CTX for p in action.params):
            said += "; to pass several results as one, join them first: joined = CONCAT(s1, s2)"
    raise PlanParseError(said, spot.line, column)


def _check_ctx_position(arg: Arg, index: int, action: Action, line: int, column: int) -> None:
    param = action.param_at(index)
    # An earlier result where the document goes is allowed: the action then reads that text
    # instead of the document (the paper's plans do this, e.g. FIND_ELEMENT(end_passage, "expression", "Peter")).
    if param == CTX and arg.kind == "string":
        raise PlanParseError(
            f"argument {index + 1} of {action.name} must be CTX (the document) or an earlier result: "
            f"{action.signature}",
            line,
            column,
        )
    if param != CTX and arg.kind == "ctx":
        if not action.needs_document:
            reason = (
                f"{action.name} does not read the document, so CTX cannot be passed to it; pass a quoted string "
                f"or an earlier variable: {action.signature}"
            )
        else:
            reason = (
                f"argument {index + 1} of {action.name} is {param}, not the document; pass a quoted string "
                f"or an earlier variable: {action.signature}"
            )
        raise PlanParseError(reason, line, column)


def _same_number(name: str, assigned: dict[str, int]) -> list[str]:
    """The one earlier step whose name ends in the number `name` ends in ("step1" for "s1"), if there is one."""
    number = re.search(r"\d+$", name)
    same = [var for var in assigned if number is not None and re.search(rf"\D{number.group()}$", var)]
    return same if len(same) == 1 else []


_DOCUMENT_NAMES = frozenset(
    {"ctx", "document", "doc", "context", "text", "the_document", "story", "article", "passage"}
)
"""Names a model writes for the document where the plan language has CTX: quoting them there, as an undefined name is
told to, passes the words instead (and is refused again where CTX is wanted). Elsewhere they may be words to look for
("story"), to be quoted."""


def _check_reference(
    arg: Arg,
    written: str,
    step: Step,
    index: int,
    column: int,
    line: int,
    later: Sequence[Step],
    later_spots: Sequence[Spot],
    assigned: dict[str, int],
    library: ActionLibrary | None,
    at_document: bool = False,
) -> None:
    """Refuse a name `arg` reads that no earlier step assigns, saying what to do; `at_document`: it stands where the
    action takes CTX."""
    name = arg.value
    if name in assigned:
        return
    if name == step.var:
        raise PlanParseError(
            f'"{name}" is used as its own input; a step can only read CTX, quoted strings and variables '
            "assigned on earlier lines",
            line,
            column,
        )
    so_far = ", ".join(assigned) if assigned else "none yet"
    reason = (
        f'"{written}" is not defined yet; use CTX, a quoted string, or a variable assigned on an earlier line '
        f"(defined so far: {so_far})"
    )
    later_line = next((s.line for st, s in zip(later, later_spots, strict=True) if st.var == name), None)
    if later_line is not None:
        reason += f'; "{name}" is assigned later, on line {later_line}, so move that step above this one'
    elif at_document and name.lower() in _DOCUMENT_NAMES:
        reason += '; the document is written CTX (in a plan written as JSON, {"kind": "ctx"})'
    elif library is not None and name.upper() in library:
        reason += f"; {name.upper()} is an action: call it on its own line and pass the variable it assigns"
    else:
        close = difflib.get_close_matches(name, list(assigned), n=1, cutoff=0.75) or _same_number(name, assigned)
        if close:
            reason += f"; did you mean {close[0]}?"
        elif _STEP_NAME.fullmatch(name):  # "s3" with no step s3: quoted, the step would search for the text "s3"
            reason += f"; no step is named {written}: pass a step above this one, or add the step {written} before it"
        else:
            reason += f'; if you meant the words themselves, quote them: "{written.replace("_", " ")}"'
    raise PlanParseError(reason, line, column)
