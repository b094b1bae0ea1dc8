"""`capgen migrate`: what it keeps (comments, key order, quoting), the keys it gives unnamed
entries, and the located errors for what the target era cannot hold, with nothing written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from generator.cli import cli
from generator.migrate import migrate
from generator.spec import eras
from tests.eras.roundtrip import package

SPECS = Path(__file__).parent / "specs"

ALPHA2 = """\
# The shipyard capability (kept through the migration).
naftiko: "1.0.0-alpha2"   # the era
info:
  label: 'Shipyard'
  description: Ships and their voyages.
capability:
  consumes:
  - type: http
    namespace: yard
    baseUri: https://yard.example.com
    resources:
    # every ship
    - name: ships
      path: /ships/{{id}}
      operations:
      - name: get-ship   # one ship
        method: GET
        inputParameters:
        - name: id
          in: path
  exposes:
  - type: rest
    namespace: yard-rest
    port: 8085
    resources:
    - path: /ships/{id}
      operations:
      - method: GET
        call: yard.get-ship
        with:
          id: rest.id
    - name: ships
      path: /fleet/{id}
      operations:
      - method: GET
        call: yard.get-ship
    - name: ships
      path: /boats/{id}
      operations:
      - method: GET
        call: yard.get-ship
"""


def _write(tmp_path: Path, text: str, name: str = "shipyard.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_comments_key_order_and_quoting_are_kept(tmp_path: Path) -> None:
    result = migrate(_write(tmp_path, ALPHA2), eras.BETA5)
    assert result.text is not None, [d.render() for d in result.diagnostics]
    text = result.text
    for comment in ("# The shipyard capability", "# the era", "# every ship", "# one ship"):
        assert comment in text
    assert 'ikanos: "1.0.0-beta5"' in text
    assert "display: 'Shipyard'" in text
    data = yaml.safe_load(text)
    operation = data["capability"]["consumes"][0]["resources"]["ships"]["operations"]["get-ship"]
    assert list(operation) == ["method", "inputParameters"]
    assert operation["inputParameters"] == {"id": {"in": "path"}}


def test_unnamed_and_repeated_rest_entries_get_keys_and_the_same_package(tmp_path: Path) -> None:
    source = _write(tmp_path, ALPHA2)
    result = migrate(source, eras.BETA5)
    assert result.text is not None
    resources = yaml.safe_load(result.text)["capability"]["exposes"][0]["resources"]
    # keys from the path, from method and path, and a suffix for the second `ships`
    assert list(resources) == ["ships-id", "ships", "ships-2"]
    assert list(resources["ships-id"]["operations"]) == ["get-ships-id"]
    assert resources["ships-2"]["tags"] == ["ships"]  # its routes keep their OpenAPI tag
    notes = [d.message for d in result.diagnostics if d.severity == "note"]
    assert any("'ships-id'" in n for n in notes) and any("'ships-2'" in n for n in notes)
    (tmp_path / "beta5").mkdir()
    (tmp_path / "alpha2").mkdir()
    migrated = _write(tmp_path / "beta5", result.text)
    assert package(migrated) == package(source)
    back = migrate(migrated, eras.ALPHA2)
    assert back.text is not None
    assert package(_write(tmp_path / "alpha2", back.text)) == package(source)


def _lines_with(path: Path, pattern: str) -> set[int]:
    return {
        i
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(rf"\s*{pattern}:", line)
    }


def test_what_alpha2_cannot_hold_is_a_located_error_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "binary.yaml"
    shutil.copy(SPECS / "binary.yaml", spec)
    before = spec.read_text()
    run = CliRunner().invoke(cli, ["migrate", str(spec), "--to", "naftiko-1.0.0-alpha2"])
    assert run.exit_code == 1
    assert spec.read_text() == before
    reported = {
        int(m.group(1)) for m in re.finditer(r"binary\.yaml:(\d+):\d+: error\[E072\]", run.stderr)
    }
    expected = set().union(
        *(
            _lines_with(spec, key)
            for key in (
                "maxBinarySize",
                "outputMediaType",
                "responses",
                "responseBinary",
                "binary",
            )
        )
    )
    assert reported == expected - _inside(spec, "responses")  # responses: refused as a whole


def _inside(path: Path, key: str) -> set[int]:
    """The lines of the blocks under `key:` (deeper than it)."""
    lines = path.read_text().splitlines()
    found: set[int] = set()
    for start in _lines_with(path, key):
        depth = len(lines[start - 1]) - len(lines[start - 1].lstrip())
        for number in range(start + 1, len(lines) + 1):
            text = lines[number - 1]
            if text.strip() and len(text) - len(text.lstrip()) <= depth:
                break
            found.add(number)
    return found


def test_imports_alpha2_cannot_hold_are_refused_and_consumes_imports_kept(
    tmp_path: Path,
) -> None:
    shutil.copytree(SPECS / "imports", tmp_path / "imports")
    spec = tmp_path / "imports" / "capability.yaml"
    result = migrate(spec, eras.ALPHA2)
    errors = [d for d in result.diagnostics if d.code == "E072"]
    assert sorted(d.span.line for d in errors) == sorted(
        _lines_with(spec, "  - from") - {_first_line(spec, "./shared/weather.consumes.yml")}
    )
    standalone = migrate(tmp_path / "imports" / "shared" / "weather.consumes.yml", eras.ALPHA2)
    assert standalone.text is not None and "naftiko: 1.0.0-alpha2" in standalone.text


def _first_line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_migrate_writes_in_place_or_into_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    _write(folder, ALPHA2)
    out = tmp_path / "out"
    run = CliRunner().invoke(
        cli, ["migrate", str(folder), "--to", "ikanos-1.0.0-beta5", "-o", str(out)]
    )
    assert run.exit_code == 0, run.stderr
    assert (folder / "shipyard.yaml").read_text() == ALPHA2
    assert "ikanos" in yaml.safe_load((out / "shipyard.yaml").read_text())
    run = CliRunner().invoke(
        cli, ["migrate", str(folder / "shipyard.yaml"), "--to", "ikanos-1.0.0-beta5"]
    )
    assert run.exit_code == 0, run.stderr
    assert (folder / "shipyard.yaml").read_text() == (out / "shipyard.yaml").read_text()


def test_capability_binds_alpha2_ignores_are_not_silently_made_live(tmp_path: Path) -> None:
    text = ALPHA2.replace(
        "capability:\n", "capability:\n  binds:\n  - namespace: env\n    keys: {A: B}\n", 1
    )
    result = migrate(_write(tmp_path, text), eras.BETA5)
    assert result.text is None
    assert [d.span.line for d in result.diagnostics if d.code == "E072"] == [
        _first_line(tmp_path / "shipyard.yaml", "binds:")
    ]


def test_a_yaml_file_that_says_no_era_is_left_alone(tmp_path: Path) -> None:
    other = _write(tmp_path, "services:\n  web:\n    image: nginx\n", "compose.yaml")
    result = migrate(other, eras.BETA5)
    assert result.text is None
    assert [d.code for d in result.diagnostics if d.severity == "error"] == ["E011"]
