"""Documentation that is derived from code stays in step with it."""

from __future__ import annotations

from generator.diagnostics import codes_table
from tests.conftest import ROOT


def test_diagnostic_codes_table_is_current(update_goldens: bool) -> None:
    path = ROOT / "docs" / "diagnostics.md"
    text = path.read_text()
    expected = text[: text.index("| code |")] + codes_table() + "\n"
    if update_goldens:
        path.write_text(expected)
    assert path.read_text() == expected, "run: pytest tests/test_docs.py --update-goldens"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/python -m pytest -n auto -q" in readme
    assert ".venv/bin/python -m pytest -n auto -q" in ci
