"""MCP prompts as the spec writes them: messages whose `{{argument}}` placeholders are filled
once (a missing argument keeps its placeholder; values are never expanded again)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote

from ..model import Prompt

Messages = list[tuple[str, str]]  # (role, text)
_ARGUMENT = re.compile(r"\{\{([A-Za-z0-9_]+)\}\}")


def fill_messages(prompt: Prompt, arguments: Mapping[str, str]) -> Messages:
    messages = prompt.messages
    if prompt.location:
        messages = (("user", local_path(prompt.location).read_text(encoding="utf-8")),)
    return [(role, fill_prompt(text, arguments)) for role, text in messages]


def fill_prompt(template: str, arguments: Mapping[str, str]) -> str:
    """One pass: a missing argument keeps its placeholder; values are never re-expanded."""
    return _ARGUMENT.sub(lambda m: arguments.get(m.group(1), m.group(0)), template)


def local_path(location: str) -> Path:
    """A `file://` location (or a plain path) as an absolute path."""
    return Path(unquote(location.removeprefix("file://"))).resolve()
