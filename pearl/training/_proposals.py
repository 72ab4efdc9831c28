"""What a model proposes for one question during action mining, and the strict parser for it.

The reply format, one item per line::

    USE: FIND_REASON, FIND_CHARACTER
    NEW: FIND_BEHAVIOR_REASON(CTX, X, Y) : Explain why X behaves as Y, from what the document shows.

`USE:` (at most once) names library actions the question would need, or says `NONE`;
`NEW:` (at most `MAX_NEW` times) declares an action the library lacks, or says `NONE`.
The marks chat models add (bold, bullets, "Use:", "NONE.") and a line of prose before or after
the items are read past (see `parse_proposal`); prose between the items makes the whole reply
malformed, because a model that wanders off the format is not to be trusted in the lines that
happen to match. The
parser is a hand-written matcher over plain strings; nothing the model writes is evaluated.
A GBNF grammar (for llama.cpp-style backends) and a JSON schema (for servers that take one)
describe the same replies; JSON replies go through the same field checks.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pearl._replies import load_json_reply, plain_line, strip_fence
from pearl._text import shorten
from pearl.actions import CTX, ActionLibrary
from pearl.errors import ProposalError
from pearl.planning import ANSWER

__all__ = [
    "GRAMMAR_PARAMS",
    "MAX_NEW",
    "MAX_PARAMS",
    "RESERVED",
    "Proposal",
    "ProposedAction",
    "parse_proposal",
    "parse_proposal_json",
    "proposal_gbnf",
    "proposal_json_schema",
]

MAX_NEW = 6
"""Most new actions one reply may declare; more is a model rambling, not a question's needs."""
MAX_PARAMS = 4
"""Most parameters a proposed action may take (CTX plus three values, as the paper's actions)."""
_MAX_USE = 16
_MAX_REPLY_CHARS = 4000
_MAX_LINE_CHARS = 400
_MAX_DEFINITION_CHARS = 200
_MIN_DEFINITION_CHARS = 3
_MAX_NAME_CHARS = 64
_MAX_PARAM_CHARS = 32

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)
# Names may come as words ("find the clues"); normalisation makes them FIND_CLUES later.
_LOOSE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_ \-]*", re.ASCII)
_NEW_BODY = re.compile(r"([^(]+?)[ \t]*\(([^()]*)\)[ \t]*:[ \t]*(.*)", re.ASCII)
GRAMMAR_PARAMS = ("CTX", "CTX, X", "CTX, X, Y", "CTX, X, Y, Z", "X", "X, Y", "X, Y, Z")
"""The parameter lists the grammars allow for a new action: CTX first when the action reads the document."""


class ProposedAction(BaseModel):
    """A new action as the model wrote it (before name and signature normalisation)."""

    model_config = ConfigDict(frozen=True)

    name: str
    params: list[str]
    definition: str

    def render(self) -> str:
        """`NAME(CTX, X) : definition`."""
        return f"{self.name}({', '.join(self.params)}) : {self.definition}"


class Proposal(BaseModel):
    """The library actions a question would use and the new ones it needs."""

    model_config = ConfigDict(frozen=True)

    use: list[str] = Field(default_factory=list)
    new: list[ProposedAction] = Field(default_factory=list)

    def render(self) -> str:
        """The proposal in the line format `parse_proposal` reads."""
        lines = [f"USE: {', '.join(self.use) or 'NONE'}"]
        lines += [f"NEW: {a.render()}" for a in self.new] or ["NEW: NONE"]
        return "\n".join(lines)


def _check_text(text: str, line: int) -> None:
    for ch in text:
        if ch != "\t" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise ProposalError(f"control or format character U+{ord(ch):04X} is not allowed", line)


def _name(raw: str, line: int, what: str = "action name", limit: int = _MAX_NAME_CHARS) -> str:
    value = raw.strip()
    pattern = _LOOSE_NAME if what == "action name" else _IDENT
    if not pattern.fullmatch(value):
        shown = shorten(value, 40)
        raise ProposalError(f"{shown!r} is not a valid {what} (letters, digits and _, starting with a letter)", line)
    if len(value) > limit:
        raise ProposalError(f"{what} {value[:20]}... is longer than {limit} characters", line)
    return value.upper()


def _definition(raw: str, line: int) -> str:
    value = " ".join(raw.split())
    if len(value) < _MIN_DEFINITION_CHARS or not any(ch.isalpha() for ch in value):
        raise ProposalError("the definition is missing; write one line saying what the action returns", line)
    if len(value) > _MAX_DEFINITION_CHARS:
        raise ProposalError(f"the definition is longer than {_MAX_DEFINITION_CHARS} characters", line)
    return value


def _params(raw: list[str], line: int) -> list[str]:
    params = [_name(p, line, "parameter name", _MAX_PARAM_CHARS) for p in raw]
    if not params:
        raise ProposalError("an action needs at least one parameter (CTX for the document)", line)
    if len(params) > MAX_PARAMS:
        raise ProposalError(f"{len(params)} parameters; at most {MAX_PARAMS}", line)
    if len(set(params)) != len(params):
        raise ProposalError(f"parameter names must be distinct, got {', '.join(params)}", line)
    return params


RESERVED = {
    CTX: "names the document in a plan, not an action",
    ANSWER: "is the step that closes a plan, which pearl runs itself",
}
"""Names a mined action cannot take: a plan reads them as something else."""


def _new_name(raw: str, line: int) -> str:
    name = _name(raw, line)
    if name.upper() in RESERVED:
        raise ProposalError(f"{name} {RESERVED[name.upper()]}; give the new action another name", line)
    return name


_PARAMETERS = re.compile(r"\([^()]*\)")


def _new_action(body: str, line: int) -> ProposedAction:
    match = _NEW_BODY.fullmatch(body)
    if not match:
        raise ProposalError("expected 'NEW: NAME(CTX, X) : definition' or 'NEW: NONE'", line)
    name = _new_name(match.group(1), line)
    raw_params = [p for p in match.group(2).split(",")]
    if raw_params == [""] or (len(raw_params) == 1 and not raw_params[0].strip()):
        raw_params = []
    return ProposedAction(name=name, params=_params(raw_params, line), definition=_definition(match.group(3), line))


def _collect(use: list[str], new: list[ProposedAction], line: int) -> Proposal:
    if len(use) > _MAX_USE:
        raise ProposalError(f"{len(use)} actions in USE; at most {_MAX_USE}", line)
    distinct: dict[str, ProposedAction] = {}
    for action in new:
        distinct.setdefault(action.name, action)  # a name declared twice in one reply counts once
    if len(distinct) > MAX_NEW:
        raise ProposalError(f"{len(distinct)} new actions; at most {MAX_NEW} per question", line)
    return Proposal(use=list(dict.fromkeys(use)), new=list(distinct.values()))


_NONE = re.compile(r"(?i:none)[ \t]*\.?")
_USE_SPLIT = re.compile(r",|;|&|\band\b")  # the pieces stripped after: one run of spaces in the pattern, none
_ACTION_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")  # FIND_REASON in "I would use FIND_REASON"
# A line near the format that a chat model's prose is not: "NEW FIND_Y(CTX, X): ...", "use FIND_X" (helper-185).
_NEAR_ITEM = re.compile(r"(?i:use|new)[ \t:]+[A-Z][A-Z0-9]*_|.*\(\s*CTX\b")  # not "New actions are not needed."


def _head(plain: str) -> tuple[str, str]:
    """("USE" or "NEW", what follows its colon) for an item line, in any case; ("", "") for any other."""
    head, sep, rest = plain.partition(":")
    head = head.strip().upper()
    return (head, rest.strip()) if sep and head in ("USE", "NEW") else ("", "")


def parse_proposal(text: str) -> Proposal:
    """Read a reply in the `USE:` / `NEW:` line format.

    As chat models write it: `Use:` / `New:` in any case, bulleted or in bold, "NONE." with its full stop, names
    after `USE:` joined by "and" or ending in a full stop, the new actions listed one a line under a bare `NEW:`,
    a line of prose before the first item or after the last ("Here is my answer:"). Prose between the items is
    wandering off the format: the reply is refused.

    Raises:
        ProposalError: anything off the format (the message names the line).
    """
    if len(text) > _MAX_REPLY_CHARS:
        raise ProposalError(f"the reply is {len(text):,} characters; a proposal fits in {_MAX_REPLY_CHARS:,}")
    body = strip_fence(text)
    # Only "\n" ends a line: splitlines() would also split on U+2028 and friends, which are not the format.
    lines = [(number, raw.strip()) for number, raw in enumerate(body.split("\n"), start=1) if raw.strip()]
    for number, line in lines:
        if len(line) > _MAX_LINE_CHARS:
            raise ProposalError(f"the line is longer than {_MAX_LINE_CHARS} characters", number)
        _check_text(line, number)
    read = [(number, line, *plain_line(line)) for number, line in lines]  # (number, line, plain, bulleted)
    items = [i for i, (_, _, plain, _) in enumerate(read) if _head(plain)[0]]
    if not items:
        if lines:
            number, line = lines[0]
            raise ProposalError(f"expected a 'USE: ...' or 'NEW: ...' line, got {shorten(line, 40)!r}", number)
        raise ProposalError("the reply has no USE or NEW line")
    for number, line, plain, _ in read[: items[0]]:  # prose before the first item; not a line near the format
        if _NEAR_ITEM.match(plain):
            raise ProposalError(f"expected a 'USE: ...' or 'NEW: ...' line, got {shorten(line, 40)!r}", number)
    use: list[str] | None = None
    new: list[ProposedAction] = []
    new_none = False
    listing = False  # under a bare "NEW:", whose actions follow one a line
    for number, line, plain, bulleted in read[items[0] :]:
        head, rest = _head(plain)
        if not head and listing and (bulleted or _NEW_BODY.fullmatch(plain)):
            new.append(_new_action(plain, number))
            continue
        if not head:
            if number > lines[items[-1]][0] and not _NEAR_ITEM.match(plain):
                break  # prose after the last item
            raise ProposalError(f"expected a 'USE: ...' or 'NEW: ...' line, got {shorten(line, 40)!r}", number)
        if listing and not new:
            raise ProposalError("NEW: lists no action under it; write 'NEW: NONE' when none is needed", number)
        listing = False
        if head == "USE":
            if use is not None:
                raise ProposalError("a second USE line; list every action on one line", number)
            if not rest:
                raise ProposalError("USE names no action; write 'USE: NONE' when none fits", number)
            # Names as the prompt lists the actions, with their parameters ("USE: FIND_REASON(CTX, X)"), are names.
            named = _PARAMETERS.sub("", rest).rstrip(" \t.;,")
            use = [] if _NONE.fullmatch(rest) else [_name(n, number) for n in _used(named)]
        elif _NONE.fullmatch(rest):
            if new or new_none:
                raise ProposalError("'NEW: NONE' cannot stand beside other NEW lines", number)
            new_none = True
        elif new_none:
            raise ProposalError("'NEW: NONE' cannot stand beside other NEW lines", number)
        elif not rest:
            listing = True
        else:
            new.append(_new_action(rest, number))
    if listing and not new:
        raise ProposalError("NEW: lists no action under it; write 'NEW: NONE' when none is needed")
    if use is None and not new and not new_none:
        raise ProposalError("the reply has no USE or NEW line")
    return _collect(use or [], new, 0)


def _used(named: str) -> list[str]:
    """The names a `USE:` line gives: each piece between commas or "and", or the action names written in capitals in
    a piece of prose ("I would use FIND_REASON" gives FIND_REASON, not a name "I WOULD USE FIND_REASON")."""
    names: list[str] = []
    for piece in (p.strip() for p in _USE_SPLIT.split(named)):
        if not piece:
            continue
        written = _ACTION_NAME.findall(piece)
        names += written if written and " " in piece else [piece]
    return names


def parse_proposal_json(text: str) -> Proposal:
    """Read a reply written under `proposal_json_schema`: `{"use": [...], "new": [{name, params, definition}]}`.

    Raises:
        ProposalError: not JSON, a wrong shape, or a field the line format would reject.
    """
    data: Any = load_json_reply(text, _MAX_REPLY_CHARS, ProposalError)
    if not isinstance(data, dict) or set(data) - {"use", "new"}:
        raise ProposalError('expected a JSON object with only "use" and "new"')
    raw_use = data.get("use", [])
    raw_new = data.get("new", [])
    if not isinstance(raw_use, list) or not all(isinstance(n, str) for n in raw_use):
        raise ProposalError('"use" must be a list of action names')
    if not isinstance(raw_new, list):
        raise ProposalError('"new" must be a list of actions')
    new: list[ProposedAction] = []
    for index, item in enumerate(raw_new, start=1):
        if not isinstance(item, dict) or set(item) != {"name", "params", "definition"}:
            raise ProposalError(f'new[{index}] must be an object with "name", "params" and "definition"')
        name, params, definition = item["name"], item["params"], item["definition"]
        if not isinstance(name, str) or not isinstance(definition, str) or not isinstance(params, list):
            raise ProposalError(f"new[{index}]: name and definition must be strings, params a list")
        if not all(isinstance(p, str) for p in params):
            raise ProposalError(f"new[{index}]: params must be names")
        _check_text(definition, index)
        new.append(
            ProposedAction(
                name=_new_name(name, index), params=_params(params, index), definition=_definition(definition, index)
            )
        )
    return _collect([_name(n, 0) for n in raw_use], new, 0)


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def proposal_gbnf(library: ActionLibrary, *, max_new: int = 3) -> str:
    """A GBNF grammar whose every sentence `parse_proposal` accepts.

    USE lists up to five of `library`'s names (or NONE); then `NEW: NONE` or 1..`max_new`
    declarations with an upper snake case name, one of a few fixed parameter lists
    (`CTX, X`, ...) and a one-line definition.
    """
    max_new = max(1, min(max_new, MAX_NEW))
    use = '"USE: " ( "NONE" | known (", " known){0,4} ) "\\n"' if library.actions else '"USE: NONE\\n"'
    rules = [
        ("root", "use news"),
        ("use", use),
        ("news", f'"NEW: NONE\\n" | new{{1,{max_new}}}'),
        ("new", '"NEW: " name "(" params ") : " def "\\n"'),
        ("name", "[A-Z] [A-Z_]{2,30}"),
        ("params", " | ".join(_literal(p) for p in GRAMMAR_PARAMS)),
        # No colon or parenthesis: a small model otherwise loops "X(CTX) : X(CTX) : ..." until cut off.
        ("def", "[A-Za-z] [^\\n:()\\x00-\\x1f]{8,100}"),
    ]
    if library.actions:
        rules.append(("known", " | ".join(_literal(n) for n in library.names)))
    width = max(len(n) for n, _ in rules)
    return "\n".join(f"{n.ljust(width)} ::= {body}" for n, body in rules) + "\n"


def proposal_json_schema(library: ActionLibrary, *, max_new: int = 3) -> dict[str, Any]:
    """JSON schema of a proposal: `use` from `library`'s names, `new` actions with fixed parameter names."""
    names = library.names or ["NONE"]
    return {
        "type": "object",
        "properties": {
            "use": {"type": "array", "items": {"enum": names}, "maxItems": 5},
            "new": {
                "type": "array",
                "maxItems": max(1, min(max_new, MAX_NEW)),
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "pattern": "^[A-Z][A-Z_]{2,30}$"},
                        "params": {
                            "type": "array",
                            "items": {"enum": [CTX, "X", "Y", "Z"]},
                            "minItems": 1,
                            "maxItems": MAX_PARAMS,
                        },
                        "definition": {"type": "string", "minLength": 10, "maxLength": _MAX_DEFINITION_CHARS},
                    },
                    "required": ["name", "params", "definition"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["use", "new"],
        "additionalProperties": False,
    }
