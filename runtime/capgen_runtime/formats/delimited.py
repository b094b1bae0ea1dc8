"""Delimited rows with a header line: CSV, TSV and PSV, each row an object."""

from __future__ import annotations

import csv
import io
from typing import Any, Final, Literal

from .bounds import TooLarge, budget
from .scheme import Decode, Format


def _rows(separator: str) -> Decode:
    def decode(text: str, selector: str | None) -> Any:
        return rows(text, separator)

    return decode


def rows(text: str, delimiter: str) -> list[dict[str, Any]]:
    """The records of a delimited text, within the budget of its size (bounds.py); a short row
    is filled out to the header's width."""
    left = budget(len(text))
    found = []
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    for row in reader:
        left -= max(len(reader.fieldnames or ()), len(row)) + 1
        if left < 0:
            raise TooLarge("the table expands past its size budget")
        found.append(dict(row))
    return found


_ERRORS = (ValueError, csv.Error)
CSV: Final[Format[Literal["csv"]]] = Format("csv", _rows(","), errors=_ERRORS)
TSV: Final[Format[Literal["tsv"]]] = Format("tsv", _rows("\t"), errors=_ERRORS)
PSV: Final[Format[Literal["psv"]]] = Format("psv", _rows("|"), errors=_ERRORS)
