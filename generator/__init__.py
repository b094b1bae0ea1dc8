"""capgen: generate ready-to-run REST + MCP services from Naftiko capability specs."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
