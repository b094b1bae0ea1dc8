"""Mutation fuzzing of real specs through the real command line.

Each mutant is a spec of the CI corpus sample with a few seeded edits: structural ones (a key
removed, a value of the wrong type, an unknown key) and hostile text (YAML tags that do not fit,
alias chains, deep nesting, quotes, backslash escapes, NUL, line separators, bidi controls,
code-looking strings) in keys, values and file names. One `capgen build` process builds them
all; the verdict is independent of capgen's internals:

- the exit code is 0 or 1, never 3, and nothing says "internal error" or shows a traceback;
- every package written imports (in a fresh interpreter), its modules hold only the
  statements capgen emits (see `test_spec_text_injection.check_statement`), and every other
  file it holds parses as its format with only what capgen means to write (`emitted.py`).

`python -m tests.security.spec_mutants --count 1500` (`nox -s fuzz`) runs a long campaign; the
test suite runs a short one.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.security.emitted import check_project
from tests.security.test_spec_text_injection import NASTY, check_statement

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "corpus"
ODD: list[Any] = [
    None, 0, -1, 2.5, True, "", [], {}, ["a"], {"a": 1}, "{{env.MISSING}}", "{unclosed", "$.",
    "../../etc", "{{", *NASTY,
]  # fmt: skip
RAW_EDITS = [
    lambda text, rng: text.replace(": ", ": !!int ", 1),
    lambda text, rng: text.replace(": ", ": !!bool ", 1),
    lambda text, rng: text.replace(": ", ": !!float ", 1),
    lambda text, rng: text + "x-deep: " + "[" * 300 + "]" * 300 + "\n",
    lambda text, rng: _alias_chain(text, rng.randint(3, 9)),
    lambda text, rng: text.replace("\n", "\n\t", 1),
]


def _alias_chain(text: str, levels: int) -> str:
    lines = ['x-a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels):
        lines.append(f"x-a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * 9) + "]")
    return text + "\n".join(lines) + "\n"


def paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a loaded YAML document, the root first."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*path, index))
    return found


def mutate(text: str, rng: random.Random) -> str:
    document = yaml.safe_load(text)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths(document)[1:] or [()])
        if not path:
            break
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        key, roll = path[-1], rng.random()
        if roll < 0.25:
            del parent[key]
        elif roll < 0.4 and isinstance(parent, dict):
            parent[str(rng.choice(ODD))] = rng.choice(ODD)
        elif roll < 0.7 and isinstance(parent[key], str):
            parent[key] = parent[key] + rng.choice(NASTY)
        else:
            parent[key] = rng.choice(ODD)
    out = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return rng.choice(RAW_EDITS)(out, rng) if rng.random() < 0.2 else out


@dataclass
class Campaign:
    mutants: int = 0
    exit_code: int = 0
    built: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def run(count: int, seed: int, folder: Path) -> Campaign:
    sources = [p for p in sorted(SAMPLE.rglob("*.yaml")) if "\ncapability:" in p.read_text()]
    specs = folder / "specs"
    specs.mkdir(parents=True)
    rng = random.Random(seed)
    for index in range(count):
        source = rng.choice(sources)
        stem = f"m{index}-{source.stem}"
        if rng.random() < 0.1:
            stem += rng.choice(['"""', "\\N{X}", "\u2028", "é", "'"])
        (specs / f"{stem}.yaml").write_text(mutate(source.read_text(), rng), encoding="utf-8")
    out = folder / "out"
    command = [sys.executable, "-m", "generator", "build", str(specs), "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    campaign = Campaign(mutants=count, exit_code=done.returncode)
    if done.returncode not in (0, 1):
        campaign.problems.append(f"exit code {done.returncode}")
    for marker in ("internal error", "Traceback"):
        if marker in done.stderr:
            campaign.problems.append(f"{marker!r} in the output:\n{done.stderr[-3000:]}")
    packages = sorted(p for p in out.iterdir() if p.is_dir()) if out.exists() else []
    campaign.built = [p.name for p in packages]
    for package in packages:
        campaign.problems.extend(check_project(package))
        for path in sorted((package / package.name).glob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
                for stmt in tree.body:
                    check_statement(stmt, f"{package.name}/{path.name}:{stmt.lineno}")
            except (SyntaxError, AssertionError) as exc:
                campaign.problems.append(f"{package.name}/{path.name}: {exc}")
    if packages:
        program = (
            "import importlib, sys\n"
            f"for name in {json.dumps(campaign.built)}:\n"
            "    sys.path.insert(0, str(__import__('pathlib').Path(sys.argv[1]) / name))\n"
            "    for module in ('capability',):\n"
            "        importlib.import_module(f'{name}.{module}')\n"
        )
        imported = subprocess.run(
            [sys.executable, "-c", program, str(out)], capture_output=True, text=True
        )
        if imported.returncode != 0:
            campaign.problems.append(f"a package does not import:\n{imported.stderr[-3000:]}")
    return campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--folder", type=Path, default=Path(".fuzz"))
    args = parser.parse_args()
    if args.folder.exists():
        parser.error(f"{args.folder} exists; give an empty --folder")
    campaign = run(args.count, args.seed, args.folder)
    print(
        f"mutants {campaign.mutants}, exit code {campaign.exit_code}, "
        f"packages built {len(campaign.built)}, problems {len(campaign.problems)}"
    )
    for problem in campaign.problems:
        print(problem)
    return 1 if campaign.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
