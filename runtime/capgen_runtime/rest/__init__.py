"""REST adapters: FastAPI applications (SEMANTICS §5.1, §7)."""

from .app import build_app

__all__ = ["build_app"]
