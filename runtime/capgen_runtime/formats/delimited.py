"""Delimited rows with a header line: CSV, TSV and PSV, each row an object."""

from __future__ import annotations

import csv
import io
from typing import Any, Final, Literal

from .scheme import Decode, Format


def _rows(separator: str) -> Decode:
    def decode(text: str, selector: str | None) -> Any:
        return [dict(row) for row in csv.DictReader(io.StringIO(text), delimiter=separator)]

    return decode


_ERRORS = (ValueError, csv.Error)
CSV: Final[Format[Literal["csv"]]] = Format("csv", _rows(","), errors=_ERRORS)
TSV: Final[Format[Literal["tsv"]]] = Format("tsv", _rows("\t"), errors=_ERRORS)
PSV: Final[Format[Literal["psv"]]] = Format("psv", _rows("|"), errors=_ERRORS)
