"""Committed generated code is current, and generation is deterministic."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator import pipeline
from generator.incremental import STAMP
from generator.writer import MANIFEST
from tests.conftest import ROOT, SEED_PROJECT, SEED_SPEC

REGEN = "nox -s regen   (or: capgen build specs/ -o generated/)"


def test_committed_seed_package_is_current() -> None:
    result, diff = pipeline.check(SEED_SPEC, SEED_PROJECT.parent)
    assert result.ok
    assert not diff, "generated/ is stale; run " + REGEN + "\n" + "".join(diff[:200])


def test_every_committed_package_has_a_spec() -> None:
    specs = {pipeline.validate(p).folder for p in sorted((ROOT / "specs").glob("*.y*ml"))}
    folders = {p.name for p in (ROOT / "generated").iterdir() if (p / MANIFEST).exists()}
    assert folders == specs


def test_generation_is_repeatable_in_process() -> None:
    first = pipeline.generate(SEED_SPEC).files
    second = pipeline.generate(SEED_SPEC).files
    assert first == second


@pytest.mark.parametrize("seeds", [("0", "12345")])
def test_output_does_not_depend_on_the_hash_seed(tmp_path: Path, seeds: tuple[str, str]) -> None:
    outputs = []
    for seed in seeds:
        out = tmp_path / f"seed-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "CAPGEN_NO_CACHE": "1"}
        command = [sys.executable, "-m", "generator", "build", str(SEED_SPEC), "-o", str(out)]
        subprocess.run(command, check=True, env=env, cwd=tmp_path, capture_output=True)
        outputs.append(out / SEED_PROJECT.name)
    comparison = filecmp.dircmp(*outputs)
    assert _identical(comparison), "outputs differ between hash seeds"
    assert filecmp.cmp(outputs[0] / MANIFEST, SEED_PROJECT / MANIFEST, shallow=False)


def test_caches_change_nothing(tmp_path: Path) -> None:
    """Formatted sources and compiled templates come from the cache on the second build (the
    whole package, in fact: generator/incremental.py); the files are the committed ones either
    way."""
    cache = tmp_path / "cache"
    env = {**os.environ, "CAPGEN_CACHE_DIR": str(cache)}
    env.pop("CAPGEN_NO_CACHE", None)
    for run in ("cold", "warm"):
        out = tmp_path / run
        command = [sys.executable, "-m", "generator", "build", str(SEED_SPEC), "-o", str(out)]
        subprocess.run(command, check=True, env=env, cwd=tmp_path, capture_output=True)
        ignored = [*filecmp.DEFAULT_IGNORES, STAMP]  # how it was built, not what
        assert _identical(filecmp.dircmp(out / SEED_PROJECT.name, SEED_PROJECT, ignored)), run
        assert any((cache / "capgen" / "ruff").rglob("*"))
        assert any((cache / "capgen" / "jinja").iterdir())


def _identical(comparison: filecmp.dircmp[str]) -> bool:
    if (
        comparison.left_only
        or comparison.right_only
        or comparison.diff_files
        or comparison.funny_files
    ):
        return False
    return all(_identical(sub) for sub in comparison.subdirs.values())
