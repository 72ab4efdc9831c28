"""Reading what a model wrote: one fence rule and one guarded JSON decoder for every JSON a model sends.

`read_json` is that decoder: a server's response body, a plan written as JSON, a mining or a
merge reply all go through it, so input built to hurt a decoder (a reply over its size,
"[[[[..." a hundred thousand deep, an integer of thousands of digits) is one error the caller
can act on (self-correction, a retry, a skipped reply), never a crash.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pearl._text import after_thinking
from pearl.models import Completion

__all__ = [
    "MAX_INT_DIGITS",
    "JSONReplyError",
    "after_thinking",
    "load_json_reply",
    "plain_line",
    "read_json",
    "strip_fence",
    "without_thinking",
]

_FENCE_INFO = re.compile(r"[A-Za-z]*[ \t]*")  # what may follow a fence's opening ``` on its line: "json"
_EMPHASIS = re.compile(r"\*\*|`")
_LIST_MARK = re.compile(r"(?:[-*+\u2022][ \t]+|\d{1,3}[.)][ \t]*)")


def plain_line(line: str) -> tuple[str, bool]:
    """A line of a reply without what chat models wrap a line of a line format in, bold or code marks and a bullet
    or a number ("1. **MERGE:** A, B -> A", "- USE: FIND_X"); and whether it was bulleted or numbered."""
    plain = _EMPHASIS.sub("", line).strip()
    mark = _LIST_MARK.match(plain)
    return (plain[mark.end() :].strip(), True) if mark else (plain, False)


MAX_INT_DIGITS = 640
"""The longest integer a model's JSON may hold. No count, index or id needs more; Python's own
limit (4,300 digits by default, changeable per process) raises a bare ValueError, and turning a
very long digit string into an int takes quadratic time."""


class JSONReplyError(ValueError):
    """What `read_json` raises: `reason` reads after "the reply is" ("not valid JSON: ..."); `line`
    and `column` are 1-based where the JSON itself is malformed, else 0."""

    def __init__(self, reason: str, line: int = 0, column: int = 0) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        super().__init__(f"{reason} (line {line}, column {column})" if line else reason)


def strip_fence(text: str) -> str:
    """`text` without one enclosing ``` fence: chat models add one even when told not to.

    The fence's lines are found by position, in linear time: a pattern with a lazy body before the closing fence
    backtracked over a long run of spaces ("```json" and 100,000 spaces took 13 s).
    """
    stripped = text.strip()
    if len(stripped) < 6 or not (stripped.startswith("```") and stripped.endswith("```")):
        return text
    newline = stripped.find("\n")
    if newline < 0 or _FENCE_INFO.fullmatch(stripped, 3, newline) is None:
        return text
    body = stripped[newline + 1 : -3].rstrip(" \t")  # the closing fence's own indentation
    return body[:-1] if body.endswith("\n") else body


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number has {len(digits.lstrip('-')):,} digits; at most {MAX_INT_DIGITS}")
    return int(digits)


def read_json(text: str, max_chars: int) -> Any:
    """Decode JSON a model or a server wrote, refusing what could crash or stall the decoder.

    Raises:
        JSONReplyError: over `max_chars`, not JSON, nested too deeply, or an integer over `MAX_INT_DIGITS` digits.
    """
    if len(text) > max_chars:
        raise JSONReplyError(f"{len(text):,} characters long; at most {max_chars:,}")
    try:
        return json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise JSONReplyError(f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:  # "[[[[..." a few thousand deep exhausts the decoder's stack
        raise JSONReplyError("not usable JSON: it is nested too deeply") from None
    except ValueError as exc:  # raised by _bounded_int (or Python's own digit limit)
        raise JSONReplyError(f"not usable JSON: {exc}") from None


def load_json_reply(text: str, max_chars: int, error: type[Exception]) -> Any:
    """Decode a model's JSON reply (fence allowed), raising `error` with a message the model can act on.

    Raises:
        error: the reply is over `max_chars`, not JSON, nested too deeply or holds a huge integer.
    """
    try:
        return read_json(strip_fence(text) if len(text) <= max_chars else text, max_chars)
    except JSONReplyError as exc:
        raise error(f"the reply is {exc}") from None


def without_thinking(completion: Completion) -> Completion:
    """`completion` without a reasoning block before its answer, as `read_completion` leaves it out. For replies kept
    from before pearl did (a response cache written by an older version): served as they came, every plan in them
    was refused at its "<" again. A reply of thinking alone is served as it is (an error when read anew)."""
    split = after_thinking(completion.text)
    if split is None or split[0] is None:
        return completion
    return completion.model_copy(update={"text": split[0], "notes": [*completion.notes, split[1]]})
