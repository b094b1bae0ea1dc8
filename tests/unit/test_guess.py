"""Did-you-mean: a typo is one edit (two for long names) from exactly one declared name."""

from __future__ import annotations

import pytest

from generator.guess import closest, did_you_mean, typo_of


@pytest.mark.parametrize(
    "written,declared,expected",
    [
        ("methd", ["method", "path", "name"], "method"),
        ("inputParamters", ["inputParameters", "outputParameters"], "inputParameters"),
        ("get-bread", ["get-breed", "vote"], "get-breed"),
        ("InputParameters", ["inputParameters"], "inputParameters"),  # the case is a typo too
        ("mehtod", ["method"], "method"),  # two letters swapped: one edit
        ("related", ["created"], None),  # two edits in a short name: another word
        ("personas", ["version", "label"], None),
        ("slack-pins", ["slack-chat"], None),
        ("method", ["method"], None),  # not a typo: the name itself
        ("lst", ["list", "last"], None),  # ambiguous: no guess taken for a typo
    ],
)
def test_typo_of(written: str, declared: list[str], expected: str | None) -> None:
    assert typo_of(written, declared) == expected


def test_closest_keeps_the_declared_spelling_and_is_deterministic() -> None:
    assert closest("fetch", ["GET", "PATCH", "POST"]) == "PATCH"
    assert did_you_mean("que", ["path", "query"]) == "; did you mean 'query'?"
    assert did_you_mean("zzz", ["path", "query"]) == ""
