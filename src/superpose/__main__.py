"""`python -m superpose` runs the command line."""

from .cli import main

main()
