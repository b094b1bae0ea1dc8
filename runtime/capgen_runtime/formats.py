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

from .bounds import TooLarge, budget, check_xml, load_yaml


class FormatError(ValueError):
    """The body does not parse in the declared format."""


class UnsupportedFormat(FormatError):
    """The spec declares a format capgen cannot decode (a spec problem, not the upstream's)."""


_SEPARATORS = {"csv": ",", "tsv": "\t", "psv": "|"}
PASSTHROUGH = frozenset({"binary", "octet-stream"})


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type value, lower case (`""` when there is none)."""
    return (content_type or "").split(";")[0].strip().lower()


def decode(content: bytes, fmt: str | None, selector: str | None = None) -> Any:
    """Decode `content`; an empty body gives None. For HTML, `selector` (a CSS selector: tags,
    `.class`, `#id`, and descendants) chooses the tables that are read."""
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
            return load_yaml(text)
        if name in _SEPARATORS:
            return _rows(text, _SEPARATORS[name])
        if name in ("text", "plain"):
            return text
        if name == "html":
            return {"tables": _html_tables(text, selector)}
        if name in ("markdown", "md"):
            return _markdown(text)
    except (ValueError, ElementTree.ParseError, yaml.YAMLError, csv.Error) as exc:
        raise FormatError(f"upstream body is not valid {name}: {exc}") from None
    except RecursionError:
        raise FormatError(f"upstream body nests too deeply to read as {name}") from None
    raise UnsupportedFormat(f'Unsupported "{fmt}" format specified')


def _xml(text: str) -> Any:
    check_xml(text)
    root = ElementTree.fromstring(text)
    return _element(root)


def _rows(text: str, delimiter: str) -> list[dict[str, Any]]:
    """The records of a CSV text, within the budget of its size (a short row is filled out
    to the header's width)."""
    left = budget(len(text))
    rows = []
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    for row in reader:
        left -= max(len(reader.fieldnames or ()), len(row)) + 1
        if left < 0:
            raise TooLarge("the table expands past its size budget")
        rows.append(dict(row))
    return rows


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


# (tag, id, classes) of an element; a compound selector is the same, any part may be empty
_Element = tuple[str, str, frozenset[str]]
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)


def _compound(text: str) -> _Element:
    found = re.fullmatch(r"([a-zA-Z][\w-]*|\*)?((?:[.#][\w-]+)*)", text)
    if found is None:
        raise FormatError(f"unsupported CSS selector part {text!r}")
    parts = re.findall(r"([.#])([\w-]+)", found.group(2))
    ids = [name for kind, name in parts if kind == "#"]
    tag = (found.group(1) or "").lower()
    return (
        "" if tag == "*" else tag,
        ids[0] if ids else "",
        frozenset(n for k, n in parts if k == "."),
    )


def check_selector(selector: str) -> None:
    """Raises FormatError for a selector this reader does not understand."""
    for part in selector.split():
        _compound(part)


def _fits(element: _Element, wanted: _Element) -> bool:
    return (
        (not wanted[0] or element[0] == wanted[0])
        and (not wanted[1] or element[1] == wanted[1])
        and wanted[2] <= element[2]
    )


def _selected(path: list[_Element], selector: list[_Element]) -> bool:
    """Descendant combinators: the last compound is the element, the others its ancestors."""
    if not selector or not _fits(path[-1], selector[-1]):
        return not selector
    wanted = len(selector) - 2
    for element in reversed(path[:-1]):
        if wanted < 0:
            break
        if _fits(element, selector[wanted]):
            wanted -= 1
    return wanted < 0


class _TableParser(HTMLParser):
    def __init__(self, selector: str | None = None) -> None:
        super().__init__()
        self.selector = [_compound(part) for part in (selector or "").split()]
        self.tables: list[list[list[tuple[str, str]]]] = []
        self.open: list[_Element] = []  # the elements we are inside
        self.reading: list[bool] = []  # per open table: is it one the selector chose
        self.row: list[tuple[str, str]] | None = None
        self.cell: list[str] | None = None
        self.cell_tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        element = (tag, given.get("id") or "", frozenset((given.get("class") or "").split()))
        if tag not in _VOID:
            self.open.append(element)
        if tag == "table":
            chosen = _selected(self.open, self.selector)
            self.reading.append(chosen)
            if chosen:
                self.tables.append([])
        elif tag == "tr" and self.reading and self.reading[-1]:
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
        elif tag == "table" and self.reading:
            self.reading.pop()
        if any(open_tag == tag for open_tag, _, _ in self.open):  # close up to it (HTML is lax)
            while self.open and self.open.pop()[0] != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _html_tables(text: str, selector: str | None = None) -> list[list[dict[str, str]]]:
    parser = _TableParser(selector)
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
