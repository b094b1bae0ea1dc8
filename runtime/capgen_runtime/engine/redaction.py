"""Known secrets never leave the service, even when an upstream echoes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MIN_SECRET = 6  # shorter values are too likely to occur by chance to be replaced everywhere


class Redactor:
    """Replaces each known secret by `***`, in text, bytes and JSON values."""

    def __init__(self, secrets: Iterable[str]) -> None:
        known = {value for value in secrets if len(value) >= MIN_SECRET}
        self.secrets = tuple(sorted(known, key=len, reverse=True))
        self._raw = tuple(secret.encode() for secret in self.secrets)
        # what a relayed stream must hold back at a chunk's end, as it may begin a secret
        self.tail = max((len(raw) for raw in self._raw), default=1) - 1
        # a secret with a line break can hide across lines; otherwise a line is complete
        self.spans_lines = any("\n" in secret for secret in self.secrets)

    def text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def bytes(self, data: bytes) -> bytes:
        for raw in self._raw:
            if raw in data:
                data = data.replace(raw, b"***")
        return data

    def value(self, value: Any) -> Any:
        """A JSON value with every string (and key) redacted; the value itself when no secret
        is known."""
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        return value
