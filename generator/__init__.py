"""capgen: generate ready-to-run REST + MCP services from Naftiko capability specs."""

from __future__ import annotations

from capgen_runtime import __version__  # capgen and capgen-runtime are released together

__all__ = ["__version__"]
