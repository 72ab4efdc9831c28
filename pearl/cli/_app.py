"""The typer application and its sub-groups; command modules add their commands to these."""

from __future__ import annotations

import typer

__all__ = ["actions_app", "app", "trace_app"]

app = typer.Typer(
    name="pearl",
    help="Answer questions about long documents by planning and executing actions (PEARL).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
trace_app = typer.Typer(help="Inspect traces written by `pearl ask --trace FILE`.", no_args_is_help=True)
actions_app = typer.Typer(
    help="Inspect, compare and convert action libraries (pearl's JSON or the paper's action list).",
    no_args_is_help=True,
)
app.add_typer(trace_app, name="trace")
app.add_typer(actions_app, name="actions")
