"""Plain text: the body as one string."""

from __future__ import annotations

from typing import Any, Final, Literal

from .scheme import Format


def _decode(text: str, selector: str | None) -> Any:
    return text


FORMAT: Final[Format[Literal["text"]]] = Format("text", _decode, ("plain",))
