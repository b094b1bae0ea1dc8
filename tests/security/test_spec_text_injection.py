"""Spec text never becomes code: arbitrary text in every spec field that reaches generated output
(the file name, info, binds, namespaces, base URI, paths, names, descriptions, labels, values)
gives either located diagnostics or a package that compiles, whose statements are only those
capgen means to emit (checked on the AST), that imports, and whose every other file (YAML,
TOML, Markdown and its shell commands, Dockerfile) parses as its format and holds only the
documents, keys and commands capgen means to write (tests/security/emitted.py).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from capgen_runtime import model as rt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import pipeline
from tests.security.emitted import ENV, check_project

NASTY = [
    '"""', "'''", "\\N{BULLET}", "\\", "\n", "\r\n", "\x00", "\x0c", "\x1c", "\u2028", "\u202e",
    "\ufeff", "\x85", "#", "{{", "}}", "{x}", "\nimport os; os.system('echo pwned')\n#",
    '");import os#', "é", "漢", " ", "",
]  # fmt: skip
text = st.lists(
    st.one_of(
        st.sampled_from(NASTY),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    ),
    max_size=4,
).map("".join)
name_text = text.map(lambda t: t.replace("/", "_"))  # a file name holds no "/" (nor NUL)
# an environment variable name: half portable (so that builds reach the other fields), half not
env_name = st.one_of(st.from_regex(ENV, fullmatch=True), text)

# What generated modules may do at import: bind data to names, import, define functions and
# classes; nothing else. Data is built only from runtime descriptors and plain literals.
MODEL = {n for n in dir(rt) if isinstance(getattr(rt, n), type)}
DATA_CALLS = MODEL | {"Capability", "TypedDict"}
DATA_NODES = (
    ast.Call, ast.Name, ast.Attribute, ast.Constant, ast.Tuple, ast.List, ast.Dict,
    ast.keyword, ast.Starred, ast.Load, ast.UnaryOp, ast.USub,
)  # fmt: skip
# what a TypedDict field's annotation is made of: names, `X[...]`, `X | None`
TYPE_NODES = (ast.Name, ast.Subscript, ast.BinOp, ast.BitOr, ast.Constant, ast.Tuple, ast.Load)


def _spec(t: dict[str, str]) -> dict[str, Any]:
    return {
        "naftiko": "1.0.0-alpha2",
        "info": {"label": t["label"], "description": t["description"]},
        "binds": [
            {"namespace": t["bind_ns"], "keys": {"API_KEY": t["bind_key"]}},
            {"namespace": "vault", "location": t["location"], "keys": {"OTHER": "K"}},
        ],
        "capability": {
            "consumes": [
                {
                    "type": "http",
                    "namespace": "c" + t["namespace"],
                    "description": t["description"],
                    "baseUri": "https://api.example.com/v" + t["base"].replace("/", "_"),
                    "authentication": {"type": "bearer", "token": "{{API_KEY}}"},
                    "resources": [
                        {
                            "name": t["resource"],
                            "path": "/items/" + t["path"],
                            "operations": [
                                {
                                    "name": t["operation"],
                                    "method": "POST",
                                    "description": t["description"],
                                    "inputParameters": [
                                        {"name": t["param"], "in": "query"},
                                        {"name": "X-Tag", "in": "header", "value": t["value"]},
                                    ],
                                    "body": {"type": "json", "data": {t["param"]: t["value"]}},
                                    "outputParameters": [
                                        {"name": t["output"], "type": "string", "mapping": "$."}
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
            "exposes": [
                {
                    "type": "rest",
                    "namespace": "r" + t["rest_ns"],
                    "port": 8080,
                    "description": t["description"],
                    "resources": [
                        {
                            "path": "/r/" + t["path"],
                            "name": t["resource"],
                            "description": t["description"],
                            "operations": [
                                {
                                    "method": "POST",
                                    "name": t["operation"],
                                    "description": t["description"],
                                    "call": f"c{t['namespace']}.{t['operation']}",
                                }
                            ],
                        }
                    ],
                },
                {
                    "type": "mcp",
                    "namespace": "m" + t["mcp_ns"],
                    "port": 9090,
                    "description": t["description"],
                    "tools": [
                        {
                            "name": t["tool"],
                            "label": t["label"],
                            "description": t["description"],
                            "call": f"c{t['namespace']}.{t['operation']}",
                            "inputParameters": [
                                {"name": t["param"], "type": "string", "description": t["label"]}
                            ],
                        }
                    ],
                },
            ],
        },
    }


FIELDS = [
    "label", "description", "bind_ns", "bind_key", "location", "namespace", "base", "resource",
    "path", "operation", "param", "value", "output", "rest_ns", "mcp_ns", "tool",
]  # fmt: skip


def check_statement(stmt: ast.stmt, where: str) -> None:
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        assert isinstance(stmt.value.value, str), where  # a docstring
        return
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        assert ast.unparse(stmt.value.func) == "require", where  # the runtime version check
        return
    if isinstance(stmt, ast.Assign):
        assert all(isinstance(target, ast.Name) for target in stmt.targets), where
        value = stmt.value
        if isinstance(value, ast.Call) and ast.unparse(value.func) == "TypedDict":
            name, fields = value.args  # TypedDict("Name", {"key": <type>, ...})
            assert isinstance(name, ast.Constant) and isinstance(fields, ast.Dict), where
            assert all(isinstance(k, ast.Constant) for k in fields.keys), where
            for annotation in fields.values:
                assert all(isinstance(n, TYPE_NODES) for n in ast.walk(annotation)), where
            return
        for node in ast.walk(stmt.value):
            assert isinstance(node, DATA_NODES), f"{where}: {ast.dump(node)[:80]}"
            if isinstance(node, ast.Call):
                assert isinstance(node.func, ast.Name) and node.func.id in DATA_CALLS, where
        return
    if isinstance(stmt, ast.ClassDef):
        for inner in stmt.body:
            if isinstance(inner, ast.AnnAssign):  # a TypedDict field: a name and a type
                assert isinstance(inner.target, ast.Name) and inner.value is None, where
                assert all(isinstance(n, TYPE_NODES) for n in ast.walk(inner.annotation)), where
                continue
            ok = isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Expr, ast.Assign))
            assert ok, where
        return
    if isinstance(stmt, ast.If):
        assert ast.unparse(stmt.test) in {"TYPE_CHECKING", "__name__ == '__main__'"}, where
        return
    if isinstance(stmt, ast.Try):
        assert ast.unparse(stmt.body[0]) == "from capgen_runtime import require", where
        return
    raise AssertionError(f"{where}: unexpected {type(stmt).__name__}")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    file_name=name_text,
    texts=st.fixed_dictionaries({f: env_name if f == "bind_key" else text for f in FIELDS}),
)
def test_spec_text_never_becomes_code(
    tmp_path: Path, file_name: str, texts: dict[str, str]
) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    spec = folder / f"{file_name.replace(chr(0), '')}.yaml"
    spec.write_text(yaml.safe_dump(_spec(texts), allow_unicode=True), encoding="utf-8")
    result, written = pipeline.build(spec, folder / "out", pipeline.Options(module="injected"))
    codes = {d.code for d in result.diagnostics if d.severity == "error"}
    assert ("E060" in codes) == (ENV.fullmatch(texts["bind_key"]) is None), codes
    if written is None:
        rendered = [d.render() for d in result.diagnostics if d.severity == "error"]
        assert rendered and all(":" in line for line in rendered)
        return
    project = folder / "out" / "injected"
    assert check_project(project) == []
    for path in sorted((project / "injected").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        compile(tree, str(path), "exec")
        for stmt in tree.body:
            check_statement(stmt, f"{path.name}:{stmt.lineno}")
    done = subprocess.run(
        [sys.executable, "-c", "import injected.rest, injected.mcp_server, injected.capability"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pwned" not in done.stdout + done.stderr


SMALL_SPEC = """\
naftiko: 1.0.0-alpha2
info: {label: Shadowing, description: a spec named after a module}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    resources: [{name: a, path: /a, operations: [{name: get-a, method: GET}]}]
  exposes:
  - type: rest
    namespace: rest
    port: 8080
    resources: [{path: /a, name: a, operations: [{method: GET, name: a, call: api.get-a}]}]
"""


@pytest.mark.parametrize(
    "stem", ["os", "json", "typing", "email", "http", "httpx", "click", "uvicorn", "mcp"]
)
def test_a_spec_named_after_a_module_gets_a_package_that_does_not_shadow_it(
    tmp_path: Path, stem: str
) -> None:
    spec = tmp_path / f"{stem}.yaml"
    spec.write_text(SMALL_SPEC)
    result, written = pipeline.build(spec, tmp_path / "out")
    assert written is not None
    assert result.folder == f"{stem}_capability"
    (warning,) = [d for d in result.diagnostics if d.code == "W124"]
    assert f"{stem!r} would shadow" in warning.message
    project = tmp_path / "out" / result.folder
    program = f"import {stem}, {result.folder}.rest; assert {stem}.__name__ == {stem!r}"
    done = subprocess.run([sys.executable, "-c", program], cwd=project, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_mutated_corpus_specs_never_crash_capgen_or_inject_code(tmp_path: Path) -> None:
    """A short mutation campaign (`nox -s fuzz` runs 1,500 mutants)."""
    from tests.security.spec_mutants import run

    campaign = run(48, seed=11, folder=tmp_path)
    assert campaign.problems == [], "\n".join(campaign.problems)
    assert campaign.exit_code in (0, 1) and campaign.built, "some mutants must build"
