"""Prompt templates: versioned files in `prompts/`, the only place prompt text lives.

A file `NAME.vN.md` holds a `## system` and a `## user` section, and may hold named parts
(`## part NAME`): pieces of text the code picks between, such as the reply instruction for a
multiple-choice or a free-text question, so that no prompt text lives in code. Placeholders
are `{name}`; literal braces are doubled. `load_prompt("plan")` takes the newest version,
`load_prompt("plan.v1")` a given one; an unknown name fails loudly. Each template has a
hash, which goes into cache keys and traces, so editing a prompt invalidates old answers.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import re
import string
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from pearl._workers import in_worker
from pearl.config import DEFAULT_TOKEN_MARGIN
from pearl.errors import ConfigError
from pearl.models import Message
from pearl.questions import LETTERS
from pearl.tokens import count_tokens, truncate_to_tokens

__all__ = [
    "CUT_MARK",
    "SHOWN_FLOOR",
    "Fitted",
    "PromptTemplate",
    "fit_in_worker",
    "fitted_cuts",
    "load_prompt",
    "prompt_dirs",
    "token_margin",
]

_T = TypeVar("_T")

_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.v(?P<version>\d+)\.md$")
_SECTION = re.compile(r"^## (system|user|part [a-z0-9_]+)\s*$", re.MULTILINE)


def prompt_dirs() -> list[Path]:
    """Where templates are looked up: the source checkout's `prompts/`, then the wheel's copy."""
    here = Path(__file__).resolve().parent
    return [p for p in (here.parent / "prompts", here / "_bundled" / "prompts") if p.is_dir()]


CUT_MARK = " [...]"
"""Ends a field that was cut to fit the window, so the model (and a reader of the trace) can tell."""
_CUT_MARK_TOKENS = 3


EACH_ITEM_SHOWN = frozenset({"options_block"})
"""Fields of labelled items, "(A) ..." lines, of which every item's label and the start of its text must stay in sight
when the field is cut. Cut from its end as other fields are, a long first option left the rest out, and the model's
"B" named an option it never saw (helper-191)."""
_ITEM_START = re.compile(r"\(([A-J])\) ")


def _items(text: str) -> list[str]:
    """`text`'s items: each opens on a line "(A) ", "(B) "..., in order; lines between them (an option of several
    lines, a poem, code) are its item's."""
    items: list[str] = []
    for line in text.split("\n"):
        start = _ITEM_START.match(line)
        if items and not (start and start.group(1) == LETTERS[len(items) % len(LETTERS)]):
            items[-1] += "\n" + line
        else:
            items.append(line)
    return items


def _each_item_cut(text: str, allowed: int) -> str:
    """`text` within `allowed` tokens, each of its items (`_items`) kept in part: the short ones whole, the rest cut,
    their lines run together, to an equal share of what the short ones leave, each ending with `CUT_MARK`; "" where
    not even every item's label fits (the field is then not shown: `SHOWN_FLOOR`). Cut line by line, an option of
    many lines lost its label with the rest (helper-192)."""
    items = _items(text)
    costs = [count_tokens(item) for item in items]
    room = max(0, allowed - len(items))  # the line breaks, and a token's slack where items join
    share = room // len(items)
    for taken, cost in enumerate(sorted(costs)):  # from the shortest: whole while it fits its share of what is left
        share = room // (len(items) - taken)
        if cost > share:
            break
        room -= cost
    kept = []
    for item, cost in zip(items, costs, strict=True):
        if cost <= share:
            kept.append(item)
            continue
        label = _ITEM_START.match(item)
        head = label.group(0) if label else ""
        body = " ".join(item[len(head) :].split())
        cut, _ = truncate_to_tokens(body, max(0, share - _CUT_MARK_TOKENS - count_tokens(head)))
        kept.append(head + cut.rstrip() + CUT_MARK)
    shown = "\n".join(kept)
    return shown if count_tokens(shown) <= allowed else ""


SHOWN_FLOOR = 64
"""Tokens of a field that must survive fitting for the field to count as shown (all of it when shorter):
a prompt that keeps less of the question does not show the model what it is asked, and is not sent."""


class Fitted(NamedTuple):
    """How much of one field survived fitting: kept and total tokens."""

    kept: int
    total: int

    @property
    def cut(self) -> bool:
        return self.kept < self.total

    @property
    def lost(self) -> bool:
        """Cut below `SHOWN_FLOOR`: too little of it is left to read."""
        return self.kept < min(self.total, SHOWN_FLOOR)


_CUTS: ContextVar[Mapping[str, Mapping[str, int]]] = ContextVar("pearl_prompt_cuts", default=MappingProxyType({}))
"""Per template id, what the latest `fit` of that template in the running task (or thread) cut: each cut
field and the characters of it kept. Set anew, never changed in place, so concurrent tasks keep their own."""


async def fit_in_worker(fit: Callable[..., _T], *args: Any) -> _T:
    """`fit(*args)` in a worker thread, off the event loop (fitting a long document counts its tokens), with what its
    fits cut kept for the calls this task sends next (`fitted_cuts`), as if fitted here."""
    context = contextvars.copy_context()
    result = await in_worker(fit, *args, context=context)
    _CUTS.set(context.get(_CUTS, _CUTS.get()))
    return result


def fitted_cuts(template: PromptTemplate) -> dict[str, int]:
    """The fields the latest `fit` of `template` in this task cut, with the characters of each it kept.

    Every prompt is fitted right before it is sent, so this says what the prompt about to be sent
    lost; the `Recorder` keeps it with the call (`TraceEvent.cut`), whichever code fitted it.
    """
    return dict(_CUTS.get().get(template.id, {}))


class PromptTemplate(BaseModel):
    """One versioned prompt."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: int
    system: str
    user: str
    parts: dict[str, str] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        """`name.vN#hash8`: what caches and traces record."""
        return f"{self.name}.v{self.version}#{self.hash[:8]}"

    @property
    def hash(self) -> str:
        extra = "".join(f"\0{name}\0{text}" for name, text in sorted(self.parts.items()))
        return hashlib.sha256(f"{self.system}\0{self.user}{extra}".encode()).hexdigest()

    def part(self, part: str, /, **values: object) -> str:
        """The named part's text, placeholders filled.

        Raises:
            ConfigError: the template has no such part.
        """
        if part not in self.parts:
            raise ConfigError(f"prompt {self.name}.v{self.version} has no part {part!r}; it has {sorted(self.parts)}")
        return self.parts[part].format_map({k: str(v) for k, v in values.items()})

    def fields(self) -> set[str]:
        """Placeholder names the template uses."""
        found: set[str] = set()
        for part in (self.system, self.user):
            found.update(f for _, f, _, _ in string.Formatter().parse(part) if f)
        return found

    def room_for(self, field: str, window: int, reply_tokens: int, **others: object) -> int:
        """Tokens left for `field` when the prompt, filled with `others`, and the reply must fit `window`."""
        return _room(self, window, reply_tokens, {field: "", **others})

    def fit(
        self, window: int, reply_tokens: int, shares: Mapping[str, float], **values: str
    ) -> tuple[dict[str, str], dict[str, Fitted]]:
        """The values with the fields named in `shares` cut so that the prompt and the reply fit `window`.

        The one place a prompt is fitted to the model's window. Fields are fitted in the order
        of `shares`: each may take at most its share (0 to 1) of the room still left after the
        fixed text and the fields before it, so a long question cannot crowd out the document;
        a field with share 1 takes whatever remains. A cut field ends with `CUT_MARK`.

        Returns:
            The values to `render` with, and for every fitted field its kept and total tokens.
            What was cut, in characters, is kept for the call that sends the prompt (`fitted_cuts`).
        """
        fitted = dict(values)
        report: dict[str, Fitted] = {}
        cuts: dict[str, int] = {}
        room = _room(self, window, reply_tokens, {**values, **dict.fromkeys(shares, "")})
        for field, share in shares.items():
            text = values.get(field, "")
            total = count_tokens(text)
            allowed = room if share >= 1 else int(room * max(0.0, share))
            if total > allowed and field in EACH_ITEM_SHOWN:
                text = _each_item_cut(text, allowed)
                cuts[field] = len(text)
            elif total > allowed:
                cut, _ = truncate_to_tokens(text, allowed - _CUT_MARK_TOKENS)
                text = cut.rstrip() + CUT_MARK if allowed > _CUT_MARK_TOKENS else ""
                cuts[field] = max(0, len(text) - len(CUT_MARK))  # characters of the field the model sees
            kept = count_tokens(text) if text != values.get(field, "") else total
            fitted[field] = text
            report[field] = Fitted(kept=kept, total=total)
            room = max(0, room - kept)
        _CUTS.set({**_CUTS.get(), self.id: cuts})
        return fitted, report

    def render(self, **values: object) -> list[Message]:
        """The chat messages with every placeholder filled.

        Raises:
            ConfigError: a placeholder has no value, or a value has no placeholder.
        """
        missing = self.fields() - set(values)
        extra = set(values) - self.fields()
        if missing or extra:
            raise ConfigError(
                f"prompt {self.name}.v{self.version}: missing values {sorted(missing)}, unexpected {sorted(extra)}"
            )
        text = {k: str(v) for k, v in values.items()}
        messages = []
        if self.system.strip():
            messages.append(Message(role="system", content=self.system.format_map(text).strip()))
        messages.append(Message(role="user", content=self.user.format_map(text).strip()))
        return messages


_MARGIN: ContextVar[float] = ContextVar("pearl_token_margin", default=DEFAULT_TOKEN_MARGIN)
"""The share of the window every prompt fitted in the running task leaves free (`Settings.token_margin`)."""


@contextlib.contextmanager
def token_margin(margin: float) -> Iterator[None]:
    """Fit every prompt inside the block, in this task (and the workers it starts), leaving `margin` of the window
    free: pearl counts tokens with cl100k, and the model's tokenizer may count more (`Settings.token_margin`)."""
    token = _MARGIN.set(margin)
    try:
        yield
    finally:
        _MARGIN.reset(token)


def _room(template: PromptTemplate, window: int, reply_tokens: int, values: Mapping[str, object]) -> int:
    # Counts are cl100k's; another model's tokenizer may count more, so `token_margin` of the window is kept back.
    overhead = sum(count_tokens(m.content) for m in template.render(**values))
    return max(0, int((window - reply_tokens - 64) * (1 - _MARGIN.get())) - overhead)


def _parse(path: Path, name: str, version: int) -> PromptTemplate:
    raw = path.read_text(encoding="utf-8")
    pieces = _SECTION.split(raw)
    sections = dict(zip(pieces[1::2], pieces[2::2], strict=True))
    if "user" not in sections:
        raise ConfigError(f"prompt file {path} has no '## user' section")
    parts = {key[len("part ") :]: text.strip() for key, text in sections.items() if key.startswith("part ")}
    return PromptTemplate(
        name=name,
        version=version,
        system=sections.get("system", "").strip(),
        user=sections["user"].strip(),
        parts=parts,
    )


@functools.lru_cache(maxsize=64)
def load_prompt(name: str) -> PromptTemplate:
    """Load a template by name (newest version) or by `name.vN`.

    Raises:
        ConfigError: no such template.
    """
    wanted_version: int | None = None
    match = re.fullmatch(r"([a-z0-9_]+)\.v(\d+)", name)
    if match:
        name, wanted_version = match.group(1), int(match.group(2))
    candidates: dict[int, Path] = {}
    for folder in reversed(prompt_dirs()):
        for path in folder.glob(f"{name}.v*.md"):
            m = _FILE.match(path.name)
            if m and m.group("name") == name:
                candidates[int(m.group("version"))] = path
    if not candidates:
        known = sorted({m.group("name") for d in prompt_dirs() for p in d.glob("*.md") if (m := _FILE.match(p.name))})
        raise ConfigError(f"unknown prompt {name!r}; known: {', '.join(known) or 'none (prompts/ missing)'}")
    version = wanted_version if wanted_version is not None else max(candidates)
    if version not in candidates:
        raise ConfigError(f"prompt {name!r} has no version {version}; have {sorted(candidates)}")
    return _parse(candidates[version], name, version)
