"""Incremental builds (generator/incremental.py), through real `capgen` processes.

The oracle is the full pipeline itself, run where no stamp or cache can help (a fresh folder,
`CAPGEN_NO_CACHE=1`): every build or check that may take a shortcut must print, exit and write
exactly what that one does, and every kind of staleness must still be found.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.incremental import STAMP
from tests.conftest import ROOT, SEED_SPEC

# A warning (W100, an unknown key) that the shortcut must print again as the pipeline did.
WARNING_SPEC = SEED_SPEC.read_text().replace("  tags:\n", "  personas: [x]\n  tags:\n")
SCRIPT = "import sys\nfrom generator.cli import main\nsys.argv[0] = 'capgen'\nmain()\n"


def capgen(
    *args: str,
    cwd: Path,
    cache: Path | None = None,
    root: Path = ROOT,
    env: dict[str, str] | None = None,
    script: str = SCRIPT,
    one_core: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`capgen` in a new process, run from `root`'s generator (a copied tree for some tests);
    `one_core` pins it to one CPU (where it forks no helper: generator/ahead.py)."""
    variables = {**os.environ, "PYTHONPATH": str(root), **(env or {})}
    variables.pop("CAPGEN_CACHE_DIR", None)
    variables.pop("CAPGEN_NO_CACHE", None)
    variables.update({"CAPGEN_CACHE_DIR": str(cache)} if cache else {"CAPGEN_NO_CACHE": "1"})
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_core else None
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=variables,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=pin,
    )


def tree(folder: Path) -> dict[str, bytes]:
    """Every file of a package but the stamp (which records how, not what, was built)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != STAMP and "__pycache__" not in p.parts
    }


def shortcut(*args: str, cwd: Path, cache: Path | None = None) -> bool:
    """Whether `capgen` answered without running the pipeline: none of its stages imported."""
    done = capgen(*args, cwd=cwd, cache=cache, env={"PYTHONPROFILEIMPORTTIME": "1"})
    stages = ("generator.loader", "generator.spec.parse", "generator.render", "pydantic")
    return not any(f"| {stage}\n" in done.stderr for stage in stages)


def outcome(done: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "warn.yaml").write_text(WARNING_SPEC)
    return tmp_path


def reference(work: Path, command: str, *args: str) -> subprocess.CompletedProcess[str]:
    """What the full pipeline answers: the same command on a copy without stamp or cache."""
    out = Path(args[args.index("-o") + 1])
    copy = work / f"reference-{command}"
    shutil.rmtree(copy, ignore_errors=True)
    if out.exists():
        shutil.copytree(out, copy, ignore=shutil.ignore_patterns(STAMP))
    given = [str(copy) if a == str(out) else a for a in args]
    done = capgen(command, *given, cwd=work)
    done.stdout = done.stdout.replace(str(copy), str(out))
    done.stderr = done.stderr.replace(str(copy), str(out))
    return done


def test_an_unchanged_build_and_check_answer_as_the_pipeline_does(work: Path) -> None:
    out = work / "out"
    first = capgen("build", "warn.yaml", "-o", str(out), cwd=work)
    assert first.returncode == 0 and "warning[W100]" in first.stderr
    package = out / "warn"
    assert (package / STAMP).is_file()
    files = tree(package)
    for command in ("build", "check"):
        expected = reference(work, command, "warn.yaml", "-o", str(out))
        assert outcome(capgen(command, "warn.yaml", "-o", str(out), cwd=work)) == outcome(expected)
    assert tree(package) == files
    for command in ("build", "check"):
        assert shortcut(command, "warn.yaml", "-o", str(out), cwd=work)
    strict = capgen("check", "warn.yaml", "-o", str(out), "--warnings-as-errors", cwd=work)
    assert strict.returncode == 1 and "error[W100]" in strict.stderr
    assert outcome(strict) == outcome(
        reference(work, "check", "warn.yaml", "-o", str(out), "--warnings-as-errors")
    )


def test_diagnostics_name_the_spec_as_each_run_does(work: Path) -> None:
    """The stamp of a build run beside the spec does not answer a run from elsewhere: the
    diagnostics there name the spec by another path."""
    out = work / "out"
    capgen("build", "warn.yaml", "-o", str(out), cwd=work)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    done = capgen("check", str(work / "warn.yaml"), "-o", str(out), cwd=elsewhere)
    assert done.returncode == 0
    assert f"{work / 'warn.yaml'}:6:3: warning[W100]" in done.stderr


def test_a_hand_edited_or_missing_file_is_stale(work: Path) -> None:
    out = work / "out"
    capgen("build", "warn.yaml", "-o", str(out), cwd=work)
    package = out / "warn"
    files = tree(package)
    settings = package / "warn" / "settings.py"
    settings.write_text(settings.read_text() + "# edited\n")
    done = capgen("check", "warn.yaml", "-o", str(out), cwd=work)
    assert done.returncode == 1 and "-# edited" in done.stdout
    assert outcome(done) == outcome(reference(work, "check", "warn.yaml", "-o", str(out)))
    (package / "README.md").unlink()
    assert capgen("check", "warn.yaml", "-o", str(out), cwd=work).returncode == 1
    assert capgen("build", "warn.yaml", "-o", str(out), cwd=work).returncode == 0
    assert tree(package) == files
    assert capgen("check", "warn.yaml", "-o", str(out), cwd=work).returncode == 0


def test_a_changed_spec_or_changed_options_are_stale(work: Path) -> None:
    out = work / "out"
    capgen("build", "warn.yaml", "-o", str(out), cwd=work)
    vendored = capgen("check", "warn.yaml", "-o", str(out), "--vendor-runtime", cwd=work)
    assert vendored.returncode == 1 and "_runtime/" in vendored.stdout
    spec = work / "warn.yaml"
    spec.write_text(spec.read_text().replace("Cloudflare Execute Ai Model", "Run a model"))
    done = capgen("check", "warn.yaml", "-o", str(out), cwd=work)
    assert done.returncode == 1 and "Run a model" in done.stdout
    assert outcome(done) == outcome(reference(work, "check", "warn.yaml", "-o", str(out)))


def test_a_changed_import_is_stale(tmp_path: Path) -> None:
    seed = yaml.safe_load(SEED_SPEC.read_text())
    consumed = seed["capability"]["consumes"][0]
    (tmp_path / "shared.yaml").write_text(yaml.safe_dump({"consumes": [consumed]}))
    name = consumed["namespace"]
    seed["capability"]["consumes"] = [{"location": "./shared.yaml", "import": name, "as": name}]
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(seed, sort_keys=False))
    out = tmp_path / "out"
    assert capgen("build", "spec.yaml", "-o", str(out), cwd=tmp_path).returncode == 0
    assert capgen("check", "spec.yaml", "-o", str(out), cwd=tmp_path).returncode == 0
    shared = tmp_path / "shared.yaml"
    shared.write_text(shared.read_text().replace("Cloudflare Execute Ai Model", "Run a model"))
    done = capgen("check", "spec.yaml", "-o", str(out), cwd=tmp_path)
    assert done.returncode == 1 and "Run a model" in done.stdout


def copied_capgen(tmp_path: Path, change: tuple[str, str, str]) -> Path:
    """A copy of capgen's sources with one text replaced in one file: another capgen."""
    root = tmp_path / "other-capgen"
    for part in ("generator", "templates"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    path, old, new = change
    text = (root / path).read_text()
    assert old in text
    (root / path).write_text(text.replace(old, new, 1))
    return root


def test_output_of_another_capgen_is_compared_byte_for_byte(work: Path, tmp_path: Path) -> None:
    """A package written by a capgen whose templates differ is stale, though its stamp and
    manifest agree with its files; one written by a capgen that differs without changing the
    output is current, and a build then only refreshes the stamp."""
    out = work / "out"
    changed = copied_capgen(tmp_path, ("templates/_header.jinja", "\n", "\n# another capgen\n"))
    assert capgen("build", "warn.yaml", "-o", str(out), cwd=work, root=changed).returncode == 0
    done = capgen("check", "warn.yaml", "-o", str(out), cwd=work)
    assert done.returncode == 1 and "-# another capgen" in done.stdout
    assert outcome(done) == outcome(reference(work, "check", "warn.yaml", "-o", str(out)))
    same = copied_capgen(tmp_path / "b", ("generator/cli.py", '"""', '"""Another capgen. '))
    shutil.rmtree(out)
    assert capgen("build", "warn.yaml", "-o", str(out), cwd=work, root=same).returncode == 0
    stamp = (out / "warn" / STAMP).read_bytes()
    assert capgen("check", "warn.yaml", "-o", str(out), cwd=work).returncode == 0
    rebuilt = capgen("build", "warn.yaml", "-o", str(out), cwd=work)
    assert rebuilt.returncode == 0 and (out / "warn" / STAMP).read_bytes() != stamp
    assert outcome(capgen("check", "warn.yaml", "-o", str(out), cwd=work))[0] == 0


def test_a_warm_cache_restores_the_same_package(work: Path) -> None:
    cache = work / "cache"
    cold = capgen("build", "warn.yaml", "-o", str(work / "a"), cwd=work, cache=cache)
    warm = capgen("build", "warn.yaml", "-o", str(work / "b"), cwd=work, cache=cache)
    assert outcome(warm) == outcome(cold)
    assert tree(work / "b" / "warn") == tree(work / "a" / "warn")
    assert shortcut("build", "warn.yaml", "-o", str(work / "d"), cwd=work, cache=cache)
    assert shortcut("check", "warn.yaml", "-o", str(work / "a"), cwd=work, cache=cache)
    assert (work / "b" / "warn" / STAMP).read_bytes() == (work / "a" / "warn" / STAMP).read_bytes()
    for entry in (cache / "capgen" / "packages").rglob("*"):
        if entry.is_file():  # a damaged entry is ignored, not trusted
            entry.write_bytes(entry.read_bytes()[:-10] + b"0123456789")
    damaged = capgen("build", "warn.yaml", "-o", str(work / "c"), cwd=work, cache=cache)
    assert outcome(damaged) == outcome(cold) and tree(work / "c" / "warn") == tree(
        work / "a" / "warn"
    )
    check = capgen("check", "warn.yaml", "-o", str(work / "a"), cwd=work, cache=cache)
    assert check.returncode == 0


def test_the_stamp_is_the_same_whatever_the_hash_seed(work: Path) -> None:
    stamps = set()
    for seed in ("0", "1", "12345"):
        out = work / f"out-{seed}"
        done = capgen("build", "warn.yaml", "-o", str(out), cwd=work, env={"PYTHONHASHSEED": seed})
        assert done.returncode == 0
        stamps.add((out / "warn" / STAMP).read_bytes())
    assert len(stamps) == 1
    assert str(work) not in next(iter(stamps)).decode()  # no machine path
