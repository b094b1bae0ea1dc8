"""Specs people break by hand: a mutated real spec gives diagnostics or code, never a crash.

Each case takes a spec of the CI corpus sample, applies a few seeded random edits (a key
removed, a value of the wrong type, an unknown key, an odd string) and runs the pipeline up to
rendering. Whatever the edit, capgen either renders the package or reports errors located in
the file, `file:line:col: error[CODE]: message`; every file it renders parses as its format
(Python, YAML, TOML, Markdown and its shell commands, Dockerfile: tests/security/emitted.py).
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import pipeline
from generator.render import render
from generator.targets.package import plan
from tests.security.emitted import check_file
from tests.security.spec_mutants import paths as _paths

SAMPLE = Path(__file__).parent / "data" / "corpus"
ODD_VALUES: list[Any] = [
    None, 0, -1, 2.5, True, "", "x", [], {}, ["a"], {"a": 1},
    "{{env.MISSING}}", "{unclosed", "$.", "../../etc", "a b", "{{", "é✓",
]  # fmt: skip
CASES = 120
LOCATED = re.compile(r"^[^:\n]+:\d+:\d+: (error|warning)\[[A-Z]\d{3}\]: .+")


def _mutate(document: Any, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(document)[1:])
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        roll = rng.random()
        if roll < 0.3:
            del parent[key]
        elif roll < 0.45 and isinstance(parent, dict):
            parent[str(rng.choice(ODD_VALUES))] = rng.choice(ODD_VALUES)
        else:
            parent[key] = rng.choice(ODD_VALUES)


def _capability_specs() -> list[Path]:
    """The sample's capability specs (shared consumes files are reached through them)."""
    return [p for p in sorted(SAMPLE.rglob("*.yaml")) if "\ncapability:" in p.read_text("utf-8")]


SPECS = _capability_specs()


def _case(index: int, tmp_path: Path) -> Path:
    rng = random.Random(index)
    source = rng.choice(SPECS)
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    _mutate(document, rng)
    target = tmp_path / source.name
    target.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return target


@pytest.mark.parametrize("index", range(CASES))
def test_mutated_spec_gives_code_or_located_errors(index: int, tmp_path: Path) -> None:
    spec = _case(index, tmp_path)
    result = pipeline.validate(spec)
    for diagnostic in result.diagnostics:
        assert LOCATED.match(diagnostic.render()), diagnostic.render()
    if result.package is None:
        assert result.diagnostics.has_errors
        return
    problems = [check_file(file.path, render(file)) for file in plan(result.package)]
    assert [p for p in problems if p is not None] == []
