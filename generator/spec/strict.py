"""`--strict`: validate the spec against the published alpha2 JSON Schema as well."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from ..diagnostics import Diagnostics
from ..loader import Document

SCHEMA = Path(__file__).resolve().parent.parent / "data" / "naftiko-1.0.0-alpha2.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def check_schema(document: Document, diagnostics: Diagnostics) -> None:
    """One E052 per violation, at the deepest location the schema names."""
    for error in sorted(
        _validator().iter_errors(document.data), key=lambda e: list(map(str, e.absolute_path))
    ):
        pointer = tuple(error.absolute_path)
        where = "/".join(str(p) for p in pointer) or "(root)"
        message = _message(error)
        diagnostics.error("E052", f"schema: {where}: {message}", document.locations.span(pointer))


def _message(error: Any) -> str:
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)) * -1)
        return f"{best.message} (no alternative of {error.validator} matches)"
    text: str = error.message
    return text if len(text) <= 200 else text[:197] + "..."
