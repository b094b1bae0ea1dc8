"""The engine: what an exposed unit does (SEMANTICS §5-§7), behind every adapter."""

from .execute import Outcome, Service, execute

__all__ = ["Outcome", "Service", "execute"]
