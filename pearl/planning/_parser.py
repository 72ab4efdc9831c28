"""Read a plan a model wrote, in our one-step-per-line form or the paper's published form.

A small hand-written scanner, never `eval`: arguments can only be `CTX`, a quoted string or a
variable, and anything else (calls, attributes, numbers, operators, brackets...) gets a
message that says what to write instead. Outside strings only ASCII is accepted, so a
look-alike such as a Cyrillic `С` in `СTX` is reported, not silently read as CTX.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Collection
from typing import NoReturn

from pydantic import ValidationError

from pearl._text import first_problem
from pearl.actions import CTX, Action, ActionLibrary
from pearl.errors import PlanParseError
from pearl.planning._models import Arg, Plan, Step
from pearl.planning._validate import DEFAULT_MAX_STEPS, DEFAULT_MAX_STRING_CHARS, Spot, check_plan

__all__ = ["DEFAULT_MAX_CHARS", "DEFAULT_MAX_LINE_CHARS", "parse_plan", "plan_ends_before", "plan_ends_with_step"]

DEFAULT_MAX_CHARS = 20_000
DEFAULT_MAX_LINE_CHARS = 2_000

# Smart quotes are accepted as delimiters because models trained on prose emit them; each
# opener has one closer, and a straight quote inside a curly string is just a character.
_CLOSER = {'"': '"', "'": "'", "\u201c": "\u201d", "\u201d": "\u201d", "\u2018": "\u2019"}
_ESCAPED = {'"', "'", "\\", "\u201c", "\u201d", "\u2018", "\u2019"}
_APOSTROPHES = ("'", "\u2019")
_TAIL = re.compile(r"\)\s*(?:[:#;\u2014\u2013]|//|--?\s)")
"""A step's `)` and what may follow it to begin an explanation or a comment."""
_STRING_PREFIXES = {"f", "r", "b", "u", "rb", "br", "fr", "rf"}
_OPERATORS = set("+-*/%<>=!&|^~@?;$")
_MAX_NAME = 64

# "1.", "1)", "Step 1:", "1 -", "(1)", "[1]", "**Step 1:**", a bullet; not `**s1**`, which is bold.
_NUMBERING = re.compile(
    r"(?:\*\*)?(?:step\s*)?(?:\d{1,3}\s*(?:[.):]|-(?=\s))|\(\d{1,3}\)|\[\d{1,3}\])(?:\*\*)?\s*|[-*\u2022](?!\*)\s*",
    re.IGNORECASE,
)
_HEADER = re.compile(r"(?:plan|answer|steps)\s*:", re.IGNORECASE)
_NEW_ACTIONS = re.compile(r"new\s+actions?\s*:", re.IGNORECASE)
_NEW_ACTIONS_HEADING = re.compile(r"(?:#{1,6}[ \t]*|\*\*[ \t]*)new\s+actions?\s*:?\s*(?:\*\*)?\s*:?", re.IGNORECASE)
"""The header as a Markdown heading or in bold, alone on its line ("### New actions", "**New actions:**")."""
_OWN_LINE_EXPLANATION = re.compile(r"(?:\*\*)?(?:explanation|purpose|reason|why)(?:\*\*)?\s*:(?:\*\*)?\s*(.+)", re.I)
"""An explanation a model writes on a line of its own under its step."""
_STEP_HEADING = re.compile(
    r"#{1,6}[ \t]+(?:\*\*)?step[ \t]*\d{1,3}[ \t]*(?:\*\*)?[ \t]*[:.)\-\u2013\u2014]?[ \t]*(?:\*\*)?[ \t]*", re.I
)
"""A Markdown heading naming a step ("### Step 2:", "## **Step 1** -"), on a line that may hold the step itself (an
assignment: "### Step 2: FIND_REASON(CTX, who)" above its step is a heading, "# 1. who = ..." a comment)."""
_STEP_START = re.compile(r"(?:\*\*|`)*[A-Za-z_][A-Za-z0-9_]*(?:\*\*|`)*\s*=(?!=)")
_MARKS = ("**", "`")
"""Markdown a model wraps a step's name, call or line in (`**s1** = ...`, `` `s1 = FIND_X(...)` ``): read as if
not there, once closed, where the step ends (after `)`, after `;` or at the end of the line) or right after the
name it opened before."""
_MARK_NAMES = {"**": "'**'", "`": "the backtick"}
_DASH = re.compile(r"(?://|--?)(?=\s|$)|[\u2014\u2013]")
"""What a model writes for ' : ' before an explanation (' - ', ' -- ', an em or an en dash) or for `#` (`//`)."""
_OPERAND = re.compile(r"\s*(?:([\"'\u201c\u2018\d])|([A-Za-z_][A-Za-z0-9_]*)\s*(\()?)")
"""After ' - ' or ' // ': a quoted string, a number, a name (CTX or a result) or a call reads as arithmetic."""
_NONE = re.compile(
    r"\(?(?:none|n/a|no new actions?)\)?(?:\s+(?:are\s+|is\s+)?(?:needed|required|necessary))?(?:\s*\([^()]*\))?\s*\.?"
    r"|\[\]",
    re.IGNORECASE,
)
"""A "New actions:" block's word that it declares none: "None", "None needed.", "(none)", "No new actions are
needed.", "None (all are listed)", "[]"."""
_EXAMPLE = 'name = ACTION(CTX, "text", earlier_name)'


def parse_plan(
    text: str,
    library: ActionLibrary | None = None,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
    max_string_chars: int = DEFAULT_MAX_STRING_CHARS,
) -> Plan:
    """Parse and validate a plan.

    Reads one step per line, `var = ACTION(arg, ...)` with an optional ` : explanation` or
    `# comment`, where an argument is `CTX`, a quoted string or a variable assigned on an
    earlier line. Also reads the paper's form: a `New actions:` block (`- None`, or
    `- NAME(CTX, X) : definition` lines whose actions then become valid for this plan),
    then numbered steps. Blank lines, code fences, `1.`/`-`/`*` numbering and a leading
    `Plan:` line are ignored. So are the habits of models that write markdown or code, whose
    reading is not in doubt: `**` or backticks around a step's name, call or line, a `;`
    after the call, ` - `, ` -- `, ` — ` or ` – ` for ` : ` and `//` for `#` (unless what
    follows reads as an operand: `- s1`, `- "b"`, `- 2`), and arguments named by the action's
    parameters (`FIND_RELATION(CTX, Y="b", X="a")`), put in the parameters' order. Variable
    names are case-insensitive and stored lower-case; action names are stored upper-case.

    Args:
        text: the plan as the model wrote it.
        library: the actions allowed; None skips the action-name and arity checks
            (except for actions the plan declares).
        max_steps: more steps than this is an error.
        max_chars, max_line_chars, max_string_chars: size limits for the whole text,
            one line and one string argument.

    Returns:
        The plan; `plan.answer_vars` names the outputs that make up the answer.

    Raises:
        PlanParseError: the first problem, with 1-based line and column and a message a
            model can act on.
        TypeError: `text` is not a str, or `library` not an ActionLibrary.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be the plan as a str, not {type(text).__name__}")
    if library is not None and not isinstance(library, ActionLibrary):
        raise TypeError(f"library must be an ActionLibrary (load_library(path)) or None, not {type(library).__name__}")
    if len(text) > max_chars:
        raise PlanParseError(
            f"the plan is {len(text):,} characters long; the limit is {max_chars:,}. Write only the steps, "
            f"one short line each, at most {max_steps} steps"
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    nul = text.find("\x00")
    if nul >= 0:
        line_start = text.rfind("\n", 0, nul) + 1
        raise PlanParseError(
            "NUL character (U+0000) in the plan; remove it", text.count("\n", 0, nul) + 1, nul - line_start + 1
        )
    # Before any pattern reads a line: some backtrack over a long run of spaces (a 19,000-character line took 12 s).
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > max_line_chars:
            raise PlanParseError(
                f"line is {len(line):,} characters long; keep each line under {max_line_chars:,} characters",
                number,
                max_line_chars + 1,
            )
    reader = _Reader(library, max_steps, max_line_chars, max_string_chars)
    reader.above = _explains_above(text)
    return reader.read(_without_chatter(text, reader.above))


_CALL_START = re.compile(r"[A-Z][A-Z0-9_]+\s*\(")
"""A line that opens with an ACTION( call: a step without its name (an error to send back), or a declaration."""
_NAMED_BRACKET = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*[ \t]*[(\uff08]")
"""A name, then a bracket: a call where what the bracket holds reads as arguments (`_holds_arguments`)."""
_ONE_TOKEN = re.compile(r"[ \t]*(?:[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*)?[\w.\-]*[ \t]*")
_TITLE = re.compile(
    r"(?:\*\*([A-Za-z][^*:=`\n]{0,78}?)\*\*|([A-Za-z][^*:=`\n]{0,78}?[ \t][^*:=`\n]{0,78}?))"
    r"[ \t]*(?::|[\u2014\u2013]|[ \t]-)[ \t]*(?:\*\*)?[ \t]*"
    r"(?=(?:\*\*|`)*[A-Za-z_][A-Za-z0-9_]*(?:\*\*|`)*[ \t]*=(?!=)[ \t]*[*`]*[ \t]*[A-Za-z_]\w*[ \t]*[*`]*[ \t]*\()"
)
"""A title a model writes before its step after the numbering, ending in ":" or a dash ("1. **Identify Dorota**:
s1 = ...", "Step 1 — s1 = ..."): read as the step's explanation where it writes none."""


def _titled(title: str) -> str:
    """A step's title as its explanation, without a "Step 1" of its own ("Step 1 (identify Dorota)": "identify
    Dorota"; "Step 1": none)."""
    return re.sub(r"^step\s*\d+\s*", "", title.strip(), flags=re.IGNORECASE).strip(" ()[]:-\u2013\u2014")


_HEADED_STEP = re.compile(
    r"[*#` \t]*(?:plan|steps|answer)[ \t]*:[*` \t]*"
    r"(?!(?:str|int|float|bool|list|dict|tuple|set|any|object|string|text)\b)(?=[A-Za-z_]\w*[ \t]*=(?!=))",
    re.IGNORECASE,
)
"""A header on a step's line ("Plan: s1 = F(...)", "**Plan:** s1 = ..."), before the step it heads; not a step named
so with a type ("answer: str = F(...)", refused as `s1: str = ...` is)."""
_COLON_CALL = re.compile(r"[ \t]*:[ \t]*[A-Za-z_]\w*[ \t]*\(")
"""After a step's name, a colon where its "=" goes: "s1: FIND_X(CTX, ...)"."""
_JOINED_NAME = re.compile(r"((?:-[A-Za-z0-9_]+)+)[ \t]*(?:=|\uff1d)(?!=)")
"""After a step's first word, more of its name joined by hyphens, then "=": "dorota-info = ...". (By spaces it is
prose before the name as often: "Finally s3 = ...".)"""
_ASSIGNED_CALL = re.compile(r"\w\s*(?::?=|\uff1d)\s*[*`]*\s*\w+\s*[*`]*\s*[(\uff08]")
"""Anywhere on a line, a name assigned a call ("Finally, s3 = FIND_MOTIVE(", "s3 := F(", full-width "s3 ＝ F（"):
a step, however it is introduced, to be read or refused, never left out."""


def _meant_as_step(line: str) -> bool:
    """Whether `line` is, or was meant to be, a step or a declaration: once its numbering and marks are passed over,
    it opens with an assignment (`s1 =`) or an ACTION( call; anywhere on it, a name is assigned a call; or it is a
    "New actions:" header. Prose that names an action ("Here's a plan using FIND_X (to gather facts):") or holds a
    "=" with no call after it is none."""
    stripped = line.strip()
    if _NEW_ACTIONS.match(stripped) or _NEW_ACTIONS_HEADING.fullmatch(stripped) or _ASSIGNED_CALL.search(stripped):
        return True
    rest = _unnumbered(stripped).lstrip("*` \t")
    return bool(_STEP_START.match(rest) or (_CALL_START.match(rest) and _call_closes_line(rest)))


def _call_closes_line(text: str) -> bool:
    """Whether the call `text` opens with ends the line, or an explanation or comment follows it, or its bracket holds
    arguments (`_holds_arguments`): a step written without its name ("ANSWER(CTX, "Why?")."), or a declaration. Prose
    that names an action before a bracket ("FIND_CHARACTER (step 1) tells us who she is.", under a plan) is none."""
    inside, end = _bracket(text, text.index("(") if "(" in text else text.index("\uff08"))
    if end is None or _holds_arguments(inside):
        return True  # never closed: a broken step, to be refused where it broke
    tail = text[end + 1 :].strip().strip("*`").strip()
    return not tail or bool(_TAIL.match(")" + " " + tail)) or tail[0] in ":#;"


def _holds_call(line: str) -> bool:
    """Whether `line` holds a call: a name, then a bracket that holds arguments, or is never closed. Not prose's
    brackets: "who she is (the keeper's wife)", "the NDA (non-disclosure agreement)"."""
    for found in _NAMED_BRACKET.finditer(line):
        inside, end = _bracket(line, found.end() - 1)
        # A word before a bracket is prose's ("all (now)", "Note (s1)") unless it is written as an action's name is
        # (capitals, or an underscore) or the bracket holds a text or CTX ("find_x(CTX, ...").
        name = found.group(0).rstrip("(\uff08 \t")
        loud = name.isupper() or "_" in name
        if end is None or (_holds_arguments(inside) if loud else _holds_arguments(inside, words=False)):
            return True
    return False


def _bracket(text: str, at: int) -> tuple[str, int | None]:
    """What the bracket opened at `at` holds, and where it closes (None: never), quoted text read as such."""
    depth, quote = 0, ""
    for pos in range(at, len(text)):
        ch = text[pos]
        if quote:
            quote = "" if ch == _CLOSER[quote] else quote
        elif ch in '"\u201c':
            quote = ch
        elif ch in "(\uff08":
            depth += 1
        elif ch in ")\uff09":
            depth -= 1
            if depth == 0:
                return text[at + 1 : pos], pos
    return text[at + 1 :], None


def _holds_arguments(inside: str, *, words: bool = True) -> bool:
    """Whether a bracket's text reads as a call's arguments: a quoted text or CTX in it, or (with `words`) only single
    words and numbers between commas ("s1, s2", "X=s1"); not words of prose ("step 1", "e.g. her role")."""
    if any(q in inside for q in '"\u201c\u201d') or re.search(r"\bctx\b", inside, re.IGNORECASE):
        return True
    return words and all(_ONE_TOKEN.fullmatch(piece) for piece in inside.split(","))


_NEXT_QUESTION = re.compile(r"(?:#{1,6}[ \t]*|\*\*)?(?:question|example(?:[ \t]+\d{1,3})?)[ \t]*(?:\*\*)?[ \t]*:", re.I)
"""A line that may open the next example after a plan ("Question: How does Mara ...?", "**Example 2:**"): a model
that goes on with the pattern of the demonstrations it was shown, whose next plan is not this question's (see
`_next_question`)."""


def _next_question(lines: list[str]) -> int:
    """The line at which the model, after writing at least one step, began another question's example as the
    demonstrations are laid out: a `_NEXT_QUESTION` line, then a "Plan:" header before any step. Where this plan
    ends; `len(lines)` where it began none. A question restated above each step ("Question: Who is Dorota?", then
    its step) opens no plan: cut there, the steps after it were dropped (helper-190)."""
    stepped = False
    for n, line in enumerate(lines):
        if stepped and _NEXT_QUESTION.match(_unnumbered(line.strip())):
            for after in lines[n + 1 :]:
                if _HEADER.fullmatch(after.strip().strip("*#` \t")):
                    return n
                if _meant_as_step(after):
                    break
        stepped = stepped or (_meant_as_step(line) and "=" in line)
    return len(lines)


def plan_ends_before(text: str) -> bool:
    """Whether a reply shows where its plan ended, before its last line: a code fence closed after the last step,
    or the next example begun (`_NEXT_QUESTION`). A reply cut at its length limit after either holds its plan whole:
    what was cut is prose after it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    end = _next_question(lines)
    if end < len(lines):
        return True
    steps = [n for n, line in enumerate(lines) if _meant_as_step(line)]
    fences = [n for n, line in enumerate(lines) if line.strip().startswith("```")]
    return bool(steps) and any(n < steps[0] for n in fences) and any(n > steps[-1] for n in fences)


def plan_ends_with_step(text: str) -> bool:
    """Whether the reply's last line that is not blank or a fence is (meant as) a step: a reply cut there may have
    lost steps after it; one that ends in prose was cut after its steps, in what the model wrote about them."""
    lines = [line for line in text.replace("\r", "\n").split("\n") if line.strip().strip("`")]
    return bool(lines) and _meant_as_step(lines[-1])


def _without_chatter(text: str, above: bool = False) -> str:
    """`text` with the model's prose before its first step and after its last blanked ("Here is the plan:",
    "**Plan:**", a closing "Explanation: ..."): lines not meant as steps (`_meant_as_step`), kept as empty lines so
    that errors name the lines the model wrote. A "New actions:" header, and everything between the first and the
    last step, is read as written: a broken step there is still an error. Where the model went on to another
    question's example, everything from there on is blanked: that plan is not this question's. `above`: explanations
    are written above their steps (`_explains_above`)."""
    lines = text.split("\n")
    end = _next_question(lines)
    lines = [*lines[:end], *([""] * (len(lines) - end))]
    meant = [n for n, line in enumerate(lines) if _meant_as_step(line)]
    if not meant:
        return text
    steps = [n for n in meant if "=" in lines[n]]
    # After a "New actions:" header with no step below it, every line is a declaration (or meant as one).
    last = steps[-1] if steps and steps[-1] == meant[-1] else len(lines) - 1
    kept = _explanations_outside(lines, steps, above)
    return "\n".join("" if (n < meant[0] or n > last) and n not in kept else line for n, line in enumerate(lines))


def _is_explanation(line: str) -> bool:
    """Whether `line` is an explanation on a line of its own ("Explanation: who she is", "Purpose: ...")."""
    stripped = _unnumbered(line.strip())
    return "=" not in stripped and _OWN_LINE_EXPLANATION.fullmatch(stripped) is not None


def _explains_above(text: str) -> bool:
    """Whether the model wrote each step's explanation on a line of its own above the step ("Purpose: who she is",
    then the step), not under it: its first such line comes at most two lines before the first step, and none comes
    right under the last step. ("Purpose: a" / step / "Purpose: b" / step reads either way but for the last step; a
    line of prose above the steps, then explanations under each, has one under the last.)"""
    lines = text.split("\n")
    steps = [n for n, line in enumerate(lines) if _meant_as_step(line) and "=" in line]
    first_said = next((n for n, line in enumerate(lines) if _is_explanation(line)), None)
    if not steps or first_said is None or not 0 < steps[0] - first_said <= 2:
        return False
    return not (steps[-1] + 1 < len(lines) and _is_explanation(lines[steps[-1] + 1]))


def _explanations_outside(lines: list[str], steps: list[int], above: bool) -> set[int]:
    """The explanation lines of the first and the last step that lie outside the lines between them: the first step's
    above it, where explanations are written above their steps (`above`); else the last step's right under it (where
    each earlier step has one right under it too, or it is indented under its step). A closing "Explanation: the plan
    finds ..." after a blank line, or after steps that have none, is the model's prose about the plan."""
    if not steps:
        return set()
    if above:
        return {n for n in range(max(0, steps[0] - 2), steps[0]) if _is_explanation(lines[n])}
    kept: set[int] = set()
    after = steps[-1] + 1
    if after < len(lines) and _is_explanation(lines[after]):
        under = all(n + 1 < len(lines) and _is_explanation(lines[n + 1]) for n in steps[:-1])
        indented = len(lines[after]) - len(lines[after].lstrip()) > len(lines[steps[-1]]) - len(
            lines[steps[-1]].lstrip()
        )
        if (under and len(steps) > 1) or indented:
            kept.add(after)
    return kept


class _Reader:
    """Walks the lines, sorting them into headers, declarations and steps."""

    def __init__(self, library: ActionLibrary | None, max_steps: int, max_line_chars: int, max_string: int) -> None:
        self.library = library
        self.max_steps = max_steps
        self.max_line_chars = max_line_chars
        self.max_string = max_string
        self.steps: list[Step] = []
        self.spots: list[Spot] = []
        self.actions: list[Action] = []
        self.decl_lines: list[int] = []
        self.block_seen = False
        self.block_lenient = False  # the block's header was in bold or a heading: its lines of prose are left out
        self.above = False  # explanations on lines of their own are written above their steps (`_explains_above`)
        self.pending: str | None = None  # such an explanation, for the step below it

    def read(self, text: str) -> Plan:
        for number, line in enumerate(text.split("\n"), start=1):  # each within `max_line_chars` (`parse_plan`)
            self._line(line, number)
        return check_plan(
            self.steps,
            self.actions,
            self.library,
            max_steps=self.max_steps,
            max_string_chars=self.max_string,
            spots=self.spots,
            decl_lines=self.decl_lines,
        )

    def _line(self, line: str, number: int) -> None:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        header = _NEW_ACTIONS.match(stripped) or _NEW_ACTIONS_HEADING.fullmatch(stripped)
        titled = _STEP_HEADING.match(stripped)
        if titled is not None and _STEP_START.match(stripped[titled.end() :].lstrip("*` \t")):
            # A step written in its heading ("### Step 2: why = FIND_REASON(...)"): read, columns kept (helper-186).
            indent += titled.end()
            stripped = stripped[titled.end() :]
            line = " " * indent + stripped
        # A fence, a comment or a Markdown heading ("# Step 2: explain", "### Step 2"): no step was meant.
        elif not stripped or (stripped.startswith(("```", "#")) and not header):
            return
        if not self.steps and _HEADER.fullmatch(stripped):
            return
        if self.above and not self.steps and _is_explanation(stripped):
            said = _OWN_LINE_EXPLANATION.fullmatch(_unnumbered(stripped))
            self.pending = said.group(1).strip() if said is not None else None
            return
        # The header in bold or as a heading ("### New actions") is read leniently: no prompt asks for it, and the
        # model's words under it ("No new actions are needed.") or after the steps were prose, left out.
        heading = header is not None and _NEW_ACTIONS.match(stripped) is None
        if heading and self.steps:
            return
        if header:
            if self.steps:
                raise PlanParseError('the "New actions:" block must come before the first step', number, indent + 1)
            if self.block_seen:
                raise PlanParseError('only one "New actions:" block is allowed; merge them', number, indent + 1)
            self.block_seen, self.block_lenient = True, heading
            rest = stripped[header.end() :]
            if rest.strip():
                self._declaration(line, number, indent + header.end())
            return
        if self.block_seen and not self.steps and not _looks_like_step(stripped):
            if not self.block_lenient or _CALL_START.match(_unnumbered(stripped).lstrip("*` \t")):
                self._declaration(line, number, 0)
            return
        if self.steps and not any(mark in stripped for mark in "=\uff1d") and not _holds_call(stripped):
            # Prose between steps, with neither a call nor an assignment (brackets it may hold: "(the keeper's
            # wife)"): an explanation on a line of its own under its step ("Explanation: who she is") is that
            # step's, where it has none.
            said = _OWN_LINE_EXPLANATION.fullmatch(_unnumbered(stripped))
            if said is not None and self.above:
                self.pending = said.group(1).strip()
            elif said is not None and self.steps[-1].explanation is None:
                self.steps[-1] = self.steps[-1].model_copy(update={"explanation": said.group(1).strip()})
            return
        if len(self.steps) == self.max_steps:
            raise PlanParseError(
                f"the plan has more than {self.max_steps} steps; merge or drop steps so there are at most "
                f"{self.max_steps}",
                number,
            )
        results = {step.var for step in self.steps if not self._is_action(step.var)}
        step, spot = _StepScanner(line, number).scan(results, self._action, unknown_refused=self.library is not None)
        if self.pending is not None and step.explanation is None:
            step = step.model_copy(update={"explanation": self.pending})
        self.pending = None
        self.steps.append(step)
        self.spots.append(spot)

    def _action(self, name: str) -> Action | None:
        """The action `name` (in any case) calls: one the plan declares, else the library's."""
        upper = name.upper()
        declared = next((action for action in self.actions if action.name == upper), None)
        if declared is not None or self.library is None:
            return declared
        return self.library.get(upper)

    def _is_action(self, name: str) -> bool:
        """Whether `name` (in any case) names an action of the library or one the plan declares."""
        return self._action(name) is not None

    def _declaration(self, line: str, number: int, start: int) -> None:
        action = _DeclarationScanner(line, number, start).scan()
        if action is not None:
            self.actions.append(action)
            self.decl_lines.append(number)


def _looks_like_step(stripped: str) -> bool:
    return bool(_STEP_START.match(_unnumbered(stripped)))


def _unnumbered(stripped: str) -> str:
    """A stripped line after its numbering ("1.", "Step 2:", a bullet), if any."""
    return stripped[_numbering_end(stripped, 0) :]


def _numbering_end(text: str, pos: int) -> int:
    """Where the numbering at `pos` ends (`pos` when there is none): one, or two nested ("- **Step 1:**",
    "1. Step 1:"), as a list of steps in Markdown is written."""
    for _ in range(2):
        numbering = _NUMBERING.match(text, pos)
        if numbering is None or numbering.end() == pos:
            break
        pos = numbering.end()
    return pos


def _label(ch: str) -> str:
    """`'x'` for a visible ASCII character, `U+200B ZERO WIDTH SPACE` otherwise."""
    if " " < ch < "\x7f":
        return f"'{ch}'"
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}{' ' + name if name else ''}"


def _is_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _is_space(ch: str) -> bool:
    return ch in " \t" or (ch.isspace() and unicodedata.category(ch) != "Cc")


class _Scanner:
    """A cursor over one line; every failure carries the line and the 1-based column."""

    def __init__(self, text: str, line: int, start: int = 0) -> None:
        self.text = text
        self.line = line
        self.pos = start
        self._closers: dict[str, list[int]] = {}  # quote -> where on the line it can close a string
        self._string_start = 0  # the string being read: where its text begins...
        self._open_quotes = 0  # ...and how many quotations inside it are open

    @property
    def col(self) -> int:
        return self.pos + 1

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def skip_space(self) -> None:
        while self.pos < len(self.text) and _is_space(self.text[self.pos]):
            self.pos += 1

    def skip_numbering(self) -> None:
        self.skip_space()
        self.pos = _numbering_end(self.text, self.pos)

    def fail(self, reason: str, col: int | None = None) -> NoReturn:
        raise PlanParseError(reason, self.line, col if col is not None else self.col)

    def name(self) -> str | None:
        """An ASCII identifier at the cursor, or None if there is none."""
        start = self.pos
        ch = self.peek()
        if not (ch.isascii() and (ch.isalpha() or ch == "_")):
            return None
        while self.pos < len(self.text) and _is_name_char(self.text[self.pos]):
            self.pos += 1
        after = self.peek()
        if after and not after.isascii() and (after.isalnum() or unicodedata.category(after) in ("Mn", "Mc", "Cf")):
            self.fail(self.bad_char(after))
        if self.pos - start > _MAX_NAME:
            self.fail(f"names are at most {_MAX_NAME} characters; shorten this one", start + 1)
        return self.text[start : self.pos]

    def bad_char(self, ch: str) -> str:
        """Why `ch` cannot stand outside a string."""
        category = unicodedata.category(ch)
        if category == "Cf":
            return (
                f"invisible formatting character {_label(ch)} outside a string; delete it "
                "(zero-width and text-direction characters are only allowed inside quotes)"
            )
        if category == "Cc":
            return f"control character {_label(ch)}; delete it"
        if not ch.isascii():
            return (
                f"non-ASCII character {ch!r} ({_label(ch)}) outside a string; names and CTX are written with "
                "plain ASCII letters, digits and _ (if this is text, put it inside double quotes)"
            )
        return f"unexpected character {_label(ch)}"


class _StepScanner(_Scanner):
    """`[1.] var = ACTION(arg, ...) [;] [: explanation | # comment]`."""

    def __init__(self, text: str, line: int, start: int = 0) -> None:
        super().__init__(text, line, start)
        self._marks: list[tuple[str, int]] = []  # markdown opened and not yet closed: (mark, its column)
        self._results: Collection[str] = ()

    def scan(
        self,
        results: Collection[str] = (),
        action_of: Callable[[str], Action | None] = lambda name: None,
        *,
        unknown_refused: bool = False,
    ) -> tuple[Step, Spot]:
        """The step on this line.

        Args:
            results: the variables the steps before it set (as read: lower case).
            action_of: the action a name calls (None if unknown), whose parameters name arguments (`X="a"`).
            unknown_refused: whether the validator refuses an unknown action: then its named arguments are
                left as written, for that error to come first.
        """
        self._results = results
        self.skip_numbering()
        title = _TITLE.match(self.text, self.pos)
        if title is not None:  # "1. **Identify Dorota**: s1 = ..." (helper-209): the title is the step's explanation
            self.pos = title.end()
        header = _HEADED_STEP.match(self.text, self.pos)
        if header is not None:  # "Plan: s1 = F(...)": the header the prompt ends with, the first step on its line
            self.pos = header.end()
        self._open_marks()
        var_col = self.col
        var = self.name()
        if var is None:
            ch = self.peek()
            if not ch:
                self.fail(f"expected a step after the numbering, like: {_EXAMPLE}")
            found = "a string" if ch in _CLOSER else _label(ch)
            if not ch.isascii() or unicodedata.category(ch)[0] == "C":  # the character is named once, by bad_char
                self.fail(f"{self.bad_char(ch)}; expected a step like: {_EXAMPLE}")
            self.fail(f"expected a step like: {_EXAMPLE} (found {found})")
        self._close_marks()
        name_end = self.pos
        self.skip_space()
        if self.peek() != "=" or self.peek(1) == "=":
            # Not a variable the model named, but a word of prose: "Next, we use FIND_REASON (with CTX) ...",
            # "Step 1 (identify Dorota): s1 = ..." were told of a variable called "Next" or "Step" (helper-186).
            rest = self.text[name_end:]
            joined = _JOINED_NAME.match(rest)
            if joined is not None:  # "dorota-info = ...": "write nothing before the step's name"
                written = var + joined.group(1)
                self.fail(
                    f"a step's name is one word of letters, digits and underscores: write "
                    f"{re.sub(r'[^A-Za-z0-9_]+', '_', written)}, not {written}",
                    var_col,
                )
            if _ASSIGNED_CALL.search(rest) and not rest.lstrip().startswith(":"):  # `s1: str = F(...)`: said below
                self.fail(
                    f"write nothing before the step's name: begin the line with the step, like: {_EXAMPLE}", var_col
                )
            if self.pos > name_end and self.peek().isalpha():
                self.fail(f"this line is not a step; write only the plan, one step per line like: {_EXAMPLE}", var_col)
            if self.peek() == "(":
                self.fail(
                    f"{var}(...) has no output variable; write each step as: result = {var.upper()}(...)", var_col
                )
            if self.peek() == "=" and self.peek(1) == "=":  # `a == FIND_X(...)`: "found '='" read as if none were
                self.fail(f'write one "=" after the variable name {var}, not "=="; a step looks like: {_EXAMPLE}')
            if _COLON_CALL.match(rest):  # "s1: FIND_X(CTX, ...)" was "this line is not a step"
                self.fail(f'write "=" after the step\'s name, not ":": {var} = ...; a step looks like: {_EXAMPLE}')
            if not any(mark in rest for mark in "=\uff1d"):
                self.fail(f"this line is not a step; write only the plan, one step per line like: {_EXAMPLE}", var_col)
            after = "the end of the line" if not self.peek() else _label(self.peek())
            self.fail(f'expected "=" after the variable name {var}, found {after}; a step looks like: {_EXAMPLE}')
        self.pos += 1
        self.skip_space()
        opened = len(self._marks)
        self._open_marks()
        action_col = self.col
        action = self.name()
        if action is None:
            ch = self.peek()
            found = "the end of the line" if not ch else "a string" if ch in _CLOSER else _label(ch)
            self.fail(f"expected an action name after '=', found {found}; a step looks like: {_EXAMPLE}")
        if not action[0].isalpha():
            self.fail(
                f"action names are UPPER_SNAKE_CASE and start with a letter, like FIND_X; {action} is not one",
                action_col,
            )
        self._close_marks(opened)
        self.skip_space()
        if self.peek() != "(":
            if self.peek() == ".":
                self.fail("attribute access is not allowed; a step calls one action: " + _EXAMPLE)
            if self.peek() in ("", ":", "#") and (action == "CTX" or not action.isupper() or action.lower() in results):
                # `b = a`, `b = CTX`, `b = A` after `A = ...`: a copy of a result or of the document, not a call
                self.fail(
                    f"{var} = {action} calls no action: a step is name = ACTION(arguments); pass {action} as an "
                    f"argument of the step that uses it, or delete the line (the final answer call is shown every "
                    f"step's result)",
                    action_col,
                )
            if action.lower() in results:  # `s3 = s1 + s2`: results are joined by an action
                self.fail(
                    f"{action} is an earlier result, not an action: a step calls one action on it, and results are "
                    f"joined with CONCAT({action}, ...)",
                    action_col,
                )
            self.fail(f"expected '(' after the action name {action.upper()}")
        self.pos += 1
        args, arg_cols, keywords = self._args()
        close_col = self.col - 1
        if any(keywords):
            known = action_of(action)
            if known is not None:
                args, arg_cols = self._by_parameter(known, args, arg_cols, keywords, close_col)
            elif not unknown_refused:
                first = next(i for i, keyword in enumerate(keywords) if keyword)
                self.fail(
                    f"keyword arguments ({keywords[first]}=...) only name the parameters of a listed or declared "
                    f"action, and {action.upper()} is neither; pass arguments by position",
                    arg_cols[first],
                )
        explanation = self._tail() or (_titled(title.group(1) or title.group(2)) if title is not None else "")
        try:
            step = Step(var=var, action=action, args=args, explanation=explanation, line=self.line)
        except ValidationError as exc:  # pragma: no cover - the scanner already enforces these rules
            self.fail(exc.errors()[0]["msg"], var_col)
        return step, Spot(self.line, var_col, action_col, tuple(arg_cols), close_col, self.text)

    def _args(self) -> tuple[list[Arg], list[int], list[str | None]]:
        """The arguments, where each begins and the parameter each names (`X="a"`; None: passed by position)."""
        args: list[Arg] = []
        cols: list[int] = []
        keywords: list[str | None] = []
        last_closer = ""
        while True:
            self.skip_space()
            if self.peek() == ")":
                self.pos += 1
                return args, cols, keywords
            cols.append(self.col)
            arg, last_closer, keyword = self._arg(len(args) + 1)
            args.append(arg)
            keywords.append(keyword)
            self.skip_space()
            ch = self.peek()
            if ch == ",":
                self.pos += 1
                continue
            if ch == ")":
                self.pos += 1
                return args, cols, keywords
            self._after_arg(ch, len(args), last_closer)

    def _by_parameter(
        self, action: Action, args: list[Arg], cols: list[int], keywords: list[str | None], close_col: int
    ) -> tuple[list[Arg], list[int]]:
        """`args` in the order of `action`'s parameters, those passed by name (`X="a"`) moved to their places."""
        first = next(i for i, keyword in enumerate(keywords) if keyword)
        slots = {i: (args[i], cols[i]) for i in range(first)}
        for number, (arg, col, keyword) in enumerate(zip(args, cols, keywords, strict=True), start=1):
            if number <= first:
                continue
            if keyword is None:
                self.fail(
                    f"argument {number} is passed by position after {keywords[first]}=...; pass every argument "
                    f"by position, as in {action.signature}, or name each one after the first named one",
                    col,
                )
            param = keyword.upper()
            if param not in action.params:
                self.fail(
                    f"{action.name} has no parameter {keyword}: {action.signature}; pass arguments by position",
                    col,
                )
            index = action.params.index(param)
            if index in slots:
                self.fail(f"{param} of {action.signature} is given twice; give each argument once", col)
            slots[index] = (arg, col)
        missing = next(i for i in range(len(slots) + 1) if i not in slots)
        if missing < max(slots):
            param = action.params[missing]
            # CTX takes the document (or an earlier result), never "": the advice to leave it out was refused next.
            give = "pass CTX, the document, first" if param == "CTX" else 'pass one ("" leaves it out)'
            self.fail(
                f"no argument for {param} of {action.signature}; {give}, in the order of the parameters", close_col
            )
        return [slots[i][0] for i in sorted(slots)], [slots[i][1] for i in sorted(slots)]

    def _after_arg(self, ch: str, count: int, last_closer: str) -> NoReturn:
        if not ch:
            self.fail("the line ends before the argument list is closed; end the step with )")
        if last_closer in ("'", "\u2019") and ch.isascii() and ch.isalpha():
            self.fail(
                f"the string ended at the quote in column {self.col - 1}; if the text contains an apostrophe, "
                'use double quotes around it, e.g. "Si\'s retirement"',
                self.col - 1,
            )
        if ch.isascii() and (ch.isalpha() or ch == "_"):
            self.fail(
                f"expected ',' or ')' after argument {count}; if these words are text, put them all inside one "
                "pair of double quotes"
            )
        if ch in _CLOSER:
            self.fail(f"expected ',' between argument {count} and the next one")
        if ch == "." and count and last_closer == "":
            self.fail("attribute access is not allowed; pass CTX, a quoted string or a variable as it is")
        self._not_an_argument(ch, f"after argument {count}")

    def _arg(self, number: int, keyword: str | None = None) -> tuple[Arg, str, str | None]:
        """Argument `number`, the quote that closed it ("" if none) and the parameter it names (`X="a"`), if any."""
        ch = self.peek()
        start = self.col
        if ch in _CLOSER:
            return Arg.string(self._string()), _CLOSER[ch], keyword
        name = self.name()
        if name is not None:
            if name.lower() in _STRING_PREFIXES and self.peek() in _CLOSER:
                self.fail(f'prefixed strings like {name}"..." are not allowed; write a plain quoted string', start)
            self.skip_space()
            nxt = self.peek()
            if nxt == "(":
                self.fail(
                    f"calls are not allowed inside arguments: assign {name}(...) to a variable on an earlier line, "
                    "then pass that variable",
                    start,
                )
            if nxt == ".":
                self.fail(
                    f"attribute access ({name}.…) is not allowed; pass CTX, a quoted string or a variable as it is",
                    start,
                )
            if nxt == "[":
                self.fail(f"indexing ({name}[...]) is not allowed; pass the whole variable", start)
            if nxt == "=" and self.peek(1) != "=":
                if keyword is not None:
                    self.fail(f"{keyword}={name}=... is not an argument; write {keyword}=value", start)
                self.pos += 1
                self.skip_space()
                if self.peek() in ("", ",", ")"):
                    self.fail(f"{name}= has no value; write {name}=value, or pass arguments by position")
                return self._arg(number, name)
            if name.upper() == CTX:
                return Arg.ctx(), "", keyword
            return Arg.var(name), "", keyword
        if not ch:
            self.fail(f"the line ends where argument {number} should be; close the argument list with )")
        self._not_an_argument(ch, f"as argument {number}")

    def _not_an_argument(self, ch: str, where: str) -> NoReturn:
        allowed = "an argument is CTX, a quoted string, or a variable assigned on an earlier line"
        if (ch.isascii() and ch.isdigit()) or (ch in "+-." and self.peek(1).isascii() and self.peek(1).isdigit()):
            self.fail(f'numbers are not allowed {where}; quote them as text, e.g. "3 times" ({allowed})')
        if ch in "([{":
            self.fail(f"brackets are not allowed {where}: no lists, tuples or nested calls ({allowed})")
        if ch == "`":
            self.fail(f"backticks are not allowed {where}; use double quotes for text ({allowed})")
        if ch == ",":
            self.fail(f"empty argument {where}; remove the extra comma")
        if ch in _OPERATORS:
            self.fail(f"operator {_label(ch)} is not allowed {where}; to join results use CONCAT(a, b) ({allowed})")
        reason = self.bad_char(ch)
        if reason.startswith("unexpected"):
            reason = f"{reason} {where} ({allowed})"
        self.fail(reason)

    def _string(self) -> str:
        start = self.col
        opener = self.peek()
        closer = _CLOSER[opener]
        if opener in "\"'" and self.peek(1) == opener and self.peek(2) == opener:
            self.fail("triple-quoted strings are not allowed; use one pair of double quotes on one line")
        self.pos += 1
        self._string_start = self.pos
        self._open_quotes = 0
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                self.fail(
                    f"the string that starts at column {start} is not closed; end it with {closer} on the same line "
                    "(a string cannot span lines)",
                    start,
                )
            if ch == "\\":
                nxt = self.peek(1)
                if nxt in _ESCAPED:
                    out.append(nxt)
                    self.pos += 2
                    continue
                if nxt in ("n", "t"):
                    out.append("\n" if nxt == "n" else "\t")
                    self.pos += 2
                    continue
                # Any other backslash is kept as written: "C:\path" should not be an error.
            elif ch == closer and self._ends_string(closer):
                self.pos += 1
                return "".join(out)
            elif ch != "\t" and unicodedata.category(ch) == "Cc":
                self.fail(f"control character {_label(ch)} inside a string; delete it")
            out.append(ch)
            self.pos += 1

    def _ends_string(self, closer: str) -> bool:
        """Whether the quote at the cursor closes the string, or is one inside its text.

        Models write quotes inside quotes unescaped (`"the "Governing Law" clause"`, `'Si's
        retirement'`), and a question pasted into a plan carries its own. A quote is read as text
        only where it looks like one and a later quote on the line can still close the string (one
        followed by `,` or `)`): a double quote opening a quotation (a space before it that does
        not follow a comma, a word right after) or closing an open one (followed by anything but
        `,`, `)` or the end of the line: a word, `in`, `(`, `?`), or an apostrophe between two
        letters; and never once the string has run past a `)` into an explanation or comment. Any
        other quote closes the string, so that `"a" "b"`, `"a" or "b"` and `"law" clause, "venue"`
        are refused as before, with the error pointing where it did.
        """
        before = self.text[self.pos - 1] if self.pos > 0 else ""
        after = self.peek(1)
        opening = False
        if closer in _APOSTROPHES:
            inner = before.isalpha() and after.isalpha()
        elif _is_space(before):
            inner = opening = after.isalnum() and self.text[self.pos - 2 : self.pos - 1] != ","
        else:
            curly = closer == "\u201d" and "\u201c" in self.text[self._string_start : self.pos]
            # A closing quote only after an opening one, followed by anything but what ends an argument: a word (an
            # operator word too: "the phrase "cause found" in the log"), a bracket, a question's mark ("he says
            # "run"?"). Without one opened, `"a" or "b"` is two strings.
            opened = self._open_quotes > 0 or curly
            inner = opened and self._after(self.pos) not in (",", ")", "")
        if inner and _TAIL.search(self.text, self._string_start, self.pos):
            inner = False  # the string ran past its step's ')' into the explanation: it was never closed
        if not inner:
            return True
        if closer not in self._closers:
            self._closers[closer] = [
                at
                for at in range(len(self.text))
                if self.text[at] == closer and self.text[at - 1 : at] != "\\" and self._after(at) in (",", ")")
            ]
        ends = bisect.bisect_right(self._closers[closer], self.pos) == len(self._closers[closer])
        if not ends and closer not in _APOSTROPHES:
            self._open_quotes += 1 if opening else -1
        return ends

    def _after(self, at: int) -> str:
        """The first character after position `at` that is not a space ("" at the end of the line)."""
        at += 1
        while at < len(self.text) and _is_space(self.text[at]):
            at += 1
        return self.text[at] if at < len(self.text) else ""

    def _open_marks(self) -> None:
        while mark := next((mark for mark in _MARKS if self.text.startswith(mark, self.pos)), None):
            self._marks.append((mark, self.col))
            self.pos += len(mark)

    def _close_marks(self, opened: int = 0) -> None:
        """Close, at the cursor, the marks opened since there were `opened` of them."""
        while len(self._marks) > opened and self.text.startswith(self._marks[-1][0], self.pos):
            self.pos += len(self._marks.pop()[0])

    def _tail(self) -> str | None:
        """After the step's `)`: `;`, marks that close, then ' : explanation' (or ' - ', ' — '...), `# comment`."""
        self.skip_space()
        self._close_marks()
        self.skip_space()
        semicolon = self.col if self.peek() == ";" else 0
        if semicolon:
            self.pos += 1
            self.skip_space()
            self._close_marks()
            self.skip_space()
        if self._marks:  # closed at the end of the line, after the explanation
            closers = "".join(mark for mark, _ in reversed(self._marks))
            end = len(self.text.rstrip()) - len(closers)
            mark, col = self._marks[-1]
            if end < self.pos or not self.text.startswith(closers, end):
                self.fail(
                    f"{_MARK_NAMES[mark]} in column {col} is never closed; write the step without it, like: {_EXAMPLE}",
                    col,
                )
            self.text = self.text[:end]
        ch = self.peek()
        if not ch or ch == "#":
            return None
        if ch == ":":
            return self.text[self.pos + 1 :].strip() or None
        dash = _DASH.match(self.text, self.pos)
        if dash:
            rest = self.text[dash.end() :]
            operand = _OPERAND.match(rest)
            if dash.group() != "//" and _STEP_START.match(rest.lstrip()):
                self.fail(
                    f"a second step after '{dash.group()}' on the same line; each step goes on its own line, "
                    "optionally followed by ' : explanation'"
                )
            if dash.group()[0] in "-/" and operand and self._is_operand(operand):
                self.fail(
                    f"operator '{dash.group()}' after the closing parenthesis: a step is one ACTION(...) call, to join "
                    "results use CONCAT(a, b); write what the step finds as ' : explanation'"
                )
            return None if dash.group() == "//" else rest.strip() or None
        if ch == "." and not self.text[self.pos + 1 :].strip():
            return None  # a sentence-final full stop is harmless
        if semicolon:
            self.fail(
                "';' ends the step, but the line goes on; a step is one ACTION(...) call, optionally followed by "
                "' : explanation', and the next step goes on its own line",
                semicolon,
            )
        self.fail(
            f"unexpected {_label(ch)} after the closing parenthesis; a step is one ACTION(...) call, "
            "optionally followed by ' : explanation'"
        )

    def _is_operand(self, operand: re.Match[str]) -> bool:
        """Whether the words after ' - ' begin as an operand would: `"b"`, `2`, CTX, an earlier result, `F(...)`."""
        quote, name, call = operand.groups()
        if quote is not None:
            return True
        return call is not None or name.upper() == CTX or name.lower() in self._results


class _DeclarationScanner(_Scanner):
    """`- NAME(CTX, X, ...) : definition`, or `- None`."""

    def scan(self) -> Action | None:
        self.skip_numbering()
        rest = self.text[self.pos :].strip()
        if not rest or _NONE.fullmatch(rest):
            return None
        name_col = self.col
        name = self.name()
        if name is None or not name[0].isalpha():
            self.fail('expected a new action like: - NAME(CTX, X) : what it does (or "- None")')
        self.skip_space()
        if self.peek() != "(":
            self.fail(f"expected '(' after the new action's name {name.upper()}: - NAME(CTX, X) : what it does")
        self.pos += 1
        params, variadic = self._params()
        self.skip_space()
        if self.peek() != ":":
            if not self.peek():
                self.fail(f"add a one-line definition after the parentheses: - {name.upper()}(...) : what it does")
            self.fail(f"expected ':' and a one-line definition after the parentheses, found {_label(self.peek())}")
        definition = self.text[self.pos + 1 :].strip()
        if not definition:
            self.fail(f"the definition of {name.upper()} is empty; say in one line what it returns")
        try:
            return Action(name=name.upper(), params=params, definition=definition, variadic=variadic)
        except ValidationError as exc:
            self.fail(f"invalid new action {name.upper()}: {first_problem(exc)[1]}", name_col)

    def _params(self) -> tuple[list[str], bool]:
        params: list[str] = []
        while True:
            self.skip_space()
            if self.peek() == ")" and not params:
                self.pos += 1
                return params, False
            if self.text.startswith("...", self.pos) or self.peek() == "\u2026":
                self.pos += 1 if self.peek() == "\u2026" else 3
                self.skip_space()
                if self.peek() != ")" or not params:
                    self.fail("'...' may only follow the last parameter, as in CONCAT(S1, S2, ...)")
                self.pos += 1
                return params, True
            col = self.col
            param = self.name()
            if param is None:
                self.fail("parameters are names like CTX, X, Y (CTX stands for the document)")
            if param.upper() in params:
                self.fail(f"parameter {param.upper()} appears twice; give each parameter its own name", col)
            if not param[0].isalpha():
                self.fail("parameter names start with a letter, like X or S1", col)
            params.append(param.upper())
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
                continue
            if self.peek() == ")":
                self.pos += 1
                return params, False
            self.fail("expected ',' or ')' in the parameter list, as in NAME(CTX, X, Y)")
