"""HTML: the tables a CSS selector chooses (tags, `.class`, `#id` and descendants), each a
list of rows keyed by the header cells."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any, Final, Literal

from .scheme import Format, FormatError

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


def _decode(text: str, selector: str | None) -> Any:
    return {"tables": _html_tables(text, selector)}


FORMAT: Final[Format[Literal["html"]]] = Format("html", _decode)
