"""Compact JSON text as capgen writes it everywhere (no spaces, characters as they are), from
encoders made once: `json.dumps` with options makes a new encoder for every value."""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_FINITE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compact(value: Any) -> str:
    """`json.dumps(value, separators=(",", ":"), ensure_ascii=False)`."""
    return _COMPACT.encode(value)


def compact_finite(value: Any) -> str:
    """`compact`, refusing NaN and the infinities (ValueError), which JSON has not."""
    return _FINITE.encode(value)


def json_text(text: str) -> str:
    """`compact(text)` of a string: the string as a JSON string."""
    return encode_basestring(text)
