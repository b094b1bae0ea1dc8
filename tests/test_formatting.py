"""capgen writes black's layout with ruff's formatter; black itself is the judge.

Every spec of the shared corpus (a byte-for-byte copy under tests/data/shared-corpus) is
generated with the default formatter, and every Python file of every package is handed to
black 26.10.1, which must leave it byte for byte as it is. The corpus is split into shards so
the suite's workers share the work.
"""

from __future__ import annotations

from pathlib import Path

import black
import pytest
from black.mode import Mode, TargetVersion

from generator import pipeline
from tests.conftest import ROOT, SEED_SPEC

CORPUS = ROOT / "tests" / "data" / "shared-corpus"
SHARDS = 6
MODE = Mode(target_versions={TargetVersion.PY311}, line_length=100)


def _specs() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_the_copy_holds_the_whole_shared_corpus() -> None:
    specs = _specs()
    assert len([p for p in specs if "cloudflare" in p.parts]) == 72
    assert len(specs) >= 211


@pytest.mark.parametrize("shard", range(SHARDS))
def test_black_leaves_every_generated_file_as_it_is(shard: int) -> None:
    checked = 0
    for spec in _specs()[shard::SHARDS]:
        result = pipeline.generate(spec, pipeline.Options(formatter="ruff"))
        for path, content in result.files.items():
            if not path.endswith(".py"):
                continue
            text = content.decode()
            assert black.format_str(text, mode=MODE) == text, f"{spec.name}: {path}"
            checked += 1
    assert checked > 100  # every shard holds packages, not only files that fail to build


def test_both_formatters_write_the_same_bytes() -> None:
    made = {
        formatter: pipeline.generate(SEED_SPEC, pipeline.Options(formatter=formatter)).files
        for formatter in ("ruff", "black")
    }
    python = sorted(path for path in made["ruff"] if path.endswith(".py"))
    assert python
    assert [made["ruff"][p] for p in python] == [made["black"][p] for p in python]
