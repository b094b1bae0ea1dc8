"""Compact JSON text as capgen writes it everywhere (no spaces, characters as they are), from
encoders made once: `json.dumps` with options makes a new encoder for every value, and
`JSONEncoder.encode` makes a new C encoder for every value too. These are the C encoders
`JSONEncoder` would make, kept; without its check for values that contain themselves, which
no value read from JSON does: such a value ends in RecursionError, as one nested too deeply
does (tests/unit/test_jsontext.py compares them with `json.dumps`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

_Encoder = Callable[[Any, int], Any]


def _encoder(allow_nan: bool) -> _Encoder:
    """What `JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False,
    allow_nan=allow_nan).iterencode` runs, in C when the interpreter has it."""
    made = json.encoder.c_make_encoder  # type: ignore[attr-defined]
    if made is None:  # pragma: no cover  # an interpreter without the C accelerator
        python = json.JSONEncoder(
            separators=(",", ":"), ensure_ascii=False, check_circular=False, allow_nan=allow_nan
        )
        return lambda value, _: python.iterencode(value)
    fallback = json.JSONEncoder(allow_nan=allow_nan)  # `default` (refuses) and float text
    return made(  # type: ignore[no-any-return]
        None, fallback.default, encode_basestring, None, ":", ",", False, False, allow_nan
    )


_COMPACT = _encoder(allow_nan=True)
_FINITE = _encoder(allow_nan=False)


def compact(value: Any) -> str:
    """`json.dumps(value, separators=(",", ":"), ensure_ascii=False)`."""
    return "".join(_COMPACT(value, 0))


def compact_finite(value: Any) -> str:
    """`compact`, refusing NaN and the infinities (ValueError), which JSON has not."""
    return "".join(_FINITE(value, 0))


def json_text(text: str) -> str:
    """`compact(text)` of a string: the string as a JSON string."""
    return encode_basestring(text)
