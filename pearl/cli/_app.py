"""The typer application and its sub-groups; command modules add their commands to these.

Help is click's plain layout, not rich's panels: paragraphs are re-wrapped to the terminal
(at most 80 columns), and every name in it is one a user types: `FILE... QUESTION`, `TOKENS`,
`N`, never a Python type (`<list[str]>`, which typer prints for values without a metavar).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from pearl._version import __version__
from pearl.cli._common import echo, echo_json, example, fresh_stdout, interrupted_exit

__all__ = ["actions_app", "app", "trace_app"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


# Parameters are told apart by `param_type_name`, not by class: recent typer ships its own copy of click.
def _arguments(command: TyperCommand, ctx: Any) -> list[Any]:
    return [p for p in command.get_params(ctx) if p.param_type_name == "argument"]


def _argument_name(param: Any) -> str:
    """An argument as usage and help show it: its metavar (`FILE... QUESTION`), else its name in capitals."""
    name = param.metavar or str(param.name or "arg").upper() + ("..." if param.nargs != 1 else "")
    return str(name) if param.required else f"[{name}]"


def _option_names(param: Any) -> str:
    """`-o, --option TEXT`: the option's names and, when it takes a value, its metavar (else its name in capitals)."""
    names = ", ".join(sorted(param.opts, key=lambda o: (o.startswith("--"), len(o))))
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    if param.is_flag or param.count:
        return names
    return f"{names} {param.metavar or str(param.name).upper()}"


class _Command(TyperCommand):
    """A command whose usage line and help rows show metavars, never Python types, and whose `--json` output is JSON
    for a usage error too (`--timeout abc`, a missing argument): a script reading stdout got nothing (helper-191)."""

    def make_context(self, info_name: Any, args: list[str], parent: Any = None, **extra: Any) -> Any:
        wants_json = self._asks_json(args)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except Exception as exc:  # click's UsageError (typer ships its own copy of click: told by its method)
            said = getattr(exc, "format_message", None)
            if wants_json and callable(said):
                echo_json({"error": said()})
            raise

    def _asks_json(self, args: list[str]) -> bool:
        """Whether `args` give this command's own --json flag: not a command without one (`trace show --json`), not
        an option's value (`-o --json`), not after `--`."""
        options = [p for p in self.params if p.param_type_name == "option"]
        if not any("--json" in p.opts for p in options):
            return False
        takes_value = {
            name
            for p in options
            if not getattr(p, "is_flag", False) and not getattr(p, "count", False)
            for name in p.opts
        }
        for number, arg in enumerate(args):
            if arg == "--":
                return False
            if arg == "--json" and not (number and args[number - 1] in takes_value):
                return True
        return False

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [_argument_name(p) for p in _arguments(self, ctx)]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments = [(_argument_name(p), str(getattr(p, "help", None) or "")) for p in _arguments(self, ctx)]
        options = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx) if param.param_type_name == "option" else None
            if record is not None:
                options.append((_option_names(param), record[1]))
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _interruptible(run: Callable[[Any], T], ctx: Any) -> T:
    """`run(ctx)`, with a Ctrl-C ending in `interrupted` and exit code 130.

    typer turns a KeyboardInterrupt into a silent exit 130 before `pearl.cli.main` could see
    it, so it is caught here, inside typer; commands that keep work across an interruption
    (eval, mine, refine) catch it first and say where the work is.
    """
    try:
        return run(ctx)
    except KeyboardInterrupt:
        echo("interrupted", err=True)
        raise typer.Exit(interrupted_exit()) from None


class _Listing(TyperGroup):
    """A group whose command list shows each command's first sentence whole, wrapped rather than cut with `...`
    (`pearl`, `pearl actions`, `pearl trace`: the two cut theirs, helper-212)."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class _Group(_Listing):
    """The `pearl` group: every command runs inside it, so a Ctrl-C anywhere says `interrupted`."""

    def invoke(self, ctx: Any) -> Any:
        fresh_stdout()
        return _interruptible(super().invoke, ctx)


class _Typer(typer.Typer):
    """A typer app whose commands default to `_Command`."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        kwargs.setdefault("cls", _Command)
        decorate: Callable[[F], F] = super().command(*args, **kwargs)
        return decorate


app = _Typer(
    name="pearl",
    help="Answer questions about long documents by planning and executing actions (PEARL).",
    epilog=example('pearl ask story.txt "Why did Dorota put water in the lamp oil?"'),
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
trace_app = _Typer(
    help="Inspect traces written by `pearl ask --trace FILE`.",
    cls=_Listing,
    epilog=example("pearl trace show t.json", "pearl trace html t.json -o page.html"),
    no_args_is_help=True,
    rich_markup_mode=None,
)
actions_app = _Typer(
    help="Inspect, compare and convert action libraries (pearl's JSON or the paper's action list).",
    cls=_Listing,
    epilog=example("pearl actions list", "pearl actions show FIND_CHARACTER"),
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _print_version(asked: bool) -> None:
    if asked:
        echo(f"pearl {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print pearl's version and exit.",
            is_eager=True,
            expose_value=False,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    # The group's own options; its help is the app's.
    pass


app.add_typer(trace_app, name="trace")
app.add_typer(actions_app, name="actions")
