"""`pearl index` and `pearl context`: the context stage from the command line.

The commands only parse arguments, call `index_document`/`compress`/`entity_sheet` and render.
"""

from __future__ import annotations

import difflib
import shlex
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from pearl._text import shorten, visible
from pearl.cli._app import app
from pearl.cli._common import (
    MaxBytes,
    Quiet,
    counted,
    echo,
    echo_json,
    echo_left_out,
    example,
    fail,
    files_then_text,
    handled,
    json_errors,
    refuse_empty,
)
from pearl.cli._progress import StageLine, describe_stage
from pearl.config import Settings, load_flag_settings
from pearl.context import (
    CompressedContext,
    DocumentIndex,
    cite,
    compress,
    count_words,
    dense_wanted,
    entity_sheet,
    find_entities,
    has_vectors,
    index_document,
    rank_entities,
    skim,
)
from pearl.context._dense import attach_or_why, auto_left_out
from pearl.documents import as_document, left_out_notes
from pearl.models import Citation
from pearl.tokens import count_tokens

__all__ = ["context_command", "index_command"]

Files = Annotated[
    # Strings, not paths: typer makes "" the current folder.
    list[str], typer.Argument(metavar="FILE...", help="Files or folders read as one document.", show_default=False)
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Rebuild the index instead of reading the cache.")]
NoNer = Annotated[bool, typer.Option("--no-ner", help="Find entities with capitalisation rules only (faster).")]


def _build(
    files: list[Path], no_cache: bool, no_ner: bool, quiet: bool, max_bytes: int | None, *, embed: bool = True
) -> tuple[DocumentIndex, float, bool, list[str]]:
    """The files' index, the seconds it took, whether its sentences were embedded now and what the document leaves out
    (`left_out_notes`: said on stderr, and kept for `--json`, as `ask --json` lists them); with `embed`, given its
    sentence vectors when dense similarity is on, as `ask` would the first time (`_embedded`). Files over
    `max_bytes` (else the setting, `PEARL_MAX_BYTES`) are refused, as `ask` refuses them."""
    started = time.perf_counter()
    line = StageLine(quiet=quiet)
    with handled():
        settings = load_flag_settings(max_bytes=max_bytes)
        document = as_document(files if len(files) > 1 else files[0], settings.max_bytes)
        echo_left_out(document)
        # Told in words, as `ask` tells it and a person knows a document's length by; the index counts characters.
        words = count_words(document.text)

        def progress(done: int, total: int, status: str = "") -> None:
            stage = describe_stage("index", words * done // max(1, total), words)
            line.show(f"{stage}: {status}" if status else stage)

        try:
            index = index_document(document, cache=not no_cache, ner=not no_ner, progress=progress)
            fresh = _embedded(index, no_cache, line, settings) if embed else False
        finally:
            line.close()
    return index, time.perf_counter() - started, fresh, left_out_notes(document)


def _embedded(index: DocumentIndex, no_cache: bool, line: StageLine, settings: Settings) -> bool:
    """Give `index` its sentence vectors when dense similarity is on (auto: the model installed); whether they were
    embedded now (not read from the cache). With auto, a model that does not load is a note, and the words alone
    rank, as in `ask`; with dense on, it is an error."""
    setting = settings.dense
    too_long = auto_left_out(len(index.text)) if setting == "auto" else None
    if too_long:
        echo(f"note: {too_long}", err=True)
    if not dense_wanted(setting, len(index.text)):
        return False
    total = index.sentence_count
    started: list[int] = []  # told only when the sentences are embedded, not when their vectors are read

    def begun(count: int) -> None:
        started.append(count)
        line.show(describe_stage("embed", 0, count))

    problem = attach_or_why(
        index,
        setting,
        cache=not no_cache,
        progress=begun,
        embedded=lambda done: line.show(describe_stage("embed", done, total)),
    )
    if problem is not None:
        line.close()
        echo(f"note: dense similarity is off ({problem}): evidence is ranked by words alone", err=True)
    return bool(started) and problem is None


def _stats(index: DocumentIndex, seconds: float) -> dict[str, Any]:
    return {
        "name": index.name,
        "sentences": index.sentence_count,
        "paragraphs": index.paragraph_count,
        "entities": len(index.entities),
        "tokens": index.tokens,
        "words": index.words,
        "seconds": round(seconds, 3),
        "cached": index.from_cache,
        "ner": index.ner,
    }


@app.command("index", epilog=example("pearl index contract.pdf --json"))
@json_errors
def index_command(
    files: Files,
    as_json: AsJson = False,
    no_cache: NoCache = False,
    no_ner: NoNer = False,
    sheet_budget: Annotated[
        int, typer.Option("--sheet-budget", metavar="TOKENS", min=1, help="Tokens for the entity sheet.")
    ] = 300,
    max_bytes: MaxBytes = None,
    quiet: Quiet = False,
) -> None:
    """Index a document (and embed its sentences when dense similarity is on): print its entity sheet and statistics."""
    # --no-cache keeps nothing, so vectors embedded now would be thrown away: only a cached index gets them.
    refuse_empty(files)
    index, seconds, fresh, notes = _build(
        [Path(name) for name in files], no_cache, no_ner, quiet, max_bytes, embed=not no_cache
    )
    with handled():
        sheet = entity_sheet(index, budget_tokens=sheet_budget)
    stats = _stats(index, seconds)
    if as_json:
        top = [
            {"name": e.name, "label": e.label, "mentions": e.mentions, "aliases": e.aliases[:5]}
            for e in rank_entities(index)[:20]
        ]
        echo_json({**stats, "entity_sheet": sheet, "top_entities": top, "notes": notes})
        return
    echo(sheet)
    shown = sheet.count("\n- ") + sheet.startswith("- ")
    if shown < len(index.entities):  # the sheet names its total, not that the budget cut it (to its header, or none)
        echo(f"({shown} of {len(index.entities):,} entities shown in the {sheet_budget:,} tokens of --sheet-budget)")
    echo("")
    counts = [
        counted(stats["sentences"], "sentence"),
        counted(stats["paragraphs"], "paragraph"),
        counted(stats["entities"], "entity", "entities"),
        counted(stats["tokens"], "token"),
        counted(stats["words"], "word"),
    ]
    vectors = ("; sentences embedded" if fresh else "; sentence vectors cached") if has_vectors(index) else ""
    echo(
        f"{stats['name']}: {', '.join(counts)}; "
        f"{seconds:.2f}s ({'index cached' if index.from_cache else 'built'}; entities by {index.ner}"
        f"{vectors})"
    )


@app.command("context", epilog=example('pearl context contract.pdf "termination for convenience" --budget 600'))
@json_errors
def context_command(
    files_and_query: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE... QUERY",
            help="One or more files or folders (read as one document), then the question or step to compress for. "
            "A source file named on its own (tool.py) is read as code, line by line.",
            show_default=False,
        ),
    ],
    budget: Annotated[
        int | None,
        typer.Option(
            "--budget",
            "-b",
            metavar="TOKENS",
            help="Token budget of the context. [default: the context_budget setting (PEARL_CONTEXT_BUDGET), 1500: "
            "what rag shows where the model's window holds it]",
            show_default=False,
        ),
    ] = None,
    focus: Annotated[
        list[str] | None,
        typer.Option(
            "--focus",
            "-f",
            metavar="TEXT",
            help="An entity or phrase to centre on (repeatable); a question passed whole (8 words or more, asking or "
            "instructing: 'Why ...?', 'Describe ...') is read as one, its names weighed as a question's, none made a "
            "centre.",
        ),
    ] = None,
    skimmed: Annotated[
        bool,
        typer.Option(
            "--skim",
            help="The whole document skimmed instead: one sentence from each stretch of it, the one most "
            "relevant to QUERY (what a step like SUMMARIZE(CTX) sees).",
        ),
    ] = False,
    as_json: AsJson = False,
    no_cache: NoCache = False,
    no_ner: NoNer = False,
    max_bytes: MaxBytes = None,
    quiet: Quiet = False,
) -> None:
    """Compress a document to the sentences relevant to QUERY, within --budget tokens."""
    names, query = files_then_text(files_and_query, "context", "query")
    files = [Path(name) for name in names]
    if skimmed and focus:
        # A usage error of its own, so that --json prints it as one (click's printed nothing on stdout: helper-212).
        raise fail("--focus centres a search; --skim reads the whole document: give one of them")
    if not skimmed and not query.strip():
        raise fail("the query is empty: give the words or question to look for (or --skim for the whole document)")
    if any(not visible(item) for item in focus or []):  # it centred on nothing and was noted as an unknown name
        raise fail("a --focus is empty: give the entity or phrase to centre on, or leave the option out")
    if budget is None:  # what `rag` shows, as the settings (the environment, the config file) say
        with handled():
            budget = load_flag_settings().context_budget
    if budget < 1:  # checked before indexing; the library's own refusal names its parameter, not the option
        raise fail(f"--budget {budget}: give the context's size in tokens, at least 1 (e.g. --budget 1500)")
    index, seconds, _, notes = _build(files, no_cache, no_ner, quiet, max_bytes)
    with handled():
        context = skim(index, query, budget) if skimmed else compress(index, query, budget, focus=focus, cut_best=True)
    for item in focus or []:
        if not find_entities(index, item):
            echo(f"note: {_unmatched_focus(index, item, files)}", err=True)
    # Kept sentences' own text, comparable with the document's tokens (`context.tokens` counts labels and file lines).
    # A sentence cut to fit the budget counts what was kept of it (its whole was counted: 18 tokens for one word shown).
    text_kept = (
        sum(count_tokens(index.text[start:end]) for start, end in context.spans)
        if context.truncated
        else sum(index.sent_tokens[i] for i in context.sentence_ids)
    )
    summary = {
        "tokens_kept": context.tokens,
        "text_tokens_kept": text_kept,
        "tokens_total": index.tokens,
        "ratio": round(context.ratio, 2) if context.tokens else None,
        "sentences_kept": len(context.sentence_ids),
        "sentences_total": index.sentence_count,
        "seconds": round(seconds, 3),
        "cached": index.from_cache,
    }
    if as_json:
        # `spans` are offsets into the files' joined text; each sentence also says which file holds it, and where.
        where = {"text", "start", "end", "inferred", "by_step"}
        places = []
        for sid in context.sentence_ids:
            citation, was_cut = _place(index, context, sid)
            places.append({**citation.model_dump(exclude=where), "cut": was_cut})
        echo_json({**summary, "context": context.model_dump(), "sentences": places, "notes": notes})
        return
    if context.text:  # nothing kept: no blank lines before saying so
        echo(context.text)
        echo("")
    if len(context.sentence_ids) == index.sentence_count:  # the labels make it longer than the text alone
        whole = "its one sentence" if index.sentence_count == 1 else f"all {index.sentence_count:,} sentences"
        echo(
            f"kept the whole document: {whole}, {counted(context.tokens, 'token')} with "
            f"their labels ({index.tokens:,} without)"
        )
    elif not context.sentence_ids:
        held = f"a budget of {counted(budget, 'token')} holds no sentence of the document"
        echo(f"kept nothing: {held}; give a larger --budget")
    else:
        share = 100 * text_kept / max(1, index.tokens)
        cut = ", cut to fit" if context.truncated else ""
        echo(
            f"kept {len(context.sentence_ids):,} of {counted(index.sentence_count, 'sentence')}{cut}: "
            f"{counted(context.tokens, 'token')} with their labels; their text is {text_kept:,} of the "
            f"document's {counted(index.tokens, 'token')} ({share:.1f}%)"
        )


def _place(index: DocumentIndex, context: CompressedContext, sid: int) -> tuple[Citation, bool]:
    """Sentence `sid` of `context` as a citation, and whether it was cut to fit: a cut sentence ends where it was cut
    (its whole was given, 684 characters for the 142 shown: helper-175)."""
    start, end = index.sent_starts[sid], index.sent_ends[sid]
    cut = (
        next((stop for begin, stop in context.spans if begin <= start < stop < end), None)
        if context.truncated
        else None
    )
    if cut is None:
        return cite(index, sid), False
    return Citation.of(sid, index.text, start, cut, index.parts, index.name), True


def _unmatched_focus(index: DocumentIndex, focus: str, files: list[Path]) -> str:
    """What to say of a `--focus` that names no entity: its words are then looked for as a phrase (see `compress`)."""
    names: dict[str, str] = {}  # each spelling, lower-cased, to its entity's name
    for entity in index.entities:
        if not entity.is_value:
            for spelling in (entity.name, *entity.aliases):
                names.setdefault(spelling.lower(), entity.name)
    close = difflib.get_close_matches(focus.lower(), names, n=5)
    nearest = list(dict.fromkeys(names[spelling] for spelling in close))[:3]
    listed = f"see its entities with: pearl index {shlex.join(str(file) for file in files)}"
    hint = f"closest entities: {', '.join(nearest)}" if nearest else listed
    named = f'--focus "{shorten(focus, 60)}" names no entity of the document'
    return f"{named}, so its words are looked for instead; {hint}"
