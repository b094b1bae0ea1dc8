"""`python -m generator` runs the capgen command line."""

from .cli import main

main()
