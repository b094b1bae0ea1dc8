"""Documentation that is derived from code stays in step with it."""

from __future__ import annotations

from generator.diagnostics import codes_table
from tests.conftest import ROOT


def test_diagnostic_codes_table_is_current() -> None:
    text = (ROOT / "docs" / "diagnostics.md").read_text()
    assert (
        codes_table() in text
    ), "regenerate docs/diagnostics.md from generator.diagnostics.codes_table()"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/python -m pytest -n auto -q" in readme
    assert ".venv/bin/python -m pytest -n auto -q" in ci
