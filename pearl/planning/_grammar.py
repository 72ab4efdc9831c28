"""Constrained decoding for plans: a JSON schema, and a GBNF grammar under which every plan is valid.

Both describe the same plans `parse_plan` accepts, and anything produced under them goes
back through the one validator (`validate_plan`), so a backend that ignores the constraint
still gets a precise error to correct.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pearl._replies import JSONReplyError, read_json, strip_fence
from pearl._text import first_problem
from pearl.actions import CTX, Action, ActionLibrary
from pearl.errors import ConfigError, PlanParseError
from pearl.planning._models import Arg, Plan, Step
from pearl.planning._parser import DEFAULT_MAX_CHARS
from pearl.planning._validate import ANSWER, DEFAULT_MAX_STEPS, DEFAULT_MAX_STRING_CHARS, validate_plan

__all__ = ["plan_from_json", "plan_gbnf", "plan_json_schema", "plan_to_json"]

_MAX_GRAMMAR_STEPS = 50

# A string the grammar allows must survive the parser unchanged: no quote, backslash or
# control character anywhere, and a first character that is not whitespace (str.isspace's
# set, minus the control characters): a blank string means "argument absent", which a small
# model should not be steered into writing.
_STRING_BODY = r'[^"\\\x00-\x1f\x7f-\x9f]'
_STRING_FIRST = r'[^"\\\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]'


class StepJSON(BaseModel):
    """One step: `var` receives the output of `action` applied to `args`."""

    model_config = ConfigDict(extra="forbid")

    var: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64, description="a new name for this output")
    action: str = Field(description="the action to run")
    args: list[Arg] = Field(description="CTX (the document), a text string, or the var of an earlier step")
    explanation: str | None = Field(default=None, description="one line: what this step is for")


class PlanJSON(BaseModel):
    """A plan: steps run in order; outputs no later step uses make up the answer."""

    model_config = ConfigDict(extra="forbid")

    steps: list[StepJSON] = Field(min_length=1)


def plan_json_schema(library: ActionLibrary, *, max_steps: int = DEFAULT_MAX_STEPS) -> dict[str, Any]:
    """JSON schema of a plan as JSON, `{"steps": [{"var", "action", "args": [{"kind", "value"}]}]}`.

    Generated from pydantic models, with `action` narrowed to the library's names and
    `steps` to at most `max_steps` items. When the library has ANSWER, it is allowed only in
    the last item of two or more (`FinalStepJSON`, one `anyOf` branch per plan length).
    Variable references and arity cannot be said in JSON schema; `plan_from_json` checks them.
    """
    schema = PlanJSON.model_json_schema()
    steps = schema["properties"]["steps"]
    steps["maxItems"] = max_steps
    step = schema["$defs"]["StepJSON"]
    step["properties"]["action"]["enum"] = library.names
    others = [name for name in library.names if name != ANSWER]
    if len(others) < len(library.names) and others:
        final = copy.deepcopy(step)
        final["description"] = "the last step: it may also be ANSWER"
        step["properties"]["action"]["enum"] = others
        schema["$defs"]["FinalStepJSON"] = final
        plain, last = steps.pop("items"), {"$ref": "#/$defs/FinalStepJSON"}
        steps["anyOf"] = [
            {"items": plain},
            *(
                {"minItems": n, "maxItems": n, "prefixItems": [plain] * (n - 1) + [last]}
                for n in range(2, max_steps + 1)
            ),
        ]
    return schema


def plan_from_json(
    data: str | bytes | Mapping[str, Any],
    library: ActionLibrary | None = None,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_string_chars: int = DEFAULT_MAX_STRING_CHARS,
) -> Plan:
    """Read a plan written as JSON (raw text from a model, or already decoded) and validate it.

    Errors name the step they are about ("step 2: unknown action ...") and keep its 1-based position as their
    `line`, which is also its line in `plan.render()`; a JSON syntax error keeps the JSON's own line and column.

    Raises:
        PlanParseError: malformed JSON, a wrong shape, or any rule `parse_plan` enforces.
    """
    if isinstance(data, (str, bytes)):
        text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
        try:
            obj: Any = read_json(strip_fence(text), DEFAULT_MAX_CHARS)
        except JSONReplyError as exc:
            obj = _object_inside(text)
            if obj is None:
                raise PlanParseError(f"the plan is {exc.reason}", exc.line, exc.column) from None
    else:
        obj = dict(data)
    if not isinstance(obj, dict):
        raise PlanParseError('the plan must be a JSON object like {"steps": [...]}')
    _check_arg_objects(obj)
    try:
        parsed = PlanJSON.model_validate(obj)
    except ValidationError as exc:
        raise _shape_error(exc) from None
    steps: list[Step] = []
    for index, item in enumerate(parsed.steps):
        try:
            steps.append(
                Step(var=item.var, action=item.action, args=item.args, explanation=item.explanation, line=index + 1)
            )
        except ValidationError as exc:
            raise _shape_error(exc, ("steps", index)) from None
    try:
        return validate_plan(Plan(steps=steps), library, max_steps=max_steps, max_string_chars=max_string_chars)
    except PlanParseError as exc:
        if not exc.line:
            raise
        # Said of the step: the model wrote JSON, whose line 2 is '"steps": [' (helper-176). `line` keeps the step's
        # position, its line in `plan.render()`.
        error = PlanParseError(f"step {exc.line}: {exc.reason}")
        error.line = exc.line
        raise error from None


def _object_inside(text: str) -> dict[str, Any] | None:
    """The JSON object a reply holds amid prose ("Here is the plan:", a fenced block, words after it), as a server
    that ignores the schema lets a chat model write it; None where there is no one object to read."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        obj = read_json(text[start : end + 1], DEFAULT_MAX_CHARS)
    except JSONReplyError:
        return None
    return obj if isinstance(obj, dict) else None


def _check_arg_objects(obj: dict[str, Any]) -> None:
    """Refuse an argument written as a bare value (`"args": ["CTX", "Dorota"]`) saying how to write it: the shape's
    own message named a Python class ("a valid dictionary or instance of Arg")."""
    steps = obj.get("steps")
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        args = step.get("args") if isinstance(step, dict) else None
        for position, arg in enumerate(args if isinstance(args, list) else []):
            if not isinstance(arg, dict):
                error = PlanParseError(
                    f"step {index + 1} (args[{position}]): write each argument as an object, "
                    '{"kind": "ctx"} for the document, {"kind": "string", "value": "..."} for a text, '
                    '{"kind": "var", "value": "s1"} for an earlier step\'s result'
                )
                error.line = index + 1
                raise error


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The JSON form of `plan` that `plan_json_schema` describes (e.g. for demonstrations in a prompt).

    Declared `new_actions` have no place in the JSON form; a plan that uses them only
    reads back with a library that includes them.
    """
    steps = [StepJSON(var=s.var, action=s.action, args=s.args, explanation=s.explanation) for s in plan.steps]
    return PlanJSON(steps=steps).model_dump(mode="json", exclude_none=True)


def _shape_error(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> PlanParseError:
    where_from, message = first_problem(exc)
    loc = (*prefix, *where_from)
    line = loc[1] + 1 if len(loc) > 1 and loc[0] == "steps" and isinstance(loc[1], int) else 0
    if not line:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "plan"
        return PlanParseError(f"{where}: {message}")
    # Said of the step, as the rules' errors are (`plan_from_json`), one numbering: "step 2 (args[1].kind): ...".
    inside = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[2:]).lstrip(".")
    error = PlanParseError(f"step {line}{f' ({inside})' if inside else ''}: {message}")
    error.line = line
    return error


def plan_gbnf(library: ActionLibrary, max_steps: int = DEFAULT_MAX_STEPS, *, max_string_chars: int = 80) -> str:
    """A llama.cpp GBNF grammar whose every sentence is a valid plan for `library`.

    Step k always assigns `sk` and may read only CTX, a quoted string (one line, no quote
    or backslash, 1..`max_string_chars` characters) or `s1`..`s(k-1)`, so a tiny model
    cannot reference an undefined variable; where an action takes CTX, an earlier `s1`..
    `s(k-1)` may stand instead (the action then reads that result). Each action's call has
    exactly its parameter count with CTX in its declared places (actions of the same shape
    share one rule); a variadic action takes its declared parameters and may repeat the
    last. The first step reads the document (an action that takes CTX: `check_plan` refuses a
    plan none of whose steps does). ANSWER, when the library has it, can only be the last step
    of two or more. A plan has 1..`max_steps` steps, each ending in a newline. No explanations
    and no empty strings: tokens a small model spends on prose are tokens it does not spend on
    the plan.

    Raises:
        ConfigError: a library with no action but ANSWER, or limits out of range.
    """
    if not library.actions:
        raise ConfigError(f"action library {library.name} is empty; a plan grammar needs at least one action")
    others = [a for a in library.actions if a.name != ANSWER]
    if not others:
        raise ConfigError(
            f"action library {library.name} has only ANSWER, which cannot be a plan on its own; add other actions"
        )
    if not any(CTX in a.params for a in others):
        raise ConfigError(f"action library {library.name} has no action that reads the document (CTX); add one")
    if not 1 <= max_steps <= _MAX_GRAMMAR_STEPS:
        raise ConfigError(f"max_steps must be between 1 and {_MAX_GRAMMAR_STEPS}, got {max_steps}")
    if not 1 <= max_string_chars <= DEFAULT_MAX_STRING_CHARS:
        raise ConfigError(f"max_string_chars must be between 1 and {DEFAULT_MAX_STRING_CHARS}, got {max_string_chars}")

    shapes: dict[str, list[Action]] = {}
    for action in others:
        shapes.setdefault(_shape_rule(action), []).append(action)
    answer = library.get(ANSWER)
    ends = answer is not None and max_steps > 1

    rules: list[tuple[str, str]] = [("root", "step-1" + (" tail-2?" if max_steps > 1 else ""))]
    for k in range(2, max_steps + 1):
        body = f"step-{k}" + (f" tail-{k + 1}?" if k < max_steps else "")
        rules.append((f"tail-{k}", f"{body} | answer-{k}" if ends else body))
    for k in range(1, max_steps + 1):
        arg, doc = ("str", None) if k == 1 else (f"arg-{k}", f"doc-{k}")
        # The first step reads the document (`check_plan` refuses a plan none of whose steps does).
        calls = [
            f"{rule} {_call(group[0], arg, doc)}" for rule, group in shapes.items() if k > 1 or CTX in group[0].params
        ]
        rules.append((f"step-{k}", f"{_literal(f's{k} = ')} ( {' | '.join(calls)} ) {_literal(chr(10))}"))
    if ends:
        assert answer is not None
        for k in range(2, max_steps + 1):
            call = _call(answer, f"arg-{k}", f"doc-{k}")
            rules.append((f"answer-{k}", f"{_literal(f's{k} = {ANSWER}')} {call} {_literal(chr(10))}"))
    for k in range(2, max_steps + 1):
        earlier = [_literal(f"s{i}") for i in range(1, k)]
        rules.append((f"arg-{k}", " | ".join(["str", *earlier])))
        rules.append((f"doc-{k}", " | ".join([_literal(CTX), *earlier])))
    rest = f"{_STRING_BODY}{{0,{max_string_chars - 1}}} " if max_string_chars > 1 else ""
    rules.append(("str", f'"\\"" {_STRING_FIRST} {rest}"\\""'))
    for rule, group in shapes.items():
        if max_steps > 1 or CTX in group[0].params:  # a plan of one step calls only actions that read the document
            rules.append((rule, " | ".join(_literal(a.name) for a in group)))

    header = (
        f"# pearl plan grammar: library {library.name} v{library.version} ({library.fingerprint[:12]}), "
        f"1-{max_steps} steps; step k assigns sk"
    )
    width = max(len(name) for name, _ in rules)
    return "\n".join([header, *(f"{name.ljust(width)} ::= {body}" for name, body in rules)]) + "\n"


def _shape_rule(action: Action) -> str:
    """`act-cv` for (CTX, X), `act-vv-more` for variadic (S1, S2, ...), `act-none` for no parameters."""
    letters = "".join("c" if p == CTX else "v" for p in action.params) or "none"
    return f"act-{letters}" + ("-more" if action.variadic else "")


def _call(action: Action, arg: str, doc: str | None) -> str:
    """The argument list for `action`'s shape, e.g. `"(" doc-2 ", " arg-2 ")"`; `doc` None: CTX only."""
    parts: list[tuple[bool, str]] = [(True, "(")]
    for index, param in enumerate(action.params):
        if index:
            parts.append((True, ", "))
        if param == CTX:
            parts.append((True, CTX) if doc is None else (False, doc))
        else:
            parts.append((False, arg))
    if action.variadic:
        parts.append((False, f"({_literal(', ')} {arg})*"))
    parts.append((True, ")"))
    merged: list[tuple[bool, str]] = []
    for is_literal, text in parts:
        if is_literal and merged and merged[-1][0]:
            merged[-1] = (True, merged[-1][1] + text)
        else:
            merged.append((is_literal, text))
    return " ".join(_literal(text) if is_literal else text for is_literal, text in merged)


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
