"""Where diagnostics point after a document is read into the alpha2 shape: every node keeps the
line and column it was written at, whether the whole document kept its paths (an alpha2 spec:
its places are copied whole) or a node late in it moved (an ikanos spelling, a map for a list:
every node placed one by one). The expected places are found in the text itself."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from generator.diagnostics import Diagnostics
from generator.loader import Pointer, load_document
from generator.spec.eras import detect
from generator.spec.imports import normalise_document

# the spec as YAML writes it; its text is what the places are checked against
SPEC = yaml.safe_dump(
    {
        "naftiko": "1.0.0-alpha2",
        "info": {"label": "Places"},
        "capability": {
            "consumes": [
                {
                    "type": "http",
                    "namespace": "api",
                    "baseUri": "https://api.example.com",
                    "resources": [
                        {
                            "name": "items",
                            "path": "/items",
                            "operations": [
                                {
                                    "name": "list-items",
                                    "method": "GET",
                                    "outputParameters": [
                                        {"name": "first", "mapping": "$.items[0].name"}
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
            "exposes": [
                {
                    "type": "mcp",
                    "namespace": "tools",
                    "port": 3000,
                    "tools": [
                        {
                            "name": "list",
                            "LATE": "Lists the items",
                            "call": "api.list-items",
                            "with": {"limit": 10},
                        }
                    ],
                }
            ],
        },
    },
    sort_keys=False,
)

OPERATION: Pointer = ("capability", "consumes", 0, "resources", 0, "operations", 0)
MAPPING: Pointer = (*OPERATION, "outputParameters", 0, "mapping")
TOOL: Pointer = ("capability", "exposes", 0, "tools", 0)


def _place(text: str, needle: str) -> tuple[int, int]:
    """The line and column of the value written after `needle` (the oracle: the text)."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number, line.index(needle) + len(needle) + 1
    raise AssertionError(needle)


@pytest.mark.parametrize("late", ["description", "display"])
def test_every_node_keeps_its_place(tmp_path: Path, late: str) -> None:
    text = SPEC.replace("LATE", late)
    spec = tmp_path / "places.yaml"
    spec.write_text(text)
    diagnostics = Diagnostics()
    document = load_document(spec, diagnostics, display_name="places.yaml")
    assert document is not None
    era = detect(document.data)
    assert era is not None
    normalised = normalise_document(document, era, diagnostics).document
    locations = normalised.locations
    assert locations.span(MAPPING)[1:] == _place(text, "mapping: ")
    assert locations.span((*OPERATION, "method"))[1:] == _place(text, "method: ")
    assert locations.span((*TOOL, "with", "limit"))[1:] == _place(text, "limit: ")
    assert locations.span((*TOOL, "call"))[1:] == _place(text, "call: ")
    key = "label" if late == "display" else "description"  # `display` is read as `label`
    assert normalised.data["capability"]["exposes"][0]["tools"][0][key] == "Lists the items"
    assert locations.span((*TOOL, key))[1:] == _place(text, f"{late}: ")
    assert locations.describe((*TOOL, key)) == f"`capability.exposes[0].tools[0].{late}`"
    warned = [d for d in diagnostics.items if d.code == "W142"]
    if late == "display":
        (warning,) = warned
        line, column = _place(text, "display: ")
        assert (warning.span.line, warning.span.col) == (line, column - len("display: "))
    else:
        assert warned == []


def test_a_value_marshal_cannot_write_is_copied_node_by_node(tmp_path: Path) -> None:
    """What the loader builds marshal can always copy; a document built otherwise (a value of
    another type under a plain node) is copied by the walk instead, equal and not shared."""
    spec = tmp_path / "places.yaml"
    spec.write_text(SPEC.replace("LATE", "description"))
    diagnostics = Diagnostics()
    document = load_document(spec, diagnostics, display_name="places.yaml")
    assert document is not None
    era = detect(document.data)
    assert era is not None
    tool = document.data["capability"]["exposes"][0]["tools"][0]
    when = datetime.date(2026, 12, 3)
    tool["with"] = {"limit": 10, "since": [when]}
    normalised = normalise_document(document, era, diagnostics).document
    copied = normalised.data["capability"]["exposes"][0]["tools"][0]["with"]
    assert copied == {"limit": 10, "since": [when]}
    assert copied is not tool["with"] and copied["since"] is not tool["with"]["since"]
