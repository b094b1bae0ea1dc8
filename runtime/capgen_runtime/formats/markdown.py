"""Markdown: front matter, pipe tables and sections by heading."""

from __future__ import annotations

import re
from typing import Any, Final, Literal

from .bounds import load_yaml
from .scheme import Format

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _markdown(text: str) -> dict[str, Any]:
    front: dict[str, Any] = {}
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            loaded = load_yaml(text[4:end])
            front = loaded if isinstance(loaded, dict) else {}
            text = text[end + 4 :].lstrip("\n")
    sections: list[dict[str, Any]] = []
    tables: list[list[dict[str, str]]] = []
    table: list[list[str]] = []
    body: list[str] = []

    def close_table() -> None:
        if len(table) >= 2:
            header = table[0]
            tables.append([dict(zip(header, row, strict=False)) for row in table[2:]])
        table.clear()

    for line in text.splitlines():
        heading = _HEADING.match(line)
        if line.strip().startswith("|"):
            table.append([c.strip() for c in line.strip().strip("|").split("|")])
            body.append(line)
            continue
        close_table()
        if heading:
            if sections:
                sections[-1]["content"] = "\n".join(body).strip()
            body = []
            sections.append(
                {"heading": heading.group(2), "level": len(heading.group(1)), "content": ""}
            )
        else:
            body.append(line)
    close_table()
    if sections:
        sections[-1]["content"] = "\n".join(body).strip()
    return {"frontMatter": front, "tables": tables, "sections": sections}


def _decode(text: str, selector: str | None) -> Any:
    return _markdown(text)


FORMAT: Final[Format[Literal["markdown"]]] = Format("markdown", _decode, ("md",), (ValueError,))
