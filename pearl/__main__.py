"""The `pearl` command's entry point (`python -m pearl` too).

It is tiny on purpose: the console script imports it, and it imports the command-line tool
(the whole library) inside `main`, so a Ctrl-C while that loads prints `interrupted` and exits
130 like a Ctrl-C at any later point, never a traceback.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_EXIT_INTERRUPTED = 130  # pearl.cli's EXIT_INTERRUPTED, which cannot be imported before the try


def main() -> None:
    """Load the command-line tool and run it."""
    try:
        from pearl.cli import main as run

        run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(_EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
