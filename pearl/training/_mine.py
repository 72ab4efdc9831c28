"""Action mining: ask a model, question by question, which actions it would use and which are missing.

`mine_actions` is the paper's procedure on training questions (never the documents): one
call per question, concurrently, each seeing the library mining starts from; replies are
parsed strictly (and constrained where the backend can), a malformed one is counted and
skipped. Proposals are tallied under normalised names and merged (`pearl.training._merge`)
until the library fits the cap. Each reply is appended to a progress file as it arrives,
so a killed run resumes where it stopped; the response cache makes a re-run free anyway.

`mine_document` does the same for one document: the model imagines a handful of questions
a reader might ask from its entity sheet, and actions are mined from those.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from pearl._replies import plain_line, strip_fence
from pearl._text import attribute_value, counted
from pearl.actions import Action, ActionLibrary, seed_library
from pearl.context import entity_sheet, index_document
from pearl.documents import SUPPORTED_SUFFIXES
from pearl.errors import (
    ConfigError,
    LLMError,
    MergeReplyError,
    ProposalError,
    ReplyFormatError,
    stops_a_run,
)
from pearl.eval import Silence
from pearl.llm import constrained, output_mode
from pearl.models import Document, Trace, Usage
from pearl.prompts import PromptTemplate, load_prompt
from pearl.protocols import LLM, Progress
from pearl.tokens import count_tokens
from pearl.trace import Recorder
from pearl.training._merge import (
    MAX_GROUP,
    MergeReport,
    Mined,
    merge_gbnf,
    merge_json_schema,
    merge_mined,
    normalize_name,
    normalize_proposed,
)
from pearl.training._progress import ProgressFile, json_line
from pearl.training._proposals import (
    Proposal,
    parse_proposal,
    parse_proposal_json,
    proposal_gbnf,
    proposal_json_schema,
)

__all__ = [
    "DEFAULT_MAX_ACTIONS",
    "MiningResult",
    "mine_actions",
    "mine_document",
    "parse_imagined",
]

DEFAULT_MAX_ACTIONS = 80
_EXAMPLES = 3
_EXAMPLE_CHARS = 200
_PROPOSAL_TOKENS = 300
_QUESTION_FLOOR = 32
"""Tokens of a question a mining prompt must have room for, beside the action list and the reply."""
_MERGE_REPLY_TOKENS = 1500
_MAX_IMAGINED_CHARS = 20_000
MAX_IMAGINED = 20
"""The most questions `mine_document` imagines: one call asks for them all, each a line of its reply."""


class MiningResult(BaseModel):
    """The mined library and what it took to get there."""

    library: ActionLibrary
    questions: int = Field(description="questions mined (after de-duplication and --limit)")
    proposals: int = Field(default=0, description="replies that parsed")
    malformed: int = Field(default=0, description="replies off the format, skipped")
    failed: int = Field(default=0, description="questions whose model call failed, skipped")
    resumed: int = Field(default=0, description="replies read back from the progress file")
    uses: int = Field(default=0, description="existing actions named as used, over all proposals")
    proposed_new: int = Field(default=0, description="new actions declared, over all proposals")
    distinct_new: int = Field(default=0, description="distinct new actions after normalisation")
    merge: MergeReport = Field(default_factory=MergeReport)
    problems: list[str] = Field(default_factory=list, description="the first few malformed replies and failures")
    imagined: list[str] = Field(default_factory=list, description="document mining: the questions imagined")
    imagine_malformed: int = Field(default=0, description="document mining: imagined lines off the format")
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0
    progress_kept: bool = Field(
        default=False,
        description="the progress file is left for a next run: the library is not `complete`, or (keep_unasked) the "
        "file holds replies to questions this run did not ask",
    )

    @property
    def complete(self) -> bool:
        """Whether every question got a reply and every merge batch an answer: a library short of either is what the
        model's server let through, which a run again completes (it was written and said to be done: helper-197)."""
        return not self.failed and not self.merge.failed_batches


# ---------------------------------------------------------------------------------------------- model calls


def _parse(text: str) -> Proposal:
    stripped = strip_fence(text).strip()  # a fenced JSON reply is JSON
    return parse_proposal_json(stripped) if stripped.startswith("{") else parse_proposal(stripped)


async def _preflight(llm: LLM) -> None:
    # The embedded model not installed, a server down, a key refused: fail before the run, not per question.
    await asyncio.to_thread(llm.check)


def _question_key(question: str) -> str:
    return hashlib.sha256(question.encode("utf-8")).hexdigest()[:20]


class _Outcome(BaseModel):
    proposal: Proposal | None = None
    problem: str | None = None
    failed: bool = False
    resumed: bool = False


def _library_name(document: str) -> str:
    """A library's name for actions mined for `document`: `contract-actions` for contract.pdf, `sample-actions` for
    the folder "sample (3 files)" (it was "sample (3 files)-actions"), within a library name's 100 characters."""
    name = re.sub(r"\s*\(\d[\d,]* files?\)$", "", document)  # a folder's: "notes (3 files)"
    stem = Path(name).stem if Path(name).suffix.lower() in SUPPORTED_SUFFIXES else name  # "v1.2 notes" keeps its dot
    slug = re.sub(r"[^\w.]+", "-", stem).strip("-.")[:80].rstrip("-.")
    return f"{slug or 'document'}-actions"


async def _propose_all(
    llm: LLM,
    trace: Trace,
    questions: Sequence[str],
    shown: ActionLibrary,
    template: PromptTemplate,
    extra: dict[str, str],
    *,
    concurrency: int,
    progress: ProgressFile,
    on_progress: Progress | None,
) -> list[_Outcome]:
    _, constraint = constrained(
        llm, grammar=lambda: proposal_gbnf(shown), json_schema=lambda: proposal_json_schema(shown)
    )
    params: dict[str, Any] = {"max_tokens": _PROPOSAL_TOKENS, "temperature": 0.0, **constraint}
    outcomes: list[_Outcome | None] = [None] * len(questions)
    counts = {"done": 0, "malformed": 0}

    def report() -> None:
        if on_progress is not None:
            on_progress(counts["done"], len(questions), f"malformed {counts['malformed']}")

    def settle(index: int, reply: str, cut: bool, resumed: bool) -> None:
        try:
            if cut:
                # The last line may parse, but it is not what the model meant to write.
                raise ProposalError(f"the reply was cut off at {_PROPOSAL_TOKENS} tokens")
            outcomes[index] = _Outcome(proposal=_parse(reply), resumed=resumed)
        except ProposalError as exc:
            counts["malformed"] += 1
            outcomes[index] = _Outcome(problem=f"malformed: {exc}", resumed=resumed)
        counts["done"] += 1
        if not resumed:
            report()

    pending: list[int] = []
    for index, question in enumerate(questions):
        earlier = progress.done.get(_question_key(question), {})
        if isinstance(earlier.get("reply"), str):
            settle(index, earlier["reply"], bool(earlier.get("cut")), resumed=True)
        else:
            pending.append(index)
    report()  # the starting point: replies an interrupted run already got count as done
    window, listed = llm.context_window, shown.render()
    if pending:
        _check_window(llm, template, shown, extra)
        await _preflight(llm)
    gate = asyncio.Semaphore(max(1, concurrency))
    silence = Silence(concurrency)

    async def one(index: int) -> None:
        question = questions[index]
        async with gate:
            # A long question is cut to what the window holds beside the action list and the reply.
            values, _ = template.fit(
                window, _PROPOSAL_TOKENS, {"question": 1.0}, actions=listed, question=question, **extra
            )
            messages = template.render(**values)
            try:
                reply = await Recorder(llm, trace).acall("mine", template, messages, **params)
            except LLMError as exc:
                if stops_a_run(exc):
                    raise
                outcomes[index] = _Outcome(problem=f"failed: {exc}", failed=True)
                counts["done"] += 1
                report()
                silence.heard(exc)
                silence.check(progress.silent_then())
                return
        silence.heard()
        cut = reply.finish_reason == "length"
        progress.add(_question_key(question), reply=reply.text, cut=cut)
        settle(index, reply.text, cut, resumed=False)

    tasks = [asyncio.ensure_future(one(i)) for i in pending]
    try:
        await asyncio.gather(*tasks)
    finally:  # stopped: the others end too, before the progress file's lock is let go
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return [o if o is not None else _Outcome(failed=True, problem="failed: not run") for o in outcomes]


def _check_window(llm: LLM, template: PromptTemplate, shown: ActionLibrary, extra: dict[str, str]) -> None:
    """Refuse a window that leaves a mining prompt no room for a question beside `shown`'s action list and the
    reply: sent anyway, every prompt was refused by the server (or cut by it), question after question."""
    window = llm.context_window
    if template.room_for("question", window, _PROPOSAL_TOKENS, actions=shown.render(), **extra) < _QUESTION_FLOOR:
        raise ConfigError(
            f"a {window:,}-token window cannot hold the mining prompt: library {shown.name}'s "
            f"{counted(len(shown), 'action')} and the reply take it all; raise context_window (--context-window) "
            "if the model takes more, or mine from a smaller library (--actions, library=)"
        )


def _merge_asker(llm: LLM, trace: Trace, template: PromptTemplate) -> Callable[..., Any]:
    async def ask(batch: list[Action], total: int, cap: int) -> str:
        names = [a.name for a in batch]
        _, constraint = constrained(
            llm, grammar=lambda: merge_gbnf(names), json_schema=lambda: merge_json_schema(names)
        )
        # A rewrite line carries a signature and a definition: room for about 30 tokens per action shown.
        params: dict[str, Any] = {
            "max_tokens": min(_MERGE_REPLY_TOKENS, 30 * len(batch) + 32),
            "temperature": 0.0,
            **constraint,
        }
        messages = template.render(
            actions="\n".join(a.render() for a in batch),
            total=total,
            max_actions=cap,
            count=len(batch),
            max_group=MAX_GROUP,
        )
        reply = await Recorder(llm, trace).acall("merge", template, messages, **params)
        if reply.finish_reason == "length":
            raise MergeReplyError(f"the reply was cut off at {params['max_tokens']} tokens")
        return reply.text

    return ask


# ---------------------------------------------------------------------------------------------- tally and build


def _tally(
    outcomes: Sequence[_Outcome], base: ActionLibrary, *, keep_base: bool
) -> tuple[list[Mined], dict[str, int], dict[str, int]]:
    """Pool entries: the base library's (protected, when kept) and one per distinct normalised new action; counts;
    and the names `USE:` gave that are no action of the library, with how often (not counted as uses)."""
    base_names = set(base.names)
    entries = {a.name: Mined(action=a, protected=True, first_seen=i) for i, a in enumerate(base.actions)}
    stats = {"uses": 0, "proposed_new": 0}
    unknown: dict[str, int] = {}
    first_pass = {normalize_name(p.name) for o in outcomes if o.proposal for p in o.proposal.new}
    known = base_names | first_pass
    # name -> signature -> (askers, definition, first seen)
    signatures: dict[str, dict[tuple[str, ...], tuple[set[int], str, int]]] = {}
    order = len(base.actions)
    for index, outcome in enumerate(outcomes):
        if outcome.proposal is None:
            continue
        for used in outcome.proposal.use:
            name = normalize_name(used, base_names)
            if name in base_names:
                stats["uses"] += 1
                entries[name].askers.add(index)
            else:
                unknown[name] = unknown.get(name, 0) + 1
        for proposed in outcome.proposal.new:
            stats["proposed_new"] += 1
            action = normalize_proposed(proposed, known)
            if action is None:
                continue
            if action.name in base_names:
                entries[action.name].askers.add(index)  # asking anew for an existing action is using it
                continue
            by_params = signatures.setdefault(action.name, {})
            key = tuple(action.params)
            if key not in by_params:
                by_params[key] = (set(), action.definition, order)
                order += 1
            by_params[key][0].add(index)
    mined: list[Mined] = []
    for name, by_params in signatures.items():
        # One name, one signature: the one most questions asked for (the first seen on a tie).
        params, (_, definition, _) = min(by_params.items(), key=lambda kv: (-len(kv[1][0]), kv[1][2]))
        askers: set[int] = set().union(*(a for a, _, _ in by_params.values()))
        first = min(f for _, _, f in by_params.values())
        action = Action(name=name, params=list(params), definition=definition)
        mined.append(Mined(action=action, askers=askers, first_seen=first))
    pool = ([*entries.values()] if keep_base else []) + mined
    return pool, stats, unknown


def _build(
    kept: Sequence[Mined], questions: Sequence[str], *, name: str, description: str, prompts: dict[str, str]
) -> ActionLibrary:
    actions: list[Action] = []
    for entry in kept:
        prior = entry.action.count if entry.protected else 0
        asked = [" ".join(questions[i].split())[:_EXAMPLE_CHARS] for i in sorted(entry.askers)]
        examples = list(dict.fromkeys([*entry.action.examples, *asked]))[:_EXAMPLES]
        actions.append(entry.action.model_copy(update={"count": prior + len(entry.askers), "examples": examples}))
    library = ActionLibrary(name=name, description=description, actions=actions, prompts=prompts)
    # The version names the content, so a demo store can tell which library it was made for.
    return library.model_copy(update={"version": library.fingerprint[:12]})


async def _finish(
    llm: LLM,
    trace: Trace,
    outcomes: Sequence[_Outcome],
    questions: Sequence[str],
    base: ActionLibrary,
    *,
    keep_base: bool,
    max_actions: int,
    batch_size: int,
    name: str,
    description: str,
    prompts: dict[str, str],
    started: float,
    on_merge: Progress | None = None,
) -> MiningResult:
    pool, stats, unknown = _tally(outcomes, base, keep_base=keep_base)
    merge_template = load_prompt("merge")
    reply_tokens = _MERGE_REPLY_TOKENS
    budget = merge_template.room_for(
        "actions",
        llm.context_window,
        reply_tokens,
        total=len(pool),
        max_actions=max_actions,
        count=batch_size,
        max_group=MAX_GROUP,
    )
    kept, report = await merge_mined(
        pool,
        max_actions=max_actions,
        ask=_merge_asker(llm, trace, merge_template),
        batch_size=batch_size,
        action_tokens=lambda a: count_tokens(a.render()) + 1,
        budget_tokens=max(200, budget),
        on_progress=on_merge,
    )
    library = _build(
        kept, questions, name=name, description=description, prompts={**prompts, "merge": merge_template.id}
    )
    problems = [o.problem for o in outcomes if o.problem][:5]
    if unknown:
        # Said, not dropped unsaid: a model naming actions of another library (FIND_CHARACTER when mining from the
        # seed library) proposes nothing for them (helper-181).
        named = ", ".join(f"{n} ({c})" if c > 1 else n for n, c in sorted(unknown.items(), key=lambda kv: -kv[1])[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        problems.append(
            f"{counted(sum(unknown.values()), 'use')} named no action of the library, not counted: {named}{more}"
        )
    return MiningResult(
        library=library,
        questions=len(questions),
        proposals=sum(o.proposal is not None for o in outcomes),
        malformed=sum(o.problem is not None and not o.failed for o in outcomes),
        failed=sum(o.failed for o in outcomes),
        resumed=sum(o.resumed for o in outcomes),
        uses=stats["uses"],
        proposed_new=stats["proposed_new"],
        distinct_new=sum(not e.protected for e in pool),
        merge=report,
        problems=problems,
        usage=trace.usage(),
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------------------------- public entry points


def _check_cap(base: ActionLibrary, max_actions: int) -> None:
    """Refuse, before any call, a cap the starting library fills: its actions are kept whole, so none mined would be."""
    if len(base) >= max_actions:
        raise ConfigError(
            f"the starting library {base.name} has {counted(len(base), 'action')}, which are kept whole, and the "
            f"cap is {max_actions} (max_actions, --max-actions), so no mined action could be added; raise the cap "
            f"above {len(base)}"
        )


async def mine_actions(
    llm: LLM,
    questions: Sequence[str],
    *,
    library: ActionLibrary | None = None,
    max_actions: int = DEFAULT_MAX_ACTIONS,
    concurrency: int = 4,
    batch_size: int = 80,
    progress_file: str | os.PathLike[str] | None = None,
    on_progress: Progress | None = None,
    name: str = "mined",
    fresh: bool = False,
    keep_unasked: bool = False,
    on_merge: Progress | None = None,
    save: Callable[[MiningResult], object] | None = None,
) -> MiningResult:
    """Mine actions from training questions and merge them into a library of at most `max_actions`.

    Prompts are fitted leaving `Settings.token_margin` of the window free as set for the caller's context (a fifth
    unless set, as `pearl mine` sets it: `with pearl.prompts.token_margin(0): ...`).

    Args:
        llm: the model (wrap it in the response cache to make re-runs free).
        questions: question texts (see `read_questions`).
        library: the library mining starts from, shown to the model and kept whole; default: the seed library.
        max_actions: the cap on the final library (the starting library's actions are never removed, so it must
            be smaller than the cap).
        concurrency: model calls in flight at once.
        batch_size: most actions one merge call is shown (fewer if the context window is small).
        progress_file: where replies are appended as they come (see `progress_path`); a run that finds
            the file from a killed run of the same mining resumes from it, and removes it when done. A
            question whose call failed is not appended, and the file is then kept: the next run reads
            the other replies back and asks the failed questions again; so it is when a merge batch got no
            answer (`MiningResult.complete`). It is locked while the run goes on.
        on_progress: told `(done, total, status)` after each question (resumed ones included).
        name: the new library's name.
        fresh: start over, whatever the progress file holds.
        keep_unasked: keep the progress file, too, while it holds replies to questions this run did not ask (a run
            limited to the first few, `pearl mine --limit 3`, leaves the others' paid replies for a longer run).
        on_merge: told `(done, total, status)` as each merge round's batches are answered (see `merge_mined`).
        save: called with the result before the progress file is removed: a library that cannot be written (a
            full disk, a folder in its place) leaves every reply for the run again (the file was removed first,
            and the whole run lost). What it raises ends the run, the file kept.

    Raises:
        RunBusyError: another process is writing the same progress file.
        ConfigError: the progress file is another run's (see `ProgressFile.open`); the starting library
            holds `max_actions` actions or more.
        LLMRequestError: the server refused every request (bad key, unknown model or URL).
        EmbeddedModelError: the embedded model cannot be loaded.
        Whatever `save` raises.
    """
    started = time.perf_counter()
    base = library if library is not None else seed_library()
    _check_cap(base, max_actions)
    template = load_prompt("mine")
    trace = Trace(question=f"mine {len(questions)} question(s)", method="mine", backend=llm.backend, model=llm.model)
    key = hashlib.sha256(
        f"{base.fingerprint}|{template.id}|{llm.backend}|{llm.model}|{output_mode(llm)}".encode()
    ).hexdigest()[:24]
    about = {
        "library": f"{base.name} v{base.version}",
        "prompt": template.id,
        "model": f"{llm.model} ({llm.backend})",
        "replies": output_mode(llm),
    }
    progress = ProgressFile(Path(progress_file) if progress_file is not None else None, "mine", key, about)
    progress.open(fresh=fresh)
    try:
        outcomes = await _propose_all(
            llm,
            trace,
            questions,
            base,
            template,
            {},
            concurrency=concurrency,
            progress=progress,
            on_progress=on_progress,
        )
        result = await _finish(
            llm,
            trace,
            outcomes,
            questions,
            base,
            keep_base=True,
            max_actions=max_actions,
            batch_size=batch_size,
            name=name,
            description=f"Mined from {len(questions)} question(s), starting from library {base.name} v{base.version}.",
            prompts={**base.prompts, "mine": template.id},
            started=started,
            on_merge=on_merge,
        )
        # Kept when a question failed (the next run reads the replies back and asks it again) or a merge batch got no
        # answer (the next run merges again), and with `keep_unasked` while it holds replies to questions this run
        # did not ask.
        unasked = set(progress.done) - {_question_key(question) for question in questions} if keep_unasked else set()
        kept = not result.complete or bool(unasked)
        result = result.model_copy(update={"progress_kept": kept and progress.path is not None and progress.kept})
        if save is not None:
            save(result)
        if not kept:
            progress.remove()
        return result
    finally:
        progress.close()


# One run of spaces before the mark, digits or not ("Q" and 20,000 spaces took 1.6 s with two: helper-185).
_QUESTION_HEAD = re.compile(r"(?i:q|question)[ \t]*(?:\d{1,3}[ \t]*)?[:.)][ \t]*")


def _imagined_line(line: str) -> str | None:
    """The question a line of the reply holds: after `Q:` ("Q1:", "- Q:", "**Question 2:**"), or a bulleted or
    numbered line that asks ("1. Why ...?"); None for any other."""
    plain, listed = plain_line(line)
    head = _QUESTION_HEAD.match(plain)
    if head:
        return plain[head.end() :]
    return plain if listed and plain.rstrip().endswith("?") else None


def parse_imagined(text: str, limit: int) -> tuple[list[str], int]:
    """Questions from `Q: ...` lines, as chat models write them too (`_imagined_line`), or JSON
    `{"questions": [...]}`; and how many lines were off the format."""
    stripped = strip_fence(text.strip()[:_MAX_IMAGINED_CHARS]).strip()
    found: list[str] = []
    bad = 0
    if stripped.startswith("{"):
        data = json_line(stripped)
        items = data.get("questions") if data is not None else None
        if not isinstance(items, list):
            return [], 1
        candidates = [i for i in items if isinstance(i, str)]
        bad = len(items) - len(candidates)
    else:
        candidates = []
        for line in stripped.splitlines():
            if not line.strip():
                continue
            question = _imagined_line(line)
            if question is not None:
                candidates.append(question)
            else:
                bad += 1
    for candidate in candidates:
        question = " ".join(candidate.split())
        if 8 <= len(question) <= 300 and question.isprintable():
            found.append(question)
        else:
            bad += 1
    unique = list(dict.fromkeys(found))
    return unique[:limit], bad


def _imagine_gbnf(count: int) -> str:
    return f'root ::= line{{{count}}}\nline ::= "Q: " [A-Z] [^\\n?\\x00-\\x1f]{{8,150}} "?\\n"\n'


def _imagine_schema(count: int) -> dict[str, Any]:
    item = {"type": "string", "minLength": 8, "maxLength": 300}
    return {
        "type": "object",
        "properties": {"questions": {"type": "array", "items": item, "minItems": count, "maxItems": count}},
        "required": ["questions"],
        "additionalProperties": False,
    }


async def mine_document(
    llm: LLM,
    document: Document,
    *,
    library: ActionLibrary | None = None,
    questions: int = 5,
    max_actions: int = DEFAULT_MAX_ACTIONS,
    sheet_tokens: int = 300,
    concurrency: int = 4,
) -> MiningResult:
    """Mine actions suited to one document, from its entity sheet and questions the model imagines a reader asking.

    Args:
        library: merge the new actions into this library (kept whole); None: the result holds
            the new actions alone (the seed library is still shown, so the model reuses its verbs), and
            none when the model proposes only actions the seed library has.
        questions: how many questions to imagine, 1 to `MAX_IMAGINED` (20).

    Raises:
        ReplyFormatError: the model imagined no usable question.
        ConfigError: `library` holds `max_actions` actions or more, or `questions` is out of range.
    """
    if not 1 <= questions <= MAX_IMAGINED:  # was cut to 20 unsaid: `--imagine 100` mined from 20
        raise ConfigError(f"questions={questions}: imagine 1 to {MAX_IMAGINED} questions about a document")
    started = time.perf_counter()
    if library is not None:
        _check_cap(library, max_actions)
    trace = Trace(question=f"mine document {document.name}", method="mine", backend=llm.backend, model=llm.model)
    index = await asyncio.to_thread(index_document, document)
    sheet = entity_sheet(index, sheet_tokens)
    shown = library if library is not None else seed_library()
    template = load_prompt("mine_document")
    extra = {"title": attribute_value(document.name), "entity_sheet": sheet}
    _check_window(llm, template, shown, extra)  # before the questions are imagined and paid for
    await _preflight(llm)
    imagine = load_prompt("imagine")
    _, constraint = constrained(
        llm, grammar=lambda: _imagine_gbnf(questions), json_schema=lambda: _imagine_schema(questions)
    )
    params: dict[str, Any] = {"max_tokens": 48 * questions + 16, "temperature": 0.0, **constraint}
    messages = imagine.render(title=extra["title"], entity_sheet=sheet, count=questions)
    reply = await Recorder(llm, trace).acall("imagine", imagine, messages, **params)
    imagined, bad = parse_imagined(reply.text, questions)
    if not imagined:
        # A reply read back from the response cache is the same reply again, model mended or not: without a word,
        # the same command failed the same way, no call made.
        cached = "; the reply was read back from the response cache: add --no-cache (cache=False) to ask afresh"
        raise ReplyFormatError(
            f"the model imagined no usable question about {document.name} "
            f"({counted(bad, 'line')} off the 'Q: ...' format)" + (cached if reply.cached else "")
        )
    outcomes = await _propose_all(
        llm,
        trace,
        imagined,
        shown,
        template,
        extra,
        concurrency=concurrency,
        progress=ProgressFile(None, "mine", ""),
        on_progress=None,
    )
    name = library.name if library is not None else _library_name(document.name)
    description = f"Mined for document {document.name} from {len(imagined)} imagined question(s)" + (
        f", merged into library {library.name} v{library.version}." if library is not None else "."
    )
    result = await _finish(
        llm,
        trace,
        outcomes,
        imagined,
        shown,
        keep_base=library is not None,
        max_actions=max_actions,
        batch_size=80,
        name=name,
        description=description,
        prompts={**shown.prompts, "imagine": imagine.id, "mine": template.id},
        started=started,
    )
    return result.model_copy(update={"imagined": imagined, "imagine_malformed": bad})
