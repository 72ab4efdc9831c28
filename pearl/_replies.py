"""Reading what a model wrote: one fence rule and one guarded JSON decoder for every strict parser."""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["load_json_reply", "strip_fence"]

_FENCE = re.compile(r"\s*```[A-Za-z]*[ \t]*\n(.*?)\n?[ \t]*```\s*", re.DOTALL)


def strip_fence(text: str) -> str:
    """`text` without one enclosing ``` fence: chat models add one even when told not to."""
    match = _FENCE.fullmatch(text)
    return match.group(1) if match else text


def load_json_reply(text: str, max_chars: int, error: type[Exception]) -> Any:
    """Decode a model's JSON reply (fence allowed), raising `error` with a message the model can act on.

    Raises:
        error: the reply is over `max_chars`, not JSON, or nested too deeply to decode.
    """
    if len(text) > max_chars:
        raise error(f"the reply is {len(text):,} characters; at most {max_chars:,}")
    try:
        return json.loads(strip_fence(text))
    except json.JSONDecodeError as exc:
        raise error(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:  # "[[[[..." a few thousand deep exhausts the decoder's stack
        raise error("the JSON is nested too deeply") from None
