"""Decoding upstream bodies by outputRawFormat (SEMANTICS §3.7, conformance cases 34, 36, 37)."""

from __future__ import annotations

import pytest
from capgen_runtime.formats import FormatError, decode


def test_xml_drops_the_root_and_repeats_become_arrays() -> None:
    xml = b"<vessels><vessel><vesselCode>V001</vesselCode><vesselName>Sea Eagle</vesselName></vessel><vessel><vesselCode>V002</vesselCode><vesselName>Harbor Star</vesselName></vessel></vessels>"
    assert decode(xml, "xml") == {
        "vessel": [
            {"vesselCode": "V001", "vesselName": "Sea Eagle"},
            {"vesselCode": "V002", "vesselName": "Harbor Star"},
        ]
    }
    assert decode(b"<root><name>Alice</name></root>", "XML") == {"name": "Alice"}


def test_yaml_csv_tsv_psv() -> None:
    assert decode(b"age: 42", "yaml") == {"age": 42}
    assert decode(b"name,age\nAlice,42\nBob,39", "csv") == [
        {"name": "Alice", "age": "42"},
        {"name": "Bob", "age": "39"},
    ]
    assert decode(b"name\tage\nAlice\t42", "tsv") == [{"name": "Alice", "age": "42"}]
    assert decode(b"name|age\nAlice|42", "psv") == [{"name": "Alice", "age": "42"}]


def test_html_and_markdown_tables() -> None:
    html = (
        b"<table><tr><th>Name</th><th>Price</th></tr><tr><td>Widget</td><td>$42</td></tr></table>"
    )
    assert decode(html, "html") == {"tables": [[{"Name": "Widget", "Price": "$42"}]]}
    md = b"---\ntitle: T\n---\n# Intro\nhello\n## Prices\n| Name | Price |\n|---|---|\n| Widget | $42 |\n"
    decoded = decode(md, "markdown")
    assert decoded["frontMatter"] == {"title": "T"}
    assert decoded["tables"] == [[{"Name": "Widget", "Price": "$42"}]]
    assert [s["heading"] for s in decoded["sections"]] == ["Intro", "Prices"]


def test_errors() -> None:
    with pytest.raises(FormatError, match='Unsupported "INI" format specified'):
        decode(b"a=1", "INI")
    with pytest.raises(FormatError):
        decode(b"<html>oops", "json")
    assert decode(b"", "json") is None
