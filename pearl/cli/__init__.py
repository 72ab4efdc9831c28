"""The `pearl` command. Thin: parse arguments, call the library, render the result.

Every command lives in one module of this package and imports only from the library; the
library never imports typer. Exit codes: 0 done, 1 a failure along the way, 2 bad input or
settings, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM (see `pearl.cli._common`).
"""

from __future__ import annotations

import logging
import sys

from pearl.cli import _actions, _ask, _context, _eval, _training
from pearl.cli._app import app
from pearl.cli._common import StderrHandler, interrupted_exit, stop_on_sigterm

__all__ = ["COMMANDS", "app", "main"]

COMMANDS = (_ask, _context, _eval, _training, _actions)
"""The modules whose commands make up `pearl` (importing one registers its commands on `app`)."""


def _log_to_stderr() -> None:
    """Send warnings and log records (WARNING and up) to stderr through `StderrHandler`, around the progress line."""
    logging.basicConfig(level=logging.WARNING, handlers=[StderrHandler(sys.stderr)])
    logging.captureWarnings(True)  # `warnings.warn` would write to stderr straight, over a drawn line
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its parser warnings are noise to a user


def main() -> None:
    """Console entry point: clear one-line errors, never a traceback for expected failures."""
    _log_to_stderr()
    stop_on_sigterm()
    try:
        app(prog_name="pearl")  # `python -m pearl` too: help and errors name the command a user types
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(interrupted_exit())
