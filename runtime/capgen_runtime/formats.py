"""Turn an upstream body into a JSON tree according to the consumed `outputRawFormat`."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree

import yaml


class FormatError(ValueError):
    """The body does not parse in the declared format."""


class UnsupportedFormat(FormatError):
    """The spec declares a format capgen cannot decode (a spec problem, not the upstream's)."""


_SEPARATORS = {"csv": ",", "tsv": "\t", "psv": "|"}
PASSTHROUGH = frozenset({"binary", "octet-stream"})


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type value, lower case (`""` when there is none)."""
    return (content_type or "").split(";")[0].strip().lower()


def decode(content: bytes, fmt: str | None) -> Any:
    """Decode `content`; an empty body gives None."""
    name = (fmt or "json").lower()
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    try:
        if name == "json":
            return json.loads(text)
        if name == "xml":
            return _xml(text)
        if name in ("yaml", "yml"):
            return yaml.safe_load(text)
        if name in _SEPARATORS:
            reader = csv.DictReader(io.StringIO(text), delimiter=_SEPARATORS[name])
            return [dict(row) for row in reader]
        if name in ("text", "plain"):
            return text
        if name == "html":
            return {"tables": _html_tables(text)}
        if name in ("markdown", "md"):
            return _markdown(text)
    except (ValueError, ElementTree.ParseError, yaml.YAMLError, csv.Error) as exc:
        raise FormatError(f"upstream body is not valid {name}: {exc}") from None
    raise UnsupportedFormat(f'Unsupported "{fmt}" format specified')


def _xml(text: str) -> Any:
    root = ElementTree.fromstring(text)
    return _element(root)


def _element(element: ElementTree.Element) -> Any:
    children = list(element)
    if not children and not element.attrib:
        return (element.text or "").strip()
    result: dict[str, Any] = {_local(k): v for k, v in element.attrib.items()}
    for child in children:
        key, value = _local(child.tag), _element(child)
        if key in result:
            existing = result[key]
            result[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[key] = value
    text = (element.text or "").strip()
    if text:
        result[""] = text
    return result


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[tuple[str, str]]]] = []
        self.row: list[tuple[str, str]] | None = None
        self.cell: list[str] | None = None
        self.cell_tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell, self.cell_tag = [], tag

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append((self.cell_tag, " ".join("".join(self.cell).split())))
            self.cell = None
        elif tag == "tr" and self.row is not None and self.tables:
            self.tables[-1].append(self.row)
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _html_tables(text: str) -> list[list[dict[str, str]]]:
    parser = _TableParser()
    parser.feed(text)
    tables = []
    for rows in parser.tables:
        headers: list[str] = []
        records = []
        for row in rows:
            if any(tag == "th" for tag, _ in row):
                headers = [cell for _, cell in row]
                continue
            records.append(
                {
                    headers[i] if i < len(headers) else str(i): cell
                    for i, (_, cell) in enumerate(row)
                }
            )
        tables.append(records)
    return tables


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _markdown(text: str) -> dict[str, Any]:
    front: dict[str, Any] = {}
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            loaded = yaml.safe_load(text[4:end])
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
