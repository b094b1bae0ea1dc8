"""Binary bodies (images, audio, files): passed on as they are, never mapped."""

from __future__ import annotations

from typing import Final, Literal

from .scheme import Format

FORMAT: Final[Format[Literal["binary"]]] = Format("binary", None, ("octet-stream",))
