"""Reading and writing action libraries (pearl's JSON or the paper's action list), and the two libraries pearl ships."""

from __future__ import annotations

import json
import logging
import os
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from pearl._files import atomic_write_text, decode_json, field_path, field_problem, read_text
from pearl.actions._models import MAX_LIBRARY_NAME, ActionLibrary
from pearl.actions._paper import parse_action_list, render_action_list
from pearl.errors import ConfigError

__all__ = ["LibraryFormat", "default_library", "holds_demos", "load_library", "save_library", "seed_library"]

log = logging.getLogger("pearl.actions")

LibraryFormat = Literal["json", "paper"]
"""pearl's JSON library, or the paper's action list (`NAME(ARGS) # definition` lines)."""

# Bundled files carry their format version in the name, so a later default.v2.json can sit
# beside v1 and old caches keyed on the fingerprint stay meaningful.
_DEFAULT_FILE = "default.v1.json"
_SEED_FILE = "seed.v1.json"


def default_library() -> ActionLibrary:
    """The bundled general-purpose library (a few dozen reading actions, the seven seed ones included)."""
    return _bundled(_DEFAULT_FILE)


def seed_library() -> ActionLibrary:
    """The seven seed actions mining starts from (CONCAT, EXTRACT, FIND_X, ... SUMMARIZE_X)."""
    return _bundled(_SEED_FILE)


def load_library(path: str | os.PathLike[str] | None = None) -> ActionLibrary:
    """Read an action library: pearl's JSON, or the paper's action list, told apart by content.

    A file whose text starts with `{` (or `[`) is JSON; anything else is read as the paper's
    `NAME(ARGS) # definition` lines (see `parse_action_list`), named after the file, and
    lines that cannot be read are skipped with a warning on the `pearl.actions` logger.

    Args:
        path: a file written by `save_library` (or by hand in the same shape); None
            loads the bundled default library.

    Raises:
        ConfigError: the file is missing, unreadable, or not a valid library (JSON that does
            not parse or validate, or an action list with no usable line); the message says
            which action and field are wrong.
    """
    if path is None:
        return default_library()
    file = Path(path)
    if not file.exists():
        raise ConfigError(
            f"action library {file} does not exist; give a library file (pearl's JSON or an action list), "
            "or none for the bundled default library"
        )
    raw = read_text(file, "action library")
    if raw.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        return _parse(raw, str(file))
    library, problems = parse_action_list(raw, name=file.stem[:MAX_LIBRARY_NAME] or "actions", source=str(file))
    for problem in problems:
        log.warning("%s", problem)
    return library


def save_library(library: ActionLibrary, path: str | os.PathLike[str], *, format: LibraryFormat = "json") -> Path:
    """Write `library`, atomically: readers see the old file or the new one, never half.

    Args:
        format: "json" (everything) or "paper" (the paper's action list: names, parameters
            and definitions only; see `render_action_list`).

    Returns:
        The path written.

    Raises:
        ConfigError: an unknown format, or the file or its folder cannot be written.
    """
    file = Path(path)
    if format == "paper":
        text = render_action_list(library)
    elif format == "json":
        data = library.model_dump(mode="json", exclude_defaults=True)
        # Name, version and an (empty) action list are always written, so the file explains itself.
        data = {"name": library.name, "version": library.version, **data, "actions": data.get("actions", [])}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        raise ConfigError(f"unknown library format {format!r}; choose json or paper")
    try:
        atomic_write_text(file, text)
    except OSError as exc:
        raise ConfigError(f"cannot write action library {file}: {exc.strerror or exc}") from None
    return file


def _bundled(filename: str) -> ActionLibrary:
    resource = resources.files("pearl.actions") / "data" / filename
    try:
        raw = resource.read_text(encoding="utf-8")
    except OSError as exc:  # pragma: no cover - only a broken install gets here
        raise ConfigError(f"the bundled action library {filename} is missing ({exc}); reinstall pearl") from None
    return _parse(raw, f"bundled {filename}")


def holds_demos(raw: str) -> bool:
    """Whether the JSON text `raw` is a demonstration store (`save_demos`'s JSON Lines, or one saved as .json)."""
    try:
        data: Any = decode_json(raw, "demonstrations")
    except ConfigError:
        return _demo_lines(raw)
    return _is_store(data)


def _demo_lines(raw: str) -> bool:
    """Whether `raw`, not one JSON document, is JSON Lines of demonstrations: the first line tells."""
    first = raw.lstrip("\ufeff \t\r\n").split("\n", 1)[0]
    return ('"question"' in first and '"plan"' in first) or first.startswith('{"store"')


def _is_store(data: Any) -> bool:
    """Whether the JSON value `data` is a demonstration store, or a store of one line."""
    return isinstance(data, dict) and "actions" not in data and ("demos" in data or {"question", "plan"} <= data.keys())


def _parse(raw: str, source: str) -> ActionLibrary:
    misplaced = ConfigError(f"{source} holds demonstrations, not an action library: give it as --demos (demos=)")
    try:
        data: Any = decode_json(raw, f"action library {source}")
    except ConfigError:
        if _demo_lines(raw):
            raise misplaced from None
        raise
    if _is_store(data):
        raise misplaced
    if not isinstance(data, dict):
        raise ConfigError(
            f"action library {source} must be a JSON object with name, version and actions, not a {type(data).__name__}"
        )
    try:
        return ActionLibrary.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(err, data) for err in exc.errors()[:5]]
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise ConfigError(f"action library {source} is not valid: {'; '.join(problems)}{more}") from None


def _describe(err: Any, data: dict[str, Any]) -> str:
    """`actions[3] (FIND_X).definition: field required`, pointing at the culprit."""
    loc: tuple[Any, ...] = tuple(err.get("loc", ()))
    where = field_path(loc)
    if len(loc) >= 2 and loc[0] == "actions" and isinstance(loc[1], int):
        name = _action_name(data, loc[1])
        if name:
            head = f"actions[{loc[1]}]"
            where = f"{head} ({name}){where[len(head) :]}"
    return f"{where}: {field_problem(err, _NAME_FORM)}"


_NAME_FORM = "a name: write it in capitals, digits and _, a letter first (like FIND_X, CTX)"
"""What an action's or a parameter's name must look like, said where one does not."""


def _action_name(data: dict[str, Any], index: int) -> str | None:
    actions = data.get("actions")
    if isinstance(actions, list) and 0 <= index < len(actions) and isinstance(actions[index], dict):
        name = actions[index].get("name")
        return name if isinstance(name, str) else None
    return None
