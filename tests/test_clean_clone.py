"""`capgen check` of a clean clone - the committed package, no stamp, no cache - through real
`capgen` processes (issue 23: the check CI runs).

What makes that check faster must not change what it answers: templates compiled ahead in a
helper process (generator/ahead.py) render the same bytes as templates compiled in-process, the
key of the incremental build is not worked out when nothing can use it, and a command that ends
without tearing the interpreter down still prints everything and runs its exit handlers. The
oracles are a run pinned to one core (where no helper is forked) and difflib on the files
themselves, not capgen's own diff.
"""

from __future__ import annotations

import difflib
import os
import subprocess
from pathlib import Path

import pytest

from generator.incremental import STAMP
from tests import test_incremental as incremental
from tests.conftest import ROOT, SEED_SPEC

SPEC = "seed.yaml"
# Runs `capgen` as the console script (`generator.launch`) does (a helper forked whenever two cores are there, not
# only when the load average says one is free), and says at exit (stderr, last line) how many
# templates and YAML nodes this process compiled and built itself, and whether capgen's own
# sources were fingerprinted.
PROBE = """\
import atexit, os, sys
import jinja2
from generator import ahead, loader, sources
ahead._spare_core = lambda: len(os.sched_getaffinity(0)) >= 2  # whatever the machine's load
compiled, fingerprinted, nodes, pid = [0], [0], [0], os.getpid()
compile_template = jinja2.Environment.compile
def counting(self, *args, **kwargs):
    compiled[0] += os.getpid() == pid
    return compile_template(self, *args, **kwargs)
jinja2.Environment.compile = counting
build_node = loader._Builder.build
def building(self, *args):
    nodes[0] += os.getpid() == pid
    return build_node(self, *args)
loader._Builder.build = building
fingerprint = sources.fingerprint
def noting(formatter):
    fingerprinted[0] += 1
    return fingerprint(formatter)
sources.fingerprint = noting
def report():
    counts = f"compiled={compiled[0]} fingerprinted={fingerprinted[0]} nodes={nodes[0]}"
    helper = ahead._helper
    alive = 0
    if helper is not None:
        try:
            os.kill(helper.pid, 0)
            alive = 1
        except ProcessLookupError:
            pass
    counts += f" helper={int(helper is not None)} alive={alive}"
    print(f"probe: {counts}", file=sys.stderr)
atexit.register(report)
from generator.launch import main
sys.argv[0] = "capgen"
main()
"""


def capgen(*args: str, cwd: Path, one_core: bool = False) -> subprocess.CompletedProcess[str]:
    """`capgen` in a new process with every cache off, reporting what the probe counted."""
    return incremental.capgen(*args, cwd=cwd, script=PROBE, one_core=one_core)


def probe(done: subprocess.CompletedProcess[str]) -> dict[str, int]:
    last = done.stderr.rstrip("\n").rsplit("\n", 1)[-1]
    assert last.startswith("probe: "), done.stderr
    return {k: int(v) for k, v in (part.split("=") for part in last[len("probe: ") :].split())}


def without_probe(done: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return done.returncode, done.stdout, "".join(done.stderr.splitlines(keepends=True)[:-1])


def clean_clone(tmp_path: Path) -> tuple[Path, Path]:
    """A spec and its package as a fresh clone has them: built, then the stamp removed."""
    (tmp_path / SPEC).write_bytes(SEED_SPEC.read_bytes())
    out = tmp_path / "out"
    built = capgen("build", SPEC, "-o", str(out), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (package,) = out.iterdir()
    (package / STAMP).unlink()
    return out, package


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != STAMP
    }


def cores() -> int:
    return len(os.sched_getaffinity(0))


def test_templates_compiled_ahead_render_the_same_package(tmp_path: Path) -> None:
    (tmp_path / SPEC).write_bytes(SEED_SPEC.read_bytes())
    ahead = capgen("build", SPEC, "-o", "ahead", cwd=tmp_path)
    alone = capgen("build", SPEC, "-o", "alone", cwd=tmp_path, one_core=True)
    assert ahead.returncode == alone.returncode == 0, ahead.stderr + alone.stderr
    templates = len(list((ROOT / "templates").rglob("*.jinja")))
    assert probe(alone)["compiled"] >= 10  # every template the package needs, in-process
    # with a second core, the helper compiled them all and this process none
    assert probe(ahead)["compiled"] == (0 if cores() >= 2 else probe(alone)["compiled"])
    # and read the spec: this process built none of its YAML nodes
    assert probe(alone)["nodes"] > 50
    assert probe(ahead)["nodes"] == (0 if cores() >= 2 else probe(alone)["nodes"])
    assert templates >= probe(alone)["compiled"]
    assert tree(tmp_path / "ahead") == tree(tmp_path / "alone")


def test_a_clean_clone_check_is_current_without_fingerprinting_capgen(tmp_path: Path) -> None:
    out, package = clean_clone(tmp_path)
    done = capgen("check", SPEC, "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert probe(done)["fingerprinted"] == 0  # no stamp, no cache: the key is never needed
    assert not (package / STAMP).exists()  # a check writes nothing
    assert without_probe(done) == without_probe(
        capgen("check", SPEC, "-o", str(out), cwd=tmp_path, one_core=True)
    )
    # a stamp beside the package is read, and the key worked out to compare with it
    assert capgen("build", SPEC, "-o", str(out), cwd=tmp_path).returncode == 0
    stamped = capgen("check", SPEC, "-o", str(out), cwd=tmp_path)
    assert stamped.returncode == 0 and probe(stamped)["fingerprinted"] == 1


def test_a_clean_clone_check_prints_the_whole_diff_of_an_edited_file(tmp_path: Path) -> None:
    out, package = clean_clone(tmp_path)
    target = next(p for p in sorted(package.rglob("service.py")))
    original = target.read_text()
    edited = original + "".join(f"# edited {i}\n" for i in range(6000))  # beyond a pipe's buffer
    target.write_text(edited)
    done = capgen("check", SPEC, "-o", str(out), cwd=tmp_path)
    assert done.returncode == 1
    label = f"{out / package.name}/{target.relative_to(package).as_posix()}"
    expected = "".join(
        difflib.unified_diff(
            edited.splitlines(keepends=True),
            original.splitlines(keepends=True),
            fromfile=label,
            tofile=f"{label} (regenerated)",
        )
    )
    assert expected in done.stdout and len(expected) > 65536
    assert without_probe(done) == without_probe(
        capgen("check", SPEC, "-o", str(out), cwd=tmp_path, one_core=True)
    )
    compiled = probe(done)["compiled"]  # the probe's exit handler ran
    assert compiled == 0 if cores() >= 2 else compiled > 0


def test_a_spec_the_helper_cannot_read_is_reported_as_without_it(tmp_path: Path) -> None:
    """A diagnostic while reading the YAML: the command's own process reads it again and
    reports exactly what a run without a helper does."""
    text = SEED_SPEC.read_text()
    (tmp_path / SPEC).write_text(text.replace("  tags:\n", "  label: again\n  tags:\n", 1))
    done = capgen("build", SPEC, "-o", "out", cwd=tmp_path)
    assert done.returncode == 1 and "error[E008]" in done.stderr
    assert without_probe(done) == without_probe(
        capgen("build", SPEC, "-o", "out", cwd=tmp_path, one_core=True)
    )
    assert probe(done)["nodes"] > 50  # read again here, where the diagnostic is reported


def test_a_helper_the_command_did_not_need_is_stopped(tmp_path: Path) -> None:
    """`build` of a package whose stamp says it is current reads nothing: the helper the
    command line started for its spec is stopped and reaped at exit, not left running."""
    (tmp_path / SPEC).write_bytes(SEED_SPEC.read_bytes())
    first = capgen("build", SPEC, "-o", "out", cwd=tmp_path)
    again = capgen("build", SPEC, "-o", "out", cwd=tmp_path)
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert probe(again)["nodes"] == 0  # current: the spec was not read here
    assert probe(again)["helper"] == (1 if cores() >= 2 else 0)
    assert probe(again)["alive"] == 0


def test_no_helper_on_a_machine_without_a_free_core(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import ahead

    monkeypatch.setattr(ahead, "available_cores", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.8, 1.0, 1.0))
    assert not ahead._spare_core()
    monkeypatch.setattr(os, "getloadavg", lambda: (1.7, 3.0, 3.0))  # the last minute decides
    assert ahead._spare_core()
    monkeypatch.setattr(ahead, "available_cores", lambda: 1)
    assert not ahead._spare_core()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["check", "a.yaml", "-o", "out"], "a.yaml"),
        (["--debug", "build", "-o", "out", "--strict", "a.yaml"], "a.yaml"),
        (["build", "--formatter", "black", "a.yaml", "--vendor-runtime"], "a.yaml"),
        (["build", "--out=out", "a.yaml"], "a.yaml"),
        (["build", "a.yaml", "b.yaml"], None),  # several specs: each is read in its turn
        (["build"], None),  # the specs [tool.capgen] names
        (["validate", "a.yaml"], None),
        (["serve", "a.yaml"], None),
        (["--help"], None),
    ],
)
def test_the_console_script_guesses_the_one_spec_of_build_and_check(
    args: list[str], expected: str | None
) -> None:
    from generator.launch import lone_spec

    assert lone_spec(args) == (Path(expected) if expected else None)
