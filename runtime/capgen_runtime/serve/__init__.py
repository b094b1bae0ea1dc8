"""Serving a generated package: its command line, ports, workers and drain."""

from .capability import Capability
from .cli import main

__all__ = ["Capability", "main"]
