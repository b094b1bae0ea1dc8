"""`capgen migrate` over the whole shared corpus (211 alpha2 specs), one test per spec:

- `build(migrate(spec, beta5))` is the package `build(spec)` is, and so is
  `build(migrate(migrate(spec, beta5), alpha2))` (compared as rendered, see roundtrip.py);
- the beta5 document breaks its schema nowhere its source did not already break alpha2's
  (the corpus is third-party text: 208 of its 211 files break the alpha2 schema, and migration
  carries what capgen reads, such as `type` on consumed inputs, rather than dropping it);
- a spec migration refuses is refused for a reason the oracle finds in the text itself: a
  list holding two entries of one name, which a map keyed by name cannot.

The corpus is the byte-for-byte copy in tests/data/shared-corpus, or `CAPGEN_FULL_CORPUS`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.migrate import migrate, write
from generator.spec import eras
from tests.conftest import ROOT
from tests.eras.roundtrip import carried, package, violations

CORPUS = Path(os.environ.get("CAPGEN_FULL_CORPUS", ROOT / "tests" / "data" / "shared-corpus"))
SPECS = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_the_whole_corpus_is_there() -> None:
    assert len(SPECS) >= 211, f"the shared corpus is not at {CORPUS} (set CAPGEN_FULL_CORPUS)"


def _imports(spec: Path) -> list[Path]:
    """The files a spec imports consumes from (relative `location` or `from`)."""
    data = yaml.load(spec.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    cap = data.get("capability") if isinstance(data, dict) else None
    entries = (cap or {}).get("consumes") or [] if isinstance(cap, dict) else []
    found = []
    for entry in entries:
        source = entry.get("location") or entry.get("from") if isinstance(entry, dict) else None
        if isinstance(source, str) and not source.startswith(("/", "file:")):
            found.append(spec.parent / source)
    return [p for p in found if p.is_file()]


def _mirror(spec: Path, base: Path, into: Path, target: eras.Era) -> Any:
    """The spec (and what it imports) migrated under `into`, at their paths below `base`."""
    for shared in _imports(spec):
        result = migrate(shared, target)
        assert result.text is not None, [d.render() for d in result.diagnostics]
        write(into / shared.resolve().relative_to(base.resolve()), result.text)
    result = migrate(spec, target)
    if result.text is not None:
        write(into / spec.relative_to(base), result.text)
    return result


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_migration_builds_the_same_package(spec: Path, tmp_path: Path) -> None:
    relative = spec.relative_to(CORPUS)
    beta5 = _mirror(spec, CORPUS, tmp_path / "beta5", eras.BETA5)
    if beta5.text is None:
        _assert_refused_for_a_duplicate_name(spec, beta5.diagnostics)
        return
    back = _mirror(
        tmp_path / "beta5" / relative, tmp_path / "beta5", tmp_path / "alpha2", eras.ALPHA2
    )
    assert back.text is not None, [d.render() for d in back.diagnostics]
    built = package(spec)
    assert package(tmp_path / "beta5" / relative) == built
    assert package(tmp_path / "alpha2" / relative) == built
    assert yaml.safe_load(beta5.text)["ikanos"] == "1.0.0-beta5"
    added = carried(violations(tmp_path / "beta5" / relative), violations(spec))
    assert not added, f"the beta5 document breaks its schema where its source did not: {added}"


_LINE = re.compile(r":(\d+):\d+: error\[E072\]: a second (.+) named '([^']+)'")


def _assert_refused_for_a_duplicate_name(spec: Path, diagnostics: Any) -> None:
    """The oracle reads the YAML node tree itself: the reported line starts an entry of a list
    in which an earlier entry has the same `name`."""
    errors = [d.render() for d in diagnostics if d.severity == "error"]
    assert errors and all(_LINE.search(e) for e in errors), errors
    root = yaml.compose(spec.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    for error in errors:
        found = _LINE.search(error)
        assert found is not None
        line, name = int(found.group(1)), found.group(3)
        assert any(
            _names(seq)[:i].count(name) and _names(seq)[i] == name
            for seq in _sequences(root)
            for i, item in enumerate(seq.value)
            if item.start_mark.line + 1 == line
        ), error


def _sequences(node: Any) -> list[Any]:
    found = [node] if isinstance(node, yaml.SequenceNode) else []
    children = node.value if isinstance(node, yaml.SequenceNode) else []
    if isinstance(node, yaml.MappingNode):
        children = [value for _, value in node.value]
    for child in children:
        found.extend(_sequences(child))
    return found


def _names(seq: Any) -> list[str | None]:
    return [
        (
            next((v.value for k, v in item.value if k.value == "name"), None)
            if isinstance(item, yaml.MappingNode)
            else None
        )
        for item in seq.value
    ]
