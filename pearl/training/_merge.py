"""From many proposals to one library: name and signature normalisation, tallying, merging near-duplicates.

Normalisation is deterministic: `find the Reasons` and `FIND_THE_REASONS` become
`FIND_REASON` when the library has it, parameters are renamed `CTX, X, Y, Z`, and one name
keeps its most common signature. Merging shows a model batches of actions and reads back one
line per group, either `MERGE: A, B, C -> A` (keep A as it is) or, as the paper's
simplification did, `MERGE: A, B, C -> BROADER(CTX, X, Y) : definition` (rewrite the group
into one broader action). A rewrite is taken only when it checks out: a parsed signature, a
one-line definition, a name that is not another action's (lines that rewrite parts of one family
into the same action, with the same parameters, all join it), and every merged name one of the
actions shown (each maps to the new action, see `MergeReport.renamed`); otherwise its group is
merged deterministically into its most used member. A reply that is not exactly that format
is set aside and the batch is merged by definition-word overlap instead. Rounds repeat, each
with the actions in a new order so that near-duplicates meet in a batch, until the library
fits the cap; when two rounds in a row merge nothing (one, when every action was in one batch),
the least-used mined actions beyond the cap are cut. Once no batch of two rounds in a row gets an
answer from the model's server (a server down), later rounds merge by definition overlap alone.
Actions of the library mining started from are never rewritten, merged away or cut.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pearl._replies import load_json_reply, plain_line, strip_fence
from pearl._text import first_problem, shorten, word_stems
from pearl.actions import CTX, Action
from pearl.actions._models import DOCUMENT_PARAMS
from pearl.errors import LLMError, MergeReplyError, ReplyFormatError, unanswered
from pearl.protocols import Progress
from pearl.training._proposals import GRAMMAR_PARAMS, MAX_PARAMS, RESERVED, ProposedAction

__all__ = [
    "MAX_GROUP",
    "MergeGroup",
    "MergeReport",
    "MergeRound",
    "Mined",
    "merge_gbnf",
    "merge_json_schema",
    "merge_mined",
    "normalize_name",
    "normalize_proposed",
    "parse_merge_reply",
    "similar_groups",
]

MAX_GROUP = 10
"""Most actions one MERGE line may fold together; a bigger group is a model lumping, not merging."""
_MAX_MERGE_LINES = 60
_MAX_REPLY_CHARS = 20_000
_MAX_ROUNDS = 8
_IDLE_ROUNDS = 2
"""Rounds in a row, each batching the actions in another order, that may merge nothing before merging stops."""
_SILENT_ROUNDS = 2
"""Rounds in a row whose every batch got no answer from the model's server before it is asked no more."""
_EXAMPLES = 3
_NOISE = frozenset({"THE", "A", "AN"})
_VALUE_PARAMS = ("X", "Y", "Z", "W")
# Each run of spaces has one place in the pattern: "MERGE:" and 3,000 spaces then "-" took 10 s (helper-160).
_MERGE_LINE = re.compile(r"(?i:MERGE)[ \t]*:[ \t]*(\S(?:.*?\S)?)[ \t]*(?:->|=>|\u2192)[ \t]*(.+)")
# A reply saying nothing merges: "None.", "No merges needed.", "None of these need merging.", "Nothing to merge".
_NO_MERGE = re.compile(r"(?i:none\b|no\s+merges?\b|nothing\s+to\s+merge\b|no\s+(?:actions?|duplicates?)\s)")
_MERGE_HEAD = re.compile(r"(?i:merge)[ \t]*:")
_ARROW = re.compile(r"->|=>|\u2192")
_REWRITE = re.compile(r"([A-Za-z][A-Za-z0-9_]*)[ \t]*\(([^()]*)\)[ \t]*(?::[ \t]*(.*))?", re.ASCII)
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)
_MIN_DEFINITION_CHARS = 8
_MAX_DEFINITION_CHARS = 300
# Verbs nearly every action name starts with say nothing about what the action is for.
_GENERIC = frozenset(
    "find get identify determine describe explain list give state report the a an of to in on for by with from and "
    "or is are be what which who why how when where that this it its as any each all about document text x y z ctx "
    "story article given".split()
)


@dataclass
class Mined:
    """One action while mining: the action, who asked for it (question indexes), whether it may be merged away."""

    action: Action
    askers: set[int] = field(default_factory=set)
    protected: bool = False
    first_seen: int = 0

    @property
    def name(self) -> str:
        return self.action.name


class MergeGroup(BaseModel):
    """One group of a merge reply: its members become one action."""

    model_config = ConfigDict(frozen=True)

    members: list[str]
    into: str | None = Field(
        default=None, description="the member kept as it is; None: the most used member (or the rewrite's action)"
    )
    action: Action | None = Field(default=None, description="a rewrite: the broader action the members become")
    refused: str | None = Field(default=None, description="why a proposed rewrite was not taken")


class MergeRound(BaseModel):
    """What one merge round did."""

    round: int
    before: int
    after: int
    batches: int = 0
    llm_batches: int = Field(default=0, description="batches merged as the model said")
    fallback_batches: int = Field(default=0, description="batches whose reply was unusable, merged by word overlap")
    failed_batches: int = Field(
        default=0,
        description="of `fallback_batches`, those whose call failed (after retries), or was not made once the server "
        "had gone silent: the library lacks the model's merging of them, which a run again asks for",
    )
    merged: int = Field(default=0, description="actions that went (merged into another or rewritten)")
    rewritten: int = Field(default=0, description="groups rewritten into one broader action with a new definition")
    kept: int = Field(
        default=0,
        description="groups merged deterministically into a member (as the model said, a refused rewrite, "
        "or word overlap)",
    )


class MergeReport(BaseModel):
    """Every round, and the actions cut at the end because merging stalled above the cap."""

    rounds: list[MergeRound] = Field(default_factory=list)
    cut: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list, description="first few unusable merge replies and refused rewrites")
    renamed: dict[str, str] = Field(
        default_factory=dict, description="every merged action's name -> the action it became (before any cut)"
    )

    @property
    def rewritten(self) -> int:
        """Groups rewritten into a broader action, over all rounds."""
        return sum(r.rewritten for r in self.rounds)

    @property
    def kept(self) -> int:
        """Groups merged deterministically into one of their members, over all rounds."""
        return sum(r.kept for r in self.rounds)

    @property
    def failed_batches(self) -> int:
        """Batches merged by word overlap for want of an answer from the model's server, over all rounds."""
        return sum(r.failed_batches for r in self.rounds)


# ---------------------------------------------------------------------------------------------- normalisation


def normalize_name(name: str, known: Collection[str] = ()) -> str:
    """Upper snake case without articles; a plural folds onto a `known` singular.

    `findTheReasons` -> `FIND_REASONS`, or `FIND_REASON` when that is known. Returns "" when
    nothing usable is left.
    """
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip().replace("'", ""))
    tokens = [t for t in re.sub(r"[^A-Z0-9]+", "_", spaced.upper()).split("_") if t]
    kept = [t for t in tokens if t not in _NOISE] or tokens
    while kept and kept[0][0].isdigit():
        kept = kept[1:]
    result = "_".join(kept)[:64].rstrip("_")
    # A plural folds onto its singular whenever the singular is known, even if the plural is too.
    if result.endswith("IES") and result[:-3] + "Y" in known:
        return result[:-3] + "Y"
    if result.endswith("S") and not result.endswith("SS") and result[:-1] in known:
        return result[:-1]
    return result


_LINKING = frozenset(
    {
        *("is", "are", "was", "were", "has", "have", "had", "and", "or", "to", "of", "in", "on", "with", "by", "for"),
        *("do", "does", "did", "can", "could", "may", "might", "must", "shall", "should", "will", "would"),
    }
)
"""Words after a sentence's first "A" that make it a parameter ("A is compared with B"), not an article."""


def _rename_params(definition: str, renamed: dict[str, str]) -> str:
    """`definition` with its parameters' names renamed (`renamed`: old name -> new), in one pass so that
    X -> Y and Y -> Z do not chain.

    A name is matched as written. One the definition never writes so, but as a word in any case (a
    proposal's parameters are upper-cased, "the trait the character shows"), is matched in any case,
    its article with it ("Y X shows", not a definition that names neither). A one-letter name that
    opens a sentence before a noun is an article there (see `_is_article`).
    """
    written = [name for name in renamed if re.search(rf"\b{re.escape(name)}\b", definition)]
    as_words = [name for name in renamed if len(name) > 1 and name not in written]
    by_upper = {name.upper(): new for name, new in renamed.items()}
    pattern = "|".join(
        [
            *(rf"\b{re.escape(name)}\b" for name in written),
            *(rf"(?i:\b(?:the |an? )?{re.escape(name)}\b)" for name in as_words),
        ]
    )
    if not pattern:
        return definition

    def rename(match: re.Match[str]) -> str:
        word = match.group(0)
        if word not in renamed:  # matched as a word, in another case
            return by_upper[word.split()[-1].upper()]
        if len(word) == 1 and _is_article(definition, match):
            return word
        return renamed[word]

    return re.sub(pattern, rename, definition)


def _is_article(definition: str, match: re.Match[str]) -> bool:
    """Whether the one-letter word `match` opens a sentence as an article: before a noun ("A comparison of A and
    B", "A list of the gifts B gave"), not a verb or a link ("A differs from B", "A did not know B")."""
    before, after = definition[: match.start()], definition[match.end() :]
    opens = not before.strip() or re.search(r"[.!?:]\s+$", before) is not None
    word = re.match(r" ([a-z]+)\b", after)
    if not opens or word is None:
        return False
    follows = word.group(1)
    verb = follows in _LINKING or follows.endswith("ed") or (follows.endswith("s") and not follows.endswith("ss"))
    return not verb


def normalize_proposed(proposed: ProposedAction, known: Collection[str] = ()) -> Action | None:
    """The proposed action in library form: normalised name, parameters `CTX, X, Y, Z`, definition to match.

    Returns None when the name normalises to nothing, or to a name a mined action cannot take (ANSWER).
    """
    name = normalize_name(proposed.name, known)
    if not name or name in RESERVED:  # THE_ANSWER normalises to ANSWER, a name a mined action cannot take
        return None
    document = [p for p in proposed.params if p in DOCUMENT_PARAMS][:1]
    values = [p for p in proposed.params if p not in document][: len(_VALUE_PARAMS)]
    renamed = dict(zip(values, _VALUE_PARAMS, strict=False))
    definition = proposed.definition
    if document and document[0] != CTX:
        definition = re.sub(rf"\b{re.escape(document[0])}\b", CTX, definition)
    if any(old != new for old, new in renamed.items()):
        definition = _rename_params(definition, renamed)
    params = ([CTX] if document else []) + [renamed[v] for v in values]
    try:
        return Action(name=name, params=params, definition=definition[:500])
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------- merge replies


def _check_members(members: list[str], names: Collection[str], taken: set[str], where: str) -> None:
    for name in members:
        if name not in names:
            raise MergeReplyError(f"{where}: {name[:40]!r} is not one of the actions shown")
    if len(set(members)) != len(members):
        raise MergeReplyError(f"{where}: an action is listed twice")
    if len(members) < 2:
        raise MergeReplyError(f"{where}: a merge needs at least two actions")
    if len(members) > MAX_GROUP:
        raise MergeReplyError(f"{where}: {len(members)} actions in one group; at most {MAX_GROUP}")
    again = taken.intersection(members)
    if again:
        raise MergeReplyError(f"{where}: {sorted(again)[0]} is already in another group")


def _rewrite(
    name: str,
    params: Sequence[str],
    definition: str | None,
    members: list[str],
    names: Collection[str],
    rewrites: Collection[str] = (),
) -> Action:
    """The broader action a rewrite proposes; raises ValueError saying why it cannot be taken. `rewrites`: the
    names earlier lines of the reply rewrote into, which a later line may name too (a family split over lines)."""
    upper = name.upper()
    if upper in RESERVED:
        raise ValueError(f"{upper} {RESERVED[upper]}; a rewrite takes another name")
    if upper in names and upper not in members and upper not in rewrites:
        raise ValueError(f"{upper} is another action shown; a rewrite takes a new name or a member's")
    cleaned = [p.strip() for p in params]
    if cleaned == [""]:
        cleaned = []
    if any(p in ("...", "\u2026") for p in cleaned):
        raise ValueError(f"{upper}: a merged action cannot be variadic")
    if not cleaned or len(cleaned) > MAX_PARAMS or not all(_IDENT.fullmatch(p) for p in cleaned):
        raise ValueError(f"{upper}: expected 1 to {MAX_PARAMS} parameter names like CTX, X, Y")
    text = " ".join((definition or "").split())
    if len(text) < _MIN_DEFINITION_CHARS or not any(ch.isalpha() for ch in text):
        raise ValueError(f"{upper}: the definition is missing; write one line saying what the action returns")
    if len(text) > _MAX_DEFINITION_CHARS:
        raise ValueError(f"{upper}: the definition is longer than {_MAX_DEFINITION_CHARS} characters")
    try:
        action = Action(name=upper, params=[p.upper() for p in cleaned], definition=text)
    except ValidationError as exc:
        raise ValueError(f"{upper}: {first_problem(exc)[1]}") from None
    # Its parameters read as a proposal's are (`normalize_proposed`): FIND_WHY(DOCUMENT, EVENT) reads the document,
    # as CTX, X; kept as written, the broader action no longer read the document its members read.
    normal = normalize_proposed(ProposedAction(name=upper, params=action.params, definition=text))
    return action if normal is None else normal.model_copy(update={"name": upper})


def _group(
    members: list[str],
    target: str,
    names: Collection[str],
    taken: set[str],
    where: str,
    rewrite: tuple[Sequence[str], str] | None = None,
    rewrites: Mapping[str, Action] | None = None,
) -> MergeGroup:
    """A checked group: `target` is a member to keep, or `NAME(PARAMS) : definition` to rewrite the group into
    (or the rewrite's `NAME` with its parameters and definition given apart, as a JSON reply gives them)."""
    _check_members(members, names, taken, where)
    made = rewrites or {}
    if rewrite is None and _IDENT.fullmatch(target):
        target = target.upper()
        if target in made and target not in members:
            # A family split over lines, the later ones naming the broader action an earlier line made by its name
            # alone, as the prompt asks them to name it: they join it (the reply was refused as a whole).
            return MergeGroup(members=members, action=made[target])
        if target not in names:
            raise MergeReplyError(f"{where}: {target[:40]!r} is not one of the actions shown")
        if target not in members:
            raise MergeReplyError(f"{where}: the action to keep, {target}, must be one of the group")
        return MergeGroup(members=members, into=target)
    if rewrite is None:
        match = _REWRITE.fullmatch(target)
        if match is None:
            shown = shorten(target, 40)
            raise MergeReplyError(
                f"{where}: expected an action of the group or NAME(CTX, X) : definition, got {shown!r}"
            )
        name, params, definition = match.group(1), match.group(2).split(","), match.group(3)
        if not (definition or "").strip() and name.upper() in members:
            # A member named with the signature it was shown, no definition: the member to keep
            # ("MERGE: FIND_GROUND, FIND_CAUSE -> FIND_GROUND(CTX, X)"), not a rewrite that has none.
            return MergeGroup(members=members, into=name.upper())
    elif not _IDENT.fullmatch(target):
        raise MergeReplyError(f"{where}: {target[:40]!r} is not an action name")
    else:
        name, (params, definition) = target, rewrite
    try:
        action = _rewrite(name, params, definition, members, names, made)
    except ValueError as exc:
        return MergeGroup(members=members, refused=f"{where}: {exc}")
    return MergeGroup(members=members, into=action.name, action=action)


def parse_merge_reply(text: str, names: Collection[str]) -> list[MergeGroup]:
    """Read `MERGE: A, B, C -> A` and `MERGE: A, B -> BROADER(CTX, X) : definition` lines (or a lone `NONE`).

    As chat models write them: in any case, bulleted, numbered or in bold, with `=>` or an arrow, among lines of
    prose (which say nothing to merge, and are passed over); "None." alone, or with prose, merges nothing. A line
    that keeps one action as it is ("MERGE: A -> A") merges nothing either. A rewrite that does not check out
    (signature, definition, a name of another action shown) comes back with `refused` set; its group is then merged
    into its most used member.

    Returns:
        The groups; empty for NONE.

    Raises:
        MergeReplyError: a MERGE line off the format, an unknown name, a name in two groups, or no MERGE line and no
        NONE.
    """
    if len(text) > _MAX_REPLY_CHARS:
        raise MergeReplyError(f"the reply is {len(text):,} characters; at most {_MAX_REPLY_CHARS:,}")
    lines = [line.strip() for line in strip_fence(text).splitlines() if line.strip()]
    if not lines:
        raise MergeReplyError("the reply is empty; expected MERGE lines or NONE")
    if len(lines) > _MAX_MERGE_LINES:
        raise MergeReplyError(f"{len(lines)} lines; at most {_MAX_MERGE_LINES}")
    groups: list[MergeGroup] = []
    taken: set[str] = set()
    prose: tuple[int, str] | None = None  # the first line that is no MERGE line
    said_none = False
    for number, line in enumerate(lines, start=1):
        plain, _ = plain_line(line)
        match = _MERGE_LINE.fullmatch(plain)
        if not match:
            # A MERGE line off the format, or one that left out "MERGE:" ("FIND_C, FIND_D -> FIND_C"), is an error
            # (a group merged or dropped unseen otherwise: helper-185); other lines are prose.
            if _MERGE_HEAD.match(plain) or _ARROW.search(plain):
                raise MergeReplyError(f"line {number}: expected 'MERGE: A, B -> A', got {shorten(line, 40)!r}")
            said_none = said_none or _NO_MERGE.match(plain) is not None
            prose = prose or (number, line)
            continue
        members = [m.strip().upper() for m in match.group(1).split(",")]
        if not all(_IDENT.fullmatch(m) for m in members):
            raise MergeReplyError(f"line {number}: action names are letters, digits and _")
        target = match.group(2).strip()
        if len(set(members)) == 1 and _IDENT.fullmatch(target) and target.upper() == members[0]:
            continue  # one action kept as it is
        group = _group(members, target, names, taken, f"line {number}", rewrites=_targets(groups))
        taken.update(members)
        groups.append(group)
    if not groups and not said_none and prose is not None:
        number, line = prose
        raise MergeReplyError(f"line {number}: expected 'MERGE: A, B -> A', got {shorten(line, 40)!r}")
    return groups


def parse_merge_json(text: str, names: Collection[str]) -> list[MergeGroup]:
    """Read a reply written under `merge_json_schema`, with the same checks as `parse_merge_reply`."""
    data: Any = load_json_reply(text, _MAX_REPLY_CHARS, MergeReplyError)
    merges = data.get("merges") if isinstance(data, dict) and set(data) == {"merges"} else None
    if not isinstance(merges, list) or len(merges) > _MAX_MERGE_LINES:
        raise MergeReplyError('expected {"merges": [{"actions": [...], "into": "..."}]}')
    groups: list[MergeGroup] = []
    taken: set[str] = set()
    for index, item in enumerate(merges, start=1):
        keys = set(item) if isinstance(item, dict) else set()
        if keys not in ({"actions", "into"}, {"actions", "into", "params", "definition"}):
            raise MergeReplyError(
                f'merges[{index}] must have "actions" and "into" (and, to rewrite, "params" and "definition")'
            )
        members, target = item["actions"], item["into"]
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members) or not isinstance(target, str):
            raise MergeReplyError(f"merges[{index}]: actions must be a list of names, into a name")
        params, definition = item.get("params"), item.get("definition")
        rewrite = None
        if "params" in keys:
            if (
                not isinstance(params, list)
                or not all(isinstance(p, str) for p in params)
                or not isinstance(definition, str)
            ):
                raise MergeReplyError(f"merges[{index}]: params must be a list of names, definition a string")
            rewrite = (params, definition)
        members = [m.strip().upper() for m in members]
        groups.append(_group(members, target.strip(), names, taken, f"merges[{index}]", rewrite, _targets(groups)))
        taken.update(members)
    return groups


def _targets(groups: Sequence[MergeGroup]) -> dict[str, Action]:
    """The actions `groups` rewrite into, by name."""
    return {group.action.name: group.action for group in groups if group.action is not None}


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def merge_gbnf(names: Sequence[str], *, max_lines: int | None = None, max_group: int = 6) -> str:
    """GBNF for a merge reply over `names`: `NONE`, or 1..`max_lines` lines `MERGE: A, B -> A` or
    `MERGE: A, B -> BROADER(CTX, X) : definition`.

    The bounds are tighter than the parser's (default: a line per three actions, at most 15,
    and `max_group` actions a line; a definition without colons or parentheses), so a small
    model that loops still ends its reply in time.
    """
    lines = max_lines if max_lines is not None else min(15, max(1, len(names) // 3))
    group = max(2, min(max_group, MAX_GROUP))
    rules = [
        ("root", f'"NONE\\n" | line{{1,{max(1, lines)}}}'),
        ("line", f'"MERGE: " name (", " name){{1,{group - 1}}} " -> " into "\\n"'),
        ("into", 'name | new "(" params ") : " def'),
        ("new", "[A-Z] [A-Z0-9_]{2,40}"),
        ("params", " | ".join(_literal(p) for p in GRAMMAR_PARAMS)),
        ("def", "[A-Za-z] [^\\n:()\\x00-\\x1f]{8,150}"),
        ("name", " | ".join(_literal(n) for n in names)),
    ]
    return "\n".join(f"{n.ljust(6)} ::= {body}" for n, body in rules) + "\n"


def merge_json_schema(names: Sequence[str]) -> dict[str, Any]:
    """JSON schema of a merge reply: `{"merges": [{"actions": [names], "into": name}]}`; a rewrite adds
    `"params"` and `"definition"`, and `into` names the broader action."""
    name = {"enum": list(names)}
    actions = {"type": "array", "items": name, "minItems": 2, "maxItems": MAX_GROUP}
    keep = {
        "type": "object",
        "properties": {"actions": actions, "into": name},
        "required": ["actions", "into"],
        "additionalProperties": False,
    }
    rewrite = {
        "type": "object",
        "properties": {
            "actions": actions,
            "into": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{2,40}$"},
            "params": {"type": "array", "items": {"enum": [CTX, "X", "Y", "Z"]}, "minItems": 1, "maxItems": MAX_PARAMS},
            "definition": {"type": "string", "minLength": _MIN_DEFINITION_CHARS, "maxLength": _MAX_DEFINITION_CHARS},
        },
        "required": ["actions", "into", "params", "definition"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"merges": {"type": "array", "items": {"anyOf": [keep, rewrite]}}},
        "required": ["merges"],
        "additionalProperties": False,
    }


# ---------------------------------------------------------------------------------------------- deterministic part


def _words(action: Action) -> set[str]:
    return set(word_stems(f"{action.name.replace('_', ' ')} {action.definition}", _GENERIC))


def _rank(entry: Mined) -> tuple[int, int, int, str]:
    """Sort key of the entry a group keeps: protected first, then most asked for, then first seen."""
    return (0 if entry.protected else 1, -len(entry.askers) - entry.action.count, entry.first_seen, entry.name)


_Stems = tuple[set[str], set[str]]
"""An action's definition words and name words, stemmed (`_stems`)."""


def _stems(action: Action) -> _Stems:
    return set(word_stems(action.definition, _GENERIC)), set(word_stems(action.name.replace("_", " "), _GENERIC))


def _contrasted(a: _Stems, b: _Stems) -> bool:
    """Whether two actions (their `_stems`) are named for words their definitions set against each other: each
    definition holds a word of its own name the other's lacks (FIND_BUYER's "the buyer party ..." against
    FIND_SELLER's "the seller party ...", FIND_LATEST_EVENT against FIND_EARLIEST_EVENT). Words alike otherwise, they
    are opposites or neighbours, not one action. A name that only adds a word (FIND_CHARACTER_TRAITS beside
    FIND_TRAITS) sets nothing against the other: they merge (helper-185)."""
    (defined_a, named_a), (defined_b, named_b) = a, b
    return bool(named_a & (defined_a - defined_b)) and bool(named_b & (defined_b - defined_a))


def similar_groups(entries: Sequence[Mined], threshold: float = 0.5) -> list[MergeGroup]:
    """Groups of near-duplicates by definition-word overlap (Jaccard >= `threshold`), same signature only, never two
    named for words their definitions set against each other (`_contrasted`: FIND_BUYER and FIND_SELLER).

    Pairs are joined most similar first; a group holds at most one protected action and
    `MAX_GROUP` actions, no two of them contrasted; it keeps its protected action, else its most used one.
    """
    words = {e.name: _words(e.action) for e in entries}
    stems = {e.name: _stems(e.action) for e in entries}  # once each: checked pair by pair, 1,500 actions took 21 s
    pairs: list[tuple[float, str, str]] = []
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            if a.action.params != b.action.params or (a.protected and b.protected):
                continue
            union = words[a.name] | words[b.name]
            score = len(words[a.name] & words[b.name]) / len(union) if union else 0.0
            if score >= threshold and not _contrasted(stems[a.name], stems[b.name]):
                pairs.append((-score, a.name, b.name))
    group_of: dict[str, list[str]] = {e.name: [e.name] for e in entries}
    by_name = {e.name: e for e in entries}
    for _score, left, right in sorted(pairs):
        ga, gb = group_of[left], group_of[right]
        if ga is gb or len(ga) + len(gb) > MAX_GROUP:
            continue
        if any(by_name[n].protected for n in ga) and any(by_name[n].protected for n in gb):
            continue
        if any(_contrasted(stems[x], stems[y]) for x in ga for y in gb):
            continue
        ga.extend(gb)
        for name in gb:
            group_of[name] = ga
    groups: list[MergeGroup] = []
    seen: set[int] = set()
    for entry in entries:
        group = group_of[entry.name]
        if len(group) < 2 or id(group) in seen:
            continue
        seen.add(id(group))
        keep = min((by_name[n] for n in group), key=_rank).name
        groups.append(MergeGroup(members=list(group), into=keep))
    return groups


def _resolve(renamed: dict[str, str], name: str) -> str:
    while name in renamed:
        name = renamed[name]
    return name


def _joins(existing: Mined, action: Action, made: Collection[str]) -> bool:
    """Whether a rewrite into `action`, whose name `existing` already holds, is a group joining it: an action an
    earlier line of the same reply rewrote into (`made`), with the same parameters; not another action of the pool,
    which a rewrite into its name would fold an unrelated group into."""
    return action.name in made and not existing.protected and existing.action.params == action.params


def _apply(
    pool: dict[str, Mined], groups: Sequence[MergeGroup], renamed: dict[str, str], notes: list[str]
) -> tuple[int, int, int]:
    """Make each group one action: its rewrite when that checks out, else its kept member.

    A protected (library) member is never rewritten or merged away: a group holding one is
    merged into it. A rewrite into the action an earlier group's rewrite made, with the same
    parameters (a family split over lines), joins it. `renamed` gains every merged name ->
    the action it became; `notes` why a rewrite was not taken.

    Returns:
        Actions that went, groups rewritten, groups merged into a member.
    """
    gone = rewritten = kept = 0
    made: set[str] = set()  # the actions this reply's rewrites made, which a later line may join
    for group in groups:
        live = [m for m in dict.fromkeys(_resolve(renamed, m) for m in group.members) if m in pool]
        if len(live) < 2:
            continue
        protected = [m for m in live if pool[m].protected]
        action, refused = group.action, group.refused
        same = pool.get(action.name) if action is not None and action.name not in live else None
        if action is not None and not protected and same is not None and _joins(same, action, made):
            # A family too big for one line (MAX_GROUP) is split over several lines that all name the same broader
            # action: each line after the first joins the action the first made.
            for member in live:
                entry = pool.pop(member)
                same.askers |= entry.askers
                same.first_seen = min(same.first_seen, entry.first_seen)
                renamed[member] = action.name
            gone += len(live)
            rewritten += 1
            continue
        if action is not None and protected:
            refused = f"{action.name}: the group holds {protected[0]}, an action mining started from, kept as it is"
        elif action is not None and action.name in pool and action.name not in live:
            refused = f"{action.name} is already another action of the library"
        if action is not None and refused is None:
            merged = [pool.pop(m) for m in live]
            askers: set[int] = set().union(*(e.askers for e in merged))
            pool[action.name] = Mined(action=action, askers=askers, first_seen=min(e.first_seen for e in merged))
            made.add(action.name)
            renamed.pop(action.name, None)  # the name is an action again
            for member in live:
                if member != action.name:
                    renamed[member] = action.name
            gone += len(live) - 1
            rewritten += 1
            continue
        if refused is not None:
            notes.append(refused)
        if protected:
            keep = protected[0]
        elif group.action is None and group.into in live:
            keep = group.into
        else:
            keep = min((pool[m] for m in live), key=_rank).name
        folded = [m for m in live if m != keep and not pool[m].protected]
        for member in folded:
            entry = pool.pop(member)
            pool[keep].askers |= entry.askers
            pool[keep].first_seen = min(pool[keep].first_seen, entry.first_seen)
            renamed[member] = keep
        gone += len(folded)
        kept += bool(folded)
    return gone, rewritten, kept


# ---------------------------------------------------------------------------------------------- the loop

MergeCall = Callable[[list[Action], int, int], Awaitable[str]]
"""Asks a model about one batch of actions, given the library's size and cap; returns its raw reply."""


def _order(entries: list[Mined], round_number: int) -> list[Mined]:
    """A different deterministic order each round, so that near-duplicates meet in some batch."""
    if round_number == 1:
        return sorted(entries, key=lambda e: e.name)
    if round_number == 2:
        return sorted(entries, key=lambda e: (sorted(_words(e.action)) or [""], e.name))
    if round_number == 3:
        return sorted(entries, key=lambda e: (e.name.split("_")[::-1], e.name))
    return sorted(entries, key=lambda e: hashlib.sha256(f"{round_number}:{e.name}".encode()).hexdigest())


def _batches(entries: list[Mined], batch_size: int, cost: Callable[[Action], int], budget: int) -> list[list[Mined]]:
    total = sum(cost(e.action) for e in entries)
    count = max(-(-len(entries) // max(2, batch_size)), -(-total // max(1, budget)), 1)
    target = -(-len(entries) // count)
    batches: list[list[Mined]] = [[]]
    used = 0
    for entry in entries:
        tokens = cost(entry.action)
        if batches[-1] and (len(batches[-1]) >= target or used + tokens > budget):
            batches.append([])
            used = 0
        batches[-1].append(entry)
        used += tokens
    return batches


async def merge_mined(
    entries: Sequence[Mined],
    *,
    max_actions: int,
    ask: MergeCall | None,
    batch_size: int = 80,
    action_tokens: Callable[[Action], int] = lambda a: len(a.render()) // 3 + 2,
    budget_tokens: int = 4000,
    threshold: float = 0.5,
    max_rounds: int = _MAX_ROUNDS,
    on_progress: Progress | None = None,
) -> tuple[list[Mined], MergeReport]:
    """Merge near-duplicates: one round whatever the pool's size (the paper merged its mined list, not only its
    excess), then round after round until at most `max_actions` remain.

    Each group the model names becomes one action: rewritten into the broader action it
    proposes when that checks out, else merged into a member (see the module docstring).

    Args:
        entries: the pool: protected (library) actions and mined ones.
        max_actions: the cap; protected actions alone may exceed it (they are never removed).
        ask: the model call for one batch; None merges by word overlap only.
        batch_size: most actions shown at once.
        action_tokens: an action's prompt cost; `budget_tokens` is what one batch may spend.
        threshold: Jaccard overlap at which the word-overlap fallback merges two actions.
        on_progress: told `(done, total, status)` as a round's calls are answered: `done` of its `total` batches
            sent, `status` the round ("round 2"); each round starts again from 0.

    Returns:
        The surviving entries (protected first, in their order, then mined ones by use) and a
        report (per round: groups rewritten and merged into a member; every merged name's new action).
    """
    pool = {e.name: e for e in entries}
    report = MergeReport()
    renamed: dict[str, str] = {}
    idle = 0  # rounds in a row that merged nothing
    silent_rounds = 0  # rounds in a row whose every batch got no answer from the server
    silenced = False  # the server given up on: later rounds send no batch, for want of an answer
    for number in range(1, max_rounds + 1):
        # Under the cap, near-duplicates are merged all the same: a mined library of 45 kept four names for
        # finding a feeling and three for a reason beside FIND_REASON, with no merge call made (helper-169).
        if len(pool) <= max_actions and number > 1:
            break
        before = len(pool)
        batches = _batches(_order(list(pool.values()), number), batch_size, action_tokens, budget_tokens)
        round_ = MergeRound(round=number, before=before, after=before, batches=len(batches))
        # A batch of protected actions alone has nothing that may be merged away: no call.
        live = [b for b in batches if sum(not e.protected for e in b) and len(b) > 1]
        replies: list[str | None] = [None] * len(live)
        if silenced:
            round_.failed_batches = len(live)
        if ask is not None:
            answers = await _ask_round(ask, live, before, max_actions, on_progress, f"round {number}")
            for i, answer in enumerate(answers):
                if isinstance(answer, LLMError | ReplyFormatError):
                    # A call that failed is the server's (or the connection's), not the model's: a run again may get
                    # its answer, where a reply off the format would come back the same (from the response cache).
                    round_.failed_batches += isinstance(answer, LLMError)
                    if len(report.errors) < 5:
                        report.errors.append(f"round {number}: {answer}")
                else:
                    replies[i] = answer
            silent = live and all(isinstance(a, LLMError) and unanswered(a) for a in answers)
            silent_rounds = silent_rounds + 1 if silent else 0
            if silent_rounds >= _SILENT_ROUNDS:
                # The server down: later rounds merge by definition overlap alone, instead of waiting out every
                # call's retries round after round (70 s and 95 requests where 14 s and 20 did as much).
                ask, silenced = None, True
                report.errors.append(
                    f"round {number}: the model's server answered no batch of {_SILENT_ROUNDS} rounds in a row; "
                    "later rounds merge by definition overlap alone"
                )
        groups: list[MergeGroup] = []
        for batch, reply in zip(live, replies, strict=True):
            names = [e.name for e in batch]
            parsed: list[MergeGroup] | None = None
            if reply is not None:
                try:
                    parsed = _parse_any(reply, names)
                    round_.llm_batches += 1
                except MergeReplyError as exc:
                    if len(report.errors) < 5:
                        report.errors.append(f"round {number}: {exc}")
            if parsed is None:
                parsed = similar_groups(batch, threshold)
                round_.fallback_batches += 1
            groups.extend(parsed)
        notes: list[str] = []
        round_.merged, round_.rewritten, round_.kept = _apply(pool, groups, renamed, notes)
        report.errors.extend(
            f"round {number}: rewrite refused: {note}" for note in notes[: max(0, 5 - len(report.errors))]
        )
        round_.after = len(pool)
        report.rounds.append(round_)
        idle = idle + 1 if round_.merged == 0 else 0
        # A round that merged nothing stops the merging only when a new order cannot help: every action was in
        # one batch, or the orders of `_IDLE_ROUNDS` rounds in a row found nothing. Stopped after the first, the
        # near-duplicates its batches kept apart were cut instead (a batch of 4: 17 actions, 5 cut, none merged).
        if idle and (len(batches) <= 1 or idle >= _IDLE_ROUNDS):
            break
    report.renamed = {name: _resolve(renamed, name) for name in sorted(renamed)}
    if len(pool) > max_actions:
        cuttable = sorted(
            (e for e in pool.values() if not e.protected), key=lambda e: (len(e.askers), -e.first_seen, e.name)
        )
        for entry in cuttable[: len(pool) - max_actions]:
            report.cut.append(entry.name)
            del pool[entry.name]
    protected = sorted((e for e in pool.values() if e.protected), key=lambda e: e.first_seen)
    mined = sorted((e for e in pool.values() if not e.protected), key=lambda e: (-len(e.askers), e.first_seen, e.name))
    return [*protected, *mined], report


async def _ask_round(
    ask: MergeCall, live: Sequence[list[Mined]], total: int, cap: int, on_progress: Progress | None, status: str
) -> list[str | LLMError | ReplyFormatError]:
    """One round's calls, at once, each batch's reply or error in order; `on_progress` told as each is answered (a
    round of a large library's merging waits minutes on a local model, after the mining bar reached its end)."""
    done = 0

    def report() -> None:
        if on_progress is not None and live:
            on_progress(done, len(live), status)

    async def one(batch: list[Mined]) -> str | LLMError | ReplyFormatError:
        nonlocal done
        answer = await _ask_safely(ask, [e.action for e in batch], total, cap)
        done += 1
        report()
        return answer

    report()
    return list(await asyncio.gather(*(one(b) for b in live)))


async def _ask_safely(ask: MergeCall, batch: list[Action], total: int, cap: int) -> str | LLMError | ReplyFormatError:
    # One failed batch (a timeout, a reply cut off) falls back to word overlap; the others still count.
    try:
        return await ask(batch, total, cap)
    except (LLMError, ReplyFormatError) as exc:
        return exc


def _parse_any(reply: str, names: Sequence[str]) -> list[MergeGroup]:
    stripped = strip_fence(reply).strip()  # a fenced JSON reply is JSON
    if stripped.startswith("{"):
        return parse_merge_json(stripped, names)
    return parse_merge_reply(stripped, names)
