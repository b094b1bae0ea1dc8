"""What every upstream format provides: a `Format` descriptor (its registry entry) with the
names `outputRawFormat` gives it and how its body becomes a JSON tree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=str)
Decode = Callable[[str, str | None], Any]  # (text, the HTML selector) -> JSON tree


class FormatError(ValueError):
    """The body does not parse in the declared format."""


class UnsupportedFormat(FormatError):
    """The spec declares a format capgen cannot decode (a spec problem, not the upstream's)."""


@dataclass(frozen=True, slots=True)
class Format(Generic[K]):
    """`kind` and its `aliases` as `outputRawFormat` writes them; `decode` None: the body is
    passed on as it is (binary), never mapped."""

    kind: K
    decode: Decode | None
    aliases: tuple[str, ...] = ()
    errors: tuple[type[Exception], ...] = (ValueError,)  # what a malformed body raises
