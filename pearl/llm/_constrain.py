"""Constrained output: which constraint a backend enforces, and the request parameters that carry it.

The one place that decides between a GBNF grammar (llama.cpp), a JSON schema (OpenAI, vLLM)
and plain text, for every stage that asks for a strict format (plans, mining proposals,
merges, option letters). The caller's parser still checks whatever comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pearl.protocols import LLM

__all__ = ["OutputMode", "constrained", "output_mode"]

OutputMode = Literal["grammar", "json", "text"]


def output_mode(llm: LLM) -> OutputMode:
    """ "grammar" where the backend enforces GBNF, else "json" where it enforces JSON schemas, else "text"."""
    return "grammar" if llm.supports_grammar else "json" if llm.supports_json_schema else "text"


def constrained(
    llm: LLM,
    *,
    grammar: Callable[[], str] | None = None,
    json_schema: Callable[[], dict[str, Any]] | None = None,
) -> tuple[OutputMode, dict[str, Any]]:
    """The mode the reply will come in and the request parameters for it.

    Args:
        llm: the backend that will answer.
        grammar: builds the GBNF grammar (called only when the backend enforces grammars).
        json_schema: builds the JSON schema (called only when the backend enforces schemas).

    Returns:
        ("grammar", {"grammar": ...}), ("json", {"json_schema": ...}) or ("text", {}): a stage
        without a constraint for the backend's mode gets plain text.
    """
    mode = output_mode(llm)
    if mode == "grammar" and grammar is not None:
        return mode, {"grammar": grammar()}
    if mode == "json" and json_schema is not None:
        return mode, {"json_schema": json_schema()}
    return "text", {}
