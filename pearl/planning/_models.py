"""What a plan is once parsed: steps that call actions on the document, strings and earlier results."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from pearl.actions import CTX, Action

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Arg", "ArgKind", "Plan", "Step"]

ArgKind = Literal["ctx", "string", "var"]

_VAR_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_ACTION_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}


def _has_bad_control(text: str) -> str | None:
    """The first control character other than tab and newline, if any (they cannot be written in a plan)."""
    for ch in text:
        if ch not in "\t\n" and unicodedata.category(ch) == "Cc":
            return ch
    return None


def quote(value: str) -> str:
    """`value` as a double-quoted plan string literal, escaped so the parser reads it back unchanged."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'


class Arg(BaseModel):
    """One argument of a step: the document (`ctx`), a literal `string`, or an earlier step's `var`.

    A `var` may stand where the action takes CTX: the action then reads that result instead
    of the document. An empty `string` (`""`; blank ones are stored as `""`) means the
    argument is absent, as in the paper's plans.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ArgKind
    value: str = Field(default="", validate_default=True, max_length=10_000)

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind == "ctx":
            return CTX
        if kind == "var":
            value = value.lower()
            if not _VAR_RE.match(value) or len(value) > 64:
                raise ValueError(
                    f"{value!r} is not a variable name (ASCII letters, digits and _, not starting with a digit)"
                )
            return value
        bad = _has_bad_control(value)
        if bad is not None:
            raise ValueError(f"control character U+{ord(bad):04X} is not allowed in a string argument")
        # Blank text says nothing: one spelling of "absent" keeps renders and comparisons simple.
        return value if value.strip() else ""

    @classmethod
    def ctx(cls) -> Arg:
        """The document."""
        return cls(kind="ctx")

    @classmethod
    def string(cls, value: str) -> Arg:
        """A literal text argument."""
        return cls(kind="string", value=value)

    @classmethod
    def var(cls, name: str) -> Arg:
        """The output of an earlier step."""
        return cls(kind="var", value=name)

    @property
    def absent(self) -> bool:
        """Whether this is an empty string: the plan leaves the argument out."""
        return self.kind == "string" and not self.value

    def render(self) -> str:
        """`CTX`, `"text"` (escaped) or the variable name."""
        return quote(self.value) if self.kind == "string" else self.value


class Step(BaseModel):
    """`var = ACTION(args) : explanation`; `line` is where it was read (0 if built in code)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    var: str
    action: str
    args: list[Arg] = Field(default_factory=list)
    explanation: str | None = None
    line: int = Field(default=0, ge=0)

    @field_validator("var")
    @classmethod
    def _check_var(cls, value: str) -> str:
        # Variables are case-insensitive; one canonical spelling keeps later lookups simple.
        value = value.lower()
        if not _VAR_RE.match(value) or len(value) > 64:
            raise ValueError(
                f"{value!r} is not a variable name (ASCII letters, digits and _, not starting with a digit)"
            )
        return value

    @field_validator("action")
    @classmethod
    def _check_action(cls, value: str) -> str:
        value = value.upper()
        if not _ACTION_RE.match(value) or len(value) > 64:
            raise ValueError(f"{value!r} is not an action name (UPPER_SNAKE_CASE, starting with a letter)")
        return value

    @field_validator("explanation")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # An explanation is the rest of its line, so it is kept to one line of plain words.
        cleaned = " ".join("".join(ch for ch in value if unicodedata.category(ch) != "Cc" or ch in "\t\n").split())
        return cleaned or None

    @property
    def call(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The action and its arguments, without the variable: two steps with the same call do the same work."""
        return self.action, tuple((a.kind, a.value) for a in self.args)

    @property
    def inputs(self) -> list[str]:
        """Variables this step reads, in argument order, without repeats."""
        return list(dict.fromkeys(a.value for a in self.args if a.kind == "var"))

    @property
    def strings(self) -> list[str]:
        """The step's literal text arguments, in argument order, absent (blank) ones left out."""
        return [a.value for a in self.args if a.kind == "string" and a.value.strip()]

    def render(self, *, explanation: bool = True) -> str:
        """`var = ACTION(CTX, "text", other) : explanation`."""
        call = f"{self.var} = {self.action}({', '.join(a.render() for a in self.args)})"
        return f"{call} : {self.explanation}" if explanation and self.explanation else call


class Plan(BaseModel):
    """Steps in execution order, plus any actions the plan declared for itself.

    Build one with `parse_plan`, `plan_from_json` or `validate_plan`: the constructor alone
    does not check that variables are defined or that actions exist.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: list[Step]
    new_actions: list[Action] = Field(default_factory=list)

    @property
    def answer_vars(self) -> list[str]:
        """Outputs no later step reads, in step order: together they make the free-form answer.

        This follows the paper: an unused intermediate result is not an error, it is part of
        the answer. The last step's output is always included.
        """
        used = {name for step in self.steps for name in step.inputs}
        return [s.var for s in self.steps if s.var not in used]

    def step(self, var: str) -> Step | None:
        """The step that assigns `var` (case-insensitive), or None."""
        var = var.lower()
        return next((s for s in self.steps if s.var == var), None)

    def render(self, *, published: bool = False, explanations: bool = True) -> str:
        """Canonical text that `parse_plan` reads back to an equal plan.

        Args:
            published: write the paper's form (a `New actions:` block, then numbered steps)
                even when no action is declared; otherwise one `var = ACTION(...)` per line,
                preceded by the `New actions:` block only if there are new actions.
            explanations: keep each step's ` : explanation`.
        """
        lines: list[str] = []
        if published or self.new_actions:
            lines.append("New actions:")
            lines.extend(f"- {a.render()}" for a in self.new_actions)
            if not self.new_actions:
                lines.append("- None")
            lines.append("")
        for number, step in enumerate(self.steps, start=1):
            text = step.render(explanation=explanations)
            lines.append(f"{number}. {text}" if published else text)
        return "\n".join(lines)

    def to_graph(self) -> nx.DiGraph:
        """A networkx DiGraph: one node per step (keyed by its variable), an edge from each input to its user.

        Node attributes: `action`, `line`, `index` (0-based step position).
        """
        import networkx as nx  # loaded on first use: it costs 150 ms at import

        graph = nx.DiGraph()
        for index, step in enumerate(self.steps):
            graph.add_node(step.var, action=step.action, line=step.line, index=index)
            for name in step.inputs:
                graph.add_edge(name, step.var)
        return graph
