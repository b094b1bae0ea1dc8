"""Broken specs give `file:line:col: error[CODE]: message`, exit 1, and never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli

CASES = Path(__file__).parent / "errors" / "cases"
ERROR_LINE = re.compile(r"^spec\.yaml:\d+:\d+: error\[[EW]\d{3}\]: \S")  # W: --warnings-as-errors


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
# Cases with an `args.txt` run with those options: a `call` to an undeclared target is only a
# warning (the operation answers 501) unless --strict.
def test_error_case(case: str, monkeypatch: pytest.MonkeyPatch, update_goldens: bool) -> None:
    folder = CASES / case
    monkeypatch.chdir(folder)
    args = (folder / "args.txt").read_text().split() if (folder / "args.txt").exists() else []
    result = CliRunner().invoke(cli, ["validate", *args, "spec.yaml"])
    output = result.stderr
    assert result.exit_code == 1, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if " error[" in line]
    assert errors and all(ERROR_LINE.match(line) for line in errors), output
    expected = folder / "expected.txt"
    if update_goldens:
        expected.write_text(output)
    assert output == expected.read_text(), "run pytest --update-goldens after an intended change"


def test_a_real_process_exits_1_without_traceback(tmp_path: Path) -> None:
    specs = [str(CASES / case / "spec.yaml") for case in sorted(p.name for p in CASES.iterdir())]
    command = [sys.executable, "-m", "generator", "build", "--strict", *specs, "-o", str(tmp_path)]
    process = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    reported = {line.split(":")[0] for line in process.stderr.splitlines() if " error[E" in line}
    assert len(reported) == len(specs)
    assert list(tmp_path.iterdir()) == []  # nothing half-written
