"""The engine: what an exposed unit does (SEMANTICS §5-§7), behind every adapter."""

from .answer import Answer, as_answer, json_answer
from .execute import execute
from .service import EXCHANGE, Exchange, Service, from_spec

__all__ = [
    "EXCHANGE",
    "Answer",
    "Exchange",
    "Service",
    "as_answer",
    "execute",
    "from_spec",
    "json_answer",
]
