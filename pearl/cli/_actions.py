"""`pearl actions list|show|diff|import|export`: inspect, compare and convert action libraries.

Every command that takes a library reads pearl's JSON or the paper's action list
(`NAME(ARGS) # definition` lines), told apart by content.
"""

from __future__ import annotations

import difflib
import shlex
from pathlib import Path
from typing import Annotated

import typer

from pearl._files import read_text
from pearl.actions import (
    Action,
    ActionLibrary,
    holds_demos,
    load_library,
    parse_action_list,
    render_action_list,
    save_library,
)
from pearl.actions._models import MAX_LIBRARY_NAME
from pearl.cli._app import actions_app
from pearl.cli._common import (
    ActionsOpt,
    Force,
    counted,
    echo,
    example,
    fail,
    given_path,
    handled,
    refuse_dash,
    refuse_overwriting,
    refuse_replacing,
)

__all__ = ["diff_command", "export_command", "import_command", "list_command", "show_command"]


def _load(path: Path | None) -> ActionLibrary:
    with handled():
        return load_library(path)


def _line(action: Action) -> str:
    return f"{action.signature}  {action.definition}"


def _about(library: ActionLibrary) -> str:
    prompts = ", ".join(f"{stage}={pid}" for stage, pid in sorted(library.prompts.items()))
    about = f"# {library.name} v{library.version}: {counted(len(library), 'action')}"
    return f"{about}, fingerprint {library.fingerprint[:12]}" + (f"; prompts {prompts}" if prompts else "")


@actions_app.command("list", epilog=example("pearl actions list mined.json --counts"))
def list_command(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE",
            help="A library: pearl's JSON or an action list (default: the bundled library).",
            parser=given_path,
        ),
    ] = None,
    counts: Annotated[bool, typer.Option("--counts", help="Append how many mined questions asked for each.")] = False,
) -> None:
    """One action per line: `NAME(PARAMS)  definition`."""
    library = _load(file)
    echo(_about(library), err=True)
    for action in library.actions:
        echo(_line(action) + (f"  [{action.count}]" if counts else ""))


@actions_app.command("show", epilog=example("pearl actions show FIND_REASON mined.json"))
def show_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The action's name.", show_default=False)],
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE", help="A library file, as list takes it (default: the bundled library).", parser=given_path
        ),
    ] = None,
    actions: ActionsOpt = None,
) -> None:
    """Everything about one action: signature, definition, flags, provenance."""
    if file is not None and actions is not None and file != actions:
        raise fail(f"two libraries given ({file} and --actions {actions}): give one")
    if file is not None and not file.exists() and Path(name).is_file():  # `actions show mined.json FIND_X`
        raise fail(f"{name} is a file and {file} is not: the action's name goes first: pearl actions show NAME FILE")
    if file is None and actions is None and Path(name).is_file():  # `actions show mined.json`: the name forgotten
        raise fail(f"{name} is a file, not an action's name: pearl actions show NAME {shlex.quote(name)}")
    source = file if file is not None else actions
    library = _load(source)
    action = library.get(name)
    if action is None:
        close = difflib.get_close_matches(name.upper(), library.names, n=3)
        listing = "pearl actions list" + (f" {shlex.quote(str(source))}" if source is not None else "")
        hint = f"; did you mean {', '.join(close)}?" if close else f"; see: {listing}"
        raise fail(f"library {library.name} has no action {name.upper()}{hint}")
    echo(action.signature)
    echo(f"  {action.definition}")
    flags = [f for f, on in (("reads the document", action.needs_document), ("variadic", action.variadic)) if on]
    if action.pure:
        flags.append("runs locally, without the model")
    echo(f"  library: {library.name} v{library.version}" + (f"; {', '.join(flags)}" if flags else ""))
    if action.count or action.examples:
        echo(f"  asked for by {counted(action.count, 'mined question')}")
        for asked in action.examples:
            echo(f"    e.g. {asked}")


@actions_app.command("diff", epilog=example("pearl actions diff actions.json mined.json"))
def diff_command(
    old: Annotated[
        Path, typer.Argument(metavar="OLD", help="The first library.", show_default=False, parser=given_path)
    ],
    new: Annotated[
        Path, typer.Argument(metavar="NEW", help="The second library.", show_default=False, parser=given_path)
    ],
) -> None:
    """What changed between two libraries: `-` removed, `+` added, `~` changed signature or definition."""
    a, b = _load(old), _load(new)
    # A library edited by hand keeps its version: its content tells it apart.
    edited = a.version == b.version and a.fingerprint != b.fingerprint
    for mark, path, library in (("---", old, a), ("+++", new, b)):
        content = f", content {library.fingerprint[:12]}" if edited else ""
        echo(f"{mark} {path} ({library.name} v{library.version}{content}, {counted(len(library), 'action')})")
    removed = [x for x in a.actions if x.name not in b]
    added = [x for x in b.actions if x.name not in a]
    changed = 0
    for action in removed:
        echo(f"- {_line(action)}")
    for action in added:
        echo(f"+ {_line(action)}")
    for before in a.actions:
        after = b.get(before.name)
        if after is None:
            continue
        if before.signature != after.signature:
            changed += 1
            echo(f"~ {before.signature} -> {after.signature}")
        if before.definition != after.definition:
            changed += before.signature == after.signature
            echo(f"~ {after.name}: {before.definition!r} -> {after.definition!r}")
        if before.pure != after.pure:  # the same text, run otherwise: by pearl itself, or by the model
            changed += before.signature == after.signature and before.definition == after.definition
            runs = ("run by pearl, no model call", "run by the model")
            echo(f"~ {after.name}: {runs[not before.pure]} -> {runs[not after.pure]}")
    same = len(a) - len(removed) - changed
    echo(f"{len(added)} added, {len(removed)} removed, {changed} changed, {same} unchanged")


@actions_app.command("import", epilog=example("pearl actions import actions_simplified.txt -o paper.json"))
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="An action list in the paper's format: NAME(ARGS) # definition.", show_default=False
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="FILE", help="Where to write the library (JSON).", parser=given_path)
    ],
    name: Annotated[
        str | None, typer.Option("--name", metavar="NAME", help="The library's name (default: the file's stem).")
    ] = None,
    force: Force = False,
) -> None:
    """Convert the paper's action list into a pearl library (JSON); lines that cannot be read are skipped and listed."""
    refuse_dash(out, "--out", "actions.json")
    refuse_overwriting(out, "--out", {"action list": file})
    refuse_replacing(out, "--out", force)
    with handled():
        text = read_text(file, "action list")
        if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
            if holds_demos(text):
                raise fail(f"{file} holds demonstrations, not an action list: give it as --demos")
            raise fail(
                f"{file} is JSON, not an action list: a pearl library is used as it is (--actions {file}); "
                f"`pearl actions export {file}` writes it as an action list"
            )
        library, problems = parse_action_list(
            text, name=name or file.stem[:MAX_LIBRARY_NAME] or "actions", source=str(file)
        )
        save_library(library, out)
    for problem in problems:
        echo(f"skipped: {problem}", err=True)
    variadic = sum(a.variadic for a in library.actions)
    echo(
        f"imported {counted(len(library), 'action')} from {file} "
        f"({variadic} variadic, {counted(len(problems), 'line')} skipped); "
        f"wrote {out}; use it with --actions {out} (or --actions {file} directly)"
    )


@actions_app.command("export", epilog=example("pearl actions export mined.json -o mined.txt"))
def export_command(
    library_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="LIBRARY",
            help="A library: pearl's JSON or an action list (default: the bundled library).",
            show_default=False,
            parser=given_path,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Where to write the action list (default, or -: print it).",
            parser=given_path,
        ),
    ] = None,
    force: Force = False,
) -> None:
    """Write a library in the paper's format: NAME(ARGS) # definition, one action a line.

    Names, parameters and definitions are kept; counts, examples and provenance have no place in the format.
    """
    library = _load(library_file)
    dropped = _not_exported(library)
    if out is None or str(out) == "-":
        echo(render_action_list(library), nl=False)
    else:
        refuse_overwriting(out, "--out", {"library": library_file})
        refuse_replacing(out, "--out", force)
        with handled():
            save_library(library, out, format="paper")
        echo(f"wrote {counted(len(library), 'action')} of {library.name} v{library.version} to {out}", err=True)
    if dropped:
        echo(
            f"note: the paper's format has no place for {dropped}; {library_file or 'the bundled library'} keeps them",
            err=True,
        )


def _not_exported(library: ActionLibrary) -> str:
    """What of `library` the paper's format leaves out that a mined library has ("" for nothing): its actions' use
    counts and examples, and the provenance of its prompts (each library has a name, version and description: the
    format leaves them out too, and an exported list's is its own on import)."""
    examples = sum(len(action.examples) for action in library.actions)
    counts = sum(1 for action in library.actions if action.count)
    parts = [
        *([f"the use counts of {counted(counts, 'action')}"] if counts else []),
        *([counted(examples, "example")] if examples else []),
        *(["the prompts' provenance"] if library.prompts else []),
    ]
    return ", ".join(parts[:-1]) + f" or {parts[-1]}" if len(parts) > 1 else "".join(parts)
