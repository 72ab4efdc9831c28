"""The PEARL paper's action-list format: one `NAME(ARGS) # definition` line per action.

    FIND_ELEMENT(CTX, X, Y) # Find the element X related to Y given the input CTX.
    CONCAT(S1, S2, ...) # Concatenate the given strings.

The format holds names, parameters and definitions, nothing else. Reading it:

- blank lines and lines starting with `#` are skipped;
- parameter names are upper-cased (`LEAST_DESCRIBING(CTX, X, adjectives)` takes `ADJECTIVES`), the document's
  called `CTX` (`FIND_LINK(DOC, X, Y)`, see `DOCUMENT_PARAMS`), definitions written to match (`_renamed`);
  a trailing `...` makes the action variadic;
- `CONCAT` is marked pure (run locally, without the model), as the paper's executor runs it;
- a line that cannot become an action (no `# definition`, an empty or overlong definition,
  a name defined again) is skipped and reported, so one bad line of a long mined list does
  not lose the rest; a file with no usable line is an error.

Writing it keeps names, parameters and definitions; counts, examples, provenance and the pure
flag (other than CONCAT's, which reading restores) have no place in the format. The output
has no blank or comment lines, so the paper's own loader reads it too.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from pearl._text import first_problem
from pearl.actions._models import CTX, DOCUMENT_PARAMS, MAX_LIBRARY_NAME, Action, ActionLibrary
from pearl.errors import ConfigError

__all__ = ["LOCAL_ACTIONS", "parse_action_list", "render_action_list"]

LOCAL_ACTIONS = frozenset({"CONCAT"})
"""Actions the paper's executor runs without the model; imported as `pure`."""

# `)` then the first `#`: a definition may itself hold `#` or parentheses.
_LINE = re.compile(r"(?P<name>[^\s(#]+)\s*\((?P<params>[^()]*)\)\s*(?:#(?P<definition>.*))?")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_VARIADIC = ("...", "\u2026")


def _params(raw: str) -> tuple[list[str], bool]:
    """`CTX, X, ...` -> (["CTX", "X", ...], True), as written; raises ValueError with the reason."""
    parts = [p.strip() for p in raw.split(",")] if raw.strip() else []
    variadic = bool(parts) and parts[-1] in _VARIADIC
    if variadic:
        parts = parts[:-1]
    for part in parts:
        if not _NAME.fullmatch(part):
            raise ValueError(f"parameter {part[:30]!r} is not a name (letters, digits and _)")
    return parts, variadic


def _renamed(params: list[str], definition: str) -> tuple[list[str], str]:
    """Parameters upper-cased and the document's called `CTX` (the first of `DOCUMENT_PARAMS` when none is CTX:
    `FIND_LINK(doc, X, Y)` took a `DOC` no plan could pass the document to), the definition written to match where
    it names them as they were written: a one-letter name in lower case ("why x happens"), or the document's name in
    capitals ("X in DOC")."""
    upper = [p.upper() for p in params]
    renamed = dict(zip(params, upper, strict=True))
    if CTX not in upper:
        document = next((p for p in params if p.upper() in DOCUMENT_PARAMS), None)
        if document is not None:
            renamed[document] = CTX
    for old, new in renamed.items():
        if old != new and (old.isupper() or (len(old) == 1 and old not in ("a", "i"))):
            # As a word alone: not the "t" of "didn't", the "s" of "character's", the "e" of "e.g." (helper-185).
            definition = re.sub(rf"(?<![\w'\u2019.]){re.escape(old)}(?![\w'\u2019]|\.\w)", new, definition)
    return [renamed[p] for p in params], definition


def _action(line: str) -> Action:
    """One line as an action; raises ValueError with what is wrong and how to fix it."""
    match = _LINE.fullmatch(line)
    if match is None:
        raise ValueError("expected NAME(ARGS) # definition")
    name = match.group("name")
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name[:40]!r} is not an action name (letters, digits and _)")
    name = name.upper()
    definition = match.group("definition")
    if definition is None:
        raise ValueError(f"{name} has no definition; add one after '#'")
    if not definition.strip():
        raise ValueError(f"{name} has an empty definition; say after '#' what it returns")
    written, variadic = _params(match.group("params"))
    params, definition = _renamed(written, definition.strip())
    try:
        return Action(
            name=name,
            params=params,
            definition=definition,
            variadic=variadic,
            pure=name in LOCAL_ACTIONS,
        )
    except ValidationError as exc:
        loc, message = first_problem(exc)
        if message.startswith(f"{name}:"):  # a check of the whole action names it already
            raise ValueError(message) from None
        field = ".".join(str(p) for p in loc)
        raise ValueError(f"{name}: {field}: {message}" if field else f"{name}: {message}") from None


def parse_action_list(
    text: str, *, name: str = "paper", source: str = "action list"
) -> tuple[ActionLibrary, list[str]]:
    """Read an action list in the paper's format.

    Args:
        text: the file's text.
        name: the library's name.
        source: how messages name the input (usually the file's path).

    Returns:
        The library, and one message per skipped line (`source:3: ...`).

    Raises:
        ConfigError: no line holds a usable action.
    """
    actions: list[Action] = []
    where: dict[str, int] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            action = _action(line)
        except ValueError as exc:
            problems.append(f"{source}:{number}: {exc}; line skipped")
            continue
        if action.name in where:
            problems.append(
                f"{source}:{number}: {action.name} is already defined on line {where[action.name]}; "
                "kept the first definition"
            )
            continue
        where[action.name] = number
        actions.append(action)
    if not actions:
        first = f" ({problems[0]})" if problems else ""
        raise ConfigError(
            f"{source} holds no action: expected a JSON library or lines like FIND_X(CTX, X) # what it returns{first}"
        )
    if len(name) > MAX_LIBRARY_NAME:  # a file's name, or --name: a pydantic traceback before
        raise ConfigError(f"{source}: the library's name is {len(name)} characters long; at most {MAX_LIBRARY_NAME}")
    library = ActionLibrary(name=name, description=f"Imported from the action list {source}.", actions=actions)
    # Its version is its content's, as a mined library's is: two lists imported under one name are told apart.
    return library.model_copy(update={"version": library.fingerprint[:12]}), problems


def render_action_list(library: ActionLibrary) -> str:
    """`library` in the paper's format: `NAME(ARGS) # definition`, one action a line, newline-terminated."""
    return "".join(f"{action.signature} # {action.definition}\n" for action in library.actions)
