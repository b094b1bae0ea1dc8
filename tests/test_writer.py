"""The output folder survives crashes, concurrent builds and what users keep in it.

Invariant checked after every kill: the package folder exists and is complete, meaning every
file its manifest lists is there with the recorded sha256 (the old tree or the new one, never a
mix or nothing); the next build succeeds and leaves no staging folder behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from generator import writer
from generator.writer import MANIFEST, write_package
from tests.conftest import ROOT

LARGE = ROOT / "tests" / "data" / "corpus"


def _largest_sample_spec() -> Path:
    return max(LARGE.rglob("*.yaml"), key=lambda p: p.stat().st_size)


def _complete(package: Path) -> bool:
    manifest = json.loads((package / MANIFEST).read_text())
    return all(
        (package / path).is_file()
        and hashlib.sha256((package / path).read_bytes()).hexdigest() == digest
        for path, digest in manifest["files"].items()
        if path != MANIFEST
    )


def _files(version: int) -> dict[str, bytes]:
    files = {f"pkg/m{i}.py": f"VERSION = {version}\n".encode() for i in range(20)}
    entries = {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
    files[MANIFEST] = json.dumps({"files": entries}).encode()
    return files


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if ".capgen-tmp" in p.name)


def test_a_crash_between_two_renames_is_recovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no atomic exchange exists: the old tree survives as a backup, restored next run."""
    target = tmp_path / "out" / "pkg"
    write_package(target, _files(1))
    monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    real_replace = os.replace
    calls: list[str] = []

    def crashing_replace(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        calls.append(str(dst))
        if len(calls) == 2:  # the process dies right after moving the old tree aside
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crashing_replace)
    with pytest.raises(KeyboardInterrupt):
        write_package(target, _files(2))
    monkeypatch.setattr(os, "replace", real_replace)
    assert not target.exists()  # what a SIGKILL at that instant leaves
    write_package(target, _files(2))
    assert _complete(target) and (target / "pkg" / "m0.py").read_text() == "VERSION = 2\n"
    assert _leftovers(target.parent) == []


def test_the_exchange_is_atomic_where_the_system_has_it(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "x").write_text("a")
    (second / "x").write_text("b")
    if not writer._exchange(first, second):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available on this system")
    assert (first / "x").read_text() == "b" and (second / "x").read_text() == "a"


def _build(spec: Path, out: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "generator", "build", str(spec), "-o", str(out)]
    env = {**os.environ, "CAPGEN_NO_CACHE": "1"}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_during_builds_never_leaves_a_broken_package(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    text = _largest_sample_spec().read_text()
    spec.write_text(text)
    out = tmp_path / "out"
    first = _build(spec, out)
    assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    (package,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    (package / "HAND_WRITTEN.md").write_text("mine\n")
    rng = random.Random(7)
    for round_ in range(4):
        data = yaml.safe_load(text)
        data["info"]["label"] += f" r{round_}"  # a new title: every module changes
        spec.write_text(yaml.safe_dump(data, sort_keys=False))
        process = _build(spec, out)
        time.sleep(rng.uniform(0.2, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert package.is_dir() and _complete(package), f"round {round_}"
        assert (package / "HAND_WRITTEN.md").read_text() == "mine\n"
    final = _build(spec, out)
    assert final.wait(timeout=300) == 0
    assert _complete(package) and _leftovers(out) == []


def test_concurrent_builds_into_one_folder_take_turns(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text(_largest_sample_spec().read_text())
    out = tmp_path / "out"
    builds = [_build(spec, out) for _ in range(2)]
    for build in builds:
        assert build.wait(timeout=300) == 0, build.stderr.read() if build.stderr else ""
    (package,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert _complete(package) and _leftovers(out) == []


def test_symlinks_in_a_package_stay_symlinks(tmp_path: Path) -> None:
    target = tmp_path / "out" / "pkg"
    write_package(target, _files(1))
    elsewhere = tmp_path / "assets"
    elsewhere.mkdir()
    (elsewhere / "logo.svg").write_text("<svg/>")
    os.symlink(elsewhere, target / "assets")
    os.symlink("does-not-exist", target / "dangling")
    write_package(target, _files(2))
    assert (target / "assets").is_symlink() and os.readlink(target / "assets") == str(elsewhere)
    assert (target / "dangling").is_symlink()
    assert os.readlink(target / "dangling") == "does-not-exist"
    assert (elsewhere / "logo.svg").read_text() == "<svg/>"
