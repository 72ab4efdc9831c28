"""`python -m pearl` runs the command-line tool."""

from pearl.cli import main

main()
