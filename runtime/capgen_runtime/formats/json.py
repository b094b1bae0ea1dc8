"""JSON, the default."""

from __future__ import annotations

import json as _json
from typing import Any, Final, Literal

from .scheme import Format


def _decode(text: str, selector: str | None) -> Any:
    return _json.loads(text)


FORMAT: Final[Format[Literal["json"]]] = Format("json", _decode)
