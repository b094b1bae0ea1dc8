"""Spec in, files out: each case's generated files equal its committed `expected/` tree.

Packages import capgen_runtime, so the goldens hold only spec-derived files. Update them with
`pytest --update-goldens`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator import pipeline

CASES = Path(__file__).parent / "snapshots" / "cases"


def _golden_files(result: pipeline.Result) -> dict[str, bytes]:
    return dict(result.files)


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_snapshot(case: str, update_goldens: bool) -> None:
    folder = CASES / case
    result = pipeline.generate(
        folder / "spec.yaml", pipeline.Options(module=case.replace("-", "_"))
    )
    assert result.ok, [d.render() for d in result.diagnostics]
    files = _golden_files(result)
    expected_dir = folder / "expected"
    if update_goldens:
        shutil.rmtree(expected_dir, ignore_errors=True)
        for path, data in files.items():
            (expected_dir / path).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / path).write_bytes(data)
    expected = {
        p.relative_to(expected_dir).as_posix(): p.read_bytes()
        for p in expected_dir.rglob("*")
        if p.is_file()
    }
    assert sorted(files) == sorted(expected), "file set differs; run pytest --update-goldens"
    for path, data in files.items():
        assert (
            data.decode() == expected[path].decode()
        ), f"{case}/{path} differs; run pytest --update-goldens"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_snapshot_packages_import(case: str, tmp_path: Path) -> None:
    module = case.replace("-", "_")
    result, written = pipeline.build(
        CASES / case / "spec.yaml", tmp_path, pipeline.Options(module=module)
    )
    assert written is not None, [d.render() for d in result.diagnostics]
    imports = f"import {module}.rest, {module}.mcp_server, {module}.capability"
    subprocess.run(
        [sys.executable, "-c", imports], cwd=tmp_path / module, check=True, capture_output=True
    )
