"""Serving a generated package: its command line, ports, workers and drain."""

from .cli import Capability, main

__all__ = ["Capability", "main"]
