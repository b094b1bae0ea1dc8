"""`python -m generator` runs the capgen command line."""

from .launch import main

main()
