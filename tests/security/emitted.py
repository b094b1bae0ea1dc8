"""Every file capgen emits parses as its format and holds only what capgen means to write.

The oracle is each format's own reading (PyYAML, tomllib, markdown-it with GFM's table rule,
shlex for the shell commands, Docker's line rules) and the shapes the templates are meant to
produce, written out here: spec text may change values, never add a YAML document, a key, a
Kubernetes object, a Dockerfile instruction, a Markdown heading, fence, link or HTML, or a
shell command. Python modules are checked by `test_spec_text_injection.check_statement`.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from markdown_it import MarkdownIt
from packaging.requirements import InvalidRequirement, Requirement

ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")  # RFC 1123, as Kubernetes names
DIST = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def _paths(node: Any, prefix: tuple[str, ...] = ()) -> set[str]:
    """Key paths of a document, list positions as `[]`."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(".".join((*prefix, str(key))))
            found |= _paths(value, (*prefix, str(key)))
    elif isinstance(node, list):
        for value in node:
            found |= _paths(value, (*prefix, "[]"))
    return found


def _one_document(text: str) -> Any:
    documents = list(yaml.safe_load_all(text))
    assert len(documents) == 1, f"{len(documents)} YAML documents"
    return documents[0]


COMPOSE_SERVICE = {"build", "image", "ports", "environment", "stop_grace_period", "restart"}


def check_compose(text: str) -> None:
    document = _one_document(text)
    assert set(document) == {"services"}, set(document)
    ((name, service),) = document["services"].items()
    assert LABEL.fullmatch(name), name
    assert set(service) == COMPOSE_SERVICE, set(service)
    for key, value in service["environment"].items():
        assert ENV.fullmatch(key) and isinstance(value, str), (key, value)


DEPLOYMENT = {
    "apiVersion", "kind", "metadata", "metadata.labels", "metadata.labels.app.kubernetes.io/name",
    "metadata.name", "spec", "spec.selector", "spec.selector.matchLabels",
    "spec.selector.matchLabels.app.kubernetes.io/name", "spec.strategy",
    "spec.strategy.rollingUpdate", "spec.strategy.rollingUpdate.maxSurge",
    "spec.strategy.rollingUpdate.maxUnavailable", "spec.strategy.type", "spec.template",
    "spec.template.metadata", "spec.template.metadata.labels",
    "spec.template.metadata.labels.app.kubernetes.io/name", "spec.template.spec",
    "spec.template.spec.securityContext", "spec.template.spec.securityContext.runAsNonRoot",
    "spec.template.spec.securityContext.runAsUser", "spec.template.spec.terminationGracePeriodSeconds",
    "spec.template.spec.volumes", "spec.template.spec.volumes.[].emptyDir",
    "spec.template.spec.volumes.[].name", "spec.template.spec.containers",
} | {
    f"spec.template.spec.containers.[].{path}"
    for path in (
        "command", "env", "env.[].name", "env.[].value", "envFrom", "envFrom.[].secretRef",
        "envFrom.[].secretRef.name", "image", "name", "ports", "ports.[].containerPort",
        "ports.[].name", "resources", "resources.limits", "resources.limits.memory",
        "resources.requests", "resources.requests.cpu", "resources.requests.memory",
        "securityContext", "securityContext.allowPrivilegeEscalation",
        "securityContext.capabilities", "securityContext.capabilities.drop",
        "securityContext.readOnlyRootFilesystem", "volumeMounts", "volumeMounts.[].mountPath",
        "volumeMounts.[].name", "livenessProbe", "livenessProbe.failureThreshold",
        "livenessProbe.httpGet", "livenessProbe.httpGet.path", "livenessProbe.httpGet.port",
        "livenessProbe.initialDelaySeconds", "livenessProbe.periodSeconds", "readinessProbe",
        "readinessProbe.failureThreshold", "readinessProbe.httpGet", "readinessProbe.httpGet.path",
        "readinessProbe.httpGet.port", "readinessProbe.periodSeconds",
    )
}  # fmt: skip
SERVICE = {
    "apiVersion", "kind", "metadata", "metadata.labels", "metadata.labels.app.kubernetes.io/name",
    "metadata.name", "spec", "spec.ports", "spec.ports.[].name", "spec.ports.[].port",
    "spec.ports.[].targetPort", "spec.selector", "spec.selector.app.kubernetes.io/name",
}  # fmt: skip
HPA = {
    "apiVersion", "kind", "metadata", "metadata.labels", "metadata.labels.app.kubernetes.io/name",
    "metadata.name", "spec", "spec.maxReplicas", "spec.minReplicas", "spec.metrics",
    "spec.metrics.[].type", "spec.metrics.[].resource", "spec.metrics.[].resource.name",
    "spec.metrics.[].resource.target", "spec.metrics.[].resource.target.averageUtilization",
    "spec.metrics.[].resource.target.type", "spec.scaleTargetRef",
    "spec.scaleTargetRef.apiVersion", "spec.scaleTargetRef.kind", "spec.scaleTargetRef.name",
}  # fmt: skip


def _kubernetes(kind: str, allowed: set[str]) -> Callable[[str], None]:
    def check(text: str) -> None:
        document = _one_document(text)
        assert document["kind"] == kind, document.get("kind")
        assert LABEL.fullmatch(document["metadata"]["name"]), document["metadata"]["name"]
        extra = _paths(document) - allowed
        assert not extra, f"unexpected keys {sorted(extra)}"
        if kind == "Deployment":
            (container,) = document["spec"]["template"]["spec"]["containers"]
            for variable in container["env"]:
                assert ENV.fullmatch(variable["name"]), variable
                assert isinstance(variable["value"], str), variable

    return check


PYPROJECT = {
    "build-system", "build-system.build-backend", "build-system.requires", "project",
    "project.dependencies", "project.description", "project.name", "project.readme",
    "project.requires-python", "project.scripts", "project.scripts.<dist>", "project.version",
    "tool", "tool.hatch", "tool.hatch.build", "tool.hatch.build.targets",
    "tool.hatch.build.targets.wheel", "tool.hatch.build.targets.wheel.packages",
}  # fmt: skip


def check_pyproject(text: str) -> None:
    document = tomllib.loads(text)
    project = document["project"]
    ((script, target),) = project["scripts"].items()
    assert DIST.fullmatch(script) and script == project["name"], script
    (module,) = document["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert target == f"{module}.__main__:run" and module.isidentifier(), target
    project["scripts"] = {"<dist>": target}
    extra = _paths(document) - PYPROJECT
    assert not extra, f"unexpected keys {sorted(extra)}"
    assert isinstance(project["description"], str)


DOCKER_INSTRUCTIONS = [
    "FROM", "ENV", "WORKDIR", "COPY", "COPY", "RUN", "COPY", "RUN", "RUN", "USER", "ENV",
    "EXPOSE", "HEALTHCHECK", "STOPSIGNAL", "CMD",
]  # fmt: skip


def check_dockerfile(text: str) -> None:
    """Docker's reading: `#` lines are comments, a trailing backslash continues a line."""
    instructions, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line
        if current.endswith("\\"):
            current = current[:-1]
            continue
        instructions.append(current)
        current = ""
    assert not current, "a continued last line"
    assert [i.split()[0] for i in instructions] == DOCKER_INSTRUCTIONS, instructions
    command = json.loads(instructions[-1].split(None, 1)[1])
    assert command[:2] == ["python", "-m"] and command[3:] == ["serve"], command


DOCKERIGNORE = {
    ".git", ".gitignore", "**/__pycache__", "**/*.py[cod]", "*.egg-info", ".venv", "venv", ".env",
    ".env.*", "*.pem", "*.key", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist",
    "kubernetes", "compose.yaml", "Dockerfile", ".dockerignore",
}  # fmt: skip


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def check_dockerignore(text: str) -> None:
    assert set(_lines(text)) <= DOCKERIGNORE, set(_lines(text)) - DOCKERIGNORE


def check_requirements(text: str) -> None:
    for line in _lines(text):
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            raise AssertionError(f"requirement {line!r}: {exc}") from None


SHELL_COMMANDS = {"pip", "python", "uvicorn", "docker", "curl", "kubectl", "npx"}
_MARKDOWN = MarkdownIt("commonmark").enable("table")
_INLINE = {"text", "code_inline", "softbreak", "strong_open", "strong_close", "em_open", "em_close"}
_PLACEHOLDER = re.compile(r"<[a-z]+>")  # `<capgen>/runtime`: for the reader to fill in
_PIPE = re.compile(r"(?<!\\)\|")  # GFM splits a table row at every unescaped pipe


def check_shell(script: str) -> None:
    """Each line is one command of the expected programs, with no operator, substitution or
    redirection; `$NAME` only inside double quotes, naming a portable variable."""
    for line in (_PLACEHOLDER.sub("x", line) for line in script.splitlines()):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        if not tokens:
            continue
        assert tokens[0] in SHELL_COMMANDS, line
        operators = [t for t in tokens if set(t) <= set("();<>|&")]
        assert not operators and "`" not in line and "$(" not in line, line
        for variable in re.findall(r"\$\{?([^\s\"}]*)", line):
            assert ENV.fullmatch(variable), line


def _markdown(text: str, headings: list[str], fences: set[int]) -> None:
    tokens = _MARKDOWN.parse(text)
    # CommonMark's line endings only (`str.splitlines` also splits on U+2028, U+0085, \x1c…,
    # which spec text may hold and Markdown reads as ordinary characters)
    lines = re.split(r"\r\n?|\n", text)
    assert tokens[0].type == "html_block" and tokens[0].map == [0, 1], "the generated comment"
    assert lines[0].startswith("<!-- Generated by capgen") and lines[0].endswith("-->")
    seen_headings, seen_fences = [], 0
    for index, token in enumerate(tokens):
        assert token.type not in ("html_block", "code_block") or index == 0, token.type
        if token.type == "heading_open":
            seen_headings.append((token.tag, tokens[index + 1].content))
        elif token.type == "fence" and token.info == "json":
            check_client_config(token.content)
        elif token.type == "fence":
            assert token.info == "sh", token.info
            check_shell(token.content)
            seen_fences += 1
        elif token.type == "inline":
            kinds = {child.type for child in token.children or ()}
            assert kinds <= _INLINE, kinds - _INLINE
        elif token.type == "table_open":
            assert token.map is not None
            rows = lines[token.map[0] : token.map[1]]
            assert len({len(_PIPE.findall(row)) for row in rows}) == 1, rows
    titles = [title for tag, title in seen_headings if tag == "h2"]
    assert [tag for tag, _ in seen_headings].count("h1") == 1, seen_headings
    assert titles == [h for h in headings if h in titles], seen_headings
    assert seen_fences in fences, seen_fences
    assert seen_headings[0][0] == "h1", seen_headings


def check_readme(text: str) -> None:
    headings = ["Run it", "Use it from an MCP client", "Configuration", "Deploy it"]
    _markdown(text, headings, {1, 3, 4, 6})  # +2 with an MCP adapter, +3 with deployment


_STDIO = {"command", "args", "env"}


def check_client_config(text: str) -> None:
    """A README's client configuration: JSON with one stdio entry per MCP adapter, each running
    `python -m <module> stdio`, its environment only `${...}` references or placeholders."""
    document = json.loads(text)
    servers = document.get("mcpServers", document.get("servers"))
    assert isinstance(servers, dict) and servers, sorted(document)
    assert set(document) <= {"mcpServers", "servers", "inputs"}, sorted(document)
    for entry in servers.values():
        assert set(entry) <= _STDIO | {"type"} and entry.get("type", "stdio") == "stdio", entry
        assert entry["command"] == "python" and entry["args"][:1] == ["-m"], entry
        assert entry["args"][2] == "stdio", entry
        for name, value in entry["env"].items():
            assert re.fullmatch(r"\$\{(env|input):[^}]+\}|<your [^>]+>", value), (name, value)


MCPB_SCHEMA = Path(__file__).resolve().parent.parent / "data/mcpb/mcpb-manifest-v0.4.schema.json"


def check_mcpb_manifest(text: str) -> None:
    """The MCPB manifest validates against the schema `@anthropic-ai/mcpb` ships (v0.4), and
    launches `python -m <module> stdio` with only `${...}` substitutions in its environment."""
    manifest = json.loads(text)
    schema = json.loads(MCPB_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]
    assert not errors, errors
    config = manifest["server"]["mcp_config"]
    assert config["command"] == "python" and config["args"][2] == "stdio", config
    for value in config["env"].values():
        assert re.fullmatch(r"\$\{(__dirname|user_config\.[a-z0-9_]+)\}(/lib)?", value), value


def check_wheels(text: str) -> None:
    _markdown(text, [], {0, 1})  # 0: the runtime is vendored


def check_manifest(text: str) -> None:
    manifest = json.loads(text)
    assert isinstance(manifest.get("files"), dict), sorted(manifest)


def check_stamp(text: str) -> None:
    """The record of the build that wrote the package (generator/incremental.py): JSON only,
    spec text in it as JSON strings."""
    stamp = json.loads(text)
    assert set(stamp) == {"format", "key", "folder", "manifest", "reads", "diagnostics"}, stamp
    assert re.fullmatch(r"[0-9a-f]{64}", stamp["key"]) and isinstance(stamp["diagnostics"], list)


def check_python(text: str) -> None:
    compile(text, "<module>", "exec")


CHECKS: list[tuple[re.Pattern[str], Callable[[str], None]]] = [
    (re.compile(r"compose\.yaml"), check_compose),
    (re.compile(r"kubernetes/deployment\.yaml"), _kubernetes("Deployment", DEPLOYMENT)),
    (re.compile(r"kubernetes/service\.yaml"), _kubernetes("Service", SERVICE)),
    (re.compile(r"kubernetes/hpa\.yaml"), _kubernetes("HorizontalPodAutoscaler", HPA)),
    (re.compile(r"pyproject\.toml"), check_pyproject),
    (re.compile(r"Dockerfile"), check_dockerfile),
    (re.compile(r"\.dockerignore"), check_dockerignore),
    (re.compile(r"requirements\.txt"), check_requirements),
    (re.compile(r"README\.md"), check_readme),
    (re.compile(r"wheels/README\.md"), check_wheels),
    (re.compile(r"\.capgen-manifest\.json"), check_manifest),
    (re.compile(r"\.capgen-stamp\.json"), check_stamp),
    (re.compile(r"manifest\.json"), check_mcpb_manifest),
    (re.compile(r".+\.py"), check_python),
]


def check_file(path: str, text: str) -> str | None:
    """What is wrong with the file at `path` (relative to its project), or None."""
    for pattern, check in CHECKS:
        if pattern.fullmatch(path):
            try:
                check(text)
            except (AssertionError, ValueError, yaml.YAMLError, KeyError, TypeError) as exc:
                return f"{path}: {type(exc).__name__}: {str(exc)[:300]}"
            return None
    return f"{path}: a file no check knows"


def check_project(project: Path) -> list[str]:
    """Problems of every file of a generated project folder."""
    problems = []
    for file in sorted(
        p for p in project.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        relative = file.relative_to(project).as_posix()
        problem = check_file(relative, file.read_text(encoding="utf-8"))
        if problem is not None:
            problems.append(f"{project.name}/{problem}")
    return problems
