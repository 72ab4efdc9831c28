"""The action vocabulary a plan is written in: one `Action` per verb, gathered in an `ActionLibrary`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from pearl.errors import ConfigError

__all__ = ["CTX", "DOCUMENT_PARAMS", "Action", "ActionLibrary"]

CTX = "CTX"
"""The parameter (and plan argument) that stands for the document itself."""
DOCUMENT_PARAMS = frozenset({CTX, "CONTEXT", "DOC", "DOCUMENT", "ARTICLE", "STORY", "PASSAGE", "TEXT"})
"""Names a model or a hand-written list gives the document's parameter: each is read as `CTX`."""

_NAME_PATTERN = r"^[A-Z][A-Z0-9_]*$"

MAX_LIBRARY_NAME = 100
"""The longest name a library may have."""
ActionName = Annotated[str, StringConstraints(pattern=_NAME_PATTERN, min_length=1, max_length=64)]
ParamName = Annotated[str, StringConstraints(pattern=_NAME_PATTERN, min_length=1, max_length=32)]

MAX_DEFINITION_CHARS = 1000
"""Longest definition; the paper's general FIND_ELEMENT lists its uses in about 700 characters."""


class Action(BaseModel):
    """One verb a plan may use, e.g. `FIND_REASON(CTX, X) : why X happens`.

    `params` name the arguments in order; `CTX` means "the document", which the executor
    supplies, so an action without `CTX` only works on earlier results. A `variadic`
    action repeats its last parameter (`CONCAT(S1, S2, ...)`); a `pure` one runs locally,
    without an LLM. `count` and `examples` record where a mined action came from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ActionName
    params: list[ParamName] = Field(default_factory=list)
    definition: str = Field(min_length=1, max_length=MAX_DEFINITION_CHARS)
    variadic: bool = False
    pure: bool = False
    count: int = Field(default=0, ge=0)
    examples: list[str] = Field(default_factory=list)

    @field_validator("definition")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the definition is empty; say in one line what the action returns")
        if "\n" in value or "\r" in value:
            raise ValueError("the definition must be one line (it is shown to the model one action per line)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Action:
        if self.name == CTX:  # `b = CTX(a)` would read as a call of the document
            raise ValueError("CTX names the document in a plan, not an action; give the action another name")
        if len(set(self.params)) != len(self.params):
            raise ValueError(f"{self.name}: parameter names must be distinct, got {', '.join(self.params)}")
        if self.variadic and (not self.params or self.params[-1] == CTX):
            # The repeated parameter is the last one; repeating the document makes no sense.
            raise ValueError(f"{self.name}: a variadic action needs a last parameter other than CTX to repeat")
        if self.pure and self.needs_document:
            raise ValueError(f"{self.name}: a pure action runs without an LLM, so it cannot read the document (CTX)")
        return self

    @property
    def needs_document(self) -> bool:
        """Whether the executor must hand this action the document."""
        return CTX in self.params

    @property
    def signature(self) -> str:
        """`NAME(CTX, X)`, or `NAME(S1, S2, ...)` when variadic."""
        params = [*self.params, "..."] if self.variadic else self.params
        return f"{self.name}({', '.join(params)})"

    @property
    def min_args(self) -> int:
        """Fewest arguments a call may pass.

        A variadic action needs its CTX parameters and at least one value after them:
        `CONCAT(a)` is a harmless no-op, so rejecting it would only cost a retry.
        """
        if not self.variadic:
            return len(self.params)
        ctx_positions = [i for i, p in enumerate(self.params) if p == CTX]
        return (ctx_positions[-1] + 1 if ctx_positions else 0) + 1

    @property
    def max_args(self) -> int | None:
        """Most arguments a call may pass (None: no limit)."""
        return None if self.variadic else len(self.params)

    def param_at(self, index: int) -> str | None:
        """Name of the parameter that argument `index` (0-based) binds to, None past the end."""
        if index < len(self.params):
            return self.params[index]
        return self.params[-1] if self.variadic and self.params else None

    def render(self) -> str:
        """`NAME(CTX, X) : definition`, the line a prompt shows."""
        return f"{self.signature} : {self.definition}"


class ActionLibrary(BaseModel):
    """A named, versioned set of actions with distinct names.

    The model is frozen; build a new library (e.g. with `extended`, or `model_copy` with
    new `actions`) rather than editing `actions` in place.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_LIBRARY_NAME)
    version: str = Field(default="1", min_length=1, max_length=40)
    description: str = ""
    actions: list[Action] = Field(default_factory=list)
    prompts: dict[str, str] = Field(
        default_factory=dict, description="provenance: stage -> id (`name.vN#hash`) of the prompts that made it"
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, version: object) -> object:
        """A version written by hand as a whole number (`"version": 3`) is read as its text, "3"; one with a point
        is refused, to be written as text (JSON reads 3.10 as 3.1)."""
        if isinstance(version, float):
            raise ValueError(
                f'{version} is a number: write the version as text, in quotes ("3.10", which JSON reads as 3.1)'
            )
        return str(version) if isinstance(version, int) and not isinstance(version, bool) else version

    @field_validator("actions")
    @classmethod
    def _distinct(cls, actions: list[Action]) -> list[Action]:
        seen: set[str] = set()
        for action in actions:
            if action.name in seen:
                raise ValueError(f"action {action.name} is defined twice; keep one definition per name")
            seen.add(action.name)
        return actions

    def get(self, name: str) -> Action | None:
        """The action called `name` (case-insensitive), or None."""
        # A linear scan on purpose: a cached index would go stale under model_copy(update=...),
        # and libraries are a few dozen actions long.
        wanted = name.upper()
        return next((a for a in self.actions if a.name == wanted), None)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def names(self) -> list[str]:
        """Action names in library order."""
        return [a.name for a in self.actions]

    def render(self) -> str:
        """One action per line, `NAME(CTX, X) : definition`, for a prompt."""
        return "\n".join(a.render() for a in self.actions)

    @property
    def fingerprint(self) -> str:
        """sha256 (hex) of what the actions mean: names, parameters, definitions, flags.

        Library name, version and mining provenance are left out on purpose: they do not
        change what a model is shown or what the executor does, so they must not
        invalidate cached plans.
        """
        content = [
            {"name": a.name, "params": a.params, "definition": a.definition, "variadic": a.variadic, "pure": a.pure}
            for a in self.actions
        ]
        blob = json.dumps(content, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def extended(self, actions: Iterable[Action]) -> ActionLibrary:
        """A copy with `actions` appended (e.g. a plan's `new_actions`).

        An action whose name is already present is skipped if it has the same parameters;
        a different signature under a known name raises `ConfigError`.
        """
        added: list[Action] = []
        for action in actions:
            known = self.get(action.name) or next((a for a in added if a.name == action.name), None)
            if known is None:
                added.append(action)
            elif known.params != action.params or known.variadic != action.variadic:
                raise ConfigError(
                    f"action {action.name} is already defined as {known.signature}; "
                    f"cannot add it again as {action.signature}"
                )
        if not added:
            return self
        return ActionLibrary(
            name=self.name,
            version=self.version,
            description=self.description,
            actions=[*self.actions, *added],
            prompts=self.prompts,
        )
