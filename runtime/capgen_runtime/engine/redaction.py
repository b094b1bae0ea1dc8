"""One redaction rule for everything a service writes: answers, error messages, logs.

A secret is every bound value and inbound token of at least `MIN_LENGTH` characters, and the
credentials the service builds from them (`user:password` of basic authentication, as base64).
Each is redacted in every form the service itself gives it on its way out, since an upstream
may echo any of them: as it is, JSON-escaped (ASCII or not, `/` escaped or not),
percent-encoded as a path segment, a query value or a form field, and in lower-case hex.

Streams are redacted as they pass (`Held`): the end of a piece that could begin a secret is
held back until the next piece shows whether it does, so a secret split across two chunks
or two events is still found; joined text is redacted after joining (`pieces`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, AnyStr, Generic
from urllib.parse import quote, quote_plus

from ..jsontext import compact

MIN_LENGTH = 4
MASK = "***"
_PATH_SAFE = ":@!$&'()*+,=-._~"  # request.py's segment characters
_HEX = re.compile(r"%[0-9A-F]{2}")


def forms(secret: str) -> set[str]:
    """The ways `secret` can appear in what the service sends and an upstream echoes."""
    escaped = json.dumps(secret)[1:-1]
    found = {
        secret,
        escaped,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        escaped.replace("/", "\\/"),
        quote(secret, safe=""),
        quote(secret),  # urllib's default, as many servers re-encode what they echo
        quote(secret, safe=_PATH_SAFE),
        quote(secret, safe=_PATH_SAFE + "/"),  # a path's last placeholder keeps its slashes
        quote_plus(secret),
    }
    found |= {_HEX.sub(lambda m: m.group(0).lower(), f) for f in found if "%" in f}
    return {f for f in found if len(f) >= MIN_LENGTH}


class Redactor:
    """Replaces every form of every secret by `***`, in text, bytes and JSON values."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = {f for s in secrets if len(s) >= MIN_LENGTH for f in forms(s)}
        # longest first: a form that contains another is replaced whole
        self.texts = tuple(sorted(values, key=lambda v: (-len(v), v)))
        self.raw = tuple(t.encode() for t in self.texts)
        # every form is written in a JSON string as it is (nothing in it JSON escapes)
        self._verbatim = all(compact(t)[1:-1] == t for t in self.texts)

    def __bool__(self) -> bool:
        return bool(self.texts)

    def text(self, text: str) -> str:
        for secret in self.texts:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def binary(self, data: bytes) -> bytes:
        for secret in self.raw:
            if secret in data:
                data = data.replace(secret, MASK.encode())
        return data

    def value(self, value: Any) -> Any:
        """A JSON value with every string (and key) redacted."""
        if not self.texts:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        return value

    def written_value(self, value: Any, text: bytes) -> Any:
        """`value(value)`, where `text` is the value's JSON as capgen wrote it (its strings
        escaped only where JSON must: `json.dumps(..., ensure_ascii=False)`): a string holding
        a secret holds it in that text too, unless a secret has a character JSON escapes.
        No secret in the text, none to redact in the value."""
        if self._verbatim and not any(secret in text for secret in self.raw):
            return value
        return self.value(value)

    def pieces(self, pieces: Sequence[str]) -> list[str]:
        """`pieces` redacted as their concatenation is: a secret that spans pieces becomes
        `***` in the piece where it begins and nothing in the others."""
        joined = "".join(pieces)
        spans = self._spans(joined)
        if not spans:
            return list(pieces)
        result, start = [], 0
        for piece in pieces:
            end = start + len(piece)
            result.append(_masked(joined, start, end, spans))
            start = end
        return result

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """Where secrets are in `text`, overlapping ones merged, in order."""
        found: list[tuple[int, int]] = []
        for secret in self.texts:
            at = text.find(secret)
            while at >= 0:
                found.append((at, at + len(secret)))
                at = text.find(secret, at + 1)
        merged: list[tuple[int, int]] = []
        for start, end in sorted(found):
            if merged and start < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def held_text(self) -> Held[str]:
        return Held(self.text, self.texts, "")

    def held_bytes(self) -> Held[bytes]:
        return Held(self.binary, self.raw, b"")


def _masked(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    """text[start:end] with the parts inside `spans` removed, and `***` where one begins."""
    out, at = [], start
    for low, high in spans:
        if high <= start or low >= end:
            continue
        if low >= at:
            out.append(text[at:low])
        if low >= start:
            out.append(MASK)
        at = max(at, min(high, end))
    out.append(text[at:end])
    return "".join(out)


class Held(Generic[AnyStr]):
    """A stream redacted piece by piece: `feed` gives what can be sent now, `end` the rest.
    Only the end of what has come that could begin a secret is held back (unredacted, so that
    the secret is found whole once the rest of it comes)."""

    def __init__(
        self, redact: Callable[[AnyStr], AnyStr], secrets: Sequence[AnyStr], empty: AnyStr
    ) -> None:
        self.redact: Callable[[AnyStr], AnyStr] = redact
        self.secrets: Sequence[AnyStr] = secrets
        self.pending: AnyStr = empty

    def feed(self, piece: AnyStr) -> AnyStr:
        data = self.pending + piece
        cut = self._cut(data)
        self.pending = data[cut:]
        return self.redact(data[:cut])

    def end(self) -> AnyStr:
        rest, self.pending = self.pending, self.pending[:0]
        return self.redact(rest)

    def _cut(self, data: AnyStr) -> int:
        """Where what can be sent ends: before the end that could begin a secret, and never
        inside a secret that is whole."""
        cut, moved = len(data) - self._beginning(data), True
        while moved:
            moved = False
            for secret in self.secrets:
                at = data.find(secret, max(cut - len(secret) + 1, 0))
                if 0 <= at < cut:
                    cut, moved = at, True
        return cut

    def _beginning(self, data: AnyStr) -> int:
        """The length of the longest end of `data` that a secret begins with."""
        longest, size = 0, len(data)
        for secret in self.secrets:
            at = data.find(secret[:1], max(size - len(secret) + 1, 0))
            while at >= 0 and size - at > longest:
                if secret.startswith(data[at:]):
                    longest = size - at
                    break
                at = data.find(secret[:1], at + 1)
        return longest
